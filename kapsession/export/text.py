"""The session record as Markdown and as plain text, to paste into an EHR note.

One document (headings, fields, tables, notes, one-line lists) is built once from the
ExportContent and written out twice: Markdown for a file, plain text for "Copy for EHR".
What staff wrote is kept exactly. In Markdown only what would break the document is escaped:
`|` in a table cell (a line break there becomes `<br>`), a line of a note that would start a
heading, a code fence or a horizontal rule, and `<` before a letter (an HTML tag would hide
text); lines of a note end in two spaces so they stay lines when rendered.
Times are local (`tz`, the computer's zone by default), with the date once in the header.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Protocol, TypeVar

from kapsession.domain.corrections import Correctable, EntryState, entry_states
from kapsession.domain.scales import SCALES
from kapsession.export.content import REDACTED, ExportContent
from kapsession.records.entries import (
    ALDRETE_ITEM_KEYS,
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    EventRecord,
    ObservationRecord,
    is_late,
)
from kapsession.records.notes import PARTS, NoteRecord, PrivateNoteRecord, SignedPart
from kapsession.records.session_log import LogItem, LogKind

APP_NAME = "kapsession"
DOSE_EVENT_KINDS = ("hold_dose_caution", "hold_dose_override", "device_given", "dose_plan")
TIMELINE_NOTE_CHARS = 100  # a note in the timeline: its start; the whole note is further down
_PART_TITLES = {
    SignedPart.MONITORING: "Monitoring record",
    SignedPart.THERAPY: "Therapy notes",
    "addendum": "Addendum",
}
_ALDRETE_NAMES = {
    "activity": "Activity",
    "breathing": "Breathing",
    "circulation": "Circulation",
    "consciousness": "Consciousness",
    "spo2": "SpO2",
}


# --- what both exports share -----------------------------------------------------------------
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


# --- the document ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Heading:
    level: int
    text: str


@dataclass(frozen=True)
class _Notice:
    text: str


@dataclass(frozen=True)
class _Fields:
    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lead: int = 1  # plain text: these first cells name the row, the rest are "Header: value"


@dataclass(frozen=True)
class _Entry:
    head: str  # written by us: time, place in the session, author
    status: str  # from the record: amended, withdrawn, late (may hold a reason)
    text: str  # exactly as written


@dataclass(frozen=True)
class _Lines:
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Paragraph:
    text: str


@dataclass(frozen=True)
class _Rule:
    pass


_Block = _Heading | _Notice | _Fields | _Table | _Entry | _Lines | _Paragraph | _Rule


class _Times:
    """Local times for one session: "14:05" on the session's day, with the date otherwise."""

    def __init__(self, content: ExportContent, tz: tzinfo | None) -> None:
        self._tz = tz
        self.start = content.session.started_at or content.session.created_at
        self.day = self.local(self.start).date()
        self.first_dose = content.first_dose_at

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self._tz)

    def hm(self, at: datetime) -> str:
        here = self.local(at)
        return f"{here:%H:%M}" if here.date() == self.day else f"{here:%Y-%m-%d %H:%M}"

    def since_dose(self, at: datetime) -> str:
        """Minutes from the first dose, as on the session clock: "T+32", "T−10"."""
        if self.first_dose is None:
            return ""
        since_s = (at - self.first_dose).total_seconds()
        if since_s >= 0:
            return f"T+{math.floor(since_s / 60)}"
        return f"T−{math.ceil(-since_s / 60)}"

    def zone(self) -> str:
        here = self.local(self.start)
        offset = here.utcoffset()
        minutes = 0 if offset is None else round(offset.total_seconds() / 60)
        sign = "+" if minutes >= 0 else "-"
        utc = (
            "UTC" if minutes == 0 else f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        )
        name = here.tzname() or ""
        return utc if not name or name.startswith("UTC") else f"{name}, {utc}"


