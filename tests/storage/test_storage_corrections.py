"""One path appends a correction of any kind of entry (storage/corrections.py): the new row is
the original's columns as its table defines them with the changes over them, pointing at the
original with the reason; the original is untouched; an audit row says what was corrected and
why; and only the standing version may be corrected. The correction and its audit row are sent
through the driver-level writer of the hot saves, stored as the ORM stores the same values.
Each kind of entry, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import JSON, event, inspect, select
from support.signing import signing_key

from kapsession.domain.vitals import Reading
from kapsession.records.errors import RecordLocked, StorageError
from kapsession.records.notes import SessionNoteText
from kapsession.storage.audit import write_audit
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.driver import DRIVER_VALUES, DriverTable
from kapsession.storage.models import (
    AuditEntry,
    Base,
    Dose,
    Note,
    Observation,
    PrivateNote,
    SessionEvent,
)
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:
    from conftest import Clinic

OWN = {"id", "recorded_at", "recorded_by_id", "author_id", "corrects_id", "correction_reason"}


@dataclass(frozen=True)
class Kind:
    """How to make one entry of a kind and correct it through its repository."""

    name: str
    model: type
    add: Callable[[Clinic, Any], uuid.UUID]
    correct: Callable[[Clinic, uuid.UUID, str], Any]
    changed: dict[str, Any]  # what the correction changes
    action: str
    part: str | None  # the signed part that locks the kind's table (None: no part does)


def add_marker(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    event = clinic.entries.add_event(
        session.id,
        "marker",
        occurred_at=at,
        recorded_at=at,
        label="Eye mask on",
        detail={"quick": True},
    )
    return event.id


def correct_marker(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return clinic.entries.correct_event(
        original, reason=reason, recorded_at=clinic.now(), label="Eye mask off"
    )


def add_dose(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    dose, _events = clinic.entries.add_dose(
        session.id,
        session.participants[0].id,
        occurred_at=at,
        recorded_at=at,
        dose_mg=200.0,
        lot_number="KX-1",
        weight_kg=64.0,
    )
    return dose.id


def correct_dose(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return clinic.entries.correct_dose(
        original, reason=reason, recorded_at=clinic.now(), lot_number="KX-2"
    )


def add_reading(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    saved = CheckinRepository(clinic.db).add_observation(
        session.id,
        session.participants[0].id,
        Reading(systolic_mmhg=124, diastolic_mmhg=78, heart_rate_bpm=72, comment="calm"),
        occurred_at=at,
        recorded_at=at,
        checkin_key="t40",
        on_room_air=True,
    )
    return saved.observation.id


def correct_reading(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return CheckinRepository(clinic.db).correct_observation(
        original,
        Reading(systolic_mmhg=128, diastolic_mmhg=82, heart_rate_bpm=72, comment="calm"),
        reason=reason,
        recorded_at=clinic.now(),
    )


def add_note(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    notes = NoteRepository(clinic.db)
    return notes.add_entry(
        session.id, "Settling", occurred_at=at, recorded_at=at, phase_key="onset", elapsed_s=600
    ).id


def correct_note(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return NoteRepository(clinic.db).amend_entry(
        original, "Settling, eyes closed", reason=reason, recorded_at=clinic.now()
    )


def add_private(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    notes = NoteRepository(clinic.db)
    return notes.add_private(
        session.id, "Grief", occurred_at=at, recorded_at=at, phase_key="peak", elapsed_s=3600
    ).id


def correct_private(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return NoteRepository(clinic.db).amend_private(
        original, "Grief, and relief", reason=reason, recorded_at=clinic.now()
    )


KINDS = [
    Kind(
        "event",
        SessionEvent,
        add_marker,
        correct_marker,
        {"label": "Eye mask off"},
        "event.correct",
        None,
    ),
    Kind(
        "dose", Dose, add_dose, correct_dose, {"lot_number": "KX-2"}, "dose.correct", "monitoring"
    ),
    Kind(
        "reading",
        Observation,
        add_reading,
        correct_reading,
        {"systolic_mmhg": 128, "diastolic_mmhg": 82},
        "observation.correct",
        "monitoring",
    ),
    Kind(
        "note",
        Note,
        add_note,
        correct_note,
        {"text": "Settling, eyes closed"},
        "note.amend",
        "therapy",
    ),
    Kind(
        "private note",
        PrivateNote,
        add_private,
        correct_private,
        {"text": "Grief, and relief"},
        "private_note.amend",
        "therapy",
    ),
]
# The kinds whose new entries are saved at the driver's level (checkin_save.py, note_save.py).
HOT = ("reading", "note", "private note")


def columns(clinic: Clinic, model: type, row_id: uuid.UUID) -> dict[str, Any]:
    with clinic.db.read() as orm:
        row = orm.get(model, row_id)
        assert row is not None
        return {c.key: getattr(row, c.key) for c in inspect(model).column_attrs}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_correction_is_the_original_with_the_changes_and_its_audit_row(
    clinic: Clinic, kind: Kind
) -> None:
    # Given an entry of this kind in a live session
    session = clinic.new_session()
    original_id = kind.add(clinic, session)
    before = columns(clinic, kind.model, original_id)
    # When it is corrected
    correction = kind.correct(clinic, original_id, "Wrong line of the chart")
    correction_id = getattr(correction, "id", None) or correction.observation.id
    # Then every column of the table is the original's but the changes and the correction's own
    after = columns(clinic, kind.model, correction_id)
    copied = {k: v for k, v in before.items() if k not in OWN and k not in kind.changed}
    assert {k: after[k] for k in copied} == copied
    assert {k: after[k] for k in kind.changed} == kind.changed
    assert (after["corrects_id"], after["correction_reason"], after["voids"]) == (
        original_id,
        "Wrong line of the chart",
        False,
    )
    # And the original is as it was
    assert columns(clinic, kind.model, original_id) == before
    # And the audit row says what was corrected, why, and that it was not taken back
    with clinic.db.read() as orm:
        audit = orm.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == str(correction_id))
        ).one()
        assert (audit.action, audit.entity) == (kind.action, kind.model.__tablename__)
        assert audit.detail["corrects"] == str(original_id)
        assert (audit.detail["reason"], audit.detail["voids"]) == ("Wrong line of the chart", False)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_only_the_standing_version_of_an_entry_can_be_corrected(clinic: Clinic, kind: Kind) -> None:
    # Given an entry of this kind corrected once
    session = clinic.new_session()
    original_id = kind.add(clinic, session)
    kind.correct(clinic, original_id, "First correction")
    # When the superseded original is corrected again
    # Then that is refused: a correction applies to the standing version
    with pytest.raises(StorageError, match="already corrected"):
        kind.correct(clinic, original_id, "Second correction")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_correction_without_a_reason_is_refused_and_nothing_is_written(
    clinic: Clinic, kind: Kind
) -> None:
    # Given an entry of this kind
    session = clinic.new_session()
    original_id = kind.add(clinic, session)
    with clinic.db.read() as orm:
        rows_before = len(orm.scalars(select(kind.model)).all())
    # When it is corrected with a blank reason, Then that is refused and no row is added
    with pytest.raises(StorageError, match="reason"):
        kind.correct(clinic, original_id, "   ")
    with clinic.db.read() as orm:
        assert len(orm.scalars(select(kind.model)).all()) == rows_before


# --- the writer ----------------------------------------------------------------------------------


def stored(db: Database, table: str) -> dict[str, dict[str, Any]]:
    """Every row of `table` as the driver hands it over (no SQLAlchemy type processing), by id
    as 32 hex digits; JSON columns as their stored text (JSON null is not SQL NULL)."""
    names = ", ".join(
        f"CAST({c.name} AS TEXT) AS {c.name}" if isinstance(c.type, JSON) else c.name
        for c in Base.metadata.tables[table].columns
    )
    with db.engine.connect() as connection:
        result = connection.exec_driver_sql(f"SELECT {names} FROM {table}")
        rows = [dict(row._mapping) for row in result]
    return {str(row["id"]).replace("-", ""): row for row in rows}


def corrected(clinic: Clinic, kind: Kind) -> tuple[uuid.UUID, uuid.UUID]:
    """An entry of this kind in a new live session, corrected: its id and the correction's."""
    original_id = kind.add(clinic, clinic.new_session())
    correction = kind.correct(clinic, original_id, "Wrong line of the chart")
    fixed_id: uuid.UUID = getattr(correction, "id", None) or correction.observation.id
    return original_id, fixed_id


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_correction_is_stored_in_the_form_of_the_entry_it_corrects(
    clinic: Clinic, kind: Kind
) -> None:
    # Given an entry of this kind (a reading or a note saved by its hot path); When it is corrected
    original_id, fixed_id = corrected(clinic, kind)
    # Then, read raw, every column it copies holds the original's stored value in the same form
    rows = stored(clinic.db, kind.model.__tablename__)
    original, fixed = rows[original_id.hex], rows[fixed_id.hex]
    copied = set(original) - OWN - {"voids"} - set(kind.changed)
    assert {k: fixed[k] for k in copied} == {k: original[k] for k in copied}
    # And it names the original as the original's id is stored
    assert fixed["corrects_id"] == original["id"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_correction_and_its_audit_row_are_stored_as_the_orm_stores_them(
    clinic: Clinic, kind: Kind
) -> None:
    # Given an entry of this kind, corrected
    _original_id, fixed_id = corrected(clinic, kind)
    values = columns(clinic, kind.model, fixed_id)
    with clinic.db.read() as orm:
        audit = orm.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(fixed_id))).one()

    # When the same rows are written through the ORM (a new id; the same values otherwise; a
    # JSON column that is None left unset, which the ORM stores as SQL NULL)
    table = Base.metadata.tables[kind.model.__tablename__]
    unset = {k for k, v in values.items() if v is None and isinstance(table.c[k].type, JSON)}
    twin_id = uuid.uuid4()
    with clinic.db.write() as orm:
        orm.add(kind.model(**{k: v for k, v in values.items() if k not in unset} | {"id": twin_id}))
        orm.flush()
        write_audit(
            orm,
            at=audit.occurred_at,
            staff_id=audit.staff_id,
            action=audit.action,
            entity=audit.entity,
            entity_id=audit.entity_id,
            session_id=audit.session_id,
            detail=audit.detail,
        )

    # Then, read raw, every column holds the same value in the same form (ids aside)
    rows = stored(clinic.db, table.name)
    fixed, twin = rows[fixed_id.hex], rows[twin_id.hex]
    assert {k: v for k, v in fixed.items() if k != "id"} == {
        k: v for k, v in twin.items() if k != "id"
    }
    fixed_audit, twin_audit = (
        {k: v for k, v in row.items() if k != "id"}
        for row in stored(clinic.db, "audit_entry").values()
        if row["entity_id"] == str(fixed_id)
    )
    assert fixed_audit == twin_audit


