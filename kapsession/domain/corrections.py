"""How corrections stand: the one model of an entry's versions, for every kind of entry.

An entry is never edited: a correction is a later row pointing at it (`corrects_id`) with a
reason, and `voids` when it takes the entry back. Every view of the record (the screens, the
event list, every export) asks the same questions of a list of rows, answered here once, in one
vocabulary (`EntryState`):

- `versions`: every row but the voiding ones, each standing, amended (a later row replaces it)
  or withdrawn (taken back), with the later row's reason and time; a row that itself corrects
  an earlier one says so (`corrects`);
- `entry_states`: the same state for every row by id (the voiding rows too: withdrawn);
- `effective`: the rows as they stand.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar


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


class EntryState(enum.StrEnum):
    STANDING = "standing"
    AMENDED = "amended"  # a later entry replaces this one
    WITHDRAWN = "withdrawn"  # taken back (undo, entered in error)


@dataclass(frozen=True)
class Version(Generic[C]):
    """One row in its correction history."""

    row: C
    state: EntryState = EntryState.STANDING
    reason: str | None = None  # why it was amended or withdrawn: the later row's reason
    changed_at: datetime | None = None  # when the later row was written

    @property
    def corrects(self) -> bool:
        """This row is itself a correction of an earlier one."""
        return self.row.corrects_id is not None

    @property
    def correction_reason(self) -> str | None:
        """Why this row corrects an earlier one (None when it does not)."""
        return self.row.correction_reason if self.corrects else None


def versions(rows: Iterable[C]) -> list[Version[C]]:
    """Every row in its order but the voiding ones (their reason goes on the row they take
    back), each with its state."""
    items = list(rows)
    later_rows = successors(items)
    out: list[Version[C]] = []
    for row in items:
        if row.voids:
            continue
        later = later_rows.get(row.id)
        if later is None:
            out.append(Version(row))
        else:
            state = EntryState.WITHDRAWN if later.voids else EntryState.AMENDED
            out.append(Version(row, state, later.correction_reason, later.recorded_at))
    return out


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
