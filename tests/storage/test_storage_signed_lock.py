"""A signed session is locked by the database itself: only addenda may still be added."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Uuid, bindparam, insert, text

from kapsession.records.errors import RecordLocked
from kapsession.storage.models import (
    Dose,
    MusicEvent,
    Note,
    Observation,
    PrivateNote,
    SessionEvent,
)
from kapsession.storage.models import Session as SessionRow

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.sessions import SessionRecord

LOCKED = {
    "session_event": SessionEvent,
    "dose": Dose,
    "observation": Observation,
    "private_note": PrivateNote,
    "music_event": MusicEvent,
}


def _values(table: str, session: SessionRecord, at: datetime) -> dict[str, Any]:
    """The fewest columns a row of `table` needs, for a raw INSERT."""
    participant = session.participants[0].id
    base: dict[str, Any] = {
        "id": uuid.uuid4(),
        "session_id": session.id,
        "occurred_at": at,
        "recorded_at": at,
    }
    clinical = {**base, "voids": False}
    return {
        "session_event": {**clinical, "kind": "marker", "label": "late", "detail": {}},
        "dose": {**clinical, "participant_id": participant, "kind": "booster", "detail": {}},
        "observation": {**clinical, "participant_id": participant, "comment": ""},
        "private_note": {**clinical, "text": "late thought"},
        "music_event": {**base, "kind": "track_start", "detail": {}},
    }[table]


def _count(clinic: Clinic, table: str, session_id: uuid.UUID) -> int:
    statement = text(f"SELECT count(*) FROM {table} WHERE session_id = :id").bindparams(
        bindparam("id", session_id, type_=Uuid())
    )
    with clinic.db.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def _sign(clinic: Clinic, session_id: uuid.UUID) -> None:
    """Sign the session behind the repositories' back, as raw SQL."""
    with clinic.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE session SET status = 'signed' WHERE id = :id").bindparams(
                bindparam("id", session_id, type_=Uuid())
            )
        )


@pytest.mark.parametrize("table", list(LOCKED))
def test_a_live_session_accepts_raw_inserts_into_every_record_table(
    clinic: Clinic, table: str, request: pytest.FixtureRequest
) -> None:
    # Given a live (unsigned) session
    session = clinic.new_session()
    before = _count(clinic, table, session.id)

    # When a row is inserted, Then the lock trigger lets it through
    with clinic.db.write() as orm:
        orm.execute(insert(LOCKED[table]).values(**_values(table, session, clinic.now())))
    assert _count(clinic, table, session.id) == before + 1


@pytest.fixture
def signed(clinic: Clinic) -> SessionRecord:
    """A completed session with a dose and a note, then signed."""
    session = clinic.new_session(status="live")
    at = clinic.now()
    clinic.entries.add_dose(
        session.id, session.participants[0].id, occurred_at=at, recorded_at=at, dose_mg=200.0
    )
    with clinic.db.write() as orm:
        orm.add(Note(session_id=session.id, text="Settled", occurred_at=at, recorded_at=at))
    session = clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    _sign(clinic, session.id)
    return session


def test_the_repositories_refuse_entries_for_a_signed_session(
    clinic: Clinic, signed: SessionRecord
) -> None:
    # Given a signed session with an event in it
    at = clinic.now()
    (first, *_) = clinic.entries.events(signed.id)
    before = clinic.entries.events(signed.id, include_history=True)

    # When an event, a dose or a correction is added through the repositories
    # Then each is refused as locked, with what to do instead
    with pytest.raises(RecordLocked, match="addend"):
        clinic.entries.add_event(signed.id, "marker", occurred_at=at, recorded_at=at)
    with pytest.raises(RecordLocked, match="addend"):
        clinic.entries.add_dose(
            signed.id, signed.participants[0].id, occurred_at=at, recorded_at=at
        )
    with pytest.raises(RecordLocked, match="addend"):
        clinic.entries.correct_event(first.id, reason="late fix", recorded_at=at, label="x")
    # And nothing was written
    assert clinic.entries.events(signed.id, include_history=True) == before
    assert len(clinic.entries.doses(signed.id)) == 1


