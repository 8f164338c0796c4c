"""The PDF record of a full three-hour session, and of sessions with 2, 5 and 10 times its
entries: how long gather + to_pdf take, and whether the time grows about linearly.

Target (issue 6 / issue 7): under one second for a full session (200 notes, 30 check-ins, 60
tracks of music), the median of several runs, chart included; and its growth from 1x to 10x the
entries about linear: time(Nx) / time(1x) at most 1.5 N (linear growth would come out under N,
given the fixed cost of fonts, chart and first page; Qt's painting of long tables adds a small
quadratic term, see benchmarks/README.md). Each size is its own three-hour session, written
through the storage repositories with N times the notes, check-ins and tracks spread evenly
(more entries a minute, never a longer session), then exported from the database with the
vitals chart at print resolution. The sizes are timed in turn within each run.

Baseline, measured in the same run: the same session's rows read with plain sqlite3 and printed
as plain HTML tables (the same sections, rows and columns) by Qt alone, QTextDocument.print_ on
a QPdfWriter, without any of the app's export code. The app's export is reported as a ratio to
it; the gate stays the absolute one second.
"""

from __future__ import annotations

import html
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from verdicts import report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RUNS = int(os.environ.get("KAPSESSION_BENCH_RUNS", "5"))
TARGET_S = 1.0
FACTORS = (1, 2, 5, 10)
MAX_GROWTH = {1: 1.0, 2: 3.0, 5: 7.5, 10: 15.0}  # time(Nx) / time(1x) <= 1.5 N (README)
TABLE_PT = 8.5  # the baseline's tables, at the size the record prints its tables
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SESSION_MIN = 180
NOTES, CHECKINS, TRACKS = 200, 30, 60
NOTE_TEXT = (
    "Breathing slow and even; hands open on the blanket; says the music feels like a tide "
    "coming in. Asked for the eye mask to stay on. Tearful for a moment, then smiling."
)


@dataclass
class Room:
    folder: Path
    context: Any
    session_id: uuid.UUID
    participant_id: uuid.UUID
    therapist_id: uuid.UUID
    nurse_id: uuid.UUID


def _open_room(folder: Path) -> Room:
    from kapsession.domain.clock import FakeClock
    from kapsession.paths import resolve_paths
    from kapsession.services.context import open_context

    context = open_context(resolve_paths(data_dir=folder, environ={}), clock=FakeClock(START))
    service = context.service
    therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=START, credentials="PsyD")
    nurse = service.add_staff("Tom Becker", "nurse", at=START, credentials="RN")
    client = service.add_client("Maya", "Fischer", at=START, record_number="BENCH-0001")
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=START,
        room="Room 2",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
    )
    return Room(folder, context, record.id, record.participants[0].id, therapist.id, nurse.id)


