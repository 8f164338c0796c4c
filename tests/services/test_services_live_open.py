"""Reading a session as an open session keeps it (`SessionService.read_state`, on opening it)
reads the session's row once: its record and its protocol snapshot come from the same read."""

from __future__ import annotations

import re
from typing import Any

from services_support import Room
from sqlalchemy import event

from kapsession.services.session_service import SessionService

SESSION_ROW = re.compile(r"\bFROM session\s+WHERE session\.id\b")


def test_reading_a_session_to_open_it_reads_its_row_once(room: Room) -> None:
    # Given a started session, and the app started afresh over the same data (nothing read yet)
    record = room.start()
    service = SessionService(room.context.database, room.context.catalog)
    sent: list[str] = []

    def trace(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(room.context.database.engine, "before_cursor_execute", trace)
    try:
        # When its state is read, as opening it does
        state = service.read_state(record.id)
    finally:
        event.remove(room.context.database.engine, "before_cursor_execute", trace)
    # Then its row was read once, for both its record and its protocol
    assert len([s for s in sent if SESSION_ROW.search(s)]) == 1, sent
    assert state.record == record
    assert state.protocol.key == record.protocol_key
    # And the check-ins read its protocol from that read afterwards, not from the database
    assert service.checkins.protocol(record.id) is state.protocol
