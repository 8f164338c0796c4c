"""A save sends its own few statements and never reads the session back.

The open session is kept in memory from what each save returns (services/session_state.py), so
a check-in or a note entry costs the same few statements at the start of a session and after
many entries, and none of them reads the session's readings, events or notes. Counted at the
driver, since the hot saves bypass SQLAlchemy: sqlite3's trace callback, and on PostgreSQL a
psycopg cursor class that counts what it executes (every statement SQLAlchemy or the hot path
sends goes through a cursor of the connection).
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from support.team import pass_screening, usual_order

from kapsession.domain.clock import FakeClock
from kapsession.resources import protocols_dir
from kapsession.services.live_session import LiveSession
from kapsession.services.notepad import NotePad
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.session_service import SessionService
from kapsession.storage.database import Database

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
READING = {"bp": "124/80", "heart_rate_bpm": "72", "spo2_pct": "98", "moaas": "5"}
# tables a read of the session back would touch (a save's own look-ups read none of them)
SESSION_TABLES = ("observation", "session_event", "dose", "alert", "note", "private_note")
PINGS = {";", "SELECT 1"}


class Statements:
    """Every statement the engine's connections send from now on, in order."""

    def __init__(self, database: Database) -> None:
        self.sent: list[str] = []
        event.listen(database.engine, "connect", self._on_connect)
        database.engine.dispose()  # connections made from now on are counted

    def _on_connect(self, connection: Any, _record: Any) -> None:
        if isinstance(connection, sqlite3.Connection):
            connection.set_trace_callback(self.sent.append)
            return
        import psycopg

        sent = self.sent

        class CountingCursor(psycopg.Cursor):  # type: ignore[type-arg]
            def execute(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                sent.append(str(query))
                return super().execute(query, *args, **kwargs)

            def executemany(self, query: Any, *args: Any, **kwargs: Any) -> Any:
                sent.append(str(query))
                return super().executemany(query, *args, **kwargs)

        connection.cursor_factory = CountingCursor

    def during(self, action: Any) -> list[str]:
        """What `action` sent, without the pool's liveness pings (PostgreSQL's pre-ping on
        checking a connection out, which depends on the pool, not on the save)."""
        start = len(self.sent)
        action()
        return [s for s in self.sent[start:] if s.strip() not in PINGS]


def reads_of_the_session(statements: list[str]) -> list[str]:
    pattern = re.compile(r"\bFROM\s+\"?(" + "|".join(SESSION_TABLES) + r")\"?\b", re.IGNORECASE)
    return [s for s in statements if s.lstrip().upper().startswith("SELECT") and pattern.search(s)]


@pytest.fixture
def live(qapp: object, database: Database) -> Iterator[tuple[LiveSession, NotePad, FakeClock]]:
    clock = FakeClock(START)
    service = SessionService(database, ProtocolCatalog(protocols_dir()))
    nurse = service.add_staff("Tom Becker", "nurse", at=START, credentials="RN")
    therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=START, credentials="PsyD")
    client = service.add_client("Maya", "Fischer", at=START)
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=START,
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        order=usual_order(service, "sublingual-kap-3h", START),  # the dose below is its dose
        by=nurse.id,
    )
    pass_screening(service, record, START)  # the first dose waits for it (issue 17)
    session = LiveSession(service, record.id, clock)
    pad = NotePad(session)
    pid = record.participants[0].id
    assert session.save_checkin(pid, READING, checkin_key="baseline") is not None
    clock.advance(40 * 60)
    session.tick()
    dosed = session.record_dose(pid, "200 mg")
    assert dosed is not None and dosed.saved
    try:
        yield session, pad, clock
    finally:
        pad.stop()


def checkin(session: LiveSession, clock: FakeClock) -> None:
    clock.advance(60)
    result = session.save_checkin(session.participants[0].id, READING)
    assert result is not None and result.saved


def note(pad: NotePad, clock: FakeClock, n: int) -> None:
    clock.advance(60)
    assert pad.commit("record", f"Breathing slow and even ({n}).", None)


def grow(session: LiveSession, pad: NotePad, clock: FakeClock, entries: int) -> None:
    for n in range(entries):
        checkin(session, clock)
        note(pad, clock, n)
        assert session.add_marker(f"Marker {n}") is not None


def participant(session: LiveSession) -> uuid.UUID:
    return session.participants[0].id


def test_a_checkin_save_sends_the_same_few_statements_however_long_the_session(
    live: tuple[LiveSession, NotePad, FakeClock], database: Database
) -> None:
    session, pad, clock = live
    statements = Statements(database)
    # When a check-in is saved at the start of the session
    early = statements.during(lambda: checkin(session, clock))
    # And again after forty more check-ins, notes and markers
    grow(session, pad, clock, 40)
    late = statements.during(lambda: checkin(session, clock))
    # Then it sent the same statements both times, and did not read the session back
    assert len(late) == len(early), (early, late)
    assert reads_of_the_session(early + late) == []
    # And the reading is saved and kept in memory
    assert len([o for o in session.observations if o.participant_id == participant(session)]) == 43
    # And they are few: the save's transaction, its look-ups, its rows
    assert len(early) <= 12, early


def test_a_note_entry_sends_the_same_few_statements_however_long_the_session(
    live: tuple[LiveSession, NotePad, FakeClock], database: Database
) -> None:
    session, pad, clock = live
    statements = Statements(database)
    early = statements.during(lambda: note(pad, clock, 0))
    grow(session, pad, clock, 40)
    late = statements.during(lambda: note(pad, clock, 99))
    assert len(late) == len(early), (early, late)
    assert reads_of_the_session(early + late) == []
    assert len(early) <= 10, early


def test_a_read_back_is_caught(
    live: tuple[LiveSession, NotePad, FakeClock], database: Database
) -> None:
    """The check above is able to see a read of the session (the recovery path reads it all)."""
    session, _pad, _clock = live
    statements = Statements(database)
    sent = statements.during(session.reload)
    assert {
        t
        for t in SESSION_TABLES
        if reads_of_the_session(sent)
        and any(re.search(rf"\bFROM\s+\"?{t}\"?\b", s, re.IGNORECASE) for s in sent)
    } >= {"observation", "session_event", "dose"}
