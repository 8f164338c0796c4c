"""The hold-dose check on the baseline blood pressure, before the first dose.

The SPRAVATO label speaks of patients with blood pressure "above 140 mmHg systolic or above
90 mmHg diastolic" (clinical-sources §1.1), and the product's block limit is "above 160/100".
So every limit is strict: a value exactly at a limit does not cross it (140/90 is OK, 141/90 is
a caution; 160/100 is a caution, 161/100 or 160/101 is a block). Either value over its limit is
enough. The numbers come from the protocol's `HoldDoseRule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kapsession.domain.protocol import HoldDoseRule
from kapsession.domain.vitals import Reading, format_bp


class HoldDoseLevel(StrEnum):
    OK = "ok"
    CAUTION = "caution"  # shown; the dose may go ahead
    BLOCK = "block"  # the dose needs an override with a reason
    NO_BASELINE = "no_baseline"  # no baseline blood pressure: the check cannot be made


@dataclass(frozen=True)
class HoldDoseResult:
    """The blood-pressure check before a dose: its level, message and reading."""

    level: HoldDoseLevel
    message: str
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None

    @property
    def requires_override(self) -> bool:
        """Dosing needs an override with a reason: over the block limit, or no baseline BP.

        Without a baseline the check cannot be made, so dosing anyway (a cuff that failed, a
        manual reading kept elsewhere) is an override with its reason in the record too.
        """
        return self.level in (HoldDoseLevel.BLOCK, HoldDoseLevel.NO_BASELINE)


def _limit(systolic: float, diastolic: float) -> str:
    return f"{systolic:g}/{diastolic:g} mmHg"


def _over(
    systolic: int, diastolic: int, systolic_above: float, diastolic_above: float
) -> list[str]:
    """Which of the two values is over its limit, as words for the message."""
    parts: list[str] = []
    if systolic > systolic_above:
        parts.append(f"systolic above {systolic_above:g}")
    if diastolic > diastolic_above:
        parts.append(f"diastolic above {diastolic_above:g}")
    return parts


def check_hold_dose(
    baseline: Reading | None, rule: HoldDoseRule, *, what: str = "baseline"
) -> HoldDoseResult:
    """Compare the baseline blood pressure with the protocol's hold-dose limits (before a
    booster, `what` = "newest": the newest blood pressure, issue 16)."""
    if baseline is None or baseline.systolic_mmhg is None or baseline.diastolic_mmhg is None:
        return HoldDoseResult(
            HoldDoseLevel.NO_BASELINE,
            "No baseline blood pressure yet; take one before the dose. To dose without it, "
            "record an override with the reason.",
        )
    systolic, diastolic = baseline.systolic_mmhg, baseline.diastolic_mmhg
    bp = format_bp(systolic, diastolic)
    block = _over(systolic, diastolic, rule.block_systolic_above, rule.block_diastolic_above)
    if block:
        limit = _limit(rule.block_systolic_above, rule.block_diastolic_above)
        return HoldDoseResult(
            HoldDoseLevel.BLOCK,
            f"Hold the dose: {what} blood pressure {bp} is above the hold-dose limit {limit} "
            f"({' and '.join(block)}). Recheck it, or record an override with the reason to "
            "dose anyway.",
            systolic,
            diastolic,
        )
    caution = _over(systolic, diastolic, rule.caution_systolic_above, rule.caution_diastolic_above)
    if caution:
        limit = _limit(rule.caution_systolic_above, rule.caution_diastolic_above)
        return HoldDoseResult(
            HoldDoseLevel.CAUTION,
            f"Caution: {what} blood pressure {bp} is above {limit} ({' and '.join(caution)}). "
            "Ketamine raises blood pressure for a short time; weigh that against the benefit "
            "before dosing.",
            systolic,
            diastolic,
        )
    return HoldDoseResult(
        HoldDoseLevel.OK,
        f"{what.capitalize()} blood pressure {bp} is within the hold-dose limits.",
        systolic,
        diastolic,
    )


class HoldDoseOverrideInvalid(ValueError):
    """An override that cannot be recorded, naming the field to fill in."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class HoldDoseOverride:
    """The decision to dose despite the hold-dose check: why, and who decided."""

    reason: str
    staff: str  # the name or id of the clinician who decided

    def __post_init__(self) -> None:
        reason = self.reason.strip() if isinstance(self.reason, str) else ""
        staff = self.staff.strip() if isinstance(self.staff, str) else ""
        if not reason:
            raise HoldDoseOverrideInvalid(
                "reason",
                "Write the reason for dosing despite the blood pressure check; it goes into "
                "the record.",
            )
        if not staff:
            raise HoldDoseOverrideInvalid(
                "staff", "Name the clinician who decided to dose despite the check."
            )
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "staff", staff)


def may_dose(result: HoldDoseResult, override: HoldDoseOverride | None) -> bool:
    """Whether the first dose may be recorded: without a block, or with an override."""
    return not result.requires_override or override is not None
