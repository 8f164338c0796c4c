"""The check-in save sends plain SQL at the driver's level (checkin_save.py): on SQLite and
PostgreSQL its rows are stored exactly as the ORM stores the same values, the client's
thresholds are read inside its transaction, and a refused save leaves nothing behind."""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import READING_FIELDS, AlertHit, Reading, alerts_for
from kapsession.records.errors import DatabaseLocked
from kapsession.storage import database as database_module
from kapsession.storage.alert_rules import ClientAlertRuleRepository
from kapsession.storage.audit import AuditRepository
from kapsession.storage.checkin_save import TABLES
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database, open_database
from kapsession.storage.driver import DRIVER_VALUES, DriverTable
from kapsession.storage.models import Alert, AuditEntry, Base, Observation
from kapsession.storage.note_save import TABLES as NOTE_TABLES

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.entries import SavedReading
    from kapsession.records.sessions import SessionRecord

HIGH_SBP = AlertRule("systolic_mmhg", Comparison.GE, 180, "Systolic BP 180 or higher")
HIGH_DBP = AlertRule("diastolic_mmhg", Comparison.GE, 110, "Diastolic BP 110 or higher")
FAST_HR = AlertRule("heart_rate_bpm", Comparison.GT, 90, "Heart rate above 90")
HIGH = Reading(
    systolic_mmhg=186,
    diastolic_mmhg=112,
    heart_rate_bpm=96,
    spo2_pct=97,
    temperature_c=37.4,
    moaas=4,
    emesis=False,
    comment="Talking, a little flushed — «ça va»",
)
CALM = Reading(systolic_mmhg=124, diastolic_mmhg=78, heart_rate_bpm=72, spo2_pct=98)


def _stored(db: Database, table: str) -> dict[str, dict[str, Any]]:
    """Every row of `table` as the driver hands it over (no SQLAlchemy type processing), by id
    as 32 hex digits; JSON also as its stored text."""
    extra = ", CAST(detail AS TEXT) AS detail_text" if table == "audit_entry" else ""
    with db.engine.connect() as connection:
        result = connection.exec_driver_sql(f"SELECT *{extra} FROM {table}")
        rows = [dict(row._mapping) for row in result]
    return {str(row["id"]).replace("-", ""): row for row in rows}


def _save(clinic: Clinic, session: SessionRecord, reading: Reading, **kw: Any) -> SavedReading:
    """Save `reading` ten minutes on, as a late entry taken seven minutes before."""
    at = clinic.now(advance_s=600)
    return CheckinRepository(clinic.db).add_observation(
        session.id,
        session.participants[0].id,
        reading,
        occurred_at=at - timedelta(minutes=7),
        recorded_at=at,
        **kw,
    )


# --- the statements -------------------------------------------------------------------------------


@pytest.mark.parametrize("table", sorted({*TABLES, *NOTE_TABLES}))
def test_a_row_that_does_not_name_every_column_of_its_table_is_refused(table: str) -> None:
    # Given the driver-level insert of a table a hot-path save writes (its columns from the model)
    insert = DriverTable(DRIVER_VALUES["sqlite"], Base.metadata.tables[table])
    assert insert.columns == tuple(Base.metadata.tables[table].columns.keys())
    complete = dict.fromkeys(insert.columns)
    # When a row leaves a column out, or names one the table does not have
    # Then it is refused before anything is sent, naming the column
    left_out = {k: v for k, v in complete.items() if k != "id"}
    with pytest.raises(ValueError, match="missing=\\['id'\\]"):
        insert.row(left_out)
    with pytest.raises(ValueError, match="unknown=\\['colour'\\]"):
        insert.row({**complete, "colour": "red"})
    # And a complete row comes out in the insert's column order
    assert insert.row({c: n for n, c in enumerate(insert.columns)}) == tuple(
        range(len(insert.columns))
    )


# --- the rows ------------------------------------------------------------------------------------


