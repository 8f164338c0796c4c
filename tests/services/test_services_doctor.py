"""`doctor`'s checks on real folders and databases: each problem named, with what to do."""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from services_support import SUBLINGUAL

from kapsession.domain.clock import FakeClock
from kapsession.paths import Paths, resolve_paths
from kapsession.resources import protocols_dir
from kapsession.services import doctor
from kapsession.services.context import open_context
from kapsession.services.doctor import Check, Status, run_checks
from kapsession.storage.database import head_revision


def by_name(checks: list[Check]) -> dict[str, Check]:
    names = [c.name for c in checks]
    assert names == [
        "data folder",
        "log folder",
        "free disk",
        "database",
        "backups",
        "protocols",
        "room settings",
        "libVLC",
        "audio output",
    ]
    return {c.name: c for c in checks}


def fails(checks: list[Check]) -> list[str]:
    return [c.name for c in checks if c.status is Status.FAIL]


def open_and_close(paths: Paths, *, sessions: int = 0) -> None:
    """Start kapsession once on `paths` (migrating and backing up), adding `sessions` sessions."""
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    ctx = open_context(paths, clock=clock)
    try:
        if sessions:
            client = ctx.service.add_client("Maya", "Fischer", at=clock.now())
        for _ in range(sessions):
            ctx.service.start_session(
                protocol_key=SUBLINGUAL,
                client_ids=[client.id],
                modality="individual",
                at=clock.now(),
            )
    finally:
        ctx.close()


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return resolve_paths(data_dir=tmp_path / "data", environ={})


def test_a_fresh_laptop_is_ready_with_a_warning_about_the_missing_database(paths: Paths) -> None:
    checks = by_name(run_checks(paths))
    assert fails(list(checks.values())) == []
    assert checks["data folder"].status is Status.OK
    assert checks["log folder"].detail == f"logging to {paths.data_dir / 'logs' / 'kapsession.log'}"
    database = checks["database"]
    assert database.status is Status.WARN
    assert database.detail == (
        f"{paths.data_dir / 'kapsession.sqlite3'} does not exist yet; start kapsession once"
    )
    assert checks["backups"].status is Status.OK
    assert checks["protocols"].status is Status.OK
    assert checks["free disk"].detail.endswith(("free on the data folder's disk", "soon"))


def test_after_the_first_start_everything_is_ok(paths: Paths) -> None:
    open_and_close(paths, sessions=2)
    checks = by_name(run_checks(paths))
    assert checks["database"].status is Status.OK
    assert checks["database"].detail == (
        f"{paths.data_dir / 'kapsession.sqlite3'}: schema {head_revision()}, 2 sessions"
    )
    assert checks["backups"].status is Status.OK
    assert checks["backups"].detail.startswith(f"1 in {paths.backup_dir}, newest 0.0 days old")
    assert checks["protocols"].detail.startswith("4 valid: ")
    assert fails(list(checks.values())) == []


def test_a_database_from_a_newer_kapsession_fails_with_what_to_do(paths: Paths) -> None:
    # Given a database that a newer kapsession has upgraded
    open_and_close(paths)
    with sqlite3.connect(paths.data_dir / "kapsession.sqlite3") as con:
        con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.close()
    shutil.rmtree(paths.backup_dir)
    # Then the database check fails, naming both schemas and the fix
    checks = by_name(run_checks(paths))
    database = checks["database"]
    assert database.status is Status.FAIL
    assert database.detail == (
        f"written by a newer kapsession (schema 9999_future, this version knows "
        f"{head_revision()}); install the newer version"
    )
    # ... and, its sessions being unknown, the missing backup is not waved through
    assert checks["backups"].status is Status.WARN


