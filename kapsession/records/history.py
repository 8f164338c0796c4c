"""A client's course history as plain, immutable rows: one per session the client took part in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from kapsession.records.measures import MeasureRecord
from kapsession.records.people import ClientRecord
from kapsession.records.sessions import SessionStatus

# How a stored session status reads in the history ("completed" is what staff call ended).
STATUS_LABELS = {
    SessionStatus.PLANNED: "planned",
    SessionStatus.LIVE: "live",
    SessionStatus.COMPLETED: "ended",
    SessionStatus.SIGNED: "signed",
}


@dataclass(frozen=True)
class HistorySession:
    """One session of the client, summarised from the standing record (corrections applied).

    Every measurement is the client's own (their participant row), never a co-participant's;
    None means nothing of that kind was recorded.
    """

    session_id: uuid.UUID
    participant_id: uuid.UUID
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    course_id: uuid.UUID | None
    course_title: str | None
    session_number: int | None  # its number within its course, from 1; None: no course
    protocol_key: str
    protocol_name: str
    route: str | None  # the protocol snapshot's dosing route (sublingual, intranasal, ...)
    modality: str  # individual | couples | group
    status: SessionStatus
    dose_count: int  # standing doses (initial and boosters)
    dose_total_mg: float | None  # their sum; None: no standing dose with an amount
    baseline_systolic_mmhg: int | None  # from the first standing check-in
    baseline_diastolic_mmhg: int | None
    baseline_heart_rate_bpm: int | None
    baseline_spo2_pct: int | None
    peak_systolic_mmhg: int | None  # highest over the standing check-ins
    peak_diastolic_mmhg: int | None
    lowest_spo2_pct: int | None
    highest_dissociation: int | None  # the clinician-rated 0-4 level
    alerts: int  # alerts raised for the client in the session
    ready_minutes_after_first_dose: int | None  # as the standing discharge check recorded it

    @property
    def held_at(self) -> datetime:
        """When the session took place: its start, or its creation before it started."""
        return self.started_at or self.created_at

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class ClientHistory:
    """Everything the course review shows of one client, oldest session first."""

    client: ClientRecord
    sessions: tuple[HistorySession, ...]
    # the outcome measures as they stand (issue 17), oldest first; () when none were read
    measures: tuple[MeasureRecord, ...] = ()
    # every version of them, the corrected and withdrawn ones too (the earlier values shown)
    measure_versions: tuple[MeasureRecord, ...] = ()

    @property
    def courses(self) -> int:
        """How many courses the sessions belong to (sessions without a course not counted)."""
        return len({s.course_id for s in self.sessions if s.course_id is not None})
