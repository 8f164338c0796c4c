"""The command line. The GUI is the default command; names here are a stable contract.

This module is imported before the GUI's first frame: what only a command needs (SQLAlchemy, the
services) is imported inside that command.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO, cast

from kapsession import __version__
from kapsession.domain.clock import Clock, ScaledClock, SystemClock
from kapsession.paths import NotWritable, Paths, resolve_paths
from kapsession.records.errors import StorageError

if TYPE_CHECKING:
    import uuid

    from kapsession.services.context import AppContext

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PROBLEM = 1  # the command could not do its work, or found a problem; stderr says what
EXIT_USAGE = 2  # the command line is wrong (argparse's usage message)

MAX_LIMIT = 1_000_000
MAX_SPEED = 600.0
MAX_SOUND_CHECK_S = 60.0


# --- what each value on the command line may be (argparse answers a mistake with exit 2) ---


def _is_text(value: str) -> bool:
    """Bytes that are not UTF-8 reach Python as lone surrogates: they cannot be looked up,
    stored, logged or printed, so a value holding them is refused where it is read."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: str) -> str:
    """A name, id, URL or path as typed: not empty, and text."""
    if not value:
        raise argparse.ArgumentTypeError("is empty; give a value or leave the option out")
    if not _is_text(value):
        raise argparse.ArgumentTypeError(
            "is not UTF-8 text; type it again (or rename the file) in plain characters"
        )
    return value


def _limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(
            f"give a whole number from 1 to {MAX_LIMIT}, e.g. --limit 50"
        )
    return number


def _number(high: float, example: str) -> Callable[[str], float]:
    """A finite number above 0 and at most `high` (nan, inf and 1e999 are refused)."""

    def number(value: str) -> float:
        try:
            found = float(value)
        except ValueError:
            found = math.nan
        if not (math.isfinite(found) and 0 < found <= high):
            raise argparse.ArgumentTypeError(
                f"give a number above 0 and at most {high:g}, e.g. {example}"
            )
        return found

    return number


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--data-dir",
        default=default,
        type=_text,
        metavar="DIR",
        help="folder for the database, backups and logs (env KAPSESSION_DATA_DIR)",
    )
    parser.add_argument(
        "--database-url",
        default=default,
        type=_text,
        metavar="URL",
        help="SQLAlchemy URL of a clinic database server (env KAPSESSION_DATABASE_URL)",
    )
    parser.add_argument(
        "--training",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use the separate training database",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="log details to the console",
    )


# The commands that export, print or show clinical content: each names the person doing it
# (issue 18), confirmed by their PIN, except on training data.
STAFF_COMMANDS = {
    "export": ("export a session record", "Nothing was written."),
    "course-summary": ("export a course summary", "Nothing was written."),
    "history": ("show a client's history", "Nothing was shown."),
}


