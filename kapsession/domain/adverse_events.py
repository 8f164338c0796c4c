"""Adverse events, the interventions given for them, and the controlled-substance count of a dose.

An adverse event is an entry of its own (key E): what happened (`AdverseEventKind`), how bad
(`Severity`), whether it was serious (`Seriousness`), how it ended (`Outcome`), its onset and
resolution, the alert behind it (if any) and what was done. Severity, seriousness and outcome
are the FHIR R4 AdverseEvent vocabularies (clinical-sources.md §8), so an export maps each one
to its code one to one (`FHIR_SYSTEMS`). An update later (it resolved, its outcome) is a
correction of the entry, like every entry of the record.

An intervention is an entry of its own too (key T): oxygen (flow, device), a rescue medication
from the clinic's list (clinic.toml `[[rescue_medications]]`) with dose, route, lot and who gave
it, repositioning, the prescriber called, or something else; optionally for an adverse event
or an alert.

Ketamine and esketamine are Schedule III: each dose has a controlled-substance count, the
amount drawn (or dispensed), given and wasted; a waste is witnessed by a second staff member
with their PIN.

Checking what was typed gives every problem at once (`EntryProblem`, by field), and nothing is
stored while there is one.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TypeVar

MAX_TEXT_CHARS = 500  # a sentence or two; longer belongs in a note
MAX_LOT_CHARS = 60
MAX_OXYGEN_L_MIN = 15.0  # a non-rebreather mask's top flow; more is a typo
MAX_DOSE_AMOUNT = 1000.0  # mg (or mL) of a rescue medication; more is a typo
MAX_SUBSTANCE_MG = 2000.0  # mg of (es)ketamine drawn for one dose; more is a typo
COUNT_TOLERANCE_MG = 0.05  # drawn = given + wasted, to the hundredth of a mg a syringe reads


class AdverseEventKind(enum.StrEnum):
    HYPERTENSION = "hypertension"
    HYPOTENSION = "hypotension"
    TACHYCARDIA = "tachycardia"
    BRADYCARDIA = "bradycardia"
    DESATURATION = "desaturation"
    EMESIS = "emesis"
    NAUSEA = "nausea"
    AGITATION = "agitation"
    PANIC_ANXIETY = "panic_anxiety"
    PROLONGED_DISSOCIATION = "prolonged_dissociation"
    OVERSEDATION = "oversedation"
    OTHER = "other"  # with what it was


KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        AdverseEventKind.HYPERTENSION: "Hypertension",
        AdverseEventKind.HYPOTENSION: "Hypotension",
        AdverseEventKind.TACHYCARDIA: "Tachycardia",
        AdverseEventKind.BRADYCARDIA: "Bradycardia",
        AdverseEventKind.DESATURATION: "Desaturation",
        AdverseEventKind.EMESIS: "Emesis",
        AdverseEventKind.NAUSEA: "Nausea",
        AdverseEventKind.AGITATION: "Agitation",
        AdverseEventKind.PANIC_ANXIETY: "Panic / anxiety",
        AdverseEventKind.PROLONGED_DISSOCIATION: "Prolonged dissociation",
        AdverseEventKind.OVERSEDATION: "Oversedation",
        AdverseEventKind.OTHER: "Other",
    }
)

# The alert's measure each kind usually follows, to offer the alert with the kind.
KIND_OF_FIELD: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "systolic_mmhg": (AdverseEventKind.HYPERTENSION, AdverseEventKind.HYPOTENSION),
        "diastolic_mmhg": (AdverseEventKind.HYPERTENSION, AdverseEventKind.HYPOTENSION),
        "heart_rate_bpm": (AdverseEventKind.TACHYCARDIA, AdverseEventKind.BRADYCARDIA),
        "spo2_pct": (AdverseEventKind.DESATURATION,),
        "moaas": (AdverseEventKind.OVERSEDATION,),
        "rass": (AdverseEventKind.OVERSEDATION, AdverseEventKind.AGITATION),
        "nausea": (AdverseEventKind.NAUSEA,),
    }
)


class Severity(enum.StrEnum):
    """FHIR R4 `adverse-event-severity`."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class Seriousness(enum.StrEnum):
    """FHIR R4 `adverse-event-seriousness`."""

    SERIOUS = "serious"
    NON_SERIOUS = "non-serious"


