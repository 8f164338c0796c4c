"""`doctor`'s checks on real folders and databases: each problem named, with what to do."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from services_support import SUBLINGUAL
from support.pulse import PulseSink, pulse_sink
from support.real_tools import require_tool, unavailable

from kapsession.audio.backend import audio_output_status
from kapsession.domain.clock import FakeClock
from kapsession.paths import Paths, resolve_paths
from kapsession.resources import protocols_dir
from kapsession.services import doctor
from kapsession.services.context import open_context
from kapsession.services.doctor import Check, Status, run_checks
from kapsession.services.protocols import ProtocolCatalog
from kapsession.storage.backups import list_backups
from kapsession.storage.database import head_revision

# the shipped protocols' keys, in the catalogue's order (as the doctor names them)
SHIPPED = [choice.key for choice in ProtocolCatalog(protocols_dir()).scan()[0]]

__all__ = ["pulse_sink"]  # the private PulseAudio fixture, used below


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
        "file permissions",
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
            therapist = ctx.service.add_staff("Sam Lee", "therapist", at=clock.now())
            nurse = ctx.service.add_staff("Ruth Okafor", "nurse", at=clock.now())
        for _ in range(sessions):
            ctx.service.start_session(
                protocol_key=SUBLINGUAL,
                client_ids=[client.id],
                modality="individual",
                at=clock.now(),
                therapist_id=therapist.id,
                nurse_id=nurse.id,
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
    assert checks["protocols"].detail.startswith(f"{len(SHIPPED)} valid: ")
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
    assert checks["backups"].status is Status.WARN
    assert checks["backups"].detail == "not checked: the server's own backups apply"


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
    chattr = require_tool("chattr", "e2fsprogs")
    made = subprocess.run([chattr, "+i", str(folder)], capture_output=True, check=False)
    if made.returncode != 0:
        unavailable(f"chattr +i is not allowed here: {made.stderr.decode().strip()}")
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


def folder_state(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file in `folder`: its size, modification time and bytes."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(folder.iterdir())
    }


def a_later_backup_name(backup: Path) -> Path:
    """The name the next day's backup of the same database gets."""
    stem, stamp, label = re.fullmatch(r"(.+)-(\d{8}T\d{6})Z-(.+)", backup.stem).groups()
    later = datetime.strptime(stamp, "%Y%m%dT%H%M%S") + timedelta(days=1)
    return backup.with_name(f"{stem}-{later:%Y%m%dT%H%M%S}Z-{label}{backup.suffix}")


def test_a_sound_newest_backup_is_ok_and_checking_it_writes_nothing(paths: Paths) -> None:
    # Given two starts, so two backups (the newest a copy of a database in WAL mode)
    open_and_close(paths, sessions=1)
    (newest,) = list_backups(paths.backup_dir, "kapsession")
    newer = a_later_backup_name(newest)
    shutil.copy2(newest, newer)
    assert list_backups(paths.backup_dir, "kapsession")[-1] == newer
    before = folder_state(paths.backup_dir)
    # When the doctor runs
    backups = by_name(run_checks(paths))["backups"]
    # Then the backups are OK, and the backups folder is exactly as it was (no -wal, no -shm)
    assert backups.status is Status.OK
    assert backups.detail.startswith(f"2 in {paths.backup_dir}, newest 0.0 days old")
    assert folder_state(paths.backup_dir) == before


