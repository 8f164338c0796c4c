"""Sessions, their participants and the lines of a session list."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.protocol import SessionType
from kapsession.records.people import ClientRecord


class SessionStatus(enum.StrEnum):
    """Where a session is: planned, running, ended (its parts to be signed), signed and locked."""

    PLANNED = "planned"
    LIVE = "live"
    COMPLETED = "completed"  # ended; staff call it ended
    SIGNED = "signed"


@dataclass(frozen=True)
class ParticipantRecord:
    """A client taking part in a session."""

    id: uuid.UUID
    client: ClientRecord
    position: int
    course_id: uuid.UUID | None
    session_number: int | None  # this session's number in the client's course
    monitor_id: uuid.UUID | None = None  # their own monitoring clinician; None: the session's
    follows_session_id: uuid.UUID | None = None  # integration: the dosing session (issue 17)


@dataclass(frozen=True)
class SessionRecord:
    """A session as stored, with its participants and team."""

    id: uuid.UUID
    room: str
    modality: str
    status: SessionStatus
    protocol_key: str
    protocol_name: str
    protocol_version: int
    protocol_text: str
    therapist_id: uuid.UUID | None  # the session's therapist now (after any handover)
    nurse_id: uuid.UUID | None  # its monitoring clinician now, of those without their own
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    participants: tuple[ParticipantRecord, ...]
    prescriber_id: uuid.UUID | None = None  # the prescriber on site, if one is named
    session_type: SessionType = SessionType.DOSING  # issue 17: its protocol's type

    def monitor_of(self, participant_id: uuid.UUID | None) -> uuid.UUID | None:
        """The participant's monitoring clinician (None: the session's, for everyone)."""
        for participant in self.participants:
            if participant.id == participant_id and participant.monitor_id is not None:
                return participant.monitor_id
        return self.nurse_id

    @property
    def participant_names(self) -> str:
        return ", ".join(p.client.full_name for p in self.participants)

    def participant(self, participant_id: uuid.UUID) -> ParticipantRecord:
        for participant in self.participants:
            if participant.id == participant_id:
                return participant
        raise KeyError(participant_id)


@dataclass(frozen=True)
class SessionSummary:
    """One line of a session list."""

    id: uuid.UUID
    status: SessionStatus
    modality: str
    protocol_key: str
    protocol_name: str
    room: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    participants: tuple[str, ...]  # full names, in position order
