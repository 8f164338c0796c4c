"""A signed session is locked in the database itself: only addenda may be added.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Tables whose new rows belong to a session's record; `note` is handled apart because
# addenda (kind = 'addendum') are the one thing a signed session still accepts.
LOCKED_TABLES = ("session_event", "dose", "observation", "private_note", "music_event")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION kapsession_refuse_if_signed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF (TG_TABLE_NAME <> 'note' OR NEW.kind <> 'addendum') AND EXISTS "
            "(SELECT 1 FROM session WHERE id = NEW.session_id AND status = 'signed') THEN "
            "RAISE EXCEPTION 'session is signed: only addenda can be added'; END IF; "
            "RETURN NEW; END $$"
        )
        for table in (*LOCKED_TABLES, "note"):
            op.execute(
                f"CREATE TRIGGER {table}_signed_lock BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_if_signed()"
            )
        op.execute(
            "CREATE FUNCTION kapsession_signed_stays_signed() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN IF OLD.status = 'signed' THEN "
            "RAISE EXCEPTION 'session is signed: it cannot be reopened or changed'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER session_signed_stays_signed BEFORE UPDATE OR DELETE ON session "
            "FOR EACH ROW EXECUTE FUNCTION kapsession_signed_stays_signed()"
        )
        return
    for table in LOCKED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_signed_lock BEFORE INSERT ON {table} "
            "WHEN (SELECT status FROM session WHERE id = NEW.session_id) = 'signed' "
            "BEGIN SELECT RAISE(ABORT, 'session is signed: only addenda can be added'); END"
        )
    op.execute(
        "CREATE TRIGGER note_signed_lock BEFORE INSERT ON note "
        "WHEN NEW.kind <> 'addendum' AND "
        "(SELECT status FROM session WHERE id = NEW.session_id) = 'signed' "
        "BEGIN SELECT RAISE(ABORT, 'session is signed: only addenda can be added'); END"
    )
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER session_signed_no_{action.lower()} BEFORE {action} ON session "
            "WHEN OLD.status = 'signed' "
            "BEGIN SELECT RAISE(ABORT, 'session is signed: it cannot be reopened or changed'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS session_signed_stays_signed ON session")
        op.execute("DROP FUNCTION IF EXISTS kapsession_signed_stays_signed()")
        for table in (*LOCKED_TABLES, "note"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_signed_lock ON {table}")
        op.execute("DROP FUNCTION IF EXISTS kapsession_refuse_if_signed()")
        return
    for table in (*LOCKED_TABLES, "note"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_signed_lock")
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS session_signed_no_{action}")
