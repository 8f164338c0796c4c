"""Outcome measures (issue 17): administrations of PHQ-9, GAD-7 and PCL-5, written, corrected
and read like every clinical entry.

Every method commits before it returns. An administration belongs to a client and, when it was
given in one, to a session: then it is refused when that session takes no more entries (the
locks of a signed session or monitoring part, as for a dose) or the client is not one of its
participants. Its time may be before the session started (a form filled in the waiting room)
but never in the future. Its answers are one JSON list, item 1 first, `null` for an item left
unanswered: an administration is written, corrected and signed as one row (the correction
path copies one row; a child table of items would need its rows copied and digested with
it), it is always read whole, and no query asks for one item across administrations. The
answers are checked by the domain (`domain.questionnaires`) before they come here; the total
and the band are stored as scored then. A correction is a new row pointing at the standing
version (`corrections.append_correction`), with its reason; a withdrawal voids it. Reads go
through the tables (`rows()`), so that the start screen can use them before the ORM loads.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Row, select

from kapsession.domain.questionnaires import Score
from kapsession.records.errors import NotFound, StorageError
from kapsession.records.measures import EntryMode, MeasureRecord
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.corrections import (
    append_correction,
    correction_reason,
    standing_original,
)
from kapsession.storage.database import Database
from kapsession.storage.entry_rules import (
    check_entry_times,
    open_session,
    refuse_if_superseded,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

WHAT = "questionnaire"


def _staff_name(name: str | None, credentials: str | None) -> str:
    name, credentials = name or "", credentials or ""
    return f"{name}, {credentials}" if credentials else name


def measure_record(row: models.OutcomeMeasure | Row[Any], recorded_by: str = "") -> MeasureRecord:
    return MeasureRecord(
        id=row.id,
        client_id=row.client_id,
        session_id=row.session_id,
        instrument_key=row.instrument,
        answers=tuple(row.answers),
        total=row.total,
        band=row.band,
        entry_mode=row.entry_mode,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        recorded_by_id=row.recorded_by_id,
        recorded_by=recorded_by,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def scored_columns(scored: Score) -> dict[str, Any]:
    """What an administration stores of its answers: one entry per item, None where the item
    was not answered; the total and band only when every item was."""
    return {
        "instrument": scored.instrument.key.value,
        "answers": [scored.answers.get(item.number) for item in scored.instrument.items],
        "total": scored.total,
        "band": None if scored.band is None else scored.band.label,
    }


def _check_session(orm: OrmSession, session_id: uuid.UUID, client_id: uuid.UUID) -> None:
    open_session(orm, session_id)  # refuses a signed, planned or unknown session
    participant = schema.participant
    taking_part = orm.execute(
        select(participant.c.id).where(
            participant.c.session_id == session_id, participant.c.client_id == client_id
        )
    ).first()
    if taking_part is None:
        raise StorageError("That session is not one of this client's; choose one of theirs.")


class OutcomeMeasureRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        client_id: uuid.UUID,
        scored: Score,
        *,
        administered_at: datetime,
        recorded_at: datetime,
        mode: EntryMode,
        by: uuid.UUID,
        session_id: uuid.UUID | None = None,
    ) -> MeasureRecord:
        """Store one administration as `scored` (its answers, and its total and band when
        complete), with its audit row."""
        with self._db.write("save the questionnaire") as orm:
            if orm.get(models.Client, client_id) is None:
                raise NotFound(f"No client with id {client_id}.")
            if session_id is not None:
                _check_session(orm, session_id, client_id)
            # A form may be filled in before the session starts, never in the future.
            check_entry_times(None, administered_at, recorded_at, WHAT)
            row = models.OutcomeMeasure(
                client_id=client_id,
                session_id=session_id,
                entry_mode=mode.value,
                occurred_at=administered_at,
                recorded_at=recorded_at,
                recorded_by_id=by,
                **scored_columns(scored),
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action="outcome_measure.add",
                entity="outcome_measure",
                entity_id=row.id,
                session_id=session_id,
                detail={"client_id": str(client_id), "instrument": row.instrument},
            )
            record = measure_record(row)
        return self._named(record)

    def correct(
        self,
        original_id: uuid.UUID,
        scored: Score | None,
        *,
        reason: str,
        administered_at: datetime | None = None,
        recorded_at: datetime,
        by: uuid.UUID,
    ) -> MeasureRecord:
        """The administration as it should stand (`scored`, and its time when changed), or
        withdrawn (`scored` None): a new row with the reason; the original stays."""
        why = correction_reason(reason, "A correction needs a reason: write why it changed.")
        with self._db.write("save the correction") as orm:
            original = self._standing(orm, original_id)
            changes: dict[str, Any] = {}
            if scored is not None:
                if scored.instrument.key.value != original.instrument:
                    raise StorageError(
                        "A correction keeps the questionnaire; withdraw this one and enter "
                        "the other questionnaire instead."
                    )
                changes = scored_columns(scored)
                if administered_at is not None:
                    check_entry_times(None, administered_at, recorded_at, WHAT)
                    changes["occurred_at"] = administered_at
            # `corrections` types its entries with a session; this one's may have none, which
            # `append_correction` only copies (and names on the audit row).
            row: models.OutcomeMeasure = append_correction(
                orm,
                cast(Any, original),
                changes,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=scored is None,
                action="outcome_measure.correct",
            )
            record = measure_record(row)
        return self._named(record)

    @staticmethod
    def _standing(orm: OrmSession, original_id: uuid.UUID) -> models.OutcomeMeasure:
        """The version to correct: one given in a session as every entry is
        (`standing_original`: its session still takes entries), one outside a session
        likewise but for the session."""
        original = orm.get(models.OutcomeMeasure, original_id)
        if original is None:
            raise NotFound(f"No {WHAT} with id {original_id}.")
        if original.session_id is not None:
            entry: Any = models.OutcomeMeasure  # typed with a session, as above
            found, _session = standing_original(orm, entry, original_id, WHAT)
            return cast(models.OutcomeMeasure, found)
        refuse_if_superseded(orm, models.OutcomeMeasure, original_id, WHAT)
        return original

    def history(self, client_id: uuid.UUID) -> list[MeasureRecord]:
        """Every version of every administration of the client, in time order (when given,
        then when written)."""
        measure = schema.outcome_measure
        return self._read(
            measure.c.client_id == client_id,
            order=(measure.c.occurred_at, measure.c.recorded_at),
        )

    def of_session(self, session_id: uuid.UUID) -> list[MeasureRecord]:
        """Every version given in the session, in time order."""
        measure = schema.outcome_measure
        return self._read(
            measure.c.session_id == session_id,
            order=(measure.c.occurred_at, measure.c.recorded_at),
        )

    def _named(self, record: MeasureRecord) -> MeasureRecord:
        (named,) = self._read(schema.outcome_measure.c.id == record.id, order=())
        return named

    def _read(self, where: Any, *, order: Sequence[Any]) -> list[MeasureRecord]:
        measure, staff = schema.outcome_measure, schema.staff
        query = (
            select(
                measure,
                staff.c.display_name.label("staff_name"),
                staff.c.credentials.label("staff_credentials"),
            )
            .join(staff, staff.c.id == measure.c.recorded_by_id, isouter=True)
            .where(where)
            .order_by(*order)
        )
        with self._db.rows() as rows:
            return [
                measure_record(row, _staff_name(row.staff_name, row.staff_credentials))
                for row in rows.execute(query)
            ]
