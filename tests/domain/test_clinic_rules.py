"""The clinic's rules (clinic.toml): the shipped file is the defaults; every mistake names its
line and field; a clinic's own rules are read as written."""

from __future__ import annotations

from pathlib import Path

import pytest
from clinic_file_fuzz import assert_only_file_errors, assignment_lines, toml_values, with_value
from hypothesis import given
from hypothesis import strategies as st

from kapsession.domain.clinic_rules import (
    DEFAULT_CLINIC_RULES,
    DEFAULT_RESCUE_MEDICATIONS,
    DEFAULT_ROLE_RULES,
    BackupRules,
    ClinicRulesError,
    parse_clinic_rules,
    read_clinic_rules,
)
from kapsession.domain.roles import StaffRole, TeamRole

SHIPPED = Path(__file__).parents[2] / "assets" / "clinic.toml"
R = StaffRole

VALID = """\
# The clinic's rules
schema = 1

[roles]
may_monitor = ["nurse", "physician"]
may_be_therapist = ["therapist", "prescriber"]
may_prescribe = ["physician"]
"""
VALID_LINES = VALID.splitlines()


def edited(old: str, new: str) -> str:
    """VALID with `old` (which must occur exactly once) replaced by `new`."""
    assert VALID.count(old) == 1, f"test setup: {old!r} must occur once in VALID"
    return VALID.replace(old, new)


def test_the_shipped_file_holds_the_default_rules() -> None:
    # Given the clinic.toml kapsession writes on first start / When it is read
    rules = read_clinic_rules(SHIPPED)
    # Then it is exactly the built-in rules
    assert rules == DEFAULT_CLINIC_RULES
    roles = rules.roles
    assert roles.may_monitor == {R.NURSE, R.PRESCRIBER, R.PHYSICIAN}
    assert roles.may_be_therapist == {R.THERAPIST, R.PHYSICIAN}
    assert roles.may_prescribe == {R.PRESCRIBER, R.PHYSICIAN}
    # And each default is written beside its key with where it comes from
    text = SHIPPED.read_text(encoding="utf-8")
    for key in ("may_monitor", "may_be_therapist", "may_prescribe"):
        before = text[: text.index(f"\n{key} = ")]
        assert "Default: [" in before.rsplit("\n\n", 1)[-1], key


def test_a_clinics_own_rules_are_read_as_written() -> None:
    # Given a clinic whose prescribers also give the therapy
    rules = parse_clinic_rules(VALID, "clinic.toml").roles
    # Then each place takes exactly the roles listed
    assert rules.allowed(TeamRole.MONITORING) == {R.NURSE, R.PHYSICIAN}
    assert rules.allowed(TeamRole.THERAPIST) == {R.THERAPIST, R.PRESCRIBER}
    assert rules.allowed(TeamRole.PRESCRIBER) == {R.PHYSICIAN}
    assert rules.may(TeamRole.THERAPIST, "prescriber")
    assert not rules.may(TeamRole.MONITORING, "prescriber")


def test_private_notes_are_the_sessions_therapists_unless_the_clinic_names_a_role() -> None:
    # By default: only the session's own therapist, whatever anyone's role
    default = DEFAULT_ROLE_RULES
    assert default.may_read_private_notes == frozenset()
    assert default.may_read_private("nurse", session_therapist=True)
    assert not default.may_read_private("therapist", session_therapist=False)
    assert not default.may_read_private("physician", session_therapist=False)
    # A clinic may name roles; an empty list says "nobody else" and is allowed
    text = VALID + 'may_read_private_notes = ["physician"]\n'
    rules = parse_clinic_rules(text, "clinic.toml").roles
    assert rules.may_read_private("physician", session_therapist=False)
    assert not rules.may_read_private("nurse", session_therapist=False)
    empty = parse_clinic_rules(VALID + "may_read_private_notes = []\n", "clinic.toml").roles
    assert empty.may_read_private_notes == frozenset()


