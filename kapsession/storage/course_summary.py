"""What a client's course summary reads besides their history (issue 17): their courses as
planned, and every version of their doses in every session, two queries through the tables."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, select

from kapsession.domain.protocol import SessionType
from kapsession.records.course_summary import CoursePlan, SessionKind
from kapsession.records.entries import DoseRecord
from kapsession.storage import schema
from kapsession.storage.database import Database
from kapsession.storage.entries import dose_record


def course_plan(row: Row[Any]) -> CoursePlan:
    return CoursePlan(
        id=row.id,
        title=row.title,
        planned_sessions=row.planned_sessions,
        started_on=row.started_on,
        created_at=row.created_at,
    )


class CourseSummaryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def plans(self, client_id: uuid.UUID) -> list[CoursePlan]:
        """The client's courses, oldest first."""
        course = schema.course
        query = (
            select(course)
            .where(course.c.client_id == client_id)
            .order_by(course.c.started_on, course.c.created_at)
        )
        with self._db.rows() as rows:
            return [course_plan(row) for row in rows.execute(query)]

    def doses(self, client_id: uuid.UUID) -> list[DoseRecord]:
        """Every version of every dose the client was given, in any session, in time order."""
        dose, participant = schema.dose, schema.participant
        query = (
            select(dose)
            .join(participant, participant.c.id == dose.c.participant_id)
            .where(participant.c.client_id == client_id)
            .order_by(dose.c.occurred_at, dose.c.recorded_at)
        )
        with self._db.rows() as rows:
            return [dose_record(row) for row in rows.execute(query)]

    def session_kinds(self, client_id: uuid.UUID) -> dict[uuid.UUID, SessionKind]:
        """Each of the client's sessions' type and what an integration session follows, by
        the client's participant id (issue 17)."""
        session, participant = schema.session, schema.participant
        query = (
            select(participant.c.id, session.c.session_type, participant.c.follows_session_id)
            .join(session, session.c.id == participant.c.session_id)
            .where(participant.c.client_id == client_id)
        )
        with self._db.rows() as rows:
            return {
                row.id: SessionKind(SessionType(row.session_type), row.follows_session_id)
                for row in rows.execute(query)
            }