def _staff_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--staff",
        type=_text,
        metavar="NAME",
        help="who you are, as the staff list names you; your PIN is asked on the terminal "
        "(needed except on training data)",
    )
    parser.add_argument(
        "--pin-file",
        type=_text,
        metavar="PATH",
        help="read the PIN from the first line of this file instead (readable by you alone: "
        "chmod 600); never give a PIN on the command line",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kapsession",
        description="Session companion for the ketamine-assisted psychotherapy treatment room.",
    )
    parser.add_argument("--version", action="version", version=f"kapsession {__version__}")
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, suppress=True)
        return sub

    command("gui", "open the app (the default)")
    sessions = command("sessions", "list sessions, newest first")
    sessions.add_argument("--json", action="store_true", help="print JSON")
    sessions.add_argument(
        "--status", choices=("planned", "live", "completed", "signed"), help="only this status"
    )
    sessions.add_argument(
        "--limit", type=_limit, default=200, help=f"at most this many (200; 1 to {MAX_LIMIT})"
    )
    doctor = command("doctor", "check this laptop: data folder, database, backups, disk, protocols")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    demo = command("demo", "training mode on the separate training database")
    demo.add_argument(
        "--speed",
        type=_number(MAX_SPEED, "--speed 10"),
        default=1.0,
        metavar="N",
        help=f"run the session clock N times faster (at most {MAX_SPEED:g})",
    )
    demo.add_argument(
        "--populate", action="store_true", help="write realistic past sessions, print their ids"
    )
    demo.add_argument("--json", action="store_true", help="with --populate: print JSON")
    playlist = command("playlist", "check playlists before a session")
    playlist_commands = playlist.add_subparsers(dest="playlist_command", metavar="ACTION")
    playlist_commands.required = True
    check = playlist_commands.add_parser(
        "check",
        help="each entry's file and duration or its problem, and the total",
        description="Each entry's resolved file and duration, or its problem; the total length. "
        "Exits non-zero when an entry is missing or unreadable.",
    )
    _global_options(check, suppress=True)
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument(
        "files", nargs="+", type=_text, metavar="FILE", help="M3U, M3U8, PLS or XSPF files"
    )
    sound = command("sound-check", "play a few seconds of a track, quietly, to test the sound")
    sound.add_argument(
        "file",
        nargs="?",
        type=_text,
        metavar="FILE",
        help="the track (default: a bundled demo track)",
    )
    sound.add_argument(
        "--seconds",
        type=_number(MAX_SOUND_CHECK_S, "--seconds 2"),
        default=2.0,
        help=f"how long to play (2; at most {MAX_SOUND_CHECK_S:g})",
    )
    sound.add_argument(
        "--aout",
        type=_text,
        metavar="NAME",
        help="libVLC sound output, e.g. pulse, alsa or adummy",
    )
    sound.add_argument("--json", action="store_true", help="print JSON")
    backup = command("backup", "make a checked backup of the database now")
    backup.add_argument("--json", action="store_true", help="print JSON")
    restore = command(
        "restore",
        "put a backup in the place of the database (checked first; the replaced file is kept)",
    )
    restore.add_argument(
        "backup", type=_text, metavar="BACKUP", help="the backup file (`doctor` names the newest)"
    )
    restore.add_argument("--json", action="store_true", help="print JSON")
    export = command("export", "write a session's record as PDF, Markdown, CSV, FHIR or REMS data")
    export.add_argument(
        "session", type=_text, metavar="SESSION", help="the session id (or its first characters)"
    )
    export.add_argument(
        "--format", required=True, choices=("pdf", "md", "csv", "fhir", "rems"), dest="format"
    )
    export.add_argument(
        "--out", required=True, type=_text, metavar="PATH", help="the file to write"
    )
    export.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing file (a regular file only: never a folder, device or pipe)",
    )
    export.add_argument(
        "--include-private",
        action="store_true",
        help="add the therapist's private psychotherapy notes (left out by default)",
    )
    export.add_argument(
        "--participant",
        type=_text,
        metavar="NAME|ID",
        help="whose document, in a couples or group session (required there)",
    )
    export.add_argument("--page", choices=("A4", "Letter"), default="A4", help="PDF page size")
    _staff_options(export)
    history = command("history", "a client's sessions over all their courses, oldest first")
    history.add_argument(
        "client",
        type=_text,
        metavar="CLIENT",
        help="the client's record number, name, or the first characters of their id",
    )
    history.add_argument("--json", action="store_true", help="print JSON")
    _staff_options(history)
    summary = command(
        "course-summary",
        "write a client's course summary (plan, sessions, doses, questionnaires, chart) as PDF "
        "or Markdown, or their questionnaires as a FHIR bundle",
    )
    summary.add_argument(
        "client",
        type=_text,
        metavar="CLIENT",
        help="the client's record number, name, or the first characters of their id",
    )
    summary.add_argument("--format", required=True, choices=("pdf", "md", "fhir"))
    summary.add_argument(
        "--out", required=True, type=_text, metavar="PATH", help="the file to write"
    )
    summary.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing file (a regular file only: never a folder, device or pipe)",
    )
    summary.add_argument("--page", choices=("A4", "Letter"), default="A4", help="PDF page size")
    _staff_options(summary)
    return parser


# The GUI's own options, read without building the parser (its eight commands take 3 ms of
# every start): --option VALUE or --option=VALUE, and the flags.
_GUI_VALUES = {"--data-dir": "data_dir", "--database-url": "database_url"}
_GUI_FLAGS = {"--training": "training", "-v": "verbose", "--verbose": "verbose"}


def _gui_arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """The namespace argparse gives for a start of the GUI without a command and with only its
    own options, in their plain forms; None for anything else, which argparse reads (and
    answers: help, a mistake, a command)."""
    values: dict[str, object] = {"data_dir": None, "database_url": None}
    flags = {"training": False, "verbose": False}
    words = list(argv)
    while words:
        word = words.pop(0)
        if word in _GUI_FLAGS:
            flags[_GUI_FLAGS[word]] = True
            continue
        name, equals, value = word.partition("=")
        if name not in _GUI_VALUES:
            return None
        if not equals:
            if not words:
                return None
            value = words.pop(0)
        if not value or value.startswith("-") or not _is_text(value):
            return None
        values[_GUI_VALUES[name]] = value
    return argparse.Namespace(**values, **flags, command="gui")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    plain = _gui_arguments(sys.argv[1:] if argv is None else argv)
    if plain is not None:
        return plain
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "pin_file", None) and not args.staff:
        parser.error("--pin-file goes with --staff NAME (whose PIN it holds)")
    if args.command is None:
        args.command = "gui"
    if args.command == "demo":
        args.training = True
    return args


