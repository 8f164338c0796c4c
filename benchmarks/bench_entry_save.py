"""Saving a check-in and a note entry, each against raw sqlite3 doing the same database work.

Target (issue 4 / issue 7): the app's save of one typed check-in, and of one note entry, at
most 2x raw sqlite3 doing the database work of that save by hand, measured in the same run on
the same disk. Like for like: each raw side writes into a database made by the app's own
migrations (same tables, indexes, foreign keys and triggers), with the same pragmas (WAL,
synchronous=FULL, foreign_keys, busy_timeout), in a BEGIN IMMEDIATE transaction, the same
statements the app must send, every column in the app's stored form, and COMMIT; its values
are made outside the timed part.

- check-in: `CheckinService.save_checkin` (parse, alert rules, the reading, its alerts and its
  audit row) against the one read of the session's status and start, the participant and the
  client's thresholds (needed inside the transaction), the reading and its audit row.
- note entry: `NotePad.commit` on the record pad (the entry with its place on the session
  clock, its draft cleared, its audit row) against the one read of the session's status and
  the participant, the note, the DELETE of the pad's draft and the audit row. Before each save,
  untimed, a draft row is written by hand on each side (as typing leaves one), so both sides
  delete a real draft row after the same set-up.

Per round each raw side runs, then its app side, so that a change in the disk's or the
machine's speed hits both. Medians of many saves; one verdict line per kind.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from verdicts import report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SAVES = int(os.environ.get("KAPSESSION_BENCH_SAVES", "400"))
ROUNDS = int(os.environ.get("KAPSESSION_BENCH_ROUNDS", "4"))
WARM_UP = 50  # saves on each side before measuring: imports, first connection, caches
TARGET = 2.0
START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
PRAGMAS = (
    "busy_timeout = 5000",
    "journal_mode = WAL",
    "synchronous = FULL",
    "foreign_keys = ON",
)
READING = {
    "systolic_mmhg": "128",
    "diastolic_mmhg": "82",
    "heart_rate_bpm": "74",
    "spo2_pct": "98",
    "resp_rate_per_min": "14",
    "moaas": "5",
    "suds": "3",
}
NOTE_TEXT = (
    "Breathing slow and even; hands open on the blanket; says the music feels like a tide "
    "coming in. Asked for the eye mask to stay on."
)

# The one read the app sends inside a check-in save (kapsession/storage/checkin_save.py).
CHECKIN_FACTS = (
    "SELECT session.status, session.started_at, participant.id, client_alert_rule.field, "
    "client_alert_rule.op, client_alert_rule.value, client_alert_rule.label FROM session "
    "LEFT OUTER JOIN participant ON participant.id = ? AND participant.session_id = session.id "
    "LEFT OUTER JOIN client_alert_rule ON client_alert_rule.client_id = participant.client_id "
    "AND client_alert_rule.retired_at IS NULL WHERE session.id = ? "
    "ORDER BY client_alert_rule.created_at, client_alert_rule.id"
)
INSERT_OBSERVATION = (
    "INSERT INTO observation (id, session_id, participant_id, checkin_key, occurred_at, "
    "recorded_at, recorded_by_id, on_room_air, corrects_id, correction_reason, voids, "
    "systolic_mmhg, diastolic_mmhg, heart_rate_bpm, spo2_pct, resp_rate_per_min, "
    "temperature_c, moaas, rass, dissociation, nausea, suds, emesis, comment, not_taken) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_AUDIT = (
    "INSERT INTO audit_entry (id, occurred_at, staff_id, action, entity, entity_id, "
    "session_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# The note save by hand: the session must still take entries (not signed, not planned) and
# the participant must be one of its own, read inside the transaction.
NOTE_FACTS = (
    "SELECT session.status, participant.id FROM session LEFT OUTER JOIN participant "
    "ON participant.id = ? AND participant.session_id = session.id WHERE session.id = ?"
)
INSERT_NOTE = (
    "INSERT INTO note (id, session_id, participant_id, kind, text, phase_key, author_id, "
    "corrects_id, elapsed_s, since_dose_s, template_key, sections, occurred_at, recorded_at, "
    "correction_reason, voids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
DELETE_DRAFT = "DELETE FROM note_draft WHERE session_id = ? AND pad = ?"
INSERT_DRAFT = (
    "INSERT INTO note_draft (id, session_id, pad, text, sections, template_key, author_id, "
    "updated_at) VALUES (?, ?, ?, ?, NULL, NULL, ?, ?)"
)


class Saves(Protocol):
    def run(self, count: int) -> list[float]: ...
    def close(self) -> None: ...


@dataclass
class Room:
    """The app's data in a folder with one live, dosed session."""

    context: Any
    clock: Any
    session: uuid.UUID
    participant: uuid.UUID
    therapist: uuid.UUID


