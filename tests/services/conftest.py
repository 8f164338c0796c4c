"""Services test fixtures: a real data folder in tmp_path, a fake clock, and a room to run in.

Every test opens the app's data the way the app does (`open_context` on `resolve_paths`), so
the database is a real, migrated SQLite file with a daily backup beside it: a copy of one
migrated once per process (tests/support/migrated.py), which the test's open finds up to date.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from services_support import START, Room
from support.migrated import seed_database
from support.multi_participant import (  # noqa: F401  (fixtures for the tests here)
    live_multi_participant,
    multi_participant,
    multi_participant_copy,
)

from kapsession.domain.clock import FakeClock
from kapsession.paths import Paths, resolve_paths
from kapsession.services.context import AppContext, open_context

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def data_paths(tmp_path: Path) -> Paths:
    """The app's folders under tmp_path; the environment cannot redirect them."""
    return resolve_paths(data_dir=tmp_path / "data", environ={})


@pytest.fixture
def context(data_paths: Paths, clock: FakeClock) -> Iterator[AppContext]:
    seed_database(data_paths)
    ctx = open_context(data_paths, clock=clock)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def room(qapp: object, context: AppContext, clock: FakeClock) -> Room:
    """A room with a therapist and a nurse; `qapp` because a LiveSession is a QObject."""
    therapist = context.service.add_staff(
        "Dr. Ruth Adeyemi", "therapist", at=clock.now(), credentials="PsyD"
    )
    nurse = context.service.add_staff("Tom Becker", "nurse", at=clock.now(), credentials="RN")
    return Room(context=context, clock=clock, therapist=therapist, nurse=nurse)
