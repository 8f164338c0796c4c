"""The session clock: phase windows and check-in states at one moment, from stored anchors.

Nothing here ticks or accumulates. `compute_timeline` derives everything from the session's
start, its first dose and `now`, and `ClockReference` turns the monotonic clock into a trusted
wall time, so a restart, a suspend or a wall-clock jump gives the same answer as running on.

Rules:
- Before the first dose, T0 is projected at `max(planned, now)`, where `planned` is
  `start + planned_dose_after_start_min`, or the participant's own planned dose time when the
  doses of a group are staggered (`planned_dose_at`).
  A point at or after T0 (`dose+m`, m >= 0) waits for the dose: the pre-dose phase holds and
  check-ins after the dose stay upcoming. A point before T0 (`dose-m`) is reached against the
  projected T0, so a protocol written relative to the dose still moves through its pre-dose part.
- A phase lasts from its `begins` until the next phase begins; the last one ends at its `ends`,
  the planned end. A phase that an early dose skips gets an empty window, so windows always tile.
- A check-in's slot takes readings in a window around its due time: from `slot_window_min`
  (the protocol's, or the check-in's own) before it until that long after it, but never closing
  before the slot has been overdue for one more grace period (a slot due at T+15 with a grace of
  5 minutes is open from T+10 to T+25). A slot due before the first dose closes when the dose is
  given (a reading after the dose is no baseline); a slot that waits for the dose has no window
  yet. A reading outside every open window is unscheduled and uses up no slot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kapsession.domain.clock import Clock
from kapsession.domain.protocol import Anchor, CheckinSpec, Offset, PhaseSpec, Protocol


def _utc(name: str, value: datetime) -> datetime:
    """Reject naive datetimes (their meaning depends on the machine) and normalise to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} ({value.isoformat()}) has no time zone; session times must be "
            "timezone-aware UTC, e.g. datetime.now(UTC). This is a program error: please report it."
        )
    return value.astimezone(UTC)


@dataclass(frozen=True)
class ClockReference:
    """A wall time paired with the monotonic reading taken at the same moment."""

    wall: datetime
    mono: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "wall", _utc("ClockReference.wall", self.wall))

    @classmethod
    def capture(cls, clock: Clock) -> ClockReference:
        return cls(wall=clock.now(), mono=clock.monotonic())

    def now(self, clock: Clock) -> datetime:
        """Session-trusted wall time: the captured wall time plus monotonic time since.

        A wall-clock jump after capture does not move it; a suspend does (SystemClock's
        monotonic counts suspended time on Linux); a restart captures a new reference.
        """
        return self.wall + timedelta(seconds=clock.monotonic() - self.mono)

    def drift_s(self, clock: Clock) -> float:
        """How far the wall clock has moved away from session time, to log wall-clock jumps."""
        return (clock.now() - self.now(clock)).total_seconds()


class CheckinStatus(StrEnum):
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"


_URGENCY = {CheckinStatus.OVERDUE: 0, CheckinStatus.DUE: 1, CheckinStatus.UPCOMING: 2}


@dataclass(frozen=True)
class PhaseWindow:
    """When a phase runs in this session; `projected` when a bound waits on the first dose."""

    spec: PhaseSpec
    begins_at: datetime
    ends_at: datetime
    projected: bool


@dataclass(frozen=True)
class CheckinState:
    """One scheduled check-in: due from `due_at`, overdue from `overdue_at`; its slot takes a
    reading from `opens_at` until `closes_at` (None: it waits for the dose, no window yet)."""

    spec: CheckinSpec
    due_at: datetime
    overdue_at: datetime
    status: CheckinStatus
    projected: bool
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    window_open: bool = False  # at the timeline's `now`

    def takes(self, when: datetime) -> bool:
        """Whether a reading taken at `when` falls in this slot's window."""
        if self.opens_at is None or self.closes_at is None:
            return False
        return self.opens_at <= when < self.closes_at


