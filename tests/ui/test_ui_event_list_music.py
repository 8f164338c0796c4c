"""Music in the event list beside the note pad: each music event the session writes joins the
list from the record its save returned, with no read of the database, and nothing re-reads the
list on a timer; a full read (opening the session) gives the same list.

The real window and controller over a real SQLite file, the music on silent `NullPlayer`s whose
clock stands still (a track never ends by itself). The SQL is counted at the driver: sqlite3's
trace callback on every connection of the app's engine.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import event
from support.audio_files import silent_wav
from support.signing_in import sign_in
from ui_harness import START, WAIT_MS, ModalGuard, RunningApp, data_dir_context, room_theme

from kapsession.audio.backend import AudioBackend
from kapsession.audio.null_player import NullPlayer
from kapsession.domain.clock import FakeClock
from kapsession.records.entries import MusicEventRecord
from kapsession.records.errors import StorageError
from kapsession.records.session_log import LogItem, LogKind
from kapsession.services.live_log import LiveLog
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession
from kapsession.storage.database import Database
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow

ENTER = Qt.Key.Key_Return
INTENTION_AT = START + timedelta(minutes=20)  # arrival -> intention (sublingual protocol)


class StatementLog:
    """The SQL every connection of the engine sends, in order (one thread: one order)."""

    def __init__(self, database: Database) -> None:
        self.statements: list[str] = []
        event.listen(database.engine, "connect", self._on_connect)
        database.engine.dispose()  # connections made from now on are traced

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        dbapi_connection.set_trace_callback(self.statements.append)

    def mark(self) -> int:
        return len(self.statements)

    def reads_since(self, mark: int) -> list[str]:
        """SELECTs outside a write transaction: reads. (A save's own look-ups, between BEGIN
        IMMEDIATE and its COMMIT, are part of the write.)"""
        reads, writing = [], False
        for sql in self.statements[mark:]:
            word = sql.split(maxsplit=1)[0].upper() if sql.strip() else ""
            if word == "BEGIN":
                writing = "IMMEDIATE" in sql.upper()
            elif word in ("COMMIT", "ROLLBACK"):
                writing = False
            elif word == "SELECT" and not writing:
                reads.append(sql)
        return reads

    def selects_since(self, mark: int) -> list[str]:
        return [s for s in self.statements[mark:] if s.lstrip().upper().startswith("SELECT")]


def playlists(folder: Path) -> Path:
    """The arrival and intention playlists of the sublingual protocol, two short tracks each."""
    folder.mkdir()
    for phase in ("arrival", "intention"):
        lines = ["#EXTM3U"]
        for n in ("one", "two"):
            silent_wav(folder / "music" / f"{phase}-{n}.wav", 30)
            lines += [f"#EXTINF:-1,{phase.capitalize()} {n}", f"music/{phase}-{n}.wav"]
        (folder / f"{phase}.m3u8").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def silent_player() -> NullPlayer:
    """A player whose clock stands still: a track plays on until the test changes it."""
    return NullPlayer(monotonic_s=lambda: 0.0)


@pytest.fixture
def music_app(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, modal_guard: ModalGuard
) -> Iterator[tuple[RunningApp, StatementLog]]:
    """The app with silent players, a live session a minute in, and its SQL traced; the test
    leaves the session at its end (Alt+Left), so no clock is left ticking."""
    room_theme(qapp)
    clock = FakeClock(START)
    context = data_dir_context(tmp_path / "data", clock)
    window = MainWindow(training=False)
    qtbot.addWidget(window)
    controller = AppController(
        window,
        context,
        training=False,
        audio_backend=AudioBackend(factory=silent_player, available=True),
        playlists=playlists(tmp_path / "playlists"),
    )
    sign_in(controller)
    window.show()
    qtbot.waitExposed(window)
    app = RunningApp(qtbot, context, clock, window, controller, modal_guard)
    app.ready()
    sql = StatementLog(context.service.database)
    app.start_session("Maya Fischer")
    app.advance(60)
    yield app, sql
    context.close()


def music(app: RunningApp) -> MusicSession:
    assert app.controller.music is not None
    return app.controller.music


def live(app: RunningApp) -> LiveSession:
    assert app.controller.live is not None
    return app.controller.live


def minutes_pass(app: RunningApp, minutes: float) -> None:
    """The room's clock moves on and the session ticks, as its timer would."""
    app.clock.advance(minutes * 60)
    live(app).tick()


def logged(app: RunningApp, request: Any) -> MusicEventRecord:
    """Send a request from the music panel; the music event it writes (waited for: a volume
    change is logged once it settles)."""
    with app.qtbot.waitSignal(music(app).music_logged, timeout=WAIT_MS) as blocker:
        request()
    (record,) = blocker.args
    assert isinstance(record, MusicEventRecord)
    return record


def shown(app: RunningApp) -> list[LogItem]:
    return app.live_view.events.shown_items()


