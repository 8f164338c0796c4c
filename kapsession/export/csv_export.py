"""The session as two CSV files: every reading, and every event of the timeline.

Column names are the app's own field names, with the unit in the name (`systolic_mmhg`,
`spo2_pct`, `temperature_c`, `since_first_dose_s`): one style a script can rely on, no spaces
or brackets to quote, and the same names as the Reading and the database. Scales are named
for the scale (`moaas`, `rass`, …; ranges in the Markdown legend).
Times are ISO 8601 in UTC with the offset, to the second (`2026-11-26T14:05:00+00:00`): one
format in every row, so spreadsheet and pandas parsers read the whole column alike.
Booleans are `true`/`false`, a value not taken is empty. Every row says `record_status`
(`draft` or `signed`): CSV has no place for a DRAFT banner that every reader keeps.
Corrections are rows of their own (`corrects_id`, `correction_reason`, `voids`), the original
is kept with its `state`. Text is written exactly (the csv module quotes what needs quoting),
except that a text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
single quote in front (`'=1+2`), so that a spreadsheet shows it rather than running it as a
formula (OWASP's CSV injection advice); numbers are numbers (`-1.5` stays `-1.5`).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kapsession.domain.corrections import entry_states
from kapsession.domain.vitals import READING_FIELDS
from kapsession.export.content import ExportContent
from kapsession.export.order_blocks import order_line
from kapsession.export.record_rows import checkin_label, number_text, others_scrubber
from kapsession.records.entries import (
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    EventRecord,
    MusicEventRecord,
    ObservationRecord,
    is_late,
)
from kapsession.records.notes import NoteRecord, PrivateNoteRecord, SignatureRecord
from kapsession.records.session_log import LogItem

OBSERVATION_COLUMNS: tuple[str, ...] = (
    "record_status",
    "session_id",
    "participant_id",
    "entry_id",
    "occurred_at",
    "recorded_at",
    "since_first_dose_s",
    "checkin_key",
    "checkin_label",
    *READING_FIELDS,  # systolic_mmhg … temperature_c, the scales, emesis, comment
    "on_room_air",
    "not_taken",  # a partial check-in: the measures it asked for that were not taken ("bp;spo2")
    "recorded_by",
    "state",
    "corrects_id",
    "correction_reason",
    "voids",
    "late_entry",
)
EVENT_COLUMNS: tuple[str, ...] = (
    "record_status",
    "session_id",
    "participant_id",
    "entry_id",
    "occurred_at",
    "recorded_at",
    "since_first_dose_s",
    "kind",
    "event_type",  # the finer kind: marker, track_start, acknowledgement, entry, …
    "title",
    "detail",
    "state",
    "reason",
    "is_correction",
    "late_entry",
    "staff",
    "medication",
    "route",
    "dose_mg",
    "lot_number",
    "device_count",
    "weight_kg",
    "dose_mg_per_kg",
    "track_title",
    "playlist",
    "position_ms",
    "volume_pct",
    "aldrete_total",
    "ready_minutes_after_first_dose",
)
PRIVATE_NOTE_KIND = "private_note"


def iso_utc(at: datetime | None) -> str:
    """`2026-11-26T14:05:00+00:00`: UTC, to the second, with the offset."""
    if at is None:
        return ""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def cell(value: Any) -> str:
    """A value as CSV text: empty for not taken, true/false, numbers in their exact form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    return text_cell(str(value))


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """A text as a CSV cell no spreadsheet runs: a leading formula character quoted with `'`."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _write(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: cell(row.get(name)) for name in columns})
    return out.getvalue()


def _since_dose_s(content: ExportContent, at: datetime) -> int | None:
    first = content.first_dose_at
    return None if first is None else round((at - first).total_seconds())


def _status(content: ExportContent) -> str:
    return "draft" if content.draft else "signed"


def observations_csv(content: ExportContent) -> str:
    """One row per reading, corrected and withdrawn ones and their corrections included."""
    scrub = others_scrubber(content)
    states = entry_states(content.observations)
    ordered = sorted(content.observations, key=lambda o: (o.occurred_at, o.recorded_at))

    def row(o: ObservationRecord) -> dict[str, Any]:
        values = dict(o.values)
        values["comment"] = scrub(values["comment"] or "")
        return {
            "record_status": _status(content),
            "session_id": o.session_id,
            "participant_id": o.participant_id,
            "entry_id": o.id,
            "occurred_at": o.occurred_at,
            "recorded_at": o.recorded_at,
            "since_first_dose_s": _since_dose_s(content, o.occurred_at),
            "checkin_key": o.checkin_key,
            "checkin_label": checkin_label(content, o.checkin_key),
            **values,
            "on_room_air": o.on_room_air,
            "not_taken": ";".join(o.not_taken),
            "recorded_by": content.staff_name(o.recorded_by_id),
            "state": states[o.id][0].value,
            "corrects_id": o.corrects_id,
            "correction_reason": None
            if o.correction_reason is None
            else scrub(o.correction_reason),
            "voids": o.voids,
            "late_entry": is_late(o.occurred_at, o.recorded_at),
        }

    return _write(OBSERVATION_COLUMNS, (row(o) for o in ordered))


class _Sources:
    """The record behind each timeline item, by id, for the values the item's text leaves out."""

    def __init__(self, content: ExportContent) -> None:
        self.doses: dict[uuid.UUID, DoseRecord] = {d.id: d for d in content.doses}
        self.observations = {o.id: o for o in content.observations}
        self.events: dict[uuid.UUID, EventRecord] = {e.id: e for e in content.events}
        self.notes: dict[uuid.UUID, NoteRecord] = {n.id: n for n in content.notes}
        self.music: dict[uuid.UUID, MusicEventRecord] = {m.id: m for m in content.music}
        self.alerts: dict[uuid.UUID, AlertRecord] = {a.id: a for a in content.alerts}
        self.signatures: dict[uuid.UUID, SignatureRecord] = {s.id: s for s in content.signatures}
        self.discharges: dict[uuid.UUID, DischargeAssessmentRecord] = {
            d.id: d for d in content.discharges
        }
        self.corrections: dict[uuid.UUID, str | None] = {
            r.id: r.correction_reason
            for rows in (content.doses, content.observations, content.events, content.notes)
            for r in rows
            if r.corrects_id is not None
        }
        # issue 16: adverse events, interventions, controlled-substance counts
        self.adverse = {a.id: a for a in content.adverse_events}
        self.interventions = {i.id: i for i in content.interventions}
        self.counts = {c.id: c for c in content.substance_counts}
        for added in (content.adverse_events, content.interventions, content.substance_counts):
            self.corrections.update(
                {r.id: r.correction_reason for r in added if r.corrects_id is not None}
            )
        self.acknowledged: dict[tuple[datetime, uuid.UUID | None], AlertRecord] = {
            (a.acknowledged_at, a.participant_id): a
            for a in content.alerts
            if a.acknowledged_at is not None
        }

    def correction_reason(self, entry_id: uuid.UUID | None) -> str | None:
        return None if entry_id is None else self.corrections.get(entry_id)


