"""Saving a check-in and a note-like entry, against raw sqlite3 with the same pragmas.

Target (issue 4 / issue 7): the app's save of one check-in — parse, alert rules, the reading,
its alerts and its audit row in one durable transaction — at most 2x a raw sqlite3
insert+commit of the same rows (reading + audit row) with the same pragmas (WAL,
synchronous=FULL), measured in the same run on the same disk. Medians of many saves.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAVES = int(os.environ.get("KAPSESSION_BENCH_SAVES", "400"))
TARGET = 2.0
READING = {
    "systolic_mmhg": "128",
    "diastolic_mmhg": "82",
    "heart_rate_bpm": "74",
    "spo2_pct": "98",
    "resp_rate_per_min": "14",
    "moaas": "5",
    "suds": "3",
}


def raw_baseline(folder: Path) -> list[float]:
    """The same two rows an app check-in writes, by hand, with the same pragmas."""
    db = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(
        "CREATE TABLE observation (id CHAR(32) PRIMARY KEY, session_id CHAR(32), "
        "participant_id CHAR(32), checkin_key TEXT, occurred_at TEXT, recorded_at TEXT, "
        "systolic_mmhg INT, diastolic_mmhg INT, heart_rate_bpm INT, spo2_pct INT, "
        "resp_rate_per_min INT, moaas INT, suds INT, comment TEXT, voids INT)"
    )
    db.execute(
        "CREATE TABLE audit_entry (id CHAR(32) PRIMARY KEY, occurred_at TEXT, staff_id CHAR(32),"
        " action TEXT, entity TEXT, entity_id TEXT, session_id CHAR(32), detail TEXT)"
    )
    session, participant = uuid.uuid4().hex, uuid.uuid4().hex
    times = []
    for i in range(SAVES):
        now = datetime.now(UTC).isoformat()
        row_id = uuid.uuid4().hex
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO observation VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (row_id, session, participant, f"k{i}", now, now, 128, 82, 74, 98, 14, 5, 3, "", 0),
        )
        db.execute(
            "INSERT INTO audit_entry VALUES (?,?,?,?,?,?,?,?)",
            (uuid.uuid4().hex, now, None, "checkin.save", "observation", row_id, session, "{}"),
        )
        db.execute("COMMIT")
        times.append(time.perf_counter() - start)
    db.close()
    return times


def app_saves(folder: Path) -> list[float]:
    from kapsession.domain.clock import FakeClock
    from kapsession.paths import resolve_paths
    from kapsession.services.context import open_context

    clock = FakeClock(datetime(2026, 11, 26, 13, 0, tzinfo=UTC))
    context = open_context(resolve_paths(data_dir=folder / "app"), clock=clock)
    service = context.service
    client = service.add_client("Bench", "Client", at=clock.now())
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=clock.now(),
    )
    participant = record.participants[0].id
    times = []
    for _ in range(SAVES):
        clock.advance(1)
        now = clock.now()
        start = time.perf_counter()
        result = service.checkins.save_checkin(
            record.id, participant, READING, occurred_at=now, recorded_at=now
        )
        times.append(time.perf_counter() - start)
        assert result.saved, result.message
    context.close()
    return times


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-") as tmp:
        folder = Path(tmp)
        app_saves(folder)  # warm-up: imports, first connection, caches
        raw = statistics.median(raw_baseline(folder))
        app = statistics.median(app_saves(folder))
    ratio = app / raw
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(
        f"check-in save: app {app * 1000:.3f} ms, raw sqlite3 {raw * 1000:.3f} ms (medians of "
        f"{SAVES}), ratio {ratio:.2f}x — target <= {TARGET:.0f}x: {verdict}"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