def test_a_rule_left_out_keeps_its_default() -> None:
    # Given a file with the schema and one rule only
    text = 'schema = 1\n[roles]\nmay_prescribe = ["physician"]\n'
    rules = parse_clinic_rules(text, "clinic.toml").roles
    # Then the others are the defaults, and a file with no [roles] is all defaults
    assert rules.may_monitor == DEFAULT_ROLE_RULES.may_monitor
    assert rules.may_be_therapist == DEFAULT_ROLE_RULES.may_be_therapist
    assert rules.may_prescribe == {R.PHYSICIAN}
    assert parse_clinic_rules("schema = 1\n", "clinic.toml") == DEFAULT_CLINIC_RULES


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (edited("schema = 1\n", ""), 1, "schema", "is missing; the file must start with schema"),
        (edited("schema = 1", 'schema = "1"'), 2, "schema", 'number 1 (no quotes), not "1"'),
        (edited("schema = 1", "schema = 2"), 2, "schema", "schema 2 is not known"),
        (edited("[roles]", "[role]"), 4, "role", 'unknown field "role"; clinic.toml holds'),
        ('schema = 1\nroles = "nurse"\n', 2, "roles", "must be a table"),
        (
            edited("may_monitor =", "may_monitr ="),
            5,
            "roles.may_monitr",
            '(did you mean "may_monitor"?)',
        ),
        (
            edited('may_monitor = ["nurse", "physician"]', 'may_monitor = "nurse"'),
            5,
            "roles.may_monitor",
            'must be a list of roles in square brackets, e.g. may_monitor = ["nurse", '
            '"prescriber", "physician"], not "nurse"',
        ),
        (
            edited('may_monitor = ["nurse", "physician"]', "may_monitor = []"),
            5,
            "roles.may_monitor",
            "is empty, so nobody could monitor a session or sign its monitoring part",
        ),
        (
            edited('may_prescribe = ["physician"]', "may_prescribe = [3]"),
            7,
            "roles.may_prescribe[0]",
            "must be a role in double quotes, not 3",
        ),
        (
            edited('may_monitor = ["nurse", "physician"]', 'may_monitor = ["nurse", "RN"]'),
            5,
            "roles.may_monitor[1]",
            '"RN" is not a staff role; use therapist, nurse, prescriber, physician, lead, '
            "administrator or other",
        ),
        (
            edited('["therapist", "prescriber"]', '["therapist", "physican"]'),
            6,
            "roles.may_be_therapist[1]",
            '(did you mean "physician"?)',
        ),
        (
            edited('may_prescribe = ["physician"]', 'may_prescribe = [\n  "physician",\n'),
            8,
            None,
            "is not valid TOML",
        ),
        (
            edited('["nurse", "physician"]', '["nurse",\n  "nurse"]'),
            6,
            "roles.may_monitor[1]",
            '"nurse" is listed twice; keep one',
        ),
    ],
    ids=[
        "no-schema",
        "schema-quoted",
        "schema-newer",
        "unknown-table",
        "roles-not-a-table",
        "misspelt-rule",
        "rule-not-a-list",
        "rule-empty",
        "role-not-text",
        "unknown-role",
        "misspelt-role",
        "toml-syntax",
        "role-twice",
    ],
)
def test_every_mistake_names_its_line_and_field(
    text: str, line: int, field: str | None, words: str
) -> None:
    # Given a clinic file with one mistake / When it is read
    with pytest.raises(ClinicRulesError) as raised:
        parse_clinic_rules(text, "clinic.toml")
    # Then the error says where, and what to write instead
    problem = raised.value
    assert (problem.source, problem.line, problem.field) == ("clinic.toml", line, field)
    assert words in problem.message, problem.message
    assert str(problem).startswith(f"clinic.toml, line {line}")


def test_a_file_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    # Given a clinic file that is not UTF-8 text
    path = tmp_path / "clinic.toml"
    path.write_bytes(b'schema = 1\n[roles]\nmay_monitor = ["nurse\xff"]\n')
    # When it is read, Then the problem names the file and the line
    with pytest.raises(ClinicRulesError) as raised:
        read_clinic_rules(path)
    assert (raised.value.source, raised.value.line) == ("clinic.toml", 3)
    assert "is not UTF-8 text" in raised.value.message


@given(index=st.sampled_from(assignment_lines(VALID_LINES)), value=toml_values(*R))
def test_any_value_anywhere_is_read_or_refused_with_a_line(index: int, value: str) -> None:
    assert_only_file_errors(
        parse_clinic_rules, ClinicRulesError, with_value(VALID_LINES, index, value)
    )


@given(st.text())
def test_any_text_is_read_or_refused_with_a_line(text: str) -> None:
    assert_only_file_errors(parse_clinic_rules, ClinicRulesError, text)


