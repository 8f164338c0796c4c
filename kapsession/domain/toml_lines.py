"""Line numbers in TOML text, by dotted path (`phases[2].ends`), for error messages.

tomllib parses values but forgets where they were written; a clinic lead editing a protocol
needs the line. This scanner walks valid TOML text and records where each table, key and list
item starts.
"""

from __future__ import annotations

import contextlib


def join_path(path: str, name: str) -> str:
    """`phases[2]` + `ends` -> `phases[2].ends`."""
    return f"{path}.{name}" if path else name


class TomlLineMap:
    """Line numbers of tables, keys and list items in valid TOML text, by dotted path.

    Paths look like the validator's fields: `dosing.route`, `phases[2].ends`,
    `checkins[0].measures[1]`. A path not written in the file (a missing key) is looked up as
    its nearest written parent, so a missing field points at its table header.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1
        self._lines: dict[str, int] = {"": 1}
        self._array_tables: dict[str, int] = {}
        # On a shape the scanner does not follow, keep what was found: lookups use parents.
        with contextlib.suppress(IndexError, RecursionError, _ScanStop):
            self._scan()

    def line_of(self, path: str) -> int:
        while path not in self._lines:
            path = _parent(path)
        return self._lines[path]

    # --- scanning -------------------------------------------------------------------------

    def _peek(self, ahead: int = 0) -> str:
        index = self._pos + ahead
        return self._text[index] if index < len(self._text) else ""

    def _advance(self, count: int = 1) -> None:
        for _ in range(count):
            if self._pos >= len(self._text):
                raise _ScanStop
            if self._text[self._pos] == "\n":
                self._line += 1
            self._pos += 1

    def _skip_blank(self, newlines: bool) -> None:
        """Skip spaces and comments, and line breaks too when `newlines`."""
        while self._pos < len(self._text):
            char = self._text[self._pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self._advance()
            elif char == "#":
                while self._pos < len(self._text) and self._text[self._pos] != "\n":
                    self._advance()
            else:
                return

    def _record(self, path: str, line: int) -> None:
        self._lines.setdefault(path, line)

    def _scan(self) -> None:
        table = ""
        while True:
            self._skip_blank(newlines=True)
            if self._pos >= len(self._text):
                return
            start = self._pos
            if self._peek() == "[":
                table = self._header()
            else:
                self._key_value(table)
            if self._pos == start:
                self._advance()

    def _header(self) -> str:
        line = self._line
        is_array = self._peek(1) == "["
        self._advance(2 if is_array else 1)
        segments = self._key()
        self._advance(2 if is_array else 1)
        path = ""
        for index, segment in enumerate(segments):
            path = join_path(path, segment)
            if is_array and index == len(segments) - 1:
                self._record(path, line)
                count = self._array_tables.get(path, -1) + 1
                self._array_tables[path] = count
                path = f"{path}[{count}]"
            elif path in self._array_tables:
                path = f"{path}[{self._array_tables[path]}]"
            self._record(path, line)
        return path

    def _key_value(self, table: str) -> None:
        line = self._line
        path = table
        for segment in self._key():
            path = join_path(path, segment)
            self._record(path, line)
        self._skip_blank(newlines=False)
        if self._peek() == "=":
            self._advance()
            self._skip_blank(newlines=False)
            self._value(path)

    def _key(self) -> list[str]:
        segments: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            char = self._peek()
            if char in ('"', "'"):
                segments.append(self._string())
            else:
                start = self._pos
                while self._peek() and (self._peek().isalnum() or self._peek() in "-_"):
                    self._advance()
                if self._pos == start:
                    return segments
                segments.append(self._text[start : self._pos])
            self._skip_blank(newlines=False)
            if self._peek() != ".":
                return segments
            self._advance()

    def _string(self) -> str:
        quote = self._peek()
        delimiter = quote * 3 if self._text.startswith(quote * 3, self._pos) else quote
        self._advance(len(delimiter))
        start = self._pos
        while not self._text.startswith(delimiter, self._pos):
            if not self._peek() or (len(delimiter) == 1 and self._peek() == "\n"):
                raise _ScanStop
            if quote == '"' and self._peek() == "\\":
                self._advance()
            self._advance()
        if len(delimiter) == 3:  # up to two more quotes may belong to the text
            while self._text.startswith(quote * 4, self._pos):
                self._advance()
        value = self._text[start : self._pos]
        self._advance(len(delimiter))
        return value

    def _value(self, path: str) -> None:
        char = self._peek()
        if char in ('"', "'"):
            self._string()
        elif char == "[":
            self._advance()
            index = 0
            while True:
                self._skip_blank(newlines=True)
                if self._peek() in ("]", ""):
                    break
                before = self._pos
                item = f"{path}[{index}]"
                self._record(item, self._line)
                self._value(item)
                self._skip_blank(newlines=True)
                if self._peek() == ",":
                    self._advance()
                    index += 1
                elif self._pos == before:
                    raise _ScanStop
            self._advance()
        elif char == "{":
            self._advance()
            while True:
                self._skip_blank(newlines=False)
                if self._peek() in ("}", ""):
                    break
                before = self._pos
                line = self._line
                key_path = path
                for segment in self._key():
                    key_path = join_path(key_path, segment)
                    self._record(key_path, line)
                self._skip_blank(newlines=False)
                if self._peek() != "=":
                    raise _ScanStop
                self._advance()
                self._skip_blank(newlines=False)
                self._value(key_path)
                self._skip_blank(newlines=False)
                if self._peek() == ",":
                    self._advance()
                elif self._pos == before:
                    raise _ScanStop
            self._advance()
        else:
            while self._peek() not in ("", ",", "]", "}", "#", "\n"):
                self._advance()


class _ScanStop(Exception):
    """The text ended or took a shape the scanner does not follow; keep what was found."""


def _parent(path: str) -> str:
    """`phases[2].ends` -> `phases[2]` -> `phases` -> ``."""
    if path.endswith("]") and "[" in path:
        return path[: path.rindex("[")]
    dot = path.rfind(".")
    return path[:dot] if dot >= 0 else ""
