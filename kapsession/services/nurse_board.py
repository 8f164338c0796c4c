"""The room at a glance: the nurse board (who needs a check-in next) and staggered dosing."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kapsession.domain.protocol import Protocol
from kapsession.domain.timeline import CheckinState, CheckinStatus, TimelineState
from kapsession.records.entries import AlertRecord, EventRecord, ObservationRecord
from kapsession.records.errors import StorageError
from kapsession.records.sessions import ParticipantRecord, SessionRecord

MAX_STAGGER_MIN = 60.0


@dataclass(frozen=True)
class BoardRow:
    """One participant on the nurse board."""

    participant: ParticipantRecord
    since_dose_s: float | None  # T+ time; None before the dose
    dose_at: datetime | None  # actual T0, or the projected one before the dose
    dose_projected: bool
    phase: str | None  # the current phase's name
    next_checkin: CheckinState | None
    last_reading: ObservationRecord | None
    open_alerts: int
    discharged_at: datetime | None

    @property
    def name(self) -> str:
        return self.participant.client.full_name


_URGENCY = {CheckinStatus.OVERDUE: 0, CheckinStatus.DUE: 1, CheckinStatus.UPCOMING: 2}


def board_rows(
    record: SessionRecord,
    states: Mapping[uuid.UUID, TimelineState],
    observations: Iterable[ObservationRecord],
    open_alerts: Iterable[AlertRecord],
    discharged: Mapping[uuid.UUID, datetime],
) -> list[BoardRow]:
    """Every participant, the one whose next check-in is most pressing first: overdue before
    due before upcoming, each by due time; discharged participants last."""
    last: dict[uuid.UUID, ObservationRecord] = {}
    for observation in sorted(observations, key=lambda o: (o.occurred_at, o.recorded_at)):
        last[observation.participant_id] = observation
    alert_counts: dict[uuid.UUID, int] = {}
    for alert in open_alerts:
        alert_counts[alert.participant_id] = alert_counts.get(alert.participant_id, 0) + 1
    rows = []
    for participant in record.participants:
        state = states[participant.id]
        gone = discharged.get(participant.id)
        pending = state.next_checkins(1)
        phase = state.current_phase
        rows.append(
            BoardRow(
                participant=participant,
                since_dose_s=state.since_dose_s,
                dose_at=state.dose_anchor_at,
                dose_projected=state.dose_projected,
                phase=None if phase is None else phase.spec.name,
                next_checkin=pending[0] if pending and gone is None else None,
                last_reading=last.get(participant.id),
                open_alerts=alert_counts.get(participant.id, 0),
                discharged_at=gone,
            )
        )

    def order(row: BoardRow) -> tuple[int, int, float, int]:
        checkin = row.next_checkin
        if row.discharged_at is not None:
            return (1, 3, row.discharged_at.timestamp(), row.participant.position)
        if checkin is None:
            return (0, 3, math.inf, row.participant.position)
        return (0, _URGENCY[checkin.status], checkin.due_at.timestamp(), row.participant.position)

    return sorted(rows, key=order)


def checkin_target(rows: Sequence[BoardRow], selected: uuid.UUID | None) -> uuid.UUID | None:
    """Whom a new check-in (C) is for: the participant the board lists first when their
    check-in is due or overdue (the most urgent in the room, whoever is selected), unless the
    selected participant's is just as urgent (as late, since the same time); else the
    participant `selected` (an extra check-in of the one on screen), else the board's first."""
    first = rows[0] if rows else None
    if first is None:
        return selected
    pressing = (CheckinStatus.DUE, CheckinStatus.OVERDUE)
    checkin = first.next_checkin  # (a discharged participant has none)
    if checkin is not None and checkin.status in pressing:
        mine = next((r for r in rows if r.participant.id == selected), None)
        theirs = None if mine is None else mine.next_checkin
        if theirs is None or (theirs.status, theirs.due_at) != (checkin.status, checkin.due_at):
            return first.participant.id
    return selected if selected is not None else first.participant.id


def staggered_dose_times(
    record: SessionRecord, protocol: Protocol, stagger_min: float, first_at: datetime | None = None
) -> dict[uuid.UUID, datetime]:
    """Planned dose times `stagger_min` apart, in participant order, from the protocol's
    planned dose time (or `first_at`)."""
    if record.started_at is None:
        raise StorageError("Start the session before planning the doses.")
    if not 0 <= stagger_min <= MAX_STAGGER_MIN:
        raise ValueError(
            f"The time between doses must be 0 to {MAX_STAGGER_MIN:g} minutes, not {stagger_min:g}."
        )
    first = first_at or record.started_at + timedelta(
        minutes=protocol.dosing.planned_dose_after_start_min
    )
    step = timedelta(minutes=stagger_min)
    return {p.id: first + step * index for index, p in enumerate(record.participants)}


def dose_plan(events: Iterable[EventRecord]) -> dict[uuid.UUID, datetime]:
    """The planned dose time of each participant, from the latest standing dose plan."""
    plans = [e for e in events if e.kind == "dose_plan"]
    if not plans:
        return {}
    latest = max(plans, key=lambda e: (e.occurred_at, e.recorded_at))
    planned: Mapping[str, str] = latest.detail.get("planned", {})
    return {uuid.UUID(pid): datetime.fromisoformat(at) for pid, at in planned.items()}