RESCUE = """\
schema = 1

[[rescue_medications]]
name = "ondansetron"
dose = 8
unit = "mg"
route = "intravenous"

[[rescue_medications]]
name = "clonidine"
dose = 0.1
unit = "mg"
route = "oral"
use = "high blood pressure"
"""


def test_the_clinics_rescue_medications_are_read_as_written() -> None:
    # Given a clinic's own list of two rescue medications
    rules = parse_clinic_rules(RESCUE, "clinic.toml")
    # Then those two are offered, with their usual dose and route; the roles keep their defaults
    assert [(m.name, m.usual) for m in rules.rescue_medications] == [
        ("ondansetron", "8 mg intravenous"),
        ("clonidine", "0.1 mg oral"),
    ]
    assert rules.roles == DEFAULT_ROLE_RULES
    # And a file without a list offers the defaults, the shipped file's list
    assert parse_clinic_rules("schema = 1\n", "clinic.toml").rescue_medications == (
        DEFAULT_RESCUE_MEDICATIONS
    )
    assert [m.name for m in DEFAULT_RESCUE_MEDICATIONS] == [
        "ondansetron", "clonidine", "lorazepam", "midazolam", "labetalol",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ("dose = 0.1", 'dose = "0.1"', 11, "rescue_medications[1].dose", "must be a number"),
        ("dose = 8", "dose = 0", 5, "rescue_medications[0].dose", "must be above 0"),
        ('unit = "mg"\nroute = "oral"', 'unit = "tabs"\nroute = "oral"', 12,
         "rescue_medications[1].unit", '"tabs" is not a unit'),
        ('name = "clonidine"', 'name = "Ondansetron"', 10, "rescue_medications[1].name",
         "listed twice"),
        ('route = "intravenous"\n', "", 3, "rescue_medications[0].route", "is missing"),
        ('use = "high blood pressure"', 'usage = "BP"', 14, "rescue_medications[1].usage",
         'unknown field "usage"'),
    ],
)  # fmt: skip
def test_a_mistake_in_the_rescue_list_names_its_line_and_field(
    old: str, new: str, line: int, field: str, words: str
) -> None:
    # Given the list with one mistake / When it is read
    assert RESCUE.count(old) == 1
    with pytest.raises(ClinicRulesError) as exc:
        parse_clinic_rules(RESCUE.replace(old, new), "clinic.toml")
    # Then the error names the line and the field, and says what to write
    assert (exc.value.line, exc.value.field) == (line, field)
    assert words in exc.value.message


# --- [backup] (issue 19) ----------------------------------------------------------------------


def test_the_backup_interval_and_second_location_are_read_as_written() -> None:
    text = 'schema = 1\n[backup]\ninterval_h = 2\nsecond_location = "/media/usb/kapsession"\n'
    backup = parse_clinic_rules(text, "clinic.toml").backup
    assert backup == BackupRules(interval_hours=2, second_location=Path("/media/usb/kapsession"))
    # and left out: every 4 hours, no second location (the shipped file says the same)
    assert DEFAULT_CLINIC_RULES.backup == BackupRules(interval_hours=4, second_location=None)
    assert read_clinic_rules(SHIPPED).backup == DEFAULT_CLINIC_RULES.backup


@pytest.mark.parametrize(
    ("lines", "field", "words"),
    [
        ("interval_h = 0", "backup.interval_h", "whole number of hours from 1 to 24"),
        ('interval_h = "4"', "backup.interval_h", 'not "4"'),
        ("interval_h = 4.5", "backup.interval_h", "not 4.5"),
        ('second_location = "usb/kapsession"', "backup.second_location", "must be a full path"),
        ("second_location = 3", "backup.second_location", "full path in double quotes"),
        (
            'second_locaton = "/media/usb"',
            "backup.second_locaton",
            'did you mean "second_location"',
        ),
    ],
)
def test_a_mistake_in_the_backup_table_names_its_line_and_field(
    lines: str, field: str, words: str
) -> None:
    with pytest.raises(ClinicRulesError) as raised:
        parse_clinic_rules(f"schema = 1\n[backup]\n{lines}\n", "clinic.toml")
    assert (raised.value.line, raised.value.field) == (3, field)
    assert words in raised.value.message, raised.value.message
