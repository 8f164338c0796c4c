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


INDEX_LEAF_PAGE = 0x0A


def _checkpointed(path: Path) -> int:
    """Move anything in the write-ahead log into the (closed) file; its page size."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(connection.execute("PRAGMA page_size").fetchone()[0])
    finally:
        connection.close()


def damage_an_index_entry(path: Path, text: str) -> None:
    """Change the last character of `text` where an index leaf page holds it: each page still
    reads as sound (`quick_check` passes), but the index no longer matches its table, which
    only `integrity_check` compares."""
    page_size = _checkpointed(path)
    data = bytearray(path.read_bytes())
    wanted = text.encode()
    for page in range(1, len(data) // page_size):  # page 1 (the header's) is never an index
        start = page * page_size
        if data[start] != INDEX_LEAF_PAGE:
            continue
        found = data.find(wanted, start, start + page_size)
        if found >= 0:
            last = found + len(wanted) - 1
            data[last] = ord("~") if data[last] != ord("~") else ord("!")
            path.write_bytes(bytes(data))
            return
    raise AssertionError(f"no index leaf page of {path} holds {text!r}")


def zero_a_page(path: Path) -> None:
    """Overwrite the page in the middle of the file with zeros, as a failed disk sector does."""
    page_size = _checkpointed(path)
    pages = path.stat().st_size // page_size
    assert pages >= 3, "a database of a few pages at least"
    with path.open("r+b") as handle:
        handle.seek((pages // 2) * page_size)
        handle.write(bytes(page_size))


def cut_off(path: Path) -> None:
    """Truncate the file to half its pages, as a copy or a disk that stopped half-way leaves it."""
    page_size = _checkpointed(path)
    pages = path.stat().st_size // page_size
    assert pages >= 4, "a database of a few pages at least"
    with path.open("r+b") as handle:
        handle.truncate((pages // 2) * page_size)
