"""How corrections stand: what a correctable row is, and where each row is in its history.

An entry is never edited: a correction is a later row pointing at it (`corrects_id`) with a
reason, and `voids` when it takes the entry back. Every view of the record (the event list, the
exports) asks the same two questions of a list of rows, answered here once.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, TypeVar


class Correctable(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def corrects_id(self) -> uuid.UUID | None: ...
    @property
    def correction_reason(self) -> str | None: ...
    @property
    def voids(self) -> bool: ...
    @property
    def recorded_at(self) -> datetime: ...


C = TypeVar("C", bound=Correctable)


class EntryState(enum.Enum):
    STANDING = "standing"
    AMENDED = "amended"  # a later entry replaces this one
    WITHDRAWN = "withdrawn"  # taken back (undo, entered in error)


def successors(rows: Iterable[C]) -> dict[uuid.UUID, C]:
    """Original id -> the row that corrected it (an entry is corrected at most once)."""
    return {r.corrects_id: r for r in rows if r.corrects_id is not None}


def entry_states(rows: Iterable[Correctable]) -> dict[uuid.UUID, tuple[EntryState, str | None]]:
    """Each row's place in the correction history, with the reason given: amended (a later
    row replaces it), withdrawn (taken back, or the row that takes another back), standing."""
    items = list(rows)
    later_rows = successors(items)
    states: dict[uuid.UUID, tuple[EntryState, str | None]] = {}
    for row in items:
        later = later_rows.get(row.id)
        if row.voids:
            states[row.id] = (EntryState.WITHDRAWN, row.correction_reason)
        elif later is not None:
            state = EntryState.WITHDRAWN if later.voids else EntryState.AMENDED
            states[row.id] = (state, later.correction_reason)
        else:
            states[row.id] = (EntryState.STANDING, None)
    return states


def effective(entries: Iterable[C]) -> list[C]:
    """Entries as they stand after corrections: superseded and voided ones drop out."""
    items = list(entries)
    superseded = {e.corrects_id for e in items if e.corrects_id is not None}
    return [e for e in items if e.id not in superseded and not e.voids]