def _status(state: EntryState, reason: str | None, scrub: Callable[[str], str]) -> str:
    why = scrub(reason) if reason else "no reason given"
    if state is EntryState.AMENDED:
        return f"amended — {why}"
    if state is EntryState.WITHDRAWN:
        return f"withdrawn — {why}"
    return ""


class _Builder:
    """Builds the blocks of one session's document, section by section."""

    def __init__(self, content: ExportContent, tz: tzinfo | None) -> None:
        self.c = content
        self.t = _Times(content, tz)
        self.scrub = others_scrubber(content)
        self.blocks: list[_Block] = []

    def add(self, *blocks: _Block) -> None:
        self.blocks.extend(blocks)

    def record_status(
        self,
        row: Correctable,
        states: dict[uuid.UUID, tuple[EntryState, str | None]],
        originals: dict[uuid.UUID, datetime],
        occurred_at: datetime,
        recorded_at: datetime,
    ) -> str:
        """What the record says about a row: amended/withdrawn and why, a correction, late."""
        parts = []
        state, reason = states[row.id]
        text = _status(state, reason, self.scrub)
        if text:
            parts.append(text)
        if row.corrects_id is not None:
            before = originals.get(row.corrects_id)
            when = f" of {self.t.hm(before)}" if before is not None else ""
            why = self.scrub(row.correction_reason or "no reason given")
            parts.append(f"correction of the entry{when} — {why}")
        if is_late(occurred_at, recorded_at):
            parts.append(f"late entry, written {self.t.hm(recorded_at)}")
        return "; ".join(parts)

    # sections -------------------------------------------------------------------------------
    def header(self) -> None:
        c, t = self.c, self.t
        title = f"Session record: {c.client_name}"
        self.add(_Heading(1, f"{title} — DRAFT" if c.draft else title))
        if c.draft:
            self.add(
                _Notice(
                    "DRAFT — this session is not signed; the record may still change. "
                    "Sign the session before filing this note."
                )
            )
        session, client = c.session, c.participant.client
        end = t.hm(session.ended_at) if session.ended_at else "not ended"
        started = session.started_at
        when = f"{t.day.isoformat()} ({t.day:%A})"
        if started is not None:
            when += f", {t.hm(started)}–{end}"
        dosing = c.protocol.dosing
        modality = session.modality
        if len(session.participants) > 1:
            modality += (
                f" — this document is {c.client_name}'s alone; "
                "the other participants' data are left out"
            )
        number = c.participant.session_number
        fields = [
            ("Client", c.client_name),
            (
                "Date of birth",
                client.date_of_birth.isoformat() if client.date_of_birth else "not recorded",
            ),
            ("Record number", client.record_number or "not recorded"),
            ("Session date", when),
            ("Times", f"local time ({t.zone()})"),
            ("Session in the course", str(number) if number is not None else "not in a course"),
            ("Protocol", f"{session.protocol_name} (version {session.protocol_version})"),
            ("Medication and route", f"{dosing.medication.value}, {dosing.route.value}"),
            ("Modality", modality),
            ("Room", session.room or "not recorded"),
            ("Therapist", c.staff_name(session.therapist_id) or "not recorded"),
            ("Nurse", c.staff_name(session.nurse_id) or "not recorded"),
            ("Record status", "signed" if not c.draft else f"DRAFT, not signed ({session.status})"),
        ]
        if c.private_notes is not None:
            fields.append(("Psychotherapy notes", "included at the end, on request"))
        self.add(_Fields(tuple(fields)))

    def doses(self) -> None:
        c, t = self.c, self.t
        self.add(_Heading(2, "Doses"))
        states = entry_states(c.doses)
        originals = {d.id: d.occurred_at for d in c.doses}
        rows = []
        for d in _ordered(c.doses):
            if d.voids:
                continue  # the withdrawal shows on the dose it takes back
            rows.append(
                (
                    t.hm(d.occurred_at),
                    "booster" if d.kind == "booster" else "initial",
                    d.medication or "",
                    number_text(d.dose_mg) if d.dose_mg is not None else "not recorded",
                    d.route or "",
                    d.lot_number or "",
                    c.staff_name(d.given_by_id),
                    _dose_details(d),
                    self.record_status(d, states, originals, d.occurred_at, d.recorded_at),
                )
            )
        if rows:
            headers = ("Time", "Kind", "Medication", "Dose (mg)", "Route", "Lot", "Given by")
            self.add(_Table((*headers, "Details", "Record"), tuple(rows)))
        else:
            self.add(_Paragraph("No dose recorded."))
        events = [e for e in c.events if e.kind in DOSE_EVENT_KINDS]
        lines = self.event_lines(events)
        if lines:
            self.add(_Lines(tuple(lines)))

    def event_lines(self, events: Sequence[EventRecord]) -> list[str]:
        states = entry_states(events)
        originals = {e.id: e.occurred_at for e in events}
        lines = []
        for e in _ordered(events):
            if e.voids:
                continue
            text = f"{self.t.hm(e.occurred_at)} {e.label or e.kind}"
            extra = [str(e.detail[k]) for k in ("message",) if e.detail.get(k)]
            if e.detail.get("staff"):
                extra.append(f"authorised by {e.detail['staff']}")
            if extra:
                text += f" ({self.scrub('; '.join(extra))})"
            status = self.record_status(e, states, originals, e.occurred_at, e.recorded_at)
            lines.append(f"{text} [{status}]" if status else text)
        return lines

    def vitals(self) -> None:
        c, t = self.c, self.t
        self.add(_Heading(2, "Vital signs and observations"))
        states = entry_states(c.observations)
        originals = {o.id: o.occurred_at for o in c.observations}
        rows = []
        for o in _ordered(c.observations):
            if o.voids:
                continue
            v = o.values
            bp = (
                f"{v['systolic_mmhg']}/{v['diastolic_mmhg']}"
                if o.has_bp
                else _num_or_blank(v["systolic_mmhg"]) or _num_or_blank(v["diastolic_mmhg"])
            )
            rows.append(
                (
                    t.hm(o.occurred_at),
                    t.since_dose(o.occurred_at),
                    checkin_label(c, o.checkin_key),
                    bp,
                    _num_or_blank(v["heart_rate_bpm"]),
                    _num_or_blank(v["spo2_pct"]),
                    _num_or_blank(v["resp_rate_per_min"]),
                    _num_or_blank(v["temperature_c"]),
                    _num_or_blank(v["moaas"]),
                    self.scrub(_other_values(o)),
                    self.record_status(o, states, originals, o.occurred_at, o.recorded_at),
                )
            )
        if not rows:
            self.add(_Paragraph("No readings recorded."))
            return
        headers = ("Time", "T+", "Check-in", "BP (mmHg)", "HR (/min)", "SpO2 (%)", "RR (/min)")
        self.add(_Table((*headers, "Temp (°C)", "MOAA/S", "Other", "Record"), tuple(rows), 3))
        self.add(
            _Paragraph(
                "T+ is minutes from the first dose. MOAA/S 0–5 (5 = responds readily to name). "
                "Other: RASS −5…+4, dissociation 0–4, nausea 0–10, SUDS 0–10."
            )
        )

    def alerts(self) -> None:
        c, t = self.c, self.t
        self.add(_Heading(2, "Alerts"))
        if not c.alerts:
            self.add(_Paragraph("No alerts."))
            return
        rows = []
        for a in sorted(c.alerts, key=lambda a: a.raised_at):
            message = a.message + (
                "; the reading was corrected since" if a.reading_corrected else ""
            )
            rows.append(
                (
                    t.hm(a.raised_at),
                    t.since_dose(a.raised_at),
                    message,
                    _acknowledged(c, t, a),
                    self.scrub(a.acknowledgement_comment),
                )
            )
        self.add(_Table(("Time", "T+", "Alert", "Acknowledged", "Comment"), tuple(rows), 2))

    def discharge(self) -> None:
        c, t = self.c, self.t
        self.add(_Heading(2, "Discharge"))
        shown = [d for d in _ordered(c.discharges) if not d.voids]
        if not shown:
            self.add(_Paragraph("No discharge check recorded."))
            return
        states = entry_states(c.discharges)
        originals = {d.id: d.occurred_at for d in c.discharges}
        for d in shown:
            if len(shown) > 1:
                self.add(_Heading(3, f"Discharge check at {t.hm(d.occurred_at)}"))
            status = self.record_status(d, states, originals, d.occurred_at, d.recorded_at)
            self.add(_Fields(tuple(self.discharge_fields(d, status))))

    def discharge_fields(self, d: DischargeAssessmentRecord, status: str) -> list[tuple[str, str]]:
        c, t = self.c, self.t
        by = c.staff_name(d.recorded_by_id)
        assessed = f"{t.hm(d.occurred_at)} ({t.since_dose(d.occurred_at) or 'no dose'})"
        fields = [("Assessed", f"{assessed}, by {by}" if by else assessed)]
        if status:
            fields.append(("Record", status))
        scores = {k: d.aldrete.get(k) for k in ALDRETE_ITEM_KEYS}
        items = ", ".join(
            f"{_ALDRETE_NAMES[k]} {'not scored' if v is None else v}" for k, v in scores.items()
        )
        pass_mark = c.protocol.discharge.aldrete_pass_min
        fields.append(
            ("Modified Aldrete", f"{items}; total {d.aldrete_total} of 10 (pass mark {pass_mark})")
        )
        fields.append(("On room air", "yes" if d.on_room_air else "no"))
        labels = {item.key: item.label for item in c.protocol.discharge.checklist}
        checklist = "; ".join(
            f"{labels.get(key, key)}: {'yes' if done else 'no'}"
            for key, done in d.checklist.items()
        )
        fields.append(("Checklist", checklist or "none"))
        if d.ready:
            minutes = d.ready_minutes_after_first_dose
            at = f", at {minutes} minutes after the first dose" if minutes is not None else ""
            fields.append(("Ready to leave", f"yes{at}"))
        else:
            fields.append(("Ready to leave", "no"))
        if d.problems:
            fields.append(("Not met", self.scrub("; ".join(d.problems))))
        if d.override_reason:
            who = f" (by {self.scrub(d.override_by)})" if d.override_by else ""
            fields.append(("Discharged despite the check", self.scrub(d.override_reason) + who))
        return fields

    def timeline(self) -> None:
        self.add(_Heading(2, "Timeline"))
        if not self.c.timeline:
            self.add(_Paragraph("Nothing recorded."))
            return
        self.add(_Lines(tuple(self.timeline_line(i) for i in self.c.timeline)))

    def timeline_line(self, item: LogItem) -> str:
        t = self.t
        title, detail = _timeline_title(self.c, item), item.detail
        if item.kind is LogKind.NOTE:
            detail = "" if not title.startswith("Note") else _condensed(detail)
        else:
            detail = " ".join(detail.split())
        when = " · ".join(x for x in (t.hm(item.at), t.since_dose(item.at)) if x)
        text = f"{when} · {title}" + (f": {detail}" if detail else "")
        parts = [_status(item.state, item.reason, self.scrub)]
        if item.corrects:
            parts.append("replaces an earlier entry")
        if item.late:
            parts.append(f"written {t.hm(item.recorded_at)}")
        status = "; ".join(p for p in parts if p)
        return f"{text} [{status}]" if status else text

    def session_note(self) -> None:
        c, t = self.c, self.t
        self.add(_Heading(2, "Session note"))
        note = c.session_note
        if note is None:
            self.add(_Paragraph("No session note yet."))
            return
        author = c.staff_name(note.author_id)
        meta = f"Written {t.hm(note.recorded_at)}" + (f" by {author}" if author else "")
        if note.template_key:
            meta += f" (template: {note.template_key})"
        self.add(_Paragraph(meta + "."))
        if not note.sections:
            self.add(_Paragraph(note.text))
            return
        for _key, title, body in note.sections:
            self.add(_Heading(3, title), _Paragraph(body if body.strip() else "—"))

    def note_entries(self) -> None:
        self.add(_Heading(2, "Notes during the session"))
        entries = self.c.note_entries
        if not entries:
            self.add(_Paragraph("No notes."))
            return
        self.add(*self.entries(entries))

    def entries(self, notes: Sequence[NoteRecord | PrivateNoteRecord]) -> list[_Entry]:
        c, t = self.c, self.t
        states = entry_states(notes)
        originals = {n.id: n.occurred_at for n in notes}
        out = []
        for n in _ordered(notes):
            if n.voids:
                continue
            head = [t.hm(n.occurred_at), t.since_dose(n.occurred_at), _phase_name(c, n.phase_key)]
            author = c.staff_name(n.author_id)
            text = " · ".join(h for h in head if h) + (f" — {author}" if author else "")
            status = self.record_status(n, states, originals, n.occurred_at, n.recorded_at)
            out.append(_Entry(text, status, n.text))
        return out

    def addenda(self) -> None:
        c, t = self.c, self.t
        if not c.addenda:
            return
        self.add(_Heading(2, "Addenda"))
        signed = {s.note_id: s for s in c.signatures if s.note_id is not None}
        for note in c.addenda:
            signature = signed.get(note.id)
            if signature is not None:
                head = f"{t.hm(note.recorded_at)} — {signature.signer_name}"
                status = f"signed {t.hm(signature.signed_at)}"
            else:
                author = c.staff_name(note.author_id)
                head = t.hm(note.recorded_at) + (f" — {author}" if author else "")
                status = "not signed"
            self.add(_Entry(head, status, note.text))

    def signatures(self) -> None:
        c, t = self.c, self.t
        self.add(_Heading(2, "Signatures"))
        rows = []
        signed_parts = {s.part for s in c.signatures}
        for s in sorted(c.signatures, key=lambda s: s.signed_at):
            verified = c.signatures_verified.get(s.part)
            holds = {
                True: "yes",
                False: "NO — the record differs from what was signed",
                None: "not checked",
            }[verified]
            rows.append(
                (
                    _PART_TITLES.get(s.part, s.part),
                    s.signer_name,
                    s.signer_role,
                    t.hm(s.signed_at),
                    s.meaning,
                    holds,
                )
            )
        for part in PARTS:
            if part not in signed_parts:
                rows.append((_PART_TITLES.get(part, part), "not signed", "", "", "", ""))
        headers = ("Part", "Signed by", "Role", "Signed at", "Meaning", "Unchanged since signing")
        self.add(_Table(headers, tuple(rows)))

    def private_notes(self) -> None:
        notes = self.c.private_notes
        if notes is None:
            return
        self.add(
            _Heading(2, "Psychotherapy notes — private, kept apart from the record"),
            _Notice(
                "These are the therapist's private psychotherapy notes (HIPAA 45 CFR §164.501). "
                "They are kept apart from the session record and appear here only because they "
                "were explicitly included in this export."
            ),
        )
        if not notes:
            self.add(_Paragraph("No private notes."))
        else:
            self.add(*self.entries(notes))

    def footer(self) -> None:
        at = self.c.exported_at
        when = f"Exported {self.t.hm(at)} ({self.t.zone()})" if at else "Exported"
        draft = " — DRAFT, not signed" if self.c.draft else ""
        self.add(_Rule(), _Paragraph(f"{when} from {APP_NAME}{draft}."))


