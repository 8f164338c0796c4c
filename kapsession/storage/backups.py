"""Backups of a SQLite database: a consistent copy with SQLite's backup API, checked before it
counts; the recent one; those kept; and putting one back (`restore_backup`).

The database is checked first (SQLite's `quick_check`): a damaged one is not copied. A backup
is then made as `<name>.partial`, checked with SQLite's `integrity_check` and for a kapsession
schema, and only then named `*.sqlite3`: every backup the folder lists passed its check when it
was made, so pruning after a good backup never removes the last good one (and never the backup
just made, whatever its name says of the clock), and a damaged database neither adds a backup
nor prunes one (`DamagedDatabase`). A copy that fails its check while the database passes is
the backup folder's disk (`BadCopy`). Before copying, the free space is checked
(`NotEnoughSpace`): a full disk never leaves a partial file.

A second location (`copy_to_second_location`: a USB disk or a clinic share named in
clinic.toml) gets a copy of each checked backup, in a folder of this laptop's own inside it,
checked in turn and pruned by the same rule. kapsession never creates the location itself: an
unplugged disk's empty mount point must not fill the laptop's own disk.

Kept (`keep`): the `BACKUPS_KEPT` newest, and the newest of each of the last `WEEKS_KEPT` weeks
(ISO weeks, by the time in the name), so that a damage noticed late still has a good copy from
before it.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import socket
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kapsession.paths import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, make_private
from kapsession.records.errors import StorageError

if TYPE_CHECKING:
    from kapsession.storage.database import Database

log = logging.getLogger(__name__)

BACKUPS_KEPT = 30
WEEKS_KEPT = 12
SPACE_MARGIN_BYTES = 16 * 1024**2  # beyond the database's own size, for the copy's journal


class DamagedDatabase(StorageError):
    """A copy failed its integrity check: the database (or the backup) itself is damaged."""


class BadCopy(StorageError):
    """A copy failed its check although the database passes: the disk it was written to."""


class SecondLocationProblem(StorageError):
    """The second backup location is missing, cannot be written or is full; the main backup
    was made."""


class NotEnoughSpace(OSError):
    """Too little free space in the backup folder for a copy of the database."""

    def __init__(self, folder: Path, needed: int, free: int) -> None:
        self.room = f"about {_mb(needed)} needed, {_mb(free)} free"
        super().__init__(
            errno.ENOSPC, f"not enough free space in {folder} for a backup: {self.room}"
        )


def _mb(size: int) -> str:
    return f"{size / 1024**2:,.0f} MB"


def backup_sqlite(path: Path, backup_dir: Path, label: str, *, now: datetime | None = None) -> Path:
    """Check a live SQLite database (`quick_check`), copy it (WAL included) consistently with
    SQLite's backup API, check the copy (`integrity_check`), then prune. Raises
    `DamagedDatabase` (keeping no copy, pruning nothing) when the database fails either check,
    `BadCopy` when only the copy fails, and `NotEnoughSpace` before copying when the disk is
    too full."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    safe_label = re.sub(r"[^A-Za-z0-9_.-]", "_", label)
    damage = database_damage(path)  # before anything is written: a damaged file is not copied
    if damage is not None:
        raise DamagedDatabase(_damaged(path, damage))
    backup_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _check_space(path, backup_dir)
    target = backup_dir / f"{path.stem}-{when:%Y%m%dT%H%M%S}Z-{safe_label}.sqlite3"
    partial = target.with_suffix(".partial")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        _make_private_file(backup_dir, partial)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # one step: a consistent snapshot, while the WAL takes writes
        finally:
            copy.close()
        damage = database_damage(partial, full=True)
        if damage is not None:
            source_damage = database_damage(path, full=True)
            if source_damage is not None:
                raise DamagedDatabase(_damaged(path, source_damage))
            raise BadCopy(
                f"the copy written to {backup_dir} fails its check ({damage}) although the "
                "database passes it: that folder's disk may be failing. No backup was made "
                "and none was removed"
            )
    except BaseException:
        _remove_partial(partial)  # a full disk gets its space back; a bad copy is not kept
        raise
    finally:
        source.close()
    partial.replace(target)
    _prune_backups(backup_dir, path.stem, made=target)
    log.info("backed up %s to %s", path, target)
    return target


def _damaged(path: Path, damage: str) -> str:
    return (
        f"the database {path} fails its integrity check ({damage}); no backup was made and "
        "none was removed"
    )


