"""Doses: mg and mg/kg from typed text, esketamine devices, and the dose-related timers.

Rounding (half up, never banker's rounding): a dose entered in mg/kg becomes mg to 0.1 mg; a
dose entered in mg is kept as typed and its mg/kg is shown to 0.01 mg/kg; weight is kept to
0.1 kg. Sanity limits catch typing mistakes (a 10× slip, a weight in pounds); they are not
clinical dose limits, which belong to the prescriber.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from kapsession.domain.protocol import Anchor, DosingSpec, Medication, Offset, Route
from kapsession.domain.vitals import FieldProblem


class DoseUnit(StrEnum):
    MG = "mg"
    MG_PER_KG = "mg/kg"


@dataclass(frozen=True)
class SanityRange:
    """The range a dose must lie in to be taken as typed."""

    low: float
    high: float
    unit: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        return f"{self.low:g}–{self.high:g} {self.unit}"


PLAUSIBLE_WEIGHT_KG = SanityRange(20, 300, "kg")
PLAUSIBLE_DOSE_MG_PER_KG = SanityRange(0.01, 10, "mg/kg")  # oral tops out near 7 mg/kg
# Per route, in mg. IM/IV: the highest published 2 mg/kg at the heaviest plausible 300 kg is
# 600 mg. Sublingual: published range 100–400 mg, so 1000 still catches a 10x slip above 100.
# Intranasal: the label's doses are 28–84 mg; 250 mg allows "other" and catches 560 for 56.
PLAUSIBLE_DOSE_MG: Mapping[Route, SanityRange] = MappingProxyType(
    {
        Route.SUBLINGUAL: SanityRange(1, 1000, "mg"),
        Route.INTRAMUSCULAR: SanityRange(1, 700, "mg"),
        Route.INTRAVENOUS: SanityRange(1, 700, "mg"),
        Route.INTRANASAL: SanityRange(1, 250, "mg"),
    }
)

MAX_TEXT_CHARS = 32
_MG_STEP = Decimal("0.1")
_MG_PER_KG_STEP = Decimal("0.01")
_KG_STEP = Decimal("0.1")
_LB_PER_KG = Decimal("2.20462")

_NUMBER = r"([0-9]+(?:[.,][0-9]+)?)"
_DOSE_TEXT = re.compile(_NUMBER + r"\s*(mg\s*/\s*kg|mg\s+per\s+kg|mg)?", re.ASCII | re.IGNORECASE)
_WEIGHT_TEXT = re.compile(_NUMBER + r"\s*(kg|lbs?)?", re.ASCII | re.IGNORECASE)


class DoseInvalid(ValueError):
    """A dose or weight that cannot be recorded; `problems` names each field to fix."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        if not problems:
            raise ValueError("DoseInvalid needs at least one problem")
        super().__init__(" ".join(problem.message for problem in problems))
        self.problems: list[FieldProblem] = list(problems)


def _decimal(value: float) -> Decimal:
    """A float as the decimal it was written as (0.1 stays 0.1, not 0.1000000000000000055)."""
    return Decimal(repr(value))


def _round(value: Decimal, step: Decimal) -> float:
    with localcontext() as context:
        # Enough digits for any finite value, so quantize never runs out of precision.
        context.prec = max(28, value.adjusted() - step.adjusted() + 2)
        return float(value.quantize(step, rounding=ROUND_HALF_UP)) + 0.0


def _positive(name: str, value: float) -> Decimal:
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return _decimal(value)


def mg_from_mg_per_kg(mg_per_kg: float, weight_kg: float) -> float:
    """mg/kg × kg, rounded half up to 0.1 mg (0.5 mg/kg × 73.3 kg = 36.65 → 36.7 mg)."""
    product = _positive("mg_per_kg", mg_per_kg) * _positive("weight_kg", weight_kg)
    return _round(product, _MG_STEP)


