"""Doses that last (issue 16), as the record holds them: the sublingual hold of each dose and
its end, each IV dose as an infusion with its pauses and stop, and when a participant's last dose
ended. Derived from the standing doses and events (the services, the live state and the exports
all read them here). An event belongs to the participant's latest dose at or before its time
(a corrected dose is a new row: matching by time follows it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from kapsession.domain.dose_periods import (
    Hold,
    HoldOutcome,
    Infusion,
    InfusionAction,
    infusion_from,
)
from kapsession.domain.protocol import Protocol, Route
from kapsession.records.entries import DoseRecord, EventKind, EventRecord

INFUSION_EVENTS = {
    EventKind.INFUSION_PAUSE: InfusionAction.PAUSE,
    EventKind.INFUSION_RESUME: InfusionAction.RESUME,
    EventKind.INFUSION_STOP: InfusionAction.STOP,
}
EVENT_OF_ACTION = {action: kind for kind, action in INFUSION_EVENTS.items()}
DOSE_PERIOD_EVENTS = frozenset({EventKind.HOLD_OUTCOME, *INFUSION_EVENTS})


def holds_dose(protocol: Protocol) -> bool:
    """A sublingual protocol with a hold time: each dose is held, then spat or swallowed."""
    dosing = protocol.dosing
    return dosing.route is Route.SUBLINGUAL and bool(dosing.hold_min)


def infuses(protocol: Protocol) -> bool:
    """An IV protocol: each dose is an infusion, started with the dose."""
    return protocol.dosing.route is Route.INTRAVENOUS


def _own_doses(doses: Iterable[DoseRecord], participant_id: uuid.UUID) -> list[DoseRecord]:
    return sorted(
        (d for d in doses if d.participant_id == participant_id and not d.voids),
        key=lambda d: (d.occurred_at, d.recorded_at),
    )


def _dose_of(at: datetime, own: Sequence[DoseRecord]) -> DoseRecord | None:
    """The participant's latest dose at or before `at`."""
    found = None
    for dose in own:
        if dose.occurred_at <= at:
            found = dose
    return found


def _own_events(
    events: Iterable[EventRecord], participant_id: uuid.UUID, kinds: Iterable[str]
) -> list[EventRecord]:
    wanted = set(kinds)
    return sorted(
        (e for e in events if e.participant_id == participant_id and e.kind in wanted),
        key=lambda e: (e.occurred_at, e.recorded_at),
    )


def holds_of(
    protocol: Protocol,
    doses: Iterable[DoseRecord],
    events: Iterable[EventRecord],
    participant_id: uuid.UUID,
) -> list[tuple[DoseRecord, Hold]]:
    """Each standing dose of the participant with its hold (none for other protocols)."""
    hold_min = protocol.dosing.hold_min
    if not holds_dose(protocol) or hold_min is None:
        return []
    own = _own_doses(doses, participant_id)
    ends: dict[uuid.UUID, EventRecord] = {}
    for event in _own_events(events, participant_id, (EventKind.HOLD_OUTCOME,)):
        dose = _dose_of(event.occurred_at, own)
        if dose is not None and dose.id not in ends:
            ends[dose.id] = event
    holds = []
    for dose in own:
        end = ends.get(dose.id)
        outcome = None if end is None else _outcome(end)
        holds.append(
            (
                dose,
                Hold(
                    dose.occurred_at,
                    hold_min,
                    outcome,
                    None if outcome is None or end is None else end.occurred_at,
                ),
            )
        )
    return holds


def _outcome(event: EventRecord) -> HoldOutcome | None:
    try:
        return HoldOutcome(str(event.detail.get("outcome", "")))
    except ValueError:
        return None


def current_hold(
    protocol: Protocol,
    doses: Iterable[DoseRecord],
    events: Iterable[EventRecord],
    participant_id: uuid.UUID,
) -> Hold | None:
    """The hold of the participant's latest dose (ended or not); None without one."""
    holds = holds_of(protocol, doses, events, participant_id)
    return holds[-1][1] if holds else None


def infusions_of(
    protocol: Protocol,
    doses: Iterable[DoseRecord],
    events: Iterable[EventRecord],
    participant_id: uuid.UUID,
) -> list[tuple[DoseRecord, Infusion]]:
    """Each standing dose of the participant as its infusion (none for other protocols)."""
    if not infuses(protocol):
        return []
    own = _own_doses(doses, participant_id)
    actions: dict[uuid.UUID, list[tuple[datetime, InfusionAction, float | None]]] = {}
    for event in _own_events(events, participant_id, INFUSION_EVENTS):
        dose = _dose_of(event.occurred_at, own)
        if dose is None:
            continue
        total = event.detail.get("total_mg")
        actions.setdefault(dose.id, []).append(
            (
                event.occurred_at,
                INFUSION_EVENTS[EventKind(event.kind)],
                float(total) if isinstance(total, int | float) else None,
            )
        )
    return [
        (dose, infusion_from(dose.occurred_at, dose.dose_mg, actions.get(dose.id, ())))
        for dose in own
    ]


def current_infusion(
    protocol: Protocol,
    doses: Iterable[DoseRecord],
    events: Iterable[EventRecord],
    participant_id: uuid.UUID,
) -> Infusion | None:
    """The infusion of the participant's latest dose (running, paused or stopped)."""
    infusions = infusions_of(protocol, doses, events, participant_id)
    return infusions[-1][1] if infusions else None


def last_dose_end(
    protocol: Protocol,
    doses: Iterable[DoseRecord],
    events: Iterable[EventRecord],
    participant_id: uuid.UUID,
) -> tuple[datetime | None, bool]:
    """When the participant's final dose ended, and whether an infusion still runs (or is
    paused): the latest dose or booster, esketamine device, or infusion stop."""
    doses = list(doses)
    events = list(events)
    times = [d.occurred_at for d in _own_doses(doses, participant_id)]
    times += [e.occurred_at for e in _own_events(events, participant_id, ("device_given",))]
    running = False
    for _dose, infusion in infusions_of(protocol, doses, events, participant_id):
        if infusion.stopped_at is None:
            running = True
        else:
            times.append(infusion.stopped_at)
    return (max(times) if times else None), running
