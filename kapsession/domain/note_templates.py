"""Session-note templates: the sections of the note a therapist writes after a dosing session.

A template is a TOML file a clinic lead can edit: a `[template]` table and one `[[section]]`
table per section, each of which may start filled from parts of the session record (`prefill`).
Every mistake is reported with the file, the line and the field (`section[2].title`, indices
counted from 0, as in protocol files) and says what to write instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from kapsession.domain.clinic_file import (
    ClinicFileError,
    Invalid,
    parse_toml_file,
    read_text,
    show,
)
from kapsession.domain.toml_lines import join_path

NOTE_TEMPLATE_SUFFIX = ".toml"
DEFAULT_NOTE_TEMPLATE_KEY = "kap"
KEY_PATTERN = re.compile(r"[a-z0-9_-]+")
MAX_SECTIONS = 20
MAX_TITLE_CHARS = 80
MAX_VERSION = 1_000_000

_TOML_HINTS: dict[str, str] = {
    "Cannot overwrite a value": "a field is set twice in the same table; keep one of the lines",
    "Cannot declare": "a table is written twice, or [section] is written where each section "
    "needs two square brackets, [[section]]",
    "Invalid value": 'text must be in double quotes, e.g. title = "Plan"',
    "Unterminated string": "a quoted text is not closed; add the closing quote",
    "Illegal character '\\n'": "a quoted text is not closed on this line; add the closing quote",
    "Invalid statement": "each line must look like field = value or [[section]]; check for a "
    "stray word",
}


class Prefill(StrEnum):
    """A part of the session record a note section can start filled with."""

    INTENTION = "intention"  # the intention marker / notes text
    SETTING = "setting"  # room, modality, protocol name, playlists used
    DOSES = "doses"  # dose and route summary
    VITALS = "vitals"  # baseline, extremes and last readings
    ALERTS = "alerts"  # alerts and how they were acknowledged
    MARKERS = "markers"  # quick markers in time order
    MUSIC = "music"  # tracks played
    NOTES = "notes"  # the in-session note entries
    DISCHARGE = "discharge"  # the discharge assessment


PREFILL_SOURCES: tuple[str, ...] = tuple(source.value for source in Prefill)


@dataclass(frozen=True)
class NoteSection:
    """One headed part of the note; `hint` is shown greyed in the empty field ("" for none).

    `prefill` is the first record part the section starts filled with (None: it starts empty);
    a section can draw on several (`prefill = ["doses", "vitals"]`): `prefills` lists them all.
    """

    key: str
    title: str
    hint: str
    prefill: Prefill | None
    more_prefills: tuple[Prefill, ...] = ()

    def __post_init__(self) -> None:
        if self.more_prefills and self.prefill is None:
            raise ValueError("more_prefills needs a first prefill")

    @property
    def prefills(self) -> tuple[Prefill, ...]:
        """Every record part this section starts filled with, in the file's order."""
        return () if self.prefill is None else (self.prefill, *self.more_prefills)


@dataclass(frozen=True)
class NoteTemplate:
    """A session-note layout: its stable key, the name shown in the picker, and its sections."""

    key: str
    name: str
    description: str
    version: int
    sections: tuple[NoteSection, ...]

    def section(self, key: str) -> NoteSection:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)


class NoteTemplateError(ClinicFileError):
    """A note-template file that cannot be used, with where the problem is and how to fix it."""


def read_note_template(path: Path) -> NoteTemplate:
    """Read and validate one template file; errors name the file by its name, never raise other."""
    return parse_note_template(read_text(path, NoteTemplateError), path.name)


def list_note_template_files(folder: Path) -> list[Path]:
    """The template files in a folder, sorted by name (no hidden or editor backup files)."""
    if not folder.is_dir():
        return []
    return sorted(
        (
            entry
            for entry in folder.iterdir()
            if entry.suffix == NOTE_TEMPLATE_SUFFIX
            and not entry.name.startswith((".", "~"))
            and entry.is_file()
        ),
        key=lambda entry: entry.name,
    )