def truncated(good: bytes) -> bytes:
    return good[: len(good) // 2]


def overwritten_in_the_middle(good: bytes) -> bytes:
    middle = len(good) // 2
    return good[:middle] + b"\xff" * 4096 + good[middle + 4096 :]


def with_an_unused_page(good: bytes) -> bytes:
    """One more page, counted in the header but used by no table: the page after the last."""
    page_size = int.from_bytes(good[16:18], "big")
    pages = int.from_bytes(good[28:32], "big")
    return good[:28] + (pages + 1).to_bytes(4, "big") + good[32:] + bytes(page_size)


def garbage(_good: bytes) -> bytes:
    return b"\x00garbage" * 600


def zero_bytes(_good: bytes) -> bytes:
    return b""


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        pytest.param(truncated, "database disk image is malformed", id="truncated"),
        pytest.param(  # SQLite's words depend on what the page in the middle holds
            overwritten_in_the_middle,
            re.compile(
                r"database disk image is malformed"
                r"|Page \d+: btreeInitPage\(\) returns error code 11"
            ),
            id="overwritten",
        ),
        pytest.param(with_an_unused_page, "Page {next_page} is never used", id="unused-page"),
        pytest.param(garbage, "file is not a database", id="garbage"),
        pytest.param(zero_bytes, "it holds no kapsession database", id="empty"),
    ],
)
def test_a_damaged_newest_backup_warns_naming_the_file_and_what_to_do(
    paths: Paths, damage, says: str
) -> None:
    # Given a good backup, and a newer one that is damaged
    open_and_close(paths, sessions=3)
    (good,) = list_backups(paths.backup_dir, "kapsession")
    damaged = a_later_backup_name(good)
    assert list_backups(paths.backup_dir, "kapsession") == [good]
    good_bytes = good.read_bytes()
    damaged.write_bytes(damage(good_bytes))
    assert list_backups(paths.backup_dir, "kapsession")[-1] == damaged
    next_page = int.from_bytes(good_bytes[28:32], "big") + 1
    reason = (
        says.pattern
        if isinstance(says, re.Pattern)
        else re.escape(says.format(next_page=next_page))
    )
    before = folder_state(paths.backup_dir)
    # When the doctor runs
    checks = by_name(run_checks(paths))
    # Then the backups warn, naming the damaged file, what is wrong and what to do
    backups = checks["backups"]
    assert backups.status is Status.WARN
    assert re.fullmatch(
        re.escape(
            f"2 in {paths.backup_dir}, newest 0.0 days old; the newest, {damaged.name}, is damaged "
        )
        + f"\\(({reason})\\)"
        + re.escape(": move it out of the folder and start kapsession to make a fresh one"),
        backups.detail,
    ), backups.detail
    # ... while the database itself is fine, and nothing in the backups folder was written
    assert checks["database"].status is Status.OK
    assert folder_state(paths.backup_dir) == before


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
            f"{len(SHIPPED)} valid ({', '.join(SHIPPED)}); not offered: broken.toml, line 3: ",
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


# --- audio output: the sound server is asked (`pactl info`) ----------------------------------


NO_CARDS = "--- no soundcards ---\n"
ONE_CARD = " 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n"
ASK_THE_DESKTOP = "start PulseAudio or PipeWire, or log in to the desktop session"


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path: a unix socket's path must fit in 108 bytes."""
    with tempfile.TemporaryDirectory(prefix="kap-") as folder:
        yield Path(folder)


