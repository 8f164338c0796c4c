"""The day's backup of the SQLite file, made in the background while the app runs (QtCore).

`start()` (once the window is shown) checks at once and then every hour (or more often for a
shorter `max_age`), so a window left open for days still makes its backups; `after_signing()`
makes one at once (a signature is the record's most important write). The first check also
runs SQLite's `quick_check` on the database when no backup is due (a backup checks it anyway).
When the newest backup is older than `max_age`, a new one
is made as quiet background work (`run_task(quiet=True)`: a thread of its own at the lowest
priority, so the first start of the day is no slower than the others) with SQLite's backup API
on a read-only connection of its own. In one step, it copies a consistent snapshot of the
database: with the WAL, the app's own saves go on while it copies, and what they commit after
the snapshot is in the database, not in this copy. (Copying in several steps would start again
from the beginning after each save the app makes meanwhile.)

The UI thread never waits for it; `made` or `failed` tells it the outcome. A failure never
stops the session: it is logged and reported as a message IT can act on. Each backup made is
copied to the clinic's second location when it names one; when that copy cannot be made,
`warned` says why (the backup on this laptop is made all the same).

A database that fails its check (`DamagedDatabase`) is another matter: from then on the
database refuses every write (`Database.refuse_writes`), so the damaged file is never written
over, and `damaged` says so with the newest good backup and how to put it back.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from kapsession.services.background import run_task
from kapsession.storage.backups import (
    DamagedDatabase,
    NotEnoughSpace,
    SecondLocationProblem,
    copy_to_second_location,
    database_damage,
    ensure_recent_backup,
    newest_good_backup,
)
from kapsession.storage.database import Database

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=1)


class MakeBackup(Protocol):
    """`ensure_recent_backup`'s signature: the backup made, or None when one is recent."""

    def __call__(
        self,
        database: Database,
        backup_dir: Path,
        *,
        max_age: timedelta,
        now: datetime | None,
        label: str = "daily",
    ) -> Path | None: ...


@dataclass(frozen=True)
class _Outcome:
    made: Path | None
    second_problem: str | None = None


class _Damaged(Exception):
    """The database failed its check: what was found, and the newest good backup (found on
    the backup's own thread: checking the backups reads them whole)."""

    def __init__(self, damage: DamagedDatabase, newest_good: Path | None) -> None:
        super().__init__(str(damage))
        self.damage = damage
        self.newest_good = newest_good


def _wall_clock() -> datetime:
    # Real time even in training at speed: backups are named and aged by the wall clock.
    return datetime.now(UTC)


class DailyBackup(QObject):
    made = Signal(object)  # Path of the new backup
    failed = Signal(str)  # what went wrong, for the start screen and the status line
    warned = Signal(str)  # the backup was made, but not its copy in the second location
    damaged = Signal(str)  # the database failed its check; it now refuses writes

    def __init__(
        self,
        database: Database,
        backup_dir: Path,
        *,
        max_age: timedelta,
        check_every: timedelta = CHECK_EVERY,
        now: Callable[[], datetime] = _wall_clock,
        make_backup: MakeBackup = ensure_recent_backup,
        second_location: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`make_backup` is the work done in the background (`ensure_recent_backup`);
        `second_location` the clinic's second folder for a copy of each backup, if any."""
        super().__init__(parent)
        self._database = database
        self._backup_dir = backup_dir
        self._max_age = max_age
        self._now = now
        self._make_backup = make_backup
        self._second_location = second_location
        self._running = False
        self._signed_meanwhile = False  # a signature while a backup was being made
        self._checked_live = False  # the database's own quick check, once after the start
        self._damaged = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.VeryCoarseTimer)
        self._timer.setInterval(int(min(check_every, max_age).total_seconds() * 1000))
        self._timer.timeout.connect(self.check)

    @property
    def running(self) -> bool:
        """A backup is being made now (its outcome has not arrived yet)."""
        return self._running

    def start(self) -> None:
        """Check now, then every `check_every` while the app runs. Nothing for PostgreSQL,
        whose server keeps its own backups."""
        if self._database.file is None:
            return
        self._timer.start()
        self.check()

    def stop(self) -> None:
        """No further checks; a backup already running finishes on its own thread."""
        self._timer.stop()

    def check(self) -> None:
        """Make a backup in the background if the newest is older than `max_age`."""
        self._run(self._max_age, "daily")

    def after_signing(self) -> None:
        """Make a backup now, in the background (a signature or an addendum was stored); one
        being made already is followed by another."""
        if self._database.file is None:
            return
        if self._running:
            self._signed_meanwhile = True
            return
        self._run(timedelta(0), "signed")

    def _run(self, max_age: timedelta, label: str) -> None:
        if self._running or self._damaged:
            return
        self._running = True
        check_live, self._checked_live = not self._checked_live, True
        database, folder, second = self._database, self._backup_dir, self._second_location
        make_backup, now = self._make_backup, self._now()

        def work() -> _Outcome:
            return _back_up(
                database, folder, make_backup, max_age, now, label, second, check_live=check_live
            )

        run_task(
            work,
            on_done=self._done,
            on_failed=self._failed,
            quiet=True,  # the app and the laptop first: the first start is no slower
        )

    def _done(self, outcome: _Outcome) -> None:
        self._running = False
        if outcome.made is not None:
            self.made.emit(outcome.made)
        if outcome.second_problem is not None:
            message = second_location_message(outcome.second_problem)
            log.warning("backup: %s", outcome.second_problem)
            self.warned.emit(message)
        self._again_if_signed()

    def _failed(self, exc: Exception) -> None:
        self._running = False
        if isinstance(exc, _Damaged):
            self._damaged = True
            message = damaged_message(exc.damage, exc.newest_good)
            self._database.refuse_writes(refused_write_message(exc.newest_good))
            log.error("the database is damaged: %s", message, exc_info=exc.damage)
            self.damaged.emit(message)
            return
        message = failure_message(exc, self._backup_dir)
        log.error("daily backup failed: %s", message, exc_info=exc)
        self.failed.emit(message)
        self._again_if_signed()

    def _again_if_signed(self) -> None:
        if self._signed_meanwhile:
            self._signed_meanwhile = False
            self.after_signing()


