"""Outcome measures (issue 17): `outcome_measure`, one row per administration of PHQ-9, GAD-7
or PCL-5 and per correction of one.

An administration is a clinical entry: append-only (corrected or withdrawn by a new row with a
reason; UPDATE and DELETE refused as for the other entries: 0001's function on PostgreSQL,
triggers on SQLite). It belongs to a client and, when it was given in one, to a session: then
the session's locks apply as they do to a dose, since the dose waits on it: refused once the
session is signed (0002, as fixed by 0003) or its monitoring part is (0005). An administration
outside a session (`session_id` NULL) passes both locks. Nothing existing changes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = "outcome_measure"
INDEXES = {
    "ix_outcome_measure_client_time": ["client_id", "occurred_at"],
    "ix_outcome_measure_session_time": ["session_id", "occurred_at"],
}
SIGNED = "session is signed: only addenda can be added"
MONITORING_SIGNED = "the monitoring part of this session is signed: only addenda can be added"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _create_table() -> None:
    op.create_table(
        TABLE,
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("instrument", sa.String(length=10), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("band", sa.String(length=60), nullable=True),
        sa.Column("entry_mode", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("corrects_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("voids", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_outcome_measure_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["outcome_measure.id"],
            name=op.f("fk_outcome_measure_corrects_id_outcome_measure"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_outcome_measure_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f("fk_outcome_measure_session_id_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_measure")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def _create_guards_postgresql() -> None:
    # kapsession_append_only() from 0001, kapsession_refuse_if_signed() as fixed by 0003,
    # kapsession_refuse_if_part_signed() from 0005: a NULL session matches no session row
    op.execute(
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_signed_lock BEFORE INSERT ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_if_signed()"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_monitoring_lock BEFORE INSERT ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_if_part_signed('monitoring')"
    )


def _create_guards_sqlite() -> None:
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only: {TABLE} rows are never changed or "
            "deleted'); END"
        )
    op.execute(
        f"CREATE TRIGGER {TABLE}_signed_lock BEFORE INSERT ON {TABLE} "
        "WHEN (SELECT status FROM session WHERE id = NEW.session_id) = 'signed' "
        f"BEGIN SELECT RAISE(ABORT, '{SIGNED}'); END"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_monitoring_lock BEFORE INSERT ON {TABLE} "
        "WHEN EXISTS (SELECT 1 FROM signature WHERE session_id = NEW.session_id "
        "AND part = 'monitoring') "
        f"BEGIN SELECT RAISE(ABORT, '{MONITORING_SIGNED}'); END"
    )


def upgrade() -> None:
    _create_table()
    if _is_postgresql():
        _create_guards_postgresql()
    else:
        _create_guards_sqlite()


def downgrade() -> None:
    if _is_postgresql():
        for trigger in ("monitoring_lock", "signed_lock", "append_only"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{trigger} ON {TABLE}")
    # On SQLite a table's triggers go with it.
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
    op.drop_table(TABLE)
