"""An older database (the frozen revision-0001 fixture) is backed up, then upgraded intact."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import Reading, alerts_for
from kapsession.records.errors import RecordLocked
from kapsession.storage.backups import list_backups
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database, head_revision, open_database
from kapsession.storage.entries import EntryRepository
from kapsession.storage.models import APPEND_ONLY_TABLES, Alert, Dose
from kapsession.storage.people import ClientRepository, StaffRepository
from kapsession.storage.sessions import SessionRepository

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "schema-0001.sqlite3"
FIXTURE_SHA256 = hashlib.sha256(FIXTURE.read_bytes()).hexdigest()  # read at collection
UPGRADED_AT = datetime(2026, 11, 26, 9, 30, 15, tzinfo=UTC)

STAFF_ID = uuid.UUID(int=4)
CLIENT_ID = uuid.UUID(int=1)
SESSION_ID = uuid.UUID(int=2)
PARTICIPANT_ID = uuid.UUID(int=3)
COURSE_ID = uuid.UUID(int=5)
EVENT_ID = uuid.UUID(int=6)
DOSE_ID = uuid.UUID(int=7)


def _columns(path: Path) -> dict[str, list[str]]:
    """Every table of a database (but Alembic's) with its column names, in order."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'alembic_version'"
            )
        ]
        return {
            table: [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            for table in tables
        }
    finally:
        connection.close()


def _rows(
    path: Path, columns: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, read with plain sqlite3: all columns, or only `columns`."""
    chosen = _columns(path) if columns is None else columns
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = {}
        for table, names in chosen.items():
            quoted = ", ".join('"' + name + '"' for name in names)
            found = connection.execute(f'SELECT {quoted} FROM "{table}"').fetchall()
            rows[table] = sorted(found, key=repr)
        return rows
    finally:
        connection.close()


def _revision(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(connection.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        connection.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the fixture to read from (even reading a WAL database creates files beside it)."""
    copy = tmp_path_factory.mktemp("pristine") / FIXTURE.name
    shutil.copyfile(FIXTURE, copy)
    return copy


@pytest.fixture
def old_file(sqlite_path: Path) -> Path:
    """A copy of the frozen fixture where kapsession keeps its database."""
    sqlite_path.parent.mkdir(parents=True)
    shutil.copyfile(FIXTURE, sqlite_path)
    return sqlite_path


@pytest.fixture
def upgraded(old_file: Path, backup_dir: Path) -> Iterator[Database]:
    db = open_database(f"sqlite:///{old_file}", backup_dir=backup_dir, now=UPGRADED_AT)
    try:
        yield db
    finally:
        db.close()


def test_the_fixture_is_a_revision_0001_database_with_the_documented_rows(pristine: Path) -> None:
    # Given the frozen fixture; Then it is what the other tests assume it is
    assert _revision(pristine) == "0001"
    rows = _rows(pristine)
    assert len(rows["staff"]) == len(rows["client"]) == len(rows["session"]) == 1
    assert len(rows["session_event"]) == len(rows["dose"]) == 1


def test_upgrading_writes_a_backup_of_the_old_file_first(
    old_file: Path, backup_dir: Path, upgraded: Database, pristine: Path
) -> None:
    # Given an opened (so upgraded) copy of the 0001 fixture
    # Then exactly one backup exists, named for the upgrade and the time
    backups = list_backups(backup_dir, old_file.stem)
    assert [b.name for b in backups] == [
        f"kapsession-20261126T093015Z-before-upgrade-to-{head_revision()}.sqlite3"
    ]
    backup = backups[0]
    # And it is a sound SQLite database still at revision 0001 holding the same rows
    check = sqlite3.connect(backup)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        check.close()
    assert _revision(backup) == "0001"
    assert _rows(backup) == _rows(pristine)
    # And no half-written backup was left behind
    assert list(backup_dir.glob("*.partial")) == []


def test_upgrading_keeps_every_row_and_reaches_head(
    old_file: Path, upgraded: Database, pristine: Path
) -> None:
    # Given the upgraded copy; Then it is at head and every row of the fixture is unchanged
    assert upgraded.schema_status().up_to_date
    assert _revision(old_file) == head_revision()
    old_columns = _columns(pristine)
    assert _rows(old_file, old_columns) == _rows(pristine)
    # And what later revisions added is there, empty: new tables without rows, new columns NULL
    # (but a reading's measures not taken: none, [])
    new_columns = _columns(old_file)
    assert set(new_columns) >= set(old_columns) | {
        "alert",
        "alert_acknowledgement",
        "client_alert_rule",
        "discharge_assessment",
    }
    for table, names in new_columns.items():
        added = [n for n in names if n not in old_columns.get(table, ())]
        if table == "database_kind":  # 0017: a database holding people is clinical (18)
            assert [r[1] for r in _rows(old_file, {table: names})[table]] == ["clinical"]
        elif table not in old_columns:
            assert _rows(old_file, {table: names})[table] == [], table
        elif added:
            if table == "observation":
                stored = {row[0] for row in _rows(old_file, {table: ["not_taken"]})[table]}
                assert stored <= {"[]"}
                added.remove("not_taken")
            if table == "session":  # every earlier session was a dosing session (0016)
                stored = {row[0] for row in _rows(old_file, {table: ["session_type"]})[table]}
                assert stored <= {"dosing"}
                added.remove("session_type")
            if table == "staff":  # nobody was the administrator before issue 18 (0019)
                stored = {row[0] for row in _rows(old_file, {table: ["is_admin"]})[table]}
                assert stored <= {0}  # False or 0, as the back-end stores it
                added.remove("is_admin")
            values = {value for row in _rows(old_file, {table: added})[table] for value in row}
            assert values <= {None}, (table, added)
    assert {n for n in new_columns["dose"] if n not in old_columns["dose"]} == {
        "weight_kg",
        "dose_mg_per_kg",
        "device_count",
    }
    assert [n for n in new_columns["observation"] if n not in old_columns["observation"]] == [
        "on_room_air",
        "not_taken",
    ]


SESSIONLESS = (
    "audit_entry",
    "signature",
    "client_profile",
    "consent",
    "course_plan",
    "staff_signing_key",
)


def test_every_append_only_table_of_the_upgraded_file_has_its_guards(upgraded: Database) -> None:
    # Given the upgraded copy; Then each append-only table refuses changes and, but the audit
    # trail and the signatures (addenda are signed after), additions to a signed session (the
    # triggers of 0001, 0002, 0004 and 0005)
    with upgraded.engine.connect() as connection:
        triggers = set(
            connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            ).scalars()
        )
    for table in APPEND_ONLY_TABLES:
        assert {f"{table}_no_update", f"{table}_no_delete"} <= triggers, table
        # a profile, a consent and a course plan belong to a client, a key (0018) to a staff
        # member, not to a session
        if table not in SESSIONLESS:
            assert f"{table}_signed_lock" in triggers, table


def test_an_upgraded_session_takes_readings_and_alerts_until_it_is_signed(
    upgraded: Database,
) -> None:
    # Given the fixture's completed session, upgraded; When a late reading with an alert is saved
    checkins = CheckinRepository(upgraded)
    reading = Reading(systolic_mmhg=186, diastolic_mmhg=100, heart_rate_bpm=88)
    rule = AlertRule("systolic_mmhg", Comparison.GE, 180, "Systolic BP 180 or higher")
    saved = checkins.add_observation(
        SESSION_ID,
        PARTICIPANT_ID,
        reading,
        occurred_at=datetime(2026, 10, 1, 16, 20, tzinfo=UTC),
        recorded_at=UPGRADED_AT,
        checkin_key="t40",
        alerts=alerts_for(reading, [rule]),
        by=STAFF_ID,
    )
    # Then it reads back as a late entry with its open alert
    (observation,) = checkins.observations(SESSION_ID)
    assert observation == saved.observation and observation.is_late
    assert [a.message for a in checkins.open_alerts(SESSION_ID)] == [
        "Systolic BP 186 mmHg — at or above 180"
    ]
    # When the session is signed, Then neither a reading nor a raw alert row can be added
    with upgraded.engine.begin() as connection:
        connection.execute(
            text("UPDATE session SET status = 'signed' WHERE id = :id"), {"id": SESSION_ID.hex}
        )
    with pytest.raises(RecordLocked):
        checkins.add_observation(
            SESSION_ID, PARTICIPANT_ID, reading, occurred_at=UPGRADED_AT, recorded_at=UPGRADED_AT
        )
    with pytest.raises(RecordLocked), upgraded.write() as orm:
        orm.execute(
            insert(Alert).values(
                id=uuid.uuid4(),
                session_id=SESSION_ID,
                participant_id=PARTICIPANT_ID,
                observation_id=observation.id,
                field="systolic_mmhg",
                op=">=",
                threshold=180.0,
                value=186.0,
                label="",
                message="late",
                raised_at=UPGRADED_AT,
                position=0,
            )
        )
    assert len(checkins.alerts(SESSION_ID)) == 1


def test_upgraded_rows_read_back_through_the_repositories(upgraded: Database) -> None:
    # Given the upgraded copy
    # When its rows are read the way the application reads them
    session = SessionRepository(upgraded).get(SESSION_ID)
    events = EntryRepository(upgraded).events(SESSION_ID)
    doses = EntryRepository(upgraded).doses(SESSION_ID)
    first = EntryRepository(upgraded).first_doses(SESSION_ID)

    # Then they are all there, with aware UTC times
    assert session.status == "completed"
    assert session.modality == "individual"
    assert session.room == "Room 2"
    assert session.therapist_id == STAFF_ID
    assert session.prescriber_id is None  # 0009: no prescriber named, as before
    assert session.started_at == datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
    assert session.ended_at == datetime(2026, 10, 1, 18, 0, tzinfo=UTC)
    (participant,) = session.participants
    assert participant.id == PARTICIPANT_ID
    assert participant.course_id == COURSE_ID
    assert participant.session_number == 1
    assert participant.client.full_name == "Maya Fischer"
    assert participant.client.record_number == "MRN-0001"
    assert participant.monitor_id is None  # 0009: monitored by the session's clinician
    assert [(e.id, e.kind, e.label) for e in events] == [
        (EVENT_ID, "session_start", "Session started")
    ]
    (dose,) = doses
    assert (dose.id, dose.dose_mg, dose.medication, dose.route, dose.lot_number) == (
        DOSE_ID,
        200.0,
        "ketamine",
        "sublingual",
        "LOT-A1",
    )
    assert dose.given_by_id == STAFF_ID
    assert first == {PARTICIPANT_ID: datetime(2026, 10, 1, 15, 40, tzinfo=UTC)}
    assert [c.id for c in ClientRepository(upgraded).search("fischer")] == [CLIENT_ID]
    staff = StaffRepository(upgraded).get(STAFF_ID)
    assert (staff.signature_name, staff.role) == ("Dr. Ruth Okafor, PsyD", "therapist")


def test_the_0002_signed_lock_applies_to_upgraded_sessions(upgraded: Database) -> None:
    # Given the fixture's completed session, signed after the upgrade
    with upgraded.engine.begin() as connection:
        connection.execute(
            text("UPDATE session SET status = 'signed' WHERE id = :id"), {"id": SESSION_ID.hex}
        )
    entries = EntryRepository(upgraded)

    # When an event is added through the repository, Then it is refused
    with pytest.raises(RecordLocked):
        entries.add_event(
            SESSION_ID, "marker", occurred_at=UPGRADED_AT, recorded_at=UPGRADED_AT, label="late"
        )
    # And a dose written straight to the database is refused by the database itself
    with pytest.raises(RecordLocked), upgraded.write() as orm:
        orm.execute(
            insert(Dose).values(
                id=uuid.uuid4(),
                session_id=SESSION_ID,
                participant_id=PARTICIPANT_ID,
                kind="booster",
                detail={},
                occurred_at=UPGRADED_AT,
                recorded_at=UPGRADED_AT,
                voids=False,
            )
        )
    # And the record is as it was
    assert [d.id for d in entries.doses(SESSION_ID)] == [DOSE_ID]
    assert len(entries.events(SESSION_ID)) == 1


def test_opening_the_fixture_never_modifies_the_source_tree(upgraded: Database) -> None:
    # Given a copy was upgraded; Then the frozen fixture has its own bytes, and nothing beside it
    assert hashlib.sha256(FIXTURE.read_bytes()).hexdigest() == FIXTURE_SHA256
    assert sorted(p.name for p in FIXTURE.parent.iterdir()) == [FIXTURE.name]
