"""Fix the PostgreSQL signed-session triggers of 0002.

0002's trigger function read NEW.kind on tables without that column (observation,
private_note: every insert failed), and its session guard returned NEW on DELETE (NULL, so
every delete was silently skipped). SQLite's triggers were right and are left as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION kapsession_refuse_if_signed() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_TABLE_NAME = 'note' THEN "
        "  IF NEW.kind = 'addendum' THEN RETURN NEW; END IF; "
        "END IF; "
        "IF EXISTS (SELECT 1 FROM session WHERE id = NEW.session_id AND status = 'signed') THEN "
        "  RAISE EXCEPTION 'session is signed: only addenda can be added'; "
        "END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION kapsession_signed_stays_signed() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN IF OLD.status = 'signed' THEN "
        "RAISE EXCEPTION 'session is signed: it cannot be reopened or changed'; END IF; "
        "RETURN COALESCE(NEW, OLD); END $$"
    )


def downgrade() -> None:
    # The 0002 bodies were wrong; downgrading keeps the corrected functions.
    pass
