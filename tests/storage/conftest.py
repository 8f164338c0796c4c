"""Storage test fixtures: a real SQLite file, or a fresh PostgreSQL database, for every test.

PostgreSQL comes from KAPSESSION_TEST_POSTGRES_URL when set, else from a private server started
with scripts/test-postgres.sh. Without one the PostgreSQL tests are skipped locally and FAIL
under CI=true, so a CI run can never pass without having run them.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kapsession.domain.clock import FakeClock
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.storage.database import Database, open_database
from kapsession.storage.entries import EntryRepository
from kapsession.storage.people import ClientRepository, StaffRepository
from kapsession.storage.sessions import SessionRepository

PG_URL_ENV = "KAPSESSION_TEST_POSTGRES_URL"
REPO_ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
)


def _postgres_unavailable(reason: str) -> None:
    """Skip locally; under CI a missing PostgreSQL is a failure, never a silent skip."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(
            f"PostgreSQL tests must run in CI, but PostgreSQL is unavailable: {reason}. "
            f"Set {PG_URL_ENV} or install PostgreSQL (scripts/system-deps.sh test).",
            pytrace=False,
        )
    pytest.skip(f"PostgreSQL unavailable: {reason}")


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "test-postgres.sh"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def _private_server_lock() -> Iterator[Path]:
    """Held while this process starts, joins or leaves the private server: pytest-xdist workers
    share it. Yields the file listing the processes using a server one of them started."""
    folder = Path(os.environ.get("KAPSESSION_PG_DIR", "/tmp/kapsession-pg"))
    lock_path = folder.with_name(folder.name + ".lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder.with_name(folder.name + ".users")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _users(path: Path) -> set[int]:
    """The processes still using the server this run started (dead ones dropped)."""
    alive = set()
    for line in path.read_text().split() if path.exists() else ():
        try:
            os.kill(int(line), 0)
        except (ProcessLookupError, ValueError):
            continue
        alive.add(int(line))
    return alive


def _start_private_server() -> bool:
    """Start scripts/test-postgres.sh unless it runs; True when this run started it (this
    process or another worker of it, which then stops it when the last one leaves)."""
    with _private_server_lock() as users_file:
        users = _users(users_file)
        if _script("status").returncode == 0 and not users:
            return False  # somebody else's server: theirs to stop
        if not users:
            result = _script("start")
            if result.returncode != 0:
                _postgres_unavailable(
                    f"{PG_URL_ENV} is not set and scripts/test-postgres.sh start failed: "
                    f"{result.stderr.strip()[-800:]}"
                )
        users_file.write_text(" ".join(map(str, users | {os.getpid()})))
        return True


def _leave_private_server() -> None:
    """Stop the server this run started once no other process uses it."""
    with _private_server_lock() as users_file:
        users = _users(users_file) - {os.getpid()}
        if users:
            users_file.write_text(" ".join(map(str, users)))
            return
        users_file.unlink(missing_ok=True)
        _script("stop")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A URL on which this run may CREATE and DROP databases."""
    if importlib.util.find_spec("psycopg") is None:
        _postgres_unavailable("the psycopg driver is not installed (pip install 'psycopg[binary]')")
    started_here = False
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        if not (REPO_ROOT / "scripts" / "test-postgres.sh").exists():
            _postgres_unavailable(f"{PG_URL_ENV} is unset and scripts/test-postgres.sh is missing")
        started_here = _start_private_server()
        url = _script("url").stdout.strip()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        if started_here:
            _leave_private_server()
        _postgres_unavailable(f"cannot connect to {make_url(url)!r}: {exc}")
    finally:
        engine.dispose()
    yield url
    if started_here:
        _leave_private_server()


@contextmanager
def _postgres_database(admin_url: str, template: str | None = None) -> Iterator[str]:
    """A database of its own (empty, or a copy of `template`), dropped afterwards: its URL."""
    name = f"kt_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            copy = f" TEMPLATE {template}" if template else ""
            version = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
            if template and version >= 150000:
                copy += " STRATEGY FILE_COPY"  # a small database copies faster this way
            connection.exec_driver_sql(f"CREATE DATABASE {name}{copy}")
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def fresh_postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped after the test."""
    with _postgres_database(postgres_admin_url) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> Iterator[str]:
    """A PostgreSQL database migrated to head once per run; tests get copies (much faster)."""
    with _postgres_database(postgres_admin_url) as url:
        open_database(url, backup_dir=None).close()  # closed: a template must have no sessions
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run, closed (so no WAL beside it), to copy."""
    path = tmp_path_factory.mktemp("template") / "kapsession.sqlite3"
    open_database(f"sqlite:///{path}", backup_dir=None).close()
    return path


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """Where the SQLite tests keep their database; the data folder does not exist yet."""
    return tmp_path / "data" / "kapsession.sqlite3"


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, sqlite_path: Path) -> str:
    """The URL of an empty database: a SQLite file not yet created, or an empty PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{sqlite_path}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest, sqlite_path: Path, backup_dir: Path
) -> Iterator[Database]:
    """A database at head, opened the way the application opens it.

    Both are copies of a database migrated once per run (a file; a PostgreSQL template), which
    `open_database` finds up to date; the migrations themselves are tested from empty in
    test_storage_open.py.
    """
    with ExitStack() as stack:
        if request.param == "sqlite":
            sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(request.getfixturevalue("sqlite_template"), sqlite_path)
            url = f"sqlite:///{sqlite_path}"
        else:
            template: str = request.getfixturevalue("postgres_template")
            admin: str = request.getfixturevalue("postgres_admin_url")
            url = stack.enter_context(_postgres_database(admin, template))
        db = open_database(url, backup_dir=backup_dir)
        stack.callback(db.close)
        yield db


