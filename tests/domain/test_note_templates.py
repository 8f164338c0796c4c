"""Session-note templates: the shipped ones load; every mistake names its file, line and field."""

from __future__ import annotations

import pickle
from collections.abc import Callable
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

from kapsession.domain.note_templates import (
    DEFAULT_NOTE_TEMPLATE_KEY,
    PREFILL_SOURCES,
    NoteSection,
    NoteTemplate,
    NoteTemplateError,
    Prefill,
    list_note_template_files,
    parse_note_template,
    read_note_template,
)

TEMPLATES = Path(__file__).parents[2] / "assets" / "note-templates"
SHIPPED = ("kap.toml", "dap.toml", "soap.toml", "birp.toml")

# A small valid template; the broken cases below edit one spot and name its line number.
VALID = """\
[template]
key = "test"
name = "Test note"
description = "A small template for the tests"
version = 2

[[section]]
key = "intention"
title = "Intention"
hint = "In the client's words."
prefill = "intention"

[[section]]
key = "objective"
title = "Objective"
prefill = [
    "doses",
    "vitals",
]

[[section]]
key = "plan"
title = "Plan"
"""


def edited(old: str, new: str) -> str:
    """VALID with `old` (which must occur exactly once) replaced by `new`."""
    assert VALID.count(old) == 1, f"test setup: {old!r} must occur once in VALID"
    return VALID.replace(old, new)


def sections(count: int) -> str:
    return "".join(f'\n[[section]]\nkey = "s{i}"\ntitle = "Section {i}"\n' for i in range(count))


HEAD = '[template]\nkey = "many"\nname = "Many"\nversion = 1\n'


# --- the shipped templates ------------------------------------------------------------------


def test_the_shipped_folder_lists_every_template() -> None:
    # Given the assets folder / When it is listed / Then the four templates are there, by name
    assert [p.name for p in list_note_template_files(TEMPLATES)] == sorted(SHIPPED)


@pytest.mark.parametrize("file_name", SHIPPED)
def test_every_shipped_template_loads_with_its_file_name_as_key(file_name: str) -> None:
    # Given a shipped template file / When it is read
    template = read_note_template(TEMPLATES / file_name)
    # Then it validates, is named after its file, and every section has a hint and ends in a plan
    assert template.key == Path(file_name).stem
    assert template.version == 1
    assert template.name and template.description
    assert all(section.hint for section in template.sections)
    assert template.sections[-1].key == "plan"


def test_the_default_kap_template_follows_the_kap_note_structure() -> None:
    # Given the default template / When it is read
    template = read_note_template(TEMPLATES / f"{DEFAULT_NOTE_TEMPLATE_KEY}.toml")
    # Then its sections run from intention to plan, each prefilled from its part of the record
    assert [(s.key, s.prefills) for s in template.sections] == [
        ("intention", (Prefill.INTENTION,)),
        ("setting", (Prefill.SETTING,)),
        ("doses", (Prefill.DOSES,)),
        ("vitals", (Prefill.VITALS, Prefill.ALERTS)),
        ("experience", (Prefill.MARKERS,)),
        ("client_words", (Prefill.NOTES,)),
        ("discharge", (Prefill.DISCHARGE,)),
        ("themes", ()),
        ("plan", ()),
    ]
    assert template.section("setting").title == "Set and setting"


@pytest.mark.parametrize(
    ("file_name", "titles"),
    [
        ("dap.toml", ["Data", "Assessment", "Plan"]),
        ("soap.toml", ["Subjective", "Objective", "Assessment", "Plan"]),
        ("birp.toml", ["Behaviour", "Intervention", "Response", "Plan"]),
    ],
)
def test_the_progress_note_formats_keep_their_headings(file_name: str, titles: list[str]) -> None:
    template = read_note_template(TEMPLATES / file_name)
    assert [s.title for s in template.sections] == titles
    assert all(not s.prefills for s in template.sections if s.key in ("assessment", "plan"))


def test_the_soap_objective_gathers_the_monitoring_record() -> None:
    # Given the SOAP template / When it is read
    template = read_note_template(TEMPLATES / "soap.toml")
    # Then Objective starts with doses, vitals, alerts and discharge; Subjective with their words
    objective = set(template.section("objective").prefills)
    assert {Prefill.DOSES, Prefill.VITALS, Prefill.ALERTS, Prefill.DISCHARGE} <= objective
    assert Prefill.NOTES in template.section("subjective").prefills


