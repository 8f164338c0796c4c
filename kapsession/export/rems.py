"""SPRAVATO REMS patient monitoring data for an intranasal esketamine session, and a one-page
PDF laid out like the Patient Monitoring Form (Janssen 11/2021 fields, clinical-sources §1.1),
ready to transcribe onto SPRAVATOrems.com or the faxed form.

How each answer is taken from the record (`RULES`, printed at the foot of the form too):
- Dose: devices given for the first dose (the dose entry is device 1, then each "device
  given") × mg per device; 56 and 84 mg are the form's boxes, anything else is "Other".
- Total minutes: whole minutes from the first device to the end of monitoring, which is the
  discharge (the time the discharge check let the client leave), or the session's end when no
  discharge was recorded.
- Ready to leave: the minute the discharge check found the client clinically ready, counted
  from the first device, as recorded with the discharge.
- Blood pressures: the protocol's REMS check-ins (before administration, at 40 minutes, before
  completion) when recorded with a BP; otherwise the last BP before the first device, the BP
  nearest to T+40 (within 15 minutes) and the last BP after the first device up to the end of
  monitoring.
- Vital signs acceptable: the reading behind that BP raised no alert and meets none of the
  protocol's alert rules; before administration its BP is also within the hold-dose limits.
- Sedation: MOAA/S below 5 or RASS below 0 at any check-in. Dissociation: a level above 0.
  Respiratory depression: a respiratory-rate or SpO2 alert, a reading meeting the protocol's RR
  or SpO2 rules, or oxygen given. Resolved: the first later check-in back to normal.
- Adverse events: the adverse events recorded as such (key E: kind, severity, seriousness,
  outcome, onset and resolution), each with the interventions given for it (issue 16). An alert
  or a reading is not an adverse event unless the team recorded one.
- Protocol deviations, listed apart and never as adverse events: a dose given despite the
  hold-dose check (its override) and a discharge despite the discharge check.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from kapsession.domain.corrections import effective
from kapsession.domain.protocol import (
    SESSION_TYPE_NAMES,
    Anchor,
    CheckinSpec,
    Medication,
    Protocol,
    Route,
)
from kapsession.export.content import ExportContent, ExportRefused
from kapsession.export.deviation_blocks import (
    deviation_text,
    discharge_deviation,
    discharge_withdrawn,
)
from kapsession.export.print_style import (
    ACCENT,
    FILL,
    GREY,
    INK,
    LIGHT_GREY,
    Decoration,
    geometry,
    paint_font,
    pdf_bytes,
)
from kapsession.export.times import clock_time, day_text, since_dose
from kapsession.records.adverse import chain_ids
from kapsession.records.entries import DoseRecord, ObservationRecord

FORTY_MINUTES = 40
NEAREST_WITHIN_MIN = 15  # a BP this close to T+40 stands in for a missing REMS 40-minute check
FORM_DOSES_MG = (56.0, 84.0)
MAX_EVENT_LINES = 6  # adverse events listed on the one page; the rest are counted
RESPIRATORY_FIELDS = ("resp_rate_per_min", "spo2_pct")

RULES = (
    "How kapsession filled this in. Dose: devices given for the first dose × mg per device. "
    "Total minutes: first device to the discharge (or the session's end without one). Blood "
    "pressures: the protocol's REMS check-ins; without one, the last BP before the first device, "
    "the BP nearest T+40 (±15 min), the last BP up to the end of monitoring. Acceptable: no "
    "alert and none of the protocol's alert rules met (before dosing also within the hold-dose "
    "limits). Sedation: MOAA/S below 5 or RASS below 0. Dissociation: level above 0. "
    "Respiratory depression: an RR or SpO₂ alert or rule met, or oxygen given. Adverse events: "
    "those recorded as adverse events, with their interventions. Protocol deviations (hold-dose "
    "and discharge overrides) are listed apart, not as adverse events."
)

T = TypeVar("T")


@dataclass(frozen=True)
class RemsBloodPressure:
    """One of the form's three blood pressures, and where it came from."""

    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    at: datetime | None
    minutes_after_first_dose: int | None
    source: str  # e.g. 'check-in "REMS BP at 40 minutes"' or "BP nearest to T+40"
    observation_id: uuid.UUID | None = None

    @property
    def text(self) -> str:
        """120/80, or "" when there is none."""
        if self.systolic_mmhg is None or self.diastolic_mmhg is None:
            return ""
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg}"


