"""The screening before a dose (issue 17): the clinic's checklist (screening.toml), read and
validated with the file, line and field of every mistake, and what a set of answers says.

Each item is a yes/no question with the answer that passes (`pass = "no"`: "Pregnant or
possibly pregnant?" passes when answered no). An item answered otherwise fails: the dose waits
for the prescriber's decision (proceed or hold) with a reason. A set of answers is stored with
the questions as they were asked (the checklist may change later; the record keeps what was
asked) and the checklist's `version`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapsession.domain.clinic_file import (
    ClinicFileError,
    Invalid,
    parse_toml_file,
    read_text,
    show,
)
from kapsession.domain.toml_lines import join_path

SCHEMA_VERSION = 1
ANSWERS = ("yes", "no")
_TOP_FIELDS = ("schema", "version", "items")
_ITEM_FIELDS = ("key", "question", "pass")
_ITEM_EXAMPLE = (
    '[[items]] then key = "pregnancy", question = "Pregnant, or could be?", pass = "no" on lines '
    "of their own"
)
_TOML_HINTS: dict[str, str] = {
    "Cannot overwrite a value": "a field is set twice in the same item; keep one of the lines",
    "Invalid value": 'answers and texts must be in double quotes, e.g. pass = "no"',
    "Unterminated string": "a quoted text is not closed; add the closing quote",
    "Illegal character '\\n'": "a quoted text is not closed on this line; add the closing quote",
    "Invalid statement": "each line must look like field = value or [[items]]; check for a stray "
    "word",
}


class ScreeningFileError(ClinicFileError):
    """A screening.toml that cannot be used, with where the problem is and how to fix it."""


@dataclass(frozen=True)
class ScreeningItem:
    """A question of the screening before a dose, and the answer that passes."""

    key: str
    question: str
    passes: str  # "yes" or "no": the answer that passes

    def passed(self, answer: str) -> bool:
        return answer == self.passes


@dataclass(frozen=True)
class Checklist:
    """The screening before a dose: its version and its questions."""

    version: str
    items: tuple[ScreeningItem, ...]

    def detail(self, answers: Mapping[str, str]) -> dict[str, Any]:
        """What a screening stores: the checklist's version and each question as asked, with
        its answer, the answer that passes and whether it passed. Raises ValueError naming the
        first question not answered yes or no."""
        rows = []
        for number, item in enumerate(self.items, start=1):
            answer = answers.get(item.key)
            if answer not in ANSWERS:
                raise ValueError(f"Item {number} ({item.question}): answer yes or no.")
            rows.append(
                {
                    "key": item.key,
                    "question": item.question,
                    "answer": answer,
                    "passes": item.passes,
                    "passed": item.passed(answer),
                }
            )
        return {"checklist_version": self.version, "answers": rows}


def failed_questions(detail: Mapping[str, Any]) -> list[str]:
    """The questions of a stored screening that did not pass, in the checklist's order."""
    return [str(a.get("question", "")) for a in detail.get("answers", []) if not a.get("passed")]


def answer_text(answer: Mapping[str, Any]) -> str:
    """ "Pregnant, or could be? — no" (and "(fails)" when it did not pass)."""
    text = f"{answer.get('question', '')} — {answer.get('answer', '')}"
    return text if answer.get("passed") else f"{text} (fails: passes when {answer.get('passes')})"


def read_checklist(path: Path) -> Checklist:
    """Read and validate a screening file; every problem is a `ScreeningFileError`."""
    return parse_checklist(read_text(path, ScreeningFileError), path.name)


def parse_checklist(text: str, source: str) -> Checklist:
    return parse_toml_file(
        text, source, ScreeningFileError, _read, hints=_TOML_HINTS, what="screening file"
    )


def _unknown(path: str, name: str, known: tuple[str, ...], holds: str) -> Invalid:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return Invalid(
        join_path(path, name),
        f'unknown field "{name}"; {holds}' + (f' (did you mean "{close[0]}"?)' if close else ""),
    )


def _read(data: dict[str, object]) -> Checklist:
    for name in data:
        if name not in _TOP_FIELDS:
            raise _unknown(
                "", name, _TOP_FIELDS, "screening.toml holds schema, version and [[items]]"
            )
    schema = data.get("schema")
    if schema != SCHEMA_VERSION or isinstance(schema, bool):
        raise Invalid(
            "schema",
            f"must be the number {SCHEMA_VERSION} (no quotes), not {show(schema)}"
            if schema is not None
            else f"is missing; the file must start with schema = {SCHEMA_VERSION}",
        )
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise Invalid(
            "version",
            'must be the checklist\'s version in double quotes, e.g. version = "2026-12", '
            f"not {show(version)}",
        )
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise Invalid("items", f"must list the questions, each written {_ITEM_EXAMPLE}")
    chosen: list[ScreeningItem] = []
    for index, item in enumerate(items):
        path = f"items[{index}]"
        if not isinstance(item, dict):
            raise Invalid(path, f"must be a table, written {_ITEM_EXAMPLE}, not {show(item)}")
        for name in item:
            if name not in _ITEM_FIELDS:
                raise _unknown(path, name, _ITEM_FIELDS, "an item holds key, question and pass")
        key = _text(item, path, "key", 'key = "pregnancy"')
        if any(c.key == key for c in chosen):
            raise Invalid(
                join_path(path, "key"), f'"{key}" is used twice; give each item its own key'
            )
        question = _text(item, path, "question", 'question = "Pregnant, or could be?"')
        passes = _text(item, path, "pass", 'pass = "no"')
        if passes not in ANSWERS:
            raise Invalid(
                join_path(path, "pass"),
                f'must be "yes" or "no" (the answer that passes), not {show(passes)}',
            )
        chosen.append(ScreeningItem(key, question, passes))
    return Checklist(version.strip(), tuple(chosen))


def _text(table: dict[str, object], path: str, name: str, example: str) -> str:
    where = join_path(path, name)
    if name not in table:
        raise Invalid(where, f"is missing; write it, e.g. {example}")
    value = table[name]
    if not isinstance(value, str) or not value.strip():
        raise Invalid(where, f"must be text in double quotes, e.g. {example}, not {show(value)}")
    return value.strip()
