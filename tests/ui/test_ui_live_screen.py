"""What the live screen shows at known moments of a session on the fake clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from ui_harness import START, MakeApp, RunningApp, fill_dose

from kapsession.ui import theme
from kapsession.ui.formatting import local_time
from kapsession.ui.live_view import CHECKIN_LINES, DUE_TEXT_PX


def hm(minutes: float) -> str:
    """The local wall time `minutes` after the session started, as the screen writes it."""
    return local_time(START + timedelta(minutes=minutes))


@dataclass(frozen=True)
class Moment:
    minutes: float  # since the session started
    dose_min: float | None  # when D was pressed, minutes since start
    elapsed: str
    since_dose: str
    dose_hint: str
    phase: str
    phase_left: str
    phase_next: str
    checkins: tuple[str, ...]


AFTER_DOSE = (
    "T+15 — after the dose",
    "T+30 — after the dose",
    "T+40 blood pressure — after the dose",
)
MOMENTS = [
    Moment(
        0, None, "0:00:00", "no dose yet", "planned in 40 min", "Arrival and settling",
        "20 min left in this phase", "next: Intention",
        (f"Baseline vitals — in 5 min ({hm(5)})", *AFTER_DOSE),
    ),
    Moment(
        10, None, "0:10:00", "no dose yet", "planned in 30 min", "Arrival and settling",
        "10 min left in this phase", "next: Intention", ("Baseline vitals — due now", *AFTER_DOSE),
    ),
    Moment(
        25, None, "0:25:00", "no dose yet", "planned in 15 min", "Intention",
        "until the dose is given", "next: Onset", ("Baseline vitals — due now", *AFTER_DOSE),
    ),
    Moment(
        36, None, "0:36:00", "no dose yet", "planned in 4 min", "Intention",
        "until the dose is given", "next: Onset", ("Baseline vitals — overdue 31 min", *AFTER_DOSE),
    ),
    Moment(
        44, None, "0:44:00", "no dose yet", "planned now — press D when given", "Intention",
        "until the dose is given", "next: Onset", ("Baseline vitals — overdue 39 min", *AFTER_DOSE),
    ),
    Moment(
        56, 40, "0:56:00", "T+0:16:00", f"dose given {hm(40)}", "Onset",
        "9 min left in this phase", "next: Peak",
        (
            "Baseline vitals — overdue 51 min",
            "T+15 — due now",
            f"T+30 — in 14 min ({hm(70)})",
            f"T+40 blood pressure — in 24 min ({hm(80)})",
        ),
    ),
    Moment(
        62, 40, "1:02:00", "T+0:22:00", f"dose given {hm(40)}", "Onset",
        "3 min left in this phase", "next: Peak",
        (
            "Baseline vitals — overdue 57 min",
            "T+15 — overdue 7 min",
            f"T+30 — in 8 min ({hm(70)})",
            f"T+40 blood pressure — in 18 min ({hm(80)})",
        ),
    ),
    Moment(
        105, 40, "1:45:00", "T+1:05:00", f"dose given {hm(40)}", "Re-entry",
        "25 min left in this phase", "next: Early integration",
        (
            "Baseline vitals — overdue 1 h 40 min",
            "T+15 — overdue 50 min",
            "T+30 — overdue 35 min",
            "T+40 blood pressure — overdue 25 min",
        ),
    ),
    Moment(
        181, 40, "3:01:00", "T+2:21:00", f"dose given {hm(40)}", "Past the planned end",
        "end the session when the client has left", "",
        (
            "Baseline vitals — overdue 2 h 56 min",
            "T+15 — overdue 2 h 06 min",
            "T+30 — overdue 1 h 51 min",
            "T+40 blood pressure — overdue 1 h 41 min",
        ),
    ),
]  # fmt: skip


NO_BASELINE_REASON = "Cuff failed; manual BP 128/80 on paper"


def status_colour(line: str) -> str:
    if "overdue" in line:
        return theme.OVERDUE
    if "due now" in line:
        return theme.DUE
    return theme.TEXT_DIM


def shown_checkins(app: RunningApp) -> tuple[str, ...]:
    return tuple(line.text() for line in app.live_view.checkin_lines if line.isVisible())


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: f"{m.minutes:g}min-dose{m.dose_min}")
def test_the_screen_at_a_known_moment(app: RunningApp, moment: Moment) -> None:
    # Given a session started at START, the dose given by keyboard at dose_min (if any); no
    # baseline was taken, so the dose form asks for an override reason
    app.start_session("Maya Fischer")
    passed = 0.0
    if moment.dose_min is not None:
        app.advance(moment.dose_min * 60)
        app.dose_by_keyboard("200", override_reason=NO_BASELINE_REASON)
        passed = moment.dose_min
    # When the fake clock reaches the moment and the session timer ticks
    app.advance((moment.minutes - passed) * 60)
    # Then every label reads as the clinician expects
    view = app.live_view
    assert view.elapsed.text() == moment.elapsed
    assert view.since_dose.text() == moment.since_dose
    assert view.dose_hint.text() == moment.dose_hint
    assert view.phase_name.text() == moment.phase
    assert view.phase_left.text() == moment.phase_left
    assert view.phase_next.text() == moment.phase_next
    assert shown_checkins(app) == moment.checkins[:CHECKIN_LINES]
    for line in view.checkin_lines:
        assert f"color: {status_colour(line.text())}" in line.styleSheet()
        # And a due or overdue check-in reads from two metres: its text is at least 28 px
        urgent = status_colour(line.text()) != theme.TEXT_DIM
        assert (line.font().pixelSize() >= DUE_TEXT_PX) is urgent, line.text()
    assert view.started.text() == f"started {hm(0)}"
    app.leave_session()


@pytest.mark.parametrize("training", [True, False], ids=["training", "clinical"])
def test_training_is_marked_in_training_mode_only(make_app: MakeApp, training: bool) -> None:
    # Given the app in training or clinical mode
    app = make_app(training=training)
    # Then the start screen and the title say TRAINING only in training mode
    assert app.start_view.training.isVisible() is training
    assert ("TRAINING" in app.window.windowTitle()) is training
    # And so does the live screen
    app.start_session("Maya Fischer")
    assert app.live_view.training.isVisible() is training
    # And the training database is a separate file
    database = app.context.database.file
    assert database is not None
    assert (database.name == "kapsession-training.sqlite3") is training
    app.leave_session()


def test_an_individual_session_has_no_participant_selector(app: RunningApp) -> None:
    app.start_session("Maya Fischer")
    assert not app.live_view.participant.isVisible()
    assert not app.live_view.room_panel.isVisible()
    app.leave_session()


def tab_to(app: RunningApp, target: QWidget) -> None:
    """Press Tab until `target` has the focus (keyboard only), at most 30 times."""
    for _ in range(30):
        if app.ready() is target:
            return
        app.key(Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {target.accessibleName()!r}")


def board(app: RunningApp) -> dict[str, tuple[str, str, str]]:
    """The nurse board as {participant: (T+ cell, phase, next check-in)}."""
    table = app.live_view.board
    return {
        table.item(r, 0).text(): tuple(table.item(r, c).text() for c in (1, 2, 3))
        for r in range(table.rowCount())
    }


def test_couples_layout_and_a_dose_for_the_second_participant(app: RunningApp) -> None:
    # Given a couples session for Maya and Jonas, 45 minutes in, neither dosed
    record = app.start_session("Maya Fischer", "Jonas Weber", modality="couples")
    maya, jonas = record.participants
    view = app.live_view
    assert view.participant.isVisible() and view.room_panel.isVisible()
    assert [view.participant.itemText(i) for i in range(view.participant.count())] == [
        "Maya Fischer",
        "Jonas Weber",
    ]
    app.advance(45 * 60)
    waiting = ("no dose yet", "Intention", "Baseline vitals — overdue")
    assert board(app) == {"Maya Fischer": waiting, "Jonas Weber": waiting}
    # When Jonas is chosen in the participant selector by keyboard and D confirmed
    tab_to(app, view.participant)
    app.key(Qt.Key.Key_Down)
    assert view.current_participant() == jonas.id
    app.baseline_by_keyboard()
    with app.answering(fill_dose("200")) as seen:
        app.key(Qt.Key.Key_D)
    # Then the dose is Jonas's alone: his line changes, Maya's stays as it was
    assert "Jonas Weber" in seen[0].title
    assert [d.participant_id for d in app.doses()] == [jonas.id]
    rows = board(app)
    assert rows["Maya Fischer"] == waiting
    assert rows["Jonas Weber"][:2] == ("T+0:00:00", "Onset")
    assert rows["Jonas Weber"][2].startswith("T+15 at ")  # his baseline is done
    # And the main clocks follow the selected participant
    app.advance(16 * 60)
    assert (view.since_dose.text(), view.phase_name.text()) == ("T+0:16:00", "Onset")
    assert view.elapsed.text() == "1:01:00"
    assert "Jonas: T+15 — due now" in shown_checkins(app)  # a shared session's, named
    tab_to(app, view.participant)
    app.key(Qt.Key.Key_Up)
    assert view.current_participant() == maya.id
    assert (view.since_dose.text(), view.phase_name.text()) == ("no dose yet", "Intention")
    assert "T+15 — after the dose" in shown_checkins(app)
    assert "Jonas: T+15 — due now" in shown_checkins(app)  # whoever is shown
    assert board(app)["Maya Fischer"] == waiting
    app.leave_session()


def test_the_session_timer_keeps_the_clock_current(app: RunningApp) -> None:
    # Given a live session; When only the fake clock moves, Then the timer's ticks show it
    app.start_session("Maya Fischer")
    for minute in (1, 2, 3):
        app.advance(60)
        assert app.live_view.elapsed.text() == f"0:0{minute}:00"
    app.leave_session()


def test_a_wall_clock_jump_does_not_move_the_session_clock(app: RunningApp) -> None:
    # Given a live session 10 minutes in
    app.start_session("Maya Fischer")
    app.advance(10 * 60)
    # When the laptop's wall clock is set an hour forward (NTP, a user) and the timer ticks
    app.clock.jump_wall(3600)
    app.advance(1)
    # Then the screen counts on from the monotonic clock
    assert app.live_view.elapsed.text() == "0:10:01"
    assert app.live_view.phase_name.text() == "Arrival and settling"
    app.leave_session()
