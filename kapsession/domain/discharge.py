"""The discharge check: modified Aldrete score, the clinic checklist and the minimum time.

Modified Aldrete (Aldrete 1995; clinical-sources §4): five items scored 0–2, activity,
breathing, circulation, consciousness and SpO2. The nurse scores activity, breathing and
consciousness; circulation and SpO2 are computed from the current reading. The pass mark, the
circulation percentage, the SpO2 limit, the checklist and the two minimum times, after the first
dose (120 minutes for esketamine, SPRAVATO REMS) and after the last dose or booster (60 minutes,
"observe >= 60 min after the final dose", clinical-sources §4), all come from the protocol's
DischargeCriteria. Both minimums must be met; an infusion still running is never the last dose.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from kapsession.domain.protocol import DischargeCriteria
from kapsession.domain.vitals import Reading, format_bp

# Published scale definitions (not protocol thresholds):
# circulation scores 0 from this change from baseline on ("± 50 %" in the published tables);
ALDRETE_CIRCULATION_ZERO_FROM_PCT = 50
# SpO2 scores 1 when oxygen keeps the saturation above this ("> 90 %"), 0 below it.
ALDRETE_SPO2_WITH_OXYGEN_ABOVE_PCT = 90
ALDRETE_ITEM_MAX = 2

MINIMUM_TIME_KEY = "minimum-time"  # after the first dose
MINIMUM_TIME_LAST_DOSE_KEY = "minimum-time-after-last-dose"
INFUSION_RUNNING_KEY = "infusion-running"
# What the REMS form's "ready if there was no minimum monitoring time" leaves aside.
_TIME_KEYS = frozenset({MINIMUM_TIME_KEY, MINIMUM_TIME_LAST_DOSE_KEY})
ALDRETE_KEY = "aldrete"
CHECKLIST_KEY_PREFIX = "checklist."

_ITEM_NAMES = {
    "activity": "Activity",
    "breathing": "Breathing",
    "circulation": "Circulation",
    "consciousness": "Consciousness",
    "spo2": "SpO2",
}
# What each score means, for the nurse scoring the three observed items.
ACTIVITY_ANCHORS = {
    2: "Moves 4 extremities voluntarily or on command",
    1: "Moves 2 extremities",
    0: "Moves no extremities",
}
BREATHING_ANCHORS = {
    2: "Breathes deeply and coughs freely",
    1: "Dyspnea, shallow or limited breathing",
    0: "Apneic",
}
CONSCIOUSNESS_ANCHORS = {2: "Fully awake", 1: "Arousable on calling", 0: "Not responding"}


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} ({value.isoformat()}) must be timezone-aware UTC")
    return value.astimezone(UTC)


def bp_change_pct(current: Reading, baseline: Reading) -> Fraction:
    """The larger change of systolic and diastolic from baseline, in percent of baseline.

    Published tables say "blood pressure ± 20 % of the pre-anaesthetic level" without naming
    systolic or diastolic; taking the larger change keeps a diastolic rise from being hidden.
    Exact (a Fraction), so a change of exactly 20 % is exactly 20.
    """
    now_sys, now_dia = current.systolic_mmhg, current.diastolic_mmhg
    base_sys, base_dia = baseline.systolic_mmhg, baseline.diastolic_mmhg
    if now_sys is None or now_dia is None or base_sys is None or base_dia is None:
        raise ValueError("both readings need a blood pressure")
    return max(
        Fraction(abs(now_sys - base_sys) * 100, base_sys),
        Fraction(abs(now_dia - base_dia) * 100, base_dia),
    )


def circulation_score(current: Reading, baseline: Reading, within_pct: float) -> int:
    """Aldrete circulation: 2 within ±`within_pct` % of baseline (inclusive), 1 up to below
    50 %, 0 from 50 % on. The percentage comes from the protocol; 50 % is the published scale.
    """
    change = bp_change_pct(current, baseline)
    if change <= Fraction(within_pct):
        return 2
    if change < ALDRETE_CIRCULATION_ZERO_FROM_PCT:
        return 1
    return 0


def spo2_score(spo2_pct: float, on_room_air: bool, spo2_min_pct: float) -> int:
    """Aldrete SpO2 item, from the published rule (Aldrete 1995, clinical-sources §4):

    2 = "able to maintain O2 saturation > 92 % on room air",
    1 = "needs O2 inhalation to maintain O2 saturation > 90 %",
    0 = "O2 saturation < 90 % even with O2 supplementation".

    The published comparisons are strict (">"), so exactly 92 % on room air is not a 2, and
    exactly 90 % on oxygen is not above 90, so it scores 0. 92 is the protocol's
    `spo2_min_pct`; 90 is the scale's own definition. The table does not cover room air at or
    below `spo2_min_pct`: above 90 % without oxygen scores 1 (it does at least as well as
    "needs O2 to keep > 90 %"); 90 % or lower scores 0.
    """
    if on_room_air and spo2_pct > spo2_min_pct:
        return 2
    if spo2_pct > ALDRETE_SPO2_WITH_OXYGEN_ABOVE_PCT:
        return 1
    return 0


@dataclass(frozen=True)
class AldreteObservation:
    """What the nurse scores by looking: each 0–2, or None when not assessed yet."""

    activity: int | None = None
    breathing: int | None = None
    consciousness: int | None = None
    on_room_air: bool = True  # False while the client receives supplemental oxygen

    def __post_init__(self) -> None:
        for name in ("activity", "breathing", "consciousness"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2:
                raise ValueError(f"{_ITEM_NAMES[name]} must be scored 0, 1 or 2, not {value!r}")


@dataclass(frozen=True)
class AldreteItem:
    """One item of the modified Aldrete score, with what it rests on."""

    key: str  # activity | breathing | circulation | consciousness | spo2
    name: str
    score: int | None  # None: not assessed, or not computable from the readings
    detail: str  # what the score rests on, or what is missing


@dataclass(frozen=True)
class AldreteScore:
    """The modified Aldrete score, item by item."""

    items: tuple[AldreteItem, ...]

    @property
    def complete(self) -> bool:
        return all(item.score is not None for item in self.items)

    @property
    def total(self) -> int:
        """The sum of the scored items (a missing item counts 0)."""
        return sum(item.score or 0 for item in self.items)

    def item(self, key: str) -> AldreteItem:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def passes(self, pass_min: int) -> bool:
        return self.complete and self.total >= pass_min


def _pct(value: Fraction) -> str:
    return f"{value.numerator} %" if value.denominator == 1 else f"{float(value):.1f} %"


def aldrete_score(
    current: Reading,
    baseline: Reading | None,
    observation: AldreteObservation,
    criteria: DischargeCriteria,
) -> AldreteScore:
    """Score the five items from the nurse's observation and the current and baseline readings."""
    items = [
        _observed("activity", observation.activity, ACTIVITY_ANCHORS),
        _observed("breathing", observation.breathing, BREATHING_ANCHORS),
        _circulation_item(current, baseline, criteria),
        _observed("consciousness", observation.consciousness, CONSCIOUSNESS_ANCHORS),
        _spo2_item(current, observation.on_room_air, criteria),
    ]
    return AldreteScore(tuple(items))