def mg_per_kg_from_mg(dose_mg: float, weight_kg: float) -> float:
    """mg ÷ kg, rounded half up to 0.01 mg/kg (100 mg at 70 kg = 1.43 mg/kg)."""
    with localcontext() as context:
        context.prec = 40
        quotient = _positive("dose_mg", dose_mg) / _positive("weight_kg", weight_kg)
    return _round(quotient, _MG_PER_KG_STEP)


def _num(value: float) -> str:
    return f"{value:g}"


def _quoted(text: str) -> str:
    shown = text if len(text) <= 20 else text[:19] + "…"
    return f"'{shown}'"


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


@dataclass(frozen=True)
class DoseInput:
    """A dose as entered, with both mg and (given a weight) mg/kg for the record."""

    route: Route
    entered_amount: float
    entered_unit: DoseUnit
    dose_mg: float
    weight_kg: float | None = None

    @property
    def dose_mg_per_kg(self) -> float | None:
        if self.entered_unit is DoseUnit.MG_PER_KG:
            return self.entered_amount
        if self.weight_kg is None:
            return None
        return mg_per_kg_from_mg(self.dose_mg, self.weight_kg)

    def describe(self) -> str:
        """Both units, e.g. "100 mg (1.43 mg/kg at 70 kg)"."""
        per_kg = self.dose_mg_per_kg
        if per_kg is None or self.weight_kg is None:
            return f"{_num(self.dose_mg)} mg"
        return f"{_num(self.dose_mg)} mg ({_num(per_kg)} mg/kg at {_num(self.weight_kg)} kg)"


def parse_weight_kg(text: str) -> float | None:
    """Weight in kg from typed text ("72", "72,5 kg"); blank is None. Raises DoseInvalid."""
    problems: list[FieldProblem] = []
    weight = _parse_weight(text, problems)
    if problems:
        raise DoseInvalid(problems)
    return weight


def _parse_weight(text: str, problems: list[FieldProblem]) -> float | None:
    cleaned = _clean(text)
    if not cleaned:
        return None
    match = _WEIGHT_TEXT.fullmatch(cleaned) if len(cleaned) <= MAX_TEXT_CHARS else None
    if match is None:
        problems.append(
            FieldProblem("weight_kg", f"Weight must be a number of kg, not {_quoted(cleaned)}.")
        )
        return None
    amount = Decimal(match.group(1).replace(",", "."))
    unit = (match.group(2) or "kg").lower()
    if unit.startswith("lb"):
        in_kg = amount / _LB_PER_KG
        problems.append(
            FieldProblem(
                "weight_kg",
                f"Weight must be in kg; {amount:f} lb is {in_kg:.1f} kg. Enter the weight in kg.",
            )
        )
        return None
    weight = _round(amount, _KG_STEP)
    if not PLAUSIBLE_WEIGHT_KG.contains(weight):
        problems.append(
            FieldProblem(
                "weight_kg",
                f"Weight {_num(weight)} kg is outside {PLAUSIBLE_WEIGHT_KG.describe()}; check it "
                "(is it in pounds?).",
            )
        )
        return None
    return weight


