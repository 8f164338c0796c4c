"""The real clock under a wall-clock jump: a live session's elapsed time does not move.

The child process (clock_child.py) runs under Debian's libfaketime, preloaded, with its wall
clock read from an offset file the test rewrites (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1:
read again at every call) and its monotonic clocks left alone (FAKETIME_DONT_FAKE_MONOTONIC=1;
without it libfaketime fakes CLOCK_BOOTTIME too). The child opens a real data folder the way the
app does, so the session runs on SystemClock; the test moves the child's wall clock by an hour
at a time and asks for the session's elapsed time.

Every reading of the child is checked against the test's own clocks (not faked, the same
kernel's), read just before the question was sent and just after the answer came, so no step
depends on how fast the machine is.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.real_tools import unavailable

import kapsession

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("clock_child.py")
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]
WAIT_S = 60.0  # a guard against a hung child, never a timing assertion
HOUR = 3600
ROUNDING_S = 0.001  # seconds since 1970 as a float, shifted by the offset and back


def libfaketime() -> Path:
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for lib in (
        Path("/usr/lib") / multiarch / "faketime" / "libfaketime.so.1",
        Path("/usr/lib/faketime/libfaketime.so.1"),
        Path("/usr/local/lib/faketime/libfaketime.so.1"),
    ):
        if lib.is_file():
            return lib
    unavailable("libfaketime is not installed: sudo apt-get install libfaketime")
    raise AssertionError("unreachable")


def boottime() -> float:
    return time.clock_gettime(time.CLOCK_BOOTTIME)


@dataclass(frozen=True)
class Answer:
    """One answer of the child, with the test's clocks read around the question."""

    value: dict[str, Any]
    sent_wall: float
    received_wall: float
    sent_boot: float
    received_boot: float


class FakedChild:
    """clock_child.py under libfaketime, its wall clock `offset` seconds from the real one."""

    def __init__(self, data_dir: Path, work: Path) -> None:
        self._offset_file = work / "faketime-offset"
        self.move_wall_clock_to(0)
        self._stderr_path = work / "clock-child.stderr"
        self._stderr = self._stderr_path.open("w", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
        env.update(
            QT_QPA_PLATFORM="offscreen",
            PYTHONPATH=os.pathsep.join(
                [str(REPO_ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
            ),
            LD_PRELOAD=str(libfaketime()),
            FAKETIME_DONT_FAKE_MONOTONIC="1",
            FAKETIME_TIMESTAMP_FILE=str(self._offset_file),
            FAKETIME_NO_CACHE="1",
        )
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def move_wall_clock_to(self, offset_s: int) -> None:
        """Replaced whole, so the child never reads a half-written file."""
        partial = self._offset_file.with_suffix(".partial")
        partial.write_text(f"{offset_s:+d}\n", encoding="ascii")
        partial.replace(self._offset_file)

    def ask(self, command: str) -> Answer:
        assert self.proc.stdin is not None
        sent_wall, sent_boot = time.time(), boottime()
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        try:
            line = self._lines.get(timeout=WAIT_S)
        except queue.Empty:
            self.fail(f"no answer to {command!r}")
        received_boot, received_wall = boottime(), time.time()
        if line is None:
            self.fail(f"the child exited with status {self.proc.wait(WAIT_S)}")
        assert line is not None
        value = json.loads(line)
        if "error" in value:
            self.fail(value["error"])
        return Answer(value, sent_wall, received_wall, sent_boot, received_boot)

    def quit(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        return self.proc.wait(timeout=WAIT_S)

    def stderr(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_text(encoding="utf-8")

    def fail(self, why: str) -> None:
        self.stop()
        pytest.fail(f"clock child: {why}\nstderr:\n{self.stderr()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=WAIT_S)
        self._stderr.close()


@pytest.fixture
def child(tmp_path: Path) -> Iterator[FakedChild]:
    faked = FakedChild(tmp_path / "data", tmp_path)
    try:
        yield faked
    finally:
        faked.stop()


def check_clocks(child: FakedChild, offset_s: int) -> None:
    """The child's wall clock is `offset_s` from the real one; its boot clock is the real one."""
    seen = child.ask("clocks")
    wall, boot = seen.value["wall"], seen.value["boottime"]
    assert seen.sent_wall - ROUNDING_S <= wall - offset_s <= seen.received_wall + ROUNDING_S
    assert seen.sent_boot <= boot <= seen.received_boot


def real_time_between(before: Answer, after: Answer) -> tuple[float, float]:
    """The least and the most real time that can have passed between two answers: from the
    first answer's arrival to the second question, and from the first question to the second
    answer."""
    return after.sent_boot - before.received_boot, after.received_boot - before.sent_boot


def test_a_wall_clock_jump_does_not_move_a_live_session_s_elapsed_time(
    child: FakedChild,
) -> None:
    # Given a child whose wall clock is faked and whose boot clock is not: moving its wall
    # clock an hour ahead moves the time it reads, not its CLOCK_BOOTTIME
    check_clocks(child, 0)
    child.move_wall_clock_to(HOUR)
    check_clocks(child, HOUR)
    child.move_wall_clock_to(0)
    check_clocks(child, 0)
    # And a live session the child opened on a real data folder, the way the app does
    opened = child.ask("open").value
    assert opened["session"]
    before = child.ask("elapsed")
    assert before.value["warnings"] == []
    for offset_s in (HOUR, 0, -HOUR):
        # When the wall clock is moved an hour (ahead, back, back again to before the start)
        child.move_wall_clock_to(offset_s)
        check_clocks(child, offset_s)
        after = child.ask("elapsed")
        # Then the session's elapsed time moved by the real time that passed, not by the hour
        moved = after.value["elapsed_s"] - before.value["elapsed_s"]
        least, most = real_time_between(before, after)
        assert least - 1.0 < moved < most + 1.0
        # And the session noticed the jump and said so in the log
        assert any("wall clock moved" in w for w in after.value["warnings"])
        before = after
    # And the child is still running, and ends cleanly when asked
    assert child.proc.poll() is None
    assert child.quit() == 0
    assert "Traceback" not in child.stderr()
