"""Opening the database: engine and pragmas, version check, backup, then migrations.

The order at start-up matters: a database written by a newer kapsession is refused before
anything touches it; an older one is backed up, then upgraded by Alembic.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, PoolProxiedConnection

from kapsession.paths import PRIVATE_FILE_MODE, make_private
from kapsession.records.errors import (
    AppendOnlyViolation,
    DatabaseLocked,
    DatabaseTooNew,
    DatabaseUnreadable,
    DataDirNotWritable,
    DiskFull,
    RecordLocked,
    StorageError,
)
from kapsession.records.notes import SignedPart
from kapsession.storage.backups import backup_sqlite
from kapsession.storage.driver import DriverConnection
from kapsession.storage.entry_text import guard_writes

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session as OrmSession
    from sqlalchemy.orm import sessionmaker

log = logging.getLogger(__name__)

# The newest migration. A database already there opens without importing Alembic (about a
# fifth of a second at every start); tests/storage/test_storage_open.py checks this against
# Alembic's own head, so adding a migration without changing it fails the tests.
HEAD_REVISION = "0019"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 5000


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration, as Alembic reads it from the migration files."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (the pysqlite driver would otherwise
    # defer it and make DDL non-transactional); set durability pragmas on every connection.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    # A write transaction takes the write lock at once, so it waits (busy_timeout) instead of
    # failing half-way when another connection is writing. Sent on the driver's connection: a
    # full statement execution costs more than the BEGIN itself (a driver error, "database is
    # locked", comes out as sqlite3.Error, which Database.write/read translate like any other).
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out connection always has one
    write = connection.get_execution_options().get("kapsession_write")
    driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def create_database_engine(url: str) -> Engine:
    """An engine with kapsession's settings: WAL, synchronous=FULL and foreign keys on SQLite.
    A failed statement's error never carries its parameters (names, notes, search text: they
    would reach the log with its stack), only the SQL (`hide_parameters`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, hide_parameters=True
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def driver_message(exc: BaseException) -> str:
    """The database's own message without what it quotes from the row: only its first line
    (PostgreSQL adds DETAIL, HINT and CONTEXT lines that repeat the values, e.g. a duplicate
    record number)."""
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def log_failure(action: str, exc: BaseException) -> None:
    """`action` failed: its stack, the error's type, the database's first line and the SQL
    (without its parameters: `hide_parameters`) to the log, never the values of the row."""
    statement = getattr(exc, "statement", None)
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "%s failed: %s: %s%s\nTraceback (most recent call last):\n%s",
        action,
        type(getattr(exc, "orig", exc)).__name__,
        driver_message(exc),
        f"\n[SQL: {statement}]" if statement else "",
        stack.rstrip(),
    )


# What the refusals of 0018 (messages starting "signed record:") say in words.
_SIGNED_PEOPLE = {
    "signed record: the participants": (
        "This session has a signed part: who took part in it cannot be changed. Nothing was "
        "changed; add an addendum to say what is wrong."
    ),
    "signed record: the name, date of birth": (
        "This client is in a signed session record: their name, date of birth and record "
        "number cannot be changed. Nothing was changed; add an addendum to the signed record "
        "to say what is wrong."
    ),
    "signed record: the name, role": (
        "This staff member has signed records: their name, role and credentials cannot be "
        "changed. Nothing was changed."
    ),
    "signed record: a pin": "A PIN is changed by its owner, never removed. Nothing was changed.",
}


