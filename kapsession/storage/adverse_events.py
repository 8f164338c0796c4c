"""Adverse events, interventions and controlled-substance counts (issue 16): written, corrected
and read like every clinical entry.

Every method commits before it returns. A new entry is refused when its session takes no more
entries, its participant is of another session, or its time is in the future or before the
start (`entry_rules`); a correction is a new row pointing at the standing original
(`corrections.append_correction`), with its reason: an adverse event that resolved later is
its correction with the resolution time and the outcome. What is written is checked by the
domain (`domain.adverse_events`) before it comes here; the repository checks what only the
database knows (the alert, the adverse event, the dose belong to the same participant).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Row, select

from kapsession.domain.adverse_events import (
    AdverseEventEntry,
    InterventionEntry,
    SubstanceCount,
    witness_problem,
)
from kapsession.records.adverse import AdverseEventRecord, InterventionRecord, SubstanceRecord
from kapsession.records.errors import StorageError
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.corrections import (
    E,
    append_correction,
    correction_reason,
    standing_original,
)
from kapsession.storage.database import Database
from kapsession.storage.entries import in_time_order
from kapsession.storage.entry_rules import check_entry_time, check_participant, open_session

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

R = TypeVar("R")  # the record a correction is returned as


def adverse_event_record(row: models.AdverseEvent | Row[Any]) -> AdverseEventRecord:
    return AdverseEventRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        kind=row.kind,
        other=row.other,
        severity=row.severity,
        seriousness=row.seriousness,
        outcome=row.outcome,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        resolved_at=row.resolved_at,
        alert_id=row.alert_id,
        actions=row.actions,
        recorded_by_id=row.recorded_by_id,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def intervention_record(row: models.Intervention | Row[Any]) -> InterventionRecord:
    return InterventionRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        kind=row.kind,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        medication=row.medication,
        dose=row.dose,
        unit=row.unit,
        route=row.route,
        lot_number=row.lot_number,
        flow_l_min=row.flow_l_min,
        device=row.device,
        text=row.text,
        given_by_id=row.given_by_id,
        adverse_event_id=row.adverse_event_id,
        alert_id=row.alert_id,
        recorded_by_id=row.recorded_by_id,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def substance_record(row: models.ControlledSubstance | Row[Any]) -> SubstanceRecord:
    return SubstanceRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        dose_id=row.dose_id,
        medication=row.medication,
        drawn_mg=row.drawn_mg,
        given_mg=row.given_mg,
        wasted_mg=row.wasted_mg,
        witness_id=row.witness_id,
        comment=row.comment,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        recorded_by_id=row.recorded_by_id,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def _check_owned(
    orm: OrmSession,
    table: Any,
    entry_id: uuid.UUID | None,
    participant_id: uuid.UUID,
    what: str,
) -> None:
    """Refuse a linked alert, adverse event or dose of another participant (or none such)."""
    if entry_id is None:
        return
    owner = orm.execute(select(table.c.participant_id).where(table.c.id == entry_id)).scalar()
    if owner != participant_id:
        raise StorageError(f"That {what} is not this participant's; choose one of theirs.")


def _adverse_values(entry: AdverseEventEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "other": entry.other,
        "severity": entry.severity.value,
        "seriousness": entry.seriousness.value,
        "outcome": entry.outcome.value,
        "occurred_at": entry.onset_at,
        "resolved_at": entry.resolved_at,
        "alert_id": entry.alert_id,
        "actions": entry.actions,
    }


def _intervention_values(entry: InterventionEntry) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "occurred_at": entry.given_at,
        "medication": entry.medication or None,
        "dose": entry.dose,
        "unit": entry.unit or None,
        "route": entry.route or None,
        "lot_number": entry.lot_number or None,
        "flow_l_min": entry.flow_l_min,
        "device": entry.device or None,
        "text": entry.text,
    }


class AdverseEventRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # adverse events -----------------------------------------------------------------------
    def add_adverse_event(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        entry: AdverseEventEntry,
        *,
        recorded_at: datetime,
        by: uuid.UUID | None,
    ) -> AdverseEventRecord:
        with self._db.write("save the adverse event") as orm:
            session = open_session(orm, session_id)
            check_participant(orm, session_id, participant_id)
            check_entry_time(session, entry.onset_at, recorded_at, "adverse event")
            alert_id = entry.alert_id if isinstance(entry.alert_id, uuid.UUID) else None
            _check_owned(orm, schema.alert, alert_id, participant_id, "alert")
            row = models.AdverseEvent(
                session_id=session_id,
                participant_id=participant_id,
                recorded_by_id=by,
                recorded_at=recorded_at,
                **_adverse_values(entry),
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action="adverse_event.add",
                entity="adverse_event",
                entity_id=row.id,
                session_id=session_id,
            )
            return adverse_event_record(row)

    def correct_adverse_event(
        self,
        original_id: uuid.UUID,
        entry: AdverseEventEntry | None,
        *,
        reason: str,
        recorded_at: datetime,
        voids: bool = False,
        by: uuid.UUID | None,
    ) -> AdverseEventRecord:
        """The adverse event as it stands now (resolved, its outcome …), or withdrawn (`voids`,
        entry None): a new row; the original stays."""
        return self._correct(
            models.AdverseEvent,
            adverse_event_record,
            original_id,
            "adverse event",
            None if entry is None else (entry.onset_at, _adverse_values(entry)),
            reason=reason,
            recorded_at=recorded_at,
            voids=voids,
            by=by,
        )

    def adverse_events(self, session_id: uuid.UUID) -> list[AdverseEventRecord]:
        """Every version, in time order."""
        with self._db.rows() as rows:
            return [
                adverse_event_record(row)
                for row in rows.execute(in_time_order(schema.adverse_event, session_id))
            ]

    # interventions ------------------------------------------------------------------------
    def add_intervention(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        entry: InterventionEntry,
        *,
        recorded_at: datetime,
        given_by: uuid.UUID | None,
        adverse_event_id: uuid.UUID | None = None,
        alert_id: uuid.UUID | None = None,
        by: uuid.UUID | None,
    ) -> InterventionRecord:
        with self._db.write("save the intervention") as orm:
            session = open_session(orm, session_id)
            check_participant(orm, session_id, participant_id)
            check_entry_time(session, entry.given_at, recorded_at, "intervention")
            _check_owned(orm, schema.alert, alert_id, participant_id, "alert")
            _check_owned(
                orm, schema.adverse_event, adverse_event_id, participant_id, "adverse event"
            )
            row = models.Intervention(
                session_id=session_id,
                participant_id=participant_id,
                given_by_id=given_by,
                adverse_event_id=adverse_event_id,
                alert_id=alert_id,
                recorded_by_id=by,
                recorded_at=recorded_at,
                **_intervention_values(entry),
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action=f"intervention.{entry.kind.value}",
                entity="intervention",
                entity_id=row.id,
                session_id=session_id,
            )
            return intervention_record(row)

    def correct_intervention(
        self,
        original_id: uuid.UUID,
        entry: InterventionEntry | None,
        *,
        reason: str,
        recorded_at: datetime,
        voids: bool = False,
        by: uuid.UUID | None,
    ) -> InterventionRecord:
        return self._correct(
            models.Intervention,
            intervention_record,
            original_id,
            "intervention",
            None if entry is None else (entry.given_at, _intervention_values(entry)),
            reason=reason,
            recorded_at=recorded_at,
            voids=voids,
            by=by,
        )

    def interventions(self, session_id: uuid.UUID) -> list[InterventionRecord]:
        with self._db.rows() as rows:
            return [
                intervention_record(row)
                for row in rows.execute(in_time_order(schema.intervention, session_id))
            ]

    def _correct(
        self,
        model: type[E],
        record: Callable[[E], R],
        original_id: uuid.UUID,
        what: str,
        changed: tuple[datetime, Mapping[str, Any]] | None,
        *,
        reason: str,
        recorded_at: datetime,
        voids: bool,
        by: uuid.UUID | None,
    ) -> R:
        """A new row standing for the entry (`changed`: its time and values) or withdrawing it
        (None), as its record; the original stays."""
        why = correction_reason(reason, "A correction needs a reason: write why it changed.")
        with self._db.write("save the correction") as orm:
            original, session = standing_original(orm, model, original_id, what)
            changes: Mapping[str, Any] = {}
            if changed is not None:
                at, changes = changed
                check_entry_time(session, at, recorded_at, what)
            row = append_correction(
                orm,
                original,
                changes,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action=f"{model.__tablename__}.correct",
            )
            return record(row)

    # controlled-substance counts ----------------------------------------------------------
    def add_substance_count(
        self,
        dose_id: uuid.UUID,
        count: SubstanceCount,
        *,
        witness_id: uuid.UUID | None,
        comment: str = "",
        recorded_at: datetime,
        by: uuid.UUID | None,
    ) -> SubstanceRecord:
        """The count of a dose, at the time it is recorded. A waste needs a witness other than
        the person recording it (their PIN is the service's to check)."""
        problem = witness_problem(by, witness_id, count.wasted_mg)
        if problem is not None:
            raise StorageError(problem)
        with self._db.write("save the controlled-substance count") as orm:
            dose = orm.get(models.Dose, dose_id)
            if dose is None:
                raise StorageError("No such dose: record the count from the dose's row.")
            session = open_session(orm, dose.session_id)
            check_entry_time(session, recorded_at, recorded_at, "count")
            row = models.ControlledSubstance(
                session_id=dose.session_id,
                participant_id=dose.participant_id,
                dose_id=dose_id,
                medication=dose.medication,
                drawn_mg=count.drawn_mg,
                given_mg=count.given_mg,
                wasted_mg=count.wasted_mg,
                witness_id=witness_id if count.needs_witness else None,
                comment=comment.strip(),
                recorded_by_id=by,
                occurred_at=recorded_at,
                recorded_at=recorded_at,
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action="controlled_substance.add",
                entity="controlled_substance",
                entity_id=row.id,
                session_id=dose.session_id,
                detail={"dose": str(dose_id), "witness": str(row.witness_id or "")},
            )
            return substance_record(row)

    def correct_substance_count(
        self,
        original_id: uuid.UUID,
        count: SubstanceCount | None,
        *,
        witness_id: uuid.UUID | None,
        reason: str,
        recorded_at: datetime,
        voids: bool = False,
        by: uuid.UUID | None,
    ) -> SubstanceRecord:
        why = correction_reason(reason, "A correction needs a reason: write why it changed.")
        if count is not None:
            problem = witness_problem(by, witness_id, count.wasted_mg)
            if problem is not None:
                raise StorageError(problem)
        with self._db.write("save the correction") as orm:
            original, _session = standing_original(
                orm, models.ControlledSubstance, original_id, "count"
            )
            changes: dict[str, Any] = {}
            if count is not None:
                changes = {
                    "drawn_mg": count.drawn_mg,
                    "given_mg": count.given_mg,
                    "wasted_mg": count.wasted_mg,
                    "witness_id": witness_id if count.needs_witness else None,
                }
            row = append_correction(
                orm,
                original,
                changes,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action="controlled_substance.correct",
            )
            return substance_record(row)

    def substance_counts(self, session_id: uuid.UUID) -> list[SubstanceRecord]:
        with self._db.rows() as rows:
            return [
                substance_record(row)
                for row in rows.execute(in_time_order(schema.controlled_substance, session_id))
            ]
