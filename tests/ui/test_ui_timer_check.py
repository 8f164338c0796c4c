"""The check that no UI test leaves a timer running can fail a test: shown by running, in a
separate pytest, a test that leaves a session clock ticking."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kapsession

HERE = Path(__file__).parent
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]

LEAKY_TEST = """
from ui_harness import RunningApp


def test_leaves_the_session_clock_ticking(app: RunningApp) -> None:
    app.start_session("Maya Fischer")
    assert app.controller.live is not None


def test_goes_back_to_the_start_screen(app: RunningApp) -> None:
    app.start_session("Maya Fischer")
    app.leave_session()
"""


@pytest.mark.slow
@pytest.mark.timeout(400)  # the inner pytest may take 300 s
def test_a_test_that_leaves_the_session_clock_ticking_fails(tmp_path: Path) -> None:
    # Given this folder's conftest and harness, and a test that never leaves its session
    for name in ("conftest.py", "ui_harness.py", "laptop-screen.json"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "test_leaky.py").write_text(LEAKY_TEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")])  # support/
    env["QT_QPA_PLATFORM"] = "offscreen"
    # When pytest runs it
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "qt_api=pyside6"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Then the leaky test errors, naming the owner of the timer; the tidy one passes cleanly
    out = result.stdout
    assert result.returncode == 1, out
    assert "2 passed, 1 error" in out, out  # the leaky test passes, then errors at teardown
    assert "ERROR test_leaky.py::test_leaves_the_session_clock_ticking" in out, out
    assert "left 1 QTimer(s) running, owned by: LiveSession" in out, out
