"""The session record as the note for the EHR (Markdown, plain text): its blocks, section by
section, from the ExportContent. Times are local (`tz`, the computer's zone by default), with
the date once in the header. Corrections stay: an amended or withdrawn entry keeps its line and
says why; the row that withdraws it is not listed again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any

from kapsession.domain.corrections import EntryState, Version
from kapsession.domain.measures import measure_names
from kapsession.domain.scales import SCALES
from kapsession.export.adverse_blocks import adverse_sections
from kapsession.export.content import ExportContent
from kapsession.export.deviation_blocks import deviation_text, discharge_deviation
from kapsession.export.document import (
    Block,
    Cell,
    Column,
    Document,
    Entry,
    Field,
    Fields,
    Heading,
    Lines,
    Notice,
    Paragraph,
    Row,
    Rule,
    Section,
    Table,
)
from kapsession.export.escort_blocks import with_escort
from kapsession.export.order_blocks import order_section
from kapsession.export.record_rows import RecordRows, checkin_label, number_text, phase_name
from kapsession.export.screening_blocks import screening_sections
from kapsession.export.session_kind import medication_and_route, session_kind
from kapsession.export.times import SessionTimes
from kapsession.records.entries import (
    ALDRETE_ITEM_KEYS,
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    ObservationRecord,
    is_late,
)
from kapsession.records.notes import (
    PARTS,
    NoteRecord,
    PrivateNoteRecord,
    SignatureCheck,
    SignedPart,
)
from kapsession.records.session_log import LogItem, LogKind

APP_NAME = "kapsession"
DOSE_EVENT_KINDS = ("hold_dose_caution", "hold_dose_override", "device_given", "dose_plan")
TIMELINE_NOTE_CHARS = 100  # a note in the timeline: its start; the whole note is further down
_PART_TITLES = {
    SignedPart.MONITORING: "Monitoring record",
    SignedPart.THERAPY: "Therapy notes",
    "addendum": "Addendum",
}
# what an addendum's line adds to "signed HH:MM" after checking its signature (issue 18)
ADDENDUM_CHECK: dict[SignatureCheck | None, str] = {
    SignatureCheck.CHANGED: " — NO: the addendum differs from what was signed",
    SignatureCheck.UNBOUND: " (made before signatures were bound to a person)",
}
_ALDRETE_NAMES = {
    "activity": "Activity",
    "breathing": "Breathing",
    "circulation": "Circulation",
    "consciousness": "Consciousness",
    "spo2": "SpO2",
}


def note_document(content: ExportContent, tz: tzinfo | None = None) -> Document:
    """The record of one participant's session as a note for the EHR."""
    build = _Note(RecordRows(content, tz))
    blocks = [
        *build.header(),
        order_section(content, tz),  # issue 16
        *screening_sections(content, tz),  # issue 17
        build.doses(),
        build.vitals(),
        build.alerts(),
        *adverse_sections(build.rows),  # issue 16
        build.discharge(),
        build.session_note(),
        build.note_entries(),
        *build.addenda(),
        build.timeline(),
        build.signatures(),
        *build.private_notes(),
        *build.footer(),
    ]
    return Document(tuple(blocks))


def _text(value: str) -> Paragraph:
    return Paragraph((value,))


def _fields(items: Sequence[tuple[str, str]]) -> Fields:
    return Fields(tuple(Field(label, (value,)) for label, value in items))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], lead: int = 1) -> Table:
    return Table(
        tuple(Column(h) for h in headers),
        tuple(Row(tuple(Cell((c,)) for c in row)) for row in rows),
        lead,
    )


def _status(state: EntryState, reason: str | None, scrub: Callable[[str], str]) -> str:
    why = scrub(reason) if reason else "no reason given"
    if state is EntryState.AMENDED:
        return f"amended — {why}"
    if state is EntryState.WITHDRAWN:
        return f"withdrawn — {why}"
    return ""


