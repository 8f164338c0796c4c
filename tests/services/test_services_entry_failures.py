"""When an entry cannot be saved, the live session says so plainly and nothing half-saved remains.

The failure is real: a second SQLite connection holds the write lock (another program on the
database), and the app's busy timeout is made short so the test does not wait five seconds.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from services_support import START, Room, run_until
from support.dosing import dose_now, take_bp

from kapsession.storage import database as storage_database
from kapsession.storage import entries as entries_module

DOSE_AT = START + timedelta(minutes=39)
LOCKED_MESSAGE = "busy in another program"


@pytest.fixture(autouse=True)
def _short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set before the context opens its engine, so every connection waits only 50 ms."""
    monkeypatch.setattr(storage_database, "BUSY_TIMEOUT_MS", 50)


@contextmanager
def another_program_writing(db_file: Path) -> Iterator[None]:
    """Hold SQLite's write lock from a second connection, as another program would."""
    other = sqlite3.connect(db_file, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN EXCLUSIVE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def db_file(room: Room) -> Path:
    path = room.context.database.file
    assert path is not None and path.exists()
    return path


def test_a_dose_that_cannot_be_saved_is_reported_and_not_anchored(room: Room) -> None:
    # Given a live session in the intention phase
    record = room.start()
    pid = record.participants[0].id
    live, signals = room.open_live(record.id)
    take_bp(live, pid)  # the baseline the dose is checked on
    signals.saved.clear()
    run_until(live, room.clock, DOSE_AT)
    # When the dose is entered while another program holds the database
    with another_program_writing(db_file(room)):
        ok = dose_now(live, pid)
    # Then the nurse is told what happened and what to do, and nothing was saved
    assert ok is False
    assert len(signals.failed) == 1
    assert LOCKED_MESSAGE in signals.failed[0] and "save the dose again" in signals.failed[0]
    assert signals.saved == []
    assert room.service.entries.doses(record.id) == []
    assert live.doses == [] and live.first_dose_at(pid) is None
    state = live.state()
    assert state.dose_projected and state.current_phase.spec.key == "intention"
    assert [e.detail["phase"] for e in room.phase_changes(record.id)] == ["arrival", "intention"]
    # When it is entered again once the database is free
    assert dose_now(live, pid)
    # Then it is saved and anchors T0
    assert [d.occurred_at for d in room.service.entries.doses(record.id)] == [DOSE_AT]
    assert live.state().current_phase.spec.key == "onset"


@pytest.mark.parametrize("for_participant", [True, False], ids=["participant", "room"])
def test_a_marker_that_cannot_be_saved_is_reported_and_not_kept(
    room: Room, for_participant: bool
) -> None:
    # Given a live session
    record = room.start()
    pid = record.participants[0].id if for_participant else None
    live, signals = room.open_live(record.id)
    run_until(live, room.clock, START + timedelta(minutes=3))
    # When a marker is entered while the database is held by another program
    with another_program_writing(db_file(room)):
        ok = live.add_marker("Touch consent given", pid)
    # Then it is reported, and neither the record nor the screen has it
    assert ok is None
    assert len(signals.failed) == 1 and LOCKED_MESSAGE in signals.failed[0]
    assert signals.saved == []
    assert room.events(record.id, "marker") == []
    assert [e for e in live.events if e.kind == "marker"] == []


def test_a_phase_change_that_cannot_be_saved_is_written_once_the_database_is_free(
    room: Room,
) -> None:
    # Given a dosed session a minute before the peak
    record = room.start()
    live, signals = room.open_live(record.id)
    run_until(live, room.clock, DOSE_AT)
    dose_now(live, record.participants[0].id)
    run_until(live, room.clock, DOSE_AT + timedelta(minutes=24))
    # When the peak begins while another program holds the database
    with another_program_writing(db_file(room)):
        run_until(live, room.clock, DOSE_AT + timedelta(minutes=25, seconds=10), step_s=5)
    # Then the failure is reported and the clock still shows the peak
    assert signals.failed and all(LOCKED_MESSAGE in m for m in signals.failed)
    assert live.state().current_phase.spec.key == "peak"
    assert "peak" not in [e.detail["phase"] for e in room.phase_changes(record.id)]
    # When the database is free again and the clock ticks on (no other boundary is near)
    run_until(live, room.clock, DOSE_AT + timedelta(minutes=26), step_s=5)
    # Then the peak is on the record once, at its minute, written late
    peaks = [e for e in room.phase_changes(record.id) if e.detail["phase"] == "peak"]
    assert len(peaks) == 1
    assert peaks[0].occurred_at == DOSE_AT + timedelta(minutes=25)
    assert peaks[0].recorded_at > peaks[0].occurred_at


@pytest.mark.parametrize("label", ["", "   ", "\n\t "])
def test_an_empty_marker_is_refused_with_a_message(room: Room, label: str) -> None:
    record = room.start()
    live, signals = room.open_live(record.id)
    assert live.add_marker(label) is None
    assert signals.failed == ["Type what happened before saving the marker."]
    assert signals.saved == [] and room.events(record.id, "marker") == []


def test_a_dose_for_someone_not_in_the_session_is_refused(room: Room) -> None:
    # Given a live session, and another client's session
    record = room.start()
    other = room.start(room.client("Sam", "Reyes"))
    live, signals = room.open_live(record.id)
    # When a dose is entered for a participant of the other session (or an unknown id)
    for stranger in (other.participants[0].id, uuid.uuid4()):
        assert live.record_dose(stranger, "200 mg") is None
    # Then it is refused, each time with the reason, and nothing is saved
    assert signals.failed == ["That participant is not part of this session."] * 2
    assert room.service.entries.doses(record.id) == []
    assert room.service.entries.doses(other.id) == []


class _FailingSecondPhaseChange:
    """A DBAPI connection that passes everything on, but refuses the second phase change it is
    sent as a locked database would (events are written at the driver's level)."""

    def __init__(self, driver: Any, writes: dict[str, int]) -> None:
        self._driver = driver
        self._writes = writes

    def execute(self, sql: str, parameters: Any) -> Any:
        if sql.startswith("INSERT INTO session_event ") and "phase_change" in parameters:
            self._writes["phase_change"] += 1
            if self._writes["phase_change"] == 2:
                raise sqlite3.OperationalError("database is locked")
        return self._driver.execute(sql, parameters)

    def cursor(self) -> Any:
        return self._driver.cursor()


def test_a_catch_up_that_fails_half_way_never_writes_a_phase_twice(
    room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a couples session, both in onset (dosed two minutes apart)
    record = room.start(room.client("Jonah", "Okafor"), room.client("Lena", "Okafor"))
    pj, pl = (p.id for p in record.participants)
    live, signals = room.open_live(record.id)
    run_until(live, room.clock, DOSE_AT)
    dose_now(live, pj)
    run_until(live, room.clock, DOSE_AT + timedelta(minutes=2))
    dose_now(live, pl)
    run_until(live, room.clock, DOSE_AT + timedelta(minutes=20))
    # ... and a database that accepts one more phase change, then fails on the next
    writes = {"phase_change": 0}
    real_driver_of = entries_module.driver_of
    with monkeypatch.context() as failing:
        failing.setattr(
            entries_module,
            "driver_of",
            lambda connection: _FailingSecondPhaseChange(real_driver_of(connection), writes),
        )
        # When the laptop sleeps through both peaks and wakes: Jonah's is saved, Lena's fails
        room.clock.advance(10 * 60)
        live.tick()
    assert len(signals.failed) == 1 and LOCKED_MESSAGE in signals.failed[0]
    # When the clock ticks on with the database working again
    run_until(live, room.clock, DOSE_AT + timedelta(minutes=31), step_s=5)
    # Then each participant's peak is on the record exactly once, at their own minute
    peaks = [
        (e.participant_id, e.occurred_at)
        for e in room.phase_changes(record.id)
        if e.detail["phase"] == "peak"
    ]
    assert sorted(peaks) == sorted(
        [
            (pj, DOSE_AT + timedelta(minutes=25)),
            (pl, DOSE_AT + timedelta(minutes=27)),
        ]
    )
