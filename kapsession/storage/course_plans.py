"""A client's course (issue 17): its plan's versions, its sessions, and the client's intentions.

A plan version is a row of `course_plan`, appended and never changed (like a client profile's:
saving one names the version it replaces, which must be the one standing, with a reason). The
course's sessions are read with their type and the dosing session an integration follows. The
client's intentions are note rows of kind `intention` of a preparation session of the course:
committed the moment they are entered, in the session's therapy part, amended or withdrawn as
a note entry is (`NoteRepository.amend_entry`). Reads go through the tables (`rows()`), so that
the start screen and a session being opened use them before the ORM is loaded.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, and_, select

from kapsession.domain.corrections import effective
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route, SessionType
from kapsession.records.course import CoursePlanVersion, CourseSessionRow, Intention
from kapsession.records.errors import NotFound, StorageError
from kapsession.records.notes import NoteKind, NoteRecord
from kapsession.records.sessions import SessionStatus
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database
from kapsession.storage.entry_rules import check_participant, open_session
from kapsession.storage.notes import check_note_text, note_record
from kapsession.storage.version_chain import chain_head, in_chain_order

if TYPE_CHECKING:
    from kapsession.domain.course_plan import CoursePlan
    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models


class PlanChanged(StorageError):
    """Another version of the plan was saved since the one being edited was read."""


def plan_columns(plan: CoursePlan) -> dict[str, Any]:
    order = plan.standing_order
    window = None if order is None else order.booster_window_min
    return {
        "indication": plan.indication.strip(),
        "dosing_sessions": plan.dosing_sessions,
        "medication": plan.medication.value,
        "route": plan.route.value,
        "order_dose_mg": None if order is None else order.dose_mg,
        "order_dose_mg_per_kg": None if order is None else order.dose_mg_per_kg,
        "order_boosters": None if order is None else order.boosters,
        "order_booster_mg": None if order is None else order.booster_mg,
        "order_booster_from_min": None if window is None else window[0],
        "order_booster_to_min": None if window is None else window[1],
        "order_max_total_mg": None if order is None else order.max_total_mg,
        "ordered_by_id": None if order is None else plan.ordered_by,
    }


def _plan(values: Any) -> CoursePlan:
    from kapsession.domain.course_plan import CoursePlan

    medication, route = Medication(values["medication"]), Route(values["route"])
    order = None
    if values["order_dose_mg"] is not None or values["order_dose_mg_per_kg"] is not None:
        window = None
        if values["order_booster_from_min"] is not None:
            window = (values["order_booster_from_min"], values["order_booster_to_min"])
        order = DoseOrder(
            medication=medication,
            route=route,
            dose_mg=values["order_dose_mg"],
            dose_mg_per_kg=values["order_dose_mg_per_kg"],
            boosters=values["order_boosters"] or 0,
            booster_mg=values["order_booster_mg"],
            booster_window_min=window,
            max_total_mg=values["order_max_total_mg"],
        )
    return CoursePlan(
        indication=values["indication"],
        dosing_sessions=values["dosing_sessions"],
        medication=medication,
        route=route,
        standing_order=order,
        ordered_by=values["ordered_by_id"] if order is not None else None,
    )


def _version(row: Row[Any]) -> CoursePlanVersion:
    values = row._mapping
    name = values["staff_name"] or ""
    credentials = values["staff_credentials"] or ""
    return CoursePlanVersion(
        id=values["id"],
        course_id=values["course_id"],
        plan=_plan(values),
        recorded_at=values["recorded_at"],
        recorded_by_id=values["recorded_by_id"],
        recorded_by=f"{name}, {credentials}" if credentials else name,
        replaces_id=values["replaces_id"],
        reason=values["reason"],
    )


class CourseRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # the plan ----------------------------------------------------------------------------
    def plan_history(self, course_id: uuid.UUID) -> list[CoursePlanVersion]:
        """Every saved version of the course's plan, oldest first; [] when none was saved."""
        plan, staff = schema.course_plan, schema.staff
        query = (
            select(
                plan,
                staff.c.display_name.label("staff_name"),
                staff.c.credentials.label("staff_credentials"),
            )
            .join(staff, staff.c.id == plan.c.recorded_by_id, isouter=True)
            .where(plan.c.course_id == course_id)
        )
        with self._db.rows() as rows:
            versions = [_version(row) for row in rows.execute(query)]
        return in_chain_order(versions)

    def save_plan(
        self,
        course_id: uuid.UUID,
        plan: CoursePlan,
        *,
        at: datetime,
        by: uuid.UUID,
        replaces: uuid.UUID | None,
        reason: str | None = None,
    ) -> CoursePlanVersion:
        """Append `plan` as the course's new version, replacing `replaces` (the version
        standing now: None for the first; a replacement needs a `reason`); one transaction,
        with its audit row."""
        why = (reason or "").strip() or None
        table = schema.course_plan
        with self._db.write("save the course plan") as orm:
            if orm.get(models.Course, course_id) is None:
                raise NotFound(f"No course with id {course_id}.")
            if chain_head(orm, table, table.c.course_id, course_id) != replaces:
                raise PlanChanged(
                    "The course plan was saved by someone else since it was opened; close it "
                    "and open it again to see their version."
                )
            if replaces is not None and why is None:
                raise StorageError("A new version of the plan needs the reason for the change.")
            row = models.CoursePlanVersion(
                course_id=course_id,
                recorded_at=at,
                recorded_by_id=by,
                replaces_id=replaces,
                reason=why,
                **plan_columns(plan),
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action="course_plan.save",
                entity="course_plan",
                entity_id=row.id,
                detail={
                    "course_id": str(course_id),
                    "replaces": None if replaces is None else str(replaces),
                },
            )
            version_id = row.id
        return next(v for v in self.plan_history(course_id) if v.id == version_id)

    # the course's sessions -------------------------------------------------------------------
    def sessions(self, course_id: uuid.UUID) -> list[CourseSessionRow]:
        """The course's sessions, oldest first, with their type and what each integration
        session follows."""
        session, participant = schema.session, schema.participant
        query = (
            select(
                session.c.id,
                participant.c.id.label("participant_id"),
                session.c.session_type,
                session.c.status,
                session.c.protocol_key,
                session.c.protocol_name,
                session.c.created_at,
                session.c.started_at,
                participant.c.follows_session_id,
            )
            .join(participant, participant.c.session_id == session.c.id)
            .where(participant.c.course_id == course_id)
            .order_by(session.c.created_at, session.c.id)
        )
        with self._db.rows() as rows:
            return [
                CourseSessionRow(
                    session_id=row.id,
                    participant_id=row.participant_id,
                    session_type=SessionType(row.session_type),
                    status=SessionStatus(row.status),
                    protocol_key=row.protocol_key,
                    protocol_name=row.protocol_name,
                    created_at=row.created_at,
                    started_at=row.started_at,
                    follows_session_id=row.follows_session_id,
                )
                for row in rows.execute(query)
            ]

    # intentions ------------------------------------------------------------------------------
    def add_intention(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        text: str,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        by: uuid.UUID | None,
    ) -> NoteRecord:
        """Commit one intention of the participant, as typed, with its audit row: a note of the
        record of kind `intention`, in a preparation session only."""
        body = check_note_text(text)
        with self._db.write("save the intention") as orm:
            facts = open_session(orm, session_id)
            check_participant(orm, session_id, participant_id)
            kind = orm.scalar(
                select(schema.session.c.session_type).where(schema.session.c.id == session_id)
            )
            if kind != SessionType.PREPARATION.value:
                raise StorageError("Intentions are set in a preparation session.")
            started = facts.started_at
            elapsed = None if started is None else int((occurred_at - started).total_seconds())
            row = models.Note(
                session_id=session_id,
                participant_id=participant_id,
                kind=NoteKind.INTENTION.value,
                text=body,
                author_id=by,
                elapsed_s=elapsed,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action="note.intention",
                entity="note",
                entity_id=row.id,
                session_id=session_id,
            )
            return note_record(row)

    def intentions(self, course_id: uuid.UUID) -> list[Intention]:
        """The client's intentions standing in their course (amended ones as amended,
        withdrawn ones left out), oldest first."""
        note, participant, course = schema.note, schema.participant, schema.course
        # Through the indexes a long history has: the client's participations (by client),
        # then their sessions' notes (by session), not a scan of every note (48 ms at 10,000
        # sessions, on opening a live session).
        client = select(course.c.client_id).where(course.c.id == course_id).scalar_subquery()
        query = (
            select(note)
            .join(
                participant,
                and_(
                    participant.c.session_id == note.c.session_id,
                    participant.c.id == note.c.participant_id,
                ),
            )
            .where(
                participant.c.client_id == client,
                participant.c.course_id == course_id,
                note.c.kind == NoteKind.INTENTION.value,
            )
            .order_by(note.c.occurred_at, note.c.recorded_at)
        )
        with self._db.rows() as rows:
            found = [
                NoteRecord(
                    id=row.id,
                    session_id=row.session_id,
                    participant_id=row.participant_id,
                    kind=NoteKind.INTENTION,
                    text=row.text,
                    occurred_at=row.occurred_at,
                    recorded_at=row.recorded_at,
                    author_id=row.author_id,
                    corrects_id=row.corrects_id,
                    correction_reason=row.correction_reason,
                    voids=row.voids,
                )
                for row in rows.execute(query)
            ]
        return [
            Intention(n.id, n.session_id, n.participant_id, n.text, n.occurred_at)
            for n in effective(found)
            if n.participant_id is not None
        ]
