"""Check-in slots: the window in which a reading counts for a scheduled check-in (the rest is
unscheduled and uses up no slot), and the measures a check-in requires."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kapsession.domain.measures import is_taken, measure_names, not_taken
from kapsession.domain.protocol import (
    Anchor,
    CheckinSpec,
    DischargeCriteria,
    DosingSpec,
    HoldDoseRule,
    Medication,
    MusicSpec,
    Offset,
    PhaseSpec,
    Protocol,
    Route,
)
from kapsession.domain.timeline import CheckinStatus, TimelineState, compute_timeline, slot_at
from kapsession.domain.vitals import Reading

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
DOSE = START + timedelta(minutes=40)


def dose(m: float) -> Offset:
    return Offset(Anchor.DOSE, m)


def start(m: float) -> Offset:
    return Offset(Anchor.START, m)


PROTOCOL = Protocol(
    key="slots",
    name="Slots",
    version=1,
    description="",
    dosing=DosingSpec(Medication.KETAMINE, Route.SUBLINGUAL, planned_dose_after_start_min=40),
    phases=(
        PhaseSpec("before", "Before", start(0), dose(0)),
        PhaseSpec("after", "After", dose(0), dose(140)),
    ),
    checkins=(
        CheckinSpec("baseline", "Baseline vitals", start(5), grace_min=30, measures=("bp", "hr")),
        CheckinSpec("t15", "T+15", dose(15), grace_min=5, measures=("bp", "hr", "spo2")),
        CheckinSpec("t30", "T+30", dose(30), grace_min=5, measures=("bp",)),
        CheckinSpec("t40", "T+40", dose(40), grace_min=5, measures=("bp",)),
        CheckinSpec("t45", "T+45", dose(45), grace_min=5, measures=("hr",)),
        CheckinSpec("t60", "T+60", dose(60), grace_min=10, measures=("bp",)),
    ),
    alerts=(),
    hold_dose=HoldDoseRule(160, 100, 140, 90),
    discharge=DischargeCriteria(9, 20, 94, 0, ()),
    music=MusicSpec("track_end", 4),
)


def at(
    minutes_after_dose: float,
    *,
    done: frozenset[str] = frozenset({"baseline"}),
    dosed: bool = True,
    protocol: Protocol = PROTOCOL,
) -> TimelineState:
    return compute_timeline(
        protocol,
        started_at=START,
        now=DOSE + timedelta(minutes=minutes_after_dose),
        first_dose_at=DOSE if dosed else None,
        done_checkins=done,
    )


def offered(state: TimelineState) -> str | None:
    slot = state.open_slot()
    return None if slot is None else slot.spec.key


def window_of(state: TimelineState, key: str) -> tuple[float, float] | None:
    """A slot's window in minutes after the dose."""
    slot = next(c for c in state.checkins if c.spec.key == key)
    if slot.opens_at is None or slot.closes_at is None:
        return None
    return (
        (slot.opens_at - DOSE).total_seconds() / 60,
        (slot.closes_at - DOSE).total_seconds() / 60,
    )


# --- the window ---------------------------------------------------------------------------------


def test_a_slot_due_at_t15_with_5_minutes_grace_is_open_from_t10_to_t25() -> None:
    # Given T+15 (grace 5) and the default window of 5 minutes
    # Then its slot opens 5 minutes before it is due and stays open while overdue for one more
    # grace period: from T+10 to T+25
    assert window_of(at(0), "t15") == (10.0, 25.0)
    assert [offered(at(m)) for m in (9.9, 10, 15, 20, 24.9)] == [None, *["t15"] * 4]
    # And at T+22, overdue, it is still offered; at T+25 the next slot is
    late = at(22).open_slot()
    assert late is not None and (late.spec.key, late.status) == ("t15", CheckinStatus.OVERDUE)
    assert offered(at(25)) == "t30"


def test_a_recheck_right_after_the_dose_is_unscheduled() -> None:
    # Given the baseline done and the dose just given
    # When a reading is taken at T+2 (no slot's window is open)
    # Then it counts for no slot: T+15 is not taken by an early reading
    assert offered(at(2)) is None
    assert offered(at(9)) is None


def test_a_slot_due_before_the_dose_closes_when_the_dose_is_given() -> None:
    # Given no baseline taken, before the dose its slot is open (due at start+5, grace 30)
    before = at(-5, done=frozenset(), dosed=False)
    assert offered(before) == "baseline"
    # When the dose is given, a reading after it is no baseline: the slot has closed at the dose
    assert window_of(at(1, done=frozenset()), "baseline") == (-40.0, 0.0)
    assert offered(at(1, done=frozenset())) is None


