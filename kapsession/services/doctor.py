"""`kapsession doctor`: is this laptop ready for a session? Read-only checks with advice."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy.exc import ArgumentError

from kapsession.paths import NotWritable, Paths, ensure_writable, tighten_data
from kapsession.records.errors import StorageError
from kapsession.resources import protocols_dir
from kapsession.services.context import check_database_url
from kapsession.services.protocols import ProtocolCatalog
from kapsession.storage.backups import database_damage, list_backups, newest_good_backup
from kapsession.storage.database import Database, create_database_engine, sqlite_file
from kapsession.storage.sessions import SessionRepository

DISK_FAIL_BYTES = 200 * 1024**2
DISK_WARN_BYTES = 1024**3
BACKUP_WARN_DAYS = 7


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def run_checks(paths: Paths, *, now: datetime | None = None) -> list[Check]:
    when = now or datetime.now(UTC)
    checks = [_data_dir(paths), _log_dir(paths), _disk(paths)]
    database_check, session_count = _database(paths)
    checks.append(database_check)
    checks.append(_backups(paths, session_count, when))
    checks.append(_protocols())
    checks.append(_room(paths))
    checks.extend(_audio())
    checks.append(_private(paths))
    return checks


def _data_dir(paths: Paths) -> Check:
    try:
        ensure_writable(paths.data_dir)
    except NotWritable as exc:
        return Check("data folder", Status.FAIL, str(exc))
    return Check("data folder", Status.OK, f"{paths.data_dir} is writable")


def _log_dir(paths: Paths) -> Check:
    try:
        ensure_writable(paths.log_dir)
    except NotWritable as exc:
        return Check("log folder", Status.WARN, str(exc))
    return Check("log folder", Status.OK, f"logging to {paths.log_file}")


def _private(paths: Paths) -> Check:
    """The data folder and its files made their user's alone; what had to be is named."""
    try:
        tightened = tighten_data(paths)
    except OSError as exc:
        return Check("file permissions", Status.WARN, f"cannot make the data private: {exc}")
    if not tightened:
        return Check("file permissions", Status.OK, "the data folder and its files are private")
    names = ", ".join(str(p) for p in tightened[:5]) + (" …" if len(tightened) > 5 else "")
    return Check(
        "file permissions",
        Status.WARN,
        f"other users could read {len(tightened)} files or folders; made private now: {names}",
    )


def _disk(paths: Paths) -> Check:
    folder = paths.data_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    text = f"{free / 1024**3:.1f} GB free on the data folder's disk"
    if free < DISK_FAIL_BYTES:
        return Check("free disk", Status.FAIL, text + "; free space before the next session")
    if free < DISK_WARN_BYTES:
        return Check("free disk", Status.WARN, text + "; free some space soon")
    return Check("free disk", Status.OK, text)


def _database(paths: Paths) -> tuple[Check, int | None]:
    name = "database"
    try:
        check_database_url(paths.database_url)
    except StorageError as exc:
        return Check(name, Status.FAIL, str(exc)), None
    path = sqlite_file(paths.database_url)
    if path is not None and not path.exists():
        return Check(name, Status.WARN, f"{path} does not exist yet; start kapsession once"), 0
    if path is not None and path.is_file() and path.stat().st_size == 0:
        return Check(
            name,
            Status.FAIL,
            f"{path} is empty (0 bytes): it was cut off or damaged, and kapsession will not "
            f"start on it (it never makes a new one in its place); {_restore_advice(path, paths)}"
            "; if this laptop has never recorded a session, delete the empty file instead",
        ), None
    engine = create_database_engine(paths.database_url)
    where = str(path) if path is not None else engine.url.render_as_string(hide_password=True)
    database = Database(paths.database_url, engine)
    try:
        status = database.schema_status()
        if not status.known:
            return Check(
                name,
                Status.FAIL,
                f"written by a newer kapsession (schema {status.current}, this version knows "
                f"{status.head}); install the newer version",
            ), None
        count = SessionRepository(database).count()
    except StorageError as exc:
        advice = f"; {_restore_advice(path, paths)}" if path is not None else ""
        return Check(name, Status.FAIL, f"{exc}{advice}"), None
    except Exception as exc:  # a server that is down, a damaged file: report, never crash
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        advice = (
            _restore_advice(path, paths)
            if path is not None
            else "check that the database server is running and that the URL is right"
        )
        return Check(name, Status.FAIL, f"{where} cannot be opened ({reason}); {advice}"), None
    finally:
        database.close()
    damage = database_damage(path, full=True) if path is not None else None
    if path is not None and damage is not None:
        return Check(name, Status.FAIL, _damaged(path, damage, paths)), count
    if not status.up_to_date:
        return Check(
            name,
            Status.WARN,
            f"{where}: schema {status.current or 'empty'} will be upgraded to {status.head} at "
            "the next start (a backup is made first)",
        ), count
    return Check(name, Status.OK, f"{where}: schema {status.head}, {count} sessions"), count


