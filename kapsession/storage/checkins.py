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
from typing import Any

from sqlalchemy import Table, and_, bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import READING_FIELDS, AlertHit, Reading
from kapsession.storage.audit import audit_correction, write_audit
from kapsession.storage.database import Database
from kapsession.storage.entries import (
    check_entry_time,
    check_entry_times,
    check_participant_owner,
    check_session_status,
    effective,
    open_session,
    refuse_if_superseded,
)
from kapsession.storage.errors import AlreadyDone, NotFound, StorageError
from kapsession.storage.models import (
    Alert,
    AlertAcknowledgement,
    AuditEntry,
    Base,
    ClientAlertRule,
    Observation,
    Participant,
    Session,
    Staff,
)
from kapsession.storage.records import (
    AcknowledgementRecord,
    AlertRecord,
    ObservationRecord,
    SavedReading,
)

BASELINE_KEY = "baseline"

# Given the client's alert thresholds in force, the alerts a reading raises.
AlertCheck = Callable[[Sequence[AlertRule]], Sequence[AlertHit]]


def _table(model: type[Base]) -> Table:
    return Base.metadata.tables[model.__tablename__]


# --- the check-in hot path: plain Core statements, built once ----------------------------------
_SESSION, _PARTICIPANT, _RULE = _table(Session), _table(Participant), _table(ClientAlertRule)
_OBSERVATION, _ALERT, _AUDIT = _table(Observation), _table(Alert), _table(AuditEntry)

# One read for a save: the session's status and start, whether the participant is in it, and
# its client's active thresholds (one row each; one row of NULLs when there are none).
_SAVE_FACTS = (
    select(
        _SESSION.c.status,
        _SESSION.c.started_at,
        _PARTICIPANT.c.session_id.label("participant_session_id"),
        _RULE.c.field,
        _RULE.c.op,
        _RULE.c.value,
        _RULE.c.label,
    )
    .select_from(
        _SESSION.outerjoin(
            _PARTICIPANT,
            and_(
                _PARTICIPANT.c.id == bindparam("participant_id"),
                _PARTICIPANT.c.session_id == _SESSION.c.id,
            ),
        ).outerjoin(
            _RULE, and_(_RULE.c.client_id == _PARTICIPANT.c.client_id, _RULE.c.retired_at.is_(None))
        )
    )
    .where(_SESSION.c.id == bindparam("session_id"))
    .order_by(_RULE.c.created_at, _RULE.c.id)
)
_INSERT_OBSERVATION = insert(_OBSERVATION)
_INSERT_ALERT = insert(_ALERT)
_INSERT_AUDIT = insert(_AUDIT)


def observation_record(row: Observation) -> ObservationRecord:
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
    )


def _alert_record(
    row: Alert, ack: AlertAcknowledgement | None, corrected: bool = False
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
    )


def _reading_columns(reading: Reading) -> dict[str, Any]:
    return {name: getattr(reading, name) for name in READING_FIELDS}


