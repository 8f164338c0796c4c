"""What was done about an alert: `alert_acknowledgement.action`.

Acknowledging an alert now records the action taken: "rechecked", "intervention",
"prescriber_informed" or "no_action" (the intervention given, or the reason for no action, in
the acknowledgement's `comment`). Every acknowledgement before this revision gets
"not_recorded" (the database's default, written by ALTER TABLE: no row is updated, so the
append-only triggers have nothing to refuse). The signatures' digests leave the column out
while it holds "not_recorded", so a session signed before keeps verifying.

On SQLite, dropping the column again copies `alert_acknowledgement` (batch mode), which drops
its triggers; the downgrade puts them back exactly as they were.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "alert_acknowledgement"
COLUMN = "action"


def upgrade() -> None:
    op.add_column(
        TABLE,
        sa.Column(COLUMN, sa.String(24), server_default=sa.text("'not_recorded'"), nullable=False),
    )


def downgrade() -> None:
    triggers: list[str] = []
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    if is_sqlite:
        rows = op.get_bind().exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
            f"AND tbl_name = '{TABLE}' ORDER BY name"
        )
        triggers = [str(sql) for (sql,) in rows]
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_column(COLUMN)
    if is_sqlite:
        rows = op.get_bind().exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        existing = {str(sql) for (sql,) in rows}
        for sql in triggers:
            if sql not in existing:
                op.execute(sql)
