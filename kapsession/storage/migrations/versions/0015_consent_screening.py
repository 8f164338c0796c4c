"""Consent and screening (issue 17): `consent`, one row per version of a client's KAP treatment
or touch consent.

A consent is a clinical entry of the client (no session): append-only, corrected, withdrawn by
the client or taken back as entered in error by a new row naming it, with its reason (UPDATE and
DELETE refused: 0001's function on PostgreSQL, triggers on SQLite). Nothing existing changes:
a client without a row has no consent recorded. The screening before a dose and the
prescriber's decisions on it are session events (`session_event.kind` "screening",
"dose_gate_decision", "consent_override"), which need no change of the schema.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "consent"
INDEXES = {"ix_consent_client_time": ["client_id", "recorded_at"]}


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _create_table() -> None:
    op.create_table(
        TABLE,
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("form_version", sa.Text(), nullable=False),
        sa.Column("witness_id", sa.Uuid(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("corrects_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("voids", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_consent_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["consent.id"], name=op.f("fk_consent_corrects_id_consent")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_consent_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"], ["staff.id"], name=op.f("fk_consent_witness_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def upgrade() -> None:
    _create_table()
    if _is_postgresql():  # kapsession_append_only() from 0001
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only: {TABLE} rows are never changed or "
                "deleted'); END"
            )


def downgrade() -> None:
    if _is_postgresql():
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    # On SQLite a table's triggers go with it.
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
    op.drop_table(TABLE)