def _add_alerts(
    orm: OrmSession, observation: Observation, hits: Sequence[AlertHit], raised_at: datetime
) -> list[Alert]:
    rows = [
        Alert(
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
    ) -> SavedReading:
        """Save a reading taken at `occurred_at` (the past for a late entry) with the alerts it
        raised and its audit row, in one transaction.

        With `check_alerts`, the alerts are what it returns for the client's thresholds as they
        stand inside this transaction (a threshold changed on another laptop a moment ago
        counts); without it, `alerts`.
        """
        with self._db.write_core("save the reading") as connection:
            client_rules = _save_facts(
                connection, session_id, participant_id, occurred_at, recorded_at
            )
            hits = tuple(alerts if check_alerts is None else check_alerts(client_rules))
            return _insert_reading(
                connection,
                session_id,
                participant_id,
                reading,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                checkin_key=checkin_key,
                on_room_air=on_room_air,
                hits=hits,
                by=by,
            )

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
        by: uuid.UUID | None = None,
    ) -> SavedReading:
        """A new reading replacing the original (kept, and shown as corrected), with the alerts
        the corrected values raise. With `voids` (entered in error) the original's values are
        copied and the entry drops out of the standing record."""
        if not reason.strip():
            raise StorageError("A correction needs a reason: write why the reading is corrected.")
        with self._db.write("save the correction") as orm:
            original = orm.get(Observation, original_id)
            if original is None:
                raise NotFound(f"No reading with id {original_id}.")
            session = open_session(orm, original.session_id)
            refuse_if_superseded(orm, Observation, original_id, "reading")
            when = original.occurred_at if occurred_at is None else occurred_at
            check_entry_time(session, when, recorded_at, "reading")
            values = (
                {name: getattr(original, name) for name in READING_FIELDS}
                if reading is None or voids
                else _reading_columns(reading)
            )
            row = Observation(
                session_id=original.session_id,
                participant_id=original.participant_id,
                checkin_key=original.checkin_key,
                on_room_air=original.on_room_air if on_room_air is None else on_room_air,
                recorded_by_id=by,
                occurred_at=when,
                recorded_at=recorded_at,
                corrects_id=original.id,
                correction_reason=reason.strip(),
                voids=voids,
                **values,
            )
            orm.add(row)
            orm.flush()
            alert_rows = [] if voids else _add_alerts(orm, row, alerts, recorded_at)
            audit_correction(
                orm,
                at=recorded_at,
                staff_id=by,
                entity="observation",
                action="observation.correct",
                correction_id=row.id,
                original_id=original.id,
                session_id=original.session_id,
                reason=reason.strip(),
                voids=voids,
                extra={"alerts": [str(a.id) for a in alert_rows]},
            )
            return SavedReading(
                observation_record(row), tuple(_alert_record(a, None) for a in alert_rows)
            )

    def observation(self, observation_id: uuid.UUID) -> ObservationRecord:
        with self._db.read() as orm:
            row = orm.get(Observation, observation_id)
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
        query = (
            select(Observation)
            .where(Observation.session_id == session_id)
            .order_by(Observation.occurred_at, Observation.recorded_at)
        )
        if participant_id is not None:
            query = query.where(Observation.participant_id == participant_id)
        with self._db.read() as orm:
            records = [observation_record(row) for row in orm.scalars(query)]
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
        query = (
            select(Alert, AlertAcknowledgement)
            .outerjoin(AlertAcknowledgement, AlertAcknowledgement.alert_id == Alert.id)
            .where(Alert.session_id == session_id)
            .order_by(Alert.raised_at, Alert.observation_id, Alert.position)
        )
        if participant_id is not None:
            query = query.where(Alert.participant_id == participant_id)
        if open_only:
            query = query.where(AlertAcknowledgement.id.is_(None))
        with self._db.read() as orm:
            rows = orm.execute(query).all()
            changed = set(
                orm.scalars(
                    select(Observation.corrects_id).where(
                        Observation.session_id == session_id, Observation.corrects_id.is_not(None)
                    )
                )
            )
            return [
                _alert_record(alert, ack, alert.observation_id in changed) for alert, ack in rows
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
        comment: str = "",
    ) -> AcknowledgementRecord:
        """A staff member has seen the alert; recorded once, with who and when."""
        if staff_id is None:
            raise StorageError("Choose who is acknowledging the alert; it is recorded by name.")
        with self._db.write("acknowledge the alert") as orm:
            alert = orm.get(Alert, alert_id)
            if alert is None:
                raise NotFound(f"No alert with id {alert_id}.")
            open_session(orm, alert.session_id)
            if orm.get(Staff, staff_id) is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            done = orm.scalar(
                select(AlertAcknowledgement).where(AlertAcknowledgement.alert_id == alert_id)
            )
            if done is not None:
                raise AlreadyDone(_already_acknowledged(done))
            row = AlertAcknowledgement(
                alert_id=alert_id, acknowledged_at=at, staff_id=staff_id, comment=comment.strip()
            )
            orm.add(row)
            try:
                orm.flush()
            except IntegrityError as exc:  # acknowledged from another window a moment ago
                raise AlreadyDone("This alert was just acknowledged by someone else.") from exc
            write_audit(
                orm,
                at=at,
                staff_id=staff_id,
                action="alert.acknowledge",
                entity="alert",
                entity_id=alert_id,
                session_id=alert.session_id,
                detail={"comment": row.comment} if row.comment else {},
            )
            return AcknowledgementRecord(
                id=row.id,
                alert_id=alert_id,
                acknowledged_at=at,
                staff_id=staff_id,
                comment=row.comment,
            )