class _Timed(Protocol):
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...


_T = TypeVar("_T", bound=_Timed)


def _ordered(rows: Iterable[_T]) -> list[_T]:
    """Rows in the order they happened (then written), corrected originals beside theirs."""
    return sorted(rows, key=lambda r: (r.occurred_at, r.recorded_at))


def _num_or_blank(value: Any) -> str:
    return "" if value is None else number_text(value)


def _dose_details(d: DoseRecord) -> str:
    parts = []
    if d.dose_mg_per_kg is not None and d.weight_kg is not None:
        parts.append(f"{number_text(d.dose_mg_per_kg)} mg/kg × {number_text(d.weight_kg)} kg")
    elif d.weight_kg is not None:
        parts.append(f"weight {number_text(d.weight_kg)} kg")
    if d.device_count is not None:
        parts.append(f"{d.device_count} device{'s' if d.device_count != 1 else ''}")
    return "; ".join(parts)


def _other_values(o: ObservationRecord) -> str:
    """The scales beside MOAA/S, emesis, oxygen and the nurse's comment, in one cell."""
    v = o.values
    parts = []
    for key, label in (("rass", "RASS"), ("dissociation", "Dissociation"), ("nausea", "Nausea")):
        if v[key] is not None:
            parts.append(f"{label} {SCALES[key].format_value(v[key])}")
    if v["suds"] is not None:
        parts.append(f"SUDS {v['suds']}")
    if v["emesis"] is not None:
        parts.append("emesis" if v["emesis"] else "no emesis")
    if o.on_room_air is False:
        parts.append("on supplemental oxygen")
    if v["comment"]:
        parts.append(f"“{v['comment']}”")
    return "; ".join(parts)