def _item_values(
    content: ExportContent, sources: _Sources, item: LogItem, scrub: Callable[[str], str]
) -> dict[str, Any]:
    """The typed columns of one timeline item, from the record it shows."""
    key = item.entry_id
    name = content.staff_name
    if key is None:  # an acknowledgement: the alert it acknowledges
        alert = sources.acknowledged.get((item.at, item.participant_id))
        if alert is None:
            return {}
        return {
            "entry_id": alert.id,
            "event_type": "acknowledgement",
            "staff": name(alert.acknowledged_by_id),
        }
    if key in sources.doses:
        d = sources.doses[key]
        return {
            "event_type": d.kind,
            "staff": name(d.given_by_id),
            "medication": d.medication,
            "route": d.route,
            "dose_mg": d.dose_mg,
            "lot_number": d.lot_number,
            "device_count": d.device_count,
            "weight_kg": d.weight_kg,
            "dose_mg_per_kg": d.dose_mg_per_kg,
        }
    if key in sources.observations:
        return {
            "event_type": "checkin",
            "staff": name(sources.observations[key].recorded_by_id),
        }
    if key in sources.alerts:
        return {"event_type": "alert"}
    if key in sources.notes:
        return {"event_type": sources.notes[key].kind, "staff": name(sources.notes[key].author_id)}
    if key in sources.signatures:
        return {"event_type": "signature", "staff": sources.signatures[key].signer_name}
    if key in sources.music:
        m = sources.music[key]
        return {
            "event_type": m.kind,
            "track_title": m.track_title,
            "playlist": m.playlist,
            "position_ms": m.position_ms,
            "volume_pct": m.volume_pct,
        }
    if key in sources.events:
        return _event_values(content, sources, sources.events[key], scrub)
    return _adverse_values(content, sources, key)


