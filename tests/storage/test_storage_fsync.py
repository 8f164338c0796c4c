"""Durability beyond the page cache: every committed entry is synced to disk before the save
returns, so a power cut right after loses nothing the staff saw saved.

SQLite in WAL mode with synchronous=FULL syncs the write-ahead log at every commit; NORMAL
syncs it only at checkpoints and OFF never. Reading the pragma back shows the setting, not its
effect, so here a child process (fsync_child.py) commits entries through the app's own save
paths under `strace -f -y -e trace=fsync,fdatasync`, and the syncs of the `-wal` file between
two marker syncs (after opening, after the last save) are counted. PostgreSQL's durability is
the server's, so SQLite only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.real_tools import require_tool, unavailable

import kapsession
from kapsession.paths import resolve_paths
from kapsession.storage.database import sqlite_file

CHILD = Path(__file__).with_name("fsync_child.py")
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]
WAIT_S = 120.0  # a guard against a hung child, never a timing assertion
ENTRIES = 10  # check-ins, and as many notes

# One traced call, e.g. `4242  fdatasync(7</tmp/…/kapsession.sqlite3-wal>) = 0`; a call another
# thread interrupted ends in `<unfinished ...>` instead and is counted once all the same.
SYNC = re.compile(r"^(?:\d+\s+)?(?:fsync|fdatasync)\(\d+<(?P<path>[^>]*)>\)?")


def strace() -> str:
    """strace, and the right to trace a child with it (ptrace may be refused in a container)."""
    tool = require_tool("strace", "strace")
    probe = subprocess.run(
        [tool, "-f", "-o", os.devnull, sys.executable, "-c", "pass"],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    if probe.returncode != 0:
        unavailable(f"strace cannot trace a process here: {probe.stderr.strip()}")
    return tool


def child_env() -> dict[str, str]:
    """Offscreen Qt, this checkout importable, and no KAPSESSION_* pointing elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    return env


def synced_files(trace: str, after: Path, until: Path) -> list[str]:
    """The file of each sync traced between the sync of `after` and the sync of `until`."""
    synced = [m["path"] for line in trace.splitlines() if (m := SYNC.match(line))]
    assert synced.count(str(after)) == 1 and synced.count(str(until)) == 1, synced
    return synced[synced.index(str(after)) + 1 : synced.index(str(until))]


@pytest.mark.slow
def test_every_entry_commit_syncs_the_write_ahead_log_to_disk(tmp_path: Path) -> None:
    # Given a child process that opens a fresh data folder the way the app does and starts a
    # session, traced by strace for its syncs
    tool = strace()
    data_dir, marks, trace_file = tmp_path / "data", tmp_path / "marks", tmp_path / "trace"
    marks.mkdir()
    database = sqlite_file(resolve_paths(data_dir=data_dir, environ={}).database_url)
    assert database is not None
    wal = database.parent.resolve() / f"{database.name}-wal"
    # When, after opening, it commits check-ins and notes through the app's save paths
    traced = [tool, "-f", "-y", "-e", "trace=fsync,fdatasync", "-o", str(trace_file)]
    child = subprocess.run(
        [*traced, sys.executable, str(CHILD), str(data_dir), str(marks), str(ENTRIES)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=WAIT_S,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    saved = json.loads(child.stdout)
    assert saved == {"checkins": ENTRIES, "notes": ENTRIES}
    # Then every one of those commits synced the write-ahead log to disk before it returned
    synced = synced_files(
        trace_file.read_text(encoding="utf-8"),
        after=marks.resolve() / "opened",
        until=marks.resolve() / "saved",
    )
    commits = saved["checkins"] + saved["notes"]
    assert synced.count(str(wal)) >= commits, synced
