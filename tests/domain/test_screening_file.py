"""The clinic's screening checklist (screening.toml, issue 17): the shipped file reads with its
ten items; a mistake is reported with the file, the line and the field, and what to write."""

from __future__ import annotations

import pytest

from kapsession.domain.screening import (
    ScreeningFileError,
    failed_questions,
    parse_checklist,
    read_checklist,
)
from kapsession.resources import assets_dir

SHIPPED = assets_dir() / "screening.toml"


def test_the_shipped_checklist_asks_the_ten_questions_of_the_issue() -> None:
    checklist = read_checklist(SHIPPED)
    assert [i.key for i in checklist.items] == [
        "aneurysmal-vascular-disease",
        "arteriovenous-malformation",
        "intracerebral-haemorrhage",
        "pregnancy",
        "recent-substance-use",
        "psychosis-mania",
        "fasting",
        "escort-transport",
        "medication-changes",
        "suicidal-thoughts",
    ]
    passing = {i.key: i.passes for i in checklist.items}
    assert passing["fasting"] == "yes" and passing["pregnancy"] == "no"


def test_answers_are_stored_with_the_questions_as_asked_and_what_failed() -> None:
    checklist = read_checklist(SHIPPED)
    answers = {i.key: i.passes for i in checklist.items} | {"pregnancy": "yes"}
    detail = checklist.detail(answers)
    assert detail["checklist_version"] == checklist.version
    assert failed_questions(detail) == ["Pregnant, or could be pregnant?"]
    with pytest.raises(ValueError, match=r"Item 10 .*answer yes or no"):
        checklist.detail({k: v for k, v in answers.items() if k != "suicidal-thoughts"})


GOOD = """schema = 1
version = "3"

[[items]]
key = "fasting"
question = "Fasted?"
pass = "yes"

[[items]]
key = "escort"
question = "Escort confirmed?"
pass = "yes"
"""


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (
            GOOD.replace('pass = "yes"\n\n', 'pass = "maybe"\n\n'),
            7,
            "items[0].pass",
            '"yes" or "no"',
        ),
        (GOOD.replace('key = "escort"', 'key = "fasting"'), 10, "items[1].key", "used twice"),
        (
            GOOD.replace('question = "Escort confirmed?"\n', ""),
            9,
            "items[1].question",
            "is missing",
        ),
        (
            GOOD.replace('key = "escort"', 'kee = "escort"'),
            10,
            "items[1].kee",
            'did you mean "key"',
        ),
        (GOOD.replace('version = "3"', "version = 3"), 2, "version", "double quotes"),
        (GOOD.replace('question = "Fasted?"', 'question = "Fasted?'), 6, None, "not closed"),
    ],
)
def test_a_mistake_is_reported_with_its_line_and_field(
    text: str, line: int, field: str | None, words: str
) -> None:
    with pytest.raises(ScreeningFileError) as refused:
        parse_checklist(text, "screening.toml")
    assert refused.value.line == line
    assert refused.value.field == field
    assert words in refused.value.message
    assert str(refused.value).startswith(f"screening.toml, line {line}")
