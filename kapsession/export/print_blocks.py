"""The printed record (the PDF): how print words the record, and the blocks of its monitoring
part (the letterhead, doses, vital signs, scales, alerts, discharge); `print_record.py` adds
the therapy part and puts the sections in filing order.

Corrections are never hidden: an amended or withdrawn entry stays in its table, struck
through, with the reason beside it, and the entry that replaced it says so. Only what is in
`ExportContent` is shown, so the scope rules (one participant, private notes only when chosen)
hold here without further checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kapsession.domain.corrections import EntryState, Version
from kapsession.domain.measures import measure_names
from kapsession.export.content import ExportContent
from kapsession.export.deviation_blocks import deviation_text, discharge_deviation
from kapsession.export.document import (
    BREAK,
    Align,
    Block,
    Cell,
    Column,
    Emphasis,
    Field,
    Fields,
    Figure,
    Gap,
    Heading,
    Inline,
    Paragraph,
    Row,
    Section,
    Table,
    Text,
    joined,
    span,
)
from kapsession.export.escort_blocks import with_escort
from kapsession.export.record_rows import RecordRows
from kapsession.export.session_kind import medication_and_route, session_kind
from kapsession.export.times import since_dose
from kapsession.records.entries import ALDRETE_ITEM_KEYS, ObservationRecord

CHART_URL = "kapsession://vitals-chart"

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
_SMALL = (Emphasis.SMALL,)
_TICK = "✓"
_CROSS = span(Emphasis.ALERT, "✗")


def muted(text: str) -> Paragraph:
    """What a section says when it has nothing to show."""
    return Paragraph((text,), Emphasis.MUTED)


def cell(text: Text | str, *emphasis: Emphasis, strike: bool = True) -> Cell:
    return Cell((text,) if isinstance(text, str) else text, emphasis, 1, strike)


def note_cell(text: Text) -> Cell:
    """What the record says about the row: small, and never struck through."""
    return Cell(text, _SMALL, 1, False)


def texts(*parts: Inline) -> Text:
    """The parts that are not empty."""
    return tuple([p for p in parts if p != ""])


def number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class PrintRows:
    """The record's rows (`RecordRows`) with print's wording of times, people and corrections."""

    def __init__(self, rows: RecordRows) -> None:
        self.rows = rows
        self.c = rows.content
        self.times = rows.times

    def who(self, staff_id: uuid.UUID | None) -> str:
        return self.rows.staff_name(staff_id)

    def when(self, at: datetime) -> str:
        """The time, with the day when it is not the session's day (an addendum next day)."""
        return self.times.when(at)

    def t(self, when: datetime) -> str:
        """T+ minutes while the session runs; after it has ended (signing, addenda) nothing."""
        if self.times.end is not None and when > self.times.end:
            return ""
        return since_dose(when, self.times.first_dose)

    def history(self, item: Version[Any]) -> Text:
        """What happened to an entry, in the accent colour so it is not missed: amended or
        withdrawn (when, and why), or a correction of an earlier entry (written when, and
        why)."""
        parts: list[Text] = []
        if item.state is not EntryState.STANDING:
            at = f" {self.when(item.changed_at)}" if item.changed_at else ""
            label = "Amended" if item.state is EntryState.AMENDED else "Withdrawn"
            parts.append((span(Emphasis.ALERT, f"{label}{at}:"), f" {item.reason or ''}"))
        if item.corrects:
            written = self.when(item.row.recorded_at)
            parts.append(
                (
                    span(Emphasis.ALERT, f"Correction, written {written}:"),
                    f" {item.correction_reason or ''}",
                )
            )
        return joined(parts)

    def checkin_label(self, key: str | None) -> str:
        if key is None:
            return "Unscheduled"
        try:
            return self.c.protocol.checkin(key).label
        except KeyError:
            return key.replace("_", " ")

    def value(self, observation: ObservationRecord, field: str, text: str) -> Text:
        """A reading's value, in the accent colour when it raised an alert."""
        if text and field in self.rows.alerted(observation):
            return (span(Emphasis.ALERT, text),)
        return texts(text)


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def _has_any(observation: ObservationRecord, fields: Sequence[str]) -> bool:
    return any(observation.values.get(f) is not None for f in fields)


