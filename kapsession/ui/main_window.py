"""The window: a stack of the start screen, the live session screen and a client's history.
Layout only."""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QStackedWidget

from kapsession.ui.client_history_view import ClientHistoryView
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
        self.history_view = ClientHistoryView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.start_view)
        self.stack.addWidget(self.live_view)
        self.stack.addWidget(self.history_view)
        self.setCentralWidget(self.stack)
        self.statusBar().setSizeGripEnabled(False)

    def show_start(self) -> None:
        self.statusBar().show()
        self.stack.setCurrentWidget(self.start_view)
        self.start_view.search.setFocus()  # the view itself takes no keys

    def show_history(self) -> None:
        self.statusBar().show()
        self.stack.setCurrentWidget(self.history_view)
        self.history_view.focus_table()

    def show_live(self) -> None:
        # the live screen has its own message line; its height goes to the screen instead
        self.statusBar().hide()
        self.stack.setCurrentWidget(self.live_view)
        self.live_view.setFocus()
