"""Reviewing a client's course: every session of theirs, summarised from the signed record.

A standalone use case on the `Database` (the start screen's History and `kapsession history`
reach it the same way). Both show the client's outcome measures (PHQ-9, GAD-7, PCL-5) as they
stand beside the sessions, in the words of `records.measures.measure_cells`.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from kapsession.domain.corrections import effective
from kapsession.records.history import ClientHistory
from kapsession.records.people import ClientRecord
from kapsession.storage.client_history import ClientHistoryRepository
from kapsession.storage.database import Database
from kapsession.storage.outcome_measures import OutcomeMeasureRepository


class ClientHistoryService:
    def __init__(self, database: Database) -> None:
        self._history = ClientHistoryRepository(database)
        self._measures = OutcomeMeasureRepository(database)

    def history(self, client_id: uuid.UUID) -> ClientHistory:
        """The client and all their sessions (every course), oldest first, with their
        outcome measures as they stand and every earlier version of them."""
        history = self._history.history(client_id)
        every = self._measures.history(client_id)
        return replace(history, measures=tuple(effective(every)), measure_versions=tuple(every))

    def last_protocol_key(self, client_id: uuid.UUID) -> str | None:
        """The protocol of the client's most recently started session: what a new session of
        theirs starts with unless changed (None: they have had none)."""
        return self._history.last_protocol_key(client_id)

    def find_client(self, text: str) -> ClientRecord:
        """A client by record number, name or the first characters of their id (NotFound
        says what matched, or that nothing did)."""
        return self._history.find_client(text)
