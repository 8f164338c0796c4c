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
    "PIN_OLD_MIN_DIGITS",
    "ClientRecord",
    "StaffRecord",
    "StaffRole",
]

# A staff member's PIN (sign-in, unlocking, switching, signing): this many digits, numbers only.
# A new PIN has at least PIN_MIN_DIGITS (issue 18: a 4-digit PIN's hash fell to an offline
# search in minutes). A PIN set before under the old rule (PIN_OLD_MIN_DIGITS) still opens the
# sign-in, which then has it changed before anything else.
PIN_MIN_DIGITS = 6
PIN_OLD_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
PASSPHRASE_MIN_CHARS = 8  # a signing passphrase (issue 18)


@dataclass(frozen=True)
class StaffRecord:
    """A staff member as stored."""

    id: uuid.UUID
    display_name: str
    role: StaffRole
    credentials: str
    active: bool
    admin: bool = False  # the clinic administrator's account (issue 18): manages the others

    @property
    def signature_name(self) -> str:
        return f"{self.display_name}, {self.credentials}" if self.credentials else self.display_name


@dataclass(frozen=True)
class ClientRecord:
    """A client as stored."""

    id: uuid.UUID
    given_name: str
    family_name: str
    date_of_birth: date | None
    record_number: str | None
    created_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()
