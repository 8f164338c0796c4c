"""A backup on request and putting one back: the `backup` and `restore` commands.

The backups themselves (checked copies, what is kept, the restore's steps) are
`storage/backups.py`'s; here: which database, whether it may be touched now (no app has the data
folder open: its lock, `Paths.lock_file`), and the messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QLockFile
from sqlalchemy import create_engine

from kapsession.paths import Paths
from kapsession.records.errors import StorageError
from kapsession.storage.backups import (
    SecondLocationProblem,
    backup_sqlite,
    copy_to_second_location,
    restore_backup,
)
from kapsession.storage.database import Database, sqlite_file


class BackupRefused(StorageError):
    """A backup or restore that cannot be done now, with what to do."""


@dataclass(frozen=True)
class Made:
    backup: Path
    copy: Path | None = None  # in the clinic's second location, when it names one
    warning: str | None = None  # why that copy was not made (the backup itself was)


@dataclass(frozen=True)
class Restored:
    database: Path
    backup: Path
    replaced: Path | None  # the database put aside (kept), None when there was none


def backup_now(paths: Paths, *, now: datetime | None = None) -> Made:
    """A checked backup of the SQLite database, made now, and its copy in the second location
    clinic.toml names (`[backup] second_location`), if any."""
    path = _sqlite_path(paths)
    if not path.exists():
        raise BackupRefused(f"There is no database at {path} yet: nothing to back up.")
    made = backup_sqlite(path, paths.backup_dir, "manual", now=now or datetime.now(UTC))
    second = _second_location(paths)
    if second is None:
        return Made(made)
    try:
        return Made(made, copy_to_second_location(made, second, path.stem))
    except SecondLocationProblem as exc:
        return Made(made, warning=f"the backup was made, but {exc}")


def _second_location(paths: Paths) -> Path | None:
    """clinic.toml's second location; None without one, or when the file has a mistake (the
    app and `doctor` say what it is)."""
    from kapsession.domain.clinic_rules import ClinicRulesError, read_clinic_rules
    from kapsession.services.clinic_rules import CLINIC_FILE_NAME

    clinic_file = paths.data_dir / CLINIC_FILE_NAME
    if not clinic_file.is_file():
        return None
    try:
        return read_clinic_rules(clinic_file).backup.second_location
    except ClinicRulesError:
        return None


def restore(paths: Paths, backup: Path, *, now: datetime | None = None) -> Restored:
    """Put `backup` in the place of the database: refused while kapsession is open on this data
    folder, for a file that is not a kapsession backup this version can open, and for a backup
    that fails its check; the replaced database is kept."""
    path = _sqlite_path(paths)
    if not backup.is_file():
        raise BackupRefused(f"{backup} is not a file. `kapsession doctor` names the backups.")
    if backup.resolve() == path.resolve():
        raise BackupRefused(f"{backup} is the database itself; give one of the backups.")
    _check_schema(backup)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(paths.lock_file))
    lock.setStaleLockTime(0)  # a lock left by a killed app is recognised by its process id
    if not lock.tryLock(0):
        raise BackupRefused(
            "kapsession is open on this data folder. Close it (end or leave the session "
            "first), then restore."
        )
    try:
        replaced = restore_backup(backup, path, paths.backup_dir, now=now or datetime.now(UTC))
    finally:
        lock.unlock()
    return Restored(database=path, backup=backup, replaced=replaced)


def _sqlite_path(paths: Paths) -> Path:
    path = sqlite_file(paths.database_url)
    if path is None:
        raise BackupRefused(
            "The database is on a server: its backups are the server's (ask IT); kapsession "
            "backs up and restores only its own SQLite file."
        )
    return path


def _check_schema(backup: Path) -> None:
    """A kapsession database this version can open (not written by a newer one)."""
    url = f"sqlite:///file:{backup.absolute()}?mode=ro&immutable=1&uri=true"
    # a plain engine: the app's own sets the write-ahead log on connect, a write
    database = Database(url, create_engine(url))
    try:
        status = database.schema_status()
    except Exception as exc:  # a damaged or foreign file: say so, change nothing
        raise BackupRefused(f"{backup} cannot be read as a kapsession database ({exc}).") from exc
    finally:
        database.close()
    if status.current is None:
        raise BackupRefused(f"{backup} holds no kapsession database.")
    if not status.known:
        raise BackupRefused(
            f"{backup} was written by a newer kapsession (schema {status.current}); install "
            "that version to restore it."
        )