def _acknowledged(content: ExportContent, times: _Times, alert: AlertRecord) -> str:
    if alert.acknowledged_at is None:
        return "NOT acknowledged"
    who = content.staff_name(alert.acknowledged_by_id)
    return f"{times.hm(alert.acknowledged_at)}" + (f" by {who}" if who else "")


def _phase_name(content: ExportContent, key: str | None) -> str:
    if key is None:
        return ""
    try:
        return content.protocol.phase(key).name
    except KeyError:
        return key


def _condensed(text: str) -> str:
    """A note's start on one line, for the timeline."""
    flat = " ".join(text.split())
    if len(flat) <= TIMELINE_NOTE_CHARS:
        return flat
    return flat[: TIMELINE_NOTE_CHARS - 1].rstrip() + "…"


def _timeline_title(content: ExportContent, item: LogItem) -> str:
    """The timeline's title, with what the content knows besides: the protocol's check-in
    label, who wrote a note, who acknowledged an alert."""
    title = item.title
    if item.kind is LogKind.MARKER:
        return f"Marker: {title}"
    if item.kind is LogKind.CHECKIN and item.entry_id is not None:
        found = [o for o in content.observations if o.id == item.entry_id]
        if found:
            return f"Check-in ({checkin_label(content, found[0].checkin_key)})"
    if item.kind is LogKind.NOTE and item.entry_id is not None and " — " not in title:
        notes = [n for n in content.notes if n.id == item.entry_id]
        author = content.staff_name(notes[0].author_id) if notes else ""
        return f"{title} — {author}" if author else title
    if item.kind is LogKind.ALERT and title == "Alert acknowledged":
        for alert in content.alerts:
            if alert.acknowledged_at == item.at and alert.acknowledged_by_id is not None:
                who = content.staff_name(alert.acknowledged_by_id)
                return f"{title} by {who}" if who else title
    return title


