"""The daily backup with the real window: made in the background after the window is shown; a
failure is a quiet, clear message on the start screen and the status line, and the session goes
on.

The window is opened as `run_gui` opens it: the data folder opened without a backup
(`daily_backup=False`), the window and its controller, shown; then the daily backup. Where a
test must hold the backup while the nurse works, the real `ensure_recent_backup` runs behind a
gate the test opens (`make_backup`, the work the thread pool runs, is the seam).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.filesystems import read_only_folder
from support.qt_tasks import no_task_left_running
from support.signing_in import sign_in
from ui_harness import START, ModalGuard, RunningApp, fill_client, room_theme

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.background import running_tasks
from kapsession.services.context import BACKUP_INTERVAL, open_context
from kapsession.services.daily_backup import DailyBackup, MakeBackup
from kapsession.storage.backups import ensure_recent_backup, list_backups
from kapsession.storage.database import Database
from kapsession.ui.app_controller import AppController
from kapsession.ui.backup_notice import MADE_MESSAGE, BackupNotice, start_daily_backup
from kapsession.ui.main_window import MainWindow

WAIT_MS = 10_000  # a guard against a hang, never a timing assertion
CTRL = Qt.KeyboardModifier.ControlModifier

_ = no_task_left_running
pytestmark = pytest.mark.usefixtures("no_task_left_running")


@pytest.fixture
def opened(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, modal_guard: ModalGuard
) -> Iterator[RunningApp]:
    """The window shown over a data folder without a backup, opened as the app opens it."""
    room_theme(qapp)
    clock = FakeClock(START)
    paths = resolve_paths(data_dir=tmp_path / "data", environ={})
    context = open_context(paths, clock=clock, daily_backup=False)
    window = MainWindow(training=False)
    qtbot.addWidget(window)
    controller = AppController(window, context, training=False)
    sign_in(controller)
    window.show()
    qtbot.waitExposed(window)
    app = RunningApp(qtbot, context, clock, window, controller, modal_guard)
    app.ready()
    try:
        yield app
    finally:
        context.close()


def background_backup(
    app: RunningApp, make_backup: MakeBackup = ensure_recent_backup
) -> DailyBackup:
    """The daily backup as `start_daily_backup` wires it, on the test's clock."""
    backup = DailyBackup(
        app.context.database,
        app.context.paths.backup_dir,
        max_age=BACKUP_INTERVAL,
        now=app.clock.now,
        make_backup=make_backup,
        parent=app.window,
    )
    BackupNotice(app.window, backup)
    return backup


class Gate:
    """`ensure_recent_backup` held until the test opens the gate."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()

    def __call__(
        self,
        database: Database,
        backup_dir: Path,
        *,
        max_age: timedelta,
        now: datetime | None,
        label: str = "daily",
    ) -> Path | None:
        self.reached.set()
        assert self.opened.wait(WAIT_MS / 1000), "the test never opened the gate"
        return ensure_recent_backup(database, backup_dir, max_age=max_age, now=now, label=label)


def family_names_in(backup: Path) -> set[str]:
    connection = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
        return {name for (name,) in connection.execute("SELECT family_name FROM client")}
    finally:
        connection.close()


def test_the_window_takes_the_nurses_entries_while_the_days_backup_is_being_made(
    opened: RunningApp,
) -> None:
    app = opened
    backup_dir = app.context.paths.backup_dir
    # Given the window shown, and the day's backup started and not finished (held)
    gate = Gate()
    backup = background_backup(app, gate)
    backup.start()
    assert gate.reached.wait(WAIT_MS / 1000)
    assert backup.running and running_tasks() == 1
    # When the nurse adds a client by keyboard, starts a session and saves the baseline
    with app.answering(fill_client("Maya", "Fischer")) as seen:
        app.key(Qt.Key.Key_N, CTRL)
    assert [a.title for a in seen] == ["New client"]
    app.add_staff("Ruth Okafor")
    app.start_session("Noor Haddad")
    app.advance(10 * 60)
    app.baseline_by_keyboard("124", "80")
    # Then all of it is saved while the backup is still being made, and nothing says so
    assert backup.running and running_tasks() == 1
    assert list_backups(backup_dir, "kapsession") == []
    assert len(app.observations()) == 1
    assert not app.start_view.backup_problem.isVisible()
    # When the backup goes on, Then it is made, with what was saved before its copy began
    with app.qtbot.waitSignal(backup.made, timeout=WAIT_MS) as made:
        gate.opened.set()
    backup.stop()
    (path,) = made.args
    assert family_names_in(path) == {"Fischer", "Haddad"}
    # ... and the start screen has nothing to say about it
    app.leave_session()
    assert not app.start_view.backup_problem.isVisible()


def test_the_app_starts_the_days_backup_once_its_window_runs_and_says_so_quietly(
    opened: RunningApp,
) -> None:
    # Given the window shown over a data folder without a backup, and the nurse on the start
    # screen with nothing else said on the status line
    app = opened
    assert app.window.statusBar().currentMessage() == ""
    # When the app starts the daily backup as run_gui does
    backup = start_daily_backup(app.window, app.context)
    with app.qtbot.waitSignal(backup.made, timeout=WAIT_MS) as made:
        pass
    backup.stop()
    # Then a backup of today is made in the backup folder
    assert list_backups(app.context.paths.backup_dir, "kapsession") == [made.args[0]]
    assert family_names_in(made.args[0]) == set()
    # ... and the status line says so, without a dialog or anything on the start screen
    assert app.window.statusBar().currentMessage() == MADE_MESSAGE
    assert not app.start_view.backup_problem.isVisible()
    assert QApplication.activeModalWidget() is None


def test_a_failed_backup_is_a_clear_message_and_the_session_goes_on(opened: RunningApp) -> None:
    app = opened
    backup_dir = app.context.paths.backup_dir
    with read_only_folder(backup_dir):
        # Given a backup folder that cannot be written
        backup = background_backup(app)
        # When the day's backup is tried
        with app.qtbot.waitSignal(backup.failed, timeout=WAIT_MS):
            backup.start()
        backup.stop()
        # Then the start screen and the status line say why and what to do, without a dialog
        message = app.start_view.backup_problem.text()
        assert message.startswith("Today's backup could not be made: ")
        assert str(backup_dir) in message
        assert message.endswith("The session is saved; tell IT.")
        assert app.start_view.backup_problem.isVisible()
        assert app.window.statusBar().currentMessage() == message
        assert QApplication.activeModalWidget() is None
        # ... and the session goes on: the nurse starts one and saves the baseline
        app.add_staff("Ruth Okafor")
        app.start_session("Maya Fischer")
        app.advance(10 * 60)
        app.baseline_by_keyboard("124", "80")
        assert len(app.observations()) == 1
        app.leave_session()
        assert app.start_view.backup_problem.isVisible()
    # When the folder can be written again and the next check comes
    with app.qtbot.waitSignal(backup.made, timeout=WAIT_MS):
        backup.check()
    # Then the message goes, and the status line says the backup was made
    assert not app.start_view.backup_problem.isVisible()
    assert app.window.statusBar().currentMessage() == MADE_MESSAGE
