"""The hold-dose check on the baseline blood pressure, and overrides with a reason.

Boundaries: the SPRAVATO label says "above 140 mmHg systolic or above 90 mmHg diastolic", and
the product's block is "above 160/100", so a value exactly at a limit does not cross it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kapsession.domain.hold_dose import (
    HoldDoseLevel,
    HoldDoseOverride,
    HoldDoseOverrideInvalid,
    check_hold_dose,
    may_dose,
)
from kapsession.domain.protocol import HoldDoseRule
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.vitals import Reading

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
RULE = HoldDoseRule(
    block_systolic_above=160,
    block_diastolic_above=100,
    caution_systolic_above=140,
    caution_diastolic_above=90,
)
OK, CAUTION, BLOCK, NO_BASELINE = (
    HoldDoseLevel.OK,
    HoldDoseLevel.CAUTION,
    HoldDoseLevel.BLOCK,
    HoldDoseLevel.NO_BASELINE,
)


@pytest.mark.parametrize(
    ("systolic", "diastolic", "level"),
    [
        (120, 80, OK),
        (140, 90, OK),  # exactly at the caution limits: not "above"
        (141, 90, CAUTION),
        (140, 91, CAUTION),
        (160, 100, CAUTION),  # exactly at the block limits: not "above"
        (161, 100, BLOCK),
        (160, 101, BLOCK),
        (135, 101, BLOCK),  # diastolic alone is enough
        (170, 85, BLOCK),  # systolic alone is enough
        (150, 95, CAUTION),
    ],
)
def test_baseline_blood_pressure_is_compared_with_strict_limits(
    systolic: int, diastolic: int, level: HoldDoseLevel
) -> None:
    # Given a baseline reading / When the hold-dose check runs
    result = check_hold_dose(Reading(systolic, diastolic), RULE)
    # Then the level follows "above" in the label wording, for either value
    assert result.level is level
    assert (result.systolic_mmhg, result.diastolic_mmhg) == (systolic, diastolic)


@pytest.mark.parametrize(
    ("systolic", "diastolic", "message"),
    [
        (120, 80, "Baseline blood pressure 120/80 mmHg is within the hold-dose limits."),
        (150, 85, "Caution: baseline blood pressure 150/85 mmHg is above 140/90 mmHg (systolic "
                  "above 140). Ketamine raises blood pressure for a short time; weigh that "
                  "against the benefit before dosing."),
        (170, 105, "Hold the dose: baseline blood pressure 170/105 mmHg is above the hold-dose "
                   "limit 160/100 mmHg (systolic above 160 and diastolic above 100). Recheck it, "
                   "or record an override with the reason to dose anyway."),
    ],
)  # fmt: skip
def test_the_message_names_the_reading_the_limit_and_what_to_do(
    systolic: int, diastolic: int, message: str
) -> None:
    assert check_hold_dose(Reading(systolic, diastolic), RULE).message == message


def test_the_limits_come_from_the_protocol() -> None:
    # Given a clinic with tighter limits / When 151/80 is checked / Then it blocks
    strict = HoldDoseRule(150, 90, 130, 85)
    result = check_hold_dose(Reading(151, 80), strict)
    assert result.level is BLOCK
    assert "150/90 mmHg" in result.message


def test_shipped_esketamine_protocol_uses_the_label_numbers() -> None:
    protocol = load_protocol(PROTOCOLS / "intranasal-esketamine.toml")
    assert check_hold_dose(Reading(140, 90), protocol.hold_dose).level is OK
    assert check_hold_dose(Reading(141, 90), protocol.hold_dose).level is CAUTION
    assert check_hold_dose(Reading(161, 90), protocol.hold_dose).level is BLOCK


@pytest.mark.parametrize("baseline", [None, Reading(), Reading(heart_rate_bpm=70, spo2_pct=98)])
def test_without_a_baseline_blood_pressure_the_check_cannot_be_made(
    baseline: Reading | None,
) -> None:
    result = check_hold_dose(baseline, RULE)
    assert result.level is NO_BASELINE
    assert result.message.startswith("No baseline blood pressure yet; take one before the dose.")
    assert result.requires_override


@pytest.mark.parametrize(
    ("level_bp", "needs_override"),
    [((120, 80), False), ((150, 95), False), ((170, 80), True)],
)
def test_only_a_block_or_a_missing_baseline_needs_an_override(
    level_bp: tuple[int, int], needs_override: bool
) -> None:
    # Given a result / Then dosing is allowed without an override unless it blocks
    result = check_hold_dose(Reading(*level_bp), RULE)
    assert result.requires_override is needs_override
    assert may_dose(result, None) is not needs_override


def test_a_block_may_be_overridden_with_a_reason() -> None:
    # Given a blocked dose / When the prescriber records an override with a reason
    result = check_hold_dose(Reading(168, 98), RULE)
    override = HoldDoseOverride("  Repeat 158/96 after rest; prescriber agrees  ", " Dr Ames ")
    # Then the dose may be recorded, and the reason and name are kept trimmed
    assert may_dose(result, override)
    assert override.reason == "Repeat 158/96 after rest; prescriber agrees"
    assert override.staff == "Dr Ames"


@pytest.mark.parametrize(
    ("reason", "staff", "field"),
    [("", "Dr Ames", "reason"), ("   ", "Dr Ames", "reason"), ("rested", "", "staff"),
     ("rested", "  ", "staff")],
)  # fmt: skip
def test_an_override_needs_a_reason_and_a_name(reason: str, staff: str, field: str) -> None:
    with pytest.raises(HoldDoseOverrideInvalid) as caught:
        HoldDoseOverride(reason, staff)
    assert caught.value.field == field
