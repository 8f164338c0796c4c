"""A command whose reader goes away (`kapsession sessions | head`) ends quietly, not with a
traceback: a real process writing into a pipe whose reading end is already closed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "command",
    [["sessions"], ["doctor"], ["doctor", "--json"], ["playlist", "check", "missing.m3u8"]],
    ids=["sessions", "doctor", "doctor-json", "playlist"],
)
def test_given_the_reader_has_gone_when_a_command_writes_then_it_ends_without_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    # Given a pipe whose reading end is closed before the command writes anything
    child = subprocess.Popen(
        [sys.executable, "-m", "kapsession", "--data-dir", str(tmp_path / "data"), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    # When it writes its output
    errors = child.stderr.read()
    code = child.wait(timeout=120)
    # Then there is no traceback, only the usual exit code of a command whose reader left
    assert "Traceback" not in errors, errors
    assert "BrokenPipeError" not in errors, errors
    assert code == 141
