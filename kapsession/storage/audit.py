"""The audit trail: one row for every change to the record, sign-off and export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kapsession.records.entries import AuditRecord
from kapsession.storage.database import Database

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models


def write_audit(
    orm: OrmSession,
    *,
    at: datetime,
    staff_id: uuid.UUID | None,
    action: str,
    entity: str,
    entity_id: uuid.UUID | str | None,
    session_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an audit row inside the caller's transaction, so it commits with the change."""
    orm.add(
        models.AuditEntry(
            occurred_at=at,
            staff_id=staff_id,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            session_id=session_id,
            detail=detail or {},
        )
    )


class AuditRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        action: str,
        *,
        at: datetime,
        staff_id: uuid.UUID | None,
        entity: str,
        entity_id: uuid.UUID | str | None = None,
        session_id: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """An audit row on its own (a refused PIN): something that changed nothing else."""
        with self._db.write("write the audit trail") as orm:
            write_audit(
                orm,
                at=at,
                staff_id=staff_id,
                action=action,
                entity=entity,
                entity_id=entity_id,
                session_id=session_id,
                detail=detail,
            )

    def recent_for_staff(
        self, staff_id: uuid.UUID, actions: tuple[str, ...], limit: int = 20
    ) -> list[AuditRecord]:
        """A staff member's latest audit rows of the given actions, newest first."""
        with self._db.read() as orm:
            rows = orm.scalars(
                select(models.AuditEntry)
                .where(
                    models.AuditEntry.staff_id == staff_id, models.AuditEntry.action.in_(actions)
                )
                .order_by(models.AuditEntry.occurred_at.desc())
                .limit(limit)
            )
            return [_record(row) for row in rows]

    def for_session(self, session_id: uuid.UUID) -> list[AuditRecord]:
        with self._db.read() as orm:
            rows = orm.scalars(
                select(models.AuditEntry)
                .where(models.AuditEntry.session_id == session_id)
                .order_by(models.AuditEntry.occurred_at, models.AuditEntry.id)
            )
            return [_record(row) for row in rows]

    def all(self, limit: int = 1000) -> list[AuditRecord]:
        with self._db.read() as orm:
            rows = orm.scalars(
                select(models.AuditEntry)
                .order_by(models.AuditEntry.occurred_at.desc())
                .limit(limit)
            )
            return [_record(row) for row in rows]


def _record(row: models.AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        occurred_at=row.occurred_at,
        staff_id=row.staff_id,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        session_id=row.session_id,
        detail=dict(row.detail),
    )
