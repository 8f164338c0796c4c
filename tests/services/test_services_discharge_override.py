"""Discharge before the minimum time through the nurse's services on a real database (issue 16):
the esketamine "last dose" is the last device, not the first; only a prescriber's override lets
the client leave early, saved with a protocol deviation in the same transaction."""

from __future__ import annotations

from datetime import datetime

import pytest
from services_support import ESKETAMINE, FULL_ALDRETE, Room, minutes

from kapsession.domain.discharge import (
    MINIMUM_TIME_KEY,
    MINIMUM_TIME_LAST_DOSE_KEY,
    DischargeOverride,
)
from kapsession.records.errors import NotAllowed
from kapsession.records.sessions import SessionRecord
from kapsession.services.checkin_results import DischargeResult

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}


def reading(room: Room, record: SessionRecord, key: str | None = None) -> None:
    now = room.clock.now()
    saved = room.service.checkins.save_checkin(
        record.id, record.participants[0].id, CALM, occurred_at=now, recorded_at=now,
        checkin_key=key,
    )  # fmt: skip
    assert saved.saved


def discharge(
    room: Room, record: SessionRecord, override: DischargeOverride | None = None
) -> DischargeResult:
    """A client well on every item, discharged now (a calm reading just taken)."""
    reading(room, record)
    now = room.clock.now()
    checkins = room.service.checkins
    return checkins.record_discharge(
        record.id,
        record.participants[0].id,
        observation=FULL_ALDRETE,
        checklist={item.key: True for item in checkins.protocol(record.id).discharge.checklist},
        occurred_at=now,
        recorded_at=now,
        override=override,
    )


def esketamine_with_two_devices(room: Room) -> tuple[SessionRecord, datetime, datetime]:
    """56 mg esketamine: the first device with the dose, the second 5 minutes later (V)."""
    record = room.start(protocol_key=ESKETAMINE)
    pid = record.participants[0].id
    reading(room, record, key="baseline")
    room.clock.advance(minutes(30).total_seconds())
    first = room.clock.now()
    checkins = room.service.checkins
    dosed = checkins.record_dose(record.id, pid, "56", occurred_at=first, recorded_at=first)
    assert dosed.saved, dosed.message
    room.clock.advance(minutes(5).total_seconds())
    second = room.clock.now()
    checkins.record_device(record.id, pid, occurred_at=second, recorded_at=second)
    return record, first, second


def test_for_esketamine_the_last_dose_is_the_last_device(room: Room) -> None:
    # Given 56 mg esketamine as two devices, 5 minutes apart
    record, first, second = esketamine_with_two_devices(room)
    # When the check runs 62 minutes after the first device (57 after the second)
    room.clock.advance((first + minutes(62) - room.clock.now()).total_seconds())
    early = discharge(room, record)
    # Then the 60 minutes after the last dose count from the second device
    assert early.evaluation.last_dose_at == second
    keys = [p.key for p in early.evaluation.problems]
    assert keys == [MINIMUM_TIME_KEY, MINIMUM_TIME_LAST_DOSE_KEY]
    assert "the last dose, at" in early.evaluation.problems[1].message
    # And at 65 minutes only the REMS two hours from the first device still fail
    room.clock.advance(minutes(3).total_seconds())
    later = discharge(room, record)
    assert [p.key for p in later.evaluation.problems] == [MINIMUM_TIME_KEY]
    assert later.evaluation.earliest_discharge_at == first + minutes(120)


def test_only_a_prescriber_lets_the_client_leave_early(room: Room) -> None:
    # Given an esketamine client 40 minutes after the last device
    record, _first, second = esketamine_with_two_devices(room)
    room.clock.advance(minutes(40).total_seconds())
    # When the monitoring clinician's own override is tried, Then nothing is saved
    nurse_says = DischargeOverride("Escort is here", room.nurse.signature_name)
    assert not discharge(room, record, nurse_says).saved
    # When a nurse is named as the prescriber who decided, Then it is not allowed
    posing = DischargeOverride("Escort is here", "Ruth", prescriber_id=room.nurse.id)
    with pytest.raises(NotAllowed, match="Only a prescriber"):
        discharge(room, record, posing)
    assert room.service.checkins.discharged(record.id) == {}
    assert room.events(record.id, "discharge_deviation") == []
    # When the prescriber decides
    ines = room.service.add_staff("Ines Moreau", "prescriber", at=room.clock.now())
    decided = DischargeOverride("Transfer to hospital", "Ines Moreau", prescriber_id=ines.id)
    result = discharge(room, record, decided)
    # Then the discharge and its deviation are saved together, the minimums and waits named
    assert result.saved
    (deviation,) = room.events(record.id, "discharge_deviation")
    assert result.deviations == (deviation,)
    assert [
        (s["rule"], s["minimum_min"], s["waited_min"]) for s in deviation.detail["shortfalls"]
    ] == [
        (MINIMUM_TIME_KEY, 120, 45),
        (MINIMUM_TIME_LAST_DOSE_KEY, 60, 40),
    ]
    assert deviation.detail["shortfalls"][1]["anchor_at"] == second.isoformat()
    assert (deviation.detail["by"], deviation.detail["reason"]) == (
        "Ines Moreau",
        "Transfer to hospital",
    )
    assert result.event is not None and deviation.occurred_at == result.event.occurred_at