def _save_facts(
    connection: Connection,
    session_id: uuid.UUID,
    participant_id: uuid.UUID,
    occurred_at: datetime,
    recorded_at: datetime,
) -> list[AlertRule]:
    """Refuse a reading the session cannot take (as `open_session`, `check_participant` and
    `check_entry_time` do); else the participant's client's active thresholds."""
    rows = connection.execute(
        _SAVE_FACTS, {"session_id": session_id, "participant_id": participant_id}
    ).all()
    first = rows[0] if rows else None
    check_session_status(session_id, None if first is None else first.status)
    assert first is not None
    check_participant_owner(session_id, first.participant_session_id)
    check_entry_times(first.started_at, occurred_at, recorded_at, "reading")
    return [
        AlertRule(row.field, Comparison(row.op), row.value, row.label)
        for row in rows
        if row.field is not None
    ]


def _insert_reading(
    connection: Connection,
    session_id: uuid.UUID,
    participant_id: uuid.UUID,
    reading: Reading,
    *,
    occurred_at: datetime,
    recorded_at: datetime,
    checkin_key: str | None,
    on_room_air: bool | None,
    hits: tuple[AlertHit, ...],
    by: uuid.UUID | None,
) -> SavedReading:
    """The observation, its alerts and the audit row as Core inserts; the records are built
    from the values written (nothing is read back)."""
    observation = ObservationRecord(
        id=uuid.uuid4(),
        session_id=session_id,
        participant_id=participant_id,
        checkin_key=checkin_key,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        recorded_by_id=by,
        values=_reading_columns(reading),
        on_room_air=on_room_air,
    )
    connection.execute(
        _INSERT_OBSERVATION,
        {
            "id": observation.id,
            "session_id": session_id,
            "participant_id": participant_id,
            "checkin_key": checkin_key,
            "on_room_air": on_room_air,
            "recorded_by_id": by,
            "occurred_at": occurred_at,
            "recorded_at": recorded_at,
            "corrects_id": None,
            "correction_reason": None,
            "voids": False,
            **observation.values,
        },
    )
    alerts = tuple(
        AlertRecord(
            id=uuid.uuid4(),
            session_id=session_id,
            participant_id=participant_id,
            observation_id=observation.id,
            field=hit.rule.field,
            op=hit.rule.op.value,
            threshold=float(hit.rule.value),
            value=float(hit.value),
            label=hit.rule.label,
            message=hit.message,
            raised_at=recorded_at,
        )
        for hit in hits
    )
    if alerts:
        connection.execute(
            _INSERT_ALERT,
            [
                {
                    "id": alert.id,
                    "session_id": session_id,
                    "participant_id": participant_id,
                    "observation_id": observation.id,
                    "field": alert.field,
                    "op": alert.op,
                    "threshold": alert.threshold,
                    "value": alert.value,
                    "label": alert.label,
                    "message": alert.message,
                    "raised_at": recorded_at,
                    "position": position,
                }
                for position, alert in enumerate(alerts)
            ],
        )
    connection.execute(
        _INSERT_AUDIT,
        {
            "id": uuid.uuid4(),
            "occurred_at": recorded_at,
            "staff_id": by,
            "action": "observation.add",
            "entity": "observation",
            "entity_id": str(observation.id),
            "session_id": session_id,
            "detail": {"checkin": checkin_key, "alerts": [str(a.id) for a in alerts]},
        },
    )
    return SavedReading(observation, alerts, hits)


def _already_acknowledged(done: AlertAcknowledgement) -> str:
    when = done.acknowledged_at.astimezone().strftime("%H:%M")
    return f"This alert was already acknowledged at {when}; nothing more to do."
