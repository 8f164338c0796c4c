"""Within the order (issue 16, product rule): a dose, first or booster, for a participant
without a recorded order needs the prescriber: the order recorded (their PIN or a verbal order
to countersign) or their override (PIN and reason), saved as a deviation. Through the live
session on a real database; a couples session where one has an order and the other not; a
session from before orders existed keeps its doses and meets the same rule for new ones."""

from __future__ import annotations

from dataclasses import replace

from services_support import START, Room, minutes, run_until
from sqlalchemy import select
from support.team import usual_prescriber

from kapsession.domain.dose_order import NO_ORDER, DoseOrder, PrescriberOverride
from kapsession.records.sessions import SessionRecord
from kapsession.services.live_session import LiveSession
from kapsession.services.session_service import OrderEntry
from kapsession.storage import schema

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}
NO_ORDER_TEXT = "No order is recorded: the prescriber gives the order before the dose"


def ready_for_the_dose(room: Room, record: SessionRecord) -> LiveSession:
    """The session open, each participant's baseline taken, the clock at the planned dose."""
    live, _signals = room.open_live(record.id)
    for participant in record.participants:
        assert live.save_checkin(participant.id, CALM, checkin_key="baseline") is not None
    run_until(live, room.clock, START + minutes(40))
    return live


def an_order(room: Room) -> DoseOrder:
    return room.usual_order()  # 200 mg sublingual, one 100 mg booster at T+30–45


def test_a_dose_without_an_order_is_refused_saying_the_prescriber_gives_it(room: Room) -> None:
    # Given a session started without an order
    record = room.start(order=None)
    live = ready_for_the_dose(room, record)
    pid = record.participants[0].id
    assert live.order_of(pid) is None
    # When the usual dose is entered, Then it waits for the prescriber, saying why
    refused = live.record_dose(pid, "200 mg")
    assert refused is not None and not refused.saved and refused.needs_order_override
    assert refused.order_check is not None
    assert [d.rule for d in refused.order_check.deviations] == [NO_ORDER]
    assert NO_ORDER_TEXT in refused.message
    # And nothing is written
    assert room.service.entries.doses(record.id) == []
    assert room.events(record.id, "dose_override") == []


def test_a_dose_without_an_order_is_saved_with_the_prescribers_override_as_a_deviation(
    room: Room,
) -> None:
    # Given a session started without an order, and the prescriber in the room
    record = room.start(order=None)
    live = ready_for_the_dose(room, record)
    pid = record.participants[0].id
    prescriber = usual_prescriber(room.service, room.clock.now())
    # When the prescriber overrides with their reason
    override = PrescriberOverride(prescriber.id, prescriber.signature_name, "Ordered by phone")
    saved = live.record_dose(pid, "200 mg", order_override=override)
    # Then the dose is saved with who and why, the missing order its deviation
    assert saved is not None and saved.saved and saved.dose is not None
    recorded = saved.dose.detail["order_override"]
    assert (recorded["by"], recorded["reason"]) == (prescriber.signature_name, "Ordered by phone")
    assert [d["rule"] for d in recorded["deviations"]] == [NO_ORDER]
    # And a dose_override event names it, in the audit trail too
    (event,) = room.events(record.id, "dose_override")
    assert event.detail["dose_id"] == str(saved.dose.id)
    assert [d["rule"] for d in event.detail["deviations"]] == [NO_ORDER]
    assert "overridden by Jun Park, MD: Ordered by phone" in event.label
    with room.context.database.rows() as rows:
        audited = rows.execute(
            select(schema.audit_entry.c.entity_id).where(
                schema.audit_entry.c.entity_id == str(event.id)
            )
        ).all()
    assert audited


def test_a_booster_without_an_order_needs_the_prescriber_too(room: Room) -> None:
    # Given a first dose given on the prescriber's override, no order recorded since
    record = room.start(order=None)
    live = ready_for_the_dose(room, record)
    pid = record.participants[0].id
    prescriber = usual_prescriber(room.service, room.clock.now())
    override = PrescriberOverride(prescriber.id, prescriber.signature_name, "Ordered by phone")
    first = live.record_dose(pid, "200 mg", order_override=override)
    assert first is not None and first.saved
    # When a booster is entered inside the protocol's window, on a fresh BP
    run_until(live, room.clock, START + minutes(72))
    assert live.save_checkin(pid, CALM) is not None
    assert live.dose_availability(pid) == (True, "")
    booster = live.record_dose(pid, "100 mg")
    # Then it waits for the prescriber as the first dose did
    assert booster is not None and not booster.saved and booster.needs_order_override
    assert NO_ORDER_TEXT in booster.message
    assert [d.kind for d in room.service.entries.doses(record.id)] == ["initial"]


