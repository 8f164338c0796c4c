"""The PDF record of a full three-hour session: how long gather + to_pdf take, and whether the
time grows linearly with the session.

Target (issue 6): under one second for a full session (200 notes, 30 check-ins, 60 tracks of
music), the median of several runs, chart included; and linear: the full session at most 2.6x
the half and 5x the quarter. One session is written through the storage repositories in four
quarters of its three hours; after each quarter the export of the session as it then stands is
timed (gather from the database, then the PDF with the vitals chart at print resolution).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RUNS = int(os.environ.get("KAPSESSION_BENCH_RUNS", "5"))
TARGET_S = 1.0
MAX_FULL_OVER_HALF = 2.6
MAX_FULL_OVER_QUARTER = 5.0
START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SESSION_MIN = 180
NOTES, CHECKINS, TRACKS = 200, 30, 60
NOTE_TEXT = (
    "Breathing slow and even; hands open on the blanket; says the music feels like a tide "
    "coming in. Asked for the eye mask to stay on. Tearful for a moment, then smiling."
)


@dataclass
class Room:
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
    return Room(context, record.id, record.participants[0].id, therapist.id, nurse.id)


def _write_quarter(room: Room, quarter: int) -> None:
    """Everything the session holds between minutes 45·(quarter-1) and 45·quarter, written
    through the storage repositories as the live session would."""
    from kapsession.domain.vitals import Reading
    from kapsession.storage.checkins import CheckinRepository
    from kapsession.storage.entries import EntryRepository
    from kapsession.storage.music_log import MusicLogRepository
    from kapsession.storage.notes import NoteRepository

    database = room.context.database
    entries, checkins = EntryRepository(database), CheckinRepository(database)
    notes, music = NoteRepository(database), MusicLogRepository(database)
    share = SESSION_MIN / 4
    low, high = share * (quarter - 1), share * quarter

    def at(minute: float) -> datetime:
        return START + timedelta(minutes=minute)

    dose_min = 40.0
    if low <= dose_min < high:
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
    for index in range(CHECKINS):
        minute = 3 + index * (SESSION_MIN - 6) / CHECKINS
        if not low <= minute < high:
            continue
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
    for index in range(NOTES):
        minute = 1 + index * (SESSION_MIN - 2) / NOTES
        if not low <= minute < high:
            continue
        words = NOTE_TEXT.split()
        words = words[index % 7 :] + words[: index % 7]
        notes.add_entry(
            room.session_id,
            " ".join(words[: 12 + index % 14]),
            occurred_at=at(minute),
            recorded_at=at(minute),
            elapsed_s=round(minute * 60),
            by=room.therapist_id,
        )
    track_min = SESSION_MIN / TRACKS
    for index in range(TRACKS):
        minute = index * track_min
        if not low <= minute < high:
            continue
        title = f"Bench track {index + 1:02d}"
        for kind, offset in (("track_start", 0.0), ("track_end", track_min - 0.05)):
            music.add(
                room.session_id,
                kind,
                occurred_at=at(minute + offset),
                recorded_at=at(minute + offset),
                track_path=f"/music/bench-{index + 1:02d}.ogg",
                track_title=title,
                playlist="peak.m3u8",
                phase_key="peak",
                volume_pct=60.0,
            )
        if index % 6 == 3:  # now and then a volume change
            music.add(
                room.session_id,
                "volume",
                occurred_at=at(minute + 1),
                recorded_at=at(minute + 1),
                volume_pct=50.0 + index % 20,
            )


def _export(room: Room, at: datetime) -> tuple[bytes, Any]:
    from kapsession.export.content import gather
    from kapsession.export.pdf import to_pdf
    from kapsession.ui.export_chart import chart_for

    content = gather(room.context.database, room.session_id, exported_at=at)
    return to_pdf(content, page="A4", chart=chart_for(content), clinic="Room 2"), content


def main() -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    del app
    results: list[tuple[int, float, int, int, int]] = []
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-pdf-") as tmp:
        room = _open_room(Path(tmp) / "data")
        try:
            _export(room, START)  # warm-up: imports, fonts, the first document
            for quarter in (1, 2, 3, 4):
                _write_quarter(room, quarter)
                exported_at = START + timedelta(minutes=SESSION_MIN * quarter / 4)
                times, data = [], b""
                for _ in range(RUNS):
                    begin = time.perf_counter()
                    data, content = _export(room, exported_at)
                    times.append(time.perf_counter() - begin)
                items = len(content.timeline)
                results.append((quarter, statistics.median(times), len(data), items, 0))
                pdf = Path(tmp) / f"quarter-{quarter}.pdf"
                pdf.write_bytes(data)
                results[-1] = (*results[-1][:4], _page_count(pdf))
        finally:
            room.context.close()
    print(
        f"PDF export of a growing three-hour session ({NOTES} notes, {CHECKINS} check-ins, "
        f"{TRACKS} tracks when full), gather + to_pdf with the chart, median of {RUNS}:"
    )
    for quarter, seconds, size, items, pages in results:
        print(
            f"  {quarter}/4 of the session: {seconds * 1000:7.1f} ms  {pages:3d} pages  "
            f"{size / 1024:7.1f} KiB  {items:4d} timeline items"
        )
    full, half, quarter_s = results[3][1], results[1][1], results[0][1]
    over_half, over_quarter = full / half, full / quarter_s
    fast = full < TARGET_S
    linear = over_half <= MAX_FULL_OVER_HALF and over_quarter <= MAX_FULL_OVER_QUARTER
    verdict = "PASS" if fast and linear else "FAIL"
    print(
        f"{verdict}: full session {full:.3f} s (target < {TARGET_S:g} s); full/half "
        f"{over_half:.2f}x (<= {MAX_FULL_OVER_HALF}), full/quarter {over_quarter:.2f}x "
        f"(<= {MAX_FULL_OVER_QUARTER:g})"
    )
    return 0 if verdict == "PASS" else 1


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
