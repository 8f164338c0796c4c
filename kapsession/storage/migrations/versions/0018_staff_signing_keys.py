"""Signatures bound to a person (issue 18): signing keys, and the rows a signature depends on.

- `staff_signing_key`: one row per Ed25519 key pair of a staff member, the private key sealed
  (AES-256-GCM) with a key derived by Argon2id from their signing passphrase; append-only (a new
  key supersedes the older, which stay for verifying the signatures they made).
- `signature.public_key`, `signature.signature`: the signer's public key and the Ed25519
  signature over the digest of what is signed (`storage/signatures.py`). NULL on every signature
  made before this revision: those read as made before signatures were bound to a person.
- Triggers refusing the changes that would move or rename a signed session's people: a
  participant of a session with a signed part is not moved to another session or client, added
  or deleted; a client in such a session keeps their name, date of birth and record number; a
  staff member who has signed keeps their name, role and credentials; a PIN, once set, is
  replaced, never removed. The signature's digest covers all of these, so with the triggers
  dropped a change still shows when the signature is verified.

The columns are added in place (ALTER TABLE on SQLite: copying `signature` would lose its
append-only triggers).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLE = "staff_signing_key"
INDEX = "ix_staff_signing_key_staff_time"
SIGNED_PART = "part <> 'addendum'"

# The trigger messages start "signed record:"; storage/database.py says them in words.
PARTICIPANT_REFUSAL = (
    "signed record: the participants of a session with a signed part cannot be moved, "
    "added or removed"
)
CLIENT_REFUSAL = (
    "signed record: the name, date of birth and record number of a client of a signed "
    "session cannot be changed"
)
STAFF_REFUSAL = (
    "signed record: the name, role and credentials of a staff member who has signed cannot "
    "be changed"
)
PIN_REFUSAL = "signed record: a PIN is replaced by its owner, never removed"

CLIENT_IDENTITY = ("given_name", "family_name", "date_of_birth", "record_number")
STAFF_IDENTITY = ("display_name", "role", "credentials")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _changed(columns: tuple[str, ...], distinct: str) -> str:
    return "(" + " OR ".join(f"NEW.{c} {distinct} OLD.{c}" for c in columns) + ")"


def _create_key_table() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("sealed_private_key", sa.String(length=200), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("kdf", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_signing_key_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_signing_key")),
        sa.UniqueConstraint("public_key", name=op.f("uq_staff_signing_key_public_key")),
    )
    op.create_index(INDEX, TABLE, ["staff_id", "created_at"], unique=False)


def _guards_sqlite() -> None:
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'append-only: {TABLE} rows are never changed or "
            "deleted'); END"
        )
    op.execute(
        "CREATE TRIGGER participant_signed_identity "
        "BEFORE UPDATE OF session_id, client_id ON participant "
        f"WHEN {_changed(('session_id', 'client_id'), 'IS NOT')} AND EXISTS (SELECT 1 FROM "
        f"signature WHERE {SIGNED_PART} AND session_id IN (OLD.session_id, NEW.session_id)) "
        f"BEGIN SELECT RAISE(ABORT, '{PARTICIPANT_REFUSAL}'); END"
    )
    op.execute(
        "CREATE TRIGGER participant_signed_no_insert BEFORE INSERT ON participant "
        f"WHEN EXISTS (SELECT 1 FROM signature WHERE {SIGNED_PART} "
        "AND session_id = NEW.session_id) "
        f"BEGIN SELECT RAISE(ABORT, '{PARTICIPANT_REFUSAL}'); END"
    )
    op.execute(
        "CREATE TRIGGER participant_signed_no_delete BEFORE DELETE ON participant "
        f"WHEN EXISTS (SELECT 1 FROM signature WHERE {SIGNED_PART} "
        "AND session_id = OLD.session_id) "
        f"BEGIN SELECT RAISE(ABORT, '{PARTICIPANT_REFUSAL}'); END"
    )
    op.execute(
        f"CREATE TRIGGER client_signed_identity BEFORE UPDATE OF {', '.join(CLIENT_IDENTITY)} "
        f"ON client WHEN {_changed(CLIENT_IDENTITY, 'IS NOT')} AND EXISTS (SELECT 1 FROM "
        "participant JOIN signature ON signature.session_id = participant.session_id "
        f"WHERE participant.client_id = OLD.id AND signature.{SIGNED_PART}) "
        f"BEGIN SELECT RAISE(ABORT, '{CLIENT_REFUSAL}'); END"
    )
    op.execute(
        f"CREATE TRIGGER staff_signed_identity BEFORE UPDATE OF {', '.join(STAFF_IDENTITY)} "
        f"ON staff WHEN {_changed(STAFF_IDENTITY, 'IS NOT')} AND EXISTS (SELECT 1 FROM "
        "signature WHERE staff_id = OLD.id) "
        f"BEGIN SELECT RAISE(ABORT, '{STAFF_REFUSAL}'); END"
    )
    op.execute(
        "CREATE TRIGGER staff_pin_kept BEFORE UPDATE OF pin_hash ON staff "
        "WHEN OLD.pin_hash IS NOT NULL AND NEW.pin_hash IS NULL "
        f"BEGIN SELECT RAISE(ABORT, '{PIN_REFUSAL}'); END"
    )


def _guards_postgresql() -> None:
    op.execute(  # kapsession_append_only() comes from 0001
        f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_append_only()"
    )
    signed = f"SELECT 1 FROM signature WHERE {SIGNED_PART}"
    op.execute(
        "CREATE FUNCTION kapsession_participant_signed() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        "IF TG_OP = 'DELETE' THEN "
        f"IF EXISTS ({signed} AND session_id = OLD.session_id) THEN "
        f"RAISE EXCEPTION '{PARTICIPANT_REFUSAL}'; END IF; RETURN OLD; END IF; "
        "IF TG_OP = 'INSERT' THEN "
        f"IF EXISTS ({signed} AND session_id = NEW.session_id) THEN "
        f"RAISE EXCEPTION '{PARTICIPANT_REFUSAL}'; END IF; RETURN NEW; END IF; "
        f"IF {_changed(('session_id', 'client_id'), 'IS DISTINCT FROM')} AND EXISTS "
        f"({signed} AND session_id IN (OLD.session_id, NEW.session_id)) THEN "
        f"RAISE EXCEPTION '{PARTICIPANT_REFUSAL}'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER participant_signed_identity BEFORE INSERT OR UPDATE OR DELETE "
        "ON participant FOR EACH ROW EXECUTE FUNCTION kapsession_participant_signed()"
    )
    op.execute(
        "CREATE FUNCTION kapsession_client_signed() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN IF {_changed(CLIENT_IDENTITY, 'IS DISTINCT FROM')} AND EXISTS "
        "(SELECT 1 FROM participant JOIN signature ON signature.session_id = "
        f"participant.session_id WHERE participant.client_id = OLD.id AND "
        f"signature.{SIGNED_PART}) THEN RAISE EXCEPTION '{CLIENT_REFUSAL}'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER client_signed_identity BEFORE UPDATE ON client "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_client_signed()"
    )
    op.execute(
        "CREATE FUNCTION kapsession_staff_signed() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN IF {_changed(STAFF_IDENTITY, 'IS DISTINCT FROM')} AND EXISTS "
        "(SELECT 1 FROM signature WHERE staff_id = OLD.id) THEN "
        f"RAISE EXCEPTION '{STAFF_REFUSAL}'; END IF; "
        "IF OLD.pin_hash IS NOT NULL AND NEW.pin_hash IS NULL THEN "
        f"RAISE EXCEPTION '{PIN_REFUSAL}'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER staff_signed_identity BEFORE UPDATE ON staff "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_staff_signed()"
    )


def upgrade() -> None:
    _create_key_table()
    if _is_sqlite():
        op.execute("ALTER TABLE signature ADD COLUMN public_key VARCHAR(64)")
        op.execute("ALTER TABLE signature ADD COLUMN signature VARCHAR(128)")
        _guards_sqlite()
    else:
        op.add_column("signature", sa.Column("public_key", sa.String(64), nullable=True))
        op.add_column("signature", sa.Column("signature", sa.String(128), nullable=True))
        _guards_postgresql()


def downgrade() -> None:
    if _is_sqlite():
        for trigger in (
            "staff_pin_kept",
            "staff_signed_identity",
            "client_signed_identity",
            "participant_signed_no_delete",
            "participant_signed_no_insert",
            "participant_signed_identity",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("ALTER TABLE signature DROP COLUMN signature")
        op.execute("ALTER TABLE signature DROP COLUMN public_key")
    else:
        for trigger, table, function in (
            ("staff_signed_identity", "staff", "kapsession_staff_signed"),
            ("client_signed_identity", "client", "kapsession_client_signed"),
            ("participant_signed_identity", "participant", "kapsession_participant_signed"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.drop_column("signature", "signature")
        op.drop_column("signature", "public_key")
    # On SQLite a table's triggers go with it.
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
