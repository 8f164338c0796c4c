"""The prescriber's order for a dosing session, and a dose checked against it and the protocol.

A dose is compared with the order (the dose, the boosters it allows, the session's maximum) and
with the protocol's limits (`DoseLimits`, clinical-sources §2). What differs is a deviation: the
dose is saved only with the prescriber's override (their PIN and a reason). A dose for a
participant without an order (none given yet, or a session from before orders existed) is one
too: the prescriber gives the order first, or overrides (`NO_ORDER`). Some things no
override allows: a booster where the protocol has none, outside its window or over its count,
and any dose after discharge or the end (refusals).

Amounts compare in the units the order was written in: an order in mg/kg against the dose's
mg/kg (rounded to 0.01 as the dose is), an order in mg against the dose's mg (to 0.1 mg).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from kapsession.domain.dosing import BoosterStatus, DoseInput, booster_window_state
from kapsession.domain.protocol import Anchor, DosingSpec, Medication, Offset, Route
from kapsession.domain.vitals import FieldProblem

MAX_ORDER_BOOSTERS = 10
NO_ORDER = "no_order"  # the deviation of a dose for a participant without an order
_MG_TOLERANCE = 0.05  # amounts are kept to 0.1 mg
_PER_KG_TOLERANCE = 0.005  # and to 0.01 mg/kg


class DoseKind(StrEnum):
    INITIAL = "initial"
    BOOSTER = "booster"


class OrderSource(StrEnum):
    SESSION_START = "session_start"  # entered in the new-session dialog
    COURSE_PLAN = "course_plan"  # taken from the course plan (issue 17)


@dataclass(frozen=True)
class DoseOrder:
    """What the prescriber ordered for one participant's session."""

    medication: Medication
    route: Route
    dose_mg: float | None  # exactly one of dose_mg and dose_mg_per_kg
    dose_mg_per_kg: float | None
    boosters: int = 0  # how many boosters the order allows
    booster_mg: float | None = None  # each booster's dose
    booster_window_min: tuple[float, float] | None = None  # minutes after the first dose
    max_total_mg: float | None = None  # every dose of the session together
    verbal: bool = False  # a verbal order: the prescriber countersigns it later

    def dose_text(self) -> str:
        if self.dose_mg_per_kg is not None:
            return f"{_num(self.dose_mg_per_kg)} mg/kg"
        return f"{_num(self.dose_mg or 0)} mg"

    def summary(self) -> str:
        """One line, e.g. "200 mg sublingual · booster ≤1 × 100 mg at T+20–40 · max 300 mg"."""
        parts = [f"{self.dose_text()} {ROUTE_SHORT[self.route]}"]
        if self.boosters and self.booster_mg is not None:
            window = ""
            if self.booster_window_min is not None:
                opens, closes = self.booster_window_min
                window = f" at T+{_num(opens)}–{_num(closes)}"
            parts.append(f"booster ≤{self.boosters} × {_num(self.booster_mg)} mg{window}")
        else:
            parts.append("no booster")
        if self.max_total_mg is not None:
            parts.append(f"max {_num(self.max_total_mg)} mg")
        if self.verbal:
            parts.append("verbal order")
        return " · ".join(parts)


ROUTE_SHORT = {
    Route.SUBLINGUAL: "SL",
    Route.INTRAMUSCULAR: "IM",
    Route.INTRAVENOUS: "IV",
    Route.INTRANASAL: "IN",
}


def _num(value: float) -> str:
    return f"{value:g}"


def window_minutes(dosing: DosingSpec) -> tuple[float, float] | None:
    """The protocol's booster window as minutes after the first dose (dose-anchored offsets;
    a start-anchored one cannot be placed before the session, so no default is offered)."""
    window = dosing.booster_window
    if window is None or any(o.anchor is not Anchor.DOSE for o in window):
        return None
    return (window[0].minutes, window[1].minutes)


