"""The window paints at once: the start screen's frame before the ORM and the services are
imported, the data behind it, a pending upgrade behind a blocking screen.

Each test starts the real app (`python -m kapsession --data-dir DIR`, offscreen) over a data
folder in tmp_path. With KAPSESSION_STARTUP_PROBE=paint the app itself reports its first frame
(which screen, which heavy modules were imported by then), the screens it showed one after the
other and the start screen once filled (`kapsession/ui/startup_probe.py`). A start that cannot
go on shows a message box: those run under answering_child.py, which prints each box and
answers it as Enter would.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLockFile
from support.filesystems import full_folder
from test_startup_probe import WAIT_S, app_env, run_probe

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.storage.backups import list_backups
from kapsession.storage.database import HEAD_REVISION
from kapsession.ui.startup import CREATING, UPDATING
from kapsession.ui.startup_probe import HEAVY, PROBE_ENV

pytestmark = pytest.mark.slow

OLD_DATABASE = Path(__file__).resolve().parents[1] / "storage" / "fixtures" / "schema-0001.sqlite3"
ANSWERING_CHILD = Path(__file__).resolve().parent / "answering_child.py"
CANNOT_OPEN = "kapsession cannot open its data"
ALREADY_OPEN = "kapsession is already open"
LOADING = "start (loading)"


def schema_of(database: Path) -> str:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        ((version,),) = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        return str(version)
    finally:
        connection.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_folder_with_clients(data_dir: Path, count: int) -> None:
    context = open_context(resolve_paths(data_dir=data_dir, environ={}), clock=FakeClock())
    try:
        for number in range(count):
            context.service.add_client("Maya", f"Fischer-{number}", at=context.clock.now())
    finally:
        context.close()


def data_folder_with_old_database(data_dir: Path) -> Path:
    """A data folder holding a database of the first schema (a frozen copy)."""
    data_dir.mkdir(parents=True)
    database = data_dir / "kapsession.sqlite3"
    shutil.copyfile(OLD_DATABASE, database)
    return database


def run_answering(
    tmp_path: Path, data_dir: Path, **env: str
) -> tuple[int, list[dict[str, Any]], str]:
    """Start the app under answering_child.py (`env` added to its environment): its exit
    status, the lines it printed (the message boxes it showed, in order), its stderr."""
    result = subprocess.run(
        [sys.executable, str(ANSWERING_CHILD), "--data-dir", str(data_dir)],
        cwd=tmp_path,
        env=app_env(tmp_path, **{PROBE_ENV: "paint", **env}),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    boxes = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.returncode, boxes, result.stderr


def test_the_start_screen_is_painted_before_the_orm_is_imported_then_its_lists_are_filled(
    tmp_path: Path,
) -> None:
    # Given a data folder with three clients
    data_dir = tmp_path / "data"
    data_folder_with_clients(data_dir, 3)
    # When the app starts
    code, line, stderr = run_probe(tmp_path, data_dir, "paint")
    # Then its first frame was the start screen, its client list saying it is loading, painted
    # before SQLAlchemy, the services, the live screen and the charts were imported
    assert code == 0, stderr
    assert line["paints_before"] >= 1
    assert line["first_frame"] == LOADING
    assert line["heavy_at_paint"] == []
    assert "sqlalchemy" in HEAVY
    # And then the same screen was filled from the database: the three clients
    assert line["screens"] == [LOADING, "start"]
    assert (line["screen"], line["clients"]) == ("start", 3)
    assert line["painted_at"] < line["filled_at"]
    # And the garbage collector, held off while it started, was back on once it was ready, on
    # the GUI thread only
    assert (line["collecting_at_paint"], line["collecting"]) == (False, True)
    assert line["collecting_on_any_thread"] is False


def test_an_older_database_is_backed_up_and_updated_behind_a_blocking_screen(
    tmp_path: Path,
) -> None:
    # Given a data folder whose database has the first schema, with one client
    data_dir = tmp_path / "data"
    database = data_folder_with_old_database(data_dir)
    # When the app starts
    code, line, stderr = run_probe(tmp_path, data_dir, "paint")
    # Then after its first frame it blocked the window with the updating screen, then showed
    # the start screen, filled from the updated database
    assert code == 0, stderr
    assert line["first_frame"] == LOADING
    assert line["heavy_at_paint"] == []
    assert line["screens"] == [LOADING, "updating", LOADING, "start"]
    assert line["busy_messages"] == [UPDATING]
    assert line["responsive_while_updating"] == [True]  # the update ran off the UI thread
    assert UPDATING == "Updating the database (a backup is made first)…"
    assert (line["screen"], line["clients"]) == ("start", 1)
    # And the database is at this version's schema, with the old one backed up first
    assert schema_of(database) == HEAD_REVISION
    (backup,) = list_backups(data_dir / "backups", "kapsession")
    assert backup.name.endswith(f"-before-upgrade-to-{HEAD_REVISION}.sqlite3")
    assert schema_of(backup) == "0001"


def test_closing_the_window_while_the_database_is_updated_ends_the_app_once_it_is_done(
    tmp_path: Path,
) -> None:
    # Given a data folder whose database has the first schema
    data_dir = tmp_path / "data"
    database = data_folder_with_old_database(data_dir)
    # When the app starts and its window is closed as soon as it shows the updating screen
    code, lines, stderr = run_answering(tmp_path, data_dir, CLOSE_WHEN_BUSY="1")
    # Then the app ended normally, without reaching the start screen
    assert code == 0, stderr
    assert lines == [{"closed": "updating"}]
    assert "Traceback" not in stderr, stderr
    # And the update was finished, not cut off: backed up, then at this version's schema
    assert schema_of(database) == HEAD_REVISION
    (backup,) = list_backups(data_dir / "backups", "kapsession")
    assert schema_of(backup) == "0001"


def test_a_new_database_is_set_up_behind_the_blocking_screen_without_a_backup(
    tmp_path: Path,
) -> None:
    # Given a data folder that does not exist yet
    data_dir = tmp_path / "data"
    # When the app starts
    code, line, stderr = run_probe(tmp_path, data_dir, "paint")
    # Then it set the database up behind the blocking screen, then showed the empty start screen
    assert code == 0, stderr
    assert line["screens"] == [LOADING, "updating", LOADING, "start"]
    assert line["busy_messages"] == [CREATING]
    assert line["responsive_while_updating"] == [True]
    assert (line["screen"], line["clients"]) == ("start", 0)
    assert schema_of(data_dir / "kapsession.sqlite3") == HEAD_REVISION
    # ... with nothing to back up before (the day's backup is made after, in the background)
    backups = list_backups(data_dir / "backups", "kapsession")
    assert not [b for b in backups if "before-upgrade" in b.name]


def test_an_update_that_fails_on_a_full_disk_says_so_and_exits_1_leaving_the_database(
    tmp_path: Path,
) -> None:
    # Given an older database whose backups folder is on a full disk
    data_dir = tmp_path / "data"
    database = data_folder_with_old_database(data_dir)
    before = digest(database)
    with full_folder(data_dir / "backups"):
        # When the app starts
        code, boxes, stderr = run_answering(tmp_path, data_dir)
    # Then it said, in the start-up message, that the disk is full and the database unchanged
    assert code == 1, stderr
    assert [box["title"] for box in boxes] == [CANNOT_OPEN], boxes
    message = boxes[0]["text"]
    assert "the laptop's disk is full" in message
    assert "Free some disk space" in message
    assert "database was not changed" in message
    assert "Traceback" not in stderr, stderr
    assert message in stderr  # the same message on the console
    # And the database is still the old one, as it was
    assert schema_of(database) == "0001"
    assert digest(database) == before


@pytest.mark.parametrize("problem", ["newer-schema", "not-kapsession"])
def test_a_database_that_cannot_be_opened_says_why_and_exits_1_untouched(
    tmp_path: Path, problem: str
) -> None:
    # Given a database written by a newer kapsession, or another program's database
    data_dir = tmp_path / "data"
    database = data_folder_with_old_database(data_dir)
    connection = sqlite3.connect(database)
    if problem == "newer-schema":
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
        expected = "newer version of kapsession"
    else:
        connection.execute("DROP TABLE alembic_version")
        expected = "not a kapsession database"
    connection.commit()
    connection.close()
    before = digest(database)
    # When the app starts
    code, boxes, stderr = run_answering(tmp_path, data_dir)
    # Then it said why in the start-up message and exited with 1, the database untouched
    assert code == 1, stderr
    assert [box["title"] for box in boxes] == [CANNOT_OPEN], boxes
    assert expected in boxes[0]["text"]
    assert "Traceback" not in stderr, stderr
    assert digest(database) == before
    assert list_backups(data_dir / "backups", "kapsession") == []


def test_a_second_app_on_the_same_data_is_refused_before_the_database_is_opened(
    tmp_path: Path,
) -> None:
    # Given a data folder whose lock another app holds (this test), with no database yet
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    lock = QLockFile(str(data_dir / "app.lock"))
    assert lock.tryLock(0)
    try:
        # When the app starts on it
        code, boxes, stderr = run_answering(tmp_path, data_dir)
    finally:
        lock.unlock()
    # Then it said it is already open and exited with 1, without opening (making) the database
    assert code == 1, stderr
    assert [box["title"] for box in boxes] == [ALREADY_OPEN], boxes
    assert not (data_dir / "kapsession.sqlite3").exists()


def test_a_data_folder_that_cannot_be_written_says_so_and_exits_1_without_a_window(
    tmp_path: Path,
) -> None:
    # Given a --data-dir that is a regular file
    not_a_folder = tmp_path / "kapsession-data.txt"
    not_a_folder.write_text("notes\n", encoding="utf-8")
    # When the app starts on it
    code, boxes, stderr = run_answering(tmp_path, not_a_folder)
    # Then it said which folder cannot be written, in the start-up message, and exited with 1
    assert code == 1, stderr
    assert [box["title"] for box in boxes] == [CANNOT_OPEN], boxes
    assert f"The folder {not_a_folder} cannot be written" in boxes[0]["text"]
    assert "Traceback" not in stderr, stderr
    assert not_a_folder.read_text(encoding="utf-8") == "notes\n"


def test_an_update_that_fails_half_way_says_so_and_leaves_the_database_as_it_was(
    tmp_path: Path,
) -> None:
    # Given an older database holding a table of the name a later migration creates (put there
    # by hand, say): the update gets half-way, then fails
    data_dir = tmp_path / "data"
    database = data_folder_with_old_database(data_dir)
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE alert (note TEXT)")
    connection.commit()
    connection.close()
    # When the app starts
    code, boxes, stderr = run_answering(tmp_path, data_dir)
    # Then it said the update failed and the database was not changed, and exited with 1
    assert code == 1, stderr
    assert [box["title"] for box in boxes] == [CANNOT_OPEN], boxes
    message = boxes[0]["text"]
    assert "could not update the database to this version (table alert already exists)" in message
    assert "database was not changed" in message
    assert "Traceback" not in stderr, stderr
    # And so it is: the first schema, whole (the update was one transaction), backed up first
    assert schema_of(database) == "0001"
    check = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        assert check.execute("SELECT count(*) FROM client").fetchone() == (1,)
        columns = [row[1] for row in check.execute("PRAGMA table_info(dose)")]
        assert "weight_kg" not in columns  # added by a migration before the one that failed
    finally:
        check.close()
    (backup,) = list_backups(data_dir / "backups", "kapsession")
    assert schema_of(backup) == "0001"
