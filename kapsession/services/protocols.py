"""The clinic's protocol files, as choices for a new session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from kapsession.domain.clinic_file import read_text
from kapsession.domain.protocol_file import ProtocolError, list_protocol_files, parse_protocol
from kapsession.records.protocols import ProtocolChoice

log = logging.getLogger(__name__)


class UnknownProtocol(LookupError):
    """No valid protocol file with that key."""


@dataclass(frozen=True)
class ProtocolCatalog:
    """The protocol files of a folder."""

    folder: Path

    def scan(self) -> tuple[list[ProtocolChoice], list[ProtocolError]]:
        """Every valid protocol, and the errors of the broken files (never raises for one file)."""
        choices: list[ProtocolChoice] = []
        problems: list[ProtocolError] = []
        if not self.folder.is_dir():
            problems.append(
                ProtocolError(
                    str(self.folder), None, None, "the protocol folder is missing; reinstall"
                )
            )
            return choices, problems
        for path in list_protocol_files(self.folder):
            try:  # bounded like every clinic file (read_text): a regular file, its size
                text = read_text(path, ProtocolError)
                choices.append(ProtocolChoice(parse_protocol(text, path.name), path, text))
            except ProtocolError as exc:
                log.warning("protocol file skipped: %s", exc)
                problems.append(exc)
        seen: set[str] = set()
        unique: list[ProtocolChoice] = []
        for choice in choices:
            if choice.key in seen:
                problems.append(
                    ProtocolError(
                        choice.path.name,
                        None,
                        "key",
                        f'another file already uses key "{choice.key}"; keys must be unique',
                    )
                )
                continue
            seen.add(choice.key)
            unique.append(choice)
        return sorted(unique, key=lambda c: c.protocol.name), problems

    def get(self, key: str) -> ProtocolChoice:
        choices, problems = self.scan()
        for choice in choices:
            if choice.key == key:
                return choice
        known = ", ".join(c.key for c in choices) or "none"
        broken = "".join(f"\n  {p}" for p in problems)
        raise UnknownProtocol(
            f'No valid protocol "{key}". Available: {known}.'
            + (f"\nThese protocol files have errors:{broken}" if broken else "")
        )
