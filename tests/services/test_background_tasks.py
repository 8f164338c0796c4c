"""run_task, the one helper for background work: the work on a pool thread, its outcome back on
the caller's thread; finish_tasks at exit. Real QThreadPool threads throughout."""

from __future__ import annotations

import logging
import os
import sys
import threading

import pytest
from PySide6.QtCore import QThread, QThreadPool
from pytestqt.qtbot import QtBot
from support.qt_tasks import no_task_left_running

from kapsession.services.background import QUIET_NICE, finish_tasks, run_task, running_tasks

WAIT_MS = 10_000  # a guard against a hang, never a timing assertion

_ = no_task_left_running
pytestmark = pytest.mark.usefixtures("no_task_left_running")


def test_the_work_runs_on_a_pool_thread_and_its_result_arrives_on_the_callers_thread(
    qtbot: QtBot,
) -> None:
    # Given work that says where it ran
    caller = QThread.currentThread()
    ran_on: list[QThread] = []
    arrived: list[tuple[object, QThread]] = []

    def work() -> str:
        ran_on.append(QThread.currentThread())
        return "copied"

    # When it is run as a task
    run_task(work, on_done=lambda result: arrived.append((result, QThread.currentThread())))
    # Then it ran on another thread, and its result arrived on the caller's thread
    qtbot.waitUntil(lambda: bool(arrived), timeout=WAIT_MS)
    assert ran_on != [caller] and len(ran_on) == 1
    assert arrived == [("copied", caller)]


def test_a_failure_arrives_on_the_callers_thread_or_is_logged_with_its_stack(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    caller = QThread.currentThread()
    failures: list[tuple[Exception, QThread]] = []

    def work() -> None:
        raise OSError(28, "No space left on device")

    # When the work fails, Then the caller's on_failed gets the exception, on its thread
    run_task(work, on_failed=lambda exc: failures.append((exc, QThread.currentThread())))
    qtbot.waitUntil(lambda: bool(failures), timeout=WAIT_MS)
    ((exc, thread),) = failures
    assert isinstance(exc, OSError) and exc.errno == 28
    assert thread is caller
    # When the caller gave no on_failed, Then the failure is logged with its stack
    with caplog.at_level(logging.ERROR, logger="kapsession.services.background"):
        run_task(work)
        qtbot.waitUntil(lambda: bool(caplog.records), timeout=WAIT_MS)
    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[0] is OSError


class Traced:
    """A callable, or a result, that notes the thread on which it is freed."""

    def __init__(self, name: str, freed_on: dict[str, str]) -> None:
        self.name = name
        self._freed_on = freed_on

    def __call__(self, *_args: object) -> Traced:
        return Traced(f"result of {self.name}", self._freed_on)

    def __del__(self) -> None:
        self._freed_on[self.name] = threading.current_thread().name


def test_nothing_the_caller_made_is_freed_on_the_pool_thread(qtbot: QtBot) -> None:
    """A callback may hold the last reference to a widget: freed on a pool thread, the widget
    would be destroyed there, which Qt does not allow."""
    # Given work, its callback and its result that note where they are freed, and that only
    # the task refers to
    freed_on: dict[str, str] = {}
    arrived: list[str] = []

    def done(result: Traced) -> None:
        arrived.append(result.name)

    run_task(Traced("work", freed_on), on_done=Traced("on_done", freed_on))
    run_task(Traced("other work", freed_on), on_done=done)

    def failing_work() -> None:
        held = Traced("held by the failing work", freed_on)  # kept by the exception's frames
        raise OSError(28, f"No space left on device ({held.name})")

    run_task(failing_work, on_failed=lambda exc: arrived.append(type(exc).__name__))
    del failing_work
    # When the tasks have run and their outcomes arrived
    qtbot.waitUntil(lambda: len(arrived) == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(freed_on) == 7, timeout=WAIT_MS)
    # Then each was freed on the caller's thread
    caller = threading.current_thread().name
    assert freed_on == {
        "work": caller,
        "on_done": caller,
        "result of on_done": caller,  # what the callback returned, dropped by the task
        "result of work": caller,
        "other work": caller,
        "result of other work": caller,
        "held by the failing work": caller,
    }


def test_at_exit_running_work_is_finished_and_work_not_yet_started_is_dropped() -> None:
    # Given a pool of one thread: a task running (held until released from another thread,
    # a little later) and a task waiting behind it
    pool = QThreadPool()
    pool.setMaxThreadCount(1)
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def first() -> None:
        started.set()
        assert release.wait(WAIT_MS / 1000)
        done.append("first")

    run_task(first, pool=pool)
    run_task(lambda: done.append("second"), pool=pool)
    assert started.wait(WAIT_MS / 1000)
    assert running_tasks(pool) == 1
    releaser = threading.Timer(0.3, release.set)
    releaser.start()
    # When the app finishes its tasks at exit
    finish_tasks(pool)
    # Then the running one was waited for, and the waiting one never ran
    assert done == ["first"]
    assert running_tasks(pool) == 0
    releaser.join()


def thread_priority() -> tuple[int, int]:
    """The calling thread's id and its nice value (Linux schedules threads one by one)."""
    native = threading.get_native_id()
    return native, os.getpriority(os.PRIO_PROCESS, native)


@pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are Linux's here")
def test_quiet_work_runs_at_the_lowest_priority_and_leaves_the_rest_as_it_was(
    qtbot: QtBot,
) -> None:
    # Given the UI thread at the app's priority
    ui_thread, app_nice = thread_priority()
    assert app_nice < QUIET_NICE
    seen: dict[str, tuple[int, int]] = {}
    # When quiet work runs, and then ordinary work
    run_task(thread_priority, quiet=True, on_done=lambda got: seen.setdefault("quiet", got))
    qtbot.waitUntil(lambda: "quiet" in seen, timeout=WAIT_MS)
    run_task(thread_priority, on_done=lambda got: seen.setdefault("ordinary", got))
    qtbot.waitUntil(lambda: "ordinary" in seen, timeout=WAIT_MS)
    # Then the quiet work ran at the lowest priority on a thread of its own
    quiet_thread, quiet_nice = seen["quiet"]
    assert quiet_nice == QUIET_NICE and quiet_thread != ui_thread
    # ... while ordinary work and the UI thread kept the app's priority
    ordinary_thread, ordinary_nice = seen["ordinary"]
    assert ordinary_nice == app_nice and ordinary_thread not in (ui_thread, quiet_thread)
    assert thread_priority() == (ui_thread, app_nice)
