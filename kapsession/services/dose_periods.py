"""Doses that last (issue 16): the sublingual hold and its end (spat out or swallowed), the IV
infusion's pauses, resumption and stop; and when a participant's last dose ended, for the
discharge's observation time.

Each is a session event (`hold_outcome`, `infusion_pause`, `infusion_resume`, `infusion_stop`)
for the participant, naming the dose in its detail: append-only and corrected like every event
(`EntryRepository.correct_event`). What they add up to is derived from the standing doses and
events, so a correction or a withdrawal changes it, and the live session's state (which keeps
the events from each save) and a fresh read agree. An event belongs to the participant's latest
dose at or before its time (a corrected dose is a new row: matching by time follows it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kapsession.domain.dose_periods import (
    HOLD_OUTCOME_WORDS,
    INFUSION_ACTION_WORDS,
    DosePeriodInvalid,
    HoldOutcome,
    InfusionAction,
    check_hold_outcome,
    check_infusion_action,
    infusion_from,
)
from kapsession.domain.protocol import Protocol
from kapsession.records.dose_periods import (
    DOSE_PERIOD_EVENTS,
    EVENT_OF_ACTION,
    current_hold,
    current_infusion,
    holds_dose,
    holds_of,
    infuses,
    infusions_of,
    last_dose_end,
)
from kapsession.records.entries import EventKind, EventRecord
from kapsession.records.errors import StorageError
from kapsession.storage.database import Database
from kapsession.storage.entries import EntryRepository

__all__ = [  # what the record derives, for the services' callers
    "DOSE_PERIOD_EVENTS",
    "DosePeriodService",
    "current_hold",
    "current_infusion",
    "holds_dose",
    "holds_of",
    "infuses",
    "infusions_of",
    "last_dose_end",
]


class DosePeriodService:
    """Recording the end of a sublingual hold and an infusion's pauses and stop."""

    def __init__(self, database: Database, protocol_of: Callable[[uuid.UUID], Protocol]) -> None:
        """`protocol_of(session_id)`: the session's protocol snapshot (read once)."""
        self.entries = EntryRepository(database)
        self._protocol_of = protocol_of

    def record_hold_outcome(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        outcome: HoldOutcome,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        by: uuid.UUID | None = None,
    ) -> EventRecord:
        """The client spat out (or swallowed) the held sublingual dose at `occurred_at`.
        Refused (DosePeriodInvalid) without a held dose, or when its hold already ended."""
        protocol = self._protocol_of(session_id)
        if not holds_dose(protocol):
            raise DosePeriodInvalid(
                "This protocol has no sublingual hold; spit or swallow is not recorded."
            )
        doses = self.entries.doses(session_id)
        events = self.entries.events(session_id)
        held = holds_of(protocol, doses, events, participant_id)
        latest = [(d, h) for d, h in held if d.occurred_at <= occurred_at]
        dose, hold = latest[-1] if latest else (None, None)
        check_hold_outcome(hold, occurred_at)
        assert dose is not None and hold is not None
        held_min = round((occurred_at - dose.occurred_at).total_seconds() / 60)
        return self.entries.add_event(
            session_id,
            EventKind.HOLD_OUTCOME,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            label=f"{HOLD_OUTCOME_WORDS[outcome]} after a sublingual hold of {held_min} min",
            participant_id=participant_id,
            detail={
                "outcome": outcome.value,
                "dose_id": str(dose.id),
                "hold_min": hold.hold_min,
                "held_min": held_min,
            },
            by=by,
        )

    def record_infusion_action(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        action: InfusionAction,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        total_mg: float | None = None,
        by: uuid.UUID | None = None,
    ) -> EventRecord:
        """Pause, resume or stop the participant's infusion at `occurred_at`; a stop records
        the total given (default: the dose as entered). Refused (DosePeriodInvalid) when the
        infusion cannot take that action now."""
        protocol = self._protocol_of(session_id)
        if not infuses(protocol):
            raise DosePeriodInvalid("This protocol's dose is not an infusion.")
        doses = self.entries.doses(session_id)
        events = self.entries.events(session_id)
        infusions = [
            (d, i)
            for d, i in infusions_of(protocol, doses, events, participant_id)
            if d.occurred_at <= occurred_at
        ]
        dose, infusion = infusions[-1] if infusions else (None, None)
        check_infusion_action(infusion, action, occurred_at, total_mg)
        assert dose is not None and infusion is not None
        detail: dict[str, Any] = {"action": action.value, "dose_id": str(dose.id)}
        label = INFUSION_ACTION_WORDS[action]
        if action is InfusionAction.STOP:
            given = total_mg if total_mg is not None else dose.dose_mg
            detail["total_mg"] = given
            stopped = infusion_from(
                dose.occurred_at,
                dose.dose_mg,
                [*((at, a, None) for at, a in infusion.actions), (occurred_at, action, given)],
            )
            detail["running_min"] = round(stopped.running_s(occurred_at) / 60, 1)
            detail["paused_min"] = round(stopped.paused_s(occurred_at) / 60, 1)
            label = stopped.describe()
        return self.entries.add_event(
            session_id,
            EVENT_OF_ACTION[action],
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            label=label,
            participant_id=participant_id,
            detail=detail,
            by=by,
        )

    def correct(
        self,
        session_id: uuid.UUID,
        event_id: uuid.UUID,
        *,
        reason: str,
        recorded_at: datetime,
        occurred_at: datetime | None = None,
        voids: bool = False,
        by: uuid.UUID | None = None,
    ) -> EventRecord:
        """Correct the time of a hold's end or an infusion's action, or withdraw it (`voids`);
        the original stays on the record. To change spit into swallow, withdraw and record."""
        standing = self.entries.events(session_id)
        original = next((e for e in standing if e.id == event_id), None)
        if original is None or original.kind not in DOSE_PERIOD_EVENTS:
            raise StorageError(
                "That entry is not a standing hold's end or infusion action of this session."
            )
        return self.entries.correct_event(
            event_id,
            reason=reason,
            recorded_at=recorded_at,
            occurred_at=occurred_at,
            voids=voids,
            by=by,
        )
