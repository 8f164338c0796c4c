"""What the nurse's use cases give back: the saved entry, or the problems that kept it unsaved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.discharge import DischargeEvaluation
from kapsession.domain.dose_order import DoseCheck
from kapsession.domain.dosing import DoseInput
from kapsession.domain.hold_dose import HoldDoseResult
from kapsession.domain.vitals import AlertHit, FieldProblem
from kapsession.records.entries import (
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    EventRecord,
    ObservationRecord,
)


@dataclass(frozen=True)
class CheckinResult:
    """A check-in as saved with the alerts it raised, or the problems that kept it unsaved, or
    (nothing saved, no problem) the required measures left empty that the nurse must confirm
    as not taken before it is saved as a partial check-in."""

    observation: ObservationRecord | None = None
    alerts: tuple[AlertRecord, ...] = ()
    hits: tuple[AlertHit, ...] = ()
    problems: tuple[FieldProblem, ...] = ()
    not_taken: tuple[str, ...] = ()  # required measures left empty (saved: as recorded)

    @property
    def saved(self) -> bool:
        return self.observation is not None

    @property
    def needs_confirmation(self) -> bool:
        """Nothing saved yet: the check-in is partial, and the nurse is to confirm it."""
        return self.observation is None and not self.problems and bool(self.not_taken)

    @property
    def message(self) -> str:
        """Every problem, for a status line."""
        return " ".join(problem.message for problem in self.problems)


@dataclass(frozen=True)
class IntranasalStatus:
    """An esketamine dose as devices: which are given, when the next is due, when REMS ends."""

    devices: int
    given_at: tuple[datetime, ...]
    next_device_due_at: datetime | None
    rems_monitoring_ends_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.devices - len(self.given_at))


@dataclass(frozen=True)
class DeviceResult:
    """An esketamine device as saved, and the dose's devices with it."""

    event: EventRecord
    status: IntranasalStatus


@dataclass(frozen=True)
class DoseResult:
    """A dose as saved, or why not: problems with what was typed, or a hold-dose check that
    needs an override (`needs_override`)."""

    dose: DoseRecord | None = None
    problems: tuple[FieldProblem, ...] = ()
    hold_dose: HoldDoseResult | None = None  # the check run before the first dose
    entered: DoseInput | None = None
    intranasal: IntranasalStatus | None = None
    spit_due_at: datetime | None = None  # sublingual: when to spit or swallow
    events: tuple[EventRecord, ...] = ()  # saved with the dose (a hold-dose caution)
    order_check: DoseCheck | None = None  # the dose against the order and the protocol's limits

    @property
    def saved(self) -> bool:
        return self.dose is not None

    @property
    def needs_order_override(self) -> bool:
        """Nothing saved: the dose differs from the order or passes a protocol limit, and only
        the prescriber's override (their PIN and a reason) lets it be recorded."""
        return (
            self.dose is None
            and not self.problems
            and self.order_check is not None
            and self.order_check.needs_override
        )

    @property
    def needs_override(self) -> bool:
        return (
            self.dose is None
            and not self.problems
            and self.hold_dose is not None
            and self.hold_dose.requires_override
        )

    @property
    def message(self) -> str:
        if self.problems:
            return " ".join(problem.message for problem in self.problems)
        if self.needs_order_override and self.order_check is not None:
            return self.order_check.message
        return "" if self.hold_dose is None else self.hold_dose.message


@dataclass(frozen=True)
class DischargeResult:
    """The discharge check, and the assessment if discharge was recorded."""

    evaluation: DischargeEvaluation
    assessment: DischargeAssessmentRecord | None = None
    event: EventRecord | None = None  # the discharge event saved with the assessment
    # saved with it: the protocol deviation of a discharge on the prescriber's override
    deviations: tuple[EventRecord, ...] = ()

    @property
    def saved(self) -> bool:
        return self.assessment is not None
