"""Files kapsession must refuse and leave as they were: newer schema, not ours, no access."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from kapsession.records.errors import DatabaseTooNew, DatabaseUnreadable, DataDirNotWritable
from kapsession.storage.backups import list_backups
from kapsession.storage.database import open_database

REPO_ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = os.geteuid() == 0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _make_at_head(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    open_database(f"sqlite:///{path}", backup_dir=None).close()


# --- a database from a newer kapsession ---------------------------------------------------------


def test_a_sqlite_database_from_a_newer_version_is_refused_untouched(
    sqlite_path: Path, backup_dir: Path
) -> None:
    # Given a database whose schema revision this version does not know
    _make_at_head(sqlite_path)
    connection = sqlite3.connect(sqlite_path)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    before = _sha256(sqlite_path)

    # When kapsession opens it
    with pytest.raises(DatabaseTooNew) as refused:
        open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)

    # Then the nurse is told why and what to do, and the file is byte for byte the same
    message = str(refused.value)
    assert "newer version of kapsession" in message
    assert "9999" in message
    assert "not changed" in message
    assert _sha256(sqlite_path) == before
    # And no backup was written (nothing was about to change)
    assert list_backups(backup_dir, sqlite_path.stem) == []
    assert not backup_dir.exists()


@pytest.mark.postgres
def test_a_postgresql_database_from_a_newer_version_is_refused_untouched(
    fresh_postgres_url: str,
) -> None:
    # Given a PostgreSQL database at head, then stamped with an unknown revision
    open_database(fresh_postgres_url, backup_dir=None).close()
    engine = create_engine(fresh_postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
            tables = set(inspect(connection).get_table_names())

        # When kapsession opens it, Then it is refused
        with pytest.raises(DatabaseTooNew, match="newer version of kapsession"):
            open_database(fresh_postgres_url, backup_dir=None)

        # And the database is left as it was
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            assert version == [("9999",)]
            assert set(inspect(connection).get_table_names()) == tables
    finally:
        engine.dispose()


# --- files that are not a kapsession database ---------------------------------------------------


def _random_bytes(path: Path) -> None:
    path.write_bytes(bytes((i * 151 + 7) % 256 for i in range(8192)))


def _text_file(path: Path) -> None:
    path.write_text("Session notes, exported 2026-11-26\nMaya Fischer: 200 mg\n", encoding="utf-8")


def _damaged_sqlite(path: Path) -> None:
    # A SQLite header followed by garbage: what a half-copied or overwritten file looks like.
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 32)


def _other_programs_sqlite(path: Path) -> None:
    # A healthy SQLite file of another program: tables of its own, no alembic_version,
    # in SQLite's default rollback-journal mode.
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO recipes (name) VALUES ('bread')")
    connection.close()


@pytest.mark.parametrize(
    "make_file",
    [_random_bytes, _text_file, _damaged_sqlite, _other_programs_sqlite],
    ids=["random-bytes", "text", "damaged-sqlite", "other-programs-sqlite"],
)
def test_a_file_that_is_not_a_kapsession_database_is_refused_untouched(
    sqlite_path: Path, backup_dir: Path, make_file: object
) -> None:
    # Given a file where the database should be that is not a kapsession database
    sqlite_path.parent.mkdir(parents=True)
    make_file(sqlite_path)  # type: ignore[operator]
    before = _sha256(sqlite_path)

    # When kapsession opens it
    with pytest.raises(DatabaseUnreadable) as refused:
        open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)

    # Then it is refused with a message that says nothing was changed
    message = str(refused.value)
    assert "untouched" in message or "Nothing was changed" in message
    # And it really was not: same bytes, no journal or WAL left beside it, no backup
    assert _sha256(sqlite_path) == before
    assert sorted(p.name for p in sqlite_path.parent.iterdir()) == [sqlite_path.name]
    assert not backup_dir.exists()


def test_a_data_folder_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    # Given a data folder path whose parent is a regular file (so even root cannot create it)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    url = f"sqlite:///{blocker / 'data' / 'kapsession.sqlite3'}"

    # When kapsession opens a database there, Then the nurse learns which folder and what to do
    with pytest.raises(DataDirNotWritable) as refused:
        open_database(url, backup_dir=None)
    assert str(blocker / "data") in str(refused.value)
    assert "--data-dir" in str(refused.value)


# --- permissions, checked without the power to ignore them ---------------------------------------
#
# Root ignores file permissions, so when the tests run as root these cases run in a child process
# that keeps uid 0 but loses the capabilities that bypass permission checks (CAP_DAC_OVERRIDE,
# CAP_DAC_READ_SEARCH), via setpriv: the kernel then checks the mode bits as for anyone else.
# (Switching to `nobody` does not work here: the interpreter lives under /root, mode 700.)
# As an ordinary user the child simply runs as us.

CHILD = """
import sys
from pathlib import Path
from kapsession.storage.database import open_database
from kapsession.records.errors import StorageError
try:
    open_database(sys.argv[1], backup_dir=Path(sys.argv[2])).close()