@dataclass(frozen=True)
class TimelineState:
    """Everything the session clock shows at `now` (clamped to the session's start and end)."""

    now: datetime
    started_at: datetime
    elapsed_s: float
    first_dose_at: datetime | None
    since_dose_s: float | None
    dose_anchor_at: datetime  # the actual T0, or the projected one before the dose
    dose_projected: bool
    phases: tuple[PhaseWindow, ...]
    phase_index: int | None
    time_in_phase_s: float | None
    time_left_in_phase_s: float | None
    checkins: tuple[CheckinState, ...]
    planned_end_at: datetime
    ended_at: datetime | None
    past_planned_end: bool

    @property
    def current_phase(self) -> PhaseWindow | None:
        return None if self.phase_index is None else self.phases[self.phase_index]

    def next_checkins(self, limit: int = 3) -> tuple[CheckinState, ...]:
        """Check-ins not yet done: overdue first, then due, then upcoming, each by due time."""
        pending = [c for c in self.checkins if c.status is not CheckinStatus.DONE]
        pending.sort(key=lambda c: (_URGENCY[c.status], c.due_at))
        return tuple(pending[: max(limit, 0)])

    def open_slot(self) -> CheckinState | None:
        """The slot a reading taken now counts for (see `slot_at`); None: unscheduled."""
        return slot_at(self.checkins, self.now)

    def phase_at(self, when: datetime) -> PhaseWindow | None:
        """The phase window holding at `when` in this state's plan; None outside the phases.

        At `now` this is the current phase: before the dose the pre-dose phase holds even when
        the projected dose time has reached `now`.
        """
        when = _utc("when", when)
        if when == self.now:
            return self.current_phase
        for window in self.phases:
            if window.begins_at <= when < window.ends_at:
                return window
        return None


def slot_at(checkins: Iterable[CheckinState], when: datetime) -> CheckinState | None:
    """The slot a reading taken at `when` counts for: of the check-ins not done whose window
    holds `when`, the most urgent at that time (overdue, then due, then upcoming; each by due
    time). None: the reading is unscheduled."""
    when = _utc("when", when)

    def urgency(checkin: CheckinState) -> tuple[int, datetime]:
        if when >= checkin.overdue_at:
            return 0, checkin.due_at
        return (1 if when >= checkin.due_at else 2), checkin.due_at

    taking = [c for c in checkins if c.status is not CheckinStatus.DONE and c.takes(when)]
    return min(taking, key=urgency, default=None)


@dataclass(frozen=True)
class _Anchors:
    """The two points offsets count from, as they stand at one moment."""

    started_at: datetime
    dose_at: datetime  # actual or projected T0
    dosed: bool

    def at(self, offset: Offset) -> datetime:
        base = self.started_at if offset.anchor is Anchor.START else self.dose_at
        return base + timedelta(minutes=offset.minutes)

    def waits_for_dose(self, offset: Offset) -> bool:
        """Before the dose, a point at or after T0 is not reached, whatever its projection."""
        return not self.dosed and offset.anchor is Anchor.DOSE and offset.minutes >= 0

    def reached(self, offset: Offset, when: datetime) -> bool:
        return not self.waits_for_dose(offset) and self.at(offset) <= when


def _planned_dose_at(
    protocol: Protocol, started_at: datetime, planned_dose_at: datetime | None = None
) -> datetime:
    """The protocol's planned dose time, or the participant's own when doses are staggered."""
    if planned_dose_at is not None:
        return planned_dose_at
    return started_at + timedelta(minutes=protocol.dosing.planned_dose_after_start_min)


def _anchors(
    protocol: Protocol,
    started_at: datetime,
    dose_at: datetime | None,
    now: datetime,
    planned_dose_at: datetime | None = None,
) -> _Anchors:
    if dose_at is not None:
        return _Anchors(started_at=started_at, dose_at=dose_at, dosed=True)
    projected = max(_planned_dose_at(protocol, started_at, planned_dose_at), now)
    return _Anchors(started_at=started_at, dose_at=projected, dosed=False)