@dataclass(frozen=True)
class RemsFinding:
    """A yes/no question of the form, with what was seen and when it resolved; `present` is
    None when nothing that could answer it was recorded."""

    present: bool | None
    detail: str
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class RemsData:
    """The answers of the Patient Monitoring Form that the session record holds."""

    given_name: str
    family_name: str
    date_of_birth: date | None
    record_number: str | None
    session_number: int | None
    treatment_date: date
    setting: str
    provider: str  # the nurse who monitored, or the therapist when no nurse is named
    dose_mg: float | None  # administered: devices given × mg per device
    dose_choice: str  # "56" | "84" | "other" | "" (no dose recorded)
    devices_given: int
    devices_planned: int | None
    device_times: tuple[datetime, ...]
    lot_numbers: tuple[str, ...]
    first_device_at: datetime | None
    monitoring_ended_at: datetime | None
    monitoring_end: str  # "discharge" | "session end" | ""
    total_minutes: int | None
    ready_to_leave_minutes: int | None
    bp_before: RemsBloodPressure
    bp_at_40: RemsBloodPressure
    bp_before_completion: RemsBloodPressure
    vitals_acceptable_before: bool | None
    vitals_acceptable_before_detail: str
    vitals_acceptable_after: bool | None
    vitals_acceptable_after_detail: str
    sedation: RemsFinding
    dissociation: RemsFinding
    respiratory_depression: RemsFinding
    adverse_events: tuple[str, ...]
    draft: bool
    deviations: tuple[str, ...] = ()  # hold-dose and discharge overrides (issue 16)


def rems_data(content: ExportContent) -> RemsData:
    """The REMS answers of one participant's intranasal esketamine session (rules above)."""
    protocol = content.protocol
    dosing = protocol.dosing
    if not protocol.gives_dose:  # issue 17: its dosing section is a stand-in, no dose given
        kind = SESSION_TYPE_NAMES[protocol.session_type].lower()
        raise ExportRefused(
            f"The SPRAVATO REMS form is for a dosing session; this is a {kind} session, which "
            "gives no dose. Export it as pdf, md, csv or fhir instead."
        )
    if dosing.medication is not Medication.ESKETAMINE or dosing.route is not Route.INTRANASAL:
        raise ExportRefused(
            "The SPRAVATO REMS form is only for intranasal esketamine sessions; this session "
            f'followed "{protocol.name}" ({dosing.medication.value}, {dosing.route.value}). '
            "Export it as pdf, md, csv or fhir instead."
        )
    session, client = content.session, content.participant.client
    first = _first_dose(content)
    t0 = None if first is None else first.occurred_at
    times = _device_times(content, first)
    dose_mg = _administered_mg(first, len(times), dosing.device_mg)
    planned = None if first is None else first.device_count
    discharge = _last(sorted(content.standing_discharges, key=lambda d: d.occurred_at))
    end: datetime | None
    if discharge is not None:
        end, end_source = discharge.occurred_at, "discharge"
    elif session.ended_at is not None:
        end, end_source = session.ended_at, "session end"
    else:
        end, end_source = None, ""
    total = None
    if t0 is not None and end is not None and end >= t0:
        total = math.floor((end - t0) / timedelta(minutes=1))
    with_bp = sorted(
        (o for o in content.standing_observations if o.has_bp), key=lambda o: o.occurred_at
    )
    before, at_40, completion = _blood_pressures(protocol, with_bp, t0, end)
    by_id: dict[uuid.UUID | None, ObservationRecord] = {o.id: o for o in with_bp}
    ok_before, why_before = _acceptable(content, by_id.get(before.observation_id), True)
    ok_after, why_after = _acceptable(content, by_id.get(completion.observation_id), False)
    lots = tuple(dict.fromkeys(d.lot_number for d in content.standing_doses if d.lot_number))
    started = session.started_at or session.created_at
    readings = sorted(content.standing_observations, key=lambda o: o.occurred_at)
    return RemsData(
        given_name=client.given_name,
        family_name=client.family_name,
        date_of_birth=client.date_of_birth,
        record_number=client.record_number,
        session_number=content.participant.session_number,
        treatment_date=(t0 or started).astimezone().date(),
        setting=session.room,
        provider=content.staff_name(session.nurse_id) or content.staff_name(session.therapist_id),
        dose_mg=dose_mg,
        dose_choice=_dose_choice(dose_mg),
        devices_given=len(times),
        devices_planned=planned,
        device_times=times,
        lot_numbers=lots,
        first_device_at=t0,
        monitoring_ended_at=end,
        monitoring_end=end_source,
        total_minutes=total,
        ready_to_leave_minutes=(
            None if discharge is None else discharge.ready_minutes_after_first_dose
        ),
        bp_before=before,
        bp_at_40=at_40,
        bp_before_completion=completion,
        vitals_acceptable_before=ok_before,
        vitals_acceptable_before_detail=why_before,
        vitals_acceptable_after=ok_after,
        vitals_acceptable_after_detail=why_after,
        sedation=_finding(readings, t0, _sedated, "sedation"),
        dissociation=_finding(readings, t0, _dissociated, "dissociation"),
        respiratory_depression=_finding(
            readings, t0, _respiratory_check(content), "respiratory depression"
        ),
        adverse_events=_adverse_events(content, t0),
        draft=content.draft,
        deviations=_deviations(content, t0),
    )


