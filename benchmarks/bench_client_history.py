"""Opening a client's course history: 100 sessions of one client on a 10,000-session database.

Target (issue 7): under 100 ms from asking for the history to the view drawn: the service's
read of the history (kapsession.services.client_history) plus filling the history view's table
model and trend chart, laid out and painted offscreen — the median of several runs after one
warm-up. The database is the benchmarks' big one (big_database.py: a clinic's two years, made
by the app's migrations), built first in a temporary folder; its build time is printed too.

Baseline, measured in the same run on the same file: raw sqlite3 reading the same rows with
hand-written SQL (the same figures per session: standing doses added up, the first standing
check-in, peaks, alerts, minutes to ready), checked equal to the app's before anything is timed.
The two sides run in alternation so that the machine's other work hits both.
"""

# ruff: noqa: E402
from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from big_database import build
from verdicts import report

RUNS = int(os.environ.get("KAPSESSION_BENCH_RUNS", "20"))
SESSIONS = int(os.environ.get("KAPSESSION_BENCH_SESSIONS", "10000"))
HISTORY_SESSIONS = 100
TARGET_MS = 100.0
REQUIRED = f"< {TARGET_MS:.0f} ms"

# The baseline's SQL: what a careful hand-written program would send, one query per figure
# group, each from the client's participant rows (indexed) to the clinical rows of their
# sessions (indexed by session). "Standing" as the app defines it: not a void, and not among
# the ids the client's sessions' rows correct (read once per query).
RAW_SESSIONS = """
SELECT p.id, p.course_id, c.title,
       count(p.id) OVER (PARTITION BY p.course_id ORDER BY s.created_at),
       s.id, s.created_at, s.started_at, s.ended_at, s.protocol_key, s.protocol_name,
       s.protocol_sha256, s.modality, s.status
FROM participant p JOIN session s ON s.id = p.session_id
LEFT JOIN course c ON c.id = p.course_id
WHERE p.client_id = :client
ORDER BY s.created_at, s.id
"""
RAW_DOSES = """
SELECT d.participant_id, count(d.id), sum(d.dose_mg)
FROM participant p JOIN dose d ON d.session_id = p.session_id AND d.participant_id = p.id
WHERE p.client_id = :client AND NOT d.voids
  AND d.id NOT IN (SELECT c.corrects_id FROM participant q
                   JOIN dose c ON c.session_id = q.session_id
                   WHERE q.client_id = :client AND c.corrects_id IS NOT NULL)
GROUP BY d.participant_id
"""
RAW_READINGS = """
SELECT participant_id,
       max(CASE WHEN position = 1 THEN systolic_mmhg END),
       max(CASE WHEN position = 1 THEN diastolic_mmhg END),
       max(CASE WHEN position = 1 THEN heart_rate_bpm END),
       max(CASE WHEN position = 1 THEN spo2_pct END),
       max(systolic_mmhg), max(diastolic_mmhg), min(spo2_pct), max(dissociation)
FROM (
  SELECT o.participant_id, o.systolic_mmhg, o.diastolic_mmhg, o.heart_rate_bpm, o.spo2_pct,
         o.dissociation,
         row_number() OVER (PARTITION BY o.participant_id
                            ORDER BY o.occurred_at, o.recorded_at, o.id) AS position
  FROM participant p
  JOIN observation o ON o.session_id = p.session_id AND o.participant_id = p.id
  WHERE p.client_id = :client AND NOT o.voids
    AND o.id NOT IN (SELECT c.corrects_id FROM participant q
                     JOIN observation c ON c.session_id = q.session_id
                     WHERE q.client_id = :client AND c.corrects_id IS NOT NULL)
)
GROUP BY participant_id
"""
RAW_ALERTS = """
SELECT a.participant_id, count(a.id)
FROM participant p JOIN alert a ON a.session_id = p.session_id AND a.participant_id = p.id
WHERE p.client_id = :client
GROUP BY a.participant_id
"""
RAW_READY = """
SELECT participant_id, ready_minutes_after_first_dose FROM (
  SELECT d.participant_id, d.ready_minutes_after_first_dose,
         row_number() OVER (PARTITION BY d.participant_id
                            ORDER BY d.occurred_at DESC, d.recorded_at DESC, d.id DESC) AS position
  FROM participant p
  JOIN discharge_assessment d ON d.session_id = p.session_id AND d.participant_id = p.id
  WHERE p.client_id = :client AND NOT d.voids
    AND d.id NOT IN (SELECT c.corrects_id FROM participant q
                     JOIN discharge_assessment c ON c.session_id = q.session_id
                     WHERE q.client_id = :client AND c.corrects_id IS NOT NULL)
)
WHERE position = 1
"""
RAW_CLIENT = "SELECT given_name, family_name, record_number FROM client WHERE id = :client"