@dataclass
class Clinic:
    """Repositories on one database plus a fake clock, with shortcuts for the usual setup."""

    db: Database
    clock: FakeClock
    staff: StaffRepository
    clients: ClientRepository
    sessions: SessionRepository
    entries: EntryRepository
    therapist: StaffRecord

    def now(self, advance_s: float = 1.0) -> datetime:
        """The fake wall clock, moved on first so that successive writes have distinct times."""
        self.clock.advance(advance_s)
        return self.clock.now()

    def add_client(self, given: str = "Maya", family: str = "Fischer", **kw: Any) -> ClientRecord:
        return self.clients.add(given, family, at=self.now(), by=self.therapist.id, **kw)

    def new_session(
        self,
        clients: Sequence[ClientRecord] | None = None,
        *,
        modality: str = "individual",
        status: str = "live",
    ) -> SessionRecord:
        """A session in `status` (planned, live or completed) for `clients` (default: a new one)."""
        chosen = list(clients) if clients is not None else [self.add_client()]
        record = self.sessions.create(
            protocol_key="sublingual-kap-3h",
            protocol_name="Sublingual KAP, 3 hours",
            protocol_version=1,
            protocol_text="schema = 1\n",
            modality=modality,
            client_ids=[c.id for c in chosen],
            at=self.now(),
            room="Room 2",
            therapist_id=self.therapist.id,
            by=self.therapist.id,
        )
        if status in ("live", "completed"):
            record = self.sessions.start(record.id, at=self.now(), by=self.therapist.id)
        if status == "completed":
            record = self.sessions.end(record.id, at=self.now(), by=self.therapist.id)
        return record


def make_clinic(db: Database) -> Clinic:
    clock = FakeClock(START)
    staff = StaffRepository(db)
    # a physician: the role rules let them monitor and be the therapist, so they sign both parts
    therapist = staff.add("Dr. Ruth Okafor", "physician", at=clock.now(), credentials="MD")
    return Clinic(
        db=db,
        clock=clock,
        staff=staff,
        clients=ClientRepository(db),
        sessions=SessionRepository(db),
        entries=EntryRepository(db),
        therapist=therapist,
    )


@pytest.fixture
def clinic(database: Database) -> Clinic:
    """Staff, repositories and a fake clock on the test's database."""
    return make_clinic(database)


@pytest.fixture
def clinic_on() -> Callable[[Database], Clinic]:
    """For tests that open their own database: `clinic_on(db)`."""
    return make_clinic
