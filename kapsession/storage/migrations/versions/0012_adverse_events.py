"""Adverse events, interventions and the controlled-substance count of a dose (issue 16).

Three new tables of clinical entries, append-only like the others (a correction is a new row
pointing at the original): `adverse_event` (kind, FHIR severity, seriousness and outcome, onset,
resolution, the alert behind it, what was done), `intervention` (oxygen, a rescue medication,
repositioning, the prescriber called, other; optionally for an adverse event or an alert) and
`controlled_substance` (a dose's mg drawn, given and wasted, and the second staff member who
witnessed the waste). Like doses and readings, their new rows are refused once the session is
signed, or once its monitoring part is. No existing row changes: sessions recorded before have
no adverse event, intervention or count, which is what they recorded, and their signatures
still verify (empty tables add nothing to a part's digest).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TABLES = ("adverse_event", "intervention", "controlled_substance")
SIGNED = "session is signed: only addenda can be added"
MONITORING_SIGNED = "the monitoring part of this session is signed: only addenda can be added"


def _entry_columns(table: str) -> list[sa.Column[object] | sa.Constraint]:
    """The columns every clinical entry ends with, and its keys."""
    return [
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("corrects_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("voids", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f(f"fk_{table}_session_id_session")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f(f"fk_{table}_participant_id_participant"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f(f"fk_{table}_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"], [f"{table}.id"], name=op.f(f"fk_{table}_corrects_id_{table}")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _create_tables() -> None:
    op.create_table(
        "adverse_event",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("other", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("seriousness", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column("actions", sa.Text(), nullable=False),
        *_entry_columns("adverse_event"),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_adverse_event_alert_id_alert")
        ),
    )
    op.create_table(
        "intervention",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("medication", sa.String(length=80), nullable=True),
        sa.Column("dose", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=10), nullable=True),
        sa.Column("route", sa.String(length=60), nullable=True),
        sa.Column("lot_number", sa.String(length=60), nullable=True),
        sa.Column("flow_l_min", sa.Float(), nullable=True),
        sa.Column("device", sa.String(length=60), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("given_by_id", sa.Uuid(), nullable=True),
        sa.Column("adverse_event_id", sa.Uuid(), nullable=True),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        *_entry_columns("intervention"),
        sa.ForeignKeyConstraint(
            ["given_by_id"], ["staff.id"], name=op.f("fk_intervention_given_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["adverse_event_id"],
            ["adverse_event.id"],
            name=op.f("fk_intervention_adverse_event_id_adverse_event"),
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_intervention_alert_id_alert")
        ),
    )
    op.create_table(
        "controlled_substance",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("dose_id", sa.Uuid(), nullable=False),
        sa.Column("medication", sa.String(length=40), nullable=True),
        sa.Column("drawn_mg", sa.Float(), nullable=False),
        sa.Column("given_mg", sa.Float(), nullable=False),
        sa.Column("wasted_mg", sa.Float(), nullable=False),
        sa.Column("witness_id", sa.Uuid(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        *_entry_columns("controlled_substance"),
        sa.ForeignKeyConstraint(
            ["dose_id"], ["dose.id"], name=op.f("fk_controlled_substance_dose_id_dose")
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"], ["staff.id"], name=op.f("fk_controlled_substance_witness_id_staff")
        ),
    )
    for table in TABLES:
        op.create_index(
            f"ix_{table}_session_time", table, ["session_id", "occurred_at"], unique=False
        )


def _create_guards_postgresql() -> None:
    for table in TABLES:
        op.execute(  # kapsession_append_only() comes from 0001
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_append_only()"
        )
        op.execute(  # kapsession_refuse_if_signed() as fixed by 0003
            f"CREATE TRIGGER {table}_signed_lock BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_if_signed()"
        )
        op.execute(  # kapsession_refuse_if_part_signed() comes from 0005
            f"CREATE TRIGGER {table}_monitoring_lock BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_if_part_signed('monitoring')"
        )


def _create_guards_sqlite() -> None:
    for table in TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only: {table} rows are never changed or "
                "deleted'); END"
            )
        op.execute(
            f"CREATE TRIGGER {table}_signed_lock BEFORE INSERT ON {table} "
            "WHEN (SELECT status FROM session WHERE id = NEW.session_id) = 'signed' "
            f"BEGIN SELECT RAISE(ABORT, '{SIGNED}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_monitoring_lock BEFORE INSERT ON {table} "
            "WHEN EXISTS (SELECT 1 FROM signature WHERE session_id = NEW.session_id "
            "AND part = 'monitoring') "
            f"BEGIN SELECT RAISE(ABORT, '{MONITORING_SIGNED}'); END"
        )


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _create_guards_postgresql()
    else:
        _create_guards_sqlite()


def downgrade() -> None:
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    for table in reversed(TABLES):
        if is_postgresql:
            for trigger in ("append_only", "signed_lock", "monitoring_lock"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger} ON {table}")
        else:
            for trigger in ("no_update", "no_delete", "signed_lock", "monitoring_lock"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{trigger}")
        op.drop_index(f"ix_{table}_session_time", table_name=table)
        op.drop_table(table)
