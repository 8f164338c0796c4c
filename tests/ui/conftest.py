"""UI test fixtures: offscreen Qt, the app over a real data folder, a modal-dialog guard, and a
check that no test leaves a timer running (tests/support/qt_timers.py)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when the QApplication is made
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    # the room laptop's screen (1366x768), which the window fills as it opens; offscreen's
    # own is 800x800
    laptop = Path(__file__).with_name("laptop-screen.json")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={laptop}"

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import qt_timers
from support.multi_participant import (  # noqa: F401  (fixtures for the tests here)
    live_multi_participant,
    multi_participant,
)
from support.signing_in import sign_in
from ui_harness import (
    START,
    MakeApp,
    ModalGuard,
    RunningApp,
    data_dir_context,
    room_theme,
)

from kapsession.domain.clock import FakeClock
from kapsession.services.context import AppContext
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow


def pytest_configure(config: pytest.Config) -> None:
    """The timer check as a plugin of the whole run, not of this folder alone: the test before
    a UI test may come from any folder, and is checked after its teardown."""
    if not config.pluginmanager.has_plugin(qt_timers.__name__):
        config.pluginmanager.register(qt_timers, qt_timers.__name__)


@pytest.fixture(autouse=True)
def no_timer_left_running(qt_timer_check: object) -> None:
    """Fail the test if it leaves a QTimer running (a session clock still ticking): checked
    before pytest-qt closes the test's widgets and again after the teardown; a timer an earlier
    test left is blamed on that test (tests/support/qt_timers.py)."""


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
        room_theme(qapp)
        clock = clock or FakeClock(START)
        context = data_dir_context(data_dir or tmp_path / "data", clock, training=training)
        contexts.append(context)
        window = MainWindow(training=training)
        qtbot.addWidget(window)
        controller = AppController(window, context, training=training)
        if not training:
            sign_in(controller)  # issue 18: through the real service
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
