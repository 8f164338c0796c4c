"""Quick markers: the shipped file is the default set; every mistake names its line and field."""

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

from kapsession.domain.quick_markers import (
    DEFAULT_QUICK_MARKERS,
    MARKER_KEYS,
    QuickMarker,
    QuickMarkerError,
    parse_quick_markers,
    read_quick_markers,
)

SHIPPED = Path(__file__).parents[2] / "assets" / "markers.toml"

# A small valid markers file; the broken cases below edit one spot and name its line number.
VALID = """\
# The clinic's markers
[[marker]]
key = "1"
label = "Eye mask on"

[[marker]]
key = "0"
label = "Tearful"

[[marker]]
key = "5"
label = "Touch consent given"
"""


def edited(old: str, new: str) -> str:
    """VALID with `old` (which must occur exactly once) replaced by `new`."""
    assert VALID.count(old) == 1, f"test setup: {old!r} must occur once in VALID"
    return VALID.replace(old, new)


def markers_text(keys: list[str]) -> str:
    return "".join(f'[[marker]]\nkey = "{key}"\nlabel = "Marker {key}"\n' for key in keys)


def test_the_shipped_markers_file_is_the_default_set() -> None:
    # Given the shipped markers.toml / When it is read
    markers = read_quick_markers(SHIPPED)
    # Then it holds the nine default markers on keys 1 to 9, in order
    assert markers == DEFAULT_QUICK_MARKERS
    assert [m.key for m in markers] == list("123456789")
    assert [m.label for m in markers] == [
        "Eye mask on",
        "Eye mask off",
        "Tearful",
        "Music request",
        "Touch consent given",
        "Spoke",
        "Restless",
        "Bathroom",
        "Emesis",
    ]


def test_a_valid_file_keeps_its_order_and_trims_labels() -> None:
    # Given markers in the clinic's own order, one label padded with spaces
    text = edited('label = "Tearful"', 'label = "  Tearful "')
    # When it is parsed / Then the order is the file's and the label is trimmed
    assert parse_quick_markers(text, "markers.toml") == (
        QuickMarker("1", "Eye mask on"),
        QuickMarker("0", "Tearful"),
        QuickMarker("5", "Touch consent given"),
    )


def test_all_ten_keys_may_be_used() -> None:
    markers = parse_quick_markers(markers_text(list(MARKER_KEYS)), "markers.toml")
    assert tuple(m.key for m in markers) == MARKER_KEYS


def test_a_label_of_exactly_40_characters_fits() -> None:
    label = "L" * 40
    markers = parse_quick_markers(edited('"Tearful"', f'"{label}"'), "markers.toml")
    assert markers[1].label == label


