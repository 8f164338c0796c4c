"""Choosing the player back-end: libVLC when it works, else the silent NullPlayer with a reason.

Also the audio-output check for `kapsession doctor`: libVLC plays silently, without any error,
when the laptop has no sound output, so that has to be looked at separately.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kapsession.audio.libvlc import AudioUnavailable, load_libvlc
from kapsession.audio.player import Player

POLL_MS = 500


@dataclass(frozen=True)
class AudioBackend:
    factory: Callable[[], Player]
    available: bool  # False: music is disabled, `problem` says what to install
    problem: str | None = None


def open_backend(options: Sequence[str] = ()) -> AudioBackend:
    """libVLC-backed players sharing one instance, or NullPlayers and the install command."""
    try:
        instance = load_libvlc(options)
    except AudioUnavailable as exc:
        from kapsession.audio.null_player import NullPlayer

        return AudioBackend(factory=NullPlayer, available=False, problem=str(exc))
    from kapsession.audio.vlc_player import VlcPlayer

    # position is shown once a second and crossfades start seconds ahead: 500 ms polling is ample
    return AudioBackend(
        factory=lambda: VlcPlayer(instance, poll_interval_ms=POLL_MS), available=True
    )


@dataclass(frozen=True)
class OutputStatus:
    found: bool
    detail: str


def audio_output_status(
    environ: dict[str, str] | None = None, cards: Path = Path("/proc/asound/cards")
) -> OutputStatus:
    """Is there a sound server or a sound card libVLC can play to? (Linux; elsewhere assumed.)"""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return OutputStatus(True, "the system's default sound output")
    server = env.get("PULSE_SERVER")
    if server:
        return OutputStatus(True, f"PulseAudio server {server}")
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    for name in ("pulse/native", "pipewire-0"):
        socket = Path(runtime) / name
        if socket.exists():
            return OutputStatus(True, f"sound server socket {socket}")
    try:
        text = cards.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    if text and "no soundcards" not in text.lower():
        first = text.splitlines()[0].strip()
        return OutputStatus(True, f"ALSA sound card: {first}")
    return OutputStatus(
        False,
        "no sound server and no sound card found: music would be silent. Connect the speakers "
        "or headphones and check the laptop's sound settings.",
    )
