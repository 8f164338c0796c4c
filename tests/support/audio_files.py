"""Audio files the tests write for themselves."""

from __future__ import annotations

import wave
from pathlib import Path


def silent_wav(path: Path, seconds: float, rate_hz: int = 8000) -> Path:
    """A mono 8-bit WAV of silence, `seconds` long (folders made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate_hz)
        out.writeframes(b"\x80" * round(seconds * rate_hz))
    return path
