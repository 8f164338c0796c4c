"""The real clock: wall time in UTC, and on Linux a monotonic reading from CLOCK_BOOTTIME.

CLOCK_BOOTTIME keeps counting while the laptop is suspended (lid closed), CLOCK_MONOTONIC does
not. On a machine that was never suspended the two read the same, so the clock asked for is
recorded by wrapping `time.clock_gettime`; a child process under libfaketime shows the reading
is untouched by a wall-clock jump (tests/e2e/test_wall_clock_jump.py).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from kapsession.domain.clock import SystemClock

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="CLOCK_BOOTTIME is Linux's"
)


@linux_only
def test_the_monotonic_reading_comes_from_clock_boottime(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given time.clock_gettime answering a different value for each clock, recording which
    # clocks are asked for
    answers = {
        time.CLOCK_BOOTTIME: 5000.25,
        time.CLOCK_MONOTONIC: 4000.5,
        time.CLOCK_REALTIME: 1_800_000_000.75,
    }
    asked: list[int] = []

    def clock_gettime(clock_id: int) -> float:
        asked.append(clock_id)
        return answers[clock_id]

    monkeypatch.setattr(time, "clock_gettime", clock_gettime)
    clock = SystemClock()
    # When the clock is read
    reading = clock.monotonic()
    # Then it asked for CLOCK_BOOTTIME, only, and gave its answer
    assert asked == [time.CLOCK_BOOTTIME]
    assert reading == answers[time.CLOCK_BOOTTIME]


@linux_only
def test_the_monotonic_reading_lies_between_two_readings_of_the_boot_clock() -> None:
    # Given the real clock
    clock = SystemClock()
    # When it is read between two readings of CLOCK_BOOTTIME
    before = time.clock_gettime(time.CLOCK_BOOTTIME)
    reading = clock.monotonic()
    after = time.clock_gettime(time.CLOCK_BOOTTIME)
    # Then it lies between them (the wall clock, seconds since 1970, would not)
    assert before <= reading <= after


def test_wall_time_is_utc_and_lies_between_two_readings_of_the_system_time() -> None:
    # Given the real clock
    clock = SystemClock()
    # When its wall time is read between two readings of the system time
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    # Then it is timezone-aware UTC and lies between them
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= after