def _observed(key: str, score: int | None, anchors: Mapping[int, str]) -> AldreteItem:
    name = _ITEM_NAMES[key]
    if score is None:
        return AldreteItem(key, name, None, f"{name} is not scored yet.")
    return AldreteItem(key, name, score, anchors[score])


def _circulation_item(
    current: Reading, baseline: Reading | None, criteria: DischargeCriteria
) -> AldreteItem:
    name = _ITEM_NAMES["circulation"]
    if baseline is None or not baseline.has_bp:
        return AldreteItem("circulation", name, None, "No baseline blood pressure to compare with.")
    if not current.has_bp:
        return AldreteItem(
            "circulation", name, None, "Take a blood pressure for the discharge check."
        )
    change = bp_change_pct(current, baseline)
    score = circulation_score(current, baseline, criteria.bp_within_pct_of_baseline)
    assert current.systolic_mmhg is not None and current.diastolic_mmhg is not None
    assert baseline.systolic_mmhg is not None and baseline.diastolic_mmhg is not None
    detail = (
        f"Blood pressure {format_bp(current.systolic_mmhg, current.diastolic_mmhg)} is "
        f"{_pct(change)} from baseline {format_bp(baseline.systolic_mmhg, baseline.diastolic_mmhg)}"
        f" (full score within {criteria.bp_within_pct_of_baseline:g} %)."
    )
    return AldreteItem("circulation", name, score, detail)