# --- the monitoring part ------------------------------------------------------------------------
def header(pr: PrintRows, clinic: str) -> list[Block]:
    c, session = pr.c, pr.c.session
    client = c.participant.client
    times = pr.times.clock(pr.times.start)
    if pr.times.end is not None:
        times += f"–{pr.times.clock(pr.times.end)}"
    clinic = clinic.strip()
    place = " · ".join(p for p in (clinic, session.room if session.room != clinic else "") if p)
    number = c.participant.session_number
    course = f"{_ordinal(number)} session of the course" if number else "Session"
    modality = session.modality.replace("_", " ")
    status: Inline = span(Emphasis.DRAFT, "DRAFT — not signed") if c.draft else "Signed"
    dob = client.date_of_birth
    not_recorded = span(Emphasis.MUTED, "not recorded")
    facts: list[tuple[str, Text]] = [
        ("Client", (span(Emphasis.STRONG, client.full_name),)),
        ("Date", texts(pr.times.day_text(pr.times.start))),
        ("Date of birth", (f"{dob.day} {dob:%b %Y}",) if dob else (not_recorded,)),
        ("Time", texts(times)),
        ("Record no.", (client.record_number or "—",)),
        ("Session", (f"{course}, {modality}",)),
        ("Therapist", (pr.who(session.therapist_id) or "—",)),
        ("Protocol", (f"{c.protocol.name}, version {session.protocol_version}",)),
        ("Nurse", (pr.who(session.nurse_id) or "—",)),
        ("Medication", (_medication(c),)),
        ("Type", (session_kind(c, pr.times.day_text),)),  # issue 17
        ("Status", (status,)),
    ]
    exported = f"Exported {pr.times.date_time(c.exported_at)}. " if c.exported_at else ""
    zone = f"Times are local ({pr.times.zone_text()})"
    return [
        Paragraph(texts(place.upper()), Emphasis.KICKER),
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


def _medication(c: ExportContent) -> str:
    """ "Ketamine, sublingual"; for a session that gives no dose, says so (issue 17)."""
    text = medication_and_route(c)
    return text[0].upper() + text[1:]


def _order_override(detail: dict[str, Any]) -> Text:
    """Under a dose given outside the order or a protocol limit: the prescriber's override,
    who and why (issue 16)."""
    override = detail.get("order_override")
    if not isinstance(override, dict):
        return ()
    text = f"Prescriber's override: {override.get('by', '')} — {override.get('reason', '')}"
    return (span(Emphasis.ALERT, text),)


def doses(pr: PrintRows) -> Section:
    c = pr.c
    rows: list[tuple[datetime, Row]] = []
    for item in pr.rows.doses:
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
            late = (f"late entry, written {pr.times.clock(d.recorded_at)}",)
        route = ", ".join(p for p in (d.medication, d.route) if p)
        cells: tuple[Cell, ...] = (
            cell(pr.when(d.occurred_at)),
            cell(pr.t(d.occurred_at)),
            cell((span(Emphasis.STRONG, f"{what} {amount}"),)),
            cell(route),
            cell(" · ".join(extra)),
            cell(d.lot_number or ""),
            cell(pr.who(d.given_by_id)),
            note_cell(joined([_order_override(d.detail), pr.history(item), late])),
        )
        rows.append((d.occurred_at, Row(cells, item.state)))
    for event_item in pr.rows.events(_DOSE_EVENT_KINDS):
        e = event_item.row
        label: Text = (e.label or e.kind.replace("_", " "),)
        message = e.detail.get("message", "") if e.kind.startswith("hold_dose") else ""
        if message:
            label += (BREAK, span(Emphasis.SMALL, message))
        flag = (Emphasis.ALERT,) if e.kind == "hold_dose_override" else ()
        cells = (
            cell(pr.when(e.occurred_at)),
            cell(pr.t(e.occurred_at)),
            Cell(label, flag, span=4, strike=False),
            cell(pr.who(e.recorded_by_id)),
            note_cell(pr.history(event_item)),
        )
        rows.append((e.occurred_at, Row(cells, event_item.state)))
    if not rows:
        return Section("Doses", (muted("No dose was recorded."),))
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
                    f"{pr.times.clock(pr.times.first_dose)}.",
                ),
                Emphasis.SMALL,
            )
        )
    return Section("Doses", tuple(blocks), table_head=True)


def vitals(pr: PrintRows, chart_size: tuple[float, float] | None) -> Section:
    items = pr.rows.observations
    with_vitals = [i for i in items if _has_any(i.row, _VITAL_FIELDS)]
    has_temp = any(i.row.values.get("temperature_c") is not None for i in with_vitals)
    rows = []
    for item in with_vitals:
        o = item.row
        v = o.values
        bp: Text = ()
        if o.has_bp:
            text = f"{v['systolic_mmhg']}/{v['diastolic_mmhg']}"
            alerted = pr.rows.alerted(o) & {"systolic_mmhg", "diastolic_mmhg"}
            bp = (span(Emphasis.ALERT, text),) if alerted else (text,)
        spo2: Text = ()
        if v.get("spo2_pct") is not None:
            air = {True: " RA", False: " O₂", None: ""}[o.on_room_air]
            spo2 = pr.value(o, "spo2_pct", f"{v['spo2_pct']}")
            spo2 += (span(Emphasis.SMALL, air),) if air else ()
        cells = [
            cell(pr.when(o.occurred_at)),
            cell(pr.t(o.occurred_at)),
            cell((pr.checkin_label(o.checkin_key), *_not_taken(o))),
            cell(bp),
            cell(pr.value(o, "heart_rate_bpm", number(v.get("heart_rate_bpm")))),
            cell(spo2),
            cell(pr.value(o, "resp_rate_per_min", number(v.get("resp_rate_per_min")))),
        ]
        if has_temp:
            cells.append(cell(pr.value(o, "temperature_c", number(v.get("temperature_c")))))
        cells.append(note_cell(_recorded(pr, item)))
        rows.append(Row(tuple(cells), item.state))
    if not rows:
        return Section("Vital signs", (muted("No vital signs were recorded."),))
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


