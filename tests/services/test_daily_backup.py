"""The daily backup in the background (services/daily_backup.py) on a real SQLite data folder.

The backup's work runs on the application's real thread pool. Where a test must hold it (to
show that the caller has control back while it is not finished), it passes the real
`ensure_recent_backup` behind a gate the test opens: `make_backup`, the work the pool runs, is
the seam.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from services_support import START
from support.damage import damage_an_index
from support.filesystems import full_folder, read_only_folder
from support.qt_tasks import no_task_left_running

from kapsession import cli
from kapsession.domain.clock import FakeClock
from kapsession.paths import Paths, resolve_paths
from kapsession.records.errors import DatabaseUnreadable
from kapsession.services.background import QUIET_NICE, running_tasks
from kapsession.services.context import BACKUP_INTERVAL, AppContext, open_context
from kapsession.services.daily_backup import CHECK_EVERY, DailyBackup, MakeBackup
from kapsession.services.demo import DEMO_PASSPHRASE, populate
from kapsession.storage.backups import ensure_recent_backup, list_backups
from kapsession.storage.database import Database, head_revision
from kapsession.storage.models import Client

WAIT_MS = 10_000  # a guard against a hang, never a timing assertion
FAILURE_START = "Today's backup could not be made: "
FAILURE_END = ". The session is saved; tell IT."

_ = no_task_left_running
pytestmark = pytest.mark.usefixtures("no_task_left_running")


@pytest.fixture
def gui_context(data_paths: Paths, clock: FakeClock) -> Iterator[AppContext]:
    """The data folder opened as the GUI opens it: no backup made while opening."""
    context = open_context(data_paths, clock=clock, daily_backup=False)
    try:
        yield context
    finally:
        context.close()


class Gate:
    """`ensure_recent_backup` that waits for the test to open the gate, recording its thread."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()
        self.threads: list[int] = []
        self.priorities: list[int] = []

    def __call__(
        self,
        database: Database,
        backup_dir: Path,
        *,
        max_age: timedelta,
        now: datetime | None,
        label: str = "daily",
    ) -> Path | None:
        self.threads.append(threading.get_ident())
        self.priorities.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        self.reached.set()
        assert self.opened.wait(WAIT_MS / 1000), "the test never opened the gate"
        return ensure_recent_backup(database, backup_dir, max_age=max_age, now=now, label=label)


def daily_backup(
    context: AppContext,
    clock: FakeClock,
    make_backup: MakeBackup = ensure_recent_backup,
    check_every: timedelta = CHECK_EVERY,
    second_location: Path | None = None,
) -> DailyBackup:
    """The daily backup of the data folder, on the test's clock."""
    return DailyBackup(
        context.database,
        context.paths.backup_dir,
        max_age=BACKUP_INTERVAL,
        now=clock.now,
        make_backup=make_backup,
        check_every=check_every,
        second_location=second_location,
    )


def clients_in(database_file: Path) -> set[str]:
    """The family names of the clients in a database file, after checking it is a sound,
    up-to-date kapsession database."""
    connection = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA quick_check").fetchone() == ("ok",)
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version == (head_revision(),)
        return {name for (name,) in connection.execute("SELECT family_name FROM client")}
    finally:
        connection.close()


def family_names(context: AppContext) -> set[str]:
    return {c.family_name for c in context.service.clients.search("")}


# --- in the background ------------------------------------------------------------------------


