"""Reading M3U/M3U8, PLS and XSPF as other players write them, and refusing broken ones."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kapsession.audio.playlist import (
    PlaylistError,
    PlaylistFormat,
    read_playlist,
    resolve_location,
)

ON_WINDOWS = os.name == "nt"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    lists = tmp_path / "lists"
    lists.mkdir()
    return lists


def write(folder: Path, name: str, text: str, *, encoding: str = "utf-8", eol: str = "\n") -> Path:
    path = folder / name
    path.write_bytes(text.replace("\n", eol).encode(encoding))
    return path


# --- M3U / M3U8 ----------------------------------------------------------------------------

EXTENDED = """#EXTM3U
#PLAYLIST:Peak
#EXTINF:305,Ambient One - Drone
music/drone.ogg

# a comment between entries
#EXTINF:-1,Unknown length
#EXTGRP:group lines between EXTINF and the path are kept apart
../shared/bowls.ogg
#EXTINF:12.5 tvg-id="x" group-title="a, b",With attributes
music/short.ogg
"""


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"], ids=["utf8", "bom", "utf16"])
def test_given_an_extended_m3u8_in_any_line_ending_and_encoding_then_entries_with_titles(
    folder: Path, eol: str, encoding: str
) -> None:
    path = write(folder, "peak.m3u8", EXTENDED, encoding=encoding, eol=eol)

    playlist = read_playlist(path)

    assert playlist.format is PlaylistFormat.M3U
    assert [(e.location, e.title, e.declared_duration_ms, e.line) for e in playlist.entries] == [
        ("music/drone.ogg", "Ambient One - Drone", 305_000, 4),
        ("../shared/bowls.ogg", "Unknown length", None, 9),
        ("music/short.ogg", "With attributes", 12_500, 11),
    ]
    assert [e.path for e in playlist.entries] == [
        folder / "music" / "drone.ogg",
        folder.parent / "shared" / "bowls.ogg",
        folder / "music" / "short.ogg",
    ]
    assert playlist.declared_duration_ms == 317_500


def test_given_a_plain_m3u_without_header_then_every_path_line_is_an_entry(folder: Path) -> None:
    path = write(folder, "plain.m3u", "one.ogg\n\n  two.ogg  \n/srv/music/three.ogg\n")

    playlist = read_playlist(path)

    assert [e.path for e in playlist.entries] == [
        folder / "one.ogg",
        folder / "two.ogg",
        Path("/srv/music/three.ogg"),
    ]
    assert all(e.title is None and e.declared_duration_ms is None for e in playlist.entries)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("file:///srv/music/K%C3%B6ln%20Drone.ogg", Path("/srv/music/Köln Drone.ogg")),
        ("file://localhost/srv/music/a%23b.ogg", Path("/srv/music/a#b.ogg")),
        ("FILE:///srv/x%20y.ogg", Path("/srv/x y.ogg")),
        ("file:///srv/music/unencoded name.ogg", Path("/srv/music/unencoded name.ogg")),
        ("Music\\Calm\\one.ogg", "relative:Music/Calm/one.ogg"),
        ("./sub/../two.ogg", "relative:two.ogg"),
        ("Ünïcode – 音楽.ogg", "relative:Ünïcode – 音楽.ogg"),
        ("http://radio.example/stream.mp3", None),
        ("https://example.org/a.ogg", None),
    ],
)
def test_given_a_location_as_players_write_it_then_the_local_file_it_names(
    folder: Path, location: str, expected: Path | str | None
) -> None:
    if isinstance(expected, str):
        expected = Path(os.path.normpath(folder / expected.removeprefix("relative:")))
    path = write(folder, "list.m3u8", f"#EXTM3U\n{location}\n")

    (entry,) = read_playlist(path).entries

    assert entry.location == location
    assert entry.path == expected


@pytest.mark.skipif(ON_WINDOWS, reason="on Windows these paths are local")
@pytest.mark.parametrize(
    "location",
    [
        "C:\\Music\\x.ogg",
        "d:/Music/x.ogg",
        "file:///C:/Music/x%20y.ogg",
        "\\\\server\\share\\x.ogg",
    ],
)
def test_given_a_windows_path_on_linux_then_kept_as_written_with_no_local_path(
    folder: Path, location: str
) -> None:
    path = write(folder, "win.m3u", f"{location}\r\n", eol="\r\n")

    (entry,) = read_playlist(path).entries

    assert entry.location == location
    assert entry.path is None


def test_given_a_legacy_windows_1252_m3u_then_names_are_decoded(folder: Path) -> None:
    path = write(folder, "old.m3u", "#EXTINF:60,Café Ambience\nCafé.ogg\n", encoding="cp1252")

    (entry,) = read_playlist(path).entries

    assert entry.title == "Café Ambience"
    assert entry.path == folder / "Café.ogg"


def test_given_an_m3u8_that_is_not_utf8_then_error_names_the_line(folder: Path) -> None:
    path = write(folder, "bad.m3u8", "#EXTM3U\nok.ogg\nCaf\u00e9.ogg\n", encoding="cp1252")

    with pytest.raises(PlaylistError) as failed:
        read_playlist(path)

    assert failed.value.line == 3
    assert "bad.m3u8, line 3" in str(failed.value)
    assert "UTF-8" in str(failed.value)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("#EXTM3U\na.ogg\n#EXTINF:abc,Title\nb.ogg\n", 3, "length in seconds"),
        ("#EXTM3U\n#EXTINF:five minutes\nb.ogg\n", 2, "five minutes"),
    ],
)
def test_given_a_garbled_extinf_then_error_names_file_and_line(
    folder: Path, text: str, line: int, words: str
) -> None:
    path = write(folder, "garbled.m3u8", text)

    with pytest.raises(PlaylistError) as failed:
        read_playlist(path)

    assert failed.value.source == path
    assert failed.value.line == line
    assert words in str(failed.value)


@pytest.mark.parametrize(
    ("body", "duration_ms", "title"),
    [
        ("#EXTINF:,Only a title", None, "Only a title"),
        ("#EXTINF:", None, None),
        ("#extinf:30,lower case", 30_000, "lower case"),
        ("#EXTINF:0,Zero", None, "Zero"),
    ],
)
def test_given_an_unusual_extinf_then_read_as_players_do(
    folder: Path, body: str, duration_ms: int | None, title: str | None
) -> None:
    path = write(folder, "odd.m3u8", f"#EXTM3U\n{body}\nx.ogg\n")

    (entry,) = read_playlist(path).entries

    assert (entry.declared_duration_ms, entry.title) == (duration_ms, title)


def test_given_a_music_file_renamed_to_m3u_then_error_says_binary(folder: Path) -> None:
    path = folder / "renamed.m3u"
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00\x00\x00")

    with pytest.raises(PlaylistError, match="binary data"):
        read_playlist(path)


def test_given_a_missing_playlist_then_error_names_it(folder: Path) -> None:
    with pytest.raises(PlaylistError, match=r"gone\.m3u8.*cannot be read"):
        read_playlist(folder / "gone.m3u8")


def test_given_an_empty_m3u_then_no_entries(folder: Path) -> None:
    assert read_playlist(write(folder, "empty.m3u", "")).entries == ()


# --- PLS -----------------------------------------------------------------------------------

PLS = """[playlist]
NumberOfEntries=3
File2=second.ogg
Title2=Second
Length2=-1
File1=file:///srv/music/first%20one.ogg
Title1=First
Length1=245
; a comment
File3=C:\\Music\\third.ogg
Version=2
"""


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"], ids=["utf8", "bom"])
def test_given_a_pls_then_entries_in_number_order_with_titles_and_lengths(
    folder: Path, eol: str, encoding: str
) -> None:
    path = write(folder, "list.pls", PLS, encoding=encoding, eol=eol)

    playlist = read_playlist(path)

    assert playlist.format is PlaylistFormat.PLS
    assert [(e.title, e.declared_duration_ms, e.line) for e in playlist.entries] == [
        ("First", 245_000, 6),
        ("Second", None, 3),
        (None, None, 10),
    ]
    assert playlist.entries[0].path == Path("/srv/music/first one.ogg")
    assert playlist.entries[1].path == folder / "second.ogg"
    assert playlist.entries[2].location == "C:\\Music\\third.ogg"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("NumberOfEntries=1\nFile1=a.ogg\n", 1, "[playlist]"),
        ("[playlist]\nFile1=a.ogg\nthis line is garbage\n", 3, "Key=value"),
        ("[playlist]\nFile1=a.ogg\nLength1=four\n", 3, "whole seconds"),
        ("[playlist]\nFile1=a.ogg\nTitle2=Orphan\n", 3, "Title2 has no File2"),
        ("\n\n", 1, "[playlist]"),
    ],
    ids=["no-header", "no-equals", "bad-length", "orphan-title", "blank"],
)
def test_given_a_broken_pls_then_error_names_file_and_line(
    folder: Path, text: str, line: int, words: str
) -> None:
    path = write(folder, "broken.pls", text)

    with pytest.raises(PlaylistError) as failed:
        read_playlist(path)

    assert failed.value.line == line
    assert words in str(failed.value)
    assert "broken.pls" in str(failed.value)


# --- XSPF ----------------------------------------------------------------------------------

VLC_NS = "http://www.videolan.org/vlc/playlist/ns/0/"
XSPF = f"""<?xml version="1.0" encoding="UTF-8"?>
<playlist xmlns="http://xspf.org/ns/0/" xmlns:vlc="{VLC_NS}" version="1">
  <title>Playlist</title>
  <trackList>
    <track>
      <location>file:///srv/music/Gr%C3%BC%C3%9Fe%20aus%20K%C3%B6ln.ogg</location>
      <title>Grüße</title>
      <duration>184000</duration>
      <extension application="http://www.videolan.org/vlc/playlist/0">
        <vlc:id>0</vlc:id>
      </extension>
    </track>
    <track>
      <location>sub%20folder/two.ogg</location>
    </track>
    <track><location>https://example.org/stream.ogg</location><duration>-1</duration></track>
  </trackList>
