"""The session timeline: phases, check-ins and elapsed time from stored anchors and a fake clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kapsession.domain.clock import FakeClock
from kapsession.domain.protocol import (
    Anchor,
    CheckinSpec,
    DischargeCriteria,
    DosingSpec,
    HoldDoseRule,
    Medication,
    MusicSpec,
    Offset,
    PhaseSpec,
    Protocol,
    Route,
)
from kapsession.domain.timeline import (
    CheckinStatus,
    ClockReference,
    TimelineState,
    compute_timeline,
    phase_changes_between,
)

UPCOMING, DUE, OVERDUE, DONE = (
    CheckinStatus.UPCOMING,
    CheckinStatus.DUE,
    CheckinStatus.OVERDUE,
    CheckinStatus.DONE,
)
START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
PLANNED_DOSE_MIN = 40.0
DOSE = START + timedelta(minutes=PLANNED_DOSE_MIN)
PHASE_KEYS = ("arrival", "intention", "onset", "peak", "reentry", "integration", "discharge")
DOSE_CHECKIN_MIN = (15, 30, 40, 45, 60, 90, 120, 130)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def sublingual_protocol() -> Protocol:
    """The default sublingual template, built directly (no protocol file involved)."""

    def start(m: float) -> Offset:
        return Offset(Anchor.START, m)

    def dose(m: float) -> Offset:
        return Offset(Anchor.DOSE, m)

    phases = (
        PhaseSpec("arrival", "Arrival & settling", start(0), start(20)),
        PhaseSpec("intention", "Intention", start(20), dose(0)),
        PhaseSpec("onset", "Onset", dose(0), dose(25)),
        PhaseSpec("peak", "Peak", dose(25), dose(60)),
        PhaseSpec("reentry", "Re-entry", dose(60), dose(90)),
        PhaseSpec("integration", "Early integration", dose(90), dose(120)),
        PhaseSpec("discharge", "Discharge", dose(120), dose(140)),
    )
    checkins = (
        CheckinSpec("baseline", "Baseline", start(5), grace_min=15, measures=("bp", "hr")),
        *(
            CheckinSpec(f"t{m}", f"T+{m}", dose(m), grace_min=5, measures=("bp",), rems=m == 40)
            for m in DOSE_CHECKIN_MIN
        ),
    )
    return Protocol(
        key="sublingual-kap-3h",
        name="Sublingual KAP, three hours",
        version=1,
        description="test template",
        dosing=DosingSpec(
            medication=Medication.KETAMINE,
            route=Route.SUBLINGUAL,
            planned_dose_after_start_min=PLANNED_DOSE_MIN,
            hold_min=15,
        ),
        phases=phases,
        checkins=checkins,
        alerts=(),
        hold_dose=HoldDoseRule(160, 100, 140, 90),
        discharge=DischargeCriteria(9, 20, 94, 0, ()),
        music=MusicSpec(transition="track_end", crossfade_s=4),
    )


PROTOCOL = sublingual_protocol()


def dose_relative_protocol() -> Protocol:
    """The template as product.md writes it, counted back from T0: arrival dose-40 -> dose-20,
    intention dose-20 -> dose+0; with a pre-dose check at dose-10 and one at the dose itself."""
    arrival, intention, *after_dose = PROTOCOL.phases
    phases = (
        replace(arrival, begins=Offset(Anchor.DOSE, -40), ends=Offset(Anchor.DOSE, -20)),
        replace(intention, begins=Offset(Anchor.DOSE, -20)),
        *after_dose,
    )
    checkins = (
        CheckinSpec("predose", "Before the dose", Offset(Anchor.DOSE, -10), grace_min=5),
        CheckinSpec("t0", "At the dose", Offset(Anchor.DOSE, 0), grace_min=5),
        *PROTOCOL.checkins[1:],
    )
    return replace(PROTOCOL, phases=phases, checkins=checkins)


DOSE_RELATIVE = dose_relative_protocol()


def timeline(
    now: datetime,
    dose: datetime | None = None,
    done: frozenset[str] | set[str] = frozenset(),
    ended: datetime | None = None,
    protocol: Protocol = PROTOCOL,
) -> TimelineState:
    return compute_timeline(
        protocol,
        started_at=START,
        now=now,
        first_dose_at=dose,
        done_checkins=done,
        ended_at=ended,
    )


def given_by(dose: datetime | None, now: datetime) -> datetime | None:
    """The dose as the session knew it at `now`: only once it has been given."""
    return dose if dose is not None and dose <= now else None


def phase_key(state: TimelineState) -> str | None:
    phase = state.current_phase
    return None if phase is None else phase.spec.key


def changes(
    after: datetime, upto: datetime, dose: datetime | None, protocol: Protocol = PROTOCOL
) -> list[tuple[datetime, str]]:
    found = phase_changes_between(
        protocol, started_at=START, first_dose_at=dose, after=after, upto=upto
    )
    return [(when, spec.key) for when, spec in found]


# --- ClockReference: wall jumps, suspend, restart ---------------------------------------------


@pytest.mark.parametrize("jump_s", [-86400.0, -3600.0, -90.0, 30.0, 3600.0])
def test_wall_clock_jump_does_not_change_elapsed(jump_s: float) -> None:
    # Given a session 25 minutes in, timed through a captured clock reference
    clock = FakeClock(START)
    reference = ClockReference.capture(clock)
    clock.advance(25 * 60)
    before = timeline(reference.now(clock))

    # When the wall clock is set forward or back
    clock.jump_wall(jump_s)
    after = timeline(reference.now(clock))

    # Then session time and elapsed time are unchanged, and the drift shows the jump
    assert reference.now(clock) == START + minutes(25)
    assert after == before
    assert after.elapsed_s == 25 * 60
    assert phase_key(after) == "intention"
    assert reference.drift_s(clock) == jump_s


@pytest.mark.parametrize("suspend_min", [31, 45, 120])
def test_suspend_counts_as_elapsed_time(suspend_min: int) -> None:
    # Given a session 10 minutes in
    clock = FakeClock(START)
    reference = ClockReference.capture(clock)
    clock.advance(10 * 60)

    # When the laptop is suspended (the monotonic clock counts the suspended time)
    clock.advance(suspend_min * 60)

    # Then the suspended time is part of the session
    state = timeline(reference.now(clock))
    assert state.elapsed_s == (10 + suspend_min) * 60
    assert reference.drift_s(clock) == 0


@pytest.mark.parametrize(
    ("closed_at_min", "down_min"), [(5, 1), (30, 20), (50, 45), (100, 3), (150, 60)]
)
def test_restart_gives_the_same_timeline_as_continuous_running(
    closed_at_min: int, down_min: int
) -> None:
    # Given one app that never stops and one that closes and restarts, dose given as planned
    clock = FakeClock(START, monotonic_s=5000.0)
    continuous = ClockReference.capture(clock)
    clock.advance(closed_at_min * 60)
    clock.advance(down_min * 60)

    # When the restarted process captures a new reference on a clock with a new origin
    restarted_clock = FakeClock(clock.now(), monotonic_s=17.0)
    restarted = ClockReference.capture(restarted_clock)
    clock.advance(10 * 60)
    restarted_clock.advance(10 * 60)

    # Then both compute exactly the same timeline
    running_now = continuous.now(clock)
    restarted_now = restarted.now(restarted_clock)
    assert running_now == restarted_now
    assert timeline(running_now, given_by(DOSE, running_now)) == timeline(
        restarted_now, given_by(DOSE, restarted_now)
    )
    assert timeline(restarted_now).elapsed_s == (closed_at_min + down_min + 10) * 60


def test_clock_reference_refuses_a_naive_wall_time() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match=r"ClockReference\.wall .* no time zone"):
        ClockReference(wall=datetime(2026, 11, 26, 14, 0), mono=0.0)


# --- The whole session on a fake clock ---------------------------------------------------------

NURSE_SKIPS = "t45"


@pytest.mark.parametrize("step_s", [10.0, 60.0, 150.0])
def test_whole_session_runs_through_every_phase_and_checkin(step_s: float) -> None:
    # Given a new session on a fake clock; the dose is given as soon as it is planned, and the
    # nurse completes each check-in the moment it falls due, except T+45
    clock = FakeClock(START)
    reference = ClockReference.capture(clock)
    dose_at: datetime | None = None
    done: set[str] = set()
    last = reference.now(clock)
    phases_seen: list[str | None] = [phase_key(timeline(last))]
    recorded: list[tuple[datetime, str]] = []
    histories = {c.key: [UPCOMING] for c in PROTOCOL.checkins}

    # When the clock runs for three hours and ten minutes in steps
    for _ in range(int(190 * 60 / step_s)):
        clock.advance(step_s)
        now = reference.now(clock)
        if dose_at is None and now >= DOSE:
            dose_at = now
        recorded += changes(last, now, dose_at)
        last = now
        state = timeline(now, dose_at, done)
        if phase_key(state) != phases_seen[-1]:
            phases_seen.append(phase_key(state))
        for checkin in state.checkins:
            history = histories[checkin.spec.key]
            if checkin.status is not history[-1]:
                history.append(checkin.status)
            if checkin.status is DUE and checkin.spec.key != NURSE_SKIPS:
                done.add(checkin.spec.key)
            waits = dose_at is None and checkin.spec.at.anchor is Anchor.DOSE
            assert checkin.projected == waits

    # Then every phase came in order, the recorded changes fell on the boundaries,
    # and each check-in went upcoming -> due -> done (or overdue when skipped)
    assert dose_at == DOSE
    assert phases_seen == [*PHASE_KEYS, None]
    assert recorded == [
        (START + minutes(20), "intention"),
        (DOSE, "onset"),
        (DOSE + minutes(25), "peak"),
        (DOSE + minutes(60), "reentry"),
        (DOSE + minutes(90), "integration"),
        (DOSE + minutes(120), "discharge"),
    ]
    for key, history in histories.items():
        assert history == (
            [UPCOMING, DUE, OVERDUE] if key == NURSE_SKIPS else [UPCOMING, DUE, DONE]
        )
    final = timeline(reference.now(clock), dose_at, done)
    assert final.elapsed_s == 190 * 60
    assert final.since_dose_s == 150 * 60
    assert final.past_planned_end
    assert final.planned_end_at == DOSE + minutes(140)


# --- The dose: late, early, and check-ins waiting for it --------------------------------------


@pytest.mark.parametrize("late_min", [0.0, 0.5, 5.0, 30.0, 90.0])
def test_late_dose_stretches_intention(late_min: float) -> None:
    # Given no dose yet, `late_min` past the planned dose time
    waiting = DOSE + minutes(late_min)

    # When the timeline is computed
    state = timeline(waiting)

    # Then intention holds until now, T0 is projected at now, and the rest shifts with it
    assert phase_key(state) == "intention"
    assert state.phase_at(waiting) == state.current_phase
    assert state.dose_projected
    assert state.dose_anchor_at == waiting
    assert state.current_phase is not None
    assert state.current_phase.begins_at == START + minutes(20)
    assert state.current_phase.ends_at == waiting
    assert state.current_phase.projected
    assert state.time_left_in_phase_s == 0
    assert state.phases[2].begins_at == waiting
    assert state.planned_end_at == waiting + minutes(140)
    assert state.first_dose_at is None
    assert state.since_dose_s is None

    # And when the dose is given then, a minute later the session is in onset, no longer projected
    dosed = timeline(waiting + minutes(1), dose=waiting)
    assert phase_key(dosed) == "onset"
    assert not dosed.dose_projected
    assert dosed.since_dose_s == 60
    assert (dosed.phases[1].begins_at, dosed.phases[1].ends_at) == (START + minutes(20), waiting)
    assert not any(window.projected for window in dosed.phases)


def test_before_the_planned_time_the_dose_is_projected_as_planned() -> None:
    # Given no dose, 30 minutes in
    state = timeline(START + minutes(30))

    # Then T0 is the planned time and intention has ten minutes left
    assert state.dose_anchor_at == DOSE
    assert phase_key(state) == "intention"
    assert state.time_in_phase_s == 10 * 60
    assert state.time_left_in_phase_s == 10 * 60
    assert [w.projected for w in state.phases] == [False, *[True] * 6]
    assert state.phase_at(DOSE + minutes(30)) == state.phases[3]  # the projected peak


@pytest.mark.parametrize(
    ("dose_min", "intention_window_min", "entered"),
    [
        # given during arrival: intention is skipped
        (10, (10, 10), [(10, "onset"), (35, "peak")]),
        # given the moment intention would begin: intention is skipped
        (20, (20, 20), [(20, "onset"), (45, "peak")]),
        # given early in intention: intention is shortened
        (30, (20, 30), [(20, "intention"), (30, "onset"), (55, "peak")]),
    ],
)
def test_early_dose_shortens_or_skips_intention(
    dose_min: float, intention_window_min: tuple[float, float], entered: list[tuple[float, str]]
) -> None:
    # Given a dose given earlier than planned
    dose = START + minutes(dose_min)

    # When the timeline is computed a minute after the dose
    state = timeline(dose + minutes(1), dose)

    # Then onset runs from the dose, and intention shrinks to fit before it
    assert phase_key(state) == "onset"
    assert state.current_phase is not None
    assert state.current_phase.begins_at == dose
    intention = state.phases[1]
    assert (intention.begins_at, intention.ends_at) == tuple(
        START + minutes(m) for m in intention_window_min
    )
    assert state.phases[0].ends_at == intention.begins_at
    assert changes(START, dose + minutes(26), dose) == [
        (START + minutes(m), key) for m, key in entered
    ]


@pytest.mark.parametrize(
    ("dose_min", "upto_min", "entered"),
    [
        (None, 100, [(0, "arrival"), (20, "intention")]),
        (70, 90, [(0, "arrival"), (20, "intention"), (70, "onset")]),
        (30, 50, [(0, "arrival"), (20, "intention"), (30, "onset")]),
    ],
)
def test_phases_counted_back_from_the_dose_begin_as_planned_before_it(
    dose_min: float | None, upto_min: float, entered: list[tuple[float, str]]
) -> None:
    # Given a protocol whose pre-dose phases count back from the dose, and a dose (or none)
    dose = None if dose_min is None else START + minutes(dose_min)

    # When the phase changes from before the start are computed
    found = changes(START - minutes(20), START + minutes(upto_min), dose, DOSE_RELATIVE)

    # Then the pre-dose phases begin against the planned dose time, onset at the actual dose
    assert found == [(START + minutes(m), key) for m, key in entered]
    for when, key in found:
        assert phase_key(timeline(when, given_by(dose, when), protocol=DOSE_RELATIVE)) == key


@pytest.mark.parametrize(
    ("now_min", "predose", "at_dose"),
    [
        (29, UPCOMING, UPCOMING),
        (30, DUE, UPCOMING),
        (35, OVERDUE, UPCOMING),
        (40, OVERDUE, UPCOMING),
        (100, OVERDUE, UPCOMING),
    ],
)
def test_checkins_before_and_at_a_dose_not_yet_given(
    now_min: float, predose: CheckinStatus, at_dose: CheckinStatus
) -> None:
    # Given a check-in 10 minutes before the dose and one at the dose, and no dose yet
    # When the timeline is computed
    state = timeline(START + minutes(now_min), protocol=DOSE_RELATIVE)

    # Then the pre-dose check falls due against the projected dose; the one at the dose waits
    statuses = {c.spec.key: c.status for c in state.checkins}
    assert (statuses["predose"], statuses["t0"]) == (predose, at_dose)

    # And once the dose is given, the check at the dose falls due
    given = timeline(START + minutes(now_min), START + minutes(now_min), protocol=DOSE_RELATIVE)
    assert {c.spec.key: c.status for c in given.checkins}["t0"] is DUE


@pytest.mark.parametrize("waited_min", [0, 39, 40, 45, 60, 100, 300])
def test_dose_anchored_checkins_never_fall_due_before_the_dose(waited_min: float) -> None:
    # Given no dose, `waited_min` into the session
    state = timeline(START + minutes(waited_min))

    # Then every dose-anchored check-in is upcoming and projected from the projected T0
    dose_anchored = [c for c in state.checkins if c.spec.at.anchor is Anchor.DOSE]
    assert [c.spec.key for c in dose_anchored] == [f"t{m}" for m in DOSE_CHECKIN_MIN]
    for checkin, offset_min in zip(dose_anchored, DOSE_CHECKIN_MIN, strict=True):
        assert checkin.status is UPCOMING
        assert checkin.projected
        assert checkin.due_at == state.dose_anchor_at + minutes(offset_min)
    # while the start-anchored baseline falls due and goes overdue on its own schedule
    baseline = state.checkins[0]
    assert not baseline.projected
    expected = UPCOMING if waited_min < 5 else DUE if waited_min < 20 else OVERDUE
    assert baseline.status is expected


@pytest.mark.parametrize(
    ("key", "from_due_s", "done", "expected"),
    [
        ("baseline", -1.0, False, UPCOMING),
        ("baseline", 0.0, False, DUE),
        ("baseline", 15 * 60 - 0.001, False, DUE),
        ("baseline", 15 * 60, False, OVERDUE),
        ("t40", -0.001, False, UPCOMING),
        ("t40", 0.0, False, DUE),
        ("t40", 299.0, False, DUE),
        ("t40", 300.0, False, OVERDUE),
        ("t40", 3600.0, False, OVERDUE),
        ("t40", 300.0, True, DONE),
        ("t40", -600.0, True, DONE),
    ],
)
def test_checkin_status_follows_due_time_and_grace(
    key: str, from_due_s: float, done: bool, expected: CheckinStatus
) -> None:
    # Given the dose given as planned and a check-in's due time
    due = START + minutes(5) if key == "baseline" else DOSE + minutes(40)

    # When the timeline is computed around it
    now = due + timedelta(seconds=from_due_s)
    state = timeline(now, given_by(DOSE, now), {key} if done else set())

    # Then its status follows: upcoming, due within the grace, overdue after, done when done
    checkin = next(c for c in state.checkins if c.spec.key == key)
    assert checkin.status is expected
    assert checkin.due_at == due
    assert checkin.overdue_at == due + minutes(checkin.spec.grace_min)


@pytest.mark.parametrize(
    ("now_after_dose_min", "done", "limit", "expected"),
    [
        (47, {"baseline", "t15", "t30"}, 3, ["t40", "t45", "t60"]),
        (47, {"baseline", "t15", "t30"}, 1, ["t40"]),
        (47, set(), 3, ["baseline", "t15", "t30"]),
        (-35, set(), 2, ["baseline", "t15"]),
        (200, {c.key for c in PROTOCOL.checkins}, 3, []),
        (10, {"baseline"}, 20, [f"t{m}" for m in DOSE_CHECKIN_MIN]),
    ],
)
def test_next_checkins_lists_overdue_first_then_by_due_time(
    now_after_dose_min: float, done: set[str], limit: int, expected: list[str]
) -> None:
    # Given the dose given as planned and some check-ins done
    now = DOSE + minutes(now_after_dose_min)

    # When asking what comes next
    upcoming = timeline(now, given_by(DOSE, now), done).next_checkins(limit)

    # Then pending check-ins come overdue first, then by due time
    assert [c.spec.key for c in upcoming] == expected


def test_an_overdue_checkin_comes_before_an_earlier_due_one() -> None:
    # Given a protocol where a long-grace check-in is still due when a later one is overdue
    lenient = CheckinSpec("lenient", "Lenient", Offset(Anchor.DOSE, 0), grace_min=60)
    strict = CheckinSpec("strict", "Strict", Offset(Anchor.DOSE, 10), grace_min=1)
    protocol = replace(PROTOCOL, checkins=(lenient, strict))

    # When the timeline is computed 20 minutes after the dose
    state = compute_timeline(protocol, started_at=START, now=DOSE + minutes(20), first_dose_at=DOSE)

    # Then the overdue one is listed first although it fell due later
    assert [(c.spec.key, c.status) for c in state.next_checkins()] == [
        ("strict", OVERDUE),
        ("lenient", DUE),
    ]


# --- Restart gaps, the end, clamping and refused input ----------------------------------------


@pytest.mark.parametrize(
    ("closed_min", "reopened_min", "dose_min", "entered"),
    [
        # closed in onset, reopened in early integration
        (50, 135, 40, [(65, "peak"), (100, "reentry"), (130, "integration")]),
        # closed in arrival, reopened long after the planned dose, still no dose
        (10, 90, None, [(20, "intention")]),
        # closed in intention; after the restart the dose is recorded as given at start+45
        (30, 80, 45, [(45, "onset"), (70, "peak")]),
        # closed in discharge, reopened after the planned end: nothing more is entered
        (165, 240, 40, []),
        # the whole session missed
        (
            0,
            240,
            40,
            [
                (20, "intention"),
                (40, "onset"),
                (65, "peak"),
                (100, "reentry"),
                (130, "integration"),
                (160, "discharge"),
            ],
        ),
        # reopened exactly on a boundary: it is crossed; closed on one: it is not
        (65, 100, 40, [(100, "reentry")]),
    ],
)
def test_phase_changes_missed_while_closed_are_found_on_restart(
    closed_min: float,
    reopened_min: float,
    dose_min: float | None,
    entered: list[tuple[float, str]],
) -> None:
    # Given the app closed at `closed_min` and reopened at `reopened_min`
    closed, reopened = START + minutes(closed_min), START + minutes(reopened_min)
    dose = None if dose_min is None else START + minutes(dose_min)

    # When the phase changes in the gap are computed with the actual dose time
    found = changes(closed, reopened, dose)

    # Then they are the boundaries crossed, each entering the phase the timeline shows there
    assert found == [(START + minutes(m), key) for m, key in entered]
    for when, key in found:
        assert phase_key(timeline(when, given_by(dose, when))) == key


@pytest.mark.parametrize(("after_min", "upto_min"), [(30, 30), (60, 20)])
def test_phase_changes_in_an_empty_interval_are_none(after_min: float, upto_min: float) -> None:
    # Given / When an interval that holds no time / Then nothing is entered
    assert changes(START + minutes(after_min), START + minutes(upto_min), DOSE) == []


@pytest.mark.parametrize(
    ("ended_min", "later_min", "expected_phase"),
    [
        (140, 141, "integration"),
        (140, 400, "integration"),
        (30, 200, "intention"),
        (0, 5, "arrival"),
    ],
)
def test_ended_session_is_frozen(ended_min: float, later_min: float, expected_phase: str) -> None:
    # Given a session ended at `ended_min`
    ended = START + minutes(ended_min)
    dose = given_by(DOSE, ended)

    # When the timeline is computed later
    later = timeline(START + minutes(later_min), dose, ended=ended)

    # Then it is exactly the timeline at the end
    assert later == timeline(ended, dose, ended=ended)
    assert later.now == ended
    assert later.ended_at == ended
    assert later.elapsed_s == ended_min * 60
    assert phase_key(later) == expected_phase
    assert not later.past_planned_end


@pytest.mark.parametrize(
    ("dose_min", "now_min", "past"),
    [(40, 179.999, False), (40, 180, True), (None, 500, False), (55, 190, False), (55, 195, True)],
)
def test_planned_end_is_the_end_of_the_last_phase(
    dose_min: float | None, now_min: float, past: bool
) -> None:
    # Given a dose (or none) and a moment
    dose = None if dose_min is None else START + minutes(dose_min)
    now = START + minutes(now_min)

    # When the timeline is computed
    state = timeline(now, dose)

    # Then the planned end is dose+140 (projected without a dose) and is passed only after it
    assert state.planned_end_at == state.dose_anchor_at + minutes(140)
    assert state.past_planned_end is past
    assert (state.current_phase is None) is past
    assert (state.time_left_in_phase_s is None) is past


@pytest.mark.parametrize("ahead_s", [0.5, 30.0])
def test_a_dose_recorded_just_ahead_of_now_counts_as_given(ahead_s: float) -> None:
    # Given a dose time a moment after `now` (typed in by hand, or from another reference)
    dose = DOSE + timedelta(seconds=ahead_s)

    # When the timeline is computed
    state = timeline(DOSE, dose)

    # Then the dose is given (T0 is no longer projected) but no time has passed since it
    assert not state.dose_projected
    assert state.dose_anchor_at == dose
    assert state.since_dose_s == 0
    assert phase_key(state) == "intention"


@pytest.mark.parametrize("before_s", [0.001, 60.0, 86400.0])
def test_now_before_the_start_is_clamped_to_the_start(before_s: float) -> None:
    # Given a `now` before the session started (e.g. a clock set back)
    # When the timeline is computed
    state = timeline(START - timedelta(seconds=before_s))

    # Then the session is at its start, never at negative elapsed time
    assert state.now == START
    assert state.elapsed_s == 0
    assert phase_key(state) == "arrival"
    assert state.time_in_phase_s == 0


def test_times_in_another_zone_come_back_in_utc() -> None:
    # Given aware times written in UTC-5
    zone = timezone(timedelta(hours=-5))

    # When the timeline is computed
    state = compute_timeline(
        PROTOCOL,
        started_at=START.astimezone(zone),
        now=(DOSE + minutes(10)).astimezone(zone),
        first_dose_at=DOSE.astimezone(zone),
    )

    # Then the instants are the same and every time is in UTC
    assert state.now == DOSE + minutes(10)
    assert state.now.tzinfo is UTC
    assert state.dose_anchor_at.tzinfo is UTC
    assert all(w.begins_at.tzinfo is UTC for w in state.phases)
    assert state.since_dose_s == 600


NAIVE = datetime(2026, 11, 26, 14, 30)


@pytest.mark.parametrize("argument", ["started_at", "now", "first_dose_at", "ended_at"])
def test_compute_timeline_refuses_naive_times(argument: str) -> None:
    # Given one naive datetime among the arguments
    arguments: dict[str, datetime | None] = {
        "started_at": START,
        "now": START + minutes(10),
        "first_dose_at": None,
        "ended_at": None,
        argument: NAIVE,
    }

    # When / Then the error names the argument and asks for an aware time
    with pytest.raises(ValueError, match=f"{argument} .* no time zone.*timezone-aware UTC"):
        compute_timeline(PROTOCOL, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("argument", ["started_at", "first_dose_at", "after", "upto"])
def test_phase_changes_between_refuses_naive_times(argument: str) -> None:
    # Given one naive datetime among the arguments
    arguments: dict[str, datetime | None] = {
        "started_at": START,
        "first_dose_at": DOSE,
        "after": START,
        "upto": START + minutes(100),
        argument: NAIVE,
    }

    # When / Then
    with pytest.raises(ValueError, match=f"{argument} .* no time zone"):
        phase_changes_between(PROTOCOL, **arguments)  # type: ignore[arg-type]


def test_phase_at_refuses_a_naive_time() -> None:
    # Given / When / Then
    with pytest.raises(ValueError, match=r"when .* no time zone"):
        timeline(START).phase_at(NAIVE)


# --- Properties ---------------------------------------------------------------------------------

# Seconds from the start: often whole minutes, so boundaries are hit exactly, sometimes anything.
seconds = st.one_of(
    st.integers(-30, 420).map(lambda m: m * 60.0),
    st.floats(-1800.0, 420 * 60.0, allow_nan=False),
)
dose_seconds = st.one_of(
    st.none(), st.integers(0, 240).map(lambda m: m * 60.0), st.floats(0, 14400)
)


def at(offset_s: float | None) -> datetime | None:
    return None if offset_s is None else START + timedelta(seconds=offset_s)


def moment(offset_s: float) -> datetime:
    return START + timedelta(seconds=offset_s)


protocols = st.sampled_from([PROTOCOL, DOSE_RELATIVE])


@given(protocol=protocols, dose_s=dose_seconds, now_s=seconds, when_s=seconds)
def test_property_phases_tile_and_exactly_one_holds(
    protocol: Protocol, dose_s: float | None, now_s: float, when_s: float
) -> None:
    # Given any dose time and any moment
    now = moment(now_s)
    state = timeline(now, given_by(at(dose_s), now), protocol=protocol)

    # Then the windows tile from the start to the planned end without gaps
    windows = state.phases
    assert [w.spec.key for w in windows] == list(PHASE_KEYS)
    if protocol is PROTOCOL:
        assert windows[0].begins_at == START
    assert windows[-1].ends_at == state.planned_end_at
    assert all(w.begins_at <= w.ends_at for w in windows)
    assert all(a.ends_at == b.begins_at for a, b in pairwise(windows))

    # And any instant of the plan is in exactly one window
    when = moment(when_s)
    holding = [w for w in windows if w.begins_at <= when < w.ends_at]
    assert len(holding) == (1 if windows[0].begins_at <= when < state.planned_end_at else 0)

    # And before the planned end exactly one phase holds now: the window containing it, or the
    # pre-dose phase still waiting at the projected dose time
    if state.now < state.planned_end_at:
        current = state.current_phase
        assert current is not None
        holding_now = [w for w in windows if w.begins_at <= state.now < w.ends_at]
        if state.now < current.ends_at:
            assert holding_now == [current]
        else:
            assert state.dose_projected
            assert current.ends_at == state.now == state.dose_anchor_at
            assert current.spec.ends == Offset(Anchor.DOSE, 0)
        assert state.phase_at(state.now) == current
    else:
        assert state.current_phase is None
        assert state.past_planned_end


@given(
    dose_s=dose_seconds,
    ended_s=st.one_of(st.none(), seconds),
    nows_s=st.lists(seconds, min_size=2, max_size=20),
)
def test_property_elapsed_is_monotonic_and_never_negative(
    dose_s: float | None, ended_s: float | None, nows_s: list[float]
) -> None:
    # Given any dose and end, and moments in increasing order
    ended = at(ended_s)
    elapsed = []
    for now_s in sorted(nows_s):
        now = moment(now_s)
        state = timeline(now, given_by(at(dose_s), now), ended=ended)
        # Then elapsed is the clamped distance from the start
        clamped = max(START, now if ended is None else min(now, ended))
        assert state.elapsed_s == (clamped - START).total_seconds()
        elapsed.append(state.elapsed_s)
    # And it never decreases and is never negative
    assert elapsed == sorted(elapsed)
    assert elapsed[0] >= 0


RANK = {UPCOMING: 0, DUE: 1, OVERDUE: 2}


@given(protocol=protocols, dose_s=dose_seconds, nows_s=st.lists(seconds, min_size=2, max_size=30))
def test_property_checkin_statuses_never_go_backwards(
    protocol: Protocol, dose_s: float | None, nows_s: list[float]
) -> None:
    # Given any dose time and moments in increasing order, nothing done
    reached: dict[str, int] = {}
    for now_s in sorted(nows_s):
        now = moment(now_s)
        dose = given_by(at(dose_s), now)
        state = timeline(now, dose, protocol=protocol)
        for checkin in state.checkins:
            # Then each check-in only moves upcoming -> due -> overdue
            rank = RANK[checkin.status]
            assert rank >= reached.get(checkin.spec.key, 0)
            reached[checkin.spec.key] = rank
            # And one at or after the dose is never due before it
            at_dose = checkin.spec.at.anchor is Anchor.DOSE and checkin.spec.at.minutes >= 0
            if dose is None and at_dose:
                assert checkin.status is UPCOMING


@given(protocol=protocols, dose_s=dose_seconds, cuts_s=st.lists(seconds, min_size=3, max_size=3))
def test_property_phase_changes_match_the_timeline_and_survive_any_restart(
    protocol: Protocol, dose_s: float | None, cuts_s: list[float]
) -> None:
    # Given any dose and an interval cut in two by a restart
    first, middle, last = (moment(s) for s in sorted(cuts_s))
    dose = at(dose_s)

    # When the changes are computed in one go, and in two parts
    whole = changes(first, last, dose, protocol)

    # Then the parts add up to the whole
    assert changes(first, middle, dose, protocol) + changes(middle, last, dose, protocol) == whole
    # And the changes are in order, inside the interval, each into a later phase
    times = [when for when, _ in whole]
    assert times == sorted(set(times))
    assert all(first < when <= last for when in times)
    order = [PHASE_KEYS.index(key) for _, key in whole]
    assert order == sorted(set(order))
    # And at each change the timeline enters that phase, having shown another just before
    for when, key in whole:
        assert phase_key(timeline(when, given_by(dose, when), protocol=protocol)) == key
        just_before = when - timedelta(microseconds=1)
        if just_before < START:
            continue  # the timeline clamps to the start; arrival is entered at the start
        before = timeline(just_before, given_by(dose, just_before), protocol=protocol)
        assert phase_key(before) != key
    # And the phase at the end of the interval is the last one entered, if it is still running
    end_phase = phase_key(timeline(last, given_by(dose, last), protocol=protocol))
    if whole and end_phase is not None:
        assert end_phase == whole[-1][1]


# --- staggered dosing: a participant's own planned dose time ----------------------------------


@pytest.mark.parametrize(
    ("now_min", "planned_min", "expected_t0_min"),
    [
        (0, 50, 50),  # well before: T0 projected at the participant's own planned time
        (45, 50, 50),
        (55, 50, 55),  # past it and not dosed: T0 keeps moving with now, as without a plan
        (10, 30, 30),  # a planned time earlier than the protocol's works the same way
    ],
)
def test_a_planned_dose_time_moves_the_projected_t0_until_the_dose(
    now_min: float, planned_min: float, expected_t0_min: float
) -> None:
    # Given a participant whose dose is planned at `planned_min` rather than the protocol's 40
    state = compute_timeline(
        PROTOCOL,
        started_at=START,
        now=START + minutes(now_min),
        first_dose_at=None,
        planned_dose_at=START + minutes(planned_min),
    )
    # Then their projected T0 and dose-anchored check-ins follow their own plan
    assert state.dose_projected
    assert state.dose_anchor_at == START + minutes(expected_t0_min)
    t15 = next(c for c in state.checkins if c.spec.key == "t15")
    assert t15.due_at == START + minutes(expected_t0_min + 15)
    assert t15.projected and t15.status is UPCOMING


@pytest.mark.parametrize("planned_min", [None, 30.0, 40.0, 55.0])
def test_once_dosed_a_planned_dose_time_changes_nothing(planned_min: float | None) -> None:
    # Given a participant dosed at T0 = start+47, whatever their plan said
    dose = START + minutes(47)
    now = START + minutes(100)
    planned = None if planned_min is None else START + minutes(planned_min)
    # Then the clock is the same as without any plan
    with_plan = compute_timeline(
        PROTOCOL, started_at=START, now=now, first_dose_at=dose, planned_dose_at=planned
    )
    assert with_plan == timeline(now, dose)


def test_without_a_planned_dose_time_the_timeline_is_as_before() -> None:
    # Given no plan; Then passing None is the same as not passing it, at every minute
    for now_min in range(0, 200, 7):
        now = START + minutes(now_min)
        for dose in (None, DOSE):
            explicit = compute_timeline(
                DOSE_RELATIVE,
                started_at=START,
                now=now,
                first_dose_at=given_by(dose, now),
                planned_dose_at=None,
            )
            assert explicit == timeline(now, given_by(dose, now), protocol=DOSE_RELATIVE)


def test_dose_relative_phases_before_the_dose_follow_the_participants_plan() -> None:
    # Given the dose-relative template (arrival dose-40, intention dose-20) and a participant
    # whose dose is planned 10 minutes after the protocol's time, at start+50
    planned = START + minutes(50)
    found = phase_changes_between(
        DOSE_RELATIVE,
        started_at=START,
        first_dose_at=None,
        after=START - timedelta(microseconds=1),
        upto=START + minutes(45),
        planned_dose_at=planned,
    )
    # Then arrival begins at start+10 and intention at start+30, 10 minutes later than planned
    assert [(when, spec.key) for when, spec in found] == [
        (START + minutes(10), "arrival"),
        (START + minutes(30), "intention"),
    ]
    # And the clock agrees: at start+25 the participant is still arriving
    state = compute_timeline(
        DOSE_RELATIVE,
        started_at=START,
        now=START + minutes(25),
        first_dose_at=None,
        planned_dose_at=planned,
    )
    assert phase_key(state) == "arrival"
    assert phase_key(timeline(START + minutes(25), protocol=DOSE_RELATIVE)) == "intention"


def test_a_naive_planned_dose_time_is_refused() -> None:
    with pytest.raises(ValueError, match="planned_dose_at"):
        compute_timeline(
            PROTOCOL,
            started_at=START,
            now=START,
            first_dose_at=None,
            planned_dose_at=datetime(2026, 11, 26, 15, 0),
        )
