"""Reading M3U/M3U8, PLS and XSPF playlists as other players write them.

Why our own reader: PyPI has no maintained parser for these music-playlist formats worth a
dependency. `m3u8` parses HLS streaming manifests (segments, keys), not music playlists,
and has no PLS or XSPF; the M3U packages there are IPTV-oriented or abandoned; none
resolves Windows paths, `file://` URIs and legacy encodings the way players write them, or
reports errors by line. libVLC does parse playlists, but it returns MRLs rather than what was
written, says nothing about *where* a file is broken, and would make `playlist check` depend
on libVLC. The formats are small, so this module reads them with the standard library
(expat for XSPF, whose line numbers ElementTree does not keep).

What it accepts: relative paths (to the playlist's folder) and absolute ones; `file://` URIs
with percent-encoding; Windows paths (`C:\\Music\\x.ogg`; backslashes in relative paths are
folder separators); CRLF, CR or LF line ends; a UTF-8 BOM; UTF-16 with a BOM; legacy
Windows-1252 in .m3u and .pls (M3U8 and XSPF must be UTF-8); comments and blank lines.
Entries that are not files on this computer (web addresses, Windows drive paths on Linux,
network shares) keep their `location` and get `path=None`.
"""

from __future__ import annotations

import os
import re
import xml.parsers.expat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote

from kapsession.domain.clinic_file import UnusableFile, read_regular_file

MAX_PLAYLIST_BYTES = 4_000_000  # 4 MB: an M3U of 2,000 tracks with titles is about 300 KB
MAX_PLAYLIST_ENTRIES = 2_000  # about 100 hours of music; a session plays a few hours


class PlaylistFormat(StrEnum):
    M3U = "m3u"
    PLS = "pls"
    XSPF = "xspf"


class PlaylistError(ValueError):
    """A playlist that cannot be read; names the file and, where known, the line."""

    def __init__(self, source: Path, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}, line {line}" if line else str(source)
        super().__init__(f"Playlist {where}: {problem}")


@dataclass(frozen=True)
class PlaylistEntry:
    """One track as the playlist lists it."""

    location: str  # exactly as written (path, URI or Windows path)
    path: Path | None  # the local file it names, or None when it is not on this computer
    title: str | None = None
    declared_duration_ms: int | None = None  # what the playlist claims; None when unknown
    line: int = 0  # line in the playlist file (1-based)


@dataclass(frozen=True)
class Playlist:
    """A playlist file as read: its tracks in order, and what was left out."""

    source: Path
    entries: tuple[PlaylistEntry, ...]
    format: PlaylistFormat = PlaylistFormat.M3U
    # what was left out, for a person: entries naming a playlist (itself or another) rather
    # than a track, and the tracks past MAX_PLAYLIST_ENTRIES
    left_out: tuple[str, ...] = ()

    @property
    def declared_duration_ms(self) -> int:
        """Sum of the durations the playlist declares (entries without one count 0)."""
        return sum(entry.declared_duration_ms or 0 for entry in self.entries)


SUPPORTED_SUFFIXES = (".m3u", ".m3u8", ".pls", ".xspf")
_URI_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):")  # two letters or more: not "C:"
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_LINE_END = re.compile(r"\r\n|\r|\n")
_EXTINF = re.compile(
    r'^\s*([+-]?\d+(?:\.\d*)?)?((?:\s+[\w.-]+=(?:"[^"]*"|[^\s,]*))*)\s*(?:,(.*))?$'
)
_PLS_KEY = re.compile(r"^(file|title|length)(\d+)$", re.IGNORECASE)


