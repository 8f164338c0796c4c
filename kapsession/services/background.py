"""Background work: the one way the app runs slow work (backup, export, playlist scanning) off
the UI thread.

`run_task(work, on_done=..., on_failed=...)` runs `work()` on a thread of a QThreadPool (the
application's global pool unless one is given) and later calls `on_done(result)`, or
`on_failed(exception)`, on the thread that called `run_task`, from that thread's event loop. The
UI thread therefore never waits for the work, and the callbacks may touch widgets. The work
itself must not: it opens what it needs (a database connection of its own, files) and returns
plain data.

At exit, `finish_tasks()` waits for work already running (a half-made backup would otherwise be
cut off when the interpreter stops) and drops work not yet started.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Work = Callable[[], Any]
OnDone = Callable[[Any], None]
OnFailed = Callable[[Exception], None]


class _Delivery(QObject):
    """Carries one task's outcome back to the thread that started it.

    It lives on that thread; its signals are emitted on the pool's thread, so Qt queues the
    connected slots to the starting thread's event loop."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, on_done: OnDone, on_failed: OnFailed) -> None:
        super().__init__()
        self._on_done = on_done
        self._on_failed = on_failed
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_failed)

    @Slot(object)
    def _deliver_done(self, result: object) -> None:
        _pending.discard(self)
        self._on_done(result)

    @Slot(object)
    def _deliver_failed(self, exc: object) -> None:
        _pending.discard(self)
        assert isinstance(exc, Exception)
        self._on_failed(exc)


# Deliveries whose task has not reported yet: kept alive here until their outcome arrives.
_pending: set[_Delivery] = set()


def _log_failure(exc: Exception) -> None:
    log.error("background task failed", exc_info=exc)


def run_task(
    work: Work,
    *,
    on_done: OnDone | None = None,
    on_failed: OnFailed | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run `work()` on a pool thread; `on_done(result)` or `on_failed(exc)` follow on this
    thread. Without `on_failed`, a failure is logged with its stack."""
    delivery = _Delivery(on_done or (lambda _result: None), on_failed or _log_failure)
    _pending.add(delivery)

    def run() -> None:
        try:
            result = work()
        except Exception as exc:  # every failure goes back to the caller's thread
            delivery.failed.emit(exc)
        else:
            delivery.done.emit(result)

    (pool or QThreadPool.globalInstance()).start(run)


def running_tasks(pool: QThreadPool | None = None) -> int:
    """How many tasks are running on the pool now."""
    return (pool or QThreadPool.globalInstance()).activeThreadCount()


def finish_tasks(pool: QThreadPool | None = None) -> None:
    """Drop the tasks not yet started and wait for the running ones (at exit)."""
    pool = pool or QThreadPool.globalInstance()
    pool.clear()
    if pool.activeThreadCount():
        log.info("waiting for %d background task(s) to finish", pool.activeThreadCount())
    pool.waitForDone()
