"""A locked database and a full disk: the entry is refused with a message, nothing half-saved."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event
from support.filesystems import fill, small_filesystem

from kapsession.records.errors import (
    AppendOnlyViolation,
    DatabaseLocked,
    DatabaseUnreadable,
    DataDirNotWritable,
    DiskFull,
    RecordLocked,
    StorageError,
)
from kapsession.storage import database as database_module
from kapsession.storage.audit import AuditRepository
from kapsession.storage.database import Database, open_database, translate_error

if TYPE_CHECKING:
    from conftest import Clinic


@pytest.fixture
def sqlite_db(sqlite_path: Path, backup_dir: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        yield db
    finally:
        db.close()


def _marker(clinic: Clinic, session_id: Any, label: str) -> Any:
    at = clinic.now()
    return clinic.entries.add_event(
        session_id, "marker", occurred_at=at, recorded_at=at, label=label, by=clinic.therapist.id
    )


# --- locked -------------------------------------------------------------------------------------


def test_a_write_while_another_program_holds_the_lock_is_refused_then_succeeds(
    sqlite_path: Path,
    backup_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    clinic_on: Callable[[Database], Clinic],
) -> None:
    # Given a short busy timeout and a live session
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 100)
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        clinic = clinic_on(db)
        session = clinic.new_session()
        events_before = clinic.entries.events(session.id)
        audit_before = AuditRepository(db).for_session(session.id)

        # And another program holding the database's write lock
        other = sqlite3.connect(sqlite_path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")

            # When an entry is saved, Then it is refused as locked, with what to do
            with pytest.raises(DatabaseLocked) as locked:
                _marker(clinic, session.id, "Client asked for water")
            assert "another program" in str(locked.value)
            assert "save the event again" in str(locked.value)
        finally:
            other.execute("ROLLBACK")
            other.close()

        # And nothing of it was stored, neither the entry nor its audit row
        assert clinic.entries.events(session.id) == events_before
        assert AuditRepository(db).for_session(session.id) == audit_before

        # When the lock is gone, Then the same entry saves
        saved = _marker(clinic, session.id, "Client asked for water")
        assert clinic.entries.events(session.id) == [*events_before, saved]
    finally:
        db.close()


# --- disk full, simulated with max_page_count ---------------------------------------------------


def test_a_full_database_refuses_the_entry_keeps_the_rest_and_recovers(
    sqlite_db: Database, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a live session with entries already saved
    clinic = clinic_on(sqlite_db)
    session = clinic.new_session()
    kept = [_marker(clinic, session.id, f"before {i}") for i in range(3)]

    # And the database may not grow any more (SQLite then reports SQLITE_FULL)
    with sqlite_db.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

    def cap_size(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(sqlite_db.engine, "connect", cap_size)
    sqlite_db.engine.dispose()  # new connections, all capped
    try:
        # When entries keep coming until there is no room
        saved = []
        with pytest.raises(DiskFull) as full:
            for i in range(1000):
                saved.append(_marker(clinic, session.id, f"{i} " + "long observation " * 200))

        # Then the nurse is told the entry was NOT saved and what to do
        assert "NOT saved" in str(full.value)
        assert "Free some disk space" in str(full.value)
        # And every entry saved before is intact, and only those
        events = clinic.entries.events(session.id)
        assert [e.id for e in events] == [e.id for e in [events[0], *kept, *saved]]
        assert events[0].kind == "session_start"
        actions = [a.action for a in AuditRepository(sqlite_db).for_session(session.id)]
        assert actions.count("event.marker") == len(kept) + len(saved)
    finally:
        event.remove(sqlite_db.engine, "connect", cap_size)
        sqlite_db.engine.dispose()

    # When space returns, Then the session carries on: entries save and it can be ended
    again = _marker(clinic, session.id, "after the disk was cleared")
    ended = clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    assert ended.status == "completed"
    assert again.id in {e.id for e in clinic.entries.events(session.id)}


# --- disk full, for real: a tiny tmpfs ----------------------------------------------------------


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of our own (needs root and permission to mount)."""
    with small_filesystem(tmp_path / "tiny", "2m") as mount_point:
        yield mount_point


def test_a_really_full_filesystem_refuses_the_entry_and_recovers(
    tiny_filesystem: Path, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a live session on a small filesystem
    db = open_database(
        f"sqlite:///{tiny_filesystem / 'data' / 'kapsession.sqlite3'}", backup_dir=None
    )
    try:
        clinic = clinic_on(db)
        session = clinic.new_session()
        kept = _marker(clinic, session.id, "before the disk filled")

        # And another file has taken all the space that was left
        filler = tiny_filesystem / "filler"
        fill(filler)

        # When entries keep coming, Then one is refused with the disk-full message
        saved = []
        with pytest.raises(DiskFull, match="NOT saved"):
            for i in range(2000):
                saved.append(_marker(clinic, session.id, f"{i} " + "x" * 3000))
        # And what was saved before is all there
        ids = [e.id for e in clinic.entries.events(session.id)]
        assert ids[1:] == [kept.id, *(e.id for e in saved)]

        # When space is freed, Then the session carries on
        filler.unlink()
        after = _marker(clinic, session.id, "after the disk was cleared")
        assert clinic.entries.events(session.id)[-1] == after
    finally:
        db.close()


# --- how driver errors read to staff ------------------------------------------------------------


@pytest.mark.parametrize(
    ("driver_message", "expected", "words"),
    [
        ("database or disk is full", DiskFull, "NOT saved"),
        ("could not extend file: No space left on device", DiskFull, "NOT saved"),
        ("database is locked", DatabaseLocked, "another program"),
        ("attempt to write a readonly database", DataDirNotWritable, "permissions"),
        ("file is not a database", DatabaseUnreadable, "backup"),
        ("append-only: dose rows are never changed or deleted", AppendOnlyViolation, "correction"),
        ("session is signed: only addenda can be added", RecordLocked, "addendum"),
        ("something nobody foresaw", StorageError, "Nothing was changed"),
    ],
)
def test_driver_errors_become_messages_staff_can_act_on(
    driver_message: str, expected: type[StorageError], words: str
) -> None:
    # Given a driver error; When it is translated for the screen
    error = translate_error(sqlite3.OperationalError(driver_message), "save the dose")
    # Then it has the right kind and says what to do
    assert type(error) is expected
    assert words in str(error)