def paths_for(args: argparse.Namespace) -> Paths:
    return resolve_paths(
        data_dir=args.data_dir, database_url=args.database_url, training=args.training
    )


def run(args: argparse.Namespace, paths: Paths, out: TextIO | None = None) -> int:
    """Run a command; the GUI (`gui`, `demo` without --populate) opens its own data once its
    window is shown (`kapsession.ui.app.start_gui`).

    A command that cannot do its work says why and what to do in one line on stderr and exits
    EXIT_PROBLEM, whatever stopped it: an error nobody foresaw too (its stack goes to the log
    file), never a traceback."""
    gui = args.command == "gui" or (args.command == "demo" and not args.populate)
    if gui:
        clock: Clock = SystemClock()
        if args.command == "demo" and args.speed != 1.0:
            clock = ScaledClock(SystemClock(), args.speed)
        # The window first; the data, its upgrade and the day's backup behind it.
        from kapsession.ui.app import start_gui

        return start_gui(paths, clock=clock, demo=args.command == "demo")
    gc.enable()  # held off for the start-up only (__main__)
    # the current stdout, not the one at import
    output = _Output(sys.stdout if out is None else out)
    try:
        code = _command(args, paths, cast(TextIO, output))
        output.flush()
        return code
    except OutputFailed as exc:
        _discard_stdout()
        return problem(f"the output could not be written: {exc}")
    except BrokenPipeError:
        raise  # the reader went away: __main__ ends quietly
    except Exception as exc:
        log.exception("the command %s stopped on an unexpected error", args.command)
        return problem(
            f"the command stopped on an unexpected error ({type(exc).__name__}: {exc}). "
            f"Nothing more was done; the details are in {paths.log_file}. Please report it"
        )


