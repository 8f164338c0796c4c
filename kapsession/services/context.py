"""Opening the app's data: folders, database (backed up and migrated), protocols, services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from kapsession.domain.clock import Clock, SystemClock
from kapsession.paths import Paths, ensure_writable
from kapsession.resources import protocols_dir
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.session_service import SessionService
from kapsession.storage import append_only
from kapsession.storage.database import Database, ensure_recent_backup, open_database
from kapsession.storage.errors import StorageError

log = logging.getLogger(__name__)

DAILY_BACKUP_AGE = timedelta(hours=24)


@dataclass
class AppContext:
    paths: Paths
    database: Database
    catalog: ProtocolCatalog
    service: SessionService
    clock: Clock

    def close(self) -> None:
        self.database.close()


def open_context(paths: Paths, *, clock: Clock | None = None) -> AppContext:
    """Everything a command or the GUI needs; raises StorageError/NotWritable with a message."""
    ensure_writable(paths.data_dir)
    append_only.install()
    database = open_database(paths.database_url, backup_dir=paths.backup_dir)
    try:
        ensure_recent_backup(database, paths.backup_dir, max_age=DAILY_BACKUP_AGE)
    except (OSError, StorageError) as exc:  # a failed backup must not stop a session
        log.warning("daily backup failed: %s", exc)
    catalog = ProtocolCatalog(protocols_dir())
    return AppContext(
        paths=paths,
        database=database,
        catalog=catalog,
        service=SessionService(database, catalog),
        clock=clock or SystemClock(),
    )
