"""The items of a session's log: one time-ordered list of everything in a session (the event
list beside the note pad, the timeline of the exports), and how it is filtered.

The services read them (`kapsession.services.session_log`); the UI and the exports show them.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.corrections import EntryState
from kapsession.records.entries import is_late


class LogKind(enum.Enum):
    SESSION = "session"
    PHASE = "phase"
    DOSE = "dose"
    CHECKIN = "checkin"
    ALERT = "alert"
    NOTE = "note"
    MARKER = "marker"
    MUSIC = "music"
    DISCHARGE = "discharge"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    LogKind.SESSION: "Session",
    LogKind.PHASE: "Phases",
    LogKind.DOSE: "Doses",
    LogKind.CHECKIN: "Check-ins",
    LogKind.ALERT: "Alerts",
    LogKind.NOTE: "Notes",
    LogKind.MARKER: "Markers",
    LogKind.MUSIC: "Music",
    LogKind.DISCHARGE: "Discharge",
}


_KIND_RANK = {kind: rank for rank, kind in enumerate(LogKind)}


def log_order(item: LogItem) -> tuple[datetime, datetime, int, str, str]:
    """Where an item sits in the log: by the time it describes, then when it was written; items
    of the same instant (a dose and the hold-dose caution saved with it) in a fixed order, so
    a list read in full and one kept up to date entry by entry are the same list."""
    return item.at, item.recorded_at, _KIND_RANK[item.kind], item.title, str(item.entry_id or "")


@dataclass(frozen=True)
class LogItem:
    """One line of the session's event list."""

    at: datetime  # the time the item describes
    recorded_at: datetime
    kind: LogKind
    title: str
    detail: str = ""
    participant_id: uuid.UUID | None = None
    entry_id: uuid.UUID | None = None
    state: EntryState = EntryState.STANDING
    reason: str | None = None  # why it was amended or withdrawn
    corrects: bool = False  # this item is an amendment of an earlier one

    @property
    def late(self) -> bool:
        return is_late(self.at, self.recorded_at)


def filtered(
    items: Iterable[LogItem],
    kinds: set[LogKind] | None = None,
    participant_id: uuid.UUID | None = None,
) -> list[LogItem]:
    """Items of the chosen kinds; with a participant, theirs and the room's (no participant)."""
    return [
        i
        for i in items
        if (kinds is None or i.kind in kinds)
        and (participant_id is None or i.participant_id in (None, participant_id))
    ]
