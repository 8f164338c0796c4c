"""Vitals readings: parsing what a nurse typed, plausibility, alerts and client thresholds."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.protocol_file import ALERT_FIELDS, load_protocol
from kapsession.domain.vitals import (
    NUMERIC_FIELDS,
    PLAUSIBLE_RANGES,
    READING_FIELDS,
    AlertOverrideInvalid,
    FieldProblem,
    Reading,
    ReadingInvalid,
    alerts_for,
    effective_alert_rules,
    parse_reading,
)

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"

GE, GT, LE, LT = Comparison.GE, Comparison.GT, Comparison.LE, Comparison.LT


def problems_of(raw: dict[str, str]) -> list[FieldProblem]:
    with pytest.raises(ReadingInvalid) as caught:
        parse_reading(raw)
    return caught.value.problems


# --- parsing: what is accepted -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"systolic_mmhg": "120", "diastolic_mmhg": "80"}, Reading(120, 80)),
        ({"bp": "120/80"}, Reading(120, 80)),
        ({"bp": " 132 / 84 mmHg "}, Reading(132, 84)),
        ({"bp": "120/80", "systolic_mmhg": "120", "diastolic_mmhg": "80"}, Reading(120, 80)),
        ({"heart_rate_bpm": "72 bpm", "spo2_pct": "98 %"}, Reading(heart_rate_bpm=72, spo2_pct=98)),
        ({"spo2_pct": "97%"}, Reading(spo2_pct=97)),
        ({"resp_rate_per_min": "14/min"}, Reading(resp_rate_per_min=14)),
        ({"resp_rate_per_min": "0"}, Reading(resp_rate_per_min=0)),
        ({"temperature_c": "36,8"}, Reading(temperature_c=36.8)),
        ({"temperature_c": "36.8 °C"}, Reading(temperature_c=36.8)),
        ({"temperature_c": "37℃"}, Reading(temperature_c=37.0)),
        ({"temperature_c": "37"}, Reading(temperature_c=37.0)),
        ({"rass": "-2"}, Reading(rass=-2)),
        ({"rass": "\u22122"}, Reading(rass=-2)),  # the typographic minus sign
        ({"rass": "+1"}, Reading(rass=1)),
        ({"heart_rate_bpm": "\uff17\uff12"}, Reading(heart_rate_bpm=72)),  # full-width digits
        ({"moaas": "5", "dissociation": "0", "nausea": "4", "suds": "10"},
         Reading(moaas=5, dissociation=0, nausea=4, suds=10)),
        ({"emesis": "Yes"}, Reading(emesis=True)),
        ({"emesis": "n"}, Reading(emesis=False)),
        ({"comment": "  eyes closed, calm  "}, Reading(comment="eyes closed, calm")),
    ],
)  # fmt: skip
def test_typed_text_becomes_a_reading(raw: dict[str, str], expected: Reading) -> None:
    # Given what a nurse typed / When it is parsed / Then the reading holds the numbers
    assert parse_reading(raw) == expected


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_means_not_measured(blank: str) -> None:
    # Given every field left blank / When parsed / Then nothing is measured
    raw = {name: blank for name in READING_FIELDS} | {"bp": blank}
    reading = parse_reading(raw)
    assert reading == Reading()
    assert reading.is_empty


@pytest.mark.parametrize(
    ("reading", "empty"),
    [
        (Reading(), True),
        (Reading(comment="  "), True),
        (Reading(comment="asleep"), False),
        (Reading(emesis=False), False),
        (Reading(rass=0), False),
        (Reading(moaas=0), False),
    ],
)
def test_is_empty_counts_zero_and_no_as_measured(reading: Reading, empty: bool) -> None:
    assert reading.is_empty is empty


def test_temperature_keeps_its_decimal_and_whole_fields_are_ints() -> None:
    reading = parse_reading({"bp": "120/80", "temperature_c": "36,85", "heart_rate_bpm": "60"})
    assert reading.temperature_c == pytest.approx(36.85)
    assert isinstance(reading.heart_rate_bpm, int)
    assert isinstance(reading.systolic_mmhg, int)


# --- parsing: what is refused, and how the nurse is told ----------------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"systolic_mmhg": "400", "diastolic_mmhg": "80"}, "systolic_mmhg",
         "Systolic blood pressure 400 mmHg is outside 40–300 mmHg; check the reading."),
        ({"heart_rate_bpm": "abc"}, "heart_rate_bpm",
         "Heart rate must be a whole number, not 'abc'."),
        ({"bp": "110/120"}, "bp",
         "Diastolic (120) must be lower than systolic (110); check the reading and the order "
         "of the two numbers."),
        ({"systolic_mmhg": "110", "diastolic_mmhg": "110"}, "diastolic_mmhg",
         "Diastolic (110) must be lower than systolic (110); check the reading and the order "
         "of the two numbers."),
        ({"spo2_pct": "120"}, "spo2_pct", "SpO2 120 % is outside 50–100 %; check the reading."),
        ({"spo2_pct": "49 %"}, "spo2_pct", "SpO2 49 % is outside 50–100 %; check the reading."),
        ({"heart_rate_bpm": "-5"}, "heart_rate_bpm",
         "Heart rate cannot be negative ('-5'); check the reading."),
        ({"heart_rate_bpm": "72.5"}, "heart_rate_bpm",
         "Heart rate must be a whole number, not '72.5'."),
        ({"resp_rate_per_min": "61"}, "resp_rate_per_min",
         "Respiratory rate 61/min is outside 0–60/min; check the reading."),
        ({"temperature_c": "98.6"}, "temperature_c",
         "Temperature 98.6 looks like degrees Fahrenheit; enter it in °C (98.6 °F is 37.0 °C)."),
        ({"temperature_c": "101 °F"}, "temperature_c",
         "Temperature 101 looks like degrees Fahrenheit; enter it in °C (101 °F is 38.3 °C)."),
        ({"temperature_c": "29.9"}, "temperature_c",
         "Temperature 29.9 °C is outside 30–45 °C; check the reading."),
        ({"temperature_c": "nan"}, "temperature_c", "Temperature must be a number, not 'nan'."),
        ({"temperature_c": "36.8.1"}, "temperature_c",
         "Temperature must be a number, not '36.8.1'."),
        ({"moaas": "6"}, "moaas", "MOAA/S 6 is outside the scale (0 to 5); check the score."),
        ({"rass": "-6"}, "rass", "RASS -6 is outside the scale (-5 to +4); check the score."),
        ({"nausea": "11"}, "nausea", "Nausea 11 is outside the scale (0 to 10); check the score."),
        ({"suds": "-1"}, "suds", "SUDS cannot be negative ('-1'); check the reading."),
        ({"dissociation": "2.5"}, "dissociation",
         "Dissociation level must be a whole number, not '2.5'."),
        ({"emesis": "maybe"}, "emesis", "Emesis must be yes or no, not 'maybe'."),
        ({"bp": "120"}, "bp", "Blood pressure must be two numbers like 120/80, not '120'."),
        ({"bp": "120/"}, "bp", "Blood pressure must be two numbers like 120/80, not '120/'."),
        ({"bp": "500/80"}, "bp",
         "Systolic blood pressure 500 mmHg is outside 40–300 mmHg; check the reading."),
        ({"systolic_mmhg": "120"}, "diastolic_mmhg",
         "Diastolic blood pressure is missing; a blood pressure needs both values, e.g. 120/80."),
        ({"diastolic_mmhg": "80"}, "systolic_mmhg",
         "Systolic blood pressure is missing; a blood pressure needs both values, e.g. 120/80."),
        ({"bp": "120/80", "systolic_mmhg": "130"}, "bp",
         "Blood pressure is entered twice with different values; keep either the 120/80 box or "
         "the two separate numbers."),
        ({"heart_rate_bpm": "1" * 40}, "heart_rate_bpm",
         "Heart rate must be a whole number, not '1111111111111111111…'."),
    ],
)  # fmt: skip
def test_an_impossible_entry_is_refused_with_a_message_to_act_on(
    raw: dict[str, str], field: str, message: str
) -> None:
    # Given a typing mistake / When parsed / Then one problem names the field and what to do
    assert problems_of(raw) == [FieldProblem(field, message)]


def test_every_problem_is_reported_at_once() -> None:
    # Given a form with four mistakes and one good value
    raw = {"bp": "400/80", "heart_rate_bpm": "abc", "spo2_pct": "120", "rass": "9", "suds": "3"}
    # When it is parsed
    with pytest.raises(ReadingInvalid) as caught:
        parse_reading(raw)
    # Then each mistake is listed, in form order, and the first is the error's own field
    assert [problem.field for problem in caught.value.problems] == [
        "heart_rate_bpm",
        "spo2_pct",
        "rass",
        "bp",
    ]
    assert caught.value.field == "heart_rate_bpm"
    assert caught.value.messages_for("spo2_pct") == [
        "SpO2 120 % is outside 50–100 %; check the reading."
    ]


def test_a_bad_systolic_does_not_also_report_a_diastolic_order_problem() -> None:
    # Given an impossible systolic below the diastolic / Then only the real mistake is shown
    problems = problems_of({"systolic_mmhg": "30", "diastolic_mmhg": "80"})
    assert [problem.field for problem in problems] == ["systolic_mmhg"]


def test_an_unknown_key_is_a_program_error_reported_as_a_problem() -> None:
    assert problems_of({"pulse": "72"})[0].field == "pulse"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("systolic_mmhg", 400),
        ("heart_rate_bpm", -5),
        ("spo2_pct", 120),
        ("temperature_c", float("nan")),
        ("moaas", 7),
        ("heart_rate_bpm", 72.5),
        ("heart_rate_bpm", True),
    ],
)
def test_a_reading_made_in_code_is_checked_too(field: str, value: object) -> None:
    # Given a value that cannot be real, set directly (e.g. by a bug or an import)
    # When the Reading is made / Then it is refused, so an implausible value is never stored
    values: dict[str, object] = {field: value}
    if field == "systolic_mmhg":
        values["diastolic_mmhg"] = 80
    with pytest.raises(ReadingInvalid) as caught:
        Reading(**values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_reading_made_in_code_needs_both_blood_pressure_values() -> None:
    with pytest.raises(ReadingInvalid, match="needs both values"):
        Reading(systolic_mmhg=150)
    with pytest.raises(ReadingInvalid, match="must be lower than systolic"):
        dataclasses.replace(Reading(120, 80), diastolic_mmhg=130)


def test_plausibility_limits_match_the_protocol_loader() -> None:
    # Given the protocol loader's own table of alert fields (it validates thresholds)
    # Then it allows exactly the ranges a reading can hold, so no alert is unreachable
    assert set(ALERT_FIELDS) == set(PLAUSIBLE_RANGES)
    for field, (low, high, _unit) in ALERT_FIELDS.items():
        assert (PLAUSIBLE_RANGES[field].low, PLAUSIBLE_RANGES[field].high) == (low, high)


# --- property tests ----------------------------------------------------------------------------

_KEYS = st.sampled_from([*READING_FIELDS, "bp"])
_NUMBERISH = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(-500, 500, places=2).map(str).map(lambda s: s.replace(".", ",")),
    st.tuples(st.integers(0, 400), st.integers(0, 400)).map(lambda bp: f"{bp[0]}/{bp[1]}"),
    st.sampled_from(["yes", "no", "", " ", "98 %", "36,8 °C", "98.6", "-0", "+4", "１２０"]),
)
_ANY_TEXT = st.one_of(st.text(), _NUMBERISH, st.text(alphabet="0123456789.,-+/ %°CFmHgbp"))


def _assert_plausible(reading: Reading) -> None:
    for field, value in reading.measured().items():
        assert PLAUSIBLE_RANGES[field].contains(value), (field, value)
    if reading.systolic_mmhg is not None or reading.diastolic_mmhg is not None:
        assert reading.systolic_mmhg is not None and reading.diastolic_mmhg is not None
        assert reading.diastolic_mmhg < reading.systolic_mmhg


@settings(max_examples=400)
@given(st.dictionaries(_KEYS, _ANY_TEXT, max_size=8))
def test_parse_reading_never_returns_an_implausible_value(raw: dict[str, str]) -> None:
    # Given any text in any field
    # When it is parsed
    # Then it is either refused with ReadingInvalid (nothing else) or every value is plausible
    try:
        reading = parse_reading(raw)
    except ReadingInvalid as invalid:
        assert invalid.problems
        assert all(problem.message for problem in invalid.problems)
        return
    _assert_plausible(reading)


@given(st.dictionaries(st.text(max_size=12), st.text(), max_size=4))
def test_parse_reading_raises_only_reading_invalid_for_any_keys(raw: dict[str, str]) -> None:
    with contextlib.suppress(ReadingInvalid):
        _assert_plausible(parse_reading(raw))


@given(st.sampled_from(NUMERIC_FIELDS), st.integers(-10_000, 10_000))
def test_a_whole_number_is_accepted_exactly_when_plausible(field: str, value: int) -> None:
    # Given a whole number typed into one field (BP as a pair with a valid partner)
    raw = {field: str(value)}
    if field == "systolic_mmhg":
        raw["diastolic_mmhg"] = "20"
    if field == "diastolic_mmhg":
        raw["systolic_mmhg"] = "300"
    plausible = (
        PLAUSIBLE_RANGES[field].contains(value)
        and not (field == "systolic_mmhg" and value <= 20)
        and not (field == "diastolic_mmhg" and value >= 300)
    )
    # When parsed / Then it is accepted exactly when it can be a real reading
    try:
        reading = parse_reading(raw)
    except ReadingInvalid:
        assert not plausible
    else:
        assert plausible
        assert reading.value_of(field) == value


# --- alerts ------------------------------------------------------------------------------------


def rule(field: str, op: Comparison, value: float, label: str = "alert") -> AlertRule:
    return AlertRule(field, op, value, label)


@pytest.mark.parametrize(
    ("reading", "alert", "message"),
    [
        (
            Reading(184, 90),
            rule("systolic_mmhg", GE, 180),
            "Systolic BP 184 mmHg — at or above 180",
        ),
        (
            Reading(180, 90),
            rule("systolic_mmhg", GE, 180),
            "Systolic BP 180 mmHg — at or above 180",
        ),
        (Reading(179, 90), rule("systolic_mmhg", GE, 180), None),
        (Reading(90, 60), rule("systolic_mmhg", LE, 90), "Systolic BP 90 mmHg — at or below 90"),
        (
            Reading(150, 110),
            rule("diastolic_mmhg", GE, 110),
            "Diastolic BP 110 mmHg — at or above 110",
        ),
        (
            Reading(heart_rate_bpm=121),
            rule("heart_rate_bpm", GT, 120),
            "Heart rate 121 bpm — above 120",
        ),
        (Reading(heart_rate_bpm=120), rule("heart_rate_bpm", GT, 120), None),
        (
            Reading(heart_rate_bpm=49),
            rule("heart_rate_bpm", LT, 50),
            "Heart rate 49 bpm — below 50",
        ),
        (Reading(spo2_pct=91), rule("spo2_pct", LT, 92), "SpO2 91 % — below 92"),
        (Reading(spo2_pct=92), rule("spo2_pct", LT, 92), None),
        (
            Reading(resp_rate_per_min=8),
            rule("resp_rate_per_min", LT, 10),
            "Respiratory rate 8/min — below 10",
        ),
        (
            Reading(temperature_c=38.4),
            rule("temperature_c", GE, 38),
            "Temperature 38.4 °C — at or above 38",
        ),
        (Reading(moaas=2), rule("moaas", LE, 2), "MOAA/S 2 — at or below 2"),
        (Reading(rass=-3), rule("rass", LE, -3), "RASS -3 — at or below -3"),
        (Reading(rass=2), rule("rass", GE, 2), "RASS +2 — at or above 2"),
        (Reading(), rule("heart_rate_bpm", GT, 120), None),
    ],
)
def test_a_reading_meeting_a_rule_raises_an_alert(
    reading: Reading, alert: AlertRule, message: str | None
) -> None:
    # Given a reading and one rule / When alerts are computed
    hits = alerts_for(reading, [alert])
    # Then the rule fires exactly at its boundary as its comparison says, with a plain message
    assert [hit.message for hit in hits] == ([] if message is None else [message])
    if message is not None:
        assert hits[0].rule == alert
        assert hits[0].value == reading.value_of(alert.field)


def test_shipped_protocol_alerts_fire_for_a_worrying_reading() -> None:
    # Given the shipped sublingual protocol and a reading with high BP, fast pulse and low SpO2
    protocol = load_protocol(PROTOCOLS / "sublingual-kap-3h.toml")
    reading = parse_reading({"bp": "186/112", "heart_rate_bpm": "125", "spo2_pct": "90"})
    # When alerts are computed
    messages = [hit.message for hit in alerts_for(reading, protocol.alerts)]
    # Then each crossed threshold is listed in protocol order, and nothing else
    assert messages == [
        "Systolic BP 186 mmHg — at or above 180",
        "Diastolic BP 112 mmHg — at or above 110",
        "Heart rate 125 bpm — above 120",
        "SpO2 90 % — below 92",
    ]


def test_a_rule_on_an_unknown_field_is_a_program_error() -> None:
    with pytest.raises(ValueError, match="not a reading field"):
        alerts_for(Reading(), [rule("pulse", GT, 100)])


# --- per-client thresholds ---------------------------------------------------------------------

PROTOCOL_RULES = (
    rule("systolic_mmhg", GE, 180, "SBP high"),
    rule("heart_rate_bpm", GT, 120, "HR high"),
    rule("heart_rate_bpm", LT, 50, "HR low"),
)


def test_a_client_override_replaces_the_rule_with_the_same_field_and_comparison() -> None:
    # Given a client whose prescriber set a lower heart-rate limit and a temperature alert
    overrides = [rule("heart_rate_bpm", GT, 110, "HR high (client)"), rule("temperature_c", GE, 38)]
    # When the rules are combined
    rules = effective_alert_rules(PROTOCOL_RULES, overrides)
    # Then the override takes the protocol rule's place and the new rule is added at the end
    assert rules == (
        PROTOCOL_RULES[0],
        overrides[0],
        PROTOCOL_RULES[2],
        overrides[1],
    )
    assert [h.message for h in alerts_for(Reading(heart_rate_bpm=115), rules)] == [
        "Heart rate 115 bpm — above 110"
    ]


def test_an_override_with_another_comparison_is_a_second_rule() -> None:
    # Given ">=" where the protocol has ">" / Then both stay: the identity is (field, op)
    rules = effective_alert_rules(PROTOCOL_RULES, [rule("heart_rate_bpm", GE, 110)])
    assert len(rules) == 4


def test_no_overrides_keeps_the_protocol_rules() -> None:
    assert effective_alert_rules(PROTOCOL_RULES, []) == PROTOCOL_RULES


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        (rule("systolic_mmhg", GE, 400), "overrides[0].value",
         "Client alert 1 (Systolic blood pressure >=): 400 mmHg is outside 40–300 mmHg; a "
         "threshold must be a value a reading can take."),
        (rule("spo2_pct", LT, 101), "overrides[0].value",
         "Client alert 1 (SpO2 <): 101 % is outside 50–100 %; a threshold must be a value a "
         "reading can take."),
        (rule("moaas", LE, float("nan")), "overrides[0].value",
         "Client alert 1 (MOAA/S <=): nan is outside 0–5; a threshold must be a value a reading "
         "can take."),
        (rule("pulse", GT, 100), "overrides[0].field", None),
        (rule("heart_rate_bpm", GT, 100, " "), "overrides[0].label",
         "Client alert 1: the label is empty; write what the alert means."),
    ],
)  # fmt: skip
def test_an_impossible_client_threshold_is_refused(
    override: AlertRule, field: str, message: str | None
) -> None:
    with pytest.raises(AlertOverrideInvalid) as caught:
        effective_alert_rules(PROTOCOL_RULES, [override])
    problem = caught.value.problems[0]
    assert problem.field == field
    if message is not None:
        assert problem.message == message


def test_the_same_client_threshold_twice_is_refused() -> None:
    overrides = [rule("heart_rate_bpm", GT, 110), rule("heart_rate_bpm", GT, 100)]
    with pytest.raises(AlertOverrideInvalid) as caught:
        effective_alert_rules(PROTOCOL_RULES, overrides)
    assert [p.field for p in caught.value.problems] == ["overrides[1].op"]
