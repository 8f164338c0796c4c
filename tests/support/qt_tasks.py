"""No background task outlives its test (napari's pattern for QThreadPool).

`no_task_left_running` (use it as an autouse fixture in a test module) fails the test if a task
on run_task's pools (the application's and the quiet one) is still running once the test is
over: a backup or an export left behind would go on writing into the next test. A task that has
just reported gets a moment to return from its thread first (`GRACE_MS`, a tolerance, not a
timing assertion); the pools are then emptied so the next test starts clean.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool

from kapsession.services.background import finish_tasks, quiet_pool, running_tasks

GRACE_MS = 1000


@pytest.fixture
def no_task_left_running(qapp: object) -> Iterator[None]:
    yield
    for pool in (QThreadPool.globalInstance(), quiet_pool()):
        pool.clear()
        pool.waitForDone(GRACE_MS)
    left = running_tasks()
    finish_tasks()
    if left:
        pytest.fail(f"the test left {left} background task(s) running")