def _spo2_item(current: Reading, on_room_air: bool, criteria: DischargeCriteria) -> AldreteItem:
    name = _ITEM_NAMES["spo2"]
    if current.spo2_pct is None:
        return AldreteItem("spo2", name, None, "Take an SpO2 for the discharge check.")
    score = spo2_score(current.spo2_pct, on_room_air, criteria.spo2_min_pct)
    air = "on room air" if on_room_air else "on oxygen"
    detail = (
        f"SpO2 {current.spo2_pct} % {air} (full score above {criteria.spo2_min_pct:g} % "
        "on room air)."
    )
    return AldreteItem("spo2", name, score, detail)


@dataclass(frozen=True)
class DischargeProblem:
    """One reason the client is not ready to leave yet."""

    key: str  # "aldrete", "aldrete.<item>", "checklist.<item key>" or "minimum-time"
    message: str


@dataclass(frozen=True)
class DischargeEvaluation:
    """Whether a participant may be discharged now, and what stands in the way."""

    aldrete: AldreteScore
    problems: tuple[DischargeProblem, ...]
    evaluated_at: datetime
    first_dose_at: datetime | None
    earliest_discharge_at: datetime | None  # the later of the two minimums; None: none applies
    last_dose_at: datetime | None = None  # the last dose or booster (an infusion's end)

    @property
    def ready(self) -> bool:
        """Everything passes: Aldrete, checklist and the minimum time."""
        return not self.problems

    @property
    def clinically_ready(self) -> bool:
        """Everything passes except, perhaps, the minimum monitoring time.

        The SPRAVATO REMS form asks when the client would have been ready "if there was not a
        2-hour minimum monitoring requirement": this is that readiness.
        """
        return all(problem.key in _TIME_KEYS for problem in self.problems)

    @property
    def ready_minutes_after_first_dose(self) -> int | None:
        """For the REMS form: whole minutes from the first dose, when clinically ready now."""
        if not self.clinically_ready or self.first_dose_at is None:
            return None
        return ready_minutes_after_first_dose(self.evaluated_at, self.first_dose_at)


def earliest_discharge_at(first_dose_at: datetime, criteria: DischargeCriteria) -> datetime:
    """The first moment the minimum monitoring time allows discharge (inclusive)."""
    first = _aware("first_dose_at", first_dose_at)
    return first + timedelta(minutes=criteria.min_minutes_after_first_dose)


def earliest_after_last_dose_at(last_dose_at: datetime, criteria: DischargeCriteria) -> datetime:
    """The first moment the minimum time after the last dose or booster allows discharge."""
    last = _aware("last_dose_at", last_dose_at)
    return last + timedelta(minutes=criteria.min_minutes_after_last_dose)


def ready_minutes_after_first_dose(ready_at: datetime, first_dose_at: datetime) -> int:
    """Whole minutes from the first dose to `ready_at`, counted as the session clock shows
    them: completed minutes (90 min 40 s is 90). The REMS form asks "ready to leave at N
    minutes from start of administration".
    """
    elapsed = _aware("ready_at", ready_at) - _aware("first_dose_at", first_dose_at)
    if elapsed < timedelta(0):
        raise ValueError("ready_at is before the first dose")
    return math.floor(elapsed / timedelta(minutes=1))


