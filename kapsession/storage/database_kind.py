"""What the database holds: clinical records or training data (issue 18, migration 0017).

Written once, when the database is made (`services/context.py`), and never changed: the
database refuses UPDATE and DELETE of the row. A database without the row (one made before
0017 and empty then, or one made by hand) counts as clinical: only a database made as the
training database is training data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from kapsession.storage import schema
from kapsession.storage.database import Database

CLINICAL = "clinical"
TRAINING = "training"


def database_kind(database: Database) -> str:
    """CLINICAL or TRAINING; CLINICAL for a database that was never marked."""
    with database.rows() as rows:
        kind = rows.execute(select(schema.database_kind.c.kind)).scalar()
    return TRAINING if kind == TRAINING else CLINICAL


def is_training(database: Database) -> bool:
    return database_kind(database) == TRAINING


def mark_database(database: Database, kind: str, *, at: datetime) -> bool:
    """Mark a new database as `kind`; False (nothing changed) when it is marked already."""
    if kind not in (CLINICAL, TRAINING):
        raise ValueError(f"unknown database kind {kind!r}")
    table = schema.database_kind
    with database.rows() as rows:
        if rows.execute(select(table.c.kind)).first() is not None:
            return False
    with database.write_rows("mark the database") as rows:
        rows.execute(table.insert().values(id=1, kind=kind, recorded_at=at))
    return True
