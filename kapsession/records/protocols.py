"""A protocol file as offered for a new session: the parsed protocol and its exact text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kapsession.domain.protocol import Protocol


@dataclass(frozen=True)
class ProtocolChoice:
    """A protocol file offered for a new session, with its exact text."""

    protocol: Protocol
    path: Path
    text: str  # the exact file text: stored with the session as its snapshot

    @property
    def key(self) -> str:
        return self.protocol.key
