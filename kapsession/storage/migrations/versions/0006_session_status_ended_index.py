"""An index on the session's status and end, for the start screen's recently signed sessions.

The start screen lists the sessions signed in the last days: `status = 'signed'` and an end at or
after a moment. Through the status index alone every signed session's row is read to find its
end, and on SQLite a row's end comes after its protocol snapshot (8.5 KB, on overflow pages),
so a clinic's years of sessions cost every start a read of the whole table (30 ms at 10,000
sessions). With `(status, ended_at)` the ends are read from the index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_session_status_ended"


def upgrade() -> None:
    op.create_index(INDEX, "session", ["status", "ended_at"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="session")
