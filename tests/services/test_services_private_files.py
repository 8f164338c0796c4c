"""The data folder is its user's alone whatever the umask: the folder 0700, the database with
its WAL and shared-memory files, the backups, the log, the lock and an export's file 0600
(read with os.stat from real files under umask 022); what an older kapsession left readable is
made private when the data is opened, and `doctor` says what it changed."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from services_support import START

from kapsession import logs
from kapsession.domain.clock import FakeClock
from kapsession.export.files import write_atomically
from kapsession.paths import Paths, resolve_paths
from kapsession.services.context import open_context
from kapsession.services.doctor import Status, run_checks


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, which makes new files 0644 and folders 0755."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return resolve_paths(data_dir=tmp_path / "data", environ={})


@pytest.fixture
def app_logging(paths: Paths) -> Iterator[Path]:
    """Logging set up as the app does into the data's log folder; the root logger restored."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    logs.setup_logging(paths.log_file)
    try:
        yield paths.log_file
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)


def _data_files(paths: Paths) -> list[Path]:
    return [p for p in paths.data_dir.rglob("*")]


def test_everything_written_is_private_under_umask_022(
    umask_022: None, paths: Paths, app_logging: Path, qapp: object
) -> None:
    # Given the usual umask; When the app's data is opened the first time, a client is saved
    # (the WAL), something is logged, the window's lock taken and an export written
    from kapsession.ui.app import take_lock

    # the log and its folder, made before the data is opened
    assert (mode(app_logging), mode(paths.log_dir)) == (0o600, 0o700)
    context = open_context(paths, clock=FakeClock(START))
    try:
        context.service.add_client("Maya", "Fischer", at=START)
        logging.getLogger("kapsession").info("a line in the log")
        lock = take_lock(paths)
        assert lock is not None
        export = paths.data_dir / "exports" / "record.md"
        export.parent.mkdir()
        write_atomically(export, b"# record")
        database = context.database.file
        assert database is not None
        files = [
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
            *paths.backup_dir.iterdir(),
            app_logging,
            paths.data_dir / "app.lock",
            export,
        ]
        # Then the folders are 0700 and every file 0600
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert len(list(paths.backup_dir.iterdir())) >= 1
        for folder in (paths.data_dir, paths.backup_dir, paths.log_dir):
            assert mode(folder) == 0o700, folder
        lock.unlock()
    finally:
        context.close()


def test_what_an_older_version_left_readable_is_made_private_and_doctor_says_so(
    umask_022: None, paths: Paths
) -> None:
    # Given data written once, then left readable by everyone (as before this rule)
    open_context(paths, clock=FakeClock(START)).close()
    opened = _data_files(paths)
    for path in [paths.data_dir, *opened]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    # When `doctor` runs
    checks = {c.name: c for c in run_checks(paths)}
    # Then it says what it made private, and it is
    permissions = checks["file permissions"]
    assert permissions.status is Status.WARN
    assert "made private now" in permissions.detail and str(paths.data_dir) in permissions.detail
    assert mode(paths.data_dir) == 0o700
    for path in _data_files(paths):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    # And run again, it finds nothing more to do
    again = {c.name: c for c in run_checks(paths)}["file permissions"]
    assert again.status is Status.OK


def test_opening_the_data_makes_what_was_left_readable_private(
    umask_022: None, paths: Paths, caplog: pytest.LogCaptureFixture
) -> None:
    # Given data left readable by its group
    open_context(paths, clock=FakeClock(START)).close()
    loose = [paths.data_dir, *_data_files(paths)]
    for path in loose:
        path.chmod(0o750 if path.is_dir() else 0o640)
    # When the app opens it
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kapsession"):
        open_context(paths, clock=FakeClock(START)).close()
    # Then the folder and every file are private
    assert mode(paths.data_dir) == 0o700
    for path in _data_files(paths):
        assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    # ... and the log says how many it changed, naming none of them
    said = [r.getMessage() for r in caplog.records if "private" in r.getMessage()]
    assert said == [f"made {len(loose)} files and folders of the data folder private"]
