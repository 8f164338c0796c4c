"""Staff and clients as plain, immutable records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from kapsession.domain.roles import StaffRole

__all__ = [
    "PASSPHRASE_MIN_CHARS",
    "PIN_MAX_DIGITS",
    "PIN_MIN_DIGITS",
    "ClientRecord",
    "StaffRecord",
    "StaffRole",
]

# A staff member's signing PIN: this many digits, numbers only.
PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
PASSPHRASE_MIN_CHARS = 8  # a signing passphrase (issue 18)


@dataclass(frozen=True)
class StaffRecord:
    id: uuid.UUID
    display_name: str
    role: StaffRole
    credentials: str
    active: bool

    @property
    def signature_name(self) -> str:
        return f"{self.display_name}, {self.credentials}" if self.credentials else self.display_name


@dataclass(frozen=True)
class ClientRecord:
    id: uuid.UUID
    given_name: str
    family_name: str
    date_of_birth: date | None
    record_number: str | None
    created_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()
