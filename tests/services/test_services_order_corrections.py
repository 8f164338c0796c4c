"""The prescriber's order on the record's timeline, and corrected by the prescriber (issue 16):
every version of an order is an item of the event list and of the exports' timeline, saying who
ordered it and how a verbal order stands; a changed order is the prescriber's (a role that may
prescribe), recorded by them, confirmed in person, and the dose check follows it at once."""

from __future__ import annotations

from dataclasses import replace

import pytest
from services_support import START, Room, minutes, run_until
from support.team import usual_prescriber

from kapsession.domain.corrections import EntryState
from kapsession.domain.dose_order import NO_ORDER
from kapsession.export.text import to_markdown
from kapsession.records.sessions import SessionRecord
from kapsession.services.export_content import gather
from kapsession.services.live_session import LiveSession
from kapsession.services.session_log import SessionLog
from kapsession.services.session_service import OrderEntry

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}


def at_the_dose(room: Room, record: SessionRecord) -> LiveSession:
    live, _signals = room.open_live(record.id)
    for participant in record.participants:
        assert live.save_checkin(participant.id, CALM, checkin_key="baseline") is not None
    run_until(live, room.clock, START + minutes(40))
    return live


def order_items(room: Room, record: SessionRecord):  # type: ignore[no-untyped-def]
    names = {s.id: s.signature_name for s in room.service.staff.all()}
    items = SessionLog(room.context.database).items(record, names)
    return [i for i in items if i.title.startswith("Prescriber's order")]


def test_an_order_corrected_by_the_prescriber_is_what_the_next_dose_is_checked_against(
    room: Room,
) -> None:
    # Given a session started with the usual order (200 mg), the dose not given yet
    record = room.start()
    live = at_the_dose(room, record)
    pid = record.participants[0].id
    prescriber = usual_prescriber(room.service, room.clock.now())
    standing = live.order_of(pid)
    assert standing is not None and standing.order.dose_mg == 200
    # When the prescriber corrects it to 150 mg
    ordered = replace(standing.order, dose_mg=150.0)
    saved = live.correct_order(
        standing.id, "150 mg was ordered", prescriber_id=prescriber.id, order=ordered
    )
    # Then the corrected order stands at once, given and recorded by the prescriber
    assert saved is not None and live.order_of(pid) == saved
    assert (saved.corrects_id, saved.order.dose_mg) == (standing.id, 150.0)
    assert (saved.ordered_by_id, saved.recorded_by_id) == (prescriber.id, prescriber.id)
    assert saved.correction_reason == "150 mg was ordered"
    # And 200 mg is now outside the order, 150 mg within it
    refused = live.record_dose(pid, "200 mg")
    assert refused is not None and refused.needs_order_override
    assert refused.order_check is not None
    assert [d.rule for d in refused.order_check.deviations] == ["order_dose"]
    dosed = live.record_dose(pid, "150 mg")
    assert dosed is not None and dosed.saved, dosed
    # And the event list has both versions, the first marked amended with the reason
    items = order_items(room, record)
    assert [(i.state, i.reason, i.entry_id) for i in items] == [
        (EntryState.AMENDED, "150 mg was ordered", standing.id),
        (EntryState.STANDING, None, saved.id),
    ]
    assert items[1].title.startswith("Prescriber's order: 150 mg SL")
    assert items[1].detail == f"ordered by {prescriber.signature_name}"


def test_a_verbal_order_corrected_in_person_waits_for_no_countersignature(room: Room) -> None:
    # Given a verbal order recorded in the room
    record = room.start(order=None)
    live = at_the_dose(room, record)
    pid = record.participants[0].id
    prescriber = usual_prescriber(room.service, room.clock.now())
    verbal = replace(room.usual_order(), verbal=True)
    order = live.record_order(pid, OrderEntry(verbal, prescriber.id))
    assert order is not None and live.awaiting_countersignature(pid) == order
    # Then the event list says it awaits the countersignature
    (item,) = order_items(room, record)
    assert item.detail == f"ordered by {prescriber.signature_name} · verbal — awaiting " + (
        "countersignature"
    )
    # When the prescriber corrects it with their PIN (the order as typed still says verbal)
    typed = replace(verbal, booster_mg=50.0)
    saved = live.correct_order(order.id, "Booster 50", prescriber_id=prescriber.id, order=typed)
    # Then the corrected order is theirs in person: nothing awaits a countersignature
    assert saved is not None and not saved.order.verbal
    assert live.awaiting_countersignature(pid) is None


def test_only_a_prescriber_corrects_or_withdraws_the_order(room: Room) -> None:
    # Given a session with the usual order
    record = room.start()
    live, signals = room.open_live(record.id)
    pid = record.participants[0].id
    standing = live.order_of(pid)
    assert standing is not None
    # When the nurse tries to correct it, then to withdraw it
    typed = replace(standing.order, dose_mg=100.0)
    changed = live.correct_order(standing.id, "typo", prescriber_id=room.nurse.id, order=typed)
    taken_back = live.correct_order(standing.id, "typo", prescriber_id=room.nurse.id, voids=True)
    # Then both are refused, saying who may, and the order stands as it was
    assert changed is None and taken_back is None
    assert len(signals.failed) == 2
    assert all("prescribe" in said for said in signals.failed), signals.failed
    assert live.order_of(pid) == standing
    assert room.service.checkins.orders.orders(record.id, include_history=True) == [standing]


def test_an_order_withdrawn_as_entered_in_error_leaves_the_participant_without_one(
    room: Room,
) -> None:
    # Given a session with the usual order
    record = room.start()
    live = at_the_dose(room, record)
    pid = record.participants[0].id
    prescriber = usual_prescriber(room.service, room.clock.now())
    standing = live.order_of(pid)
    assert standing is not None
    # When the prescriber withdraws it
    withdrawn = live.correct_order(
        standing.id, "For another client", prescriber_id=prescriber.id, voids=True
    )
    # Then no order stands: the dose needs the prescriber again
    assert withdrawn is not None and withdrawn.voids
    assert live.order_of(pid) is None
    refused = live.record_dose(pid, "200 mg")
    assert refused is not None and refused.order_check is not None
    assert [d.rule for d in refused.order_check.deviations] == [NO_ORDER]
    # And the event list keeps the order, withdrawn with the reason
    assert [(i.state, i.reason) for i in order_items(room, record)] == [
        (EntryState.WITHDRAWN, "For another client")
    ]


@pytest.mark.parametrize("countersigned", [False, True], ids=["awaiting", "countersigned"])
def test_the_exports_timeline_lists_the_order_and_its_countersignature(
    room: Room, countersigned: bool
) -> None:
    # Given a verbal order recorded in the room, countersigned or not
    record = room.start(order=None)
    live = at_the_dose(room, record)
    pid = record.participants[0].id
    prescriber = usual_prescriber(room.service, room.clock.now())
    verbal = replace(room.usual_order(), verbal=True)
    order = live.record_order(pid, OrderEntry(verbal, prescriber.id))
    assert order is not None
    if countersigned:
        assert live.countersign_order(order, prescriber.id)
    # When the session is exported as Markdown
    markdown = to_markdown(gather(room.context.database, record.id))
    # Then its timeline lists the order with who gave it and how it stands
    timeline = markdown.split("## Timeline", 1)[1]
    (line,) = [ln for ln in timeline.splitlines() if "Prescriber's order: 200 mg SL" in ln]
    assert f"ordered by {prescriber.signature_name}" in line
    if countersigned:
        assert f"verbal, countersigned by {prescriber.signature_name} at" in line
    else:
        assert "verbal — awaiting countersignature" in line
