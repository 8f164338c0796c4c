"""Discharge: the assessment as recorded, and the `discharge` event, in one transaction.

A participant's discharge is never an update of the participant: it is the assessment row plus
a session event of kind `discharge`, both append-only. A participant is discharged once; a
mistaken discharge is corrected by voiding its event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kapsession.domain.corrections import effective
from kapsession.records.entries import ALDRETE_ITEM_KEYS, DischargeAssessmentRecord, EventRecord
from kapsession.records.errors import AlreadyDone, StorageError
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database
from kapsession.storage.entries import NewEvent, add_event_row, event_record
from kapsession.storage.entry_rules import check_entry_time, check_participant, open_session

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

DISCHARGE_EVENT = "discharge"


def _record(row: models.DischargeAssessment) -> DischargeAssessmentRecord:
    return DischargeAssessmentRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        observation_id=row.observation_id,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        recorded_by_id=row.recorded_by_id,
        aldrete={key: getattr(row, f"aldrete_{key}") for key in ALDRETE_ITEM_KEYS},
        aldrete_total=row.aldrete_total,
        on_room_air=row.on_room_air,
        checklist={str(k): bool(v) for k, v in row.checklist.items()},
        ready=row.ready,
        ready_minutes_after_first_dose=row.ready_minutes_after_first_dose,
        problems=tuple(str(p) for p in row.problems),
        override_reason=row.override_reason,
        override_by=row.override_by,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def _standing_discharges(orm: OrmSession, session_id: uuid.UUID) -> list[models.SessionEvent]:
    rows = list(
        orm.scalars(
            select(models.SessionEvent)
            .where(
                models.SessionEvent.session_id == session_id,
                models.SessionEvent.kind == DISCHARGE_EVENT,
            )
            .order_by(models.SessionEvent.occurred_at)
        )
    )
    standing_ids = {record.id for record in effective(event_record(row) for row in rows)}
    return [row for row in rows if row.id in standing_ids]


class DischargeRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def record(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        aldrete: Mapping[str, int | None],
        aldrete_total: int,
        on_room_air: bool,
        checklist: Mapping[str, bool],
        ready: bool,
        ready_minutes_after_first_dose: int | None,
        problems: Sequence[str],
        observation_id: uuid.UUID | None = None,
        override_reason: str | None = None,
        override_by: str | None = None,
        label: str = "Discharged",
        by: uuid.UUID | None = None,
        with_events: Sequence[NewEvent] = (),
    ) -> tuple[DischargeAssessmentRecord, EventRecord, tuple[EventRecord, ...]]:
        """Save the assessment and the discharge event, and `with_events` (a protocol
        deviation) after it, all returned; refused if already discharged."""
        unknown = set(aldrete) - set(ALDRETE_ITEM_KEYS)
        if unknown:
            raise StorageError(f"Unknown Aldrete items {sorted(unknown)}; this is a program error.")
        if not ready and not (override_reason or "").strip():
            raise StorageError(
                "The discharge check does not pass; write the reason for discharging anyway."
            )
        with self._db.write("save the discharge") as orm:
            session = open_session(orm, session_id)
            check_participant(orm, session_id, participant_id)
            check_entry_time(session, occurred_at, recorded_at, "discharge")
            for earlier in _standing_discharges(orm, session_id):
                if earlier.participant_id == participant_id:
                    when = earlier.occurred_at.astimezone().strftime("%H:%M")
                    raise AlreadyDone(
                        f"This participant was already discharged at {when}. To change that, "
                        "correct the discharge entry."
                    )
            row = models.DischargeAssessment(
                session_id=session_id,
                participant_id=participant_id,
                observation_id=observation_id,
                recorded_by_id=by,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                aldrete_total=aldrete_total,
                on_room_air=on_room_air,
                checklist=dict(checklist),
                ready=ready,
                ready_minutes_after_first_dose=ready_minutes_after_first_dose,
                problems=list(problems),
                override_reason=(override_reason or "").strip() or None,
                override_by=(override_by or "").strip() or None,
                **{f"aldrete_{key}": aldrete.get(key) for key in ALDRETE_ITEM_KEYS},
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action="discharge.assess",
                entity="discharge_assessment",
                entity_id=row.id,
                session_id=session_id,
                detail={"ready": ready, "override": row.override_reason is not None},
            )
            detail: dict[str, Any] = {
                "assessment_id": str(row.id),
                "aldrete_total": aldrete_total,
                "ready": ready,
                "ready_minutes_after_first_dose": ready_minutes_after_first_dose,
            }
            if row.override_reason is not None:
                detail["override_reason"] = row.override_reason
                detail["override_by"] = row.override_by
            orm.flush()  # the assessment's rows before the event's
            event = add_event_row(
                orm.connection(),
                session_id,
                NewEvent(DISCHARGE_EVENT, label, detail),
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                participant_id=participant_id,
                by=by,
            )
            added = tuple(
                add_event_row(
                    orm.connection(),
                    session_id,
                    # the deviation names its discharge: withdrawn with it (entries.py)
                    NewEvent(
                        extra.kind, extra.label, {**extra.detail, "discharge_id": str(event.id)}
                    ),
                    occurred_at=occurred_at,
                    recorded_at=recorded_at,
                    participant_id=participant_id,
                    by=by,
                )
                for extra in with_events
            )
            return _record(row), event, added

    def assessments(
        self, session_id: uuid.UUID, *, include_history: bool = False
    ) -> list[DischargeAssessmentRecord]:
        with self._db.read() as orm:
            rows = orm.scalars(
                select(models.DischargeAssessment)
                .where(models.DischargeAssessment.session_id == session_id)
                .order_by(
                    models.DischargeAssessment.occurred_at, models.DischargeAssessment.recorded_at
                )
            )
            records = [_record(row) for row in rows]
        return records if include_history else effective(records)

    def discharged(self, session_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
        """When each discharged participant left: their standing discharge event."""
        with self._db.read() as orm:
            return {
                row.participant_id: row.occurred_at
                for row in _standing_discharges(orm, session_id)
                if row.participant_id is not None
            }
