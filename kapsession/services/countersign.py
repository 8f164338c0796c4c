"""A verbal order countersigned by the prescriber who gave it (issue 16): from the live screen
(`SessionService.countersign_order`) or while signing the monitoring part
(`SessionNoteService`), one rule and one event either way."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from kapsession.domain.clinic_rules import RoleRules
from kapsession.domain.corrections import effective
from kapsession.domain.roles import TeamRole
from kapsession.records.entries import EventRecord
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.orders import DoseOrderRecord
from kapsession.storage.entries import EntryRepository
from kapsession.storage.people import StaffRepository

COUNTERSIGNED = "order_countersigned"


def awaiting(
    orders: Iterable[DoseOrderRecord], events: Iterable[EventRecord]
) -> list[DoseOrderRecord]:
    """The standing verbal orders no standing countersignature names."""
    done = {
        str(e.detail.get("order_id")) for e in effective(list(events)) if e.kind == COUNTERSIGNED
    }
    return [o for o in effective(list(orders)) if o.order.verbal and str(o.id) not in done]


def countersign(
    staff: StaffRepository,
    roles: RoleRules,
    entries: EntryRepository,
    session_id: uuid.UUID,
    order: DoseOrderRecord,
    staff_id: uuid.UUID,
    *,
    at: datetime,
) -> EventRecord:
    """The `order_countersigned` event, with its audit row (their PIN checked by the caller).
    Only a prescriber, the one who gave the order, once per order."""
    if not order.order.verbal:
        raise StorageError("This order was not a verbal order; it needs no countersignature.")
    member = next((s for s in staff.all() if s.id == staff_id), None)
    if member is None or not roles.may(TeamRole.PRESCRIBER, member.role):
        raise NotAllowed("Only a prescriber can countersign the order.")
    if staff_id != order.ordered_by_id:
        raise NotAllowed("A verbal order is countersigned by the prescriber who gave it.")
    done = [
        e
        for e in entries.events(session_id)
        if e.kind == COUNTERSIGNED and e.detail.get("order_id") == str(order.id)
    ]
    if done:
        raise StorageError("This order is already countersigned.")
    return entries.add_event(
        session_id,
        COUNTERSIGNED,
        occurred_at=at,
        recorded_at=at,
        label=f"Verbal order countersigned by {member.signature_name}",
        participant_id=order.participant_id,
        detail={"order_id": str(order.id), "by": member.signature_name},
        by=staff_id,
    )