# --- the answers -------------------------------------------------------------------------------


def _last(rows: Sequence[T]) -> T | None:
    return rows[-1] if rows else None


def _first_dose(content: ExportContent) -> DoseRecord | None:
    doses = sorted(content.standing_doses, key=lambda d: d.occurred_at)
    initial = [d for d in doses if d.kind == "initial"]
    chosen = initial or doses
    return chosen[0] if chosen else None


def _device_times(content: ExportContent, first: DoseRecord | None) -> tuple[datetime, ...]:
    """When each device of the first dose was given: the dose itself, then each device event."""
    if first is None:
        return ()
    more = sorted(
        e.occurred_at
        for e in effective(content.events)
        if e.kind == "device_given" and e.participant_id in (None, content.participant.id)
    )
    return (first.occurred_at, *more)


def _administered_mg(
    first: DoseRecord | None, devices: int, device_mg: float | None
) -> float | None:
    if first is None:
        return None
    if device_mg:
        return devices * device_mg
    return first.dose_mg


def _dose_choice(dose_mg: float | None) -> str:
    if dose_mg is None:
        return ""
    for choice in FORM_DOSES_MG:
        if math.isclose(dose_mg, choice):
            return f"{choice:g}"
    return "other"


def _rems_keys(protocol: Protocol) -> tuple[str | None, str | None, str | None]:
    """The protocol's REMS check-ins: (before administration, at 40 minutes, completion)."""
    specs = [c for c in protocol.checkins if c.rems]

    def before_dose(spec: CheckinSpec) -> bool:
        return spec.at.anchor is Anchor.START or spec.at.minutes < 0

    before = next((c.key for c in specs if before_dose(c)), None)
    after = [c for c in specs if not before_dose(c)]
    forty = min(after, key=lambda c: abs(c.at.minutes - FORTY_MINUTES), default=None)
    rest = [c for c in after if c is not forty]
    completion = max(rest, key=lambda c: c.at.minutes, default=None)
    return (
        before,
        None if forty is None else forty.key,
        None if completion is None else completion.key,
    )


def _bp(reading: ObservationRecord | None, t0: datetime | None, source: str) -> RemsBloodPressure:
    if reading is None:
        return RemsBloodPressure(None, None, None, None, "no blood pressure recorded")
    minutes = None
    if t0 is not None:
        minutes = math.floor((reading.occurred_at - t0) / timedelta(minutes=1))
    return RemsBloodPressure(
        reading.values["systolic_mmhg"],
        reading.values["diastolic_mmhg"],
        reading.occurred_at,
        minutes,
        source,
        reading.id,
    )


def _blood_pressures(
    protocol: Protocol,
    readings: list[ObservationRecord],
    t0: datetime | None,
    end: datetime | None,
) -> tuple[RemsBloodPressure, RemsBloodPressure, RemsBloodPressure]:
    """The three BPs: each from its REMS check-in, else by time (see the module's rules)."""
    before_key, forty_key, completion_key = _rems_keys(protocol)

    def from_checkin(key: str | None) -> RemsBloodPressure | None:
        found = _last([o for o in readings if key is not None and o.checkin_key == key])
        if found is None or key is None:
            return None
        return _bp(found, t0, f'check-in "{protocol.checkin(key).label}"')

    earlier = [o for o in readings if t0 is not None and o.occurred_at < t0]
    before = from_checkin(before_key) or _bp(_last(earlier), t0, "last BP before the first device")
    at_40 = from_checkin(forty_key)
    if at_40 is None:
        nearest = None
        if t0 is not None:
            target = t0 + timedelta(minutes=FORTY_MINUTES)
            near = [
                o
                for o in readings
                if abs(o.occurred_at - target) <= timedelta(minutes=NEAREST_WITHIN_MIN)
            ]
            nearest = min(near, key=lambda o: abs(o.occurred_at - target), default=None)
        at_40 = _bp(nearest, t0, f"BP nearest to T+{FORTY_MINUTES}")
    later = [
        o
        for o in readings
        if t0 is not None and o.occurred_at > t0 and (end is None or o.occurred_at <= end)
    ]
    completion = from_checkin(completion_key) or _bp(
        _last(later), t0, "last BP before the end of monitoring"
    )
    return before, at_40, completion


