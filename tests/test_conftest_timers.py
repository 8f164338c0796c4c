"""tests/support/qt_timers.py: a Qt timer left running fails the test that left it, by name.

Each case runs the real plugin in a fresh pytest process (pytester) over a small suite, in file
order, so which test runs before which is known.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

CONFTEST = """
import os
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from support import qt_timers


def pytest_configure(config):
    config.pluginmanager.register(qt_timers, qt_timers.__name__)
"""

SUITE = """
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

kept = []


class SessionClock(QObject):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.tick = QTimer(self)
        self.tick.start(1000)


class Window(QWidget):
    def __init__(self):
        super().__init__()
        kept.append(self)  # alive until pytest-qt closes it, as the app's windows are


def test_a_services_test_leaves_a_clock_ticking(qapp):
    kept.append(SessionClock())


def test_b_ui_test_that_stops_its_own_clock(qt_timer_check, qtbot):
    clock = SessionClock()
    clock.tick.stop()


def test_c_ui_test_that_leaves_its_window_clock_ticking(qt_timer_check, qtbot):
    window = Window()
    qtbot.addWidget(window)
    window.clock = SessionClock(window)


def test_d_ui_test_whose_clock_starts_again_as_its_window_closes(qt_timer_check, qtbot):
    window = Window()
    qtbot.addWidget(window, before_close_func=lambda w: kept.append(SessionClock()))


def test_e_ui_test_that_leaves_nothing(qt_timer_check, qtbot):
    qtbot.addWidget(Window())
"""


@pytest.fixture
def timer_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(TESTS))  # `support.qt_timers`
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_timers=SUITE)
    return pytester


def test_each_timer_left_running_fails_the_test_that_left_it(
    timer_suite: pytest.Pytester,
) -> None:
    # Given a test without the check that leaves a clock ticking, followed by checked tests
    # When the suite runs in file order
    result = timer_suite.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    # Then the unchecked test that left its clock running is blamed, by name, at its teardown,
    # not the checked test after it; a checked test that leaves its window's clock ticking
    # fails at its end; one whose clock starts again as its window closes fails after its
    # teardown; every test body passed
    result.assert_outcomes(passed=5, errors=3)
    result.stdout.fnmatch_lines_random(
        [
            "*ERROR at teardown of test_a_services_test_leaves_a_clock_ticking*",
            "*Failed: test_timers.py::test_a_services_test_leaves_a_clock_ticking left 1 "
            "QTimer(s) running, owned by: SessionClock after its teardown (found before the "
            "next test, test_timers.py::test_b_ui_test_that_stops_its_own_clock)",
            "*ERROR at teardown of test_c_ui_test_that_leaves_its_window_clock_ticking*",
            "*Failed: the test left 1 QTimer(s) running, owned by: SessionClock",
            "*ERROR at teardown of test_d_ui_test_whose_clock_starts_again_as_its_window_closes*",
            "*Failed: test_timers.py::test_d_ui_test_whose_clock_starts_again_as_its_window_"
            "closes left 1 QTimer(s) running, owned by: SessionClock after its teardown",
        ]
    )
    assert "ERROR at teardown of test_b" not in result.stdout.str()
    assert "ERROR at teardown of test_e" not in result.stdout.str()
