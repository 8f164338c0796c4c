"""Per-client alert thresholds (the prescriber's "vital sign parameters").

Configuration, not a clinical entry: a rule is added, and later retired by setting
`retired_at`; both are written to the audit trail. A session's alerts use the rules active when
each reading is saved.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from kapsession.domain.protocol import AlertRule
from kapsession.domain.vitals import (
    FIELD_LABELS,
    AlertOverrideInvalid,
    FieldProblem,
    effective_alert_rules,
)
from kapsession.records.entries import ClientAlertRuleRecord
from kapsession.records.errors import NotFound, StorageError
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database

if TYPE_CHECKING:
    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models


def _record(row: models.ClientAlertRule) -> ClientAlertRuleRecord:
    return ClientAlertRuleRecord(
        id=row.id,
        client_id=row.client_id,
        field=row.field,
        op=row.op,
        value=row.value,
        label=row.label,
        created_at=row.created_at,
        created_by_id=row.created_by_id,
        retired_at=row.retired_at,
    )


class ClientAlertRuleRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self, client_id: uuid.UUID, rule: AlertRule, *, at: datetime, by: uuid.UUID | None
    ) -> ClientAlertRuleRecord:
        """A threshold for one client. Raises AlertOverrideInvalid naming what to fix."""
        with self._db.write("save the alert threshold") as orm:
            if orm.get(models.Client, client_id) is None:
                raise NotFound(f"No client with id {client_id}.")
            active = [
                _record(row).rule
                for row in orm.scalars(
                    select(models.ClientAlertRule).where(
                        models.ClientAlertRule.client_id == client_id,
                        models.ClientAlertRule.retired_at.is_(None),
                    )
                )
            ]
            if any((r.field, r.op) == (rule.field, rule.op) for r in active):
                label = FIELD_LABELS.get(rule.field, rule.field)
                raise AlertOverrideInvalid(
                    [
                        FieldProblem(
                            "op",
                            f"This client already has a threshold for {label} {rule.op.value}; "
                            "retire it first, then add the new one.",
                        )
                    ]
                )
            effective_alert_rules((), [*active, rule])  # checks field, value and label
            row = models.ClientAlertRule(
                client_id=client_id,
                field=rule.field,
                op=rule.op.value,
                value=float(rule.value),
                label=rule.label.strip(),
                created_at=at,
                created_by_id=by,
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action="client_alert_rule.add",
                entity="client_alert_rule",
                entity_id=row.id,
                detail={
                    "client": str(client_id),
                    "rule": f"{rule.field} {rule.op.value} {rule.value:g}",
                },
            )
            return _record(row)

    def retire(
        self, rule_id: uuid.UUID, *, at: datetime, by: uuid.UUID | None
    ) -> ClientAlertRuleRecord:
        """Stop using a threshold from `at` on; the rule stays on file."""
        with self._db.write("retire the alert threshold") as orm:
            row = orm.get(models.ClientAlertRule, rule_id)
            if row is None:
                raise NotFound(f"No client alert threshold with id {rule_id}.")
            if row.retired_at is not None:
                raise StorageError("This alert threshold is already retired.")
            row.retired_at = at
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action="client_alert_rule.retire",
                entity="client_alert_rule",
                entity_id=row.id,
                detail={"client": str(row.client_id)},
            )
            orm.flush()
            return _record(row)

    def for_client(
        self, client_id: uuid.UUID, *, include_retired: bool = False
    ) -> list[ClientAlertRuleRecord]:
        query = (
            select(models.ClientAlertRule)
            .where(models.ClientAlertRule.client_id == client_id)
            .order_by(models.ClientAlertRule.created_at, models.ClientAlertRule.id)
        )
        if not include_retired:
            query = query.where(models.ClientAlertRule.retired_at.is_(None))
        with self._db.read() as orm:
            return [_record(row) for row in orm.scalars(query)]

    def active_rules(self, client_id: uuid.UUID) -> list[AlertRule]:
        """The client's thresholds in force, as AlertRules for `effective_alert_rules`."""
        return [record.rule for record in self.for_client(client_id)]
