"""Discharge waits (issue 16): two minimum times, from the first dose and from the last dose or
booster (an infusion's end), both enforced at the exact minute; sedation and dissociation asked
in every protocol's checklist; a protocol snapshot without the new key keeps its meaning."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapsession.domain.discharge import (
    INFUSION_RUNNING_KEY,
    MINIMUM_TIME_KEY,
    MINIMUM_TIME_LAST_DOSE_KEY,
    AldreteObservation,
    DischargeEvaluation,
    evaluate_discharge,
)
from kapsession.domain.protocol import ChecklistItem, DischargeCriteria
from kapsession.domain.protocol_file import (
    DEFAULT_MIN_MINUTES_AFTER_LAST_DOSE,
    ProtocolError,
    load_protocol,
    parse_protocol,
)
from kapsession.domain.vitals import Reading

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
SHIPPED = sorted(p for p in PROTOCOLS.glob("*.toml") if load_protocol(p).gives_dose)  # issue 17
FIRST_DOSE = datetime(2026, 11, 26, 14, 40, tzinfo=UTC)
BASELINE = Reading(120, 80, heart_rate_bpm=72, spo2_pct=98)
GOOD_NOW = Reading(126, 82, heart_rate_bpm=75, spo2_pct=97)
AWAKE = AldreteObservation(activity=2, breathing=2, consciousness=2, on_room_air=True)
CHECKLIST = (ChecklistItem("oriented", "Alert and oriented"),)


def criteria(first_min: float = 0, last_min: float = 60) -> DischargeCriteria:
    return DischargeCriteria(9, 20, 92, first_min, CHECKLIST, last_min)


def after(minutes: float) -> datetime:
    return FIRST_DOSE + timedelta(minutes=minutes)


def evaluate(
    now_min: float,
    *,
    rules: DischargeCriteria | None = None,
    last_min: float | None = None,
    infusing: bool = False,
) -> DischargeEvaluation:
    return evaluate_discharge(
        criteria=criteria() if rules is None else rules,
        current=GOOD_NOW,
        baseline=BASELINE,
        observation=AWAKE,
        checklist_answers={"oriented": True},
        first_dose_at=FIRST_DOSE,
        now=after(now_min),
        last_dose_at=None if last_min is None else after(last_min),
        infusion_running=infusing,
    )


def keys(evaluation: DischargeEvaluation) -> list[str]:
    return [p.key for p in evaluation.problems]


@pytest.mark.parametrize(
    ("now_min", "ready"),
    [(59, False), (59.99, False), (60, True), (61, True)],
)
def test_a_single_dose_is_observed_sixty_minutes(now_min: float, ready: bool) -> None:
    # Given one dose and nothing after it, no minimum from the first dose (sublingual, IM, IV)
    evaluation = evaluate(now_min)
    # Then discharge waits 60 minutes from that dose, to the exact minute
    assert evaluation.ready is ready
    assert keys(evaluation) == ([] if ready else [MINIMUM_TIME_LAST_DOSE_KEY])
    assert evaluation.earliest_discharge_at == after(60)


@pytest.mark.parametrize(
    ("now_min", "ready"),
    [(60, False), (89, False), (90, True)],
)
def test_the_time_counts_from_the_last_booster(now_min: float, ready: bool) -> None:
    # Given a booster 30 minutes after the first dose
    evaluation = evaluate(now_min, last_min=30)
    # Then 60 minutes from the first dose is not enough: 60 from the booster is
    assert evaluation.ready is ready
    assert evaluation.earliest_discharge_at == after(90)
    assert evaluation.last_dose_at == after(30)
    if not ready:
        (problem,) = evaluation.problems
        assert problem.key == MINIMUM_TIME_LAST_DOSE_KEY
        assert "60 minutes after the final dose (the last dose, at " in problem.message
        assert problem.message.endswith(
            f"discharge is possible in {90 - int(now_min)} minute"
            f"{'s' if 90 - int(now_min) != 1 else ''}."
        )


@pytest.mark.parametrize(
    ("now_min", "failing"),
    [
        (70, [MINIMUM_TIME_KEY]),  # 60 after the booster is met, 120 after the first is not
        (119, [MINIMUM_TIME_KEY]),
        (120, []),
    ],
)
def test_both_minimums_are_enforced(now_min: float, failing: list[str]) -> None:
    # Given esketamine's 120 minutes from the first device and a dose ended at T+10
    evaluation = evaluate(now_min, rules=criteria(first_min=120), last_min=10)
    # Then the later of the two decides
    assert keys(evaluation) == failing
    assert evaluation.earliest_discharge_at == after(120)
    # And the REMS form's "clinically ready" leaves both minimum times aside
    assert evaluation.clinically_ready


def test_a_late_booster_outlasts_the_first_dose_minimum() -> None:
    # Given esketamine-like rules and a last dose at T+100
    evaluation = evaluate(130, rules=criteria(first_min=120), last_min=100)
    # Then at T+130 the first-dose minimum is met, the last-dose one is not
    assert keys(evaluation) == [MINIMUM_TIME_LAST_DOSE_KEY]
    assert evaluation.earliest_discharge_at == after(160)
    assert evaluation.clinically_ready


def test_an_infusion_still_running_is_named() -> None:
    # Given an infusion started at the first dose and not stopped, three hours later
    evaluation = evaluate(180, infusing=True)
    # Then discharge is refused because the infusion runs, not for a time that cannot be known
    assert keys(evaluation) == [INFUSION_RUNNING_KEY]
    assert "stop it (I) before discharge" in evaluation.problems[0].message
    assert not evaluation.clinically_ready


def test_without_a_minimum_after_the_last_dose_it_does_not_apply() -> None:
    evaluation = evaluate(5, rules=criteria(last_min=0), last_min=1)
    assert evaluation.ready
    assert evaluation.earliest_discharge_at is None


@given(
    booster_min=st.integers(min_value=0, max_value=150),
    now_min=st.integers(min_value=0, max_value=300),
    first_min=st.sampled_from([0, 120]),
)
def test_ready_exactly_when_both_minimums_have_passed(
    booster_min: int, now_min: int, first_min: int
) -> None:
    evaluation = evaluate(now_min, rules=criteria(first_min=first_min), last_min=booster_min)
    assert evaluation.ready is (now_min >= max(first_min, booster_min + 60))


# --- the protocols ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_protocol_waits_and_asks_sedation_and_dissociation(path: Path) -> None:
    discharge = load_protocol(path).discharge
    assert discharge.min_minutes_after_last_dose == 60
    keys_asked = [item.key for item in discharge.checklist]
    assert {"sedation-resolved", "dissociation-resolved"} <= set(keys_asked)


def _old_snapshot(text: str) -> str:
    """The file as sessions before issue 16 stored it: no last-dose key, no required items."""
    text = re.sub(r"min_minutes_after_last_dose = \d+\n", "", text)
    return re.sub(
        r"\[\[discharge\.checklist\]\]\n"
        r'key = "(sedation|dissociation)-resolved"\nlabel = "[^"]*"\n\n',
        "",
        text,
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_an_earlier_snapshot_gets_the_defaults(path: Path) -> None:
    # Given a protocol snapshot stored before the key and the two items existed
    old = _old_snapshot(path.read_text(encoding="utf-8"))
    assert "\nmin_minutes_after_last_dose" not in old
    assert 'key = "dissociation-resolved"' not in old
    # When it is read
    discharge = parse_protocol(old, "snapshot").discharge
    # Then it waits the default 60 minutes and asks both items, first, with the others after
    assert discharge.min_minutes_after_last_dose == DEFAULT_MIN_MINUTES_AFTER_LAST_DOSE == 60
    first_two = [item.key for item in discharge.checklist[:2]]
    assert first_two == ["sedation-resolved", "dissociation-resolved"]
    current = load_protocol(path).discharge.checklist
    assert {i.key for i in discharge.checklist} == {i.key for i in current}


def test_a_clinic_may_set_its_own_time_after_the_last_dose() -> None:
    text = (PROTOCOLS / "sublingual-kap-3h.toml").read_text(encoding="utf-8")
    changed = text.replace("min_minutes_after_last_dose = 60", "min_minutes_after_last_dose = 90")
    assert parse_protocol(changed, "clinic").discharge.min_minutes_after_last_dose == 90


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "must be from 0 to 1440"),
        ('"sixty"', "number"),
        ("500", "do not fit"),  # longer than the session after the dose
    ],
)
def test_a_wrong_time_after_the_last_dose_is_refused_with_its_line(
    value: str, message: str
) -> None:
    # Given the sublingual protocol with a wrong minimum after the last dose
    text = (PROTOCOLS / "sublingual-kap-3h.toml").read_text(encoding="utf-8")
    changed = text.replace(
        "min_minutes_after_last_dose = 60", f"min_minutes_after_last_dose = {value}"
    )
    line = changed.splitlines().index(f"min_minutes_after_last_dose = {value}") + 1
    # When it is read, then the error names the file, the line, the field and what is wrong
    with pytest.raises(ProtocolError) as refused:
        parse_protocol(changed, "clinic.toml")
    error = refused.value
    assert (error.source, error.line) == ("clinic.toml", line)
    assert error.field == "discharge.min_minutes_after_last_dose"
    assert message in str(error)
