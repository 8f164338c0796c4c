"""Clinical entries on the session clock: events and doses (check-ins are in `checkins.py`).

Every method commits before it returns: an entry is on disk the moment it is entered.
Corrections are new rows pointing at the original; `effective()` gives the current view.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, Table, select
from sqlalchemy.engine import Connection

from kapsession.domain.corrections import effective
from kapsession.records.entries import DoseRecord, EventRecord
from kapsession.records.errors import NotFound, StorageError
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.corrections import append_correction, correction_reason, standing_original
from kapsession.storage.database import Database
from kapsession.storage.driver import driver_of, insert_audit, table_writer
from kapsession.storage.entry_rules import check_entry_time, check_participant, open_session

if TYPE_CHECKING:
    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

EVENT_KINDS = (
    "session_start",
    "phase_change",
    "marker",
    "checkin",
    "alert",
    "session_end",
    "hold_dose_caution",  # the baseline BP was above the caution limit; the dose went ahead
    "hold_dose_override",  # dosed despite a block (or no baseline), with the reason
    "device_given",  # intranasal: a device after the first of a dose
    "dose_plan",  # staggered dosing: the planned dose time of each participant
    "discharge",  # the participant left; the assessment is in discharge_assessment
    "handover",  # another staff member took a place on the team (detail: role, from, to)
)
DOSE_KINDS = ("initial", "booster")


@dataclass(frozen=True)
class NewEvent:
    """An event written in the same transaction as another entry (a dose's hold-dose override)."""

    kind: str
    label: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def in_time_order(table: Table, session_id: uuid.UUID) -> Select[Any]:
    """The session's entries of a table in time order (when they happened, then when they
    were written)."""
    return (
        select(table)
        .where(table.c.session_id == session_id)
        .order_by(table.c.occurred_at, table.c.recorded_at)
    )


def event_record(row: models.SessionEvent | Row[Any]) -> EventRecord:
    return EventRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        kind=row.kind,
        label=row.label,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        recorded_by_id=row.recorded_by_id,
        detail=dict(row.detail),
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def dose_record(row: models.Dose | Row[Any]) -> DoseRecord:
    return DoseRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        kind=row.kind,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        medication=row.medication,
        route=row.route,
        dose_mg=row.dose_mg,
        lot_number=row.lot_number,
        given_by_id=row.given_by_id,
        recorded_by_id=row.recorded_by_id,
        detail=dict(row.detail),
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
        weight_kg=row.weight_kg,
        dose_mg_per_kg=row.dose_mg_per_kg,
        device_count=row.device_count,
    )


def add_event_row(
    rows: Connection,
    session_id: uuid.UUID,
    event: NewEvent,
    *,
    occurred_at: datetime,
    recorded_at: datetime,
    participant_id: uuid.UUID | None,
    by: uuid.UUID | None,
) -> EventRecord:
    """An event row and its audit row inside the caller's transaction, sent at the driver's
    level as its corrections are (`corrections.append_correction`); the record is made from the
    values written. A caller inside an ORM transaction flushes first and passes its connection,
    so that the rows keep the order they were made in."""
    if event.kind not in EVENT_KINDS:
        raise StorageError(f"Unknown event kind {event.kind!r}.")
    record = EventRecord(
        id=uuid.uuid4(),
        session_id=session_id,
        participant_id=participant_id,
        kind=event.kind,
        label=event.label,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        recorded_by_id=by,
        detail=dict(event.detail),
    )
    dialect = rows.dialect.name
    table = table_writer(dialect, "session_event")
    row = {
        "id": record.id,
        "session_id": session_id,
        "participant_id": participant_id,
        "kind": record.kind,
        "label": record.label,
        "detail": record.detail,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "recorded_by_id": by,
        "corrects_id": None,
        "correction_reason": None,
        "voids": False,
    }
    driver = driver_of(rows)
    driver.execute(table.insert, table.row(table.converted(row)))
    insert_audit(
        driver,
        dialect,
        at=recorded_at,
        staff_id=by,
        action=f"event.{event.kind}",
        entity="session_event",
        entity_id=record.id,
        session_id=session_id,
        detail={},
    )
    return record


class EntryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add_event(
        self,
        session_id: uuid.UUID,
        kind: str,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        label: str = "",
        participant_id: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
        by: uuid.UUID | None = None,
    ) -> EventRecord:
        if kind not in EVENT_KINDS:
            raise StorageError(f"Unknown event kind {kind!r}.")
        with self._db.write_rows("save the event") as rows:
            open_session(rows, session_id)
            if participant_id is not None:
                check_participant(rows, session_id, participant_id)
            return add_event_row(
                rows,
                session_id,
                NewEvent(kind, label, detail or {}),
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                participant_id=participant_id,
                by=by,
            )

    def correct_event(
        self,
        original_id: uuid.UUID,
        *,
        reason: str,
        recorded_at: datetime,
        label: str | None = None,
        occurred_at: datetime | None = None,
        voids: bool = False,
        by: uuid.UUID | None = None,
    ) -> EventRecord:
        """A new event replacing (or, with `voids`, retracting) the original; both are kept."""
        why = correction_reason(reason, "A correction needs a reason.")
        with self._db.write("save the correction") as orm:
            original, _session = standing_original(orm, models.SessionEvent, original_id, "event")
            changes: dict[str, Any] = {}
            if label is not None:
                changes["label"] = label
            if occurred_at is not None:
                changes["occurred_at"] = occurred_at
            row = append_correction(
                orm,
                original,
                changes,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action="event.correct",
            )
            return event_record(row)

    def add_dose(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        kind: str = "initial",
        medication: str | None = None,
        route: str | None = None,
        dose_mg: float | None = None,
        lot_number: str | None = None,
        given_by: uuid.UUID | None = None,
        weight_kg: float | None = None,
        dose_mg_per_kg: float | None = None,
        device_count: int | None = None,
        detail: dict[str, Any] | None = None,
        with_events: Sequence[NewEvent] = (),
        by: uuid.UUID | None = None,
    ) -> tuple[DoseRecord, tuple[EventRecord, ...]]:
        """A dose given at `occurred_at` (in the past for a late entry), with `with_events`
        (a hold-dose caution or override) in the same transaction: all saved, or none. Returned:
        the dose and the events written with it."""
        if kind not in DOSE_KINDS:
            raise StorageError("A dose is either the initial dose or a booster.")
        with self._db.write("save the dose") as orm:
            session = open_session(orm, session_id)
            check_participant(orm, session_id, participant_id)
            check_entry_time(session, occurred_at, recorded_at, "dose")
            row = models.Dose(
                session_id=session_id,
                participant_id=participant_id,
                kind=kind,
                medication=medication,
                route=route,
                dose_mg=dose_mg,
                lot_number=(lot_number or "").strip() or None,
                given_by_id=given_by,
                weight_kg=weight_kg,
                dose_mg_per_kg=dose_mg_per_kg,
                device_count=device_count,
                recorded_by_id=by,
                detail=detail or {},
                occurred_at=occurred_at,
                recorded_at=recorded_at,
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action=f"dose.{kind}",
                entity="dose",
                entity_id=row.id,
                session_id=session_id,
            )
            orm.flush()  # the dose's audit row before the events' rows
            events = tuple(
                add_event_row(
                    orm.connection(),
                    session_id,
                    NewEvent(event.kind, event.label, {**event.detail, "dose_id": str(row.id)}),
                    occurred_at=occurred_at,
                    recorded_at=recorded_at,
                    participant_id=participant_id,
                    by=by,
                )
                for event in with_events
            )
            return dose_record(row), events

    def correct_dose(
        self,
        original_id: uuid.UUID,
        *,
        reason: str,
        recorded_at: datetime,
        occurred_at: datetime | None = None,
        dose_mg: float | None = None,
        lot_number: str | None = None,
        weight_kg: float | None = None,
        dose_mg_per_kg: float | None = None,
        device_count: int | None = None,
        given_by: uuid.UUID | None = None,
        voids: bool = False,
        by: uuid.UUID | None = None,
    ) -> DoseRecord:
        """A new dose row replacing (or, with `voids`, retracting) the original; both are kept.

        Values not given are copied from the original.
        """
        why = correction_reason(
            reason, "A correction needs a reason: write why the dose is corrected."
        )
        with self._db.write("save the correction") as orm:
            original, session = standing_original(orm, models.Dose, original_id, "dose")
            when = original.occurred_at if occurred_at is None else occurred_at
            check_entry_time(session, when, recorded_at, "dose")
            given = {
                "occurred_at": when,
                "dose_mg": dose_mg,
                "lot_number": (lot_number or "").strip() or None,
                "given_by_id": given_by,
                "weight_kg": weight_kg,
                "dose_mg_per_kg": dose_mg_per_kg,
                "device_count": device_count,
            }
            row = append_correction(
                orm,
                original,
                {name: value for name, value in given.items() if value is not None},
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action="dose.correct",
            )
            return dose_record(row)

    def events(self, session_id: uuid.UUID, *, include_history: bool = False) -> list[EventRecord]:
        """Session events in time order; with `include_history`, corrected originals too."""
        with self._db.rows() as rows:
            records = [
                event_record(row)
                for row in rows.execute(in_time_order(schema.session_event, session_id))
            ]
        return records if include_history else effective(records)

    def dose(self, dose_id: uuid.UUID) -> DoseRecord:
        with self._db.rows() as rows:
            row = rows.execute(select(schema.dose).where(schema.dose.c.id == dose_id)).first()
        if row is None:
            raise NotFound(f"No dose with id {dose_id}.")
        return dose_record(row)

    def doses(self, session_id: uuid.UUID, *, include_history: bool = False) -> list[DoseRecord]:
        with self._db.rows() as rows:
            records = [
                dose_record(row) for row in rows.execute(in_time_order(schema.dose, session_id))
            ]
        return records if include_history else effective(records)

    def first_doses(self, session_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
        """Each participant's T0: the time of their earliest standing dose."""
        first: dict[uuid.UUID, datetime] = {}
        for dose in self.doses(session_id):
            if dose.participant_id not in first or dose.occurred_at < first[dose.participant_id]:
                first[dose.participant_id] = dose.occurred_at
        return first

    def done_checkins(self, session_id: uuid.UUID) -> dict[uuid.UUID, set[str]]:
        """Check-in keys with a standing observation, per participant."""
        observation = schema.observation
        with self._db.rows() as connection:
            rows = connection.execute(
                select(
                    observation.c.id,
                    observation.c.participant_id,
                    observation.c.checkin_key,
                    observation.c.corrects_id,
                    observation.c.voids,
                ).where(observation.c.session_id == session_id)
            ).all()
        superseded = {r.corrects_id for r in rows if r.corrects_id is not None}
        done: dict[uuid.UUID, set[str]] = {}
        for r in rows:
            if r.checkin_key and r.id not in superseded and not r.voids:
                done.setdefault(r.participant_id, set()).add(r.checkin_key)
        return done