def translate_error(exc: BaseException, action: str = "save") -> StorageError:
    """Turn a driver error into a message staff can act on. The stack goes to the log."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "append-only" in text:
        return AppendOnlyViolation(
            "Saved entries cannot be changed or deleted. Add a correction with a reason instead."
        )
    for part in SignedPart:
        if f"the {part} part of this session is signed" in text:
            return RecordLocked(
                f"The {part} part of this session is signed and locked. Add an addendum instead."
            )
    if "session is signed" in text:
        return RecordLocked("This session is signed and locked. Add an addendum instead.")
    if "signed record:" in text:  # 0017: the people a signature depends on
        said = next((m for key, m in _SIGNED_PEOPLE.items() if key in text), None)
        return RecordLocked(said or "This is part of a signed record. Nothing was changed.")
    if "disk is full" in text or "no space left" in text or "diskfull" in text:
        return DiskFull(
            f"The laptop's disk is full, so the entry was NOT saved. Free some disk space, then "
            f"{action} again; what you typed is still on screen."
        )
    if "disk i/o error" in text:  # the operating system refused a read or write
        return StorageError(
            "The session database could not be read or written (a disk error: the disk may be "
            "full, failing or unplugged). Nothing was changed; free some space or check the disk, "
            f"then {action} again; `kapsession doctor` says more."
        )
    if "database is locked" in text or "database table is locked" in text:
        return DatabaseLocked(
            f"The session database is busy in another program (a second kapsession window?). "
            f"Close it, then {action} again."
        )
    if "readonly" in text or "read-only" in text or "permission denied" in text:
        return DataDirNotWritable(
            "The session database cannot be written (read-only file or folder). "
            "Ask IT to fix the permissions of the kapsession data folder."
        )
    if "not a database" in text or "malformed" in text or "unable to open" in text:
        return DatabaseUnreadable(
            "The session database file cannot be read. Nothing was changed; run "
            "`kapsession doctor` and restore from a backup if needed."
        )
    return StorageError(
        f"Could not {action}: the database reported a problem ({driver_message(exc)}). Nothing "
        "was changed; try again, and if it happens again run `kapsession doctor`."
    )


@dataclass(frozen=True)
class SchemaStatus:
    """The database's schema revision against this version's."""

    current: str | None  # None: an empty database
    head: str
    known: bool  # False: written by a newer kapsession

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


class Database:
    """An open, migrated database. Hands out short transactions to repositories: Core
    connections (`rows`), ORM sessions (`read`, `write`: SQLAlchemy's ORM is imported the first
    time one is asked for) and driver connections (`write_driver`)."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._write_engine = engine.execution_options(kapsession_write=True)
        self._sessions: tuple[sessionmaker[OrmSession], sessionmaker[OrmSession]] | None = None
        # What a driver raises, beside what SQLAlchemy raises (write_driver bypasses its wrapping).
        self._driver_errors: tuple[type[Exception], ...] = (
            DBAPIError,
            sqlite3.Error,
            engine.dialect.loaded_dbapi.Error,
        )
        self._sqlite = engine.dialect.name == "sqlite"
        # write_driver's SQLite connection, kept checked out between saves (see _keep_writer).
        self._writer: PoolProxiedConnection | None = None
        self._writer_lock = threading.Lock()
        self._writer_pools = 0  # engine.dispose() calls: a connection taken before is not kept
        event.listen(engine, "engine_disposed", self._drop_writer)
        self._refusal: str | None = None  # `refuse_writes`: why every write is refused
        guard_writes(engine)  # every text a write sends meets domain.entry_text's rule

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def file(self) -> Path | None:
        return sqlite_file(self.url)

    def _session_makers(self) -> tuple[sessionmaker[OrmSession], sessionmaker[OrmSession]]:
        """The ORM's session factories for reading and for writing, made when first needed."""
        if self._sessions is None:
            from sqlalchemy.orm import sessionmaker

            from kapsession.storage.lazy import load_orm

            load_orm()  # the mapped classes, before a session can meet them
            self._sessions = (
                sessionmaker(self.engine, expire_on_commit=False),
                sessionmaker(self._write_engine, expire_on_commit=False),
            )
        return self._sessions

    def refuse_writes(self, message: str) -> None:
        """From now on every write raises `DatabaseUnreadable(message)` before it begins, and
        nothing is written: the file failed its integrity check and must not be written over
        (it is kept for a restore, or for IT to recover). Reads go on."""
        self._refusal = message

    @property
    def writes_refused(self) -> str | None:
        """Why writes are refused, or None."""
        return self._refusal

    def _check_writable(self) -> None:
        if self._refusal is not None:
            raise DatabaseUnreadable(self._refusal)

    def prepare_orm(self) -> None:
        """Load the ORM and its mapped classes now rather than at the first ORM session."""
        self._session_makers()

    @contextmanager
    def write(self, action: str = "save") -> Iterator[OrmSession]:
        """One transaction, committed (durably) when the block ends, or nothing at all. What is
        sent at the driver's level on its connection (a correction) fails with the driver's
        own errors, translated as well."""
        self._check_writable()
        with self._translated(action), self._session_makers()[1]() as session, session.begin():
            yield session

    @contextmanager
    def write_driver(self, action: str = "save") -> Iterator[DriverConnection]:
        """`write` on a pooled connection's DBAPI connection, for the hot paths where
        SQLAlchemy's cost per statement would outweigh the statements (the check-in save): the
        same transaction (BEGIN IMMEDIATE on SQLite), durability and error messages. The caller
        sends SQL in the driver's paramstyle with values converted as the column types would."""
        self._check_writable()
        with self._translated(action):
            pooled, pools = self._take_writer()
            committed = False
            try:
                driver = pooled.driver_connection
                assert driver is not None  # a checked-out connection always has one
                if self._sqlite:
                    driver.execute("BEGIN IMMEDIATE")  # PostgreSQL: psycopg begins by itself
                try:
                    yield driver
                except BaseException:
                    _roll_back(pooled)
                    raise
                driver.commit()
                committed = True
            finally:
                self._release_writer(pooled, pools, committed)

    def _take_writer(self) -> tuple[PoolProxiedConnection, int]:
        """The connection kept from the last driver-level save, else one from the pool; and
        how many times the engine was disposed so far."""
        with self._writer_lock:
            pooled, self._writer = self._writer, None
            pools = self._writer_pools
        return (pooled if pooled is not None else self._write_engine.raw_connection()), pools

    def _release_writer(self, pooled: PoolProxiedConnection, pools: int, committed: bool) -> None:
        """After a driver-level save, keep its SQLite connection for the next one, as a program
        on raw sqlite3 keeps its connection: a pool checkout and return cost more than a
        statement (30-40 µs a save in the check-in benchmark). Kept only after a commit, one at
        a time (a save on another thread meanwhile uses the pool), and never on PostgreSQL,
        whose pool checks a connection (pre-ping) before lending it. Otherwise back to the
        pool, or closed if the engine was disposed while it was out."""
        with self._writer_lock:
            disposed = pools != self._writer_pools
            keep = committed and self._sqlite and not disposed and self._writer is None
            if keep:
                self._writer = pooled
        if keep:
            return
        if disposed:
            pooled.invalidate()
        else:
            pooled.close()  # back to the pool, which rolls back anything left open

    def _drop_writer(self, _engine: Any = None) -> None:
        """On `engine.dispose()` (and so `close()`): the kept connection is closed with the
        others, so that connections made afterwards are the only ones in use."""
        with self._writer_lock:
            pooled, self._writer = self._writer, None
            self._writer_pools += 1
        if pooled is not None:
            pooled.invalidate()

    @contextmanager
    def read(self) -> Iterator[OrmSession]:
        """An ORM session over one read transaction."""
        with self._translated("read"), self._session_makers()[0]() as session, session.begin():
            yield session

    @contextmanager
    def write_rows(self, action: str = "save") -> Iterator[Connection]:
        """`write` on a Core connection: for the writers that need no ORM (a live session's
        events, sent at the driver's level on it); the driver's own errors are translated."""
        self._check_writable()
        with self._translated(action), self._write_engine.begin() as connection:
            yield connection

    @contextmanager
    def rows(self) -> Iterator[Connection]:
        """A Core connection over one read transaction: for the reads a live session's window
        makes, which need neither the ORM nor its mapped classes (`schema.py`'s tables)."""
        with self._translated("read"), self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """A database error inside the block (SQLAlchemy's, or the driver's own from SQL sent
        at its level) as the StorageError a nurse reads; `action`: what failed ("save the
        dose", "read"), logged with its traceback."""
        try:
            yield
        except StorageError:
            raise
        except self._driver_errors as exc:
            log_failure(action, exc)
            raise translate_error(exc, action) from exc

    def schema_status(self) -> SchemaStatus:
        with self.engine.connect() as connection:
            return _schema_status(connection)

    def close(self) -> None:
        self.engine.dispose()


