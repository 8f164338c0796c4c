"""Alerts that are followed up: what was done when one is acknowledged, and the recheck it asks for.

Acknowledging an alert records what was done about it: rechecked, an intervention (which one),
the prescriber informed, or no action (with the reason). Acknowledgements made before this was
asked say `not_recorded`; nobody can choose that now.

An alert also asks for a recheck: `recheck_after_min` (the protocol's alert rule; default 10)
after the alert, a "Recheck BP (alert 190/115)" falls due for that participant, in the same due
list as the protocol's check-ins (a `CheckinState`, due then, overdue `RECHECK_GRACE_MIN` later,
with no slot window: a reading never counts *for* it, it only clears it). It is done by the first
standing reading of that measure taken after the alerting one. An alert whose reading was
corrected or withdrawn asks for nothing: the corrected reading's own alerts ask again.
"""

from __future__ import annotations

import dataclasses
import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from kapsession.domain.protocol import (
    MEASURE_FIELDS,
    MEASURE_LABELS,
    MEASURE_OF_FIELD,
    Anchor,
    CheckinSpec,
    Offset,
)
from kapsession.domain.protocol import Protocol as SessionProtocol
from kapsession.domain.timeline import CheckinState, CheckinStatus
from kapsession.domain.vitals import PLAUSIBLE_RANGES

# --- what was done --------------------------------------------------------------------------


class AlertAction(enum.StrEnum):
    """What was done about an alert, recorded with its acknowledgement."""

    RECHECKED = "rechecked"
    INTERVENTION = "intervention"  # with what was given or done
    PRESCRIBER_INFORMED = "prescriber_informed"
    NO_ACTION = "no_action"  # with the reason
    NOT_RECORDED = "not_recorded"  # acknowledged before the action was asked (migration 0010)


# The actions a nurse chooses from, in the order the dialog lists them.
CHOSEN_ACTIONS: tuple[AlertAction, ...] = (
    AlertAction.RECHECKED,
    AlertAction.INTERVENTION,
    AlertAction.PRESCRIBER_INFORMED,
    AlertAction.NO_ACTION,
)
ACTION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        AlertAction.RECHECKED: "Rechecked",
        AlertAction.INTERVENTION: "Intervention",
        AlertAction.PRESCRIBER_INFORMED: "Prescriber informed",
        AlertAction.NO_ACTION: "No action",
        AlertAction.NOT_RECORDED: "Action not recorded",
    }
)
MAX_FOLLOW_UP_CHARS = 500  # a sentence or two; longer belongs in a note


def follow_up_problem(action: str | None, text: str) -> str | None:
    """Why an acknowledgement cannot be recorded with this action and text, or None.

    An action is required; an intervention needs what was given or done, no action needs the
    reason; `not_recorded` is only what older acknowledgements say."""
    if action is None or not str(action).strip():
        return (
            "Say what was done about the alert: rechecked, an intervention, prescriber "
            "informed, or no action with the reason."
        )
    if action == AlertAction.NOT_RECORDED:
        return (
            "“Action not recorded” only describes acknowledgements made before the action was "
            "asked; choose what was done."
        )
    if action not in CHOSEN_ACTIONS:
        return f"'{action}' is not an action for an alert; this is a program error."
    written = text.strip()
    if action == AlertAction.INTERVENTION and not written:
        return (
            "Write the intervention: what was given or done, e.g. “Clonidine 0.1 mg by mouth” "
            "or “Repositioned, oxygen 2 L/min”."
        )
    if action == AlertAction.NO_ACTION and not written:
        return "Write why no action was taken; the reason goes on the record."
    if len(written) > MAX_FOLLOW_UP_CHARS:
        return (
            f"The text is {len(written)} characters; keep it to {MAX_FOLLOW_UP_CHARS} and write "
            "the rest in a note."
        )
    return None


def describe_follow_up(action: str, text: str) -> str:
    """The action as the screen says it: "Intervention: clonidine 0.1 mg", "Rechecked"."""
    label = ACTION_LABELS.get(action, action)
    written = text.strip()
    return f"{label}: {written}" if written else label


# --- the recheck an alert asks for ----------------------------------------------------------

# A recheck is overdue this long after it falls due, like the protocols' in-session check-ins
# (grace_min = 5): a clinic default, not a published number.
RECHECK_GRACE_MIN = 5.0
RECHECK_KEY_PREFIX = "recheck:"  # never a protocol key (those have no colon)


class AlertLike(Protocol):
    """What a recheck needs of an alert (an `AlertRecord`)."""

    @property
    def observation_id(self) -> uuid.UUID: ...
    @property
    def participant_id(self) -> uuid.UUID: ...
    @property
    def field(self) -> str: ...
    @property
    def op(self) -> str: ...
    @property
    def raised_at(self) -> datetime: ...