def _write_session(room: Room, factor: int) -> None:
    """The whole three hours of a session with `factor` times the full session's notes,
    check-ins and tracks, evenly spread, written through the storage repositories as the live
    session would."""
    from kapsession.domain.vitals import Reading
    from kapsession.storage.checkins import CheckinRepository
    from kapsession.storage.entries import EntryRepository
    from kapsession.storage.music_log import MusicLogRepository
    from kapsession.storage.notes import NoteRepository

    database = room.context.database
    entries, checkins = EntryRepository(database), CheckinRepository(database)
    notes, music = NoteRepository(database), MusicLogRepository(database)

    def at(minute: float) -> datetime:
        return START + timedelta(minutes=minute)

    dose_min = 40.0
    entries.add_dose(
        room.session_id,
        room.participant_id,
        occurred_at=at(dose_min),
        recorded_at=at(dose_min) + timedelta(seconds=20),
        medication="ketamine",
        route="sublingual",
        dose_mg=200,
        lot_number="KT-24117",
        given_by=room.nurse_id,
        weight_kg=64,
        dose_mg_per_kg=3.13,
        by=room.nurse_id,
    )
    checkin_count = CHECKINS * factor
    for index in range(checkin_count):
        minute = 3 + index * (SESSION_MIN - 6) / checkin_count
        effect = max(0.0, 1 - abs(minute - 80) / 60)
        reading = Reading(
            systolic_mmhg=120 + round(22 * effect) + index % 3,
            diastolic_mmhg=78 + round(12 * effect),
            heart_rate_bpm=68 + round(9 * effect),
            spo2_pct=98 - (1 if effect > 0.6 else 0),
            resp_rate_per_min=14 + index % 2,
            moaas=5 - round(1.4 * effect),
            dissociation=round(2.6 * effect),
            nausea=round(2 * effect),
            suds=max(0, 5 - round(3 * effect)),
        )
        checkins.add_observation(
            room.session_id,
            room.participant_id,
            reading,
            occurred_at=at(minute),
            recorded_at=at(minute) + timedelta(seconds=45),
            checkin_key=None,
            on_room_air=True,
            by=room.nurse_id,
        )
    note_count = NOTES * factor
    words = NOTE_TEXT.split()
    for index in range(note_count):
        minute = 1 + index * (SESSION_MIN - 2) / note_count
        turned = words[index % 7 :] + words[: index % 7]
        notes.add_entry(
            room.session_id,
            " ".join(turned[: 12 + index % 14]),
            occurred_at=at(minute),
            recorded_at=at(minute),
            elapsed_s=round(minute * 60),
            by=room.therapist_id,
        )
    track_count = TRACKS * factor
    track_min = SESSION_MIN / track_count
    for index in range(track_count):
        minute = index * track_min
        title = f"Bench track {index + 1:03d}"
        for kind, offset in (("track_start", 0.0), ("track_end", track_min - 0.05)):
            music.add(
                room.session_id,
                kind,
                occurred_at=at(minute + offset),
                recorded_at=at(minute + offset),
                track_path=f"/music/bench-{index + 1:03d}.ogg",
                track_title=title,
                playlist="peak.m3u8",
                phase_key="peak",
                volume_pct=60.0,
            )
        if index % 6 == 3:  # now and then a volume change, a minute in (sooner if shorter)
            change = minute + min(1.0, track_min / 2)
            music.add(
                room.session_id,
                "volume",
                occurred_at=at(change),
                recorded_at=at(change),
                volume_pct=50.0 + index % 20,
            )


def _export(room: Room, at: datetime) -> tuple[bytes, Any]:
    from kapsession.export.pdf import to_pdf
    from kapsession.services.export_content import gather
    from kapsession.ui.export_chart import chart_for

    content = gather(room.context.database, room.session_id, exported_at=at)
    return to_pdf(content, page="A4", chart=chart_for(content), clinic="Room 2"), content


# --- the baseline: the same tables printed by Qt alone ------------------------------------------


