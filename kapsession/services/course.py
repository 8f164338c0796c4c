"""A client's course (issue 17): its plan, its sessions by type, the session due next, the
integration link and the client's intentions from preparation.

The plan is versioned (each save a new version naming the one it replaces, with a reason); a
plan that does not pass its checks is refused with every problem, naming its field, nothing
stored. The standing order is checked as a session's order is, against the clinic's dosing
protocol of the plan's medication and route. "Next in course" is worked out from the course's
sessions (`domain.course_plan.next_in_course`) and comes with the template to preselect: the
clinic's protocol of that session type (for a dosing session, of the plan's medication and
route, else the client's last one).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.course_plan import (
    CoursePlan,
    CourseSession,
    CourseStep,
    check_plan,
    integration_default,
    next_in_course,
)
from kapsession.domain.dose_order import DoseOrder, check_order
from kapsession.domain.protocol import SessionType
from kapsession.domain.vitals import FieldProblem
from kapsession.records.course import CoursePlanVersion, CourseSessionRow, Intention
from kapsession.records.errors import NotFound, StorageError
from kapsession.records.notes import NoteRecord
from kapsession.records.protocols import ProtocolChoice
from kapsession.services.protocols import ProtocolCatalog
from kapsession.storage.course_plans import CourseRepository
from kapsession.storage.database import Database
from kapsession.storage.people import ClientRepository

DEFAULT_PLANNED = 6  # dosing sessions of a course without a plan (the course row's default)


class PlanInvalid(StorageError):
    """A plan that cannot be saved; `problems` name each field to fix."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(" ".join(p.message for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class NextSession:
    """The session due next in a client's course, ready to offer in the new-session dialog."""

    step: CourseStep
    protocol_key: str | None  # the template to preselect (None: the clinic has none of it)
    follows_session_id: uuid.UUID | None  # integration: the dosing session it follows
    order: DoseOrder | None  # dosing: the course's standing order, offered as the order
    ordered_by: uuid.UUID | None  # its prescriber

    def label(self) -> str:
        return self.step.label()


@dataclass(frozen=True)
class CourseOverview:
    """What the course dialog shows of a client's course."""

    course_id: uuid.UUID
    plan: CoursePlanVersion | None  # None: no plan recorded yet
    history: tuple[CoursePlanVersion, ...]
    sessions: tuple[CourseSessionRow, ...]
    next: NextSession | None  # None: the plan is done
    intentions: tuple[Intention, ...]