def _check_space(path: Path, backup_dir: Path) -> None:
    size = sum(f.stat().st_size for f in _database_files(path) if f.exists())
    needed = size + SPACE_MARGIN_BYTES
    free = shutil.disk_usage(backup_dir).free
    if free < needed:
        refused = NotEnoughSpace(backup_dir, needed, free)
        log.info("no backup of %s: %s", path, refused.strerror)  # the caller says it louder
        raise refused


def _database_files(path: Path) -> list[Path]:
    """The database file and the write-ahead log and shared-memory files beside it."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def database_damage(path: Path, *, full: bool = False) -> str | None:
    """What is wrong with a kapsession SQLite file, or None: SQLite's `quick_check` (or, with
    `full`, `integrity_check`, which also compares every index with its table), then a
    kapsession schema. Opened read-only: a closed file (a backup) immutable, so nothing is
    written beside it; a live one (with its write-ahead log) as it stands."""
    live = path.with_name(path.name + "-wal").exists()
    mode = "mode=ro" if live else "mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?{mode}", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        pragma = "integrity_check" if full else "quick_check"
        answers = [str(row[0]) for row in connection.execute(f"PRAGMA {pragma}")]
        if answers != ["ok"]:
            lines = [line for a in answers for line in a.splitlines() if not line.startswith("*")]
            return "; ".join(lines[:3])
        tables = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()[0]
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        connection.close()
    return None if tables else "it holds no kapsession database"


def _make_private_file(backup_dir: Path, partial: Path) -> None:
    """The folder private, and the copy's file made empty and its user's alone whatever the
    umask, before SQLite opens it. Where that cannot be done (a read-only or full disk) SQLite
    is left to fail on the file and say why, as it always did."""
    try:
        make_private(backup_dir)
        os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE_MODE))
        make_private(partial)
    except OSError:
        pass


def _remove_partial(partial: Path) -> None:
    for leftover in (partial, partial.with_name(partial.name + "-journal")):
        if not leftover.exists():  # unlink would fail on a read-only disk even then
            continue
        try:
            leftover.unlink()
        except OSError:
            log.warning("cannot remove the unfinished backup %s", leftover)


def list_backups(backup_dir: Path, stem: str) -> list[Path]:
    """Backups of the database named `stem`, oldest first: `<stem>-<time>Z-<label>.sqlite3`,
    and only those (the training database's, `kapsession-training-…`, share the folder)."""
    if not backup_dir.is_dir():
        return []
    name = re.compile(re.escape(stem) + r"-\d{8}T\d{6}Z-[^/]*\.sqlite3")
    return sorted(p for p in backup_dir.glob(f"{stem}-*Z-*.sqlite3") if name.fullmatch(p.name))


def _prune_backups(backup_dir: Path, stem: str, *, made: Path) -> None:
    """Remove the backups `keep` does not keep; never `made`, the good one just made (a clock
    set wrong once may have named older backups as if they were newer)."""
    backups = list_backups(backup_dir, stem)
    kept = set(keep(backups, stem)) | {made}
    for old in backups:
        if old not in kept:
            old.unlink(missing_ok=True)


def keep(backups: Sequence[Path], stem: str) -> list[Path]:
    """Which of `backups` (oldest first) are kept: the `BACKUPS_KEPT` newest, and the newest of
    each of the `WEEKS_KEPT` ISO weeks up to the newest backup's."""
    if not backups:
        return []
    kept = list(backups[-BACKUPS_KEPT:])
    times = {b: _backup_time(b, stem) for b in backups}
    newest_week = _week_start(times[backups[-1]])
    oldest_week = newest_week - timedelta(weeks=WEEKS_KEPT - 1)
    newest_of_week: dict[datetime, Path] = {}
    for backup in backups:  # oldest first: the last one seen in a week is its newest
        week = _week_start(times[backup])
        if week >= oldest_week:
            newest_of_week[week] = backup
    return sorted(set(kept) | set(newest_of_week.values()), key=lambda b: (times[b], b.name))


def _week_start(at: datetime) -> datetime:
    """Monday 00:00 UTC of `at`'s ISO week."""
    day = at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def newest_good_backup(backup_dir: Path, stem: str) -> Path | None:
    """The newest backup that passes a full check now (a newer one may have been damaged
    since it was made)."""
    for backup in reversed(list_backups(backup_dir, stem)):
        if database_damage(backup, full=True) is None:
            return backup
    return None


def copy_to_second_location(
    backup: Path, location: Path, stem: str, *, host: str | None = None
) -> Path:
    """Copy a checked backup into `<location>/<this laptop's name>/`, check the copy
    (`integrity_check`), then prune that folder as the first. `location` must be there already
    (`SecondLocationProblem` otherwise, as for a folder that cannot be written or is full); an
    unfinished or bad copy is removed."""
    if not location.is_dir():
        raise SecondLocationProblem(
            f"the second backup location {location} is not there (is the USB disk plugged in, "
            "the clinic share connected?)"
        )
    folder = location / _folder_name(host or socket.gethostname())
    target = folder / backup.name
    partial = target.with_suffix(".partial")
    try:
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        needed = backup.stat().st_size + SPACE_MARGIN_BYTES
        free = shutil.disk_usage(folder).free
        if free < needed:
            raise NotEnoughSpace(folder, needed, free)
        _make_private_file(folder, partial)
        with backup.open("rb") as source, partial.open("r+b") as copy:
            shutil.copyfileobj(source, copy, 1024**2)
            copy.flush()
            os.fsync(copy.fileno())
        damage = database_damage(partial, full=True)
        if damage is not None:
            raise SecondLocationProblem(
                f"the copy in the second backup location {folder} fails its check ({damage}): "
                "its disk may be failing"
            )
        partial.replace(target)
    except OSError as exc:
        _remove_partial(partial)
        reason = exc.strerror or str(exc)
        if isinstance(exc, NotEnoughSpace):
            reason = f"its disk is full ({exc.room})"
        elif exc.errno == errno.ENOSPC:
            reason = "its disk is full"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = "it cannot be written (no permission, or a read-only disk)"
        raise SecondLocationProblem(
            f"no copy was made in the second backup location {location}: {reason}"
        ) from exc
    except BaseException:
        _remove_partial(partial)
        raise
    _prune_backups(folder, stem, made=target)
    log.info("copied the backup %s to %s", backup.name, target)
    return target


def _folder_name(host: str) -> str:
    """This laptop's folder in a second location that several laptops may share."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", host.strip()) or "kapsession"


REPLACED_FOLDER = "replaced"  # in the backup folder: databases a restore put aside


def restore_backup(backup: Path, path: Path, backup_dir: Path, *, now: datetime) -> Path | None:
    """Put `backup` in the place of the database at `path`, checked: the backup passes a full
    check first (else `DamagedDatabase`, nothing changed); the database and its write-ahead log
    are moved aside, never deleted, into `<backup_dir>/replaced/` (returned; None when there was
    no database); the copy is written beside `path` and renamed into place, then checked.

    The caller makes sure no app has the database open."""
    damage = database_damage(backup, full=True)
    if damage is not None:
        raise DamagedDatabase(
            f"the backup {backup} fails its check ({damage}); nothing was changed"
        )
    when = now.astimezone(UTC)
    aside: Path | None = None
    if path.exists() or path.with_name(path.name + "-wal").exists():
        folder = backup_dir / REPLACED_FOLDER
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        aside = folder / f"{path.stem}-{when:%Y%m%dT%H%M%S}Z{path.suffix}"
        for current, kept in zip(_database_files(path), _database_files(aside), strict=True):
            if current.exists():
                _move(current, kept)
    partial = path.with_name(path.name + ".partial")
    source = sqlite3.connect(f"{backup.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        _make_private_file(path.parent, partial)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except BaseException:
        _remove_partial(partial)
        raise
    finally:
        source.close()
    partial.replace(path)
    damage = database_damage(path, full=True)
    if damage is not None:  # the disk under the copy: say so, the backup is still there
        raise DamagedDatabase(f"the restored copy {path} fails its check ({damage})")
    log.info("restored %s from %s; the replaced database is %s", path, backup, aside)
    return aside


def _move(current: Path, target: Path) -> None:
    """Rename, or copy then remove where the folders are on different disks."""
    try:
        current.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copy2(current, target)
        current.unlink()


def ensure_recent_backup(
    database: Database,
    backup_dir: Path,
    *,
    max_age: timedelta,
    now: datetime | None = None,
    label: str = "daily",
) -> Path | None:
    """Back up the SQLite file if the newest backup is older than `max_age` (named with
    `label`); None if not needed."""
    path = database.file
    if path is None or not path.exists():
        return None
    when = now or datetime.now(UTC)
    backups = list_backups(backup_dir, path.stem)
    if backups:
        newest = _backup_time(backups[-1], path.stem)
        if timedelta(0) <= when - newest < max_age:  # one named ahead (a wrong clock) is no excuse
            return None
    return backup_sqlite(path, backup_dir, label, now=when)


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
