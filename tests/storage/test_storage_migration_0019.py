"""Migration 0019 (issue 18): the administrator's flag and passphrase, the setup code; staff
rows from before keep working (no administrator among them: the next start asks for one)."""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from kapsession.storage import schema
from kapsession.storage.database import _alembic_config, create_database_engine

MIGRATION = importlib.import_module("kapsession.storage.migrations.versions.0019_staff_admin")
BEFORE = MIGRATION.down_revision  # "0018"


def test_0019_adds_the_account_columns_keeping_every_staff_member(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database before 0019 with a staff member who has a PIN
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), BEFORE)
            staff_id = "0" * 31 + "1" if connection.dialect.name == "sqlite" else None
            if staff_id is None:
                staff_id = "00000000-0000-0000-0000-000000000001"
            connection.execute(
                text(
                    "INSERT INTO staff (id, display_name, role, credentials, pin_hash, active, "
                    "created_at) VALUES (:id, 'Tom Becker', 'nurse', 'RN', '$argon2id$x', "
                    ":active, '2026-12-07 09:00:00')"
                ),
                {"id": staff_id, "active": True},
            )
        with engine.connect() as connection:
            before = [c["name"] for c in inspect(connection).get_columns("staff")]
        # When it is upgraded to 0019
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0019")
        with engine.connect() as connection:
            # Then staff has the three columns, as schema.py has them
            columns = [c["name"] for c in inspect(connection).get_columns("staff")]
            assert columns == [*before, "is_admin", "admin_passphrase_hash", "setup_code_hash"]
            assert columns == list(schema.staff.c.keys())
            # And the staff member is no administrator, with his PIN and no setup code
            row = connection.execute(
                text("SELECT is_admin, pin_hash, setup_code_hash FROM staff")
            ).one()
            assert (bool(row[0]), row[1], row[2]) == (False, "$argon2id$x", None)
        # When it is downgraded again, Then the columns are gone and the row stays
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), BEFORE)
        with engine.connect() as connection:
            assert [c["name"] for c in inspect(connection).get_columns("staff")] == before
            assert connection.execute(text("SELECT count(*) FROM staff")).scalar() == 1
    finally:
        engine.dispose()
