"""Time the app did not see: a restart, a wall-clock jump and a suspend while a session is live."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from services_support import START, Room, boundary_at, minutes, run_until
from support.dosing import dose_now

DOSE_AT = START + timedelta(minutes=39)


@pytest.mark.parametrize(
    ("closed_min", "phase_now", "written_late"),
    [
        pytest.param(20, "onset", [], id="closed-20-min"),
        pytest.param(50, "peak", ["peak"], id="closed-50-min"),
        pytest.param(100, "integration", ["peak", "reentry", "integration"], id="closed-100-min"),
        pytest.param(
            200, None, ["peak", "reentry", "integration", "discharge"], id="closed-past-the-end"
        ),
    ],
)
def test_reopening_catches_up_on_the_phases_missed_while_closed(
    room: Room, closed_min: int, phase_now: str | None, written_late: list[str]
) -> None:
    # Given a session dosed at T-1, then the app closed (laptop off, crash)
    record = room.start()
    pid = record.participants[0].id
    first, _ = room.open_live(record.id)
    run_until(first, room.clock, DOSE_AT)
    assert dose_now(first, pid)
    before = room.phase_changes(record.id)
    first.stop()
    del first
    room.clock.advance(closed_min * 60)
    reopened_at = room.clock.now()

    # When the session is opened again
    live, signals = room.open_live(record.id)

    # Then the clock is right, from the stored anchors
    state = live.state()
    assert state.elapsed_s == (39 + closed_min) * 60
    assert state.since_dose_s == closed_min * 60
    assert (state.current_phase.spec.key if state.current_phase else None) == phase_now
    # ... and the phases entered while closed are written once, each at its boundary minute
    # but recorded at the reopening (late entries)
    protocol = live.protocol
    late = room.phase_changes(record.id)[len(before) :]
    assert [e.detail["phase"] for e in late] == written_late
    for event in late:
        begins = protocol.phase(event.detail["phase"]).begins
        assert event.occurred_at == boundary_at(begins, started_at=START, dose_at=DOSE_AT)
        assert event.recorded_at == reopened_at
        assert event.participant_id == pid
    assert signals.failed == []

    # When it is opened a third time and ticks on the same minute
    again, _ = room.open_live(record.id)
    again.tick()
    live.tick()
    # Then nothing is written twice
    keys = [e.detail["phase"] for e in room.phase_changes(record.id)]
    assert len(keys) == len(set(keys)) == len(before) + len(written_late)


def test_reopening_before_the_dose_enters_intention_but_never_onset(room: Room) -> None:
    # Given a session closed during arrival, before any dose
    record = room.start()
    first, _ = room.open_live(record.id)
    run_until(first, room.clock, START + minutes(10))
    del first
    # When it is reopened long after the planned dose time
    room.clock.advance(90 * 60)
    live, _ = room.open_live(record.id)
    # Then intention was entered at start+20 (written late) and holds until the dose
    changes = room.phase_changes(record.id)
    assert [(e.detail["phase"], e.occurred_at) for e in changes] == [
        ("arrival", START),
        ("intention", START + minutes(20)),
    ]
    assert changes[1].recorded_at == START + minutes(100)
    state = live.state()
    assert state.current_phase.spec.key == "intention" and state.dose_projected
    assert state.dose_anchor_at == START + minutes(100)  # projected at "now" until given


@pytest.mark.parametrize("jump_s", [3600.0, -7200.0, 86400.0 * 365])
def test_a_wall_clock_jump_while_open_changes_nothing(
    room: Room, jump_s: float, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a session in the onset phase
    record = room.start()
    pid = record.participants[0].id
    live, _ = room.open_live(record.id)
    run_until(live, room.clock, DOSE_AT)
    dose_now(live, pid)
    run_until(live, room.clock, DOSE_AT + minutes(10))
    before_state = live.state()
    before_changes = room.phase_changes(record.id)

    # When the laptop's wall clock is set forward or back (NTP, a user, a time zone bug)
    room.clock.jump_wall(jump_s)
    with caplog.at_level(logging.WARNING, logger="kapsession.services.live_session"):
        for _ in range(3):
            live.tick()
    # Then the session clock, the phase and the record are untouched
    state = live.state()
    assert state.now == before_state.now == DOSE_AT + minutes(10)
    assert (state.elapsed_s, state.since_dose_s) == (before_state.elapsed_s, 600)
    assert state.current_phase.spec.key == "onset"
    assert room.phase_changes(record.id) == before_changes
    # ... an entry made now carries session time, not the jumped wall time
    assert live.add_marker("Tearful", pid)
    (marker,) = room.events(record.id, "marker")
    assert marker.occurred_at == marker.recorded_at == DOSE_AT + minutes(10)
    # ... and the jump is logged once, not on every tick
    jumps = [r for r in caplog.records if "wall clock moved" in r.getMessage()]
    assert len(jumps) == 1


def test_a_suspend_moves_the_clock_and_writes_the_phases_it_slept_through(room: Room) -> None:
    # Given a session in the onset phase
    record = room.start()
    pid = record.participants[0].id
    live, _ = room.open_live(record.id)
    run_until(live, room.clock, DOSE_AT)
    dose_now(live, pid)
    run_until(live, room.clock, DOSE_AT + minutes(10))

    # When the lid is closed for 55 minutes (wall and monotonic both move on)
    room.clock.advance(55 * 60)
    woke_at: datetime = room.clock.now()
    live.tick()
    # Then the clock shows the time that passed and the phase crossed is written at its minute
    state = live.state()
    assert state.since_dose_s == 65 * 60
    assert state.current_phase.spec.key == "reentry"
    late = [
        (e.detail["phase"], e.occurred_at, e.recorded_at) for e in room.phase_changes(record.id)
    ]
    assert late[-2:] == [
        ("peak", DOSE_AT + minutes(25), woke_at),
        ("reentry", DOSE_AT + minutes(60), woke_at),
    ]
