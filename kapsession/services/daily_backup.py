"""The day's backup of the SQLite file, made in the background while the app runs (QtCore).

`start()` (once the window is shown) checks at once and then every hour, so a window left open
for days still makes its daily backup. When the newest backup is older than `max_age`, a new one
is made as quiet background work (`run_task(quiet=True)`: a thread of its own at the lowest
priority, so the first start of the day is no slower than the others) with SQLite's backup API
on a read-only connection of its own. In one step, it copies a consistent snapshot of the
database: with the WAL, the app's own saves go on while it copies, and what they commit after
the snapshot is in the database, not in this copy. (Copying in several steps would start again
from the beginning after each save the app makes meanwhile.)

The UI thread never waits for it; `made` or `failed` tells it the outcome. A failure never
stops the session: it is logged and reported as a message IT can act on.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from kapsession.services.background import run_task
from kapsession.storage.backups import DamagedDatabase, NotEnoughSpace, ensure_recent_backup
from kapsession.storage.database import Database

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=1)


class MakeBackup(Protocol):
    """`ensure_recent_backup`'s signature: the backup made, or None when one is recent."""

    def __call__(
        self, database: Database, backup_dir: Path, *, max_age: timedelta, now: datetime | None
    ) -> Path | None: ...


def _wall_clock() -> datetime:
    # Real time even in training at speed: backups are named and aged by the wall clock.
    return datetime.now(UTC)


class DailyBackup(QObject):
    made = Signal(object)  # Path of the new backup
    failed = Signal(str)  # what went wrong, for the start screen and the status line

    def __init__(
        self,
        database: Database,
        backup_dir: Path,
        *,
        max_age: timedelta,
        check_every: timedelta = CHECK_EVERY,
        now: Callable[[], datetime] = _wall_clock,
        make_backup: MakeBackup = ensure_recent_backup,
        parent: QObject | None = None,
    ) -> None:
        """`make_backup` is the work done in the background (`ensure_recent_backup`)."""
        super().__init__(parent)
        self._database = database
        self._backup_dir = backup_dir
        self._max_age = max_age
        self._now = now
        self._make_backup = make_backup
        self._running = False
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.VeryCoarseTimer)
        self._timer.setInterval(int(check_every.total_seconds() * 1000))
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
        if self._running:
            return
        self._running = True
        database, folder, max_age = self._database, self._backup_dir, self._max_age
        make_backup, now = self._make_backup, self._now()
        run_task(
            lambda: make_backup(database, folder, max_age=max_age, now=now),
            on_done=self._done,
            on_failed=self._failed,
            quiet=True,  # the app and the laptop first: the first start is no slower
        )

    def _done(self, made: object) -> None:
        self._running = False
        if isinstance(made, Path):
            self.made.emit(made)

    def _failed(self, exc: Exception) -> None:
        self._running = False
        message = failure_message(exc, self._backup_dir)
        log.error("daily backup failed: %s", message, exc_info=exc)
        self.failed.emit(message)


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
