"""Appending a correction of any kind of entry: one path for events, doses, readings and notes.

An entry is never changed. Its correction is a new row of the same table (`corrects_id` pointing
at it, the reason, `voids` when it takes the entry back), made from the original's columns as
the table defines them with the changed values put over them, written in the same transaction
as its audit row. What each kind of entry adds (a reading's alerts, a dose's entry time) its
repository does around these two steps:

    original = standing_original(orm, Dose, original_id, "dose")
    row = append_correction(orm, original, changes, reason=..., recorded_at=..., by=..., ...)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import inspect

from kapsession.records.errors import NotFound, StorageError
from kapsession.storage.audit import audit_correction
from kapsession.storage.entry_rules import SessionFacts, open_session, refuse_if_superseded

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

else:
    pass


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
    """The correction row, flushed, and its audit row: every column of the original's table
    copied from it (a dict or list copied, not shared), `changes` over them, then who wrote it,
    when, why, and whether it takes the original back. `with_row`: what else is written with
    the new row (a reading's alerts) before the audit row, which its answer joins."""
    model = type(original)
    make: Callable[..., E] = model  # the table's ORM class: its columns as keywords
    mapper = inspect(model)
    values: dict[str, Any] = {}
    for column in mapper.column_attrs:
        if column.key in _OWN:
            continue
        value = getattr(original, column.key)
        values[column.key] = value.copy() if isinstance(value, dict | list) else value
    values.update(changes)
    author = "author_id" if "author_id" in mapper.column_attrs else "recorded_by_id"
    row = make(
        **values,
        **{author: by},
        recorded_at=recorded_at,
        corrects_id=original.id,
        correction_reason=reason,
        voids=voids,
    )
    orm.add(row)
    orm.flush()
    extra = None if with_row is None else with_row(row)
    audit_correction(
        orm,
        at=recorded_at,
        staff_id=by,
        entity=model.__tablename__,
        action=action,
        correction_id=row.id,
        original_id=original.id,
        session_id=original.session_id,
        reason=reason,
        voids=voids,
        extra=extra,
    )
    return row
