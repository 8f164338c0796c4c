"""A client's course of treatment (issue 17): its plan and what session is due next.

A KAP course is a consultation, a preparation session (or two), the planned number of dosing
sessions with an integration session after each, then a follow-up (clinical-sources §2
"Course", §6). The plan holds the indication, how many dosing sessions, the medication and
route, and the prescriber's standing order: the order a new dosing session of the course is
offered, still confirmed by the prescriber when the session starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import (
    SESSION_TYPE_NAMES,
    Medication,
    Route,
    SessionType,
)
from kapsession.domain.vitals import FieldProblem

MAX_DOSING_SESSIONS = 24  # a plan beyond this is a typing mistake, not a course
MAX_INDICATION_CHARS = 2000
# Medication and route of a plan: the pairs the shipped protocols give (clinical-sources §2).
PLAN_ROUTES: tuple[tuple[Medication, Route], ...] = (
    (Medication.KETAMINE, Route.SUBLINGUAL),
    (Medication.KETAMINE, Route.INTRAMUSCULAR),
    (Medication.KETAMINE, Route.INTRAVENOUS),
    (Medication.ESKETAMINE, Route.INTRANASAL),
)


@dataclass(frozen=True)
class CoursePlan:
    """The plan of a course as the prescriber and therapist set it."""

    indication: str
    dosing_sessions: int
    medication: Medication
    route: Route
    standing_order: DoseOrder | None = None  # None: each session's order is given at its start
    ordered_by: uuid.UUID | None = None  # the prescriber of the standing order

    def summary(self) -> str:
        order = (
            "no standing order"
            if self.standing_order is None
            else f"standing order {self.standing_order.summary()}"
        )
        return (
            f"{self.indication} · {self.dosing_sessions} dosing sessions, "
            f"{self.medication.value} {self.route.value} · {order}"
        )


def check_plan(plan: CoursePlan) -> list[FieldProblem]:
    """What is wrong with a plan as entered (nothing is saved then); the standing order's
    amounts are checked against the dosing protocol by the caller (`check_order`)."""
    problems: list[FieldProblem] = []
    if not plan.indication.strip():
        problems.append(
            FieldProblem("indication", "Indication: write what the course treats, e.g. depression.")
        )
    elif len(plan.indication) > MAX_INDICATION_CHARS:
        problems.append(
            FieldProblem(
                "indication",
                f"Indication: at most {MAX_INDICATION_CHARS} characters "
                f"({len(plan.indication)} typed).",
            )
        )
    if not 1 <= plan.dosing_sessions <= MAX_DOSING_SESSIONS:
        problems.append(
            FieldProblem(
                "dosing_sessions",
                f"Dosing sessions planned: 1 to {MAX_DOSING_SESSIONS}, not {plan.dosing_sessions}.",
            )
        )
    if (plan.medication, plan.route) not in PLAN_ROUTES:
        problems.append(
            FieldProblem(
                "route", f"Route: {plan.medication.value} is not given {plan.route.value}."
            )
        )
    order = plan.standing_order
    if order is not None:
        if (order.medication, order.route) != (plan.medication, plan.route):
            problems.append(
                FieldProblem(
                    "standing_order",
                    f"Standing order: it is for {order.medication.value} {order.route.value}, "
                    f"but the plan gives {plan.medication.value} {plan.route.value}.",
                )
            )
        if plan.ordered_by is None:
            problems.append(
                FieldProblem("ordered_by", "Standing order: choose the prescriber who gave it.")
            )
        if order.verbal:
            problems.append(
                FieldProblem(
                    "standing_order",
                    "Standing order: a verbal order is given for one session, not a course.",
                )
            )
    return problems


@dataclass(frozen=True)
class CourseSession:
    """A session of the course as the plan counts it: its type and, for an integration
    session, the dosing session it follows."""

    session_id: uuid.UUID
    session_type: SessionType
    follows_session_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CourseStep:
    """The session due next in a course."""

    session_type: SessionType
    dosing_number: int | None = None  # dosing: which one (1…N); integration: the one it follows
    planned: int = 0  # dosing sessions planned
    follows_session_id: uuid.UUID | None = None  # integration: the dosing session it follows

    def label(self) -> str:
        """E.g. "Dosing 3 of 6", "Integration after dosing 3", "Consultation"."""
        name = SESSION_TYPE_NAMES[self.session_type]
        if self.session_type is SessionType.DOSING:
            return f"{name} {self.dosing_number} of {self.planned}"
        if self.session_type is SessionType.INTEGRATION and self.dosing_number is not None:
            return f"{name} after dosing {self.dosing_number}"
        return name


def next_in_course(planned: int, sessions: Sequence[CourseSession]) -> CourseStep | None:
    """The session due next, from the course's sessions oldest first: a consultation, then a
    preparation, until the first dosing session; after each dosing session its integration;
    the next dosing session until `planned` were given; then a follow-up. None: the plan is
    done (its follow-up taken)."""
    dosing = [s for s in sessions if s.session_type is SessionType.DOSING]
    types = {s.session_type for s in sessions}
    if not dosing:
        if SessionType.CONSULTATION not in types:
            return CourseStep(SessionType.CONSULTATION, planned=planned)
        if SessionType.PREPARATION not in types:
            return CourseStep(SessionType.PREPARATION, planned=planned)
        return CourseStep(SessionType.DOSING, 1, planned)
    latest = dosing[-1]
    integrated = {
        s.follows_session_id for s in sessions if s.session_type is SessionType.INTEGRATION
    }
    if latest.session_id not in integrated:
        return CourseStep(
            SessionType.INTEGRATION, len(dosing), planned, follows_session_id=latest.session_id
        )
    if len(dosing) < planned:
        return CourseStep(SessionType.DOSING, len(dosing) + 1, planned)
    if SessionType.FOLLOW_UP not in types:
        return CourseStep(SessionType.FOLLOW_UP, planned=planned)
    return None


def integration_default(sessions: Sequence[CourseSession]) -> uuid.UUID | None:
    """The dosing session a new integration session follows unless chosen otherwise: the
    course's most recent dosing session (None: none yet)."""
    dosing = [s for s in sessions if s.session_type is SessionType.DOSING]
    return dosing[-1].session_id if dosing else None