def usual_order(dosing: DosingSpec) -> DoseOrder:
    """The order a new session is prefilled with: the protocol's usual dose and boosters."""
    limits = dosing.limits
    per_kg = limits.usual_mg_per_kg if limits.usual_mg is None else None
    boosters = dosing.boosters_allowed if limits.usual_booster_mg is not None else 0
    return DoseOrder(
        medication=dosing.medication,
        route=dosing.route,
        dose_mg=limits.usual_mg if per_kg is None else None,
        dose_mg_per_kg=per_kg,
        boosters=boosters,
        booster_mg=limits.usual_booster_mg if boosters else None,
        booster_window_min=window_minutes(dosing) if boosters else None,
        max_total_mg=limits.max_session_mg,
    )


def check_order(order: DoseOrder, dosing: DosingSpec) -> list[FieldProblem]:
    """What is wrong with an order as entered for this protocol (nothing is saved then)."""
    problems: list[FieldProblem] = []
    if order.medication is not dosing.medication or order.route is not dosing.route:
        problems.append(
            FieldProblem(
                "order_medication",
                f"The order is for {order.medication.value} {order.route.value}, but the "
                f"protocol gives {dosing.medication.value} {dosing.route.value}.",
            )
        )
    if (order.dose_mg is None) == (order.dose_mg_per_kg is None):
        problems.append(
            FieldProblem("order_dose", "Order: enter the dose in mg or in mg/kg (one of them).")
        )
    for value, what in (
        (order.dose_mg, "dose"),
        (order.dose_mg_per_kg, "dose"),
        (order.booster_mg, "booster dose"),
        (order.max_total_mg, "maximum for the session"),
    ):
        if value is not None and (not math.isfinite(value) or value <= 0):
            problems.append(FieldProblem("order_dose", f"Order: the {what} must be above 0."))
    if not 0 <= order.boosters <= MAX_ORDER_BOOSTERS:
        problems.append(
            FieldProblem("order_boosters", f"Order: boosters must be 0 to {MAX_ORDER_BOOSTERS}.")
        )
    if order.boosters:
        if dosing.boosters_allowed == 0:
            problems.append(
                FieldProblem(
                    "order_boosters",
                    "Order: this protocol has no booster; set boosters to 0.",
                )
            )
        if order.booster_mg is None:
            problems.append(
                FieldProblem("order_booster_mg", "Order: enter each booster's dose in mg.")
            )
        window = order.booster_window_min
        if window is None or not 0 <= window[0] < window[1]:
            problems.append(
                FieldProblem(
                    "order_booster_window",
                    "Order: the booster window is minutes after the first dose, e.g. 20–40.",
                )
            )
    if (
        order.max_total_mg is not None
        and order.dose_mg is not None
        and order.max_total_mg + _MG_TOLERANCE < order.dose_mg
    ):
        problems.append(
            FieldProblem(
                "order_max_total",
                f"Order: the maximum for the session ({_num(order.max_total_mg)} mg) is "
                f"below the dose ({_num(order.dose_mg)} mg).",
            )
        )
    return problems


@dataclass(frozen=True)
class PrescriberOverride:
    """The prescriber's decision to give a dose outside the order or a protocol limit: who
    (a staff member whose role may prescribe, their PIN checked) and why."""

    staff_id: uuid.UUID
    name: str
    reason: str

    def __post_init__(self) -> None:
        reason = self.reason.strip() if isinstance(self.reason, str) else ""
        if not reason:
            raise ValueError(
                "Write the prescriber's reason for the dose outside the order; it goes into "
                "the record."
            )
        object.__setattr__(self, "reason", reason)


# --- a dose against the order and the protocol ---------------------------------------------


@dataclass(frozen=True)
class Deviation:
    """One way a dose differs from the order or passes a protocol limit: saved only with the
    prescriber's override. `rule` names it in the record."""

    rule: str
    message: str


@dataclass(frozen=True)
class DoseCheck:
    """What a dose would need: `refusals` no override allows; `deviations` need one."""

    refusals: tuple[str, ...] = ()
    deviations: tuple[Deviation, ...] = ()

    @property
    def needs_override(self) -> bool:
        return not self.refusals and bool(self.deviations)

    @property
    def message(self) -> str:
        if self.refusals:
            return " ".join(self.refusals)
        return " ".join(d.message for d in self.deviations)