def _adverse_values(content: ExportContent, sources: _Sources, key: uuid.UUID) -> dict[str, Any]:
    """An adverse event, an intervention or a controlled-substance count (issue 16): its kind
    (`adverse_event:emesis`, `intervention:rescue_medication`), who, and the medication."""
    name = content.staff_name
    if key in sources.adverse:
        a = sources.adverse[key]
        return {"event_type": f"adverse_event:{a.kind}", "staff": name(a.recorded_by_id)}
    if key in sources.interventions:
        i = sources.interventions[key]
        return {
            "event_type": f"intervention:{i.kind}",
            "staff": name(i.given_by_id),
            "medication": i.medication,
            "route": i.route,
            "dose_mg": i.dose if i.unit == "mg" else None,
            "lot_number": i.lot_number,
        }
    if key in sources.counts:
        c = sources.counts[key]
        return {
            "event_type": "controlled_substance",
            "staff": name(c.recorded_by_id),
            "medication": c.medication,
            "dose_mg": c.given_mg,
        }
    return {}


def _event_values(
    content: ExportContent, sources: _Sources, e: EventRecord, scrub: Callable[[str], str]
) -> dict[str, Any]:
    values: dict[str, Any] = {"event_type": e.kind, "staff": content.staff_name(e.recorded_by_id)}
    if e.kind in ("hold_dose_override", "dose_override", "discharge_deviation"):  # (16)
        values["event_type"] = f"protocol_deviation:{e.kind}"
    if e.kind == "consent_override":  # issue 17: started without current consent
        values["event_type"] = f"protocol_deviation:{e.kind}"
    if e.kind == "discharge":
        assessment_id = e.detail.get("assessment_id")
        found = [d for d in sources.discharges.values() if str(d.id) == assessment_id]
        values["aldrete_total"] = found[0].aldrete_total if found else e.detail.get("aldrete_total")
        values["ready_minutes_after_first_dose"] = (
            found[0].ready_minutes_after_first_dose
            if found
            else e.detail.get("ready_minutes_after_first_dose")
        )
    extra = [str(e.detail[k]) for k in ("message", "reason") if e.detail.get(k)]
    if e.detail.get("staff"):
        extra.append(f"authorised by {e.detail['staff']}")
    if extra:
        values["detail"] = scrub("; ".join(extra))
    return values