@pytest.mark.parametrize("table", list(LOCKED))
def test_the_database_refuses_raw_inserts_for_a_signed_session(
    clinic: Clinic, signed: SessionRecord, table: str, request: pytest.FixtureRequest
) -> None:
    # Given a signed session
    before = _count(clinic, table, signed.id)

    # When a row for it is inserted with raw SQL, past every repository check
    # Then the database refuses it, and staff read that the session is locked
    with pytest.raises(RecordLocked, match="signed"), clinic.db.write() as orm:
        orm.execute(insert(LOCKED[table]).values(**_values(table, signed, clinic.now())))
    assert _count(clinic, table, signed.id) == before


def _note(signed: SessionRecord, kind: str, at: datetime) -> Any:
    return insert(Note).values(
        id=uuid.uuid4(),
        session_id=signed.id,
        kind=kind,
        text="Called the next day: slept well, no nausea.",
        occurred_at=at,
        recorded_at=at,
        voids=False,
    )


def test_an_addendum_is_still_accepted_for_a_signed_session(
    clinic: Clinic, signed: SessionRecord
) -> None:
    # Given a signed session; When an addendum note is inserted with raw SQL
    before = _count(clinic, "note", signed.id)
    with clinic.db.write() as orm:
        orm.execute(_note(signed, "addendum", clinic.now()))
    # Then the database accepts it
    assert _count(clinic, "note", signed.id) == before + 1


@pytest.mark.parametrize("kind", ["entry", "session_note"])
def test_a_regular_note_is_refused_for_a_signed_session(
    clinic: Clinic, signed: SessionRecord, kind: str
) -> None:
    # Given a signed session; When a note that is not an addendum is inserted with raw SQL
    before = _count(clinic, "note", signed.id)
    with pytest.raises(RecordLocked), clinic.db.write() as orm:
        orm.execute(_note(signed, kind, clinic.now()))
    # Then it is refused and not stored
    assert _count(clinic, "note", signed.id) == before


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE session SET status = 'completed' WHERE id = :id",
        "UPDATE session SET room = 'Room 3' WHERE id = :id",
        "DELETE FROM session WHERE id = :id",
    ],
    ids=["reopen", "change", "delete"],
)
def test_a_signed_session_row_cannot_be_changed_reopened_or_deleted(
    clinic: Clinic, signed: SessionRecord, statement: str
) -> None:
    # Given a signed session; When its row is changed with raw SQL
    raw = text(statement).bindparams(bindparam("id", signed.id, type_=Uuid()))
    with pytest.raises(RecordLocked), clinic.db.write() as orm:
        orm.execute(raw)
    # Then it is refused and the session is as it was
    after = clinic.sessions.get(signed.id)
    assert (after.status, after.room) == ("signed", signed.room)


def test_an_unsigned_session_row_can_still_be_updated(clinic: Clinic) -> None:
    # Given a live session; When staff change its room with raw SQL, Then that is allowed
    session = clinic.new_session()
    with clinic.db.write() as orm:
        orm.execute(
            text("UPDATE session SET room = 'Room 3' WHERE id = :id").bindparams(
                bindparam("id", session.id, type_=Uuid())
            )
        )
    assert clinic.sessions.get(session.id).room == "Room 3"


def test_deleting_an_unsigned_session_is_not_silently_ignored(
    clinic: Clinic, request: pytest.FixtureRequest
) -> None:
    # Given a bare planned session row with nothing pointing at it
    session_id = uuid.uuid4()
    at = clinic.now()
    with clinic.db.write() as orm:
        orm.execute(
            insert(SessionRow).values(
                id=session_id,
                room="",
                modality="individual",
                status="planned",
                protocol_key="k",
                protocol_name="n",
                protocol_version=1,
                protocol_text="",
                protocol_sha256="0" * 64,
                created_at=at,
            )
        )

    # When it is deleted, Then the row is gone (the lock only guards signed sessions)
    with clinic.db.write() as orm:
        result = orm.execute(
            text("DELETE FROM session WHERE id = :id").bindparams(
                bindparam("id", session_id, type_=Uuid())
            )
        )
        assert result.rowcount == 1  # type: ignore[attr-defined]