def test_the_caller_has_control_back_and_saves_entries_while_the_backup_is_pending(
    qtbot: QtBot, gui_context: AppContext, clock: FakeClock
) -> None:
    # Given a data folder without a backup, and a client saved
    service = gui_context.service
    service.add_client("Maya", "Before", at=clock.now())
    assert list_backups(gui_context.paths.backup_dir, "kapsession") == []
    gate = Gate()
    backup = daily_backup(gui_context, clock, gate)
    # When the daily backup starts
    backup.start()
    # Then start() has returned while the backup's work is held on another thread, one at the
    # lowest priority (the app and the laptop first)
    assert gate.reached.wait(WAIT_MS / 1000)
    assert gate.threads != [threading.get_ident()]
    assert gate.priorities == [QUIET_NICE if sys.platform == "linux" else os.getpriority(0, 0)]
    assert backup.running and running_tasks() == 1
    # ... and meanwhile the app saves an entry, and a second check starts no second backup
    service.add_client("Maya", "While", at=clock.now())
    backup.check()
    assert list_backups(gui_context.paths.backup_dir, "kapsession") == []
    # When the backup goes on, Then it is reported on this thread
    with qtbot.waitSignal(backup.made, timeout=WAIT_MS) as made:
        gate.opened.set()
    backup.stop()
    (path,) = made.args
    assert list_backups(gui_context.paths.backup_dir, "kapsession") == [path]
    assert not backup.running and len(gate.threads) == 1
    # ... and it is a sound kapsession database with what was saved before its copy began
    assert clients_in(path) == {"Before", "While"}
    # ... while what is saved afterwards goes to the database only
    service.add_client("Maya", "After", at=clock.now())
    assert family_names(gui_context) == {"Before", "While", "After"}
    assert clients_in(path) == {"Before", "While"}


def test_a_write_in_progress_neither_blocks_the_backup_nor_gets_into_it(
    qtbot: QtBot, gui_context: AppContext, clock: FakeClock
) -> None:
    # Given a client saved, and the app in the middle of saving another (its write
    # transaction open, the row written, not yet committed)
    gui_context.service.add_client("Maya", "Committed", at=clock.now())
    backup = daily_backup(gui_context, clock)
    with gui_context.database.write() as orm:
        orm.add(Client(given_name="Maya", family_name="Open", created_at=clock.now()))
        orm.flush()
        # When the daily backup is made meanwhile, Then it completes
        with qtbot.waitSignal(backup.made, timeout=WAIT_MS) as made:
            backup.start()
        backup.stop()
    (path,) = made.args
    # ... holding the committed client only: a consistent copy, nothing half-saved in it
    assert clients_in(path) == {"Committed"}
    # ... and the write committed after it is kept in the database
    assert family_names(gui_context) == {"Committed", "Open"}


def test_a_window_left_open_past_the_backup_age_makes_the_next_backup(
    qtbot: QtBot, gui_context: AppContext, clock: FakeClock
) -> None:
    # Given the daily backup started, checking often, and its first backup made
    checks: list[datetime | None] = []

    def counted(
        database: Database,
        backup_dir: Path,
        *,
        max_age: timedelta,
        now: datetime | None,
        label: str = "daily",
    ) -> Path | None:
        checks.append(now)
        return ensure_recent_backup(database, backup_dir, max_age=max_age, now=now, label=label)

    backup = daily_backup(gui_context, clock, counted, check_every=timedelta(milliseconds=20))
    with qtbot.waitSignal(backup.made, timeout=WAIT_MS):
        backup.start()
    try:
        # When later checks come within the day, Then they make no new backup
        qtbot.waitUntil(lambda: len(checks) >= 3, timeout=WAIT_MS)
        assert len(list_backups(gui_context.paths.backup_dir, "kapsession")) == 1
        # When the app stays open past the backup age
        with qtbot.waitSignal(backup.made, timeout=WAIT_MS) as made:
            clock.advance(BACKUP_INTERVAL.total_seconds() + 60)
    finally:
        backup.stop()
    # Then the next check makes the next day's backup
    backups = list_backups(gui_context.paths.backup_dir, "kapsession")
    assert len(backups) == 2 and backups[-1] == made.args[0]
    qtbot.waitUntil(lambda: not backup.running, timeout=WAIT_MS)


# --- when it fails ----------------------------------------------------------------------------


def a_file_in_the_way(folder: Path) -> Iterator[str]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")
    yield f"{folder} is a file where the backup folder should be"


