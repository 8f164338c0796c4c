"""Music as clinical data: every track start and end, skip, pause, volume and transition."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from kapsession.records.entries import MusicEventRecord
from kapsession.records.errors import NotFound, RecordLocked, StorageError
from kapsession.records.sessions import SessionStatus
from kapsession.storage import schema
from kapsession.storage.database import Database
from kapsession.storage.entries import in_time_order

if TYPE_CHECKING:
    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

MUSIC_EVENT_KINDS = (
    "track_start",
    "track_end",
    "skip",
    "pause",
    "resume",
    "quiet",
    "volume",
    "seek",
    "playlist_switch",
    "phase_transition",
    "error",
    "stop",
)


def _record(row: models.MusicEvent | Row[Any]) -> MusicEventRecord:
    return MusicEventRecord(
        id=row.id,
        session_id=row.session_id,
        kind=row.kind,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        track_path=row.track_path,
        track_title=row.track_title,
        playlist=row.playlist,
        position_ms=row.position_ms,
        volume_pct=row.volume_pct,
        phase_key=row.phase_key,
        detail=dict(row.detail),
    )


class MusicLogRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        session_id: uuid.UUID,
        kind: str,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        track_path: str | None = None,
        track_title: str | None = None,
        playlist: str | None = None,
        position_ms: int | None = None,
        volume_pct: float | None = None,
        phase_key: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> MusicEventRecord:
        """Commit one music event (no audit row: music events are not changes to the record)."""
        if kind not in MUSIC_EVENT_KINDS:
            raise StorageError(f"Unknown music event kind {kind!r}.")
        with self._db.write("log the music") as orm:
            session = orm.get(models.Session, session_id)
            if session is None:
                raise NotFound(f"No session with id {session_id}.")
            if session.status == SessionStatus.SIGNED:
                raise RecordLocked("This session is signed and locked; music is not logged.")
            row = models.MusicEvent(
                session_id=session_id,
                kind=kind,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                track_path=track_path,
                track_title=track_title,
                playlist=playlist,
                position_ms=position_ms,
                volume_pct=volume_pct,
                phase_key=phase_key,
                detail=detail or {},
            )
            orm.add(row)
            orm.flush()
            return _record(row)

    def for_session(self, session_id: uuid.UUID) -> list[MusicEventRecord]:
        with self._db.rows() as rows:
            return [
                _record(row) for row in rows.execute(in_time_order(schema.music_event, session_id))
            ]