def _history_anchors(
    protocol: Protocol,
    started_at: datetime,
    dose_at: datetime | None,
    when: datetime,
    planned_dose_at: datetime | None = None,
) -> _Anchors:
    """The anchors as they stood at `when`: the dose counts only from the moment it was given."""
    given = dose_at if dose_at is not None and dose_at <= when else None
    return _anchors(protocol, started_at, given, when, planned_dose_at)


def _boundaries(protocol: Protocol) -> tuple[Offset, ...]:
    """Each phase's begin, then the end of the last phase."""
    if not protocol.phases:
        return ()
    return (*(phase.begins for phase in protocol.phases), protocol.phases[-1].ends)


def _phase_index(protocol: Protocol, anchors: _Anchors, when: datetime) -> int | None:
    """The last phase whose begin is reached, unless the planned end is reached too."""
    if not protocol.phases or anchors.reached(protocol.phases[-1].ends, when):
        return None
    index: int | None = None
    for i, phase in enumerate(protocol.phases):
        if anchors.reached(phase.begins, when):
            index = i
    return index


def _phase_windows(protocol: Protocol, anchors: _Anchors) -> tuple[PhaseWindow, ...]:
    # A phase runs until the earliest later boundary, so an early dose leaves the phases it
    # skips empty and the windows tile: walk back keeping the earliest boundary seen so far.
    offsets = _boundaries(protocol)
    if not offsets:
        return ()
    earliest = [offsets[-1]]
    for offset in reversed(offsets[:-1]):
        later = earliest[-1]
        earliest.append(offset if anchors.at(offset) <= anchors.at(later) else later)
    earliest.reverse()
    windows = []
    for i, phase in enumerate(protocol.phases):
        begins, ends = earliest[i], earliest[i + 1]
        windows.append(
            PhaseWindow(
                spec=phase,
                begins_at=anchors.at(begins),
                ends_at=anchors.at(ends),
                projected=not anchors.dosed and Anchor.DOSE in (begins.anchor, ends.anchor),
            )
        )
    return tuple(windows)


def _slot_window(
    spec: CheckinSpec, anchors: _Anchors, due_at: datetime, overdue_at: datetime, window_min: float
) -> tuple[datetime | None, datetime | None]:
    """When the slot takes readings (see the module's rules); (None, None) while it waits for
    the dose."""
    if anchors.waits_for_dose(spec.at):
        return None, None
    window = timedelta(minutes=window_min)
    opens_at = due_at - window
    closes_at = max(due_at + window, overdue_at + timedelta(minutes=spec.grace_min))
    if anchors.dosed and due_at < anchors.dose_at:
        closes_at = max(opens_at, min(closes_at, anchors.dose_at))
    return opens_at, closes_at


def _checkin_state(
    spec: CheckinSpec, anchors: _Anchors, now: datetime, done: Collection[str], window_min: float
) -> CheckinState:
    due_at = anchors.at(spec.at)
    overdue_at = due_at + timedelta(minutes=spec.grace_min)
    opens_at, closes_at = _slot_window(spec, anchors, due_at, overdue_at, window_min)
    if spec.key in done:
        status = CheckinStatus.DONE
    elif anchors.waits_for_dose(spec.at) or now < due_at:
        status = CheckinStatus.UPCOMING
    elif now < overdue_at:
        status = CheckinStatus.DUE
    else:
        status = CheckinStatus.OVERDUE
    return CheckinState(
        spec=spec,
        due_at=due_at,
        overdue_at=overdue_at,
        status=status,
        projected=not anchors.dosed and spec.at.anchor is Anchor.DOSE,
        opens_at=opens_at,
        closes_at=closes_at,
        window_open=opens_at is not None and closes_at is not None and opens_at <= now < closes_at,
    )


