"""The check-in save at the driver's level: SQL text for each back-end and the value conversions
the models' column types would make.

SQLAlchemy adds 45-60 µs to every statement over the driver's 2-20 µs, which made a save about
4x a raw sqlite3 one (benchmarks/bench_entry_save.py). So this hot path sends plain SQL on the
pooled connection's DBAPI connection (`Database.write_driver`): SQLite's `?` or psycopg's `%s`,
with UUIDs, aware-UTC times and JSON turned into what `Uuid`, `UTCDateTime` and `JSON` hand the
driver. tests/storage/test_storage_checkin_driver.py checks rows written here against rows the
ORM writes, on both back-ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import READING_FIELDS, AlertHit, Reading
from kapsession.records.entries import AlertRecord, ObservationRecord, SavedReading
from kapsession.storage.driver import (
    DRIVER_VALUES,
    DriverConnection,
    DriverTable,
    DriverValues,
    audit_row,
)
from kapsession.storage.entry_rules import (
    check_entry_times,
    check_participant_owner,
    check_session_status,
)
from kapsession.storage.schema import metadata

# The tables a save writes, their columns as the models define them.
TABLES = {table: metadata.tables[table] for table in ("observation", "alert", "audit_entry")}

# One read for a save: the session's status and start, whether the participant is in it, and
# its client's active thresholds in the order they were added (one row each; one row of NULLs
# when there are none). `?` becomes each back-end's placeholder.
_FACTS = (
    "SELECT session.status, session.started_at, participant.id, client_alert_rule.field, "
    "client_alert_rule.op, client_alert_rule.value, client_alert_rule.label "
    "FROM session "
    "LEFT OUTER JOIN participant "
    "ON participant.id = ? AND participant.session_id = session.id "
    "LEFT OUTER JOIN client_alert_rule "
    "ON client_alert_rule.client_id = participant.client_id "
    "AND client_alert_rule.retired_at IS NULL "
    "WHERE session.id = ? "
    "ORDER BY client_alert_rule.created_at, client_alert_rule.id"
)


@dataclass(frozen=True)
class CheckinSql:
    """The save's SQL text and value conversions for one back-end."""

    dialect: str
    facts: str
    observation: DriverTable
    alert: DriverTable
    audit: DriverTable
    values: DriverValues
    param_uuid: Callable[[uuid.UUID], Any]
    param_time: Callable[[datetime], Any]  # refuses a naive time (ValueError)
    result_time: Callable[[Any], datetime]
    param_json: Callable[[dict[str, Any] | list[Any]], str]


def _for(values: DriverValues) -> CheckinSql:
    return CheckinSql(
        dialect=values.dialect,
        facts=values.sql(_FACTS),
        observation=DriverTable(values, TABLES["observation"]),
        alert=DriverTable(values, TABLES["alert"]),
        audit=DriverTable(values, TABLES["audit_entry"]),
        values=values,
        param_uuid=values.param_uuid,
        param_time=values.param_time,
        result_time=values.result_time,
        param_json=values.param_json,
    )


_SQL = {dialect: _for(values) for dialect, values in DRIVER_VALUES.items()}


def checkin_sql(dialect: str) -> CheckinSql:
    """The save's SQL for a back-end kapsession supports (`Database.dialect`)."""
    try:
        return _SQL[dialect]
    except KeyError:
        raise ValueError(f"check-ins cannot be saved on a {dialect} database") from None


class NewReading(NamedTuple):
    """A reading ready to insert: its record and its row's values, made before the transaction
    so that the write lock is held no longer than the statements need."""

    record: ObservationRecord
    row: dict[str, Any]  # the observation's columns, as the driver takes them
    session: Any  # the session id, time written and staff member as the driver takes them
    recorded_at: Any
    by: Any


_reading_values = attrgetter(*READING_FIELDS)
_NOTHING_MISSING = "[]"  # the stored JSON of a complete check-in, as `JSON` writes it


