"""`doctor`'s libVLC line names the library file that really loaded ("from <path>").

In a bundle that is how IT sees the bundled libVLC is in use, not the laptop's. Checked in this
process, and in `kapsession doctor --json` processes: one with the system's libVLC, one pointed
(PYTHON_VLC_LIB_PATH, as the bundle does) at a copy of it in tmp_path.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.real_tools import unavailable

import kapsession
from kapsession.paths import Paths
from kapsession.services.doctor import Status, run_checks

REPO = Path(kapsession.__file__).resolve().parents[1]
LOADS_FROM = " loads from "


def libvlc_detail_path(detail: str) -> Path:
    """The file named after "loads from" in the libVLC check's detail."""
    assert LOADS_FROM in detail, detail
    return Path(detail.split(LOADS_FROM, 1)[1])


def mapped_libvlc_files() -> set[Path]:
    """The libvlc.so files mapped into this process."""
    with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
        return {
            Path(line.split(maxsplit=5)[5].strip())
            for line in maps
            if len(line.split(maxsplit=5)) == 6 and "/libvlc.so" in line
        }


@pytest.fixture
def system_libvlc() -> None:
    if ctypes.util.find_library("vlc") is None:
        unavailable("libVLC is not installed: sudo apt-get install libvlc5 libvlc-bin")


@pytest.mark.usefixtures("system_libvlc")
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_given_libvlc_loads_when_doctor_runs_then_it_names_the_file_this_process_mapped(
    data_paths: Paths,
) -> None:
    # When doctor's checks run in this process
    checks = {c.name: c for c in run_checks(data_paths)}
    # Then libVLC passes, naming an existing library file: the one this process mapped
    libvlc = checks["libVLC"]
    assert libvlc.status is Status.OK
    named = libvlc_detail_path(libvlc.detail)
    assert named.is_absolute() and named.is_file()
    assert named.name.startswith("libvlc.so")
    assert named in mapped_libvlc_files()


def system_libvlc_file() -> Path:
    """The system's libVLC file, as the linker finds it."""
    name = ctypes.util.find_library("vlc")
    assert name is not None
    for line in subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        soname, _, target = line.strip().partition(" => ")
        if target and soname.split(" ", 1)[0] == name:
            return Path(target).resolve()
    pytest.fail(f"ldconfig does not list {name}")


def doctor_json(data_dir: Path, home: Path, **extra_env: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAPSESSION_", "PYTHON_VLC"))}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        **extra_env,
    )
    result = subprocess.run(
        [sys.executable, "-m", "kapsession", "--data-dir", str(data_dir), "doctor", "--json"],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.slow
@pytest.mark.usefixtures("system_libvlc")
@pytest.mark.parametrize("which", ["system", "copy"])
def test_given_a_libvlc_when_doctor_json_runs_then_its_libvlc_detail_names_that_file(
    tmp_path: Path, which: str
) -> None:
    # Given the system's libVLC, or a copy of it that python-vlc is pointed at (as in a bundle)
    home = tmp_path / "home"
    home.mkdir()
    extra: dict[str, str] = {}
    copy = tmp_path / "bundle" / "libvlc.so.5"
    if which == "copy":
        system = system_libvlc_file()
        copy.parent.mkdir()
        shutil.copy2(system, copy)
        extra["PYTHON_VLC_LIB_PATH"] = str(copy)
    # When `kapsession doctor --json` runs
    report = doctor_json(tmp_path / "data", home, **extra)
    # Then its libVLC check passes and names an existing file: the copy when pointed at it
    libvlc = next(c for c in report["checks"] if c["name"] == "libVLC")
    assert libvlc["status"] == "ok", libvlc
    named = libvlc_detail_path(libvlc["detail"])
    assert named.is_absolute() and named.is_file(), named
    if which == "copy":
        assert named == copy
    else:
        assert named.parent != copy.parent
        assert named.name.startswith("libvlc.so")