def _minutes_text(delta: timedelta) -> str:
    minutes = math.ceil(delta / timedelta(minutes=1))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def evaluate_discharge(
    *,
    criteria: DischargeCriteria,
    current: Reading,
    baseline: Reading | None,
    observation: AldreteObservation,
    checklist_answers: Mapping[str, bool | None],
    first_dose_at: datetime | None,
    now: datetime,
    last_dose_at: datetime | None = None,
    infusion_running: bool = False,
) -> DischargeEvaluation:
    """Check everything the protocol asks before the client may leave, naming each failure.

    `checklist_answers` maps the protocol's checklist keys to yes (True), no (False) or not
    answered (None or absent). With no dose given, the minimum times do not apply. The time
    after the last dose counts from `last_dose_at` (a booster, the end of an infusion), and from
    the first dose when no later one is given; `infusion_running`: the drug still goes in.
    """
    now = _aware("now", now)
    unknown = sorted(set(checklist_answers) - {item.key for item in criteria.checklist})
    if unknown:
        raise ValueError(f"checklist answers for items the protocol does not have: {unknown}")
    score = aldrete_score(current, baseline, observation, criteria)
    problems: list[DischargeProblem] = [
        DischargeProblem(f"{ALDRETE_KEY}.{item.key}", item.detail)
        for item in score.items
        if item.score is None
    ]
    if score.complete and not score.passes(criteria.aldrete_pass_min):
        below = "; ".join(
            f"{item.name} {item.score} — {item.detail.rstrip('.')}"
            for item in score.items
            if item.score is not None and item.score < ALDRETE_ITEM_MAX
        )
        problems.append(
            DischargeProblem(
                ALDRETE_KEY,
                f"Modified Aldrete score is {score.total} of 10; {criteria.aldrete_pass_min} "
                f"or more is needed to leave. Below full score: {below}.",
            )
        )
    for item in criteria.checklist:
        answer = checklist_answers.get(item.key)
        if answer is None:
            message = f"Not answered yet: {item.label}."
        elif not answer:
            message = f"Not yet: {item.label}."
        else:
            continue
        problems.append(DischargeProblem(CHECKLIST_KEY_PREFIX + item.key, message))
    if first_dose_at is None:
        return DischargeEvaluation(score, tuple(problems), now, None, None)
    first_dose_at = _aware("first_dose_at", first_dose_at)
    last = first_dose_at
    if last_dose_at is not None:
        last = max(_aware("last_dose_at", last_dose_at), first_dose_at)
    earliest: datetime | None = None
    if infusion_running:
        problems.append(
            DischargeProblem(
                INFUSION_RUNNING_KEY,
                "The infusion is still running or paused; stop it (I) before discharge. The "
                f"{criteria.min_minutes_after_last_dose:g} minutes of observation count from "
                "its end.",
            )
        )
    if criteria.min_minutes_after_first_dose > 0:
        earliest = earliest_discharge_at(first_dose_at, criteria)
        if now < earliest:
            problems.append(
                DischargeProblem(
                    MINIMUM_TIME_KEY,
                    f"Monitoring must last at least {criteria.min_minutes_after_first_dose:g} "
                    f"minutes from the first dose; discharge is possible in "
                    f"{_minutes_text(earliest - now)}.",
                )
            )
    if criteria.min_minutes_after_last_dose > 0:
        after_last = earliest_after_last_dose_at(last, criteria)
        earliest = after_last if earliest is None else max(earliest, after_last)
        if now < after_last and not infusion_running:
            what = "first dose" if last == first_dose_at else "last dose"
            problems.append(
                DischargeProblem(
                    MINIMUM_TIME_LAST_DOSE_KEY,
                    f"Observe at least {criteria.min_minutes_after_last_dose:g} minutes after "
                    f"the final dose (the {what}, at {_hm(last)}); discharge is possible in "
                    f"{_minutes_text(after_last - now)}.",
                )
            )
    return DischargeEvaluation(score, tuple(problems), now, first_dose_at, earliest, last)


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


