"""The hold-dose check runs before every participant's first dose in a couples or group
session, on that participant's own baseline: not only before the room's first dose.

Doses go through `LiveSession.record_dose`, the call the dose dialog makes on save; each
participant is dosed after the ones before them, so a check that only looks at the session's
first dose, or at the first participant, lets a later participant through and fails here.
The clients are those of tests/support/multi_participant.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import START, Room, run_until
from support.multi_participant import add_people

from kapsession.domain.hold_dose import HoldDoseLevel, HoldDoseOverride
from kapsession.records.sessions import SessionRecord
from kapsession.services.live_session import LiveSession

SHARED = ("couples", "group")


def _room_with_baselines(
    room: Room, modality: str, pressures: list[tuple[int, int]]
) -> tuple[SessionRecord, LiveSession]:
    """A started session whose participants have these baseline pressures, in order, and
    whose planned dose time has come."""
    clients = add_people(room.service, modality, at=room.clock.now(), by=room.therapist.id)
    record = room.start(*clients, modality=modality)
    live, _signals = room.open_live(record.id)
    for participant, (systolic, diastolic) in zip(record.participants, pressures, strict=True):
        raw = {"bp": f"{systolic}/{diastolic}", "heart_rate_bpm": "74", "spo2_pct": "98"}
        saved = live.save_checkin(participant.id, raw, checkin_key="baseline")
        assert saved is not None and saved.saved
    run_until(live, room.clock, START + timedelta(minutes=40))
    return record, live


@pytest.mark.parametrize("modality", SHARED)
def test_each_participants_first_dose_over_the_block_limit_needs_an_override(
    room: Room, modality: str
) -> None:
    # Given a shared session in which every participant's baseline is over 160/100
    count = 2 if modality == "couples" else 3
    pressures = [(172 + 3 * i, 104 + i) for i in range(count)]
    record, live = _room_with_baselines(room, modality, pressures)

    for participant, (systolic, diastolic) in zip(record.participants, pressures, strict=True):
        pid, name = participant.id, participant.client.full_name
        # When their first dose is entered without an override (the others already dosed)
        refused = live.record_dose(pid, "200 mg", weight_text="70 kg")

        # Then it is refused on their own baseline, and no dose of theirs is saved
        assert refused is not None and refused.needs_override, name
        assert refused.hold_dose is not None and refused.hold_dose.level is HoldDoseLevel.BLOCK
        assert f"{systolic}/{diastolic}" in refused.hold_dose.message
        assert [d for d in live.doses if d.participant_id == pid] == []

        # When it is entered with an override, Then it is their initial dose, with the override
        override = HoldDoseOverride(
            f"Recheck after rest for {name}; prescriber agrees", "Dr. Moreau"
        )
        result = live.record_dose(pid, "200 mg", weight_text="70 kg", override=override)
        assert result is not None and result.saved and result.dose is not None, name
        assert result.dose.kind == "initial"
        (event,) = [
            e for e in room.events(record.id, "hold_dose_override") if e.participant_id == pid
        ]
        assert event.detail["reason"] == override.reason
        assert (event.detail["systolic_mmhg"], event.detail["diastolic_mmhg"]) == (
            systolic,
            diastolic,
        )
        assert event.detail["dose_id"] == str(result.dose.id)
        room.clock.advance(5 * 60)
        live.tick()

    # And every participant has one initial dose and one override on the record
    assert sorted(str(d.participant_id) for d in live.doses if d.kind == "initial") == sorted(
        str(p.id) for p in record.participants
    )
    assert len(room.events(record.id, "hold_dose_override")) == count


@pytest.mark.parametrize("modality", SHARED)
def test_each_participants_first_dose_in_the_caution_band_records_a_caution(
    room: Room, modality: str
) -> None:
    # Given a shared session in which every participant's baseline is above 140/90, not 160/100
    count = 2 if modality == "couples" else 3
    pressures = [(146 + 4 * i, 92 + i) for i in range(count)]
    record, live = _room_with_baselines(room, modality, pressures)

    for participant, (systolic, diastolic) in zip(record.participants, pressures, strict=True):
        pid = participant.id
        # When their first dose is entered (the others already dosed)
        result = live.record_dose(pid, "200 mg", weight_text="70 kg")

        # Then it is saved, with a caution on their own baseline recorded beside it
        assert result is not None and result.saved and result.dose is not None
        assert result.hold_dose is not None
        assert result.hold_dose.level is HoldDoseLevel.CAUTION, participant.client.full_name
        assert f"{systolic}/{diastolic} mmHg is above 140/90 mmHg" in result.hold_dose.message
        (event,) = [
            e for e in room.events(record.id, "hold_dose_caution") if e.participant_id == pid
        ]
        assert event.detail["message"] == result.hold_dose.message
        assert event.detail["dose_id"] == str(result.dose.id)
        room.clock.advance(5 * 60)
        live.tick()

    # And there is one caution per participant, and no override
    assert len(room.events(record.id, "hold_dose_caution")) == count
    assert room.events(record.id, "hold_dose_override") == []
