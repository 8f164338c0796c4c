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

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"  # TEMPORARY: 0017 is written in parallel; re-chain to "0017" at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE staff ADD COLUMN is_admin BOOLEAN DEFAULT 0 NOT NULL")
        op.execute("ALTER TABLE staff ADD COLUMN admin_passphrase_hash VARCHAR(200)")
        op.execute("ALTER TABLE staff ADD COLUMN setup_code_hash VARCHAR(200)")
        return
    op.add_column(
        "staff",
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("staff", sa.Column("admin_passphrase_hash", sa.String(200), nullable=True))
    op.add_column("staff", sa.Column("setup_code_hash", sa.String(200), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for column in ("setup_code_hash", "admin_passphrase_hash", "is_admin"):
            op.execute(f"ALTER TABLE staff DROP COLUMN {column}")
        return
    for column in ("setup_code_hash", "admin_passphrase_hash", "is_admin"):
        op.drop_column("staff", column)
