"""UI test fixtures: offscreen Qt, the app over a real data folder, a modal-dialog guard, and a
check that no test leaves a timer running."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the QApplication is made

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from support.multi_participant import (  # noqa: F401  (fixtures for the tests here)
    live_multi_participant,
    multi_participant,
)
from ui_harness import (
    START,
    MakeApp,
    ModalGuard,
    RunningApp,
    data_dir_context,
    running_timers,
)

from kapsession.domain.clock import FakeClock
from kapsession.services.context import AppContext
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme


@pytest.fixture(autouse=True)
def no_timer_left_running(qtbot: QtBot) -> Iterator[None]:
    """Fail the test if it leaves a QTimer running (a session clock still ticking).

    pytest-qt closes and deletes the test's widgets (and with them their timers) before
    fixtures are torn down, so the check runs just before that: pytest-qt calls it first
    because this empty widget is registered before any other.
    """
    left: list[str] = []

    def check(_sentinel: QWidget) -> None:
        for timer in running_timers():
            timer.stop()
            left.append(type(timer.parent()).__name__)

    sentinel = QWidget()
    qtbot.addWidget(sentinel, before_close_func=check)
    yield
    if left:
        pytest.fail(f"the test left {len(left)} QTimer(s) running, owned by: {', '.join(left)}")


@pytest.fixture(autouse=True)
def modal_guard(qtbot: QtBot, no_timer_left_running: None) -> Iterator[ModalGuard]:
    """Answers the dialogs a test expects; any other dialog is closed and fails the test."""
    guard = ModalGuard()
    yield guard
    guard.stop()
    assert not guard.unexpected, f"unexpected dialogs: {guard.unexpected}"


@pytest.fixture
def make_app(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, modal_guard: ModalGuard
) -> Iterator[MakeApp]:
    """`make_app(training=, data_dir=, clock=)`: the window shown and taking keys."""
    contexts: list[AppContext] = []

    def make(
        *,
        training: bool = False,
        data_dir: Path | None = None,
        clock: FakeClock | None = None,
    ) -> RunningApp:
        apply_room_theme(qapp)
        clock = clock or FakeClock(START)
        context = data_dir_context(data_dir or tmp_path / "data", clock, training=training)
        contexts.append(context)
        window = MainWindow(training=training)
        qtbot.addWidget(window)
        controller = AppController(window, context, training=training)
        window.show()
        qtbot.waitExposed(window)
        controller.after_start()  # as the app does once its window is up
        app = RunningApp(qtbot, context, clock, window, controller, modal_guard)
        app.ready()
        return app

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def app(make_app: MakeApp) -> RunningApp:
    """The app as the nurse uses it, on an empty database."""
    return make_app()
