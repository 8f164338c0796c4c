"""A saved version of a client's profile, and a correction of the client's identity."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from kapsession.domain.client_profile import ClientProfile


@dataclass(frozen=True)
class ProfileVersion:
    """One saved version: the newest of a client's is their profile as it stands."""

    id: uuid.UUID
    client_id: uuid.UUID
    profile: ClientProfile
    recorded_at: datetime
    recorded_by_id: uuid.UUID
    recorded_by: str  # the staff member's name and credentials, as the record names them
    replaces_id: uuid.UUID | None = None
    reason: str | None = None


@dataclass(frozen=True)
class IdentityCorrection:
    """The client's date of birth and record number as corrected (both as they should stand)."""

    date_of_birth: date | None
    record_number: str | None
