"""The alert keys of a protocol file added by issue 15: an alert rule's `recheck_after_min`
(default 10) and the `[[cautions]]` section (none by default). Both are optional, so a protocol
written before them, and the snapshot an earlier session stored, keep their meaning; a mistake
names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapsession.domain.protocol import (
    DEFAULT_RECHECK_AFTER_MIN,
    AlertRule,
    CautionRule,
    Comparison,
)
from kapsession.domain.protocol_file import ProtocolError, load_protocol, parse_protocol
from kapsession.domain.vitals import effective_alert_rules

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"

# A protocol written before issue 15 (no recheck_after_min, no cautions), as a session of that
# time stored it.
BEFORE = """\
schema = 1
key = "old-protocol"
name = "Old protocol"
version = 3
description = ""
checkins = []

[dosing]
medication = "ketamine"
route = "sublingual"
planned_dose_after_start_min = 40

[[phases]]
key = "before"
name = "Before"
begins = "start+0"
ends = "dose+0"

[[phases]]
key = "after"
name = "After"
begins = "dose+0"
ends = "dose+90"

[[alerts]]
field = "systolic_mmhg"
op = ">="
value = 180
label = "Systolic BP 180 or higher"

[[alerts]]
field = "heart_rate_bpm"
op = ">"
value = 120
label = "Heart rate above 120"

[[alerts]]
field = "spo2_pct"
op = "<"
value = 92
label = "SpO2 below 92 %"

[hold_dose]
block_systolic_above = 160
block_diastolic_above = 100
caution_systolic_above = 140
caution_diastolic_above = 90

[discharge]
aldrete_pass_min = 9
bp_within_pct_of_baseline = 20
spo2_min_pct = 92
min_minutes_after_first_dose = 0
checklist = []

[music]
transition = "track_end"
crossfade_s = 6
"""

HR_ALERT = 'label = "Heart rate above 120"\n'
CAUTIONS = """
[[cautions]]
field = "heart_rate_bpm"
op = ">"
value = 100
label = "Heart rate above 100"

[[cautions]]
field = "spo2_pct"
op = "<"
value = 94
label = "SpO2 below 94 %"
"""


def edited(old: str, new: str) -> str:
    assert BEFORE.count(old) == 1, f"test setup: {old!r} must occur once"
    return BEFORE.replace(old, new)


def with_cautions(cautions: str = CAUTIONS) -> str:
    return edited("\n[hold_dose]", cautions + "\n[hold_dose]")


def line_of(text: str, written: str) -> int:
    """The line number of the one line holding `written`."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if written in line]
    assert len(lines) == 1, f"test setup: {written!r} is on lines {lines}"
    return lines[0]


def test_a_protocol_written_before_the_keys_keeps_its_meaning() -> None:
    # Given a protocol text an earlier session stored, without either key
    protocol = parse_protocol(BEFORE, "snapshot")
    # Then every alert asks for its recheck 10 minutes later
    assert DEFAULT_RECHECK_AFTER_MIN == 10.0
    assert [rule.recheck_after_min for rule in protocol.alerts] == [10.0, 10.0, 10.0]
    # And there is no caution band: nothing is amber that was not before
    assert protocol.cautions == ()


def test_recheck_times_and_cautions_are_read_from_the_file() -> None:
    # Given the heart rate alert asking for its recheck after 3 minutes, and two cautions
    text = with_cautions().replace(HR_ALERT, HR_ALERT + "recheck_after_min = 3\n")
    # When it is read
    protocol = parse_protocol(text, "clinic.toml")
    # Then that rule's recheck is 3 minutes, the others' the default
    assert [rule.recheck_after_min for rule in protocol.alerts] == [10.0, 3.0, 10.0]
    assert protocol.recheck_after("heart_rate_bpm", ">") == 3.0
    assert protocol.recheck_after("systolic_mmhg", ">=") == 10.0
    # And an alert on a rule the protocol does not have (a client's own) gets the default
    assert protocol.recheck_after("heart_rate_bpm", ">=") == DEFAULT_RECHECK_AFTER_MIN
    # And the cautions are as written, in order
    assert protocol.cautions == (
        CautionRule("heart_rate_bpm", Comparison.GT, 100.0, "Heart rate above 100"),
        CautionRule("spo2_pct", Comparison.LT, 94.0, "SpO2 below 94 %"),
    )


def test_a_clients_own_threshold_keeps_the_protocols_recheck() -> None:
    # Given a protocol rule HR > 120 rechecked after 3 minutes, and a client's HR > 130
    text = BEFORE.replace(HR_ALERT, HR_ALERT + "recheck_after_min = 3\n")
    protocol = parse_protocol(text, "clinic.toml")
    own = AlertRule("heart_rate_bpm", Comparison.GT, 130, "Her own limit")
    # When the client's threshold is applied
    rules = effective_alert_rules(protocol.alerts, [own])
    # Then the client's threshold and label stand, with the protocol's recheck
    hr = rules[1]
    assert (hr.value, hr.label, hr.recheck_after_min) == (130, "Her own limit", 3.0)


