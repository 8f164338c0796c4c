"""The real app killed with SIGKILL during a live session: the restart loses nothing.

The child process (kill_child.py) is kapsession's own entry point over a data folder in
tmp_path, driven by keyboard from inside; it prints a line after each entry it has seen saved.
The test kills it at chosen moments, then checks the database file, opens the data folder again
the way the app does, resumes the session in-process at a known later time, and starts the
real `python -m kapsession` on the same folder.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot
from support.signing_in import sign_in

import kapsession
from kapsession.domain.clock import FakeClock
from kapsession.domain.timeline import CheckinStatus, compute_timeline, phase_changes_between
from kapsession.domain.vitals import READING_FIELDS, Reading
from kapsession.paths import CLINICAL_DB_NAME, Paths, resolve_paths
from kapsession.records.entries import ObservationRecord
from kapsession.services.context import open_context
from kapsession.storage.checkins import CheckinRepository
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("kill_child.py")
REPO_ROOT = Path(kapsession.__file__).resolve().parents[1]
WAIT_S = 60.0  # a guard against a hung child, never a timing assertion
BASELINE_TYPED = Reading(systolic_mmhg=124, diastolic_mmhg=80)  # kill_child: C, 124 Tab 80 Enter


def child_env() -> dict[str, str]:
    """Offscreen Qt, this checkout importable, and no KAPSESSION_* pointing elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    return env


def paths_of(data_dir: Path) -> Paths:
    return resolve_paths(data_dir=data_dir, environ={})


@dataclass
class Reported:
    """What the child said it saw saved."""

    client_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    resumed: bool = False
    participant_id: uuid.UUID | None = None
    checkin: ObservationRecord | None = None
    markers: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, lines: list[str]) -> Reported:
        seen = cls()
        for line in lines:
            what, _, rest = line.partition(" ")
            if what == "CLIENT":
                seen.client_id = uuid.UUID(rest)
            elif what in ("SESSION", "RESUMED"):
                seen.session_id, seen.resumed = uuid.UUID(rest), what == "RESUMED"
            elif what == "CHECKIN":
                seen.checkin = checkin_record(json.loads(rest))
            elif what == "DOSE":
                seen.participant_id = uuid.UUID(rest)
            elif what == "MARKER":
                seen.markers.append(rest)
        return seen


def checkin_record(fields: dict[str, Any]) -> ObservationRecord:
    """A check-in as the child printed it (kill_child.checkin_json)."""
    by = fields["recorded_by_id"]
    return ObservationRecord(
        id=uuid.UUID(fields["id"]),
        session_id=uuid.UUID(fields["session_id"]),
        participant_id=uuid.UUID(fields["participant_id"]),
        checkin_key=fields["checkin_key"],
        occurred_at=datetime.fromisoformat(fields["occurred_at"]),
        recorded_at=datetime.fromisoformat(fields["recorded_at"]),
        recorded_by_id=None if by is None else uuid.UUID(by),
        values=fields["values"],
        on_room_air=fields["on_room_air"],
        not_taken=tuple(fields["not_taken"]),
    )


def markers_at_least(count: int) -> Callable[[list[str]], bool]:
    return lambda lines: sum(line.startswith("MARKER ") for line in lines) >= count


def line_starting(word: str) -> Callable[[list[str]], bool]:
    return lambda lines: any(line.startswith(f"{word} ") for line in lines)