def _damaged(path: Path, damage: str, paths: Paths) -> str:
    """The database failed SQLite's check: what, and the backup to restore."""
    return (
        f"{path} is damaged: SQLite's check found {damage}. Record on paper until it is "
        f"restored; {_restore_advice(path, paths)}"
    )


def _restore_advice(path: Path, paths: Paths) -> str:
    """The newest backup that passes its check now, and how to put it back."""
    good = newest_good_backup(paths.backup_dir, path.stem)
    if good is None:
        return f"no good backup in {paths.backup_dir}: ask IT to recover the file"
    return (
        f"the newest good backup is {good}: close kapsession, then `kapsession restore {good}` "
        "(the file it replaces is kept)"
    )


def _backups(paths: Paths, session_count: int | None, now: datetime) -> Check:
    try:
        path = sqlite_file(paths.database_url)
    except ArgumentError:
        return Check("backups", Status.WARN, "unknown until the database URL is fixed")
    if path is None:
        return Check("backups", Status.WARN, "not checked: the server's own backups apply")
    backups = list_backups(paths.backup_dir, path.stem)
    if not backups:
        if session_count == 0:  # None: the database could not be read, so sessions may exist
            return Check("backups", Status.OK, "no sessions yet, nothing to back up")
        return Check(
            "backups", Status.WARN, f"no backup in {paths.backup_dir}; one is made at each start"
        )
    newest = backups[-1]
    age_days = (now.timestamp() - newest.stat().st_mtime) / 86400
    text = f"{len(backups)} in {paths.backup_dir}, newest {age_days:.1f} days old"
    damage = database_damage(newest)
    if damage is not None:
        return Check(
            "backups",
            Status.WARN,
            f"{text}; the newest, {newest.name}, is damaged ({damage}): move it out of the "
            "folder and start kapsession to make a fresh one",
        )
    if age_days > BACKUP_WARN_DAYS:
        return Check("backups", Status.WARN, text + "; start kapsession to make a fresh one")
    return Check("backups", Status.OK, text)


def _protocols() -> Check:
    choices, problems = ProtocolCatalog(protocols_dir()).scan()
    if not choices:
        detail = "no valid protocol file; " + "; ".join(str(p) for p in problems)
        return Check("protocols", Status.FAIL, detail)
    names = ", ".join(c.key for c in choices)
    if problems:
        return Check(
            "protocols",
            Status.WARN,
            f"{len(choices)} valid ({names}); not offered: " + "; ".join(str(p) for p in problems),
        )
    return Check("protocols", Status.OK, f"{len(choices)} valid: {names}")


def _audio() -> list[Check]:
    """libVLC loads and a sound output exists (libVLC plays silently without one)."""
    from kapsession.audio.backend import audio_output_status
    from kapsession.audio.libvlc import AudioUnavailable, load_libvlc, loaded_library_path

    try:
        instance = load_libvlc()
    except AudioUnavailable as exc:
        libvlc = Check("libVLC", Status.FAIL, f"{exc} The app runs with music disabled until then.")
    else:
        import vlc

        version = vlc.libvlc_get_version().decode(errors="replace")
        instance.release()
        where = loaded_library_path(vlc)
        libvlc = Check(
            "libVLC", Status.OK, f"libVLC {version} loads" + (f" from {where}" if where else "")
        )
    output = audio_output_status()
    sound = Check("audio output", Status.OK if output.found else Status.WARN, output.detail)
    return [libvlc, sound]


def _room(paths: Paths) -> Check:
    from kapsession.services.room_settings import (
        ROOM_FILE,
        RoomSettingsError,
        read_room_settings,
    )

    try:
        room = read_room_settings(paths.data_dir / ROOM_FILE)
    except RoomSettingsError as exc:
        return Check("room settings", Status.WARN, f"{exc}; the defaults apply until fixed")
    where = room.name or "room name not set"
    return Check("room settings", Status.OK, f"{where}; music at most {room.max_volume_pct:g} %")