except StorageError as exc:
    print(type(exc).__name__)
    print(exc)
else:
    print("opened")
"""
DROP_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@pytest.fixture
def unprivileged(tmp_path: Path) -> None:
    """Skip only if root cannot be made to obey permissions; prove that the child does."""
    if IS_ROOT and shutil.which("setpriv") is None:
        pytest.skip(
            "running as root and setpriv (util-linux) is missing, so root cannot be made "
            "to obey file permissions"
        )
    secret = tmp_path / "mode-000"
    secret.write_text("secret")
    secret.chmod(0o000)
    probe = subprocess.run(
        [*(DROP_DAC if IS_ROOT else []), sys.executable, "-c", f"open({str(secret)!r}).read()"],
        capture_output=True,
        check=False,
    )
    secret.unlink()
    assert probe.returncode != 0, "the child read a mode-000 file: these tests would prove nothing"


def _open_unprivileged(database: Path, backup_dir: Path) -> tuple[str, str]:
    """Open `database` in a child that obeys file permissions: (exception class name, message)."""
    command = [sys.executable, "-c", CHILD, f"sqlite:///{database}", str(backup_dir)]
    if IS_ROOT:
        command = [*DROP_DAC, *command]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO_ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    kind, _, message = result.stdout.partition("\n")
    return kind, message.strip()


@pytest.mark.slow
@pytest.mark.usefixtures("unprivileged")
def test_a_database_file_without_read_permission_is_reported_untouched(tmp_path: Path) -> None:
    # Given a kapsession database the current user may not read
    database = tmp_path / "kapsession.sqlite3"
    _make_at_head(database)
    database.chmod(0o000)
    before = _sha256(database)

    # When kapsession opens it as an unprivileged user
    kind, message = _open_unprivileged(database, tmp_path / "backups")

    # Then it is refused as unreadable, naming the file and the cause, and left unchanged
    assert kind == DatabaseUnreadable.__name__, message
    assert str(database) in message
    assert "Permission denied" in message
    assert _sha256(database) == before


@pytest.mark.slow
@pytest.mark.usefixtures("unprivileged")
def test_a_data_folder_in_a_folder_without_write_permission_is_reported(tmp_path: Path) -> None:
    # Given a data folder to be created inside a folder the current user may not write to
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)

    # When kapsession opens a database there
    kind, message = _open_unprivileged(locked / "data" / "kapsession.sqlite3", tmp_path / "b")

    # Then the nurse learns that the folder cannot be created, and which one
    assert kind == DataDirNotWritable.__name__, message
    assert str(locked / "data") in message
    assert not (locked / "data").exists()


@pytest.mark.slow
@pytest.mark.usefixtures("unprivileged")
def test_an_existing_data_folder_without_write_permission_is_reported(tmp_path: Path) -> None:
    # Given an existing, empty data folder the current user may not write to
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)

    # When kapsession opens a new database there
    kind, message = _open_unprivileged(data / "kapsession.sqlite3", tmp_path / "b")

    # Then it says the folder cannot be written (not that a file is damaged)
    assert kind == DataDirNotWritable.__name__, message
    assert list(data.iterdir()) == []


@pytest.mark.slow
@pytest.mark.usefixtures("unprivileged")
@pytest.mark.parametrize(
    ("folder_mode", "file_mode"),
    [(0o555, 0o644), (0o755, 0o444)],
    ids=["read-only-folder", "read-only-file"],
)
def test_an_existing_database_that_cannot_be_written_is_refused_at_start(
    tmp_path: Path, folder_mode: int, file_mode: int
) -> None:
    # Given a kapsession database at head whose folder or file may not be written
    data = tmp_path / "data"
    database = data / "kapsession.sqlite3"
    _make_at_head(database)
    database.chmod(file_mode)
    data.chmod(folder_mode)
    before = _sha256(database)

    # When kapsession opens it
    kind, message = _open_unprivileged(database, tmp_path / "b")

    # Then it is refused at start (not at the first entry of a session), and left unchanged
    assert kind == DataDirNotWritable.__name__, message
    assert "permission" in message.lower()
    assert _sha256(database) == before
