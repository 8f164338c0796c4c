"""Clinical entries on the session clock: events and doses (check-ins are in `checkins.py`).

Every method commits before it returns: an entry is on disk the moment it is entered.
Corrections are new rows pointing at the original; `effective()` gives the current view.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, Table, select
from sqlalchemy.engine import Connection

from kapsession.domain.corrections import effective
from kapsession.records.entries import DoseKind, DoseRecord, EventKind, EventRecord
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

EVENT_KINDS = tuple(EventKind)
DOSE_KINDS = tuple(DoseKind)


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
        kind=EventKind(row.kind),
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
        kind=DoseKind(row.kind),
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
        kind=EventKind(event.kind),
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
        "kind": record.kind.value,
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


# The deviations recorded with a dose (detail: dose_id): withdrawn when the dose is.
DOSE_DEVIATIONS = ("dose_override", "hold_dose_override")


def _chain_ids(orm: Any, dose: models.Dose) -> set[str]:
    """The ids of every version of a dose up to `dose`, as its events name them."""
    ids = {str(dose.id)}
    earlier = dose.corrects_id
    while earlier is not None:
        ids.add(str(earlier))
        row = orm.get(models.Dose, earlier)
        earlier = None if row is None else row.corrects_id
    return ids


def withdraw_deviations(
    orm: Any,
    session_id: uuid.UUID,
    kinds: Sequence[str],
    belongs: Callable[[models.SessionEvent], bool],
    *,
    reason: str,
    recorded_at: datetime,
    by: uuid.UUID | None,
) -> tuple[EventRecord, ...]:
    """In the caller's transaction: the standing events of `kinds` that `belongs` to the entry
    being withdrawn, each withdrawn with it (a voiding correction with `reason`), returned."""
    rows = list(
        orm.scalars(
            select(models.SessionEvent)
            .where(
                models.SessionEvent.session_id == session_id,
                models.SessionEvent.kind.in_(kinds),
            )
            .order_by(models.SessionEvent.occurred_at, models.SessionEvent.recorded_at)
        )
    )
    standing = {e.id for e in effective(event_record(row) for row in rows)}
    return tuple(
        event_record(
            append_correction(
                orm,
                row,
                {},
                reason=reason,
                recorded_at=recorded_at,
                by=by,
                voids=True,
                action="event.correct",
            )
        )
        for row in rows
        if row.id in standing and belongs(row)
    )


def _of_discharge(event: models.SessionEvent, discharge: models.SessionEvent) -> bool:
    """The deviation was recorded with this discharge: it names it (`discharge_id`), or,
    written before it did, it is the participant's at the same moment."""
    named = event.detail.get("discharge_id")
    if named is not None:
        return bool(named == str(discharge.id))
    return (
        event.participant_id == discharge.participant_id
        and event.occurred_at == discharge.occurred_at
    )


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
        detail: dict[str, Any] | None = None,
    ) -> EventRecord:
        """A new event replacing (or, with `voids`, retracting) the original; both are kept.
        `detail`: what the event holds, changed (a screening answered again, issue 17)."""
        event, _withdrawn = self.correct_event_with_events(
            original_id,
            reason=reason,
            recorded_at=recorded_at,
            label=label,
            occurred_at=occurred_at,
            voids=voids,
            by=by,
            detail=detail,
        )
        return event

    def correct_event_with_events(
        self,
        original_id: uuid.UUID,
        *,
        reason: str,
        recorded_at: datetime,
        label: str | None = None,
        occurred_at: datetime | None = None,
        voids: bool = False,
        by: uuid.UUID | None = None,
        detail: dict[str, Any] | None = None,
    ) -> tuple[EventRecord, tuple[EventRecord, ...]]:
        """`correct_event`, and what goes with it in the same transaction: a discharge
        withdrawn takes its protocol deviation (`discharge_deviation`) with it."""
        why = correction_reason(reason, "A correction needs a reason.")
        with self._db.write("save the correction") as orm:
            original, _session = standing_original(orm, models.SessionEvent, original_id, "event")
            changes: dict[str, Any] = {}
            if label is not None:
                changes["label"] = label
            if occurred_at is not None:
                changes["occurred_at"] = occurred_at
            if detail is not None:  # an escort or a screening corrected (issue 17)
                changes["detail"] = detail
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
            withdrawn: tuple[EventRecord, ...] = ()
            if voids and original.kind == EventKind.DISCHARGE.value:
                withdrawn = withdraw_deviations(
                    orm,
                    original.session_id,
                    (EventKind.DISCHARGE_DEVIATION.value,),
                    lambda e: _of_discharge(e, original),
                    reason=f"Withdrawn with its discharge: {why}",
                    recorded_at=recorded_at,
                    by=by,
                )
            return event_record(row), withdrawn

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
        dose, _events = self.correct_dose_with_events(
            original_id,
            reason=reason,
            recorded_at=recorded_at,
            occurred_at=occurred_at,
            dose_mg=dose_mg,
            lot_number=lot_number,
            weight_kg=weight_kg,
            dose_mg_per_kg=dose_mg_per_kg,
            device_count=device_count,
            given_by=given_by,
            voids=voids,
            by=by,
        )
        return dose

    def correct_dose_with_events(
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
        detail: dict[str, Any] | None = None,
        with_events: Sequence[NewEvent] = (),
        voids: bool = False,
        by: uuid.UUID | None = None,
    ) -> tuple[DoseRecord, tuple[EventRecord, ...]]:
        """`correct_dose`, and the events written with it in the same transaction, returned
        with it: `with_events` (the prescriber's override of a corrected dose, naming the new
        version), or, when the dose is withdrawn, the withdrawal of its deviations
        (`DOSE_DEVIATIONS`: they go with the dose they were recorded for). `detail`: the new
        version's detail, when it changes."""
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
            changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
            if detail is not None:
                changes["detail"] = detail
            row = append_correction(
                orm,
                original,
                changes,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action="dose.correct",
            )
            if voids:
                chain = _chain_ids(orm, original)
                events = withdraw_deviations(
                    orm,
                    original.session_id,
                    DOSE_DEVIATIONS,
                    lambda e: e.detail.get("dose_id") in chain,
                    reason=f"Withdrawn with its dose: {why}",
                    recorded_at=recorded_at,
                    by=by,
                )
            else:
                events = tuple(
                    add_event_row(
                        orm.connection(),
                        original.session_id,
                        NewEvent(event.kind, event.label, {**event.detail, "dose_id": str(row.id)}),
                        occurred_at=row.occurred_at,
                        recorded_at=recorded_at,
                        participant_id=row.participant_id,
                        by=by,
                    )
                    for event in with_events
                )
            return dose_record(row), events

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