def parse_note_template(text: str, source: str) -> NoteTemplate:
    """Validate the text of a template file; `source` names it in error messages."""
    return parse_toml_file(
        text, source, NoteTemplateError, _read_template, hints=_TOML_HINTS, what="template"
    )


# --- reading -----------------------------------------------------------------------------------

_TOP_FIELDS = ("template", "section")
_TEMPLATE_FIELDS = ("key", "name", "description", "version")
_SECTION_FIELDS = ("key", "title", "hint", "prefill")
_EXAMPLES = {
    "key": '"kap"',
    "name": '"KAP session note"',
    "title": '"Plan"',
    "hint": '"What to write here"',
    "description": '"What this template is for"',
}


class _Fields:
    """One TOML table being read: knows its path and refuses fields it does not allow."""

    def __init__(self, data: dict[str, object], path: str, allowed: Iterable[str]) -> None:
        self.data = data
        self.path = path
        allowed_names = list(allowed)
        for name in data:
            if name not in allowed_names:
                close = difflib.get_close_matches(name, allowed_names, n=1, cutoff=0.6)
                advice = (
                    f'did you mean "{close[0]}"?'
                    if close
                    else "allowed here: " + ", ".join(allowed_names)
                )
                raise Invalid(self.field(name), f'unknown field "{name}"; {advice}')

    def field(self, name: str) -> str:
        return join_path(self.path, name)

    def has(self, name: str) -> bool:
        return name in self.data

    def text(self, name: str, *, required: bool = True) -> str:
        """A text field, stripped; "" when it is optional and left out."""
        if name not in self.data:
            if not required:
                return ""
            in_section = self.path.endswith("]")
            where = "this [[section]] table" if in_section else f"the [{self.path}] table"
            example = '"plan"' if in_section and name == "key" else _EXAMPLES[name]
            raise Invalid(
                self.field(name), f"is missing; add a line like {name} = {example} to {where}"
            )
        value = self.data[name]
        if not isinstance(value, str):
            raise Invalid(
                self.field(name),
                f"must be text in double quotes, e.g. {name} = {_EXAMPLES[name]}, "
                f"not {show(value)}",
            )
        if required and not value.strip():
            raise Invalid(self.field(name), "is empty; write the text people should see")
        return value.strip()

    def line_of_text(self, name: str, *, max_chars: int) -> str:
        """A required text shown as one line: a title or a name."""
        value = self.text(name)
        if "\n" in value or "\r" in value:
            raise Invalid(self.field(name), "must fit on one line; remove the line break")
        if len(value) > max_chars:
            raise Invalid(
                self.field(name),
                f"is {len(value)} characters long; keep it to {max_chars} characters or fewer",
            )
        return value

    def key(self) -> str:
        value = self.text("key")
        if not KEY_PATTERN.fullmatch(value):
            raise Invalid(
                self.field("key"),
                f'"{value}" is not a valid key; use lower-case letters, digits, "-" and "_" '
                'only, e.g. "kap" or "client_words"',
            )
        return value


def _read_template(data: dict[str, object]) -> NoteTemplate:
    for name in data:
        if name in _TEMPLATE_FIELDS:
            raise Invalid(
                name, "must be inside the [template] table; add a [template] line above it"
            )
    _Fields(data, "", _TOP_FIELDS)
    template_table = _template_table(data)
    if "section" in template_table:
        raise Invalid(
            "template.section",
            "is inside the [template] table; write each section as its own [[section]] table "
            "after the template's fields",
        )
    head = _Fields(template_table, "template", _TEMPLATE_FIELDS)
    key = head.key()
    name = head.line_of_text("name", max_chars=MAX_TITLE_CHARS)
    description = head.text("description", required=False)
    version = _version(head)
    sections = _sections(data)
    return NoteTemplate(key, name, description, version, sections)


