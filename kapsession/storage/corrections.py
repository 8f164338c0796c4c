"""Appending a correction of any kind of entry: one path for events, doses, readings and notes.

An entry is never changed. Its correction is a new row of the same table (`corrects_id` pointing
at it, the reason, `voids` when it takes the entry back), made from the original's columns as
the table defines them with the changed values put over them, written in the same transaction
as its audit row. Both are sent at the driver's level through the writer the hot saves use
(`DriverTable`, `audit_row`), so an entry table has one writer for new rows and corrections.
What each kind of entry adds (a reading's alerts, a dose's entry time) its repository does
around these two steps:

    original = standing_original(orm, Dose, original_id, "dose")
    row = append_correction(orm, original, changes, reason=..., recorded_at=..., by=..., ...)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from kapsession.records.errors import NotFound, StorageError
from kapsession.storage.driver import driver_of, insert_audit, table_writer
from kapsession.storage.entry_rules import SessionFacts, open_session, refuse_if_superseded

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession


class _EntryRow(Protocol):
    """A row of an entry table (an ORM model with `_ClinicalEntry`'s columns)."""

    __tablename__: str

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def session_id(self) -> uuid.UUID: ...


E = TypeVar("E", bound=_EntryRow)

# Columns a correction sets itself, never copies from the original: its own id, who wrote it
# and when, and what it corrects, why, and whether it takes the original back.
_WRITTEN = ("id", "recorded_at", "recorded_by_id", "author_id")
_OWN = frozenset((*_WRITTEN, "corrects_id", "correction_reason", "voids"))


def correction_reason(reason: str, message: str) -> str:
    """The reason, trimmed; `message` (what to write) when there is none."""
    why = reason.strip()
    if not why:
        raise StorageError(message)
    return why


def standing_original(
    orm: OrmSession, model: type[E], original_id: uuid.UUID, what: str
) -> tuple[E, SessionFacts]:
    """The entry to correct and its session: refused when there is no such entry, when its
    session takes no more entries (signed), or when it was already corrected (a correction
    applies to the standing version)."""
    original = orm.get(model, original_id)
    if original is None:
        raise NotFound(f"No {what} with id {original_id}.")
    session = open_session(orm, original.session_id)
    refuse_if_superseded(orm, model, original_id, what)
    return original, session


def append_correction(
    orm: OrmSession,
    original: E,
    changes: Mapping[str, Any],
    *,
    reason: str,
    recorded_at: datetime,
    by: uuid.UUID | None,
    voids: bool,
    action: str,
    with_row: Callable[[E], dict[str, Any]] | None = None,
) -> E:
    """The correction row and its audit row, written in `orm`'s transaction at the driver's
    level: every column of the original's table copied from it (a dict or list copied, not
    shared), `changes` over them, then who wrote it, when, why, and whether it takes the
    original back. `with_row`: what else is written with the new row (a reading's alerts)
    before the audit row, which its answer joins. Returned: the row as written, an instance of
    the table's class that is not in the ORM session (nothing is read back)."""
    model = type(original)
    entity = model.__tablename__
    orm.flush()  # what the caller added goes first
    connection = orm.connection()
    dialect = connection.dialect.name
    table = table_writer(dialect, entity)
    values: dict[str, Any] = {}
    for name in table.columns:
        if name in _OWN:
            continue
        value = getattr(original, name)
        values[name] = value.copy() if isinstance(value, dict | list) else value
    values.update(changes)
    author = "author_id" if "author_id" in table.columns else "recorded_by_id"
    values.update(
        {
            "id": uuid.uuid4(),
            author: by,
            "recorded_at": recorded_at,
            "corrects_id": original.id,
            "correction_reason": reason,
            "voids": voids,
        }
    )
    driver = driver_of(connection)
    copied = values.keys() - changes.keys() - _OWN  # stored before: not checked again
    driver.execute(table.insert, table.row(table.converted(values), copied))
    make: Callable[..., E] = model  # the table's ORM class: its columns as keywords
    row = make(**values)
    extra = None if with_row is None else with_row(row)
    orm.flush()  # what `with_row` added goes before the audit row
    detail = {"corrects": str(original.id), "reason": reason, "voids": voids, **(extra or {})}
    insert_audit(
        driver,
        dialect,
        at=recorded_at,
        staff_id=by,
        action=action,
        entity=entity,
        entity_id=row.id,
        session_id=original.session_id,
        detail=detail,
    )
    return row
