"""Quitting the app while a note is being typed: the exit path `start_gui` takes after the event
loop (`Startup.stop`) saves the typed text as the note's draft, though the draft interval has not
passed, and stops the session clock; the next start puts the text back in the box."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.qt_tasks import no_task_left_running  # noqa: F401  (a fixture)
from support.training_clock import REAL, fast_hour_of_training
from ui_harness import running_timers, type_text

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.background import finish_tasks
from kapsession.storage.notes import NoteRepository
from kapsession.ui.main_window import MainWindow
from kapsession.ui.startup import Startup

WAIT_MS = 30_000  # a guard against a hung start, never a timing assertion


def started(qtbot: QtBot, paths_dir: Path) -> tuple[MainWindow, Startup]:
    paths = resolve_paths(data_dir=paths_dir, training=True, environ={})
    window = MainWindow(training=True)
    qtbot.addWidget(window)
    startup = Startup(window, paths, clock=FakeClock(REAL + timedelta(hours=1)))
    window.show()
    with qtbot.waitSignal(startup.ready, timeout=WAIT_MS):
        startup.begin()
    QApplication.processEvents()  # the daily backup's start, queued behind `ready`
    return window, startup


def quit_app(startup: Startup) -> None:
    """What `start_gui` does once the event loop has returned."""
    startup.stop()
    finish_tasks()
    startup.close()


def test_a_note_typed_just_before_quitting_is_kept_and_comes_back(
    qtbot: QtBot,
    tmp_path: Path,
    no_task_left_running: None,  # noqa: F811
) -> None:
    data = tmp_path / "data"
    session_id, _ = fast_hour_of_training(resolve_paths(data_dir=data, training=True, environ={}))
    # Given the therapist typing a note in an open session
    window, startup = started(qtbot, data)
    try:
        assert startup.controller is not None
        startup.controller.open_session(session_id)
        window.activateWindow()
        qtbot.keyClick(window, Qt.Key.Key_N)
        box = window.live_view.note_pad.inputs["record"]
        assert QApplication.focusWidget() is box
        type_text("Asked for the blanket")
        # When the app quits before the draft interval has passed
        context = startup.context
        assert context is not None
        notes = NoteRepository(context.database)
        assert notes.draft(session_id, "record") is None
        startup.stop()
        # Then what was typed is the note's draft, and no session clock runs on
        draft = notes.draft(session_id, "record")
        assert draft is not None and draft.text == "Asked for the blanket"
        assert not running_timers()
    finally:
        finish_tasks()
        startup.close()
    # When the app starts again and the session is opened
    window, startup = started(qtbot, data)
    try:
        assert startup.controller is not None
        startup.controller.open_session(session_id)
        # Then the text is back in the box
        assert window.live_view.note_pad.inputs["record"].toPlainText() == "Asked for the blanket"
    finally:
        quit_app(startup)