class Child:
    """The app running kill_child.py over `data_dir`, and the lines it printed."""

    def __init__(self, data_dir: Path, tag: str, logs: Path) -> None:
        self.tag = tag
        self._stderr_path = logs / f"child-{tag}.stderr"
        self._stderr = self._stderr_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(data_dir), tag],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=child_env(),
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _take(self, line: str | None) -> None:
        if line is None:
            self._fail(f"the app exited with status {self.proc.wait()}")
        assert line is not None
        if line.startswith("ERROR"):
            self._fail(line)
        self.lines.append(line)

    def wait_for(self, seen: Callable[[list[str]], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while not seen(self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"timed out waiting for {what}")
            try:
                self._take(self._queue.get(timeout=remaining))
            except queue.Empty:
                continue

    def kill(self) -> Reported:
        """SIGKILL, like a power cut for the app; returns all it reported before dying."""
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=WAIT_S) == -signal.SIGKILL
        self._reader.join(WAIT_S)
        while (line := self._queue.get_nowait()) is not None:
            self.lines.append(line)  # printed (so saved) before the kill, read after it
        self._stderr.close()
        return Reported.parse(self.lines)

    def _fail(self, why: str) -> None:
        self.proc.kill()
        self.proc.wait(timeout=WAIT_S)
        self._stderr.close()
        stderr = self._stderr_path.read_text(encoding="utf-8")[-3000:]
        pytest.fail(f"child {self.tag}: {why}\nlast lines: {self.lines[-5:]}\nstderr:\n{stderr}")


def run_and_kill(
    data_dir: Path, tag: str, seen: Callable[[list[str]], bool], what: str
) -> Reported:
    child = Child(data_dir, tag, data_dir.parent)
    child.wait_for(seen, what)
    return child.kill()


def check_file_intact(data_dir: Path) -> None:
    connection = sqlite3.connect(data_dir / CLINICAL_DB_NAME)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def check_markers(stored: list[str], reported: list[str], tag: str) -> None:
    """Every reported marker is stored, in order, once; at most the one being written when
    the kill came is stored without having been reported."""
    mine = [label for label in stored if label.startswith(f"Kill test {tag} note ")]
    assert mine[: len(reported)] == reported
    assert mine in (reported, [*reported, f"Kill test {tag} note {len(reported)}"])


def check_checkin(stored: list[ObservationRecord], reported: Reported) -> None:
    """The baseline check-in the app showed saved is stored with every value it was entered
    with; unreported, at most the one being written when the kill came is stored."""
    if reported.checkin is None:
        assert reported.participant_id is None  # the child doses only after the check-in
        assert len(stored) <= 1
        return
    # The app showed what was typed (C, 124 Tab 80 Enter, Enter): the baseline, on room air,
    # with the baseline's other measures recorded as not taken
    typed = {name: getattr(BASELINE_TYPED, name) for name in READING_FIELDS}
    assert reported.checkin.values == typed
    assert (reported.checkin.checkin_key, reported.checkin.on_room_air) == ("baseline", True)
    assert reported.checkin.not_taken == ("hr", "spo2", "rr", "suds")
    assert reported.checkin.session_id == reported.session_id
    # And it is in the database, exactly as shown, alone
    assert stored == [reported.checkin]


def check_nothing_lost(data_dir: Path, runs: dict[str, Reported]) -> None:
    """The file is intact, the app's own opening works, and every reported entry is there."""
    check_file_intact(data_dir)
    first = next(iter(runs.values()))
    assert first.client_id is not None and first.session_id is not None
    context = open_context(paths_of(data_dir))
    try:
        service = context.service
        assert service.clients.get(first.client_id).full_name == "Maya Fischer"
        record = service.sessions.get(first.session_id)
        assert record.status == "live"
        assert [s.id for s in service.live_sessions()] == [first.session_id]
        doses = service.entries.doses(first.session_id)
        if first.participant_id is not None:
            assert [(d.participant_id, d.kind) for d in doses] == [
                (first.participant_id, "initial")
            ]
        assert len(doses) <= 1
        observations = CheckinRepository(context.database).observations(first.session_id)
        check_checkin(observations, first)
        stored = [e.label for e in service.entries.events(first.session_id) if e.kind == "marker"]
        for tag, reported in runs.items():
            assert reported.session_id == first.session_id
            check_markers(stored, reported.markers, tag)
    finally:
        context.close()


MOMENTS = [
    pytest.param(line_starting("SESSION"), "the session start", id="just-started"),
    pytest.param(line_starting("DOSE"), "the dose", id="just-dosed"),
    pytest.param(markers_at_least(1), "the first marker", id="first-marker"),
    pytest.param(markers_at_least(40), "40 markers", id="writing-markers"),
]


@pytest.mark.parametrize(("moment", "what"), MOMENTS)
def test_a_kill_at_any_moment_loses_no_reported_entry(
    tmp_path: Path, moment: Callable[[list[str]], bool], what: str
) -> None:
    # Given the real app on a fresh data folder, driven by keyboard
    data_dir = tmp_path / "data"
    # When it is killed with SIGKILL right after `what` was reported saved
    reported = run_and_kill(data_dir, "run", moment, what)
    # Then the file is intact, opens again, the session is live, and nothing reported is lost
    check_nothing_lost(data_dir, {"run": reported})


def test_killed_twice_with_a_resume_between_loses_nothing(tmp_path: Path) -> None:
    # Given the app killed while writing markers
    data_dir = tmp_path / "data"
    first = run_and_kill(data_dir, "first", markers_at_least(15), "15 markers")
    # When it is started again (its lock file left behind by the kill), resumed with Enter on
    # Resume, and killed again while writing markers
    second = run_and_kill(data_dir, "second", markers_at_least(15), "15 more markers")
    # Then it resumed the same session, and every marker of both runs is stored
    assert second.resumed and second.session_id == first.session_id
    second.client_id, second.participant_id = first.client_id, first.participant_id
    check_nothing_lost(data_dir, {"first": first, "second": second})


@dataclass(frozen=True)
class Killed:
    data_dir: Path
    reported: Reported


@pytest.fixture
def killed(tmp_path: Path) -> Killed:
    """A data folder whose app was killed while writing markers, a few seconds into a session
    dosed right after its start."""
    data_dir = tmp_path / "data"
    reported = run_and_kill(data_dir, "run", markers_at_least(5), "5 markers")
    return Killed(data_dir, reported)


class DialogWatch:
    """Closes any modal dialog (none is expected) so the test fails instead of hanging."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog):
            self.seen.append(dialog.windowTitle())
            dialog.reject()

    def stop(self) -> list[str]:
        self._timer.stop()
        return self.seen


@pytest.fixture
def dialog_watch(qtbot: QtBot) -> Iterator[DialogWatch]:
    watch = DialogWatch()
    yield watch
    assert watch.stop() == []


def hms(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


STATUS_WORDS = {
    CheckinStatus.OVERDUE: " — overdue ",
    CheckinStatus.DUE: " — due now",
    CheckinStatus.UPCOMING: " — in ",
}
MISSED_PHASES = {
    27: ["Peak"],
    95: ["Peak", "Re-entry", "Early integration"],
    200: ["Peak", "Re-entry", "Early integration", "Discharge"],
}


@pytest.mark.parametrize("later_min", sorted(MISSED_PHASES))
def test_the_restart_resumes_at_the_right_time_and_writes_missed_phases_once(
    qtbot: QtBot, qapp: QApplication, killed: Killed, dialog_watch: DialogWatch, later_min: int
) -> None:
    # Given the killed session as stored, and a clock `later_min` after its start
    session_id = killed.reported.session_id
    assert session_id is not None
    before = open_context(paths_of(killed.data_dir))
    try:
        snapshot = before.service.read_state(session_id)
    finally:
        before.close()
    started = snapshot.record.started_at
    assert started is not None
    (first_dose,) = snapshot.first_doses.values()
    now: datetime = started + timedelta(minutes=later_min)
    clock = FakeClock(now)
    # When the app is opened on the killed data folder at that time
    context = open_context(paths_of(killed.data_dir), clock=clock)
    apply_room_theme(qapp)
    window = MainWindow(training=False)
    qtbot.addWidget(window)
    controller = AppController(window, context, training=False)
    sign_in(controller)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow() and QApplication.focusWidget() is not None)
    # Then the start screen offers the session, with the focus on Resume
    start = window.start_view
    assert start.live_list.count() == 1
    assert start.live_list.item(0).data(Qt.ItemDataRole.UserRole) == session_id
    assert QApplication.focusWidget() is start.resume_button
    # When Enter is pressed
    QTest.keyClick(start.resume_button, Qt.Key.Key_Return)
    live = controller.live
    assert live is not None and live.record.id == session_id
    # Then the clocks, the phase and the check-ins are those of the stored anchors at `now`
    view = window.live_view
    (participant_id,) = snapshot.first_doses
    expected = compute_timeline(
        snapshot.protocol,
        started_at=started,
        now=now,
        first_dose_at=first_dose,
        done_checkins=snapshot.done_checkins.get(participant_id, set()),
    )
    assert view.elapsed.text() == hms((now - started).total_seconds()) == f"{hms(later_min * 60)}"
    assert view.since_dose.text() == f"T+{hms((now - first_dose).total_seconds())}"
    phase = expected.current_phase
    assert view.phase_name.text() == (phase.spec.name if phase else "Past the planned end")
    shown = [line.text() for line in view.checkin_lines if line.isVisible()]
    upcoming = expected.next_checkins(len(view.checkin_lines))
    assert len(shown) == len(upcoming)
    for text, checkin in zip(shown, upcoming, strict=True):
        assert text.startswith(checkin.spec.label + STATUS_WORDS[checkin.status]), text
    assert any(c.status is CheckinStatus.OVERDUE for c in upcoming)
    # And the phase changes missed while the app was dead are written, late, at their times
    recorded = [e.occurred_at for e in snapshot.events.standing if e.kind == "phase_change"]
    missed = phase_changes_between(
        snapshot.protocol,
        started_at=started,
        first_dose_at=first_dose,
        after=max(recorded),
        upto=now,
    )
    assert [p.name for _at, p in missed] == MISSED_PHASES[later_min]
    old_ids = {e.id for e in snapshot.events.all}
    new = [e for e in context.service.entries.events(session_id) if e.id not in old_ids]
    assert [(e.kind, e.label, e.occurred_at, e.recorded_at) for e in new] == [
        ("phase_change", p.name, at, now) for at, p in missed
    ]
    # And only once: back to the start screen and resumed again, nothing more is written
    QTest.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert controller.live is None and not live._timer.isActive()
    assert QApplication.focusWidget() is start.resume_button
    QTest.keyClick(start.resume_button, Qt.Key.Key_Return)
    assert len(context.service.entries.events(session_id)) == len(old_ids) + len(new)
    QTest.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    context.close()


def test_the_real_app_starts_cleanly_on_the_killed_data(killed: Killed, tmp_path: Path) -> None:
    # Given the data folder of a killed app (its lock file and WAL left behind)
    log_file = paths_of(killed.data_dir).log_file
    log_start = log_file.stat().st_size
    stderr_path = tmp_path / "app.stderr"
    # When the real `python -m kapsession` starts on it, offscreen
    with stderr_path.open("w", encoding="utf-8") as stderr:
        app = subprocess.Popen(
            [sys.executable, "-m", "kapsession", "--data-dir", str(killed.data_dir)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=child_env(),
        )
        try:
            deadline = time.monotonic() + WAIT_S
            while "window shown" not in log_file.read_text(encoding="utf-8")[log_start:]:
                assert app.poll() is None, f"the app exited with status {app.returncode}"
                assert time.monotonic() < deadline, "the app never showed its window"
                time.sleep(0.05)
            # Then it showed its window and keeps running (a couple of seconds of soak: nothing
            # is expected to happen, so nothing can be waited for), and ends on SIGTERM
            time.sleep(2)
            assert app.poll() is None, f"the app exited with status {app.returncode}"
            app.send_signal(signal.SIGTERM)
            assert app.wait(timeout=WAIT_S) == -signal.SIGTERM
        finally:
            if app.poll() is None:
                app.kill()
                app.wait(timeout=WAIT_S)
    # And nothing went wrong on the way: no traceback, no error in the log
    errors = stderr_path.read_text(encoding="utf-8")
    log = log_file.read_text(encoding="utf-8")[log_start:]
    assert "Traceback" not in errors
    assert "Traceback" not in log
    assert not [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]
