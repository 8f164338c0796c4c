"""Fixtures for the audio tests: generated tone files, real libVLC, a private PulseAudio.

Real components only. When one is missing here the test skips with the reason; under
CI=true it fails instead, so a CI machine without libVLC or PulseAudio cannot pass quietly.
"""

from __future__ import annotations

import math
import os
import struct
import subprocess
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from support.pulse import PulseSink, pulse_sink
from support.real_tools import require_tool, unavailable

from kapsession.audio.libvlc import AudioUnavailable, load_libvlc
from kapsession.audio.null_player import NullPlayer
from kapsession.audio.player import Player
from kapsession.audio.vlc_player import VlcPlayer

__all__ = ["PulseSink", "pulse_sink"]  # the fixture and its value's type, for the audio tests


# --- tone files ----------------------------------------------------------------------------


class Tones:
    """Writes test audio into a test's tmp_path (never into the source tree)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def wav(
        self,
        name: str,
        *,
        freq_hz: float = 440.0,
        seconds: float = 1.0,
        amplitude: float = 0.5,
        rate_hz: int = 22050,
    ) -> Path:
        """A mono 16-bit sine tone with 5 ms edges (no click at start or end)."""
        path = self.folder / name
        count = round(seconds * rate_hz)
        edge = max(1, rate_hz // 200)
        frames = bytearray()
        for i in range(count):
            envelope = min(1.0, i / edge, (count - 1 - i) / edge)
            value = amplitude * envelope * math.sin(2 * math.pi * freq_hz * i / rate_hz)
            frames += struct.pack("<h", round(value * 32767))
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate_hz)
            out.writeframes(bytes(frames))
        return path

    def silent_wav(self, name: str, *, seconds: float, rate_hz: int = 8000) -> Path:
        """A long silent 8-bit WAV, cheap to write: for players that never decode it."""
        path = self.folder / name
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(1)
            out.setframerate(rate_hz)
            out.writeframes(b"\x80" * round(seconds * rate_hz))
        return path

    def converted(self, source: Path, name: str, *effects: str) -> Path:
        """`source` converted by sox to the format `name`'s suffix says (ogg, flac …)."""
        require_tool("sox", "sox")
        path = self.folder / name
        subprocess.run(["sox", str(source), str(path), *effects], check=True, capture_output=True)
        return path

    def raw(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def corrupt(self, name: str = "corrupt.ogg", size_bytes: int = 20000) -> Path:
        """Deterministic noise bytes that no decoder accepts as audio."""
        seed = 12345
        data = bytearray()
        while len(data) < size_bytes:
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            data.append((seed >> 16) & 0xFF)
        return self.raw(name, bytes(data))


@pytest.fixture
def tones(tmp_path: Path) -> Tones:
    return Tones(tmp_path)


# --- libVLC and players --------------------------------------------------------------------


@pytest.fixture(scope="session")
def silent_libvlc() -> Iterator[Any]:
    """One real libVLC instance with a silent audio output (no sound server needed).

    `--file-caching=0`: with the default caching the dummy output swallows the first
    ~second of a file at once, so short tones would "play" faster than real time.
    """
    try:
        instance = load_libvlc(("--aout=dummy", "--file-caching=0"))
    except AudioUnavailable as exc:
        unavailable(str(exc))
        raise
    yield instance
    instance.release()


PlayerFactory = Callable[[], Player]


@pytest.fixture
def closing() -> Iterator[Callable[[Any], Any]]:
    """Register players/crossfaders to be closed after the test: no timers left running."""
    opened: list[Any] = []

    def keep(thing: Any) -> Any:
        opened.append(thing)
        return thing

    yield keep
    for thing in reversed(opened):
        thing.close()


@pytest.fixture(params=["null", "vlc"])
def make_player(request: pytest.FixtureRequest, closing: Callable[[Any], Any]) -> PlayerFactory:
    """Each back-end in turn, for the one contract suite."""
    if request.param == "null":
        return lambda: closing(NullPlayer())
    instance = request.getfixturevalue("silent_libvlc")
    return lambda: closing(VlcPlayer(instance))