def _build(content: ExportContent, tz: tzinfo | None) -> list[_Block]:
    builder = _Builder(content, tz)
    builder.header()
    builder.doses()
    builder.vitals()
    builder.alerts()
    builder.discharge()
    builder.session_note()
    builder.note_entries()
    builder.addenda()
    builder.timeline()
    builder.signatures()
    builder.private_notes()
    builder.footer()
    return builder.blocks


# --- Markdown ---------------------------------------------------------------------------------
# A line that would start a heading, a code fence, a setext underline or a horizontal rule.
_MD_BLOCK_START = re.compile(
    r"^( {0,3})(?=#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|=+[ \t]*$|-+[ \t]*$|(?:[*_-][ \t]*){3,}$)"
)
_MD_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _md_inline(text: str) -> str:
    """Text inside a line we write (a list item, a field): tags escaped, breaks kept."""
    return _MD_TAG_START.sub(r"\\<", text).replace("\r\n", "\n").replace("\n", "  \n  ")


def _md_cell(text: str) -> str:
    escaped = _MD_TAG_START.sub(r"\\<", text).replace("|", r"\|")
    return re.sub(r"\r\n|\r|\n", "<br>", escaped)


def _md_block(text: str) -> str:
    """Staff's text as a paragraph: kept line for line (hard breaks), structure escaped."""
    lines = text.split("\n")
    out = []
    for index, line in enumerate(lines):
        line = _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\", _MD_TAG_START.sub(r"\\<", line))
        following = index + 1 < len(lines) and lines[index + 1].strip()
        out.append(line + "  " if line.strip() and following else line)
    return "\n".join(out)