def _acceptable(
    content: ExportContent, reading: ObservationRecord | None, before_dosing: bool
) -> tuple[bool | None, str]:
    """Whether a reading is within the protocol's limits, and what was outside them."""
    if reading is None:
        return None, "no reading to judge"
    outside = [a.message for a in content.alerts if a.observation_id == reading.id]
    for rule in content.protocol.alerts:
        value = reading.values.get(rule.field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if rule.triggered_by(float(value)):
            outside.append(rule.label)
    if before_dosing and reading.has_bp:
        limits = content.protocol.hold_dose
        systolic, diastolic = reading.values["systolic_mmhg"], reading.values["diastolic_mmhg"]
        if systolic > limits.block_systolic_above or diastolic > limits.block_diastolic_above:
            outside.append(
                f"BP {systolic}/{diastolic} above the hold-dose limit "
                f"{limits.block_systolic_above:g}/{limits.block_diastolic_above:g}"
            )
    if outside:
        return False, "; ".join(dict.fromkeys(outside))
    return True, "within the protocol's limits"


Check = Callable[[ObservationRecord], str | None]  # a reading -> what was abnormal, or None


def _sedated(o: ObservationRecord) -> str | None:
    moaas, rass = o.values.get("moaas"), o.values.get("rass")
    if moaas is not None and moaas < 5:
        return f"MOAA/S {moaas}"
    if rass is not None and rass < 0:
        return f"RASS {rass}"
    return None


def _dissociated(o: ObservationRecord) -> str | None:
    level = o.values.get("dissociation")
    return f"level {level}" if level is not None and level > 0 else None


def _respiratory_check(content: ExportContent) -> Check:
    alerted = {a.observation_id: a.message for a in content.alerts if a.field in RESPIRATORY_FIELDS}
    rules = [r for r in content.protocol.alerts if r.field in RESPIRATORY_FIELDS]

    def check(o: ObservationRecord) -> str | None:
        if o.id in alerted:
            return alerted[o.id]
        for rule in rules:
            value = o.values.get(rule.field)
            if value is not None and rule.triggered_by(float(value)):
                return rule.label
        if o.on_room_air is False:
            return "on oxygen"
        return None

    return check


def _judged(o: ObservationRecord, check: Check) -> bool:
    """Whether the reading holds what the check looks at (a BP-only reading says nothing
    about sedation)."""
    if check is _sedated:
        return o.values.get("moaas") is not None or o.values.get("rass") is not None
    if check is _dissociated:
        return o.values.get("dissociation") is not None
    return any(o.values.get(f) is not None for f in RESPIRATORY_FIELDS)


def _finding(
    readings: list[ObservationRecord], t0: datetime | None, check: Check, what: str
) -> RemsFinding:
    """Present when any reading was abnormal; resolved at the first later normal reading."""
    judged = [o for o in readings if _judged(o, check)]
    if not judged:
        return RemsFinding(None, f"nothing recorded that shows {what} or its absence")
    abnormal = [(o, text) for o in judged if (text := check(o)) is not None]
    if not abnormal:
        return RemsFinding(False, f"no {what} recorded")
    last = abnormal[-1][0]
    normal_after = [o for o in judged if o.occurred_at > last.occurred_at and check(o) is None]
    resolved = normal_after[0].occurred_at if normal_after else None
    seen = ", ".join(f"{text} at {_moment(o.occurred_at, t0)}" for o, text in abnormal[:4])
    if len(abnormal) > 4:
        seen += f" and {len(abnormal) - 4} more"
    when = (
        f"resolved by {_moment(resolved, t0)}"
        if resolved is not None
        else "not recorded as resolved"
    )
    return RemsFinding(True, f"{seen}; {when}", resolved)


def _moment(when: datetime, t0: datetime | None) -> str:
    return since_dose(when, t0) or clock_time(when)


def _adverse_events(content: ExportContent, t0: datetime | None) -> tuple[str, ...]:
    """The adverse events recorded as such (issue 16), each with its grading, outcome and the
    interventions given for it; never an alert, a reading or an override by itself."""
    interventions = content.standing_interventions
    lines: list[tuple[datetime, str]] = []
    for a in content.standing_adverse_events:
        line = f"{_moment(a.occurred_at, t0)}: {a.title} ({a.grading}"
        if a.resolved_at is not None:
            line += f" at {_moment(a.resolved_at, t0)}"
        line += ")"
        ids = chain_ids(content.adverse_events, a.id)
        given = [i.title for i in interventions if i.adverse_event_id in ids]
        if given:
            line += f"; given: {', '.join(given)}"
        if a.actions:
            line += f"; {a.actions}"
        lines.append((a.occurred_at, line))
    return tuple(text for _at, text in sorted(lines, key=lambda e: e[0]))


def _deviations(content: ExportContent, t0: datetime | None) -> tuple[str, ...]:
    """Protocol deviations: a dose given despite the hold-dose check or outside the order or the
    protocol's limits (the prescriber's override), a discharge despite the discharge check.
    Recorded and exported as deviations, not adverse events."""
    found: list[tuple[datetime, str]] = []
    for e in effective(content.events):  # a withdrawn dose's deviations are withdrawn with it
        if e.kind in ("hold_dose_override", "dose_override"):
            found.append((e.occurred_at, f"{_moment(e.occurred_at, t0)}: {e.label}"))
        if e.kind == "consent_override":  # issue 17: started without current consent
            found.append((e.occurred_at, f"{_moment(e.occurred_at, t0)}: {e.label}"))
    for d in content.standing_discharges:
        if discharge_withdrawn(content, d):
            continue  # its event taken back as entered in error: no discharge, no deviation
        deviation = discharge_deviation(content, d)
        if deviation is not None:  # before the minimum time: the prescriber's override
            text = deviation_text(deviation, None)
            found.append((d.occurred_at, f"{_moment(d.occurred_at, t0)}: {text}"))
        elif d.override_reason:
            found.append(
                (
                    d.occurred_at,
                    f"{_moment(d.occurred_at, t0)}: discharged despite the discharge check: "
                    f"{d.override_reason}",
                )
            )
    return tuple(text for _at, text in sorted(found, key=lambda e: e[0]))


# --- the one-page form -------------------------------------------------------------------------


def rems_pdf(content: ExportContent, *, page: str = "A4") -> bytes:
    """The REMS answers as a one-page form to transcribe ("A4" or "Letter")."""
    data = rems_data(content)
    client = content.participant.client
    started = content.session.started_at or content.session.created_at
    day = day_text(data.first_device_at or started)
    header_left = " · ".join(p for p in (client.full_name, client.record_number or "", day) if p)
    shape = geometry(page)

    def paint(painter: QPainter, index: int) -> None:
        _Form(painter, shape.body, data).draw()

    return pdf_bytes(
        page,
        f"SPRAVATO REMS monitoring data: {client.full_name}, {data.treatment_date:%d %b %Y}"
        + (" (DRAFT)" if data.draft else ""),
        1,
        paint,
        Decoration(
            header_left=header_left,
            header_right="SPRAVATO REMS patient monitoring data",
            draft=data.draft,
        ),
    )


HAND = "complete by hand"


@dataclass(frozen=True)
class _Box:
    """One labelled box of the form; `choices` draws checkboxes in place of a value."""

    label: str
    value: str = ""
    share: float = 1.0
    note: str = ""
    choices: tuple[tuple[str, bool], ...] = ()


class _Form:
    """Draws the form top-down in layout units: numbered sections of labelled boxes."""

    GAP = 5.0
    PAD = 4.0
    CHECK = 9.0

    def __init__(self, painter: QPainter, body: QRectF, data: RemsData) -> None:
        self.p = painter
        self.body = body
        self.y = body.top()
        self.d = data

    # primitives ------------------------------------------------------------------------------
    def _measure(self, width: float, text: str, font: QFont) -> float:
        self.p.setFont(font)
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
        return self.p.boundingRect(QRectF(0, 0, width, 1000), flags, text).height()

    def _text(
        self, x: float, y: float, width: float, text: str, font: QFont, colour: str = INK
    ) -> float:
        """Wrapped text from (x, y); returns its height."""
        height = self._measure(width, text, font)
        self.p.setPen(QColor(colour))
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.p.drawText(QRectF(x, y, width, height), flags | int(Qt.TextFlag.TextWordWrap), text)
        return height

    def section(self, number: int, title: str) -> None:
        self.y += 8
        bar = QRectF(self.body.left(), self.y, self.body.width(), 17)
        self.p.fillRect(bar, QColor(FILL))
        self.p.fillRect(QRectF(bar.left(), bar.top(), 3, bar.height()), QColor(INK))
        self.p.setFont(paint_font(9, bold=True))
        self.p.setPen(QColor(INK))
        self.p.drawText(
            bar.adjusted(9, 0, -4, 0),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            f"{number}.  {title}",
        )
        self.y += bar.height() + 5

    def boxes(self, cells: Sequence[_Box]) -> None:
        """Side-by-side boxes as tall as the tallest: label, value (or "complete by hand" when
        empty), then a small note."""
        total = sum(c.share for c in cells)
        room = self.body.width() - self.GAP * (len(cells) - 1)
        widths = [room * c.share / total for c in cells]
        label_font, value_font = paint_font(7), paint_font(10.5, bold=True)
        hand_font, note_font = paint_font(7.5), paint_font(7)
        heights = []
        for cell, width in zip(cells, widths, strict=True):
            inner = width - 2 * self.PAD
            height = self.PAD + self._measure(inner, cell.label, label_font) + 2
            if cell.choices:
                height += self.CHECK + 3
            elif cell.value:
                height += self._measure(inner, cell.value, value_font)
            else:
                height += self._measure(inner, HAND, hand_font) + 2
            if cell.note:
                height += 2 + self._measure(inner, cell.note, note_font)
            heights.append(height + self.PAD)
        row_height = max(heights)
        x = self.body.left()
        for cell, width in zip(cells, widths, strict=True):
            rect = QRectF(x, self.y, width, row_height)
            self.p.setPen(QPen(QColor(GREY), 0.6))
            self.p.setBrush(Qt.BrushStyle.NoBrush)
            self.p.drawRect(rect)
            inner_x, inner = x + self.PAD, width - 2 * self.PAD
            y = self.y + self.PAD
            y += self._text(inner_x, y, inner, cell.label, label_font, GREY) + 2
            if cell.choices:
                cx = inner_x
                for text, checked in cell.choices:
                    cx = self.checkbox(cx, y + 1, checked, text)
                y += self.CHECK + 3
            elif cell.value:
                y += self._text(inner_x, y, inner, cell.value, value_font, INK)
            else:
                y += self._text(inner_x, y + 1, inner, HAND, hand_font, LIGHT_GREY) + 2
            if cell.note:
                self._text(inner_x, y + 2, inner, cell.note, note_font, GREY)
            x += width + self.GAP
        self.y += row_height + self.GAP

    def checkbox(self, x: float, y: float, checked: bool, text: str) -> float:
        """A box with an X when checked, then its text; returns the x after it."""
        box = QRectF(x, y, self.CHECK, self.CHECK)
        self.p.setPen(QPen(QColor(INK), 0.8))
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawRect(box)
        if checked:
            self.p.setPen(QPen(QColor(INK), 1.4))
            inner = box.adjusted(1.8, 1.8, -1.8, -1.8)
            self.p.drawLine(inner.topLeft(), inner.bottomRight())
            self.p.drawLine(inner.topRight(), inner.bottomLeft())
        self.p.setFont(paint_font(8.5, bold=checked))
        self.p.setPen(QColor(INK))
        self.p.drawText(QPointF(x + self.CHECK + 4, y + self.CHECK - 1), text)
        return x + self.CHECK + 4 + self.p.fontMetrics().horizontalAdvance(text) + 12

    def question(
        self, label: str, answer: bool | None, detail: str, *, label_width: float = 200
    ) -> None:
        """A yes/no row: the question, two boxes (neither checked when unknown), the detail."""
        left = self.body.left()
        label_height = self._text(left, self.y, label_width - 10, label, paint_font(8.5))
        x = left + label_width
        x = self.checkbox(x, self.y + 1, answer is True, "Yes")
        x = self.checkbox(x, self.y + 1, answer is False, "No")
        colour = GREY if answer is not None else ACCENT
        text = detail if answer is not None else f"{detail}; {HAND}"
        detail_height = self._text(x, self.y, self.body.right() - x, text, paint_font(7.5), colour)
        self.y += max(label_height, detail_height, self.CHECK + 2) + 5

    # the form --------------------------------------------------------------------------------
    def draw(self) -> None:
        left, width = self.body.left(), self.body.width()
        self.y += self._text(
            left,
            self.y,
            width,
            "SPRAVATO® REMS · Patient Monitoring Form data",
            paint_font(15, bold=True),
        )
        intro = (
            "From the kapsession record of this treatment session, for transcribing onto the "
            "SPRAVATO® REMS Patient Monitoring Form (SPRAVATOrems.com, or fax 1-877-778-0091) "
            "within 7 days of the session. Boxes marked “complete by hand” are not in the "
            "session record. Check the wording against the current form."
        )
        self.y += self._text(left, self.y + 2, width, intro, paint_font(7.5), GREY) + 2
        if self.d.draft:
            self.y += self._text(
                left,
                self.y + 2,
                width,
                "DRAFT: this session is not signed yet. Sign it before you submit the form.",
                paint_font(8.5, bold=True),
                ACCENT,
            )
        self._patient()
        self._medications()
        self._provider()
        self._treatment()
        self._vitals()
        self._findings()
        self._sign_off()

    def _patient(self) -> None:
        d = self.d
        self.section(1, "Patient")
        dob = d.date_of_birth
        self.boxes(
            [
                _Box("First name", d.given_name, 2.0),
                _Box("Last name", d.family_name, 2.0),
                _Box("Date of birth (MM/DD/YYYY)", f"{dob:%m/%d/%Y}" if dob else "", 1.9),
                _Box("Sex", "", 1.2),
                _Box(
                    "Record number",
                    d.record_number or "",
                    1.9,
                    f"session {d.session_number} of the course" if d.session_number else "",
                ),
            ]
        )
        # The course may hold other routes (ketamine) before the first esketamine session, so
        # the session number cannot answer "first treatment" on its own: it is a hint.
        hint = (
            f"this is session {d.session_number} of the client's course in kapsession"
            if d.session_number is not None
            else "the session's number in the course is not recorded"
        )
        self.question(
            "First SPRAVATO treatment? (If yes, also submit the Patient Enrollment Form.)",
            None,
            hint,
            label_width=260,
        )

    def _medications(self) -> None:
        self.section(2, "Concomitant medications that may cause sedation or blood pressure changes")
        names = (
            "Benzodiazepines",
            "Non-benzodiazepine sedative hypnotics",
            "Psychostimulants",
            "Monoamine oxidase inhibitors (MAOIs)",
        )
        column = (self.body.width() - 24) / 2
        for row in range(2):
            for col in range(2):
                x = self.body.left() + col * (column + 24)
                self.p.setFont(paint_font(8.5))
                self.p.setPen(QColor(INK))
                self.p.drawText(QPointF(x, self.y + 8), names[row * 2 + col])
                x += column - 78
                x = self.checkbox(x, self.y, False, "Yes")
                self.checkbox(x, self.y, False, "No")
            self.y += 14
        self._text(
            self.body.left(),
            self.y,
            self.body.width(),
            f"Not in the session record: {HAND} from the client's medication list.",
            paint_font(7),
            ACCENT,
        )
        self.y += 10

    def _provider(self) -> None:
        self.section(3, "Healthcare provider conducting monitoring · healthcare setting")
        self.boxes(
            [
                _Box("Provider (first and last name)", self.d.provider, 2.3),
                _Box("Telephone", "", 1.3),
                _Box("Email", "", 1.8),
                _Box("Setting (name; the address is on the form)", self.d.setting, 2.1),
            ]
        )

    def _treatment(self) -> None:
        d = self.d
        self.section(4, "Treatment session")
        devices = ", ".join(clock_time(t) for t in d.device_times)
        planned = f" of {d.devices_planned}" if d.devices_planned else ""
        other = "Other ___"
        if d.dose_choice == "other" and d.dose_mg is not None:
            other = f"Other: {d.dose_mg:g} mg"
        self.boxes(
            [
                _Box("Treatment date (MM/DD/YYYY)", f"{d.treatment_date:%m/%d/%Y}", 1.4),
                _Box(
                    "Dose administered",
                    share=3.0,
                    note=f"{d.devices_given}{planned} devices given, at {devices}"
                    if devices
                    else "",
                    choices=(
                        ("56 mg", d.dose_choice == "56"),
                        ("84 mg", d.dose_choice == "84"),
                        (other, d.dose_choice == "other"),
                    ),
                ),
                _Box("Lot number", ", ".join(d.lot_numbers), 1.6),
            ]
        )
        end_text = {"discharge": "the discharge", "session end": "the session's end"}.get(
            d.monitoring_end, ""
        )
        span = ""
        if d.first_device_at is not None and d.monitoring_ended_at is not None:
            span = (
                f"from the first device at {clock_time(d.first_device_at)} to {end_text} at "
                f"{clock_time(d.monitoring_ended_at)}"
            )
        ready = d.ready_to_leave_minutes
        self.boxes(
            [
                _Box(
                    "Treatment duration: total minutes from the 1st device administration to "
                    "completion of monitoring (the patient must be monitored for at least 2 hours)",
                    "" if d.total_minutes is None else f"{d.total_minutes} minutes",
                    1.0,
                    span,
                ),
                _Box(
                    "If there were no 2-hour minimum, when would the patient have been ready "
                    "to leave? Minutes from the start of administration",
                    "" if ready is None else f"{ready} minutes",
                    1.0,
                    "when the discharge check found the client clinically ready"
                    if ready is not None
                    else "no readiness was recorded with the discharge",
                ),
            ]
        )

    def _vitals(self) -> None:
        d = self.d
        self.section(5, "Vital signs and blood pressure")
        self.question(
            "Vital signs in acceptable range prior to administration",
            d.vitals_acceptable_before,
            d.vitals_acceptable_before_detail,
            label_width=260,
        )
        self.question(
            "Vital signs in acceptable range prior to completion of the treatment session",
            d.vitals_acceptable_after,
            d.vitals_acceptable_after_detail,
            label_width=260,
        )
        cells = []
        for label, bp in (
            ("Blood pressure prior to administration", d.bp_before),
            ("Blood pressure 40 minutes post-administration", d.bp_at_40),
            ("Blood pressure prior to treatment-session completion", d.bp_before_completion),
        ):
            note = bp.source
            if bp.at is not None:
                note = f"{clock_time(bp.at)} ({since_dose(bp.at, d.first_device_at)}), {note}"
            cells.append(_Box(label, f"{bp.text} mmHg" if bp.text else "", 1.0, note))
        self.boxes(cells)

    def _findings(self) -> None:
        d = self.d
        self.section(6, "During the session, did the patient experience …")
        self.question("Sedation", d.sedation.present, d.sedation.detail)
        self.question("Dissociation", d.dissociation.present, d.dissociation.detail)
        self.question(
            "Respiratory depression",
            d.respiratory_depression.present,
            d.respiratory_depression.detail,
        )
        events = list(d.adverse_events)
        detail = "none recorded" if not events else f"{len(events)} recorded:"
        self.question("Adverse events", bool(events), detail)
        indent = self.body.left() + 200
        width = self.body.right() - indent
        # list what fits above the sign-off, and count the rest: the form stays one page
        bottom = self.body.bottom() - self._sign_off_height() - 14
        shown = 0
        for line in events[:MAX_EVENT_LINES]:
            text = f"• {line}"
            if self.y + self._measure(width, text, paint_font(7.5)) > bottom:
                break
            self.y += self._text(indent, self.y - 3, width, text, paint_font(7.5))
            shown += 1
        if shown < len(events):
            more = f"and {len(events) - shown} more: see the session record"
            self.y += self._text(indent, self.y - 3, width, more, paint_font(7.5), ACCENT)
        if d.deviations and self.y < bottom - 12:  # not adverse events: listed apart (16)
            text = "Protocol deviations (not adverse events): " + "; ".join(d.deviations)
            if self.y + self._measure(width, text, paint_font(7.5)) <= bottom:
                self.y += self._text(indent, self.y + 2, width, text, paint_font(7.5), GREY)

    def _sign_off_height(self) -> float:
        return 12 + 40 + 4 + 4 + self._measure(self.body.width(), RULES, paint_font(6.5))

    def _sign_off(self) -> None:
        self.y += 12
        self.boxes(
            [
                _Box("Transcribed and submitted by", "", 2.0),
                _Box("Date submitted", "", 1.0),
                _Box("Confirmation or fax reference", "", 1.4),
            ]
        )
        self.y += 4
        self.p.setPen(QPen(QColor(LIGHT_GREY), 0.5))
        self.p.drawLine(QPointF(self.body.left(), self.y), QPointF(self.body.right(), self.y))
        self._text(self.body.left(), self.y + 4, self.body.width(), RULES, paint_font(6.5), GREY)
