"""Quick markers: the one-key event buttons on the therapist's note pad, set per clinic.

The clinic's `markers.toml` holds up to ten `[[marker]]` tables, each a digit key and a short
label ("Eye mask on"). Like protocol files it is edited by hand, so every mistake is reported
with the file, the line and the field (`marker[2].label`, indices counted from 0).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from kapsession.domain.clinic_file import (
    ClinicFileError,
    Invalid,
    parse_toml_file,
    read_text,
    show,
)
from kapsession.domain.toml_lines import join_path

MARKER_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")  # keyboard order
MAX_LABEL_CHARS = 40

_TOML_HINTS: dict[str, str] = {
    "Cannot overwrite a value": "a field is set twice in the same marker; keep one of the lines",
    "Invalid value": 'text must be in double quotes, e.g. label = "Eye mask on"',
    "Unterminated string": "a quoted text is not closed; add the closing quote",
    "Illegal character '\\n'": "a quoted text is not closed on this line; add the closing quote",
    "Cannot declare": "write every marker as [[marker]], with two square brackets",
    "Invalid statement": "each line must look like field = value or [[marker]]; check for a "
    "stray word",
}
_MARKER_FIELDS = ("key", "label")
_EXAMPLES = {"key": '"1"', "label": '"Eye mask on"'}


@dataclass(frozen=True)
class QuickMarker:
    """A marker button: pressing `key` (a digit) on the note pad records `label` at that time."""

    key: str
    label: str


DEFAULT_QUICK_MARKERS: tuple[QuickMarker, ...] = (
    QuickMarker("1", "Eye mask on"),
    QuickMarker("2", "Eye mask off"),
    QuickMarker("3", "Tearful"),
    QuickMarker("4", "Music request"),
    QuickMarker("5", "Touch consent given"),
    QuickMarker("6", "Spoke"),
    QuickMarker("7", "Restless"),
    QuickMarker("8", "Bathroom"),
    QuickMarker("9", "Emesis"),
)


class QuickMarkerError(ClinicFileError):
    """A markers file that cannot be used, with where the problem is and how to fix it."""


def read_quick_markers(path: Path) -> tuple[QuickMarker, ...]:
    """Read and validate a markers file; every problem is a `QuickMarkerError` naming the file."""
    return parse_quick_markers(read_text(path, QuickMarkerError), path.name)


def parse_quick_markers(text: str, source: str) -> tuple[QuickMarker, ...]:
    """Validate the text of a markers file, keeping the file's order; `source` names it."""
    return parse_toml_file(
        text, source, QuickMarkerError, _read_markers, hints=_TOML_HINTS, what="markers file"
    )


def _read_markers(data: dict[str, object]) -> tuple[QuickMarker, ...]:
    for name in data:
        if name != "marker":
            raise Invalid(name, f'unknown field "{name}"; this file holds only [[marker]] tables')
    if "marker" not in data:
        raise Invalid(
            "marker",
            'is missing; add [[marker]] tables, each with key = "1" and label = "Eye mask on"',
        )
    value = data["marker"]
    if isinstance(value, dict):
        raise Invalid(
            "marker", "must be written [[marker]] with two square brackets, one per marker"
        )
    if not isinstance(value, list):
        raise Invalid("marker", f"must be [[marker]] tables, not {show(value)}")
    if not value:
        raise Invalid("marker", "has no markers; add at least one [[marker]] table")
    if len(value) > len(MARKER_KEYS):
        raise Invalid(
            f"marker[{len(MARKER_KEYS)}]",
            f"is marker {len(MARKER_KEYS) + 1}; there are only {len(MARKER_KEYS)} keys "
            "(1 to 9 and 0), so remove one",
        )
    markers: list[QuickMarker] = []
    for index, item in enumerate(value):
        path = f"marker[{index}]"
        if not isinstance(item, dict):
            raise Invalid(path, f"must be a table with a key and a label, not {show(item)}")
        markers.append(_read_marker(item, path, markers))
    return tuple(markers)


def _read_marker(item: dict[str, object], path: str, earlier: list[QuickMarker]) -> QuickMarker:
    for name in item:
        if name not in _MARKER_FIELDS:
            close = difflib.get_close_matches(name, _MARKER_FIELDS, n=1, cutoff=0.6)
            meant = close[0] if close else "label" if name in ("name", "text", "title") else None
            raise Invalid(
                join_path(path, name),
                f'unknown field "{name}"; a marker has only key and label'
                + (f' (did you mean "{meant}"?)' if meant else ""),
            )
    key = _text(item, path, "key")
    if key not in MARKER_KEYS:
        raise Invalid(
            join_path(path, "key"),
            f'"{key}" is not a marker key; use a single digit in double quotes, "1" to "9" or "0"',
        )
    for marker in earlier:
        if marker.key == key:
            raise Invalid(
                join_path(path, "key"),
                f'"{key}" is already the key of "{marker.label}" above; give each marker its '
                "own digit",
            )
    label = _text(item, path, "label")
    if "\n" in label or "\r" in label:
        raise Invalid(join_path(path, "label"), "must fit on one line; remove the line break")
    if len(label) > MAX_LABEL_CHARS:
        raise Invalid(
            join_path(path, "label"),
            f"is {len(label)} characters long; keep it to {MAX_LABEL_CHARS} characters or fewer "
            "so it fits on its button",
        )
    for marker in earlier:
        if marker.label.casefold() == label.casefold():
            raise Invalid(
                join_path(path, "label"),
                f'"{label}" is already the label of key "{marker.key}"; every label must be '
                "different",
            )
    return QuickMarker(key, label)


def _text(item: dict[str, object], path: str, name: str) -> str:
    field = join_path(path, name)
    if name not in item:
        raise Invalid(
            field,
            f"is missing; add a line like {name} = {_EXAMPLES[name]} to this [[marker]] table",
        )
    value = item[name]
    if not isinstance(value, str):
        raise Invalid(
            field,
            f"must be text in double quotes, e.g. {name} = {_EXAMPLES[name]}, not {show(value)}",
        )
    if not value.strip():
        raise Invalid(field, f"is empty; write the {name} in the quotes")
    return value.strip()