def a_read_only_folder(folder: Path) -> Iterator[str]:
    with read_only_folder(folder):
        yield f"the backup folder {folder} cannot be written"


def a_full_disk(folder: Path) -> Iterator[str]:
    with full_folder(folder):
        yield f"the disk of the backup folder {folder} is full"


@pytest.mark.parametrize("problem", [a_file_in_the_way, a_read_only_folder, a_full_disk])
def test_a_failed_backup_says_why_and_what_to_do_and_the_session_goes_on(
    qtbot: QtBot,
    gui_context: AppContext,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    problem: Callable[[Path], Iterator[str]],
) -> None:
    folder = gui_context.paths.backup_dir
    gui_context.service.add_client("Maya", "Before", at=clock.now())
    # Given a backup folder that cannot take a backup
    for reason in problem(folder):
        backup = daily_backup(gui_context, clock)
        # When the daily backup is tried
        with qtbot.waitSignal(backup.failed, timeout=WAIT_MS) as failed:
            backup.start()
        backup.stop()
        # Then it says what went wrong and what to do
        (message,) = failed.args
        assert message.startswith(FAILURE_START + reason), message
        assert message.endswith(FAILURE_END)
        # ... the log has it with its cause, and nothing half-made is left in the folder
        assert any(
            r.levelname == "ERROR" and reason in r.getMessage() and r.exc_info
            for r in caplog.records
        )
        if folder.is_dir():
            assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []
        assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []
        # ... and the session goes on: the app saves entries as before
        gui_context.service.add_client("Maya", "After", at=clock.now())
        assert family_names(gui_context) == {"Before", "After"}
        assert not backup.running


# --- who makes the day's backup ---------------------------------------------------------------


def test_the_gui_opens_its_data_without_making_the_backup(data_paths: Paths) -> None:
    context = open_context(data_paths, daily_backup=False)
    context.close()
    assert list_backups(data_paths.backup_dir, "kapsession") == []


def test_a_command_line_command_makes_the_days_backup_before_it_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a data folder without a backup
    data_dir = tmp_path / "data"
    # When a short command runs (sessions)
    args = cli.parse(["--data-dir", str(data_dir), "sessions"])
    assert cli.run(args, cli.paths_for(args)) == 0
    # Then the day's backup was made before it returned, and nothing is left running
    (made,) = list_backups(data_dir / "backups", "kapsession")
    assert clients_in(made) == set()
    assert running_tasks() == 0
    assert "No sessions yet." in capsys.readouterr().out


# --- after signing, the second location, a damaged database (issue 19) ----------------------


def test_a_signature_makes_a_backup_at_once_even_when_one_is_recent(
    qtbot: QtBot, tmp_path: Path
) -> None:
    # Given a session ready to sign, a recent backup, and the backup listening to signatures
    clock = FakeClock(START + timedelta(days=60))
    paths = resolve_paths(data_dir=tmp_path / "data", training=True, environ={})
    context = open_context(paths, clock=clock, daily_backup=False)
    try:
        session_id = populate(context.service, clock.now())[-1].id
        nurse = next(s for s in context.service.staff.active() if s.role == "nurse")
        backup = daily_backup(context, clock)
        with qtbot.waitSignal(backup.made, timeout=WAIT_MS):
            backup.start()
        context.notes.on_signed(backup.after_signing)
        (first,) = list_backups(paths.backup_dir, "kapsession-training")
        # When the nurse signs the monitoring part a minute later
        clock.advance(60)
        with qtbot.waitSignal(backup.made, timeout=WAIT_MS) as made:
            signed = context.notes.sign(session_id, nurse.id, DEMO_PASSPHRASE, ["monitoring"], None)
            assert signed.ok, signed.message
        backup.stop()
    finally:
        context.close()
    # Then a second backup was made, named for the signature, holding it
    (path,) = made.args
    assert list_backups(paths.backup_dir, "kapsession-training") == [first, path]
    assert path.name.endswith("-signed.sqlite3")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert connection.execute("SELECT count(*) FROM signature").fetchone()[0] >= 1
    finally:
        connection.close()