def problem(message: str) -> int:
    """Say on stderr, in one line, what went wrong and what to do; EXIT_PROBLEM."""
    print(f"kapsession: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_PROBLEM


def _command(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    if args.command == "doctor":
        return _doctor(paths, args.json, out)
    if args.command == "sound-check":
        return _sound_check(args, out)
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args, paths, out)
    if args.command == "playlist":
        from kapsession.services.playlist_report import check_playlists

        if check_playlists(args.files, as_json=args.json, out=out) == EXIT_OK:
            return EXIT_OK
        return problem("a playlist has problems; the report names each one and what to do about it")
    from kapsession.services.context import open_context

    try:
        context = open_context(paths, clock=SystemClock())
    except (StorageError, NotWritable) as exc:
        log.error("cannot open data: %s", exc)
        return problem(str(exc))
    try:
        if args.command == "sessions":
            return _sessions(context, args, out)
        if args.command == "demo":
            return _populate(context, args.json, out)
        if args.command in STAFF_COMMANDS:
            from kapsession.services.acting_staff import IdentityRefused

            try:
                by = _acting_staff(context, args)
            except IdentityRefused as exc:
                return problem(str(exc))
        if args.command == "export":
            return _export(context, args, out, by)
        if args.command == "history":
            return _history(context, args, out, by)
        if args.command == "course-summary":
            return _course_summary(context, args, out, by)
        raise AssertionError(f"unhandled command {args.command}")
    except StorageError as exc:
        return problem(str(exc))
    finally:
        context.close()


class OutputFailed(Exception):
    """The command's output could not be written (a full disk, a closed standard output)."""


class _Output(io.TextIOBase):
    """The command's output: a failed write raises OutputFailed (a reader gone away stays a
    BrokenPipeError)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        if self._stream is None:
            raise OutputFailed("standard output is closed; give the command somewhere to print")
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailed(_output_problem(exc)) from exc

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailed(_output_problem(exc)) from exc


def _output_problem(exc: OSError) -> str:
    return (
        f"{exc.strerror or exc}; nothing more was printed. Free some space on the disk it "
        "goes to, or send it elsewhere"
    )


def _discard_stdout() -> None:
    """What is left in stdout's buffer goes to /dev/null: Python's last flush cannot fail."""
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


def _sound_check(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from kapsession.services.sound_check import sound_check

    result = sound_check(
        Path(args.file).expanduser() if args.file else None,
        seconds=args.seconds,
        aout=args.aout,
        as_json=args.json,
        out=out,
    )
    if result.played:
        return EXIT_OK
    return problem(f"the sound check failed: {result.problem}")


def _sessions(context: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    rows = context.service.sessions.summaries(status=args.status, limit=args.limit)
    if args.json:
        json.dump(
            [
                {
                    "id": str(r.id),
                    "status": r.status,
                    "modality": r.modality,
                    "protocol": r.protocol_key,
                    "protocol_name": r.protocol_name,
                    "room": r.room,
                    "participants": list(r.participants),
                    "created_at": r.created_at.isoformat(),
                    "started_at": r.started_at.isoformat() if r.started_at else None,
                    "ended_at": r.ended_at.isoformat() if r.ended_at else None,
                }
                for r in rows
            ],
            out,
            indent=2,
        )
        out.write("\n")
        return EXIT_OK
    if not rows:
        out.write("No sessions yet.\n")
        return EXIT_OK
    out.write(f"{'ID':<10}{'STATUS':<11}{'STARTED (local)':<18}{'PROTOCOL':<24}{'WHO'}\n")
    for r in rows:
        started = r.started_at.astimezone().strftime("%Y-%m-%d %H:%M") if r.started_at else "-"
        out.write(
            f"{str(r.id)[:8]:<10}{r.status:<11}{started:<18}{r.protocol_key[:23]:<24}"
            f"{', '.join(r.participants)}\n"
        )
    return EXIT_OK


def _acting_staff(context: AppContext, args: argparse.Namespace) -> uuid.UUID | None:
    """The staff member `--staff` names, their PIN checked (IdentityRefused, audited by the PIN
    service, when it is wrong); None on training data without `--staff`."""
    from pathlib import Path

    from kapsession.services.acting_staff import (
        IdentityRefused,
        confirm,
        find_staff,
        read_pin_file,
    )

    purpose, not_done = STAFF_COMMANDS[args.command]
    if args.staff is None:
        if context.training:
            return None
        raise IdentityRefused(
            f"`{args.command}` shows a client's record, so it names the person: add --staff NAME "
            "(your PIN is then asked on the terminal, or read from --pin-file PATH). "
            f"{not_done}"
        )
    member = find_staff(context.service.staff, args.staff)
    if args.pin_file is not None:
        pin = read_pin_file(Path(args.pin_file).expanduser())
    elif sys.stdin is not None and sys.stdin.isatty():
        import getpass

        try:
            pin = getpass.getpass(f"PIN of {member.signature_name}: ")
        except EOFError:
            pin = ""
    else:
        raise IdentityRefused(
            "There is no terminal to ask the PIN on: give --pin-file PATH (a file readable by "
            f"you alone, the PIN on its first line). {not_done}"
        )
    check = confirm(context.notes.pins, member, pin, purpose=purpose, not_done=not_done)
    if not check.ok:
        if check.pause_s:
            import time

            time.sleep(check.pause_s)
        raise IdentityRefused(check.message)
    return member.id


def _export(
    context: AppContext, args: argparse.Namespace, out: TextIO, by: uuid.UUID | None
) -> int:
    """Headless export. The PDF needs Qt's painting (offscreen, no display needed)."""
    from pathlib import Path

    from kapsession.export.content import ExportRefused
    from kapsession.services.exports import ChartFor, ExportRequest

    chart: ChartFor | None = None
    if args.format == "pdf":
        from kapsession.ui.app import headless_application
        from kapsession.ui.export_chart import chart_for

        headless_application()
        chart = chart_for
    elif args.format == "rems":
        from kapsession.ui.app import headless_application

        headless_application()
    try:
        session = context.service.sessions.find(args.session)
        result = context.exports.export(
            ExportRequest(
                session_id=session.id,
                export_format=args.format,
                out=Path(args.out).expanduser(),
                participant=args.participant,
                include_private=args.include_private,
                force=args.force,
                page=args.page,
            ),
            by=by,
            chart_for=chart,
        )
    except ExportRefused as exc:
        return problem(str(exc))
    draft = " (DRAFT: the session is not signed)" if result.draft else ""
    for path in result.files:
        out.write(f"wrote {path} for {result.participant}{draft}\n")
    return EXIT_OK


def _history(
    context: AppContext, args: argparse.Namespace, out: TextIO, by: uuid.UUID | None
) -> int:
    """A client's course history as a table, or JSON (`--json`); who was shown it, audited."""
    from kapsession.services.client_history import ClientHistoryService
    from kapsession.services.history_report import write_history
    from kapsession.storage.audit import AuditRepository

    client = ClientHistoryService(context.database).find_client(args.client)
    write_history(context.database, str(client.id), as_json=args.json, out=out)
    AuditRepository(context.database).add(
        "history.shown",
        at=context.clock.now(),
        staff_id=by,
        entity="client",
        entity_id=client.id,
        detail={"format": "json" if args.json else "table", "destination": "command line"},
    )
    return EXIT_OK


def _course_summary(
    context: AppContext, args: argparse.Namespace, out: TextIO, by: uuid.UUID | None
) -> int:
    """A client's course summary (issue 17). The PDF's chart needs Qt's painting (offscreen)."""
    from pathlib import Path

    from kapsession.services.course_summary import CourseChartFor, CourseSummaryService

    chart: CourseChartFor | None = None
    if args.format == "pdf":
        from kapsession.ui.app import headless_application
        from kapsession.ui.course_chart import course_chart_for

        headless_application()
        chart = course_chart_for
    service = CourseSummaryService(context.database, SystemClock())
    client = service.find_client(args.client)
    written = service.export(
        client.id,
        args.format,
        Path(args.out).expanduser(),
        force=args.force,
        page=args.page,
        chart_for=chart,
        by=by,
    )
    out.write(f"wrote {written.path}: the course summary of {written.client}\n")
    return EXIT_OK


def _backup_or_restore(args: argparse.Namespace, paths: Paths, out: TextIO) -> int:
    """`backup` and `restore`: without opening the database as the app does (a damaged one
    must be restorable; a restore must not run any migration)."""
    import sqlite3
    from pathlib import Path

    from kapsession.services.backups import backup_now, restore

    try:
        if args.command == "backup":
            made = backup_now(paths)
            copy = str(made.copy) if made.copy is not None else None
            answer: dict[str, object] = {"ok": True, "backup": str(made.backup), "copy": copy}
            text = f"Backed up to {made.backup} (checked)"
            text += f"; copied to {copy}.\n" if copy else ".\n"
            if made.warning is not None:
                answer["warning"] = made.warning
                print(f"kapsession: {made.warning}", file=sys.stderr)
        else:
            done = restore(paths, Path(args.backup))
            replaced = str(done.replaced) if done.replaced is not None else None
            answer = {"ok": True, "database": str(done.database), "replaced": replaced}
            text = f"Restored {done.database} from {done.backup} (checked)."
            text += f" The replaced database is kept as {replaced}.\n" if replaced else "\n"
    except StorageError as exc:  # refused, or a damaged database or backup: said as it is
        return problem(str(exc))
    except (OSError, sqlite3.Error) as exc:
        log.exception("the %s command failed", args.command)
        return problem(f"the {args.command} failed: {exc}. Nothing was removed")
    if args.json:
        json.dump(answer, out, indent=2)
        out.write("\n")
    else:
        out.write(text)
    return EXIT_OK


def _doctor(paths: Paths, as_json: bool, out: TextIO) -> int:
    from kapsession.services.doctor import Status, run_checks

    checks = run_checks(paths)
    failed = any(c.status is Status.FAIL for c in checks)
    if as_json:
        json.dump(
            {
                "ok": not failed,
                "training": paths.training,
                "checks": [c.as_dict() for c in checks],
            },
            out,
            indent=2,
        )
        out.write("\n")
    else:
        marks = {Status.OK: "ok  ", Status.WARN: "WARN", Status.FAIL: "FAIL"}
        for c in checks:
            out.write(f"[{marks[c.status]}] {c.name}: {c.detail}\n")
        out.write("Problems found.\n" if failed else "Ready.\n")
    if not failed:
        return EXIT_OK
    names = ", ".join(c.name for c in checks if c.status is Status.FAIL)
    return problem(f"not ready: {names}; each check in the report says what to do")


def _populate(context: AppContext, as_json: bool, out: TextIO) -> int:
    from kapsession.services.demo import write_demo

    written = write_demo(context.service, context.clock.now())
    made = written.course + written.sessions  # oldest first: the course lies before the others
    if as_json:
        json.dump([m.as_dict() for m in made], out, indent=2)
        out.write("\n")
    else:
        for m in made:
            out.write(f"{m.id}  {m.protocol:<24}{m.modality:<11}{', '.join(m.participants)}\n")
    return EXIT_OK