def _baseline(db: sqlite3.Connection, session_hex: str) -> bytes:
    """The session's tables printed by Qt alone: QTextDocument.print_ on a QPdfWriter (A4, 300
    dpi, Qt's own margins and page numbers), no code of the app's."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QFont, QPageSize, QPdfWriter, QTextDocument

    document = QTextDocument()
    font = QFont()
    font.setPointSizeF(TABLE_PT)
    document.setDefaultFont(font)
    document.setHtml(_baseline_html(db, session_hex))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(300)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    document.print_(writer)
    del writer  # finishes the PDF
    buffer.close()
    return bytes(data.data())


def _baseline_html(db: sqlite3.Connection, session_hex: str) -> str:
    """The session's rows read with plain sqlite3, as plain HTML tables: the sections the record
    prints (doses, vital signs, scales, notes, event timeline, music played) with their rows
    and columns, every cell plain text, the column titles as a header row."""
    names = dict(db.execute("SELECT id, display_name FROM staff"))

    def rows(sql: str, where: str = "") -> list[tuple[Any, ...]]:
        return db.execute(
            f"{sql} WHERE session_id = ? {where} ORDER BY occurred_at", (session_hex,)
        ).fetchall()

    doses = rows(
        "SELECT occurred_at, medication, route, dose_mg, lot_number, given_by_id FROM dose"
    )
    observations = rows(
        "SELECT occurred_at, checkin_key, systolic_mmhg, diastolic_mmhg, heart_rate_bpm, spo2_pct, "
        "resp_rate_per_min, moaas, dissociation, nausea, suds, comment, recorded_by_id "
        "FROM observation"
    )
    notes = rows("SELECT occurred_at, phase_key, text, author_id FROM note", "AND kind = 'entry'")
    music = rows(
        "SELECT occurred_at, kind, track_title, playlist, phase_key, volume_pct FROM music_event"
    )
    dose_at = datetime.fromisoformat(doses[0][0]) if doses else None

    def clock(stored: str) -> str:
        return stored[11:16]

    def t_plus(stored: str) -> str:
        if dose_at is None:
            return ""
        return f"{round((datetime.fromisoformat(stored) - dose_at).total_seconds() / 60):+d} min"

    played, started = [], {}
    for at, kind, title, playlist, phase, _volume in music:
        if kind == "track_start":
            started[title] = (at, playlist, phase)
        elif kind == "track_end" and title in started:
            began, playlist, phase = started.pop(title)
            length = (datetime.fromisoformat(at) - datetime.fromisoformat(began)).total_seconds()
            minutes, seconds = divmod(round(length), 60)
            played.append(
                [clock(began), t_plus(began), phase, title, playlist, f"{minutes}:{seconds:02d}"]
            )
    # The timeline as the record's: everything but the notes and the track ends.
    timeline = [
        (at, "dose", f"{medication} {route} {mg:g} mg, lot {lot}, by {names.get(by, '')}")
        for at, medication, route, mg, lot, by in doses
    ]
    timeline += [
        (o[0], "check-in", f"BP {o[2]}/{o[3]}, HR {o[4]}, SpO2 {o[5]}, RR {o[6]}, MOAA/S {o[7]}")
        for o in observations
    ]
    timeline += [
        (at, "music", f"{title} ({playlist})" if kind == "track_start" else f"volume {volume:g} %")
        for at, kind, title, playlist, _phase, volume in music
        if kind in ("track_start", "volume")
    ]
    timeline.sort()
    sections = [
        (
            "Doses",
            ["Time", "Medication", "Route", "mg", "Lot", "Given by"],
            [[clock(d[0]), *d[1:5], names.get(d[5], "")] for d in doses],
        ),
        (
            "Vital signs",
            ["Time", "T+", "Check-in", "BP mmHg", "HR /min", "SpO2 %", "RR /min", "By"],
            [
                [
                    clock(o[0]),
                    t_plus(o[0]),
                    o[1] or "",
                    f"{o[2]}/{o[3]}",
                    *o[4:7],
                    names.get(o[12], ""),
                ]
                for o in observations
            ],
        ),
        (
            "Scales",
            ["Time", "T+", "Check-in", "MOAA/S", "Dissociation", "Nausea", "SUDS", "Comment"],
            [[clock(o[0]), t_plus(o[0]), o[1] or "", *o[7:12]] for o in observations],
        ),
        (
            "Notes during the session",
            ["Time", "T+", "Phase", "Note", "By"],
            [[clock(n[0]), t_plus(n[0]), n[1] or "", n[2], names.get(n[3], "")] for n in notes],
        ),
        (
            "Event timeline",
            ["Time", "T+", "Kind", "Entry"],
            [[clock(at), t_plus(at), kind, text] for at, kind, text in timeline],
        ),
        ("Music played", ["Started", "T+", "Phase", "Track", "Playlist", "Played"], played),
    ]
    out = []
    for title, headers, cells in sections:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
            for row in cells
        )
        out.append(
            f"<h3>{html.escape(title)}</h3>"
            '<table border="1" cellspacing="0" cellpadding="2" width="100%">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )
    return "".join(out)


@dataclass
class Size:
    """One session size: its room while measured, then what it measured."""

    factor: int
    room: Room
    times: list[float]
    baseline_times: list[float]
    pdf: bytes = b""  # the last export
    baseline_pdf: bytes = b""
    pages: int = 0
    baseline_pages: int = 0
    items: int = 0

    @property
    def seconds(self) -> float:
        return statistics.median(self.times)

    @property
    def baseline_seconds(self) -> float:
        return statistics.median(self.baseline_times)


def _measure(folder: Path) -> list[Size]:
    """Every size's export and baseline timed RUNS times, the sizes in turn within each run and
    the baseline right after the app (so that a change in the machine's load hits all of them),
    after one warm-up of each."""
    from kapsession.paths import CLINICAL_DB_NAME

    exported_at = START + timedelta(minutes=SESSION_MIN)
    sizes: list[Size] = []
    raw: dict[int, sqlite3.Connection] = {}
    try:
        for factor in FACTORS:
            sizes.append(Size(factor, _open_room(folder / f"x{factor}"), [], []))
            room = sizes[-1].room
            _write_session(room, factor)
            raw[factor] = sqlite3.connect(room.folder / CLINICAL_DB_NAME)
            _export(room, exported_at)  # warm-up: imports, fonts, caches
            _baseline(raw[factor], room.session_id.hex)
        for _ in range(RUNS):
            for size in sizes:
                begin = time.perf_counter()
                size.pdf, content = _export(size.room, exported_at)
                size.times.append(time.perf_counter() - begin)
                size.items = len(content.timeline)
                begin = time.perf_counter()
                size.baseline_pdf = _baseline(raw[size.factor], size.room.session_id.hex)
                size.baseline_times.append(time.perf_counter() - begin)
    finally:
        for db in raw.values():
            db.close()
        for size in sizes:
            size.room.context.close()
    for size in sizes:
        pdf = folder / f"x{size.factor}.pdf"
        pdf.write_bytes(size.pdf)
        size.pages = _page_count(pdf)
        pdf = folder / f"x{size.factor}-baseline.pdf"
        pdf.write_bytes(size.baseline_pdf)
        size.baseline_pages = _page_count(pdf)
    return sizes


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    del app
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-pdf-") as tmp:
        sizes = _measure(Path(tmp))
    print(
        f"PDF export of a three-hour session with 1x to {FACTORS[-1]}x the entries of a full one "
        f"(1x: {NOTES} notes, {CHECKINS} check-ins, {TRACKS} tracks), gather + to_pdf with the "
        f"chart, median of {RUNS}; baseline: the same tables read with sqlite3 and printed by "
        "QTextDocument.print_ on a QPdfWriter:"
    )
    full = sizes[0]
    growth_ok = True
    for size in sizes:
        growth = size.seconds / full.seconds
        bound = MAX_GROWTH[size.factor]
        growth_ok = growth_ok and growth <= bound
        print(
            f"  {size.factor:2d}x: {size.seconds * 1000:7.0f} ms  {size.pages:4d} pages "
            f"({size.seconds * 1000 / max(size.pages, 1):4.1f} ms a page)  "
            f"{len(size.pdf) / 1024:7.1f} KiB  {size.items:5d} timeline items  "
            f"time/1x {growth:5.2f} (<= {bound:g}); baseline {size.baseline_seconds * 1000:6.0f} "
            f"ms {size.baseline_pages:4d} pages, app/baseline "
            f"{size.seconds / size.baseline_seconds:4.1f}x"
        )
    growth = ", ".join(
        f"{s.factor}x/1x {s.seconds / full.seconds:.2f}" for s in sizes if s.factor > 1
    )
    bounds = ", ".join(f"{MAX_GROWTH[f]:g}" for f in FACTORS if f > 1)
    full_ok = full.seconds < TARGET_S
    print(
        f"{'PASS' if full_ok and growth_ok else 'FAIL'}: full session {full.seconds:.3f} s "
        f"(target < {TARGET_S:g} s), {full.seconds / full.baseline_seconds:.1f}x the baseline's "
        f"{full.baseline_seconds:.3f} s; growth {growth} (at most {bounds})"
    )
    report(
        "pdf-full-session",
        full_ok,
        f"{full.seconds:.3f} s, {full.seconds / full.baseline_seconds:.1f}x the plain QPdfWriter "
        f"baseline ({full.baseline_seconds:.3f} s)",
        f"< {TARGET_S:g} s",
    )
    report("pdf-growth", growth_ok, growth, f"<= 1.5 N: {bounds}")
    return 0 if full_ok and growth_ok else 1


def _page_count(pdf: Path) -> int:
    """Pages as pdfinfo counts them (poppler-utils); 0 when pdfinfo is not installed."""
    import shutil
    import subprocess

    if shutil.which("pdfinfo") is None:
        return 0
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
