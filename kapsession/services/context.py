"""Opening the app's data: folders, database (backed up and migrated), protocols, services."""

from __future__ import annotations

import errno
import logging
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from kapsession.domain.clinic_rules import ClinicRules
from kapsession.domain.clock import Clock, SystemClock
from kapsession.paths import DATABASE_URL_ENV, Paths, ensure_writable, tighten_data
from kapsession.records.errors import StorageError
from kapsession.resources import assets_dir, note_templates_dir, protocols_dir
from kapsession.services.clinic_rules import CLINIC_FILE_NAME, load_clinic_rules
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.room_settings import RoomSettings, load_room_settings
from kapsession.services.session_note import SessionNoteService
from kapsession.services.session_service import SessionService
from kapsession.storage.backups import backup_sqlite, ensure_recent_backup
from kapsession.storage.database import Database, SchemaStatus, migrate, open_database
from kapsession.storage.database_kind import CLINICAL, TRAINING, is_training, mark_database

if TYPE_CHECKING:
    from kapsession.services.access import AccessService
    from kapsession.services.client_history import ClientHistoryService
    from kapsession.services.exports import ExportService

log = logging.getLogger(__name__)

# A backup is made when the newest is older than this: at a start, and while the app stays
# open (checked every hour). Issue 19: every 4 hours, so a damage is caught with a recent copy.
BACKUP_INTERVAL = timedelta(hours=4)


NOTE_TEMPLATES_FOLDER = "note-templates"  # the clinic's own note templates, in the data folder


@dataclass
class AppContext:
    """The opened data and every service over it, each built once (the GUI's controllers and
    the commands take them from here). The export service is built when first asked for
    (`exports`): it imports the export modules, which a start of the app does without; so are
    the staff accounts (`access`) and the clients' histories (`history`)."""

    paths: Paths
    database: Database
    catalog: ProtocolCatalog
    service: SessionService
    clock: Clock
    notes: SessionNoteService  # the session note, signing and addenda
    templates: NoteTemplateCatalog  # built-in note templates and the clinic's own
    room: RoomSettings = field(default_factory=RoomSettings)
    clinic: ClinicRules = field(default_factory=ClinicRules)  # the clinic's clinic.toml
    clinic_problem: str | None = None  # what is wrong with it (its defaults apply meanwhile)
    _exports: ExportService | None = field(default=None, init=False, repr=False)
    _training: bool | None = field(default=None, init=False, repr=False)

    @property
    def training(self) -> bool:
        """Whether the database was made as the training database (its stored marker, never
        the file's name): its exports and prints need no staff member's PIN (issue 18)."""
        if self._training is None:
            self._training = is_training(self.database)
        return self._training

    _access: AccessService | None = field(default=None, init=False, repr=False)
    _history: ClientHistoryService | None = field(default=None, init=False, repr=False)

    @property
    def history(self) -> ClientHistoryService:
        """A client's course history (the start screen's History), built when first asked for."""
        if self._history is None:
            from kapsession.services.client_history import ClientHistoryService

            self._history = ClientHistoryService(self.database)
        return self._history

    @property
    def access(self) -> AccessService:
        """Staff accounts and signing in (issue 18), over the PINs the signing uses."""
        if self._access is None:
            from kapsession.services.access import AccessService
            from kapsession.storage.audit import AuditRepository

            self._access = AccessService(
                self.service.staff, self.notes.pins, AuditRepository(self.database), self.clock
            )
        return self._access

    @property
    def exports(self) -> ExportService:
        if self._exports is None:
            from kapsession.services.exports import ExportService

            self._exports = ExportService(
                self.database, self.clock, roles=self.clinic.roles, training=self.training
            )
        return self._exports

    def close(self) -> None:
        self.database.close()


def open_context(
    paths: Paths, *, clock: Clock | None = None, daily_backup: bool = True
) -> AppContext:
    """Everything a command or the GUI needs; raises StorageError/NotWritable with a message.

    `daily_backup`: make the day's backup here, before returning, if none is recent (the
    command-line commands). The GUI passes False and makes it in the background once its
    window is shown (`services/daily_backup.py`).

    The GUI takes the same steps one at a time (`open_data`, `upgrade`, `finish_context`), so
    that its window is shown before the first and a pending upgrade runs off the UI thread."""
    opened = open_data(paths)
    try:
        if opened.upgrade_pending:
            opened = upgrade(opened)
        if daily_backup:
            try:
                ensure_recent_backup(opened.database, paths.backup_dir, max_age=BACKUP_INTERVAL)
            except (OSError, sqlite3.Error, StorageError) as exc:  # it must not stop the command
                log.warning("daily backup failed: %s", exc)
        return finish_context(opened, clock=clock)
    except BaseException:
        opened.database.close()
        raise