class RawHistory:
    """The same rows by hand on a plain sqlite3 connection (the app's pragmas)."""

    def __init__(self, path: Path, client_id: uuid.UUID) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        for pragma in ("busy_timeout = 5000", "journal_mode = WAL", "foreign_keys = ON"):
            self.db.execute(f"PRAGMA {pragma}")
        self.client = client_id.hex
        # A snapshot's route, read once per protocol text (the app keeps the same cache).
        digests = "SELECT DISTINCT protocol_sha256, protocol_text FROM session"
        self.routes = {
            digest: tomllib.loads(text)["dosing"]["route"]
            for digest, text in self.db.execute(digests)
        }

    def read(self) -> list[tuple[Any, ...]]:
        db, client = self.db, {"client": self.client}
        db.execute("BEGIN")
        try:
            db.execute(RAW_CLIENT, client).fetchone()
            sessions = db.execute(RAW_SESSIONS, client).fetchall()
            doses = {r[0]: r[1:] for r in db.execute(RAW_DOSES, client)}
            readings = {r[0]: r[1:] for r in db.execute(RAW_READINGS, client)}
            alerts = dict(db.execute(RAW_ALERTS, client).fetchall())
            ready = dict(db.execute(RAW_READY, client).fetchall())
        finally:
            db.execute("COMMIT")
        rows = []
        for s in sessions:
            pid = s[0]
            rows.append(
                (
                    s[4],  # session id
                    s[3] if s[1] is not None else None,  # number within the course
                    s[9],  # protocol name
                    self.routes.get(s[10]),
                    s[11],  # modality
                    s[12],  # status
                    *doses.get(pid, (0, None)),
                    *readings.get(pid, (None,) * 8),
                    alerts.get(pid, 0),
                    ready.get(pid),
                )
            )
        return rows

    def close(self) -> None:
        self.db.close()


