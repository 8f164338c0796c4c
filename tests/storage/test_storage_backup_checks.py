"""Backups that can be trusted (issue 19): each checked before it counts, a damaged database
neither adds a backup nor prunes one, the disk's space checked first, the weeks kept, an empty
database file refused rather than re-created, and a restore that keeps what it replaces."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.damage import damage_an_index
from support.filesystems import small_filesystem

from kapsession.records.errors import DatabaseUnreadable
from kapsession.storage.backups import (
    BACKUPS_KEPT,
    REPLACED_FOLDER,
    WEEKS_KEPT,
    DamagedDatabase,
    NotEnoughSpace,
    backup_sqlite,
    database_damage,
    keep,
    list_backups,
    restore_backup,
)
from kapsession.storage.database import Database, open_database
from kapsession.storage.people import ClientRepository

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_db(sqlite_path: Path, backup_dir: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        yield db
    finally:
        db.close()


def add_clients(db: Database, *names: str) -> None:
    clients = ClientRepository(db)
    for name in names:
        clients.add(name, "Fischer", at=NOW, record_number="MRN-" + name)


def client_names(path: Path) -> list[str]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT given_name FROM client ORDER BY given_name").fetchall()
        return [row[0] for row in rows]
    finally:
        connection.close()


def test_a_damaged_database_adds_no_backup_and_prunes_none(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path
) -> None:
    # Given as many good backups as are kept, then a damage to the database's file
    add_clients(sqlite_db, *(f"Client{i:03d}" for i in range(200)))
    good = [
        backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW - timedelta(hours=i))
        for i in range(BACKUPS_KEPT, 0, -1)
    ]
    sqlite_db.close()
    damage_an_index(sqlite_path)
    assert database_damage(sqlite_path) is not None
    # When the next backup is made
    with pytest.raises(DamagedDatabase, match="fails its integrity check") as refused:
        backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW)
    # Then it says so, no copy of the damaged file is kept (none partial either), and every
    # good backup is still there, each passing its check
    assert "none was removed" in str(refused.value)
    assert list_backups(backup_dir, "kapsession") == good
    assert sorted(p.name for p in backup_dir.iterdir()) == sorted(p.name for p in good)
    assert all(database_damage(b, full=True) is None for b in good)


def test_a_good_backup_passes_the_full_check_and_holds_the_entries(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path
) -> None:
    add_clients(sqlite_db, "Maya")
    made = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW)
    assert database_damage(made, full=True) is None
    assert client_names(made) == ["Maya"]
    assert not list(backup_dir.glob("*.partial*"))


def test_a_backup_is_not_started_without_the_space_for_it(
    sqlite_db: Database, sqlite_path: Path, tmp_path: Path
) -> None:
    # Given a database of a few megabytes and a backup folder on a 4 MB disk
    add_clients(sqlite_db, *(f"Client{i:05d}" for i in range(2000)))
    folder = tmp_path / "small-disk"
    with small_filesystem(folder, "4m"):
        # When a backup is made there
        with pytest.raises(NotEnoughSpace, match="not enough free space") as refused:
            backup_sqlite(sqlite_path, folder, "daily", now=NOW)
        # Then it is refused before copying: nothing is written, not even a partial file
        assert "MB needed" in str(refused.value)
        assert list(folder.iterdir()) == []


def test_the_newest_thirty_and_one_a_week_for_twelve_weeks_are_kept() -> None:
    # Given a backup every 6 hours for twenty weeks (names as the backups are named)
    start = NOW - timedelta(weeks=20)
    names = [
        Path(f"/b/kapsession-{start + timedelta(hours=6 * i):%Y%m%dT%H%M%S}Z-daily.sqlite3")
        for i in range(20 * 7 * 4)
    ]
    # When the kept ones are chosen
    kept = keep(names, "kapsession")
    # Then the 30 newest are kept, and before them exactly the newest of each earlier week of
    # the last twelve, and nothing older
    assert kept[-BACKUPS_KEPT:] == names[-BACKUPS_KEPT:]
    older = kept[:-BACKUPS_KEPT]
    weeks = {datetime.strptime(p.name[11:26], "%Y%m%dT%H%M%S").isocalendar()[:2] for p in older}
    assert len(weeks) == len(older)  # one per week
    newest_week = datetime.strptime(names[-1].name[11:26], "%Y%m%dT%H%M%S")
    for path in older:
        taken = datetime.strptime(path.name[11:26], "%Y%m%dT%H%M%S")
        assert (newest_week - taken) < timedelta(weeks=WEEKS_KEPT)
        later_same_week = [
            p
            for p in names
            if p.name > path.name
            and datetime.strptime(p.name[11:26], "%Y%m%dT%H%M%S").isocalendar()[:2]
            == taken.isocalendar()[:2]
        ]
        assert later_same_week == [] or later_same_week[0] in kept
    # and every one of the last twelve weeks has its newest backup kept
    week_of = {
        p: datetime.strptime(p.name[11:26], "%Y%m%dT%H%M%S").isocalendar()[:2] for p in names
    }
    last_weeks = sorted(set(week_of.values()))[-WEEKS_KEPT:]
    for week in last_weeks:
        assert [p for p in names if week_of[p] == week][-1] in kept


def test_an_empty_database_file_is_refused_and_left_as_it_is(
    sqlite_path: Path, backup_dir: Path
) -> None:
    # Given a database file cut to 0 bytes (a new database was never empty once written)
    sqlite_path.parent.mkdir(parents=True)
    sqlite_path.write_bytes(b"")
    # When it is opened
    with pytest.raises(DatabaseUnreadable, match=r"is empty \(0 bytes\)") as refused:
        open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    # Then it says what to do, and nothing was made in its place
    assert "kapsession restore" in str(refused.value)
    assert sqlite_path.stat().st_size == 0
    assert sorted(p.name for p in sqlite_path.parent.iterdir()) == [sqlite_path.name]


def test_a_restore_checks_the_backup_and_keeps_the_database_it_replaces(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path
) -> None:
    # Given a backup with Maya, then Jonah added and the database damaged
    add_clients(sqlite_db, "Maya")
    made = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW - timedelta(hours=1))
    add_clients(sqlite_db, "Jonah")
    sqlite_db.close()
    damage_an_index(sqlite_path)
    damaged_bytes = sqlite_path.read_bytes()
    # When the backup is restored
    aside = restore_backup(made, sqlite_path, backup_dir, now=NOW)
    # Then the database is the backup's, whole; the damaged one is kept byte for byte, out of
    # the list of backups
    assert client_names(sqlite_path) == ["Maya"]
    assert database_damage(sqlite_path, full=True) is None
    assert aside is not None and aside.parent == backup_dir / REPLACED_FOLDER
    assert aside.read_bytes() == damaged_bytes
    assert list_backups(backup_dir, "kapsession") == [made]


def test_a_damaged_backup_is_not_restored(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path
) -> None:
    add_clients(sqlite_db, *(f"Client{i:03d}" for i in range(50)))
    made = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW)
    sqlite_db.close()
    damage_an_index(made)
    before = sqlite_path.read_bytes()
    with pytest.raises(DamagedDatabase, match="nothing was changed"):
        restore_backup(made, sqlite_path, backup_dir, now=NOW)
    assert sqlite_path.read_bytes() == before
    assert not (backup_dir / REPLACED_FOLDER).exists()
