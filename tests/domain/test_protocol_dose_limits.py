"""The dose limits of a protocol file added by issue 16: `[dosing.limits]` (each key optional,
defaulting to the route's published limits, clinical-sources §2) and `[hold_dose]
booster_bp_max_age_min` (default 15). A snapshot stored before them keeps a sensible meaning;
a mistake names the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapsession.domain.protocol import DEFAULT_DOSE_LIMITS, Medication, Route
from kapsession.domain.protocol_file import ProtocolError, load_protocol, parse_protocol
from tests.domain.test_protocol_checkin_keys import BEFORE, line_of

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
DOSING = "planned_dose_after_start_min = 40\n"
WINDOW = 'booster_window = ["dose+30", "dose+45"]\n'


def with_limits(lines: str, *, window: bool = True) -> str:
    extra = (WINDOW if window else "") + "\n[dosing.limits]\n" + lines
    assert BEFORE.count(DOSING) == 1
    return BEFORE.replace(DOSING, DOSING + extra)


def test_a_snapshot_without_limits_gets_the_routes_published_limits() -> None:
    # Given a sublingual protocol stored before issue 16 (no [dosing.limits], no booster window)
    protocol = parse_protocol(BEFORE, "snapshot")
    # Then its doses are limited as clinical-sources §2 says for sublingual ketamine
    limits = protocol.dosing.limits
    assert (limits.min_mg, limits.max_mg, limits.max_session_mg) == (100, 400, 400)
    # And without a booster window no booster is allowed, the BP for a booster is 15 min old
    assert protocol.dosing.boosters_allowed == 0
    assert protocol.hold_dose.booster_bp_max_age_min == 15


def test_each_limit_left_out_keeps_the_routes_default() -> None:
    protocol = parse_protocol(with_limits("max_mg = 300\nmax_boosters = 2\n"), "clinic.toml")
    limits = protocol.dosing.limits
    assert (limits.min_mg, limits.max_mg, limits.max_boosters) == (100, 300, 2)
    assert protocol.dosing.boosters_allowed == 2


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("intranasal-esketamine.toml", {"allowed_mg": (56, 84), "max_mg": 84, "boosters": 0}),
        ("sublingual-kap-3h.toml", {"min_mg": 100, "max_mg": 400, "boosters": 1}),
        ("intramuscular-kap.toml", {"min_mg_per_kg": 0.5, "max_mg_per_kg": 0.75, "max_mg": 60}),
        ("iv-infusion.toml", {"min_mg_per_kg": 0.5, "max_mg_per_kg": 2, "boosters": 0}),
    ],
)
def test_the_shipped_protocols_state_the_published_limits_with_their_source(
    file_name: str, expected: dict[str, object]
) -> None:
    protocol = load_protocol(PROTOCOLS / file_name)
    text = (PROTOCOLS / file_name).read_text(encoding="utf-8")
    # Given the section with its source and each key's default in a comment
    assert "[dosing.limits]" in text and "clinical-sources §2" in text
    for line in text.split("[dosing.limits]")[1].split("\n\n")[0].splitlines()[1:]:
        assert "# default" in line or line.lstrip().startswith("#"), line
    limits = protocol.dosing.limits
    for name, value in expected.items():
        got = protocol.dosing.boosters_allowed if name == "boosters" else getattr(limits, name)
        assert got == value, name
    # And the file says what the defaults are: its values are the route's defaults
    assert limits == DEFAULT_DOSE_LIMITS[protocol.dosing.medication, protocol.dosing.route]


def test_esketamine_limits_are_whole_devices() -> None:
    assert DEFAULT_DOSE_LIMITS[Medication.ESKETAMINE, Route.INTRANASAL].allowed_mg == (56, 84)


BROKEN = [
    ("negative", "max_mg = -5", "dosing.limits.max_mg", "out of range"),
    ("quoted", 'max_mg = "400"', "dosing.limits.max_mg", "must be a number (no quotes)"),
    ("min-above-max", "min_mg = 500", "dosing.limits.min_mg", "is above max_mg = 400"),
    ("misspelt", "max_mgs = 400", "dosing.limits.max_mgs", 'did you mean "max_mg"'),
    ("usual-outside", "usual_mg = 450", "dosing.limits.usual_mg", "outside the limits"),
    ("allowed-not-list", "allowed_mg = 56", "dosing.limits.allowed_mg", "must be a list"),
    ("allowed-above-max", "allowed_mg = [500]", "dosing.limits.allowed_mg[0]", "above max_mg"),
    ("boosters-fraction", "max_boosters = 1.5", "dosing.limits.max_boosters", "whole number"),
    (
        "session-below-dose",
        "max_session_mg = 300",
        "dosing.limits.max_session_mg",
        "below max_mg = 400",
    ),
]


@pytest.mark.parametrize(
    ("added", "field", "words"), [pytest.param(*case[1:], id=case[0]) for case in BROKEN]
)
def test_a_mistake_in_the_limits_names_file_line_and_field(
    added: str, field: str, words: str
) -> None:
    text = with_limits(added + "\n")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    error = caught.value
    assert (error.line, error.field) == (line_of(text, added), field)
    assert words in error.message


def test_boosters_without_a_window_are_refused_on_their_line() -> None:
    text = with_limits("max_boosters = 1\n", window=False)
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    assert caught.value.line == line_of(text, "max_boosters = 1")
    assert "need a booster_window" in caught.value.message


def test_an_esketamine_dose_that_is_not_whole_devices_is_refused() -> None:
    text = (PROTOCOLS / "intranasal-esketamine.toml").read_text(encoding="utf-8")
    text = text.replace("allowed_mg = [56, 84]", "allowed_mg = [56, 70]")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    assert caught.value.field == "dosing.limits.allowed_mg[1]"
    assert "not a whole number of 28 mg devices" in caught.value.message


def test_the_booster_bp_age_is_read_and_checked() -> None:
    hold = "caution_diastolic_above = 90\n"
    ok = parse_protocol(BEFORE.replace(hold, hold + "booster_bp_max_age_min = 10\n"), "c.toml")
    assert ok.hold_dose.booster_bp_max_age_min == 10
    text = BEFORE.replace(hold, hold + "booster_bp_max_age_min = 0\n")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "clinic.toml")
    assert caught.value.field == "hold_dose.booster_bp_max_age_min"
    assert caught.value.line == line_of(text, "booster_bp_max_age_min = 0")
