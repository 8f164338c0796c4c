"""No test leaves a Qt timer running (a session clock still ticking), and each leak is blamed on
the test that made it.

A pytest plugin, registered for the whole run by tests/ui/conftest.py. A test that asks for
`qt_timer_check` (every UI test does, through that conftest) is checked twice:

- at its end, while its widgets still exist (pytest-qt calls `check_before_close` before it
  closes them): a timer still running there fails the test;
- once its teardown is over (this plugin's `pytest_runtest_teardown`): a timer started again
  while the widgets closed fails the test's teardown.

The timers are found with gc.get_objects(), so they may belong to any earlier test of the same
process (with pytest-xdist a worker runs tests of every folder, in random order). So the test
that runs just before a checked test is checked too, after its teardown: a timer it left is
reported against it, by its name (an error at its teardown), not against the checked test that
happens to come next, which therefore starts with no timer running.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer

HARNESS_TIMER = "test-harness"  # objectName prefix of the test harness's own timers
CHECK_FIXTURE = "qt_timer_check"


def running_timers() -> list[QTimer]:
    """Python-made QTimers still running, except the harness's own and the application's cycle
    collector's (none before Qt loads)."""
    if "PySide6.QtCore" not in sys.modules:
        return []
    import shiboken6
    from PySide6.QtCore import QTimer

    from kapsession.ui.gui_thread_gc import COLLECTOR_TIMER

    idle_lock = "kapsession-idle-lock"  # ui.access_controller.IDLE_TIMER: the app's own too

    # `type(obj) in kinds`, not isinstance: a third of the time on a heap of half a million
    # objects (isinstance goes through Shiboken's metaclass), and this runs around every UI test
    kinds = _subclasses(QTimer)
    return [
        obj
        for obj in gc.get_objects()
        if type(obj) in kinds
        and shiboken6.isValid(obj)
        and obj.isActive()
        and not obj.objectName().startswith(HARNESS_TIMER)
        and obj.objectName() != COLLECTOR_TIMER  # the application's own, for its lifetime
        and obj.objectName() != idle_lock  # the window's own while someone is signed in
    ]


def _subclasses(kind: type) -> set[type]:
    found = {kind}
    subs: list[type] = type.__subclasses__(kind)
    for sub in subs:
        found |= _subclasses(sub)
    return found


def stop_running_timers() -> list[str]:
    """Stop every running timer (so the next test starts clean); their owners' class names."""
    owners = []
    for timer in running_timers():
        timer.stop()
        owners.append(type(timer.parent()).__name__)
    return owners


def left_running(owners: list[str], by: str = "the test") -> str:
    return f"{by} left {len(owners)} QTimer(s) running, owned by: {', '.join(owners)}"


def _checked(item: pytest.Item | None) -> bool:
    return item is not None and CHECK_FIXTURE in getattr(item, "fixturenames", ())


@pytest.fixture
def qt_timer_check(qtbot: object) -> Iterator[Callable[[object], None]]:
    """Fail the test if it leaves a QTimer running; see the module's docstring."""
    left: list[str] = []

    def check_before_close(_sentinel: object) -> None:
        left.extend(stop_running_timers())

    from PySide6.QtWidgets import QWidget

    # pytest-qt closes the test's widgets in the order they were added: this empty one first,
    # so the check runs while the others (and their timers) still exist.
    sentinel = QWidget()
    qtbot.addWidget(sentinel, before_close_func=check_before_close)  # type: ignore[attr-defined]
    yield check_before_close
    if left:
        pytest.fail(left_running(left))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    """After the whole teardown (pytest-qt's included): a checked test, or the test before one,
    must have left no timer running."""
    yield
    if not (_checked(item) or _checked(nextitem)):
        return
    owners = stop_running_timers()
    if owners:
        why = ""
        if nextitem is not None and not _checked(item):
            why = f" (found before the next test, {nextitem.nodeid})"
        pytest.fail(f"{left_running(owners, by=item.nodeid)} after its teardown{why}")
