"""The course (issue 17): its plan, session types and the integration link.

- `course_plan`: one row per saved version of a course's plan (indication, dosing sessions
  planned, medication and route, the prescriber's standing order), append-only like the client
  profile (a change is a new row naming the version it replaces, with the reason; UPDATE and
  DELETE refused: 0001's function on PostgreSQL, triggers on SQLite). A course without a row has
  no plan recorded: nothing existing changes.
- `session.session_type`: consultation | preparation | dosing | integration | follow-up. Every
  session before this revision was a dosing session, which is what the database's default
  gives them (ALTER TABLE, no row updated).
- `participant.follows_session_id`: an integration session's participant names the dosing
  session it follows; NULL for every other row.

The columns are added in place (on SQLite an ALTER TABLE, since copying `session` breaks the
signed-lock triggers of the tables that read it, as 0009 says).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-13
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLE = "course_plan"
INDEX = "ix_course_plan_course_time"
FOLLOWS_FK = "fk_participant_follows_session_id_session"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _create_plan_table() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("indication", sa.Text(), nullable=False),
        sa.Column("dosing_sessions", sa.Integer(), nullable=False),
        sa.Column("medication", sa.String(length=40), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=False),
        sa.Column("order_dose_mg", sa.Float(), nullable=True),
        sa.Column("order_dose_mg_per_kg", sa.Float(), nullable=True),
        sa.Column("order_boosters", sa.Integer(), nullable=True),
        sa.Column("order_booster_mg", sa.Float(), nullable=True),
        sa.Column("order_booster_from_min", sa.Float(), nullable=True),
        sa.Column("order_booster_to_min", sa.Float(), nullable=True),
        sa.Column("order_max_total_mg", sa.Float(), nullable=True),
        sa.Column("ordered_by_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_course_plan_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["ordered_by_id"], ["staff.id"], name=op.f("fk_course_plan_ordered_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff.id"], name=op.f("fk_course_plan_recorded_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["course_plan.id"], name=op.f("fk_course_plan_replaces_id_course_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_plan")),
        # a version is replaced once: two saves from the same version cannot both stand
        sa.UniqueConstraint("replaces_id", name=op.f("uq_course_plan_replaces_id")),
    )
    op.create_index(INDEX, TABLE, ["course_id", "recorded_at"], unique=False)
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


def upgrade() -> None:
    _create_plan_table()
    if _is_sqlite():
        op.execute(
            "ALTER TABLE session ADD COLUMN session_type VARCHAR(20) DEFAULT 'dosing' NOT NULL"
        )
        op.execute(
            "ALTER TABLE participant ADD COLUMN follows_session_id CHAR(32) "
            f"CONSTRAINT {FOLLOWS_FK} REFERENCES session (id)"
        )
    else:
        op.add_column(
            "session",
            sa.Column(
                "session_type",
                sa.String(20),
                server_default=sa.text("'dosing'"),
                nullable=False,
            ),
        )
        op.add_column("participant", sa.Column("follows_session_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(FOLLOWS_FK, "participant", "session", ["follows_session_id"], ["id"])


def downgrade() -> None:
    if _is_sqlite():
        op.execute("ALTER TABLE participant DROP COLUMN follows_session_id")
        op.execute("ALTER TABLE session DROP COLUMN session_type")
    else:
        op.drop_constraint(FOLLOWS_FK, "participant", type_="foreignkey")
        op.drop_column("participant", "follows_session_id")
        op.drop_column("session", "session_type")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    # On SQLite a table's triggers go with it.
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
