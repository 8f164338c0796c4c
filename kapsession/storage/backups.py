"""Backups of a SQLite database: a consistent copy with SQLite's backup API, the daily one, and
the thirty kept."""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kapsession.storage.database import Database

log = logging.getLogger(__name__)

BACKUPS_KEPT = 30


def backup_sqlite(path: Path, backup_dir: Path, label: str, *, now: datetime | None = None) -> Path:
    """Copy a live SQLite database (WAL included) consistently with SQLite's backup API."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    safe_label = re.sub(r"[^A-Za-z0-9_.-]", "_", label)
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_dir / f"{path.stem}-{when:%Y%m%dT%H%M%S}Z-{safe_label}.sqlite3"
    partial = target.with_suffix(".partial")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # one step: a consistent snapshot, while the WAL takes writes
        finally:
            copy.close()
    except BaseException:
        _remove_partial(partial)  # a full disk gets its space back
        raise
    finally:
        source.close()
    partial.replace(target)
    _prune_backups(backup_dir, path.stem)
    log.info("backed up %s to %s", path, target)
    return target


def _remove_partial(partial: Path) -> None:
    for leftover in (partial, partial.with_name(partial.name + "-journal")):
        if not leftover.exists():  # unlink would fail on a read-only disk even then
            continue
        try:
            leftover.unlink()
        except OSError:
            log.warning("cannot remove the unfinished backup %s", leftover)


def list_backups(backup_dir: Path, stem: str) -> list[Path]:
    """Backups of the database named `stem`, oldest first."""
    if not backup_dir.is_dir():
        return []
    return sorted(backup_dir.glob(f"{stem}-*Z-*.sqlite3"))


def _prune_backups(backup_dir: Path, stem: str) -> None:
    backups = list_backups(backup_dir, stem)
    for old in backups[:-BACKUPS_KEPT]:
        old.unlink(missing_ok=True)


def ensure_recent_backup(
    database: Database, backup_dir: Path, *, max_age: timedelta, now: datetime | None = None
) -> Path | None:
    """Back up the SQLite file if the newest backup is older than `max_age`; None if not needed."""
    path = database.file
    if path is None or not path.exists():
        return None
    when = now or datetime.now(UTC)
    backups = list_backups(backup_dir, path.stem)
    if backups:
        newest = _backup_time(backups[-1], path.stem)
        if when - newest < max_age:
            return None
    return backup_sqlite(path, backup_dir, "daily", now=when)


def _backup_time(backup: Path, stem: str) -> datetime:
    """When a backup was taken: the time in its name (same clock as `now`; copying a file
    changes its mtime), else its mtime."""
    match = re.match(re.escape(stem) + r"-(\d{8}T\d{6})Z-", backup.name)
    if match is not None:
        stamp = match.group(1)  # read by hand: strptime imports _strptime (9 ms at start-up)
        return datetime(
            int(stamp[0:4]),
            int(stamp[4:6]),
            int(stamp[6:8]),
            int(stamp[9:11]),
            int(stamp[11:13]),
            int(stamp[13:15]),
            tzinfo=UTC,
        )
    return datetime.fromtimestamp(backup.stat().st_mtime, UTC)
