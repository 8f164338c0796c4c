"""Every export, print and showing of a record on the command line is tied to a person (issue
18): `--staff NAME` with the PIN from a private `--pin-file` (or the terminal), checked by the
PIN service; private notes only for the session's therapist; training data needs nobody.

The clinical data is the demo's sessions written into a *clinical* database (made by
`open_context` without --training, so marked clinical), copied for each test."""

from __future__ import annotations

import re
import shutil
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.services.demo import DEMO_PIN, write_demo
from kapsession.services.pins import LOCKOUT_FAILURES, wait_after

pytestmark = pytest.mark.slow

EXIT_PROBLEM = 1
EXIT_USAGE = 2
THERAPIST = "Dr. Ruth Adeyemi"
NURSE = "Tom Becker"
PRIVATE_TEXT = "supervision"  # in the demo's private note


@pytest.fixture(scope="module")
def clinical(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A data folder whose clinical database holds the demo's sessions; their ids and staff."""
    folder = tmp_path_factory.mktemp("clinical") / "data"
    # written an hour ago: a test may add wrong PINs typed in the app since (the PINs' waits)
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
    context = open_context(
        resolve_paths(data_dir=folder, environ={}), clock=clock, daily_backup=False
    )
    try:
        assert not context.training
        written = write_demo(context.service, context.clock.now())
        staff = {s.display_name: s.id for s in context.service.staff.active()}
    finally:
        context.close()
    session = next(s for s in written.sessions if s.protocol == "iv-infusion")
    maya = next(s for s in written.sessions if s.client == "Maya Fischer")
    return folder, {"session": str(session.id), "maya": str(maya.id), "staff": staff}


@pytest.fixture
def data_dir(tmp_path: Path, clinical: tuple[Path, dict[str, Any]]) -> Path:
    """The clinical data, a copy of its own for this test (run_cli points --data-dir here)."""
    target = tmp_path / "data"
    shutil.copytree(clinical[0], target)
    return target


@pytest.fixture
def ids(clinical: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return clinical[1]


def pin_file(folder: Path, pin: str, mode: int = 0o600) -> Path:
    path = folder / f"pin-{uuid.uuid4().hex[:6]}"
    path.write_text(pin + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def audit(data_dir: Path, action: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(data_dir / "kapsession.sqlite3")
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(
            "SELECT staff_id, detail FROM audit_entry WHERE action = ? ORDER BY occurred_at",
            (action,),
        ).fetchall()
    finally:
        connection.close()


def _hex(staff_id: uuid.UUID) -> str:
    return staff_id.hex


def test_an_export_without_staff_is_refused_and_nothing_written(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "record.md"
    # When a clinical record is exported without saying who exports it
    result = run_cli("export", ids["session"], "--format", "md", "--out", str(out))
    # Then it is refused in one line naming --staff, and nothing is written or audited
    assert result.returncode == EXIT_PROBLEM
    assert "--staff" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()
    assert audit(data_dir, "export") == []


@pytest.mark.parametrize(
    "command",
    [("course-summary", "Maya Fischer", "--format", "md", "--out", "{out}"), ("history", "Maya")],
    ids=["course-summary", "history"],
)
def test_course_summary_and_history_need_staff_too(
    run_cli, data_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    out = tmp_path / "summary.md"
    result = run_cli(*(a.replace("{out}", str(out)) for a in command))
    assert result.returncode == EXIT_PROBLEM and "--staff" in result.stderr
    assert "Maya" not in result.stdout
    assert not out.exists()


def test_a_wrong_pin_is_refused_audited_and_nothing_written(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "record.md"
    wrong = pin_file(tmp_path, "97531")
    result = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(out),
        "--staff", NURSE, "--pin-file", str(wrong),
    )  # fmt: skip
    assert result.returncode == EXIT_PROBLEM
    assert "PIN is not right" in result.stderr and "Nothing was written" in result.stderr
    assert not out.exists()
    # And the refusal is in the audit trail under the nurse's name; no export row
    (refused,) = audit(data_dir, "pin.refused")
    assert refused["staff_id"] == _hex(ids["staff"][NURSE])
    assert audit(data_dir, "export") == []


def test_a_pin_file_other_users_can_read_is_refused(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "record.md"
    readable = pin_file(tmp_path, DEMO_PIN, mode=0o644)
    tried = len(audit(data_dir, "pin.accepted")) + len(audit(data_dir, "pin.refused"))
    result = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(out),
        "--staff", NURSE, "--pin-file", str(readable),
    )  # fmt: skip
    assert result.returncode == EXIT_PROBLEM
    assert "other users" in result.stderr and "chmod 600" in result.stderr
    assert not out.exists()
    # the PIN was not even tried
    assert len(audit(data_dir, "pin.accepted")) + len(audit(data_dir, "pin.refused")) == tried


def test_without_a_terminal_or_pin_file_the_pin_is_not_asked(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "record.md"
    result = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(out), "--staff", NURSE
    )
    assert result.returncode == EXIT_PROBLEM and "--pin-file" in result.stderr
    assert not out.exists()


def test_a_pin_file_without_staff_is_a_usage_mistake(
    run_cli, ids: dict[str, Any], tmp_path: Path
) -> None:
    result = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(tmp_path / "x.md"),
        "--pin-file", str(pin_file(tmp_path, DEMO_PIN)),
    )  # fmt: skip
    assert result.returncode == EXIT_USAGE and "--staff" in result.stderr


def test_the_right_pin_writes_the_export_and_its_audit_row_names_the_person(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "record.md"
    result = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(out),
        "--staff", NURSE.lower(), "--pin-file", str(pin_file(tmp_path, DEMO_PIN)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.exists() and PRIVATE_TEXT not in out.read_text(encoding="utf-8")
    (row,) = audit(data_dir, "export")
    assert row["staff_id"] == _hex(ids["staff"][NURSE])
    assert str(out) in row["detail"]


def test_private_notes_are_refused_to_a_nurse(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "private.md"
    result = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(out), "--include-private",
        "--staff", NURSE, "--pin-file", str(pin_file(tmp_path, DEMO_PIN)),
    )  # fmt: skip
    assert result.returncode == EXIT_PROBLEM
    assert "private psychotherapy notes" in result.stderr and "therapist" in result.stderr
    assert not out.exists()
    assert audit(data_dir, "export") == []


def test_private_notes_are_exported_by_the_sessions_therapist(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "private.md"
    result = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(out), "--include-private",
        "--staff", THERAPIST, "--pin-file", str(pin_file(tmp_path, DEMO_PIN)),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert PRIVATE_TEXT in out.read_text(encoding="utf-8")
    (row,) = audit(data_dir, "export")
    assert row["staff_id"] == _hex(ids["staff"][THERAPIST])
    assert '"private_notes_included": true' in row["detail"]


def test_course_summary_and_history_are_audited_with_the_person(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "summary.md"
    pin = str(pin_file(tmp_path, DEMO_PIN))
    summary = run_cli(
        "course-summary", "Maya Fischer", "--format", "md", "--out", str(out),
        "--staff", NURSE, "--pin-file", pin,
    )  # fmt: skip
    assert summary.returncode == 0, summary.stderr
    (row,) = audit(data_dir, "export")
    assert row["staff_id"] == _hex(ids["staff"][NURSE]) and "course_summary_md" in row["detail"]
    shown = run_cli("history", "Maya Fischer", "--staff", THERAPIST, "--pin-file", pin)
    assert shown.returncode == 0, shown.stderr
    assert "Maya Fischer" in shown.stdout
    (row,) = audit(data_dir, "history.shown")
    assert row["staff_id"] == _hex(ids["staff"][THERAPIST])


def _wrong_pins_in_the_app(data_dir: Path, name: str, count: int) -> None:
    """`count` wrong PINs typed for `name` at the app's sign-in a quarter of an hour ago (each
    after the wait the one before asked for): the same per-account count the command uses."""
    clock = FakeClock(datetime.now(UTC) - timedelta(minutes=15))
    context = open_context(resolve_paths(data_dir=data_dir, environ={}), clock=clock)
    try:
        member = next(s for s in context.service.staff.active() if s.display_name == name)
        for n in range(count):
            clock.advance(wait_after(n) + 1)
            assert not context.notes.pins.verify(member.id, "111111", purpose="sign in").ok
    finally:
        context.close()


def test_wrong_pins_on_the_command_line_count_toward_the_accounts_lock_out(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    # Given 4 wrong PINs typed for the nurse in the app a while ago
    _wrong_pins_in_the_app(data_dir, NURSE, LOCKOUT_FAILURES - 1)
    out = tmp_path / "summary.md"
    # When a fifth wrong one is given to course-summary
    wrong = run_cli(
        "course-summary", "Maya Fischer", "--format", "md", "--out", str(out),
        "--staff", NURSE, "--pin-file", str(pin_file(tmp_path, "97531")),
    )  # fmt: skip
    # Then it is refused, nothing written, and her account is locked out (audited, by the CLI)
    assert wrong.returncode == EXIT_PROBLEM and not out.exists()
    assert "PIN is not right" in wrong.stderr and "locked until" in wrong.stderr
    (locked,) = audit(data_dir, "pin.locked_out")
    assert locked["staff_id"] == _hex(ids["staff"][NURSE])
    assert '"export a course summary"' in locked["detail"]
    # When her right PIN is given to export, or to history, during the lock-out
    right = str(pin_file(tmp_path, DEMO_PIN))
    record = tmp_path / "record.md"
    export = run_cli(
        "export", ids["session"], "--format", "md", "--out", str(record),
        "--staff", NURSE, "--pin-file", right,
    )  # fmt: skip
    shown = run_cli("history", "Maya Fischer", "--staff", NURSE, "--pin-file", right)
    # Then each is refused in one line saying until when, and nothing is written or shown
    for result, not_done in ((export, "Nothing was written."), (shown, "Nothing was shown.")):
        assert result.returncode == EXIT_PROBLEM
        (line,) = result.stderr.strip().splitlines()
        assert re.search(r"this account is locked until \d\d:\d\d \(\d more minutes?\)", line)
        assert line.endswith(not_done), line
    assert not record.exists() and "Maya" not in shown.stdout
    assert audit(data_dir, "export") == [] and audit(data_dir, "history.shown") == []
    # And the right PIN was not even tried meanwhile: no more refusals than the five
    assert len(audit(data_dir, "pin.refused")) == LOCKOUT_FAILURES
    # And the therapist is not kept out
    therapist = run_cli("history", "Maya Fischer", "--staff", THERAPIST, "--pin-file", right)
    assert therapist.returncode == 0, therapist.stderr


def test_training_data_needs_no_staff(run_cli, data_dir: Path, tmp_path: Path) -> None:
    # Given the demo's training database (its marker says training)
    made = run_cli("demo", "--populate", "--json")
    assert made.returncode == 0, made.stderr
    out = tmp_path / "record.md"
    session = made.stdout.split('"id": "')[1].split('"')[0]
    # When a session is exported from it, private notes included, with nobody named
    result = run_cli(
        "--training", "export", session, "--format", "md", "--out", str(out), "--include-private"
    )
    # Then it is written
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_a_clinical_database_under_the_training_name_still_needs_staff(
    run_cli, data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    # Given the clinical database copied to the training database's file name
    for path in data_dir.glob("kapsession.sqlite3*"):
        shutil.copy(path, data_dir / path.name.replace("kapsession", "kapsession-training", 1))
    out = tmp_path / "record.md"
    # When it is exported as training data, nobody named
    result = run_cli("--training", "export", ids["session"], "--format", "md", "--out", str(out))
    # Then the stored marker says clinical: refused, nothing written
    assert result.returncode == EXIT_PROBLEM and "--staff" in result.stderr
    assert not out.exists()


def test_on_a_terminal_the_pin_is_asked_without_echo(
    cli_env: dict[str, str], data_dir: Path, ids: dict[str, Any], tmp_path: Path
) -> None:
    # Given the command started on a terminal of its own (a pseudo-terminal, its controlling
    # terminal), without --pin-file
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    terminal = os.ttyname(slave)
    out = tmp_path / "record.md"

    def take_terminal() -> None:  # after the new session: the pty becomes /dev/tty
        os.close(os.open(terminal, os.O_RDWR))

    child = subprocess.Popen(
        [sys.executable, "-m", "kapsession", "--data-dir", str(data_dir), "export",
         ids["session"], "--format", "md", "--out", str(out), "--staff", NURSE],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
        env=cli_env, start_new_session=True, preexec_fn=take_terminal,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        # When the prompt appears and the nurse types her PIN
        deadline = time.monotonic() + 120
        while b"PIN of Tom Becker" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                seen += os.read(master, 1024)
        assert b"PIN of Tom Becker" in seen, seen
        os.write(master, DEMO_PIN.encode() + b"\n")
        _stdout, stderr = child.communicate(timeout=120)
        while select.select([master], [], [], 0.2)[0]:
            try:
                seen += os.read(master, 1024)
            except OSError:
                break
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    # Then the export is written as hers, and the PIN never showed on the terminal
    assert child.returncode == 0, stderr
    assert out.exists()
    assert DEMO_PIN.encode() not in seen
    (row,) = audit(data_dir, "export")
    assert row["staff_id"] == _hex(ids["staff"][NURSE])
