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


class SessionType(StrEnum):
    """What kind of session of a course a protocol is the template of (issue 17): only a dosing
    session gives a dose; the others run on the session clock alone."""

    CONSULTATION = "consultation"
    PREPARATION = "preparation"
    DOSING = "dosing"
    INTEGRATION = "integration"
    FOLLOW_UP = "follow-up"


SESSION_TYPE_NAMES: Mapping[SessionType, str] = MappingProxyType(
    {
        SessionType.CONSULTATION: "Consultation",
        SessionType.PREPARATION: "Preparation",
        SessionType.DOSING: "Dosing",
        SessionType.INTEGRATION: "Integration",
        SessionType.FOLLOW_UP: "Follow-up",
    }
)


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
    """A phase of the session, from its start to its end offset."""

    key: str
    name: str
    begins: Offset
    ends: Offset
    playlist: str | None = None  # file name in the playlists folder, or None for silence


@dataclass(frozen=True)
class CheckinSpec:
    """A scheduled check-in: when it is due and what it measures."""

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
    # a booster is checked on the newest blood pressure, which must be this recent (issue 16)
    booster_bp_max_age_min: float = 15.0


@dataclass(frozen=True)
class ChecklistItem:
    """An item of the discharge checklist."""

    key: str
    label: str


@dataclass(frozen=True)
class DischargeCriteria:
    """What a participant must meet before discharge."""

    aldrete_pass_min: int
    bp_within_pct_of_baseline: float
    spo2_min_pct: float
    min_minutes_after_first_dose: float  # 120 for esketamine (REMS); 0 when not required
    checklist: tuple[ChecklistItem, ...]
    # From the last dose or booster (the end of an infusion); the protocol reader's default is
    # 60 ("observe >= 60 min after the final dose", clinical-sources §4); 0: no minimum.
    min_minutes_after_last_dose: float = 0.0


@dataclass(frozen=True)
class DoseLimits:
    """The protocol's dose limits (`[dosing.limits]`, issue 16): a dose beyond one needs the
    prescriber's override. None or empty: no such limit. `usual_*` prefill a new order."""

    min_mg: float | None = None  # the first dose's lowest
    max_mg: float | None = None  # any single dose's highest
    min_mg_per_kg: float | None = None
    max_mg_per_kg: float | None = None
    allowed_mg: tuple[float, ...] = ()  # the only first doses (esketamine: 56 or 84 mg)
    max_session_mg: float | None = None  # every dose of the session together
    max_boosters: int = 0  # boosters a session may have (inside `booster_window`)
    usual_mg: float | None = None
    usual_mg_per_kg: float | None = None
    usual_booster_mg: float | None = None


# The defaults when a protocol (or an earlier session's snapshot) does not set a limit, by
# medication and route: clinical-sources §2. A protocol file states each one in its comments.
DEFAULT_DOSE_LIMITS: Mapping[tuple[Medication, Route], DoseLimits] = MappingProxyType(
    {
        # 28 mg devices; 56 mg (2) or 84 mg (3) as one dose; the label's maximum 84 mg
        (Medication.ESKETAMINE, Route.INTRANASAL): DoseLimits(
            max_mg=84, allowed_mg=(56, 84), max_session_mg=84, usual_mg=56
        ),
        # CTP/Wolfson general range 100–400 mg
        (Medication.KETAMINE, Route.SUBLINGUAL): DoseLimits(
            min_mg=100,
            max_mg=400,
            max_session_mg=400,
            max_boosters=1,
            usual_mg=200,
            usual_booster_mg=100,
        ),
        # training study 0.5–0.75 mg/kg, at most 60 mg
        (Medication.KETAMINE, Route.INTRAMUSCULAR): DoseLimits(
            max_mg=60,
            min_mg_per_kg=0.5,
            max_mg_per_kg=0.75,
            max_session_mg=60,
            usual_mg_per_kg=0.5,
        ),
        # 0.5 mg/kg over 40 min standard; 0.5–2 mg/kg in KAP clinics
        (Medication.KETAMINE, Route.INTRAVENOUS): DoseLimits(
            min_mg_per_kg=0.5, max_mg_per_kg=2, usual_mg_per_kg=0.5
        ),
    }
)


def default_dose_limits(medication: Medication, route: Route) -> DoseLimits:
    return DEFAULT_DOSE_LIMITS.get((medication, route), DoseLimits())


@dataclass(frozen=True)
class DosingSpec:
    """The medication, its route and the dosing times and limits."""

    medication: Medication
    route: Route
    planned_dose_after_start_min: float  # where T0 is expected before the dose is given
    hold_min: float | None = None  # sublingual: hold, then spit or swallow
    device_mg: float | None = None  # intranasal esketamine: mg per device
    device_spacing_min: float | None = None
    booster_window: tuple[Offset, Offset] | None = None
    limits: DoseLimits = DoseLimits()  # issue 16: `[dosing.limits]`, else the route's defaults

    @property
    def boosters_allowed(self) -> int:
        """How many boosters a session of this protocol may have: none without a window."""
        return 0 if self.booster_window is None else self.limits.max_boosters


@dataclass(frozen=True)
class MusicSpec:
    """How music follows the phases."""

    transition: str  # "track_end" or "fade": how music follows a phase change
    crossfade_s: float


@dataclass(frozen=True)
class Protocol:
    """A session protocol, as read from its file."""

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
    # issue 17: a template of another session type has no dose, so no T+; its `dosing`,
    # `hold_dose` and `discharge` are the reader's inert stand-ins (`gives_dose` False)
    session_type: SessionType = SessionType.DOSING

    @property
    def gives_dose(self) -> bool:
        """Whether a session of this protocol gives a dose (only a dosing session does)."""
        return self.session_type is SessionType.DOSING

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
