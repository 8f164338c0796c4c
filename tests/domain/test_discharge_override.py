"""Who may let a client leave before the discharge check passes (issue 16): the monitoring
clinician for the Aldrete score and the other checklist items; only the prescriber before the
minimum times, with an infusion running, or with sedation or dissociation not resolved. The
minimum not waited is named with the time actually waited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kapsession.domain.discharge import (
    MINIMUM_TIME_KEY,
    MINIMUM_TIME_LAST_DOSE_KEY,
    AldreteObservation,
    DischargeEvaluation,
    DischargeOverride,
    evaluate_discharge,
    may_discharge,
    needs_prescriber,
    time_shortfalls,
)
from kapsession.domain.protocol import ChecklistItem, DischargeCriteria
from kapsession.domain.vitals import Reading

FIRST_DOSE = datetime(2026, 11, 26, 14, 40, tzinfo=UTC)
BASELINE = Reading(120, 80, heart_rate_bpm=72, spo2_pct=98)
GOOD_NOW = Reading(126, 82, heart_rate_bpm=75, spo2_pct=97)
AWAKE = AldreteObservation(activity=2, breathing=2, consciousness=2, on_room_air=True)
CRITERIA = DischargeCriteria(
    aldrete_pass_min=9,
    bp_within_pct_of_baseline=20,
    spo2_min_pct=92,
    min_minutes_after_first_dose=120,
    min_minutes_after_last_dose=60,
    checklist=(
        ChecklistItem("oriented", "Alert and oriented"),
        ChecklistItem("sedation-resolved", "Sedation resolved"),
        ChecklistItem("dissociation-resolved", "Dissociation resolved"),
    ),
)
ALL_YES: dict[str, bool | None] = {
    "oriented": True,
    "sedation-resolved": True,
    "dissociation-resolved": True,
}
NURSE = DischargeOverride("Escort waiting; walking steadily", "Ruth Okafor, RN")
PRESCRIBER = DischargeOverride(
    "Transfer to hospital", "Ines Moreau, NP", prescriber_id=uuid.uuid4()
)


def after(minutes: float) -> datetime:
    return FIRST_DOSE + timedelta(minutes=minutes)


def evaluate(
    now_min: float,
    *,
    answers: dict[str, bool | None] = ALL_YES,
    observation: AldreteObservation = AWAKE,
    last_dose_min: float | None = None,
) -> DischargeEvaluation:
    return evaluate_discharge(
        criteria=CRITERIA,
        current=GOOD_NOW,
        baseline=BASELINE,
        observation=observation,
        checklist_answers=answers,
        first_dose_at=FIRST_DOSE,
        now=after(now_min),
        last_dose_at=None if last_dose_min is None else after(last_dose_min),
    )


@pytest.mark.parametrize(
    ("evaluation", "who_may"),
    [
        pytest.param(evaluate(125), "anyone", id="ready"),
        pytest.param(evaluate(125, observation=AldreteObservation(1, 1, 2)), "nurse", id="aldrete"),
        pytest.param(evaluate(125, answers={**ALL_YES, "oriented": None}), "nurse", id="oriented"),
        pytest.param(evaluate(119), "prescriber", id="before-first-dose-minimum"),
        pytest.param(evaluate(125, last_dose_min=70), "prescriber", id="before-last-dose-minimum"),
        pytest.param(
            evaluate(125, answers={**ALL_YES, "sedation-resolved": None}),
            "prescriber",
            id="sedation",
        ),
        pytest.param(
            evaluate(125, answers={**ALL_YES, "dissociation-resolved": False}),
            "prescriber",
            id="dissociation",
        ),
    ],
)
def test_who_may_let_the_client_leave(evaluation: DischargeEvaluation, who_may: str) -> None:
    # Given the check as it stands / Then the monitoring clinician's override is enough only
    # where no item only the prescriber may pass fails; the prescriber's always is
    assert may_discharge(evaluation, None) is (who_may == "anyone")
    assert may_discharge(evaluation, NURSE) is (who_may in ("anyone", "nurse"))
    assert may_discharge(evaluation, PRESCRIBER)
    assert bool(needs_prescriber(evaluation)) is (who_may == "prescriber")


def test_the_minimum_not_waited_is_named_with_the_time_waited() -> None:
    # Given a booster at T+30 and the client leaving at T+75
    evaluation = evaluate(75, last_dose_min=30)
    # Then both minimums are short: 75 of 120 after the first dose, 45 of 60 after the last
    shortfalls = time_shortfalls(evaluation, CRITERIA)
    assert [(s.rule, s.minimum_min, s.counted_from, s.waited_min) for s in shortfalls] == [
        (MINIMUM_TIME_KEY, 120, "the first dose", 75),
        (MINIMUM_TIME_LAST_DOSE_KEY, 60, "the last dose", 45),
    ]
    assert shortfalls[1].anchor_at == after(30)
    assert shortfalls[1].text().startswith("45 min after the last dose (")
    assert shortfalls[1].text().endswith("); the protocol's minimum is 60 min")


@pytest.mark.parametrize(("now_min", "waited"), [(119.99, 119), (60.5, 60), (0.2, 0)])
def test_the_time_waited_is_whole_minutes_completed(now_min: float, waited: int) -> None:
    (first, *_rest) = time_shortfalls(evaluate(now_min), CRITERIA)
    assert first.waited_min == waited


def test_no_shortfall_once_the_minimums_have_passed() -> None:
    assert time_shortfalls(evaluate(120, last_dose_min=60), CRITERIA) == ()