def read_playlist(path: Path) -> Playlist:
    """Read the playlist at `path`; PlaylistError (with file and line) if it cannot be read.

    Bounded: only a regular file of at most MAX_PLAYLIST_BYTES is read; an entry naming a
    playlist (this one or another) is left out, as are the tracks past MAX_PLAYLIST_ENTRIES,
    and `left_out` says so."""
    try:
        raw = read_regular_file(path, MAX_PLAYLIST_BYTES)
    except UnusableFile as exc:
        raise PlaylistError(path, None, str(exc)) from None
    except OSError as exc:
        raise PlaylistError(
            path, None, f"cannot be read ({exc.strerror or exc}); check that the file exists"
        ) from exc
    playlist_format = _detect_format(path, raw)
    cut_at: int | None = None
    if playlist_format is PlaylistFormat.XSPF:
        entries, cut_at = _parse_xspf(path, raw)
    else:
        lines = _LINE_END.split(_decode(path, raw, strict_utf8=path.suffix.lower() == ".m3u8"))
        if playlist_format is PlaylistFormat.PLS:
            entries, cut_at = _parse_pls(path, lines)
        else:
            entries, cut_at = _parse_m3u(path, lines)
    tracks, left_out = _without_playlists(path, entries)
    if cut_at is not None:
        left_out.append(
            f"lists more than {MAX_PLAYLIST_ENTRIES} tracks; those from line {cut_at} on are "
            "left out (split it into shorter playlists)"
        )
    return Playlist(path, tuple(tracks), playlist_format, tuple(left_out))


def _without_playlists(
    source: Path, entries: list[PlaylistEntry]
) -> tuple[list[PlaylistEntry], list[str]]:
    """The entries that may be tracks, and what was said of those naming a playlist: played,
    a playlist inside a playlist (or the playlist itself) would never end."""
    itself = os.path.normcase(os.path.abspath(source))
    tracks: list[PlaylistEntry] = []
    own: list[int] = []
    others: list[int] = []
    for entry in entries:
        if entry.path is None:
            tracks.append(entry)
        elif os.path.normcase(os.path.abspath(entry.path)) == itself:
            own.append(entry.line)
        elif entry.path.suffix.lower() in SUPPORTED_SUFFIXES:
            others.append(entry.line)
        else:
            tracks.append(entry)
    said = []
    if own:
        verb = "lists" if len(own) == 1 else "list"
        said.append(f"{_lines(own)} {verb} this playlist itself; left out")
    if others:
        verb = "names" if len(others) == 1 else "name"
        said.append(
            f"{_lines(others)} {verb} another playlist, not a track; left out (list its "
            "tracks instead)"
        )
    return tracks, said


