"""A real damage to a SQLite file, as a failing disk makes: one index page's header overwritten.
SQLite still opens the file and reads most of it; `PRAGMA quick_check` and `integrity_check`
report the page."""

from __future__ import annotations

import sqlite3
from pathlib import Path

TABLE_LEAF_PAGE = 0x0D  # a b-tree page type byte that no index page has


def damage_an_index(path: Path) -> None:
    """Overwrite the root page type of the index of the fullest table of the (closed) database
    at `path` (an empty index would still read as a valid page), after moving anything in its
    write-ahead log into the file."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        indexes = connection.execute(
            "SELECT tbl_name, rootpage FROM sqlite_master WHERE type = 'index' ORDER BY name"
        ).fetchall()
        rows = {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table, _root in indexes
        }
        _table, root = max(indexes, key=lambda index: rows[index[0]])
        assert rows[_table] > 0, "a database with rows in an indexed table"
    finally:
        connection.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(bytes([TABLE_LEAF_PAGE]))