class Outcome(enum.StrEnum):
    """FHIR R4 `adverse-event-outcome`."""

    RESOLVED = "resolved"
    RECOVERING = "recovering"
    ONGOING = "ongoing"
    RESOLVED_WITH_SEQUELAE = "resolvedWithSequelae"
    FATAL = "fatal"
    UNKNOWN = "unknown"


# The code systems (clinical-sources.md §8), and each code's display as the code system gives it.
FHIR_SYSTEMS: Mapping[type[enum.StrEnum], str] = MappingProxyType(
    {
        Severity: "http://terminology.hl7.org/CodeSystem/adverse-event-severity",
        Seriousness: "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
        Outcome: "http://terminology.hl7.org/CodeSystem/adverse-event-outcome",
    }
)
DISPLAYS: Mapping[str, str] = MappingProxyType(
    {
        Severity.MILD: "Mild",
        Severity.MODERATE: "Moderate",
        Severity.SEVERE: "Severe",
        Seriousness.SERIOUS: "Serious",
        Seriousness.NON_SERIOUS: "Non-serious",
        Outcome.RESOLVED: "Resolved",
        Outcome.RECOVERING: "Recovering",
        Outcome.ONGOING: "Ongoing",
        Outcome.RESOLVED_WITH_SEQUELAE: "Resolved with Sequelae",
        Outcome.FATAL: "Fatal",
        Outcome.UNKNOWN: "Unknown",
    }
)
RESOLVED_OUTCOMES = frozenset({Outcome.RESOLVED, Outcome.RESOLVED_WITH_SEQUELAE})


class InterventionKind(enum.StrEnum):
    OXYGEN = "oxygen"
    RESCUE_MEDICATION = "rescue_medication"
    REPOSITIONING = "repositioning"
    PRESCRIBER_CALLED = "prescriber_called"
    OTHER = "other"


INTERVENTION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        InterventionKind.OXYGEN: "Oxygen",
        InterventionKind.RESCUE_MEDICATION: "Rescue medication",
        InterventionKind.REPOSITIONING: "Repositioning",
        InterventionKind.PRESCRIBER_CALLED: "Prescriber called",
        InterventionKind.OTHER: "Other",
    }
)
OXYGEN_DEVICES = ("nasal cannula", "simple face mask", "non-rebreather mask", "other")


@dataclass(frozen=True)
class EntryProblem:
    """One thing wrong with what was typed, for the field to fix."""

    field: str
    message: str