def _private_rows(
    content: ExportContent, notes: Sequence[PrivateNoteRecord]
) -> list[dict[str, Any]]:
    states = entry_states(notes)
    rows = []
    for n in notes:
        if n.voids:
            continue  # its reason shows on the note it takes back
        state, reason = states[n.id]
        rows.append(
            {
                "participant_id": n.participant_id,
                "entry_id": n.id,
                "occurred_at": n.occurred_at,
                "recorded_at": n.recorded_at,
                "kind": PRIVATE_NOTE_KIND,
                "event_type": PRIVATE_NOTE_KIND,
                "title": "Private note (psychotherapy note, kept apart from the record)",
                "detail": n.text,
                "state": state.value,
                "reason": reason,
                "is_correction": n.corrects_id is not None,
                "staff": content.staff_name(n.author_id),
            }
        )
    return rows


def _order_rows(content: ExportContent) -> list[dict[str, Any]]:
    """The prescriber's order (issue 16), every version: kind `order`, at the time it was
    given, by whom in `staff`, the whole order in `detail`."""
    states = entry_states(content.orders)
    rows = []
    for o in content.orders:
        state, reason = states[o.id]
        rows.append(
            {
                "participant_id": o.participant_id,
                "entry_id": o.id,
                "occurred_at": o.occurred_at,
                "recorded_at": o.recorded_at,
                "kind": "order",
                "event_type": "dose_order",
                "title": "Prescriber's order" + (" (verbal)" if o.order.verbal else ""),
                "detail": order_line(content, o, None),
                "state": state.value,
                "reason": reason or o.correction_reason,
                "is_correction": o.corrects_id is not None,
                "staff": content.staff_name(o.ordered_by_id),
                "medication": o.order.medication.value,
                "route": o.order.route.value,
                "dose_mg": o.order.dose_mg,
                "dose_mg_per_kg": o.order.dose_mg_per_kg,
            }
        )
    return rows


def events_csv(content: ExportContent) -> str:
    """Every item of the timeline (phases, doses, check-ins, alerts and acknowledgements,
    notes, markers, music, discharge, signatures), and the private notes if included."""
    scrub = others_scrubber(content)
    sources = _Sources(content)
    rows: list[dict[str, Any]] = []
    orders = {o.id for o in content.orders}  # their rows, with the order's columns: below
    for item in content.timeline:
        if item.entry_id in orders:
            continue
        row: dict[str, Any] = {
            "participant_id": item.participant_id,
            "entry_id": item.entry_id,
            "occurred_at": item.at,
            "recorded_at": item.recorded_at,
            "kind": item.kind.value,
            "title": item.title,
            "detail": item.detail,
            "state": item.state.value,
            "reason": item.reason,
            "is_correction": item.corrects,
        }
        extra = _item_values(content, sources, item, scrub)
        if item.corrects and not item.reason:  # a correction row gives its own reason
            row["reason"] = sources.correction_reason(item.entry_id)
        if "detail" in extra and item.detail:
            extra["detail"] = f"{item.detail}; {extra['detail']}"
        rows.append({**row, **extra})
    if content.private_notes is not None:
        rows.extend(_private_rows(content, content.private_notes))
    rows.extend(_order_rows(content))
    rows.sort(key=lambda r: (r["occurred_at"], r["recorded_at"]))
    for row in rows:
        row["record_status"] = _status(content)
        row["session_id"] = content.session.id
        row["since_first_dose_s"] = _since_dose_s(content, row["occurred_at"])
        row["late_entry"] = is_late(row["occurred_at"], row["recorded_at"])
        if row.get("reason"):
            row["reason"] = scrub(row["reason"])
    return _write(EVENT_COLUMNS, rows)


def csv_paths(out: Path) -> tuple[Path, Path]:
    """`report.csv` → `report-observations.csv`, `report-events.csv` beside it."""
    stem = out.stem if out.suffix.lower() == ".csv" else out.name
    return (
        out.with_name(f"{stem}-observations.csv"),
        out.with_name(f"{stem}-events.csv"),
    )


def csv_files(content: ExportContent, out: Path) -> dict[Path, str]:
    """The two files of `--out PATH`, by path, with their text (not yet written)."""
    observations, events = csv_paths(out)
    return {observations: observations_csv(content), events: events_csv(content)}
