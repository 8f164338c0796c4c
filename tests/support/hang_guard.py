"""Reading what may never end (a pipe nobody writes to) without hanging the test run.

Not a timing assertion: HANG_GUARD_S only turns a read stuck for good into a failure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

HANG_GUARD_S = 60.0


def read_guarded(read: Callable[[Path], object], path: Path) -> BaseException | None:
    """What `read(path)` raised (None: it returned). A read still waiting after HANG_GUARD_S
    fails the test; a pipe's reader is first given its end of file (a writer opened and
    closed) so that its thread ends."""
    outcome: list[BaseException | None] = []

    def reading() -> None:
        try:
            read(path)
            outcome.append(None)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    reader = threading.Thread(target=reading, daemon=True)
    reader.start()
    reader.join(HANG_GUARD_S)
    if reader.is_alive():
        if path.is_fifo():
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(HANG_GUARD_S)
        pytest.fail(f"reading {path.name} did not return: it waited on what is there")
    return outcome[0]