def compute_timeline(
    protocol: Protocol,
    *,
    started_at: datetime,
    now: datetime,
    first_dose_at: datetime | None,
    done_checkins: Collection[str] = (),
    ended_at: datetime | None = None,
    planned_dose_at: datetime | None = None,
) -> TimelineState:
    """The session clock at `now`: phases, current phase and check-in states.

    `now` is clamped to the session: never before `started_at`, and frozen at `ended_at` once
    the session has ended. `planned_dose_at` replaces the protocol's planned dose time for this
    participant (staggered dosing); it only matters until the first dose is given.
    """
    started_at = _utc("started_at", started_at)
    now = _utc("now", now)
    dose_at = None if first_dose_at is None else _utc("first_dose_at", first_dose_at)
    ended = None if ended_at is None else _utc("ended_at", ended_at)
    planned = None if planned_dose_at is None else _utc("planned_dose_at", planned_dose_at)
    if ended is not None:
        now = min(now, ended)
    now = max(now, started_at)

    anchors = _anchors(protocol, started_at, dose_at, now, planned)
    phases = _phase_windows(protocol, anchors)
    phase_index = _phase_index(protocol, anchors, now)
    current = None if phase_index is None else phases[phase_index]
    planned_end_at = phases[-1].ends_at if phases else anchors.dose_at
    return TimelineState(
        now=now,
        started_at=started_at,
        elapsed_s=(now - started_at).total_seconds(),
        first_dose_at=dose_at,
        # a dose recorded a moment ahead of `now` counts as given, but not as time in the past
        since_dose_s=None if dose_at is None else max((now - dose_at).total_seconds(), 0.0),
        dose_anchor_at=anchors.dose_at,
        dose_projected=not anchors.dosed,
        phases=phases,
        phase_index=phase_index,
        time_in_phase_s=None if current is None else (now - current.begins_at).total_seconds(),
        time_left_in_phase_s=None if current is None else (current.ends_at - now).total_seconds(),
        checkins=tuple(
            _checkin_state(c, anchors, now, done_checkins, protocol.slot_window(c))
            for c in protocol.checkins
        ),
        planned_end_at=planned_end_at,
        ended_at=ended,
        past_planned_end=now >= planned_end_at,
    )


def phase_changes_between(
    protocol: Protocol,
    *,
    started_at: datetime,
    first_dose_at: datetime | None,
    after: datetime,
    upto: datetime,
    planned_dose_at: datetime | None = None,
) -> list[tuple[datetime, PhaseSpec]]:
    """Phases entered in (after, upto], with the moment each began, in order.

    Uses the actual dose time, so the changes missed while the app was not running can be
    recorded on restart. Before the dose, boundaries at or after the dose are not crossed (the
    pre-dose phase holds until the dose is given). A phase an early dose skips is not entered,
    and passing the planned end enters nothing. `planned_dose_at` is as for `compute_timeline`.
    """
    started_at = _utc("started_at", started_at)
    dose_at = None if first_dose_at is None else _utc("first_dose_at", first_dose_at)
    after = _utc("after", after)
    upto = _utc("upto", upto)
    planned = None if planned_dose_at is None else _utc("planned_dose_at", planned_dose_at)
    if upto <= after or not protocol.phases:
        return []

    # The phase only changes when a boundary is reached; collect every moment that can happen.
    projected_dose_at = _planned_dose_at(protocol, started_at, planned)
    candidates: set[datetime] = set() if dose_at is None else {dose_at}
    for offset in _boundaries(protocol):
        minutes = timedelta(minutes=offset.minutes)
        if offset.anchor is Anchor.START:
            candidates.add(started_at + minutes)
            continue
        if offset.minutes < 0:
            candidates.add(projected_dose_at + minutes)  # reached before the dose, as planned
        if dose_at is not None:
            candidates.add(dose_at + minutes)

    def index_at(when: datetime) -> int | None:
        anchors = _history_anchors(protocol, started_at, dose_at, when, planned)
        return _phase_index(protocol, anchors, when)

    changes: list[tuple[datetime, PhaseSpec]] = []
    previous = index_at(after)
    for when in sorted(c for c in candidates if after < c <= upto):
        index = index_at(when)
        if index != previous and index is not None:
            changes.append((when, protocol.phases[index]))
        previous = index
    return changes
