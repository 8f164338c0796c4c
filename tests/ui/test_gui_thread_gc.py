"""Python's cycle collector runs on the GUI thread only (kapsession/ui/gui_thread_gc.py): a
reference cycle that holds a Qt object is never destroyed on a background thread."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kapsession.ui.app import application
from kapsession.ui.gui_thread_gc import GuiThreadCollector


class Holder(QObject):
    """A Qt object that refers to itself: only the cycle collector can free it."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self


def make_garbage_cycles(count: int) -> None:
    for _ in range(count):
        cycle: list[object] = []
        cycle.append(cycle)


def test_a_cycle_holding_a_qt_object_is_collected_on_the_gui_thread_not_a_background_one(
    qapp: QApplication, qtbot: QtBot
) -> None:
    # Given the application (as the app makes it) and a Qt object left in a cycle
    assert application() is qapp
    assert isinstance(qapp.findChild(GuiThreadCollector), GuiThreadCollector)
    collected_on: list[str] = []
    holder = Holder()
    watch = weakref.ref(holder, lambda _ref: collected_on.append(threading.current_thread().name))
    del holder

    # When a background thread allocates enough to pass the collector's threshold
    worker = threading.Thread(target=make_garbage_cycles, args=(20 * gc.get_threshold()[0],))
    worker.start()
    worker.join()

    # Then the cycle is freed, by the GUI thread's timer, not by that thread
    qtbot.waitUntil(lambda: bool(collected_on), timeout=5000)
    assert watch() is None
    assert collected_on == [threading.main_thread().name]
