"""A saved entry is on disk when the save returns: a process killed right after still has it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kapsession.storage.database import Database, open_database
from kapsession.storage.entries import EntryRepository

if TYPE_CHECKING:
    from conftest import Clinic

REPO_ROOT = Path(__file__).resolve().parents[2]

# The child saves one event the way the application does, reports its id, and is SIGKILLed at
# once: no engine disposal, no checkpoint, no atexit handler runs.
CHILD = """
import os, signal, sys, uuid
from datetime import datetime
from kapsession.storage.database import open_database
from kapsession.storage.entries import EntryRepository
database = open_database(sys.argv[1], backup_dir=None)
at = datetime.fromisoformat(sys.argv[3])
saved = EntryRepository(database).add_event(
    uuid.UUID(sys.argv[2]), "marker", occurred_at=at, recorded_at=at, label=sys.argv[4]
)
os.write(1, (str(saved.id) + "\\n").encode())
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_an_entry_survives_its_process_being_killed_right_after_the_save(
    sqlite_path: Path, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a live session in a SQLite file, and no other process holding it open
    url = f"sqlite:///{sqlite_path}"
    db = open_database(url, backup_dir=None)
    clinic = clinic_on(db)
    session = clinic.new_session()
    db.close()

    saved: list[tuple[uuid.UUID, str]] = []
    for attempt in range(5):
        # When a process saves an entry and is killed the moment the save returns
        label = f"Killed after save #{attempt} — ✓"
        child = subprocess.run(
            [sys.executable, "-c", CHILD, url, str(session.id), clinic.now().isoformat(), label],
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            timeout=60,
            check=False,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr.decode()
        saved.append((uuid.UUID(child.stdout.decode().strip()), label))

        # Then a fresh open of the file finds every entry saved so far
        reopened = open_database(url, backup_dir=None)
        try:
            events = EntryRepository(reopened).events(session.id)
        finally:
            reopened.close()
        found = [(e.id, e.label) for e in events if e.kind == "marker"]
        assert found == saved
