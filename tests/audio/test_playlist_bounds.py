"""A playlist is read within bounds: only a regular file of at most 4 MB, at most 2,000
tracks, and never a playlist inside it (itself least of all); what is left out is said.

Real files: a pipe nobody writes to, a link to /dev/zero, a folder, a 5 GB sparse file,
playlists of each format one track over the limit, and one that lists itself.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from support.audio_files import silent_wav
from support.hang_guard import read_guarded

from kapsession.audio.playlist import (
    MAX_PLAYLIST_ENTRIES,
    PlaylistError,
    read_playlist,
)
from kapsession.audio.playlist_check import check_playlist
from kapsession.audio.probe import probe_track_headers
from kapsession.services.playlist_report import check_playlists


def a_pipe(path: Path) -> None:
    os.mkfifo(path)


def a_link_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def a_folder(path: Path) -> None:
    path.mkdir()


def five_gb_sparse(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(5_000_000_000)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (a_pipe, "is a pipe (FIFO), not a file"),
        (a_link_to_dev_zero, "is a device, not a file"),
        (a_folder, "is a folder, not a file"),
        (five_gb_sparse, "is 5.0 GB, larger than this kind of file can be (at most 4.0 MB)"),
    ],
    ids=["pipe", "link-to-dev-zero", "folder", "5-gb-sparse"],
)
def test_what_is_not_a_small_regular_file_is_refused_naming_it(
    tmp_path: Path, make: Callable[[Path], None], says: str
) -> None:
    # Given, where a playlist is expected, something that is not a small regular file
    path = tmp_path / "room.m3u"
    make(path)
    # When it is read
    raised = read_guarded(read_playlist, path)
    # Then it is refused, naming the file and what is there
    assert isinstance(raised, PlaylistError), raised
    assert str(raised) == f"Playlist {path}: {raised.problem}"
    assert says in raised.problem


def m3u(count: int) -> str:
    return "#EXTM3U\n" + "".join(f"track{n}.ogg\n" for n in range(count))


def pls(count: int) -> str:
    files = "".join(f"File{n + 1}=track{n}.ogg\n" for n in range(count))
    return f"[playlist]\n{files}NumberOfEntries={count}\n"


def xspf(count: int) -> str:
    tracks = "".join(f"<track><location>track{n}.ogg</location></track>\n" for n in range(count))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<playlist version="1" xmlns="http://xspf.org/ns/0/">\n'
        f"<trackList>\n{tracks}</trackList>\n</playlist>\n"
    )


FORMATS = {".m3u": (m3u, 2), ".pls": (pls, 2), ".xspf": (xspf, 4)}  # line of the first track


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_a_playlist_one_track_over_the_limit_is_cut_off_and_says_so(
    tmp_path: Path, suffix: str
) -> None:
    # Given a playlist listing one track more than the limit
    write, first_line = FORMATS[suffix]
    path = tmp_path / f"long{suffix}"
    path.write_text(write(MAX_PLAYLIST_ENTRIES + 1), encoding="utf-8")
    # When it is read
    playlist = read_playlist(path)
    # Then the first MAX_PLAYLIST_ENTRIES tracks are kept, and the cut is said with its line
    assert len(playlist.entries) == MAX_PLAYLIST_ENTRIES
    assert playlist.entries[-1].location == f"track{MAX_PLAYLIST_ENTRIES - 1}.ogg"
    assert playlist.left_out == (
        f"lists more than {MAX_PLAYLIST_ENTRIES} tracks; those from line "
        f"{first_line + MAX_PLAYLIST_ENTRIES} on are left out (split it into shorter "
        "playlists)",
    )


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_a_playlist_at_the_limit_is_read_whole(tmp_path: Path, suffix: str) -> None:
    write, _ = FORMATS[suffix]
    path = tmp_path / f"full{suffix}"
    path.write_text(write(MAX_PLAYLIST_ENTRIES), encoding="utf-8")
    playlist = read_playlist(path)
    assert (len(playlist.entries), playlist.left_out) == (MAX_PLAYLIST_ENTRIES, ())


@pytest.fixture
def self_listing(tmp_path: Path) -> Path:
    """`self.m3u`: a track, itself (twice, by two names), another playlist, a second track."""
    silent_wav(tmp_path / "one.wav", 1)
    silent_wav(tmp_path / "two.wav", 1)
    (tmp_path / "other.pls").write_text("[playlist]\nFile1=one.wav\n", encoding="utf-8")
    path = tmp_path / "self.m3u"
    path.write_text(
        "#EXTM3U\none.wav\nself.m3u\nother.pls\n./sub/../self.m3u\ntwo.wav\n", encoding="utf-8"
    )
    return path


def test_entries_naming_a_playlist_are_left_out_and_said(self_listing: Path) -> None:
    # When a playlist listing itself and another playlist between two tracks is read
    playlist = read_playlist(self_listing)
    # Then only the tracks are entries; the playlists are left out, each said with its line
    assert [e.location for e in playlist.entries] == ["one.wav", "two.wav"]
    assert playlist.left_out == (
        "lines 3, 5 list this playlist itself; left out",
        "line 4 names another playlist, not a track; left out (list its tracks instead)",
    )


def test_the_check_of_a_playlist_with_entries_left_out_fails_and_shows_them(
    self_listing: Path,
) -> None:
    # When the playlist is checked (as `kapsession playlist check` does), as text and JSON
    check = check_playlist(self_listing, probe=probe_track_headers)
    text, as_json = io.StringIO(), io.StringIO()
    text_code = check_playlists([str(self_listing)], as_json=False, out=text)
    json_code = check_playlists([str(self_listing)], as_json=True, out=as_json)
    # Then it is not ok although both tracks play, and the report says what was left out
    assert [e.ok for e in check.entries] == [True, True]
    assert check.ok is False
    assert (text_code, json_code) == (1, 1)
    lines = text.getvalue().splitlines()
    assert "  LEFT OUT  lines 3, 5 list this playlist itself; left out" in lines
    assert lines[-2] == "  total 0:02  —  2 problem(s)"
    (report,) = json.loads(as_json.getvalue())
    assert report["ok"] is False
    assert report["left_out"] == list(check.playlist.left_out)
