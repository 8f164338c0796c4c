"""The session's team and one set of staff roles.

A session names its prescriber on site (`session.prescriber_id`) beside its therapist and its
monitoring clinician (`nurse_id`, as before); a participant may have a monitoring clinician of
their own (`participant.monitor_id`; NULL, as for every older row: the session's). Staff roles
become one list (therapist, nurse, prescriber, physician, lead, administrator, other): today's
roles are all in it and stay as they are; a role outside it, which kapsession never wrote,
becomes `other` so that every row still reads.

The columns are added in place: on SQLite an ALTER TABLE, since copying `session` (batch mode)
breaks the signed-lock triggers of the tables that read it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STAFF_COLUMNS = (("session", "prescriber_id"), ("participant", "monitor_id"))
ROLES = ("therapist", "nurse", "prescriber", "physician", "lead", "administrator", "other")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _foreign_key(table: str, column: str) -> str:
    return f"fk_{table}_{column}_staff"


def upgrade() -> None:
    for table, column in STAFF_COLUMNS:
        if _is_sqlite():
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} CHAR(32) "
                f"CONSTRAINT {_foreign_key(table, column)} REFERENCES staff (id)"
            )
        else:
            op.add_column(table, sa.Column(column, sa.Uuid(), nullable=True))
            op.create_foreign_key(_foreign_key(table, column), table, "staff", [column], ["id"])
    known = ", ".join(f"'{role}'" for role in ROLES)
    op.execute(f"UPDATE staff SET role = 'other' WHERE role NOT IN ({known})")


def downgrade() -> None:
    for table, column in reversed(STAFF_COLUMNS):
        if _is_sqlite():
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_constraint(_foreign_key(table, column), table, type_="foreignkey")
            op.drop_column(table, column)
