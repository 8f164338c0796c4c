"""The window: a stack of the start screen and the live session screen. Layout only."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QStackedWidget

from kapsession.ui.live_view import LiveView
from kapsession.ui.start_view import StartView


class MainWindow(QMainWindow):
    def __init__(self, *, training: bool) -> None:
        super().__init__()
        title = "kapsession"
        if training:
            title += " — TRAINING"
        self.setWindowTitle(title)
        self.resize(1280, 800)
        self.start_view = StartView()
        self.start_view.set_training(training)
        self.live_view = LiveView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_view)
        self.stack.addWidget(self.live_view)
        self.setCentralWidget(self.stack)
        self.statusBar().setSizeGripEnabled(False)

    def show_start(self) -> None:
        self.statusBar().show()
        self.stack.setCurrentWidget(self.start_view)
        self.start_view.search.setFocus()  # the view itself takes no keys

    def show_live(self) -> None:
        # the live screen has its own message line; its height goes to the screen instead
        self.statusBar().hide()
        self.stack.setCurrentWidget(self.live_view)
        self.live_view.setFocus()
