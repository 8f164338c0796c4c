"""The window: a stack of the start screen, the live session screen and a client's history, and
the screen that blocks it while the database is updated. Layout only.

The live screen and the history are built when first used (`live_view`, `history_view`): the
window's first frame, the start screen, needs neither, nor their charts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapsession.ui.start_view import StartView

if TYPE_CHECKING:
    from kapsession.ui.client_history_view import ClientHistoryView
    from kapsession.ui.live_view import LiveView


PREFERRED_SIZE = QSize(1280, 800)  # the window on a screen with room for it
FRAME_ALLOWANCE = QSize(16, 48)  # a window manager's title bar and borders round the window


def fits_preferred(available: QSize) -> bool:
    """Whether a window of the preferred size, with its frame, fits the screen's free area."""
    return (
        available.width() >= PREFERRED_SIZE.width() + FRAME_ALLOWANCE.width()
        and available.height() >= PREFERRED_SIZE.height() + FRAME_ALLOWANCE.height()
    )


class BusyScreen(QWidget):
    """A message and a moving bar, over the whole window: nothing else can be done meanwhile."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel()
        self.message.setObjectName("phase")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        bar = QProgressBar()
        bar.setRange(0, 0)  # no end known: it moves until the work is done
        bar.setTextVisible(False)
        bar.setMaximumWidth(480)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.message)
        layout.addWidget(bar, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)


class MainWindow(QMainWindow):
    history_back_requested = Signal()  # the history's Back (the history built when first used)
    lock_requested = Signal()  # Ctrl+L on the start or the live screen (issue 18)

    def __init__(self, *, training: bool) -> None:
        super().__init__()
        title = "kapsession"
        if training:
            title += " — TRAINING"
        self.setWindowTitle(title)
        self.fit_to_screen()
        # The screens are built in their place: with the room's style sheet a widget given a
        # parent is restyled with everything it already holds.
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.start_view = StartView(self.stack)
        self.start_view.set_training(training)
        self.busy_screen = BusyScreen(self.stack)
        self._live_view: LiveView | None = None
        self._history_view: ClientHistoryView | None = None
        self.stack.addWidget(self.start_view)
        self.stack.addWidget(self.busy_screen)
        self.statusBar().setSizeGripEnabled(False)
        self.start_view.lock_requested.connect(self.lock_requested)
        self._cover: QWidget | None = None  # the sign-in and lock screen, over everything

    def set_cover(self, cover: QWidget) -> None:
        """A widget over the whole window (the sign-in and lock screen, issue 18): the
        screens under it keep running."""
        self._cover = cover
        cover.setGeometry(self.rect())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._cover is not None:
            self._cover.setGeometry(self.rect())

    def fit_to_screen(self) -> None:
        """Open inside the screen's free area (without the desktop's panels): on a room laptop
        (1366x768, 1280x720) the whole of it, maximised; on a larger screen at the size the
        screens are laid out for."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(PREFERRED_SIZE)
            return
        available = screen.availableGeometry()
        if fits_preferred(available.size()):
            self.resize(PREFERRED_SIZE)
            return
        self.setGeometry(available)  # without a window manager (a kiosk) that is all
        self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)

    @property
    def live_view(self) -> LiveView:
        if self._live_view is None:
            from kapsession.ui.live_view import LiveView

            self._live_view = LiveView(self.stack)  # built in its place (above)
            self.stack.addWidget(self._live_view)
            self._live_view.lock_requested.connect(self.lock_requested)
        return self._live_view

    @property
    def history_view(self) -> ClientHistoryView:
        if self._history_view is None:
            from kapsession.ui.client_history_view import ClientHistoryView

            self._history_view = ClientHistoryView()
            self._history_view.back_requested.connect(self.history_back_requested)
            self.stack.addWidget(self._history_view)
        return self._history_view

    def show_start(self) -> None:
        self.statusBar().show()
        self.stack.setCurrentWidget(self.start_view)
        self.start_view.search.setFocus()  # the view itself takes no keys

    def show_busy(self, message: str) -> None:
        """Block the window with `message` until another screen is shown. Closing the window
        meanwhile ends the app once the work is done (`finish_tasks` at exit)."""
        self.statusBar().hide()
        self.busy_screen.message.setText(message)
        self.stack.setCurrentWidget(self.busy_screen)
        self.busy_screen.setFocus()

    @property
    def busy(self) -> bool:
        return self.stack.currentWidget() is self.busy_screen

    @property
    def screen_name(self) -> str:
        """Which screen is shown: start, updating (the busy screen), live or history."""
        current = self.stack.currentWidget()
        if current is self.start_view:
            return "start"
        if current is self.busy_screen:
            return "updating"
        return "live" if current is self._live_view else "history"

    def show_history(self) -> None:
        self.statusBar().show()
        self.stack.setCurrentWidget(self.history_view)
        self.history_view.focus_table()

    def show_live(self) -> None:
        # the live screen has its own message line; its height goes to the screen instead
        self.statusBar().hide()
        self.stack.setCurrentWidget(self.live_view)
        self.live_view.setFocus()
