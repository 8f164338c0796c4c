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
FACTORS = (1, 2, 5, 10)
MAX_GROWTH = {1: 1.0, 2: 3.0, 5: 7.5, 10: 15.0}  # time(Nx) / time(1x) <= 1.5 N (README)
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
    from kapsession.export.content import gather
    from kapsession.export.pdf import to_pdf
    from kapsession.ui.export_chart import chart_for

    content = gather(room.context.database, room.session_id, exported_at=at)
    return to_pdf(content, page="A4", chart=chart_for(content), clinic="Room 2"), content


@dataclass
class Size:
    """One session size: its room while measured, then what it measured."""

    factor: int
    room: Room
    times: list[float]
    pdf: bytes = b""  # the last export
    pages: int = 0
    items: int = 0

    @property
    def seconds(self) -> float:
        return statistics.median(self.times)


def _measure(folder: Path) -> list[Size]:
    """Every size's export timed RUNS times, the sizes in turn within each run (so that a
    change in the machine's load hits all of them), after one warm-up export each."""
    exported_at = START + timedelta(minutes=SESSION_MIN)
    sizes: list[Size] = []
    try:
        for factor in FACTORS:
            sizes.append(Size(factor, _open_room(folder / f"x{factor}"), []))
            _write_session(sizes[-1].room, factor)
            _export(sizes[-1].room, exported_at)  # warm-up: imports, fonts, caches
        for _ in range(RUNS):
            for size in sizes:
                begin = time.perf_counter()
                size.pdf, content = _export(size.room, exported_at)
                size.times.append(time.perf_counter() - begin)
                size.items = len(content.timeline)
    finally:
        for size in sizes:
            size.room.context.close()
    for size in sizes:
        pdf = folder / f"x{size.factor}.pdf"
        pdf.write_bytes(size.pdf)
        size.pages = _page_count(pdf)
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
        f"chart, median of {RUNS}:"
    )
    full = sizes[0]
    verdicts = [full.seconds < TARGET_S]
    for size in sizes:
        growth = size.seconds / full.seconds
        bound = MAX_GROWTH[size.factor]
        verdicts.append(growth <= bound)
        print(
            f"  {size.factor:2d}x: {size.seconds * 1000:7.0f} ms  {size.pages:4d} pages "
            f"({size.seconds * 1000 / max(size.pages, 1):4.1f} ms a page)  "
            f"{len(size.pdf) / 1024:7.1f} KiB  {size.items:5d} timeline items  "
            f"time/1x {growth:5.2f} (<= {bound:g})"
        )
    growth = ", ".join(
        f"{s.factor}x/1x {s.seconds / full.seconds:.2f}" for s in sizes if s.factor > 1
    )
    verdict = "PASS" if all(verdicts) else "FAIL"
    print(
        f"{verdict}: full session {full.seconds:.3f} s (target < {TARGET_S:g} s); growth "
        f"{growth} (at most {', '.join(f'{MAX_GROWTH[f]:g}' for f in FACTORS if f > 1)})"
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
