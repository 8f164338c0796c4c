"""A stored version of a client's consent (issue 17), as storage returns it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.consent import Consent


@dataclass(frozen=True)
class ConsentRecord:
    """A version of a client's consent as stored (issue 17)."""

    id: uuid.UUID
    client_id: uuid.UUID
    consent: Consent
    witness: str  # the witness's name as they sign
    recorded_at: datetime
    recorded_by_id: uuid.UUID
    recorded_by: str
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False