def _back_up(
    database: Database,
    folder: Path,
    make_backup: MakeBackup,
    max_age: timedelta,
    now: datetime,
    label: str,
    second: Path | None,
    *,
    check_live: bool,
) -> _Outcome:
    """The background work: the backup if due (checked), else (once) the database's quick
    check; then the copy in the second location. A damage found raises `_Damaged`."""
    path = database.file
    assert path is not None  # start() and after_signing() run for a SQLite file only
    try:
        made = make_backup(database, folder, max_age=max_age, now=now, label=label)
        if made is None and check_live:
            damage = database_damage(path)
            if damage is not None:
                raise DamagedDatabase(f"the database {path} fails its check ({damage})")
    except DamagedDatabase as exc:
        raise _Damaged(exc, newest_good_backup(folder, path.stem)) from exc
    if made is None or second is None:
        return _Outcome(made)
    try:
        copy_to_second_location(made, second, path.stem)
    except SecondLocationProblem as exc:
        return _Outcome(made, str(exc))
    return _Outcome(made)


def second_location_message(problem: str) -> str:
    """The backup was made on this laptop, not its copy: why, and what to do."""
    return (
        f"The backup was made on this laptop, but {problem}. Tell IT; the next backup tries again."
    )


def damaged_message(damage: DamagedDatabase, newest_good: Path | None) -> str:
    """What the start screen says when the database fails its check: record on paper, and
    the backup to put back."""
    return (
        "The session database is damaged (SQLite's check found a problem), so kapsession saves "
        f"nothing more to it. Record on paper and tell IT now. {_restore_advice(newest_good)} "
        f"Details: {damage}."
    )


def refused_write_message(newest_good: Path | None) -> str:
    """What a save says once the database refuses writes."""
    return (
        "The session database is damaged, so this was NOT saved (what you typed is still on "
        f"screen). Record on paper and tell IT. {_restore_advice(newest_good)}"
    )


def _restore_advice(newest_good: Path | None) -> str:
    if newest_good is None:
        return "No good backup was found: IT must recover the file (it is left as it is)."
    return (
        f"The newest good backup is {newest_good}: close kapsession, then run `kapsession "
        f"restore {newest_good}` (the damaged file is kept)."
    )


def failure_message(exc: BaseException, backup_dir: Path) -> str:
    """What the start screen says when the day's backup failed: the reason, and what to do."""
    if isinstance(exc, DamagedDatabase):
        return (
            f"The database failed its integrity check while being backed up ({exc}). Entries "
            "still save, but tell IT today: after the session, `kapsession doctor` names the "
            "newest good backup and `kapsession restore` puts it back (the damaged file is kept)."
        )
    return (
        f"Today's backup could not be made: {_reason(exc, backup_dir)}. "
        "The session is saved; tell IT."
    )


def _reason(exc: BaseException, backup_dir: Path) -> str:
    text = str(exc)
    if backup_dir.exists() and not backup_dir.is_dir():
        return f"{backup_dir} is a file where the backup folder should be"
    if isinstance(exc, OSError) and not backup_dir.is_dir():
        return f"the backup folder {backup_dir} cannot be created ({exc.strerror or text})"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return f"the backup folder {backup_dir} is on a read-only disk"
    if backup_dir.is_dir() and not _writable(backup_dir):  # before its free space: none counts
        return f"the backup folder {backup_dir} cannot be written (no permission)"
    if isinstance(exc, NotEnoughSpace):
        return f"the disk of the backup folder {backup_dir} is full ({exc.room})"
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
        isinstance(exc, sqlite3.Error) and "disk is full" in text
    ):
        return f"the disk of the backup folder {backup_dir} is full"
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return text or type(exc).__name__


def _writable(folder: Path) -> bool:
    """Whether a file can be made in `folder`: the permission bits, and a read-only mount
    (which os.access does not see for root)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        return not os.statvfs(folder).f_flag & os.ST_RDONLY
    except OSError:
        return True
