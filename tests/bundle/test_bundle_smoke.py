"""The room-laptop bundle, built with build.spec and run as a clinic would run it.

The bundle is built once for this module (about 40 s), or taken from KAPSESSION_BUNDLE_DIR
(e.g. `dist/kapsession` after `make bundle`). The checks run the built binary with the system's
libVLC hidden (hide_system_libvlc.sh in a private mount namespace), so the music must come from
the bundle's own libVLC and plugins:
- its size is within the 200 MB target and every library in it finds what it links;
- `doctor --json` passes and names the bundled libVLC;
- `sound-check` plays a bundled track into a private PulseAudio null sink, and the recording
  of that sink is not silent;
- the GUI starts offscreen to a shown window (its database made by the bundled migrations),
  then quits; `demo --populate` and a PDF export work from the bundle.
"""

from __future__ import annotations

import array
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pulse import PulseSink, pulse_sink, record_sink
from support.real_tools import require_tool, unavailable

__all__ = ["pulse_sink"]

# The module fixture builds the bundle (up to 15 min on a loaded machine) inside the first test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[2]
HIDE = Path(__file__).with_name("hide_system_libvlc.sh")
SIZE_TARGET_BYTES = 200 * 1000 * 1000
RATE_HZ = 44100


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built bundle's folder (holding the `kapsession` executable)."""
    given = os.environ.get("KAPSESSION_BUNDLE_DIR")
    if given:
        folder = Path(given)
        assert (folder / "kapsession").is_file(), f"KAPSESSION_BUNDLE_DIR={given} has no binary"
        return folder
    pyinstaller = Path(sys.executable).with_name("pyinstaller")
    if not pyinstaller.exists():
        unavailable("PyInstaller is not installed in the venv: make venv")
    work = tmp_path_factory.mktemp("bundle")
    build = subprocess.run(
        [
            str(pyinstaller),
            "--noconfirm",
            "--log-level=WARN",
            f"--distpath={work / 'dist'}",
            f"--workpath={work / 'build'}",
            str(REPO / "build.spec"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert build.returncode == 0, f"build.spec failed:\n{build.stderr[-4000:]}"
    return work / "dist" / "kapsession"


@pytest.fixture(scope="module")
def hidden_libvlc() -> list[str]:
    """The command prefix that hides the system libVLC, proven to hide it."""
    unshare = require_tool("unshare", "util-linux")
    prefix = [unshare, "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        prefix.append("--map-root-user")
    prefix += ["bash", str(HIDE)]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import ctypes; ctypes.CDLL('libvlc.so.5')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "Operation not permitted" in probe.stderr or "unshare failed" in probe.stderr:
        unavailable(f"cannot make a private mount namespace here: {probe.stderr.strip()}")
    assert probe.returncode != 0, "the system libVLC still loads inside the namespace"
    assert "OSError" in probe.stderr, probe.stderr
    return prefix


@pytest.fixture
def run_bundled(
    bundle: Path, hidden_libvlc: list[str], tmp_path: Path
) -> Iterator[tuple[Path, dict[str, str]]]:
    """The binary and an environment: offscreen Qt, a fresh data folder, no system VLC."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VLC_", "KAPSESSION_")) and key != "VIRTUAL_ENV"
    }
    env.update(
        QT_QPA_PLATFORM="offscreen",
        KAPSESSION_DATA_DIR=str(tmp_path / "data"),
        HOME=str(tmp_path / "home"),
    )
    (tmp_path / "home").mkdir()
    yield bundle / "kapsession", env


def run(
    prefix: list[str], command: list[str], env: dict[str, str], timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *command], env=env, capture_output=True, text=True, timeout=timeout_s
    )


def test_the_bundle_is_within_its_size_and_every_library_finds_what_it_links(
    bundle: Path,
) -> None:
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    size = sum(p.stat().st_size for p in files)
    assert size <= SIZE_TARGET_BYTES, f"bundle is {size / 1e6:.0f} MB (target 200 MB)"
    internal = bundle / "_internal"
    plugins = internal / "vlc" / "plugins"
    assert (plugins / "plugins.dat").is_file(), "no fresh libVLC plugins cache"
    assert not (plugins / "video_output").exists(), "video plugins were bundled"
    assert not list(internal.rglob("*WebEngine*")), "WebEngine was bundled"
    ldd = require_tool("ldd", "libc-bin")
    unresolved = []
    for library in [p for p in files if ".so" in p.name]:
        listing = subprocess.run(
            [ldd, str(library)],
            env={**os.environ, "LD_LIBRARY_PATH": str(internal)},
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        unresolved += [
            f"{library.name}: {line.strip()}"
            for line in listing.splitlines()
            if "not found" in line
        ]
    assert unresolved == []
    broken_links = [p for p in bundle.rglob("*") if p.is_symlink() and not p.exists()]
    assert broken_links == []


def test_doctor_passes_with_the_bundled_libvlc_when_the_system_has_none(
    run_bundled: tuple[Path, dict[str, str]], hidden_libvlc: list[str], bundle: Path
) -> None:
    binary, env = run_bundled
    result = run(hidden_libvlc, [str(binary), "doctor", "--json"], env)
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["libVLC"]["status"] == "ok", checks["libVLC"]
    assert str(bundle.resolve()) in checks["libVLC"]["detail"]
    assert checks["protocols"]["status"] == "ok", checks["protocols"]
    assert result.returncode == 0, result.stderr


def test_the_bundle_plays_its_own_music_audibly_without_a_system_vlc(
    run_bundled: tuple[Path, dict[str, str]],
    hidden_libvlc: list[str],
    bundle: Path,
    pulse_sink: PulseSink,
    tmp_path: Path,
) -> None:
    binary, env = run_bundled
    env = {**env, **{k: pulse_sink.env[k] for k in ("PULSE_SERVER", "XDG_RUNTIME_DIR")}}
    recording = tmp_path / "sink.raw"
    with record_sink(pulse_sink, recording, rate_hz=RATE_HZ):
        result = run(
            hidden_libvlc,
            [str(binary), "sound-check", "--aout=pulse", "--seconds=2", "--json"],
            env,
        )
    report = json.loads(result.stdout)
    assert report["ok"] is True, report
    assert report["libvlc_path"].startswith(str(bundle.resolve())), report
    assert Path(report["file"]).is_relative_to(bundle.resolve())
    assert report["played_ms"] >= 1000
    samples = array.array("h", recording.read_bytes()[: len(recording.read_bytes()) // 2 * 2])
    # The loudest quarter second: the recorder may join late or lose its last buffer when
    # stopped (seen under load), so the silence around the sound is not averaged in.
    rms = loudest_rms(samples, RATE_HZ // 4)
    assert rms > 0.005, f"the sink heard nothing (RMS {rms:.5f}, {len(samples)} samples)"


def loudest_rms(samples: array.array[int], window: int) -> float:
    """The RMS of the loudest `window` consecutive samples (windows side by side), 0..1."""
    best = 0.0
    for start in range(0, max(len(samples) - window + 1, 1), window):
        part = samples[start : start + window]
        if part:
            best = max(best, math.sqrt(sum(s * s for s in part) / len(part)) / 32768)
    return best


def test_the_gui_starts_offscreen_to_a_shown_window_and_quits(
    run_bundled: tuple[Path, dict[str, str]], hidden_libvlc: list[str]
) -> None:
    binary, env = run_bundled
    result = run(hidden_libvlc, [str(binary)], {**env, "KAPSESSION_STARTUP_PROBE": "shown"})
    assert result.returncode == 0, result.stderr[-3000:]
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["shown"] is True and shown["screen"] == "start", shown
    # the bundled migrations made the database: doctor now finds it current
    doctor = json.loads(run(hidden_libvlc, [str(binary), "doctor", "--json"], env).stdout)
    database = next(c for c in doctor["checks"] if c["name"] == "database")
    assert database["status"] == "ok", database


def test_demo_records_and_a_pdf_export_work_from_the_bundle(
    run_bundled: tuple[Path, dict[str, str]], hidden_libvlc: list[str], tmp_path: Path
) -> None:
    binary, env = run_bundled
    populate = run(hidden_libvlc, [str(binary), "demo", "--populate", "--json"], env)
    assert populate.returncode == 0, populate.stderr[-3000:]
    first = json.loads(populate.stdout)[0]["id"]
    out = tmp_path / "record.pdf"
    export = run(
        hidden_libvlc,
        [str(binary), "--training", "export", first, "--format", "pdf", "--out", str(out)],
        env,
    )
    assert export.returncode == 0, export.stderr[-3000:]
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        unavailable("pdftotext is not installed: sudo apt-get install poppler-utils")
    assert pdftotext is not None
    text = subprocess.run(
        [pdftotext, str(out), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "Page 1 of" in text
