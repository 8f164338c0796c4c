"""Backups of the SQLite file: daily when none is recent, consistent with the WAL, pruned."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kapsession.storage.backups import (
    BACKUPS_KEPT,
    backup_sqlite,
    ensure_recent_backup,
    list_backups,
)
from kapsession.storage.database import Database, head_revision, open_database

if TYPE_CHECKING:
    from conftest import Clinic

DAY = timedelta(hours=24)


@pytest.fixture
def sqlite_db(sqlite_path: Path, backup_dir: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        yield db
    finally:
        db.close()


def _clients_in(backup: Path) -> list[tuple[str, str]]:
    connection = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version == (head_revision(),)
        return connection.execute("SELECT given_name, family_name FROM client").fetchall()
    finally:
        connection.close()


# Fake "now"s far from the real clock on either side: the decision must follow the clock given.
NOWS = [
    pytest.param(datetime(2019, 5, 1, 8, 0, tzinfo=UTC), id="past"),
    pytest.param(datetime(2031, 3, 1, 8, 0, tzinfo=UTC), id="future"),
]


@pytest.mark.parametrize("now", NOWS)
def test_a_backup_is_made_when_there_is_none(
    sqlite_db: Database, backup_dir: Path, clinic_on: Callable[[Database], Clinic], now: datetime
) -> None:
    # Given a database with a client and no backups yet
    clinic_on(sqlite_db).add_client("Maya", "Fischer")
    # When a recent backup is ensured, Then one is written, holding the data
    made = ensure_recent_backup(sqlite_db, backup_dir, max_age=DAY, now=now)
    assert made is not None
    assert list_backups(backup_dir, "kapsession") == [made]
    assert made.name == f"kapsession-{now:%Y%m%dT%H%M%S}Z-daily.sqlite3"
    assert _clients_in(made) == [("Maya", "Fischer")]


@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize(
    ("later", "expect_new"),
    [(timedelta(hours=1), False), (timedelta(hours=23, minutes=59), False), (DAY, True)],
    ids=["1h", "23h59", "24h"],
)
def test_a_backup_is_made_only_when_the_newest_is_too_old(
    sqlite_db: Database,
    backup_dir: Path,
    now: datetime,
    later: timedelta,
    expect_new: bool,
) -> None:
    # Given a backup made at `now`
    first = ensure_recent_backup(sqlite_db, backup_dir, max_age=DAY, now=now)
    assert first is not None

    # When a recent backup is ensured `later`
    second = ensure_recent_backup(sqlite_db, backup_dir, max_age=DAY, now=now + later)

    # Then a new one is made only once the newest is a day old
    assert (second is not None) == expect_new
    assert len(list_backups(backup_dir, "kapsession")) == (2 if expect_new else 1)


def test_ensure_recent_backup_does_nothing_for_postgresql(
    database: Database, backup_dir: Path
) -> None:
    # Given any database; When a backup is ensured
    made = ensure_recent_backup(database, backup_dir, max_age=DAY)
    # Then SQLite gets a file, PostgreSQL (backed up by its server) gets none
    if database.dialect == "postgresql":
        assert made is None
        assert not backup_dir.exists()
    else:
        assert made is not None
        assert made.exists()


def test_a_backup_holds_entries_still_in_the_write_ahead_log(
    sqlite_db: Database,
    sqlite_path: Path,
    backup_dir: Path,
    clinic_on: Callable[[Database], Clinic],
) -> None:
    # Given a client whose row is so far only in the WAL file (the database holds a connection)
    clinic = clinic_on(sqlite_db)
    clinic.add_client("Maya", "Fischer")
    wal = sqlite_path.with_name(sqlite_path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0

    # When the live database is backed up
    backup = backup_sqlite(sqlite_path, backup_dir, "manual", now=clinic.now())

    # Then the backup is one complete file on its own (no WAL beside it), with the client
    assert sorted(p.name for p in backup_dir.iterdir()) == [backup.name]
    assert _clients_in(backup) == [("Maya", "Fischer")]


def test_pruning_keeps_the_newest_backups_and_leaves_other_databases_alone(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path
) -> None:
    # Given another database's backup in the same folder
    backup_dir.mkdir()
    stranger = backup_dir / "archive-20200101T000000Z-daily.sqlite3"
    stranger.write_bytes(b"")
    start = datetime(2026, 1, 1, tzinfo=UTC)

    # When more backups than are kept are made, one a day
    made = [
        backup_sqlite(sqlite_path, backup_dir, "daily", now=start + i * DAY)
        for i in range(BACKUPS_KEPT + 3)
    ]

    # Then only the newest BACKUPS_KEPT remain, and the other database's backup is untouched
    assert list_backups(backup_dir, "kapsession") == made[-BACKUPS_KEPT:]
    assert all(not path.exists() for path in made[:3])
    assert stranger.exists()
