"""The last vitals of one participant: the newest standing value of each measure, when it was
taken, and where it stands (normal, caution, alert), for the live screen's tile.

A value is in ALERT when its reading raised an alert on it (with the thresholds in force when
it was saved: the client's own among them), else in CAUTION when a caution band of the
protocol holds it, else NORMAL. A blood pressure is as bad as its worse half.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.protocol import (
    MEASURE_FIELDS,
    MEASURE_LABELS,
    MEASURE_OF_FIELD,
    MEASURES,
    CautionRule,
    Protocol,
)
from kapsession.domain.vitals import PLAUSIBLE_RANGES, ValueState, value_state, worst_state
from kapsession.records.entries import AlertRecord, ObservationRecord


@dataclass(frozen=True)
class LastVital:
    """One measure's newest standing value."""

    measure: str  # "bp", "hr", … (the protocol's measure names)
    label: str  # "BP", "HR", …
    value_text: str  # "182/104", "96", "2"
    unit: str  # "mmHg", "%", "/min"; "" for scores
    taken_at: datetime
    state: ValueState
    observation_id: uuid.UUID

    @property
    def display(self) -> str:
        """The value with its unit: "182/104 mmHg", "96 %", "14/min", "2"."""
        if not self.unit:
            return self.value_text
        joiner = "" if self.unit.startswith("/") else " "
        return f"{self.value_text}{joiner}{self.unit}"


# The vital signs, always in the tile when measured; other measures when the protocol watches
# them (an alert or a caution on them).
VITAL_SIGNS: tuple[str, ...] = ("bp", "hr", "spo2", "rr", "temp")


def watched_measures(protocol: Protocol) -> tuple[str, ...]:
    """The measures the last vitals show, in the protocol's order of measures: the vital
    signs, and every measure an alert or a caution of the protocol is on (MOAA/S…)."""
    fields = [rule.field for rule in protocol.alerts] + [rule.field for rule in protocol.cautions]
    ruled = {MEASURE_OF_FIELD[field] for field in fields if field in MEASURE_OF_FIELD}
    return tuple(m for m in MEASURES if m in VITAL_SIGNS or m in ruled)


def last_vitals(
    newest: Mapping[str, ObservationRecord],
    alerts: Iterable[AlertRecord],
    cautions: Sequence[CautionRule],
    measures: Sequence[str] = MEASURES,
) -> tuple[LastVital, ...]:
    """Each of `measures` in `newest` (one participant's newest standing reading of each
    measure), in that order, with its state; `alerts`: the session's."""
    readings = {newest[m].id for m in measures if m in newest}
    alerted = {(a.observation_id, a.field) for a in alerts if a.observation_id in readings}
    found: list[LastVital] = []
    for measure in measures:
        if measure not in newest:
            continue
        observation = newest[measure]
        fields = MEASURE_FIELDS[measure]
        state = worst_state(
            ValueState.ALERT
            if (observation.id, field) in alerted
            else value_state(field, observation.values[field], cautions=cautions)
            for field in fields
        )
        found.append(
            LastVital(
                measure=measure,
                label=MEASURE_LABELS[measure],
                value_text=_value_text(measure, observation.values),
                unit=PLAUSIBLE_RANGES[fields[0]].unit,
                taken_at=observation.occurred_at,
                state=state,
                observation_id=observation.id,
            )
        )
    return tuple(found)


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _value_text(measure: str, values: dict[str, object]) -> str:
    if measure == "bp":
        return f"{_number(values['systolic_mmhg'])}/{_number(values['diastolic_mmhg'])}"
    return _number(values[MEASURE_FIELDS[measure][0]])
