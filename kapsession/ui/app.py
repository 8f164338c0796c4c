"""Starting the GUI: the QApplication, the room theme, the calm error dialog, the window."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QLockFile
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from kapsession import APP_NAME, __version__
from kapsession.logs import set_error_presenter
from kapsession.resources import icons_dir
from kapsession.services.background import finish_tasks
from kapsession.services.context import AppContext
from kapsession.ui import startup_probe
from kapsession.ui.app_controller import AppController
from kapsession.ui.backup_notice import start_daily_backup
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme

log = logging.getLogger(__name__)


def application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)  # matches kapsession.desktop, for the desktop's taskbar
    app.setWindowIcon(QIcon(str(icons_dir() / "kapsession-256.png")))
    apply_room_theme(app)
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
    QMessageBox.critical(None, "kapsession cannot open its data", message)


def run_gui(context: AppContext, *, training: bool) -> int:
    app = application()
    log_file = str(context.paths.log_file)
    set_error_presenter(lambda summary, details: show_calm_error(summary, details, log_file))
    lock = QLockFile(str(context.paths.data_dir / ("training.lock" if training else "app.lock")))
    lock.setStaleLockTime(0)  # a lock left by a killed app is recognised by its process id
    if not lock.tryLock(100):
        QMessageBox.information(
            None,
            "kapsession is already open",
            "kapsession is already open on this laptop with the same data. Switch to that "
            "window; two windows on one session could record the same entry twice.",
        )
        return 1
    window = MainWindow(training=training)
    controller = AppController(
        window,
        context.service,
        context.clock,
        training=training,
        room=context.room.name,
        max_volume_pct=context.room.max_volume_pct,
        clinic_dir=context.paths.data_dir,
    )
    window.show()
    log.info("window shown")
    backup = start_daily_backup(window, context)
    probe = startup_probe.requested_mode()
    if probe is not None:
        startup_probe.arm(app, window, probe, controller)
    code = app.exec()
    if controller.live is not None:
        controller.live.stop()
    backup.stop()
    finish_tasks()  # a backup being made is finished, not cut off
    lock.unlock()
    set_error_presenter(None)
    return code