@pytest.mark.parametrize(
    ("content", "says"),
    [
        pytest.param(
            b"\x00garbage" * 600, "cannot be opened (file is not a database)", id="garbage"
        ),
        pytest.param(None, "not a kapsession database", id="other-program"),
    ],
)
def test_a_damaged_or_foreign_database_file_fails_with_a_message(
    paths: Paths, content: bytes | None, says: str
) -> None:
    db_file = paths.data_dir / "kapsession.sqlite3"
    db_file.parent.mkdir(parents=True)
    if content is None:
        with sqlite3.connect(db_file) as con:
            con.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        con.close()
    else:
        db_file.write_bytes(content)
    database = by_name(run_checks(paths))["database"]
    assert database.status is Status.FAIL
    assert says in database.detail
    assert "sqlalche.me" not in database.detail and "\n" not in database.detail


def test_an_unreachable_database_server_fails_without_showing_the_password(tmp_path: Path) -> None:
    paths = resolve_paths(
        data_dir=tmp_path,
        database_url="postgresql+psycopg://kap:s3cret@127.0.0.1:9/kapsession",
        environ={},
    )
    checks = by_name(run_checks(paths))
    database = checks["database"]
    assert database.status is Status.FAIL
    assert database.detail.startswith("postgresql+psycopg://kap:***@127.0.0.1:9/kapsession ")
    assert "check that the database server is running" in database.detail
    assert "s3cret" not in database.detail
    assert checks["backups"].detail == "the database server's own backups apply"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        pytest.param("not a url", "is not a URL kapsession can use", id="not-a-url"),
        pytest.param("nosuchdb://x/y", "nosuchdb://x/y cannot be used", id="unknown-database"),
        pytest.param(
            "mysql+mysqldb://kap:s3cret@db/kap",
            "mysql+mysqldb://kap:***@db/kap cannot be used: its driver is not installed",
            id="driver-missing",
        ),
    ],
)
def test_a_mistyped_database_url_fails_with_a_message(tmp_path: Path, url: str, says: str) -> None:
    if "mysqldb" in url and importlib.util.find_spec("MySQLdb") is not None:
        pytest.skip("the MySQLdb driver is installed here")
    paths = resolve_paths(data_dir=tmp_path, database_url=url, environ={})
    checks = by_name(run_checks(paths))
    assert checks["database"].status is Status.FAIL
    assert says in checks["database"].detail
    assert "--database-url" in checks["database"].detail
    assert "s3cret" not in checks["database"].detail


@pytest.fixture
def immutable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder even root cannot write into (`chattr +i`), made writable again afterwards."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not allowed here: {made.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.parametrize("where", ["under-a-file", "immutable-folder"])
def test_a_data_folder_that_cannot_be_written_fails(
    request: pytest.FixtureRequest, tmp_path: Path, where: str
) -> None:
    # Given a data folder that cannot be created or written
    if where == "under-a-file":
        blocker = tmp_path / "notes.txt"
        blocker.write_text("not a folder\n", encoding="utf-8")
        data_dir = blocker / "kapsession"
    else:
        data_dir = request.getfixturevalue("immutable_folder")
    paths = resolve_paths(data_dir=data_dir, environ={})
    # Then the data folder fails, naming the folder and the way out; logging only warns
    checks = by_name(run_checks(paths))
    data = checks["data folder"]
    assert data.status is Status.FAIL
    assert data.detail.startswith(f"The folder {data_dir} cannot be written (")
    assert "--data-dir" in data.detail and "KAPSESSION_DATA_DIR" in data.detail
    assert checks["log folder"].status is Status.WARN
    assert fails(list(checks.values()))[0] == "data folder"


def test_sessions_without_any_backup_warn(paths: Paths) -> None:
    open_and_close(paths, sessions=1)
    shutil.rmtree(paths.backup_dir)
    backups = by_name(run_checks(paths))["backups"]
    assert backups.status is Status.WARN
    assert backups.detail == f"no backup in {paths.backup_dir}; one is made at each start"


