"""The real app, with each message box it shows read out and answered (tests of a start that
cannot go on).

    python answering_child.py APP_ARGS...

Runs kapsession's own entry point (`kapsession.__main__.main`) with APP_ARGS. Each message box
the app shows is printed as one JSON line, {"title": ..., "text": ...}, then accepted, as Enter
on its button would. The app's exit status is this process's.

With CLOSE_WHEN_BUSY=1 in its environment, it also closes the main window as soon as the window
shows its blocking screen (the database being updated), as a nurse's click on the window's
close button would, and prints {"closed": "updating"}.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from kapsession.__main__ import main
from kapsession.ui.app import application
from kapsession.ui.main_window import BusyScreen

POLL_MS = 20


def answer() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QMessageBox) and widget.isVisible():
            print(json.dumps({"title": widget.windowTitle(), "text": widget.text()}), flush=True)
            widget.accept()


class CloseWhenBusy(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(watched, BusyScreen) and event.type() == QEvent.Type.Show:
            window = watched.window()
            QTimer.singleShot(0, lambda: close(window))
        return False


def close(window: QWidget) -> None:
    print(json.dumps({"closed": "updating"}), flush=True)
    window.close()


if __name__ == "__main__":
    app = application()  # the app's own, which main() then uses
    closer = CloseWhenBusy()
    if os.environ.get("CLOSE_WHEN_BUSY") == "1":
        app.installEventFilter(closer)
    timer = QTimer()
    timer.setInterval(POLL_MS)
    timer.timeout.connect(answer)
    timer.start()
    sys.exit(main(sys.argv[1:]))
