"""One list of everything in a session, in time order: the event list beside the note pad, and
the timeline of the exports (a read model over the record's tables, and the display strings
of its items: storage returns records and knows no wording).

Phases, doses, check-ins, alerts and their acknowledgements, notes, markers, music, discharge
and the session's start and end, each as a `LogItem` with the participant it concerns, so the
list can be filtered by kind and participant. Amended and withdrawn entries stay in the list,
marked, with the reason: the record is append-only and the list shows it so.
Private notes are not part of the record and are never in this list.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from kapsession.domain.alert_followup import AlertAction
from kapsession.domain.corrections import entry_states
from kapsession.domain.vitals import Reading
from kapsession.records.entries import (
    AlertRecord,
    DoseRecord,
    EventRecord,
    MusicEventRecord,
    ObservationRecord,
)
from kapsession.records.notes import NoteRecord, SignatureRecord
from kapsession.records.session_log import LogItem, LogKind, log_order
from kapsession.records.sessions import SessionRecord
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.entries import EntryRepository
from kapsession.storage.music_log import MusicLogRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository

_EVENT_KINDS = {
    "session_start": LogKind.SESSION,
    "session_end": LogKind.SESSION,
    "phase_change": LogKind.PHASE,
    "marker": LogKind.MARKER,
    "hold_dose_caution": LogKind.DOSE,
    "hold_dose_override": LogKind.DOSE,
    "device_given": LogKind.DOSE,
    "dose_plan": LogKind.DOSE,
    "discharge": LogKind.DISCHARGE,
    "handover": LogKind.SESSION,
}
_MUSIC_TITLES = {
    "track_start": "Track started",
    "track_end": "Track ended",
    "pause": "Music paused",
    "resume": "Music resumed",
    "quiet": "Music faded to quiet",
    "stop": "Music stopped",
    "seek": "Music moved in the track",
    "volume": "Volume changed",
    "playlist_switch": "Playlist changed",
    "phase_transition": "Music moved to the phase's playlist",
    "skip": "Track skipped",
    "error": "Track could not play",
}


def reading_text(reading: Reading) -> str:
    """A check-in in one line: BP 128/82 · HR 74 · SpO2 98 % · RR 14 · MOAA/S 5 …"""
    parts: list[str] = []
    if reading.systolic_mmhg is not None and reading.diastolic_mmhg is not None:
        parts.append(f"BP {reading.systolic_mmhg}/{reading.diastolic_mmhg}")
    for label, value, unit in (
        ("HR", reading.heart_rate_bpm, ""),
        ("SpO2", reading.spo2_pct, " %"),
        ("RR", reading.resp_rate_per_min, ""),
        ("Temp", reading.temperature_c, " °C"),
        ("MOAA/S", reading.moaas, ""),
        ("RASS", reading.rass, ""),
        ("Dissociation", reading.dissociation, ""),
        ("Nausea", reading.nausea, ""),
        ("SUDS", reading.suds, ""),
    ):
        if value is not None:
            parts.append(f"{label} {value}{unit}")
    if reading.emesis:
        parts.append("emesis")
    if reading.comment:
        parts.append(f"“{reading.comment}”")
    return " · ".join(parts) or "no values"


def event_items(events: Iterable[EventRecord]) -> list[LogItem]:
    rows = list(events)
    states = entry_states(rows)
    items = []
    for e in rows:
        kind = _EVENT_KINDS.get(e.kind)
        if kind is None or e.voids:
            continue
        title = f"Phase: {e.label}" if e.kind == "phase_change" else e.label or e.kind
        items.append(
            LogItem(
                at=e.occurred_at,
                recorded_at=e.recorded_at,
                kind=kind,
                title=title,
                participant_id=e.participant_id,
                entry_id=e.id,
                state=states[e.id][0],
                reason=states[e.id][1],
                corrects=e.corrects_id is not None,
            )
        )
    return items


def dose_items(doses: Iterable[DoseRecord]) -> list[LogItem]:
    rows = list(doses)
    states = entry_states(rows)
    items = []
    for d in rows:
        if d.voids:
            continue
        amount = f"{d.dose_mg:g} mg" if d.dose_mg is not None else "amount not recorded"
        route = f" {d.route}" if d.route else ""
        title = f"{'Booster' if d.kind == 'booster' else 'Dose'} {amount}{route}"
        detail = f"lot {d.lot_number}" if d.lot_number else ""
        items.append(
            LogItem(
                at=d.occurred_at,
                recorded_at=d.recorded_at,
                kind=LogKind.DOSE,
                title=title,
                detail=detail,
                participant_id=d.participant_id,
                entry_id=d.id,
                state=states[d.id][0],
                reason=states[d.id][1],
                corrects=d.corrects_id is not None,
            )
        )
    return items


def checkin_items(history: Iterable[ObservationRecord]) -> list[LogItem]:
    rows = list(history)
    states = entry_states(rows)
    items = []
    for o in rows:
        if o.voids:
            continue
        label = o.checkin_key.replace("_", " ") if o.checkin_key else "unscheduled"
        items.append(
            LogItem(
                at=o.occurred_at,
                recorded_at=o.recorded_at,
                kind=LogKind.CHECKIN,
                title=f"Check-in ({label})",
                detail=reading_text(o.reading),
                participant_id=o.participant_id,
                entry_id=o.id,
                state=states[o.id][0],
                reason=states[o.id][1],
                corrects=o.corrects_id is not None,
            )
        )
    return items


def alert_items(alerts: Iterable[AlertRecord], names: dict[uuid.UUID, str]) -> list[LogItem]:
    items = []
    for a in alerts:
        items.append(
            LogItem(
                at=a.raised_at,
                recorded_at=a.raised_at,
                kind=LogKind.ALERT,
                title=f"Alert: {a.message}",
                detail="reading corrected since" if a.reading_corrected else "",
                participant_id=a.participant_id,
                entry_id=a.id,
            )
        )
        if a.acknowledged_at is not None:
            who = names.get(a.acknowledged_by_id) if a.acknowledged_by_id else None
            comment = f" — “{a.acknowledgement_comment}”" if a.acknowledgement_comment else ""
            if a.acknowledgement_action not in ("", AlertAction.NOT_RECORDED):
                comment = f" — {a.follow_up}"  # what was done (issue 15)
            items.append(
                LogItem(
                    at=a.acknowledged_at,
                    recorded_at=a.acknowledged_at,
                    kind=LogKind.ALERT,
                    title=f"Alert acknowledged{f' by {who}' if who else ''}",
                    detail=f"{a.label}{comment}",
                    participant_id=a.participant_id,
                )
            )
    return items


def note_items(notes: Iterable[NoteRecord], names: dict[uuid.UUID, str]) -> list[LogItem]:
    rows = list(notes)
    states = entry_states(rows)
    items = []
    for n in rows:
        if n.voids:
            continue
        author = names.get(n.author_id) if n.author_id else None
        title = {"entry": "Note", "session_note": "Session note", "addendum": "Addendum"}.get(
            n.kind, "Note"
        )
        if n.corrects_id is not None:
            title = "Note (amended)"
        items.append(
            LogItem(
                at=n.recorded_at if n.kind != "entry" else n.occurred_at,
                recorded_at=n.recorded_at,
                kind=LogKind.NOTE,
                title=f"{title}{f' — {author}' if author else ''}",
                detail=n.text,
                participant_id=n.participant_id,
                entry_id=n.id,
                state=states[n.id][0],
                reason=states[n.id][1],
                corrects=n.corrects_id is not None,
            )
        )
    return items


def music_item(m: MusicEventRecord) -> LogItem:
    """The event list's item for one music event (read back, or as its save returned it)."""
    title = _MUSIC_TITLES.get(m.kind, m.kind.replace("_", " ").capitalize())
    if m.kind == "volume" and m.volume_pct is not None:
        detail = f"{m.volume_pct:.0f} %"
    elif m.kind == "playlist_switch":
        detail = m.playlist or ""
    else:
        detail = m.track_title or ""
    return LogItem(
        at=m.occurred_at,
        recorded_at=m.recorded_at,
        kind=LogKind.MUSIC,
        title=title,
        detail=detail,
        entry_id=m.id,
    )


