"""`kapsession sound-check`: play a few seconds of a track, quietly, and say whether it played."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from kapsession.audio.sound_check import SoundCheck, play_briefly
from kapsession.resources import assets_dir

DEFAULT_TRACK = "music/arrival-warm-pad.ogg"  # a soft pad from the bundled demo music


def default_track() -> Path:
    return assets_dir() / DEFAULT_TRACK


def sound_check(
    file: Path | None, *, seconds: float, aout: str | None, as_json: bool, out: TextIO
) -> SoundCheck:
    """Play and report what played (as text only when it played: the command says what went
    wrong on stderr)."""
    result = play_briefly(file or default_track(), seconds=seconds, aout=aout)
    if as_json:
        json.dump(
            {
                "ok": result.played,
                "file": str(result.file),
                "played_ms": result.played_ms,
                "duration_ms": result.duration_ms,
                "libvlc_version": result.libvlc_version,
                "libvlc_path": result.libvlc_path,
                "output": result.output,
                "problem": result.problem,
            },
            out,
            indent=2,
        )
        out.write("\n")
    elif result.played:
        out.write(
            f"Played {result.played_ms / 1000:.1f} s of {result.file.name} to the "
            f"{result.output} sound output with libVLC {result.libvlc_version} "
            f"({result.libvlc_path}).\n"
        )
    return result
