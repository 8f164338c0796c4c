"""Playing a file for a few seconds through libVLC, without a window: the sound check.

For IT setting up a room laptop (`kapsession sound-check`) and for the bundle's smoke test: it
shows that the libVLC in use (the bundled one, in a bundle) can open, decode and play a file to
the sound output. Plays at a quiet volume and stops by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kapsession.audio.fades import amplitude_to_vlc_volume
from kapsession.audio.libvlc import AudioUnavailable, load_libvlc, loaded_library_path
from kapsession.audio.probe import UndecodableAudio, header_duration_ms

QUIET_AMPLITUDE = 0.3  # about a third of full scale: audible, never startling
POLL_S = 0.05
START_S = 30.0  # past the fade-in that room music usually opens with
# Room left after the part played: the clock starts ~0.3 s in, and at the end of the file a
# silent output (adummy) drops the ~1 s it has buffered instead of playing it.
END_MARGIN_S = 2.0


@dataclass(frozen=True)
class SoundCheck:
    file: Path
    played: bool
    played_ms: int  # how far the position moved while playing
    duration_ms: int | None
    libvlc_version: str | None
    libvlc_path: str | None  # the library file python-vlc loaded
    output: str  # the --aout asked for, or "default"
    problem: str | None = None


def play_briefly(
    path: Path,
    *,
    seconds: float = 2.0,
    aout: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> SoundCheck:
    """Play `path` until its position has moved `seconds`; `played` when it did."""
    output = aout or "default"
    options: Sequence[str] = (f"--aout={aout}",) if aout else ()
    missing = _not_playable(path)
    if missing is not None:
        return SoundCheck(path, False, 0, None, None, None, output, missing)
    try:
        instance = load_libvlc(options)
    except AudioUnavailable as exc:
        return SoundCheck(path, False, 0, None, None, None, output, str(exc))
    import vlc

    if aout:
        # libVLC plays through another output when it has none of that name
        names = [
            device["name"].decode(errors="replace")
            for device in instance.audio_output_enumerate_devices()
        ]
        if aout not in names:
            instance.release()
            return SoundCheck(
                path,
                False,
                0,
                None,
                None,
                None,
                output,
                f'libVLC has no sound output "{aout}"; choose one of: {", ".join(names)}',
            )

    version = vlc.libvlc_get_version().decode(errors="replace")
    library = loaded_library_path(vlc)
    player = instance.media_player_new()
    media = instance.media_new_path(str(path))
    start_s = _start_s(path, seconds)
    if start_s > 0:
        media.add_option(f":start-time={start_s:.1f}")
    try:
        player.set_media(media)
        player.audio_set_volume(amplitude_to_vlc_volume(QUIET_AMPLITUDE))
        if player.play() != 0:
            return SoundCheck(
                path, False, 0, None, version, library, output, "libVLC refused to play it"
            )
        # Play until the position has moved `seconds` (libVLC reports it coarsely, and the
        # sound output may buffer a moment before the clock starts), within a deadline.
        target_ms = round(seconds * 1000)
        first_ms: int | None = None
        last_ms = 0
        deadline = monotonic() + seconds + 8.0
        while monotonic() < deadline:
            state = player.get_state()
            if state in (vlc.State.Error, vlc.State.Ended, vlc.State.Stopped):
                break
            now_ms = player.get_time()
            # 0 until the clock starts: counting from it would count the :start-time jump
            if state == vlc.State.Playing and now_ms > 0:
                first_ms = now_ms if first_ms is None else first_ms
                last_ms = now_ms
                if last_ms - first_ms >= target_ms:
                    break
            sleep(POLL_S)
        played_ms = 0 if first_ms is None else max(0, last_ms - first_ms)
        duration = media.get_duration()
        problem = None
        if first_ms is None:
            problem = (
                f"libVLC did not start playing {path.name} (state {player.get_state()}); "
                "the file may be damaged or in a format this libVLC cannot decode"
            )
        elif played_ms < target_ms:
            problem = f"playback stalled after {played_ms} ms of {target_ms} ms"
        return SoundCheck(
            path,
            problem is None,
            played_ms,
            duration if duration > 0 else None,
            version,
            library,
            output,
            problem,
        )
    finally:
        player.stop()
        player.release()
        media.release()
        instance.release()


def _not_playable(path: Path) -> str | None:
    """Why `path` cannot be played (what to do included), or None when it is a file."""
    try:
        if path.is_file():
            return None
        if path.exists():
            return f"{path} is not a file; give an audio file (or none, for the bundled track)"
    except OSError as exc:  # e.g. a name too long for the disk
        return f"{path} cannot be read ({exc.strerror or exc}); check the file name"
    return f"{path} does not exist; check the file name (or give none, for the bundled track)"


def _start_s(path: Path, seconds: float) -> float:
    """Where to start: START_S in, or earlier in a short track, or 0 when its length is unknown."""
    try:
        duration_ms = header_duration_ms(path)
    except (OSError, UndecodableAudio):  # libVLC reports what is wrong with the file
        duration_ms = None
    if not duration_ms:
        return 0.0
    return max(0.0, min(START_S, duration_ms / 1000 - seconds - END_MARGIN_S))
