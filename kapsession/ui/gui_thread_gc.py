"""Python's cycle collector, run on the GUI thread only.

Python runs its cyclic garbage collector in whichever thread happens to be allocating when its
counters pass their thresholds: a background task's thread (an export, the daily backup), for
example. A reference cycle that holds a Qt widget's wrapper (a slot that refers to its own
widget, a dialog kept by a closure) is then destroyed on that thread, and the widget with it.
Qt's widget bookkeeping is not thread-safe: the damage shows later, as a crash far from its
cause (the next widget made on the GUI thread).

So, once the QApplication exists, the automatic collector is turned off and a timer on the GUI
thread runs the same collections by the same thresholds (the pattern pyqtgraph's
GarbageCollector uses). Between two ticks, cycles wait; nothing else changes: reference counting
still frees everything not in a cycle at once.

The GUI's start-up holds collection off altogether (`kapsession.__main__` disables it before
anything is imported): a collector made then waits, and `start_collecting` starts it once the
start screen is ready, with what the start-up made moved out of its reach (`gc.freeze`).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

COLLECTOR_TIMER = "kapsession-gc-on-gui-thread"  # the timer's objectName
INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Turns Python's automatic cycle collection off and runs it from a GUI-thread timer."""

    def __init__(self, parent: QObject, *, start: bool) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setObjectName(COLLECTOR_TIMER)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        gc.disable()
        if start:
            self._timer.start()

    def start(self) -> None:
        self._timer.start()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def collect_due(self) -> int:
        """Collect the oldest generation whose count passed its threshold, as Python would
        have; the number of objects found unreachable."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.thresholds[generation]:
                return gc.collect(generation)
        return 0


def collector_of(app: QObject) -> GuiThreadCollector | None:
    found = app.findChild(GuiThreadCollector)
    return found if isinstance(found, GuiThreadCollector) else None


def collect_on_gui_thread(app: QObject) -> GuiThreadCollector:
    """Run cycle collection on `app`'s thread (once per application): from now on, or, while
    the start-up holds collection off, from `start_collecting`."""
    return collector_of(app) or GuiThreadCollector(app, start=gc.isenabled())


def start_collecting(app: QObject) -> None:
    """The start-up is over: what it made is frozen, and collection starts on `app`'s thread."""
    collector = collect_on_gui_thread(app)
    if not collector.running:
        gc.freeze()
        collector.start()


def collecting(app: QObject) -> bool:
    """Whether cycles are being collected (on the GUI thread, or by Python itself)."""
    collector = collector_of(app)
    return collector.running if collector is not None else gc.isenabled()
