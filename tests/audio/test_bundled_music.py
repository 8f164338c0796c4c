"""The bundled demo music and phase playlists: complete, playable, long enough, small enough.

Reads the committed files in assets/music/ and playlists/ (never writes there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kapsession.audio.playlist_check import check_playlist
from kapsession.audio.probe import probe_track

ROOT = Path(__file__).resolve().parents[2]
MUSIC = ROOT / "assets" / "music"
PLAYLISTS = ROOT / "playlists"
MAX_MUSIC_BYTES = 8 * 1024 * 1024

# minutes of music each phase needs in a full demo session
PHASE_MINUTES = {
    "arrival": 20,
    "intention": 20,
    "onset": 25,
    "peak": 35,
    "reentry": 30,
    "integration": 50,
}


@pytest.mark.parametrize(("phase", "minutes"), PHASE_MINUTES.items())
def test_given_a_phase_playlist_then_every_track_plays_and_it_fills_the_phase(
    silent_libvlc: Any, phase: str, minutes: int
) -> None:
    check = check_playlist(
        PLAYLISTS / f"{phase}.m3u8", probe=lambda path: probe_track(path, silent_libvlc)
    )

    assert check.ok, [c.message for c in check.problems]
    assert check.total_duration_ms >= minutes * 60_000
    for entry_check in check.entries:
        entry = entry_check.entry
        assert entry.path is not None and entry.path.parent == MUSIC
        assert not Path(entry.location).is_absolute()
        assert entry.declared_duration_ms == pytest.approx(entry_check.duration_ms, abs=1000)


def test_given_the_bundled_music_then_a_few_mb_and_every_track_in_a_playlist() -> None:
    tracks = sorted(MUSIC.glob("*.ogg"))
    listed = {
        entry.entry.path
        for phase in PHASE_MINUTES
        for entry in check_playlist(PLAYLISTS / f"{phase}.m3u8").entries
    }

    assert tracks
    assert sum(track.stat().st_size for track in tracks) <= MAX_MUSIC_BYTES
    assert set(tracks) == listed


def test_given_the_bundled_music_then_its_provenance_and_licence_are_written_down() -> None:
    readme = (MUSIC / "README.md").read_text(encoding="utf-8")

    assert "make_music.py" in readme
    assert "CC0" in readme
    for track in MUSIC.glob("*.ogg"):
        assert track.name in readme