def test_rows_saved_at_driver_level_are_stored_as_the_orm_stores_them(clinic: Clinic) -> None:
    # Given a live session and a reading over two thresholds, saved late, with its staff member
    session = clinic.new_session()
    pid = session.participants[0].id
    saved = _save(
        clinic,
        session,
        HIGH,
        checkin_key="t40",
        on_room_air=False,
        alerts=alerts_for(HIGH, (HIGH_SBP, HIGH_DBP)),
        by=clinic.therapist.id,
    )
    observation, (first, second) = saved.observation, saved.alerts

    # When the same rows are written through the ORM (new ids; the same values otherwise)
    twin_id = uuid.uuid4()
    with clinic.db.write() as orm:
        orm.add(
            Observation(
                id=twin_id,
                session_id=session.id,
                participant_id=pid,
                checkin_key="t40",
                on_room_air=False,
                recorded_by_id=clinic.therapist.id,
                occurred_at=observation.occurred_at,
                recorded_at=observation.recorded_at,
                **observation.values,
            )
        )
        orm.flush()
        twin_alerts = [
            Alert(
                session_id=session.id,
                participant_id=pid,
                observation_id=twin_id,
                field=alert.field,
                op=alert.op,
                threshold=alert.threshold,
                value=alert.value,
                label=alert.label,
                message=alert.message,
                raised_at=alert.raised_at,
                position=position,
            )
            for position, alert in enumerate((first, second))
        ]
        orm.add_all(twin_alerts)
        orm.flush()
        orm.add(
            AuditEntry(
                occurred_at=observation.recorded_at,
                staff_id=clinic.therapist.id,
                action="observation.add",
                entity="observation",
                entity_id=str(observation.id),
                session_id=session.id,
                detail={"checkin": "t40", "alerts": [str(first.id), str(second.id)]},
            )
        )
    twin_alert_ids = [a.id for a in twin_alerts]

    # Then, read raw, every column holds the same value in the same form (ids aside)
    observations = _stored(clinic.db, "observation")
    fast, orm_row = observations[observation.id.hex], observations[twin_id.hex]
    assert {k: v for k, v in fast.items() if k != "id"} == {
        k: v for k, v in orm_row.items() if k != "id"
    }
    alerts = _stored(clinic.db, "alert")
    for fast_alert, twin_alert_id in zip((first, second), twin_alert_ids, strict=True):
        fast_row, twin_row = alerts[fast_alert.id.hex], alerts[twin_alert_id.hex]
        assert fast_row["observation_id"] == fast["id"]
        assert twin_row["observation_id"] == orm_row["id"]
        skip = {"id", "observation_id"}
        assert {k: v for k, v in fast_row.items() if k not in skip} == {
            k: v for k, v in twin_row.items() if k not in skip
        }
    audit = [
        row
        for row in _stored(clinic.db, "audit_entry").values()
        if row["entity_id"] == str(observation.id)
    ]
    assert len(audit) == 2
    assert {k: v for k, v in audit[0].items() if k != "id"} == {
        k: v for k, v in audit[1].items() if k != "id"
    }

    # And through the repositories both readings read back alike, as the save returned it
    checkins = CheckinRepository(clinic.db)
    by_id = {o.id: o for o in checkins.observations(session.id, include_history=True)}
    assert by_id[observation.id] == observation
    assert by_id[twin_id] == dataclasses.replace(observation, id=twin_id)
    assert by_id[observation.id].reading == HIGH
    assert [a for a in checkins.alerts(session.id) if a.observation_id == observation.id] == [
        first,
        second,
    ]


def test_a_reading_with_nothing_measured_but_a_comment_stores_nulls(clinic: Clinic) -> None:
    # Given a session; When a reading with only a comment is saved without staff or check-in
    session = clinic.new_session()
    saved = _save(clinic, session, Reading(comment="asleep"))
    # Then its empty fields are NULL in the database and None when read back
    row = _stored(clinic.db, "observation")[saved.observation.id.hex]
    unset = [name for name in READING_FIELDS if name != "comment"]
    assert [row[name] for name in [*unset, "checkin_key", "recorded_by_id", "on_room_air"]] == [
        None
    ] * (len(unset) + 3)
    (stored,) = CheckinRepository(clinic.db).observations(session.id)
    assert stored == saved.observation and stored.reading == Reading(comment="asleep")
    assert AuditRepository(clinic.db).for_session(session.id)[-1].detail == {
        "checkin": None,
        "alerts": [],
    }


