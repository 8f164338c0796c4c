"""Starting the GUI: the QApplication, the room theme, the calm error dialog, the window.

`start_gui` (the `gui` and `demo` commands) shows the window before anything heavy is imported
and lets `kapsession.ui.startup` open the data behind it. `run_gui` runs the window over data
already opened (an embedding program, tests).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from kapsession import APP_NAME, __version__
from kapsession.domain.clock import Clock
from kapsession.logs import set_error_presenter
from kapsession.paths import NotWritable, Paths, ensure_writable, make_private
from kapsession.resources import icons_dir
from kapsession.services.background import finish_tasks
from kapsession.ui import startup_probe
from kapsession.ui.gui_thread_gc import collect_on_gui_thread
from kapsession.ui.main_window import MainWindow
from kapsession.ui.startup import Startup
from kapsession.ui.theme import apply_room_theme

if TYPE_CHECKING:
    from kapsession.services.context import AppContext

log = logging.getLogger(__name__)

EXIT_PROBLEM = 1
STARTUP_PROBLEM_TITLE = "kapsession cannot open its data"


def application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)  # matches kapsession.desktop, for the desktop's taskbar
    app.setWindowIcon(QIcon(str(icons_dir() / "kapsession-256.png")))
    apply_room_theme(app)
    collect_on_gui_thread(app)
    return app


def headless_application() -> QApplication:
    """A QApplication for painting without a window (PDF export from the command line): the
    offscreen platform unless a display was chosen, and the plain palette, not the room's."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    return app


def show_calm_error(summary: str, details: str, log_file: str) -> None:
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("kapsession")
    box.setText("Something went wrong, but everything saved so far is safe.")
    box.setInformativeText(
        f"{summary}\n\nIf it happens again, tell your IT contact. Details are in {log_file}."
    )
    box.setDetailedText(details)
    box.exec()


def show_startup_problem(message: str) -> None:
    application()
    QMessageBox.critical(None, STARTUP_PROBLEM_TITLE, message)


def take_lock(paths: Paths) -> QLockFile | None:
    """The data folder's lock (one window on the same data), or None when another app holds it:
    that has been said to the nurse."""
    lock = QLockFile(str(paths.lock_file))
    lock.setStaleLockTime(0)  # a lock left by a killed app is recognised by its process id
    if lock.tryLock(100):
        make_private(paths.lock_file)  # Qt makes it as the umask says
        return lock
    QMessageBox.information(
        None,
        "kapsession is already open",
        "kapsession is already open on this laptop with the same data. Switch to that "
        "window; two windows on one session could record the same entry twice.",
    )
    return None


def start_gui(paths: Paths, *, clock: Clock, demo: bool = False) -> int:
    """The app: its window painted at once, then the data opened (`Startup`); the exit status.

    The data folder is made and locked first: a second app on the same data shows no window."""
    app = application()
    set_error_presenter(
        lambda summary, details: show_calm_error(summary, details, str(paths.log_file))
    )
    try:
        try:
            ensure_writable(paths.data_dir)
        except NotWritable as exc:
            log.error("cannot open data: %s", exc)
            _say_startup_problem(str(exc))
            return EXIT_PROBLEM
        lock = take_lock(paths)
        if lock is None:
            return EXIT_PROBLEM
        window = MainWindow(training=paths.training)
        window.start_view.show_loading()
        startup = Startup(window, paths, clock=clock, demo=demo)

        def failed(message: str) -> None:
            _say_startup_problem(message)
            app.exit(EXIT_PROBLEM)

        startup.failed.connect(failed)
        probe = startup_probe.requested_mode()
        if probe is not None:
            startup_probe.arm_startup(app, window, probe, startup)
        window.show()
        log.info("window shown")
        startup.begin()
        try:
            code = app.exec()
            startup.stop()
            finish_tasks()  # a backup or an upgrade being made is finished, not cut off
        finally:
            startup.close()
            lock.unlock()
        return code
    finally:
        set_error_presenter(None)


def _say_startup_problem(message: str) -> None:
    print(f"kapsession: {message}", file=sys.stderr)
    show_startup_problem(message)


def run_gui(context: AppContext, *, training: bool) -> int:
    """The window over `context`, opened already; the exit status."""
    from kapsession.ui.app_controller import AppController
    from kapsession.ui.backup_notice import start_daily_backup

    app = application()
    log_file = str(context.paths.log_file)
    set_error_presenter(lambda summary, details: show_calm_error(summary, details, log_file))
    lock = take_lock(context.paths)
    if lock is None:
        return EXIT_PROBLEM
    window = MainWindow(training=training)
    controller = AppController(window, context, training=training)
    window.show()
    log.info("window shown")
    backup = start_daily_backup(window, context)
    probe = startup_probe.requested_mode()
    if probe is not None:
        startup_probe.arm(app, window, probe)
    QTimer.singleShot(0, controller.after_start)
    code = app.exec()
    controller.shutdown()
    backup.stop()
    finish_tasks()  # a backup being made is finished, not cut off
    lock.unlock()
    set_error_presenter(None)
    return code
