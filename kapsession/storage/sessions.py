"""Sessions: creation with a protocol snapshot, start, end, and listing."""

from __future__ import annotations

import hashlib
import string
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.engine import Connection

from kapsession.domain.protocol import SessionType
from kapsession.domain.roles import TEAM_ROLE_NAMES, TeamRole
from kapsession.records.entries import EventRecord
from kapsession.records.errors import NotFound, StorageError
from kapsession.records.sessions import (
    ParticipantRecord,
    SessionRecord,
    SessionStatus,
    SessionSummary,
)
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database
from kapsession.storage.dose_orders import NewOrder, add_order_row
from kapsession.storage.entries import NewEvent, add_event_row, event_record
from kapsession.storage.entry_rules import check_participant, open_session
from kapsession.storage.people import clients_by_id

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

MODALITIES = ("individual", "couples", "group")
STATUSES = tuple(SessionStatus)
_STEPS = {  # step: (status before, status after, event label)
    "start": (SessionStatus.PLANNED, SessionStatus.LIVE, "Session started"),
    "end": (SessionStatus.LIVE, SessionStatus.COMPLETED, "Session ended"),
}
_REFUSALS = {
    "start": "This session is already {status}; it cannot start again.",
    "end": "Only a live session can be ended; this one is {status}.",
}


_TEAM_COLUMNS = {  # the session's column of each place on the team
    TeamRole.THERAPIST: "therapist_id",
    TeamRole.MONITORING: "nurse_id",
    TeamRole.PRESCRIBER: "prescriber_id",
}


def _participant_count_problem(modality: str, count: int) -> str | None:
    if modality not in MODALITIES:
        return f"Modality must be individual, couples or group, not {modality!r}."
    if modality == "individual" and count != 1:
        return "An individual session has exactly one client."
    if modality == "couples" and count != 2:
        return "A couples session has exactly two clients."
    if modality == "group" and count < 2:
        return "A group session needs at least two clients."
    return None


class SessionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create(
        self,
        *,
        protocol_key: str,
        protocol_name: str,
        protocol_version: int,
        protocol_text: str,
        modality: str,
        client_ids: Sequence[uuid.UUID],
        at: datetime,
        room: str = "",
        therapist_id: uuid.UUID | None = None,
        nurse_id: uuid.UUID | None = None,
        prescriber_id: uuid.UUID | None = None,
        monitors: Mapping[uuid.UUID, uuid.UUID] | None = None,
        by: uuid.UUID | None = None,
        session_type: SessionType = SessionType.DOSING,
        follows: Mapping[uuid.UUID, uuid.UUID] | None = None,
    ) -> SessionRecord:
        """A planned session with its participants and the exact protocol text it will follow;
        its team: `nurse_id` monitors every participant but those `monitors` gives one of their
        own (client id -> staff id). Issue 17: its `session_type` (its protocol's), and for an
        integration session the dosing session each client's follows (`follows`, client id ->
        session id: a dosing session that client took part in)."""
        if len(set(client_ids)) != len(client_ids):
            raise StorageError("The same client was added twice to the session.")
        problem = _participant_count_problem(modality, len(client_ids))
        if problem:
            raise StorageError(problem)
        if set(monitors or {}) - set(client_ids):
            raise StorageError("A monitoring clinician was named for a client not in the session.")
        own = {c: s for c, s in (monitors or {}).items() if s != nurse_id}
        with self._db.write("create the session") as orm:
            row = models.Session(
                room=room.strip(),
                modality=modality,
                status=SessionStatus.PLANNED,
                protocol_key=protocol_key,
                protocol_name=protocol_name,
                protocol_version=protocol_version,
                protocol_text=protocol_text,
                protocol_sha256=hashlib.sha256(protocol_text.encode()).hexdigest(),
                therapist_id=therapist_id,
                nurse_id=nurse_id,
                prescriber_id=prescriber_id,
                created_at=at,
                session_type=session_type.value,
            )
            orm.add(row)
            orm.flush()
            _check_follows(orm, session_type, follows or {}, client_ids)
            for position, client_id in enumerate(client_ids):
                if orm.get(models.Client, client_id) is None:
                    raise NotFound(f"No client with id {client_id}.")
                course_id = orm.scalar(
                    select(models.Course.id)
                    .where(models.Course.client_id == client_id)
                    .order_by(models.Course.started_on.desc(), models.Course.created_at.desc())
                    .limit(1)
                )
                orm.add(
                    models.Participant(
                        session_id=row.id,
                        client_id=client_id,
                        course_id=course_id,
                        position=position,
                        created_at=at,
                        monitor_id=own.get(client_id),
                        follows_session_id=(follows or {}).get(client_id),
                    )
                )
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action="session.create",
                entity="session",
                entity_id=row.id,
                session_id=row.id,
                detail={"protocol": protocol_key, "modality": modality},
            )
            orm.flush()
            return _session_record(orm.connection(), row.id)

    def start(
        self,
        session_id: uuid.UUID,
        *,
        at: datetime,
        by: uuid.UUID | None,
        orders: Sequence[NewOrder] = (),
        deviations: Sequence[tuple[uuid.UUID, NewEvent]] = (),
    ) -> SessionRecord:
        """planned -> live: the session clock starts at `at`. What belongs to the start is
        written in the same transaction: the prescriber's `orders` and the protocol
        `deviations` of the start (participant id, event), so a live session never lacks them."""
        return self._move_with_event(
            session_id, "start", at=at, by=by, orders=orders, deviations=deviations
        )[0]

    def end(self, session_id: uuid.UUID, *, at: datetime, by: uuid.UUID | None) -> SessionRecord:
        """live -> completed: the clock stops at `at`; entries may still be added late."""
        return self.end_with_event(session_id, at=at, by=by)[0]

    def end_with_event(
        self, session_id: uuid.UUID, *, at: datetime, by: uuid.UUID | None
    ) -> tuple[SessionRecord, EventRecord]:
        """`end`, returning the `session_end` event written with it as well."""
        return self._move_with_event(session_id, "end", at=at, by=by)

    def _move(
        self, session_id: uuid.UUID, step: str, *, at: datetime, by: uuid.UUID | None
    ) -> SessionRecord:
        return self._move_with_event(session_id, step, at=at, by=by)[0]

    def _move_with_event(
        self,
        session_id: uuid.UUID,
        step: str,
        *,
        at: datetime,
        by: uuid.UUID | None,
        orders: Sequence[NewOrder] = (),
        deviations: Sequence[tuple[uuid.UUID, NewEvent]] = (),
    ) -> tuple[SessionRecord, EventRecord]:
        """One status step, with its timeline event and audit row, in one transaction (a
        start's orders and deviations with it)."""
        before, after, label = _STEPS[step]
        with self._db.write(f"{step} the session") as orm:
            row = _get(orm, session_id)
            if row.status != before:
                raise StorageError(_REFUSALS[step].format(status=row.status))
            row.status = after
            if step == "start":
                row.started_at = at
            else:
                row.ended_at = at
            event = models.SessionEvent(
                session_id=row.id,
                kind=f"session_{step}",
                label=label,
                occurred_at=at,
                recorded_at=at,
                recorded_by_id=by,
                detail={},
            )
            orm.add(event)
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action=f"session.{step}",
                entity="session",
                entity_id=row.id,
                session_id=row.id,
            )
            orm.flush()
            for order in orders:
                add_order_row(orm, row.id, order, recorded_at=at, by=by)
            for participant_id, deviation in deviations:
                check_participant(orm, row.id, participant_id)
                add_event_row(
                    orm.connection(),
                    row.id,
                    deviation,
                    occurred_at=at,
                    recorded_at=at,
                    participant_id=participant_id,
                    by=by,
                )
            return _session_record(orm.connection(), row.id), event_record(event)

    def hand_over(
        self,
        session_id: uuid.UUID,
        place: TeamRole,
        staff_id: uuid.UUID | None,
        *,
        at: datetime,
        label: str,
        participant_id: uuid.UUID | None = None,
        by: uuid.UUID | None,
    ) -> tuple[SessionRecord, EventRecord]:
        """Another staff member takes `place` on the team from `at` (a prescriber: None, no one
        on site any more): the team changes and a `handover` event with who and when is written,
        in one transaction. The monitoring of one participant (`participant_id`), or of everyone
        (None: each participant's own clinician is cleared too)."""
        if staff_id is None and place is not TeamRole.PRESCRIBER:
            raise StorageError(
                f"A session always has a {TEAM_ROLE_NAMES[place]}; name who takes over."
            )
        if participant_id is not None and place is not TeamRole.MONITORING:
            raise StorageError("Only the monitoring is handed over one participant at a time.")
        session, participant = schema.session, schema.participant
        with self._db.write_rows("record the handover") as rows:
            open_session(rows, session_id)
            row = rows.execute(select(session).where(session.c.id == session_id)).one()
            own = {
                found.id: found.monitor_id
                for found in rows.execute(
                    select(participant.c.id, participant.c.monitor_id).where(
                        participant.c.session_id == session_id
                    )
                )
            }
            if participant_id is not None:
                check_participant(rows, session_id, participant_id)
                before = own[participant_id] or row.nurse_id
                unchanged = before == staff_id
                rows.execute(
                    update(participant)
                    .where(participant.c.id == participant_id)
                    .values(monitor_id=None if staff_id == row.nurse_id else staff_id)
                )
            else:
                column = _TEAM_COLUMNS[place]
                before = getattr(row, column)
                unchanged = before == staff_id
                rows.execute(
                    update(session).where(session.c.id == session_id).values({column: staff_id})
                )
                if place is TeamRole.MONITORING and any(own.values()):
                    unchanged = False
                    rows.execute(
                        update(participant)
                        .where(participant.c.session_id == session_id)
                        .values(monitor_id=None)
                    )
            if unchanged:
                raise StorageError(
                    f"Nothing to hand over: this is already the session's {TEAM_ROLE_NAMES[place]}."
                )
            event = add_event_row(
                rows,
                session_id,
                NewEvent(
                    "handover",
                    label,
                    {
                        "role": place.value,
                        "from": None if before is None else str(before),
                        "to": None if staff_id is None else str(staff_id),
                    },
                ),
                occurred_at=at,
                recorded_at=at,
                participant_id=participant_id,
                by=by,
            )
            return _session_record(rows, session_id), event

    def get(self, session_id: uuid.UUID) -> SessionRecord:
        with self._db.rows() as rows:
            return _session_record(rows, session_id)

    def find(self, text: str) -> SessionRecord:
        """A session by its id or an unambiguous start of it (as printed by `sessions`)."""
        wanted = text.strip().lower().replace("-", "")
        if len(wanted) < 4:
            raise NotFound("Give at least the first 4 characters of the session id.")
        try:
            return self.get(uuid.UUID(wanted))
        except ValueError:
            pass
        if not all(c in string.hexdigits for c in wanted):  # else `_` and `%` act as LIKE wildcards
            raise NotFound(f"No session id starts with {text!r}. `kapsession sessions` lists them.")
        with self._db.read() as orm:
            hex_id = func.lower(func.replace(cast(models.Session.id, String), "-", ""))
            ids = list(
                orm.scalars(select(models.Session.id).where(hex_id.like(f"{wanted}%")).limit(2))
            )
            if not ids:
                raise NotFound(
                    f"No session id starts with {text!r}. `kapsession sessions` lists them."
                )
            if len(ids) > 1:
                raise NotFound(f"More than one session id starts with {text!r}; give more of it.")
            return _session_record(orm.connection(), ids[0])

    def count(self) -> int:
        with self._db.read() as orm:
            return orm.scalar(select(func.count(models.Session.id))) or 0

    def summaries(
        self,
        *,
        status: str | None = None,
        client_id: uuid.UUID | None = None,
        ended_since: datetime | None = None,
        limit: int = 500,
    ) -> list[SessionSummary]:
        """Newest first; `ended_since` keeps sessions that ended (or, never ended, were made)
        at or after that time."""
        session, participant = schema.session, schema.participant
        query = (
            # a summary never needs the protocol snapshot (kilobytes a session)
            select(*(c for c in session.c if c.key != "protocol_text"))
            .order_by(session.c.created_at.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(session.c.status == status)
        if ended_since is not None:
            query = query.where(
                func.coalesce(session.c.ended_at, session.c.created_at) >= ended_since
            )
        if client_id is not None:
            query = query.where(
                session.c.id.in_(
                    select(participant.c.session_id).where(participant.c.client_id == client_id)
                )
            )
        with self._db.rows() as rows:
            found = rows.execute(query).all()
            names = _participant_names(rows, [row.id for row in found])
        return [
            SessionSummary(
                id=row.id,
                status=SessionStatus(row.status),
                modality=row.modality,
                protocol_key=row.protocol_key,
                protocol_name=row.protocol_name,
                room=row.room,
                created_at=row.created_at,
                started_at=row.started_at,
                ended_at=row.ended_at,
                participants=tuple(names.get(row.id, ())),
            )
            for row in found
        ]


def _participant_names(
    rows: Connection, session_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each session's participants' names, in their order."""
    participant, client = schema.participant, schema.client
    names: dict[uuid.UUID, list[str]] = {}
    if not session_ids:
        return names
    query = (
        select(participant.c.session_id, client.c.given_name, client.c.family_name)
        .join(client, client.c.id == participant.c.client_id)
        .where(participant.c.session_id.in_(session_ids))
        .order_by(participant.c.session_id, participant.c.position)
    )
    for row in rows.execute(query):
        names.setdefault(row.session_id, []).append(f"{row.given_name} {row.family_name}")
    return names


def _get(orm: OrmSession, session_id: uuid.UUID) -> models.Session:
    row = orm.get(models.Session, session_id)
    if row is None:
        raise NotFound(f"No session with id {session_id}. `kapsession sessions` lists them.")
    return row


def _check_follows(
    orm: OrmSession,
    session_type: SessionType,
    follows: Mapping[uuid.UUID, uuid.UUID],
    client_ids: Sequence[uuid.UUID],
) -> None:
    """An integration session follows, for each client named, a dosing session they took part
    in (issue 17); no other session follows one."""
    if not follows:
        return
    if session_type is not SessionType.INTEGRATION:
        raise StorageError("Only an integration session follows a dosing session.")
    session, participant = schema.session, schema.participant
    for client_id, followed in follows.items():
        if client_id not in client_ids:
            raise StorageError("The session followed was named for a client not in the session.")
        found = orm.execute(
            select(session.c.session_type)
            .join(participant, participant.c.session_id == session.c.id)
            .where(session.c.id == followed, participant.c.client_id == client_id)
        ).one_or_none()
        if found is None or found.session_type != SessionType.DOSING.value:
            raise StorageError(
                "An integration session follows one of the client's own dosing sessions; "
                "choose one of theirs."
            )


def _session_record(rows: Connection, session_id: uuid.UUID) -> SessionRecord:
    """The session with its participants, read through the tables (a write passes its ORM
    session's connection: what it has flushed is read back)."""
    session, participant = schema.session, schema.participant
    row = rows.execute(select(session).where(session.c.id == session_id)).one_or_none()
    if row is None:
        raise NotFound(f"No session with id {session_id}. `kapsession sessions` lists them.")
    taking_part = rows.execute(
        select(participant)
        .where(participant.c.session_id == session_id)
        .order_by(participant.c.position)
    ).all()
    clients = clients_by_id(rows, [p.client_id for p in taking_part])
    participants = []
    for p in taking_part:
        number = None
        if p.course_id is not None:
            number = rows.scalar(
                select(func.count(participant.c.id))
                .join(session, session.c.id == participant.c.session_id)
                .where(
                    participant.c.client_id == p.client_id,  # its index: a course is a client's
                    participant.c.course_id == p.course_id,
                    session.c.created_at <= row.created_at,
                )
            )
        participants.append(
            ParticipantRecord(
                id=p.id,
                client=clients[p.client_id],
                position=p.position,
                course_id=p.course_id,
                session_number=number,
                monitor_id=p.monitor_id,
                follows_session_id=p.follows_session_id,
            )
        )
    return SessionRecord(
        id=row.id,
        room=row.room,
        modality=row.modality,
        status=SessionStatus(row.status),
        protocol_key=row.protocol_key,
        protocol_name=row.protocol_name,
        protocol_version=row.protocol_version,
        protocol_text=row.protocol_text,
        therapist_id=row.therapist_id,
        nurse_id=row.nurse_id,
        created_at=row.created_at,
        started_at=row.started_at,
        ended_at=row.ended_at,
        participants=tuple(participants),
        prescriber_id=row.prescriber_id,
        session_type=SessionType(row.session_type),
    )
