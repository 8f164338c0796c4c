"""Opening the data in steps, as the GUI does behind its first frame: `open_data` (quick, changes
nothing), `upgrade` (the backup, then the migration), `finish_context` (the services).

On a real data folder in tmp_path holding a frozen database of the first schema.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from kapsession.paths import Paths, resolve_paths
from kapsession.services.context import finish_context, open_data, upgrade
from kapsession.storage.backups import list_backups
from kapsession.storage.database import HEAD_REVISION

OLD_DATABASE = Path(__file__).resolve().parents[1] / "storage" / "fixtures" / "schema-0001.sqlite3"


def schema_of(database: Path) -> str:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        ((version,),) = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        return str(version)
    finally:
        connection.close()


@pytest.fixture
def old_data(tmp_path: Path) -> Paths:
    """A data folder whose database has the first schema."""
    paths = resolve_paths(data_dir=tmp_path / "data", environ={})
    paths.data_dir.mkdir(parents=True)
    shutil.copyfile(OLD_DATABASE, paths.data_dir / "kapsession.sqlite3")
    return paths


def test_opening_an_older_database_changes_nothing_and_says_an_upgrade_is_pending(
    old_data: Paths,
) -> None:
    # When the data folder is opened
    opened = open_data(old_data)
    try:
        # Then the upgrade is pending, nothing was backed up or migrated yet
        assert opened.upgrade_pending
        assert not opened.new_database
        assert schema_of(old_data.data_dir / "kapsession.sqlite3") == "0001"
        assert list_backups(old_data.backup_dir, "kapsession") == []
        # And the services cannot be built over it before the upgrade
        with pytest.raises(RuntimeError, match="upgrade"):
            finish_context(opened)
    finally:
        opened.database.close()


def test_the_upgrade_backs_up_first_then_migrates_and_the_services_open(old_data: Paths) -> None:
    # Given the older database, opened
    opened = open_data(old_data)
    try:
        # When it is upgraded (as the GUI does off its UI thread)
        upgraded = upgrade(opened)
        # Then it is at this version's schema, and a backup of the old one was made first
        assert not upgraded.upgrade_pending
        assert schema_of(old_data.data_dir / "kapsession.sqlite3") == HEAD_REVISION
        (backup,) = list_backups(old_data.backup_dir, "kapsession")
        assert backup.name.endswith(f"-before-upgrade-to-{HEAD_REVISION}.sqlite3")
        assert schema_of(backup) == "0001"
        # And the services open over it and read the old data
        context = finish_context(upgraded)
        assert [c.family_name for c in context.service.clients.search("")] == ["Fischer"]
    finally:
        opened.database.close()


def test_a_new_database_is_created_by_the_upgrade_with_nothing_to_back_up(
    tmp_path: Path,
) -> None:
    paths = resolve_paths(data_dir=tmp_path / "data", environ={})
    opened = open_data(paths)
    try:
        assert opened.upgrade_pending and opened.new_database
        upgraded = upgrade(opened)
        assert not upgraded.upgrade_pending
        assert schema_of(paths.data_dir / "kapsession.sqlite3") == HEAD_REVISION
        assert list_backups(paths.backup_dir, "kapsession") == []
    finally:
        opened.database.close()
