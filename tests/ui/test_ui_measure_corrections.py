"""Correcting a questionnaire on the client history screen (issue 17), by keyboard only: Enter
on a questionnaire opens it in the entry dialog with its answers; a correction needs a reason
and who is correcting it, is stored as a new version (the earlier one kept) and the history
shows it corrected with the earlier total; or it is withdrawn with a reason and leaves the
list."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget
from ui_harness import RunningApp, describe, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.records.measures import EntryMode
from kapsession.records.people import StaffRecord
from kapsession.ui.measure_dialog import MeasureDialog

ENTER = Qt.Key.Key_Return
DIGITS = {n: getattr(Qt.Key, f"Key_{n}") for n in range(10)}


def _choose(combo: QComboBox, wanted: str) -> None:
    assert focus_widget() is combo, describe(focus_widget())
    index = combo.findText(wanted)
    assert index >= 0, wanted
    while combo.currentIndex() != index:
        key(Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


def _history_with_a_phq9(
    app: RunningApp, mode: EntryMode = EntryMode.STAFF_PAPER
) -> tuple[uuid.UUID, uuid.UUID, StaffRecord]:
    """A client with one PHQ-9 of 18, the history open, the focus on the questionnaires."""
    nurse = app.add_staff("Tom Becker")
    corrector = app.add_staff("Ana Ruiz")
    client = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    saved = app.context.service.measures.save(
        client.id, "phq9", {1: 3, 2: 3, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 2, 9: 0},
        administered_at=app.clock.now(), at=app.clock.now(), by=nurse.id, mode=mode,
    )  # fmt: skip
    assert saved.record.total == 18
    app.controller.refresh_start()
    app.start_view.select_client(client.id)
    app.key(Qt.Key.Key_H)
    app.tab_to(app.window.history_view.measures)
    return client.id, saved.record.id, corrector


def test_enter_on_a_questionnaire_corrects_it_with_a_reason_and_the_earlier_total_stays(
    app: RunningApp,
) -> None:
    # Given a client's PHQ-9 of 18 on the history screen
    client_id, original_id, corrector = _history_with_a_phq9(app)
    seen: list[str] = []

    def correct(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        # The dialog holds the recorded answers, the questionnaire fixed
        assert [row.value for row in dialog.rows] == [3, 3, 2, 2, 2, 2, 2, 2, 0]
        assert not dialog.instrument.isEnabled() and not dialog.given_in.isEnabled()
        assert focus_widget() is dialog.choice
        # When item 1 is changed to 1 and Enter is pressed without a reason or who corrects
        tab_in_dialog_to(dialog.rows[0])
        key(DIGITS[1])
        tab_in_dialog_to(dialog.entered_by)
        _choose(dialog.entered_by, "Ana Ruiz, RN")
        key(ENTER)
        seen.append(dialog.problem.text())
        # Then it is refused; with the reason it is recorded
        tab_in_dialog_to(dialog.reason)
        type_text("Item 1 misread from the paper form")
        key(ENTER)

    with app.answering(correct) as answered:
        app.key(ENTER)
    assert [a.title for a in answered] == ["Correct questionnaire — Maya Fischer"]
    assert seen == [
        "The correction was not saved: A correction needs a reason: write why it changed."
    ]
    # Then a new version stands, the first one kept, with the reason and who corrected it
    service = app.context.service.measures
    first, second = service.history(client_id)
    assert (first.id, first.total) == (original_id, 18)
    assert (second.corrects_id, second.total, second.band) == (original_id, 16, "moderately severe")
    assert second.correction_reason == "Item 1 misread from the paper form"
    assert second.recorded_by_id == corrector.id
    # And the history shows the corrected total, who corrected it and the earlier total
    view = app.window.history_view
    ((name, _date, total, _band, _change, entered),) = view.measures.cells()
    assert (name, total) == ("PHQ-9", "16")
    assert entered == "Tom Becker, RN, from paper (corrected by Ana Ruiz, RN; was 18)"
    tip = view.measures.item(0, 2).toolTip()
    assert "Earlier: 18 (moderately severe), answers 3 3 2 2 2 2 2 2 0" in tip
    assert "Reason: Item 1 misread from the paper form" in tip
    assert app.ready() is view.measures


def test_a_clients_self_report_is_corrected_the_same_way_naming_the_staff_who_corrected_it(
    app: RunningApp,
) -> None:
    # Given a PHQ-9 the client filled on the screen, handed over by Tom Becker
    client_id, original_id, corrector = _history_with_a_phq9(app, EntryMode.CLIENT_SCREEN)

    def correct(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        # When item 9 is cleared (the client says it was tapped by mistake) with a reason
        tab_in_dialog_to(dialog.reason)
        type_text("Client says item 9 was pressed by mistake")
        tab_in_dialog_to(dialog.rows[8])
        key(Qt.Key.Key_Delete)
        tab_in_dialog_to(dialog.entered_by)
        _choose(dialog.entered_by, "Ana Ruiz, RN")
        key(ENTER)

    with app.answering(correct):
        app.key(ENTER)
    # Then the correction is the staff member's, and the answers the client's as corrected
    (standing,) = app.context.service.measures.standing(client_id)
    assert standing.corrects_id == original_id and standing.recorded_by_id == corrector.id
    assert standing.answers[8] is None and standing.total is None
    ((*_cells, entered),) = app.window.history_view.measures.cells()
    assert entered == (
        "client self-report on the screen, handed over by Tom Becker, RN "
        "(corrected by Ana Ruiz, RN; was 18)"
    )


def test_a_questionnaire_withdrawn_with_a_reason_leaves_the_list_and_stays_in_the_record(
    app: RunningApp,
) -> None:
    # Given a client's PHQ-9 on the history screen
    client_id, original_id, corrector = _history_with_a_phq9(app)

    def withdraw(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        # When "Entered in error" is chosen, with the reason and who withdraws it
        _choose(dialog.choice, "Entered in error — withdraw it")
        assert not dialog.items.isEnabled()
        tab_in_dialog_to(dialog.reason)
        type_text("Another client's form")
        tab_in_dialog_to(dialog.entered_by)
        _choose(dialog.entered_by, "Ana Ruiz, RN")
        key(ENTER)

    with app.answering(withdraw):
        app.key(ENTER)
    # Then nothing stands, both rows are kept, and the history says none is recorded
    service = app.context.service.measures
    assert service.standing(client_id) == []
    first, void = service.history(client_id)
    assert first.id == original_id
    assert (void.voids, void.correction_reason, void.recorded_by_id) == (
        True, "Another client's form", corrector.id,
    )  # fmt: skip
    view = app.window.history_view
    assert view.no_measures.isVisible() and not view.measures.isVisible()
    assert "PHQ-9 withdrawn." in app.window.statusBar().currentMessage()