def _template_table(data: dict[str, object]) -> dict[str, object]:
    if "template" not in data:
        raise Invalid(
            "template",
            "is missing; start the file with a [template] table holding key, name and version",
        )
    value = data["template"]
    if not isinstance(value, dict):
        raise Invalid(
            "template",
            f"must be a table written [template] on a line of its own, not {show(value)}",
        )
    return value


def _version(head: _Fields) -> int:
    field = head.field("version")
    if not head.has("version"):
        raise Invalid(field, "is missing; add a line like version = 1 to the [template] table")
    value = head.data["version"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(
            field, f"must be a whole number without quotes, e.g. version = 1, not {show(value)}"
        )
    if not 1 <= value <= MAX_VERSION:
        raise Invalid(
            field,
            f"{value} is out of range; use a whole number from 1 to {MAX_VERSION} and raise it "
            "when you change the template",
        )
    return value


def _sections(data: dict[str, object]) -> tuple[NoteSection, ...]:
    if "section" not in data:
        raise Invalid(
            "section", "is missing; add at least one [[section]] table with a key and a title"
        )
    value = data["section"]
    if isinstance(value, dict):
        raise Invalid(
            "section", "must be written [[section]] with two square brackets, one per section"
        )
    if not isinstance(value, list):
        raise Invalid("section", f"must be [[section]] tables, not {show(value)}")
    if not value:
        raise Invalid("section", "has no sections; add at least one [[section]] table")
    if len(value) > MAX_SECTIONS:
        raise Invalid(
            f"section[{MAX_SECTIONS}]",
            f"is section {MAX_SECTIONS + 1}; a template holds at most {MAX_SECTIONS} sections, "
            "so merge or remove some",
        )
    sections: list[NoteSection] = []
    titles_by_key: dict[str, str] = {}
    for index, item in enumerate(value):
        path = f"section[{index}]"
        if not isinstance(item, dict):
            raise Invalid(path, f"must be a table with a key and a title, not {show(item)}")
        fields = _Fields(item, path, _SECTION_FIELDS)
        key = fields.key()
        if key in titles_by_key:
            raise Invalid(
                fields.field("key"),
                f'"{key}" is already the key of the section "{titles_by_key[key]}" above; '
                "every section needs its own key",
            )
        title = fields.line_of_text("title", max_chars=MAX_TITLE_CHARS)
        titles_by_key[key] = title
        hint = fields.text("hint", required=False)
        prefills = _prefills(fields)
        first = prefills[0] if prefills else None
        sections.append(NoteSection(key, title, hint, first, prefills[1:]))
    return tuple(sections)


def _prefills(fields: _Fields) -> tuple[Prefill, ...]:
    """`prefill = "vitals"` or `prefill = ["doses", "vitals"]`; none when left out or empty."""
    if not fields.has("prefill"):
        return ()
    field = fields.field("prefill")
    value = fields.data["prefill"]
    if isinstance(value, str):
        return () if not value.strip() else (_prefill(value, field),)
    if not isinstance(value, list):
        raise Invalid(
            field,
            'must be text in double quotes, e.g. prefill = "vitals", or a list like '
            f'prefill = ["doses", "vitals"], not {show(value)}',
        )
    prefills: list[Prefill] = []
    for index, item in enumerate(value):
        item_field = f"{field}[{index}]"
        if not isinstance(item, str):
            raise Invalid(
                item_field, f'must be text in double quotes, e.g. "vitals", not {show(item)}'
            )
        prefill = _prefill(item, item_field)
        if prefill in prefills:
            raise Invalid(item_field, f'"{item}" is listed twice; list each source once')
        prefills.append(prefill)
    return tuple(prefills)


def _prefill(value: str, field: str) -> Prefill:
    text = value.strip()
    if text not in PREFILL_SOURCES:
        close = difflib.get_close_matches(text, PREFILL_SOURCES, n=1, cutoff=0.6)
        guess = f' (did you mean "{close[0]}"?)' if close else ""
        listed = ", ".join(f'"{source}"' for source in PREFILL_SOURCES)
        raise Invalid(field, f'"{value}" is not a part of the record{guess}; use one of {listed}')
    return Prefill(text)