def test_music_events_join_the_list_as_they_are_written_without_a_read(
    music_app: tuple[RunningApp, StatementLog],
) -> None:
    app, sql = music_app
    panel = app.live_view.music
    # Given the Notes tab with its event list on screen
    app.key(Qt.Key.Key_N)
    assert app.live_view.events.isVisible()

    for request, title, detail in [
        # When the therapist starts the music, skips to the next track, turns it down
        (panel.play_pause_requested.emit, "Track started", "Arrival one"),
        (panel.next_requested.emit, "Track skipped", "Arrival one"),
        (lambda: panel.volume_changed.emit(40.0), "Volume changed", "40 %"),
    ]:
        mark = sql.mark()
        record = logged(app, request)

        # Then right after the write the list holds its item, read from nowhere
        (item,) = [i for i in shown(app) if i.entry_id == record.id]
        assert (item.kind, item.title, item.detail) == (LogKind.MUSIC, title, detail)
        assert item.at == record.occurred_at == live(app).now()
        assert sql.reads_since(mark) == []
        assert not [s for s in sql.selects_since(mark) if "music_event" in s]
    app.leave_session()


def test_the_list_built_by_appending_equals_a_full_read_after_a_long_session(
    music_app: tuple[RunningApp, StatementLog],
) -> None:
    app, sql = music_app
    panel = app.live_view.music
    # Given a session with notes, markers, phase changes and music, interleaved
    app.key(Qt.Key.Key_N)
    logged(app, panel.play_pause_requested.emit)
    for minute in range(1, 31):
        minutes_pass(app, 1)
        if minute % 7 == 0:
            app.type(f"Note at minute {minute}")
            app.key(ENTER)
        if minute % 5 == 0:
            app.key(Qt.Key.Key_Escape)
            app.key(Qt.Key.Key_3)  # a quick marker (Tearful)
            app.key(Qt.Key.Key_N)
        if minute % 3 == 0:
            logged(app, panel.next_requested.emit)
        if minute == 11:
            logged(app, lambda: panel.volume_changed.emit(45.0))
        if minute == 16:
            logged(app, panel.play_pause_requested.emit)  # pause
        if minute == 17:
            logged(app, panel.play_pause_requested.emit)  # resume
    # the last stretch is music alone: what the list holds of it was appended, not read
    mark = sql.mark()
    for request in (panel.previous_requested.emit, panel.quiet_requested.emit):
        logged(app, request)
        minutes_pass(app, 1)
    logged(app, panel.play_pause_requested.emit)
    logged(app, music(app).stop)  # leaving the session would stop it, after the list closed
    assert sql.reads_since(mark) == []
    assert live(app).now() > INTENTION_AT  # the music moved to the intention playlist
    appended = shown(app)
    music_items = [i for i in appended if i.kind is LogKind.MUSIC]
    assert len(music_items) >= 20
    assert "Music moved to the phase's playlist" in {i.title for i in music_items}

    # When the session is opened again (a full read, the recovery path)
    session_id = live(app).record.id
    app.controller.open_session(session_id)

    # Then the list read from the database is the list built by appending
    assert shown(app) == appended
    app.leave_session()


def test_the_list_is_never_read_again_on_a_timer(
    music_app: tuple[RunningApp, StatementLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, sql = music_app
    # Given the Notes tab on screen, the music playing
    app.key(Qt.Key.Key_N)
    logged(app, app.live_view.music.play_pause_requested.emit)
    assert app.live_view.events.isVisible()

    # When a minute passes on the session clock and on the monotonic clock, second by second,
    # with nothing written
    real_monotonic, passed_s = time.monotonic, [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: real_monotonic() + passed_s[0])
    mark = sql.mark()
    for _ in range(60):
        passed_s[0] += 1
        minutes_pass(app, 1 / 60)
    monkeypatch.undo()

    # Then the database was not read at all
    assert sql.selects_since(mark) == []
    app.leave_session()


def test_a_log_that_cannot_be_read_is_tried_again_after_a_pause_not_on_every_tick(
    music_app: tuple[RunningApp, StatementLog], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _sql = music_app
    # Given the Notes tab on screen, and a log read that fails (the database refuses reads)
    app.key(Qt.Key.Key_N)
    notes = app.controller.notes
    assert notes.pad is not None
    attempts: list[float] = []

    def refused(*_args: Any) -> LiveLog:
        attempts.append(app.clock.monotonic())
        raise StorageError("The database cannot be read right now.")

    monkeypatch.setattr(notes.pad, "read_log", refused)
    live = app.controller.live
    assert live is not None
    live.reload()  # the recovery path reads the log in full again

    # When the session ticks on for a few seconds
    for _ in range(5):
        minutes_pass(app, 1 / 60)
    # Then the read was tried once, not on every tick
    assert len(attempts) == 1

    # When the pause has passed, Then it is tried again
    minutes_pass(app, 10 / 60)
    assert len(attempts) == 2

    # When the database answers again and something new is written, Then the list is read
    # at once and shows it
    monkeypatch.undo()
    record = logged(app, app.live_view.music.play_pause_requested.emit)
    assert record.id in {item.entry_id for item in shown(app)}
    app.leave_session()
