"""The daily backup on screen: a quiet status line when it is made; when it is not (or its
copy in the second location is not), a clear message on the start screen and the status line
that a nurse or IT can act on; when the database is damaged, that it saves nothing more and
which backup to put back, on the start screen and the status line until the app is closed."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QObject, QTimer

from kapsession.services.context import AppContext
from kapsession.services.daily_backup import DailyBackup
from kapsession.ui.main_window import MainWindow

MADE_MESSAGE = "Today's backup was made."
MADE_SHOWN_MS = 10_000


class BackupNotice(QObject):
    def __init__(self, window: MainWindow, backup: DailyBackup) -> None:
        super().__init__(window)
        self._window = window
        self._problem = ""
        self._damaged = False
        backup.made.connect(self._made)
        backup.failed.connect(self._failed)
        backup.warned.connect(self._failed)
        backup.damaged.connect(self._damage)

    def _damage(self, message: str) -> None:
        self._damaged = True
        self._failed(message)

    def _made(self, _path: object) -> None:
        if self._damaged:  # never: a damaged database makes no backup; said for clarity
            return
        status = self._window.statusBar()
        if self._problem and status.currentMessage() == self._problem:
            status.clearMessage()
        self._problem = ""
        self._window.start_view.show_backup_problem("")
        if not status.currentMessage():  # never over a message about the nurse's own work
            status.showMessage(MADE_MESSAGE, MADE_SHOWN_MS)

    def _failed(self, message: str) -> None:
        self._problem = message
        self._window.start_view.show_backup_problem(message)
        self._window.statusBar().showMessage(message)


def start_daily_backup(window: MainWindow, context: AppContext) -> DailyBackup:
    """Once the event loop runs (the window shown), make the day's backup in the background,
    again whenever it falls due while the app stays open (clinic.toml's `[backup]
    interval_h`), and after each signature; each copied to the clinic's second location."""
    rules = context.clinic.backup
    backup = DailyBackup(
        context.database,
        context.paths.backup_dir,
        max_age=timedelta(hours=rules.interval_hours),
        second_location=rules.second_location,
        parent=window,
    )
    context.notes.on_signed(backup.after_signing)
    BackupNotice(window, backup)
    QTimer.singleShot(0, backup.start)
    return backup
