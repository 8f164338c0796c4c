"""What the GUI does after its first frame: open the data, update the database if it must, then
hand the window to the controller.

`kapsession.ui.app.start_gui` shows the window (the start screen, its client list saying it is
loading) and calls `begin()`. Once that frame has been painted, this module imports what the
rest needs (SQLAlchemy, the services, the controller and, through it, the live screen) and opens
the data folder (`services.context.open_data`): a newer or foreign database is refused there.
A pending upgrade (an older database, or a new one to create) runs off the UI thread
(`run_task`) while the window shows a blocking screen; a backup is made first. Then the context
is finished, the controller built (it fills the start screen's lists) and the daily backup
started in the background. `ready` carries the controller; `failed` carries a message for the
nurse (the data could not be opened), after which nothing else happens.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

from kapsession.domain.clock import Clock
from kapsession.paths import NotWritable, Paths
from kapsession.records.errors import StorageError
from kapsession.services.background import run_task
from kapsession.ui.gui_thread_gc import start_collecting
from kapsession.ui.main_window import MainWindow

if TYPE_CHECKING:
    from kapsession.services.context import AppContext, OpenedData
    from kapsession.services.daily_backup import DailyBackup
    from kapsession.ui.app_controller import AppController

log = logging.getLogger(__name__)

UPDATING = "Updating the database (a backup is made first)…"
CREATING = "Setting up the database…"
# A window that is never exposed (opened minimised, say) paints nothing: go on after this anyway.
PAINT_WAIT_MS = 1000


@contextmanager
def _plain_imports() -> Iterator[None]:
    """Python's own import, for a while.

    PySide6 replaces `builtins.__import__` with a hook of its own (for `from __feature__
    import ...`), which reads the source of every module imported after it to see whether it
    uses PySide6. Before the window came first, SQLAlchemy and the services were imported
    before PySide6 and never met the hook; after the first frame they would take about a fifth
    longer (0.1 s). No kapsession module uses `__feature__`, so they are imported without the
    hook: PySide6 then treats them as it treats any module not using it. Only the UI thread
    imports meanwhile (no background work has started)."""
    plain = getattr(builtins, "__orig_import__", None)  # kept there by PySide6's hook
    hooked = builtins.__import__
    if plain is None or plain is hooked:
        yield
        return
    builtins.__import__ = plain
    try:
        yield
    finally:
        builtins.__import__ = hooked


def _collect_from_now_on() -> None:
    """Turn Python's garbage collection back on after the start-up (`kapsession.__main__` held
    it off), on the GUI thread (`gui_thread_gc`). What the start-up made stays (modules, Qt
    wrappers, the mapped classes): it is moved out of the collector's reach (`gc.freeze`)
    rather than scanned at the first collection."""
    app = QCoreApplication.instance()
    if app is not None:
        start_collecting(app)


class Startup(QObject):
    painted = Signal()  # the first frame is on screen; nothing heavy is imported yet
    ready = Signal(object)  # the AppController, the start screen's lists filled
    failed = Signal(str)  # why the data cannot be opened, for the nurse

    def __init__(
        self, window: MainWindow, paths: Paths, *, clock: Clock, demo: bool = False
    ) -> None:
        super().__init__(window)
        self.window = window
        self.paths = paths
        self.clock = clock
        self.demo = demo
        self.context: AppContext | None = None
        self.controller: AppController | None = None
        self._opened: OpenedData | None = None
        self._backup: DailyBackup | None = None
        self._began = False
        self._paint_wait = QTimer(self)  # a window never exposed paints nothing: go on anyway
        self._paint_wait.setSingleShot(True)
        self._paint_wait.setInterval(PAINT_WAIT_MS)
        self._paint_wait.timeout.connect(self._go_on)

    def begin(self) -> None:
        """Open the data once the window's first frame is painted (or after PAINT_WAIT_MS)."""
        self.window.installEventFilter(self)
        self._paint_wait.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint:
            # The frame reaches the screen when this paint is over: go on after it.
            QTimer.singleShot(0, self._go_on)
        return False

    def _go_on(self) -> None:
        if self._began:
            return
        self._began = True
        self._paint_wait.stop()
        self.window.removeEventFilter(self)
        self.painted.emit()
        self._open()

    def _open(self) -> None:
        with _plain_imports():  # what the window needs after its first frame
            from kapsession.services.context import open_data, upgrade
            from kapsession.ui import (  # noqa: F401  (the live screen: built by the controller)
                app_controller,
                backup_notice,
                live_view,
            )

        try:
            opened = open_data(self.paths)
        except (StorageError, NotWritable) as exc:
            self._fail(str(exc))
            return
        self._opened = opened
        if not opened.upgrade_pending:
            self._finish(opened)
            return
        log.info("database schema %s, updating to %s", opened.status.current, opened.status.head)
        self.window.show_busy(CREATING if opened.new_database else UPDATING)
        run_task(lambda: upgrade(opened), on_done=self._finish, on_failed=self._upgrade_failed)

    def _upgrade_failed(self, exc: Exception) -> None:
        if isinstance(exc, StorageError):
            self._fail(str(exc))
            return
        raise exc  # a bug, not the data: the calm error dialog, with its details in the log

    def _finish(self, opened: OpenedData) -> None:
        from kapsession.services.context import finish_context
        from kapsession.ui.app_controller import AppController
        from kapsession.ui.backup_notice import start_daily_backup

        self._opened = opened
        context = finish_context(opened, clock=self.clock)
        self.context = context
        if self.demo:
            from kapsession.services.demo import ensure_demo_people, resume_training_clock

            try:
                resume_training_clock(context.database, context.clock)
                ensure_demo_people(context.service, context.clock.now())
            except StorageError as exc:
                self._fail(str(exc))
                return
        if self.window.busy:
            self.window.show_start()
        self.controller = AppController(self.window, context, training=self.paths.training)
        self._backup = start_daily_backup(self.window, context)
        log.info("start screen ready")
        _collect_from_now_on()
        self.ready.emit(self.controller)
        # after what the ready window was asked to show first (queued by ready's receivers)
        QTimer.singleShot(0, self.controller.after_start)

    def _fail(self, message: str) -> None:
        _collect_from_now_on()
        log.error("cannot open data: %s", message)
        self.failed.emit(message)

    def stop(self) -> None:
        """At exit, after the event loop: save what is being typed, stop the session clock and
        the backup's checks."""
        if self.controller is not None:
            self.controller.shutdown()
        if self._backup is not None:
            self._backup.stop()

    def close(self) -> None:
        """Close the database (after the background work has finished)."""
        if self._opened is not None:
            self._opened.database.close()
