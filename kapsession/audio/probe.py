"""Real durations of music files, and the reason when a file cannot be played.

libVLC's own parser is asked first: it is the decoder that will play the file, so "libVLC
finds an audio track and a length" is exactly "this will play". Without libVLC (the
`NullPlayer` fallback, or a laptop missing it) durations come from the file headers of WAV,
Ogg (Vorbis, Opus) and FLAC, read with the standard library; other formats (MP3, M4A …) are
recognised but report no duration. Probing blocks on disk: call it off the UI thread.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

from kapsession.audio.libvlc import AudioUnavailable, load_libvlc

PARSE_TIMEOUT_MS = 5000
_OGG_TAIL_BYTES = 65536


class TrackProblem(StrEnum):
    MISSING = "missing"
    UNREADABLE = "unreadable"
    EMPTY = "zero-length"
    UNSUPPORTED = "unsupported or corrupt"
    NOT_LOCAL = "not a local file"


@dataclass(frozen=True)
class TrackProbe:
    """What probing one file found: its duration, or the problem and what to do about it."""

    path: Path
    duration_ms: int | None  # None when it could not be measured
    problem: TrackProblem | None = None
    message: str = ""  # for a person: what is wrong and what to do; "" when fine

    @property
    def ok(self) -> bool:
        return self.problem is None


class UndecodableAudio(ValueError):
    """The file is not audio in any format we recognise, or its header is broken."""


# --- the file itself -----------------------------------------------------------------------


def file_problem(path: Path) -> TrackProbe | None:
    """A probe result for a file that is missing, not a file, unreadable or empty; else None."""
    name = path.name or str(path)
    try:
        if not path.exists():
            return TrackProbe(
                path,
                None,
                TrackProblem.MISSING,
                f"{name} is missing ({path}). Copy it back or remove it from the playlist.",
            )
        if not path.is_file():
            return TrackProbe(
                path,
                None,
                TrackProblem.UNREADABLE,
                f"{name} is a folder or device, not a music file ({path}).",
            )
        size_bytes = path.stat().st_size
        with path.open("rb") as stream:
            stream.read(1)
    except OSError as exc:
        return TrackProbe(
            path,
            None,
            TrackProblem.UNREADABLE,
            f"{name} cannot be read ({exc.strerror or exc}). Check the file's permissions.",
        )
    if size_bytes == 0:
        return TrackProbe(
            path,
            None,
            TrackProblem.EMPTY,
            f"{name} is empty (0 bytes). Copy the file again or remove it from the playlist.",
        )
    return None


# --- headers, without libVLC ---------------------------------------------------------------


def header_duration_ms(path: Path) -> int | None:
    """Duration from the file's header (WAV, Ogg Vorbis/Opus, FLAC) without decoding it.

    None for audio formats we recognise but do not measure (MP3, M4A, AIFF, WMA, Ogg FLAC).
    Raises UndecodableAudio for anything that is not recognisably audio, and OSError when the
    file cannot be read.
    """
    with path.open("rb") as stream:
        head = stream.read(64)
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return _wav_duration_ms(stream, path)
        if head[:4] == b"OggS":
            return _ogg_duration_ms(stream, path)
        if head[:4] == b"fLaC":
            return _flac_duration_ms(stream, path)
        if _is_other_known_audio(head):
            return None
    raise UndecodableAudio(f"{path.name} is not a music file kapsession recognises")


def _is_other_known_audio(head: bytes) -> bool:
    mpeg_sync = len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
    return (
        head[:3] == b"ID3"
        or mpeg_sync
        or head[4:8] == b"ftyp"  # MP4/M4A
        or (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"))
        or head[:4] == b"\x30\x26\xb2\x75"  # ASF/WMA
    )


def _wav_duration_ms(stream: BinaryIO, path: Path) -> int:
    stream.seek(12)
    byte_rate = 0
    while True:
        chunk = stream.read(8)
        if len(chunk) < 8:
            break
        chunk_id, size = chunk[:4], int.from_bytes(chunk[4:], "little")
        if chunk_id == b"fmt ":
            fmt = stream.read(size)
            if len(fmt) < 16:
                break
            byte_rate = int.from_bytes(fmt[8:12], "little")
        elif chunk_id == b"data":
            if byte_rate <= 0:
                break
            remaining = path.stat().st_size - stream.tell()
            data_bytes = min(size, remaining)  # streaming writers leave 0xFFFFFFFF here
            return data_bytes * 1000 // byte_rate
        else:
            stream.seek(size + (size & 1), 1)  # chunks are word-aligned
    raise UndecodableAudio(f"{path.name} is a WAV file with a broken header")


def _ogg_duration_ms(stream: BinaryIO, path: Path) -> int | None:
    stream.seek(0)
    first_page = stream.read(27 + 255)
    if len(first_page) < 28 or first_page[:4] != b"OggS":
        raise UndecodableAudio(f"{path.name} is an Ogg file with a broken header")
    serial = first_page[14:18]
    segments = first_page[26]
    stream.seek(27 + segments)
    packet = stream.read(64)
    if packet.startswith(b"\x01vorbis") and len(packet) >= 16:
        rate = int.from_bytes(packet[12:16], "little")
        pre_skip = 0
    elif packet.startswith(b"OpusHead") and len(packet) >= 12:
        rate = 48000  # Opus granule positions always count 48 kHz samples
        pre_skip = int.from_bytes(packet[10:12], "little")
    elif packet.startswith(b"\x7fFLAC"):
        return None
    else:
        raise UndecodableAudio(f"{path.name} is an Ogg file without Vorbis or Opus audio")
    if rate <= 0:
        raise UndecodableAudio(f"{path.name} is an Ogg file with a broken header")
    granule = _last_granule(stream, path, serial)
    if granule is None:
        raise UndecodableAudio(f"{path.name} is an Ogg file with no complete audio page")
    return max(0, granule - pre_skip) * 1000 // rate


def _last_granule(stream: BinaryIO, path: Path, serial: bytes) -> int | None:
    size_bytes = path.stat().st_size
    start = max(0, size_bytes - _OGG_TAIL_BYTES)
    stream.seek(start)
    tail = stream.read()
    at = len(tail)
    while (at := tail.rfind(b"OggS", 0, at)) >= 0:
        page = tail[at : at + 27]
        if len(page) == 27 and page[14:18] == serial:
            granule = int.from_bytes(page[6:14], "little", signed=True)
            if granule >= 0:  # -1: no packet ends on this page
                return granule
    return None


def _flac_duration_ms(stream: BinaryIO, path: Path) -> int | None:
    stream.seek(4)
    block_header = stream.read(4)
    info = stream.read(34)
    if len(block_header) < 4 or block_header[0] & 0x7F != 0 or len(info) < 18:
        raise UndecodableAudio(f"{path.name} is a FLAC file with a broken header")
    packed = int.from_bytes(info[10:18], "big")
    rate = packed >> 44
    total_samples = packed & ((1 << 36) - 1)
    if rate <= 0:
        raise UndecodableAudio(f"{path.name} is a FLAC file with a broken header")
    if total_samples == 0:
        return None  # the encoder did not know the length
    return total_samples * 1000 // rate


# --- libVLC --------------------------------------------------------------------------------


@functools.cache
def _probe_instance() -> Any:
    """One libVLC instance for probing, made on first use (never at import)."""
    return load_libvlc(("--aout=dummy",))


def _vlc_probe(instance: Any, path: Path) -> TrackProbe:
    import vlc

    media = instance.media_new_path(str(path))
    done = threading.Event()
    events = media.event_manager()

    def on_parsed(_event: object) -> None:  # libVLC's thread: only signal, never call libVLC
        done.set()

    events.event_attach(vlc.EventType.MediaParsedChanged, on_parsed)
    try:
        media.parse_with_options(vlc.MediaParseFlag.local, PARSE_TIMEOUT_MS)
        done.wait(PARSE_TIMEOUT_MS / 1000 + 1.0)
        status = media.get_parsed_status()
        duration_ms = int(media.get_duration())
        tracks = media.tracks_get() or []
        has_audio = any(track.type == vlc.TrackType.audio for track in tracks)
    finally:
        events.event_detach(vlc.EventType.MediaParsedChanged)
        media.release()
    name = path.name
    if status == vlc.MediaParsedStatus.timeout or not done.is_set():
        return TrackProbe(
            path,
            None,
            TrackProblem.UNREADABLE,
            f"{name} took too long to read. Copy it to the laptop's own disk.",
        )
    if status != vlc.MediaParsedStatus.done or not has_audio:
        return TrackProbe(
            path,
            None,
            TrackProblem.UNSUPPORTED,
            f"{name} is damaged or not a music format VLC plays. Replace the file.",
        )
    return TrackProbe(path, duration_ms if duration_ms > 0 else None)


def probe_track(path: Path, instance: Any = None) -> TrackProbe:
    """Probe `path` with libVLC (a given or shared instance); from headers when it is missing."""
    problem = file_problem(path)
    if problem is not None:
        return problem
    if instance is None:
        try:
            instance = _probe_instance()
        except AudioUnavailable:
            return probe_track_headers(path)
    return _vlc_probe(instance, path)


def probe_track_headers(path: Path) -> TrackProbe:
    """Probe `path` from its headers alone: what `probe_track` does when libVLC is missing."""
    problem = file_problem(path)
    if problem is not None:
        return problem
    try:
        return TrackProbe(path, header_duration_ms(path))
    except UndecodableAudio:
        return TrackProbe(
            path,
            None,
            TrackProblem.UNSUPPORTED,
            f"{path.name} is damaged or not a music format kapsession plays. Replace the file.",
        )
    except OSError as exc:
        return TrackProbe(
            path,
            None,
            TrackProblem.UNREADABLE,
            f"{path.name} cannot be read ({exc.strerror or exc}). Check the file's permissions.",
        )


def probe_duration_ms(path: Path) -> int | None:
    """The real duration of the audio file at `path`, or None if it cannot be measured."""
    return probe_track(path).duration_ms
