"""`kapsession export`: every format headless, and every refusal with a clear message and a
non-zero exit, nothing written."""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

EXIT_PROBLEM = 1
EXIT_USAGE = 2


@pytest.fixture
def demo(
    demo_folder: tuple[Path, list[dict[str, object]]], data_dir: Path
) -> list[dict[str, object]]:
    """The demo's sessions in the test's own data folder: a copy of the module's (`demo
    --populate` run once, tests/cli/conftest.py)."""
    folder, made = demo_folder
    assert len(made) >= 5
    shutil.copytree(folder, data_dir)
    return made


def export(run_cli, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--training", "export", *args)


def _by(demo: list[dict[str, object]], **match: str) -> str:
    return str(next(m for m in demo if all(m[k] == v for k, v in match.items()))["id"])


@pytest.mark.parametrize("fmt", ["md", "fhir", "csv", "pdf"])
def test_each_format_is_written_from_the_command_line(
    run_cli, demo, tmp_path: Path, fmt: str
) -> None:
    session = _by(demo, protocol="sublingual-kap-3h", client="Maya Fischer")
    out = tmp_path / f"record.{fmt}"
    result = export(run_cli, session[:8], "--format", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "Maya Fischer" in result.stdout
    if fmt == "md":
        assert "Maya Fischer" in out.read_text(encoding="utf-8")
    elif fmt == "fhir":
        assert json.loads(out.read_text(encoding="utf-8"))["resourceType"] == "Bundle"
    elif fmt == "csv":
        written = sorted(tmp_path.glob("record*.csv"))
        assert len(written) == 2
        for path in written:
            assert list(csv.DictReader(path.open(encoding="utf-8")))
    else:
        assert out.read_bytes().startswith(b"%PDF")


def test_rems_for_the_esketamine_session(run_cli, demo, tmp_path: Path) -> None:
    session = _by(demo, protocol="intranasal-esketamine")
    out = tmp_path / "rems.pdf"
    result = export(run_cli, session, "--format", "rems", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF")


def test_rems_for_another_protocol_is_refused(run_cli, demo, tmp_path: Path) -> None:
    session = _by(demo, protocol="iv-infusion")
    out = tmp_path / "rems.pdf"
    result = export(run_cli, session, "--format", "rems", "--out", str(out))
    assert result.returncode == EXIT_PROBLEM
    assert "esketamine" in result.stderr
    assert not out.exists()


def test_a_couples_session_needs_participant(run_cli, demo, tmp_path: Path) -> None:
    session = _by(demo, modality="couples")
    out = tmp_path / "couple.md"
    refused = export(run_cli, session, "--format", "md", "--out", str(out))
    assert refused.returncode == EXIT_PROBLEM
    assert "Jonah Okafor" in refused.stderr and "Lena Okafor" in refused.stderr
    assert not out.exists()
    done = export(
        run_cli, session, "--format", "md", "--out", str(out), "--participant", "Lena Okafor"
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "Lena Okafor" in text and "Jonah" not in text and "DEMO-0002" not in text


def test_an_existing_file_needs_force(run_cli, demo, tmp_path: Path) -> None:
    session = _by(demo, protocol="iv-infusion")
    out = tmp_path / "record.md"
    out.write_text("keep me", encoding="utf-8")
    refused = export(run_cli, session, "--format", "md", "--out", str(out))
    assert refused.returncode == EXIT_PROBLEM and "--force" in refused.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    forced = export(run_cli, session, "--format", "md", "--out", str(out), "--force")
    assert forced.returncode == 0 and "keep me" not in out.read_text(encoding="utf-8")


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask (new files 0644), which the command inherits."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("fmt", ["md", "csv"])
def test_an_export_outside_the_data_folder_is_readable_by_its_user_alone(
    run_cli, demo, tmp_path: Path, umask_022: None, fmt: str
) -> None:
    # Given the usual umask, a folder of the user's readable by everyone, and a file there
    # readable by everyone that the export replaces
    session = _by(demo, protocol="sublingual-kap-3h", client="Maya Fischer")
    folder = tmp_path / "exports"
    folder.mkdir(mode=0o755)
    out = folder / f"record.{fmt}"
    old = folder / ("record-events.csv" if fmt == "csv" else out.name)  # CSV: two files
    old.write_text("old", encoding="utf-8")
    old.chmod(0o644)
    # When the record (PHI) is exported there over it
    result = export(run_cli, session, "--format", fmt, "--out", str(out), "--force")
    # Then every file written is its user's alone (the folder is the user's to choose)
    assert result.returncode == 0, result.stderr
    written = sorted(folder.iterdir())
    assert len(written) == (2 if fmt == "csv" else 1)
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {
        p.name: oct(0o600) for p in written
    }


def test_private_notes_only_with_include_private(run_cli, demo, tmp_path: Path) -> None:
    session = _by(demo, protocol="iv-infusion")
    plain, private = tmp_path / "plain.md", tmp_path / "private.md"
    assert export(run_cli, session, "--format", "md", "--out", str(plain)).returncode == 0
    assert (
        export(
            run_cli, session, "--format", "md", "--out", str(private), "--include-private"
        ).returncode
        == 0
    )
    assert "supervision" not in plain.read_text(encoding="utf-8")
    assert "supervision" in private.read_text(encoding="utf-8")


def test_the_unsigned_session_exports_as_a_draft(run_cli, demo, tmp_path: Path) -> None:
    session = str(demo[-1]["id"])
    out = tmp_path / "draft.md"
    result = export(run_cli, session, "--format", "md", "--out", str(out))
    assert result.returncode == 0 and "DRAFT" in result.stdout
    assert "DRAFT" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["00000000", "--format", "md", "--out", "x.md"], EXIT_PROBLEM, "No session"),
        (["abcd", "--format", "docx", "--out", "x.docx"], EXIT_USAGE, "invalid choice"),
        (["abcd", "--format", "md"], EXIT_USAGE, "--out"),
    ],
    ids=["unknown-session", "unknown-format", "no-out"],
)
def test_bad_requests_are_refused(
    run_cli, demo, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = export(run_cli, *args)
    assert result.returncode == code
    assert message in result.stderr
    assert not (tmp_path / "x.md").exists()