BROKEN = [
    # (id, old text, new text, line, field, words in the message)
    ("syntax-error", 'label = "Tearful"', 'label = "Tearful', 8, None, "not valid TOML"),
    ("key-set-twice", 'key = "0"', 'key = "0"\nkey = "2"', 8, None, "set twice"),
    (
        "unknown-field",
        'label = "Tearful"',
        'lable = "Tearful"',
        8,
        "marker[1].lable",
        'did you mean "label"?',
    ),
    ("name-for-label", 'label = "Tearful"', 'name = "Tearful"', 8, "marker[1].name", '"label"'),
    ("unknown-top-field", "# The clinic's markers", 'title = "Ours"', 1, "title", "[[marker]]"),
    ("misspelt-table", '[[marker]]\nkey = "0"', '[[markers]]\nkey = "0"', 6, "markers", "only"),
    ("missing-key", 'key = "0"\n', "", 6, "marker[1].key", 'key = "1"'),
    ("missing-label", 'label = "Tearful"\n', "", 6, "marker[1].label", 'label = "Eye mask on"'),
    ("key-as-number", 'key = "0"', "key = 0", 7, "marker[1].key", 'key = "1", not 0'),
    ("key-not-a-digit", 'key = "0"', 'key = "a"', 7, "marker[1].key", '"1" to "9" or "0"'),
    ("key-two-digits", 'key = "0"', 'key = "10"', 7, "marker[1].key", "single digit"),
    ("key-f1", 'key = "0"', 'key = "F1"', 7, "marker[1].key", "not a marker key"),
    ("duplicate-key", 'key = "5"', 'key = "1"', 11, "marker[2].key", '"Eye mask on"'),
    ("empty-key", 'key = "0"', 'key = ""', 7, "marker[1].key", "is empty"),
    ("empty-label", 'label = "Tearful"', 'label = "   "', 8, "marker[1].label", "is empty"),
    ("label-41-chars", '"Tearful"', f'"{"L" * 41}"', 8, "marker[1].label", "41 characters"),
    ("label-two-lines", '"Tearful"', '"Tear\\nful"', 8, "marker[1].label", "one line"),
    ("label-as-list", '"Tearful"', '["Tearful"]', 8, "marker[1].label", "not a list"),
    (
        "duplicate-label-other-case",
        'label = "Touch consent given"',
        'label = "EYE MASK ON "',
        12,
        "marker[2].label",
        'key "1"',
    ),
    (
        "single-table",
        '[[marker]]\nkey = "0"',
        '[marker]\nkey = "0"',
        6,
        None,
        "two square brackets",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN],
)
def test_a_broken_markers_file_is_refused_naming_line_and_field(
    old: str, new: str, line: int, field: str | None, words: str
) -> None:
    # Given the valid file with one mistake
    text = edited(old, new)
    # When it is parsed
    with pytest.raises(QuickMarkerError) as caught:
        parse_quick_markers(text, "markers.toml")
    # Then the error names the file, the exact line and field, and what is wrong
    error = caught.value
    assert (error.source, error.line, error.field) == ("markers.toml", line, field)
    assert words in error.message
    assert str(error).startswith(f"markers.toml, line {line}" + (f", {field}: " if field else ": "))


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        pytest.param("", 1, "marker", "add [[marker]] tables", id="empty-file"),
        pytest.param("# only a comment\n", 1, "marker", "is missing", id="only-comments"),
        pytest.param("marker = []\n", 1, "marker", "no markers", id="empty-list"),
        pytest.param("[marker]\nkey = 1\n", 1, "marker", "two square brackets", id="one-table"),
        pytest.param('marker = "1"\n', 1, "marker", 'not "1"', id="text"),
        pytest.param("marker = [1]\n", 1, "marker[0]", "not 1", id="list-of-numbers"),
        pytest.param(
            markers_text([*MARKER_KEYS, "1"]), 31, "marker[10]", "only 10 keys", id="11-markers"
        ),
        pytest.param(
            'marker = [\n  { key = "1", label = "A" },\n  { key = "2", label = "a" },\n]\n',
            3,
            "marker[1].label",
            "already the label",
            id="inline-tables",
        ),
    ],
)
def test_a_file_with_wrong_markers_is_refused(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(QuickMarkerError) as caught:
        parse_quick_markers(text, "markers.toml")
    assert (caught.value.line, caught.value.field) == (line, field)
    assert words in caught.value.message


def test_the_error_reads_file_line_field_then_message_and_pickles() -> None:
    error = QuickMarkerError("markers.toml", 3, "marker[0].key", "is empty")
    assert str(error) == "markers.toml, line 3, marker[0].key: is empty"
    assert str(QuickMarkerError("markers.toml", None, None, "is empty")) == "markers.toml: is empty"
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.line, copy.field, copy.message) == (
        "markers.toml",
        3,
        "marker[0].key",
        "is empty",
    )


def test_read_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "markers.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    assert len(read_quick_markers(path)) == 3


def test_read_names_the_line_of_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    # Given a file saved in Latin-1 with an accented letter on line 8
    path = tmp_path / "markers.toml"
    path.write_bytes(edited('"Tearful"', '"Pleuré"').encode("latin-1"))
    # When it is read / Then the error names that line and says to save as UTF-8
    with pytest.raises(QuickMarkerError) as caught:
        read_quick_markers(path)
    assert (caught.value.source, caught.value.line) == ("markers.toml", 8)
    assert "save the file as UTF-8" in caught.value.message


def test_read_reports_a_missing_file_as_a_marker_error(tmp_path: Path) -> None:
    with pytest.raises(QuickMarkerError) as caught:
        read_quick_markers(tmp_path / "markers.toml")
    assert (caught.value.source, caught.value.line) == ("markers.toml", None)
    assert "cannot be read" in caught.value.message


# --- whatever the text, only QuickMarkerError ----------------------------------------------

VALID_LINES = VALID.splitlines()
ASSIGNMENT_LINES = assignment_lines(VALID_LINES)
TOML_VALUES = toml_values(*MARKER_KEYS, "10", "Tearful", text_size=45)


def _assert_only_marker_errors(text: str) -> None:
    assert_only_file_errors(parse_quick_markers, QuickMarkerError, text)


@settings(deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_raises_nothing_but_marker_error(text: str) -> None:
    _assert_only_marker_errors(text)


@settings(deadline=None, database=None, max_examples=300)
@given(index=st.sampled_from(ASSIGNMENT_LINES), value=TOML_VALUES)
def test_any_value_in_any_field_raises_nothing_but_marker_error(index: int, value: str) -> None:
    text = with_value(VALID_LINES, index, value)
    _assert_only_marker_errors(text)


@settings(deadline=None, database=None, max_examples=200)
@given(
    index=st.integers(min_value=0, max_value=len(VALID_LINES) - 1),
    replacement=st.one_of(st.text(max_size=30), st.sampled_from(["", "[x]", "[[marker]]"])),
)
def test_any_line_replaced_by_anything_raises_nothing_but_marker_error(
    index: int, replacement: str
) -> None:
    text = with_line(VALID_LINES, index, replacement)
    _assert_only_marker_errors(text)