def test_the_small_test_template_is_valid() -> None:
    # Given the template text the broken cases start from / When it is parsed
    template = parse_note_template(VALID, "test.toml")
    # Then it loads with the optional fields as written, and defaults where left out
    assert (template.key, template.name, template.version) == ("test", "Test note", 2)
    assert template.section("intention") == NoteSection(
        "intention", "Intention", "In the client's words.", Prefill.INTENTION
    )
    objective = template.section("objective")
    assert (objective.prefill, objective.prefills) == (
        Prefill.DOSES,
        (Prefill.DOSES, Prefill.VITALS),
    )
    plan = template.section("plan")
    assert (plan.hint, plan.prefill, plan.prefills) == ("", None, ())
    with pytest.raises(KeyError):
        template.section("subjective")


OPTIONAL: list[tuple[str, str, str, Callable[[NoteTemplate], object], object]] = [
    # (id, old text, new text, what to look at, what it must be)
    (
        "no-description",
        'description = "A small template for the tests"\n',
        "",
        lambda t: t.description,
        "",
    ),
    (
        "empty-prefill",
        'prefill = "intention"',
        'prefill = ""',
        lambda t: t.sections[0].prefills,
        (),
    ),
    (
        "empty-prefill-list",
        'prefill = "intention"',
        "prefill = []",
        lambda t: t.sections[0].prefill,
        None,
    ),
    (
        "blank-hint",
        'hint = "In the client\'s words."',
        'hint = "  "',
        lambda t: t.sections[0].hint,
        "",
    ),
    ("padded-title", 'title = "Plan"', 'title = "  Plan "', lambda t: t.sections[2].title, "Plan"),
]


@pytest.mark.parametrize(
    ("old", "new", "look", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in OPTIONAL],
)
def test_optional_fields_may_be_left_out_or_empty(
    old: str, new: str, look: Callable[[NoteTemplate], object], expected: object
) -> None:
    # Given the valid template with an optional field left out or blank / When it is parsed
    template = parse_note_template(edited(old, new), "test.toml")
    # Then it loads, with the field empty
    assert look(template) == expected


def test_twenty_sections_are_allowed() -> None:
    template = parse_note_template(HEAD + sections(20), "many.toml")
    assert len(template.sections) == 20


def test_every_prefill_source_is_accepted() -> None:
    # Given one section drawing on every part of the record / When it is parsed
    listed = ", ".join(f'"{source}"' for source in PREFILL_SOURCES)
    text = HEAD + f'[[section]]\nkey = "all"\ntitle = "All"\nprefill = [{listed}]\n'
    # Then they are all kept, in order
    assert parse_note_template(text, "all.toml").sections[0].prefills == tuple(Prefill)
    assert len(PREFILL_SOURCES) == 9


def test_a_section_cannot_have_more_prefills_without_a_first() -> None:
    with pytest.raises(ValueError, match="first prefill"):
        NoteSection("a", "A", "", None, (Prefill.VITALS,))


# --- broken files: each error names the line and the field ----------------------------------

