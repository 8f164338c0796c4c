"""A new data folder's database, migrated once per test process and copied, for tests that are
not about making or upgrading a database.

Opening a new data folder (`open_context`) runs every Alembic migration and marks the database
clinical or training; that took about half a second of every services, export and UI test
that starts from an empty folder. `seed_database(paths)` instead copies a file made once per
process the same way (a real `open_context` on an empty folder, closed, so no WAL beside it)
into the folder's not yet existing database file; the test's own `open_context` then finds it
up to date, as the app finds its database at every start after the first. Nothing else of the
template folder is copied: the test's open still makes the folder private and takes its first
daily backup.

The migrations themselves, the upgrade of an older database and the first open of an empty
folder are tested from empty (tests/storage/test_storage_open.py, the migration tests,
tests/services/test_services_private_files.py, tests/services/test_daily_backup.py and
others), which call `open_context` on their own folders and never come here.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from kapsession.paths import Paths, make_private_dir, resolve_paths
from kapsession.services.context import open_context

_templates: dict[bool, Path] = {}  # training? -> the migrated, marked, closed file


def _template(training: bool) -> Path:
    if training not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="kapsession-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        paths = resolve_paths(data_dir=folder / "data", training=training, environ={})
        open_context(paths, daily_backup=False).close()
        database = _sqlite_file(paths)
        assert database is not None and database.is_file(), paths.database_url
        assert not database.with_name(database.name + "-wal").exists(), "closed with its WAL"
        _templates[training] = database
    return _templates[training]


def _sqlite_file(paths: Paths) -> Path | None:
    prefix = "sqlite:///"
    if not paths.database_url.startswith(prefix) or paths.database_url_overridden:
        return None
    return Path(paths.database_url.removeprefix(prefix))


def seed_database(paths: Paths) -> None:
    """Copy the migrated template to `paths`' SQLite file if that file does not exist yet (an
    existing database, or one at another URL, is left alone); the file private, as the app
    makes it."""
    database = _sqlite_file(paths)
    if database is None or database.exists():
        return
    template = _template(paths.training)
    make_private_dir(database.parent)
    fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, template.open("rb") as source:
        shutil.copyfileobj(source, out)
