"""A client's course (issue 17) as plain records: its plan's versions, its sessions as the plan
counts them, and the client's intentions from preparation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kapsession.domain.protocol import SessionType
from kapsession.records.sessions import SessionStatus

if TYPE_CHECKING:  # a plan is read when asked for; a live session reads only the intentions
    from kapsession.domain.course_plan import CoursePlan


@dataclass(frozen=True)
class CoursePlanVersion:
    """A saved version of a course's plan; the newest is the plan as it stands."""

    id: uuid.UUID
    course_id: uuid.UUID
    plan: CoursePlan
    recorded_at: datetime
    recorded_by_id: uuid.UUID
    recorded_by: str  # the staff member's name and credentials, as signed
    replaces_id: uuid.UUID | None
    reason: str | None


@dataclass(frozen=True)
class CourseSessionRow:
    """One session of a course: what the plan counts (its type, what an integration follows)
    and what the course view shows."""

    session_id: uuid.UUID
    participant_id: uuid.UUID
    session_type: SessionType
    status: SessionStatus
    protocol_key: str
    protocol_name: str
    created_at: datetime
    started_at: datetime | None
    follows_session_id: uuid.UUID | None


@dataclass(frozen=True)
class Intention:
    """A client's intention, typed in a preparation session of their course (a note of the
    record of kind `intention`), as it stands."""

    note_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    text: str
    occurred_at: datetime