# --- thresholds inside the transaction ---------------------------------------------------------


def _thresholds(clinic: Clinic, session: SessionRecord) -> None:
    """Three thresholds for the session's client, the second then retired."""
    client_id = session.participants[0].client.id
    rules = ClientAlertRuleRepository(clinic.db)
    added = [rules.add(client_id, rule, at=clinic.now(), by=None) for rule in RULES_ADDED]
    rules.retire(added[1].id, at=clinic.now(), by=None)


RULES_ADDED = (FAST_HR, HIGH_DBP, HIGH_SBP)


def _recording_check(
    seen: list[list[AlertRule]],
) -> Callable[[Sequence[AlertRule]], list[AlertHit]]:
    def check(rules: Sequence[AlertRule]) -> list[AlertHit]:
        seen.append(list(rules))
        return alerts_for(HIGH, rules)

    return check


def test_a_save_reads_the_clients_active_thresholds_in_the_order_they_were_added(
    clinic: Clinic,
) -> None:
    # Given a client with thresholds, one of them retired
    session = clinic.new_session()
    _thresholds(clinic, session)
    seen: list[list[AlertRule]] = []

    # When a reading is saved with the thresholds checked inside the save
    saved = _save(clinic, session, HIGH, check_alerts=_recording_check(seen))

    # Then the check saw the active thresholds, oldest first, and their alerts were saved
    assert seen == [[FAST_HR, HIGH_SBP]]
    assert [a.field for a in saved.alerts] == ["heart_rate_bpm", "systolic_mmhg"]
    assert [h.rule for h in saved.hits] == [FAST_HR, HIGH_SBP]
    assert CheckinRepository(clinic.db).open_alerts(session.id) == list(saved.alerts)


def test_a_client_without_thresholds_gives_the_check_none(clinic: Clinic) -> None:
    session = clinic.new_session()
    seen: list[list[AlertRule]] = []
    saved = _save(clinic, session, CALM, check_alerts=_recording_check(seen))
    assert seen == [[]]
    assert saved.alerts == ()


def test_a_correction_reads_the_clients_thresholds_inside_its_transaction(clinic: Clinic) -> None:
    # Given a saved reading, and thresholds added for the client after it was saved
    session = clinic.new_session()
    original = _save(clinic, session, CALM)
    _thresholds(clinic, session)
    seen: list[list[AlertRule]] = []

    # When it is corrected with the thresholds checked inside the correction's save
    fixed = CheckinRepository(clinic.db).correct_observation(
        original.observation.id,
        HIGH,
        reason="Transcription error",
        recorded_at=clinic.now(),
        check_alerts=_recording_check(seen),
    )

    # Then the check saw the thresholds as they stand now, and their alerts point at the fix
    assert seen == [[FAST_HR, HIGH_SBP]]
    assert [h.rule for h in fixed.hits] == [FAST_HR, HIGH_SBP]
    assert [(a.field, a.observation_id) for a in fixed.alerts] == [
        ("heart_rate_bpm", fixed.observation.id),
        ("systolic_mmhg", fixed.observation.id),
    ]
    assert CheckinRepository(clinic.db).open_alerts(session.id) == list(fixed.alerts)


def test_voiding_a_reading_raises_no_alert_and_checks_no_threshold(clinic: Clinic) -> None:
    session = clinic.new_session()
    original = _save(clinic, session, HIGH)
    _thresholds(clinic, session)
    seen: list[list[AlertRule]] = []
    voided = CheckinRepository(clinic.db).correct_observation(
        original.observation.id,
        None,
        reason="Wrong client",
        recorded_at=clinic.now(),
        voids=True,
        check_alerts=_recording_check(seen),
    )
    assert seen == [] and voided.alerts == () and voided.hits == ()


# --- refusals ------------------------------------------------------------------------------------


def _counts(db: Database) -> dict[str, int]:
    return {table: len(_stored(db, table)) for table in TABLES}


