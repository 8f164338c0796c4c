"""The check-in keys of a protocol file added by issue 15: `required` (some of a check-in's
measures; default all of them) and `slot_window_min` (at the top of the file, or one check-in's
own; default 5). Both are optional, so a protocol written before them, and the snapshot an
earlier session stored, keep their meaning; a mistake names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapsession.domain.protocol import DEFAULT_SLOT_WINDOW_MIN
from kapsession.domain.protocol_file import ProtocolError, load_protocol, parse_protocol

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"

# A protocol written before issue 15 (no `required`, no `slot_window_min`), as a session of
# that time stored it.
BEFORE = """\
schema = 1
key = "old-protocol"
name = "Old protocol"
version = 3
description = ""
alerts = []

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

[[checkins]]
key = "baseline"
label = "Baseline"
at = "start+5"
grace_min = 30
measures = ["bp", "hr"]

[[checkins]]
key = "t40"
label = "T+40"
at = "dose+40"
grace_min = 5
measures = ["bp", "hr", "spo2"]

[[checkins]]
key = "t60"
label = "T+60"
at = "dose+60"
grace_min = 10

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

T40 = """measures = ["bp", "hr", "spo2"]
"""


def edited(old: str, new: str) -> str:
    assert BEFORE.count(old) == 1, f"test setup: {old!r} must occur once"
    return BEFORE.replace(old, new)


def line_of(text: str, written: str) -> int:
    """The line number of the one line holding `written`."""
    lines = [n for n, line in enumerate(text.splitlines(), 1) if written in line]
    assert len(lines) == 1, f"test setup: {written!r} is on lines {lines}"
    return lines[0]


def test_a_protocol_written_before_the_keys_keeps_its_meaning() -> None:
    # Given a protocol text an earlier session stored, without either key
    protocol = parse_protocol(BEFORE, "snapshot")
    # Then every measure a check-in lists is required, none for a check-in that lists none
    assert [c.required_measures for c in protocol.checkins] == [
        ("bp", "hr"),
        ("bp", "hr", "spo2"),
        (),
    ]
    # And every slot is open 5 minutes either side of its due time
    assert protocol.slot_window_min == DEFAULT_SLOT_WINDOW_MIN == 5.0
    assert {protocol.slot_window(c) for c in protocol.checkins} == {5.0}


def test_required_and_windows_are_read_from_the_file() -> None:
    # Given a file-wide window of 3 minutes, T+40 requiring BP and SpO2 with its own window of 8
    text = edited('description = ""\n', 'description = ""\nslot_window_min = 3\n')
    text = text.replace(T40, T40 + 'required = ["bp", "spo2"]\nslot_window_min = 8\n')
    protocol = parse_protocol(text, "clinic.toml")
    baseline, t40, t60 = protocol.checkins
    # Then T+40 requires those two, the others all their measures
    assert (t40.required_measures, baseline.required_measures) == (("bp", "spo2"), ("bp", "hr"))
    # And T+40's window is its own, the others the file's
    assert [protocol.slot_window(c) for c in (baseline, t40, t60)] == [3.0, 8.0, 3.0]


def test_an_empty_required_list_makes_every_measure_optional() -> None:
    protocol = parse_protocol(edited(T40, T40 + "required = []\n"), "clinic.toml")
    assert protocol.checkins[1].measures == ("bp", "hr", "spo2")
    assert protocol.checkins[1].required_measures == ()


REQUIRED = 'required = ["bp", "spo2"]'
BROKEN = [
    # (id, added after T+40's measures or at the top, the line's text, field, words)
    (
        "required-not-measured",
        'required = ["bp", "rr"]',
        "checkins[1].required[1]",
        '"rr" is not one of this check-in\'s measures',
    ),
    (
        "required-unknown",
        'required = ["bp", "pulse"]',
        "checkins[1].required[1]",
        '"pulse" is not a known measure',
    ),
    (
        "required-twice",
        'required = ["spo2", "spo2"]',
        "checkins[1].required[1]",
        '"spo2" is listed twice',
    ),
    ("required-not-a-list", 'required = "bp"', "checkins[1].required", "must be a list"),
    ("required-number", "required = [1]", "checkins[1].required[0]", "must be text"),
    (
        "window-negative",
        "slot_window_min = -1",
        "checkins[1].slot_window_min",
        "out of range; it must be from 0 to 120",
    ),
    (
        "window-too-wide",
        "slot_window_min = 500",
        "checkins[1].slot_window_min",
        "out of range; it must be from 0 to 120",
    ),
    (
        "window-quoted",
        'slot_window_min = "5"',
        "checkins[1].slot_window_min",
        "must be a number (no quotes)",
    ),
    ("key-misspelt", 'requried = ["bp"]', "checkins[1].requried", 'did you mean "required"'),
]


@pytest.mark.parametrize(
    ("added", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN],
)
def test_a_mistake_in_a_checkins_new_keys_names_file_line_and_field(
    added: str, field: str, words: str
) -> None:
    # Given T+40 with a mistake in one of the new keys
    text = edited(T40, T40 + added + "\n")
    # When the file is read
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    # Then the error names the file, the line of the mistake and the field, and what is wrong
    error = caught.value
    assert (error.source, error.line, error.field) == ("clinic.toml", line_of(text, added), field)
    assert words in error.message
    assert str(error).startswith(f"clinic.toml, line {error.line}, {field}: ")


def test_a_required_measure_of_a_checkin_without_measures_says_so() -> None:
    text = BEFORE.replace("grace_min = 10\n", 'grace_min = 10\nrequired = ["bp"]\n')
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    assert caught.value.field == "checkins[2].required[0]"
    assert "this check-in's measures (none)" in caught.value.message
    assert caught.value.line == line_of(text, 'required = ["bp"]')


def test_a_file_wide_window_out_of_range_names_its_line() -> None:
    text = edited('description = ""\n', 'description = ""\nslot_window_min = 121\n')
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    assert caught.value.line == line_of(text, "slot_window_min = 121")
    assert caught.value.field == "slot_window_min"
    assert "121 minutes is out of range" in caught.value.message


@pytest.mark.parametrize(
    "file_name",
    sorted(p.name for p in PROTOCOLS.glob("*.toml") if load_protocol(p).gives_dose),  # issue 17
)
def test_the_shipped_protocols_require_every_measure_with_5_minute_slots(file_name: str) -> None:
    # Given a shipped protocol (its comments state the defaults)
    protocol = load_protocol(PROTOCOLS / file_name)
    text = (PROTOCOLS / file_name).read_text(encoding="utf-8")
    assert "required (optional)" in text and "slot_window_min (optional)" in text
    # Then each check-in requires what it measures, in slots open 5 minutes either side
    for checkin in protocol.checkins:
        assert checkin.required_measures == checkin.measures
        assert protocol.slot_window(checkin) == 5.0