def music_items(events: Iterable[MusicEventRecord]) -> list[LogItem]:
    return [music_item(m) for m in events]


def log_items(
    *,
    events: Iterable[EventRecord],
    doses: Iterable[DoseRecord],
    observations: Iterable[ObservationRecord],
    alerts: Iterable[AlertRecord],
    notes: Iterable[NoteRecord],
    music: Iterable[MusicEventRecord],
    signatures: Iterable[SignatureRecord],
    staff_names: dict[uuid.UUID, str],
) -> list[LogItem]:
    """A session's whole log from its rows (entries with their corrections), in time order."""
    items = [
        *event_items(events),
        *dose_items(doses),
        *checkin_items(observations),
        *alert_items(alerts, staff_names),
        *note_items(notes, staff_names),
        *music_items(music),
    ]
    for signature in signatures:
        if signature.part == "addendum":
            continue  # the addendum note itself is in the list
        items.append(
            LogItem(
                at=signature.signed_at,
                recorded_at=signature.signed_at,
                kind=LogKind.SESSION,
                title=f"Signed ({signature.part}) — {signature.signer_name}",
                entry_id=signature.id,
            )
        )
    items.sort(key=log_order)
    return items


class SessionLog:
    """Reads a session's whole log from the database (one read per source)."""

    def __init__(self, database: Database) -> None:
        self._entries = EntryRepository(database)
        self._checkins = CheckinRepository(database)
        self._notes = NoteRepository(database)
        self._music = MusicLogRepository(database)
        self._signatures = SignatureRepository(database)

    def items(self, record: SessionRecord, staff_names: dict[uuid.UUID, str]) -> list[LogItem]:
        session_id = record.id
        return log_items(
            events=self._entries.events(session_id, include_history=True),
            doses=self._entries.doses(session_id, include_history=True),
            observations=self._checkins.observations(session_id, include_history=True),
            alerts=self._checkins.alerts(session_id),
            notes=self._notes.notes(session_id),
            music=self._music.for_session(session_id),
            signatures=self._signatures.signatures(session_id),
            staff_names=staff_names,
        )