BROKEN = [
    # (id, old text, new text, line, field, words in the message)
    ("syntax-error", 'title = "Plan"', 'title = "Plan', 23, None, "not valid TOML"),
    ("unquoted-text", 'title = "Plan"', "title = Plan", 23, None, "double quotes"),
    ("field-set-twice", 'title = "Plan"', 'title = "Plan"\ntitle = "P"', 24, None, "set twice"),
    ("unknown-section-field", 'title = "Plan"', 'titel = "Plan"', 23, "section[2].titel", "title"),
    ("unknown-template-field", "version = 2", "verison = 2", 5, "template.verison", "version"),
    ("unknown-top-table", "[template]", "[templates]", 1, "templates", '"template"'),
    (
        "sections-misspelt",
        '[[section]]\nkey = "plan"',
        '[[sections]]\nkey = "plan"',
        21,
        "sections",
        '"section"',
    ),
    ("missing-template-header", "[template]\n", "", 1, "key", "add a [template] line"),
    ("template-as-text", "[template]\n", 'template = "kap"\n[other]\n', 2, "other", "unknown"),
    ("missing-key", 'key = "test"\n', "", 1, "template.key", 'key = "kap"'),
    ("missing-name", 'name = "Test note"\n', "", 1, "template.name", "is missing"),
    ("missing-version", "version = 2\n", "", 1, "template.version", "version = 1"),
    ("missing-title", 'title = "Objective"\n', "", 13, "section[1].title", "is missing"),
    ("missing-section-key", 'key = "plan"\n', "", 21, "section[2].key", 'key = "plan"'),
    ("bad-template-key", 'key = "test"', 'key = "Test note"', 2, "template.key", "lower-case"),
    ("bad-section-key", 'key = "plan"', 'key = "next plan"', 22, "section[2].key", "lower-case"),
    (
        "duplicate-section-key",
        'key = "plan"',
        'key = "intention"',
        22,
        "section[2].key",
        'the section "Intention"',
    ),
    ("empty-title", 'title = "Plan"', 'title = " "', 23, "section[2].title", "is empty"),
    ("empty-name", 'name = "Test note"', 'name = ""', 3, "template.name", "is empty"),
    (
        "long-title",
        'title = "Plan"',
        f'title = "{"P" * 81}"',
        23,
        "section[2].title",
        "81 characters",
    ),
    (
        "long-name",
        'name = "Test note"',
        f'name = "{"N" * 81}"',
        3,
        "template.name",
        "80 characters or fewer",
    ),
    (
        "title-on-two-lines",
        'title = "Plan"',
        'title = "Plan\\nNext"',
        23,
        "section[2].title",
        "one line",
    ),
    ("title-as-number", 'title = "Plan"', "title = 4", 23, "section[2].title", "not 4"),
    (
        "hint-as-list",
        'hint = "In the client\'s words."',
        'hint = ["a"]',
        10,
        "section[0].hint",
        "not a list",
    ),
    ("version-zero", "version = 2", "version = 0", 5, "template.version", "from 1"),
    ("version-negative", "version = 2", "version = -3", 5, "template.version", "-3"),
    ("version-as-text", "version = 2", 'version = "2"', 5, "template.version", "without quotes"),
    ("version-fraction", "version = 2", "version = 2.5", 5, "template.version", "whole number"),
    ("version-boolean", "version = 2", "version = true", 5, "template.version", "not true"),
    ("version-huge", "version = 2", "version = " + "9" * 40, 5, "template.version", "out of range"),
    (
        "unknown-prefill",
        'prefill = "intention"',
        'prefill = "intentions"',
        11,
        "section[0].prefill",
        'did you mean "intention"',
    ),
    (
        "unknown-prefill-in-list",
        '"vitals",\n]',
        '"vital",\n]',
        18,
        "section[1].prefill[1]",
        '"vitals"',
    ),
    ("prefill-listed-twice", '"vitals",\n]', '"doses",\n]', 18, "section[1].prefill[1]", "twice"),
    (
        "prefill-as-number",
        'prefill = "intention"',
        "prefill = 3",
        11,
        "section[0].prefill",
        "not 3",
    ),
    ("prefill-list-of-numbers", '"vitals",\n]', "1,\n]", 18, "section[1].prefill[1]", "not 1"),
    (
        "single-section-table",
        '[[section]]\nkey = "plan"',
        '[section]\nkey = "plan"',
        21,
        None,
        "two square brackets, [[section]]",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN],
)
def test_a_broken_template_is_refused_naming_line_and_field(
    old: str, new: str, line: int, field: str | None, words: str
) -> None:
    # Given the valid template with one mistake
    text = edited(old, new)
    # When it is parsed
    with pytest.raises(NoteTemplateError) as caught:
        parse_note_template(text, "clinic.toml")
    # Then the error names the file, the exact line and field, and what is wrong
    error = caught.value
    assert (error.source, error.line, error.field) == ("clinic.toml", line, field)
    assert words in error.message
    assert str(error).startswith(f"clinic.toml, line {line}" + (f", {field}: " if field else ": "))


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        pytest.param(HEAD, 1, "section", "at least one [[section]]", id="no-sections"),
        pytest.param("section = []\n" + HEAD, 1, "section", "no sections", id="empty-list"),
        pytest.param(
            HEAD + "[section]\nkey = 1\n", 5, "section", "two square brackets", id="single-table"
        ),
        pytest.param('section = "plan"\n' + HEAD, 1, "section", 'not "plan"', id="text"),
        pytest.param("section = [1]\n" + HEAD, 1, "section[0]", "not 1", id="list-of-numbers"),
        pytest.param(
            HEAD + sections(21), 5 + 20 * 4 + 1, "section[20]", "at most 20", id="21-sections"
        ),
        pytest.param('template = "kap"\n', 1, "template", "[template]", id="template-as-text"),
        pytest.param(
            HEAD + 'section = [{ key = "a", title = "A" }]\n',
            5,
            "template.section",
            "own [[section]] table",
            id="sections-inside-template",
        ),
        pytest.param(
            'section = [\n  { key = "a", title = "A" },\n  { key = "b", titel = "B" },\n]\n' + HEAD,
            3,
            "section[1].titel",
            'did you mean "title"',
            id="inline-sections",
        ),
    ],
)
def test_a_template_with_wrong_sections_is_refused(
    text: str, line: int, field: str, words: str
) -> None:
    with pytest.raises(NoteTemplateError) as caught:
        parse_note_template(text, "clinic.toml")
    assert (caught.value.line, caught.value.field) == (line, field)
    assert words in caught.value.message


