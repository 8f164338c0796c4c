"""The session record as HTML for QTextDocument: every section of the PDF, in filing order.

Corrections are never hidden: an amended or withdrawn entry stays in its table, struck
through, with the reason beside it, and the entry that replaced it says so. Only what is in
`ExportContent` is shown, so the scope rules (one participant, private notes only when chosen)
hold here without further checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kapsession.domain.corrections import EntryState, Version, versions
from kapsession.export.content import ExportContent
from kapsession.export.print_style import (
    ACCENT,
    BODY_PT,
    FILL,
    GREY,
    INK,
    LIGHT_GREY,
    RULE,
    TABLE_PT,
    esc,
)
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

STYLESHEET = f"""
body {{ color: {INK}; font-size: {BODY_PT}pt; }}
p {{ margin-top: 0px; margin-bottom: 4px; }}
p.title {{ font-size: 16pt; font-weight: 600; margin-top: 1px; margin-bottom: 6px; }}
p.subsection {{ font-size: 10pt; font-weight: 600; margin-top: 7px; margin-bottom: 1px; }}
table.grid {{ border-collapse: collapse; margin-bottom: 3px; font-size: {TABLE_PT}pt; }}
table.grid th {{ font-size: 7pt; font-weight: 600; color: {GREY}; text-align: left;
  padding: 2px 4px 2px 4px; border-bottom: 1px solid #8f9297; background-color: {FILL}; }}
table.grid td {{ padding: 2px 4px 2px 4px; border-bottom: 1px solid {RULE}; vertical-align: top; }}
table.grid td.title {{ font-size: 11.5pt; font-weight: 600; padding: 14px 0px 4px 0px;
  border-bottom: 0px; background-color: #ffffff; color: {INK}; }}
table.section {{ margin-bottom: 2px; }}
table.section td {{ padding: 0px; vertical-align: top; }}
table.section td.title {{ font-size: 11.5pt; font-weight: 600; padding: 14px 0px 4px 0px; }}
table.section td.caption {{ font-size: 7.5pt; color: {GREY}; padding: 8px 0px 3px 0px; }}
table.grid td.intro {{ font-size: 7.5pt; color: {GREY}; padding: 0px 0px 4px 0px;
  border-bottom: 0px; }}
table.facts {{ font-size: {TABLE_PT}pt; }}
table.facts td {{ padding: 1px 8px 1px 0px; vertical-align: top; }}
td.label {{ color: {GREY}; font-size: 7.5pt; padding-top: 2px; }}
td.num {{ text-align: right; }}
th.num {{ text-align: right; }}
td.score {{ text-align: center; }}
th.score {{ text-align: center; }}
.small {{ font-size: 7.5pt; color: {GREY}; }}
td.small {{ font-size: {TABLE_PT}pt; color: {GREY}; }}
.faint {{ color: {LIGHT_GREY}; }}
.muted {{ color: {GREY}; }}
.flag {{ color: {ACCENT}; font-weight: 600; }}
.struck {{ color: {LIGHT_GREY}; text-decoration: line-through; }}
.kicker {{ font-size: 7.5pt; color: {GREY}; font-weight: 600; }}
.draft {{ color: {ACCENT}; font-weight: 600; }}
"""


def _history_note(item: Version[Any], when: Callable[[datetime], str] = clock_time) -> str:
    """What happened to an entry, in the accent colour so it is not missed: amended or
    withdrawn (when, and why), or a correction of an earlier entry (written when, and why)."""
    parts = []
    if item.state is not EntryState.STANDING:
        at = f" {when(item.changed_at)}" if item.changed_at else ""
        label = "Amended" if item.state is EntryState.AMENDED else "Withdrawn"
        parts.append(f'<span class="flag">{label}{at}:</span> {esc(item.reason or "")}')
    if item.corrects:
        written = when(item.row.recorded_at)
        parts.append(
            f'<span class="flag">Correction, written {written}:</span> '
            f"{esc(item.correction_reason or '')}"
        )
    return "<br/>".join(parts)


def _cell(text: str, item: Version[Any] | None = None, css: str = "") -> str:
    struck = item is not None and item.state is not EntryState.STANDING
    classes = " ".join(c for c in (css, "struck" if struck else "") if c)
    attr = f' class="{classes}"' if classes else ""
    return f"<td{attr}>{text}</td>"


def _multiline(text: str) -> str:
    return "<br/>".join(esc(line) for line in text.strip().split("\n"))


def _grid(
    headers: Sequence[tuple[str, ...]], rows: Iterable[str], title: str = "", intro: str = ""
) -> str:
    """A table with light rules; `headers` are (title, width[, css class]) with width "" for
    auto. The section title (and its intro line) are header rows too: they repeat with the
    column titles on every page the table runs onto, and never stay alone at a page's foot."""
    head = "".join(_th(*header) for header in headers)
    span = len(headers)
    top = f'<tr><td class="title" colspan="{span}">{esc(title)}</td></tr>' if title else ""
    if intro:
        top += f'<tr><td class="intro" colspan="{span}">{intro}</td></tr>'
    body = "".join(rows)
    return (
        '<table class="grid" width="100%" cellspacing="0" cellpadding="0">'
        f"<thead>{top}<tr>{head}</tr></thead>{body}</table>"
    )


def _th(name: str, width: str = "", css: str = "") -> str:
    attributes = (f' width="{width}"' if width else "") + (f' class="{css}"' if css else "")
    return f"<th{attributes}>{esc(name)}</th>"


def _section(title: str, body: str) -> str:
    """A titled section. The title is the header row of a one-cell table, so it moves to the
    next page with the section's first line rather than staying behind at a page's foot (and
    is repeated over the rest of a section that runs onto another page)."""
    return (
        '<table class="section" width="100%" cellspacing="0" cellpadding="0">'
        f'<thead><tr><td class="title">{esc(title)}</td></tr></thead>'
        f"<tr><td>{body}</td></tr></table>"
    )


def _figure(image: str, caption: str) -> str:
    """An image with its caption above it, kept together on one page."""
    return (
        '<table class="section" width="100%" cellspacing="0" cellpadding="0">'
        f'<thead><tr><td class="caption">{caption}</td></tr></thead>'
        f"<tr><td>{image}</td></tr></table>"
    )


def _none(text: str) -> str:
    return f'<p class="muted">{esc(text)}</p>'


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    return f"{value:g}{unit}"


class RecordHtml:
    """Builds the HTML of one participant's session record."""

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
        return esc(self.c.staff_name(staff_id))

    def history(self, item: Version[Any]) -> str:
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

    def phase_name(self, key: str | None) -> str:
        if key is None:
            return ""
        try:
            return self.c.protocol.phase(key).name
        except KeyError:
            return key

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

    def _value(self, observation: ObservationRecord, field: str, text: str) -> str:
        if text and field in self.alerted.get(observation.id, set()):
            return f'<span class="flag">{text}</span>'
        return text

    # the document ----------------------------------------------------------------------------
    def html(self, chart_size: tuple[float, float] | None) -> str:
        parts = [
            self.header(),
            self.doses(),
            self.vitals(chart_size),
            self.scales(),
            self.alerts(),
            self.discharge(),
            self.session_note(),
            self.note_entries(),
            self.timeline(),
            self.music(),
            self.signatures(),
        ]
        if self.c.private_notes is not None:
            parts.append(self.private_notes())
        return f"<html><body>{''.join(parts)}</body></html>"

    def header(self) -> str:
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
        status = '<span class="draft">DRAFT — not signed</span>' if c.draft else "Signed"
        dob = client.date_of_birth
        facts = [
            ("Client", f"<b>{esc(client.full_name)}</b>", "Date", f"{day_text(self.started)}"),
            (
                "Date of birth",
                esc(f"{dob.day} {dob:%b %Y}") if dob else '<span class="muted">not recorded</span>',
                "Time",
                esc(times),
            ),
            (
                "Record no.",
                esc(client.record_number or "—"),
                "Session",
                esc(f"{course}, {modality}"),
            ),
            (
                "Therapist",
                self.who(session.therapist_id) or "—",
                "Protocol",
                esc(f"{c.protocol.name}, version {session.protocol_version}"),
            ),
            (
                "Nurse",
                self.who(session.nurse_id) or "—",
                "Medication",
                esc(f"{dosing.medication.value.capitalize()}, {dosing.route.value}"),
            ),
            ("", "", "Status", status),
        ]
        rows = "".join(
            f'<tr><td class="label" width="13%">{a}</td><td width="34%">{b}</td>'
            f'<td class="label" width="11%">{x}</td><td>{y}</td></tr>'
            for a, b, x, y in facts
        )
        exported = f"Exported {esc(date_time_text(c.exported_at))}. " if c.exported_at else ""
        zone = f"Times are local ({esc(zone_text(self.started))})"
        return (
            f'<p class="kicker">{esc(place.upper()) if place else "&nbsp;"}</p>'
            '<p class="title">Treatment session record</p>'
            f'<table class="facts" width="100%" cellspacing="0">{rows}</table>'
            f'<p class="small" style="margin-top: 5px;">{exported}{zone}; T+ counts minutes '
            "from the first dose (T0).</p>"
        )

    def doses(self) -> str:
        c = self.c
        rows: list[tuple[datetime, str]] = []
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
            notes = [self.history(item)]
            if d.is_late and not item.corrects:
                notes.append(f"late entry, written {clock_time(d.recorded_at)}")
            route = ", ".join(p for p in (d.medication, d.route) if p)
            rows.append(
                (
                    d.occurred_at,
                    "<tr>"
                    + _cell(self.when(d.occurred_at), item)
                    + _cell(self.t(d.occurred_at), item)
                    + _cell(f"<b>{esc(what)} {esc(amount)}</b>", item)
                    + _cell(esc(route), item)
                    + _cell(esc(" · ".join(extra)), item)
                    + _cell(esc(d.lot_number or ""), item)
                    + _cell(self.who(d.given_by_id), item)
                    + _cell("<br/>".join(n for n in notes if n), None, "small")
                    + "</tr>",
                )
            )
        for event_item in versions(e for e in c.events if e.kind in _DOSE_EVENT_KINDS):
            e = event_item.row
            label = esc(e.label or e.kind.replace("_", " "))
            message = e.detail.get("message", "") if e.kind.startswith("hold_dose") else ""
            if message:
                label += f'<br/><span class="small">{esc(message)}</span>'
            css = "flag" if e.kind == "hold_dose_override" else ""
            rows.append(
                (
                    e.occurred_at,
                    "<tr>"
                    + _cell(self.when(e.occurred_at), event_item)
                    + _cell(self.t(e.occurred_at), event_item)
                    + f'<td colspan="4" class="{css}">{label}</td>'
                    + _cell(self.who(e.recorded_by_id), event_item)
                    + _cell(self.history(event_item), None, "small")
                    + "</tr>",
                )
            )
        if not rows:
            return _section("Doses", _none("No dose was recorded."))
        rows.sort(key=lambda r: r[0])
        standing = c.standing_doses
        total = sum(d.dose_mg for d in standing if d.dose_mg is not None)
        summary = ""
        if standing:
            summary = (
                f'<p class="small">Total given: <b>{total:g} mg</b> '
                f"{esc(c.protocol.dosing.medication.value)}, "
                f"{esc(c.protocol.dosing.route.value)}. First dose (T0) at "
                f"{clock_time(self.t0)}.</p>"
            )
        table = _grid(
            [
                ("Time", "7%"),
                ("T+", "7%"),
                ("Dose", "13%"),
                ("Medication, route", "14%"),
                ("Weight · per kg · devices", "16%"),
                ("Lot", "11%"),
                ("Given by", "14%"),
                ("", ""),
            ],
            (r for _at, r in rows),
            title="Doses",
        )
        return table + summary

    def vitals(self, chart_size: tuple[float, float] | None) -> str:
        items = versions(self.c.observations)
        with_vitals = [i for i in items if _has_any(i.row, _VITAL_FIELDS)]
        has_temp = any(i.row.values.get("temperature_c") is not None for i in with_vitals)
        rows = []
        for item in with_vitals:
            o = item.row
            v = o.values
            bp = ""
            if o.has_bp:
                bp = f"{v['systolic_mmhg']}/{v['diastolic_mmhg']}"
                if self.alerted.get(o.id, set()) & {"systolic_mmhg", "diastolic_mmhg"}:
                    bp = f'<span class="flag">{bp}</span>'
            spo2 = ""
            if v.get("spo2_pct") is not None:
                air = {True: " RA", False: " O₂", None: ""}[o.on_room_air]
                spo2 = self._value(o, "spo2_pct", f"{v['spo2_pct']}")
                spo2 += f'<span class="small">{air}</span>' if air else ""
            cells = [
                _cell(self.when(o.occurred_at), item),
                _cell(self.t(o.occurred_at), item),
                _cell(esc(self.checkin_label(o.checkin_key)), item),
                _cell(bp, item, "num"),
                _cell(
                    self._value(o, "heart_rate_bpm", _number(v.get("heart_rate_bpm"))), item, "num"
                ),
                _cell(spo2, item, "num"),
                _cell(
                    self._value(o, "resp_rate_per_min", _number(v.get("resp_rate_per_min"))),
                    item,
                    "num",
                ),
            ]
            if has_temp:
                temp = self._value(o, "temperature_c", _number(v.get("temperature_c")))
                cells.append(_cell(temp, item, "num"))
            cells.append(_cell(self._recorded(item), None, "small"))
            rows.append("<tr>" + "".join(cells) + "</tr>")
        if not rows:
            return _section("Vital signs", _none("No vital signs were recorded."))
        headers = [
            ("Time", "7%"),
            ("T+", "7%"),
            ("Check-in", "22%"),
            ("BP mmHg", "10%", "num"),
            ("HR /min", "8%", "num"),
            ("SpO₂ %", "9%", "num"),
            ("RR /min", "8%", "num"),
        ]
        if has_temp:
            headers.append(("Temp °C", "8%", "num"))
        headers.append(("Recorded by", ""))
        body = _grid(headers, rows, title="Vital signs")
        body += (
            '<p class="small">RA: on room air; O₂: on oxygen. A value that raised an alert is '
            'in <span class="flag">red</span>.</p>'
        )
        if chart_size is not None:
            width, height = chart_size
            body += _figure(
                f'<img src="{CHART_URL}" width="{width:.0f}" height="{height:.0f}"/>',
                "Blood pressure (bars from diastolic to systolic), heart rate and SpO₂ over "
                "the session, in minutes since it started; phases are shaded and the dose is "
                "the dashed line.",
            )
        return body

    def _recorded(self, item: Version[ObservationRecord]) -> str:
        o = item.row
        parts = [self.who(o.recorded_by_id)]
        if o.is_late and not item.corrects:
            parts.append(f"late entry, written {clock_time(o.recorded_at)}")
        text = " · ".join(p for p in parts if p)
        history = self.history(item)
        return "<br/>".join(p for p in (text, history) if p)

    def scales(self) -> str:
        items = [
            i
            for i in versions(self.c.observations)
            if _has_any(i.row, _SCALE_FIELDS) or i.row.values.get("comment")
        ]
        if not items:
            return _section("Scales", _none("No scales were scored."))
        used = [f for f in _SCALE_FIELDS if any(i.row.values.get(f) is not None for i in items)]
        rows = []
        for item in items:
            o = item.row
            cells = [
                _cell(self.when(o.occurred_at), item),
                _cell(self.t(o.occurred_at), item),
                _cell(esc(self.checkin_label(o.checkin_key)), item),
            ]
            for field in used:
                value = o.values.get(field)
                if field == "emesis":
                    text = "" if value is None else "yes" if value else "no"
                    if value:
                        text = f'<span class="flag">{text}</span>'
                    cells.append(_cell(text, item, "score"))
                else:
                    cells.append(_cell(self._value(o, field, _number(value)), item, "score"))
            comment = esc(o.values.get("comment") or "")
            history = self.history(item)
            cells.append(_cell("<br/>".join(p for p in (comment, history) if p), None, "small"))
            rows.append("<tr>" + "".join(cells) + "</tr>")
        headers: list[tuple[str, ...]] = [("Time", "7%"), ("T+", "7%"), ("Check-in", "22%")]
        headers += [(_SCALE_TITLES[f], _SCALE_WIDTHS.get(f, "8%"), "score") for f in used]
        headers.append(("Comment", ""))
        legend = "; ".join(_SCALE_LEGENDS[f] for f in used if f in _SCALE_LEGENDS)
        return _grid(headers, rows, title="Scales") + (
            f'<p class="small">{esc(legend)}.</p>' if legend else ""
        )

    def alerts(self) -> str:
        alerts = sorted(self.c.alerts, key=lambda a: a.raised_at)
        if not alerts:
            return _section("Alerts", _none("No reading met an alert threshold."))
        rows = []
        for a in alerts:
            if a.acknowledged_at is None:
                ack = '<span class="flag">Not acknowledged</span>'
            else:
                ack = f"{self.when(a.acknowledged_at)} · {self.who(a.acknowledged_by_id)}"
            detail = esc(a.acknowledgement_comment)
            if a.reading_corrected:
                detail += (
                    '<br/><span class="flag">The reading behind it was corrected since.</span>'
                )
            rows.append(
                "<tr>"
                f"<td>{self.when(a.raised_at)}</td><td>{self.t(a.raised_at)}</td>"
                f'<td><span class="flag">{esc(a.message)}</span><br/>'
                f'<span class="small">{esc(a.label)}</span></td>'
                f"<td>{ack}</td><td>{detail}</td></tr>"
            )
        return _grid(
            [
                ("Raised", "7%"),
                ("T+", "7%"),
                ("Alert", "33%"),
                ("Acknowledged", "22%"),
                ("Comment", ""),
            ],
            rows,
            title="Alerts and acknowledgements",
        )

    def discharge(self) -> str:
        items = versions(self.c.discharges)
        if not items:
            return _section("Discharge", _none("No discharge check was recorded."))
        labels = {i.key: i.label for i in self.c.protocol.discharge.checklist}
        criteria = self.c.protocol.discharge
        blocks = []
        for item in items:
            d = item.row
            aldrete = " · ".join(
                f"{_ALDRETE_NAMES[k]} {_dash(d.aldrete.get(k))}" for k in ALDRETE_ITEM_KEYS
            )
            checklist = "<br/>".join(
                f"{_TICK if done else _CROSS} {esc(labels.get(key, key))}"
                for key, done in d.checklist.items()
            )
            if d.ready:
                outcome = "<b>Ready to leave</b>: every item passed"
            else:
                outcome = '<span class="flag">Not every item passed</span>'
            if d.ready_minutes_after_first_dose is not None:
                outcome += (
                    f"; clinically ready <b>{d.ready_minutes_after_first_dose} minutes</b> "
                    "after the first dose"
                )
            facts = [
                (
                    "Discharged",
                    f"{self.when(d.occurred_at)} ({since_dose(d.occurred_at, self.t0)})",
                ),
                (
                    "Modified Aldrete",
                    f"{esc(aldrete)} — total <b>{d.aldrete_total}</b> "
                    f"(to leave: {criteria.aldrete_pass_min} or more)",
                ),
                ("On room air", "yes" if d.on_room_air else "no (on oxygen)"),
                ("Checklist", checklist or "—"),
                ("Outcome", outcome),
            ]
            if d.problems:
                problems = "<br/>".join(f'<span class="flag">{esc(p)}</span>' for p in d.problems)
                facts.append(("Problems", problems))
            if d.override_reason:
                who = f" ({esc(d.override_by)})" if d.override_by else ""
                facts.append(
                    ("Override", f'<span class="flag">{esc(d.override_reason)}</span>{who}')
                )
            facts.append(("Recorded by", self.who(d.recorded_by_id) or "—"))
            history = self.history(item)
            if history:
                facts.append(("History", history))
            style = ' class="struck"' if item.state is not EntryState.STANDING else ""
            rows = "".join(
                f'<tr><td class="label" width="15%">{esc(k)}</td><td{style}>{v}</td></tr>'
                for k, v in facts
            )
            blocks.append(f'<table class="facts" width="100%" cellspacing="0">{rows}</table>')
        return _section("Discharge", '<p style="margin: 2px;"></p>'.join(blocks))

    def session_note(self) -> str:
        note = self.c.session_note
        if note is None:
            return _section("Session note", _none("The session note has not been written yet."))
        meta = " · ".join(
            p
            for p in (
                f"Template: {esc(note.template_key.upper())}" if note.template_key else "",
                f"written by {self.who(note.author_id)}" if note.author_id else "",
                esc(date_time_text(note.recorded_at)),
            )
            if p
        )
        parts = [f'<p class="small">{meta}</p>']
        if note.sections:
            for _key, title, body in note.sections:
                text = _multiline(body) if body.strip() else '<span class="muted">—</span>'
                parts.append(f'<p class="subsection">{esc(title)}</p><p>{text}</p>')
        else:
            parts.append(f"<p>{_multiline(note.text)}</p>")
        return _section("Session note", "".join(parts))

    def note_entries(self) -> str:
        items = versions(n for n in self.c.notes if n.kind == "entry")
        if not items:
            return _section("Notes during the session", _none("No notes were written."))
        rows = []
        for item in sorted(items, key=lambda i: i.row.occurred_at):
            n = item.row
            late = (
                f"late entry, written {clock_time(n.recorded_at)}"
                if n.recorded_at - n.occurred_at > LATE_ENTRY_AFTER and not item.corrects
                else ""
            )
            by = "<br/>".join(p for p in (self.who(n.author_id), late, self.history(item)) if p)
            rows.append(
                "<tr>"
                + _cell(self.when(n.occurred_at), item)
                + _cell(self.t(n.occurred_at), item)
                + _cell(esc(self.phase_name(n.phase_key)), item, "small")
                + _cell(_multiline(n.text), item)
                + _cell(by, None, "small")
                + "</tr>"
            )
        return _grid(
            [("Time", "7%"), ("T+", "7%"), ("Phase", "13%"), ("Note", "48%"), ("By", "")],
            rows,
            title="Notes during the session",
        )

    def timeline(self) -> str:
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
            return _section("Event timeline", _none("Nothing was recorded."))
        return _grid(
            [("Time", "7%"), ("T+", "7%"), ("Kind", "10%"), ("Entry", "")],
            (self._timeline_row(i) for i in items),
            title="Event timeline",
            intro="Everything recorded, in time order, music included. The notes are under "
            "Notes during the session and how long each track played under Music played. "
            "Amended and withdrawn entries stay, with the reason.",
        )

    def _timeline_row(self, item: LogItem) -> str:
        detail = item.detail
        if item.kind is LogKind.NOTE and len(detail) > TIMELINE_NOTE_CHARS:
            detail = detail[: TIMELINE_NOTE_CHARS - 1].rstrip() + "…"
        text = esc(item.title)
        if detail:
            text += f' <span class="muted">— {esc(detail)}</span>'
        if item.state is not EntryState.STANDING:
            label = "Amended" if item.state is EntryState.AMENDED else "Withdrawn"
            text = (
                f'<span class="struck">{text}</span><br/>'
                f'<span class="flag">{label}:</span> {esc(item.reason or "")}'
            )
        if item.late:
            text += f' <span class="small">(written {clock_time(item.recorded_at)})</span>'
        css = ' class="faint"' if item.kind is LogKind.MUSIC else ""
        kind_css = "small flag" if item.kind is LogKind.ALERT else "small"
        return (
            f"<tr><td{css}>{self.when(item.at)}</td><td{css}>{self.t(item.at)}</td>"
            f'<td class="{kind_css}">{esc(_KIND_NAMES.get(item.kind, item.kind.label))}</td>'
            f"<td{css}>{text}</td></tr>"
        )

    def music(self) -> str:
        played = music_played(self.c.music)
        if not played:
            return _section("Music played", _none("No music was played."))
        rows = []
        for track in played:
            how = "skipped" if track.skipped else "stopped" if track.stopped else ""
            minutes, seconds = divmod(round(track.played_s), 60)
            rows.append(
                "<tr>"
                f"<td>{self.when(track.started_at)}</td><td>{self.t(track.started_at)}</td>"
                f'<td class="small">{esc(self.phase_name(track.phase_key))}</td>'
                f"<td>{esc(track.title)}</td>"
                f'<td class="small">{esc(track.playlist)}</td>'
                f'<td class="num">{minutes}:{seconds:02d}</td>'
                f'<td class="small">{how}</td></tr>'
            )
        return _grid(
            [
                ("Started", "7%"),
                ("T+", "7%"),
                ("Phase", "15%"),
                ("Track", "36%"),
                ("Playlist", "17%"),
                ("Played", "8%", "num"),
                ("", ""),
            ],
            rows,
            title="Music played",
        )

    def signatures(self) -> str:
        c = self.c
        rows = []
        for s in sorted(c.signatures, key=lambda s: s.signed_at):
            verified = c.signatures_verified.get(s.part)
            if verified is None:
                check = '<span class="muted">—</span>'
            elif verified:
                check = "✓ record unchanged since signing"
            else:
                check = '<span class="flag">✗ the record changed after signing</span>'
            rows.append(
                "<tr>"
                f"<td><b>{esc(_PART_NAMES.get(s.part, s.part))}</b></td>"
                f'<td>{esc(s.signer_name)}<br/><span class="small">{esc(s.signer_role)}</span></td>'
                f"<td>{esc(date_time_text(s.signed_at))}</td>"
                f'<td class="small">{esc(s.meaning)}</td>'
                f'<td class="small">{check}</td></tr>'
            )
        parts = []
        signed = {s.part for s in c.signatures}
        missing = [p for p in SignedPart if p not in signed]
        if missing:
            names = " and ".join(_PART_NAMES[p].lower() for p in missing)
            plural = "s" if len(missing) > 1 else ""
            parts.append(
                f'<p class="draft">Not signed: the {esc(names)} part{plural}. This document is '
                "a draft, not the final record.</p>"
            )
        if rows:
            parts.append(
                _grid(
                    [
                        ("Part", "12%"),
                        ("Signed by", "21%"),
                        ("Signed at", "17%"),
                        ("Meaning", "30%"),
                        ("Verified", ""),
                    ],
                    rows,
                )
            )
        for addendum in sorted(c.addenda, key=lambda n: n.recorded_at):
            signature = next((s for s in c.signatures if s.note_id == addendum.id), None)
            if signature is not None:
                by = (
                    f"Signed by {esc(signature.signer_name)}, "
                    f"{esc(date_time_text(signature.signed_at))}"
                )
            else:
                by = (
                    f"Written by {self.who(addendum.author_id)}, "
                    f'{esc(date_time_text(addendum.recorded_at))}; <span class="flag">not '
                    "signed</span>"
                )
            parts.append(
                f'<p class="subsection">Addendum, {esc(date_time_text(addendum.recorded_at))}</p>'
                f'<p>{_multiline(addendum.text)}</p><p class="small">{by}</p>'
            )
        return _section("Signatures and addenda", "".join(parts))

    def private_notes(self) -> str:
        notes = self.c.private_notes or []
        intro = (
            "Psychotherapy notes are kept apart from the session record (HIPAA 45 CFR "
            "§164.501). They are in this document only because the person who exported it "
            "chose to include them."
        )
        title = "Psychotherapy notes (private)"
        page_break = '<p style="page-break-before: always; margin: 0px;"></p>'
        if not notes:
            return page_break + _section(
                title, f'<p class="small">{esc(intro)}</p>' + _none("There are none.")
            )
        rows = []
        for item in sorted(versions(notes), key=lambda i: i.row.occurred_at):
            n = item.row
            by = "<br/>".join(p for p in (self.who(n.author_id), self.history(item)) if p)
            rows.append(
                "<tr>"
                + _cell(self.when(n.occurred_at), item)
                + _cell(self.t(n.occurred_at), item)
                + _cell(_multiline(n.text), item)
                + _cell(by, None, "small")
                + "</tr>"
            )
        return page_break + _grid(
            [("Time", "7%"), ("T+", "7%"), ("Note", "64%"), ("By", "")],
            rows,
            title=title,
            intro=esc(intro),
        )


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _dash(value: int | None) -> str:
    return "—" if value is None else str(value)


# --- music -------------------------------------------------------------------------------------


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


# --- tables of names ---------------------------------------------------------------------------

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
_SCALE_WIDTHS = {"dissociation": "11%"}
_SCALE_LEGENDS = {
    "moaas": "MOAA/S 0–5 (5: responds readily to name in normal tone; 0: no response)",
    "rass": "RASS −5 to +4 (0: alert and calm)",
    "dissociation": "Dissociation 0–4, clinician-rated (0: none; 4: out of contact)",
    "nausea": "Nausea 0–10",
    "suds": "SUDS 0–10 (distress)",
}
_TICK = "✓"
_CROSS = '<span class="flag">✗</span>'
_PART_NAMES: dict[str, str] = {
    SignedPart.MONITORING: "Monitoring",
    SignedPart.THERAPY: "Therapy",
    "addendum": "Addendum",
}
_KIND_NAMES = {LogKind.CHECKIN: "Check-in", LogKind.PHASE: "Phase", LogKind.DOSE: "Dose"}


def _has_any(observation: ObservationRecord, fields: Sequence[str]) -> bool:
    return any(observation.values.get(f) is not None for f in fields)


ChartDraw = Callable[[int, int], Any]