@dataclass(frozen=True)
class OpenedData:
    """The data folder and the database, open and checked (not newer, ours), and not yet
    upgraded to this version's schema when `upgrade_pending`."""

    paths: Paths
    database: Database
    status: SchemaStatus

    @property
    def upgrade_pending(self) -> bool:
        return not self.status.up_to_date

    @property
    def new_database(self) -> bool:
        """An empty database: the upgrade creates the tables, with nothing to back up."""
        return self.status.current is None


def open_data(paths: Paths) -> OpenedData:
    """The data folder, made writable, and the database opened without changing it: a database
    written by a newer kapsession, or one that is not kapsession's, is refused here
    (StorageError/NotWritable with a message). Quick: no backup and no upgrade yet."""
    ensure_writable(paths.data_dir)
    tightened = tighten_data(paths)
    if tightened:
        log.info("made %d files and folders of the data folder private", len(tightened))
    check_database_url(paths.database_url)
    database = open_database(paths.database_url, backup_dir=paths.backup_dir, upgrade=False)
    try:
        status = database.schema_status()
    except BaseException:
        database.close()
        raise
    return OpenedData(paths=paths, database=database, status=status)


def upgrade(opened: OpenedData, *, now: datetime | None = None) -> OpenedData:
    """Back up an older SQLite database, then upgrade it to this version's schema (what
    `open_database` does when it upgrades); the same data, up to date. Slow work: any thread
    may run it, nothing else may use the database meanwhile. A failure (a full disk, an
    unreadable file) raises StorageError with a message; the database is left as it was (the
    upgrade is one transaction)."""
    path = opened.database.file
    try:
        if path is not None and not opened.new_database:
            backup_sqlite(
                path, opened.paths.backup_dir, f"before-upgrade-to-{opened.status.head}", now=now
            )
        migrate(opened.database)
        if opened.new_database:  # made now: what it holds is said once, in the data (issue 18)
            mark_database(
                opened.database,
                TRAINING if opened.paths.training else CLINICAL,
                at=now or datetime.now(UTC),
            )
        return replace(opened, status=opened.database.schema_status())
    except StorageError:
        raise
    except (OSError, sqlite3.Error, DBAPIError) as exc:
        log.exception("the database upgrade failed")
        raise StorageError(_upgrade_problem(exc, opened.paths.backup_dir)) from exc


def _upgrade_problem(exc: BaseException, backup_dir: Path) -> str:
    reason = str(getattr(exc, "orig", None) or exc)  # the driver's words, not SQLAlchemy's SQL
    text = reason.lower()
    full = (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or any(
        words in text for words in ("disk is full", "no space left", "diskfull")
    )
    if full:
        return (
            "kapsession could not update the database to this version: the laptop's disk is "
            "full. The database was not changed. Free some disk space (backups are kept in "
            f"{backup_dir}), then start kapsession again."
        )
    return (
        f"kapsession could not update the database to this version ({reason}). The database was "
        "not changed. Run `kapsession doctor` and tell your IT contact."
    )


def finish_context(opened: OpenedData, *, clock: Clock | None = None) -> AppContext:
    """The context over an opened, up-to-date database: protocols, room settings, services."""
    if opened.upgrade_pending:
        raise RuntimeError("upgrade(opened) first: the database is not at this version's schema")
    catalog = ProtocolCatalog(protocols_dir())
    database = opened.database
    clock = clock or SystemClock()
    clinic, clinic_problem = load_clinic_rules(
        assets_dir() / CLINIC_FILE_NAME, opened.paths.data_dir
    )
    service = SessionService(
        database, catalog, clinic.roles, consent_valid_days=clinic.consent_valid_days
    )
    return AppContext(
        paths=opened.paths,
        database=database,
        catalog=catalog,
        service=service,
        clock=clock,
        notes=SessionNoteService(database, clock, checkins=service.checkins, roles=clinic.roles),
        templates=NoteTemplateCatalog(
            note_templates_dir(), opened.paths.data_dir / NOTE_TEMPLATES_FOLDER
        ),
        room=load_room_settings(opened.paths.data_dir),
        clinic=clinic,
        clinic_problem=clinic_problem,
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