def test_a_syntax_error_at_the_end_of_the_file_names_the_last_line() -> None:
    text = VALID + "extra = [1,\n"
    with pytest.raises(NoteTemplateError) as caught:
        parse_note_template(text, "clinic.toml")
    assert caught.value.line == VALID.count("\n") + 1
    assert "end of the file" in caught.value.message


# --- the error itself -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        (7, "section[0].key", "a.toml, line 7, section[0].key: is empty"),
        (None, "template.key", "a.toml, template.key: is empty"),
        (3, None, "a.toml, line 3: is empty"),
        (None, None, "a.toml: is empty"),
    ],
)
def test_the_error_reads_file_line_field_then_message(
    line: int | None, field: str | None, expected: str
) -> None:
    # Given an error with or without a line and a field / When it is shown
    error = NoteTemplateError("a.toml", line, field, "is empty")
    # Then it reads file, line, field: message, and survives pickling
    assert str(error) == expected
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.line, copy.field, copy.message) == ("a.toml", line, field, "is empty")


# --- files and folders ------------------------------------------------------------------------


def test_read_names_the_file_by_its_name_and_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    # Given a valid file saved with a byte-order mark, and a broken one
    good = tmp_path / "bom.toml"
    good.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    bad = tmp_path / "clinic-soap.toml"
    bad.write_text(edited("version = 2", "version = 0"), encoding="utf-8")
    # When they are read / Then the first loads and the second is named by file name and line
    assert read_note_template(good).key == "test"
    with pytest.raises(NoteTemplateError) as caught:
        read_note_template(bad)
    assert (caught.value.source, caught.value.line) == ("clinic-soap.toml", 5)


def test_read_names_the_line_of_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    # Given a file saved in Latin-1 with an accented letter on line 3
    path = tmp_path / "latin1.toml"
    path.write_bytes(edited('name = "Test note"', 'name = "Séance"').encode("latin-1"))
    # When it is read / Then the error names that line and says to save as UTF-8
    with pytest.raises(NoteTemplateError) as caught:
        read_note_template(path)
    assert (caught.value.line, caught.value.field) == (3, None)
    assert "save the file as UTF-8" in caught.value.message


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_read_reports_a_file_it_cannot_read_as_a_template_error(tmp_path: Path, make: str) -> None:
    path = tmp_path / "gone.toml"
    if make == "folder":
        path.mkdir()
    with pytest.raises(NoteTemplateError) as caught:
        read_note_template(path)
    assert (caught.value.source, caught.value.line) == ("gone.toml", None)
    expected = "is a folder, not a file" if make == "folder" else "cannot be read"
    assert expected in caught.value.message


def test_list_keeps_only_toml_files_sorted(tmp_path: Path) -> None:
    for name in ("b.toml", "a.toml", "notes.txt", ".#a.toml", "~a.toml", "a.toml~"):
        (tmp_path / name).write_text(VALID, encoding="utf-8")
    (tmp_path / "old.toml").mkdir()
    assert [p.name for p in list_note_template_files(tmp_path)] == ["a.toml", "b.toml"]
    assert list_note_template_files(tmp_path / "nowhere") == []


# --- whatever the text, only NoteTemplateError ---------------------------------------------

VALID_LINES = VALID.splitlines()
ASSIGNMENT_LINES = assignment_lines(VALID_LINES)
TOML_VALUES = toml_values(*PREFILL_SOURCES, "Plan", "a b", "notes", text_size=12)


def _assert_only_template_errors(text: str) -> None:
    assert_only_file_errors(parse_note_template, NoteTemplateError, text)


@settings(deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_raises_nothing_but_template_error(text: str) -> None:
    _assert_only_template_errors(text)


@settings(deadline=None, database=None, max_examples=300)
@given(index=st.sampled_from(ASSIGNMENT_LINES), value=TOML_VALUES)
def test_any_value_in_any_field_raises_nothing_but_template_error(index: int, value: str) -> None:
    # Given the valid template with one value replaced by anything TOML can hold
    text = with_value(VALID_LINES, index, value)
    # When it is parsed / Then it loads or fails with a NoteTemplateError naming a real line
    _assert_only_template_errors(text)


@settings(deadline=None, database=None, max_examples=300)
@given(
    index=st.integers(min_value=0, max_value=len(VALID_LINES) - 1),
    replacement=st.one_of(st.text(max_size=30), st.sampled_from(["", "[x]", "[[section]]"])),
)
def test_any_line_replaced_by_anything_raises_nothing_but_template_error(
    index: int, replacement: str
) -> None:
    text = with_line(VALID_LINES, index, replacement)
    _assert_only_template_errors(text)
