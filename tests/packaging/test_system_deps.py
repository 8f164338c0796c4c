"""scripts/system-deps.sh, the first step of `make run` and `make test`, run for real (bash,
dpkg-query) on this machine, whose packages `make test` has already installed.

The whole set-up from nothing is proven in a clean Debian root by `make test-fresh`; these are
the two promises a person meets on a machine that is already set up, or that cannot install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.real_tools import require_tool, unavailable

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "system-deps.sh"
WAIT_S = 120  # a guard against a hung child, never a timing assertion


def system_deps(mode: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), mode],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )


@pytest.mark.parametrize("mode", ["run", "bundle", "test"])  # `make test` installs these
def test_given_every_package_is_there_when_it_runs_then_it_installs_nothing(mode: str) -> None:
    # Given a machine `make test` has set up
    require_tool("dpkg-query", "dpkg")
    # When the script runs
    result = system_deps(mode)
    # Then it finds nothing missing and says so in one line at most
    assert result.returncode == 0, result.stderr
    assert "missing Debian packages" not in result.stderr
    assert "apt-get" not in result.stderr


def test_given_a_missing_package_and_no_way_to_root_then_it_prints_the_exact_command() -> None:
    # Given a person who is not root, has no password-less sudo and no terminal to type one
    runuser = require_tool("runuser", "util-linux")
    if os.geteuid() != 0:
        unavailable("running the script as another user needs root")
    # and a package the script must treat as missing (its documented switch for this check)
    missing = "libvlc5"
    # When the script runs as that person (its text handed over: tmp folders are root's own)
    result = subprocess.run(
        [
            runuser,
            "-u",
            "nobody",
            "--",
            "env",
            f"KAPSESSION_ASSUME_MISSING={missing}",
            f"PATH={os.environ.get('PATH', os.defpath)}",
            "bash",
            "-c",
            SCRIPT.read_text(encoding="utf-8"),
            "system-deps.sh",
            "run",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    # Then nothing is installed, it stops with 1 and prints the command to run, exactly
    assert result.returncode == 1, result.stderr
    assert "cannot install them: not root and no usable sudo" in result.stderr
    command = f"apt-get install -y --no-install-recommends {missing}"
    if shutil.which("sudo"):
        assert f"sudo apt-get update && sudo {command}" in result.stderr
    else:
        assert f"apt-get update && {command}" in result.stderr
    assert "system-deps: installed" not in result.stderr
