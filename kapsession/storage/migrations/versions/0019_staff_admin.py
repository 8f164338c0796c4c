"""Staff accounts (issue 18): the clinic administrator and the one-time setup code.

- `staff.is_admin`: the clinic administrator's account (created on the first run, or on the
  first start after this revision when there is none): it alone creates, disables and resets
  staff accounts. FALSE for every existing row (the column's default: no row updated).
- `staff.admin_passphrase_hash`: the administrator's passphrase (at least 10 characters) as an
  Argon2id hash; NULL for everyone else.
- `staff.setup_code_hash`: the one-time code the administrator hands a new (or reset) staff
  member, as an Argon2id hash; typed on their first sign-in, with the PIN they choose, so that
  nobody else sets it. Cleared when the PIN is set; NULL for every existing row.

The columns are added in place (on SQLite an ALTER TABLE: copying `staff` would break the
triggers of the tables that read it, as 0009 says).

0018's guard on the PIN ("never emptied") becomes "emptied only with a new setup code": the
administrator's reset (`StaffRepository.reset_pin`) empties the PIN and gives a new code in the
same UPDATE; emptying it otherwise is still refused.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


PIN_REFUSAL = "signed record: a PIN is replaced by its owner, never removed"  # as 0018 words it
EMPTIED = "OLD.pin_hash IS NOT NULL AND NEW.pin_hash IS NULL"
WITHOUT_NEW_CODE = (
    "(NEW.setup_code_hash IS NULL OR NEW.setup_code_hash IS NOT DISTINCT FROM OLD.setup_code_hash)"
)


def _sqlite_pin_guard(when: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS staff_pin_kept")
    op.execute(
        "CREATE TRIGGER staff_pin_kept BEFORE UPDATE OF pin_hash ON staff "
        f"WHEN {when} BEGIN SELECT RAISE(ABORT, '{PIN_REFUSAL}'); END"
    )


def _postgresql_pin_guard(refused: str) -> None:
    """0018's function, its PIN condition `refused` (the rest as 0018 wrote it)."""
    op.execute(
        "CREATE OR REPLACE FUNCTION kapsession_staff_signed() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN IF (NEW.display_name IS DISTINCT FROM OLD.display_name OR NEW.role IS "
        "DISTINCT FROM OLD.role OR NEW.credentials IS DISTINCT FROM OLD.credentials) AND EXISTS "
        "(SELECT 1 FROM signature WHERE staff_id = OLD.id) THEN RAISE EXCEPTION 'signed "
        "record: the name, role and credentials of a staff member who has signed cannot be "
        f"changed'; END IF; IF {refused} THEN RAISE EXCEPTION '{PIN_REFUSAL}'; END IF; "
        "RETURN NEW; END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE staff ADD COLUMN is_admin BOOLEAN DEFAULT 0 NOT NULL")
        op.execute("ALTER TABLE staff ADD COLUMN admin_passphrase_hash VARCHAR(200)")
        op.execute("ALTER TABLE staff ADD COLUMN setup_code_hash VARCHAR(200)")
        _sqlite_pin_guard(f"{EMPTIED} AND {WITHOUT_NEW_CODE.replace('IS NOT DISTINCT FROM', 'IS')}")
        return
    op.add_column(
        "staff",
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("staff", sa.Column("admin_passphrase_hash", sa.String(200), nullable=True))
    op.add_column("staff", sa.Column("setup_code_hash", sa.String(200), nullable=True))
    _postgresql_pin_guard(f"{EMPTIED} AND {WITHOUT_NEW_CODE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS staff_pin_kept")  # it reads setup_code_hash
        for column in ("setup_code_hash", "admin_passphrase_hash", "is_admin"):
            op.execute(f"ALTER TABLE staff DROP COLUMN {column}")
        _sqlite_pin_guard(EMPTIED)
        return
    _postgresql_pin_guard(EMPTIED)
    for column in ("setup_code_hash", "admin_passphrase_hash", "is_admin"):
        op.drop_column("staff", column)