</playlist>
"""


@pytest.mark.parametrize("eol", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_given_a_vlc_written_xspf_then_entries_with_uris_resolved(folder: Path, eol: str) -> None:
    path = write(folder, "list.xspf", XSPF, eol=eol)

    playlist = read_playlist(path)

    assert playlist.format is PlaylistFormat.XSPF
    first, second, third = playlist.entries
    assert first.path == Path("/srv/music/Grüße aus Köln.ogg")
    assert (first.title, first.declared_duration_ms, first.line) == ("Grüße", 184_000, 5)
    assert second.path == folder / "sub folder" / "two.ogg"
    assert (second.title, second.declared_duration_ms) == (None, None)
    assert third.path is None
    assert third.declared_duration_ms is None


def test_given_an_xspf_without_namespace_then_still_read(folder: Path) -> None:
    text = "<playlist><trackList><track><location>a.ogg</location></track></trackList></playlist>"
    path = write(folder, "bare.xspf", text)

    assert [e.path for e in read_playlist(path).entries] == [folder / "a.ogg"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("<playlist>\n<trackList>\n<track>\n</trackList>\n</playlist>\n", 4, "not well-formed"),
        ("<?xml version='1.0'?>\n<html><body/></html>\n", 2, "not XSPF"),
        (
            "<playlist><trackList>\n<track><title>x</title></track>\n</trackList></playlist>",
            2,
            "no <location>",
        ),
        (
            "<playlist><trackList><track><location>a.ogg</location>\n<duration>3 min</duration>"
            "</track></trackList></playlist>",
            2,
            "milliseconds",
        ),
    ],
    ids=["unclosed", "not-xspf", "no-location", "bad-duration"],
)
def test_given_a_broken_xspf_then_error_names_file_and_line(
    folder: Path, text: str, line: int, words: str
) -> None:
    path = write(folder, "broken.xspf", text)

    with pytest.raises(PlaylistError) as failed:
        read_playlist(path)

    assert failed.value.line == line
    assert words in str(failed.value)


# --- telling formats apart -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("list.txt", "#EXTM3U\na.ogg\n", PlaylistFormat.M3U),
        ("list.m3u", "[playlist]\nFile1=a.ogg\n", PlaylistFormat.PLS),
        ("list", "<?xml version='1.0'?><playlist/>", PlaylistFormat.XSPF),
    ],
)
def test_given_content_that_says_its_format_then_that_format_whatever_the_name(
    folder: Path, name: str, text: str, expected: PlaylistFormat
) -> None:
    assert read_playlist(write(folder, name, text)).format is expected


def test_given_an_unknown_kind_of_file_then_error_lists_what_is_read(folder: Path) -> None:
    with pytest.raises(PlaylistError, match=r"\.m3u, \.m3u8, \.pls or \.xspf"):
        read_playlist(write(folder, "notes.txt", "buy milk\n"))


def test_given_a_uri_location_then_percent_signs_decode_only_for_uris(folder: Path) -> None:
    assert resolve_location("100%25.ogg", folder, uri=True) == folder / "100%.ogg"
    assert resolve_location("100%25.ogg", folder) == folder / "100%25.ogg"
