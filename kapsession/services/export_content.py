"""Reading a session for an export, and the export's audit row.

The rows come from the repositories once each; `export/content.py` scopes them to one
participant (`scoped`), and the formats render what it gives. The event list's timeline is
built from the same rows (`services/session_log.py`), so the export reads nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from kapsession.export.content import ExportContent, ExportRefused, SessionRows, exportable, scoped
from kapsession.records.errors import NotFound
from kapsession.records.sessions import SessionRecord
from kapsession.services.session_log import log_items
from kapsession.storage.audit import AuditRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.entries import EntryRepository
from kapsession.storage.music_log import MusicLogRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.people import StaffRepository
from kapsession.storage.sessions import SessionRepository
from kapsession.storage.signatures import SignatureRepository


def gather(
    database: Database,
    session_id: uuid.UUID,
    *,
    participant: str | None = None,
    include_private: bool = False,
    exported_at: datetime | None = None,
) -> ExportContent:
    """Read the session and scope it to one participant (`export.content` has the rules)."""
    try:
        record = SessionRepository(database).get(session_id)
    except NotFound as exc:
        raise ExportRefused(
            f"No session with id {session_id}; `kapsession sessions` lists them."
        ) from exc
    chosen = exportable(record, participant)  # refused before anything else is read
    rows = _rows(database, record, include_private=include_private)
    return scoped(rows, chosen, exported_at=exported_at)


def _rows(database: Database, record: SessionRecord, *, include_private: bool) -> SessionRows:
    session_id = record.id
    entries, checkins = EntryRepository(database), CheckinRepository(database)
    notes_repo = NoteRepository(database)
    signatures_repo = SignatureRepository(database)
    staff = {s.id: s for s in StaffRepository(database).all()}
    events = entries.events(session_id, include_history=True)
    doses = entries.doses(session_id, include_history=True)
    observations = checkins.observations(session_id, include_history=True)
    alerts = checkins.alerts(session_id)
    notes = notes_repo.notes(session_id)
    music = MusicLogRepository(database).for_session(session_id)
    signatures = signatures_repo.signatures(session_id)
    timeline = log_items(
        events=events,
        doses=doses,
        observations=observations,
        alerts=alerts,
        notes=notes,
        music=music,
        signatures=signatures,
        staff_names={s.id: s.signature_name for s in staff.values()},
    )
    return SessionRows(
        session=record,
        staff=staff,
        doses=doses,
        observations=observations,
        alerts=alerts,
        events=events,
        notes=notes,
        music=music,
        discharges=DischargeRepository(database).assessments(session_id, include_history=True),
        signatures=signatures,
        signatures_verified=signatures_repo.verify(session_id),
        timeline=timeline,
        private_notes=notes_repo.private_notes(session_id) if include_private else None,
    )


def record_export(
    database: Database,
    content: ExportContent,
    *,
    export_format: str,
    destination: str,
    at: datetime,
    by: uuid.UUID | None,
) -> None:
    """The audit row of an export: what, for whom, where, and whether it was a draft."""
    AuditRepository(database).add(
        "export",
        at=at,
        staff_id=by,
        entity="session",
        entity_id=content.session.id,
        session_id=content.session.id,
        detail={
            "format": export_format,
            "participant": str(content.participant.id),
            "destination": destination,
            "draft": content.draft,
            "private_notes_included": content.private_notes is not None,
        },
    )
