"""Alert follow-up in the domain: what an acknowledgement must say, and the recheck an alert asks
for (due, overdue, done by the next reading of its measure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapsession.domain.alert_followup import (
    CHOSEN_ACTIONS,
    RECHECK_GRACE_MIN,
    AlertAction,
    after_new_reading,
    describe_follow_up,
    follow_up_problem,
    is_recheck,
    rechecks,
    scheduled,
)
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.timeline import CheckinStatus, compute_timeline

PROTOCOL = load_protocol(
    Path(__file__).parents[2] / "assets" / "protocols" / "sublingual-kap-3h.toml"
)
START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
ANNA, BEN = uuid.uuid4(), uuid.uuid4()


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


# --- what an acknowledgement says -----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "text", "words"),
    [
        (None, "", "Say what was done about the alert"),
        ("", "", "Say what was done about the alert"),
        ("   ", "rechecked", "Say what was done about the alert"),
        (AlertAction.INTERVENTION, "", "Write the intervention"),
        (AlertAction.INTERVENTION, "   ", "Write the intervention"),
        (AlertAction.NO_ACTION, "", "Write why no action was taken"),
        (AlertAction.NOT_RECORDED, "", "choose what was done"),
        ("ignored", "", "is not an action"),
        (AlertAction.RECHECKED, "x" * 501, "keep it to 500"),
    ],
)
def test_an_acknowledgement_without_what_was_done_is_refused(
    action: str | None, text: str, words: str
) -> None:
    problem = follow_up_problem(action, text)
    assert problem is not None and words in problem


@pytest.mark.parametrize(
    ("action", "text"),
    [
        (AlertAction.RECHECKED, ""),
        (AlertAction.RECHECKED, "Cuff reseated"),
        (AlertAction.INTERVENTION, "Clonidine 0.1 mg by mouth"),
        (AlertAction.PRESCRIBER_INFORMED, ""),
        (AlertAction.NO_ACTION, "Known white-coat hypertension, asymptomatic"),
        ("rechecked", ""),  # as stored
    ],
)
def test_an_acknowledgement_saying_what_was_done_is_accepted(action: str, text: str) -> None:
    assert follow_up_problem(action, text) is None


def test_the_nurse_chooses_from_four_actions_never_not_recorded() -> None:
    assert [a.value for a in CHOSEN_ACTIONS] == [
        "rechecked",
        "intervention",
        "prescriber_informed",
        "no_action",
    ]
    assert AlertAction.NOT_RECORDED not in CHOSEN_ACTIONS


def test_an_action_is_described_with_what_was_written() -> None:
    assert (
        describe_follow_up("intervention", " Clonidine 0.1 mg ") == "Intervention: Clonidine 0.1 mg"
    )
    assert describe_follow_up("rechecked", "") == "Rechecked"
    assert describe_follow_up("not_recorded", "") == "Action not recorded"


# --- the recheck ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    observation_id: uuid.UUID
    participant_id: uuid.UUID
    field: str
    op: str
    raised_at: datetime


@dataclass(frozen=True)
class Obs:
    participant_id: uuid.UUID
    occurred_at: datetime
    values: dict[str, Any]
    id: uuid.UUID = field(default_factory=uuid.uuid4)


def reading(minute: float, who: uuid.UUID = ANNA, **values: Any) -> Obs:
    return Obs(who, at(minute), values)


def alerts_of(obs: Obs, *rules: tuple[str, str], raised_min: float | None = None) -> list[Alert]:
    raised = obs.occurred_at if raised_min is None else at(raised_min)
    return [Alert(obs.id, obs.participant_id, f, op, raised) for f, op in rules]


SYS, DIA = ("systolic_mmhg", ">="), ("diastolic_mmhg", ">=")
HR = ("heart_rate_bpm", ">")


def test_one_bp_recheck_follows_an_alert_on_both_halves_of_a_pressure() -> None:
    # Given 190/115 at minute 30, over the systolic and the diastolic alert (rechecked after 5)
    high = reading(30, systolic_mmhg=190, diastolic_mmhg=115, heart_rate_bpm=80)
    # When the rechecks are worked out
    (recheck,) = rechecks(PROTOCOL, START, alerts_of(high, SYS, DIA), [high])
    # Then one BP recheck falls due 5 minutes after the alert, named with the value
    assert recheck.measure == "bp"
    assert recheck.spec.label == "Recheck BP (alert 190/115)"
    assert recheck.spec.measures == ("bp",)
    assert recheck.due_at == at(35)
    assert recheck.done_at is None
    assert recheck.spec.at.minutes == 35.0  # its place on the session's line


def test_a_recheck_is_upcoming_then_due_then_overdue_in_the_due_list() -> None:
    high = reading(60, heart_rate_bpm=130)
    (recheck,) = rechecks(PROTOCOL, START, alerts_of(high, HR), [high])
    assert recheck.spec.label == "Recheck HR (alert 130 bpm)"
    # Then it falls due 10 minutes after the alert (the default) and is overdue 5 later
    assert recheck.state(at(69)).status is CheckinStatus.UPCOMING
    assert recheck.state(at(70)).status is CheckinStatus.DUE
    assert recheck.state(at(70 + RECHECK_GRACE_MIN) - timedelta(seconds=1)).status is (
        CheckinStatus.DUE
    )
    assert recheck.state(at(75)).status is CheckinStatus.OVERDUE
    # And a reading never counts for it as for a slot: it has no window
    state = recheck.state(at(70))
    assert state.opens_at is None and not state.takes(at(70))
    assert is_recheck(state)


def test_a_later_reading_of_the_measure_does_the_recheck() -> None:
    # Given HR 130 at minute 60, then a BP-only reading at 63 and a reading with HR at 66
    high = reading(60, heart_rate_bpm=130)
    bp_only = reading(63, systolic_mmhg=120, diastolic_mmhg=80)
    again = reading(66, heart_rate_bpm=96)
    (recheck,) = rechecks(PROTOCOL, START, alerts_of(high, HR), [high, bp_only, again])
    # Then the reading with HR did it, the BP-only one did not
    assert recheck.done_at == at(66)
    assert recheck.state(at(80)).status is CheckinStatus.DONE


def test_a_reading_taken_before_the_alerting_one_is_no_recheck() -> None:
    # Given HR 130 taken at 60, and a late entry of HR 96 taken at 55 saved afterwards
    high = reading(60, heart_rate_bpm=130)
    earlier = reading(55, heart_rate_bpm=96)
    (recheck,) = rechecks(PROTOCOL, START, alerts_of(high, HR), [earlier, high])
    assert recheck.done_at is None


def test_another_participants_reading_does_not_recheck() -> None:
    high = reading(60, heart_rate_bpm=130)
    theirs = reading(62, BEN, heart_rate_bpm=90)
    (recheck,) = rechecks(PROTOCOL, START, alerts_of(high, HR), [high, theirs])
    assert recheck.participant_id == ANNA
    assert recheck.done_at is None


def test_the_recheck_counts_from_when_the_alert_was_raised() -> None:
    # Given a late entry: HR 130 taken at 40, entered (and the alert raised) at 55
    high = reading(40, heart_rate_bpm=130)
    (recheck,) = rechecks(PROTOCOL, START, alerts_of(high, HR, raised_min=55), [high])
    assert recheck.due_at == at(65)


def test_an_alert_whose_reading_was_corrected_asks_for_nothing() -> None:
    # Given an alert whose reading no longer stands (corrected or withdrawn)
    high = reading(60, heart_rate_bpm=130)
    assert rechecks(PROTOCOL, START, alerts_of(high, HR), []) == ()


def test_rechecks_are_listed_in_the_order_they_fall_due() -> None:
    hr = reading(60, heart_rate_bpm=130)
    bp = reading(62, systolic_mmhg=185, diastolic_mmhg=100)
    found = rechecks(PROTOCOL, START, [*alerts_of(hr, HR), *alerts_of(bp, SYS)], [hr, bp])
    assert [(r.measure, r.due_at) for r in found] == [("bp", at(67)), ("hr", at(70))]


def test_the_due_list_without_rechecks_is_the_protocols_schedule() -> None:
    high = reading(60, heart_rate_bpm=130)
    (recheck,) = rechecks(PROTOCOL, START, alerts_of(high, HR), [high])
    timeline = compute_timeline(PROTOCOL, started_at=START, now=at(70), first_dose_at=at(40))
    due = (*timeline.checkins, recheck.state(at(70)))
    assert scheduled(due) == timeline.checkins


def test_of_two_alerts_on_one_measure_the_sooner_recheck_stands() -> None:
    # Given 190/100 that met a client's own systolic > 175 (recheck after the default 10) and
    # the protocol's systolic >= 180 (after 5)
    high = reading(30, systolic_mmhg=190, diastolic_mmhg=100)
    alerts = alerts_of(high, ("systolic_mmhg", ">"), SYS)
    # Then the one BP recheck falls due after 5 minutes
    (recheck,) = rechecks(PROTOCOL, START, alerts, [high])
    assert recheck.due_at == at(35)


SAVES = st.lists(
    st.tuples(
        st.sampled_from([ANNA, BEN]),
        st.integers(min_value=0, max_value=120),  # minute taken (late entries too)
        st.booleans(),  # a blood pressure
        st.booleans(),  # a heart rate
        st.booleans(),  # the BP over its alert
        st.booleans(),  # the HR over its alert
    ),
    max_size=25,
)


@given(SAVES)
@settings(max_examples=200)
def test_rechecks_kept_reading_by_reading_are_those_worked_out_afresh(
    saves: list[tuple[uuid.UUID, int, bool, bool, bool, bool]],
) -> None:
    # Given readings saved one after another (in any order of the times they were taken),
    # each raising its alerts, the rechecks kept up to date from each new reading
    standing: list[Obs] = []
    alerts: list[Alert] = []
    kept: tuple = ()
    for saved_at, (who, minute, has_bp, has_hr, bp_high, hr_high) in enumerate(saves):
        values: dict[str, Any] = {}
        if has_bp:
            values.update(systolic_mmhg=190 if bp_high else 120, diastolic_mmhg=80)
        if has_hr:
            values["heart_rate_bpm"] = 130 if hr_high else 70
        new = reading(minute, who, **values)
        standing.append(new)
        standing.sort(key=lambda o: o.occurred_at)  # stable: equal times keep saving order
        raised = [
            Alert(new.id, who, field, op, at(max(minute, saved_at)))
            for field, op, high in (("systolic_mmhg", ">=", has_bp and bp_high),
                                    ("heart_rate_bpm", ">", has_hr and hr_high))
            if high
        ]  # fmt: skip
        alerts.extend(raised)
        kept = after_new_reading(PROTOCOL, START, kept, new, raised, standing)
        # Then after every reading they are what a fresh look at every reading gives
        assert kept == rechecks(PROTOCOL, START, alerts, standing)
