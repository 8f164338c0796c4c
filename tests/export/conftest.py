"""Export test fixtures: the demo sessions written once into a training database.

`demo_db` populates a data folder once per test run (about 3 s) and keeps a context open on a
copy of it for reading; a test that writes (a correction, a note) takes `demo_copy`, its own
copy of the pristine folder. Times come from a fake clock at `NOW`, 60 days after the
services tests' `START`, so the demo's past sessions lie in November and December 2026 and
January 2027.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.migrated import seed_database
from support.multi_participant import (  # noqa: F401  (fixtures for the tests here)
    multi_participant,
    multi_participant_copy,
)

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import AppContext, open_context
from kapsession.services.demo import DemoSession, populate

NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC) + timedelta(days=60)


def open_training(folder: Path) -> AppContext:
    """The app's context on a training data folder, with the clock stopped at NOW."""
    paths = resolve_paths(data_dir=folder, training=True, environ={})
    seed_database(paths)  # a new folder: a copy of a database migrated once per process
    return open_context(paths, clock=FakeClock(NOW))


@dataclass(frozen=True)
class DemoData:
    """The populated demo: `folder` stays untouched (copy it to write), `context` reads a copy."""

    folder: Path
    sessions: tuple[DemoSession, ...]
    context: AppContext

    @property
    def unsigned(self) -> DemoSession:
        """The most recent session, left unsigned by the demo (intranasal esketamine)."""
        return self.sessions[-1]

    @property
    def first(self) -> DemoSession:
        """The first session: signed, with a signed addendum."""
        return self.sessions[0]

    @property
    def couples(self) -> DemoSession:
        return next(s for s in self.sessions if s.modality == "couples")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoData]:
    pristine = tmp_path_factory.mktemp("demo") / "data"
    writer = open_training(pristine)
    try:
        made = populate(writer.service, NOW)
    finally:
        writer.close()
    reading = tmp_path_factory.mktemp("demo-read") / "data"
    shutil.copytree(pristine, reading)
    context = open_training(reading)
    try:
        yield DemoData(pristine, tuple(made), context)
    finally:
        context.close()


@pytest.fixture
def demo_copy(demo_db: DemoData, tmp_path: Path) -> Iterator[AppContext]:
    """A context on this test's own copy of the demo data, free to write to."""
    copy = tmp_path / "data"
    shutil.copytree(demo_db.folder, copy)
    context = open_training(copy)
    try:
        yield context
    finally:
        context.close()
