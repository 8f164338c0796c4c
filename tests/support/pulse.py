"""A private PulseAudio daemon with one null sink, for tests that check what was audible.

`null_sink_daemon` starts it without pytest (benchmarks/bench_music_cpu.py plays into it too);
the `pulse_sink` fixture wraps it for tests.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.real_tools import require_tool

START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class PulseSink:
    server: str  # value for PULSE_SERVER
    sink: str
    env: dict[str, str]
    log: Path

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"


class PulseUnavailable(RuntimeError):
    """The PulseAudio daemon did not start or did not answer; the message has its log."""


@contextmanager
def null_sink_daemon(
    folder: Path, sink: str, *, pulseaudio: str = "pulseaudio"
) -> Iterator[dict[str, str]]:
    """A PulseAudio daemon with one null sink named `sink`, reachable only through a socket in
    `folder` (its log is `folder`/pulseaudio.log), so nothing is heard and the user's own sound
    server is never touched. Yields the variables a process needs to play into it."""
    runtime = folder / "pulse-runtime"
    runtime.mkdir(mode=0o700)
    socket = runtime / "native"
    added = {
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
        "PULSE_STATE_PATH": str(runtime / "state"),
        "PULSE_SERVER": f"unix:{socket}",
        "HOME": str(runtime),
    }
    env = {**os.environ, **added}
    log = folder / "pulseaudio.log"
    with log.open("wb") as log_stream:
        daemon = subprocess.Popen(
            [
                pulseaudio,
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disallow-exit",
                "--log-target=stderr",
                "-L",
                f"module-null-sink sink_name={sink} rate=44100",
                "-L",
                f"module-native-protocol-unix auth-anonymous=1 socket={socket}",
            ],
            env=env,
            stdout=log_stream,
            stderr=log_stream,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_for_pulse(daemon, env, log, sink)
        yield added
    finally:
        daemon.terminate()
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait(timeout=10)


@pytest.fixture
def pulse_sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PulseSink]:
    """A private PulseAudio daemon with one null sink, reachable only through its socket.

    PULSE_SERVER is set for this process so libVLC's pulse output plays into the sink.
    """
    pulseaudio = require_tool("pulseaudio", "pulseaudio")
    require_tool("parec", "pulseaudio-utils")
    require_tool("pactl", "pulseaudio-utils")
    with ExitStack() as stack:
        try:
            added = stack.enter_context(
                null_sink_daemon(tmp_path, "kaptest", pulseaudio=pulseaudio)
            )
        except PulseUnavailable as exc:
            pytest.fail(str(exc))
        for name in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH", "PULSE_SERVER"):
            monkeypatch.setenv(name, added[name])
        env = {**os.environ, **added}
        yield PulseSink(added["PULSE_SERVER"], "kaptest", env, tmp_path / "pulseaudio.log")


def _wait_for_pulse(
    daemon: subprocess.Popen[bytes], env: dict[str, str], log: Path, sink: str
) -> None:
    """Poll `pactl info` until the daemon answers (bounded; a daemon start is not instant)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise PulseUnavailable(f"pulseaudio exited at start:\n{_tail(log)}")
        answer = subprocess.run(
            ["pactl", "info"], env=env, capture_output=True, text=True, timeout=10, check=False
        )
        if answer.returncode == 0 and sink in answer.stdout:
            return
        time.sleep(0.1)
    raise PulseUnavailable(f"pulseaudio did not answer in {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


@contextmanager
def record_sink(sink: PulseSink, path: Path, *, rate_hz: int) -> Iterator[Path]:
    """Record what reaches `sink` (its monitor) into `path` while the block runs: raw signed
    16-bit mono samples at `rate_hz`, with a short capture latency. The block starts once the
    recorder is connected (its first samples written), not merely started: under load it used
    to join after the sound had begun."""
    parec = require_tool("parec", "pulseaudio-utils")
    with path.open("wb") as out:
        recorder = subprocess.Popen(
            [
                *(parec, "--raw", "--format=s16le", f"--rate={rate_hz}", "--channels=1"),
                *("--latency-msec=10", "-d", sink.monitor),
            ],
            stdout=out,
            env=sink.env,
        )
    try:
        _wait_until_recording(recorder, path)
        yield path
    finally:
        recorder.terminate()
        recorder.wait(timeout=10)


RECORDER_START_S = 15.0


def _wait_until_recording(recorder: subprocess.Popen[bytes], path: Path) -> None:
    """Until the recorder has written its first samples (a monitor sends silence while
    nothing plays), or fail saying why."""
    deadline = time.monotonic() + RECORDER_START_S
    while path.stat().st_size == 0:
        if recorder.poll() is not None:
            raise AssertionError(f"parec exited with {recorder.returncode} before recording")
        if time.monotonic() > deadline:
            raise AssertionError(f"parec wrote nothing in {RECORDER_START_S:.0f} s")
        time.sleep(0.02)
