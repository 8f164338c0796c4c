"""A client's course through the services (issue 17): the plan, "next in course" with its
template, the integration link, intentions from preparation in later sessions' note prefill,
and sessions without a dose that give none."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from services_support import Room, minutes

from kapsession.domain.course_plan import CoursePlan
from kapsession.domain.dose_order import DoseOrder, OrderSource
from kapsession.domain.protocol import Medication, Route, SessionType
from kapsession.records.errors import StorageError
from kapsession.records.people import ClientRecord
from kapsession.records.sessions import SessionRecord
from kapsession.resources import note_templates_dir
from kapsession.services.course import PlanInvalid
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.session_note import SessionNoteService
from kapsession.services.session_service import OrderEntry

ORDER = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), 300)


def prescriber(room: Room):  # type: ignore[no-untyped-def]
    found = [s for s in room.service.staff.active() if s.role == "prescriber"]
    if found:
        return found[0]
    return room.service.add_staff("Dr Ada Lee", "prescriber", at=room.clock.now())


def plan(room: Room, **changes: object) -> CoursePlan:
    values = CoursePlan(
        indication="Treatment-resistant depression",
        dosing_sessions=2,
        medication=Medication.KETAMINE,
        route=Route.SUBLINGUAL,
        standing_order=ORDER,
        ordered_by=prescriber(room).id,
    )
    return replace(values, **changes)  # type: ignore[arg-type]


def start_next(room: Room, client: ClientRecord) -> SessionRecord:
    """Start the session "next in course" offers, as the start screen does (its template, its
    integration link, its standing order as the order), then end it an hour later."""
    course = room.service.course
    offered = course.next_session(client.id)
    assert offered is not None and offered.protocol_key is not None
    order = None if offered.order is None else OrderEntry(offered.order, offered.ordered_by)  # type: ignore[arg-type]
    record = room.service.start_session(
        protocol_key=offered.protocol_key,
        client_ids=[client.id],
        modality="individual",
        at=room.clock.now(),
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
        order=None if order is None else replace(order, source=OrderSource.COURSE_PLAN),
        follows=(
            None if offered.follows_session_id is None else {client.id: offered.follows_session_id}
        ),
        by=room.therapist.id,
    )
    room.clock.advance(3600)
    room.service.end_session(record.id, at=room.clock.now(), by=room.therapist.id)
    room.clock.advance(24 * 3600)
    return record


def test_next_in_course_walks_the_whole_course_with_each_template(room: Room) -> None:
    # Given a client with a plan of two dosing sessions and a standing order
    maya = room.client()
    room.service.course.save_plan(
        maya.id, plan(room), at=room.clock.now(), by=room.therapist.id, based_on=None
    )
    # When each session "next in course" offers is started in turn
    walked = []
    while (offered := room.service.course.next_session(maya.id)) is not None:
        record = start_next(room, maya)
        walked.append((offered.label(), record.protocol_key, record.session_type))
    # Then the course ran in its order, each session of its type on its template
    assert walked == [
        ("Consultation", "consultation", SessionType.CONSULTATION),
        ("Preparation", "preparation", SessionType.PREPARATION),
        ("Dosing 1 of 2", "sublingual-kap-3h", SessionType.DOSING),
        ("Integration after dosing 1", "integration", SessionType.INTEGRATION),
        ("Dosing 2 of 2", "sublingual-kap-3h", SessionType.DOSING),
        ("Integration after dosing 2", "integration", SessionType.INTEGRATION),
        ("Follow-up", "follow-up", SessionType.FOLLOW_UP),
    ]
    # And each integration session follows the dosing session just before it
    sessions = room.service.course.overview(maya.id).sessions
    for index in (3, 5):
        assert sessions[index].follows_session_id == sessions[index - 1].session_id
    # And each dosing session started with the standing order, from the course plan
    for index in (2, 4):
        orders = room.service.checkins.orders.orders(sessions[index].session_id)
        assert [(o.order, o.source) for o in orders] == [(ORDER, OrderSource.COURSE_PLAN)]


def test_a_dosing_session_is_offered_the_template_of_the_plans_route(room: Room) -> None:
    maya = room.client()
    im = plan(room, route=Route.INTRAMUSCULAR, standing_order=None, ordered_by=None)
    room.service.course.save_plan(
        maya.id, im, at=room.clock.now(), by=room.therapist.id, based_on=None
    )
    for _ in range(2):  # consultation, preparation
        start_next(room, maya)
    offered = room.service.course.next_session(maya.id)
    assert offered is not None and offered.step.session_type is SessionType.DOSING
    assert offered.protocol_key == "intramuscular-kap" and offered.order is None


def test_an_integration_follows_the_most_recent_dosing_session_unless_chosen(room: Room) -> None:
    # Given a client with two dosing sessions
    maya = room.client()
    first = room.start(maya)
    room.service.end_session(first.id, at=room.clock.now(), by=room.therapist.id)
    room.clock.advance(3600)
    second = room.start(maya)
    room.service.end_session(second.id, at=room.clock.now(), by=room.therapist.id)
    room.clock.advance(3600)
    assert room.service.course.default_follows(maya.id) == second.id
    # When an integration session starts without a choice, and another chosen for the first
    default = room.start(maya, protocol_key="integration", order=None)
    room.service.end_session(default.id, at=room.clock.now(), by=room.therapist.id)
    chosen = room.service.start_session(
        protocol_key="integration",
        client_ids=[maya.id],
        modality="individual",
        at=room.clock.now(),
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
        follows={maya.id: first.id},
    )
    # Then the first follows the most recent dosing session, the second the one chosen
    assert default.participants[0].follows_session_id == second.id
    assert chosen.participants[0].follows_session_id == first.id


def test_a_plan_with_mistakes_is_refused_with_every_problem_and_nothing_stored(
    room: Room,
) -> None:
    maya = room.client()
    course = room.service.course
    wrong = plan(room, indication=" ", standing_order=replace(ORDER, dose_mg=None))
    with pytest.raises(PlanInvalid) as caught:
        course.save_plan(maya.id, wrong, at=room.clock.now(), by=None, based_on=None)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"indication", "by"}
    # a plan without mistakes of its own has its standing order checked against the protocol
    with pytest.raises(PlanInvalid) as caught:
        course.save_plan(
            maya.id,
            plan(room, standing_order=replace(ORDER, dose_mg=None)),
            at=room.clock.now(),
            by=room.therapist.id,
            based_on=None,
        )
    assert {p.field for p in caught.value.problems} == {"order_dose"}
    assert course.plan(maya.id) is None


def test_a_changed_plan_needs_its_reason(room: Room) -> None:
    maya = room.client()
    course = room.service.course
    first = course.save_plan(
        maya.id, plan(room), at=room.clock.now(), by=room.therapist.id, based_on=None
    )
    with pytest.raises(PlanInvalid, match="reason"):
        course.save_plan(
            maya.id, plan(room, dosing_sessions=8), at=room.clock.now(), by=room.therapist.id,
            based_on=first.id,
        )  # fmt: skip
    second = course.save_plan(
        maya.id, plan(room, dosing_sessions=8), at=room.clock.now(), by=room.therapist.id,
        based_on=first.id, reason="Partial response after six",
    )  # fmt: skip
    overview = course.overview(maya.id)
    assert overview.plan == second and [v.id for v in overview.history] == [first.id, second.id]


def test_intentions_from_preparation_reach_the_later_sessions_note_prefill(room: Room) -> None:
    # Given a client's preparation session where their intention is entered
    maya = room.client()
    preparation = room.start(maya, protocol_key="preparation", order=None)
    room.service.course.add_intention(
        preparation.id,
        preparation.participants[0].id,
        "To meet my grief with kindness",
        at=room.clock.now(),
        by=room.therapist.id,
    )
    room.service.end_session(preparation.id, at=room.clock.now(), by=room.therapist.id)
    room.clock.advance(3600)
    # When a later dosing session's note is prefilled
    dosing = room.start(maya)
    notes = SessionNoteService(room.context.database, room.clock)
    template = NoteTemplateCatalog(note_templates_dir()).get("kap")
    sections = dict((key, body) for key, _title, body in notes.prefill(dosing.id, template))
    # Then its intention section holds the client's intention from preparation
    assert sections["intention"] == "Intention from preparation: To meet my grief with kindness"
    # And the course lists it for the live screen
    overview = room.service.course.overview(maya.id)
    assert [i.text for i in overview.intentions] == ["To meet my grief with kindness"]


def test_an_intention_set_after_a_session_is_not_in_its_prefill(room: Room) -> None:
    maya = room.client()
    earlier = room.start(maya, protocol_key="consultation", order=None)
    room.service.end_session(earlier.id, at=room.clock.now(), by=room.therapist.id)
    room.clock.advance(3600)
    preparation = room.start(maya, protocol_key="preparation", order=None)
    room.service.course.add_intention(
        preparation.id, preparation.participants[0].id, "To rest", at=room.clock.now(),
        by=room.therapist.id,
    )  # fmt: skip
    notes = SessionNoteService(room.context.database, room.clock)
    template = NoteTemplateCatalog(note_templates_dir()).get("kap")
    sections = dict((key, body) for key, _title, body in notes.prefill(earlier.id, template))
    assert sections["intention"] == ""


@pytest.mark.parametrize("key", ["consultation", "preparation", "integration", "follow-up"])
def test_a_session_without_a_dose_offers_none_and_saves_none(room: Room, key: str) -> None:
    # Given a session of a type without a dose, running for 20 minutes
    record = room.start(room.client(), protocol_key=key, order=None)
    live, _signals = room.open_live(record.id)
    room.clock.advance(minutes(20).total_seconds())
    live.tick()
    pid = record.participants[0].id
    # Then no dose is offered, with the reason
    allowed, why = live.dose_availability(pid)
    assert not allowed and "gives no dose" in why
    # And the one dose path refuses one, saving nothing
    result = room.service.checkins.record_dose(
        record.id, pid, "200 mg", occurred_at=room.clock.now(), recorded_at=room.clock.now()
    )
    assert not result.saved and "gives no dose" in result.problems[0].message
    assert room.service.entries.doses(record.id) == []


def test_a_session_without_a_dose_takes_no_order(room: Room) -> None:
    with pytest.raises(StorageError, match="takes no order"):
        room.start(room.client(), protocol_key="consultation", order=ORDER)


def test_a_client_without_a_plan_gets_the_course_of_six_by_default(room: Room) -> None:
    maya = room.client()
    offered = room.service.course.next_session(maya.id)
    assert offered is not None and offered.step.session_type is SessionType.CONSULTATION
    assert offered.step.planned == 6 and offered.protocol_key == "consultation"
    assert isinstance(room.service.course.course_id(maya.id), uuid.UUID)
