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

import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

QUIET_NICE = 19  # the lowest priority a thread can have on Linux

Work = Callable[[], Any]
OnDone = Callable[[Any], None]
OnFailed = Callable[[Exception], None]


@dataclass
class _Task:
    """What the starting thread keeps of one task until its outcome arrives."""

    work: Work
    on_done: OnDone
    on_failed: OnFailed


class _Dispatcher(QObject):
    """Brings tasks' outcomes back to the thread that started them.

    One per starting thread, living there; `finished` is emitted on a pool thread, so Qt queues
    the call of `_finish` to the starting thread's event loop. That thread keeps each task's
    work and callbacks (`tasks`) and is handed the outcome alone in a box: the pool thread never
    holds the last reference to anything, so nothing the caller made (a widget a callback
    refers to, an exception's frames) is ever freed on a pool thread, where Qt objects must not
    be destroyed."""

    finished = Signal(object, object)  # task number, [(succeeded, result or exception)]

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[int, _Task] = {}
        self.finished.connect(self._finish)

    @Slot(object, object)
    def _finish(self, number: int, box: list[tuple[bool, Any]]) -> None:
        task = self.tasks.pop(number)
        succeeded, outcome = box.pop()
        if succeeded:
            task.on_done(outcome)
        else:
            task.on_failed(outcome)


_dispatchers: dict[int, _Dispatcher] = {}  # by the starting thread's identity
_numbers = itertools.count()


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
    dispatcher = _dispatchers.get(threading.get_ident())
    if dispatcher is None:
        dispatcher = _dispatchers[threading.get_ident()] = _Dispatcher()
    number = next(_numbers)
    dispatcher.tasks[number] = _Task(
        work, on_done or (lambda _result: None), on_failed or _log_failure
    )
    handed = [work]  # the pool thread's only reference to it, given up before the outcome goes

    def run() -> None:
        if quiet:
            _lower_this_threads_priority()
        task_work = handed.pop()
        outcome: tuple[bool, Any]
        try:
            outcome = (True, task_work())
        except Exception as exc:  # every failure goes back to the caller's thread
            outcome = (False, exc)
        del task_work
        box = [outcome]
        del outcome
        dispatcher.finished.emit(number, box)

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
