"""Reading a session for an export, and the export's audit row.

The rows come from the repositories once each; `export/content.py` scopes them to one
participant (`scoped`), and the formats render what it gives. The event list's timeline is
built from the same rows (`services/session_log.py`), so the export reads nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from kapsession.export.content import (
    ExportContent,
    ExportRefused,
    FollowedSession,
    SessionRows,
    exportable,
    scoped,
    session_protocol,
)
from kapsession.records.errors import NotFound
from kapsession.records.measures import MeasureRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.session_log import log_items
from kapsession.storage.adverse_events import AdverseEventRepository
from kapsession.storage.audit import AuditRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.dose_orders import DoseOrderRepository
from kapsession.storage.entries import EntryRepository
from kapsession.storage.music_log import MusicLogRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.outcome_measures import OutcomeMeasureRepository
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
    protocol = session_protocol(record)
    adverse = AdverseEventRepository(database)  # issue 16
    adverse_events = adverse.adverse_events(session_id)
    interventions = adverse.interventions(session_id)
    counts = adverse.substance_counts(session_id)
    orders = DoseOrderRepository(database).orders(session_id, include_history=True)
    timeline = log_items(
        events=events,
        doses=doses,
        observations=observations,
        alerts=alerts,
        notes=notes,
        music=music,
        signatures=signatures,
        staff_names={s.id: s.signature_name for s in staff.values()},
        checkin_labels={c.key: c.label for c in protocol.checkins},
        adverse_events=adverse_events,
        interventions=interventions,
        substance_counts=counts,
        orders=orders,
    )
    return SessionRows(
        session=record,
        protocol=protocol,
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
        addenda_verified=signatures_repo.verify_addenda(session_id),
        timeline=timeline,
        private_notes=notes_repo.private_notes(session_id) if include_private else None,
        orders=orders,
        adverse_events=adverse_events,
        interventions=interventions,
        substance_counts=counts,
        measures=session_measures(database, record),  # issue 17
        followed=followed_sessions(database, record),
    )


def followed_sessions(
    database: Database, record: SessionRecord
) -> dict[uuid.UUID, FollowedSession]:
    """The dosing sessions the participants of an integration session follow (issue 17)."""
    found: dict[uuid.UUID, FollowedSession] = {}
    repository = SessionRepository(database)
    for participant in record.participants:
        followed_id = participant.follows_session_id
        if followed_id is None or followed_id in found:
            continue
        followed = repository.get(followed_id)
        found[followed_id] = FollowedSession(
            id=followed.id,
            held_at=followed.started_at or followed.created_at,
            protocol_name=followed.protocol_name,
            protocol_version=followed.protocol_version,
        )
    return found


def session_measures(database: Database, record: SessionRecord) -> list[MeasureRecord]:
    """The outcome measures a session's export carries (issue 17), every version: each
    participant's administrations given in the session, and those given outside any session
    on the session's day (local time: a form filled in the waiting room and entered without
    the session). An administration goes with all its versions, by where and when its newest
    version says it was given."""
    day = (record.started_at or record.created_at).astimezone().date()
    repository = OutcomeMeasureRepository(database)
    found: list[MeasureRecord] = []
    for participant in record.participants:
        rows = repository.history(participant.client.id)
        by_id = {r.id: r for r in rows}
        chains: dict[uuid.UUID, list[MeasureRecord]] = {}
        for row in rows:
            first = row
            while first.corrects_id is not None and first.corrects_id in by_id:
                first = by_id[first.corrects_id]
            chains.setdefault(first.id, []).append(row)
        for chain in chains.values():
            newest = max(chain, key=lambda r: r.recorded_at)
            if newest.session_id == record.id or (
                newest.session_id is None and newest.occurred_at.astimezone().date() == day
            ):
                found += chain
    return sorted(found, key=lambda r: (r.occurred_at, r.recorded_at))


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
