"""The prescriber's order for a participant's dosing session, as saved (issue 16)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.dose_order import DoseOrder, OrderSource


@dataclass(frozen=True)
class DoseOrderRecord:
    """One saved version of an order: what was ordered, by whom and when (`occurred_at`)."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    order: DoseOrder
    ordered_by_id: uuid.UUID
    source: OrderSource
    occurred_at: datetime  # when it was ordered
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None = None
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False
