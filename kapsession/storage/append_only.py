"""The ORM side of the append-only rule (the database's triggers are the other side)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from kapsession.records.errors import AppendOnlyViolation
from kapsession.storage.schema import APPEND_ONLY_TABLES


def _refuse_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in APPEND_ONLY_TABLES and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation(
                f"append-only: a saved {table} entry cannot be changed or deleted; "
                "add a correction with a reason instead"
            )


def install() -> None:
    if not event.contains(Session, "before_flush", _refuse_changes):
        event.listen(Session, "before_flush", _refuse_changes)
