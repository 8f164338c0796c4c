"""The session record as printed (the PDF): its blocks, section by section, in filing order.

Corrections are never hidden: an amended or withdrawn entry stays in its table, struck
through, with the reason beside it, and the entry that replaced it says so. Only what is in
`ExportContent` is shown, so the scope rules (one participant, private notes only when chosen)
hold here without further checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from kapsession.domain.corrections import EntryState, Version, versions
from kapsession.export.content import ExportContent
from kapsession.export.document import (
    BREAK,
    Align,
    Block,
    Cell,
    Column,
    Document,
    Emphasis,
    Field,
    Fields,
    Figure,
    Gap,
    Heading,
    Inline,
    Notice,
    PageBreak,
    Paragraph,
    Row,
    Section,
    Table,
    Text,
    joined,
    lines,
    span,
)
from kapsession.export.record_rows import music_played, phase_name
from kapsession.export.times import (
    clock_time,
    date_time_text,
    day_text,
    local,
    since_dose,
    zone_text,
)
from kapsession.records.entries import (
    ALDRETE_ITEM_KEYS,
    LATE_ENTRY_AFTER,
    AlertRecord,
    ObservationRecord,
)
from kapsession.records.notes import SignedPart
from kapsession.records.session_log import LogItem, LogKind

CHART_URL = "kapsession://vitals-chart"
TIMELINE_NOTE_CHARS = 140  # a note in the timeline is cut here; the notes section has it whole

_DOSE_EVENT_KINDS = ("device_given", "hold_dose_caution", "hold_dose_override")
_VITAL_FIELDS = (
    "systolic_mmhg",
    "heart_rate_bpm",
    "spo2_pct",
    "resp_rate_per_min",
    "temperature_c",
)
_SCALE_FIELDS = ("moaas", "rass", "dissociation", "nausea", "suds", "emesis")
_SCALE_TITLES = {
    "moaas": "MOAA/S",
    "rass": "RASS",
    "dissociation": "Dissociation",
    "nausea": "Nausea",
    "suds": "SUDS",
    "emesis": "Emesis",
}
_ALDRETE_NAMES = {
    "activity": "Activity",
    "breathing": "Breathing",
    "circulation": "Circulation",
    "consciousness": "Consciousness",
    "spo2": "SpO₂",
}
_SCALE_WIDTHS = {"dissociation": 11}
_SCALE_LEGENDS = {
    "moaas": "MOAA/S 0–5 (5: responds readily to name in normal tone; 0: no response)",
    "rass": "RASS −5 to +4 (0: alert and calm)",
    "dissociation": "Dissociation 0–4, clinician-rated (0: none; 4: out of contact)",
    "nausea": "Nausea 0–10",
    "suds": "SUDS 0–10 (distress)",
}
_TICK = "✓"
_CROSS = span(Emphasis.ALERT, "✗")
_PART_NAMES: dict[str, str] = {
    SignedPart.MONITORING: "Monitoring",
    SignedPart.THERAPY: "Therapy",
    "addendum": "Addendum",
}
_KIND_NAMES = {LogKind.CHECKIN: "Check-in", LogKind.PHASE: "Phase", LogKind.DOSE: "Dose"}


def print_document(
    content: ExportContent, clinic: str = "", chart_size: tuple[float, float] | None = None
) -> Document:
    """The record of one participant's session as printed; `chart_size`: the vitals chart's
    size in layout units (`CHART_URL`), None without a chart."""
    build = _Print(content, clinic)
    blocks: list[Block] = [
        *build.header(),
        build.doses(),
        build.vitals(chart_size),
        build.scales(),
        build.alerts(),
        build.discharge(),
        build.session_note(),
        build.note_entries(),
        build.timeline(),
        build.music(),
        build.signatures(),
    ]
    if content.private_notes is not None:
        blocks += build.private_notes()
    return Document(tuple(blocks))


def _history_note(item: Version[Any], when: Callable[[datetime], str] = clock_time) -> Text:
    """What happened to an entry, in the accent colour so it is not missed: amended or
    withdrawn (when, and why), or a correction of an earlier entry (written when, and why)."""
    parts: list[Text] = []
    if item.state is not EntryState.STANDING:
        at = f" {when(item.changed_at)}" if item.changed_at else ""
        label = "Amended" if item.state is EntryState.AMENDED else "Withdrawn"
        parts.append((span(Emphasis.ALERT, f"{label}{at}:"), f" {item.reason or ''}"))
    if item.corrects:
        written = when(item.row.recorded_at)
        parts.append(
            (
                span(Emphasis.ALERT, f"Correction, written {written}:"),
                f" {item.correction_reason or ''}",
            )
        )
    return joined(parts)


def _none(text: str) -> Paragraph:
    return Paragraph((text,), Emphasis.MUTED)


def _cell(text: Text | str, *emphasis: Emphasis, strike: bool = True) -> Cell:
    return Cell((text,) if isinstance(text, str) else text, emphasis, strike=strike)


def _note_cell(text: Text) -> Cell:
    """What the record says about the row: small, and never struck through."""
    return Cell(text, (Emphasis.SMALL,), strike=False)


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    return f"{value:g}{unit}"


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def _has_any(observation: ObservationRecord, fields: Sequence[str]) -> bool:
    return any(observation.values.get(f) is not None for f in fields)


def _text(*parts: Inline) -> Text:
    return tuple(p for p in parts if p != "")


class _Print:
    """Builds the blocks of one participant's printed record."""

    def __init__(self, content: ExportContent, clinic: str = "") -> None:
        self.c = content
        self.clinic = clinic.strip()
        self.t0 = content.first_dose_at
        self.alerted = self._alerted_fields(content.alerts)
        session = content.session
        self.started = session.started_at or session.created_at
        self.ended = session.ended_at

    # helpers ---------------------------------------------------------------------------------
    def who(self, staff_id: uuid.UUID | None) -> str:
        return self.c.staff_name(staff_id)

    def history(self, item: Version[Any]) -> Text:
        return _history_note(item, self.when)

    def t(self, when: datetime) -> str:
        """T+ minutes while the session runs; after it has ended (signing, addenda) nothing."""
        if self.ended is not None and when > self.ended:
            return ""
        return since_dose(when, self.t0)

    def when(self, at: datetime) -> str:
        """The time, with the day when it is not the session's day (an addendum next day)."""
        if local(at).date() != local(self.started).date():
            return f"{local(at).day} {local(at):%b} {clock_time(at)}"
        return clock_time(at)

    def checkin_label(self, key: str | None) -> str:
        if key is None:
            return "Unscheduled"
        try:
            return self.c.protocol.checkin(key).label
        except KeyError:
            return key.replace("_", " ")

    @staticmethod
    def _alerted_fields(alerts: Sequence[AlertRecord]) -> dict[uuid.UUID, set[str]]:
        fields: dict[uuid.UUID, set[str]] = {}
        for alert in alerts:
            fields.setdefault(alert.observation_id, set()).add(alert.field)
        return fields

    def _value(self, observation: ObservationRecord, field: str, text: str) -> Text:
        if text and field in self.alerted.get(observation.id, set()):
            return (span(Emphasis.ALERT, text),)
        return _text(text)

    # sections --------------------------------------------------------------------------------
    def header(self) -> list[Block]:
        c, session = self.c, self.c.session
        client = c.participant.client
        times = clock_time(self.started)
        if self.ended is not None:
            times += f"–{clock_time(self.ended)}"
        place = " · ".join(
            p for p in (self.clinic, session.room if session.room != self.clinic else "") if p
        )
        dosing = c.protocol.dosing
        number = c.participant.session_number
        course = f"{_ordinal(number)} session of the course" if number else "Session"
        modality = session.modality.replace("_", " ")
        status: Inline = span(Emphasis.DRAFT, "DRAFT — not signed") if c.draft else "Signed"
        dob = client.date_of_birth
        not_recorded = span(Emphasis.MUTED, "not recorded")
        facts: list[tuple[str, Text]] = [
            ("Client", (span(Emphasis.STRONG, client.full_name),)),
            ("Date", _text(day_text(self.started))),
            ("Date of birth", (f"{dob.day} {dob:%b %Y}",) if dob else (not_recorded,)),
            ("Time", _text(times)),
            ("Record no.", (client.record_number or "—",)),
            ("Session", (f"{course}, {modality}",)),
            ("Therapist", (self.who(session.therapist_id) or "—",)),
            ("Protocol", (f"{c.protocol.name}, version {session.protocol_version}",)),
            ("Nurse", (self.who(session.nurse_id) or "—",)),
            ("Medication", (f"{dosing.medication.value.capitalize()}, {dosing.route.value}",)),
            ("", ()),
            ("Status", (status,)),
        ]
        exported = f"Exported {date_time_text(c.exported_at)}. " if c.exported_at else ""
        zone = f"Times are local ({zone_text(self.started)})"
        return [
            Paragraph(_text(place.upper()), Emphasis.KICKER),
            Heading(1, "Treatment session record"),
            Fields(
                tuple(Field(label, value) for label, value in facts),
                per_row=2,
                widths=(13, 34, 11, None),
            ),
            Paragraph(
                (f"{exported}{zone}; T+ counts minutes from the first dose (T0).",),
                Emphasis.SMALL,
                gap_before=True,
            ),
        ]

    def doses(self) -> Section:
        c = self.c
        rows: list[tuple[datetime, Row]] = []
        for item in versions(c.doses):
            d = item.row
            what = "Booster" if d.kind == "booster" else "Dose"
            amount = f"{d.dose_mg:g} mg" if d.dose_mg is not None else "amount not recorded"
            extra = []
            if d.weight_kg is not None:
                extra.append(f"{d.weight_kg:g} kg")
            if d.dose_mg_per_kg is not None:
                extra.append(f"{d.dose_mg_per_kg:g} mg/kg")
            if d.device_count:
                device = c.protocol.dosing.device_mg
                each = f" × {device:g} mg" if device else ""
                extra.append(f"{d.device_count} device{'s' if d.device_count > 1 else ''}{each}")
            late: Text = ()
            if d.is_late and not item.corrects:
                late = (f"late entry, written {clock_time(d.recorded_at)}",)
            route = ", ".join(p for p in (d.medication, d.route) if p)
            cells: tuple[Cell, ...] = (
                _cell(self.when(d.occurred_at)),
                _cell(self.t(d.occurred_at)),
                _cell((span(Emphasis.STRONG, f"{what} {amount}"),)),
                _cell(route),
                _cell(" · ".join(extra)),
                _cell(d.lot_number or ""),
                _cell(self.who(d.given_by_id)),
                _note_cell(joined([self.history(item), late])),
            )
            rows.append((d.occurred_at, Row(cells, item.state)))
        for event_item in versions(e for e in c.events if e.kind in _DOSE_EVENT_KINDS):
            e = event_item.row
            label: Text = (e.label or e.kind.replace("_", " "),)
            message = e.detail.get("message", "") if e.kind.startswith("hold_dose") else ""
            if message:
                label += (BREAK, span(Emphasis.SMALL, message))
            flag = (Emphasis.ALERT,) if e.kind == "hold_dose_override" else ()
            cells = (
                _cell(self.when(e.occurred_at)),
                _cell(self.t(e.occurred_at)),
                Cell(label, flag, span=4, strike=False),
                _cell(self.who(e.recorded_by_id)),
                _note_cell(self.history(event_item)),
            )
            rows.append((e.occurred_at, Row(cells, event_item.state)))
        if not rows:
            return Section("Doses", (_none("No dose was recorded."),))
        rows.sort(key=lambda r: r[0])
        columns = (
            Column("Time", 7),
            Column("T+", 7),
            Column("Dose", 13),
            Column("Medication, route", 14),
            Column("Weight · per kg · devices", 16),
            Column("Lot", 11),
            Column("Given by", 14),
            Column(""),
        )
        blocks: list[Block] = [Table(columns, tuple(r for _at, r in rows))]
        standing = c.standing_doses
        if standing:
            total = sum(d.dose_mg for d in standing if d.dose_mg is not None)
            dosing = c.protocol.dosing
            blocks.append(
                Paragraph(
                    (
                        "Total given: ",
                        span(Emphasis.STRONG, f"{total:g} mg"),
                        f" {dosing.medication.value}, {dosing.route.value}. First dose (T0) at "
                        f"{clock_time(self.t0)}.",
                    ),
                    Emphasis.SMALL,
                )
            )
        return Section("Doses", tuple(blocks), table_head=True)

    def vitals(self, chart_size: tuple[float, float] | None) -> Section:
        items = versions(self.c.observations)
        with_vitals = [i for i in items if _has_any(i.row, _VITAL_FIELDS)]
        has_temp = any(i.row.values.get("temperature_c") is not None for i in with_vitals)
        rows = []
        for item in with_vitals:
            o = item.row
            v = o.values
            bp: Text = ()
            if o.has_bp:
                text = f"{v['systolic_mmhg']}/{v['diastolic_mmhg']}"
                alerted = self.alerted.get(o.id, set()) & {"systolic_mmhg", "diastolic_mmhg"}
                bp = (span(Emphasis.ALERT, text),) if alerted else (text,)
            spo2: Text = ()
            if v.get("spo2_pct") is not None:
                air = {True: " RA", False: " O₂", None: ""}[o.on_room_air]
                spo2 = self._value(o, "spo2_pct", f"{v['spo2_pct']}")
                spo2 += (span(Emphasis.SMALL, air),) if air else ()
            cells = [
                _cell(self.when(o.occurred_at)),
                _cell(self.t(o.occurred_at)),
                _cell(self.checkin_label(o.checkin_key)),
                _cell(bp),
                _cell(self._value(o, "heart_rate_bpm", _number(v.get("heart_rate_bpm")))),
                _cell(spo2),
                _cell(self._value(o, "resp_rate_per_min", _number(v.get("resp_rate_per_min")))),
            ]
            if has_temp:
                cells.append(
                    _cell(self._value(o, "temperature_c", _number(v.get("temperature_c"))))
                )
            cells.append(_note_cell(self._recorded(item)))
            rows.append(Row(tuple(cells), item.state))
        if not rows:
            return Section("Vital signs", (_none("No vital signs were recorded."),))
        columns = [
            Column("Time", 7),
            Column("T+", 7),
            Column("Check-in", 22),
            Column("BP mmHg", 10, Align.END),
            Column("HR /min", 8, Align.END),
            Column("SpO₂ %", 9, Align.END),
            Column("RR /min", 8, Align.END),
        ]
        if has_temp:
            columns.append(Column("Temp °C", 8, Align.END))
        columns.append(Column("Recorded by"))
        blocks: list[Block] = [
            Table(tuple(columns), tuple(rows)),
            Paragraph(
                (
                    "RA: on room air; O₂: on oxygen. A value that raised an alert is in ",
                    span(Emphasis.ALERT, "red"),
                    ".",
                ),
                Emphasis.SMALL,
            ),
        ]
        if chart_size is not None:
            width, height = chart_size
            blocks.append(
                Figure(
                    CHART_URL,
                    width,
                    height,
                    "Blood pressure (bars from diastolic to systolic), heart rate and SpO₂ over "
                    "the session, in minutes since it started; phases are shaded and the dose is "
                    "the dashed line.",
                )
            )
        return Section("Vital signs", tuple(blocks), table_head=True)

    def _recorded(self, item: Version[ObservationRecord]) -> Text:
        o = item.row
        parts = [self.who(o.recorded_by_id)]
        if o.is_late and not item.corrects:
            parts.append(f"late entry, written {clock_time(o.recorded_at)}")
        text = " · ".join(p for p in parts if p)
        return joined([_text(text), self.history(item)])

    def scales(self) -> Section:
        items = [
            i
            for i in versions(self.c.observations)
            if _has_any(i.row, _SCALE_FIELDS) or i.row.values.get("comment")
        ]
        if not items:
            return Section("Scales", (_none("No scales were scored."),))
        used = [f for f in _SCALE_FIELDS if any(i.row.values.get(f) is not None for i in items)]
        rows = []
        for item in items:
            o = item.row
            cells = [
                _cell(self.when(o.occurred_at)),
                _cell(self.t(o.occurred_at)),
                _cell(self.checkin_label(o.checkin_key)),
            ]
            for field in used:
                value = o.values.get(field)
                if field == "emesis":
                    text = "" if value is None else "yes" if value else "no"
                    cells.append(_cell((span(Emphasis.ALERT, text),) if value else _text(text)))
                else:
                    cells.append(_cell(self._value(o, field, _number(value))))
            comment = o.values.get("comment") or ""
            cells.append(_note_cell(joined([_text(comment), self.history(item)])))
            rows.append(Row(tuple(cells), item.state))
        columns = [Column("Time", 7), Column("T+", 7), Column("Check-in", 22)]
        columns += [Column(_SCALE_TITLES[f], _SCALE_WIDTHS.get(f, 8), Align.CENTER) for f in used]
        columns.append(Column("Comment"))
        blocks: list[Block] = [Table(tuple(columns), tuple(rows))]
        legend = "; ".join(_SCALE_LEGENDS[f] for f in used if f in _SCALE_LEGENDS)
        if legend:
            blocks.append(Paragraph((f"{legend}.",), Emphasis.SMALL))
        return Section("Scales", tuple(blocks), table_head=True)

    def alerts(self) -> Section:
        alerts = sorted(self.c.alerts, key=lambda a: a.raised_at)
        if not alerts:
            return Section("Alerts", (_none("No reading met an alert threshold."),))
        rows = []
        for a in alerts:
            ack: Text
            if a.acknowledged_at is None:
                ack = (span(Emphasis.ALERT, "Not acknowledged"),)
            else:
                ack = (f"{self.when(a.acknowledged_at)} · {self.who(a.acknowledged_by_id)}",)
            detail: Text = (a.acknowledgement_comment,)
            if a.reading_corrected:
                corrected = span(Emphasis.ALERT, "The reading behind it was corrected since.")
                detail += (BREAK, corrected)
            alert = (span(Emphasis.ALERT, a.message), BREAK, span(Emphasis.SMALL, a.label))
            cells = (
                _cell(self.when(a.raised_at)),
                _cell(self.t(a.raised_at)),
                _cell(alert),
                _cell(ack),
                _cell(detail),
            )
            rows.append(Row(cells))
        columns = (
            Column("Raised", 7),
            Column("T+", 7),
            Column("Alert", 33),
            Column("Acknowledged", 22),
            Column("Comment"),
        )
        table = Table(columns, tuple(rows))
        return Section("Alerts and acknowledgements", (table,), table_head=True)

    def discharge(self) -> Section:
        items = versions(self.c.discharges)
        if not items:
            return Section("Discharge", (_none("No discharge check was recorded."),))
        labels = {i.key: i.label for i in self.c.protocol.discharge.checklist}
        criteria = self.c.protocol.discharge
        blocks: list[Block] = []
        for item in items:
            d = item.row
            aldrete = " · ".join(
                f"{_ALDRETE_NAMES[k]} {_dash(d.aldrete.get(k))}" for k in ALDRETE_ITEM_KEYS
            )
            checklist = joined(
                (f"{_TICK} {labels.get(key, key)}",)
                if done
                else (_CROSS, f" {labels.get(key, key)}")
                for key, done in d.checklist.items()
            )
            outcome: Text
            if d.ready:
                outcome = (span(Emphasis.STRONG, "Ready to leave"), ": every item passed")
            else:
                outcome = (span(Emphasis.ALERT, "Not every item passed"),)
            if d.ready_minutes_after_first_dose is not None:
                outcome += (
                    "; clinically ready ",
                    span(Emphasis.STRONG, f"{d.ready_minutes_after_first_dose} minutes"),
                    " after the first dose",
                )
            facts: list[tuple[str, Text]] = [
                (
                    "Discharged",
                    (f"{self.when(d.occurred_at)} ({since_dose(d.occurred_at, self.t0)})",),
                ),
                (
                    "Modified Aldrete",
                    (
                        f"{aldrete} — total ",
                        span(Emphasis.STRONG, str(d.aldrete_total)),
                        f" (to leave: {criteria.aldrete_pass_min} or more)",
                    ),
                ),
                ("On room air", ("yes" if d.on_room_air else "no (on oxygen)",)),
                ("Checklist", checklist or ("—",)),
                ("Outcome", outcome),
            ]
            if d.problems:
                facts.append(("Problems", joined((span(Emphasis.ALERT, p),) for p in d.problems)))
            if d.override_reason:
                who = f" ({d.override_by})" if d.override_by else ""
                facts.append(("Override", _text(span(Emphasis.ALERT, d.override_reason), who)))
            facts.append(("Recorded by", (self.who(d.recorded_by_id) or "—",)))
            history = self.history(item)
            if history:
                facts.append(("History", history))
            if blocks:
                blocks.append(Gap())
            fields = tuple(Field(label, value) for label, value in facts)
            blocks.append(Fields(fields, widths=(15, None), state=item.state))
        return Section("Discharge", tuple(blocks))

    def session_note(self) -> Section:
        note = self.c.session_note
        if note is None:
            return Section("Session note", (_none("The session note has not been written yet."),))
        meta = " · ".join(
            p
            for p in (
                f"Template: {note.template_key.upper()}" if note.template_key else "",
                f"written by {self.who(note.author_id)}" if note.author_id else "",
                date_time_text(note.recorded_at),
            )
            if p
        )
        blocks: list[Block] = [Paragraph(_text(meta), Emphasis.SMALL)]
        if note.sections:
            for _key, title, body in note.sections:
                text = lines(body.strip()) if body.strip() else (span(Emphasis.MUTED, "—"),)
                blocks += [Heading(3, title), Paragraph(text)]
        else:
            blocks.append(Paragraph(lines(note.text.strip())))
        return Section("Session note", tuple(blocks))

    def note_entries(self) -> Section:
        title = "Notes during the session"
        items = versions(n for n in self.c.notes if n.kind == "entry")
        if not items:
            return Section(title, (_none("No notes were written."),))
        rows = []
        for item in sorted(items, key=lambda i: i.row.occurred_at):
            n = item.row
            late = (
                f"late entry, written {clock_time(n.recorded_at)}"
                if n.recorded_at - n.occurred_at > LATE_ENTRY_AFTER and not item.corrects
                else ""
            )
            by = joined([_text(self.who(n.author_id)), _text(late), self.history(item)])
            cells = (
                _cell(self.when(n.occurred_at)),
                _cell(self.t(n.occurred_at)),
                _cell(phase_name(self.c, n.phase_key), Emphasis.SMALL),
                _cell(lines(n.text.strip())),
                _note_cell(by),
            )
            rows.append(Row(cells, item.state))
        columns = (
            Column("Time", 7),
            Column("T+", 7),
            Column("Phase", 13),
            Column("Note", 48),
            Column("By"),
        )
        return Section(title, (Table(columns, tuple(rows)),), table_head=True)

    def timeline(self) -> Section:
        # Notes are in full under "Notes during the session" and track ends are the lengths
        # under "Music played": listing them here again would double the document.
        ends = {m.id for m in self.c.music if m.kind == "track_end"}
        entries = {n.id for n in self.c.notes if n.kind == "entry"}
        items = [
            i
            for i in self.c.timeline
            if not (i.kind is LogKind.MUSIC and i.entry_id in ends)
            and not (i.kind is LogKind.NOTE and i.entry_id in entries)
        ]
        if not items:
            return Section("Event timeline", (_none("Nothing was recorded."),))
        columns = (Column("Time", 7), Column("T+", 7), Column("Kind", 10), Column("Entry"))
        table = Table(columns, tuple(self._timeline_row(i) for i in items))
        intro = (
            "Everything recorded, in time order, music included. The notes are under "
            "Notes during the session and how long each track played under Music played. "
            "Amended and withdrawn entries stay, with the reason."
        )
        return Section("Event timeline", (table,), intro=(intro,), table_head=True)

    def _timeline_row(self, item: LogItem) -> Row:
        detail = item.detail
        if item.kind is LogKind.NOTE and len(detail) > TIMELINE_NOTE_CHARS:
            detail = detail[: TIMELINE_NOTE_CHARS - 1].rstrip() + "…"
        text: Text = (item.title,)
        if detail:
            text += (" ", span(Emphasis.MUTED, f"— {detail}"))
        if item.state is not EntryState.STANDING:
            label = "Amended" if item.state is EntryState.AMENDED else "Withdrawn"
            text = (
                span(Emphasis.STRUCK, *text),
                BREAK,
                span(Emphasis.ALERT, f"{label}:"),
                f" {item.reason or ''}",
            )
        if item.late:
            text += (" ", span(Emphasis.SMALL, f"(written {clock_time(item.recorded_at)})"))
        faint = (Emphasis.FAINT,) if item.kind is LogKind.MUSIC else ()
        kind = (Emphasis.SMALL, Emphasis.ALERT) if item.kind is LogKind.ALERT else (Emphasis.SMALL,)
        cells = (
            _cell(self.when(item.at), *faint),
            _cell(self.t(item.at), *faint),
            _cell(_KIND_NAMES.get(item.kind, item.kind.label), *kind),
            _cell(text, *faint),
        )
        return Row(cells)

    def music(self) -> Section:
        played = music_played(self.c.music)
        if not played:
            return Section("Music played", (_none("No music was played."),))
        rows = []
        for track in played:
            how = "skipped" if track.skipped else "stopped" if track.stopped else ""
            minutes, seconds = divmod(round(track.played_s), 60)
            cells = (
                _cell(self.when(track.started_at)),
                _cell(self.t(track.started_at)),
                _cell(phase_name(self.c, track.phase_key), Emphasis.SMALL),
                _cell(track.title),
                _cell(track.playlist, Emphasis.SMALL),
                _cell(f"{minutes}:{seconds:02d}"),
                _cell(how, Emphasis.SMALL),
            )
            rows.append(Row(cells))
        columns = (
            Column("Started", 7),
            Column("T+", 7),
            Column("Phase", 15),
            Column("Track", 36),
            Column("Playlist", 17),
            Column("Played", 8, Align.END),
            Column(""),
        )
        return Section("Music played", (Table(columns, tuple(rows)),), table_head=True)

    def signatures(self) -> Section:
        c = self.c
        rows = []
        for s in sorted(c.signatures, key=lambda s: s.signed_at):
            verified = c.signatures_verified.get(s.part)
            check: Inline
            if verified is None:
                check = span(Emphasis.MUTED, "—")
            elif verified:
                check = "✓ record unchanged since signing"
            else:
                check = span(Emphasis.ALERT, "✗ the record changed after signing")
            cells = (
                _cell((span(Emphasis.STRONG, _PART_NAMES.get(s.part, s.part)),)),
                _cell((s.signer_name, BREAK, span(Emphasis.SMALL, s.signer_role))),
                _cell(date_time_text(s.signed_at)),
                _cell(s.meaning, Emphasis.SMALL),
                _cell((check,), Emphasis.SMALL),
            )
            rows.append(Row(cells))
        blocks: list[Block] = []
        signed = {s.part for s in c.signatures}
        missing = [p for p in SignedPart if p not in signed]
        if missing:
            names = " and ".join(_PART_NAMES[p].lower() for p in missing)
            plural = "s" if len(missing) > 1 else ""
            blocks.append(
                Notice(
                    f"Not signed: the {names} part{plural}. This document is a draft, not the "
                    "final record."
                )
            )
        if rows:
            columns = (
                Column("Part", 12),
                Column("Signed by", 21),
                Column("Signed at", 17),
                Column("Meaning", 30),
                Column("Verified"),
            )
            blocks.append(Table(columns, tuple(rows)))
        for addendum in sorted(c.addenda, key=lambda n: n.recorded_at):
            signature = next((s for s in c.signatures if s.note_id == addendum.id), None)
            by: Text
            if signature is not None:
                by = (f"Signed by {signature.signer_name}, {date_time_text(signature.signed_at)}",)
            else:
                by = (
                    f"Written by {self.who(addendum.author_id)}, "
                    f"{date_time_text(addendum.recorded_at)}; ",
                    span(Emphasis.ALERT, "not signed"),
                )
            blocks += [
                Heading(3, f"Addendum, {date_time_text(addendum.recorded_at)}"),
                Paragraph(lines(addendum.text.strip())),
                Paragraph(by, Emphasis.SMALL),
            ]
        return Section("Signatures and addenda", tuple(blocks))

    def private_notes(self) -> list[Block]:
        notes = self.c.private_notes or []
        intro = (
            "Psychotherapy notes are kept apart from the session record (HIPAA 45 CFR "
            "§164.501). They are in this document only because the person who exported it "
            "chose to include them.",
        )
        title = "Psychotherapy notes (private)"
        if not notes:
            return [PageBreak(), Section(title, (_none("There are none."),), intro=intro)]
        rows = []
        for item in sorted(versions(notes), key=lambda i: i.row.occurred_at):
            n = item.row
            cells = (
                _cell(self.when(n.occurred_at)),
                _cell(self.t(n.occurred_at)),
                _cell(lines(n.text.strip())),
                _note_cell(joined([_text(self.who(n.author_id)), self.history(item)])),
            )
            rows.append(Row(cells, item.state))
        columns = (Column("Time", 7), Column("T+", 7), Column("Note", 64), Column("By"))
        table = Table(columns, tuple(rows))
        return [PageBreak(), Section(title, (table,), intro=intro, table_head=True)]