@pytest.mark.parametrize(
    "file_name",
    [
        "sublingual-kap-3h.toml",
        "intramuscular-kap.toml",
        "iv-infusion.toml",
        "intranasal-esketamine.toml",
    ],
)
def test_every_shipped_protocol_has_the_caution_bands_and_quicker_bp_rechecks(
    file_name: str,
) -> None:
    protocol = load_protocol(PROTOCOLS / file_name)
    bands = {(c.field, c.op, c.value) for c in protocol.cautions}
    assert bands == {
        ("heart_rate_bpm", Comparison.GT, 100),
        ("systolic_mmhg", Comparison.GE, 160),
        ("diastolic_mmhg", Comparison.GE, 100),
        ("spo2_pct", Comparison.LT, 94),
    }
    rechecks = {(a.field, a.op.value): a.recheck_after_min for a in protocol.alerts}
    assert rechecks[("systolic_mmhg", ">=")] == rechecks[("diastolic_mmhg", ">=")] == 5.0
    assert rechecks[("heart_rate_bpm", ">")] == rechecks[("spo2_pct", "<")] == 10.0


BROKEN_RECHECK = [
    # (id, the line added after the heart rate alert's label, field, words)
    ("zero", "recheck_after_min = 0", "alerts[1].recheck_after_min", "above 0 to 120"),
    ("too-late", "recheck_after_min = 600", "alerts[1].recheck_after_min", "above 0 to 120"),
    ("quoted", 'recheck_after_min = "10"', "alerts[1].recheck_after_min", "no quotes"),
    ("misspelt", "recheck_after = 10", "alerts[1].recheck_after", 'did you mean "recheck_after'),
]


@pytest.mark.parametrize(
    ("added", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN_RECHECK],
)
def test_a_mistake_in_recheck_after_min_names_file_line_and_field(
    added: str, field: str, words: str
) -> None:
    text = edited(HR_ALERT, HR_ALERT + added + "\n")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    error = caught.value
    assert (error.source, error.line, error.field) == ("clinic.toml", line_of(text, added), field)
    assert words in error.message
    assert str(error).startswith(f"clinic.toml, line {error.line}, {field}: ")


BROKEN_CAUTIONS = [
    # (id, text replaced in CAUTIONS, its replacement, field, words)
    (
        "beyond-the-alert",
        "value = 100",
        "value = 130",
        "cautions[0].value",
        '130 is not below the alert "Heart rate above 120" (heart_rate_bpm > 120)',
    ),
    (
        "at-the-alert",
        "value = 100",
        "value = 120",
        "cautions[0].value",
        "its value must be below 120",
    ),
    (
        "below-a-low-alert",
        "value = 94",
        "value = 90",
        "cautions[1].value",
        '90 is not above the alert "SpO2 below 92 %"',
    ),
    (
        "unknown-field",
        'field = "spo2_pct"',
        'field = "spo2"',
        "cautions[1].field",
        '"spo2" is not a known reading',
    ),
    ("bad-op", 'op = "<"', 'op = "=<"', "cautions[1].op", '"=<" is not a comparison'),
    (
        "impossible-value",
        "value = 94",
        "value = 140",
        "cautions[1].value",
        "140 % is out of range",
    ),
    (
        "empty-label",
        'label = "SpO2 below 94 %"',
        'label = ""',
        "cautions[1].label",
        "is empty",
    ),
    (
        "recheck-on-a-caution",
        'label = "SpO2 below 94 %"',
        'label = "SpO2 below 94 %"\nrecheck_after_min = 5',
        "cautions[1].recheck_after_min",
        "unknown key",
    ),
    (
        "set-twice",
        'field = "spo2_pct"\nop = "<"\nvalue = 94',
        'field = "heart_rate_bpm"\nop = ">"\nvalue = 105',
        "cautions[1].op",
        "a caution on heart_rate_bpm > is already set above",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN_CAUTIONS],
)
def test_a_mistake_in_a_caution_names_file_line_and_field(
    old: str, new: str, field: str, words: str
) -> None:
    # Given the cautions with one mistake
    assert CAUTIONS.count(old) == 1, f"test setup: {old!r} must occur once in CAUTIONS"
    text = with_cautions(CAUTIONS.replace(old, new))
    # When the file is read
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    # Then the error names the file, the line of the mistake and the field, and what is wrong
    error = caught.value
    assert (error.source, error.line, error.field) == (
        "clinic.toml",
        caution_line(text, field),
        field,
    )
    assert words in error.message
    assert str(error).startswith(f"clinic.toml, line {error.line}, {field}: ")


def caution_line(text: str, field: str) -> int:
    """The line of `cautions[i].key` in the text: the key's line in the i-th caution table."""
    table, key = field.removeprefix("cautions[").split("].")
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines, 1) if line == "[[cautions]]"]
    begin = starts[int(table)]
    return next(n for n, line in enumerate(lines, 1) if n > begin and line.startswith(f"{key} ="))
