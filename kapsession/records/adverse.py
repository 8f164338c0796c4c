"""Adverse events, interventions and controlled-substance counts, as plain, immutable records
(issue 16; the vocabularies are `domain.adverse_events`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from kapsession.domain.adverse_events import (
    DISPLAYS,
    adverse_event_title,
    intervention_title,
)
from kapsession.records.entries import is_late


@dataclass(frozen=True)
class AdverseEventRecord:
    """An adverse event as stored (issue 16)."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    kind: str  # an AdverseEventKind
    other: str
    severity: str  # FHIR adverse-event-severity
    seriousness: str  # FHIR adverse-event-seriousness
    outcome: str  # FHIR adverse-event-outcome
    occurred_at: datetime  # the onset
    recorded_at: datetime
    resolved_at: datetime | None
    alert_id: uuid.UUID | None
    actions: str
    recorded_by_id: uuid.UUID | None
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False

    @property
    def title(self) -> str:
        return adverse_event_title(self.kind, self.other)

    @property
    def grading(self) -> str:
        """ "moderate · non-serious · resolved"."""
        return " · ".join(
            DISPLAYS.get(code, code).lower()
            for code in (self.severity, self.seriousness, self.outcome)
        )

    @property
    def is_late(self) -> bool:
        return is_late(self.occurred_at, self.recorded_at)


@dataclass(frozen=True)
class InterventionRecord:
    """An intervention as stored (issue 16)."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    kind: str  # an InterventionKind
    occurred_at: datetime
    recorded_at: datetime
    medication: str | None
    dose: float | None
    unit: str | None
    route: str | None
    lot_number: str | None
    flow_l_min: float | None
    device: str | None
    text: str
    given_by_id: uuid.UUID | None
    adverse_event_id: uuid.UUID | None
    alert_id: uuid.UUID | None
    recorded_by_id: uuid.UUID | None
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False

    @property
    def title(self) -> str:
        return intervention_title(
            self.kind, self.medication, self.dose, self.unit, self.route, self.flow_l_min,
            self.device,
        )  # fmt: skip

    @property
    def is_late(self) -> bool:
        return is_late(self.occurred_at, self.recorded_at)


@dataclass(frozen=True)
class SubstanceRecord:
    """A dose's controlled-substance count: mg drawn (or dispensed), given, wasted."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    dose_id: uuid.UUID
    medication: str | None
    drawn_mg: float
    given_mg: float
    wasted_mg: float
    witness_id: uuid.UUID | None
    comment: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False

    @property
    def title(self) -> str:
        return (
            f"Controlled substance: drawn {self.drawn_mg:g} mg, given {self.given_mg:g} mg, "
            f"wasted {self.wasted_mg:g} mg"
        )


class _Versioned(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def corrects_id(self) -> uuid.UUID | None: ...

    @property
    def voids(self) -> bool: ...


V = TypeVar("V", bound=_Versioned)


def standing_of(rows: Sequence[V], version_id: uuid.UUID | None) -> V | None:
    """The standing version of the entry one of whose versions is `version_id` (an intervention
    names the adverse event as it stood when it was entered; a count, the dose): None when
    there is none, or it was withdrawn."""
    if version_id is None:
        return None
    newer = {row.corrects_id: row for row in rows if row.corrects_id is not None}
    by_id = {row.id: row for row in rows}
    current = by_id.get(version_id)
    while current is not None and current.id in newer:
        current = newer[current.id]
    if current is None or current.voids:
        return None
    return current


def chain_ids(rows: Iterable[V], version_id: uuid.UUID) -> set[uuid.UUID]:
    """Every version id of the entry `version_id` is a version of."""
    listed = list(rows)
    parent = {row.id: row.corrects_id for row in listed}
    root = version_id
    while parent.get(root) is not None:
        root = parent[root] or root
    ids = {root}
    grew = True
    while grew:
        grew = False
        for row in listed:
            if row.corrects_id in ids and row.id not in ids:
                ids.add(row.id)
                grew = True
    return ids