def test_a_slot_after_the_dose_has_no_window_before_the_dose() -> None:
    # Given the dose not given yet (planned for minute 40), at minute 50
    state = at(10, dosed=False)
    # Then T+15 waits for the dose: no window, nothing offered
    assert window_of(state, "t15") is None
    assert offered(state) is None


def test_a_done_slot_is_not_offered_again() -> None:
    # Given T+15 done, at T+16 (inside its window)
    state = at(16, done=frozenset({"baseline", "t15"}))
    # Then a reading now is unscheduled
    assert offered(state) is None


def test_of_two_open_slots_the_most_urgent_is_offered() -> None:
    # Given T+40 (open T+35..T+50) and T+45 (open T+40..T+55), both pending at T+43
    # Then T+40, due now, comes before T+45, still upcoming
    assert offered(at(43)) == "t40"
    # And with T+40 done, T+45 is offered
    assert offered(at(43, done=frozenset({"baseline", "t40"}))) == "t45"


def test_a_wider_window_than_the_grace_keeps_the_slot_open_for_the_window() -> None:
    # Given a protocol whose slots are open 15 minutes either side
    wide = replace(PROTOCOL, slot_window_min=15.0)
    # Then T+15 (grace 5) is open from T+0 to T+30
    assert window_of(at(0, protocol=wide), "t15") == (0.0, 30.0)


def test_a_checkin_can_have_its_own_window() -> None:
    # Given T+60 with its own window of 2 minutes, in a protocol of 5
    own = replace(PROTOCOL.checkins[5], slot_window_min=2.0)
    protocol = replace(PROTOCOL, checkins=(*PROTOCOL.checkins[:5], own))
    # Then its slot opens 2 minutes before (grace 10: open until T+80); the others keep 5
    assert window_of(at(0, protocol=protocol), "t60") == (58.0, 80.0)
    assert window_of(at(0, protocol=protocol), "t15") == (10.0, 25.0)
    assert offered(at(57, protocol=protocol)) is None


def test_a_reading_taken_earlier_counts_for_the_slot_open_when_it_was_taken() -> None:
    # Given T+27: T+15's slot closed at T+25 (not done), T+30's is open
    state = at(27)
    assert offered(state) == "t30"
    # When a reading taken at T+16 is written up now
    # Then it counts for T+15, whose window held T+16
    late = slot_at(state.checkins, DOSE + timedelta(minutes=16))
    assert late is not None and late.spec.key == "t15"
    # And one taken before the dose, with the baseline not done, counts for the baseline
    before = slot_at(at(27, done=frozenset()).checkins, DOSE - timedelta(minutes=10))
    assert before is not None and before.spec.key == "baseline"
    # And one taken at T+2 counts for none
    assert slot_at(state.checkins, DOSE + timedelta(minutes=2)) is None


def test_takes_tells_whether_a_time_is_in_the_slots_window() -> None:
    t15 = next(c for c in at(0).checkins if c.spec.key == "t15")
    assert t15.takes(DOSE + timedelta(minutes=10))
    assert not t15.takes(DOSE + timedelta(minutes=25))
    assert not t15.takes(DOSE + timedelta(minutes=9))


# --- required measures ------------------------------------------------------------------------


def test_by_default_every_measure_of_a_checkin_is_required() -> None:
    assert PROTOCOL.checkins[1].required_measures == ("bp", "hr", "spo2")
    fewer = replace(PROTOCOL.checkins[1], required=("bp",))
    assert fewer.required_measures == ("bp",)


@pytest.mark.parametrize(
    ("reading", "missing"),
    [
        (Reading(systolic_mmhg=130, diastolic_mmhg=80, heart_rate_bpm=70, spo2_pct=97), ()),
        (Reading(heart_rate_bpm=70), ("bp", "spo2")),
        (Reading(systolic_mmhg=130, diastolic_mmhg=80), ("hr", "spo2")),
        (Reading(comment="asleep"), ("bp", "hr", "spo2")),
    ],
    ids=["complete", "bp-and-spo2-missing", "only-bp", "comment-only"],
)
def test_not_taken_names_each_required_measure_left_empty_in_order(
    reading: Reading, missing: tuple[str, ...]
) -> None:
    assert not_taken(("bp", "hr", "spo2"), reading) == missing


def test_blood_pressure_is_taken_only_with_both_values_and_names_read_as_on_screen() -> None:
    assert is_taken("bp", Reading(systolic_mmhg=130, diastolic_mmhg=80))
    assert not is_taken("bp", Reading(heart_rate_bpm=70))
    assert measure_names(("bp", "spo2", "moaas")) == "BP, SpO2, MOAA/S"
