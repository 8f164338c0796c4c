"""A dose that lasts: the sublingual hold (held, then spat out or swallowed) and the IV infusion
(started with the dose, paused, resumed, stopped).

Pure rules over times. A sublingual dose is held for the protocol's `hold_min` (about 7–15
minutes, clinical-sources §2: "saliva held, then spat"), then the client spits or swallows,
recorded with its time. An IV dose is an infusion (0.5 mg/kg over 40 minutes is the standard,
clinical-sources §2): it runs from the dose until it is stopped; pauses do not count as running
time. The last dose of a session ends when its infusion stops: the observation after the final
dose counts from there (`discharge.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class HoldOutcome(StrEnum):
    """What happened to the dissolved sublingual dose at the end of the hold."""

    SPIT = "spit"
    SWALLOW = "swallow"


HOLD_OUTCOME_WORDS = {HoldOutcome.SPIT: "Spat out", HoldOutcome.SWALLOW: "Swallowed"}


class InfusionAction(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


class InfusionStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class DosePeriodInvalid(ValueError):
    """An action the dose's period does not allow now, with a message a nurse can act on."""


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} ({value.isoformat()}) must be timezone-aware UTC")
    return value.astimezone(UTC)


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


def minutes_text(seconds: float) -> str:
    """Whole minutes, rounded: "40 min"."""
    return f"{round(seconds / 60)} min"


@dataclass(frozen=True)
class Hold:
    """A sublingual dose being held: due to be spat out or swallowed at `due_at`."""

    dose_at: datetime
    hold_min: float
    outcome: HoldOutcome | None = None
    outcome_at: datetime | None = None

    @property
    def due_at(self) -> datetime:
        return _aware("dose_at", self.dose_at) + timedelta(minutes=self.hold_min)

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def left_s(self, now: datetime) -> float:
        """Seconds of hold left at `now`; negative once the hold time is over."""
        return (self.due_at - _aware("now", now)).total_seconds()

    def describe(self) -> str:
        """For the record: "Held 10 min, spat out at 14:12" (or "hold not ended")."""
        if self.outcome is None or self.outcome_at is None:
            return f"Held sublingually from {_hm(self.dose_at)}; end of hold not recorded"
        held = (self.outcome_at - self.dose_at).total_seconds()
        what = HOLD_OUTCOME_WORDS[self.outcome].lower()
        return (
            f"Held sublingually {minutes_text(held)} (hold {self.hold_min:g} min), {what} at "
            f"{_hm(self.outcome_at)}"
        )


def check_hold_outcome(hold: Hold | None, at: datetime) -> None:
    """Whether spit or swallow may be recorded at `at` for this hold; raises with the reason."""
    if hold is None:
        raise DosePeriodInvalid(
            "No sublingual dose is being held: record the dose first (D), then H when the "
            "client spits or swallows."
        )
    if hold.outcome is not None and hold.outcome_at is not None:
        word = HOLD_OUTCOME_WORDS[hold.outcome].lower()
        raise DosePeriodInvalid(
            f"The hold of the dose at {_hm(hold.dose_at)} already ended: {word} at "
            f"{_hm(hold.outcome_at)}. To change that, correct that entry."
        )
    if _aware("at", at) < _aware("dose_at", hold.dose_at):
        raise DosePeriodInvalid(
            f"The end of the hold cannot be before the dose ({_hm(hold.dose_at)})."
        )


