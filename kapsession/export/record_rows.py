"""The record as every layout walks it, worked out once (`RecordRows`): each kind of entry in
the order it happened with its correction state, the entry a correction replaces, the values
that raised an alert, the times; and what every format asks of the content the same way:
names (staff, check-ins, phases), numbers as stored, other participants' names scrubbed from
free text, the music as tracks played."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol, TypeVar

from kapsession.domain.corrections import Correctable, Version, versions
from kapsession.export.content import REDACTED, ExportContent
from kapsession.export.times import SessionTimes
from kapsession.records.entries import (
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    EventRecord,
    ObservationRecord,
)
from kapsession.records.notes import NoteRecord, PrivateNoteRecord, SignatureRecord


def others_scrubber(content: ExportContent) -> Callable[[str], str]:
    """Replaces other participants' names, record numbers and ids in free text the content
    does not redact itself (correction reasons, comments, override reasons)."""
    if not content.others_redacted:
        return lambda text: text
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(w) for w in content.others_redacted) + r")\b", re.IGNORECASE
    )
    return lambda text: pattern.sub(REDACTED, text)


def number_text(value: float | int) -> str:
    """A number as stored, shortest exact form: 56.0 → "56", 36.8 → "36.8"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def checkin_label(content: ExportContent, key: str | None) -> str:
    """The protocol's name for a check-in ("REMS BP at 40 minutes"), or "unscheduled"."""
    if key is None:
        return "unscheduled"
    for spec in content.protocol.checkins:
        if spec.key == key:
            return spec.label
    return key


def phase_name(content: ExportContent, key: str | None) -> str:
    if key is None:
        return ""
    try:
        return content.protocol.phase(key).name
    except KeyError:
        return key


class _Timed(Protocol):
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...


_T = TypeVar("_T", bound=_Timed)


def ordered(rows: Iterable[_T]) -> list[_T]:
    """Rows in the order they happened (then written), corrected originals beside theirs."""
    return sorted(rows, key=lambda r: (r.occurred_at, r.recorded_at))


@dataclass(frozen=True)
class PlayedTrack:
    started_at: datetime
    title: str
    playlist: str
    phase_key: str | None
    played_s: float
    skipped: bool = False
    stopped: bool = False


def music_played(events: Sequence[Any]) -> list[PlayedTrack]:
    """Each track start with how long it played until it ended, was skipped or stopped."""
    tracks: list[PlayedTrack] = []
    current: Any = None
    outcome = {"skipped": False, "stopped": False}

    def close(at: datetime) -> None:
        nonlocal current
        if current is None:
            return
        tracks.append(
            PlayedTrack(
                started_at=current.occurred_at,
                title=current.track_title or current.track_path or "untitled track",
                playlist=current.playlist or "",
                phase_key=current.phase_key,
                played_s=max((at - current.occurred_at).total_seconds(), 0.0),
                skipped=outcome["skipped"],
                stopped=outcome["stopped"],
            )
        )
        current = None

    for event in sorted(events, key=lambda e: (e.occurred_at, e.recorded_at)):
        if event.kind == "track_start":
            close(event.occurred_at)
            current = event
            outcome = {"skipped": False, "stopped": False}
        elif current is not None and event.kind == "skip":
            outcome["skipped"] = True
        elif current is not None and event.kind in ("stop", "error"):
            outcome["stopped"] = True
            close(event.occurred_at)
        elif event.kind == "track_end":
            close(event.occurred_at)
    if current is not None:
        close(current.occurred_at)
    return tracks


class _Entry(Correctable, Protocol):
    """An entry a document lists: correctable, and placed on the session clock."""

    @property
    def occurred_at(self) -> datetime: ...


_E = TypeVar("_E", bound=_Entry)


def shown(rows: Iterable[_E]) -> list[Version[_E]]:
    """Entries as a document lists them: in the order they happened, each with its correction
    state; a row that withdraws another is not listed (its reason shows on the one it takes
    back)."""
    return versions(ordered(rows))


class RecordRows:
    """One participant's record as every layout walks it, worked out once."""

    def __init__(self, content: ExportContent, tz: tzinfo | None = None) -> None:
        self.content = content
        self.times = SessionTimes(content, tz)
        self.scrub = others_scrubber(content)
        self.doses: list[Version[DoseRecord]] = shown(content.doses)
        self.observations: list[Version[ObservationRecord]] = shown(content.observations)
        self.discharges: list[Version[DischargeAssessmentRecord]] = shown(content.discharges)
        self.note_entries: list[Version[NoteRecord]] = shown(content.note_entries)
        self.private_notes: list[Version[PrivateNoteRecord]] | None = (
            None if content.private_notes is None else shown(content.private_notes)
        )
        self.alerts: list[AlertRecord] = sorted(content.alerts, key=lambda a: a.raised_at)
        self.signatures: list[SignatureRecord] = sorted(
            content.signatures, key=lambda s: s.signed_at
        )
        entries: list[_Entry] = [
            *content.doses,
            *content.observations,
            *content.discharges,
            *content.events,
            *content.notes,
            *(content.private_notes or []),
        ]
        self._occurred = {row.id: row.occurred_at for row in entries}
        self._alerted: dict[uuid.UUID, set[str]] = {}
        for alert in content.alerts:
            self._alerted.setdefault(alert.observation_id, set()).add(alert.field)

    def events(self, kinds: Sequence[str]) -> list[Version[EventRecord]]:
        return shown(e for e in self.content.events if e.kind in kinds)

    def replaced_at(self, item: Version[Any]) -> datetime | None:
        """When the entry a correction replaces happened (None: not a correction)."""
        corrects = item.row.corrects_id
        return None if corrects is None else self._occurred.get(corrects)

    def alerted(self, observation: ObservationRecord) -> set[str]:
        """The reading's values that raised an alert."""
        return self._alerted.get(observation.id, set())

    def staff_name(self, staff_id: uuid.UUID | None) -> str:
        return self.content.staff_name(staff_id)