def _recorded(pr: PrintRows, item: Version[ObservationRecord]) -> Text:
    o = item.row
    parts = [pr.who(o.recorded_by_id)]
    if o.is_late and not item.corrects:
        parts.append(f"late entry, written {pr.times.clock(o.recorded_at)}")
    text = " · ".join(p for p in parts if p)
    return joined([texts(text), pr.history(item)])


def scales(pr: PrintRows) -> Section:
    items = [
        i
        for i in pr.rows.observations
        if _has_any(i.row, _SCALE_FIELDS) or i.row.values.get("comment")
    ]
    if not items:
        return Section("Scales", (muted("No scales were scored."),))
    used = [f for f in _SCALE_FIELDS if any(i.row.values.get(f) is not None for i in items)]
    rows = []
    for item in items:
        o = item.row
        cells = [
            cell(pr.when(o.occurred_at)),
            cell(pr.t(o.occurred_at)),
            cell(pr.checkin_label(o.checkin_key)),
        ]
        for field in used:
            value = o.values.get(field)
            if field == "emesis":
                text = "" if value is None else "yes" if value else "no"
                cells.append(cell((span(Emphasis.ALERT, text),) if value else texts(text)))
            else:
                cells.append(cell(pr.value(o, field, number(value))))
        comment = o.values.get("comment") or ""
        cells.append(note_cell(joined([texts(comment), pr.history(item)])))
        rows.append(Row(tuple(cells), item.state))
    columns = [Column("Time", 7), Column("T+", 7), Column("Check-in", 22)]
    columns += [Column(_SCALE_TITLES[f], _SCALE_WIDTHS.get(f, 8), Align.CENTER) for f in used]
    columns.append(Column("Comment"))
    blocks: list[Block] = [Table(tuple(columns), tuple(rows))]
    legend = "; ".join(_SCALE_LEGENDS[f] for f in used if f in _SCALE_LEGENDS)
    if legend:
        blocks.append(Paragraph((f"{legend}.",), Emphasis.SMALL))
    return Section("Scales", tuple(blocks), table_head=True)


def alerts(pr: PrintRows) -> Section:
    alerts = pr.rows.alerts
    if not alerts:
        return Section("Alerts", (muted("No reading met an alert threshold."),))
    rows = []
    for a in alerts:
        ack: Text
        if a.acknowledged_at is None:
            ack = (span(Emphasis.ALERT, "Not acknowledged"),)
        else:
            ack = (f"{pr.when(a.acknowledged_at)} · {pr.who(a.acknowledged_by_id)}",)
        detail: Text = (a.acknowledgement_comment,)
        if a.reading_corrected:
            corrected = span(Emphasis.ALERT, "The reading behind it was corrected since.")
            detail += (BREAK, corrected)
        alert = (span(Emphasis.ALERT, a.message), BREAK, span(Emphasis.SMALL, a.label))
        cells = (
            cell(pr.when(a.raised_at)),
            cell(pr.t(a.raised_at)),
            cell(alert),
            cell(ack),
            cell(detail),
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


def discharge(pr: PrintRows) -> Section:
    items = pr.rows.discharges
    if not items:
        return with_escort(Section("Discharge", (muted("No discharge check was recorded."),)), pr.c)
    labels = {i.key: i.label for i in pr.c.protocol.discharge.checklist}
    criteria = pr.c.protocol.discharge
    blocks: list[Block] = []
    for item in items:
        d = item.row
        aldrete = " · ".join(
            f"{_ALDRETE_NAMES[k]} {_dash(d.aldrete.get(k))}" for k in ALDRETE_ITEM_KEYS
        )
        checklist = joined(
            (f"{_TICK} {labels.get(key, key)}",) if done else (_CROSS, f" {labels.get(key, key)}")
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
                (f"{pr.when(d.occurred_at)} ({since_dose(d.occurred_at, pr.times.first_dose)})",),
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
            facts.append(("Override", texts(span(Emphasis.ALERT, d.override_reason), who)))
        deviation = discharge_deviation(pr.c, d)
        if deviation is not None:  # issue 16: before the minimum time, the prescriber's override
            text = deviation_text(deviation, pr.times.tz)
            facts.append(("Protocol deviation", (span(Emphasis.ALERT, text),)))
        facts.append(("Recorded by", (pr.who(d.recorded_by_id) or "—",)))
        history = pr.history(item)
        if history:
            facts.append(("History", history))
        if blocks:
            blocks.append(Gap())
        fields = tuple(Field(label, value) for label, value in facts)
        blocks.append(Fields(fields, widths=(15, None), state=item.state))
    return with_escort(Section("Discharge", tuple(blocks)), pr.c)


def _not_taken(o: ObservationRecord) -> Text:
    """Under a partial check-in's name, the measures it asked for that were not taken."""
    if not o.not_taken:
        return ()
    return (BREAK, span(Emphasis.SMALL, f"not taken: {measure_names(o.not_taken)}"))
