"""A clinic's session protocol as typed, immutable data.

Every clinical number (phase times, check-in schedule, alert thresholds, hold-dose limits,
discharge criteria) comes from a protocol file, never from code. `protocol_file` reads and
validates the TOML form; a session keeps the exact text it was started with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

# What a check-in can ask for (`measures`, `required`), with the reading fields each one fills
# and its short name on the screen ("not taken: BP, SpO2").
MEASURE_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "bp": ("systolic_mmhg", "diastolic_mmhg"),
        "hr": ("heart_rate_bpm",),
        "spo2": ("spo2_pct",),
        "rr": ("resp_rate_per_min",),
        "temp": ("temperature_c",),
        "moaas": ("moaas",),
        "rass": ("rass",),
        "dissociation": ("dissociation",),
        "nausea": ("nausea",),
        "suds": ("suds",),
    }
)
MEASURES: tuple[str, ...] = tuple(MEASURE_FIELDS)
# The measure each reading field belongs to: an alert on "diastolic_mmhg" asks for a BP recheck.
MEASURE_OF_FIELD: Mapping[str, str] = MappingProxyType(
    {field: measure for measure, fields in MEASURE_FIELDS.items() for field in fields}
)
MEASURE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "bp": "BP",
        "hr": "HR",
        "spo2": "SpO2",
        "rr": "RR",
        "temp": "Temp",
        "moaas": "MOAA/S",
        "rass": "RASS",
        "dissociation": "Dissociation",
        "nausea": "Nausea",
        "suds": "SUDS",
    }
)

# How long before and after its due time a check-in's slot takes a reading, when the protocol
# does not say (`slot_window_min`); issue 15.
DEFAULT_SLOT_WINDOW_MIN = 5.0

# How long after an alert a recheck of its measure falls due, when the alert rule does not say
# (`recheck_after_min`); issue 15.
DEFAULT_RECHECK_AFTER_MIN = 10.0


class Anchor(StrEnum):
    """What an offset is counted from."""

    START = "start"  # the moment the session was started
    DOSE = "dose"  # the first dose (T0)


@dataclass(frozen=True)
class Offset:
    """A point in the session, e.g. `dose+40` = 40 minutes after the first dose."""

    anchor: Anchor
    minutes: float

    def __str__(self) -> str:
        sign = "+" if self.minutes >= 0 else "-"
        return f"{self.anchor.value}{sign}{abs(self.minutes):g}"


class Route(StrEnum):
    SUBLINGUAL = "sublingual"
    INTRAMUSCULAR = "intramuscular"
    INTRAVENOUS = "intravenous"
    INTRANASAL = "intranasal"


class Medication(StrEnum):
    KETAMINE = "ketamine"
    ESKETAMINE = "esketamine"


class Comparison(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="

    def holds(self, value: float, limit: float) -> bool:
        if self is Comparison.LT:
            return value < limit
        if self is Comparison.LE:
            return value <= limit
        if self is Comparison.GT:
            return value > limit
        return value >= limit


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    name: str
    begins: Offset
    ends: Offset
    playlist: str | None = None  # file name in the playlists folder, or None for silence


@dataclass(frozen=True)
class CheckinSpec:
    key: str
    label: str
    at: Offset
    grace_min: float  # due from `at`, overdue after `at + grace_min`
    measures: tuple[str, ...] = ()  # observation fields expected, e.g. ("bp", "hr", "spo2")
    rems: bool = False  # one of the SPRAVATO REMS blood pressure readings
    required: tuple[str, ...] | None = None  # measures a full check-in has; None: all `measures`
    slot_window_min: float | None = None  # None: the protocol's `slot_window_min`

    @property
    def required_measures(self) -> tuple[str, ...]:
        """What a check-in saved for this slot must hold, or be confirmed as not taken."""
        return self.measures if self.required is None else self.required


@dataclass(frozen=True)
class AlertRule:
    """Flag a saved reading when `field op value` holds, e.g. systolic_mmhg >= 180; a recheck
    of the measure falls due `recheck_after_min` after the alert."""

    field: str
    op: Comparison
    value: float
    label: str
    recheck_after_min: float = DEFAULT_RECHECK_AFTER_MIN

    def triggered_by(self, reading: float) -> bool:
        return self.op.holds(reading, self.value)


@dataclass(frozen=True)
class CautionRule:
    """An amber caution, short of an alert, when `field op value` holds, e.g. heart_rate_bpm
    > 100: shown beside the value, never acknowledged, no recheck.

    A `[[cautions]]` section of its own rather than a key of an alert rule: a band may stand
    where the protocol has no alert, a client's own alert threshold (which replaces the
    protocol's rule) leaves the band as the protocol set it, and the file checks each band
    against every alert of its field and direction."""

    field: str
    op: Comparison
    value: float
    label: str

    def triggered_by(self, reading: float) -> bool:
        return self.op.holds(reading, self.value)


@dataclass(frozen=True)
class HoldDoseRule:
    """Baseline blood pressure checked before the first dose."""

    block_systolic_above: float  # above either block limit: dose needs an override with reason
    block_diastolic_above: float
    caution_systolic_above: float  # above either caution limit: a caution is shown
    caution_diastolic_above: float


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str


@dataclass(frozen=True)
class DischargeCriteria:
    aldrete_pass_min: int
    bp_within_pct_of_baseline: float
    spo2_min_pct: float
    min_minutes_after_first_dose: float  # 120 for esketamine (REMS); 0 when not required
    checklist: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class DosingSpec:
    medication: Medication
    route: Route
    planned_dose_after_start_min: float  # where T0 is expected before the dose is given
    hold_min: float | None = None  # sublingual: hold, then spit or swallow
    device_mg: float | None = None  # intranasal esketamine: mg per device
    device_spacing_min: float | None = None
    booster_window: tuple[Offset, Offset] | None = None


@dataclass(frozen=True)
class MusicSpec:
    transition: str  # "track_end" or "fade": how music follows a phase change
    crossfade_s: float


@dataclass(frozen=True)
class Protocol:
    key: str  # stable identifier, e.g. "sublingual-kap-3h"
    name: str
    version: int
    description: str
    dosing: DosingSpec
    phases: tuple[PhaseSpec, ...]  # contiguous, in order
    checkins: tuple[CheckinSpec, ...]  # in order of `at` at the planned dose time
    alerts: tuple[AlertRule, ...]
    hold_dose: HoldDoseRule
    discharge: DischargeCriteria
    music: MusicSpec
    slot_window_min: float = DEFAULT_SLOT_WINDOW_MIN  # each check-in's, unless it has its own
    cautions: tuple[CautionRule, ...] = ()  # none unless the file lists them (issue 15)

    def recheck_after(self, field: str, op: str) -> float:
        """Minutes after an alert on `field op …` that its recheck falls due: the protocol's
        rule of that field and comparison says (a client's own threshold replacing it keeps
        it), else the default."""
        for rule in self.alerts:
            if rule.field == field and rule.op.value == op:
                return rule.recheck_after_min
        return DEFAULT_RECHECK_AFTER_MIN

    def slot_window(self, checkin: CheckinSpec) -> float:
        """Minutes before and after its due time that `checkin`'s slot takes a reading."""
        own = checkin.slot_window_min
        return self.slot_window_min if own is None else own

    def phase(self, key: str) -> PhaseSpec:
        for phase in self.phases:
            if phase.key == key:
                return phase
        raise KeyError(key)

    def checkin(self, key: str) -> CheckinSpec:
        for checkin in self.checkins:
            if checkin.key == key:
                return checkin
        raise KeyError(key)