def _roll_back(pooled: PoolProxiedConnection) -> None:
    """Undo a failed driver-level transaction; a connection that cannot is not used again."""
    try:
        driver = pooled.driver_connection
        if driver is not None:
            driver.rollback()
    except Exception:
        log.exception("rollback failed; the connection is discarded")
        pooled.invalidate()


def _current_revision(connection: Connection) -> str | None:
    """The schema version recorded in the database (Alembic's table), None when there is none."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise DatabaseUnreadable(
            "The database records more than one schema version, which kapsession never writes. "
            "It was left untouched; restore the latest backup with IT's help."
        )
    return versions[0] if versions else None


def _schema_status(connection: Connection) -> SchemaStatus:
    current = _current_revision(connection)
    if current == HEAD_REVISION:
        return SchemaStatus(current=current, head=HEAD_REVISION, known=True)
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    head = head_revision()
    if current is None:
        tables = set(inspect(connection).get_table_names())
        if tables:
            raise DatabaseUnreadable(
                "This database file is not a kapsession database (it has other tables). "
                "It was left untouched; check the --database-url or data folder."
            )
        return SchemaStatus(current=None, head=head, known=True)
    script = ScriptDirectory.from_config(_alembic_config())
    try:
        known = script.get_revision(current) is not None
    except CommandError:
        known = False
    return SchemaStatus(current=current, head=head, known=known)


def open_database(
    url: str,
    *,
    backup_dir: Path | None,
    upgrade: bool = True,
    now: datetime | None = None,
) -> Database:
    """Open `url`, refuse a newer schema, back up an older one, then upgrade to head."""
    path = sqlite_file(url)
    if path is not None:
        _check_sqlite_file(path)
    engine = create_database_engine(url)
    # Read the schema version on a plain connection first: the engine's WAL pragma would rewrite
    # the header of a SQLite file that is then refused as not ours or too new.
    probe = (
        create_engine(
            url,
            poolclass=NullPool,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
            hide_parameters=True,
        )
        if path is not None
        else engine
    )
    try:
        with probe.connect() as connection:
            status = _schema_status(connection)
        if status.known and probe is not engine:
            with engine.connect():  # now the pragmas apply: a read-only file fails here, not later
                pass
    except StorageError:
        engine.dispose()
        raise
    except (DBAPIError, sqlite3.Error) as exc:
        engine.dispose()
        log.exception("cannot open database %s", make_url(url).render_as_string(True))
        raise translate_error(exc, "open the database") from exc
    finally:
        if probe is not engine:
            probe.dispose()
    if not status.known:
        engine.dispose()
        raise DatabaseTooNew(
            f"This database was written by a newer version of kapsession (schema "
            f"{status.current}; this version knows up to {status.head}). It was not changed. "
            "Install the newer kapsession on this laptop to open it."
        )
    database = Database(url, engine)
    if upgrade and not status.up_to_date:
        if path is not None and status.current is not None and backup_dir is not None:
            backup_sqlite(path, backup_dir, f"before-upgrade-to-{status.head}", now=now)
        migrate(database)
    return database


def _check_sqlite_file(path: Path) -> None:
    folder = path.parent
    if not folder.exists():
        try:
            folder.mkdir(parents=True)
        except OSError as exc:
            raise DataDirNotWritable(
                f"The data folder {folder} cannot be created ({exc.strerror}). "
                "Choose another folder with --data-dir or ask IT to fix its permissions."
            ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        # SQLite must create its journal files beside the database, even to open it for writing.
        raise DataDirNotWritable(
            f"The data folder {folder} cannot be written (no permission). Nothing was changed. "
            "Ask IT to fix its permissions, or choose another folder with --data-dir."
        )
    if not path.exists():
        _create_private(path)  # a new database: empty until its schema is written
        return
    if path.exists():
        try:
            with path.open("rb") as handle:
                header = handle.read(16)
        except OSError as exc:
            raise DatabaseUnreadable(
                f"The session database {path} cannot be read ({exc.strerror}). Nothing was "
                "changed. Ask IT to check the file's permissions."
            ) from exc
        if not header:  # opened, it would silently become a new, empty record
            raise DatabaseUnreadable(
                f"The session database {path} is empty (0 bytes): it was cut off or damaged. "
                "It was left untouched and no new database was made in its place. Restore the "
                "newest backup (`kapsession restore BACKUP`; `kapsession doctor` names it), or "
                "if this laptop has never recorded a session, delete the empty file."
            )
        if header != b"SQLite format 3\x00":
            raise DatabaseUnreadable(
                f"{path} is not a SQLite database (damaged or a different file). It was left "
                "untouched. Restore the latest backup with IT's help, or use another --data-dir."
            )
        if not os.access(path, os.W_OK):
            raise DataDirNotWritable(
                f"The session database {path} is read-only (no permission to write). Nothing "
                "was changed. Ask IT to fix the file's permissions."
            )


def _create_private(path: Path) -> None:
    """The new database file, empty and its user's alone whatever the umask (SQLite gives its
    WAL and shared-memory files the database's own mode)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE))
    except OSError:
        return  # SQLite says why when it tries (a read-only folder was refused already)
    make_private(path)


def migrate(database: Database) -> None:
    """Upgrade the schema to the newest revision, in one transaction where the database allows."""
    from alembic import command

    with database.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    log.info("database schema at %s", head_revision())
