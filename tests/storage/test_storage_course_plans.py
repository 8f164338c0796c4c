"""A client's course in storage (issue 17): plan versions appended and never changed, sessions
with their type and the dosing session an integration follows, and the client's intentions
from preparation as they stand; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kapsession.domain.course_plan import CoursePlan
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route, SessionType
from kapsession.records.errors import RecordLocked, StorageError
from kapsession.records.people import ClientRecord
from kapsession.records.sessions import SessionRecord
from kapsession.storage import schema
from kapsession.storage.course_plans import CourseRepository, PlanChanged
from kapsession.storage.notes import NoteRepository

if TYPE_CHECKING:
    from conftest import Clinic

ORDER = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), 300)
PLAN = CoursePlan(
    indication="Treatment-resistant depression",
    dosing_sessions=6,
    medication=Medication.KETAMINE,
    route=Route.SUBLINGUAL,
    standing_order=ORDER,
)


def session_of(
    clinic: Clinic,
    clients: Sequence[ClientRecord],
    session_type: SessionType,
    follows: dict | None = None,  # type: ignore[type-arg]
) -> SessionRecord:
    record = clinic.sessions.create(
        protocol_key=session_type.value,
        protocol_name=session_type.value.title(),
        protocol_version=1,
        protocol_text="schema = 1\n",
        modality="individual" if len(clients) == 1 else "couples",
        client_ids=[c.id for c in clients],
        at=clinic.now(),
        therapist_id=clinic.therapist.id,
        by=clinic.therapist.id,
        session_type=session_type,
        follows=follows,
    )
    return clinic.sessions.start(record.id, at=clinic.now(), by=clinic.therapist.id)


def course_of(clinic: Clinic, client: ClientRecord):  # type: ignore[no-untyped-def]
    course_id = clinic.clients.current_course_id(client.id)
    assert course_id is not None
    return course_id


def test_a_plan_is_saved_and_replaced_by_a_new_version_keeping_the_old(clinic: Clinic) -> None:
    # Given a client's course and its first plan, with a standing order by the prescriber
    repo = CourseRepository(clinic.db)
    prescriber = clinic.staff.add("Dr Ada Lee", "prescriber", at=clinic.now())
    course_id = course_of(clinic, clinic.add_client())
    plan = CoursePlan(**{**PLAN.__dict__, "ordered_by": prescriber.id})
    first = repo.save_plan(course_id, plan, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    assert first.plan == plan
    assert first.recorded_by == "Dr. Ruth Okafor, MD"
    # When the plan is changed to eight sessions and no standing order, with the reason
    changed = CoursePlan(**{**PLAN.__dict__, "dosing_sessions": 8, "standing_order": None})
    second = repo.save_plan(
        course_id,
        changed,
        at=clinic.now(),
        by=clinic.therapist.id,
        replaces=first.id,
        reason="Partial response",
    )
    # Then both versions stand in the history, the newest last, each as it was saved
    history = repo.plan_history(course_id)
    assert [v.id for v in history] == [first.id, second.id]
    assert [v.plan for v in history] == [plan, changed]
    assert history[1].replaces_id == first.id and history[1].reason == "Partial response"
    # And each save has its audit row
    with clinic.db.rows() as rows:
        actions = rows.execute(
            select(func.count())
            .select_from(schema.audit_entry)
            .where(schema.audit_entry.c.action == "course_plan.save")
        ).scalar_one()
    assert actions == 2


def test_a_plan_saved_from_an_older_version_or_without_a_reason_is_refused(
    clinic: Clinic,
) -> None:
    repo = CourseRepository(clinic.db)
    course_id = course_of(clinic, clinic.add_client())
    first = repo.save_plan(course_id, PLAN, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    repo.save_plan(
        course_id, PLAN, at=clinic.now(), by=clinic.therapist.id, replaces=first.id, reason="x"
    )
    # When someone saves from the first version (another saved meanwhile) / from none
    for replaces in (first.id, None):
        with pytest.raises(PlanChanged):
            repo.save_plan(
                course_id, PLAN, at=clinic.now(), by=clinic.therapist.id, replaces=replaces,
                reason="y",
            )  # fmt: skip
    # And a change without a reason
    head = repo.plan_history(course_id)[-1]
    with pytest.raises(StorageError, match="reason"):
        repo.save_plan(course_id, PLAN, at=clinic.now(), by=clinic.therapist.id, replaces=head.id)
    # Then nothing more was stored
    assert len(repo.plan_history(course_id)) == 2


def test_plan_rows_are_never_changed_or_deleted(clinic: Clinic) -> None:
    repo = CourseRepository(clinic.db)
    course_id = course_of(clinic, clinic.add_client())
    repo.save_plan(course_id, PLAN, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    for statement in ("UPDATE course_plan SET dosing_sessions = 1", "DELETE FROM course_plan"):
        with pytest.raises(DBAPIError, match="append-only"), clinic.db.engine.begin() as c:
            c.execute(text(statement))


def test_the_course_lists_its_sessions_with_types_and_the_integration_link(
    clinic: Clinic,
) -> None:
    # Given a client's consultation and dosing session, then an integration following it
    repo = CourseRepository(clinic.db)
    maya = clinic.add_client()
    consultation = session_of(clinic, [maya], SessionType.CONSULTATION)
    dosing = session_of(clinic, [maya], SessionType.DOSING)
    integration = session_of(clinic, [maya], SessionType.INTEGRATION, {maya.id: dosing.id})
    # Then the course reads them oldest first, with their types and the link
    rows = repo.sessions(course_of(clinic, maya))
    assert [(r.session_id, r.session_type) for r in rows] == [
        (consultation.id, SessionType.CONSULTATION),
        (dosing.id, SessionType.DOSING),
        (integration.id, SessionType.INTEGRATION),
    ]
    assert rows[2].follows_session_id == dosing.id
    # And the session record says so too
    again = clinic.sessions.get(integration.id)
    assert again.session_type is SessionType.INTEGRATION
    assert again.participants[0].follows_session_id == dosing.id


@pytest.mark.parametrize("wrong", ["another client's", "not a dosing session", "not integration"])
def test_an_integration_follows_only_one_of_the_clients_own_dosing_sessions(
    clinic: Clinic, wrong: str
) -> None:
    maya, jon = clinic.add_client(), clinic.add_client("Jon", "Fischer")
    jons = session_of(clinic, [jon], SessionType.DOSING)
    consultation = session_of(clinic, [maya], SessionType.CONSULTATION)
    mayas = session_of(clinic, [maya], SessionType.DOSING)
    kind, followed = {
        "another client's": (SessionType.INTEGRATION, jons.id),
        "not a dosing session": (SessionType.INTEGRATION, consultation.id),
        "not integration": (SessionType.PREPARATION, mayas.id),
    }[wrong]
    with pytest.raises(StorageError):
        session_of(clinic, [maya], kind, {maya.id: followed})
    assert len(CourseRepository(clinic.db).sessions(course_of(clinic, maya))) == 2


def test_intentions_are_committed_as_typed_and_stand_as_amended(clinic: Clinic) -> None:
    # Given a preparation session of the client's course
    repo = CourseRepository(clinic.db)
    maya = clinic.add_client()
    preparation = session_of(clinic, [maya], SessionType.PREPARATION)
    pid = preparation.participants[0].id
    # When two intentions are entered, the first amended and the second withdrawn later
    first = repo.add_intention(
        preparation.id, pid, "  To meet my grief gently", occurred_at=clinic.now(),
        recorded_at=clinic.now(), by=clinic.therapist.id,
    )  # fmt: skip
    second = repo.add_intention(
        preparation.id, pid, "To rest", occurred_at=clinic.now(), recorded_at=clinic.now(),
        by=clinic.therapist.id,
    )  # fmt: skip
    assert first.text == "  To meet my grief gently"  # kept exactly as typed
    notes = NoteRepository(clinic.db)
    notes.amend_entry(
        first.id, "To meet my grief with kindness", reason="Client's words",
        recorded_at=clinic.now(),
    )  # fmt: skip
    notes.amend_entry(
        second.id, None, reason="Entered in error", recorded_at=clinic.now(), voids=True
    )
    # Then the course's intentions are the amended one only; every version stays on record
    standing = repo.intentions(course_of(clinic, maya))
    assert [i.text for i in standing] == ["To meet my grief with kindness"]
    assert len(notes.notes(preparation.id, kinds=["intention"])) == 4


@pytest.mark.parametrize("session_type", [SessionType.DOSING, SessionType.INTEGRATION])
def test_intentions_are_set_in_a_preparation_session_only(
    clinic: Clinic, session_type: SessionType
) -> None:
    repo = CourseRepository(clinic.db)
    maya = clinic.add_client()
    other = session_of(clinic, [maya], session_type)
    with pytest.raises(StorageError, match="preparation session"):
        repo.add_intention(
            other.id, other.participants[0].id, "To rest", occurred_at=clinic.now(),
            recorded_at=clinic.now(), by=clinic.therapist.id,
        )  # fmt: skip
    assert repo.intentions(course_of(clinic, maya)) == []


def test_no_intention_is_added_to_a_signed_session(clinic: Clinic) -> None:
    repo = CourseRepository(clinic.db)
    maya = clinic.add_client()
    preparation = session_of(clinic, [maya], SessionType.PREPARATION)
    with clinic.db.engine.begin() as connection:
        connection.execute(
            schema.session.update()
            .where(schema.session.c.id == preparation.id)
            .values(status="signed")
        )
    with pytest.raises(RecordLocked):
        repo.add_intention(
            preparation.id, preparation.participants[0].id, "To rest", occurred_at=clinic.now(),
            recorded_at=clinic.now(), by=clinic.therapist.id,
        )  # fmt: skip
