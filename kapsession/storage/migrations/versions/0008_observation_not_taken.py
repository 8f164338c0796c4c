"""Partial check-ins: the measures a check-in required that were not taken.

A reading holds only what was measured; when its check-in required a measure the nurse did not
take (and confirmed so), `observation.not_taken` names it, as the protocol does: ["bp", "spo2"].
Every reading before this revision gets [] (the database's default, written by ALTER TABLE:
no row is updated, so the append-only triggers have nothing to refuse). The signatures' digests
leave the column out while it holds [], so a session signed before keeps verifying.

On SQLite, dropping the column again copies `observation` (batch mode), which drops its
triggers; the downgrade puts them back exactly as they were.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

COLUMN = "not_taken"


def upgrade() -> None:
    op.add_column(
        "observation",
        sa.Column(COLUMN, sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    )


def downgrade() -> None:
    triggers: list[str] = []
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    if is_sqlite:
        rows = op.get_bind().exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'observation' ORDER BY name"
        )
        triggers = [str(sql) for (sql,) in rows]
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_column(COLUMN)
    if is_sqlite:
        rows = op.get_bind().exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        existing = {str(sql) for (sql,) in rows}
        for sql in triggers:
            if sql not in existing:
                op.execute(sql)