@pytest.fixture
def no_pulse_env(tmp_path: Path) -> dict[str, str]:
    """This process's environment without any sound server setting, HOME in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_") and k != "DISPLAY"}
    home = tmp_path / "home"
    home.mkdir()
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    return env


def cards_file(tmp_path: Path, text: str) -> Path:
    cards = tmp_path / "cards"
    cards.write_text(text, encoding="utf-8")
    return cards


def stale_socket(folder: Path) -> Path:
    """A socket file left behind by a server that has gone: connecting is refused."""
    path = folder / "native"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
    return path


@contextmanager
def silent_server(folder: Path) -> Iterator[Path]:
    """A socket that accepts connections but never says a word, like a hung sound server."""
    path = folder / "native"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        sock.listen(8)
        yield path


def test_a_running_pulseaudio_is_found_and_named_with_its_version(
    data_paths: Paths, pulse_sink: PulseSink
) -> None:
    # Given a PulseAudio server running and named by PULSE_SERVER
    # When the doctor runs
    check = by_name(run_checks(data_paths))["audio output"]
    # Then the audio output is the server that answered, with its name and version
    assert check.status is Status.OK
    version = subprocess.run(
        ["pulseaudio", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    assert check.detail == f"pulseaudio {version} answered at {pulse_sink.server}"


@pytest.mark.parametrize(
    "server",
    ["missing-socket", "stale-socket", "empty-file"],
)
def test_a_pulse_server_that_does_not_answer_is_not_found(
    short_dir: Path, no_pulse_env: dict[str, str], tmp_path: Path, server: str
) -> None:
    # Given PULSE_SERVER names a socket path with no server behind it
    if server == "missing-socket":
        path = short_dir / "native"
    elif server == "stale-socket":
        path = stale_socket(short_dir)
    else:
        path = short_dir / "native"
        path.touch()
    env = {**no_pulse_env, "PULSE_SERVER": f"unix:{path}"}
    # When the audio output is checked on a laptop without a sound card
    status = audio_output_status(env, cards_file(tmp_path, NO_CARDS))
    # Then it is not found: nobody answered there, and the advice says what to do
    assert not status.found
    assert status.detail == (
        f"no sound server answered at unix:{path} (Connection refused); {ASK_THE_DESKTOP}. "
        "There is no sound card either: music would be silent. Connect the speakers or "
        "headphones and check the laptop's sound settings"
    )


def test_an_empty_file_at_the_default_socket_is_not_a_sound_server(
    no_pulse_env: dict[str, str], tmp_path: Path
) -> None:
    # Given no PULSE_SERVER, and an empty file where the session's pulse socket would be
    default_socket = Path(no_pulse_env["XDG_RUNTIME_DIR"]) / "pulse" / "native"
    default_socket.parent.mkdir()
    default_socket.touch()
    # When the audio output is checked on a laptop with a sound card
    status = audio_output_status(no_pulse_env, cards_file(tmp_path, ONE_CARD))
    # Then it is not found, naming where nobody answered and the card libVLC could still use
    assert not status.found
    assert status.detail.startswith(f"no sound server answered at {default_socket} (")
    assert status.detail.endswith(
        f"; {ASK_THE_DESKTOP}. Until then libVLC can only play straight to the sound card "
        "HDA Intel PCH"
    )


def test_an_empty_pulse_server_setting_is_named_as_such(
    no_pulse_env: dict[str, str], tmp_path: Path
) -> None:
    # Given PULSE_SERVER is set but empty (libpulse then tries no server at all)
    env = {**no_pulse_env, "PULSE_SERVER": ""}
    # When the audio output is checked, Then it is not found, and the empty setting is named
    status = audio_output_status(env, cards_file(tmp_path, NO_CARDS))
    assert not status.found
    assert status.detail.startswith("no sound server answered at an empty PULSE_SERVER (")


def test_a_sound_server_that_never_answers_is_given_up_on_after_two_seconds(
    short_dir: Path, no_pulse_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a socket that accepts the connection but never answers
    with silent_server(short_dir) as path:
        env = {**no_pulse_env, "PULSE_SERVER": f"unix:{path}"}
        # When the audio output is checked
        status = audio_output_status(env, cards_file(tmp_path, NO_CARDS))
    # Then it is not found, and the detail says nobody answered in time
    assert not status.found
    assert status.detail.startswith(
        f"no sound server answered at unix:{path} (no answer within 2 s); {ASK_THE_DESKTOP}."
    )


def test_without_pactl_the_sound_server_cannot_be_asked_and_the_package_is_named(
    no_pulse_env: dict[str, str], tmp_path: Path
) -> None:
    # Given a PATH on which pactl is not installed
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {**no_pulse_env, "PATH": str(empty_bin)}
    # When the audio output is checked, Then it is not found, and the package to install is named
    status = audio_output_status(env, cards_file(tmp_path, ONE_CARD))
    assert not status.found
    assert status.detail == (
        "the sound server cannot be asked: pactl is not installed. Install it with: "
        "sudo apt-get install pulseaudio-utils"
    )


def test_no_sound_server_is_a_warning_not_a_failure(
    data_paths: Paths, short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given PULSE_SERVER names a socket nobody listens on
    monkeypatch.setenv("PULSE_SERVER", f"unix:{stale_socket(short_dir)}")
    # When the doctor runs, Then the audio output warns (the app runs, music may be silent)
    checks = by_name(run_checks(data_paths))
    assert checks["audio output"].status is Status.WARN
    assert checks["audio output"].detail.startswith("no sound server answered at unix:")
    assert fails(list(checks.values())) == []
