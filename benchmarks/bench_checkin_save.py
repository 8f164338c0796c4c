"""Saving a check-in, against raw sqlite3 writing the same rows with the same pragmas.

Target (issue 4 / issue 7): the app's save of one check-in — parse, alert rules, the reading,
its alerts and its audit row in one durable transaction — at most 2x raw sqlite3 doing the
database work of that save by hand, measured in the same run on the same disk. Like for like:
the raw side writes into a database made by the app's own migrations (same tables, indexes,
foreign keys and triggers), with the same pragmas (WAL, synchronous=FULL, foreign_keys,
busy_timeout), in a BEGIN IMMEDIATE transaction, the same statements the app must send — the
one read of the session's status and start, the participant and the client's thresholds
(needed inside the transaction), then the reading and its audit row with every column in the
app's stored form — and COMMIT. Its values are made outside the timed part. The two sides run
in alternating rounds so that a change in the disk's or the machine's speed hits both. Medians
of many saves.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAVES = int(os.environ.get("KAPSESSION_BENCH_SAVES", "400"))
ROUNDS = int(os.environ.get("KAPSESSION_BENCH_ROUNDS", "4"))
WARM_UP = 50  # saves on each side before measuring: imports, first connection, caches
TARGET = 2.0
START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
READING = {
    "systolic_mmhg": "128",
    "diastolic_mmhg": "82",
    "heart_rate_bpm": "74",
    "spo2_pct": "98",
    "resp_rate_per_min": "14",
    "moaas": "5",
    "suds": "3",
}

# The one read the app sends inside a save (kapsession/storage/checkin_save.py), by hand.
FACTS = (
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
    "temperature_c, moaas, rass, dissociation, nausea, suds, emesis, comment) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_AUDIT = (
    "INSERT INTO audit_entry (id, occurred_at, staff_id, action, entity, entity_id, "
    "session_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _live_session(folder: Path) -> tuple[Any, Any, uuid.UUID, uuid.UUID]:
    """The app's data in `folder` with one live session: (context, clock, session, participant)."""
    from kapsession.domain.clock import FakeClock
    from kapsession.paths import resolve_paths
    from kapsession.services.context import open_context

    clock = FakeClock(START)
    context = open_context(resolve_paths(data_dir=folder), clock=clock)
    service = context.service
    client = service.add_client("Bench", "Client", at=clock.now())
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=clock.now(),
    )
    return context, clock, record.id, record.participants[0].id


class AppSaves:
    """The app's own save of a typed check-in, through the service the live screen calls."""

    def __init__(self, folder: Path) -> None:
        self.context, self.clock, self.session, self.participant = _live_session(folder)

    def run(self, count: int) -> list[float]:
        checkins = self.context.service.checkins
        times = []
        for _ in range(count):
            self.clock.advance(1)
            now = self.clock.now()
            start = time.perf_counter()
            result = checkins.save_checkin(
                self.session, self.participant, READING, occurred_at=now, recorded_at=now
            )
            times.append(time.perf_counter() - start)
            assert result.saved, result.message
        return times

    def close(self) -> None:
        self.context.close()


class RawSaves:
    """The same database work by hand on a plain sqlite3 connection."""

    def __init__(self, folder: Path) -> None:
        context, _clock, session, participant = _live_session(folder)
        path = context.database.file
        context.close()
        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "busy_timeout = 5000",
            "journal_mode = WAL",
            "synchronous = FULL",
            "foreign_keys = ON",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.session, self.participant = session.hex, participant.hex

    def run(self, count: int) -> list[float]:
        db, session, participant = self.db, self.session, self.participant
        times = []
        for _ in range(count):
            now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            row_id, audit_id = uuid.uuid4(), uuid.uuid4().hex
            observation = (row_id.hex, session, participant, None, now, now, None, None, None)
            observation += (None, 0, 128, 82, 74, 98, 14, None, 5, None, None, None, 3, None, "")
            audit = (audit_id, now, None, "observation.add", "observation", str(row_id))
            audit += (session, '{"checkin": null, "alerts": []}')
            start = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute(FACTS, (participant, session)).fetchall()
            db.execute(INSERT_OBSERVATION, observation)
            db.execute(INSERT_AUDIT, audit)
            db.execute("COMMIT")
            times.append(time.perf_counter() - start)
        return times

    def close(self) -> None:
        self.db.close()


def _rounds(app: AppSaves, raw: RawSaves) -> tuple[list[float], list[float]]:
    app.run(WARM_UP)
    raw.run(WARM_UP)
    app_times: list[float] = []
    raw_times: list[float] = []
    per_round = max(1, SAVES // ROUNDS)
    for _ in range(ROUNDS):
        raw_times += raw.run(per_round)
        app_times += app.run(per_round)
    return app_times, raw_times


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-") as tmp:
        closers: list[Callable[[], None]] = []
        try:
            app = AppSaves(Path(tmp) / "app")
            closers.append(app.close)
            raw = RawSaves(Path(tmp) / "raw")
            closers.append(raw.close)
            app_times, raw_times = _rounds(app, raw)
        finally:
            for close in reversed(closers):
                close()
    app_s, raw_s = statistics.median(app_times), statistics.median(raw_times)
    ratio = app_s / raw_s
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(
        f"check-in save: app {app_s * 1000:.3f} ms, raw sqlite3 {raw_s * 1000:.3f} ms (medians "
        f"of {len(app_times)} each, {ROUNDS} alternating rounds), ratio {ratio:.2f}x — target "
        f"<= {TARGET:.0f}x: {verdict}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
