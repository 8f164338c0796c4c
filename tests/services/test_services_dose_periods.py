"""Doses that last, through the services on a real database (issue 16): the hold's end and the
infusion's actions refused when they cannot be, corrected and withdrawn like every entry, and
the live session's state kept from saves equal to a fresh read."""

from __future__ import annotations

import pytest
from services_support import Room, minutes, run_until

from kapsession.domain.dose_periods import (
    DosePeriodInvalid,
    HoldOutcome,
    InfusionAction,
    InfusionStatus,
)
from kapsession.services.dose_periods import current_hold, current_infusion

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}


def test_the_hold_end_is_refused_before_a_dose_and_twice(room: Room) -> None:
    # Given a sublingual session not dosed yet
    record = room.start()
    pid = record.participants[0].id
    periods = room.service.dose_periods
    now = room.clock.now()
    # When spit is recorded, then it is refused, saying what to do, and nothing is stored
    with pytest.raises(DosePeriodInvalid, match="record the dose first"):
        periods.record_hold_outcome(
            record.id, pid, HoldOutcome.SPIT, occurred_at=now, recorded_at=now
        )
    # Given the dose, when spit is recorded, then once only
    live, signals = room.open_live(record.id)
    live.save_checkin(pid, CALM, checkin_key="baseline")
    assert live.record_dose(pid, "200 mg") is not None
    room.clock.advance(600)
    assert live.record_hold_outcome(pid, HoldOutcome.SPIT) is not None
    assert live.record_hold_outcome(pid, HoldOutcome.SWALLOW) is None
    assert "already ended: spat out at" in signals.failed[-1]
    assert [e.detail["outcome"] for e in room.events(record.id, "hold_outcome")] == ["spit"]


def test_an_infusion_is_refused_on_another_route(room: Room) -> None:
    record = room.start()
    now = room.clock.now()
    with pytest.raises(DosePeriodInvalid, match="not an infusion"):
        room.service.dose_periods.record_infusion_action(
            record.id,
            record.participants[0].id,
            InfusionAction.STOP,
            occurred_at=now,
            recorded_at=now,
        )


def test_an_infusion_kept_from_saves_is_what_a_fresh_read_gives(room: Room) -> None:
    # Given a live IV session: the dose starts the infusion, it is paused, resumed, stopped
    ordered = room.usual_order("iv-infusion", dose_mg_per_kg=1)
    record = room.start(protocol_key="iv-infusion", order=ordered)
    pid = record.participants[0].id
    live, signals = room.open_live(record.id)
    live.save_checkin(pid, CALM, checkin_key="baseline")
    run_until(live, room.clock, room.clock.now() + minutes(40))
    assert live.record_dose(pid, "70 mg", weight_text="70 kg") is not None  # 1 mg/kg
    assert live.infusion(pid) is not None, signals.failed
    run_until(live, room.clock, room.clock.now() + minutes(15))
    assert live.record_infusion_action(pid, InfusionAction.RESUME) is None  # not paused
    assert "it can be paused or stopped now" in signals.failed[-1]
    assert live.record_infusion_action(pid, InfusionAction.PAUSE) is not None
    run_until(live, room.clock, room.clock.now() + minutes(5))
    assert live.record_infusion_action(pid, InfusionAction.RESUME) is not None
    run_until(live, room.clock, room.clock.now() + minutes(25))
    stop = live.record_infusion_action(pid, InfusionAction.STOP, total_mg=68)
    assert stop is not None
    # Then the infusion kept in memory is the one read afresh from the record
    infusion = live.infusion(pid)
    assert infusion is not None and infusion.status is InfusionStatus.STOPPED
    assert (infusion.running_s(room.clock.now()), infusion.paused_s(room.clock.now())) == (
        40 * 60,
        5 * 60,
    )
    assert infusion.given_mg == 68
    fresh = room.service.read_state(record.id)
    assert live._state.events.all == fresh.events.all
    assert current_infusion(live.protocol, fresh.doses.standing, fresh.events.standing, pid) == (
        infusion
    )
    # When the stop is withdrawn (entered in error), then the infusion runs again, and the
    # stop stays on the record, withdrawn
    withdrawal = room.service.dose_periods.correct(
        record.id,
        stop.id,
        reason="Entered for the wrong client",
        recorded_at=room.clock.now(),
        voids=True,
    )
    events = room.service.entries.events(record.id)
    again = current_infusion(live.protocol, room.service.entries.doses(record.id), events, pid)
    assert again is not None and again.status is InfusionStatus.RUNNING
    history = room.service.entries.events(record.id, include_history=True)
    assert {e.id for e in history} >= {stop.id, withdrawal.id}


def test_the_hold_end_time_is_corrected_with_a_reason(room: Room) -> None:
    # Given a sublingual dose spat out, recorded 4 minutes late
    record = room.start()
    pid = record.participants[0].id
    live, _signals = room.open_live(record.id)
    live.save_checkin(pid, CALM, checkin_key="baseline")
    assert live.record_dose(pid, "200 mg") is not None
    dosed_at = room.clock.now()
    room.clock.advance(14 * 60)
    event = live.record_hold_outcome(pid, HoldOutcome.SPIT)
    assert event is not None
    # When its time is corrected to 10 minutes after the dose
    room.service.dose_periods.correct(
        record.id,
        event.id,
        reason="Spat at 10 min; entered late",
        recorded_at=room.clock.now(),
        occurred_at=dosed_at + minutes(10),
    )
    # Then the hold ended then, and the original stays beside it
    hold = current_hold(
        live.protocol,
        room.service.entries.doses(record.id),
        room.service.entries.events(record.id),
        pid,
    )
    assert hold is not None and hold.outcome_at == dosed_at + minutes(10)
    assert len(room.service.entries.events(record.id, include_history=True)) > len(
        room.service.entries.events(record.id)
    )
