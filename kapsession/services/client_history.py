"""Reviewing a client's course: every session of theirs, summarised from the signed record.

A standalone use case on the `Database` (the start screen's History and `kapsession history`
reach it the same way). PHQ-9 and GAD-7 are not captured by kapsession yet, so the history
has none of them: `records.history.NOT_RECORDED` says so wherever the history is shown.
"""

from __future__ import annotations

import uuid

from kapsession.records.history import ClientHistory
from kapsession.records.people import ClientRecord
from kapsession.storage.client_history import ClientHistoryRepository
from kapsession.storage.database import Database


class ClientHistoryService:
    def __init__(self, database: Database) -> None:
        self._history = ClientHistoryRepository(database)

    def history(self, client_id: uuid.UUID) -> ClientHistory:
        """The client and all their sessions (every course), oldest first."""
        return self._history.history(client_id)

    def last_protocol_key(self, client_id: uuid.UUID) -> str | None:
        """The protocol of the client's most recently started session: what a new session of
        theirs starts with unless changed (None: they have had none)."""
        return self._history.last_protocol_key(client_id)

    def find_client(self, text: str) -> ClientRecord:
        """A client by record number, name or the first characters of their id (NotFound
        says what matched, or that nothing did)."""
        return self._history.find_client(text)