def test_after_the_order_is_recorded_in_the_room_the_dose_is_accepted(room: Room) -> None:
    # Given a session started without an order ("the prescriber gives it before the dose")
    record = room.start(order=None)
    live = ready_for_the_dose(room, record)
    pid = record.participants[0].id
    assert live.record_dose(pid, "200 mg").needs_order_override  # type: ignore[union-attr]
    # When the prescriber's order is recorded for the participant
    prescriber = usual_prescriber(room.service, room.clock.now())
    order = live.record_order(pid, OrderEntry(an_order(room), prescriber.id))
    assert order is not None and live.order_of(pid) == order
    # Then the same dose is saved without any override
    saved = live.record_dose(pid, "200 mg")
    assert saved is not None and saved.saved and saved.dose is not None
    assert "order_override" not in saved.dose.detail
    assert room.events(record.id, "dose_override") == []
    # And the order now checks the dose as any order does: a booster over it needs the override
    run_until(live, room.clock, START + minutes(72))
    assert live.save_checkin(pid, CALM) is not None
    over = live.record_dose(pid, "150 mg")
    assert over is not None and over.needs_order_override
    assert [d.rule for d in over.order_check.deviations] == ["order_booster_dose"]  # type: ignore[union-attr]


def test_a_verbal_order_recorded_in_the_room_lets_the_dose_through_awaiting_countersignature(
    room: Room,
) -> None:
    # Given a session without an order
    record = room.start(order=None)
    live = ready_for_the_dose(room, record)
    pid = record.participants[0].id
    # When a verbal order is recorded (the prescriber countersigns it later)
    prescriber = usual_prescriber(room.service, room.clock.now())
    verbal = replace(an_order(room), verbal=True)
    assert live.record_order(pid, OrderEntry(verbal, prescriber.id)) is not None
    # Then the dose is saved, and the order waits for the countersignature
    saved = live.record_dose(pid, "200 mg")
    assert saved is not None and saved.saved
    assert live.awaiting_countersignature(pid) is not None


def test_in_a_couples_session_only_the_participant_with_an_order_is_dosed_without_override(
    room: Room,
) -> None:
    # Given a couples session started without orders, then an order recorded for the first
    record = room.start(room.client("Maya", "Fischer"), room.client("Jonas", "Berg"), order=None)
    live = ready_for_the_dose(room, record)
    first, second = (p.id for p in record.participants)
    prescriber = usual_prescriber(room.service, room.clock.now())
    assert live.record_order(first, OrderEntry(an_order(room), prescriber.id)) is not None
    assert live.order_of(second) is None
    # When each is given the same dose
    ordered = live.record_dose(first, "200 mg")
    without = live.record_dose(second, "200 mg")
    # Then the first's is saved, the second's waits for the prescriber
    assert ordered is not None and ordered.saved
    assert without is not None and not without.saved and without.needs_order_override
    assert NO_ORDER_TEXT in without.message
    assert [d.participant_id for d in room.service.entries.doses(record.id)] == [first]


def test_a_session_from_before_orders_keeps_its_doses_and_new_ones_meet_the_rule(
    room: Room,
) -> None:
    # Given a live session without order rows whose first dose was written as a version
    # before orders wrote it (straight to the record, no order, no override)
    record = room.start(order=None)
    pid = record.participants[0].id
    live = ready_for_the_dose(room, record)
    live.stop()
    old, _events = room.service.entries.add_dose(
        record.id, pid, occurred_at=room.clock.now(), recorded_at=room.clock.now(),
        kind="initial", medication="ketamine", route="sublingual", dose_mg=200.0,
    )  # fmt: skip
    # When it is opened again (as after an upgrade) and a booster is entered in its window
    live, _signals = room.open_live(record.id)
    assert live.order_of(pid) is None
    run_until(live, room.clock, START + minutes(72))
    assert live.save_checkin(pid, CALM) is not None
    booster = live.record_dose(pid, "100 mg")
    # Then the booster waits for the prescriber
    assert booster is not None and not booster.saved and booster.needs_order_override
    assert NO_ORDER_TEXT in booster.message
    # And the stored dose is untouched: as written, no override or deviation added to it
    assert room.service.entries.doses(record.id) == [old]
    assert live.doses == [old]
    assert room.events(record.id, "dose_override") == []
    # And once the order is recorded, the booster is saved
    prescriber = usual_prescriber(room.service, room.clock.now())
    assert live.record_order(pid, OrderEntry(an_order(room), prescriber.id)) is not None
    saved = live.record_dose(pid, "100 mg")
    assert saved is not None and saved.saved
    assert room.service.entries.doses(record.id)[0] == old
