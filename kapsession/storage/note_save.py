"""The note save at the driver's level: SQL text for each back-end and the rows of a note entry
or private note, converted as the models' column types would.

Through the ORM a note took about 17x raw sqlite3 doing the same work (a session row loaded
whole, protocol text and all, a participant read, then the unit of work's flushes;
benchmarks/bench_entry_save.py). Like the check-in save (`checkin_save.py`), this hot path
sends plain SQL on `Database.write_driver`'s connection, using the same conversions
(`DRIVER_VALUES`): one read of the session's status and the participant, the note, the DELETE
of the pad's draft and the audit row. tests/storage/test_storage_note_driver.py checks rows
written here against rows the ORM writes, on both back-ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from kapsession.records.notes import NoteKind, NoteRecord, Pad, PrivateNoteRecord
from kapsession.storage.driver import (
    DRIVER_VALUES,
    DriverConnection,
    DriverTable,
    DriverValues,
    audit_row,
)
from kapsession.storage.entry_rules import check_participant_owner, check_session_status
from kapsession.storage.schema import metadata

# The tables a save writes, their columns as the models define them.
TABLES = {table: metadata.tables[table] for table in ("note", "private_note", "audit_entry")}
PADS = MappingProxyType({"note": Pad.RECORD, "private_note": Pad.PRIVATE})  # table -> its pad

# One read for a save: the session's status (no row: no such session) and whether the
# participant, when there is one, is in it. `?` becomes each back-end's placeholder.
_FACTS = (
    "SELECT session.status, participant.id FROM session "
    "LEFT OUTER JOIN participant "
    "ON participant.id = ? AND participant.session_id = session.id "
    "WHERE session.id = ?"
)
_CLEAR_DRAFT = "DELETE FROM note_draft WHERE session_id = ? AND pad = ?"


@dataclass(frozen=True)
class NoteSql:
    """The save's SQL text for one back-end, and its value conversions."""

    values: DriverValues
    facts: str
    tables: Mapping[str, DriverTable]  # note | private_note -> its INSERT
    clear_draft: str
    audit: DriverTable
    no_detail: str  # the audit row's detail: `{}` as `JSON` stores it


def _for(values: DriverValues) -> NoteSql:
    return NoteSql(
        values=values,
        facts=values.sql(_FACTS),
        tables={table: DriverTable(values, TABLES[table]) for table in ("note", "private_note")},
        clear_draft=values.sql(_CLEAR_DRAFT),
        audit=DriverTable(values, TABLES["audit_entry"]),
        no_detail=values.param_json({}),
    )


_SQL = {dialect: _for(values) for dialect, values in DRIVER_VALUES.items()}


def note_sql(dialect: str) -> NoteSql:
    """The save's SQL for a back-end kapsession supports (`Database.dialect`)."""
    try:
        return _SQL[dialect]
    except KeyError:
        raise ValueError(f"notes cannot be saved on a {dialect} database") from None


class NotePlace(NamedTuple):
    """Where a note sits: its participant (None: the whole room) and the session clock as shown
    when it was written."""

    participant_id: uuid.UUID | None = None
    phase_key: str | None = None
    elapsed_s: int | None = None
    since_dose_s: int | None = None


class NewNote(NamedTuple):
    """A note ready to insert: its record and its row's values, made before the transaction so
    that the write lock is held no longer than the statements need."""

    table: str  # note | private_note
    record: NoteRecord | PrivateNoteRecord
    row: dict[str, Any]  # the table's columns, as the driver takes them
    session: Any  # the session id, participant, time written and author as the driver takes them
    participant: Any
    recorded_at: Any
    by: Any


def new_note(
    sql: NoteSql,
    table: str,
    session_id: uuid.UUID,
    text: str,
    *,
    occurred_at: datetime,
    recorded_at: datetime,
    place: NotePlace,
    by: uuid.UUID | None,
) -> NewNote:
    """A note entry (`table` note) or private note to insert, as typed; a naive time is refused
    here (ValueError), before anything is sent."""
    values = sql.values
    note_id = uuid.uuid4()
    session = values.param_uuid(session_id)
    participant = None if place.participant_id is None else values.param_uuid(place.participant_id)
    recorded = values.param_time(recorded_at)
    # An entry committed as it is typed has one time for both: converted once.
    occurred = recorded if occurred_at is recorded_at else values.param_time(occurred_at)
    author = None if by is None else values.param_uuid(by)
    record: NoteRecord | PrivateNoteRecord
    if table == "note":
        record = NoteRecord(
            id=note_id,
            session_id=session_id,
            participant_id=place.participant_id,
            kind=NoteKind.ENTRY,
            text=text,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            author_id=by,
            phase_key=place.phase_key,
            elapsed_s=place.elapsed_s,
            since_dose_s=place.since_dose_s,
        )
        row: dict[str, Any] = {
            "id": values.param_uuid(note_id),
            "session_id": session,
            "participant_id": participant,
            "kind": "entry",
            "text": text,
            "phase_key": place.phase_key,
            "author_id": author,
            "corrects_id": None,
            "elapsed_s": place.elapsed_s,
            "since_dose_s": place.since_dose_s,
            "template_key": None,
            "sections": None,  # SQL NULL, as the ORM leaves an unset JSON column
            "occurred_at": occurred,
            "recorded_at": recorded,
            "correction_reason": None,
            "voids": False,
        }
    elif table == "private_note":
        record = PrivateNoteRecord(
            id=note_id,
            session_id=session_id,
            participant_id=place.participant_id,
            text=text,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            author_id=by,
            phase_key=place.phase_key,
            elapsed_s=place.elapsed_s,
            since_dose_s=place.since_dose_s,
        )
        row = {
            "id": values.param_uuid(note_id),
            "session_id": session,
            "participant_id": participant,
            "text": text,
            "author_id": author,
            "corrects_id": None,
            "phase_key": place.phase_key,
            "elapsed_s": place.elapsed_s,
            "since_dose_s": place.since_dose_s,
            "occurred_at": occurred,
            "recorded_at": recorded,
            "correction_reason": None,
            "voids": False,
        }
    else:
        raise ValueError(f"no driver-level save for {table!r}")
    return NewNote(table, record, row, session, participant, recorded, author)


def insert_note(driver: DriverConnection, sql: NoteSql, new: NewNote) -> None:
    """Refuse a note the session cannot take (as `open_session` and `check_participant` do);
    else the note, its pad's draft cleared and its audit row, which says a note exists and
    never what it says."""
    record = new.record
    rows = driver.execute(sql.facts, (new.participant, new.session)).fetchall()
    check_session_status(record.session_id, rows[0][0] if rows else None)
    if record.participant_id is not None:
        # The join matched the participant only within this session.
        owner = None if rows[0][1] is None else record.session_id
        check_participant_owner(record.session_id, owner)
    table = sql.tables[new.table]
    driver.execute(table.insert, table.row(new.row))
    driver.execute(sql.clear_draft, (new.session, PADS[new.table]))
    audit = audit_row(
        sql.values,
        at=new.recorded_at,
        staff=new.by,
        action=f"{new.table}.add",
        entity=new.table,
        entity_id=str(record.id),
        session=new.session,
        detail=sql.no_detail,
    )
    driver.execute(sql.audit.insert, sql.audit.row(audit))
