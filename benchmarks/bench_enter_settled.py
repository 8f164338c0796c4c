"""Enter to a settled screen: a check-in and a note entry on the real window, offscreen.

Targets (issue 13): the median time from Enter to a settled screen within one frame at 60 Hz
(16 ms) at the start of a live session, and no more than 1.2x that with 10 full sessions'
entries in the session (the screen's cost does not grow with the session).

The app is built as the UI tests build it (tests/ui/conftest.py): a FakeClock, the real
context over a data folder of its own, `MainWindow` and `AppController` shown on Qt's
offscreen platform with the room's theme. A session is started through the service and opened
in the window as Resume opens it, at three sizes:

- start: at the start of the session, with its baseline check-in (the issue's "1x");
- 1 session: one full session's entries written before the timing (printed for reference);
- 10 sessions: ten full sessions' entries (the issue's "10x").

A full session's entries (kapsession/services/demo.py has a session of its protocol with 9
check-ins, 79 music events, 7 markers and 6 notes; a therapist writing live notes writes
more): 10 check-ins, one of them over the alert threshold with its alert acknowledged, 40
note entries, 7 markers and 80 music events; the dose is given once. They are written through
the services, with times spread over the session so far (two and a half hours in).

One timed press:

- check-in: Esc, C (the form on the most urgent check-in, prefilled from the last reading),
  a systolic and a diastolic typed with Tab between them, then Enter;
- note: Esc, N (the Notes tab, the keys in the box of the session notes), a note of about
  100 characters typed, its draft saved (what the pad's 400 ms timer does while one types),
  then Enter.

Before each press the clock moves on 20 s and the session's tick for that second runs, and
the event queue is settled; only Enter is timed. The key goes to the focused widget with
`QTest.keyClick`, as the UI tests send it. Each press is timed from just before the key press
until the screen is settled:

    settled = one pass of the main thread's event dispatcher
              (`QAbstractEventDispatcher.processEvents(AllEvents)`, which does not wait)
              dispatches nothing.

On this platform the dispatcher is GLib's (QPAEventDispatcherGlib): a pass returns True when
any source was dispatched: posted events (layout requests, deferred deletes, queued signals,
`QTimer.singleShot(0)`, and the UpdateRequest that Qt Widgets posts for every pending
repaint), window-system events and due timers. So a pass that dispatches nothing means no
posted event is waiting, no repaint is pending and no timer is due. The benchmark checks this
before measuring (a label's `update()` must keep the dispatcher busy until the label has
painted) and stops if it does not hold, or if the dispatcher is not GLib's (with QT_NO_GLIB=1,
Qt's own: whether its passes report every posted event was not established). Every press is
split into "handler" (until `QTest.keyClick` returns: the save and all the key's handler does
at once) and "after" (the posted work: layout, repaints).
A timer that falls due in the timed window (the session's 250 ms tick, which does nothing
between seconds; libVLC's 500 ms position poll) is counted: it is part of what the app does.

The sizes take turns in rounds, so that a change in the machine's load hits every figure
alike; each size and kind has warm-up presses first. Beside them, raw sqlite3 doing the same
database work by hand (bench_entry_save.py's raw sides, the same pragmas: WAL,
synchronous=FULL), on files in the same temporary folder.

Last, a few more presses per size and kind (not timed) count the SQL statements each Enter
sends, at the driver: sqlite3's `set_trace_callback` on every connection of the app's engine
(an engine "connect" listener sets it; the engine is disposed first, so that every connection
in use is made after).

    python benchmarks/bench_enter_settled.py [--presses 50] [--rounds 5] [--warm-up 5]

(also KAPSESSION_BENCH_PRESSES). Exits 1 when a target fails.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_entry_save import CheckinRawSaves, NoteRawSaves
from verdicts import report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

FRAME_MS = 16.0  # one frame at 60 Hz
GROWTH = 1.2  # 10 sessions' entries / the start of a session
START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
PROTOCOL_KEY = "sublingual-kap-3h"
FULL_AT = timedelta(minutes=150)  # where a session with full sessions' entries stands
STEP_S = 20  # the clock moves on this much before each press
COUNTED_PRESSES = 3  # per size and kind, after the timing: SQL statements counted
SETTLE_PASSES = 10_000  # a settle that needs more passes than this is stuck
WAIT_S = 5.0
TRIGGER_RUNS = "trigger runs"

# a full session's entries
CHECKINS = 10
NOTES = 40
MARKER_COUNT = 7
MUSIC_EVENTS = 80
NOTE_TEXT = (
    "Breathing slow and even; hands open on the blanket; says the music feels like a tide "
    "coming in. {n}"
)


@dataclass(frozen=True)
class Size:
    name: str
    sessions: int  # full sessions' entries written before the timing; 0: a baseline only


SIZES = (Size("start", 0), Size("1 session", 1), Size("10 sessions", 10))
BASE, GROWN = SIZES[0], SIZES[-1]
KINDS = ("check-in", "note")
TARGETS = {"check-in": "enter-settled-checkin", "note": "enter-settled-note"}
GROWTH_TARGETS = {"check-in": "enter-settled-checkin-growth", "note": "enter-settled-note-growth"}


# --- settling ----------------------------------------------------------------------------------


def settle() -> int:
    """Run the event dispatcher until a pass dispatches nothing; the passes that did work."""
    from PySide6.QtCore import QAbstractEventDispatcher, QEventLoop

    dispatcher = QAbstractEventDispatcher.instance()
    assert dispatcher is not None
    passes = 0
    while dispatcher.processEvents(QEventLoop.ProcessEventsFlag.AllEvents):
        passes += 1
        if passes > SETTLE_PASSES:
            raise SystemExit(
                f"enter-settled bench: the event queue never settled ({passes} passes)"
            )
    return passes


def check_settle_definition() -> str:
    """Stop unless a pending repaint keeps the dispatcher busy until it is painted."""
    from PySide6.QtCore import QAbstractEventDispatcher, QEvent, QObject
    from PySide6.QtWidgets import QLabel

    class Paints(QObject):
        count = 0

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    label, paints = QLabel("settle check"), Paints()
    label.installEventFilter(paints)
    label.show()
    settle()
    before = paints.count
    label.update()
    passes = settle()
    painted = paints.count - before
    label.close()
    label.deleteLater()
    settle()
    dispatcher = QAbstractEventDispatcher.instance()
    name = dispatcher.metaObject().className() if dispatcher is not None else "none"
    if "Glib" not in name:
        raise SystemExit(
            f"enter-settled bench: the event dispatcher is {name}, not GLib's: 'settled' is "
            "defined by a GLib main-context pass that dispatches nothing"
        )
    if passes < 1 or painted != 1:
        raise SystemExit(
            f"enter-settled bench: with the {name} event dispatcher a pending repaint does not "
            f"keep a dispatcher pass busy ({passes} busy passes, {painted} paints): 'settled' "
            "cannot be measured this way here"
        )
    return name


# --- SQL statements at the driver --------------------------------------------------------------


class StatementCounter:
    """Counts the SQL each connection of an engine sends, while `counting` is on."""

    def __init__(self) -> None:
        self.connections: list[sqlite3.Connection] = []
        self.statements: list[str] = []
        self.counting = False

    def on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            self.connections.append(dbapi_connection)
            if self.counting:
                dbapi_connection.set_trace_callback(self.statements.append)

    def start(self) -> None:
        self.statements = []
        self.counting = True
        self._trace(self.statements.append)

    def stop(self) -> list[str]:
        self.counting = False
        self._trace(None)
        return self.statements

    def _trace(self, callback: Callable[[str], None] | None) -> None:
        for connection in list(self.connections):
            try:
                connection.set_trace_callback(callback)
            except sqlite3.ProgrammingError:  # closed by the pool meanwhile
                self.connections.remove(connection)


def statement_kinds(statements: list[str]) -> collections.Counter[str]:
    """Statements by their first word (BEGIN with its mode). sqlite3's trace also reports each
    trigger program a statement runs (the append-only and signed-session locks), as the same
    statement text right after it: those are counted apart, as "trigger runs"."""
    kinds: collections.Counter[str] = collections.Counter()
    previous = ""
    for sql in statements:
        words = sql.split()
        word = words[0].upper() if words else "?"
        if word in ("INSERT", "UPDATE", "DELETE") and sql == previous:
            kinds[TRIGGER_RUNS] += 1
            continue
        previous = sql
        if word == "BEGIN" and len(words) > 1:
            word = f"BEGIN {words[1].upper()}"
        kinds[word] += 1
    return kinds


# --- the session's entries ---------------------------------------------------------------------


def write_full_sessions(
    service: Any, record: Any, now: datetime, copies: int, therapist: Any, nurse: Any
) -> None:
    """`copies` full sessions' entries in one session, through the services, their times
    spread from its start to `now`; the baseline first and the dose once."""
    from kapsession.domain.timeline import compute_timeline
    from kapsession.services.demo import MARKERS
    from kapsession.services.demo import NOTES as DEMO_NOTES
    from kapsession.services.session_service import session_protocol
    from kapsession.storage.music_log import MusicLogRepository
    from kapsession.storage.notes import NoteRepository

    rng = random.Random(13)
    protocol = session_protocol(record)
    participant = record.participants[0].id
    start = record.started_at
    dose_at = start + timedelta(minutes=protocol.dosing.planned_dose_after_start_min)

    def spread(count: int) -> list[datetime]:
        first, last = start + timedelta(minutes=6), now - timedelta(minutes=1)
        step = (last - first) / max(1, count)
        return [first + step * i + timedelta(seconds=rng.uniform(0, 5)) for i in range(count)]

    def checkin(at: datetime, key: str | None, raw: dict[str, str]) -> Any:
        result = service.checkins.save_checkin(
            record.id,
            participant,
            raw,
            occurred_at=at,
            recorded_at=at + timedelta(seconds=45),
            checkin_key=key,
            on_room_air=True,
            by=nurse.id,
        )
        if not result.saved:
            raise SystemExit(f"enter-settled bench: a check-in was refused: {result.message}")
        return result

    def reading(alert: bool) -> dict[str, str]:
        systolic, diastolic = (186, 98) if alert else (rng.randint(116, 134), rng.randint(72, 86))
        return {
            "bp": f"{systolic}/{diastolic}",
            "heart_rate_bpm": str(rng.randint(64, 84)),
            "spo2_pct": str(rng.randint(96, 99)),
            "resp_rate_per_min": str(rng.randint(12, 16)),
            "moaas": str(rng.choice((4, 5))),
            "suds": str(rng.randint(1, 5)),
        }

    checkin(start + timedelta(minutes=5), "baseline", reading(False))
    dose = service.checkins.record_dose(
        record.id,
        participant,
        "200 mg",
        occurred_at=dose_at,
        recorded_at=dose_at + timedelta(seconds=20),
        weight_text="64 kg",
        lot_number="KT-24117",
        given_by=nurse.id,
        by=nurse.id,
    )
    if dose.dose is None:
        raise SystemExit(f"enter-settled bench: the dose was refused: {dose.message}")
    keys = [c.key for c in protocol.checkins]
    for index, at in enumerate(spread(CHECKINS * copies - 1)):
        alert = index % CHECKINS == 4  # one check-in a session over the alert threshold
        saved = checkin(at, keys[(index + 1) % len(keys)], reading(alert))
        for hit in saved.alerts:
            service.checkins.acknowledge_alert(
                hit.id,
                by=nurse.id,
                at=at + timedelta(minutes=2),
                action="rechecked",
                comment="Rechecked manually",
            )

    notes = NoteRepository(service.database)
    texts = [text for _minutes, text in DEMO_NOTES]
    for index, at in enumerate(spread(NOTES * copies)):
        state = compute_timeline(protocol, started_at=start, now=at, first_dose_at=dose_at)
        phase = state.current_phase
        notes.add_entry(
            record.id,
            texts[index % len(texts)],
            occurred_at=at,
            recorded_at=at,
            phase_key=None if phase is None else phase.spec.key,
            elapsed_s=round((at - start).total_seconds()),
            since_dose_s=round((at - dose_at).total_seconds()) if at >= dose_at else None,
            by=therapist.id,
        )
    for index, at in enumerate(spread(MARKER_COUNT * copies)):
        service.add_marker(
            record.id,
            MARKERS[index % len(MARKERS)][1],
            at=at,
            recorded_at=at + timedelta(seconds=5),
            participant_id=participant,
            by=therapist.id,
        )
    music = MusicLogRepository(service.database)
    tracks = sorted((ROOT / "assets" / "music").glob("*.ogg"))
    for index, at in enumerate(spread(MUSIC_EVENTS * copies)):
        track = tracks[(index // 2) % len(tracks)]
        music.add(
            record.id,
            "track_start" if index % 2 == 0 else "track_end",
            occurred_at=at,
            recorded_at=at,
            track_path=str(track),
            track_title=track.stem.replace("-", " ").capitalize(),
            playlist=f"{track.stem.split('-')[0]}.m3u8",
            volume_pct=60.0,
            position_ms=None if index % 2 == 0 else 240_000,
        )


# --- one app ---------------------------------------------------------------------------------


@dataclass
class Press:
    total_s: float  # from the key press until settled
    handler_s: float  # until QTest.keyClick returned


@dataclass
class Series:
    """What one size and kind measured."""

    presses: list[Press] = field(default_factory=list)
    statements: list[collections.Counter[str]] = field(default_factory=list)

    def median_s(self) -> float:
        return statistics.median(p.total_s for p in self.presses)

    def handler_s(self) -> float:
        return statistics.median(p.handler_s for p in self.presses)

    def after_s(self) -> float:
        return statistics.median(p.total_s - p.handler_s for p in self.presses)

    def quantile_s(self, q: float) -> float:
        ordered = sorted(p.total_s for p in self.presses)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class LiveWindow:
    """The real window and controller with one live session open, over its own data folder."""

    def __init__(self, folder: Path, size: Size) -> None:
        from sqlalchemy import event

        from kapsession.domain.clock import FakeClock
        from kapsession.paths import resolve_paths
        from kapsession.services.context import open_context
        from kapsession.ui.app_controller import AppController
        from kapsession.ui.main_window import MainWindow

        self.size = size
        self.clock = FakeClock(START)
        self.context = open_context(resolve_paths(data_dir=folder, environ={}), clock=self.clock)
        service = self.context.service
        at = self.clock.now()
        therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=at, credentials="PsyD")
        nurse = service.add_staff("Tom Becker", "nurse", at=at, credentials="RN")
        client = service.add_client("Maya", "Fischer", at=at, by=therapist.id)
        record = service.start_session(
            protocol_key=PROTOCOL_KEY,
            client_ids=[client.id],
            modality="individual",
            at=at,
            room="Room 2",
            therapist_id=therapist.id,
            nurse_id=nurse.id,
            by=therapist.id,
        )
        written_at = time.perf_counter()
        if size.sessions == 0:
            self.clock.advance(6 * 60)
            baseline = {"bp": "122/78", "heart_rate_bpm": "72", "spo2_pct": "98"}
            baseline |= {"resp_rate_per_min": "14", "suds": "4"}
            result = service.checkins.save_checkin(
                record.id,
                record.participants[0].id,
                baseline,
                occurred_at=START + timedelta(minutes=5),
                recorded_at=self.clock.now(),
                checkin_key="baseline",
                on_room_air=True,
                by=nurse.id,
            )
            assert result.saved, result.message
        else:
            self.clock.advance(FULL_AT.total_seconds())
            write_full_sessions(service, record, self.clock.now(), size.sessions, therapist, nurse)
        self.write_s = time.perf_counter() - written_at

        # every connection the app uses from here on is made after the counter listens
        self.counter = StatementCounter()
        engine = self.context.database.engine
        event.listen(engine, "connect", self.counter.on_connect)
        engine.dispose()

        self.window = MainWindow(training=False)
        self.controller = AppController(self.window, self.context, training=False)
        sign_in(self.controller)
        self.window.show()
        self.controller.open_session(record.id)  # as Resume opens it
        self.activate()
        settle()
        self.series = {kind: Series() for kind in KINDS}
        self.typed = 0

    def close(self) -> None:
        self.controller.close_session()
        self.window.close()
        self.window.deleteLater()
        settle()
        self.context.close()

    # the keyboard ----------------------------------------------------------------------------
    def activate(self) -> None:
        """Give this window the keys (offscreen there is no window manager to do it)."""
        from PySide6.QtWidgets import QApplication

        self.window.activateWindow()
        deadline = time.monotonic() + WAIT_S
        while not (self.window.isActiveWindow() and QApplication.focusWidget() is not None):
            if time.monotonic() > deadline:
                raise SystemExit("enter-settled bench: the window never took the keys")
            settle()
            time.sleep(0.001)

    def key(self, which: Any) -> None:
        from PySide6.QtTest import QTest

        QTest.keyClick(focus_widget(), which)

    def type(self, text: str) -> None:
        from PySide6.QtTest import QTest

        QTest.keyClicks(focus_widget(), text)

    def entries(self) -> tuple[int, int]:
        """Check-ins and note entries in the session now (read outside the timed part)."""
        live, pad = self.controller.live, self.controller.notes.pad
        assert live is not None and pad is not None
        return len(live.observations), len(pad.entries())

    # one press -------------------------------------------------------------------------------
    def press(self, kind: str, *, count_sql: bool = False) -> Press:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        live = self.controller.live
        assert live is not None
        self.clock.advance(STEP_S)
        live.tick()  # the session's second turns over here, not inside the timed part
        settle()
        self.key(Qt.Key.Key_Escape)  # out of any text box, so C and N act on the screen
        self.typed += 1
        view = self.window.live_view
        if kind == "check-in":
            self.key(Qt.Key.Key_C)
            if focus_widget() is not view.checkin_form.fields["systolic_mmhg"]:
                raise SystemExit("enter-settled bench: C did not open the check-in form")
            self.type(str(118 + self.typed % 12))
            self.key(Qt.Key.Key_Tab)
            self.type(str(74 + self.typed % 9))
        else:
            self.key(Qt.Key.Key_N)
            if focus_widget() is not view.note_pad.inputs["record"]:
                raise SystemExit("enter-settled bench: N did not put the keys in the note box")
            self.type(NOTE_TEXT.format(n=self.typed))
            pad = self.controller.notes.pad
            assert pad is not None
            pad.save_drafts()  # the draft typing leaves (the pad's 400 ms timer)
        before = self.entries()
        settle()
        target = focus_widget()
        if count_sql:
            self.counter.start()
        started = time.perf_counter()
        QTest.keyClick(target, Qt.Key.Key_Return)
        handled = time.perf_counter()
        settle()
        ended = time.perf_counter()
        statements = self.counter.stop() if count_sql else []
        after = self.entries()
        grew = (after[0] - before[0], after[1] - before[1])
        if grew != ((1, 0) if kind == "check-in" else (0, 1)):
            problem = view.checkin_form.problems.text() or view.failure.text()
            raise SystemExit(
                f"enter-settled bench: the {kind} was not saved once {grew}: {problem}"
            )
        if count_sql:
            self.series[kind].statements.append(statement_kinds(statements))
        return Press(ended - started, handled - started)


def focus_widget() -> Any:
    from PySide6.QtWidgets import QApplication

    widget = QApplication.focusWidget()
    if widget is None:
        raise SystemExit("enter-settled bench: no widget has the keyboard focus")
    return widget


# --- running -----------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--presses",
        type=int,
        default=int(os.environ.get("KAPSESSION_BENCH_PRESSES", "50")),
        help="timed Enter presses per size and kind (default 50)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds the sizes alternate in")
    parser.add_argument("--warm-up", type=int, default=5, help="untimed presses first, each")
    return parser.parse_args()


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def raw_line(kind: str, times: list[float]) -> str:
    return f"{kind} {statistics.median(times) * 1000:.3f} ms"


def statement_line(series: Series) -> str:
    """The statements of the counted presses: their number (one figure when every press sent
    the same), then the last press's by kind, the trigger runs apart."""
    counts = series.statements
    totals = sorted({sum(n for w, n in c.items() if w != TRIGGER_RUNS) for c in counts})
    last = counts[-1]
    parts = ", ".join(
        f"{n} {word}"
        for word, n in sorted(last.items(), key=lambda item: -item[1])
        if word != TRIGGER_RUNS
    )
    triggers = f"; the trace also reports {last[TRIGGER_RUNS]} trigger runs" * bool(
        last[TRIGGER_RUNS]
    )
    return f"{'/'.join(map(str, totals))} ({parts}){triggers}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def main() -> int:
    args = arguments()
    presses, rounds = max(1, args.presses), max(1, min(args.rounds, args.presses))
    from kapsession.ui.app import application

    qt = application()
    dispatcher = check_settle_definition()
    load_before = load()
    windows: list[LiveWindow] = []
    raws: dict[str, Any] = {}
    raw_times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="kapsession-bench-enter-") as tmp:
        try:
            for size in SIZES:
                windows.append(LiveWindow(Path(tmp) / size.name.replace(" ", "-"), size))
            raws = {
                "check-in": CheckinRawSaves(Path(tmp) / "raw-checkin"),
                "note": NoteRawSaves(Path(tmp) / "raw-note"),
            }
            for live in windows:
                live.activate()
                for kind in KINDS:
                    for _ in range(args.warm_up):
                        live.press(kind)
            for raw in raws.values():
                raw.run(args.warm_up * 10)
            started = time.perf_counter()
            for number in range(rounds):
                share = presses // rounds + (1 if number < presses % rounds else 0)
                for live in windows:
                    live.activate()
                    for kind in KINDS:
                        live.series[kind].presses += [live.press(kind) for _ in range(share)]
                for kind, raw in raws.items():
                    raw_times[kind] += raw.run(share)
            timed_s = time.perf_counter() - started
            for live in windows:
                live.activate()
                for kind in KINDS:
                    for _ in range(COUNTED_PRESSES):
                        live.press(kind, count_sql=True)
            sizes_after = {live.size.name: live.entries() for live in windows}
        finally:
            for raw in raws.values():
                raw.close()
            for live in windows:
                live.close()
    load_after = load()
    del qt

    by_size = {live.size.name: live for live in windows}
    print(
        f"Enter to a settled screen: the real window offscreen ({dispatcher}), Enter by QTest on "
        f"the check-in form and in the note box; the median of {presses} presses per figure, "
        f"the sizes alternating in {rounds} round(s) ({timed_s:.0f} s), after {args.warm_up} "
        f"warm-up presses; load average {load_before} before, {load_after} after"
    )
    print(
        f"  a full session's entries: {CHECKINS} check-ins (one alert, acknowledged), {NOTES} "
        f"notes, {MARKER_COUNT} markers, {MUSIC_EVENTS} music events, the dose once; written "
        "in " + ", ".join(f"{w.size.name} {w.write_s:.1f} s" for w in windows[1:])
    )
    print(f"  {'':<24}{'median':>9} {'handler':>9} {'after':>9} {'min':>9} {'p90':>9} {'max':>9}")
    for kind in KINDS:
        print(f"  {kind}")
        for live in windows:
            series = live.series[kind]
            checkins, notes = sizes_after[live.size.name]
            figures = (
                series.median_s(),
                series.handler_s(),
                series.after_s(),
                series.quantile_s(0.0),
                series.quantile_s(0.9),
                series.quantile_s(1.0),
            )
            print(
                f"    {live.size.name:<20}{' '.join(ms(f) for f in figures)}"
                f"   ({checkins} check-ins, {notes} notes at the end)"
            )
    print(
        "  raw sqlite3, the same database work by hand (bench_entry_save.py): "
        + ", ".join(raw_line(kind, raw_times[kind]) for kind in KINDS)
        + f" (medians of {presses})"
    )
    print(
        "  SQL statements per Enter, at the driver (sqlite3 trace on the app's connections, "
        f"{COUNTED_PRESSES} untimed presses each):"
    )
    for kind in KINDS:
        for live in windows:
            print(f"    {kind:<9} {live.size.name:<12} {statement_line(live.series[kind])}")

    passed_all = True
    for kind in KINDS:
        base = by_size[BASE.name].series[kind].median_s() * 1000
        grown = by_size[GROWN.name].series[kind].median_s() * 1000
        raw_ms = statistics.median(raw_times[kind]) * 1000
        ratio = grown / base
        ok, grew_ok = base <= FRAME_MS, ratio <= GROWTH
        passed_all = passed_all and ok and grew_ok
        report(
            TARGETS[kind],
            ok,
            f"{base:.1f} ms at the start of a session (raw sqlite3 {raw_ms:.2f} ms)",
            f"<= {FRAME_MS:g} ms",
        )
        report(
            GROWTH_TARGETS[kind],
            grew_ok,
            f"{ratio:.2f}x: {grown:.1f} ms with 10 sessions' entries / {base:.1f} ms at the start",
            f"<= {GROWTH:g}x",
        )
    return 0 if passed_all else 1


def sign_in(controller: Any) -> None:
    """Signed in as the clinic administrator through the real service (issue 18: the window
    opens to sign-in; the benchmark measures the screen behind it, not the sign-in)."""
    access = controller.access.access
    passphrase, pin = "harbour lantern meadow", "518204"
    if access.needs_administrator():
        access.create_administrator("Clinic Administrator", passphrase, passphrase)
    admin = access.staff.administrators()[0]
    if access.needs_first_sign_in(admin.id):
        controller.access.first_sign_in(admin.id, passphrase, pin, pin)
    else:
        controller.access.sign_in(admin.id, pin)


if __name__ == "__main__":
    sys.exit(main())
