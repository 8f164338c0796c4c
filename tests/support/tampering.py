"""The attacker of the tamper tests: a connection of their own, past the database's triggers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from kapsession.storage.database import Database


@contextmanager
def unguarded(db: Database, table: str) -> Iterator[Any]:
    """A DBAPI cursor of a connection of the attacker's own, with no trigger of `table` left to
    refuse anything; committed at the end."""
    if db.dialect == "sqlite":
        assert db.file is not None
        connection = sqlite3.connect(db.file)
        try:
            with connection:
                triggers = connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                    (table,),
                ).fetchall()
                for (name,) in triggers:
                    connection.execute(f"DROP TRIGGER {name}")
                yield connection.cursor()
        finally:
            connection.close()
    else:
        url = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url) as server, server.cursor() as cursor:
            # Neither user triggers nor foreign keys fire for a replica (needs a superuser).
            cursor.execute("SET LOCAL session_replication_role = replica")
            yield cursor