def test_each_backup_is_copied_to_the_second_location_and_a_missing_one_is_said(
    qtbot: QtBot, gui_context: AppContext, clock: FakeClock, tmp_path: Path
) -> None:
    gui_context.service.add_client("Maya", "Before", at=clock.now())
    usb = tmp_path / "usb"
    usb.mkdir()
    # Given a second location that is there: the backup is made, and copied into it
    backup = daily_backup(gui_context, clock, second_location=usb)
    with qtbot.assertNotEmitted(backup.warned), qtbot.waitSignal(backup.made, timeout=WAIT_MS):
        backup.start()
    backup.stop()
    qtbot.waitUntil(lambda: not backup.running, timeout=WAIT_MS)
    (made,) = list_backups(gui_context.paths.backup_dir, "kapsession")
    (copy,) = usb.glob(f"*/{made.name}")
    assert clients_in(copy) == {"Before"}
    # Given a second location that is not there (the USB disk unplugged), a day later
    clock.advance(BACKUP_INTERVAL.total_seconds() + 60)
    unplugged = tmp_path / "media" / "usb"
    backup = daily_backup(gui_context, clock, second_location=unplugged)
    warnings: list[str] = []
    backup.warned.connect(warnings.append)
    with qtbot.waitSignals([backup.made, backup.warned], timeout=WAIT_MS):
        backup.start()
    backup.stop()
    qtbot.waitUntil(lambda: not backup.running, timeout=WAIT_MS)
    # Then the backup on this laptop is made, and the warning says what is missing
    assert len(list_backups(gui_context.paths.backup_dir, "kapsession")) == 2
    (warning,) = warnings
    assert warning.startswith("The backup was made on this laptop, but the second backup")
    assert f"{unplugged} is not there" in warning
    assert not (tmp_path / "media").exists()


@pytest.mark.parametrize("due", [True, False], ids=["backup-due", "backup-recent"])
def test_a_damaged_database_refuses_every_write_and_names_the_newest_good_backup(
    qtbot: QtBot, data_paths: Paths, clock: FakeClock, due: bool
) -> None:
    # Given a database with clients and a good backup of it
    context = open_context(data_paths, clock=clock, daily_backup=False)
    for i in range(200):
        context.service.add_client("Maya", f"Client{i:03d}", at=clock.now())
    good = ensure_recent_backup(
        context.database, data_paths.backup_dir, max_age=BACKUP_INTERVAL, now=clock.now()
    )
    context.close()
    # ... then the database's file damaged on disk, and the app opened on it later
    database_file = data_paths.data_dir / "kapsession.sqlite3"
    damage_an_index(database_file)
    damaged = database_file.read_bytes()
    if due:
        clock.advance(BACKUP_INTERVAL.total_seconds() + 60)
    context = open_context(data_paths, clock=clock, daily_backup=False)
    try:
        backup = daily_backup(context, clock)
        # When the backup starts (a backup due, or only the first check's quick_check)
        with qtbot.waitSignal(backup.damaged, timeout=WAIT_MS) as found:
            backup.start()
        backup.stop()
        # Then it says the database is damaged, names the good backup and the restore command
        (message,) = found.args
        assert message.startswith("The session database is damaged")
        assert f"`kapsession restore {good}`" in message
        # ... no backup was added, none removed
        assert list_backups(data_paths.backup_dir, "kapsession") == [good]
        # ... and every write is refused with what to do; nothing is written to the file
        with pytest.raises(DatabaseUnreadable, match="this was NOT saved") as refused:
            context.service.add_client("Jonah", "After", at=clock.now())
        assert str(good) in str(refused.value)
        assert "After" not in family_names(context)
        # ... and a later check or signature makes no backup of it
        backup.check()
        backup.after_signing()
        assert not backup.running
    finally:
        context.close()
    assert database_file.read_bytes() == damaged
    assert list_backups(data_paths.backup_dir, "kapsession") == [good]
