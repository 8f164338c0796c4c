"""What the live screen says, in the clinic's words: readings named by their check-in's label
(never a protocol's key), the check-in form's help line about the field that has the keys, the
end of the session told calmly (it is no alert), a check-ins panel that stops counting once
the session has ended, and in a group every participant's due check-in in large text."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from support.multi_participant import LiveData, copy_live
from ui_harness import MakeApp, RunningApp

from kapsession.domain.clock import FakeClock
from kapsession.domain.scales import DISSOCIATION
from kapsession.records.session_log import LogKind
from kapsession.ui import theme
from kapsession.ui.checkin_form import TAKEN_AT_HELP
from kapsession.ui.formatting import local_time
from kapsession.ui.live_view import DUE_TEXT_PX

SHIFT = Qt.KeyboardModifier.ShiftModifier
PROTOCOL_KEYS = re.compile(r"\((baseline|t\d+|pre-discharge|unscheduled)\)|\bt\d+\b")


def checkin_titles(app: RunningApp) -> list[str]:
    return [i.title for i in app.live_view.events.shown_items() if i.kind is LogKind.CHECKIN]


def test_readings_are_named_by_their_check_in_in_the_event_list(app: RunningApp) -> None:
    # Given a session with its baseline taken by keyboard
    app.start_session("Maya Fischer")
    app.advance(6 * 60)
    app.baseline_by_keyboard()
    # When the Notes tab shows the event list, and then a reading is taken outside every slot
    app.key(Qt.Key.Key_N)
    app.key(Qt.Key.Key_Escape)
    app.advance(20 * 60)
    app.checkin_by_keyboard("131", "84")
    # Then each reading is named by its check-in's label, or as unscheduled, never by a key
    assert checkin_titles(app) == ["Check-in Baseline vitals", "Unscheduled check-in"]
    shown = [f"{i.title} {i.detail}" for i in app.live_view.events.shown_items()]
    assert not [text for text in shown if PROTOCOL_KEYS.search(text)], shown
    # And so after the session is read again from the database
    app.leave_session()
    app.key(Qt.Key.Key_Return)  # Resume
    app.key(Qt.Key.Key_N)
    assert checkin_titles(app) == ["Check-in Baseline vitals", "Unscheduled check-in"]
    app.leave_session()


def test_the_help_line_describes_the_field_that_has_the_keys(app: RunningApp) -> None:
    # Given the check-in form opened with C
    app.start_session("Maya Fischer")
    form = app.live_view.checkin_form
    app.key(Qt.Key.Key_C)
    # Then the help line is about the systolic box, then each box Tab moves to
    assert form.hint.text() == "Systolic blood pressure: 40–300 mmHg."
    app.key(Qt.Key.Key_Tab)
    app.key(Qt.Key.Key_Tab)
    assert form.hint.text() == "Heart rate: 20–250 bpm."
    app.tab_to(form.fields["dissociation"])
    scale = DISSOCIATION.name
    assert form.hint.text() == f"{scale}: a score from 0 to 4; what it means shows here."
    # When a score is typed, it says what the score means
    app.type("2")
    assert form.hint.text() == f"{scale} 2: {DISSOCIATION.anchor(2)}"
    # And back on the time it was taken (Shift+Tab from systolic), it is about the time
    app.tab_to(form.fields["systolic_mmhg"])
    app.key(Qt.Key.Key_Tab, SHIFT)
    assert app.ready() is form.taken_at
    assert form.hint.text() == TAKEN_AT_HELP
    # And once the keys leave the form, it says nothing
    app.key(Qt.Key.Key_Escape)
    assert form.hint.text() == ""
    app.leave_session()


def test_the_end_is_told_calmly_and_the_check_ins_stop_counting(app: RunningApp) -> None:
    # Given a session with its baseline and dose, T+15 and later check-ins still to come
    app.start_session("Maya Fischer")
    app.advance(6 * 60)
    app.baseline_by_keyboard()
    app.advance(34 * 60)
    app.dose_by_keyboard("200")
    app.advance(5 * 60)
    view = app.live_view
    # When the session is ended with Ctrl+E
    app.end_by_keyboard()
    ended_at = local_time(app.clock.now())
    # Then the phase says the session ended, in the screen's usual colours: no alert
    assert (view.phase_name.text(), view.phase_left.text()) == (
        "Session ended",
        f"at {ended_at}; the clock has stopped",
    )
    assert not view.alerts.isVisible()
    alert_styled = [
        label.text()
        for label in view.findChildren(QLabel)
        if label.isVisible() and "ended" in label.text().lower()
        and (label.objectName() == "banner" or theme.OVERDUE in label.styleSheet())
    ]  # fmt: skip
    assert alert_styled == []
    # And the check-ins panel counts no more: nothing is due, what was not done is named
    lines = [line.text() for line in view.checkin_lines if line.isVisible()]
    assert lines[0] == f"None due: the session ended at {ended_at}."
    assert lines[1].startswith("Not done: T+15, T+30, T+40 blood pressure")
    assert not any(" in " in line or "overdue" in line for line in lines), lines
    # And an hour later, the session opened again, the panel says the same
    session_id = app.session().id
    app.leave_session()
    app.clock.advance(60 * 60)
    app.controller.open_session(session_id)
    assert [line.text() for line in view.checkin_lines if line.isVisible()] == lines
    app.leave_session()


def test_in_a_group_every_due_check_in_is_on_the_tile_in_large_text(
    make_app: MakeApp, live_multi_participant: dict[str, LiveData], tmp_path: Path
) -> None:
    # Given the group session resumed, two minutes later: the second participant's T+15 due
    data = live_multi_participant["group"]
    app = make_app(data_dir=copy_live(data, tmp_path / "data"), clock=FakeClock(data.now))
    assert app.ready() is app.start_view.resume_button
    app.key(Qt.Key.Key_Return)
    app.advance(2 * 60)
    first, second, _third = data.session.participants
    view = app.live_view
    # When the first participant, whose check-in is not due, is the one shown
    app.choose(view.participant, first.full_name)
    # Then the tile names the second's due check-in first, in text read from two metres
    line = view.checkin_lines[0]
    given = second.full_name.split(" ", 1)[0]
    assert line.text() == f"{given}: T+15 — due now"
    assert line.font().pixelSize() >= DUE_TEXT_PX
    # And then what is next for the first, in the usual size
    assert all(
        not label.text().startswith(given) and label.font().pixelSize() < DUE_TEXT_PX
        for label in view.checkin_lines[1:]
        if label.isVisible()
    )
    app.leave_session()
