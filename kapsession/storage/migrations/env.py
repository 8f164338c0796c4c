"""Alembic environment: always driven from `kapsession.storage.database`, never a CLI ini file."""

from __future__ import annotations

from alembic import context

from kapsession.storage.schema import with_postgresql_options

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used through the package's own runner
    raise RuntimeError("kapsession migrations run through kapsession.storage.database")

context.configure(
    connection=connection,
    target_metadata=with_postgresql_options(),
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