@pytest.mark.parametrize("which", ["occurred_at", "recorded_at"])
def test_a_naive_time_is_refused_and_nothing_is_saved(clinic: Clinic, which: str) -> None:
    # Given a session
    session = clinic.new_session()
    before = _counts(clinic.db)
    aware = clinic.now()
    times = {"occurred_at": aware, "recorded_at": aware, which: aware.replace(tzinfo=None)}
    # When a reading is saved with a time that has no zone, Then it is refused
    with pytest.raises(ValueError, match="timezone-aware"):
        CheckinRepository(clinic.db).add_observation(
            session.id, session.participants[0].id, CALM, **times
        )
    # And nothing was saved
    assert _counts(clinic.db) == before


def test_a_reading_while_another_program_holds_the_lock_is_refused_then_saves(
    sqlite_path: Path,
    backup_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    clinic_on: Callable[[Database], Clinic],
) -> None:
    # Given a short busy timeout and a live session on SQLite
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 100)
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        clinic = clinic_on(db)
        session = clinic.new_session()
        before = _counts(db)

        # And another program holding the database's write lock
        other = sqlite3.connect(sqlite_path, isolation_level=None)
        try:
            other.execute("BEGIN EXCLUSIVE")
            # When a reading is saved, Then it is refused as locked, with what to do
            with pytest.raises(DatabaseLocked, match="save the reading again"):
                _save(clinic, session, HIGH, alerts=alerts_for(HIGH, (HIGH_SBP,)))
        finally:
            other.execute("ROLLBACK")
            other.close()

        # And nothing of it was stored
        assert _counts(db) == before
        # When the lock is gone, Then the same reading saves on the pooled connection
        saved = _save(clinic, session, HIGH, alerts=alerts_for(HIGH, (HIGH_SBP,)))
        assert CheckinRepository(db).observations(session.id) == [saved.observation]
        assert len(saved.alerts) == 1
    finally:
        db.close()


# --- the connection kept between saves (SQLite) --------------------------------------------------


def _connections_made(db: Database) -> list[Any]:
    """Every DBAPI connection `db` makes from now on (the pool's idle ones are closed first)."""
    made: list[Any] = []
    event.listen(db.engine, "connect", lambda dbapi, _record: made.append(dbapi))
    db.engine.dispose()
    return made


def test_saves_reuse_one_connection_and_closing_the_database_closes_it(
    sqlite_path: Path, backup_dir: Path, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a live session on SQLite, and a record of the connections the database makes
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    clinic = clinic_on(db)
    session = clinic.new_session()
    made = _connections_made(db)

    # When readings are saved, with the record read between them
    for _ in range(3):
        _save(clinic, session, CALM)
        CheckinRepository(db).observations(session.id)

    # Then the saves kept one connection (the reads use another) and all three are on disk
    assert len(made) == 2
    assert len(CheckinRepository(db).observations(session.id)) == 3

    # When the database is closed, Then every connection it made is closed, the kept one too
    db.close()
    for connection in made:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")


def test_after_the_engine_is_disposed_saves_use_new_connections(
    sqlite_path: Path, backup_dir: Path, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a SQLite database that has saved a reading (and kept its connection)
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        clinic = clinic_on(db)
        session = clinic.new_session()
        _save(clinic, session, CALM)
        made = _connections_made(db)  # disposes the engine

        # When the next reading is saved, Then it goes through a connection made afterwards
        saved = _save(clinic, session, HIGH, alerts=alerts_for(HIGH, (HIGH_SBP,)))
        assert len(made) == 1
        assert CheckinRepository(db).observations(session.id)[-1] == saved.observation
    finally:
        db.close()


def test_a_connection_out_when_the_engine_is_disposed_is_closed_after_its_save(
    sqlite_path: Path, backup_dir: Path, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a SQLite database with a live session
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        clinic = clinic_on(db)
        session = clinic.new_session()
        made = _connections_made(db)

        def dispose_meanwhile(_rules: Sequence[AlertRule]) -> list[AlertHit]:
            db.engine.dispose()
            return []

        # When the engine is disposed while a reading is being saved
        saved = _save(clinic, session, CALM, check_alerts=dispose_meanwhile)

        # Then the reading is saved, and the connection it used is closed, not kept
        assert CheckinRepository(db).observations(session.id) == [saved.observation]
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            made[0].execute("SELECT 1")
        # And the next reading saves through a new connection
        _save(clinic, session, CALM)
        assert len(CheckinRepository(db).observations(session.id)) == 2
    finally:
        db.close()
