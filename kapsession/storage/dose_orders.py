"""The prescriber's order of each participant's dosing session (`dose_order`, migration 0011).

An order is an entry: written once with its audit row, corrected (or taken back, `voids`) by a
new row through `corrections.append_correction`, never changed. Read through the table alone
(`Database.rows()`), as everything an opening live session reads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row

from kapsession.domain.corrections import effective
from kapsession.domain.dose_order import DoseOrder, OrderSource
from kapsession.domain.protocol import Medication, Route
from kapsession.records.errors import EntryTimeInvalid
from kapsession.records.orders import DoseOrderRecord
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.corrections import append_correction, correction_reason, standing_original
from kapsession.storage.database import Database
from kapsession.storage.entries import in_time_order
from kapsession.storage.entry_rules import FUTURE_TOLERANCE, check_participant, open_session

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models


def _columns(order: DoseOrder) -> dict[str, Any]:
    window = order.booster_window_min
    return {
        "medication": order.medication.value,
        "route": order.route.value,
        "dose_mg": order.dose_mg,
        "dose_mg_per_kg": order.dose_mg_per_kg,
        "boosters": order.boosters,
        "booster_mg": order.booster_mg,
        "booster_window_from_min": None if window is None else window[0],
        "booster_window_to_min": None if window is None else window[1],
        "max_total_mg": order.max_total_mg,
        "verbal": order.verbal,
    }


def order_record(row: models.DoseOrder | Row[Any]) -> DoseOrderRecord:
    window = None
    if row.booster_window_from_min is not None and row.booster_window_to_min is not None:
        window = (row.booster_window_from_min, row.booster_window_to_min)
    return DoseOrderRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        order=DoseOrder(
            medication=Medication(row.medication),
            route=Route(row.route),
            dose_mg=row.dose_mg,
            dose_mg_per_kg=row.dose_mg_per_kg,
            boosters=row.boosters,
            booster_mg=row.booster_mg,
            booster_window_min=window,
            max_total_mg=row.max_total_mg,
            verbal=row.verbal,
        ),
        ordered_by_id=row.ordered_by_id,
        source=OrderSource(row.source),
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        recorded_by_id=row.recorded_by_id,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


@dataclass(frozen=True)
class NewOrder:
    """One participant's order, to be written (`add_order_row`)."""

    participant_id: uuid.UUID
    order: DoseOrder
    ordered_by: uuid.UUID
    ordered_at: datetime
    source: OrderSource = OrderSource.SESSION_START


def add_order_row(
    orm: OrmSession,
    session_id: uuid.UUID,
    new: NewOrder,
    *,
    recorded_at: datetime,
    by: uuid.UUID | None,
) -> DoseOrderRecord:
    """The order and its audit row inside the caller's transaction. It may have been given
    before the session started (the prescriber orders ahead), never in the future."""
    if new.ordered_at - recorded_at > FUTURE_TOLERANCE:
        raise EntryTimeInvalid("The time of the order is in the future; enter when it was given.")
    open_session(orm, session_id)
    check_participant(orm, session_id, new.participant_id)
    row = models.DoseOrder(
        session_id=session_id,
        participant_id=new.participant_id,
        **_columns(new.order),
        ordered_by_id=new.ordered_by,
        source=new.source.value,
        recorded_by_id=by,
        occurred_at=new.ordered_at,
        recorded_at=recorded_at,
    )
    orm.add(row)
    orm.flush()
    write_audit(
        orm,
        at=recorded_at,
        staff_id=by,
        action="dose_order.add",
        entity="dose_order",
        entity_id=row.id,
        session_id=session_id,
        detail={
            "ordered_by": str(new.ordered_by),
            "verbal": new.order.verbal,
            "source": new.source.value,
        },
    )
    return order_record(row)


class DoseOrderRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        order: DoseOrder,
        *,
        ordered_by: uuid.UUID,
        ordered_at: datetime,
        recorded_at: datetime,
        source: OrderSource = OrderSource.SESSION_START,
        by: uuid.UUID | None = None,
    ) -> DoseOrderRecord:
        """The order, committed with its audit row (`add_order_row`)."""
        with self._db.write("save the order") as orm:
            return add_order_row(
                orm,
                session_id,
                NewOrder(participant_id, order, ordered_by, ordered_at, source),
                recorded_at=recorded_at,
                by=by,
            )

    def correct(
        self,
        original_id: uuid.UUID,
        *,
        reason: str,
        recorded_at: datetime,
        order: DoseOrder | None = None,
        ordered_by: uuid.UUID | None = None,
        voids: bool = False,
        by: uuid.UUID | None = None,
    ) -> DoseOrderRecord:
        """A new version of the order replacing (or, with `voids`, taking back) the original;
        both are kept."""
        why = correction_reason(
            reason, "A correction needs a reason: write why the order is corrected."
        )
        with self._db.write("save the correction") as orm:
            original, _session = standing_original(orm, models.DoseOrder, original_id, "order")
            changes: dict[str, Any] = {} if order is None else _columns(order)
            if ordered_by is not None:
                changes["ordered_by_id"] = ordered_by
            row = append_correction(
                orm,
                original,
                changes,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action="dose_order.correct",
            )
            return order_record(row)

    def orders(
        self, session_id: uuid.UUID, *, include_history: bool = False
    ) -> list[DoseOrderRecord]:
        with self._db.rows() as rows:
            records = [
                order_record(row)
                for row in rows.execute(in_time_order(schema.dose_order, session_id))
            ]
        return records if include_history else effective(records)
