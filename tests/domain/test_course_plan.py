"""The course plan and "next in course" (issue 17): consultation, preparation, each dosing
session followed by its integration, then a follow-up."""

from __future__ import annotations

import uuid

import pytest

from kapsession.domain.course_plan import (
    CoursePlan,
    CourseSession,
    CourseStep,
    check_plan,
    integration_default,
    next_in_course,
)
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route, SessionType

C, P, D, INT, F = (
    SessionType.CONSULTATION,
    SessionType.PREPARATION,
    SessionType.DOSING,
    SessionType.INTEGRATION,
    SessionType.FOLLOW_UP,
)
PRESCRIBER = uuid.uuid4()
ORDER = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, dose_mg=200, dose_mg_per_kg=None)


def take(sessions: list[CourseSession], step: CourseStep) -> None:
    """The step's session is given, as the start screen would start it."""
    sessions.append(CourseSession(uuid.uuid4(), step.session_type, step.follows_session_id))


def test_a_full_course_runs_consultation_preparation_dosing_with_integrations_and_follow_up():
    # Given a plan of three dosing sessions and nothing given yet
    sessions: list[CourseSession] = []
    labels = []
    # When each session due next is given in turn
    while (step := next_in_course(3, sessions)) is not None:
        labels.append(step.label())
        take(sessions, step)
    # Then the course ran in its order, and nothing is due once the follow-up was given
    assert labels == [
        "Consultation",
        "Preparation",
        "Dosing 1 of 3",
        "Integration after dosing 1",
        "Dosing 2 of 3",
        "Integration after dosing 2",
        "Dosing 3 of 3",
        "Integration after dosing 3",
        "Follow-up",
    ]


def test_the_integration_due_follows_the_most_recent_dosing_session():
    sessions = [CourseSession(uuid.uuid4(), t) for t in (C, P, D)]
    step = next_in_course(6, sessions)
    assert step == CourseStep(INT, 1, 6, follows_session_id=sessions[-1].session_id)


def test_an_integration_of_an_earlier_dosing_session_leaves_the_latest_one_due():
    # Given two dosing sessions, the integration linked to the first only
    first, second = CourseSession(uuid.uuid4(), D), CourseSession(uuid.uuid4(), D)
    sessions = [first, CourseSession(uuid.uuid4(), INT, first.session_id), second]
    # Then the integration after the second is due
    step = next_in_course(6, sessions)
    assert step is not None and step.follows_session_id == second.session_id
    assert step.label() == "Integration after dosing 2"


def test_a_course_with_dosing_sessions_from_before_session_types_asks_no_consultation():
    # Given a course whose earlier sessions are all dosing sessions (every session before
    # issue 17), each followed by nothing
    sessions = [CourseSession(uuid.uuid4(), D)]
    # Then its integration is due, not a consultation
    step = next_in_course(6, sessions)
    assert step is not None and step.session_type is INT


def test_a_second_preparation_does_not_hold_up_the_first_dosing_session():
    sessions = [CourseSession(uuid.uuid4(), t) for t in (C, P, P)]
    assert next_in_course(6, sessions) == CourseStep(D, 1, 6)


def test_the_integration_default_is_the_most_recent_dosing_session():
    older, newer = CourseSession(uuid.uuid4(), D), CourseSession(uuid.uuid4(), D)
    assert integration_default([older, CourseSession(uuid.uuid4(), INT), newer]) == newer.session_id
    assert integration_default([CourseSession(uuid.uuid4(), C)]) is None


def plan(**changes: object) -> CoursePlan:
    values: dict[str, object] = {
        "indication": "Treatment-resistant depression",
        "dosing_sessions": 6,
        "medication": Medication.KETAMINE,
        "route": Route.SUBLINGUAL,
        "standing_order": ORDER,
        "ordered_by": PRESCRIBER,
    }
    values.update(changes)
    return CoursePlan(**values)  # type: ignore[arg-type]


def test_a_complete_plan_has_no_problem():
    assert check_plan(plan()) == []
    assert check_plan(plan(standing_order=None, ordered_by=None)) == []


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"indication": "  "}, "indication", "write what the course treats"),
        ({"dosing_sessions": 0}, "dosing_sessions", "1 to 24, not 0"),
        ({"dosing_sessions": 25}, "dosing_sessions", "1 to 24, not 25"),
        (
            {"route": Route.INTRANASAL, "standing_order": None},
            "route",
            "ketamine is not given intranasal",
        ),
        (
            {"standing_order": DoseOrder(Medication.KETAMINE, Route.INTRAMUSCULAR, 50, None)},
            "standing_order",
            "it is for ketamine intramuscular, but the plan gives ketamine sublingual",
        ),
        ({"ordered_by": None}, "ordered_by", "choose the prescriber who gave it"),
        (
            {
                "standing_order": DoseOrder(
                    Medication.KETAMINE, Route.SUBLINGUAL, 200, None, verbal=True
                )
            },
            "standing_order",
            "a verbal order is given for one session",
        ),
    ],
)
def test_a_plan_with_a_mistake_names_the_field(
    changes: dict[str, object], field: str, words: str
) -> None:
    problems = check_plan(plan(**changes))
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message
