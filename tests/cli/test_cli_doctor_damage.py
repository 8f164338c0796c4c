"""`kapsession doctor` on a damaged database (issue 19): never "Ready." for a file that fails
SQLite's `integrity_check`, whatever the damage (an index entry out of step, which only the full
check finds; a page of zeros; a file cut off; a file of 0 bytes); it says the database is
damaged and names the newest good backup and the command that puts it back. Real subprocesses
on a real data folder, damaged as a failing disk damages it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.damage import cut_off, damage_an_index_entry, zero_a_page

from kapsession.paths import resolve_paths
from kapsession.services.context import open_context

RunCli = Callable[..., subprocess.CompletedProcess[str]]  # the `run_cli` fixture (conftest)


def an_index_entry(path: Path) -> None:
    damage_an_index_entry(path, "MRN-150")


def emptied(path: Path) -> None:
    path.write_bytes(b"")
    for beside in ("-wal", "-shm"):
        path.with_name(path.name + beside).unlink(missing_ok=True)


@pytest.mark.parametrize("damage", [an_index_entry, zero_a_page, cut_off, emptied])
def test_doctor_never_says_ready_for_a_damaged_database_and_names_the_backup(
    run_cli: RunCli, data_dir: Path, damage: Callable[[Path], None]
) -> None:
    # Given a data folder with clients and a checked backup
    context = open_context(resolve_paths(data_dir=data_dir), daily_backup=False)
    try:
        for i in range(300):
            context.service.clients.add(
                "Given", f"Family{i:03d}", at=datetime.now(UTC), record_number=f"MRN-{i:03d}"
            )
    finally:
        context.close()
    made = run_cli("backup")
    assert made.returncode == 0, made.stderr
    (backup,) = (data_dir / "backups").glob("kapsession-*Z-manual.sqlite3")
    # ... then the database damaged on disk
    database = data_dir / "kapsession.sqlite3"
    damage(database)
    damaged = database.read_bytes()
    # When doctor runs
    result = run_cli("doctor")
    # Then it fails, says so plainly, and names the backup and the restore command
    assert result.returncode == 1, result.stdout
    assert "Ready." not in result.stdout and "Problems found." in result.stdout
    answer = json.loads(run_cli("doctor", "--json").stdout)
    (check,) = [c for c in answer["checks"] if c["name"] == "database"]
    assert check["status"] == "fail"
    assert f"kapsession restore {backup}" in check["detail"], check["detail"]
    # ... and it changed nothing
    assert database.read_bytes() == damaged
