"""What every clinic data file reader shares: the error that says where, reading the file as
UTF-8, TOML syntax errors in plain words, and showing a value as it was written.

Protocols, session-note templates and quick markers are TOML files a clinic lead edits; each
reader keeps its own rules and hints, and raises its own subclass of `ClinicFileError`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


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
        raw = path.read_bytes()
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


def load_toml(
    text: str,
    source: str,
    error: type[ClinicFileError],
    *,
    hints: Mapping[str, str],
    what: str,
) -> dict[str, object]:
    """Parse TOML; a syntax error becomes `error` with its line and, where one of `hints`
    matches tomllib's message, what to do. `what` names the kind of file ("protocol")."""
    try:
        return tomllib.loads(text)
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
        raise error(
            source, None, None, f"is not a usable {what}: lists are nested far too deeply"
        ) from None
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise error(source, None, None, f"is not valid TOML: {exc}") from None


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
