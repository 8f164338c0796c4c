"""The main window as the app opens it, on whatever screen Qt's platform gives (run by
test_ui_window_size.py with a screen of a given size; prints one JSON object)."""

from __future__ import annotations

import json
import sys

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme


def main() -> None:
    app = QApplication(sys.argv[:1])
    apply_room_theme(app)
    window = MainWindow(training=False)
    window.show()
    QTest.qWaitForWindowExposed(window, 5000)
    for _ in range(5):
        app.processEvents()
    screen = window.screen()
    available = screen.availableGeometry()
    frame = window.frameGeometry()
    print(
        json.dumps(
            {
                "platform": app.platformName(),
                "screen": [screen.geometry().width(), screen.geometry().height()],
                "available": available.getRect(),
                "frame": frame.getRect(),
                "size": [window.width(), window.height()],
                "maximised": window.isMaximized(),
            }
        )
    )


if __name__ == "__main__":
    main()
