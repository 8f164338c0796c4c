"""The note save sends plain SQL at the driver's level (note_save.py): on SQLite and PostgreSQL
its rows are stored exactly as the ORM stored the same note, its pad's draft is cleared in the
same transaction, and a refused save leaves nothing behind, the draft included."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import delete
from support.signing import signing_key

from kapsession.domain.entry_text import NOTE_MAX_CHARS
from kapsession.records.errors import NotFound, RecordLocked, StorageError
from kapsession.records.notes import SessionNoteText
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database
from kapsession.storage.models import Note, NoteDraft, PrivateNote
from kapsession.storage.note_save import PADS
from kapsession.storage.note_save import TABLES as SAVED_TABLES
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.notes import NoteRecord, PrivateNoteRecord
    from kapsession.records.sessions import SessionRecord

TABLES = ("note", "private_note")
MODELS: dict[str, type[Note] | type[PrivateNote]] = {"note": Note, "private_note": PrivateNote}
TEXT = "Tearful, then smiling — «ça va» \U0001f30a\nSays the music is a tide.  "
NOTE = SessionNoteText("kap", (("intention", "Intention", "To rest"),))


def _stored(db: Database, table: str) -> dict[str, dict[str, Any]]:
    """Every row of `table` as the driver hands it over (no SQLAlchemy type processing), by id
    as 32 hex digits; JSON columns also as their stored text (JSON null is not SQL NULL)."""
    json_columns = {"note": ("sections",), "audit_entry": ("detail",), "note_draft": ("sections",)}
    extra = "".join(
        f", CAST({column} AS TEXT) AS {column}_text" for column in json_columns.get(table, ())
    )
    with db.engine.connect() as connection:
        result = connection.exec_driver_sql(f"SELECT *{extra} FROM {table}")
        rows = [dict(row._mapping) for row in result]
    return {str(row["id"]).replace("-", ""): row for row in rows}


def _counts(db: Database) -> dict[str, int]:
    return {table: len(_stored(db, table)) for table in (*SAVED_TABLES, "note_draft")}


def _add(
    clinic: Clinic, table: str, session: SessionRecord, **kw: Any
) -> NoteRecord | PrivateNoteRecord:
    """Commit TEXT on `table`'s pad ten minutes on, written three minutes late, with its
    place on the session clock; `kw` overrides any argument."""
    at = clinic.now(advance_s=600)
    args: dict[str, Any] = {
        "occurred_at": at - timedelta(minutes=3),
        "recorded_at": at,
        "participant_id": session.participants[0].id,
        "phase_key": "peak",
        "elapsed_s": 2520,
        "since_dose_s": 1320,
        "by": clinic.therapist.id,
        **kw,
    }
    notes = NoteRepository(clinic.db)
    add = notes.add_entry if table == "note" else notes.add_private
    return add(session.id, TEXT, **args)


def _orm_add(clinic: Clinic, saved: NoteRecord | PrivateNoteRecord, table: str) -> uuid.UUID:
    """The same note saved as the ORM saved it before the driver-level path: the row, its
    pad's draft deleted and its audit row, in one transaction. Its id."""
    place = {"kind": "entry"} if table == "note" else {}
    with clinic.db.write() as orm:
        row = MODELS[table](
            session_id=saved.session_id,
            text=saved.text,
            author_id=saved.author_id,
            occurred_at=saved.occurred_at,
            recorded_at=saved.recorded_at,
            participant_id=saved.participant_id,
            phase_key=saved.phase_key,
            elapsed_s=saved.elapsed_s,
            since_dose_s=saved.since_dose_s,
            **place,
        )
        orm.add(row)
        orm.flush()
        orm.execute(
            delete(NoteDraft).where(
                NoteDraft.session_id == saved.session_id, NoteDraft.pad == PADS[table]
            )
        )
        write_audit(
            orm,
            at=saved.recorded_at,
            staff_id=saved.author_id,
            action=f"{table}.add",
            entity=table,
            entity_id=row.id,
            session_id=saved.session_id,
        )
        return row.id


def _draft(
    clinic: Clinic, session: SessionRecord, pad: str, text: str = "Tearful at the bri"
) -> None:
    NoteRepository(clinic.db).save_draft(session.id, pad, text, at=clinic.now())


def _drafts(clinic: Clinic, session: SessionRecord) -> dict[str, str]:
    notes = NoteRepository(clinic.db)
    found = {pad: notes.draft(session.id, pad) for pad in ("record", "private")}
    return {pad: draft.text for pad, draft in found.items() if draft is not None}


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


# --- the statements -------------------------------------------------------------------------------