class ReadingLike(Protocol):
    """What a recheck needs of a reading (an `ObservationRecord`)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def participant_id(self) -> uuid.UUID: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def values(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Recheck:
    """One measure to take again after an alert, and whether a reading has taken it since."""

    participant_id: uuid.UUID
    observation_id: uuid.UUID  # the reading that raised the alert
    measure: str
    spec: CheckinSpec  # its line in the due list: key "recheck:…", label, the measure
    due_at: datetime
    done_at: datetime | None  # when the reading that rechecked it was taken
    alerted_at: datetime  # when the reading that raised the alert was taken

    def done_by(self, reading: ReadingLike) -> bool:
        """Whether a standing reading rechecks it: the participant's, taken after the alerting
        reading, with the measure."""
        return (
            reading.participant_id == self.participant_id
            and reading.occurred_at > self.alerted_at
            and _is_taken(self.measure, reading.values)
        )

    @property
    def overdue_at(self) -> datetime:
        return self.due_at + timedelta(minutes=RECHECK_GRACE_MIN)

    def state(self, now: datetime) -> CheckinState:
        """Its place in the due list at `now`: upcoming, due, overdue or done."""
        if self.done_at is not None:
            status = CheckinStatus.DONE
        elif now < self.due_at:
            status = CheckinStatus.UPCOMING
        elif now < self.overdue_at:
            status = CheckinStatus.DUE
        else:
            status = CheckinStatus.OVERDUE
        return CheckinState(
            spec=self.spec,
            due_at=self.due_at,
            overdue_at=self.overdue_at,
            status=status,
            projected=False,
        )


def is_recheck(checkin: CheckinState) -> bool:
    """Whether a line of the due list is a recheck after an alert (not a protocol check-in)."""
    return checkin.spec.key.startswith(RECHECK_KEY_PREFIX)


def scheduled(checkins: Iterable[CheckinState]) -> tuple[CheckinState, ...]:
    """The protocol's check-ins of a due list, without the rechecks."""
    return tuple(c for c in checkins if not is_recheck(c))


def _is_taken(measure: str, values: Mapping[str, Any]) -> bool:
    return all(values.get(name) is not None for name in MEASURE_FIELDS[measure])


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def alerted_value_text(measure: str, values: Mapping[str, Any]) -> str:
    """The value an alert was about, as its recheck names it: "190/115", "130 bpm", "89 %"."""
    if measure == "bp":
        return f"{_number(values['systolic_mmhg'])}/{_number(values['diastolic_mmhg'])}"
    (field,) = MEASURE_FIELDS[measure]
    unit = PLAUSIBLE_RANGES[field].unit
    shown = _number(values[field])
    if not unit:
        return shown
    return f"{shown}{unit}" if unit.startswith("/") else f"{shown} {unit}"


def rechecks(
    protocol: SessionProtocol,
    started_at: datetime,
    alerts: Iterable[AlertLike],
    readings: Sequence[ReadingLike],
) -> tuple[Recheck, ...]:
    """The rechecks the alerts ask for, in the order they fall due: one per alerting reading
    and measure (a 190/115 that met the systolic and the diastolic rule asks for one BP
    recheck), due at the alert plus the shortest `recheck_after_min` of its rules.

    `readings`: the standing readings in time order (of one participant or all). An alert whose
    reading is not among them (corrected or withdrawn since) asks for nothing."""
    standing = {reading.id: reading for reading in readings}
    due: dict[tuple[uuid.UUID, str], tuple[datetime, AlertLike]] = {}
    for alert in alerts:
        measure = MEASURE_OF_FIELD.get(alert.field)
        if measure is None or alert.observation_id not in standing:
            continue
        at = alert.raised_at + timedelta(minutes=protocol.recheck_after(alert.field, alert.op))
        identity = (alert.observation_id, measure)
        if identity not in due or at < due[identity][0]:
            due[identity] = (at, alert)
    found: list[Recheck] = []
    for (observation_id, measure), (due_at, alert) in due.items():
        alerting = standing[observation_id]
        done_at = min(
            (
                r.occurred_at
                for r in readings
                if r.participant_id == alert.participant_id
                and r.occurred_at > alerting.occurred_at
                and _is_taken(measure, r.values)
            ),
            default=None,
        )
        label = (
            f"Recheck {MEASURE_LABELS[measure]} "
            f"(alert {alerted_value_text(measure, alerting.values)})"
        )
        spec = CheckinSpec(
            key=f"{RECHECK_KEY_PREFIX}{observation_id.hex}:{measure}",
            label=label,
            at=Offset(Anchor.START, (due_at - started_at) / timedelta(minutes=1)),
            grace_min=RECHECK_GRACE_MIN,
            measures=(measure,),
        )
        found.append(
            Recheck(
                alert.participant_id,
                observation_id,
                measure,
                spec,
                due_at,
                done_at,
                alerting.occurred_at,
            )
        )
    return _in_order(found)


def _in_order(found: Iterable[Recheck]) -> tuple[Recheck, ...]:
    return tuple(sorted(found, key=lambda r: (r.due_at, r.spec.key)))


def after_new_reading(
    protocol: SessionProtocol,
    started_at: datetime,
    known: Sequence[Recheck],
    reading: ReadingLike,
    alerts: Iterable[AlertLike],
    readings: Sequence[ReadingLike],
) -> tuple[Recheck, ...]:
    """The rechecks once a new reading (not a correction) stands, with the alerts it raised:
    what `rechecks` gives for all of them, without looking at every reading again. The
    reading does every recheck it follows (the earliest such reading is the one that did it),
    and its alerts ask for theirs. `readings`: the standing readings, the new one among them."""
    updated = [
        dataclasses.replace(recheck, done_at=reading.occurred_at)
        if recheck.done_by(reading)
        and (recheck.done_at is None or reading.occurred_at < recheck.done_at)
        else recheck
        for recheck in known
    ]
    raised = list(alerts)
    if not raised:
        return tuple(updated)
    return _in_order([*updated, *rechecks(protocol, started_at, raised, readings)])
