"""What every clinic data file reader shares: the error that says where, reading the file as
UTF-8, TOML syntax errors in plain words, and showing a value as it was written.

Protocols, session-note templates, quick markers and the room's settings are TOML files a
clinic lead edits; each reader keeps its own rules and hints, and raises its own subclass of
`ClinicFileError`.

Every read is bounded, whatever is at the path: only a regular file is read (a pipe would wait
for ever, /dev/zero never ends), of at most MAX_CLINIC_FILE_BYTES, and its tables and lists
nested at most MAX_NESTING deep; anything else is refused with the file's name and nothing
from it is used. Playlists are read through `read_regular_file` too, with their own limit.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from kapsession.domain.toml_lines import TomlLineMap

T = TypeVar("T")

MAX_CLINIC_FILE_BYTES = 1_000_000  # 1 MB; the largest protocol is about 9 KB
MAX_NESTING = 10  # tables and lists inside each other; the clinic files need 4

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


class UnusableFile(ValueError):
    """What is at a path is not a file that can be read (a folder, a device, a pipe) or is
    larger than its kind of file can be; the message says which, and what to do."""


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file at `path` (a link to one is followed): UnusableFile for
    anything else or for more than `max_bytes`, OSError when it cannot be opened or read."""
    # O_NONBLOCK: a pipe opens at once instead of waiting for a writer (it is refused below)
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise UnusableFile(f"is {file_kind(info.st_mode)}, not a file; replace it with a file")
        if info.st_size > max_bytes:
            raise UnusableFile(_too_large(info.st_size, max_bytes))
        chunks = []
        left = max_bytes + 1  # one byte more shows a file that grew meanwhile
        while left > 0:
            chunk = os.read(handle, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:
            raise UnusableFile(_too_large(len(data), max_bytes))
        return data
    finally:
        os.close(handle)


REGULAR_FILE = "a file"


def file_kind(mode: int) -> str:
    """What a file system entry is, in words ("a file", "a folder", "a device" ...), from its
    `st_mode`: for messages that say why a path cannot be read or written."""
    if stat.S_ISREG(mode):
        return REGULAR_FILE
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _too_large(size: int, max_bytes: int) -> str:
    shown, limit = _size_text(size), _size_text(max_bytes)
    if shown == limit:  # just over: the bytes tell them apart
        shown, limit = f"{size:,} bytes", f"{max_bytes:,} bytes"
    return (
        f"is {shown}, larger than this kind of file can be (at most {limit}); is it the right file?"
    )


def _size_text(size: int) -> str:
    if size >= 1_000_000_000:
        return f"{size / 1e9:.1f} GB"
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    if size >= 1_000:
        return f"{size / 1e3:.0f} KB"
    return f"{size} bytes"


class ClinicFileError(ValueError):
    """A file that cannot be used, with where the problem is (file, line, field) and what to do."""

    def __init__(self, source: str, line: int | None, field: str | None, message: str) -> None:
        super().__init__(source, line, field, message)
        self.source = source
        self.line = line
        self.field = field
        self.message = message

    def __str__(self) -> str:
        where = [self.source]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(self.field)
        return f"{', '.join(where)}: {self.message}"


def read_text(path: Path, error: type[ClinicFileError]) -> str:
    """The file's text (UTF-8, a byte-order mark dropped); `error` names the file otherwise."""
    source = path.name
    try:
        raw = read_regular_file(path, MAX_CLINIC_FILE_BYTES)
    except UnusableFile as exc:
        raise error(source, None, None, str(exc)) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise error(
            source, None, None, f"cannot be read ({reason}); check the file and its permissions"
        ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            source, line, None, "is not UTF-8 text; save the file as UTF-8 in a plain text editor"
        ) from exc


class Invalid(Exception):
    """One validation problem of a clinic file's content, before its line number is looked up
    (`parse_toml_file` looks it up and raises the file's own error)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field = field
        self.message = message


def parse_toml_file(
    text: str,
    source: str,
    error: type[ClinicFileError],
    read: Callable[[dict[str, object]], T],
    *,
    hints: Mapping[str, str],
    what: str,
) -> T:
    """A clinic file's text (a byte-order mark some Windows editors add left out), parsed
    (`load_toml`) and validated by `read`; an `Invalid` it raises becomes `error` with the line
    of the field named."""
    text = text.removeprefix("\ufeff")
    data = load_toml(text, source, error, hints=hints, what=what)
    try:
        return read(data)
    except Invalid as invalid:
        line = TomlLineMap(text).line_of(invalid.field)
        raise error(source, line, invalid.field, invalid.message) from None


def load_toml(
    text: str,
    source: str,
    error: type[ClinicFileError],
    *,
    hints: Mapping[str, str],
    what: str,
) -> dict[str, object]:
    """Parse TOML; a syntax error becomes `error` with its line and, where one of `hints`
    matches tomllib's message, what to do. `what` names the kind of file ("protocol").
    Text larger than a clinic file can be, or nested deeper than MAX_NESTING, is refused."""
    if len(text) > MAX_CLINIC_FILE_BYTES:
        raise error(source, None, None, _too_large(len(text), MAX_CLINIC_FILE_BYTES))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raw = str(exc)
        match = _TOML_POSITION.search(raw)
        reason = raw[: match.start()] if match else raw
        if match and match.group(1):
            line = int(match.group(1))
            reason = f"{reason} at column {match.group(2)}"
        else:
            line = text.rstrip("\n").count("\n") + 1
            reason = f"{reason} at the end of the file"
        hint = next((h for start, h in hints.items() if raw.startswith(start)), None)
        message = f"is not valid TOML: {reason}" + (f"; {hint}" if hint else "")
        raise error(source, line, None, message) from None
    except RecursionError:
        raise error(source, None, None, _too_deep(what)) from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise error(source, None, None, f"is not valid TOML: {exc}") from None
    if _deeper_than(data, MAX_NESTING):  # dotted keys nest without any bracket
        raise error(source, None, None, _too_deep(what))
    return data


def _too_deep(what: str) -> str:
    return (
        f"is not a usable {what}: its tables and lists are nested far too deeply (a {what} "
        f"needs a few levels, at most {MAX_NESTING})"
    )


def _deeper_than(data: object, limit: int) -> bool:
    """Whether tables and lists in `data` are nested more than `limit` deep (without
    recursion: the point is to refuse what would overflow it)."""
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def show(value: object) -> str:
    """A value as the clinic lead wrote it, for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return f"a date or time ({value})"