# --- the rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize(
    "place",
    [
        pytest.param({}, id="on-the-clock"),
        pytest.param(
            {"participant_id": None, "phase_key": None, "elapsed_s": None, "since_dose_s": None},
            id="whole-room-no-clock",
        ),
        pytest.param({"by": None}, id="no-author"),
    ],
)
def test_rows_saved_at_driver_level_are_stored_as_the_orm_stores_them(
    clinic: Clinic, table: str, place: dict[str, Any]
) -> None:
    # Given a live session with a draft on the pad, and a note saved late at driver level
    session = clinic.new_session()
    _draft(clinic, session, PADS[table])
    saved = _add(clinic, table, session, **place)

    # When the same note is saved through the ORM, after the same draft (a new id; the rest alike)
    _draft(clinic, session, PADS[table])
    twin_id = _orm_add(clinic, saved, table)

    # Then, read raw, every column holds the same value in the same form (ids aside)
    rows = _stored(clinic.db, table)
    fast, orm_row = rows[saved.id.hex], rows[twin_id.hex]
    assert _without(fast, "id") == _without(orm_row, "id")
    audit = {row["entity_id"]: row for row in _stored(clinic.db, "audit_entry").values()}
    fast_audit, twin_audit = audit[str(saved.id)], audit[str(twin_id)]
    assert _without(fast_audit, "id", "entity_id") == _without(twin_audit, "id", "entity_id")
    assert (fast_audit["action"], fast_audit["detail_text"]) == (f"{table}.add", "{}")
    # And both cleared the draft
    assert _drafts(clinic, session) == {}

    # And through the repository the note reads back as the save returned it, as the twin does
    notes = NoteRepository(clinic.db)
    read = notes.notes(session.id) if table == "note" else notes.private_notes(session.id)
    by_id = {record.id: record for record in read}
    assert by_id[saved.id] == saved
    assert by_id[twin_id] == dataclasses.replace(saved, id=twin_id)


@pytest.mark.parametrize(
    "text", ["Calm.  Breathing slow.\n\t", "x" * NOTE_MAX_CHARS, "\u05d4\u05d5\u05d0 ok"]
)
def test_the_text_is_stored_exactly_as_typed(clinic: Clinic, text: str) -> None:
    session = clinic.new_session()
    at = clinic.now()
    saved = NoteRepository(clinic.db).add_entry(session.id, text, occurred_at=at, recorded_at=at)
    assert _stored(clinic.db, "note")[saved.id.hex]["text"] == text
    assert NoteRepository(clinic.db).note(saved.id).text == text


@pytest.mark.parametrize("table", TABLES)
def test_a_save_clears_only_its_own_pads_draft(clinic: Clinic, table: str) -> None:
    # Given drafts on both pads of a session, and on the same pad of another session
    session, other = clinic.new_session(), clinic.new_session()
    for pad in ("record", "private"):
        _draft(clinic, session, pad, f"typing on {pad}")
    _draft(clinic, other, PADS[table], "elsewhere")
    # When a note is saved on one pad
    _add(clinic, table, session)
    # Then that pad's draft is gone, and the other drafts are untouched
    kept = "private" if table == "note" else "record"
    assert _drafts(clinic, session) == {kept: f"typing on {kept}"}
    assert _drafts(clinic, other) == {PADS[table]: "elsewhere"}


# --- refusals ------------------------------------------------------------------------------------


def _refused_cases(clinic: Clinic) -> dict[str, tuple[SessionRecord, dict[str, Any]]]:
    other = clinic.new_session()
    return {
        "no-session": (other, {"session_id": uuid.uuid4()}),
        "planned": (clinic.new_session(status="planned"), {}),
        "other-participant": (
            clinic.new_session(),
            {"participant_id": other.participants[0].id},
        ),
    }


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize(
    ("case", "error", "match"),
    [
        ("no-session", NotFound, "No session"),
        ("planned", StorageError, "Start the session"),
        ("other-participant", StorageError, "not part of this session"),
    ],
)
def test_a_refused_note_leaves_nothing_behind_and_keeps_the_draft(
    clinic: Clinic, table: str, case: str, error: type[Exception], match: str
) -> None:
    # Given a session the note cannot go into (or a participant of another one), with a draft
    session, override = _refused_cases(clinic)[case]
    _draft(clinic, session, PADS[table])
    before = _counts(clinic.db)
    session_id = override.pop("session_id", session.id)
    at = clinic.now()
    notes = NoteRepository(clinic.db)
    add = notes.add_entry if table == "note" else notes.add_private
    # When the note is saved, Then it is refused with what is wrong
    with pytest.raises(error, match=match):
        add(session_id, TEXT, occurred_at=at, recorded_at=at, **override)
    # And nothing was stored, and the draft is still there
    assert _counts(clinic.db) == before
    assert _drafts(clinic, session) == {PADS[table]: "Tearful at the bri"}


@pytest.mark.parametrize("table", TABLES)
def test_after_the_therapy_part_is_signed_a_note_is_refused_then_others_save(
    clinic: Clinic, table: str
) -> None:
    # Given a completed session whose therapy part is signed (the session not yet locked)
    session = clinic.new_session(status="completed")
    SignatureRepository(clinic.db).sign(
        session.id,
        ["therapy"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
        session_note=NOTE,
    )
    before = _counts(clinic.db)
    # When a note is saved, Then the database's lock refuses it, with what to do instead
    with pytest.raises(RecordLocked, match=r"therapy part .* Add an addendum"):
        _add(clinic, table, session)
    assert _counts(clinic.db) == before
    # And a note on another session saves after it
    live = clinic.new_session()
    saved = _add(clinic, table, live)
    assert saved.id.hex in _stored(clinic.db, table)


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("which", ["occurred_at", "recorded_at"])
def test_a_naive_time_is_refused_and_nothing_is_saved(
    clinic: Clinic, table: str, which: str
) -> None:
    session = clinic.new_session()
    before = _counts(clinic.db)
    naive: datetime = clinic.now().replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        _add(clinic, table, session, **{which: naive})
    assert _counts(clinic.db) == before
