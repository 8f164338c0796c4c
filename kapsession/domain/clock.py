"""Wall time for the record, monotonic time for elapsed and due times.

Elapsed time is never accumulated from ticks: it is recomputed from stored wall-clock anchors
and a monotonic reference, so a wall-clock jump, a suspend/resume or a restart gives the right
answer (see `timeline.ClockReference`).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current wall time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps and keeps counting while suspended."""
        ...


def _suspend_aware_monotonic() -> float:
    # CLOCK_BOOTTIME counts the time the laptop spent suspended (lid closed);
    # plain CLOCK_MONOTONIC on Linux stops while suspended.
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class SystemClock:
    """The real clock. On Linux the monotonic source includes suspended time."""

    def __init__(self) -> None:
        self._mono = (
            _suspend_aware_monotonic
            if sys.platform.startswith("linux") and hasattr(time, "CLOCK_BOOTTIME")
            else time.monotonic
        )

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return self._mono()


class FakeClock:
    """A clock for tests: time moves only when told to, in any amount, instantly."""

    def __init__(self, start: datetime | None = None, monotonic_s: float = 1000.0) -> None:
        self._wall = start or datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
        if self._wall.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._mono = monotonic_s

    def now(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Both clocks move together, as in normal running (and a suspend on Linux)."""
        self._wall += timedelta(seconds=seconds)
        self._mono += seconds

    def jump_wall(self, seconds: float) -> None:
        """The wall clock is set forward or back (NTP, a user, a time zone bug); monotonic stays."""
        self._wall += timedelta(seconds=seconds)


class ScaledClock:
    """Training mode: time runs `speed` times faster from the moment the clock is made.

    Only ever used with the training database, so the record is never written in fast time.
    """

    def __init__(self, base: Clock, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._base = base
        self._wall0 = base.now()
        self._mono0 = base.monotonic()

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=(self._base.monotonic() - self._mono0) * self.speed)

    def monotonic(self) -> float:
        return self._mono0 + (self._base.monotonic() - self._mono0) * self.speed

    def resume_from(self, wall: datetime) -> None:
        """Training resumed: the wall time goes on from `wall` when that is later than the
        clock's own (fast time the training record already reached), never back; the
        monotonic reading is untouched."""
        ahead = wall - self.now()
        if ahead > timedelta(0):
            self._wall0 += ahead