# What only the prescriber may override (clinical-sources §4): the minimum monitoring times, an
# infusion still running, and sedation or dissociation not confirmed resolved. The rest of the
# check (the Aldrete score, the other checklist items) the monitoring clinician may override.
PRESCRIBER_CHECKLIST_KEYS = frozenset({"sedation-resolved", "dissociation-resolved"})
_PRESCRIBER_KEYS = (
    _TIME_KEYS
    | {INFUSION_RUNNING_KEY}
    | {CHECKLIST_KEY_PREFIX + key for key in PRESCRIBER_CHECKLIST_KEYS}
)


def needs_prescriber(evaluation: DischargeEvaluation) -> tuple[DischargeProblem, ...]:
    """The failing items only the prescriber's override lets the client leave with."""
    return tuple(p for p in evaluation.problems if p.key in _PRESCRIBER_KEYS)


@dataclass(frozen=True)
class TimeShortfall:
    """A minimum monitoring time not waited: the rule, its minimum, what it counts from and
    when, and the whole minutes actually waited."""

    rule: str  # MINIMUM_TIME_KEY or MINIMUM_TIME_LAST_DOSE_KEY
    minimum_min: float
    counted_from: str  # "the first dose" | "the last dose"
    anchor_at: datetime
    waited_min: int

    def text(self) -> str:
        return (
            f"{self.waited_min} min after {self.counted_from} ({_hm(self.anchor_at)}); the "
            f"protocol's minimum is {self.minimum_min:g} min"
        )


def time_shortfalls(
    evaluation: DischargeEvaluation, criteria: DischargeCriteria
) -> tuple[TimeShortfall, ...]:
    """Each minimum time the discharge comes before, with the time actually waited."""
    first, now = evaluation.first_dose_at, evaluation.evaluated_at
    if first is None:
        return ()
    last = evaluation.last_dose_at or first
    found: list[TimeShortfall] = []
    keys = {p.key for p in evaluation.problems}
    for rule, minimum, what, anchor in (
        (MINIMUM_TIME_KEY, criteria.min_minutes_after_first_dose, "the first dose", first),
        (MINIMUM_TIME_LAST_DOSE_KEY, criteria.min_minutes_after_last_dose, "the last dose", last),
    ):
        if rule in keys:
            waited = math.floor(max(now - anchor, timedelta(0)) / timedelta(minutes=1))
            found.append(TimeShortfall(rule, minimum, what, anchor, waited))
    return tuple(found)


class DischargeOverrideInvalid(ValueError):
    """An override that cannot be recorded, naming the field to fill in."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class DischargeOverride:
    """The decision to let the client leave although the check does not pass: why, and who."""

    reason: str
    staff: str  # who decided, by name (the prescriber's, for a prescriber's override)
    prescriber_id: uuid.UUID | None = None  # a prescriber decided, their PIN checked

    def __post_init__(self) -> None:
        reason = self.reason.strip() if isinstance(self.reason, str) else ""
        staff = self.staff.strip() if isinstance(self.staff, str) else ""
        if not reason:
            raise DischargeOverrideInvalid(
                "reason",
                "Write the reason for discharging although the check does not pass; it goes "
                "into the record.",
            )
        if not staff:
            raise DischargeOverrideInvalid(
                "staff", "Name the clinician who decided to discharge despite the check."
            )
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "staff", staff)


def may_discharge(evaluation: DischargeEvaluation, override: DischargeOverride | None) -> bool:
    """Whether discharge may be recorded: the check passes, or an override says why not; the
    prescriber's override where an item only the prescriber may override fails."""
    if evaluation.ready:
        return True
    if override is None:
        return False
    return override.prescriber_id is not None or not needs_prescriber(evaluation)
