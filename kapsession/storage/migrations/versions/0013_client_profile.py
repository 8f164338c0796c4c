"""The client profile (issue 17): `client_profile`, one row per saved version.

A profile is versioned and append-only: a change is a new row (`replaces_id` the version it
replaced, with its `reason`), the newest is the profile as it stands, and the database refuses
UPDATE and DELETE as it does for the clinical entries (0001's function on PostgreSQL, triggers
on SQLite). It belongs to a client, not a session, so no signed-session lock applies. Existing
clients get no row: nothing was recorded for them, which is what "not recorded" says. Nothing
existing changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "client_profile"
INDEX = "ix_client_profile_client_time"
TEXT_COLUMNS = (
    "preferred_name",
    "gender_identity",
    "record_system",
    "phone",
    "email",
    "address",
    "emergency_name",
    "emergency_phone",
    "emergency_relationship",
    "referring_clinician",
)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("preferred_name", sa.Text(), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=True),
        *(sa.Column(name, sa.Text(), nullable=False) for name in TEXT_COLUMNS[1:]),
        sa.Column("allergies", sa.JSON(), nullable=True),
        sa.Column("medications", sa.JSON(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("weight_measured_on", sa.Date(), nullable=True),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_client_profile_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_client_profile_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["client_profile.id"],
            name=op.f("fk_client_profile_replaces_id_client_profile"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_profile")),
        # a version is replaced once: two saves from the same version cannot both stand
        sa.UniqueConstraint("replaces_id", name=op.f("uq_client_profile_replaces_id")),
    )
    op.create_index(INDEX, TABLE, ["client_id", "recorded_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(  # kapsession_append_only() comes from 0001
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
