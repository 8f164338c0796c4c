"""The training clock (`ScaledClock`, `kapsession demo --speed N`): fast time over a base clock,
and resumed from where the training record had reached, never back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kapsession.domain.clock import FakeClock, ScaledClock

REAL = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_resuming_moves_the_training_clock_on_to_a_later_time_and_runs_fast_from_there() -> None:
    # Given a training clock at 60x started at the real time
    base = FakeClock(REAL)
    fast = ScaledClock(base, 60.0)
    mono = fast.monotonic()
    # When it resumes from an hour later (what the training record reached before a restart)
    fast.resume_from(REAL + timedelta(hours=1))
    # Then its wall time is there, and a real second later a fast minute further
    assert fast.now() == REAL + timedelta(hours=1)
    base.advance(1)
    assert fast.now() == REAL + timedelta(hours=1, minutes=1)
    # And its monotonic reading is untouched by the resume
    assert fast.monotonic() == mono + 60


def test_resuming_from_an_earlier_time_leaves_the_clock_as_it_is() -> None:
    # Given a training clock 10 fast minutes on
    base = FakeClock(REAL)
    fast = ScaledClock(base, 60.0)
    base.advance(10)
    # When it is asked to resume from before that, Then it does not run back
    fast.resume_from(REAL + timedelta(minutes=3))
    assert fast.now() == REAL + timedelta(minutes=10)