class _Note:
    """Builds the blocks of one session's note, section by section."""

    def __init__(self, rows: RecordRows) -> None:
        self.rows = rows
        self.c = rows.content
        self.t = rows.times
        self.scrub = rows.scrub

    def record_status(self, item: Version[Any]) -> str:
        """What the record says about an entry: amended/withdrawn and why, a correction, late."""
        parts = []
        text = _status(item.state, item.reason, self.scrub)
        if text:
            parts.append(text)
        if item.corrects:
            before = self.rows.replaced_at(item)
            when = f" of {self.t.hm(before)}" if before is not None else ""
            why = self.scrub(item.correction_reason or "no reason given")
            parts.append(f"correction of the entry{when} — {why}")
        row = item.row
        if is_late(row.occurred_at, row.recorded_at):
            parts.append(f"late entry, written {self.t.hm(row.recorded_at)}")
        return "; ".join(parts)

    # sections -------------------------------------------------------------------------------
    def header(self) -> list[Block]:
        c, t = self.c, self.t
        title = f"Session record: {c.client_name}"
        blocks: list[Block] = [Heading(1, f"{title} — DRAFT" if c.draft else title)]
        if c.draft:
            blocks.append(
                Notice(
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
            ("Session type", session_kind(c, lambda at: t.local(at).date().isoformat())),
            ("Protocol", f"{session.protocol_name} (version {session.protocol_version})"),
            ("Medication and route", medication_and_route(c)),  # issue 17: none without a dose
            ("Modality", modality),
            ("Room", session.room or "not recorded"),
            ("Therapist", c.staff_name(session.therapist_id) or "not recorded"),
            ("Nurse", c.staff_name(session.nurse_id) or "not recorded"),
            ("Record status", "signed" if not c.draft else f"DRAFT, not signed ({session.status})"),
        ]
        if c.private_notes is not None:
            fields.append(("Psychotherapy notes", "included at the end, on request"))
        blocks.append(_fields(fields))
        return blocks

    def doses(self) -> Section:
        c, t = self.c, self.t
        rows = []
        for item in self.rows.doses:
            d = item.row
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
                    self.record_status(item),
                )
            )
        blocks: list[Block] = []
        if rows:
            headers = ("Time", "Kind", "Medication", "Dose (mg)", "Route", "Lot", "Given by")
            blocks.append(_table((*headers, "Details", "Record"), rows))
        else:
            blocks.append(_text("No dose recorded."))
        lines = self.event_lines()
        if lines:
            blocks.append(Lines(tuple(lines)))
        return Section("Doses", tuple(blocks))

    def event_lines(self) -> list[str]:
        lines = []
        for item in self.rows.events(DOSE_EVENT_KINDS):
            e = item.row
            text = f"{self.t.hm(e.occurred_at)} {e.label or e.kind}"
            extra = [str(e.detail[k]) for k in ("message",) if e.detail.get(k)]
            if e.detail.get("staff"):
                extra.append(f"authorised by {e.detail['staff']}")
            if extra:
                text += f" ({self.scrub('; '.join(extra))})"
            status = self.record_status(item)
            lines.append(f"{text} [{status}]" if status else text)
        return lines

    def vitals(self) -> Section:
        c, t = self.c, self.t
        title = "Vital signs and observations"
        rows = []
        for item in self.rows.observations:
            o = item.row
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
                    self.record_status(item),
                )
            )
        if not rows:
            return Section(title, (_text("No readings recorded."),))
        headers = ("Time", "T+", "Check-in", "BP (mmHg)", "HR (/min)", "SpO2 (%)", "RR (/min)")
        table = _table((*headers, "Temp (°C)", "MOAA/S", "Other", "Record"), rows, 3)
        legend = _text(
            "T+ is minutes from the first dose. MOAA/S 0–5 (5 = responds readily to name). "
            "Other: RASS −5…+4, dissociation 0–4, nausea 0–10, SUDS 0–10."
        )
        return Section(title, (table, legend))

    def alerts(self) -> Section:
        c, t = self.c, self.t
        if not self.rows.alerts:
            return Section("Alerts", (_text("No alerts."),))
        rows = []
        for a in self.rows.alerts:
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
        headers = ("Time", "T+", "Alert", "Acknowledged", "Comment")
        return Section("Alerts", (_table(headers, rows, 2),))

    def discharge(self) -> Section:
        shown = self.rows.discharges
        if not shown:
            return with_escort(
                Section("Discharge", (_text("No discharge check recorded."),)), self.c
            )
        blocks: list[Block] = []
        for item in shown:
            if len(shown) > 1:
                blocks.append(Heading(3, f"Discharge check at {self.t.hm(item.row.occurred_at)}"))
            status = self.record_status(item)
            blocks.append(_fields(self.discharge_fields(item.row, status)))
        return with_escort(Section("Discharge", tuple(blocks)), self.c)

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
        deviation = discharge_deviation(c, d)
        if deviation is not None:  # issue 16: before the minimum time, the prescriber's override
            fields.append(("Protocol deviation", self.scrub(deviation_text(deviation, t.tz))))
        return fields

    def timeline(self) -> Section:
        if not self.c.timeline:
            return Section("Timeline", (_text("Nothing recorded."),))
        return Section("Timeline", (Lines(tuple(self.timeline_line(i) for i in self.c.timeline)),))

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

    def session_note(self) -> Section:
        c, t = self.c, self.t
        note = c.session_note
        if note is None:
            return Section("Session note", (_text("No session note yet."),))
        author = c.staff_name(note.author_id)
        meta = f"Written {t.hm(note.recorded_at)}" + (f" by {author}" if author else "")
        if note.template_key:
            meta += f" (template: {note.template_key})"
        blocks: list[Block] = [_text(meta + ".")]
        if not note.sections:
            blocks.append(_text(note.text))
        for _key, title, body in note.sections:
            blocks += [Heading(3, title), _text(body if body.strip() else "—")]
        return Section("Session note", tuple(blocks))

    def note_entries(self) -> Section:
        title = "Notes during the session"
        entries = self.rows.note_entries
        if not entries:
            return Section(title, (_text("No notes."),))
        return Section(title, tuple(self.entries(entries)))

    def entries(
        self, notes: Sequence[Version[NoteRecord] | Version[PrivateNoteRecord]]
    ) -> list[Entry]:
        c, t = self.c, self.t
        out = []
        for item in notes:
            n = item.row
            head = [t.hm(n.occurred_at), t.since_dose(n.occurred_at), phase_name(c, n.phase_key)]
            if getattr(n, "kind", None) == "intention":  # issue 17: the client's intention
                head.append("Intention")
            author = c.staff_name(n.author_id)
            text = " · ".join(h for h in head if h) + (f" — {author}" if author else "")
            out.append(Entry(text, self.record_status(item), n.text, item.state))
        return out

    def addenda(self) -> list[Section]:
        c, t = self.c, self.t
        if not c.addenda:
            return []
        signed = {s.note_id: s for s in c.signatures if s.note_id is not None}
        blocks: list[Block] = []
        for note in c.addenda:
            signature = signed.get(note.id)
            if signature is not None:
                head = f"{t.hm(note.recorded_at)} — {signature.signer_name}"
                status = f"signed {t.hm(signature.signed_at)}" + ADDENDUM_CHECK.get(
                    c.addenda_verified.get(note.id), ""
                )
            else:
                author = c.staff_name(note.author_id)
                head = t.hm(note.recorded_at) + (f" — {author}" if author else "")
                status = "not signed"
            blocks.append(Entry(head, status, note.text))
        return [Section("Addenda", tuple(blocks))]

    def signatures(self) -> Section:
        c, t = self.c, self.t
        rows = []
        signed_parts = {s.part for s in c.signatures}
        for s in self.rows.signatures:
            verified = c.signatures_verified.get(s.part)
            holds = {
                SignatureCheck.VALID: "yes, signed with the signer's own key",
                SignatureCheck.CHANGED: "NO — the record differs from what was signed",
                SignatureCheck.UNBOUND: (
                    "made before signatures were bound to a person: the content matches, but "
                    "no key shows who signed it"
                ),
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
        return Section("Signatures", (_table(headers, rows),))

    def private_notes(self) -> list[Section]:
        notes = self.rows.private_notes
        if notes is None:
            return []
        blocks: list[Block] = [
            Notice(
                "These are the therapist's private psychotherapy notes (HIPAA 45 CFR §164.501). "
                "They are kept apart from the session record and appear here only because they "
                "were explicitly included in this export."
            )
        ]
        if not notes:
            blocks.append(_text("No private notes."))
        else:
            blocks += self.entries(notes)
        title = "Psychotherapy notes — private, kept apart from the record"
        return [Section(title, tuple(blocks))]

    def footer(self) -> list[Block]:
        at = self.c.exported_at
        when = f"Exported {self.t.hm(at)} ({self.t.zone()})" if at else "Exported"
        draft = " — DRAFT, not signed" if self.c.draft else ""
        return [Rule(), _text(f"{when} from {APP_NAME}{draft}.")]


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
    if o.not_taken:
        parts.append(f"not taken: {measure_names(o.not_taken)}")
    return "; ".join(parts)


def _acknowledged(content: ExportContent, times: SessionTimes, alert: AlertRecord) -> str:
    if alert.acknowledged_at is None:
        return "NOT acknowledged"
    who = content.staff_name(alert.acknowledged_by_id)
    return f"{times.hm(alert.acknowledged_at)}" + (f" by {who}" if who else "")


def _condensed(text: str) -> str:
    """A note's start on one line, for the timeline."""
    flat = " ".join(text.split())
    if len(flat) <= TIMELINE_NOTE_CHARS:
        return flat
    return flat[: TIMELINE_NOTE_CHARS - 1].rstrip() + "…"


def _timeline_title(content: ExportContent, item: LogItem) -> str:
    """The timeline's title, with what the content knows besides: who wrote a note, who
    acknowledged an alert. (A reading's title already names its check-in by the protocol's
    label, as the live screen does.)"""
    title = item.title
    if item.kind is LogKind.MARKER:
        return f"Marker: {title}"
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