def _md_table(table: _Table) -> str:
    width = len(table.headers)
    lines = ["| " + " | ".join(_md_cell(h) for h in table.headers) + " |"]
    lines.append("|" + "|".join(" --- " for _ in table.headers) + "|")
    for row in table.rows:
        cells = [*row, *([""] * (width - len(row)))][:width]
        lines.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _markdown_block(block: _Block) -> str:
    if isinstance(block, _Heading):
        return "#" * block.level + " " + _md_inline(block.text)
    if isinstance(block, _Notice):
        return "> **" + _md_inline(block.text) + "**"
    if isinstance(block, _Fields):
        return "\n".join(f"- **{label}:** {_md_inline(value)}" for label, value in block.items)
    if isinstance(block, _Table):
        return _md_table(block)
    if isinstance(block, _Entry):
        status = f" [{_md_inline(block.status)}]" if block.status else ""
        return f"**{_md_inline(block.head)}**{status}  \n{_md_block(block.text)}"
    if isinstance(block, _Lines):
        return "\n".join("- " + _md_inline(line) for line in block.lines)
    if isinstance(block, _Paragraph):
        return _md_block(block.text)
    return "---"


# --- plain text -------------------------------------------------------------------------------
def _plain_block(block: _Block) -> str:
    if isinstance(block, _Heading):
        return block.text.upper() if block.level == 2 else block.text
    if isinstance(block, _Notice):
        return block.text
    if isinstance(block, _Fields):
        return "\n".join(f"{label}: {value}" for label, value in block.items)
    if isinstance(block, _Table):
        return "\n".join(_plain_row(block, row) for row in block.rows)
    if isinstance(block, _Entry):
        status = f" [{block.status}]" if block.status else ""
        return f"{block.head}{status}\n{block.text}"
    if isinstance(block, _Lines):
        return "\n".join(block.lines)
    if isinstance(block, _Paragraph):
        return block.text
    return ""  # a blank line is the rule between the record and its footer


def _plain_row(table: _Table, row: tuple[str, ...]) -> str:
    """A table row as one line: "14:05 · T+40 · REMS BP at 40 minutes — BP (mmHg): 185/102; …"."""
    lead = " · ".join(cell for cell in row[: table.lead] if cell)
    rest = "; ".join(
        f"{header}: {cell}"
        for header, cell in zip(table.headers[table.lead :], row[table.lead :], strict=False)
        if cell
    )
    return f"{lead} — {rest}" if lead and rest else lead or rest


def to_markdown(content: ExportContent, *, tz: tzinfo | None = None) -> str:
    """The session record as a Markdown document (times in `tz`, the computer's by default)."""
    blocks = (_markdown_block(b) for b in _build(content, tz))
    return "\n\n".join(b for b in blocks if b) + "\n"


def to_plain_text(content: ExportContent, *, tz: tzinfo | None = None) -> str:
    """The same document without Markdown, for an EHR that takes plain text."""
    blocks = (_plain_block(b) for b in _build(content, tz))
    return "\n\n".join(b for b in blocks if b) + "\n"
