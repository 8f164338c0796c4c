"""The event list of an open session, kept up to date from what each save returned.

Read in full once when the session opens (`services.session_log.SessionLog`), then every record
a save returns joins it through the same mapping the full read uses: a new entry is put in its
place in time; a correction marks the entry it corrects amended or withdrawn, with the reason,
and joins as the amendment (a withdrawal is not an item of its own, as in the full read); an
alert joins when raised and again as "acknowledged" when seen; a corrected reading's alerts say
so. A test replays a long session and compares this list with a fresh full read.

Each change says what it did (`LogChange`: the items added, the items replaced), so the event
list on screen inserts or changes those rows and never compares the whole list.
"""

from __future__ import annotations

import bisect
import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kapsession.domain.corrections import EntryState
from kapsession.records.entries import AlertRecord, EventRecord, MusicEventRecord
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.session_log import LogItem, log_order
from kapsession.services.session_log import (
    COUNTERSIGNED,
    adverse_event_items,
    alert_items,
    checkin_items,
    dose_items,
    event_items,
    intervention_items,
    music_item,
    note_items,
    order_detail,
    order_items,
    substance_items,
)
from kapsession.services.session_state import EntryKind


@dataclass(frozen=True)
class LogChange:
    """What one save changed in the log: items added, and items replaced (before, after; the
    same entry in the same place, its state or text changed)."""

    added: tuple[LogItem, ...] = ()
    replaced: tuple[tuple[LogItem, LogItem], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.replaced)


class LiveLog:
    """The items of one session's event list, in time order."""

    def __init__(
        self,
        items: Iterable[LogItem],
        alerts: Iterable[AlertRecord],
        staff_names: dict[uuid.UUID, str],
        checkin_labels: Mapping[str, str] | None = None,
        orders: Iterable[DoseOrderRecord] = (),
    ) -> None:
        """`checkin_labels`: as the full read was given them (`SessionLog.items`); `orders`:
        the orders read with them (a countersignature changes how its order's item reads)."""
        self.items: list[LogItem] = sorted(items, key=log_order)
        self._orders = {o.id: o for o in orders}
        self._names = dict(staff_names)
        self._checkin_labels = None if checkin_labels is None else dict(checkin_labels)
        self._acknowledged = {a.id for a in alerts if a.acknowledged_at is not None}
        self._corrected = {a.id for a in alerts if a.reading_corrected}

    def add(self, kind: str, records: Sequence[Any]) -> LogChange:
        """Records a save returned; what changed in the list (nothing for private notes,
        which never show)."""
        if kind == EntryKind.PRIVATE_NOTE or not records:
            return LogChange()
        if kind == EntryKind.ALERT:
            return self._alerts(records)
        replaced = []
        for record in records:
            if record.corrects_id is not None:
                marked = self._mark(record.corrects_id, record.voids, record.correction_reason)
                if marked is not None:
                    replaced.append(marked)
        added = self._items_of(EntryKind(kind), records)
        for item in added:
            self._insert(item)
        if kind == EntryKind.ORDER:
            self._orders.update((o.id, o) for o in records)
        elif kind == EntryKind.EVENT:
            replaced += self._countersigned(records)
        return LogChange(tuple(added), tuple(replaced))

    def _countersigned(self, events: Sequence[EventRecord]) -> list[tuple[LogItem, LogItem]]:
        """A verbal order's item once it is countersigned: who and when, in its detail."""
        replaced = []
        for event in events:
            if event.kind != COUNTERSIGNED or event.corrects_id is not None:
                continue
            order = self._orders.get(uuid.UUID(str(event.detail.get("order_id"))))
            index = None if order is None else self._find(order.id)
            if order is None or index is None:
                continue
            before = self.items[index]
            self.items[index] = dataclasses.replace(
                before, detail=order_detail(order, event, self._names)
            )
            replaced.append((before, self.items[index]))
        return replaced

    def _items_of(self, kind: EntryKind, records: Sequence[Any]) -> list[LogItem]:
        if kind is EntryKind.EVENT:
            return event_items(records)
        if kind is EntryKind.DOSE:
            return dose_items(records)
        if kind is EntryKind.OBSERVATION:
            return checkin_items(records, self._checkin_labels)
        if kind is EntryKind.NOTE:
            return note_items(records, self._names)
        if kind is EntryKind.ADVERSE_EVENT:
            return adverse_event_items(records)
        if kind is EntryKind.INTERVENTION:
            return intervention_items(records, self._names)
        if kind is EntryKind.SUBSTANCE:
            return substance_items(records, self._names)
        if kind is EntryKind.ORDER:  # a new order, or a new version of one: not countersigned
            return order_items(records, (), self._names)
        raise ValueError(f"the event list has no items for {kind!r}")

    def add_music(self, event: MusicEventRecord) -> LogChange:
        item = music_item(event)
        self._insert(item)
        return LogChange(added=(item,))

    # inside -------------------------------------------------------------------------------
    def _insert(self, item: LogItem) -> None:
        self.items.insert(bisect.bisect_right(self.items, log_order(item), key=log_order), item)

    def _find(self, entry_id: uuid.UUID) -> int | None:
        """Where the item of an entry is; the newest are searched first (corrections are
        usually of something just written)."""
        for index in range(len(self.items) - 1, -1, -1):
            if self.items[index].entry_id == entry_id:
                return index
        return None

    def _mark(
        self, original_id: uuid.UUID, voids: bool, reason: str | None
    ) -> tuple[LogItem, LogItem] | None:
        index = self._find(original_id)
        if index is None:
            return None  # an entry the list does not show (a withdrawn one, or a kind it omits)
        state = EntryState.WITHDRAWN if voids else EntryState.AMENDED
        before = self.items[index]
        self.items[index] = dataclasses.replace(before, state=state, reason=reason)
        return before, self.items[index]

    def _alerts(self, alerts: Sequence[AlertRecord]) -> LogChange:
        added: list[LogItem] = []
        replaced: list[tuple[LogItem, LogItem]] = []
        for alert in alerts:
            raised, *acknowledged = alert_items([alert], self._names)
            index = self._find(alert.id)
            if index is None:
                self._insert(raised)
                added.append(raised)
            elif alert.reading_corrected and alert.id not in self._corrected:
                replaced.append((self.items[index], raised))
                self.items[index] = raised
            if alert.reading_corrected:
                self._corrected.add(alert.id)
            if acknowledged and alert.id not in self._acknowledged:
                self._acknowledged.add(alert.id)
                self._insert(acknowledged[0])
                added.append(acknowledged[0])
        return LogChange(tuple(added), tuple(replaced))
