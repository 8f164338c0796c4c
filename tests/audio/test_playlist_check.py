"""`check_playlist`: every entry found, measured or explained, over real files and libVLC."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kapsession.audio.playlist import PlaylistError
from kapsession.audio.playlist_check import check_playlist
from kapsession.audio.probe import TrackProblem, probe_track, probe_track_headers

if TYPE_CHECKING:
    from conftest import Tones


@pytest.fixture(params=["libvlc", "headers"])
def probe(request: pytest.FixtureRequest) -> Any:
    """Both ways a laptop measures tracks: with libVLC, and from headers without it."""
    if request.param == "headers":
        return probe_track_headers
    instance = request.getfixturevalue("silent_libvlc")
    return lambda path: probe_track(path, instance)


def test_given_a_playlist_of_good_and_bad_tracks_then_each_is_measured_or_explained(
    tones: Tones, probe: Any
) -> None:
    music = tones.folder / "music"
    music.mkdir()
    tones.wav("music/one.wav", seconds=1.5)
    tones.wav("music/two.wav", seconds=0.5)
    tones.raw("music/empty.wav", b"")
    tones.corrupt("music/noise.wav")
    playlist = tones.folder / "phase.m3u8"
    playlist.write_text(
        "#EXTM3U\n"
        "#EXTINF:2,One\nmusic/one.wav\n"
        "music/two.wav\n"
        "music/one.wav\n"
        "music/missing.wav\n"
        "music/empty.wav\n"
        "music/noise.wav\n"
        "C:\\Users\\Nurse\\Music\\calm.mp3\n"
        "https://radio.example/live\n",
        encoding="utf-8",
    )

    check = check_playlist(playlist, probe=probe)

    assert [(c.duration_ms, c.problem) for c in check.entries] == [
        (1500, None),
        (500, None),
        (1500, None),
        (None, TrackProblem.MISSING),
        (None, TrackProblem.EMPTY),
        (None, TrackProblem.UNSUPPORTED),
        (None, TrackProblem.NOT_LOCAL),
        (None, TrackProblem.NOT_LOCAL),
    ]
    assert check.total_duration_ms == 3500
    assert not check.ok
    assert len(check.problems) == 5
    assert check.entries[0].entry.declared_duration_ms == 2000
    assert "missing.wav" in check.entries[3].message
    assert "Windows" in check.entries[6].message
    assert "web address" in check.entries[7].message


def test_given_only_good_tracks_then_ok(tones: Tones, probe: Any) -> None:
    tones.wav("a.wav", seconds=0.3)
    playlist = tones.folder / "ok.pls"
    playlist.write_text("[playlist]\nFile1=a.wav\nFile2=a.wav\n", encoding="utf-8")

    check = check_playlist(playlist, probe=probe)

    assert check.ok
    assert check.total_duration_ms == 600
    assert check.unmeasured == ()


def test_given_a_track_listed_many_times_then_probed_once(tones: Tones) -> None:
    tones.wav("a.wav", seconds=0.2)
    playlist = tones.folder / "loop.m3u"
    playlist.write_text("a.wav\n" * 20, encoding="utf-8")
    probed: list[Path] = []

    def counting_probe(path: Path) -> Any:
        probed.append(path)
        return probe_track_headers(path)

    check = check_playlist(playlist, probe=counting_probe)

    assert probed == [tones.folder / "a.wav"]
    assert check.total_duration_ms == 20 * 200


def test_given_an_empty_playlist_then_not_ok(tones: Tones) -> None:
    playlist = tones.folder / "empty.m3u8"
    playlist.write_text("#EXTM3U\n", encoding="utf-8")

    assert not check_playlist(playlist).ok


def test_given_an_unreadable_playlist_then_the_playlist_error_propagates(tones: Tones) -> None:
    playlist = tones.folder / "broken.pls"
    playlist.write_text("File1=a.ogg\n", encoding="utf-8")

    with pytest.raises(PlaylistError, match="line 1"):
        check_playlist(playlist)
