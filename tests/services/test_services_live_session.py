"""A whole three-hour sublingual session through LiveSession on a fake clock, in milliseconds.

The clock ticks every 7 s (so most ticks fall just after a boundary, never on it) and every
tick is repeated: phase changes must still land exactly once, at the boundary minute.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import START, Room, boundary_at, minutes, run_until
from support.dosing import dose_now

from kapsession.domain.clock import ScaledClock
from kapsession.services.live_session import LiveSession

DOSE_AT = START + timedelta(minutes=39)  # the nurse gives the dose a minute before the plan
STEP_S = 7.0


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(START + minutes(4), {"baseline": "upcoming", "t15": "upcoming"}, id="T-35"),
        pytest.param(START + minutes(5), {"baseline": "due", "t15": "upcoming"}, id="T-34"),
        pytest.param(START + minutes(35), {"baseline": "overdue", "t15": "upcoming"}, id="T-4"),
        pytest.param(DOSE_AT + minutes(14), {"t15": "upcoming", "t30": "upcoming"}, id="T+14"),
        pytest.param(DOSE_AT + minutes(15), {"t15": "due", "t30": "upcoming"}, id="T+15"),
        pytest.param(DOSE_AT + minutes(20), {"t15": "overdue", "t30": "upcoming"}, id="T+20"),
        pytest.param(DOSE_AT + minutes(41), {"t40": "due", "t45": "upcoming"}, id="T+41"),
        pytest.param(DOSE_AT + minutes(131), {"pre-discharge": "due"}, id="T+131"),
    ],
)
def test_check_ins_follow_the_clock_and_the_dose(room: Room, at, expected) -> None:
    # Given a live session whose dose is given at T-1
    record = room.start()
    live, _ = room.open_live(record.id)
    run_until(live, room.clock, min(at, DOSE_AT), STEP_S)
    if at > DOSE_AT:
        dose_now(live, record.participants[0].id)
    # When the clock reaches `at`
    run_until(live, room.clock, at, STEP_S)
    # Then each check-in has the expected status, due from its own anchor
    state = live.state()
    statuses = {c.spec.key: c.status.value for c in state.checkins}
    assert {key: statuses[key] for key in expected} == expected
    t15 = next(c for c in state.checkins if c.spec.key == "t15")
    if at > DOSE_AT:
        assert (t15.due_at, t15.projected) == (DOSE_AT + minutes(15), False)
    else:
        assert t15.projected


def test_a_whole_sublingual_session_writes_each_phase_once_at_its_boundary(room: Room) -> None:
    # Given a live sublingual session started at 14:00
    record = room.start()
    participant = record.participants[0]
    live, signals = room.open_live(record.id)
    protocol = live.protocol
    assert live.is_live and live.state().phase_index == 0

    # When the intention phase runs, the dose is given at T-1 and markers are added
    run_until(live, room.clock, DOSE_AT, STEP_S)
    assert live.state().current_phase.spec.key == "intention"
    assert live.state().dose_projected
    assert dose_now(live, participant.id)
    run_until(live, room.clock, DOSE_AT + minutes(3), STEP_S)
    assert live.add_marker("  Eye mask on ", participant.id)
    run_until(live, room.clock, DOSE_AT + minutes(18), STEP_S)
    assert live.add_marker("Music request")
    # ... and the clock runs past the planned end
    run_until(live, room.clock, DOSE_AT + minutes(150), STEP_S)

    # Then T0 is the dose, not the plan
    state = live.state()
    assert (state.first_dose_at, state.dose_anchor_at, state.dose_projected) == (
        DOSE_AT,
        DOSE_AT,
        False,
    )
    assert state.since_dose_s == 150 * 60
    assert state.elapsed_s == (39 + 150) * 60
    assert state.phase_index is None and state.past_planned_end
    assert state.planned_end_at == DOSE_AT + minutes(140)
    # ... every phase was written once, for this participant, at its exact boundary minute,
    # and by the first tick after it
    changes = room.phase_changes(record.id)
    assert [e.detail["phase"] for e in changes] == [p.key for p in protocol.phases]
    assert [e.label for e in changes] == [p.name for p in protocol.phases]
    expected_at = [
        boundary_at(p.begins, started_at=START, dose_at=DOSE_AT) for p in protocol.phases
    ]
    assert [e.occurred_at for e in changes] == expected_at
    assert expected_at[2] == DOSE_AT  # onset begins with the dose, not at the planned T0
    for event in changes:
        assert event.participant_id == participant.id
        assert timedelta(0) <= event.recorded_at - event.occurred_at < timedelta(seconds=STEP_S)
    # ... the dose and the markers are on the record at the moment they were entered
    (dose,) = room.service.entries.doses(record.id)
    assert (dose.kind, dose.occurred_at, dose.recorded_at) == ("initial", DOSE_AT, DOSE_AT)
    assert (dose.medication, dose.route) == ("ketamine", "sublingual")
    assert dose.given_by_id == room.nurse.id == dose.recorded_by_id  # the monitoring clinician
    markers = room.events(record.id, "marker")
    assert [(m.label, m.occurred_at, m.participant_id) for m in markers] == [
        ("Eye mask on", DOSE_AT + minutes(3), participant.id),
        ("Music request", DOSE_AT + minutes(18), None),
    ]
    assert signals.failed == []
    assert signals.saved[0].startswith("Check-in Baseline vitals for Maya at ")  # the BP first
    assert signals.saved[1].startswith("Dose 200 mg given to Maya at ")
    assert signals.saved[2].startswith("Marker “Eye mask on” at ")
    assert signals.changed >= 189 * 60 / STEP_S  # every new second of session time redraws

    # When the session is ended
    end_at = room.clock.now()
    assert live.end_session()
    # Then it is completed at that moment, said so once, and its clock stops there
    assert not live.is_live and signals.ended == 1
    assert (live.record.status, live.record.ended_at) == ("completed", end_at)
    assert [e.occurred_at for e in room.events(record.id, "session_end")] == [end_at]
    assert signals.saved[-1].startswith("Session ended at ")
    room.clock.advance(600)
    live.tick()
    assert live.state().now == end_at and live.state().elapsed_s == (39 + 150) * 60
    assert len(room.phase_changes(record.id)) == len(protocol.phases)


@pytest.mark.parametrize(
    ("entry", "what"),
    [
        pytest.param(lambda live, pid: dose_now(live, pid), "dose", id="dose"),
        pytest.param(lambda live, pid: live.add_marker("Spoke", pid), "marker", id="marker"),
        pytest.param(lambda live, pid: live.end_session(), "ended", id="end-again"),
    ],
)
def test_an_ended_session_takes_no_more_live_entries(room: Room, entry, what) -> None:
    # Given a session that was dosed and then ended
    record = room.start()
    pid = record.participants[0].id
    live, signals = room.open_live(record.id)
    run_until(live, room.clock, START + minutes(40))
    dose_now(live, pid)
    run_until(live, room.clock, START + minutes(60))
    live.end_session()
    doses_before = room.service.entries.doses(record.id)
    events_before = room.service.entries.events(record.id)
    saved_before = list(signals.saved)
    room.clock.advance(120)
    # When someone tries to enter something on its (stopped) live clock
    ok = entry(live, pid)
    # Then it is refused with a message, and nothing reaches the record
    assert not ok  # give_dose says False, add_marker None: nothing saved
    assert len(signals.failed) == 1, signals.failed
    assert what in signals.failed[0] and "ended" in signals.failed[0]
    assert room.service.entries.doses(record.id) == doses_before
    assert room.service.entries.events(record.id) == events_before
    assert signals.saved == saved_before and signals.ended == 1


def test_training_speed_runs_the_same_session_sixty_times_faster(room: Room) -> None:
    # Given a session opened on the training clock at 60x (over the room's fake clock)
    fast = ScaledClock(room.clock, 60.0)
    record = room.start()
    live = LiveSession(room.service, record.id, fast)
    # When 39 real seconds pass, the dose is given, and 2.5 real minutes more pass
    room.clock.advance(39)
    live.tick()
    assert dose_now(live, record.participants[0].id)
    for _ in range(150):
        room.clock.advance(1)
        live.tick()
    # Then the session clock moved 60 times as far, through every phase, at session times
    state = live.state()
    assert (state.first_dose_at, state.since_dose_s) == (DOSE_AT, 150 * 60)
    assert state.phase_index is None
    changes = room.phase_changes(record.id)
    assert [e.occurred_at for e in changes] == [
        boundary_at(p.begins, started_at=START, dose_at=DOSE_AT) for p in live.protocol.phases
    ]


def test_ticks_within_one_second_announce_nothing_new(room: Room) -> None:
    # Given a live session whose timer fires four times a second
    record = room.start()
    live, signals = room.open_live(record.id)
    room.clock.advance(1)
    live.tick()
    announced = signals.changed
    # When it ticks again within the same second, Then nothing is recomputed or announced
    for _ in range(3):
        live.tick()
    assert signals.changed == announced
    # When the next second begins, Then the clocks are announced once
    room.clock.advance(1)
    live.tick()
    live.tick()
    assert signals.changed == announced + 1
