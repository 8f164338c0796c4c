"""Check-in readings and their alerts: saved together, corrected by new rows, acknowledged once.

A reading, the alerts it raised and the audit row are one transaction: a reading is never on
disk without its alerts, nor an alert without its reading. Alerts stay open until a staff
member acknowledges them, even when their reading is corrected later (the correction is then
shown beside the alert, and the acknowledgement can say so).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError

from kapsession.domain.alert_followup import follow_up_problem
from kapsession.domain.corrections import effective
from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import READING_FIELDS, AlertHit, Reading
from kapsession.records.entries import (
    AcknowledgementRecord,
    AlertRecord,
    ObservationRecord,
    SavedReading,
)
from kapsession.records.errors import AlreadyDone, NotFound, StorageError
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.checkin_save import (
    checkin_sql,
    client_rules,
    insert_reading,
    new_reading,
)
from kapsession.storage.corrections import append_correction, correction_reason, standing_original
from kapsession.storage.database import Database
from kapsession.storage.entries import in_time_order
from kapsession.storage.entry_rules import check_entry_time, open_session

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

BASELINE_KEY = "baseline"

# Given the client's alert thresholds in force, the alerts a reading raises.
AlertCheck = Callable[[Sequence[AlertRule]], Sequence[AlertHit]]


def observation_record(row: models.Observation | Row[Any]) -> ObservationRecord:
    return ObservationRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        checkin_key=row.checkin_key,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        recorded_by_id=row.recorded_by_id,
        values={name: getattr(row, name) for name in READING_FIELDS},
        on_room_air=row.on_room_air,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
        not_taken=tuple(row.not_taken or ()),
    )


def _alert_record(
    row: models.Alert | Row[Any],
    ack: models.AlertAcknowledgement | Row[Any] | None,
    corrected: bool = False,
) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        observation_id=row.observation_id,
        field=row.field,
        op=row.op,
        threshold=row.threshold,
        value=row.value,
        label=row.label,
        message=row.message,
        raised_at=row.raised_at,
        acknowledged_at=None if ack is None else ack.acknowledged_at,
        acknowledged_by_id=None if ack is None else ack.staff_id,
        acknowledgement_comment="" if ack is None else ack.comment,
        reading_corrected=corrected,
        acknowledgement_action="" if ack is None else ack.action,
    )


def _reading_columns(reading: Reading) -> dict[str, Any]:
    return {name: getattr(reading, name) for name in READING_FIELDS}


def _add_alerts(
    orm: OrmSession, observation: models.Observation, hits: Sequence[AlertHit], raised_at: datetime
) -> list[models.Alert]:
    rows = [
        models.Alert(
            session_id=observation.session_id,
            participant_id=observation.participant_id,
            observation_id=observation.id,
            field=hit.rule.field,
            op=hit.rule.op.value,
            threshold=float(hit.rule.value),
            value=float(hit.value),
            label=hit.rule.label,
            message=hit.message,
            raised_at=raised_at,
            position=position,
        )
        for position, hit in enumerate(hits)
    ]
    orm.add_all(rows)
    orm.flush()
    return rows


def _client_rules(orm: OrmSession, participant_id: uuid.UUID) -> list[AlertRule]:
    """The active thresholds of the participant's client, in the order they were added."""
    rule = models.ClientAlertRule
    rows = orm.execute(
        select(rule.field, rule.op, rule.value, rule.label)
        .join(models.Participant, models.Participant.client_id == rule.client_id)
        .where(models.Participant.id == participant_id, rule.retired_at.is_(None))
        .order_by(rule.created_at, rule.id)
    )
    return [AlertRule(field, Comparison(op), value, label) for field, op, value, label in rows]


class CheckinRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add_observation(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        reading: Reading,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        checkin_key: str | None = None,
        on_room_air: bool | None = None,
        alerts: Sequence[AlertHit] = (),
        check_alerts: AlertCheck | None = None,
        by: uuid.UUID | None = None,
        not_taken: Sequence[str] = (),
    ) -> SavedReading:
        """Save a reading taken at `occurred_at` (the past for a late entry) with the alerts it
        raised and its audit row, in one transaction. `not_taken`: the measures its check-in
        required that were not taken (a partial check-in), as the protocol names them.

        With `check_alerts`, the alerts are what it returns for the client's thresholds as they
        stand inside this transaction (a threshold changed on another laptop a moment ago
        counts); without it, `alerts`.
        """
        sql = checkin_sql(self._db.dialect)
        new = new_reading(
            sql,
            session_id,
            participant_id,
            reading,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            checkin_key=checkin_key,
            on_room_air=on_room_air,
            by=by,
            not_taken=tuple(not_taken),
        )
        with self._db.write_driver("save the reading") as driver:
            rules = client_rules(driver, sql, new)
            hits = tuple(alerts if check_alerts is None else check_alerts(rules))
            return insert_reading(driver, sql, new, hits)

    def correct_observation(
        self,
        original_id: uuid.UUID,
        reading: Reading | None,
        *,
        reason: str,
        recorded_at: datetime,
        occurred_at: datetime | None = None,
        on_room_air: bool | None = None,
        voids: bool = False,
        alerts: Sequence[AlertHit] = (),
        check_alerts: AlertCheck | None = None,
        by: uuid.UUID | None = None,
        not_taken: Sequence[str] | None = None,
    ) -> SavedReading:
        """A new reading replacing the original (kept, and shown as corrected), with the alerts
        the corrected values raise: what `check_alerts` returns for the client's thresholds as
        they stand inside this transaction, as for `add_observation`; without it, `alerts`.
        With `voids` (entered in error) the original's values are copied, no alert is raised
        and the entry drops out of the standing record. `not_taken`: the required measures the
        corrected values leave empty (None: the original's)."""
        why = correction_reason(
            reason, "A correction needs a reason: write why the reading is corrected."
        )
        with self._db.write("save the correction") as orm:
            original, session = standing_original(orm, models.Observation, original_id, "reading")
            when = original.occurred_at if occurred_at is None else occurred_at
            check_entry_time(session, when, recorded_at, "reading")
            changes: dict[str, Any] = {"occurred_at": when}
            if reading is not None and not voids:  # a withdrawal keeps the original's values
                changes.update(_reading_columns(reading))
                if not_taken is not None:
                    changes["not_taken"] = list(not_taken)
            if on_room_air is not None:
                changes["on_room_air"] = on_room_air
            hits: tuple[AlertHit, ...] = ()
            if voids:
                pass  # a retraction raises nothing
            elif check_alerts is None:
                hits = tuple(alerts)
            else:
                hits = tuple(check_alerts(_client_rules(orm, original.participant_id)))
            alert_rows: list[models.Alert] = []

            def raise_alerts(row: models.Observation) -> dict[str, Any]:
                alert_rows.extend(_add_alerts(orm, row, hits, recorded_at))
                return {"alerts": [str(a.id) for a in alert_rows]}

            row = append_correction(
                orm,
                original,
                changes,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action="observation.correct",
                with_row=raise_alerts,
            )
            return SavedReading(
                observation_record(row), tuple(_alert_record(a, None) for a in alert_rows), hits
            )

    def observation(self, observation_id: uuid.UUID) -> ObservationRecord:
        observation = schema.observation
        with self._db.rows() as rows:
            row = rows.execute(
                select(observation).where(observation.c.id == observation_id)
            ).first()
        if row is None:
            raise NotFound(f"No reading with id {observation_id}.")
        return observation_record(row)

    def observations(
        self,
        session_id: uuid.UUID,
        *,
        participant_id: uuid.UUID | None = None,
        include_history: bool = False,
    ) -> list[ObservationRecord]:
        """Readings in time order; with `include_history`, corrected and voided ones too."""
        query = in_time_order(schema.observation, session_id)
        if participant_id is not None:
            query = query.where(schema.observation.c.participant_id == participant_id)
        with self._db.rows() as rows:
            records = [observation_record(row) for row in rows.execute(query)]
        return records if include_history else effective(records)

    def baseline(
        self, session_id: uuid.UUID, participant_id: uuid.UUID, *, before: datetime | None = None
    ) -> ObservationRecord | None:
        """The baseline blood pressure reading: the latest standing reading with a BP taken
        before `before` (the first dose), else the standing reading of the baseline check-in."""
        standing = [
            o for o in self.observations(session_id, participant_id=participant_id) if o.has_bp
        ]
        earlier = [o for o in standing if before is None or o.occurred_at <= before]
        if earlier:
            return max(earlier, key=lambda o: (o.occurred_at, o.recorded_at))
        keyed = [o for o in standing if o.checkin_key == BASELINE_KEY]
        return keyed[0] if keyed else None

    def alerts(
        self,
        session_id: uuid.UUID,
        *,
        participant_id: uuid.UUID | None = None,
        open_only: bool = False,
    ) -> list[AlertRecord]:
        """Alerts in the order they were raised, each with its acknowledgement if any."""
        alert, acknowledgement, observation = (
            schema.alert,
            schema.alert_acknowledgement,
            schema.observation,
        )
        query = (
            select(alert)
            .where(alert.c.session_id == session_id)
            .order_by(alert.c.raised_at, alert.c.observation_id, alert.c.position)
        )
        if participant_id is not None:
            query = query.where(alert.c.participant_id == participant_id)
        with self._db.rows() as rows:
            raised = rows.execute(query).all()
            seen = {
                ack.alert_id: ack
                for ack in rows.execute(
                    select(acknowledgement).where(
                        acknowledgement.c.alert_id.in_(
                            select(alert.c.id).where(alert.c.session_id == session_id)
                        )
                    )
                )
            }
            changed = set(
                rows.scalars(
                    select(observation.c.corrects_id).where(
                        observation.c.session_id == session_id,
                        observation.c.corrects_id.is_not(None),
                    )
                )
            )
        return [
            _alert_record(row, seen.get(row.id), row.observation_id in changed)
            for row in raised
            if not (open_only and row.id in seen)
        ]

    def open_alerts(
        self, session_id: uuid.UUID, participant_id: uuid.UUID | None = None
    ) -> list[AlertRecord]:
        """Alerts nobody has acknowledged yet."""
        return self.alerts(session_id, participant_id=participant_id, open_only=True)

    def acknowledge(
        self,
        alert_id: uuid.UUID,
        *,
        staff_id: uuid.UUID | None,
        at: datetime,
        action: str | None = None,
        comment: str = "",
    ) -> AcknowledgementRecord:
        """A staff member has seen the alert and says what was done (`action`, an
        `AlertAction`; `comment` the intervention given, the reason for no action, or a note);
        recorded once, with who and when. Without an action, or with no action and no reason,
        nothing is stored."""
        if staff_id is None:
            raise StorageError("Choose who is acknowledging the alert; it is recorded by name.")
        problem = follow_up_problem(action, comment)
        if problem is not None:
            raise StorageError(f"The alert was NOT acknowledged. {problem}")
        assert action is not None
        with self._db.write("acknowledge the alert") as orm:
            alert = orm.get(models.Alert, alert_id)
            if alert is None:
                raise NotFound(f"No alert with id {alert_id}.")
            open_session(orm, alert.session_id)
            if orm.get(models.Staff, staff_id) is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            done = orm.scalar(
                select(models.AlertAcknowledgement).where(
                    models.AlertAcknowledgement.alert_id == alert_id
                )
            )
            if done is not None:
                raise AlreadyDone(_already_acknowledged(done))
            row = models.AlertAcknowledgement(
                alert_id=alert_id,
                acknowledged_at=at,
                staff_id=staff_id,
                comment=comment.strip(),
                action=str(action),
            )
            orm.add(row)
            try:
                orm.flush()
            except IntegrityError as exc:  # acknowledged from another window a moment ago
                raise AlreadyDone("This alert was just acknowledged by someone else.") from exc
            detail: dict[str, Any] = {"action": row.action}
            if row.comment:
                detail["comment"] = row.comment
            write_audit(
                orm,
                at=at,
                staff_id=staff_id,
                action="alert.acknowledge",
                entity="alert",
                entity_id=alert_id,
                session_id=alert.session_id,
                detail=detail,
            )
            return AcknowledgementRecord(
                id=row.id,
                alert_id=alert_id,
                acknowledged_at=at,
                staff_id=staff_id,
                comment=row.comment,
                action=row.action,
            )


def _already_acknowledged(done: models.AlertAcknowledgement) -> str:
    when = done.acknowledged_at.astimezone().strftime("%H:%M")
    return f"This alert was already acknowledged at {when}; nothing more to do."
