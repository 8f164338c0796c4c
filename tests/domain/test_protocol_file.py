"""Protocol files: the shipped ones load, and every mistake names its file, line and field."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from clinic_file_fuzz import (
    assert_only_file_errors,
    assignment_lines,
    toml_values,
    with_line,
    with_value,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from kapsession.domain.protocol import Anchor, Comparison, Medication, Offset, Route
from kapsession.domain.protocol_file import (
    ProtocolError,
    list_protocol_files,
    load_protocol,
    parse_protocol,
)

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
SHIPPED = (
    "sublingual-kap-3h.toml",
    "intramuscular-kap.toml",
    "iv-infusion.toml",
    "intranasal-esketamine.toml",
)

# A small valid protocol; the broken cases below edit one spot and name its line number.
VALID = """\
schema = 1
key = "test-protocol"
name = "Test protocol"
version = 1
description = "A small protocol for the tests"

[dosing]
medication = "ketamine"
route = "sublingual"
planned_dose_after_start_min = 40
hold_min = 10
booster_window = ["dose+30", "dose+45"]

[[phases]]
key = "arrival"
name = "Arrival"
begins = "start+0"
ends = "dose+0"

[[phases]]
key = "onset"
name = "Onset"
begins = "dose+0"
ends = "dose+30"
playlist = "onset.m3u8"

[[phases]]
key = "peak"
name = "Peak"
begins = "dose+30"
ends = "dose+60"

[[phases]]
key = "discharge"
name = "Discharge"
begins = "dose+60"
ends = "dose+90"

[[checkins]]
key = "baseline"
label = "Baseline"
at = "start+5"
grace_min = 30
measures = ["bp", "hr"]

[[checkins]]
key = "t40"
label = "T+40 blood pressure"
at = "dose+40"
grace_min = 5
measures = [
    "bp",
    "spo2",
]
rems = true

[[alerts]]
field = "systolic_mmhg"
op = ">="
value = 180
label = "Systolic BP 180 or higher"

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

[[discharge.checklist]]
key = "escort"
label = "Escort present"

[[discharge.checklist]]
key = "no-driving"
label = "No driving until tomorrow"

