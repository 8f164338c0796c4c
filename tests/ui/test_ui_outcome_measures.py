"""Questionnaires entered from paper on the start screen (issue 17), by keyboard only: Q on the
client list opens the dialog naming the client, digits answer the items one after another, the
total and band show as they are answered, "incomplete" while an item is missing, PHQ-9 item 9
above zero says the prescriber decides; what is saved shows in the client's history (H)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget
from ui_harness import RunningApp, describe, focus_widget, key, tab_in_dialog_to

from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.ui.measure_dialog import MeasureDialog

ENTER = Qt.Key.Key_Return
DIGITS = {n: getattr(Qt.Key, f"Key_{n}") for n in range(10)}
SHOTS = os.environ.get("KAPSESSION_MEASURE_SHOTS", "")  # a folder: save what the dialog shows
PRESCRIBER = "the prescriber must decide before the next dose"


def _client_selected(app: RunningApp) -> tuple[ClientRecord, StaffRecord]:
    nurse = app.add_staff("Tom Becker")
    client = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.controller.refresh_start()
    app.start_view.select_client(client.id)
    app.ready()
    return client, nurse


def _choose(combo: QComboBox, wanted: str) -> None:
    """With the focus on `combo`: the arrow keys until it shows `wanted`."""
    assert focus_widget() is combo, describe(focus_widget())
    index = combo.findText(wanted)
    assert index >= 0, wanted
    while combo.currentIndex() != index:
        key(Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


def _shot(dialog: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(Path(SHOTS) / f"{name}.png"))


def _answer(dialog: MeasureDialog, digits: list[int | None]) -> None:
    """From the first item: a digit per item (None: Down, leaving it unanswered)."""
    assert focus_widget() is dialog.rows[0], describe(focus_widget())
    for digit in digits:
        key(Qt.Key.Key_Down if digit is None else DIGITS[digit])


def test_a_phq9_from_paper_typed_with_digits_is_scored_saved_and_shown_in_the_history(
    app: RunningApp,
) -> None:
    # Given a client selected on the start screen and a nurse
    client, nurse = _client_selected(app)
    seen_totals: list[str] = []

    def enter(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        # The item text is shown, PHQ-9 first, the first item has the keys
        assert dialog.rows[0].text.text() == "Little interest or pleasure in doing things"
        assert dialog.total.text().startswith("Incomplete: 0 of 9 answered")
        # When each item is answered with a digit (4 is not an answer: nothing happens)
        key(DIGITS[4])
        assert dialog.rows[0].value is None and focus_widget() is dialog.rows[0]
        _answer(dialog, [2, 2, 2, 2, 2, 1, 1, 1])
        seen_totals.append(dialog.total.text())
        key(DIGITS[0])  # item 9: 0, the focus goes on to who entered it
        seen_totals.append(dialog.total.text())
        assert not dialog.flag.isVisible()
        assert focus_widget() is dialog.entered_by
        _choose(dialog.entered_by, "Tom Becker, RN")
        _shot(dialog, "phq9-typed")
        key(ENTER)

    with app.answering(enter) as seen:
        app.key(Qt.Key.Key_Q)
    # Then the dialog named the client, showed "incomplete" and then the total and band
    assert [a.title for a in seen] == ["Questionnaire — Maya Fischer"]
    assert seen_totals[0].startswith("Incomplete: 8 of 9 answered (so far 13); item 9 unanswered")
    assert seen_totals[1] == "Total 13 of 27 — moderate"
    # And one PHQ-9 is stored, from paper, entered by the nurse
    (measure,) = app.context.service.measures.history(client.id)
    assert (measure.instrument_key, measure.total, measure.band) == ("phq9", 13, "moderate")
    assert measure.answers == (2, 2, 2, 2, 2, 1, 1, 1, 0)
    assert measure.recorded_by_id == nurse.id and measure.entry_mode == "staff_paper"
    assert measure.session_id is None
    assert "PHQ-9 13 (moderate) saved." in app.window.statusBar().currentMessage()

    # When H opens the client's history
    app.ready()
    app.key(Qt.Key.Key_H)
    # Then the PHQ-9 is listed with its date, total and band
    view = app.window.history_view
    assert app.window.stack.currentWidget() is view
    assert view.measures.isVisible() and not view.no_measures.isVisible()
    ((name, _date, total, band, change, entered),) = view.measures.cells()
    assert (name, total, band, change) == ("PHQ-9", "13", "moderate", "—")
    assert entered == "Tom Becker, RN, from paper"


def test_an_incomplete_gad7_is_saved_as_incomplete_and_shown_so_after_a_scored_one(
    app: RunningApp,
) -> None:
    # Given a client with a GAD-7 of 14 saved before
    client, nurse = _client_selected(app)
    app.context.service.measures.save(
        client.id, "gad7", dict.fromkeys(range(1, 8), 2), administered_at=app.clock.now(),
        at=app.clock.now(), by=nurse.id,
    )  # fmt: skip
    shown: list[str] = []

    def enter(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        # When GAD-7 is chosen and items 3 and 7 are left unanswered
        tab_in_dialog_to(dialog.instrument)
        _choose(dialog.instrument, "Generalized Anxiety Disorder scale (GAD-7)")
        tab_in_dialog_to(dialog.rows[0])
        _answer(dialog, [1, 1, None, 1, 1, 1, None])
        shown.append(dialog.total.text())
        tab_in_dialog_to(dialog.entered_by)
        _choose(dialog.entered_by, "Tom Becker, RN")
        key(ENTER)

    with app.answering(enter):
        app.key(Qt.Key.Key_Q)
    # Then the dialog said it was incomplete, and it is stored without a total
    assert shown == ["Incomplete: 5 of 7 answered (so far 5); items 3, 7 unanswered — not scored"]
    measures = app.context.service.measures.standing(client.id)
    assert [m.total for m in measures] == [14, None]
    assert measures[1].answers == (1, 1, None, 1, 1, 1, None)
    assert "saved as incomplete (items 3, 7 unanswered)" in app.window.statusBar().currentMessage()
    # And the history shows it as incomplete, without a change from the one before
    app.ready()
    app.key(Qt.Key.Key_H)
    cells = app.window.history_view.measures.cells()
    assert [row[2:5] for row in cells] == [
        ["14", "moderate", "—"],
        ["incomplete", "items 3, 7 unanswered", "—"],
    ]


def test_phq9_item_9_above_zero_says_the_prescriber_must_decide(app: RunningApp) -> None:
    # Given a client selected
    client, _nurse = _client_selected(app)
    said: list[str] = []

    def enter(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        assert not dialog.flag.isVisible()
        # When item 9 is answered 1 (Down eight times, then the digit)
        for _ in range(8):
            key(Qt.Key.Key_Down)
        assert focus_widget() is dialog.rows[8]
        key(DIGITS[1])
        # Then the dialog says plainly that the prescriber must decide
        assert dialog.flag.isVisible()
        said.append(dialog.flag.text())
        _shot(dialog, "phq9-item9")
        frame = dialog.frameGeometry()  # with the message, it still fits 1280x720
        assert frame.width() <= 1280 and frame.height() <= 720 - 40, frame
        # And clearing it (Shift+Tab back from who entered it, then Delete) takes it back
        assert focus_widget() is dialog.entered_by
        key(Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
        assert focus_widget() is dialog.rows[8]
        key(Qt.Key.Key_Delete)
        assert not dialog.flag.isVisible()
        dialog.reject()

    with app.answering(enter):
        app.key(Qt.Key.Key_Q)
    assert len(said) == 1 and PRESCRIBER in said[0] and "PHQ-9 item 9" in said[0]
    # And nothing was saved (the dialog was closed)
    assert app.context.service.measures.history(client.id) == []


def test_saving_without_who_entered_it_is_refused_in_the_dialog_and_nothing_is_stored(
    app: RunningApp,
) -> None:
    client, _nurse = _client_selected(app)
    problems: list[str] = []

    def enter(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        _answer(dialog, [0] * 9)
        key(ENTER)  # nobody chosen in Entered by
        assert dialog.isVisible() and dialog.problem.isVisible()
        problems.append(dialog.problem.text())
        assert [row.value for row in dialog.rows] == [0] * 9  # the answers are kept
        dialog.reject()

    with app.answering(enter):
        app.key(Qt.Key.Key_Q)
    assert problems == ["Entered by: choose who is entering it."]
    assert app.context.service.measures.history(client.id) == []


def test_the_dialog_fits_a_720_pixel_screen_with_pcl5s_twenty_items_scrolling(
    app: RunningApp,
) -> None:
    _client_selected(app)
    sizes: list[tuple[int, int, bool]] = []

    def look(dialog: QWidget) -> None:
        assert isinstance(dialog, MeasureDialog), describe(dialog)
        tab_in_dialog_to(dialog.instrument)
        _choose(dialog.instrument, "PTSD Checklist for DSM-5 (PCL-5)")
        tab_in_dialog_to(dialog.rows[0])
        for _ in range(19):
            key(Qt.Key.Key_Down)
        last = dialog.rows[19]
        assert focus_widget() is last
        visible = last.visibleRegion().boundingRect().height() == last.height()
        # And the items are laid one under the other, whole (scrolling, not squeezed)
        rows = dialog.rows
        assert all(a.geometry().bottom() < b.geometry().top() for a, b in itertools.pairwise(rows))
        assert all(row.text.height() >= row.text.minimumHeight() for row in rows)
        sizes.append((dialog.width(), dialog.height(), visible))
        _shot(dialog, "pcl5-last-item")
        dialog.reject()

    with app.answering(look):
        app.key(Qt.Key.Key_Q)
    ((width, height, visible),) = sizes
    assert width <= 1280 and height <= 720 - 40
    assert visible  # the focused item is scrolled into view
