"""The one place every text written passes: `domain.entry_text`'s rule applied to the values a
write sends, before anything is sent (TextRefused, a StorageError the screens already show).

Two doors, one rule: what SQLAlchemy sends in a write transaction (Core and ORM: the
`before_cursor_execute` event of the engine, `guard_writes`) and what the hot paths and
corrections send at the driver's level (`driver.DriverTable.row`). Reads are not checked (a
search for a pasted character finds nothing, it is not an error). A correction's values copied
from the entry it corrects are not checked again: they were stored before this rule, and
taking such an entry back must not need them retyped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, event

from kapsession.domain.entry_text import text_problem
from kapsession.records.errors import TextRefused

# A column's name as staff know the field; any other is "text".
FIELD_WORDS: Mapping[str, str] = {
    "text": "note",
    "label": "entry",
    "comment": "comment",
    "correction_reason": "reason",
    "reason": "reason",
    "given_name": "first name",
    "family_name": "last name",
    "display_name": "name",
    "credentials": "credentials",
    "record_number": "record number",
    "room": "room",
}

_NUMBERED = re.compile(r"_\d+$")


def refuse_unstorable(named: Iterable[tuple[str | None, Any]]) -> None:
    """Refuse (TextRefused) the first text among (column name, value) that the rule refuses."""
    for name, value in named:
        if isinstance(value, str):
            column = _NUMBERED.sub("", name or "")  # a WHERE's bind: "record_number_1"
            problem = text_problem(value, FIELD_WORDS.get(column, "text"))
            if problem is not None:
                raise TextRefused(problem)


def _named(names: Sequence[str] | None, parameters: Any) -> Iterable[tuple[str | None, Any]]:
    if isinstance(parameters, Mapping):
        return parameters.items()
    if names is not None and len(names) == len(parameters):
        return zip(names, parameters, strict=True)
    return ((None, value) for value in parameters)


def _check_statement(
    connection: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    if not connection.get_execution_options().get("kapsession_write"):
        return
    compiled = getattr(context, "compiled", None)
    names = getattr(compiled, "positiontup", None)
    # Several rows, or one (a batch of insertmanyvalues is one flat row, executemany or not).
    many = (
        executemany
        and isinstance(parameters, list | tuple)
        and bool(parameters)
        and isinstance(parameters[0], Mapping | list | tuple)
    )
    rows = parameters if many else (parameters,)
    for one in rows:
        if one:
            refuse_unstorable(_named(names, one))


def guard_writes(engine: Engine) -> None:
    """Check every statement of `engine`'s write transactions (execution option
    `kapsession_write`, as `Database` sets it) against the rule."""
    event.listen(engine, "before_cursor_execute", _check_statement)
