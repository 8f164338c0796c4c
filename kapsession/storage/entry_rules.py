"""What an entry must satisfy to be written: its session open to entries, its participant in
that session, its time neither in the future nor before the start, and (for a correction) the
version it corrects still standing. Used by every writer of entries, the ORM's and the
driver-level ones alike."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Row, exists, select
from sqlalchemy.engine import Connection

from kapsession.records.errors import EntryTimeInvalid, NotFound, RecordLocked, StorageError
from kapsession.records.sessions import SessionStatus
from kapsession.storage import schema

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

else:
    pass

# A clock a minute fast (another device, a wall clock) is not an error; more is a typo.
FUTURE_TOLERANCE = timedelta(minutes=1)


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


class _Started(Protocol):
    @property
    def started_at(self) -> datetime | None: ...


def check_entry_time(
    session: _Started, occurred_at: datetime, recorded_at: datetime, what: str
) -> None:
    """An entry may describe the past (a late entry), never the future or before the start."""
    check_entry_times(session.started_at, occurred_at, recorded_at, what)


def check_entry_times(
    started_at: datetime | None, occurred_at: datetime, recorded_at: datetime, what: str
) -> None:
    """`check_entry_time` for a session known only by its start (a Core row on a hot path)."""
    if occurred_at - recorded_at > FUTURE_TOLERANCE:
        raise EntryTimeInvalid(
            f"The time of the {what} ({_hm(occurred_at)}) is in the future; enter the time it "
            "happened."
        )
    if started_at is not None and occurred_at < started_at - FUTURE_TOLERANCE:
        raise EntryTimeInvalid(
            f"The time of the {what} ({_hm(occurred_at)}) is before the session started at "
            f"{_hm(started_at)}; check the time."
        )


def check_session_status(session_id: uuid.UUID, status: str | None) -> None:
    """Entries may be added to a live or completed session; `status` None: no such session."""
    if status is None:
        raise NotFound(f"No session with id {session_id}.")
    if status == SessionStatus.SIGNED:
        raise RecordLocked("This session is signed and locked; only addenda can be added.")
    if status == SessionStatus.PLANNED:
        raise StorageError("Start the session before adding entries to it.")


SessionFacts = Row[Any, Any, Any]  # a session's id, status and start


def open_session(rows: Connection | OrmSession, session_id: uuid.UUID) -> SessionFacts:
    """The session's status and start, if entries may be added to it (live or completed, not
    signed). Read through the table, from an ORM session or a Core connection alike."""
    session = schema.session
    row = rows.execute(
        select(session.c.id, session.c.status, session.c.started_at).where(
            session.c.id == session_id
        )
    ).first()
    check_session_status(session_id, None if row is None else row.status)
    assert row is not None
    return row


def refuse_if_superseded(orm: OrmSession, model: Any, original_id: uuid.UUID, what: str) -> None:
    """A correction applies to the standing version; an older one was already corrected."""
    if orm.scalar(select(exists().where(model.corrects_id == original_id))):
        raise StorageError(
            f"This {what} was already corrected; correct the newest version of it instead."
        )


def check_participant(
    rows: Connection | OrmSession, session_id: uuid.UUID, participant_id: uuid.UUID
) -> None:
    """Refuse a participant of another session."""
    participant = schema.participant
    owner = rows.execute(
        select(participant.c.session_id).where(participant.c.id == participant_id)
    ).scalar()
    check_participant_owner(session_id, owner)


def check_participant_owner(session_id: uuid.UUID, owner: uuid.UUID | None) -> None:
    """Refuse a participant whose session (`owner`, None: unknown) is not `session_id`."""
    if owner != session_id:
        raise StorageError("That participant is not part of this session.")