def _live_session(folder: Path) -> Room:
    from kapsession.domain.clock import FakeClock
    from kapsession.paths import resolve_paths
    from kapsession.services.context import open_context

    clock = FakeClock(START)
    context = open_context(resolve_paths(data_dir=folder, environ={}), clock=clock)
    service = context.service
    from kapsession.domain.dose_order import usual_order
    from kapsession.services.session_service import OrderEntry

    therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=clock.now())
    nurse = service.add_staff("Tom Becker", "nurse", at=clock.now())
    prescriber = service.add_staff("Jun Park", "prescriber", at=clock.now())
    client = service.add_client("Bench", "Client", at=clock.now())
    dosing = service.catalog.get("sublingual-kap-3h").protocol.dosing
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=clock.now(),
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        order=OrderEntry(usual_order(dosing), prescriber.id),  # a dose is given on an order
    )
    checklist = service.pre_dose.checklist()  # and after the screening (issue 17)
    passing = {item.key: item.passes for item in checklist.items}
    service.pre_dose.record_screening(
        record.id, record.participants[0].id, checklist, passing, at=clock.now(), by=nurse.id
    )
    return Room(context, clock, record.id, record.participants[0].id, therapist.id)


def _raw_connection(room: Room) -> sqlite3.Connection:
    """A plain sqlite3 connection to the room's database file, with the app's pragmas."""
    path = room.context.database.file
    room.context.close()
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    return db


def _stored_time(when: datetime) -> str:
    """A time as the app stores it on SQLite: naive UTC text to the microsecond."""
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


# --- check-in --------------------------------------------------------------------------------


class CheckinAppSaves:
    """The app's own save of a typed check-in, through the service the live screen calls."""

    def __init__(self, folder: Path) -> None:
        self.room = _live_session(folder)

    def run(self, count: int) -> list[float]:
        room = self.room
        checkins = room.context.service.checkins
        times = []
        for _ in range(count):
            room.clock.advance(1)
            now = room.clock.now()
            start = time.perf_counter()
            result = checkins.save_checkin(
                room.session, room.participant, READING, occurred_at=now, recorded_at=now
            )
            times.append(time.perf_counter() - start)
            assert result.saved, result.message
        return times

    def close(self) -> None:
        self.room.context.close()


class CheckinRawSaves:
    """The same database work by hand on a plain sqlite3 connection."""

    def __init__(self, folder: Path) -> None:
        room = _live_session(folder)
        self.db = _raw_connection(room)
        self.session, self.participant = room.session.hex, room.participant.hex

    def run(self, count: int) -> list[float]:
        db, session, participant = self.db, self.session, self.participant
        times = []
        for _ in range(count):
            now = _stored_time(datetime.now(UTC))
            row_id, audit_id = uuid.uuid4(), uuid.uuid4().hex
            observation = (row_id.hex, session, participant, None, now, now, None, None, None)
            observation += (None, 0, 128, 82, 74, 98, 14, None, 5, None, None, None, 3, None, "")
            observation += ("[]",)
            audit = (audit_id, now, None, "observation.add", "observation", str(row_id))
            audit += (session, '{"checkin": null, "alerts": []}')
            start = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute(CHECKIN_FACTS, (participant, session)).fetchall()
            db.execute(INSERT_OBSERVATION, observation)
            db.execute(INSERT_AUDIT, audit)
            db.execute("COMMIT")
            times.append(time.perf_counter() - start)
        return times

    def close(self) -> None:
        self.db.close()


# --- note entry ------------------------------------------------------------------------------


class NoteAppSaves:
    """The app's own save of a note entry: `NotePad.commit` on the record pad, as the notes
    tab calls it when Enter is pressed. Before each, untimed, the pad's draft row is put in
    place by hand as on the raw side, on the connection the save then uses (the pad's own
    draft save, through the ORM, would leave the timed save colder than the raw one's)."""

    def __init__(self, folder: Path) -> None:
        from kapsession.services.live_session import LiveSession
        from kapsession.services.notepad import NotePad

        self.room = room = _live_session(folder)
        self.live = LiveSession(room.context.service, room.session, room.clock)
        baseline = {"bp": "122/78", "heart_rate_bpm": "72", "spo2_pct": "98"}
        assert self.live.save_checkin(room.participant, baseline, checkin_key="baseline")
        room.clock.advance(20 * 60)
        dosed = self.live.record_dose(room.participant, "200 mg")  # the checked path
        assert dosed is not None and dosed.saved
        self.pad = NotePad(self.live)

    def run(self, count: int) -> list[float]:
        room, pad = self.room, self.pad
        database = room.context.database
        session, author = room.session.hex, room.therapist.hex
        times = []
        for _ in range(count):
            room.clock.advance(1)
            draft = (uuid.uuid4().hex, session, "record", NOTE_TEXT, author)
            with database.write_driver("save the draft") as driver:
                driver.execute(INSERT_DRAFT, (*draft, _stored_time(room.clock.now())))
            start = time.perf_counter()
            saved = pad.commit("record", NOTE_TEXT, room.participant)
            times.append(time.perf_counter() - start)
            assert saved
        return times

    def close(self) -> None:
        self.pad.stop()
        self.room.context.close()


