"""The escort for the day on the live screen (issue 17), by keyboard only: Y opens a small
dialog for the participant shown; the name and a phone are needed (or "No escort"); what is
recorded is on the profile line at once and in the event list; recording it again is a
correction that needs a reason, the earlier one kept."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from test_ui_corrections import event_row, withdraw
from ui_harness import RunningApp, describe, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.domain.corrections import EntryState
from kapsession.records.session_log import LogKind
from kapsession.services.session_log import event_items
from kapsession.ui.escort_dialog import EscortDialog

ENTER = Qt.Key.Key_Return


def test_y_records_the_escort_for_the_participant_shown_and_the_profile_line_shows_it(
    app: RunningApp,
) -> None:
    # Given a live session of Maya Fischer, her escort not recorded
    session = app.start_session("Maya Fischer")
    line = app.live_view.profile_line
    assert line.plain_text().endswith("Escort today: not recorded")
    problems: list[str] = []

    def record(dialog: QWidget) -> None:
        assert isinstance(dialog, EscortDialog), describe(dialog)
        assert focus_widget() is dialog.name
        # When the name is typed, the phone forgotten, and Enter pressed
        type_text("Jon Fischer")
        tab_in_dialog_to(dialog.relationship)
        type_text("husband")
        key(ENTER)
        # Then it is refused naming the phone, the keys in it; with it, it is recorded
        problems.append(dialog.problem.text())
        assert focus_widget() is dialog.phone
        type_text("+1 555 0101")
        key(ENTER)

    with app.answering(record) as seen:
        app.key(Qt.Key.Key_Y)
    assert [a.title for a in seen] == ["Escort today — Maya Fischer"]
    assert problems == ["Escort's phone: write a number to reach them, or tick “No escort”."]
    # Then the profile line shows the escort at once
    assert line.plain_text().endswith("Escort today: Jon Fischer (husband), +1 555 0101")
    # And the session's events hold it for her, recorded by the person at the keyboard
    (escort,) = app.events("escort")
    (maya,) = session.participants
    assert escort.participant_id == maya.id
    assert escort.detail == {
        "name": "Jon Fischer", "relationship": "husband", "phone": "+1 555 0101", "none": False,
    }  # fmt: skip
    live = app.controller.live
    assert live is not None and escort.recorded_by_id == live.acting_staff_id is not None
    app.leave_session()


def test_recording_it_again_is_a_correction_with_a_reason_and_the_event_list_keeps_both(
    app: RunningApp,
) -> None:
    # Given Maya's escort recorded
    app.start_session("Maya Fischer")
    line = app.live_view.profile_line

    def first(dialog: QWidget) -> None:
        assert isinstance(dialog, EscortDialog), describe(dialog)
        type_text("Jon Fischer")
        tab_in_dialog_to(dialog.phone)
        type_text("+1 555 0101")
        key(ENTER)

    with app.answering(first):
        app.key(Qt.Key.Key_Y)
    problems: list[str] = []

    def none(dialog: QWidget) -> None:
        assert isinstance(dialog, EscortDialog), describe(dialog)
        # When Y is pressed again: the dialog holds it; "No escort" is ticked by Space
        assert dialog.name.text() == "Jon Fischer"
        tab_in_dialog_to(dialog.none)
        key(Qt.Key.Key_Space)
        assert not dialog.name.isEnabled()
        key(ENTER)
        # Then a reason is asked for; with it, it is recorded
        problems.append(dialog.problem.text())
        assert focus_widget() is dialog.reason
        type_text("Husband cannot come; she takes a taxi")
        key(ENTER)

    with app.answering(none):
        app.key(Qt.Key.Key_Y)
    assert problems == ["Write why the escort changes; the reason goes on the record."]
    assert line.plain_text().endswith("Escort today: none — client told to arrange transport")
    # And both are in the session's events: the first amended, the correction standing
    entries = app.context.service.entries.events(app.session().id, include_history=True)
    escorts = [e for e in entries if e.kind == "escort"]
    assert [e.label for e in escorts] == [
        "Escort today: Jon Fischer, +1 555 0101",
        "Escort today: none — client told to arrange transport",
    ]
    assert escorts[1].correction_reason == "Husband cannot come; she takes a taxi"
    # And the event list shows both under Discharge, the first marked as amended
    items = [i for i in event_items(entries) if i.title.startswith("Escort today")]
    assert [(i.kind, i.state, i.corrects) for i in items] == [
        (LogKind.DISCHARGE, EntryState.AMENDED, False),
        (LogKind.DISCHARGE, EntryState.STANDING, True),
    ]
    app.leave_session()


def test_an_escort_recorded_for_the_wrong_person_is_withdrawn_from_the_event_list(
    app: RunningApp,
) -> None:
    # Given an escort recorded for Maya by mistake
    app.start_session("Maya Fischer")
    line = app.live_view.profile_line

    def record(dialog: QWidget) -> None:
        assert isinstance(dialog, EscortDialog), describe(dialog)
        type_text("Jon Fischer")
        tab_in_dialog_to(dialog.phone)
        type_text("+1 555 0101")
        key(ENTER)

    with app.answering(record):
        app.key(Qt.Key.Key_Y)
    (escort,) = app.events("escort")
    # When its row of the event list has Enter, a reason typed, Enter
    event_row(app, lambda item: item.entry_id == escort.id)
    with app.answering(withdraw("Recorded for the wrong client")) as seen:
        app.key(ENTER)
    # Then it is withdrawn with the reason: not standing, and the profile line says so
    assert [a.title for a in seen] == ["Withdraw escort — Maya Fischer"]
    assert app.events("escort") == []
    assert line.plain_text().endswith("Escort today: not recorded")
    entries = app.context.service.entries.events(app.session().id, include_history=True)
    (withdrawal,) = [e for e in entries if e.kind == "escort" and e.voids]
    assert withdrawal.correction_reason == "Recorded for the wrong client"
    app.leave_session()
