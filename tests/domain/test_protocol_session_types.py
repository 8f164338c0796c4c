"""Session types in protocol files (issue 17): `session_type`, optional and "dosing" by default;
a template of another type has no dose, so no [dosing], [hold_dose] or [discharge] and no
time counted from a dose, and every mistake names its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapsession.domain.protocol import Anchor, SessionType
from kapsession.domain.protocol_file import ProtocolError, load_protocol, parse_protocol

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
BEFORE_16 = Path(__file__).parent / "protocols_before_16"
DOSING_FILES = (
    "sublingual-kap-3h.toml",
    "intramuscular-kap.toml",
    "iv-infusion.toml",
    "intranasal-esketamine.toml",
)

CONSULTATION = """\
schema = 1
key = "talk"
name = "Talk"
version = 1
session_type = "consultation"
description = "A session without a dose"

[[phases]]
key = "welcome"
name = "Welcome"
begins = "start+0"
ends = "start+30"

[[phases]]
key = "plan"
name = "Plan"
begins = "start+30"
ends = "start+60"

[music]
transition = "track_end"
crossfade_s = 6
"""


def edited(old: str, new: str) -> str:
    assert old in CONSULTATION
    return CONSULTATION.replace(old, new, 1)


@pytest.mark.parametrize(
    ("file_name", "session_type", "minutes"),
    [
        ("consultation.toml", SessionType.CONSULTATION, 60),
        ("preparation.toml", SessionType.PREPARATION, 90),
        ("integration.toml", SessionType.INTEGRATION, 90),
        ("follow-up.toml", SessionType.FOLLOW_UP, 50),
    ],
)
def test_each_shipped_template_without_a_dose_runs_on_the_session_clock_only(
    file_name: str, session_type: SessionType, minutes: int
) -> None:
    # Given a shipped template of a session without a dose / When it is loaded
    protocol = load_protocol(PROTOCOLS / file_name)
    # Then it has its type, gives no dose, and every time counts from the start
    assert protocol.session_type is session_type
    assert not protocol.gives_dose
    assert protocol.checkins == () and protocol.alerts == ()
    offsets = [o for p in protocol.phases for o in (p.begins, p.ends)]
    assert all(o.anchor is Anchor.START for o in offsets)
    assert protocol.phases[-1].ends.minutes == minutes


def test_integration_is_sixty_minutes_with_an_optional_extension_to_ninety() -> None:
    protocol = load_protocol(PROTOCOLS / "integration.toml")
    assert protocol.phases[-1].key == "extension"
    assert protocol.phases[-1].begins.minutes == 60


@pytest.mark.parametrize("folder", [PROTOCOLS, BEFORE_16], ids=["shipped", "before-16"])
@pytest.mark.parametrize("file_name", DOSING_FILES)
def test_a_protocol_without_the_key_is_a_dosing_session(folder: Path, file_name: str) -> None:
    # Given a protocol written before session types (and the snapshots sessions stored)
    protocol = load_protocol(folder / file_name)
    # Then it is a dosing session, as it always was
    assert protocol.session_type is SessionType.DOSING
    assert protocol.gives_dose


def test_session_type_dosing_written_out_keeps_a_dosing_protocol() -> None:
    text = (PROTOCOLS / "sublingual-kap-3h.toml").read_text(encoding="utf-8")
    written = text.replace("version = 2\n", 'version = 2\nsession_type = "dosing"\n', 1)
    assert written != text
    assert parse_protocol(written, "x.toml") == parse_protocol(text, "x.toml")


def test_a_template_without_a_dose_may_have_check_ins_on_the_session_clock() -> None:
    # Given a consultation with one check-in at start+5
    text = CONSULTATION + (
        '\n[[checkins]]\nkey = "arrival-vitals"\nlabel = "Vitals"\nat = "start+5"\n'
        'grace_min = 5\nmeasures = ["bp", "hr"]\n'
    )
    # When it is parsed / Then the check-in is its schedule
    protocol = parse_protocol(text, "talk.toml")
    assert [c.key for c in protocol.checkins] == ["arrival-vitals"]
    assert not protocol.gives_dose


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        pytest.param(
            'session_type = "consultation"',
            'session_type = "therapy"',
            5,
            "session_type",
            '"therapy" is not one of',
            id="unknown-type",
        ),
        pytest.param(
            'session_type = "consultation"',
            "session_type = 3",
            5,
            "session_type",
            "must be text in double quotes",
            id="not-text",
        ),
        pytest.param(
            'ends = "start+60"',
            'ends = "dose+60"',
            18,
            "phases[1].ends",
            "counts from the dose, but a consultation session has none",
            id="dose-offset",
        ),
        pytest.param(
            "[music]",
            '[dosing]\nmedication = "ketamine"\n\n[music]',
            20,
            "dosing",
            "a consultation session gives no dose, so it has no [dosing]",
            id="dosing-table",
        ),
        pytest.param(
            "[music]",
            "[hold_dose]\nblock_systolic_above = 160\n\n[music]",
            20,
            "hold_dose",
            "has no [hold_dose]",
            id="hold-dose-table",
        ),
    ],
)
def test_a_mistake_in_a_template_without_a_dose_names_its_line_and_field(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    # Given the consultation template with one mistake
    text = edited(old, new)
    # When it is parsed
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "talk.toml")
    # Then the error names the exact line and field and what is wrong
    error = caught.value
    assert (error.line, error.field) == (line, field)
    assert words in error.message


def test_a_check_in_counted_from_a_dose_is_refused_in_a_template_without_one() -> None:
    text = CONSULTATION + (
        '\n[[checkins]]\nkey = "t40"\nlabel = "T+40"\nat = "dose+40"\ngrace_min = 5\n'
    )
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "talk.toml")
    assert caught.value.field == "checkins[0].at"
    assert caught.value.line == text.splitlines().index('at = "dose+40"') + 1
