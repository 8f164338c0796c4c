"""One list of everything in a session, in time order: the event list beside the note pad, and
the timeline of the exports (a read model over the record's tables, and the display strings
of its items: storage returns records and knows no wording).

Phases, the prescriber's orders, doses, check-ins, alerts and their acknowledgements, notes,
markers, music, discharge and the session's start and end, each as a `LogItem` with the
participant it concerns, so the list can be filtered by kind and participant. Amended and
withdrawn entries stay in the list, marked, with the reason: the record is append-only and the
list shows it so.
Private notes are not part of the record and are never in this list.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from kapsession.domain.alert_followup import AlertAction
from kapsession.domain.corrections import effective, entry_states
from kapsession.domain.vitals import Reading
from kapsession.records.adverse import (
    AdverseEventRecord,
    InterventionRecord,
    SubstanceRecord,
)
from kapsession.records.entries import (
    AlertRecord,
    DoseRecord,
    EventRecord,
    MusicEventRecord,
    ObservationRecord,
)
from kapsession.records.notes import NoteRecord, SignatureRecord
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.session_log import LogItem, LogKind, log_order
from kapsession.records.sessions import SessionRecord
from kapsession.storage.adverse_events import AdverseEventRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.dose_orders import DoseOrderRepository
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
    "dose_override": LogKind.DOSE,
    "order_countersigned": LogKind.DOSE,
    "hold_outcome": LogKind.DOSE,  # the sublingual hold ended: spat out or swallowed
    "infusion_pause": LogKind.DOSE,
    "infusion_resume": LogKind.DOSE,
    "infusion_stop": LogKind.DOSE,  # its label: the infusion's period and total
    "discharge_deviation": LogKind.DISCHARGE,  # a discharge on the prescriber's override
    "escort": LogKind.DISCHARGE,  # who takes the participant home (issue 17)
    "screening": LogKind.DOSE,  # issue 17: the screening before the first dose
    "dose_gate_decision": LogKind.DOSE,  # the prescriber's proceed or hold
    "consent_override": LogKind.SESSION,  # started without current consent
}
# protocol deviations, never adverse events (16): any override by the prescriber or the nurse
_DEVIATIONS = ("hold_dose_override", "dose_override", "discharge_deviation", "consent_override")
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
        if e.kind in _DEVIATIONS:
            title = f"Protocol deviation: {title}"
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


def checkin_title(key: str | None, labels: Mapping[str, str] | None) -> str:
    """A reading's title: its check-in by the protocol's label ("Check-in T+30"), or
    "Unscheduled check-in". Without the labels, the key as the exports still write it."""
    if labels is None:
        return f"Check-in ({key.replace('_', ' ') if key else 'unscheduled'})"
    return f"Check-in {labels.get(key, key)}" if key else "Unscheduled check-in"


def checkin_items(
    history: Iterable[ObservationRecord], labels: Mapping[str, str] | None = None
) -> list[LogItem]:
    """`labels`: the protocol's check-in labels by key (what the screens show)."""
    rows = list(history)
    states = entry_states(rows)
    items = []
    for o in rows:
        if o.voids:
            continue
        items.append(
            LogItem(
                at=o.occurred_at,
                recorded_at=o.recorded_at,
                kind=LogKind.CHECKIN,
                title=checkin_title(o.checkin_key, labels),
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
        title = {
            "entry": "Note",
            "session_note": "Session note",
            "addendum": "Addendum",
            "intention": "Intention",  # issue 17: set in a preparation session
        }.get(n.kind, "Note")
        if n.corrects_id is not None:
            title = f"{title} (amended)"  # "Intention (amended)", never a plain "Note"
        items.append(
            LogItem(
                at=n.recorded_at if n.kind not in ("entry", "intention") else n.occurred_at,
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


def _local_hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


def adverse_event_detail(a: AdverseEventRecord) -> str:
    """ "moderate · non-serious · resolved 10:52 — ondansetron given"."""
    parts = [a.grading]
    if a.resolved_at is not None:
        parts[0] += f" {_local_hm(a.resolved_at)}"
    if a.actions:
        parts.append(a.actions)
    return " — ".join(parts)


def adverse_event_items(rows: Iterable[AdverseEventRecord]) -> list[LogItem]:
    """Adverse events, with the alerts (an adverse event is a safety entry: listed with them)."""
    listed = list(rows)
    states = entry_states(listed)
    items = []
    for a in listed:
        if a.voids:
            continue
        items.append(
            LogItem(
                at=a.occurred_at,
                recorded_at=a.recorded_at,
                kind=LogKind.ALERT,
                title=f"Adverse event: {a.title}",
                detail=adverse_event_detail(a),
                participant_id=a.participant_id,
                entry_id=a.id,
                state=states[a.id][0],
                reason=states[a.id][1],
                corrects=a.corrects_id is not None,
            )
        )
    return items


def intervention_detail(i: InterventionRecord, names: Mapping[uuid.UUID, str]) -> str:
    parts = []
    if i.lot_number:
        parts.append(f"lot {i.lot_number}")
    given_by = names.get(i.given_by_id) if i.given_by_id else None
    if given_by:
        parts.append(f"given by {given_by}")
    if i.text:
        parts.append(i.text)
    return " · ".join(parts)


def intervention_items(
    rows: Iterable[InterventionRecord], names: Mapping[uuid.UUID, str]
) -> list[LogItem]:
    listed = list(rows)
    states = entry_states(listed)
    items = []
    for i in listed:
        if i.voids:
            continue
        items.append(
            LogItem(
                at=i.occurred_at,
                recorded_at=i.recorded_at,
                kind=LogKind.ALERT,
                title=f"Intervention: {i.title}",
                detail=intervention_detail(i, names),
                participant_id=i.participant_id,
                entry_id=i.id,
                state=states[i.id][0],
                reason=states[i.id][1],
                corrects=i.corrects_id is not None,
            )
        )
    return items


def substance_detail(c: SubstanceRecord, names: Mapping[uuid.UUID, str]) -> str:
    if c.wasted_mg <= 0:
        return "nothing wasted"
    witness = names.get(c.witness_id) if c.witness_id else None
    return f"waste witnessed by {witness or 'a second staff member'}"


def substance_items(
    rows: Iterable[SubstanceRecord], names: Mapping[uuid.UUID, str]
) -> list[LogItem]:
    """Each dose's controlled-substance count, with the doses."""
    listed = list(rows)
    states = entry_states(listed)
    items = []
    for c in listed:
        if c.voids:
            continue
        items.append(
            LogItem(
                at=c.occurred_at,
                recorded_at=c.recorded_at,
                kind=LogKind.DOSE,
                title=c.title,
                detail=substance_detail(c, names),
                participant_id=c.participant_id,
                entry_id=c.id,
                state=states[c.id][0],
                reason=states[c.id][1],
                corrects=c.corrects_id is not None,
            )
        )
    return items


COUNTERSIGNED = "order_countersigned"


def countersignatures(events: Iterable[EventRecord]) -> dict[str, EventRecord]:
    """The standing countersignatures of verbal orders, by the order's id (as text)."""
    return {
        str(e.detail.get("order_id")): e
        for e in effective(list(events))
        if e.kind == COUNTERSIGNED and e.detail.get("order_id")
    }


def order_detail(
    order: DoseOrderRecord,
    countersigned: EventRecord | None,
    names: Mapping[uuid.UUID, str],
) -> str:
    """ "ordered by Dr Ada Lee · verbal — awaiting countersignature", or "… · verbal,
    countersigned by Dr Ada Lee at 14:05"; a correction names why."""
    parts = [f"ordered by {names.get(order.ordered_by_id, 'unknown')}"]
    if order.order.verbal:
        if countersigned is None:
            parts.append("verbal — awaiting countersignature")
        else:
            who = countersigned.detail.get("by") or names.get(
                countersigned.recorded_by_id or order.ordered_by_id, "the prescriber"
            )
            parts.append(
                f"verbal, countersigned by {who} at {_local_hm(countersigned.occurred_at)}"
            )
    return " · ".join(parts)


def order_item(
    order: DoseOrderRecord,
    countersigned: EventRecord | None,
    names: Mapping[uuid.UUID, str],
) -> LogItem:
    """One version of the prescriber's order, with the doses: what was ordered, by whom,
    and how a verbal order stands."""
    plain = dataclasses.replace(order.order, verbal=False)  # the detail says it was verbal
    return LogItem(
        at=order.occurred_at,
        recorded_at=order.recorded_at,
        kind=LogKind.DOSE,
        title=f"Prescriber's order: {plain.summary()}",
        detail=order_detail(order, countersigned, names),
        participant_id=order.participant_id,
        entry_id=order.id,
        corrects=order.corrects_id is not None,
    )


def order_items(
    orders: Iterable[DoseOrderRecord],
    events: Iterable[EventRecord],
    names: Mapping[uuid.UUID, str],
) -> list[LogItem]:
    """Every version of the participants' orders (a withdrawal is no item of its own)."""
    rows = list(orders)
    states = entry_states(rows)
    signed = countersignatures(events)
    return [
        dataclasses.replace(
            order_item(o, signed.get(str(o.id)), names),
            state=states[o.id][0],
            reason=states[o.id][1],
        )
        for o in rows
        if not o.voids
    ]


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
    checkin_labels: Mapping[str, str] | None = None,
    adverse_events: Iterable[AdverseEventRecord] = (),
    interventions: Iterable[InterventionRecord] = (),
    substance_counts: Iterable[SubstanceRecord] = (),
    orders: Iterable[DoseOrderRecord] = (),
) -> list[LogItem]:
    """A session's whole log from its rows (entries with their corrections), in time order.
    `checkin_labels`: the protocol's check-in labels by key, for the readings' titles."""
    events = list(events)
    items = [
        *order_items(orders, events, staff_names),
        *adverse_event_items(adverse_events),
        *intervention_items(interventions, staff_names),
        *substance_items(substance_counts, staff_names),
        *event_items(events),
        *dose_items(doses),
        *checkin_items(observations, checkin_labels),
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
        self._adverse = AdverseEventRepository(database)
        self._orders = DoseOrderRepository(database)

    def items(
        self,
        record: SessionRecord,
        staff_names: dict[uuid.UUID, str],
        checkin_labels: Mapping[str, str] | None = None,
    ) -> list[LogItem]:
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
            checkin_labels=checkin_labels,
            adverse_events=self._adverse.adverse_events(session_id),
            interventions=self._adverse.interventions(session_id),
            substance_counts=self._adverse.substance_counts(session_id),
            orders=self._orders.orders(session_id, include_history=True),
        )
