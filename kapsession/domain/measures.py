"""What a check-in asks for and what a reading holds, by the protocol's measure names.

A check-in lists its `measures` and the `required` ones among them (all of them by default). A
reading saved for it that leaves a required measure empty is a partial check-in: the record
keeps which required measures were not taken, so nothing looks measured that was not.
"""

from __future__ import annotations

from collections.abc import Iterable

from kapsession.domain.protocol import MEASURE_FIELDS, MEASURE_LABELS
from kapsession.domain.vitals import Reading


def is_taken(measure: str, reading: Reading) -> bool:
    """Whether the reading holds the measure (blood pressure: both values)."""
    return all(getattr(reading, name) is not None for name in MEASURE_FIELDS[measure])


def not_taken(required: Iterable[str], reading: Reading) -> tuple[str, ...]:
    """The required measures the reading leaves empty, in the order they are listed."""
    return tuple(measure for measure in required if not is_taken(measure, reading))


def measure_names(measures: Iterable[str]) -> str:
    """Measures as the screen names them: "BP, SpO2"."""
    return ", ".join(MEASURE_LABELS.get(measure, measure) for measure in measures)