@dataclass(frozen=True)
class SessionDoses:
    """What the participant has had so far in the session (standing doses)."""

    first_dose_at: datetime | None
    given_mg: tuple[float, ...] = ()  # every standing dose's mg
    boosters_given: int = 0
    discharged_at: datetime | None = None
    ended_at: datetime | None = None
    session_started_at: datetime | None = None


def booster_refusal(dosing: DosingSpec, so_far: SessionDoses, at: datetime) -> str | None:
    """Why no booster may be given at `at` whatever the order says, or None: the protocol has
    none, its window is not open, its count is reached."""
    allowed = dosing.boosters_allowed
    if allowed == 0:
        what = f"{dosing.medication.value} {dosing.route.value}"
        if dosing.route is Route.INTRANASAL:
            return (
                f"No booster: the protocol ({what}) has none; the devices of the dose are one "
                "dose (record them with V)."
            )
        return f"No booster: the protocol ({what}) has none."
    if so_far.boosters_given >= allowed:
        plural = "booster" if allowed == 1 else "boosters"
        return f"No booster: the protocol allows {allowed} {plural} a session, already given."
    state = booster_window_state(
        at,
        so_far.first_dose_at,
        dosing.booster_window,
        session_started_at=so_far.session_started_at,
    )
    if state.status is BoosterStatus.AWAITING_DOSE:
        return "No booster before the first dose."
    if state.status is BoosterStatus.NOT_OPEN and state.opens_at is not None:
        return f"No booster yet: the window {_window_text(dosing)} opens at {_hm(state.opens_at)}."
    if state.status is BoosterStatus.CLOSED and state.closes_at is not None:
        return f"No booster: the window {_window_text(dosing)} closed at {_hm(state.closes_at)}."
    return None


def _window_text(dosing: DosingSpec) -> str:
    window = dosing.booster_window
    assert window is not None
    if window[0].anchor is window[1].anchor is Anchor.DOSE:
        return f"T+{_num(window[0].minutes)}–{_num(window[1].minutes)}"
    return f"{_offset_text(window[0])}–{_offset_text(window[1])}"


def _offset_text(offset: Offset) -> str:
    if offset.anchor is Anchor.DOSE:
        return f"T+{_num(offset.minutes)}"
    return f"start+{_num(offset.minutes)}"


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


def stop_refusal(so_far: SessionDoses) -> str | None:
    """No dose after the participant's discharge or the session's end."""
    if so_far.ended_at is not None:
        return "No dose after the end of the session."
    if so_far.discharged_at is not None:
        return f"No dose after discharge (discharged at {_hm(so_far.discharged_at)})."
    return None


def check_dose(
    dose: DoseInput,
    *,
    kind: DoseKind,
    dosing: DosingSpec,
    order: DoseOrder | None,
    so_far: SessionDoses,
    at: datetime,
) -> DoseCheck:
    """The dose `dose`, given at `at`, against the protocol's limits and the order (None: no
    order recorded, e.g. one to be given in the room or a session started before orders
    existed: a deviation, `NO_ORDER`, beside what the limits find)."""
    refusals: list[str] = []
    stop = stop_refusal(so_far)
    if stop is not None:
        refusals.append(stop)
    if kind is DoseKind.BOOSTER:
        refusal = booster_refusal(dosing, so_far, at)
        if refusal is not None:
            refusals.append(refusal)
    refusals += _unchecked(dose, dosing, order)
    deviations = _deviations(dose, kind, dosing, order, so_far, at)
    if refusals:
        return DoseCheck(refusals=tuple(refusals))
    return DoseCheck(deviations=tuple(deviations))


BOOSTER_OUTSIDE = "protocol_booster"  # a corrected booster the protocol did not offer then