def parse_dose_input(
    dose_text: str,
    *,
    route: Route,
    weight_text: str = "",
    unit: DoseUnit | None = None,
) -> DoseInput:
    """A dose from typed text: "100", "100 mg", "0.5 mg/kg", "0,5 mg/kg".

    The unit is taken from the text, else from `unit` (the unit the form offers), else mg. A dose
    in mg/kg needs a weight. Every problem is reported at once, in DoseInvalid.
    """
    problems: list[FieldProblem] = []
    weight = _parse_weight(weight_text, problems)
    cleaned = _clean(dose_text)
    if not cleaned:
        problems.append(FieldProblem("dose", "Enter the dose, e.g. 100 mg or 0.5 mg/kg."))
        raise DoseInvalid(problems)
    match = _DOSE_TEXT.fullmatch(cleaned) if len(cleaned) <= MAX_TEXT_CHARS else None
    if match is None:
        problems.append(
            FieldProblem(
                "dose",
                f"Dose must be a number of mg or mg/kg, e.g. 100 mg or 0.5 mg/kg, not "
                f"{_quoted(cleaned)}.",
            )
        )
        raise DoseInvalid(problems)
    amount = Decimal(match.group(1).replace(",", "."))
    typed_unit = match.group(2)
    entered_unit = unit or DoseUnit.MG
    if typed_unit is not None:
        entered_unit = DoseUnit.MG if typed_unit.lower() == "mg" else DoseUnit.MG_PER_KG
        if unit is not None and entered_unit is not unit:
            problems.append(
                FieldProblem(
                    "dose",
                    f"The dose is typed in {entered_unit.value} but the form asks for "
                    f"{unit.value}; change one of them.",
                )
            )
            raise DoseInvalid(problems)
    limits = PLAUSIBLE_DOSE_MG[route]
    if entered_unit is DoseUnit.MG_PER_KG:
        per_kg = float(amount)
        if not PLAUSIBLE_DOSE_MG_PER_KG.contains(per_kg):
            problems.append(
                FieldProblem(
                    "dose",
                    f"Dose {_num(per_kg)} mg/kg is outside {PLAUSIBLE_DOSE_MG_PER_KG.describe()}; "
                    "check the number and the unit.",
                )
            )
        if weight is None:
            if not any(problem.field == "weight_kg" for problem in problems):
                problems.append(
                    FieldProblem("weight_kg", "A dose in mg/kg needs the client's weight in kg.")
                )
            raise DoseInvalid(problems)
        if problems:
            raise DoseInvalid(problems)
        dose_mg = mg_from_mg_per_kg(per_kg, weight)
        if not limits.contains(dose_mg):
            problems.append(
                FieldProblem(
                    "dose",
                    f"{_num(per_kg)} mg/kg at {_num(weight)} kg is {_num(dose_mg)} mg, outside "
                    f"{limits.describe()} for {route.value} dosing; check the dose and weight.",
                )
            )
            raise DoseInvalid(problems)
        return DoseInput(route, per_kg, entered_unit, dose_mg, weight)
    dose_mg = float(amount)
    if not limits.contains(dose_mg):
        hint = ""
        if PLAUSIBLE_DOSE_MG_PER_KG.contains(dose_mg) and dose_mg < limits.low:
            hint = f" Did you mean {_num(dose_mg)} mg/kg?"
        problems.append(
            FieldProblem(
                "dose",
                f"Dose {_num(dose_mg)} mg is outside {limits.describe()} for {route.value} "
                f"dosing; check the number.{hint}",
            )
        )
    if problems:
        raise DoseInvalid(problems)
    return DoseInput(route, dose_mg, entered_unit, dose_mg, weight)


# --- intranasal esketamine: devices ------------------------------------------------------------


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} ({value.isoformat()}) must be timezone-aware UTC")
    return value.astimezone(UTC)


def devices_for_dose(dose_mg: float, device_mg: float) -> int:
    """How many devices a dose takes (56 mg of 28 mg devices = 2); a dose that is not a whole
    number of devices raises DoseInvalid.
    """
    _positive("device_mg", device_mg)
    if not math.isfinite(dose_mg):
        raise DoseInvalid([FieldProblem("dose", "Dose must be a number of mg.")])
    ratio = Fraction(repr(float(dose_mg))) / Fraction(repr(float(device_mg)))
    if ratio.denominator != 1 or ratio < 1:
        examples = f"{_num(2 * device_mg)} mg is 2 devices, {_num(3 * device_mg)} mg is 3"
        raise DoseInvalid(
            [
                FieldProblem(
                    "dose",
                    f"{_num(dose_mg)} mg is not a whole number of {_num(device_mg)} mg devices "
                    f"({examples}); check the dose.",
                )
            ]
        )
    return int(ratio)


