"""Signing the monitoring part waits for a verbal order's countersignature (issue 16), in the
signing service itself: refused with the prescriber's name, whatever screen asks; countersigned
there with the prescriber's own PIN (a wrong one writes nothing); the therapy part never waits."""

from __future__ import annotations

from services_support import Room, minutes
from support.signing import PASSPHRASE, give_passphrase

from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route
from kapsession.records.notes import SessionNoteText
from kapsession.services.session_service import OrderEntry

PIN, PRESCRIBER_PIN = "246813", "135792"
VERBAL = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, verbal=True)
NOTE = SessionNoteText("standard", (("summary", "Summary", "Calm session."),))


def test_the_monitoring_part_waits_for_the_prescribers_countersignature(room: Room) -> None:
    # Given an ended session on Dr Ada Lee's verbal order, not countersigned
    notes = room.context.notes
    ada = room.service.add_staff("Ada Lee", "prescriber", at=room.clock.now(), credentials="MD")
    for member, pin in ((room.therapist, PIN), (room.nurse, PIN), (ada, PRESCRIBER_PIN)):
        notes.pins.set_pin(member.id, pin, pin)
        give_passphrase(notes, member.id, pin)
    record = room.service.start_session(
        protocol_key="sublingual-kap-3h", client_ids=[room.client().id], modality="individual",
        at=room.clock.now(), therapist_id=room.therapist.id, nurse_id=room.nurse.id,
        prescriber_id=ada.id, order=OrderEntry(VERBAL, ada.id), by=room.therapist.id,
    )  # fmt: skip
    room.service.end_session(record.id, at=room.clock.now() + minutes(1))
    room.clock.advance(120)
    # When the nurse signs the monitoring part, Then it is refused, naming who countersigns
    refused = notes.sign(record.id, room.nurse.id, PASSPHRASE, ["monitoring"], None)
    assert not refused.ok
    assert "Ada Lee, MD, who gave it, must countersign first" in refused.message
    assert notes.state(record.id).signed == {}
    # And the therapy part does not wait for it
    assert notes.sign(record.id, room.therapist.id, PASSPHRASE, ["therapy"], NOTE).ok
    # When someone else's PIN, or a wrong one, is given for the countersignature
    assert not notes.countersign_orders(record.id, room.nurse.id, PIN).ok
    assert not notes.countersign_orders(record.id, ada.id, "999999").ok
    # Then nothing is countersigned
    assert room.events(record.id, "order_countersigned") == []
    assert len(notes.awaiting_countersignature(record.id)) == 1
    # When she countersigns with her PIN, Then the nurse signs and the session is signed
    assert notes.countersign_orders(record.id, ada.id, PRESCRIBER_PIN).ok
    (event,) = room.events(record.id, "order_countersigned")
    assert event.recorded_by_id == ada.id
    assert notes.awaiting_countersignature(record.id) == []
    assert notes.sign(record.id, room.nurse.id, PASSPHRASE, ["monitoring"], None).ok
    assert notes.state(record.id).status == "signed"
