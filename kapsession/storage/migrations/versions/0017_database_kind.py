"""What the database holds (issue 18): clinical records or training data.

- `database_kind`: one row (`id` 1), `kind` "clinical" or "training", written once and never
  changed (UPDATE and DELETE refused: 0001's function on PostgreSQL, triggers on SQLite). An
  export from a training database needs no staff member's PIN; from any other it does. The
  marker is in the data, not in a file name or a flag: a clinical database copied to the training
  database's file name is still clinical.
- A database that already holds people or sessions when it is upgraded to this revision is
  marked clinical here (one made by `kapsession demo` before this revision too: its exports then
  ask for a PIN, as a real record's do). A new, empty database is left unmarked by the migration;
  whoever creates it marks it (`services/context.py`: training for the training database,
  clinical otherwise). An unmarked database counts as clinical.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TABLE = "database_kind"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_database_kind_one_row")),
        sa.CheckConstraint(
            "kind IN ('clinical', 'training')", name=op.f("ck_database_kind_known_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_kind")),
    )
    if _is_sqlite():
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only: {TABLE} rows are never changed or "
                "deleted'); END"
            )
    else:
        op.execute(  # kapsession_append_only() comes from 0001
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_append_only()"
        )
    bind = op.get_bind()
    holds = any(
        bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
        for table in ("staff", "client", "session")
    )
    if holds:
        now = datetime.now(UTC)
        bind.execute(
            sa.text(f"INSERT INTO {TABLE} (id, kind, recorded_at) VALUES (1, 'clinical', :at)"),
            {"at": now.replace(tzinfo=None) if _is_sqlite() else now},
        )


def downgrade() -> None:
    if not _is_sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    # On SQLite a table's triggers go with it.
    op.drop_table(TABLE)
