"""Durations and problems of music files: from headers (no libVLC) and from real libVLC."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kapsession.audio.probe import (
    TrackProblem,
    UndecodableAudio,
    header_duration_ms,
    probe_duration_ms,
    probe_track,
    probe_track_headers,
)

if TYPE_CHECKING:
    from conftest import Tones


def ogg_page(granule: int, serial: int, sequence: int, payload: bytes, header_type: int) -> bytes:
    """One Ogg page (CRC left 0: the header reader does not check it)."""
    segments = [255] * (len(payload) // 255) + [len(payload) % 255]
    return (
        b"OggS"
        + struct.pack("<BBqIII", 0, header_type, granule, serial, sequence, 0)
        + bytes([len(segments)])
        + bytes(segments)
        + payload
    )


def opus_file(tones: Tones, name: str, *, samples_48k: int, pre_skip: int) -> Path:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, pre_skip, 44100, 0, 0)
    data = ogg_page(0, 7, 0, head, 2) + ogg_page(samples_48k, 7, 1, b"\x00" * 300, 4)
    return tones.raw(name, data)


def wav_header_only(tones: Tones, name: str, *, fmt_tag: int, data_bytes: int) -> Path:
    """A WAV whose data chunk claims `data_bytes` but holds 8000 (a streaming writer's)."""
    fmt = struct.pack("<HHIIHH", fmt_tag, 2, 48000, 48000 * 8, 8, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"LIST" + struct.pack("<I", 5) + b"info\x00" + b"\x00"  # odd chunk: padded
    body += b"data" + struct.pack("<I", data_bytes) + b"\x00" * 8000
    return tones.raw(name, b"RIFF" + struct.pack("<I", len(body)) + body)


# --- headers, no libVLC --------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "rate_hz"), [(1.0, 22050), (2.345, 44100), (0.05, 8000)])
def test_given_a_pcm_wav_then_the_header_gives_its_duration(
    tones: Tones, seconds: float, rate_hz: int
) -> None:
    path = tones.wav("t.wav", seconds=seconds, rate_hz=rate_hz)

    assert header_duration_ms(path) == pytest.approx(seconds * 1000, abs=1)


@pytest.mark.parametrize(
    ("fmt_tag", "claimed_bytes", "expected_ms"),
    [(3, 8000, 20), (0xFFFE, 8000, 20), (3, 0xFFFFFFFF, 20)],
    ids=["float", "extensible", "streaming-size"],
)
def test_given_wav_variants_then_the_header_gives_the_duration_of_the_data_present(
    tones: Tones, fmt_tag: int, claimed_bytes: int, expected_ms: int
) -> None:
    path = wav_header_only(tones, "v.wav", fmt_tag=fmt_tag, data_bytes=claimed_bytes)

    assert header_duration_ms(path) == expected_ms


@pytest.mark.parametrize(("seconds", "extra"), [(2.5, ()), (4.0, ("rate", "8000"))])
def test_given_ogg_vorbis_then_the_last_page_gives_its_duration(
    tones: Tones, seconds: float, extra: tuple[str, ...]
) -> None:
    path = tones.converted(tones.wav("t.wav", seconds=seconds), "t.ogg", *extra)

    assert header_duration_ms(path) == pytest.approx(seconds * 1000, abs=5)


def test_given_ogg_opus_then_duration_counts_48k_samples_minus_pre_skip(tones: Tones) -> None:
    path = opus_file(tones, "t.opus", samples_48k=48000 * 3 + 312, pre_skip=312)

    assert header_duration_ms(path) == 3000


def test_given_flac_then_streaminfo_gives_its_duration(tones: Tones) -> None:
    path = tones.converted(tones.wav("t.wav", seconds=1.75), "t.flac")

    assert header_duration_ms(path) == 1750


@pytest.mark.parametrize(
    "head",
    [b"ID3\x03\x00", b"\xff\xfb\x90\x00", b"\x00\x00\x00\x20ftypM4A ", b"FORM\x00\x00\x00\x00AIFF"],
    ids=["mp3-id3", "mp3-frame", "m4a", "aiff"],
)
def test_given_a_known_format_it_does_not_measure_then_none(tones: Tones, head: bytes) -> None:
    path = tones.raw("song.bin", head + b"\x00" * 200)

    assert header_duration_ms(path) is None


@pytest.mark.parametrize(
    "data",
    [
        b"plain text, not music\n" * 10,
        b"OggS\x00\x02" + b"\x00" * 40,
        b"RIFF\x10\x00\x00\x00WAVEjunk",
        b"fLaC\x84\x00\x00\x02",
    ],
    ids=["text", "ogg-without-codec", "wav-without-data", "flac-truncated"],
)
def test_given_bytes_that_are_not_audio_then_undecodable(tones: Tones, data: bytes) -> None:
    path = tones.raw("bad.ogg", data)

    with pytest.raises(UndecodableAudio, match=r"bad\.ogg"):
        header_duration_ms(path)


# --- probing with real libVLC --------------------------------------------------------------


@pytest.fixture
def vlc_probe(silent_libvlc: Any) -> Any:
    return lambda path: probe_track(path, silent_libvlc)


def test_given_a_tone_when_probed_by_libvlc_then_its_duration(vlc_probe: Any, tones: Tones) -> None:
    found = vlc_probe(tones.wav("t.wav", seconds=1.5))

    assert found.ok
    assert found.duration_ms == 1500


@pytest.mark.parametrize(
    ("make_file", "problem", "words"),
    [
        (lambda t: t.folder / "gone.ogg", TrackProblem.MISSING, "missing"),
        (lambda t: t.raw("empty.ogg", b""), TrackProblem.EMPTY, "empty"),
        (lambda t: t.corrupt("noise.ogg"), TrackProblem.UNSUPPORTED, "damaged"),
        (lambda t: t.folder, TrackProblem.UNREADABLE, "folder"),
    ],
    ids=["missing", "zero-length", "corrupt", "folder"],
)
@pytest.mark.parametrize("with_libvlc", [True, False], ids=["libvlc", "headers"])
def test_given_a_bad_file_when_probed_then_the_problem_and_a_message_naming_it(
    request: pytest.FixtureRequest,
    tones: Tones,
    make_file: Any,
    problem: TrackProblem,
    words: str,
    with_libvlc: bool,
) -> None:
    path: Path = make_file(tones)
    if with_libvlc:
        found = probe_track(path, request.getfixturevalue("silent_libvlc"))
    else:
        found = probe_track_headers(path)

    assert found.problem is problem
    assert found.duration_ms is None
    assert path.name in found.message
    assert words in found.message


def test_given_the_shared_probe_then_probe_duration_ms_reads_a_real_file(tones: Tones) -> None:
    assert probe_duration_ms(tones.wav("t.wav", seconds=0.8)) == 800