def check_corrected_dose(
    dose: DoseInput,
    *,
    kind: DoseKind,
    dosing: DosingSpec,
    order: DoseOrder | None,
    so_far: SessionDoses,
    at: datetime,
) -> DoseCheck:
    """A dose corrected to what was actually given, checked as a new dose is (`so_far`: the
    participant's other standing doses), but the truth is never refused: what would refuse a
    new booster (the protocol's window or count) is a deviation too, and discharge and the end
    are not asked about (the dose was given before them; the record checks its time). Refused
    only what cannot be checked (a per-kg dose without the weight)."""
    refusals = _unchecked(dose, dosing, order)
    if refusals:
        return DoseCheck(refusals=tuple(refusals))
    deviations = []
    if kind is DoseKind.BOOSTER:
        before = replace(so_far, discharged_at=None, ended_at=None)
        refusal = booster_refusal(dosing, before, at)
        if refusal is not None:
            deviations.append(Deviation(BOOSTER_OUTSIDE, refusal))
    deviations += _deviations(dose, kind, dosing, order, so_far, at)
    return DoseCheck(deviations=tuple(deviations))


def _unchecked(dose: DoseInput, dosing: DosingSpec, order: DoseOrder | None) -> list[str]:
    """Why the dose cannot be checked: a dose limited or ordered per kg without the weight."""
    limits = dosing.limits
    per_kg_limited = limits.min_mg_per_kg is not None or limits.max_mg_per_kg is not None
    per_kg_ordered = order is not None and order.dose_mg_per_kg is not None
    if dose.dose_mg_per_kg is None and (per_kg_limited or per_kg_ordered):
        return [
            "Enter the client's weight: this dose is limited or ordered per kg, so it cannot be "
            "checked without it."
        ]
    return []


def _deviations(
    dose: DoseInput,
    kind: DoseKind,
    dosing: DosingSpec,
    order: DoseOrder | None,
    so_far: SessionDoses,
    at: datetime,
) -> list[Deviation]:
    """How the dose differs from the protocol's limits and the order (or that there is none)."""
    deviations = _limit_deviations(dose, kind, dosing, so_far)
    if order is None:
        deviations.append(
            Deviation(
                NO_ORDER,
                "No order is recorded: the prescriber gives the order before the dose, or "
                "overrides (their PIN and a reason).",
            )
        )
    else:
        deviations += _order_deviations(dose, kind, order, so_far, at)
    return deviations


def _limit_deviations(
    dose: DoseInput, kind: DoseKind, dosing: DosingSpec, so_far: SessionDoses
) -> list[Deviation]:
    limits = dosing.limits
    found: list[Deviation] = []
    mg = dose.dose_mg
    per_kg = dose.dose_mg_per_kg
    protocol = "the protocol's"
    if limits.max_mg is not None and mg > limits.max_mg + _MG_TOLERANCE:
        found.append(
            Deviation(
                "limit_max_mg",
                f"{_num(mg)} mg is above {protocol} limit of {_num(limits.max_mg)} mg a dose.",
            )
        )
    if (
        per_kg is not None
        and limits.max_mg_per_kg is not None
        and per_kg > limits.max_mg_per_kg + _PER_KG_TOLERANCE
    ):
        found.append(
            Deviation(
                "limit_max_mg_per_kg",
                f"{_num(per_kg)} mg/kg is above {protocol} limit of "
                f"{_num(limits.max_mg_per_kg)} mg/kg.",
            )
        )
    if kind is DoseKind.INITIAL:
        if limits.min_mg is not None and mg < limits.min_mg - _MG_TOLERANCE:
            found.append(
                Deviation(
                    "limit_min_mg",
                    f"{_num(mg)} mg is below {protocol} lowest dose of {_num(limits.min_mg)} mg.",
                )
            )
        if (
            per_kg is not None
            and limits.min_mg_per_kg is not None
            and per_kg < limits.min_mg_per_kg - _PER_KG_TOLERANCE
        ):
            found.append(
                Deviation(
                    "limit_min_mg_per_kg",
                    f"{_num(per_kg)} mg/kg is below {protocol} lowest dose of "
                    f"{_num(limits.min_mg_per_kg)} mg/kg.",
                )
            )
        if limits.allowed_mg and not any(
            abs(mg - allowed) <= _MG_TOLERANCE for allowed in limits.allowed_mg
        ):
            doses = " or ".join(f"{_num(a)} mg" for a in limits.allowed_mg)
            found.append(
                Deviation(
                    "limit_allowed_mg", f"{_num(mg)} mg is not a dose of {protocol}: {doses}."
                )
            )
    if limits.max_session_mg is not None:
        total = sum(so_far.given_mg) + mg
        if total > limits.max_session_mg + _MG_TOLERANCE:
            found.append(
                Deviation(
                    "limit_session_mg",
                    f"With this dose the session's total is {_num(total)} mg, above {protocol} "
                    f"maximum of {_num(limits.max_session_mg)} mg a session.",
                )
            )
    return found