def _as_app(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A raw row with its id as the app's (hex text to UUID), for the equality check."""
    return (uuid.UUID(row[0]), *row[1:])


def _app_rows(history: Any) -> list[tuple[Any, ...]]:
    return [
        (
            s.session_id,
            s.session_number,
            s.protocol_name,
            s.route,
            s.modality,
            s.status,
            s.dose_count,
            s.dose_total_mg,
            s.baseline_systolic_mmhg,
            s.baseline_diastolic_mmhg,
            s.baseline_heart_rate_bpm,
            s.baseline_spo2_pct,
            s.peak_systolic_mmhg,
            s.peak_diastolic_mmhg,
            s.lowest_spo2_pct,
            s.highest_dissociation,
            s.alerts,
            s.ready_minutes_after_first_dose,
        )
        for s in history.sessions
    ]


class AppHistory:
    """The service's read, then the view filled, laid out and painted (offscreen)."""

    def __init__(self, url: str, client_id: uuid.UUID) -> None:
        from PySide6.QtCore import QEvent, QObject
        from PySide6.QtWidgets import QApplication

        from kapsession.services.client_history import ClientHistoryService
        from kapsession.storage.database import open_database
        from kapsession.ui.client_history_view import ClientHistoryView
        from kapsession.ui.theme import apply_room_theme

        existing = QApplication.instance()
        self.app = existing if isinstance(existing, QApplication) else QApplication([])
        apply_room_theme(self.app)
        self.database = open_database(url, backup_dir=None)
        self.service = ClientHistoryService(self.database)
        self.client = client_id
        self.view = ClientHistoryView()
        self.view.resize(1280, 800)
        self.view.show()
        self.app.processEvents()
        self.painted = 0

        class PaintCounter(QObject):
            def eventFilter(inner, _watched: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint:
                    self.painted += 1
                return False

        self._counter = PaintCounter()
        self.view.table.viewport().installEventFilter(self._counter)
        self.view.chart.viewport().installEventFilter(self._counter)
        self.history: Any = None

    def open(self) -> tuple[float, float, float]:
        """One opening: (read, fill, layout and paint) in seconds."""
        began = time.perf_counter()
        history = self.service.history(self.client)
        read = time.perf_counter()
        self.view.show_history(history)
        filled = time.perf_counter()
        self.app.processEvents()  # the layout and the paint the view asked for
        drawn = time.perf_counter()
        self.history = history
        return read - began, filled - read, drawn - filled

    def close(self) -> None:
        self.view.close()
        self.view.deleteLater()
        self.app.processEvents()
        self.database.close()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-") as tmp:
        began = time.perf_counter()
        made = build(
            Path(tmp) / "big.sqlite3",
            sessions=SESSIONS,
            history_sessions=HISTORY_SESSIONS,
            live_session=True,
            now=datetime.now(UTC),
        )
        build_s = time.perf_counter() - began
        size_mib = made.path.stat().st_size / 2**20
        closers: list[Callable[[], None]] = []
        try:
            app = AppHistory(made.url, made.history_client_id)
            closers.append(app.close)
            raw = RawHistory(made.path, made.history_client_id)
            closers.append(raw.close)
            app.open()  # warm-up: imports, first queries, the route of each protocol, fonts
            expected = [_as_app(row) for row in raw.read()]
            if _app_rows(app.history) != expected:
                print("FAIL: the app's history and the raw SQL's rows differ", file=sys.stderr)
                report("client-history", False, "the app's rows differ from raw SQL's", REQUIRED)
                return 1
            sessions = len(expected)
            app.painted = 0
            app_times: list[tuple[float, float, float]] = []
            raw_times: list[float] = []
            for _ in range(RUNS):
                start = time.perf_counter()
                raw.read()
                raw_times.append(time.perf_counter() - start)
                app_times.append(app.open())
            painted = app.painted
        finally:
            for close in reversed(closers):
                close()
    totals = [sum(t) for t in app_times]
    app_s, raw_s = statistics.median(totals), statistics.median(raw_times)
    read_s, fill_s, draw_s = (statistics.median(t[i] for t in app_times) for i in range(3))
    verdict = "PASS" if app_s * 1000 < TARGET_MS else "FAIL"
    print(
        f"client history: {sessions} sessions of one client on a {made.sessions:,}-session "
        f"database ({size_mib:.0f} MiB, built in {build_s:.1f} s); median of {RUNS} runs "
        "after a warm-up, app and raw in alternation"
    )
    print(
        f"  app: {_ms(app_s)} = read {_ms(read_s)} + table and chart filled {_ms(fill_s)} "
        f"+ laid out and painted {_ms(draw_s)} (min {_ms(min(totals))}, max {_ms(max(totals))}; "
        f"{painted} paints of the table and chart in {RUNS} runs)"
    )
    print(f"  raw sqlite3, the same rows by hand-written SQL: {_ms(raw_s)}")
    print(
        f"  ratio app / raw sqlite3: {app_s / raw_s:.1f}x (the read alone: "
        f"{read_s / raw_s:.1f}x; the app also fills and paints the view)"
    )
    print(f"{verdict}: opening the history took {_ms(app_s)} (target {REQUIRED})")
    report("client-history", verdict == "PASS", _ms(app_s), REQUIRED)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
