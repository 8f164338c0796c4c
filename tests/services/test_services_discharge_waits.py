"""Discharge waits, through the nurse's services on a real database (issue 16): the minimum time
from the last dose or booster and from an infusion's end, refused before it and allowed at the
exact minute; and once a participant is discharged nothing falls due for them."""

from __future__ import annotations

from datetime import datetime

from services_support import ALL_YES, FULL_ALDRETE, Room, minutes, run_until

from kapsession.domain.discharge import (
    INFUSION_RUNNING_KEY,
    MINIMUM_TIME_LAST_DOSE_KEY,
    DischargeOverride,
)
from kapsession.domain.dose_periods import InfusionAction
from kapsession.domain.timeline import CheckinStatus
from kapsession.records.sessions import SessionRecord
from kapsession.services.checkin_results import DischargeResult

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}
IV = "iv-infusion"


def baseline(room: Room, record: SessionRecord) -> None:
    now = room.clock.now()
    result = room.service.checkins.save_checkin(
        record.id,
        record.participants[0].id,
        CALM,
        occurred_at=now,
        recorded_at=now,
        checkin_key="baseline",
        by=room.nurse.id,
    )
    assert result.saved


def give(room: Room, record: SessionRecord, text: str, weight: str = "") -> datetime:
    now = room.clock.now()
    result = room.service.checkins.record_dose(
        record.id,
        record.participants[0].id,
        text,
        occurred_at=now,
        recorded_at=now,
        weight_text=weight,
    )
    assert result.saved, result.message
    return now


def blood_pressure(room: Room, record: SessionRecord) -> None:
    """A calm reading taken now, outside any slot."""
    now = room.clock.now()
    reading = room.service.checkins.save_checkin(
        record.id, record.participants[0].id, CALM, occurred_at=now, recorded_at=now
    )
    assert reading.saved


def discharge(room: Room, record: SessionRecord) -> DischargeResult:
    """A ready client (full Aldrete, every item ticked, a calm reading just taken) discharged
    now, without an override."""
    now = room.clock.now()
    checkins = room.service.checkins
    reading = checkins.save_checkin(
        record.id, record.participants[0].id, CALM, occurred_at=now, recorded_at=now
    )
    assert reading.saved
    return checkins.record_discharge(
        record.id,
        record.participants[0].id,
        observation=FULL_ALDRETE,
        checklist={item.key: True for item in checkins.protocol(record.id).discharge.checklist},
        occurred_at=now,
        recorded_at=now,
    )


def test_discharge_waits_sixty_minutes_after_the_last_booster(room: Room) -> None:
    # Given a sublingual session: baseline, the dose, and a booster 30 minutes later
    record = room.start()
    baseline(room, record)
    room.clock.advance(minutes(35).total_seconds())
    first = give(room, record, "200 mg")
    room.clock.advance(minutes(30).total_seconds())
    blood_pressure(room, record)  # a booster needs a recent one
    booster = give(room, record, "100 mg")
    assert [d.kind for d in room.service.entries.doses(record.id)] == ["initial", "booster"]

    # When discharge is asked 60 minutes after the first dose (30 after the booster)
    room.clock.advance(minutes(30).total_seconds())
    refused = discharge(room, record)
    # Then it is refused, counting from the booster, and nothing is stored
    assert not refused.saved
    assert [p.key for p in refused.evaluation.problems] == [MINIMUM_TIME_LAST_DOSE_KEY]
    assert refused.evaluation.earliest_discharge_at == booster + minutes(60)
    assert refused.evaluation.first_dose_at == first
    assert room.service.checkins.discharged(record.id) == {}

    # When asked again a minute before, then at the exact minute 60 after the booster
    room.clock.advance(minutes(29).total_seconds())
    assert not discharge(room, record).saved
    room.clock.advance(minutes(1).total_seconds())
    allowed = discharge(room, record)
    # Then it is recorded at that minute
    assert allowed.saved and allowed.evaluation.ready
    assert room.service.checkins.discharged(record.id) == {
        record.participants[0].id: booster + minutes(60)
    }


def test_an_infusion_is_observed_from_its_stop(room: Room) -> None:
    # Given an IV session whose infusion started with the dose (1 mg/kg, as ordered)
    record = room.start(protocol_key=IV, order=room.usual_order(IV, dose_mg_per_kg=1))
    pid = record.participants[0].id
    baseline(room, record)
    room.clock.advance(minutes(35).total_seconds())
    give(room, record, "70 mg", weight="70 kg")  # 1 mg/kg
    periods = room.service.dose_periods

    # When discharge is asked two hours later with the infusion never stopped
    room.clock.advance(minutes(120).total_seconds())
    running = discharge(room, record)
    # Then it is refused because the infusion runs
    assert [p.key for p in running.evaluation.problems] == [INFUSION_RUNNING_KEY]

    # When the infusion is stopped now and discharge asked 59 then 60 minutes later
    now = room.clock.now()
    periods.record_infusion_action(
        record.id, pid, InfusionAction.STOP, occurred_at=now, recorded_at=now
    )
    room.clock.advance(minutes(59).total_seconds())
    early = discharge(room, record)
    assert [p.key for p in early.evaluation.problems] == [MINIMUM_TIME_LAST_DOSE_KEY]
    assert early.evaluation.last_dose_at == now
    room.clock.advance(minutes(1).total_seconds())
    # Then at the exact minute it is recorded
    assert discharge(room, record).saved


def test_nothing_falls_due_after_discharge(room: Room) -> None:
    # Given a live sublingual session, dosed, with an alert asking for a recheck
    record = room.start()
    live, _signals = room.open_live(record.id)
    pid = record.participants[0].id
    live.save_checkin(pid, CALM, checkin_key="baseline")
    run_until(live, room.clock, room.clock.now() + minutes(35))
    assert live.record_dose(pid, "200 mg") is not None
    run_until(live, room.clock, room.clock.now() + minutes(70))
    live.save_checkin(pid, {**CALM, "bp": "186/96"})  # unscheduled, over the alert limit
    assert any(r.participant_id == pid and r.done_at is None for r in live.rechecks)
    pending = [c for c in live.state(pid).checkins if c.status is not CheckinStatus.DONE]
    assert pending  # the schedule's later check-ins and the recheck
    # When the client is discharged (the check overridden: the BP is high)
    live.save_checkin(pid, CALM)
    result = live.record_discharge(
        pid, FULL_ALDRETE, ALL_YES, override=DischargeOverride("Seen by Dr. Ng", "Tom Becker")
    )
    assert result is not None and result.saved
    # Then, hours later, no check-in or recheck is due or upcoming for them
    run_until(live, room.clock, room.clock.now() + minutes(120), step_s=60)
    state = live.state(pid)
    assert all(c.status is CheckinStatus.DONE for c in state.checkins)
    assert state.next_checkins() == ()
    # And the nurse board has nothing next for them
    (row,) = live.board()
    assert row.next_checkin is None and row.discharged_at is not None
    # And the state says discharged, for the dose side to read
    assert live.discharged == {pid: result.evaluation.evaluated_at}
    # And the same when the session is opened again from the record
    fresh, _ = room.open_live(record.id)
    assert fresh.state(pid).next_checkins() == ()
    assert fresh.board()[0].next_checkin is None
