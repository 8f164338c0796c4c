"""Choosing the player back-end: libVLC when it works, else the silent NullPlayer with a reason.

Also the audio-output check for `kapsession doctor`: libVLC plays silently, without any error,
when the laptop has no sound output, so that has to be looked at separately.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kapsession.audio.libvlc import AudioUnavailable, load_libvlc
from kapsession.audio.player import Player

POLL_MS = 500


@dataclass(frozen=True)
class AudioBackend:
    """How music plays here: a player factory, or silent players and what to install."""

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
    """Whether a sound output was found, and what was found or is missing."""

    found: bool
    detail: str


PACTL_TIMEOUT_S = 2.0
PACTL_PACKAGE = "pulseaudio-utils"
ASK_THE_DESKTOP = "start PulseAudio or PipeWire, or log in to the desktop session"


def audio_output_status(
    environ: Mapping[str, str] | None = None, cards: Path = Path("/proc/asound/cards")
) -> OutputStatus:
    """Does a sound server (PulseAudio, or PipeWire's pulse server) answer `pactl info`?

    libVLC plays to the pulse server first, so found means that server answered, within
    PACTL_TIMEOUT_S. Otherwise the detail says where nobody answered and what to do, and names
    the ALSA sound card libVLC could still fall back to. (Linux; elsewhere assumed.)
    """
    env = dict(os.environ if environ is None else environ)
    if not sys.platform.startswith("linux"):
        return OutputStatus(True, "the system's default sound output")
    pactl = shutil.which("pactl", path=env.get("PATH", os.defpath))
    if pactl is None:
        return OutputStatus(
            False,
            "the sound server cannot be asked: pactl is not installed. Install it with: "
            f"sudo apt-get install {PACTL_PACKAGE}",
        )
    where = env.get("PULSE_SERVER", _default_socket(env)) or "an empty PULSE_SERVER"
    try:
        answer = subprocess.run(
            [pactl, "info"],
            env=_pactl_env(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PACTL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        reason = f"no answer within {PACTL_TIMEOUT_S:g} s"
    except OSError as exc:
        reason = f"pactl could not run: {exc.strerror or exc}"
    else:
        fields = _fields(answer.stdout)
        name = fields.get("Server Name", "")
        if answer.returncode == 0 and name:
            version = fields.get("Server Version", "")
            server = fields.get("Server String") or where
            return OutputStatus(
                True, " ".join(filter(None, (name, version))) + f" answered at {server}"
            )
        reason = _first_line(answer.stderr) or f"pactl info exited with {answer.returncode}"
    return OutputStatus(
        False,
        f"no sound server answered at {where} ({reason}); {ASK_THE_DESKTOP}" + _card_note(cards),
    )


def _default_socket(env: Mapping[str, str]) -> str:
    """Where libpulse looks first when PULSE_SERVER is not set."""
    runtime = env.get("PULSE_RUNTIME_PATH")
    if not runtime:
        runtime = str(Path(env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}") / "pulse")
    return str(Path(runtime) / "native")


def _pactl_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment for pactl: English field names; in a bundle, the system's libraries."""
    run_env = {**env, "LC_ALL": "C"}
    if getattr(sys, "frozen", False):  # PyInstaller put the bundle first on LD_LIBRARY_PATH
        original = run_env.pop("LD_LIBRARY_PATH_ORIG", None)
        if original is None:
            run_env.pop("LD_LIBRARY_PATH", None)
        else:
            run_env["LD_LIBRARY_PATH"] = original
    return run_env


def _fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith((" ", "\t")):
            fields.setdefault(key.strip(), value.strip())
    return fields


def _first_line(text: str) -> str:
    """pactl's reason, e.g. "Connection refused" from "Connection failure: Connection refused"."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line.removeprefix("Connection failure:").strip()


def _card_note(cards: Path) -> str:
    try:
        text = cards.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    if text and "no soundcards" not in text.lower():
        first = text.splitlines()[0].strip()
        name = first.split(" - ", 1)[-1].strip()
        return f". Until then libVLC can only play straight to the sound card {name}"
    return (
        ". There is no sound card either: music would be silent. Connect the speakers or "
        "headphones and check the laptop's sound settings"
    )