class EntryInvalid(ValueError):
    """An entry that cannot be saved; `problems` lists every field to fix, in form order."""

    def __init__(self, problems: list[EntryProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class AdverseEventEntry:
    """An adverse event as the nurse entered it (checked: `check_adverse_event`)."""

    kind: AdverseEventKind
    other: str  # what it was, for OTHER ("" otherwise)
    severity: Severity
    seriousness: Seriousness
    outcome: Outcome
    onset_at: datetime
    resolved_at: datetime | None
    actions: str  # what was done
    alert_id: object | None = None  # a uuid.UUID: the alert it follows

    @property
    def title(self) -> str:
        return adverse_event_title(self.kind, self.other)


def adverse_event_title(kind: str, other: str) -> str:
    """ "Emesis", or what an "other" was."""
    if kind == AdverseEventKind.OTHER and other:
        return f"Other: {other}"
    return KIND_LABELS.get(kind, kind)


E = TypeVar("E", bound=enum.StrEnum)


def _choice(
    enum_type: type[E], value: object, field: str, what: str, problems: list[EntryProblem]
) -> E | None:
    try:
        return enum_type(str(value))
    except ValueError:
        choices = ", ".join(m.value for m in enum_type)
        problems.append(EntryProblem(field, f"Choose the {what} ({choices})."))
        return None


def check_adverse_event(
    *,
    kind: object,
    other: str,
    severity: object,
    seriousness: object,
    outcome: object,
    onset_at: datetime,
    resolved_at: datetime | None,
    actions: str,
    now: datetime,
    alert_id: object | None = None,
) -> AdverseEventEntry:
    """What was typed as an adverse event, checked; `EntryInvalid` names every field to fix.

    Rules: every choice made; "other" says what it was; the onset not in the future; a
    resolution not before the onset nor in the future; a resolved outcome has its resolution
    time, and a resolution time goes with a resolved (or resolved with sequelae) outcome; texts
    within `MAX_TEXT_CHARS`."""
    problems: list[EntryProblem] = []
    chosen_kind = _choice(AdverseEventKind, kind, "kind", "kind of event", problems)
    other = other.strip()
    if chosen_kind is AdverseEventKind.OTHER and not other:
        problems.append(EntryProblem("other", "Say what the event was (kind: other)."))
    if chosen_kind is not AdverseEventKind.OTHER:
        other = ""
    chosen_severity = _choice(Severity, severity, "severity", "severity", problems)
    chosen_seriousness = _choice(Seriousness, seriousness, "seriousness", "seriousness", problems)
    chosen_outcome = _choice(Outcome, outcome, "outcome", "outcome", problems)
    if onset_at > now:
        problems.append(EntryProblem("onset", "The onset is in the future; enter when it began."))
    if resolved_at is not None:
        if resolved_at < onset_at:
            problems.append(
                EntryProblem("resolved", "The resolution is before the onset; check the times.")
            )
        elif resolved_at > now:
            problems.append(
                EntryProblem("resolved", "The resolution is in the future; leave it empty for now.")
            )
        if chosen_outcome is not None and chosen_outcome not in RESOLVED_OUTCOMES:
            problems.append(
                EntryProblem(
                    "outcome",
                    f"With a resolution time the outcome is resolved (or resolved with "
                    f"sequelae), not {DISPLAYS[chosen_outcome].lower()}.",
                )
            )
    elif chosen_outcome in RESOLVED_OUTCOMES:
        problems.append(
            EntryProblem("resolved", "A resolved event needs the time it resolved (HH:MM).")
        )
    actions = actions.strip()
    for name, text in (("other", other), ("actions", actions)):
        if len(text) > MAX_TEXT_CHARS:
            problems.append(
                EntryProblem(
                    name, f"Keep this to {MAX_TEXT_CHARS} characters; write more in a note."
                )
            )
    if problems:
        raise EntryInvalid(problems)
    assert chosen_kind and chosen_severity and chosen_seriousness and chosen_outcome
    return AdverseEventEntry(
        kind=chosen_kind,
        other=other,
        severity=chosen_severity,
        seriousness=chosen_seriousness,
        outcome=chosen_outcome,
        onset_at=onset_at,
        resolved_at=resolved_at,
        actions=actions,
        alert_id=alert_id,
    )


# --- interventions -------------------------------------------------------------------------


@dataclass(frozen=True)
class RescueMedication:
    """A rescue medication of the clinic's list, with its usual dose and route."""

    name: str
    dose: float
    unit: str  # "mg" | "mcg" | "mL"
    route: str
    use: str = ""  # what it is for ("nausea or vomiting")

    @property
    def usual(self) -> str:
        return f"{self.dose:g} {self.unit} {self.route}"


@dataclass(frozen=True)
class InterventionEntry:
    """An intervention as the nurse entered it (checked: `check_intervention`)."""

    kind: InterventionKind
    given_at: datetime
    medication: str = ""
    dose: float | None = None
    unit: str = ""
    route: str = ""
    lot_number: str = ""
    flow_l_min: float | None = None
    device: str = ""
    text: str = ""  # what was done (repositioning, other), who was called and what they said

    @property
    def title(self) -> str:
        return intervention_title(
            self.kind, self.medication, self.dose, self.unit, self.route, self.flow_l_min,
            self.device,
        )  # fmt: skip


def intervention_title(
    kind: str,
    medication: str | None,
    dose: float | None,
    unit: str | None,
    route: str | None,
    flow_l_min: float | None,
    device: str | None,
) -> str:
    """ "Ondansetron 4 mg oral (ODT)", "Oxygen 2 L/min nasal cannula", "Repositioning" …"""
    if kind == InterventionKind.RESCUE_MEDICATION:
        amount = "" if dose is None else f" {dose:g} {unit or ''}".rstrip()
        where = f" {route}" if route else ""
        return f"{(medication or 'Medication').capitalize()}{amount}{where}"
    if kind == InterventionKind.OXYGEN:
        flow = "" if flow_l_min is None else f" {flow_l_min:g} L/min"
        return f"Oxygen{flow}{f' {device}' if device else ''}"
    return INTERVENTION_LABELS.get(kind, kind)


def _number(text: str, field: str, what: str, problems: list[EntryProblem]) -> float | None:
    cleaned = text.strip().replace(",", ".")
    if not cleaned:
        problems.append(EntryProblem(field, f"Enter the {what}."))
        return None
    try:
        value = float(cleaned)
    except ValueError:
        problems.append(EntryProblem(field, f"The {what} must be a number, e.g. 4 or 0.5."))
        return None
    if not math.isfinite(value):
        problems.append(EntryProblem(field, f"The {what} must be a number, e.g. 4 or 0.5."))
        return None
    return value


def check_intervention(
    *,
    kind: object,
    given_at: datetime,
    now: datetime,
    medications: tuple[RescueMedication, ...] = (),
    medication: str = "",
    dose_text: str = "",
    route: str = "",
    lot_number: str = "",
    flow_text: str = "",
    device: str = "",
    text: str = "",
) -> InterventionEntry:
    """What was typed as an intervention, checked; `EntryInvalid` names every field to fix.

    Oxygen: a flow above 0 and up to `MAX_OXYGEN_L_MIN` L/min, and the device. A rescue
    medication: one of the clinic's list (`medications`), a dose above 0 (in the list's unit),
    the route (the list's usual one unless changed). Repositioning: nothing more. Prescriber
    called and other: what was said or done."""
    problems: list[EntryProblem] = []
    chosen = _choice(InterventionKind, kind, "kind", "intervention", problems)
    if given_at > now:
        problems.append(EntryProblem("given_at", "The time is in the future; enter when it was."))
    text = text.strip()
    entry: dict[str, object] = {}
    if chosen is InterventionKind.OXYGEN:
        flow = _number(flow_text, "flow", "oxygen flow in L/min", problems)
        if flow is not None and not 0 < flow <= MAX_OXYGEN_L_MIN:
            problems.append(
                EntryProblem(
                    "flow", f"The oxygen flow is above 0 and at most {MAX_OXYGEN_L_MIN:g} L/min."
                )
            )
        if not device.strip():
            problems.append(EntryProblem("device", "Choose how the oxygen is given."))
        entry = {"flow_l_min": flow, "device": device.strip()}
    elif chosen is InterventionKind.RESCUE_MEDICATION:
        listed = {m.name.casefold(): m for m in medications}
        found = listed.get(medication.strip().casefold())
        if found is None:
            names = ", ".join(m.name for m in medications) or "none: add them to clinic.toml"
            problems.append(
                EntryProblem("medication", f"Choose a medication of the clinic's list ({names}).")
            )
        dose = _number(dose_text, "dose", "dose", problems)
        if dose is not None and not 0 < dose <= MAX_DOSE_AMOUNT:
            problems.append(EntryProblem("dose", "The dose must be above 0; check the amount."))
        given_route = route.strip() or (found.route if found else "")
        if found is not None and not given_route:
            problems.append(EntryProblem("route", "Enter the route."))
        if len(lot_number.strip()) > MAX_LOT_CHARS:
            problems.append(
                EntryProblem("lot", f"A lot number is at most {MAX_LOT_CHARS} characters.")
            )
        entry = {
            "medication": found.name if found else medication.strip(),
            "dose": dose,
            "unit": found.unit if found else "",
            "route": given_route,
            "lot_number": lot_number.strip(),
        }
    elif chosen in (InterventionKind.PRESCRIBER_CALLED, InterventionKind.OTHER) and not text:
        what = (
            "who was called and what they said"
            if chosen is InterventionKind.PRESCRIBER_CALLED
            else "what was done"
        )
        problems.append(EntryProblem("text", f"Say {what}."))
    if len(text) > MAX_TEXT_CHARS:
        problems.append(
            EntryProblem("text", f"Keep this to {MAX_TEXT_CHARS} characters; write more in a note.")
        )
    if problems:
        raise EntryInvalid(problems)
    assert chosen is not None
    return InterventionEntry(kind=chosen, given_at=given_at, text=text, **entry)  # type: ignore[arg-type]


# --- the controlled-substance count --------------------------------------------------------


@dataclass(frozen=True)
class SubstanceCount:
    """A dose's controlled-substance count, in mg (checked: `check_substance_count`)."""

    drawn_mg: float
    given_mg: float
    wasted_mg: float

    @property
    def needs_witness(self) -> bool:
        return self.wasted_mg > 0


def check_substance_count(drawn_text: str, given_text: str, wasted_text: str) -> SubstanceCount:
    """The amounts drawn (or dispensed), given and wasted, in mg: each 0 or more (drawn above
    0, at most `MAX_SUBSTANCE_MG`), and drawn = given + wasted (every mg drawn accounted
    for, to `COUNT_TOLERANCE_MG`). `EntryInvalid` names every field to fix."""
    problems: list[EntryProblem] = []
    values: dict[str, float | None] = {}
    for field, text, what in (
        ("drawn", drawn_text, "amount drawn or dispensed (mg)"),
        ("given", given_text, "amount given (mg)"),
        ("wasted", wasted_text, "amount wasted (mg; 0 when none)"),
    ):
        value = _number(text, field, what, problems)
        if value is not None and not 0 <= value <= MAX_SUBSTANCE_MG:
            problems.append(
                EntryProblem(field, f"The {what} is between 0 and {MAX_SUBSTANCE_MG:g} mg.")
            )
            value = None
        values[field] = value
    drawn, given, wasted = values["drawn"], values["given"], values["wasted"]
    if drawn is not None and drawn <= 0:
        problems.append(EntryProblem("drawn", "The amount drawn or dispensed is above 0 mg."))
    if (
        drawn is not None
        and given is not None
        and wasted is not None
        and abs(drawn - (given + wasted)) > COUNT_TOLERANCE_MG
    ):
        problems.append(
            EntryProblem(
                "wasted",
                f"Drawn {drawn:g} mg is not given {given:g} mg + wasted {wasted:g} mg; every mg "
                "drawn is given or wasted. Check the amounts.",
            )
        )
    if problems:
        raise EntryInvalid(problems)
    assert drawn is not None and given is not None and wasted is not None
    return SubstanceCount(drawn, given, wasted)


def witness_problem(
    recorder_id: object | None, witness_id: object | None, wasted_mg: float
) -> str | None:
    """Why a waste cannot be recorded with this witness, or None: a waste is witnessed by a
    second staff member, never the person recording it."""
    if wasted_mg <= 0:
        return None
    if witness_id is None:
        return (
            "A waste is witnessed by a second staff member: choose the witness, who enters "
            "their PIN."
        )
    if witness_id == recorder_id:
        return "The witness must be a second staff member, not the person recording the waste."
    return None
