"""`kapsession demo --speed 60` started again on the real window: the start-up resumes the training
clock from the time the training record reached, so the session resumed shows the hour it had
run, not the real minute (the start-up as `start_gui` runs it, in this process)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.qt_tasks import no_task_left_running  # noqa: F401  (a fixture)
from support.training_clock import REAL, fast_hour_of_training

from kapsession.domain.clock import FakeClock, ScaledClock
from kapsession.paths import resolve_paths
from kapsession.services.background import finish_tasks
from kapsession.ui.main_window import MainWindow
from kapsession.ui.startup import Startup

WAIT_MS = 30_000  # a guard against a hung start, never a timing assertion


def test_demo_at_speed_resumes_the_training_clock_on_start(
    qtbot: QtBot,
    tmp_path: Path,
    no_task_left_running: None,  # noqa: F811
) -> None:
    # Given a training session an hour in at 60x, and the app quit
    paths = resolve_paths(data_dir=tmp_path / "data", training=True, environ={})
    session_id, marked_at = fast_hour_of_training(paths)

    # When `demo --speed 60` starts again a real minute and a half later
    clock = ScaledClock(FakeClock(REAL + timedelta(seconds=90)), 60.0)
    window = MainWindow(training=True)
    qtbot.addWidget(window)
    startup = Startup(window, paths, clock=clock, demo=True)
    window.show()
    try:
        with qtbot.waitSignal(startup.ready, timeout=WAIT_MS):
            startup.begin()
        controller = startup.controller
        assert controller is not None

        # Then the training clock goes on from the record's latest time
        assert clock.now() >= marked_at
        # And the session resumed shows the hour it had run
        controller.open_session(session_id)
        assert window.live_view.elapsed.text().startswith("1:00:")
        controller.close_session()
    finally:
        QApplication.processEvents()  # the daily backup's start, queued behind `ready`
        startup.stop()
        finish_tasks()
        startup.close()
