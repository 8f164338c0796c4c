"""Background work: the one way the app runs slow work (backup, export, playlist scanning) off
the UI thread.

`run_task(work, on_done=..., on_failed=...)` runs `work()` on a thread of a QThreadPool (the
application's global pool unless one is given) and later calls `on_done(result)`, or
`on_failed(exception)`, on the thread that called `run_task`, from that thread's event loop. The
UI thread therefore never waits for the work, and the callbacks may touch widgets. The work
itself must not: it opens what it needs (a database connection of its own, files) and returns
plain data.

`quiet=True` is for long work nobody waits for (the daily backup): it runs on a pool of its
own, one thread, at the lowest CPU priority (on Linux, nice 19 for that thread only), so that it
takes the time the app and the rest of the laptop leave. Its thread never runs other work, so
the low priority cannot slow an export the nurse waits for.

At exit, `finish_tasks()` waits for work already running (a half-made backup would otherwise be
cut off when the interpreter stops) and drops work not yet started.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

QUIET_NICE = 19  # the lowest priority a thread can have on Linux

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


_quiet_pool: QThreadPool | None = None


def quiet_pool() -> QThreadPool:
    """The pool of quiet work: one thread, at the lowest priority."""
    global _quiet_pool
    if _quiet_pool is None:
        _quiet_pool = QThreadPool()
        _quiet_pool.setObjectName("quiet background work")
        _quiet_pool.setMaxThreadCount(1)
    return _quiet_pool


def _pools(pool: QThreadPool | None) -> list[QThreadPool]:
    if pool is not None:
        return [pool]
    return [QThreadPool.globalInstance(), *([_quiet_pool] if _quiet_pool is not None else [])]


def _lower_this_threads_priority() -> None:
    """Nice 19 for the calling thread alone. Linux schedules each thread on its own, so this
    leaves the UI thread as it was; elsewhere `setpriority` would lower the whole app, so
    quiet work runs at the app's priority there."""
    if sys.platform != "linux":
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), QUIET_NICE)
    except OSError as exc:
        log.debug("cannot lower the priority of quiet background work: %s", exc)


def run_task(
    work: Work,
    *,
    on_done: OnDone | None = None,
    on_failed: OnFailed | None = None,
    quiet: bool = False,
    pool: QThreadPool | None = None,
) -> None:
    """Run `work()` on a pool thread; `on_done(result)` or `on_failed(exc)` follow on this
    thread. Without `on_failed`, a failure is logged with its stack. `quiet`: at the lowest
    priority, on the quiet pool. `pool`: another pool than the app's (tests)."""
    delivery = _Delivery(on_done or (lambda _result: None), on_failed or _log_failure)
    _pending.add(delivery)

    def run() -> None:
        if quiet:
            _lower_this_threads_priority()
        try:
            result = work()
        except Exception as exc:  # every failure goes back to the caller's thread
            delivery.failed.emit(exc)
        else:
            delivery.done.emit(result)

    if pool is None:
        pool = quiet_pool() if quiet else QThreadPool.globalInstance()
    pool.start(run)


def running_tasks(pool: QThreadPool | None = None) -> int:
    """How many tasks are running now (on the app's pools, or on `pool`)."""
    return sum(p.activeThreadCount() for p in _pools(pool))


def finish_tasks(pool: QThreadPool | None = None) -> None:
    """Drop the tasks not yet started and wait for the running ones (at exit)."""
    for each in _pools(pool):
        each.clear()
        if each.activeThreadCount():
            log.info("waiting for %d background task(s) to finish", each.activeThreadCount())
        each.waitForDone()
