"""`kapsession history CLIENT [--json]`: a client's sessions over all their courses, as a table
or JSON."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import datetime
from typing import TextIO

from kapsession.records.measures import MEASURE_COLUMNS, MeasureRecord, measure_cells, over_time
from kapsession.services.client_history import ClientHistoryService
from kapsession.storage.database import Database

_HISTORY_COLUMNS = (  # title, width
    ("DATE", 12),
    ("COURSE", 11),
    ("NO", 4),
    ("PROTOCOL", 26),
    ("ROUTE", 15),
    ("MODALITY", 11),
    ("STATUS", 8),
    ("DOSE MG", 9),
    ("BASE BP", 9),
    ("HR", 5),
    ("SPO2", 6),
    ("PEAK BP", 9),
    ("LOW SPO2", 10),
    ("DISS", 6),
    ("ALERTS", 8),
    ("READY MIN", 0),
)


def write_history(database: Database, client_text: str, *, as_json: bool, out: TextIO) -> None:
    """The history of the client `client_text` finds (record number, name or id prefix) as a
    table, or as JSON; `find_client` raises StorageError with a message when none or several
    match."""
    service = ClientHistoryService(database)
    history = service.history(service.find_client(client_text).id)
    client = history.client
    measures = [
        line
        for lines in over_time(history.measures, history.measure_versions).values()
        for line in lines
    ]
    if as_json:
        sessions = []
        for session in history.sessions:
            row = {k: _plain_json(v) for k, v in asdict(session).items()}
            row["status_label"] = session.status_label
            sessions.append(row)
        json.dump(
            {
                "client": {
                    "id": str(client.id),
                    "name": client.full_name,
                    "record_number": client.record_number,
                },
                "courses": history.courses,
                "sessions": sessions,
                "measures": [
                    {
                        "id": str(line.record.id),
                        "instrument": line.record.instrument_key,
                        "administered_at": _plain_json(line.record.occurred_at),
                        "session_id": _plain_json(line.record.session_id),
                        "answers": list(line.record.answers),
                        "total": line.score.total,
                        "band": line.score.band.label if line.score.band else None,
                        "missing_items": list(line.score.missing),
                        "change": None
                        if line.change is None
                        else {"difference": line.change.difference, "label": line.change.label},
                        "entered_by": line.first.recorded_by or None,
                        "entry_mode": line.first.entry_mode,
                        "corrected": line.record.corrects_id is not None,
                        "corrected_by": line.record.recorded_by or None
                        if line.record.corrects_id is not None
                        else None,
                        "correction_reason": line.record.correction_reason,
                        "versions": [_version_json(version) for version in line.earlier],
                    }
                    for line in measures
                ],
            },
            out,
            indent=2,
        )
        out.write("\n")
        return
    count = len(history.sessions)
    out.write(
        f"{client.full_name}  {client.record_number or '(no record number)'}  {count} "
        f"session{'' if count == 1 else 's'} in {history.courses} "
        f"course{'' if history.courses == 1 else 's'}, oldest first\n"
    )
    if not history.sessions:
        out.write("No sessions yet.\n")
    else:
        out.write("".join(f"{t:<{w}}" for t, w in _HISTORY_COLUMNS).rstrip() + "\n")

    def text(value: float | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:g}{unit}"

    def pair(high: int | None, low: int | None) -> str:
        return "-" if high is None or low is None else f"{high}/{low}"

    for s in history.sessions:
        cells = (
            s.held_at.astimezone().strftime("%Y-%m-%d"),
            s.course_title or "-",
            text(s.session_number),
            s.protocol_name,
            s.route or "-",
            s.modality,
            s.status_label,
            text(s.dose_total_mg),
            pair(s.baseline_systolic_mmhg, s.baseline_diastolic_mmhg),
            text(s.baseline_heart_rate_bpm),
            text(s.baseline_spo2_pct, "%"),
            pair(s.peak_systolic_mmhg, s.peak_diastolic_mmhg),
            text(s.lowest_spo2_pct, "%"),
            text(s.highest_dissociation),
            text(s.alerts),
            text(s.ready_minutes_after_first_dose),
        )
        line = "".join(
            f"{cell[: w - 1] if w else cell:<{w}}"
            for cell, (_t, w) in zip(cells, _HISTORY_COLUMNS, strict=True)
        )
        out.write(line.rstrip() + "\n")
    if not measures:
        out.write("No questionnaires recorded.\n")
        return
    out.write("\nQuestionnaires, oldest first\n")
    out.write("  ".join(title.upper() for title in MEASURE_COLUMNS) + "\n")
    for measure in measures:
        out.write("  ".join(measure_cells(measure, none="-")) + "\n")


def _version_json(version: MeasureRecord) -> dict[str, object]:
    """An earlier version of a corrected questionnaire, as it was written."""
    return {
        "id": str(version.id),
        "administered_at": _plain_json(version.occurred_at),
        "answers": list(version.answers),
        "total": version.total,
        "band": version.band,
        "recorded_at": _plain_json(version.recorded_at),
        "recorded_by": version.recorded_by or None,
        "correction_reason": version.correction_reason,
    }


def _plain_json(value: object) -> object:
    """A history value as JSON: ids as text, times in ISO 8601 (UTC)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