@dataclass(frozen=True)
class IntranasalPlan:
    """An esketamine dose as devices, each followed by a rest before the next one.

    The next device is due `spacing_min` after the previous device was actually given (the
    label's "5-minute rest after each device"), not on a fixed grid from the first.
    """

    dose_mg: float
    device_mg: float
    spacing_min: float

    def __post_init__(self) -> None:
        if self.spacing_min < 0:
            raise ValueError("spacing_min must not be negative")
        devices_for_dose(self.dose_mg, self.device_mg)

    @classmethod
    def from_spec(cls, dose_mg: float, dosing: DosingSpec) -> IntranasalPlan:
        if (
            dosing.medication is not Medication.ESKETAMINE
            or dosing.route is not Route.INTRANASAL
            or dosing.device_mg is None
            or dosing.device_spacing_min is None
        ):
            raise ValueError("the protocol is not intranasal esketamine with devices")
        return cls(dose_mg, dosing.device_mg, dosing.device_spacing_min)

    @property
    def devices(self) -> int:
        return devices_for_dose(self.dose_mg, self.device_mg)

    def planned_times(self, first_device_at: datetime) -> tuple[datetime, ...]:
        """When each device would be given if each follows its rest exactly."""
        first = _aware("first_device_at", first_device_at)
        step = timedelta(minutes=self.spacing_min)
        return tuple(first + step * index for index in range(self.devices))

    def devices_remaining(self, given_times: Sequence[datetime]) -> int:
        return max(0, self.devices - len(given_times))

    def next_device_due(self, given_times: Sequence[datetime]) -> datetime | None:
        """When the next device is due: the last one given plus the rest.

        None before the first device (it is given when the client is ready) and once every
        device is given.
        """
        if not given_times or self.devices_remaining(given_times) == 0:
            return None
        last = max(_aware("given_times", given) for given in given_times)
        return last + timedelta(minutes=self.spacing_min)


def rems_monitoring_ends_at(first_device_at: datetime, min_minutes: float) -> datetime:
    """End of the minimum monitoring: counted from the first device (the REMS form's wording,
    "from 1st device administration"), not the last.
    """
    if min_minutes < 0:
        raise ValueError("min_minutes must not be negative")
    return _aware("first_device_at", first_device_at) + timedelta(minutes=min_minutes)


# --- sublingual and booster timers -------------------------------------------------------------


def spit_due_at(dose_at: datetime, hold_min: float) -> datetime:
    """When the client spits (or swallows) after holding a sublingual dose `hold_min` minutes."""
    if hold_min <= 0:
        raise ValueError("hold_min must be positive")
    return _aware("dose_at", dose_at) + timedelta(minutes=hold_min)


class BoosterStatus(StrEnum):
    NO_WINDOW = "no_window"  # the protocol offers no booster
    AWAITING_DOSE = "awaiting_dose"  # no first dose yet, so the window is not placed
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class BoosterWindowState:
    """Whether a booster may be given now, and the window's times."""

    status: BoosterStatus
    opens_at: datetime | None = None
    closes_at: datetime | None = None


def booster_window_state(
    now: datetime,
    first_dose_at: datetime | None,
    window: tuple[Offset, Offset] | None,
    *,
    session_started_at: datetime | None = None,
) -> BoosterWindowState:
    """Where `now` falls in the protocol's booster window; both ends count as open.

    Offsets anchored at the dose count from the first dose; offsets anchored at the start need
    `session_started_at`.
    """
    now = _aware("now", now)
    if window is None:
        return BoosterWindowState(BoosterStatus.NO_WINDOW)
    if first_dose_at is None:
        return BoosterWindowState(BoosterStatus.AWAITING_DOSE)
    first = _aware("first_dose_at", first_dose_at)

    def at(offset: Offset) -> datetime:
        if offset.anchor is Anchor.DOSE:
            return first + timedelta(minutes=offset.minutes)
        if session_started_at is None:
            raise ValueError(f"booster offset {offset} needs session_started_at")
        started = _aware("session_started_at", session_started_at)
        return started + timedelta(minutes=offset.minutes)

    opens_at, closes_at = at(window[0]), at(window[1])
    if now < opens_at:
        status = BoosterStatus.NOT_OPEN
    elif now <= closes_at:
        status = BoosterStatus.OPEN
    else:
        status = BoosterStatus.CLOSED
    return BoosterWindowState(status, opens_at, closes_at)