def _lines(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    shown = ", ".join(str(n) for n in numbers[:3])
    more = f" and {len(numbers) - 3} more" if len(numbers) > 3 else ""
    return f"lines {shown}{more}"


# --- format and text -----------------------------------------------------------------------


def _detect_format(path: Path, raw: bytes) -> PlaylistFormat:
    start = _decode_start(raw).lstrip().lower()
    if start.startswith("[playlist]"):
        return PlaylistFormat.PLS
    if start.startswith("<?xml") or start.startswith("<playlist"):
        return PlaylistFormat.XSPF
    if start.startswith("#extm3u"):
        return PlaylistFormat.M3U
    suffix = path.suffix.lower()
    if suffix in (".m3u", ".m3u8"):
        return PlaylistFormat.M3U
    if suffix == ".pls":
        return PlaylistFormat.PLS
    if suffix == ".xspf":
        return PlaylistFormat.XSPF
    raise PlaylistError(
        path, None, "is not a playlist kapsession reads; use an .m3u, .m3u8, .pls or .xspf file"
    )


def _decode_start(raw: bytes) -> str:
    head = raw[:64]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8-sig", errors="ignore")


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1 if b"\n" in raw else raw.count(b"\r", 0, offset) + 1


def _decode(path: Path, raw: bytes, *, strict_utf8: bool) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PlaylistError(path, None, "is damaged UTF-16 text; save it again") from exc
    if (nul := raw.find(b"\x00")) >= 0:
        raise PlaylistError(
            path,
            _line_of(raw, nul),
            "contains binary data, so it is not a playlist (is it a music file renamed?)",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if strict_utf8:
            raise PlaylistError(
                path,
                _line_of(raw, exc.start),
                "is not valid UTF-8 text; save the playlist as UTF-8 (M3U8 must be UTF-8)",
            ) from exc
    try:
        return raw.decode("cp1252")  # what Windows players write in .m3u and .pls
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# --- locations -----------------------------------------------------------------------------


def resolve_location(location: str, base_dir: Path, *, uri: bool = False) -> Path | None:
    """The local file a playlist location names, or None if it is not on this computer.

    `uri=True` reads a location without a scheme as a relative URI (percent-encoded), as
    XSPF requires; M3U and PLS write plain paths.
    """
    location = location.strip()
    if not location:
        return None
    if _WINDOWS_DRIVE.match(location) or location.startswith("\\\\"):
        return _windows_path(location)
    scheme = _URI_SCHEME.match(location)
    if scheme:
        if scheme.group(1).lower() != "file":
            return None  # a web address or stream: not a file on this laptop
        return _file_uri_path(location[len("file:") :], base_dir)
    if uri:
        location = unquote(location)
    return _local_path(location, base_dir)


def _local_path(location: str, base_dir: Path) -> Path:
    if os.sep == "/":
        location = location.replace("\\", "/")
    path = Path(location)
    if not path.is_absolute():
        path = base_dir / path
    return Path(os.path.normpath(path))


def _windows_path(location: str) -> Path | None:
    if os.name != "nt":
        return None  # C:\… or \\server\share is never a file on this Linux/macOS laptop
    return Path(os.path.normpath(location))


def _file_uri_path(rest: str, base_dir: Path) -> Path | None:
    """Path of a `file:` URI, given what follows `file:`; '#' and '?' are kept as written."""
    if rest.startswith("//"):
        host, slash, path_part = rest[2:].partition("/")
        if host.lower() not in ("", "localhost"):
            return _windows_path(f"\\\\{host}\\{unquote(path_part)}")  # a network share
        rest = slash + path_part
    path_text = unquote(rest)
    if re.match(r"^/[A-Za-z]:[\\/]", path_text):  # file:///C:/Music/x.ogg
        return _windows_path(path_text[1:])
    return _local_path(path_text, base_dir)


# --- M3U / M3U8 ----------------------------------------------------------------------------


def _parse_m3u(source: Path, lines: list[str]) -> tuple[list[PlaylistEntry], int | None]:
    """The entries, and the line where they were cut off (None when all were read)."""
    entries: list[PlaylistEntry] = []
    title: str | None = None
    duration_ms: int | None = None
    for number, text in enumerate(lines, start=1):
        line = text.strip()
        if not line:
            continue
        if line.startswith("#"):
            if line[:8].upper() == "#EXTINF:":
                duration_ms, title = _parse_extinf(source, number, line[8:])
            continue  # #EXTM3U, #EXTGRP, #PLAYLIST and plain comments
        if len(entries) == MAX_PLAYLIST_ENTRIES:
            return entries, number
        entries.append(
            PlaylistEntry(line, resolve_location(line, source.parent), title, duration_ms, number)
        )
        title, duration_ms = None, None
    return entries, None


def _parse_extinf(source: Path, line: int, body: str) -> tuple[int | None, str | None]:
    match = _EXTINF.match(body)
    if match is None:
        shown = body.partition(",")[0].strip()[:40]
        raise PlaylistError(
            source,
            line,
            f"#EXTINF should start with the length in seconds, found '{shown}'; "
            "write e.g. #EXTINF:240,Title",
        )
    seconds = float(match.group(1) or 0)
    title = (match.group(3) or "").strip() or None
    return (round(seconds * 1000) if seconds > 0 else None), title


# --- PLS -----------------------------------------------------------------------------------


def _parse_pls(source: Path, lines: list[str]) -> tuple[list[PlaylistEntry], int | None]:
    """The entries, and the first line left out past MAX_PLAYLIST_ENTRIES (or None)."""
    files: dict[int, tuple[str, int]] = {}
    cut_at: int | None = None
    titles: dict[int, tuple[str, int]] = {}
    lengths: dict[int, int | None] = {}
    seen_header = False
    for number, text in enumerate(lines, start=1):
        line = text.strip()
        if not line or line.startswith((";", "#")):
            continue
        if not seen_header:
            if line.lower() != "[playlist]":
                raise PlaylistError(source, number, "a PLS playlist must start with [playlist]")
            seen_header = True
            continue
        if line.startswith("["):
            break  # another section: not part of the playlist
        key, equals, value = line.partition("=")
        if not equals:
            raise PlaylistError(
                source, number, f"expected Key=value (e.g. File1=music.ogg), found '{line[:40]}'"
            )
        match = _PLS_KEY.match(key.strip())
        if match is None:
            continue  # NumberOfEntries, Version and keys of other programs
        kind, index = match.group(1).lower(), int(match.group(2))
        value = value.strip()
        if kind == "file":
            if index not in files and len(files) == MAX_PLAYLIST_ENTRIES:
                cut_at = number if cut_at is None else cut_at
                continue
            files[index] = (value, number)
        elif kind == "title":
            titles[index] = (value, number)
        else:
            lengths[index] = _pls_length_ms(source, number, value)
    if not seen_header:
        raise PlaylistError(source, 1, "is empty; a PLS playlist starts with [playlist]")
    for index, (_, number) in titles.items():
        if index not in files and cut_at is None:
            raise PlaylistError(source, number, f"Title{index} has no File{index} line")
    entries = [
        PlaylistEntry(
            location,
            resolve_location(location, source.parent),
            titles.get(index, ("", 0))[0] or None,
            lengths.get(index),
            number,
        )
        for index, (location, number) in sorted(files.items())
    ]
    return entries, cut_at


def _pls_length_ms(source: Path, line: int, value: str) -> int | None:
    try:
        seconds = float(value)
    except ValueError:
        raise PlaylistError(
            source, line, f"the length should be whole seconds (or -1), found '{value[:40]}'"
        ) from None
    return round(seconds * 1000) if seconds > 0 else None


# --- XSPF ----------------------------------------------------------------------------------


@dataclass
class _XspfTrack:
    """One XSPF track while it is being read, with the line it starts on."""

    line: int
    location: str | None = None
    title: str | None = None
    duration: tuple[str, int] | None = None  # (text, line)


class _CutOff(Exception):
    """An XSPF track past MAX_PLAYLIST_ENTRIES: the reading stops there."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _parse_xspf(source: Path, raw: bytes) -> tuple[list[PlaylistEntry], int | None]:
    """The entries, and the line of the first track left out (or None)."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    cut_at: int | None = None
    stack: list[str] = []
    tracks: list[_XspfTrack] = []
    text: list[str] = []
    field_line = 0

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal field_line
        local = name.rpartition(" ")[2]
        if not stack and local != "playlist":
            raise PlaylistError(
                source, parser.CurrentLineNumber, f"is XML but not XSPF (found <{local}>)"
            )
        if local == "track" and stack[-1:] == ["trackList"]:
            if len(tracks) == MAX_PLAYLIST_ENTRIES:
                raise _CutOff(parser.CurrentLineNumber)
            tracks.append(_XspfTrack(parser.CurrentLineNumber))
        stack.append(local)
        text.clear()
        field_line = parser.CurrentLineNumber

    def end(name: str) -> None:
        local = stack.pop()
        if stack[-1:] == ["track"] and stack[-2:-1] == ["trackList"] and tracks:
            value = "".join(text).strip()
            track = tracks[-1]
            if local == "location" and track.location is None:
                track.location = value
            elif local == "title":
                track.title = value or None
            elif local == "duration":
                track.duration = (value, field_line)
        text.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(raw, True)
    except _CutOff as cut:
        cut_at = cut.line
    except xml.parsers.expat.ExpatError as exc:
        problem = xml.parsers.expat.ErrorString(exc.code) if exc.code else str(exc)
        raise PlaylistError(source, exc.lineno, f"is not well-formed XML ({problem})") from exc
    entries = []
    for track in tracks:
        if not track.location:
            raise PlaylistError(source, track.line, "this <track> has no <location>")
        entries.append(
            PlaylistEntry(
                track.location,
                resolve_location(track.location, source.parent, uri=True),
                track.title,
                _xspf_duration_ms(source, track.duration),
                track.line,
            )
        )
    return entries, cut_at


def _xspf_duration_ms(source: Path, duration: tuple[str, int] | None) -> int | None:
    if duration is None or not duration[0]:
        return None
    text, line = duration
    try:
        duration_ms = int(text)
    except ValueError:
        raise PlaylistError(
            source, line, f"<duration> should be milliseconds, found '{text[:40]}'"
        ) from None
    return duration_ms if duration_ms > 0 else None