def new_reading(
    sql: CheckinSql,
    session_id: uuid.UUID,
    participant_id: uuid.UUID,
    reading: Reading,
    *,
    occurred_at: datetime,
    recorded_at: datetime,
    checkin_key: str | None,
    on_room_air: bool | None,
    by: uuid.UUID | None,
    not_taken: tuple[str, ...] = (),
) -> NewReading:
    """The observation to insert; a naive time is refused here, before anything is sent.
    `not_taken`: the measures its check-in required that were not taken."""
    values = _reading_values(reading)
    record = ObservationRecord(
        id=uuid.uuid4(),
        session_id=session_id,
        participant_id=participant_id,
        checkin_key=checkin_key,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        recorded_by_id=by,
        values=dict(zip(READING_FIELDS, values, strict=True)),
        on_room_air=on_room_air,
        not_taken=not_taken,
    )
    session = sql.param_uuid(session_id)
    recorded = sql.param_time(recorded_at)
    # A reading entered as it is taken has one time for both: converted once.
    occurred = recorded if occurred_at is recorded_at else sql.param_time(occurred_at)
    staff = None if by is None else sql.param_uuid(by)
    row = {
        "id": sql.param_uuid(record.id),
        "session_id": session,
        "participant_id": sql.param_uuid(participant_id),
        "checkin_key": checkin_key,
        "occurred_at": occurred,
        "recorded_at": recorded,
        "recorded_by_id": staff,
        "on_room_air": on_room_air,
        "corrects_id": None,
        "correction_reason": None,
        "voids": False,
        "not_taken": sql.param_json(list(not_taken)) if not_taken else _NOTHING_MISSING,
        **dict(zip(READING_FIELDS, values, strict=True)),
    }
    return NewReading(record, row, session, recorded, staff)


def client_rules(driver: DriverConnection, sql: CheckinSql, new: NewReading) -> list[AlertRule]:
    """Refuse a reading the session cannot take (as `open_session`, `check_participant` and
    `check_entry_time` do); else the participant's client's active thresholds."""
    observation = new.record
    rows = driver.execute(sql.facts, (new.row["participant_id"], new.session)).fetchall()
    first = rows[0] if rows else None
    check_session_status(observation.session_id, None if first is None else first[0])
    assert first is not None
    # The join matched the participant only within this session.
    owner = None if first[2] is None else observation.session_id
    check_participant_owner(observation.session_id, owner)
    started_at = None if first[1] is None else sql.result_time(first[1])
    check_entry_times(started_at, observation.occurred_at, observation.recorded_at, "reading")
    return [
        AlertRule(row[3], Comparison(row[4]), row[5], row[6]) for row in rows if row[3] is not None
    ]


def insert_reading(
    driver: DriverConnection, sql: CheckinSql, new: NewReading, hits: tuple[AlertHit, ...]
) -> SavedReading:
    """The observation, its alerts and the audit row; the records are built from the values
    written (nothing is read back)."""
    observation = new.record
    driver.execute(sql.observation.insert, sql.observation.row(new.row))
    alerts = _alerts(driver, sql, new, hits) if hits else ()
    detail: dict[str, Any] = {
        "checkin": observation.checkin_key,
        "alerts": [str(a.id) for a in alerts],
    }
    if observation.not_taken:
        detail["not_taken"] = list(observation.not_taken)
    audit = audit_row(
        sql.values,
        at=new.recorded_at,
        staff=new.by,
        action="observation.add",
        entity="observation",
        entity_id=str(observation.id),
        session=new.session,
        detail=sql.param_json(detail),
    )
    driver.execute(sql.audit.insert, sql.audit.row(audit))
    return SavedReading(observation, alerts, hits)


def _alerts(
    driver: DriverConnection, sql: CheckinSql, new: NewReading, hits: tuple[AlertHit, ...]
) -> tuple[AlertRecord, ...]:
    """The alert rows of a reading that met thresholds, in the order of its hits."""
    observation = new.record
    alerts = tuple(
        AlertRecord(
            id=uuid.uuid4(),
            session_id=observation.session_id,
            participant_id=observation.participant_id,
            observation_id=observation.id,
            field=hit.rule.field,
            op=hit.rule.op.value,
            threshold=float(hit.rule.value),
            value=float(hit.value),
            label=hit.rule.label,
            message=hit.message,
            raised_at=observation.recorded_at,
        )
        for hit in hits
    )
    rows = [
        sql.alert.row(
            {
                "id": sql.param_uuid(alert.id),
                "session_id": new.session,
                "participant_id": new.row["participant_id"],
                "observation_id": new.row["id"],
                "field": alert.field,
                "op": alert.op,
                "threshold": alert.threshold,
                "value": alert.value,
                "label": alert.label,
                "message": alert.message,
                "raised_at": new.recorded_at,
                "position": position,
            }
        )
        for position, alert in enumerate(alerts)
    ]
    cursor = driver.cursor()
    try:
        cursor.executemany(sql.alert.insert, rows)
    finally:
        cursor.close()
    return alerts
