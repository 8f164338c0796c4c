"""Where a value stands: normal, in the amber caution band short of an alert, or alerting."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapsession.domain.protocol import AlertRule, CautionRule, Comparison
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.vitals import (
    Reading,
    ValueState,
    cautions_for,
    value_state,
    worst_state,
)

PROTOCOL = load_protocol(
    Path(__file__).parents[2] / "assets" / "protocols" / "sublingual-kap-3h.toml"
)
NORMAL, CAUTION, ALERT = ValueState.NORMAL, ValueState.CAUTION, ValueState.ALERT


@pytest.mark.parametrize(
    ("field", "value", "state"),
    [
        # heart rate: caution above 100, alert above 120 (and below 50)
        ("heart_rate_bpm", 100, NORMAL),
        ("heart_rate_bpm", 101, CAUTION),
        ("heart_rate_bpm", 104, CAUTION),
        ("heart_rate_bpm", 120, CAUTION),
        ("heart_rate_bpm", 121, ALERT),
        ("heart_rate_bpm", 49, ALERT),
        # systolic: caution at 160, alert at 180 (and at or below 90)
        ("systolic_mmhg", 159, NORMAL),
        ("systolic_mmhg", 160, CAUTION),
        ("systolic_mmhg", 179, CAUTION),
        ("systolic_mmhg", 180, ALERT),
        ("systolic_mmhg", 90, ALERT),
        # diastolic: caution at 100, alert at 110
        ("diastolic_mmhg", 99, NORMAL),
        ("diastolic_mmhg", 100, CAUTION),
        ("diastolic_mmhg", 110, ALERT),
        # SpO2: caution below 94, alert below 92
        ("spo2_pct", 94, NORMAL),
        ("spo2_pct", 93, CAUTION),
        ("spo2_pct", 92, CAUTION),
        ("spo2_pct", 91, ALERT),
        # a measure with an alert and no caution band
        ("moaas", 3, NORMAL),
        ("moaas", 2, ALERT),
    ],
)
def test_the_state_of_a_value_under_the_default_protocol(
    field: str, value: float, state: ValueState
) -> None:
    assert value_state(field, value, alerts=PROTOCOL.alerts, cautions=PROTOCOL.cautions) is state


def test_without_cautions_a_value_short_of_an_alert_is_normal() -> None:
    # Given a protocol snapshot from before the caution bands: HR 104 showed nothing, and still
    assert value_state("heart_rate_bpm", 104, alerts=PROTOCOL.alerts, cautions=()) is NORMAL


def test_a_rule_of_another_field_says_nothing_about_this_one() -> None:
    rules = (AlertRule("systolic_mmhg", Comparison.GE, 100, "x"),)
    cautions = (CautionRule("systolic_mmhg", Comparison.GE, 50, "y"),)
    assert value_state("heart_rate_bpm", 150, alerts=rules, cautions=cautions) is NORMAL


def test_the_worst_state_decides_a_pair() -> None:
    assert worst_state([NORMAL, CAUTION]) is CAUTION
    assert worst_state([ALERT, CAUTION]) is ALERT
    assert worst_state([CAUTION, ALERT]) is ALERT
    assert worst_state([NORMAL, NORMAL]) is NORMAL
    assert worst_state([]) is NORMAL


def test_a_reading_in_the_caution_band_says_so_in_words() -> None:
    # Given a reading of HR 104, 150/102, SpO2 93
    reading = Reading(systolic_mmhg=150, diastolic_mmhg=102, heart_rate_bpm=104, spo2_pct=93)
    # Then each value in a band is named with the band, in the protocol's order
    assert cautions_for(reading, PROTOCOL.cautions) == [
        "Heart rate 104 bpm — above 100",
        "Diastolic BP 102 mmHg — at or above 100",
        "SpO2 93 % — below 94",
    ]
    # And a field that raised an alert is said by its alert, not again as a caution
    assert cautions_for(reading, PROTOCOL.cautions, alerted={"heart_rate_bpm"}) == [
        "Diastolic BP 102 mmHg — at or above 100",
        "SpO2 93 % — below 94",
    ]
    # And a reading without those values says nothing
    assert cautions_for(Reading(moaas=4), PROTOCOL.cautions) == []
