"""A private PulseAudio daemon with one null sink, for benchmarks that play real audio.

The same set-up as the audio tests' `pulse_sink` fixture (tests/audio/conftest.py), as a
context manager: the daemon listens only on a socket in a temporary folder, so nothing is
heard and the user's own sound server is never touched. Yields the environment a child
process needs to play into the sink, or None when PulseAudio is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SINK = "kapbench"
START_TIMEOUT_S = 15.0


class PulseUnavailable(RuntimeError):
    """PulseAudio is installed but its daemon did not start; the message has its log."""


def pulse_installed() -> bool:
    return all(shutil.which(tool) for tool in ("pulseaudio", "pactl"))


@contextmanager
def private_null_sink() -> Iterator[dict[str, str] | None]:
    """Environment variables for children to play into a private null sink (None: no PulseAudio)."""
    if not pulse_installed():
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="kapbench-pulse-") as folder:
        runtime = Path(folder) / "runtime"
        runtime.mkdir(mode=0o700)
        socket = runtime / "native"
        env = {
            "XDG_RUNTIME_DIR": str(runtime),
            "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
            "PULSE_STATE_PATH": str(runtime / "state"),
            "PULSE_SERVER": f"unix:{socket}",
            "HOME": str(runtime),
        }
        log = Path(folder) / "pulseaudio.log"
        with log.open("wb") as log_stream:
            daemon = subprocess.Popen(
                [
                    "pulseaudio",
                    "-n",
                    "--daemonize=no",
                    "--exit-idle-time=-1",
                    "--use-pid-file=no",
                    "--disallow-exit",
                    "--log-target=stderr",
                    "-L",
                    f"module-null-sink sink_name={SINK} rate=44100",
                    "-L",
                    f"module-native-protocol-unix auth-anonymous=1 socket={socket}",
                ],
                env={**os.environ, **env},
                stdout=log_stream,
                stderr=log_stream,
                stdin=subprocess.DEVNULL,
            )
        try:
            _wait_until_answering(daemon, {**os.environ, **env}, log)
            yield env
        finally:
            daemon.terminate()
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=10)


def _wait_until_answering(daemon: subprocess.Popen[bytes], env: dict[str, str], log: Path) -> None:
    """Poll `pactl info` until the daemon answers, for at most START_TIMEOUT_S."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise PulseUnavailable(f"pulseaudio exited at start:\n{_tail(log)}")
        answer = subprocess.run(
            ["pactl", "info"], env=env, capture_output=True, text=True, timeout=10, check=False
        )
        if answer.returncode == 0 and SINK in answer.stdout:
            return
        time.sleep(0.1)
    raise PulseUnavailable(f"pulseaudio did not answer in {START_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]