class NoteRawSaves:
    """The same database work by hand on a plain sqlite3 connection."""

    def __init__(self, folder: Path) -> None:
        room = _live_session(folder)
        self.db = _raw_connection(room)
        self.session, self.participant = room.session.hex, room.participant.hex
        self.author = room.therapist.hex
        self.elapsed_s = 20 * 60  # the app's pad: dosed 20 min in

    def run(self, count: int) -> list[float]:
        db, session, participant, author = self.db, self.session, self.participant, self.author
        times = []
        for _ in range(count):
            self.elapsed_s += 1
            now = _stored_time(datetime.now(UTC))
            db.execute(INSERT_DRAFT, (uuid.uuid4().hex, session, "record", NOTE_TEXT, author, now))
            row_id, audit_id = uuid.uuid4(), uuid.uuid4().hex
            note = (row_id.hex, session, participant, "entry", NOTE_TEXT, "onset", author, None)
            note += (self.elapsed_s, self.elapsed_s - 20 * 60, None, None, now, now, None, 0)
            audit = (audit_id, now, author, "note.add", "note", str(row_id), session, "{}")
            start = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute(NOTE_FACTS, (participant, session)).fetchall()
            db.execute(INSERT_NOTE, note)
            db.execute(DELETE_DRAFT, (session, "record"))
            db.execute(INSERT_AUDIT, audit)
            db.execute("COMMIT")
            times.append(time.perf_counter() - start)
        return times

    def close(self) -> None:
        self.db.close()


# --- running ---------------------------------------------------------------------------------


@dataclass
class Kind:
    """One kind of save: its app and raw sides, and what they measured."""

    name: str
    target: str  # its name in benchmarks/targets.txt
    app: Saves
    raw: Saves
    app_times: list[float]
    raw_times: list[float]

    def ratio(self) -> float:
        return statistics.median(self.app_times) / statistics.median(self.raw_times)

    def line(self) -> str:
        app_s, raw_s = statistics.median(self.app_times), statistics.median(self.raw_times)
        return (
            f"{self.name}: app {app_s * 1000:.3f} ms, raw sqlite3 {raw_s * 1000:.3f} ms (medians "
            f"of {len(self.app_times)} each, {ROUNDS} alternating rounds), ratio "
            f"{self.ratio():.2f}x — target <= {TARGET:.0f}x: "
            f"{'PASS' if self.ratio() <= TARGET else 'FAIL'}"
        )


def _measure(kinds: list[Kind]) -> None:
    for kind in kinds:
        kind.app.run(WARM_UP)
        kind.raw.run(WARM_UP)
    per_round = max(1, SAVES // ROUNDS)
    for _ in range(ROUNDS):
        for kind in kinds:
            kind.raw_times += kind.raw.run(per_round)
            kind.app_times += kind.app.run(per_round)


def main() -> int:
    from PySide6.QtCore import QCoreApplication

    qt = QCoreApplication.instance() or QCoreApplication([])  # the note pad's timers
    kinds: list[Kind] = []
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-") as tmp:
        closers: list[Callable[[], None]] = []
        try:
            for name, target, app_side, raw_side in (
                ("check-in save", "checkin-save", CheckinAppSaves, CheckinRawSaves),
                ("note entry save", "note-entry-save", NoteAppSaves, NoteRawSaves),
            ):
                app: Saves = app_side(Path(tmp) / f"{name}-app")
                closers.append(app.close)
                raw: Saves = raw_side(Path(tmp) / f"{name}-raw")
                closers.append(raw.close)
                kinds.append(Kind(name, target, app, raw, [], []))
            _measure(kinds)
        finally:
            for close in reversed(closers):
                close()
    del qt
    for kind in kinds:
        print(kind.line())
    for kind in kinds:
        ratio = kind.ratio()
        report(kind.target, ratio <= TARGET, f"{ratio:.2f}x raw sqlite3", f"<= {TARGET:g}x")
    return 0 if all(kind.ratio() <= TARGET for kind in kinds) else 1


if __name__ == "__main__":
    sys.exit(main())
