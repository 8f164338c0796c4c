"""Resuming a live session from the start screen, and stopping its clock on leaving or closing."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.team import team
from ui_harness import START, MakeApp, RunningApp, data_dir_context, running_timers

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.services.live_session import LiveSession
from kapsession.ui.app import run_gui
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow

DOSE = START + timedelta(minutes=40)


def seed_live_session(data_dir: Path, *, dose: bool) -> uuid.UUID:
    """A session started at START (dosed at START+40) by an earlier run of the app."""
    clock = FakeClock(START)
    context = data_dir_context(data_dir, clock)
    try:
        service = context.service
        client = service.add_client("Maya", "Fischer", at=START)
        record = service.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=[client.id],
            modality="individual",
            at=START,
            room="Room 2",
            **team(service, START),
        )
        if dose:
            dosing = service.read_state(record.id).protocol.dosing  # a dose row as stored
            service.entries.add_dose(
                record.id,
                record.participants[0].id,
                occurred_at=DOSE,
                recorded_at=DOSE,
                medication=dosing.medication.value,
                route=dosing.route.value,
            )
        return record.id
    finally:
        context.close()


def reopen_at(make_app: MakeApp, data_dir: Path, when: datetime) -> RunningApp:
    return make_app(data_dir=data_dir, clock=FakeClock(when))


@pytest.mark.parametrize(
    "resume_key", [Qt.Key.Key_Return, Qt.Key.Key_Space], ids=["enter", "space"]
)
def test_a_live_session_is_offered_and_resumed_by_keyboard(
    make_app: MakeApp, tmp_path: Path, resume_key: Qt.Key
) -> None:
    # Given a session started at START, dosed at START+40, and the app opened at START+75
    data_dir = tmp_path / "data"
    session_id = seed_live_session(data_dir, dose=True)
    app = reopen_at(make_app, data_dir, START + timedelta(minutes=75))
    # Then the start screen offers it, with the focus on Resume
    start = app.start_view
    assert start.live_panel.isVisible()
    assert start.live_list.count() == 1
    item = start.live_list.item(0)
    assert item.data(Qt.ItemDataRole.UserRole) == session_id
    assert item.text().startswith("Maya Fischer  ·  Sublingual KAP, 3 hours  ·  started ")
    assert item.text().endswith("  ·  Room 2")
    assert app.ready() is start.resume_button
    # When Enter (or Space) is pressed
    app.key(resume_key)
    # Then the live screen shows the session at the right time
    view = app.live_view
    assert app.window.stack.currentWidget() is view
    assert app.session().id == session_id
    assert view.elapsed.text() == "1:15:00"
    assert view.since_dose.text() == "T+0:35:00"
    assert view.phase_name.text() == "Peak"
    # And the phase change missed while closed (Peak at dose+25) was written late, once
    (peak,) = [e for e in app.events("phase_change") if e.label == "Peak"]
    assert peak.occurred_at == DOSE + timedelta(minutes=25)
    assert peak.recorded_at == START + timedelta(minutes=75)
    app.leave_session()


def test_a_session_without_live_sessions_hides_the_resume_panel(app: RunningApp) -> None:
    assert not app.start_view.live_panel.isVisible()
    assert app.ready() is app.start_view.search


def test_back_to_start_stops_the_clock_and_offers_the_session_again(
    make_app: MakeApp, tmp_path: Path
) -> None:
    # Given a resumed session
    data_dir = tmp_path / "data"
    session_id = seed_live_session(data_dir, dose=False)
    app = reopen_at(make_app, data_dir, START + timedelta(minutes=10))
    app.key(Qt.Key.Key_Return)
    live = app.controller.live
    assert live is not None and live._timer.isActive()
    # When Alt+Left goes back to the start screen
    app.key(Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    # Then the session clock has stopped, and Resume has the focus again
    assert app.controller.live is None
    assert not live._timer.isActive()
    assert running_timers() == []
    assert app.window.stack.currentWidget() is app.start_view
    assert app.ready() is app.start_view.resume_button
    # When Enter is pressed 5 minutes later, the same session is back at the right time
    app.clock.advance(5 * 60)
    app.key(Qt.Key.Key_Return)
    assert app.session().id == session_id
    assert app.live_view.elapsed.text() == "0:15:00"
    app.leave_session()


def test_the_timer_check_sees_a_ticking_session(app: RunningApp) -> None:
    # Given a ticking session clock, the check that fails tests leaving timers running finds it
    app.start_session("Maya Fischer")
    live = app.controller.live
    assert live is not None
    assert running_timers() == [live._timer]
    # When the session is left, nothing is running any more
    app.leave_session()
    assert running_timers() == []


def test_closing_the_app_stops_the_session_clock(
    qtbot: QtBot,
    qapp: QApplication,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the real run_gui over a data folder with a live session
    data_dir = tmp_path / "data"
    session_id = seed_live_session(data_dir, dose=True)
    context = open_context(
        resolve_paths(data_dir=data_dir, environ={}), clock=FakeClock(START + timedelta(hours=1))
    )
    stops: list[bool] = []
    original_stop = LiveSession.stop

    def recording_stop(self: LiveSession) -> None:
        original_stop(self)
        stops.append(self._timer.isActive())

    monkeypatch.setattr(LiveSession, "stop", recording_stop)
    opened: list[bool] = []

    last_closed: list[bool] = []

    def on_last_closed() -> None:
        last_closed.append(True)

    qapp.lastWindowClosed.connect(on_last_closed)

    def resume_then_close() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        try:
            (window,) = [w for w in windows if w.isVisible()]
            qtbot.addWidget(window)  # deleted after the test, like the test's own windows
            controller = window.findChild(AppController)
            assert isinstance(controller, AppController)
            controller.open_session(session_id)
            opened.append(controller.live is not None and controller.live._timer.isActive())
            window.close()  # When the window is closed with the session clock ticking
        finally:
            if not last_closed:  # another window is still open, or the test failed above
                QApplication.quit()  # only once: a second Quit would end pytest-qt's waits

    QTimer.singleShot(0, resume_then_close)
    with caplog.at_level(logging.INFO, logger="kapsession.ui.app"):
        code = run_gui(context, training=False)
    qapp.lastWindowClosed.disconnect(on_last_closed)
    context.close()
    # Then run_gui returned normally, having stopped the clock, and released its lock
    assert code == 0
    assert opened == [True]
    assert stops == [False]
    assert "window shown" in caplog.text
    assert not (data_dir / "app.lock").exists()
