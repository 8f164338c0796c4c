"""Plain, immutable rows handed out by the repositories: no ORM object leaves storage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class StaffRecord:
    id: uuid.UUID
    display_name: str
    role: str
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


@dataclass(frozen=True)
class ParticipantRecord:
    id: uuid.UUID
    client: ClientRecord
    position: int
    course_id: uuid.UUID | None
    session_number: int | None  # this session's number in the client's course


@dataclass(frozen=True)
class SessionRecord:
    id: uuid.UUID
    room: str
    modality: str
    status: str
    protocol_key: str
    protocol_name: str
    protocol_version: int
    protocol_text: str
    therapist_id: uuid.UUID | None
    nurse_id: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    participants: tuple[ParticipantRecord, ...]

    @property
    def participant_names(self) -> str:
        return ", ".join(p.client.full_name for p in self.participants)

    def participant(self, participant_id: uuid.UUID) -> ParticipantRecord:
        for participant in self.participants:
            if participant.id == participant_id:
                return participant
        raise KeyError(participant_id)


@dataclass(frozen=True)
class EventRecord:
    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID | None
    kind: str
    label: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None
    detail: dict[str, Any] = field(default_factory=dict)
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False


@dataclass(frozen=True)
class DoseRecord:
    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    medication: str | None
    route: str | None
    dose_mg: float | None
    lot_number: str | None
    given_by_id: uuid.UUID | None
    recorded_by_id: uuid.UUID | None
    detail: dict[str, Any] = field(default_factory=dict)
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False


@dataclass(frozen=True)
class AuditRecord:
    id: uuid.UUID
    occurred_at: datetime
    staff_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: str | None
    session_id: uuid.UUID | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class SessionSummary:
    """One line of a session list."""

    id: uuid.UUID
    status: str
    modality: str
    protocol_key: str
    protocol_name: str
    room: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    participants: tuple[str, ...]  # full names, in position order