@dataclass(frozen=True)
class Infusion:
    """An IV infusion: started with its dose, then each pause, resume and stop in time order."""

    started_at: datetime
    dose_mg: float | None
    actions: tuple[tuple[datetime, InfusionAction], ...] = ()
    total_mg: float | None = None  # the amount given, as recorded at the stop

    @property
    def status(self) -> InfusionStatus:
        if not self.actions:
            return InfusionStatus.RUNNING
        last = self.actions[-1][1]
        if last is InfusionAction.STOP:
            return InfusionStatus.STOPPED
        return InfusionStatus.PAUSED if last is InfusionAction.PAUSE else InfusionStatus.RUNNING

    @property
    def stopped_at(self) -> datetime | None:
        if self.actions and self.actions[-1][1] is InfusionAction.STOP:
            return self.actions[-1][0]
        return None

    @property
    def next_actions(self) -> tuple[InfusionAction, ...]:
        status = self.status
        if status is InfusionStatus.RUNNING:
            return (InfusionAction.PAUSE, InfusionAction.STOP)
        if status is InfusionStatus.PAUSED:
            return (InfusionAction.RESUME, InfusionAction.STOP)
        return ()

    def pauses(self, now: datetime | None = None) -> tuple[tuple[datetime, datetime | None], ...]:
        """Each pause as (from, to); `to` is None for one still going on (up to `now`)."""
        spans: list[tuple[datetime, datetime | None]] = []
        paused_at: datetime | None = None
        for at, action in self.actions:
            if action is InfusionAction.PAUSE:
                paused_at = at
            elif paused_at is not None:  # a resume or the stop ends the pause
                spans.append((paused_at, at))
                paused_at = None
        if paused_at is not None:
            spans.append((paused_at, None))
        return tuple(spans)

    def paused_s(self, now: datetime) -> float:
        now = _aware("now", now)
        return sum(((end or now) - begin).total_seconds() for begin, end in self.pauses())

    def elapsed_s(self, now: datetime) -> float:
        """From the start to the stop (or `now`), pauses included."""
        end = self.stopped_at or _aware("now", now)
        return (end - self.started_at).total_seconds()

    def running_s(self, now: datetime) -> float:
        """Time the drug was going in: from the start to the stop (or now), less the pauses."""
        return self.elapsed_s(now) - self.paused_s(now)

    @property
    def given_mg(self) -> float | None:
        """The total given: as recorded at the stop, else the dose as entered."""
        return self.total_mg if self.total_mg is not None else self.dose_mg

    def rate_mg_per_h(self) -> float | None:
        """The mean rate over the running time, once stopped."""
        stopped = self.stopped_at
        given = self.given_mg
        if stopped is None or given is None:
            return None
        running = self.running_s(stopped)
        return None if running <= 0 else given * 3600 / running

    def describe(self, now: datetime | None = None) -> str:
        """For the record: "IV infusion 14:02–14:42 (40 min, paused 3 min), total 70 mg"."""
        stopped = self.stopped_at
        until = "running" if stopped is None else _hm(stopped)
        at = stopped or now or self.started_at
        running = self.running_s(at)
        paused = self.paused_s(at)
        parts = [minutes_text(running) + (" so far" if stopped is None else "")]
        if paused > 0:
            parts.append(f"paused {minutes_text(paused)}")
        text = f"IV infusion {_hm(self.started_at)}–{until} ({', '.join(parts)})"
        given = self.given_mg
        if given is not None:
            text += f", total {given:g} mg" if stopped is not None else f", dose {given:g} mg"
        rate = self.rate_mg_per_h()
        if rate is not None:
            text += f" (mean {rate:.3g} mg/h)"
        return text


def infusion_from(
    started_at: datetime,
    dose_mg: float | None,
    actions: Iterable[tuple[datetime, InfusionAction, float | None]],
) -> Infusion:
    """The infusion from its dose and its recorded actions (time, action, total at a stop), in
    time order; actions that do not follow (a second stop) are left out."""
    started_at = _aware("started_at", started_at)
    kept: list[tuple[datetime, InfusionAction]] = []
    total: float | None = None
    infusion = Infusion(started_at, dose_mg)
    for at, action, total_mg in sorted(actions, key=lambda a: a[0]):
        if action not in infusion.next_actions:
            continue
        kept.append((_aware("at", at), action))
        if action is InfusionAction.STOP:
            total = total_mg
        infusion = Infusion(started_at, dose_mg, tuple(kept), total)
    return infusion


_PAST = {
    InfusionAction.PAUSE: "paused",
    InfusionAction.RESUME: "resumed",
    InfusionAction.STOP: "stopped",
}
INFUSION_ACTION_WORDS = {
    InfusionAction.PAUSE: "Infusion paused",
    InfusionAction.RESUME: "Infusion resumed",
    InfusionAction.STOP: "Infusion stopped",
}


def check_infusion_action(
    infusion: Infusion | None, action: InfusionAction, at: datetime, total_mg: float | None
) -> None:
    """Whether `action` may be recorded at `at`; raises with what to do instead."""
    if infusion is None:
        raise DosePeriodInvalid(
            "No infusion is running: start it with the dose (D); I then pauses, resumes or "
            "stops it."
        )
    if action not in infusion.next_actions:
        status = infusion.status
        if status is InfusionStatus.STOPPED:
            assert infusion.stopped_at is not None
            raise DosePeriodInvalid(
                f"The infusion already stopped at {_hm(infusion.stopped_at)}. To change that, "
                "correct that entry."
            )
        can = " or ".join(_PAST[a] for a in infusion.next_actions)
        raise DosePeriodInvalid(f"The infusion is {status.value}: it can be {can} now.")
    last = infusion.actions[-1][0] if infusion.actions else infusion.started_at
    if _aware("at", at) < last:
        raise DosePeriodInvalid(
            f"That time is before the infusion's last entry ({_hm(last)}); use a later time."
        )
    if total_mg is not None and not 0 < total_mg <= 10_000:
        raise DosePeriodInvalid(f"The total given must be more than 0 mg, not {total_mg:g} mg.")
