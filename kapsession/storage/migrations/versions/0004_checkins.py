"""Check-ins: dose details, room air, alerts and their acknowledgements, per-client alert
thresholds and discharge assessments.

The new clinical tables are append-only and locked with their session once it is signed, like
the tables of 0001 and 0002. An acknowledgement has no session of its own: it is locked through
its alert. On SQLite, dropping the new columns again copies `dose` and `observation` (batch
mode), which drops their triggers; the downgrade puts them back exactly as they were.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_ONLY = ("alert", "alert_acknowledgement", "discharge_assessment")
LOCKED_BY_SESSION = ("alert", "discharge_assessment")
SIGNED = "session is signed: only addenda can be added"


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _add_columns() -> None:
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weight_kg", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("dose_mg_per_kg", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("device_count", sa.Integer(), nullable=True))
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("on_room_air", sa.Boolean(), nullable=True))


def _create_tables() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("op", sa.String(length=4), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["observation_id"], ["observation.id"], name=op.f("fk_alert_observation_id_observation")
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"], ["participant.id"], name=op.f("fk_alert_participant_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f("fk_alert_session_id_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_session_time", ["session_id", "raised_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_observation_id"), ["observation_id"], unique=False
        )

    op.create_table(
        "alert_acknowledgement",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_acknowledgement_alert_id_alert")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_alert_acknowledgement_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_acknowledgement")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_alert_acknowledgement_alert_id")),
    )

    op.create_table(
        "client_alert_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("op", sa.String(length=4), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_client_alert_rule_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_client_alert_rule_created_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_alert_rule")),
    )
    with op.batch_alter_table("client_alert_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_client_alert_rule_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "discharge_assessment",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("observation_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("aldrete_activity", sa.Integer(), nullable=True),
        sa.Column("aldrete_breathing", sa.Integer(), nullable=True),
        sa.Column("aldrete_circulation", sa.Integer(), nullable=True),
        sa.Column("aldrete_consciousness", sa.Integer(), nullable=True),
        sa.Column("aldrete_spo2", sa.Integer(), nullable=True),
        sa.Column("aldrete_total", sa.Integer(), nullable=False),
        sa.Column("on_room_air", sa.Boolean(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("ready_minutes_after_first_dose", sa.Integer(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by", sa.String(length=120), nullable=True),
        sa.Column("corrects_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("voids", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["discharge_assessment.id"],
            name=op.f("fk_discharge_assessment_corrects_id_discharge_assessment"),
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"],
            ["observation.id"],
            name=op.f("fk_discharge_assessment_observation_id_observation"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_discharge_assessment_participant_id_participant"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["staff.id"],
            name=op.f("fk_discharge_assessment_recorded_by_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f("fk_discharge_assessment_session_id_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discharge_assessment")),
    )
    with op.batch_alter_table("discharge_assessment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_discharge_assessment_session_time", ["session_id", "occurred_at"], unique=False
        )


def _create_guards_postgresql() -> None:
    for table in APPEND_ONLY:  # kapsession_append_only() comes from 0001
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_append_only()"
        )
    for table in LOCKED_BY_SESSION:  # kapsession_refuse_if_signed() as fixed by 0003
        op.execute(
            f"CREATE TRIGGER {table}_signed_lock BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_if_signed()"
        )
    # Its own function: the generic one reads NEW.session_id, which an acknowledgement lacks.
    op.execute(
        "CREATE FUNCTION kapsession_refuse_acknowledgement_if_signed() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM alert JOIN session ON session.id = alert.session_id "
        "WHERE alert.id = NEW.alert_id AND session.status = 'signed') THEN "
        f"  RAISE EXCEPTION '{SIGNED}'; "
        "END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER alert_acknowledgement_signed_lock BEFORE INSERT ON alert_acknowledgement "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_acknowledgement_if_signed()"
    )


def _create_guards_sqlite() -> None:
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only: {table} rows are never changed or "
                "deleted'); END"
            )
    for table in LOCKED_BY_SESSION:
        op.execute(
            f"CREATE TRIGGER {table}_signed_lock BEFORE INSERT ON {table} "
            "WHEN (SELECT status FROM session WHERE id = NEW.session_id) = 'signed' "
            f"BEGIN SELECT RAISE(ABORT, '{SIGNED}'); END"
        )
    op.execute(
        "CREATE TRIGGER alert_acknowledgement_signed_lock BEFORE INSERT ON alert_acknowledgement "
        "WHEN (SELECT session.status FROM alert JOIN session ON session.id = alert.session_id "
        "WHERE alert.id = NEW.alert_id) = 'signed' "
        f"BEGIN SELECT RAISE(ABORT, '{SIGNED}'); END"
    )


def upgrade() -> None:
    _add_columns()
    _create_tables()
    if _is_postgresql():
        _create_guards_postgresql()
    else:
        _create_guards_sqlite()


def _drop_columns() -> None:
    """Drop the added columns; on SQLite keep the triggers the table copy would lose."""
    triggers: list[str] = []
    if not _is_postgresql():
        rows = op.get_bind().exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name IN ('dose', 'observation') ORDER BY name"
        )
        triggers = [str(sql) for (sql,) in rows]
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_column("on_room_air")
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.drop_column("device_count")
        batch_op.drop_column("dose_mg_per_kg")
        batch_op.drop_column("weight_kg")
    existing = set()
    if triggers:
        rows = op.get_bind().exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        existing = {str(sql) for (sql,) in rows}
    for sql in triggers:
        if sql not in existing:
            op.execute(sql)


def downgrade() -> None:
    if _is_postgresql():
        op.execute(
            "DROP TRIGGER IF EXISTS alert_acknowledgement_signed_lock ON alert_acknowledgement"
        )
        op.execute("DROP FUNCTION IF EXISTS kapsession_refuse_acknowledgement_if_signed()")
        for table in LOCKED_BY_SESSION:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_signed_lock ON {table}")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    # On SQLite a table's triggers go with it.
    with op.batch_alter_table("discharge_assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_discharge_assessment_session_time")
    op.drop_table("discharge_assessment")
    with op.batch_alter_table("client_alert_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_alert_rule_client_id"))
    op.drop_table("client_alert_rule")
    op.drop_table("alert_acknowledgement")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_observation_id"))
        batch_op.drop_index("ix_alert_session_time")
    op.drop_table("alert")
    _drop_columns()
