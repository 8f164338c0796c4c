"""Backups that can be trusted (issue 19): each checked before it counts, a damaged database
neither adds a backup nor prunes one, the disk's space checked first, the weeks kept, an empty
database file refused rather than re-created, and a restore that keeps what it replaces."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.damage import cut_off, damage_an_index, damage_an_index_entry, zero_a_page
from support.filesystems import full_folder, read_only_folder, small_filesystem

from kapsession.records.errors import DatabaseUnreadable
from kapsession.storage.backups import (
    BACKUPS_KEPT,
    REPLACED_FOLDER,
    WEEKS_KEPT,
    DamagedDatabase,
    NotEnoughSpace,
    SecondLocationProblem,
    backup_sqlite,
    copy_to_second_location,
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


def damage_the_index(path: Path) -> None:
    damage_an_index(path)


def damage_an_entry_of_an_index(path: Path) -> None:
    damage_an_index_entry(path, "MRN-Client150")


DAMAGES = [damage_the_index, damage_an_entry_of_an_index, zero_a_page, cut_off]


@pytest.mark.parametrize("damage", DAMAGES)
def test_each_damage_to_the_database_is_caught_before_a_backup_counts(
    sqlite_db: Database,
    sqlite_path: Path,
    backup_dir: Path,
    damage: Callable[[Path], None],
) -> None:
    # Given a good backup, then the database's file damaged on disk
    add_clients(sqlite_db, *(f"Client{i:03d}" for i in range(300)))
    good = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW - timedelta(hours=5))
    sqlite_db.close()
    damage(sqlite_path)
    assert database_damage(sqlite_path, full=True) is not None
    # When the next backup is made, Then the database is named as damaged, and the good backup
    # is the only one in the folder
    with pytest.raises(DamagedDatabase, match=f"the database {sqlite_path} fails"):
        backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW)
    assert sorted(backup_dir.iterdir()) == [good]


def test_an_index_entry_out_of_step_passes_the_quick_check_and_fails_the_full_one(
    sqlite_db: Database, sqlite_path: Path
) -> None:
    # the damage the backup finds only with `integrity_check` (what `doctor` must run too)
    add_clients(sqlite_db, *(f"Client{i:03d}" for i in range(300)))
    sqlite_db.close()
    damage_an_entry_of_an_index(sqlite_path)
    assert database_damage(sqlite_path) is None
    assert "missing from index" in str(database_damage(sqlite_path, full=True))


def test_a_damaged_database_is_refused_before_anything_is_written(
    sqlite_db: Database, sqlite_path: Path, tmp_path: Path
) -> None:
    # Given a damaged database and a backup folder on a full disk
    add_clients(sqlite_db, *(f"Client{i:03d}" for i in range(200)))
    sqlite_db.close()
    damage_an_index(sqlite_path)
    with full_folder(tmp_path / "full") as folder:
        # When a backup is made, Then what is said is the damage (checked first), not the disk
        with pytest.raises(DamagedDatabase, match="fails its integrity check"):
            backup_sqlite(sqlite_path, folder, "daily", now=NOW)
        assert [p.name for p in folder.iterdir()] == [".filler"]


def test_the_backup_just_made_is_never_pruned_whatever_the_older_names_say(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path
) -> None:
    # Given as many backups as are kept, named by a clock that was once set a year ahead
    add_clients(sqlite_db, "Maya")
    ahead = [
        backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW + timedelta(days=365, hours=i))
        for i in range(BACKUPS_KEPT)
    ]
    # When a backup is made at the right time
    made = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW)
    # Then it is kept (the newest good copy of today's data), beside those kept by the rule
    assert made.exists()
    assert list_backups(backup_dir, "kapsession") == [made, *ahead]


def test_the_training_databases_backups_are_not_the_clinical_ones(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path, tmp_path: Path
) -> None:
    # Given the training database's backups in the same folder, newer than the clinical one's
    add_clients(sqlite_db, "Maya")
    clinical = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW - timedelta(days=3))
    training = tmp_path / "kapsession-training.sqlite3"
    training.write_bytes(clinical.read_bytes())
    for i in range(BACKUPS_KEPT + 5):
        backup_sqlite(training, backup_dir, "daily", now=NOW + timedelta(hours=i))
    # Then the clinical backup is still there, and it is the only one listed as the clinical's
    assert list_backups(backup_dir, "kapsession") == [clinical]
    assert len(list_backups(backup_dir, "kapsession-training")) == BACKUPS_KEPT


# --- the second location ----------------------------------------------------------------------


def test_a_backup_is_copied_checked_into_the_laptops_folder_of_the_second_location(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path, tmp_path: Path
) -> None:
    add_clients(sqlite_db, "Maya")
    location = tmp_path / "usb"
    location.mkdir()
    made, copies = [], []
    for i in range(BACKUPS_KEPT + 2):  # each copied as it is made, as the app does
        made.append(backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW + timedelta(hours=i)))
        copies.append(copy_to_second_location(made[-1], location, "kapsession", host="room 3"))
    folder = location / "room_3"
    assert copies[-1] == folder / made[-1].name
    assert client_names(copies[-1]) == ["Maya"]
    assert copies[-1].read_bytes() == made[-1].read_bytes()
    # pruned by the same rule as the first folder: the two hold the same backups
    assert [p.name for p in list_backups(folder, "kapsession")] == [
        p.name for p in list_backups(backup_dir, "kapsession")
    ]
    assert not list(folder.glob("*.partial*"))


def test_a_second_location_that_is_not_there_is_never_created(
    sqlite_db: Database, sqlite_path: Path, backup_dir: Path, tmp_path: Path
) -> None:
    add_clients(sqlite_db, "Maya")
    made = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW)
    unplugged = tmp_path / "media" / "usb" / "kapsession"
    with pytest.raises(SecondLocationProblem, match="is not there"):
        copy_to_second_location(made, unplugged, "kapsession")
    assert not (tmp_path / "media").exists()
    assert made.exists()


def full_location(folder: Path) -> Iterator[str]:
    with full_folder(folder):
        yield "its disk is full"


def read_only_location(folder: Path) -> Iterator[str]:
    with read_only_folder(folder):
        yield "it cannot be written"


@pytest.mark.parametrize("problem", [full_location, read_only_location])
def test_a_second_location_that_cannot_take_the_copy_says_why_and_keeps_nothing_half_made(
    sqlite_db: Database,
    sqlite_path: Path,
    backup_dir: Path,
    tmp_path: Path,
    problem: Callable[[Path], Iterator[str]],
) -> None:
    add_clients(sqlite_db, *(f"Client{i:03d}" for i in range(500)))
    made = backup_sqlite(sqlite_path, backup_dir, "daily", now=NOW)
    location = tmp_path / "share"
    for reason in problem(location):
        with pytest.raises(SecondLocationProblem, match=reason):
            copy_to_second_location(made, location, "kapsession", host="room3")
        left = [p for p in location.rglob("*") if p.name != ".filler" and p.is_file()]
        assert left == []
    assert database_damage(made, full=True) is None