[music]
transition = "track_end"
crossfade_s = 6
"""


def edited(old: str, new: str) -> str:
    """VALID with `old` (which must occur exactly once) replaced by `new`."""
    assert VALID.count(old) == 1, f"test setup: {old!r} must occur once in VALID"
    return VALID.replace(old, new)


def dose(minutes: float) -> Offset:
    return Offset(Anchor.DOSE, minutes)


def start(minutes: float) -> Offset:
    return Offset(Anchor.START, minutes)


# --- the shipped protocol files -------------------------------------------------------------


def test_the_shipped_protocol_folder_lists_every_template() -> None:
    # Given the assets folder / When it is listed / Then every template is there, sorted by name
    names = [path.name for path in list_protocol_files(PROTOCOLS)]
    assert set(SHIPPED) <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize("file_name", SHIPPED)
def test_every_shipped_protocol_loads_with_its_file_name_as_key(file_name: str) -> None:
    # Given a shipped protocol file / When it is loaded
    protocol = load_protocol(PROTOCOLS / file_name)
    # Then it validates, and its key is its file name
    assert protocol.key == Path(file_name).stem
    assert protocol.phases[0].begins == start(0)
    assert protocol.checkins and protocol.alerts and protocol.discharge.checklist


def test_the_default_sublingual_protocol_follows_the_product_template() -> None:
    # Given the default template / When it is loaded
    protocol = load_protocol(PROTOCOLS / "sublingual-kap-3h.toml")
    # Then phases, check-ins, alerts, hold-dose and discharge are the product defaults
    assert protocol.dosing.medication is Medication.KETAMINE
    assert protocol.dosing.route is Route.SUBLINGUAL
    assert protocol.dosing.planned_dose_after_start_min == 40
    assert protocol.dosing.hold_min == 10
    assert protocol.dosing.booster_window == (dose(30), dose(45))
    assert [(p.key, p.begins, p.ends) for p in protocol.phases] == [
        ("arrival", start(0), start(20)),
        ("intention", start(20), dose(0)),
        ("onset", dose(0), dose(25)),
        ("peak", dose(25), dose(60)),
        ("reentry", dose(60), dose(90)),
        ("integration", dose(90), dose(120)),
        ("discharge", dose(120), dose(140)),
    ]
    assert protocol.phase("peak").playlist == "peak.m3u8"
    assert [c.at for c in protocol.checkins] == [
        start(5),
        *(dose(m) for m in (15, 30, 40, 45, 60, 90, 120, 130)),
    ]
    assert protocol.checkin("baseline").grace_min >= 20
    assert {(a.field, a.op, a.value) for a in protocol.alerts} == {
        ("systolic_mmhg", Comparison.GE, 180),
        ("systolic_mmhg", Comparison.LE, 90),
        ("diastolic_mmhg", Comparison.GE, 110),
        ("heart_rate_bpm", Comparison.GT, 120),
        ("heart_rate_bpm", Comparison.LT, 50),
        ("spo2_pct", Comparison.LT, 92),
        ("resp_rate_per_min", Comparison.LT, 10),
        ("resp_rate_per_min", Comparison.GT, 25),
        ("moaas", Comparison.LE, 2),
    }
    hold = protocol.hold_dose
    assert (hold.block_systolic_above, hold.block_diastolic_above) == (160, 100)
    assert (hold.caution_systolic_above, hold.caution_diastolic_above) == (140, 90)
    discharge = protocol.discharge
    assert (discharge.aldrete_pass_min, discharge.bp_within_pct_of_baseline) == (9, 20)
    assert discharge.spo2_min_pct == 92
    assert {item.key for item in discharge.checklist} >= {"escort", "no-driving"}


def test_the_esketamine_protocol_carries_the_rems_requirements() -> None:
    # Given the SPRAVATO protocol / When it is loaded
    protocol = load_protocol(PROTOCOLS / "intranasal-esketamine.toml")
    # Then devices, the 2-hour minimum and the three REMS blood pressures are there
    assert protocol.dosing.medication is Medication.ESKETAMINE
    assert (protocol.dosing.device_mg, protocol.dosing.device_spacing_min) == (28, 5)
    assert protocol.discharge.min_minutes_after_first_dose == 120
    rems = [c for c in protocol.checkins if c.rems]
    assert len(rems) == 3
    assert rems[1].at == dose(40)
    assert all("bp" in c.measures for c in rems)
    assert protocol.hold_dose.caution_systolic_above == 140
    assert protocol.hold_dose.caution_diastolic_above == 90


@pytest.mark.parametrize(
    ("file_name", "first_hour"),
    [("intramuscular-kap.toml", (15, 30, 45, 60)), ("iv-infusion.toml", (0, 15, 30, 45, 60))],
)
def test_im_and_iv_protocols_check_every_15_minutes_in_the_first_hour(
    file_name: str, first_hour: tuple[int, ...]
) -> None:
    # Given an IM or IV protocol / When it is loaded
    protocol = load_protocol(PROTOCOLS / file_name)
    # Then there is a check-in at each quarter hour of the first hour, and at T+90
    times = {c.at for c in protocol.checkins}
    assert {dose(m) for m in (*first_hour, 90)} <= times
    assert not any(c.rems for c in protocol.checkins)


def test_the_small_test_protocol_is_valid() -> None:
    # Given the protocol text the broken cases start from / When it is parsed
    protocol = parse_protocol(VALID, "test.toml")
    # Then it loads, with the optional fields as written and defaults where left out
    assert protocol.key == "test-protocol"
    assert protocol.checkin("t40").measures == ("bp", "spo2")
    assert protocol.checkin("t40").rems is True
    assert protocol.checkin("baseline").rems is False
    assert protocol.phase("arrival").playlist is None
    assert protocol.dosing.device_mg is None


# --- broken files: each error names the line and the field ----------------------------------

BROKEN = [
    # (id, old text, new text, line, field, words in the message)
    ("syntax-error", 'name = "Onset"', 'name = "Onset', 22, None, "not valid TOML"),
    ("unquoted-offset", 'ends = "dose+30"', "ends = dose+30", 24, None, "double quotes"),
    ("bad-offset", 'ends = "dose+30"', 'ends = "dose+x"', 24, "phases[1].ends", "not an offset"),
    ("offset-as-number", 'at = "dose+40"', "at = 40", 49, "checkins[1].at", "not an offset"),
    ("unknown-key", 'playlist = "onset', 'plalist = "onset', 25, "phases[1].plalist", "playlist"),
    ("unknown-top-key", "version = 1", "verison = 1", 4, "verison", 'did you mean "version"'),
    ("unknown-dosing-key", "hold_min = 10", "hold_mins = 10", 11, "dosing.hold_mins", "hold_min"),
    ("duplicate-phase-key", 'key = "peak"', 'key = "onset"', 28, "phases[2].key", "already used"),
    ("duplicate-checkin-key", 'key = "t40"', 'key = "baseline"', 47, "checkins[1].key", "already"),
    (
        "duplicate-checklist-key",
        'key = "no-driving"',
        'key = "escort"',
        86,
        "discharge.checklist[1].key",
        "already used",
    ),
    (
        "overlapping-phases",
        'begins = "dose+30"',
        'begins = "dose+25"',
        30,
        "phases[2].begins",
        "overlaps by 5 minutes",
    ),
    (
        "gap-between-phases",
        'begins = "dose+60"',
        'begins = "dose+65"',
        36,
        "phases[3].begins",
        "5-minute gap",
    ),
    (
        "phases-meet-only-on-time",
        'begins = "dose+0"',
        'begins = "start+40"',
        23,
        "phases[1].begins",
        "exactly on time",
    ),
    (
        "first-phase-late",
        'begins = "start+0"',
        'begins = "start+5"',
        17,
        "phases[0].begins",
        '"start+0"',
    ),
    (
        "zero-length-phase",
        'ends = "dose+30"\nplaylist',
        'ends = "dose+0"\nplaylist',
        24,
        "phases[1].ends",
        "more than 0 minutes",
    ),
    ("bad-op", 'op = ">="', 'op = "=>"', 59, "alerts[0].op", "<, <=, >, >="),
    (
        "unknown-alert-field",
        'field = "spo2_pct"',
        'field = "spo2"',
        64,
        "alerts[1].field",
        "spo2_pct",
    ),
    ("alert-value-implausible", "value = 180", "value = 1800", 60, "alerts[0].value", "40 to 300"),
    (
        "boolean-for-number",
        "grace_min = 30",
        "grace_min = true",
        43,
        "checkins[0].grace_min",
        "not true",
    ),
    ("boolean-alert-value", "value = 92", "value = false", 66, "alerts[1].value", "not false"),
    ("text-for-number", "value = 180", 'value = "180"', 60, "alerts[0].value", "no quotes"),
    (
        "infinite-number",
        "crossfade_s = 6",
        "crossfade_s = inf",
        91,
        "music.crossfade_s",
        "ordinary number",
    ),
    ("huge-number", "value = 92", "value = " + "9" * 400, 66, "alerts[1].value", "out of range"),
    (
        "negative-grace",
        "grace_min = 5",
        "grace_min = -5",
        50,
        "checkins[1].grace_min",
        "out of range",
    ),
    (
        "caution-above-block",
        "caution_systolic_above = 140",
        "caution_systolic_above = 170",
        72,
        "hold_dose.caution_systolic_above",
        "block limit",
    ),
    (
        "block-limits-swapped",
        "block_diastolic_above = 100",
        "block_diastolic_above = 180",
        71,
        "hold_dose.block_diastolic_above",
        "swapped",
    ),
    ("unknown-schema", "schema = 1", "schema = 2", 1, "schema", "schema 2"),
    ("schema-as-text", "schema = 1", 'schema = "1"', 1, "schema", "no quotes"),
    ("missing-schema", "schema = 1\n", "", 1, "schema", "schema = 1"),
    (
        "missing-table",
        "[hold_dose]\nblock_systolic_above = 160\nblock_diastolic_above = 100\n"
        "caution_systolic_above = 140\ncaution_diastolic_above = 90\n",
        "",
        1,
        "hold_dose",
        "[hold_dose]",
    ),
    (
        "missing-field-points-at-header",
        'ends = "dose+60"\n',
        "",
        27,
        "phases[2].ends",
        "is missing",
    ),
    ("missing-dosing-field", 'route = "sublingual"\n', "", 7, "dosing.route", "[dosing]"),
    ("table-as-value", 'name = "Test protocol"', "name = { text = 1 }", 3, "name", "not a table"),
    ("empty-name", 'name = "Peak"', 'name = "  "', 29, "phases[2].name", "empty"),
    ("bad-protocol-key", 'key = "test-protocol"', 'key = "Test protocol"', 2, "key", "lower-case"),
    (
        "checkins-out-of-order",
        'at = "start+5"',
        'at = "dose+45"',
        49,
        "checkins[1].at",
        "time order",
    ),
    (
        "checkin-after-session",
        'at = "dose+40"',
        'at = "dose+95"',
        49,
        "checkins[1].at",
        "after the session ends",
    ),
    (
        "unknown-measure-in-multiline-list",
        '"spo2",\n]',
        '"sp02",\n]',
        53,
        "checkins[1].measures[1]",
        "not a known measure",
    ),
    (
        "measure-listed-twice",
        '["bp", "hr"]',
        '["bp", "bp"]',
        44,
        "checkins[0].measures[1]",
        "twice",
    ),
    ("rems-as-text", "rems = true", 'rems = "yes"', 55, "checkins[1].rems", "true or false"),
    ("bad-route", 'route = "sublingual"', 'route = "oral"', 9, "dosing.route", '"intranasal"'),
    (
        "bad-medication",
        'medication = "ketamine"',
        'medication = "ketamin"',
        8,
        "dosing.medication",
        '"esketamine"',
    ),
    (
        "esketamine-without-devices",
        'medication = "ketamine"\nroute = "sublingual"',
        'medication = "esketamine"\nroute = "intranasal"',
        7,
        "dosing.device_mg",
        "intranasal",
    ),
    (
        "booster-before-dose",
        '["dose+30", "dose+45"]',
        '["start+30", "dose+45"]',
        12,
        "dosing.booster_window[0]",
        "before the first dose",
    ),
    (
        "booster-after-session",
        '["dose+30", "dose+45"]',
        '["dose+30", "dose+95"]',
        12,
        "dosing.booster_window[1]",
        "after the session ends",
    ),
    (
        "booster-single-offset",
        '["dose+30", "dose+45"]',
        '["dose+30"]',
        12,
        "dosing.booster_window",
        "two offsets",
    ),
    (
        "aldrete-above-10",
        "aldrete_pass_min = 9",
        "aldrete_pass_min = 11",
        76,
        "discharge.aldrete_pass_min",
        "0 to 10",
    ),
    (
        "aldrete-fraction",
        "aldrete_pass_min = 9",
        "aldrete_pass_min = 8.5",
        76,
        "discharge.aldrete_pass_min",
        "whole number",
    ),
    (
        "bp-pct-zero",
        "bp_within_pct_of_baseline = 20",
        "bp_within_pct_of_baseline = 0",
        77,
        "discharge.bp_within_pct_of_baseline",
        "above 0",
    ),
    (
        "spo2-above-100",
        "spo2_min_pct = 92",
        "spo2_min_pct = 920",
        78,
        "discharge.spo2_min_pct",
        "out of range",
    ),
    (
        "monitoring-longer-than-session",
        "min_minutes_after_first_dose = 0",
        "min_minutes_after_first_dose = 120",
        79,
        "discharge.min_minutes_after_first_dose",
        "lengthen the last phase",
    ),
    (
        "bad-transition",
        'transition = "track_end"',
        'transition = "crossfade"',
        90,
        "music.transition",
        '"fade"',
    ),
    (
        "crossfade-too-long",
        "crossfade_s = 6",
        "crossfade_s = 13",
        91,
        "music.crossfade_s",
        "0 to 12",
    ),
    (
        "playlist-with-folder",
        'playlist = "onset.m3u8"',
        'playlist = "/music/onset.m3u8"',
        25,
        "phases[1].playlist",
        "without a folder",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN],
)
def test_a_broken_protocol_is_refused_naming_line_and_field(
    old: str, new: str, line: int, field: str | None, words: str
) -> None:
    # Given the valid protocol with one mistake
    text = edited(old, new)
    # When it is parsed
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    # Then the error names the file, the exact line and field, and what is wrong
    error = caught.value
    assert (error.source, error.line, error.field) == ("clinic.toml", line, field)
    assert words in error.message
    assert str(error).startswith(f"clinic.toml, line {line}" + (f", {field}: " if field else ": "))


INLINE_PHASES = """\
phases = [
    { key = "arrival", name = "Arrival", begins = "start+0", ends = "dose+0" },
    { key = "onset", name = "Onset", begins = "dose+0", ends = "dose+30" },
    { key = "peak", name = "Peak", begins = "dose+30", ends = "dose+6O" },
]
"""
INLINE_MUSIC = 'music = { transition = "fade", crossfade_s = 20 }\n'


@pytest.mark.parametrize(
    ("first", "after", "inline", "line", "field"),
    [
        pytest.param("[[phases]]", "[[checkins]]", INLINE_PHASES, 9, "phases[2].ends", id="list"),
        pytest.param("[music]", None, INLINE_MUSIC, 6, "music.crossfade_s", id="inline-table"),
    ],
)
def test_a_mistake_in_an_inline_table_points_at_its_line(
    first: str, after: str | None, inline: str, line: int, field: str
) -> None:
    # Given a section rewritten as inline tables right after the top-level keys (line 5)
    section = VALID[VALID.index(first) : VALID.index(after) if after else len(VALID)]
    text = VALID.replace(section, "").replace("\n[dosing]", inline + "\n[dosing]", 1)
    # When it is parsed
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "inline.toml")
    # Then the error names the line of the inline table holding the mistake
    assert (caught.value.line, caught.value.field) == (line, field)
    assert field.split(".")[-1] in text.splitlines()[line - 1]


def test_a_syntax_error_at_the_end_of_the_file_names_the_last_line() -> None:
    # Given a file that ends inside an unclosed list
    text = VALID + "extra = [1,\n"
    # When it is parsed / Then the error points at that last line
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    assert caught.value.line == VALID.count("\n") + 1
    assert "end of the file" in caught.value.message


def test_a_key_written_twice_is_a_syntax_error_on_the_second_line() -> None:
    # Given the same key twice in one table
    text = edited("hold_min = 10\n", "hold_min = 10\nhold_min = 12\n")
    # When it is parsed / Then tomllib's line is kept and the message says what to do
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    assert (caught.value.line, caught.value.field) == (12, None)
    assert "keep one of the lines" in caught.value.message


# --- the error itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        (42, "phases[2].ends", 'a.toml, line 42, phases[2].ends: "dose+x" is not an offset'),
        (None, "key", 'a.toml, key: "dose+x" is not an offset'),
        (3, None, 'a.toml, line 3: "dose+x" is not an offset'),
        (None, None, 'a.toml: "dose+x" is not an offset'),
    ],
)
def test_the_error_reads_file_line_field_then_message(
    line: int | None, field: str | None, expected: str
) -> None:
    # Given an error with or without a line and a field / When it is shown
    error = ProtocolError("a.toml", line, field, '"dose+x" is not an offset')
    # Then it reads file, line, field: message, and survives pickling (e.g. across processes)
    assert str(error) == expected
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.line, copy.field, copy.message) == (
        "a.toml",
        line,
        field,
        '"dose+x" is not an offset',
    )


# --- files and folders ------------------------------------------------------------------------


def test_load_protocol_names_the_file_by_its_name(tmp_path: Path) -> None:
    # Given a broken protocol file on disk
    path = tmp_path / "clinic-sl.toml"
    path.write_text(edited('op = ">="', 'op = "=>"'), encoding="utf-8")
    # When it is loaded / Then the error names the file (not its folder) and the line
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert (caught.value.source, caught.value.line) == ("clinic-sl.toml", 59)


def test_load_protocol_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    # Given a valid file saved by an editor that writes a UTF-8 byte-order mark
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    # When it is loaded / Then it loads
    assert load_protocol(path).key == "test-protocol"


def test_load_protocol_names_the_line_of_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    # Given a file saved in Latin-1 with an accented letter on line 3
    path = tmp_path / "latin1.toml"
    path.write_bytes(edited('name = "Test protocol"', 'name = "Séance"').encode("latin-1"))
    # When it is loaded / Then the error names that line and says to save as UTF-8
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert caught.value.line == 3
    assert "UTF-8" in caught.value.message


def test_load_protocol_reports_a_missing_file_as_a_protocol_error(tmp_path: Path) -> None:
    # Given no file / When it is loaded / Then a ProtocolError names it
    with pytest.raises(ProtocolError) as caught:
        load_protocol(tmp_path / "gone.toml")
    assert (caught.value.source, caught.value.line) == ("gone.toml", None)


def test_list_protocol_files_keeps_only_toml_files_sorted(tmp_path: Path) -> None:
    # Given protocol files among other files, a hidden editor file and a folder
    for name in ("b.toml", "a.toml", "notes.txt", ".#a.toml", "a.toml~"):
        (tmp_path / name).write_text(VALID, encoding="utf-8")
    (tmp_path / "old.toml").mkdir()
    # When the folder is listed / Then only the protocol files come back, by name
    assert [p.name for p in list_protocol_files(tmp_path)] == ["a.toml", "b.toml"]


def test_list_protocol_files_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert list_protocol_files(tmp_path / "nowhere") == []


# --- whatever the text, only ProtocolError -----------------------------------------------------

VALID_LINES = VALID.splitlines()
ASSIGNMENT_LINES = assignment_lines(VALID_LINES)
TOML_VALUES = toml_values(
    "dose+5", "start-3", "dose+2.5", "dose", "start+99999", "bp", text_size=12
)


def _assert_only_protocol_errors(text: str) -> None:
    assert_only_file_errors(parse_protocol, ProtocolError, text)


@settings(deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_raises_nothing_but_protocol_error(text: str) -> None:
    _assert_only_protocol_errors(text)


@settings(deadline=None, database=None, max_examples=300)
@given(index=st.sampled_from(ASSIGNMENT_LINES), value=TOML_VALUES)
def test_any_value_in_any_field_raises_nothing_but_protocol_error(index: int, value: str) -> None:
    # Given the valid protocol with one value replaced by anything TOML can hold
    text = with_value(VALID_LINES, index, value)
    # When it is parsed / Then it loads or fails with a ProtocolError naming a real line
    _assert_only_protocol_errors(text)


@settings(deadline=None, database=None, max_examples=300)
@given(
    index=st.integers(min_value=0, max_value=len(VALID_LINES) - 1),
    replacement=st.one_of(st.text(max_size=30), st.sampled_from(["", "[x]", "[[phases]]"])),
)
def test_any_line_replaced_by_anything_raises_nothing_but_protocol_error(
    index: int, replacement: str
) -> None:
    text = with_line(VALID_LINES, index, replacement)
    _assert_only_protocol_errors(text)
