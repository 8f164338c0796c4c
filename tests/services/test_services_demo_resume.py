"""`kapsession demo --speed N` started again: the training clock goes on from the time the training
record reached, so a session resumed keeps its elapsed time instead of running back to the real
time (at 60x an hour of training passes in a real minute).

A real training data folder; the real clock stands in as a FakeClock under the ScaledClock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from support.training_clock import REAL, fast_hour_of_training

from kapsession.domain.clock import FakeClock, ScaledClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.services.demo import resume_training_clock
from kapsession.services.live_session import LiveSession


def test_a_restarted_training_clock_goes_on_from_the_records_latest_time(tmp_path: Path) -> None:
    # Given a training session an hour in on the 60x clock, and the app quit
    paths = resolve_paths(data_dir=tmp_path / "data", training=True, environ={})
    session_id, marked_at = fast_hour_of_training(paths)
    assert marked_at == REAL + timedelta(hours=1)

    # When demo --speed 60 starts again half a real minute later and its clock is resumed
    base = FakeClock(REAL + timedelta(seconds=90))
    fast = ScaledClock(base, 60.0)
    context = open_context(paths, clock=fast)
    try:
        assert fast.now() < marked_at  # the real time is before what the record holds
        resumed = resume_training_clock(context.database, fast)

        # Then the clock goes on from the record's latest time, not from the real time
        assert resumed is not None and resumed >= marked_at
        assert fast.now() == resumed
        # And the session opened then is an hour in, and runs on at 60x
        live = LiveSession(context.service, session_id, fast)
        assert live.state().elapsed_s >= 3600
        base.advance(1)
        live.tick()
        assert live.state().elapsed_s >= 3660
        live.stop()
    finally:
        context.close()


def test_at_real_speed_or_on_an_empty_record_the_clock_is_left_alone(tmp_path: Path) -> None:
    # Given an empty training record
    paths = resolve_paths(data_dir=tmp_path / "data", training=True, environ={})
    fast = ScaledClock(FakeClock(REAL), 60.0)
    real = FakeClock(REAL)
    context = open_context(paths, clock=fast)
    try:
        # When the clock is resumed, Then nothing moves
        assert resume_training_clock(context.database, fast) is None
        assert fast.now() == REAL
        # And a clock at real speed is never resumed
        assert resume_training_clock(context.database, real) is None
        assert real.now() == REAL
    finally:
        context.close()
