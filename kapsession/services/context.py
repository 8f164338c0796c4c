"""Opening the app's data: folders, database (backed up and migrated), protocols, services."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from kapsession.domain.clock import Clock, SystemClock
from kapsession.paths import DATABASE_URL_ENV, Paths, ensure_writable
from kapsession.records.errors import StorageError
from kapsession.resources import protocols_dir
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.room_settings import RoomSettings, load_room_settings
from kapsession.services.session_service import SessionService
from kapsession.storage import append_only
from kapsession.storage.database import Database, ensure_recent_backup, open_database

log = logging.getLogger(__name__)

DAILY_BACKUP_AGE = timedelta(hours=24)


@dataclass
class AppContext:
    paths: Paths
    database: Database
    catalog: ProtocolCatalog
    service: SessionService
    clock: Clock
    room: RoomSettings = field(default_factory=RoomSettings)

    def close(self) -> None:
        self.database.close()


def open_context(
    paths: Paths, *, clock: Clock | None = None, daily_backup: bool = True
) -> AppContext:
    """Everything a command or the GUI needs; raises StorageError/NotWritable with a message.

    `daily_backup`: make the day's backup here, before returning, if none is recent (the
    command-line commands). The GUI passes False and makes it in the background once its
    window is shown (`services/daily_backup.py`)."""
    ensure_writable(paths.data_dir)
    append_only.install()
    check_database_url(paths.database_url)
    database = open_database(paths.database_url, backup_dir=paths.backup_dir)
    if daily_backup:
        try:
            ensure_recent_backup(database, paths.backup_dir, max_age=DAILY_BACKUP_AGE)
        except (OSError, sqlite3.Error, StorageError) as exc:  # it must not stop the command
            log.warning("daily backup failed: %s", exc)
    catalog = ProtocolCatalog(protocols_dir())
    return AppContext(
        paths=paths,
        database=database,
        catalog=catalog,
        service=SessionService(database, catalog),
        clock=clock or SystemClock(),
        room=load_room_settings(paths.data_dir),
    )


def check_database_url(url: str) -> None:
    """Refuse a mistyped URL or a missing driver with a message, before anything is opened."""
    try:
        make_url(url).get_dialect().import_dbapi()
    except (ArgumentError, ImportError) as exc:
        raise StorageError(_database_url_problem(url, exc)) from exc


def _database_url_problem(url: str, exc: Exception) -> str:
    """What is wrong with the URL, without showing its password."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return (
            f"The database URL is not a URL kapsession can use. Check --database-url or "
            f"{DATABASE_URL_ENV}, e.g. postgresql+psycopg://user@server/kapsession."
        )
    reason = f"its driver is not installed ({exc})" if isinstance(exc, ImportError) else str(exc)
    return (
        f"The database URL {shown} cannot be used: {reason}. Check --database-url or "
        f"{DATABASE_URL_ENV}; for PostgreSQL install kapsession with its postgres extra."
    )
