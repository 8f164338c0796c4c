"""The last vitals of one participant: the newest standing value of each measure, when it was
taken, and where it stands (normal, caution, alert), for the live screen's tile.

A value is in ALERT when its reading raised an alert on it (with the thresholds in force when
it was saved: the client's own among them), else in CAUTION when a caution band of the
protocol holds it, else NORMAL. A blood pressure is as bad as its worse half.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.alert_followup import alerted_value_text
from kapsession.domain.protocol import MEASURE_FIELDS, MEASURE_LABELS, MEASURES, CautionRule
from kapsession.domain.vitals import ValueState, value_state, worst_state
from kapsession.records.entries import AlertRecord, ObservationRecord


@dataclass(frozen=True)
class LastVital:
    """One measure's newest standing value."""

    measure: str  # "bp", "hr", … (the protocol's measure names)
    label: str  # "BP", "HR", …
    value_text: str  # "182/104 mmHg", "96 %", "2"
    taken_at: datetime
    state: ValueState
    observation_id: uuid.UUID


def last_vitals(
    observations: Sequence[ObservationRecord],
    alerts: Iterable[AlertRecord],
    participant_id: uuid.UUID,
    cautions: Sequence[CautionRule],
) -> tuple[LastVital, ...]:
    """Each measure the participant has a standing value of, in the protocol's order of
    measures. `observations`: standing readings in time order."""
    alerted = {(a.observation_id, a.field) for a in alerts if a.participant_id == participant_id}
    newest: dict[str, ObservationRecord] = {}
    wanted = set(MEASURES)
    for observation in reversed(observations):
        if observation.participant_id != participant_id:
            continue
        values = observation.values
        for measure in [m for m in wanted if _taken(m, values)]:
            newest[measure] = observation
            wanted.discard(measure)
        if not wanted:
            break
    found: list[LastVital] = []
    for measure in MEASURES:
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
        text = alerted_value_text(measure, observation.values)
        found.append(
            LastVital(
                measure=measure,
                label=MEASURE_LABELS[measure],
                value_text=f"{text} mmHg" if measure == "bp" else text,
                taken_at=observation.occurred_at,
                state=state,
                observation_id=observation.id,
            )
        )
    return tuple(found)


def _taken(measure: str, values: dict[str, object]) -> bool:
    return all(values.get(name) is not None for name in MEASURE_FIELDS[measure])
