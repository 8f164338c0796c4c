"""Bad input to every command, each run as a real process (`python -m kapsession ...`).

Each case asserts the exit code the command line documents (2: the command line is wrong, 1:
the command could not do its work or found a problem), one line on stderr saying what to do,
no traceback, and nothing written where it should not be: no temporary or probe file left,
no data folder made under the home folder, and the device, pipe, link or folder in the way
left as it was. The GUI's own options are run under tests/ui/answering_child.py, which
accepts the message box the app shows.

Full and read-only disks are small tmpfs mounts of the test's own (tests/support/filesystems.py:
root and `mount` needed), a device node is made with mknod (root); a file-size limit
(RLIMIT_FSIZE in the child, which Python answers with EFBIG) stands for a full disk without root.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.filesystems import full_folder, read_only_folder
from support.real_tools import unavailable

from kapsession import cli
from kapsession.audio.libvlc import AudioUnavailable, load_libvlc

EXIT_PROBLEM = 1
EXIT_USAGE = 2
KAPSESSION = (sys.executable, "-m", "kapsession")
REPO_ROOT = Path(__file__).resolve().parents[2]
ANSWERING_CHILD = REPO_ROOT / "tests" / "ui" / "answering_child.py"
LONG = "n" * 300  # longer than a file name may be (255 bytes)
NOT_UTF8 = os.fsdecode(b"\xff\xfe")  # how Python is given bytes that are not UTF-8
IN_PROC = "/proc/kapsession-test"  # /proc takes no new files, even from root
DONE_S = 120  # a command that has not ended by then is stuck (a pipe read for ever)

pytestmark = pytest.mark.slow

Given = Callable[[Path], AbstractContextManager[object]]


@contextmanager
def nothing(work: Path) -> Iterator[None]:
    yield


def nothing_else(work: Path) -> None:
    """The general checks only (see `test_bad_input`)."""


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]  # {data}, {work} and {session} are filled in
    code: int
    says: str  # in the one line on stderr
    given: Given = nothing  # the bad thing in the way, made in the test's folder
    kept: Callable[[Path], None] = nothing_else  # what must be as it was afterwards
    prints: str = ""  # in the report on stdout
    stdout: str = "pipe"  # or "full" (/dev/full), "closed"
    gui: bool = False  # the app's own start, under the answering child
    needs: str = ""  # "root", "libvlc"
    file_size_limit: int = 0  # bytes: the child's RLIMIT_FSIZE (a full disk without root)


def data(*args: str) -> tuple[str, ...]:
    """A command on the populated training data."""
    return ("--data-dir", "{data}", "--training", *args)


def export(*args: str) -> tuple[str, ...]:
    return data("export", "{session}", *args)


def md_to(out: str, *more: str) -> tuple[str, ...]:
    return export("--format", "md", "--out", out, *more)


def summary_to(out: str, *more: str) -> tuple[str, ...]:
    return data("course-summary", "Maya Fischer", "--format", "md", "--out", out, *more)


# --- what is in the way ------------------------------------------------------------------


def pipe_at(name: str) -> Given:
    @contextmanager
    def make(work: Path) -> Iterator[None]:
        os.mkfifo(work / name)
        yield

    return make


def device_at(name: str) -> Given:
    """A device node like /dev/null (character device 1, 3), made in the test's folder."""

    @contextmanager
    def make(work: Path) -> Iterator[None]:
        os.mknod(work / name, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        yield

    return make


def folder_at(name: str) -> Given:
    @contextmanager
    def make(work: Path) -> Iterator[None]:
        (work / name).mkdir()
        yield

    return make


def link_at(name: str, target: str) -> Given:
    @contextmanager
    def make(work: Path) -> Iterator[None]:
        (work / name).symlink_to(target.replace("{work}", str(work)))
        yield

    return make


def both(*givens: Given) -> Given:
    @contextmanager
    def make(work: Path) -> Iterator[None]:
        with givens[0](work):
            if len(givens) == 1:
                yield
            else:
                with both(*givens[1:])(work):
                    yield

    return make


def full_disk_at(name: str) -> Given:
    return lambda work: full_folder(work / name)


def read_only_at(name: str) -> Given:
    return lambda work: read_only_folder(work / name)


def playlist_listing_itself(work: Path) -> AbstractContextManager[None]:
    (work / "loop.m3u").write_text("#EXTM3U\nloop.m3u\n", encoding="utf-8")
    return nothing(work)


# --- what must be as it was --------------------------------------------------------------


def still(
    name: str, kind: Callable[[int], bool], link_to: str | None = None, *, beside: bool = True
) -> Callable[[Path], None]:
    """`name` is still of its `kind` (or a link to `link_to`, the target of that kind);
    `beside=False`: nothing was written beside it either (CSV names its files after it)."""

    def check(work: Path) -> None:
        if not beside:
            assert sorted(p.name for p in work.glob(f"{name}*")) == [name]
        path = work / name
        if link_to is None:
            assert kind(path.lstat().st_mode), f"{name} was replaced"
        else:
            assert path.is_symlink() and os.readlink(path) == link_to.replace("{work}", str(work))
            assert kind(os.stat(link_to.replace("{work}", str(work))).st_mode)

    return check


def empty_folder(name: str) -> Callable[[Path], None]:
    def check(work: Path) -> None:
        assert list((work / name).iterdir()) == []
        assert sorted(p.name for p in work.glob(f"{name}*")) == [name]  # nothing beside it

    return check


def dev_null_as_it_was(work: Path) -> None:
    """The system's /dev/null is still the device, with nothing written beside it."""
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    assert sorted(p.name for p in Path("/dev").glob("null*")) == ["null"]


def absent(name: str) -> Callable[[Path], None]:
    def check(work: Path) -> None:
        assert not os.path.lexists(work / name)

    return check


def not_in_proc(work: Path) -> None:
    assert not os.path.lexists(f"{IN_PROC}.md")


# --- the cases ---------------------------------------------------------------------------

LIMIT = "argument --limit: give a whole number from 1 to 1000000"
SPEED = "argument --speed: give a number above 0 and at most 600"
SECONDS = "argument --seconds: give a number above 0 and at most 60"
TEXT = "is not UTF-8 text; type it again"
EMPTY = "is empty; give a value or leave the option out"
PLAYLIST = "a playlist has problems; the report names each one and what to do about it"
NO_DATA_DIR = "choose another folder with --data-dir (or KAPSESSION_DATA_DIR)"

CASES: dict[str, Case] = {
    # sessions
    "sessions-limit-20-digits": Case(
        data("sessions", "--limit", "99999999999999999999"), EXIT_USAGE, LIMIT
    ),
    "sessions-limit-minus-1": Case(data("sessions", "--limit", "-1"), EXIT_USAGE, LIMIT),
    "sessions-limit-0": Case(data("sessions", "--limit", "0"), EXIT_USAGE, LIMIT),
    "sessions-status-unknown": Case(
        data("sessions", "--status", "lost"), EXIT_USAGE, "invalid choice: 'lost'"
    ),
    "sessions-output-on-a-full-disk": Case(
        data("sessions"),
        EXIT_PROBLEM,
        "the output could not be written: No space left on device; nothing more was printed. "
        "Free some space",
        stdout="full",
    ),
    "sessions-output-closed": Case(
        data("sessions", "--json"),
        EXIT_PROBLEM,
        "standard output is closed; give the command somewhere to print",
        stdout="closed",
    ),
    # history
    "history-not-utf8": Case(data("history", NOT_UTF8), EXIT_USAGE, f"argument CLIENT: {TEXT}"),
    "history-empty": Case(data("history", ""), EXIT_USAGE, f"argument CLIENT: {EMPTY}"),
    "history-300-characters": Case(
        data("history", LONG), EXIT_PROBLEM, "takes a record number, a name or the first"
    ),
    # demo
    "demo-speed-nan": Case(("--data-dir", "{data}", "demo", "--speed", "nan"), EXIT_USAGE, SPEED),
    "demo-speed-inf": Case(("--data-dir", "{data}", "demo", "--speed", "inf"), EXIT_USAGE, SPEED),
    "demo-speed-0": Case(("--data-dir", "{data}", "demo", "--speed", "0"), EXIT_USAGE, SPEED),
    "demo-speed-601": Case(("--data-dir", "{data}", "demo", "--speed", "601"), EXIT_USAGE, SPEED),
    "demo-populate-speed-minus-1": Case(
        ("--data-dir", "{data}", "demo", "--populate", "--speed", "-1"), EXIT_USAGE, SPEED
    ),
    # sound-check
    "sound-check-seconds-inf": Case(("sound-check", "--seconds", "inf"), EXIT_USAGE, SECONDS),
    "sound-check-seconds-nan": Case(("sound-check", "--seconds", "nan"), EXIT_USAGE, SECONDS),
    "sound-check-seconds-minus-1": Case(("sound-check", "--seconds", "-1"), EXIT_USAGE, SECONDS),
    "sound-check-seconds-1e999": Case(("sound-check", "--seconds", "1e999"), EXIT_USAGE, SECONDS),
    "sound-check-file-missing": Case(
        ("sound-check", "{work}/missing.ogg"),
        EXIT_PROBLEM,
        "missing.ogg does not exist; check the file name",
    ),
    "sound-check-file-300-characters": Case(
        ("sound-check", f"{{work}}/{LONG}.ogg"),
        EXIT_PROBLEM,
        "cannot be read (File name too long); check the file name",
    ),
    "sound-check-file-a-folder": Case(
        ("sound-check", "{work}"), EXIT_PROBLEM, "is not a file; give an audio file"
    ),
    "sound-check-file-dev-zero": Case(
        ("sound-check", "/dev/zero"), EXIT_PROBLEM, "/dev/zero is not a file"
    ),
    "sound-check-file-not-utf8": Case(
        ("sound-check", f"{{work}}/{NOT_UTF8}.ogg"), EXIT_USAGE, f"argument FILE: {TEXT}"
    ),
    "sound-check-output-unknown": Case(
        ("sound-check", "--aout", "nowhere", "--seconds", "1"),
        EXIT_PROBLEM,
        'libVLC has no sound output "nowhere"; choose one of: ',
        needs="libvlc",
    ),
    "sound-check-output-empty": Case(
        ("sound-check", "--aout", ""), EXIT_USAGE, f"argument --aout: {EMPTY}"
    ),
    # playlist check
    "playlist-missing": Case(
        ("playlist", "check", "{work}/gone.m3u"),
        EXIT_PROBLEM,
        PLAYLIST,
        prints="cannot be read (No such file or directory); check that the file exists",
    ),
    "playlist-a-folder": Case(
        ("playlist", "check", "{work}/lists.m3u"),
        EXIT_PROBLEM,
        PLAYLIST,
        given=folder_at("lists.m3u"),
        prints="lists.m3u: is a folder, not a file",
    ),
    "playlist-a-pipe": Case(
        ("playlist", "check", "{work}/pipe.m3u"),
        EXIT_PROBLEM,
        PLAYLIST,
        given=pipe_at("pipe.m3u"),
        prints="pipe.m3u: is a pipe (FIFO), not a file",
    ),
    "playlist-link-to-dev-zero": Case(
        ("playlist", "check", "{work}/zero.m3u"),
        EXIT_PROBLEM,
        PLAYLIST,
        given=link_at("zero.m3u", "/dev/zero"),
        prints="zero.m3u: is a device, not a file",
    ),
    "playlist-listing-itself": Case(
        ("playlist", "check", "--json", "{work}/loop.m3u"),
        EXIT_PROBLEM,
        PLAYLIST,
        given=playlist_listing_itself,
        prints='"line 2 lists this playlist itself; left out"',
    ),
    "playlist-300-characters": Case(
        ("playlist", "check", f"{{work}}/{LONG}.m3u"),
        EXIT_PROBLEM,
        PLAYLIST,
        prints="cannot be read (File name too long)",
    ),
    "playlist-not-utf8": Case(
        ("playlist", "check", f"{{work}}/{NOT_UTF8}.m3u"), EXIT_USAGE, f"argument FILE: {TEXT}"
    ),
    # export: where it writes
    "export-csv-out-a-folder": Case(
        export("--format", "csv", "--out", "{work}/records"),
        EXIT_PROBLEM,
        "records is a folder; give a file name to write, e.g. ",
        given=folder_at("records"),
        kept=empty_folder("records"),
    ),
    "export-md-out-a-folder": Case(
        export("--format", "md", "--out", "{work}/records"),
        EXIT_PROBLEM,
        "records is a folder; give a file name to write",
        given=folder_at("records"),
        kept=empty_folder("records"),
    ),
    "export-out-in-proc": Case(
        md_to(f"{IN_PROC}.md"),
        EXIT_PROBLEM,
        f"{IN_PROC}.md cannot be written (No such file or directory); choose another folder",
        kept=not_in_proc,
    ),
    "export-force-over-a-proc-file": Case(
        md_to("/proc/self/status", "--force"),
        EXIT_PROBLEM,
        "The folder /proc/self cannot be written; choose another folder",
    ),
    "export-out-read-only-folder": Case(
        md_to("{work}/ro/record.md"),
        EXIT_PROBLEM,
        "The folder {work}/ro cannot be written; choose another folder",
        given=read_only_at("ro"),
        needs="root",
    ),
    "export-out-full-disk": Case(
        md_to("{work}/full/record.md"),
        EXIT_PROBLEM,
        "The disk of the folder {work}/full is full; nothing was written. Free some space",
        given=full_disk_at("full"),
        kept=absent("full/record.md"),
        needs="root",
    ),
    "export-pdf-over-the-file-size-limit": Case(
        export("--format", "pdf", "--out", "{work}/record.pdf"),
        EXIT_PROBLEM,
        "{work}/record.pdf would be larger than this disk or this account may write (its "
        "file-size limit); nothing was written. Choose another folder",
        kept=absent("record.pdf"),
        file_size_limit=100_000,  # more than opening the data writes, less than the PDF
    ),
    "export-out-300-characters": Case(
        md_to(f"{{work}}/{LONG}.md"),
        EXIT_PROBLEM,
        "The file name is too long for the disk (303 characters); choose a shorter name",
    ),
    "export-csv-out-300-characters": Case(
        export("--format", "csv", "--out", f"{{work}}/{LONG}.csv"),
        EXIT_PROBLEM,
        "The file name is too long for the disk",
    ),
    "export-out-folder-missing": Case(
        md_to("{work}/nowhere/record.md"),
        EXIT_PROBLEM,
        "The folder {work}/nowhere does not exist; create it or choose another",
        kept=absent("nowhere"),
    ),
    "export-out-empty": Case(md_to(""), EXIT_USAGE, f"argument --out: {EMPTY}"),
    "export-out-not-utf8": Case(
        md_to(f"{{work}}/{NOT_UTF8}.md"), EXIT_USAGE, f"argument --out: {TEXT}"
    ),
    # export: what --force may replace
    "export-force-over-a-device": Case(
        md_to("{work}/null", "--force"),
        EXIT_PROBLEM,
        "null is a device, not a file an export may replace; give the name of a file",
        given=device_at("null"),
        kept=still("null", stat.S_ISCHR),
        needs="root",
    ),
    "export-over-a-device-without-force": Case(
        md_to("{work}/null"),
        EXIT_PROBLEM,
        "null is a device, not a file an export may replace",
        given=device_at("null"),
        kept=still("null", stat.S_ISCHR),
        needs="root",
    ),
    "export-force-over-dev-null": Case(
        md_to("/dev/null", "--force"),
        EXIT_PROBLEM,
        "/dev/null is a device, not a file an export may replace; give the name of a file",
        kept=dev_null_as_it_was,
    ),
    "export-csv-force-over-dev-null": Case(
        export("--format", "csv", "--out", "/dev/null", "--force"),
        EXIT_PROBLEM,
        "/dev/null is a device, not a file an export may write; give the name of a file, "
        "e.g. /dev/record.csv",
        kept=dev_null_as_it_was,
    ),
    "export-csv-over-a-pipe": Case(
        export("--format", "csv", "--out", "{work}/pipe"),
        EXIT_PROBLEM,
        "pipe is a pipe (FIFO), not a file an export may write",
        given=pipe_at("pipe"),
        kept=still("pipe", stat.S_ISFIFO, beside=False),
    ),
    "export-force-over-a-pipe": Case(
        md_to("{work}/pipe", "--force"),
        EXIT_PROBLEM,
        "pipe is a pipe (FIFO), not a file an export may replace",
        given=pipe_at("pipe"),
        kept=still("pipe", stat.S_ISFIFO),
    ),
    "export-force-over-a-link-to-dev-null": Case(
        md_to("{work}/null-link", "--force"),
        EXIT_PROBLEM,
        "null-link is a link to a device, not a file an export may replace",
        given=link_at("null-link", "/dev/null"),
        kept=still("null-link", stat.S_ISCHR, link_to="/dev/null"),
    ),
    "export-force-over-a-link-to-a-pipe": Case(
        md_to("{work}/pipe-link", "--force"),
        EXIT_PROBLEM,
        "pipe-link is a link to a pipe (FIFO)",
        given=both(pipe_at("pipe"), link_at("pipe-link", "{work}/pipe")),
        kept=still("pipe-link", stat.S_ISFIFO, link_to="{work}/pipe"),
    ),
    "export-force-over-a-link-to-a-folder": Case(
        md_to("{work}/folder-link", "--force"),
        EXIT_PROBLEM,
        "folder-link is a folder; give a file name to write",
        given=both(folder_at("records"), link_at("folder-link", "{work}/records")),
        kept=still("folder-link", stat.S_ISDIR, link_to="{work}/records"),
    ),
    "export-force-over-a-dangling-link": Case(
        md_to("{work}/dangling", "--force"),
        EXIT_PROBLEM,
        "dangling is a link to nothing, not a file an export may replace",
        given=link_at("dangling", "{work}/gone"),
        kept=absent("gone"),
    ),
    # course-summary: where it writes
    "course-summary-out-300-characters": Case(
        summary_to(f"{{work}}/{LONG}.md"),
        EXIT_PROBLEM,
        "The file name is too long for the disk (303 characters); choose a shorter name",
    ),
    "course-summary-out-a-folder": Case(
        summary_to("{work}/records"),
        EXIT_PROBLEM,
        "records is a folder; give a file name to write, e.g. ",
        given=folder_at("records"),
        kept=empty_folder("records"),
    ),
    "course-summary-force-over-dev-null": Case(
        summary_to("/dev/null", "--force"),
        EXIT_PROBLEM,
        "/dev/null is a device, not a file an export may replace; give the name of a file",
        kept=dev_null_as_it_was,
    ),
    "course-summary-out-in-proc": Case(
        summary_to(f"{IN_PROC}.md"),
        EXIT_PROBLEM,
        f"{IN_PROC}.md cannot be written (No such file or directory); choose another folder",
        kept=not_in_proc,
    ),
    "course-summary-client-300-characters": Case(
        data("course-summary", LONG, "--format", "md", "--out", "{work}/x.md"),
        EXIT_PROBLEM,
        "No client matches",
        kept=absent("x.md"),
    ),
    # export: which session, whose document
    "export-session-not-utf8": Case(
        data("export", NOT_UTF8, "--format", "md", "--out", "{work}/x.md"),
        EXIT_USAGE,
        f"argument SESSION: {TEXT}",
    ),
    "export-session-empty": Case(
        data("export", "", "--format", "md", "--out", "{work}/x.md"),
        EXIT_USAGE,
        f"argument SESSION: {EMPTY}",
    ),
    "export-session-300-characters": Case(
        data("export", LONG, "--format", "md", "--out", "{work}/x.md"),
        EXIT_PROBLEM,
        "No session id starts with",
        kept=absent("x.md"),
    ),
    "export-participant-not-utf8": Case(
        md_to("{work}/x.md", "--participant", NOT_UTF8),
        EXIT_USAGE,
        f"argument --participant: {TEXT}",
    ),
    "export-participant-empty": Case(
        md_to("{work}/x.md", "--participant", ""), EXIT_USAGE, f"argument --participant: {EMPTY}"
    ),
    "export-participant-300-characters": Case(
        md_to("{work}/x.md", "--participant", LONG),
        EXIT_PROBLEM,
        "is not a participant of this session. The participants are: Maya Fischer",
        kept=absent("x.md"),
    ),
    "export-format-unknown": Case(
        export("--format", "docx", "--out", "{work}/x.docx"), EXIT_USAGE, "invalid choice: 'docx'"
    ),
    "export-page-unknown": Case(
        export("--format", "pdf", "--out", "{work}/x.pdf", "--page", "A5"),
        EXIT_USAGE,
        "invalid choice: 'A5'",
    ),
    # doctor
    "doctor-data-folder-in-proc": Case(
        ("--data-dir", IN_PROC, "doctor"),
        EXIT_PROBLEM,
        "not ready: data folder",
        prints=f"[FAIL] data folder: The folder {IN_PROC} cannot be written",
    ),
    # the data folder and the database, for any command
    "data-dir-in-proc": Case(
        ("--data-dir", IN_PROC, "sessions"),
        EXIT_PROBLEM,
        f"The folder {IN_PROC} cannot be written (No such file or directory)",
    ),
    "data-dir-300-characters": Case(
        ("--data-dir", f"{{work}}/{LONG}", "sessions"),
        EXIT_PROBLEM,
        f"cannot be written (its name is too long for the disk). C{NO_DATA_DIR[1:]}",
    ),
    "data-dir-dev-null": Case(
        ("--data-dir", "/dev/null", "sessions"),
        EXIT_PROBLEM,
        "The folder /dev/null cannot be written (a file has its name, or part of it)",
    ),
    "data-dir-full-disk": Case(
        ("--data-dir", "{work}/full", "demo", "--populate"),
        EXIT_PROBLEM,
        f"cannot be written (its disk is full). Free some space on it, or {NO_DATA_DIR}",
        given=full_disk_at("full"),
        needs="root",
    ),
    "data-dir-read-only": Case(
        ("--data-dir", "{work}/ro", "sessions"),
        EXIT_PROBLEM,
        f"The folder {{work}}/ro cannot be written (Read-only file system). Ask IT to fix "
        f"its permissions, or {NO_DATA_DIR}",
        given=read_only_at("ro"),
        needs="root",
    ),
    "data-over-the-file-size-limit": Case(
        data("sessions"),
        EXIT_PROBLEM,
        "The session database could not be read or written (a disk error: the disk may be "
        "full, failing or unplugged). Nothing was changed; free some space or check the disk",
        file_size_limit=1_000,
    ),
    "data-dir-empty": Case(("--data-dir", "", "sessions"), EXIT_USAGE, f"--data-dir: {EMPTY}"),
    "data-dir-not-utf8": Case(
        ("--data-dir", f"{{work}}/{NOT_UTF8}", "sessions"), EXIT_USAGE, f"--data-dir: {TEXT}"
    ),
    "database-url-empty": Case(
        ("--data-dir", "{data}", "--database-url", "", "sessions"),
        EXIT_USAGE,
        f"--database-url: {EMPTY}",
    ),
    "database-url-nonsense": Case(
        ("--data-dir", "{work}/data", "--database-url", "nonsense", "sessions"),
        EXIT_PROBLEM,
        "Check --database-url or KAPSESSION_DATABASE_URL",
    ),
    # the GUI's own options
    "gui-data-dir-empty": Case(("--data-dir=",), EXIT_USAGE, f"--data-dir: {EMPTY}", gui=True),
    "gui-database-url-empty": Case(
        ("--data-dir", "{work}/data", "--database-url="),
        EXIT_USAGE,
        f"--database-url: {EMPTY}",
        gui=True,
    ),
    "gui-data-dir-not-utf8": Case(
        ("--data-dir", f"{{work}}/{NOT_UTF8}"), EXIT_USAGE, f"--data-dir: {TEXT}", gui=True
    ),
    "gui-unknown-option": Case(
        ("--data-dir", "{work}/data", "--bogus"),
        EXIT_USAGE,
        "unrecognized arguments: --bogus",
        gui=True,
    ),
    "gui-data-dir-in-proc": Case(
        ("--data-dir", IN_PROC), EXIT_PROBLEM, f"The folder {IN_PROC} cannot be written", gui=True
    ),
    "gui-data-dir-300-characters": Case(
        ("--data-dir", f"{{work}}/{LONG}"),
        EXIT_PROBLEM,
        "cannot be written (its name is too long for the disk)",
        gui=True,
    ),
    "gui-data-dir-full-disk": Case(
        ("--data-dir", "{work}/full"),
        EXIT_PROBLEM,
        "cannot be written (its disk is full). Free some space on it",
        given=full_disk_at("full"),
        gui=True,
        needs="root",
    ),
    "gui-database-url-nonsense": Case(
        ("--data-dir", "{work}/data", "--database-url", "nonsense"),
        EXIT_PROBLEM,
        "Check --database-url or KAPSESSION_DATABASE_URL",
        gui=True,
    ),
}


@pytest.fixture(scope="module")
def training_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A data folder whose training database holds the demo sessions, and the id of an
    individual session there (Maya Fischer's first)."""
    folder = tmp_path_factory.mktemp("training")
    home = folder / "home"
    result = kapsession(
        "--data-dir", str(folder / "data"), "demo", "--populate", "--json", home=home
    )
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    session = next(m["id"] for m in made if m["client"] == "Maya Fischer")
    return folder / "data", session


def child_env(home: Path) -> dict[str, str]:
    """This checkout importable, a home of its own, nothing from KAPSESSION_* outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
    )
    return env


def kapsession(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`python -m kapsession ARGV` with a home of its own."""
    return subprocess.run(
        [*KAPSESSION, *argv],
        env=child_env(home),
        capture_output=True,
        text=True,
        timeout=DONE_S,
        check=False,
    )


def needed(what: str) -> None:
    if what == "root" and os.geteuid() != 0:
        unavailable("a device node and the test's own tmpfs mounts need root")
    if what == "root" and shutil.which("mount") is None:
        unavailable("mounting a tmpfs needs mount: sudo apt-get install mount")
    if what == "libvlc":
        try:
            load_libvlc(()).release()
        except AudioUnavailable as exc:
            unavailable(f"libVLC does not load here: {exc}")


def run(case: Case, argv: list[str], work: Path, home: Path) -> subprocess.CompletedProcess[str]:
    entry = [str(ANSWERING_CHILD)] if case.gui else ["-m", "kapsession"]
    command = [sys.executable, *entry, *argv]
    if case.stdout == "closed":
        command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
    # a GUI that did start (it must not) shows its start screen and quits by itself
    env = {**child_env(home), "KAPSESSION_STARTUP_PROBE": "shown"} if case.gui else child_env(home)
    if case.stdout == "full" and not Path("/dev/full").exists():
        unavailable("/dev/full, the device that is always full, is missing")
    with open("/dev/full", "w") if case.stdout == "full" else open(os.devnull) as full:
        try:
            return subprocess.run(
                command,
                cwd=work,
                env=env,
                stdout=full if case.stdout == "full" else subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="backslashreplace",
                timeout=DONE_S,
                check=False,
                preexec_fn=_file_size_limit(case.file_size_limit) if case.file_size_limit else None,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the command did not end: {argv}")


def _file_size_limit(size: int) -> Callable[[], None]:
    def limit() -> None:  # in the child, before it runs
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, tmp_path: Path, training_data: tuple[Path, str]) -> None:
    case = CASES[name]
    if case.needs:
        needed(case.needs)
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    data_dir, session = training_data

    def filled(text: str) -> str:
        return (
            text.replace("{data}", str(data_dir))
            .replace("{work}", str(work))
            .replace("{session}", session)
        )

    # Given the bad thing in the way, if any
    with case.given(work):
        # When the command runs with the bad input
        result = run(case, [filled(a) for a in case.argv], work, home)
        outputs = (result.stderr or "") + (result.stdout or "")
        # Then it exits with the documented code, without a traceback
        assert "Traceback" not in outputs, outputs
        assert result.returncode == case.code, outputs
        # ... saying in one line on stderr what is wrong and what to do
        said = [line for line in result.stderr.splitlines() if line.startswith("kapsession")]
        assert len(said) == 1, result.stderr
        if case.code == EXIT_USAGE:
            assert ": error: " in said[0], said[0]
        else:
            assert said[0].startswith("kapsession: "), said[0]
        assert filled(case.says) in said[0]
        if case.prints:
            assert case.prints in result.stdout, result.stdout
        if case.gui and case.code == EXIT_PROBLEM:  # the same words in the app's message box
            boxes = [json.loads(line) for line in result.stdout.splitlines() if line[:1] == "{"]
            assert [filled(case.says) in box["text"] for box in boxes] == [True], boxes
        # ... and nothing was written where it should not be
        case.kept(work)
        left = [p.name for p in work.rglob("*") if p.name.endswith(".part")]
        left += [p.name for p in work.rglob(".write-test-*")]
        assert left == []
        assert not (home / ".local" / "share" / "kapsession").exists()  # no data folder there
        assert list(home.rglob("*.sqlite3")) == []


def test_force_replaces_a_regular_file_and_a_link_to_one_leaving_its_target(
    tmp_path: Path, training_data: tuple[Path, str]
) -> None:
    # Given a regular file, and a link to another file, where the export goes
    data_dir, session = training_data
    old, target, link = tmp_path / "old.md", tmp_path / "target.md", tmp_path / "link.md"
    old.write_text("keep?", encoding="utf-8")
    target.write_text("the target", encoding="utf-8")
    link.symlink_to(target)
    home = tmp_path / "home"
    exported = ("export", session, "--format", "md", "--out")
    for out in (old, link):
        # When each is exported over with --force
        result = kapsession(
            "--data-dir", str(data_dir), "--training", *exported, str(out), "--force", home=home
        )
        # Then it is replaced by the record
        assert result.returncode == 0, result.stderr
        assert not out.is_symlink() and "Maya Fischer" in out.read_text(encoding="utf-8")
    # ... and the link's target is as it was
    assert target.read_text(encoding="utf-8") == "the target"


def test_a_long_file_name_the_disk_takes_is_written(
    tmp_path: Path, training_data: tuple[Path, str]
) -> None:
    # Given a file name of 253 characters (a disk takes 255), longer than leaves room for the
    # temporary file's own name beside it
    data_dir, session = training_data
    out = tmp_path / ("n" * 250 + ".md")
    # When the record is exported to it
    result = kapsession(
        *("--data-dir", str(data_dir), "--training", "export", session),
        *("--format", "md", "--out", str(out)),
        home=tmp_path / "home",
    )
    # Then it is written, and nothing else is left beside it
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == [out.name]


def test_an_error_nobody_foresaw_is_one_line_naming_the_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a command whose output goes to a stream already closed (a ValueError when written,
    # which no command expects)
    args = cli.parse(["--data-dir", str(tmp_path / "data"), "playlist", "check", "gone.m3u"])
    paths = cli.paths_for(args)
    closed = io.StringIO()
    closed.close()
    # When it runs
    code = cli.run(args, paths, out=closed)
    # Then it exits 1 with one line saying so and where the details are, its stack logged
    assert code == EXIT_PROBLEM
    assert capsys.readouterr().err == (
        "kapsession: the command stopped on an unexpected error (ValueError: I/O operation on "
        f"closed file). Nothing more was done; the details are in {paths.log_file}. Please "
        "report it\n"
    )
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [ValueError]
