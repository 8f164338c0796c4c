"""The real app's first start of the day: the window comes first, the day's backup after it.

`python -m kapsession` runs offscreen with the start-up probe (`run_probe`, as in
test_startup_probe.py) over a data folder without a backup. The log file tells the order of
what happened; the backup folder tells what was made.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from support.filesystems import small_filesystem
from test_startup_probe import run_probe
from ui_harness import START

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.storage.backups import list_backups


@pytest.mark.slow
def test_the_first_start_of_the_day_shows_the_window_then_makes_the_backup(
    tmp_path: Path,
) -> None:
    # Given a data folder with a client and no backup yet
    data_dir = tmp_path / "data"
    paths = resolve_paths(data_dir=data_dir, environ={})
    context = open_context(paths, clock=FakeClock(START), daily_backup=False)
    try:
        context.service.add_client("Maya", "Fischer", at=START)
    finally:
        context.close()
    assert list_backups(paths.backup_dir, "kapsession") == []
    # When the app starts, shows its window and quits (the probe)
    code, line, stderr = run_probe(tmp_path, data_dir, "shown")
    assert code == 0, stderr
    assert (line["shown"], line["screen"]) == (True, "start")
    # Then the day's backup was made, and finished before the app ended: a sound copy
    (backup,) = list_backups(paths.backup_dir, "kapsession")
    assert backup.name.endswith("-daily.sqlite3")
    copy = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        assert copy.execute("PRAGMA quick_check").fetchone() == ("ok",)
        assert copy.execute("SELECT family_name FROM client").fetchall() == [("Fischer",)]
    finally:
        copy.close()
    # ... after the window was shown, not before
    log = (data_dir / "logs" / "kapsession.log").read_text(encoding="utf-8").splitlines()
    shown = [i for i, entry in enumerate(log) if entry.endswith("window shown")]
    made = [i for i, entry in enumerate(log) if entry.endswith(backup.name)]
    assert len(shown) == 1 and len(made) == 1, log
    assert shown[0] < made[0], log


@pytest.mark.slow
def test_the_app_starts_when_the_backup_folders_disk_is_too_small_for_a_backup(
    tmp_path: Path,
) -> None:
    # Given a database of a few megabytes and a backup folder on a 1 MB disk
    data_dir = tmp_path / "data"
    paths = resolve_paths(data_dir=data_dir, environ={})
    context = open_context(paths, clock=FakeClock(START), daily_backup=False)
    try:
        for i in range(3000):
            context.service.add_client("Maya", f"Fischer{i:05d}", at=START)
    finally:
        context.close()
    with small_filesystem(paths.backup_dir, "1m"):
        # When the app starts, shows its window and quits (the probe)
        code, line, stderr = run_probe(tmp_path, data_dir, "shown")
        # Then it started and showed its start screen; no backup, nothing partial left
        assert code == 0, stderr
        assert (line["shown"], line["screen"]) == (True, "start")
        assert list(paths.backup_dir.iterdir()) == []
    # ... because the backup was tried and refused for the space (the start screen's message
    # is tests/services/test_daily_backup.py's)
    log = (data_dir / "logs" / "kapsession.log").read_text(encoding="utf-8")
    assert f"not enough free space in {paths.backup_dir} for a backup" in log
    assert "Traceback" not in stderr