class CourseService:
    def __init__(self, database: Database, catalog: ProtocolCatalog) -> None:
        self.repository = CourseRepository(database)
        self.clients = ClientRepository(database)
        self.catalog = catalog

    def course_id(self, client_id: uuid.UUID) -> uuid.UUID:
        """The client's current course (every client has one from when they were added)."""
        course_id = self.clients.current_course_id(client_id)
        if course_id is None:
            raise NotFound("This client has no course; add the client again.")
        return course_id

    # the plan -------------------------------------------------------------------------------
    def plan(self, client_id: uuid.UUID) -> CoursePlanVersion | None:
        history = self.repository.plan_history(self.course_id(client_id))
        return history[-1] if history else None

    def check(self, plan: CoursePlan) -> list[FieldProblem]:
        """Every problem of the plan: its own, and its standing order checked as a session's
        order is against the clinic's dosing protocol of its medication and route."""
        problems = check_plan(plan)
        if plan.standing_order is not None and not problems:
            protocol = self._dosing_protocol(plan)
            if protocol is None:
                problems.append(
                    FieldProblem(
                        "route",
                        f"No dosing protocol of the clinic gives {plan.medication.value} "
                        f"{plan.route.value}; ask the clinic lead, or record no standing order.",
                    )
                )
            else:
                problems += check_order(plan.standing_order, protocol.protocol.dosing)
        return problems

    def save_plan(
        self,
        client_id: uuid.UUID,
        plan: CoursePlan,
        *,
        at: datetime,
        by: uuid.UUID | None,
        based_on: uuid.UUID | None,
        reason: str = "",
    ) -> CoursePlanVersion:
        """Save `plan` as the course's new version, edited from `based_on` (None: no plan
        yet). Who saves it is named; a change needs its reason. PlanInvalid: nothing stored."""
        problems = self.check(plan)
        if by is None:
            problems.append(FieldProblem("by", "Choose who is entering the plan."))
        if based_on is not None and not reason.strip():
            problems.append(FieldProblem("reason", "Write the reason for changing the plan."))
        if problems:
            raise PlanInvalid(problems)
        assert by is not None
        return self.repository.save_plan(
            self.course_id(client_id), plan, at=at, by=by, replaces=based_on, reason=reason
        )

    # the course's sessions and what is due next ----------------------------------------------
    def overview(self, client_id: uuid.UUID) -> CourseOverview:
        course_id = self.course_id(client_id)
        history = self.repository.plan_history(course_id)
        sessions = self.repository.sessions(course_id)
        plan = history[-1] if history else None
        return CourseOverview(
            course_id=course_id,
            plan=plan,
            history=tuple(history),
            sessions=tuple(sessions),
            next=self._next(plan, sessions),
            intentions=tuple(self.repository.intentions(course_id)),
        )

    def next_session(self, client_id: uuid.UUID) -> NextSession | None:
        """The session due next in the client's course, with its template; None: the plan's
        sessions were all given."""
        course_id = self.course_id(client_id)
        history = self.repository.plan_history(course_id)
        return self._next(history[-1] if history else None, self.repository.sessions(course_id))

    def default_follows(self, client_id: uuid.UUID) -> uuid.UUID | None:
        """The dosing session a new integration session of the client follows by default: the
        most recent one in their course (None: none yet)."""
        sessions = self.repository.sessions(self.course_id(client_id))
        return integration_default(_counted(sessions))

    def dosing_sessions(self, client_id: uuid.UUID) -> list[CourseSessionRow]:
        """The client's dosing sessions in their course, oldest first: what an integration
        session may follow."""
        sessions = self.repository.sessions(self.course_id(client_id))
        return [s for s in sessions if s.session_type is SessionType.DOSING]

    def standing_order(self, client_id: uuid.UUID) -> tuple[DoseOrder, uuid.UUID] | None:
        """The course's standing order and its prescriber (None: none recorded)."""
        version = self.plan(client_id)
        if version is None or version.plan.standing_order is None:
            return None
        if version.plan.ordered_by is None:
            return None
        return version.plan.standing_order, version.plan.ordered_by

    def _next(
        self, version: CoursePlanVersion | None, sessions: Sequence[CourseSessionRow]
    ) -> NextSession | None:
        plan = None if version is None else version.plan
        planned = DEFAULT_PLANNED if plan is None else plan.dosing_sessions
        step = next_in_course(planned, _counted(sessions))
        if step is None:
            return None
        choice = self._template(step.session_type, plan, sessions)
        order = ordered_by = None
        offered = step.session_type is SessionType.DOSING and choice is not None
        if offered and plan is not None and plan.standing_order is not None:
            assert choice is not None
            dosing = choice.protocol.dosing
            if (dosing.medication, dosing.route) == (plan.medication, plan.route):
                order, ordered_by = plan.standing_order, plan.ordered_by
        return NextSession(
            step=step,
            protocol_key=None if choice is None else choice.key,
            follows_session_id=step.follows_session_id,
            order=order,
            ordered_by=ordered_by,
        )

    def _template(
        self,
        session_type: SessionType,
        plan: CoursePlan | None,
        sessions: Sequence[CourseSessionRow],
    ) -> ProtocolChoice | None:
        choices, _problems = self.catalog.scan()
        of_type = [c for c in choices if c.protocol.session_type is session_type]
        if session_type is SessionType.DOSING:
            if plan is not None:
                route = self._dosing_protocol(plan, of_type)
                if route is not None:
                    return route
            last = [s.protocol_key for s in sessions if s.session_type is SessionType.DOSING]
            for key in reversed(last):
                for choice in of_type:
                    if choice.key == key:
                        return choice
        return of_type[0] if of_type else None

    def _dosing_protocol(
        self, plan: CoursePlan, choices: Sequence[ProtocolChoice] | None = None
    ) -> ProtocolChoice | None:
        if choices is None:
            choices = self.catalog.scan()[0]
        for choice in choices:
            protocol = choice.protocol
            if protocol.gives_dose and (protocol.dosing.medication, protocol.dosing.route) == (
                plan.medication,
                plan.route,
            ):
                return choice
        return None

    # intentions -------------------------------------------------------------------------------
    def add_intention(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        text: str,
        *,
        at: datetime,
        by: uuid.UUID | None,
    ) -> NoteRecord:
        """One intention of the client, committed as typed (a preparation session only)."""
        return self.repository.add_intention(
            session_id, participant_id, text, occurred_at=at, recorded_at=at, by=by
        )

    def intentions(self, course_id: uuid.UUID) -> list[Intention]:
        """The client's intentions standing in the course, oldest first."""
        return self.repository.intentions(course_id)


def _counted(sessions: Sequence[CourseSessionRow]) -> list[CourseSession]:
    return [CourseSession(s.session_id, s.session_type, s.follows_session_id) for s in sessions]