def test_an_old_backup_warns(paths: Paths) -> None:
    open_and_close(paths, sessions=1)
    ten_days_on = datetime.now(UTC) + timedelta(days=10)
    backups = by_name(run_checks(paths, now=ten_days_on))["backups"]
    assert backups.status is Status.WARN
    assert backups.detail.endswith("; start kapsession to make a fresh one")
    assert "newest 10.0 days old" in backups.detail


def shipped_plus_broken(folder: Path) -> Path:
    shutil.copytree(protocols_dir(), folder)
    (folder / "broken.toml").write_text('schema = 1\nkey = "broken"\nname = \n', encoding="utf-8")
    return folder


def empty(folder: Path) -> Path:
    folder.mkdir()
    (folder / "broken.toml").write_text("schema = 2\n", encoding="utf-8")
    return folder


def missing(folder: Path) -> Path:
    return folder


@pytest.mark.parametrize(
    ("make", "status", "says"),
    [
        pytest.param(
            shipped_plus_broken,
            Status.WARN,
            "4 valid (iv-infusion, intramuscular-kap, intranasal-esketamine, "
            "sublingual-kap-3h); not offered: broken.toml, line 3: ",
            id="one-broken",
        ),
        pytest.param(empty, Status.FAIL, "no valid protocol file; broken.toml", id="none-valid"),
        pytest.param(
            missing, Status.FAIL, "the protocol folder is missing; reinstall", id="folder-missing"
        ),
    ],
)
def test_the_protocol_folder_is_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, paths: Paths, make, status, says
) -> None:
    folder = make(tmp_path / "protocols")
    monkeypatch.setattr(doctor, "protocols_dir", lambda: folder)
    protocols = by_name(run_checks(paths))["protocols"]
    assert protocols.status is status
    assert says in protocols.detail


def test_libvlc_is_checked_and_reported_with_its_version(data_paths: Paths) -> None:
    # Given this machine, where libVLC is installed (the test set-up installs it)
    # When the doctor runs, Then libVLC loads and its version is named
    checks = by_name(run_checks(data_paths))
    assert checks["libVLC"].status is Status.OK
    assert "libVLC 3." in checks["libVLC"].detail


def test_a_missing_libvlc_fails_with_the_install_command(
    data_paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given libVLC does not load
    from kapsession.audio import libvlc

    def broken(_options: object = ()) -> object:
        raise libvlc.AudioUnavailable(
            f"Music cannot play: libVLC is not installed. Install it with: {libvlc.install_hint()}"
        )

    monkeypatch.setattr(libvlc, "load_libvlc", broken)
    # When the doctor runs, Then the check fails and says what to install
    check = by_name(run_checks(data_paths))["libVLC"]
    assert check.status is Status.FAIL
    assert "apt-get install libvlc5" in check.detail


def test_audio_output_is_found_from_a_sound_server_socket_or_a_card(tmp_path: Path) -> None:
    from kapsession.audio.backend import audio_output_status

    no_cards = tmp_path / "cards-none"
    no_cards.write_text("--- no soundcards ---\n", encoding="utf-8")
    runtime = tmp_path / "run"
    (runtime / "pulse").mkdir(parents=True)
    # Given a PulseAudio server named in the environment, Then it is the output
    assert audio_output_status({"PULSE_SERVER": "unix:/x"}, no_cards).found
    # Given no server socket and no card, Then it is not found and the advice says what to do
    status = audio_output_status({"XDG_RUNTIME_DIR": str(runtime)}, no_cards)
    assert not status.found and "speakers" in status.detail
    # Given a sound server socket in the runtime folder, Then it is found
    (runtime / "pulse" / "native").touch()
    assert audio_output_status({"XDG_RUNTIME_DIR": str(runtime)}, no_cards).found
    # Given only an ALSA card, Then the card is named
    card = tmp_path / "cards"
    card.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n", encoding="utf-8")
    status = audio_output_status({"XDG_RUNTIME_DIR": str(tmp_path / "none")}, card)
    assert status.found and "HDA Intel" in status.detail
