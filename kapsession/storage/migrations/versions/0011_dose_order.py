"""The prescriber's order for a dosing session: `dose_order` (issue 16).

An order is an entry like a dose: append-only (corrected by a new row), refused once the
session is signed (0002) or its monitoring part is (0005), and digested with that part. A
session started before this revision has no order: its doses are checked against the
protocol's limits alone, and the live screen says "No order recorded". Nothing existing is
changed, so nothing is updated.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLE = "dose_order"
SIGNED = "session is signed: only addenda can be added"
MONITORING_SIGNED = "the monitoring part of this session is signed: only addenda can be added"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _create_table() -> None:
    op.create_table(
        TABLE,
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("medication", sa.String(length=40), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("dose_mg", sa.Float(), nullable=True),
        sa.Column("dose_mg_per_kg", sa.Float(), nullable=True),
        sa.Column("boosters", sa.Integer(), nullable=False),
        sa.Column("booster_mg", sa.Float(), nullable=True),
        sa.Column("booster_window_from_min", sa.Float(), nullable=True),
        sa.Column("booster_window_to_min", sa.Float(), nullable=True),
        sa.Column("max_total_mg", sa.Float(), nullable=True),
        sa.Column("ordered_by_id", sa.Uuid(), nullable=False),
        sa.Column("verbal", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("corrects_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("voids", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["dose_order.id"], name=op.f("fk_dose_order_corrects_id_dose_order")
        ),
        sa.ForeignKeyConstraint(
            ["ordered_by_id"], ["staff.id"], name=op.f("fk_dose_order_ordered_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_dose_order_participant_id_participant"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_dose_order_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f("fk_dose_order_session_id_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_order")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            "ix_dose_order_session_time", ["session_id", "occurred_at"], unique=False
        )


def _create_guards_postgresql() -> None:
    # kapsession_append_only() from 0001, kapsession_refuse_if_signed() as fixed by 0003,
    # kapsession_refuse_if_part_signed() from 0005
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
        batch_op.drop_index("ix_dose_order_session_time")
    op.drop_table(TABLE)