def _same(amount: float, ordered: float, tolerance: float) -> bool:
    return abs(amount - ordered) <= tolerance


def _order_deviations(
    dose: DoseInput, kind: DoseKind, order: DoseOrder, so_far: SessionDoses, at: datetime
) -> list[Deviation]:
    found: list[Deviation] = []
    mg = dose.dose_mg
    if kind is DoseKind.INITIAL:
        if order.dose_mg_per_kg is not None:
            per_kg = dose.dose_mg_per_kg
            if per_kg is not None and not _same(per_kg, order.dose_mg_per_kg, _PER_KG_TOLERANCE):
                found.append(
                    Deviation(
                        "order_dose",
                        f"The order is {order.dose_text()}; this dose is {_num(per_kg)} mg/kg.",
                    )
                )
        elif order.dose_mg is not None and not _same(mg, order.dose_mg, _MG_TOLERANCE):
            found.append(
                Deviation(
                    "order_dose", f"The order is {order.dose_text()}; this dose is {_num(mg)} mg."
                )
            )
    else:
        if order.boosters == 0:
            found.append(Deviation("order_no_booster", "The order allows no booster."))
        elif so_far.boosters_given >= order.boosters:
            found.append(
                Deviation(
                    "order_booster_count",
                    f"The order allows {order.boosters} booster"
                    f"{'' if order.boosters == 1 else 's'}, already given.",
                )
            )
        else:
            if order.booster_mg is not None and not _same(mg, order.booster_mg, _MG_TOLERANCE):
                found.append(
                    Deviation(
                        "order_booster_dose",
                        f"The order's booster is {_num(order.booster_mg)} mg; this one is "
                        f"{_num(mg)} mg.",
                    )
                )
            window = order.booster_window_min
            if window is not None and so_far.first_dose_at is not None:
                opens = so_far.first_dose_at + timedelta(minutes=window[0])
                closes = so_far.first_dose_at + timedelta(minutes=window[1])
                if not opens <= at <= closes:
                    found.append(
                        Deviation(
                            "order_booster_window",
                            f"The order's booster window is T+{_num(window[0])}–"
                            f"{_num(window[1])} ({_hm(opens)}–{_hm(closes)}).",
                        )
                    )
    if order.max_total_mg is not None:
        total = sum(so_far.given_mg) + mg
        if total > order.max_total_mg + _MG_TOLERANCE:
            found.append(
                Deviation(
                    "order_max_total",
                    f"With this dose the session's total is {_num(total)} mg, above the order's "
                    f"maximum of {_num(order.max_total_mg)} mg.",
                )
            )
    return found


def booster_available(dosing: DosingSpec, so_far: SessionDoses, at: datetime) -> tuple[bool, str]:
    """Whether D may record a dose now, and why not: before the first dose always (unless
    discharged or ended); after it, a booster only as the protocol allows."""
    stop = stop_refusal(so_far)
    if stop is not None:
        return False, stop
    if so_far.first_dose_at is None:
        return True, ""
    refusal = booster_refusal(dosing, so_far, at)
    return refusal is None, refusal or ""


def given_mg(doses: Sequence[float | None]) -> tuple[float, ...]:
    return tuple(d for d in doses if d is not None)