class Sent:
    """The statements the engine's connections send from now on: at the driver (sqlite3's trace
    callback, which fills the values in; on PostgreSQL a psycopg cursor class that records each
    statement as written, placeholders and all), and those of them SQLAlchemy sent."""

    def __init__(self, database: Database) -> None:
        self.driver: list[str] = []
        self.sqlalchemy: list[str] = []
        self.dialect = database.dialect
        event.listen(database.engine, "connect", self._on_connect)
        event.listen(database.engine, "before_cursor_execute", self._on_execute)
        database.engine.dispose()  # connections made from now on are watched

    def _on_execute(self, _connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.sqlalchemy.append(statement)

    def _on_connect(self, connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.set_trace_callback(self.driver.append)
            return
        import psycopg

        sent = self.driver

        class RecordingCursor(psycopg.Cursor):  # type: ignore[type-arg]
            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                sent.append(str(query))
                return super().execute(query, *args, **kwargs)

        connection.cursor_factory = RecordingCursor

    def inserts(self, table: str, statements: list[str]) -> set[str]:
        """The INSERTs into `table` among `statements`; on SQLite up to their VALUES (the
        columns they name), as the trace fills the values in."""
        mine = [s for s in statements if s.startswith(f"INSERT INTO {table} ")]
        if self.dialect == "sqlite":
            return {s.partition(" VALUES ")[0] for s in mine}
        return set(mine)

    def clear(self) -> None:
        self.driver.clear()
        self.sqlalchemy.clear()


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_correction_and_its_audit_row_are_sent_by_the_driver_level_writer(
    clinic: Clinic, kind: Kind
) -> None:
    # Given a live session, and every statement its database is sent from now on
    session = clinic.new_session()
    sent = Sent(clinic.db)
    tables = (kind.model.__tablename__, "audit_entry")
    # When an entry of this kind is saved, then corrected
    original_id = kind.add(clinic, session)
    added = {table: sent.inserts(table, sent.driver) for table in tables}
    sent.clear()
    kind.correct(clinic, original_id, "Wrong line of the chart")

    # Then the correction and its audit row are the driver-level writer's inserts, naming every
    # column of their tables as the models define them
    writer = {
        table: sent.inserts(
            table, [DriverTable(DRIVER_VALUES[sent.dialect], Base.metadata.tables[table]).insert]
        )
        for table in tables
    }
    corrected = {table: sent.inserts(table, sent.driver) for table in tables}
    assert corrected == writer
    # And neither went through SQLAlchemy
    assert {table: sent.inserts(table, sent.sqlalchemy) for table in tables} == {
        table: set() for table in tables
    }
    # And where new entries of the kind are saved at the driver's level, the correction is sent
    # with the very statements that saved the entry
    if kind.name in HOT:
        assert added == corrected


NOTE_TEXT = SessionNoteText("kap", (("intention", "Intention", "To rest"),))


@pytest.mark.parametrize("kind", [k for k in KINDS if k.part], ids=lambda k: k.name)
def test_a_correction_after_its_part_is_signed_is_refused_and_nothing_is_written(
    clinic: Clinic, kind: Kind
) -> None:
    # Given an entry of this kind in a completed session whose part for this kind is signed
    session = clinic.new_session()
    original_id = kind.add(clinic, session)
    clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    if kind.part == "monitoring":
        nurse = clinic.staff.add("Sam Lee", "nurse", at=clinic.now(), credentials="RN")
        SignatureRepository(clinic.db).sign(
            session.id,
            ["monitoring"],
            staff_id=nurse.id,
            key=signing_key(clinic.db, nurse.id),
            at=clinic.now(),
        )
    else:
        SignatureRepository(clinic.db).sign(
            session.id,
            ["therapy"],
            staff_id=clinic.therapist.id,
            key=signing_key(clinic.db, clinic.therapist.id),
            at=clinic.now(),
            session_note=NOTE_TEXT,
        )
    tables = (kind.model.__tablename__, "audit_entry")
    before = {table: len(stored(clinic.db, table)) for table in tables}
    # When it is corrected, Then the database refuses it, saying which part is signed
    with pytest.raises(RecordLocked, match=f"The {kind.part} part of this session is signed"):
        kind.correct(clinic, original_id, "Late fix")
    # And nothing was written
    assert {table: len(stored(clinic.db, table)) for table in tables} == before
