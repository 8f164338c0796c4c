"""The daily backup on screen: a quiet status line when it is made; when it is not, a clear
message on the start screen and the status line that a nurse or IT can act on."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from kapsession.services.context import BACKUP_INTERVAL, AppContext
from kapsession.services.daily_backup import DailyBackup
from kapsession.ui.main_window import MainWindow

MADE_MESSAGE = "Today's backup was made."
MADE_SHOWN_MS = 10_000


class BackupNotice(QObject):
    def __init__(self, window: MainWindow, backup: DailyBackup) -> None:
        super().__init__(window)
        self._window = window
        self._problem = ""
        backup.made.connect(self._made)
        backup.failed.connect(self._failed)

    def _made(self, _path: object) -> None:
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
    and again whenever it falls due while the app stays open."""
    backup = DailyBackup(
        context.database, context.paths.backup_dir, max_age=BACKUP_INTERVAL, parent=window
    )
    BackupNotice(window, backup)
    QTimer.singleShot(0, backup.start)
    return backup
