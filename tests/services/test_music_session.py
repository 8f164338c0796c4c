"""The session's music over a live session: phase playlists, transport, faults, the music log.

A real LiveSession on a FakeClock and a real database; the music runs on `NullPlayer`s (silent,
honest time) whose monotonic clock is a second fake clock, `MusicClock`, so the session can
jump minutes ahead while the music stays mid-track, and a track ends only when the test moves
the music clock past it. Every assertion on the record reads the music_event rows back from
the database, in the order they were written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from services_support import START, Room
from sqlalchemy import select, text
from support.audio_files import silent_wav
from support.dosing import dose_now

from kapsession.audio.backend import AudioBackend, open_backend
from kapsession.audio.libvlc import install_hint
from kapsession.audio.null_player import NullPlayer
from kapsession.audio.player import PlayerState
from kapsession.records.entries import MusicEventRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import (
    DEFAULT_ROOM_MAX_VOLUME_PCT,
    DEFAULT_VOLUME_PCT,
    PAUSE_FADE_S,
    QUIET_FADE_S,
    MusicSession,
)
from kapsession.storage.models import MusicEvent
from kapsession.storage.music_log import MusicLogRepository

WAIT_MS = 15_000  # a guard against a hang, not a timing check (timers of 10-800 ms)
CROSSFADE_S = 6.0  # the sublingual protocol's crossfade
INTENTION_AT = START + timedelta(minutes=20)  # arrival -> intention (sublingual protocol)
DOSE_AT = START + timedelta(minutes=40)
DISCHARGE_AT = DOSE_AT + timedelta(minutes=120)  # a phase without a playlist
PLAYLIST_SUFFIXES = (".m3u", ".m3u8", ".pls", ".xspf")


# --- music files and playlists in tmp_path ----------------------------------------------------


def m3u8(folder: Path, name: str, *entries: tuple[str, str | None]) -> Path:
    """An extended M3U8 listing (relative path, title or None) pairs."""
    lines = ["#EXTM3U"]
    for location, title in entries:
        if title:
            lines.append(f"#EXTINF:-1,{title}")
        lines.append(location)
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class MusicClock:
    """The music's monotonic clock (seconds): moves only when the test says."""

    now_s: float = 100.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@dataclass(frozen=True)
class Row:
    """The fields of a music_event row a test compares."""

    kind: str
    track: str | None
    playlist: str | None
    phase_key: str | None
    position_ms: int | None
    volume_pct: float | None


@dataclass
class Harness:
    """A live session with its music, the players made for it, and what it told the therapist."""

    room: Room
    record: SessionRecord
    live: LiveSession
    music: MusicSession
    clock: MusicClock
    folder: Path
    players: list[NullPlayer]
    notices: list[str] = field(default_factory=list)

    def events(self) -> list[MusicEvent]:
        """The session's music_event rows in the order they were written (SQLite rowid)."""
        with self.room.context.database.read() as orm:
            rows = list(
                orm.scalars(
                    select(MusicEvent)
                    .where(MusicEvent.session_id == self.record.id)
                    .order_by(text("rowid"))
                )
            )
            orm.expunge_all()
        return rows

    def rows(self) -> list[Row]:
        return [
            Row(e.kind, e.track_title, e.playlist, e.phase_key, e.position_ms, e.volume_pct)
            for e in self.events()
        ]

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events()]

    def session_to(self, when: Any) -> None:
        """The room's clock moves to `when` and the live session ticks, as its timer would."""
        self.room.clock.advance((when - self.room.clock.now()).total_seconds())
        self.live.tick()

    def playing(self) -> list[NullPlayer]:
        return [p for p in self.players if p.state is PlayerState.PLAYING]

    def alone_at_full_volume(self, name: str) -> bool:
        """Only music/`name` plays, at the chosen volume: any fade has finished."""
        playing = self.playing()
        return [p.source for p in playing] == [self.folder / "music" / name] and playing[
            0
        ].volume_pct == pytest.approx(self.music.now_playing().volume_pct)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A clinic's playlists folder: one playlist per early phase, short tracks beside it."""
    lists = tmp_path / "playlists"
    lists.mkdir()
    music = lists / "music"
    silent_wav(music / "arrival-one.wav", 30)
    silent_wav(music / "arrival-two.wav", 40)
    silent_wav(music / "intention-one.wav", 30)
    silent_wav(music / "intention-two.wav", 30)
    silent_wav(music / "integration-one.wav", 20)
    silent_wav(music / "calm-one.wav", 25)
    m3u8(
        lists,
        "arrival.m3u8",
        ("music/arrival-one.wav", "Arrival one"),
        ("music/arrival-two.wav", "Arrival two"),
    )
    m3u8(
        lists,
        "intention.m3u8",
        ("music/intention-one.wav", "Intention one"),
        ("music/intention-two.wav", "Intention two"),
    )
    m3u8(lists, "integration.m3u8", ("music/integration-one.wav", "Integration one"))
    (lists / "calm.pls").write_text(
        "[playlist]\nFile1=music/calm-one.wav\nTitle1=Calm one\nNumberOfEntries=1\n",
        encoding="utf-8",
    )
    return lists


MakeHarness = Callable[..., Harness]


@pytest.fixture
def make_harness(room: Room, folder: Path, qtbot: QtBot) -> Iterator[MakeHarness]:
    """`make_harness(transition=..., backend=..., room_max_volume_pct=...)`: a live session
    started at START with MusicSession following it; closed after the test."""
    made: list[Harness] = []

    def make(
        *,
        transition: str = "fade",
        backend: AudioBackend | Callable[[], AudioBackend] | None = None,
        room_max_volume_pct: float = DEFAULT_ROOM_MAX_VOLUME_PCT,
    ) -> Harness:
        record = room.start()
        live, _signals = room.open_live(record.id)
        clock = MusicClock()
        players: list[NullPlayer] = []

        def null_player() -> NullPlayer:
            player = NullPlayer(monotonic_s=clock, tick_ms=10)
            players.append(player)
            return player

        music = MusicSession(
            live,
            MusicLogRepository(room.context.database),
            backend or AudioBackend(factory=null_player, available=True),
            folder,
            room_max_volume_pct=room_max_volume_pct,
            monotonic_s=clock,
        )
        music.set_transition(transition)
        harness = Harness(room, record, live, music, clock, folder, players)
        music.notice.connect(harness.notices.append)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.music.close()
        harness.live.stop()


def wait_until(qtbot: QtBot, condition: Callable[[], bool]) -> None:
    qtbot.waitUntil(condition, timeout=WAIT_MS)


def start_playing(qtbot: QtBot, h: Harness, *, played_s: float = 10.0) -> NullPlayer:
    """Press play and let the first track's 2 s fade-in finish and `played_s` pass."""
    h.music.play()
    player = h.playing()[0]
    h.clock.advance(played_s)
    wait_until(qtbot, lambda: player.position_ms >= played_s * 1000)
    wait_until(qtbot, lambda: player.volume_pct == pytest.approx(DEFAULT_VOLUME_PCT))
    return player


def row(
    kind: str,
    track: str | None,
    playlist: str | None = "arrival.m3u8",
    phase: str | None = "arrival",
    position_ms: int | None = None,
    volume_pct: float | None = DEFAULT_VOLUME_PCT,
) -> Row:
    return Row(kind, track, playlist, phase, position_ms, volume_pct)


# --- play -------------------------------------------------------------------------------------


def test_nothing_plays_until_play_then_the_phase_playlist_starts_and_is_logged(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given a live session whose music follows the phases
    h = make_harness()
    now = h.music.now_playing()
    assert (now.state, now.playlist_name, now.track_title) == ("stopped", "arrival.m3u8", None)

    # When minutes pass, the phase changes and the clock ticks, without anyone pressing play
    h.session_to(START + timedelta(minutes=5))
    h.session_to(INTENTION_AT + timedelta(seconds=30))
    qtbot.wait(0)  # let any queued event run; nothing must be waiting to start music

    # Then nothing plays and nothing is logged, but the phase's playlist is ready
    assert h.playing() == []
    assert h.kinds() == []
    assert h.music.now_playing().playlist_name == "intention.m3u8"

    # When the therapist presses play
    h.music.play()

    # Then the phase's first track plays and its start is in the record
    now = h.music.now_playing()
    assert (now.state, now.track_title, now.duration_ms) == ("playing", "Intention one", 30000)
    assert [p.source for p in h.playing()] == [h.folder / "music" / "intention-one.wav"]
    assert h.rows() == [row("track_start", "Intention one", "intention.m3u8", "intention")]
    start = h.events()[0]
    assert start.track_path == str(h.folder / "music" / "intention-one.wav")
    assert start.detail == {"duration_ms": 30000}
    assert start.occurred_at == h.live.now()


def test_play_while_playing_changes_nothing(make_harness: MakeHarness, qtbot: QtBot) -> None:
    h = make_harness()
    start_playing(qtbot, h)
    h.music.play()
    assert h.kinds() == ["track_start"]
    assert len(h.playing()) == 1


# --- transport --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param(
            lambda m: m.seek(20000),
            [row("seek", "Arrival one", position_ms=20000)],
            id="seek",
        ),
        pytest.param(
            lambda m: m.next(),
            [
                row("skip", "Arrival one", position_ms=10000),
                row("track_end", "Arrival one"),
                row("track_start", "Arrival two"),
            ],
            id="next",
        ),
        pytest.param(
            lambda m: m.previous(),  # 10 s into the track: back to its start
            [row("seek", "Arrival one", position_ms=0)],
            id="previous-restarts",
        ),
    ],
)
def test_transport_actions_are_logged_with_track_playlist_phase_and_position(
    make_harness: MakeHarness, qtbot: QtBot, action: Callable[[MusicSession], None], expected
) -> None:
    # Given the first arrival track has played for 10 s
    h = make_harness()
    start_playing(qtbot, h, played_s=10)

    # When the therapist uses the transport
    action(h.music)

    # Then exactly these rows follow the track's start in the record
    assert h.rows() == [row("track_start", "Arrival one"), *expected]


def test_each_music_event_written_is_signalled_with_the_record_of_its_row(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given a session whose music events are listened to
    h = make_harness()
    signalled: list[MusicEventRecord] = []
    h.music.music_logged.connect(signalled.append)

    # When the music starts, skips to the next track and is paused
    start_playing(qtbot, h, played_s=10)
    h.music.next()
    h.music.pause()

    # Then every row written was signalled once, in order, as it reads back from the database
    assert [r.kind for r in signalled] == [
        "track_start",
        "skip",
        "track_end",
        "track_start",
        "pause",
    ]
    assert signalled == MusicLogRepository(h.room.context.database).for_session(h.record.id)


def test_seek_moves_the_music(make_harness: MakeHarness, qtbot: QtBot) -> None:
    h = make_harness()
    player = start_playing(qtbot, h, played_s=10)
    h.music.seek(20000)
    assert player.position_ms == 20000
    assert h.music.now_playing().remaining_ms == 10000


def test_previous_early_in_a_track_goes_to_the_track_before_it(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given the second arrival track has just begun (3 s in)
    h = make_harness()
    start_playing(qtbot, h, played_s=3)
    h.music.next()
    h.clock.advance(3)
    wait_until(qtbot, lambda: h.music.now_playing().position_ms >= 3000)

    # When the therapist presses previous
    h.music.previous()

    # Then the first track plays again, after a skip row that says so
    skip = h.events()[-3]
    assert (skip.kind, skip.track_title, skip.detail) == (
        "skip",
        "Arrival two",
        {"direction": "previous", "to": "Arrival one"},
    )
    assert h.rows()[-2:] == [row("track_end", "Arrival two"), row("track_start", "Arrival one")]
    assert h.music.now_playing().track_title == "Arrival one"


def test_next_crossfades_to_the_next_track(make_harness: MakeHarness, qtbot: QtBot) -> None:
    h = make_harness()
    first = start_playing(qtbot, h)
    h.music.next()
    # both play while the short skip crossfade runs, then only the new one
    assert len(h.playing()) == 2
    h.clock.advance(2.0)
    wait_until(qtbot, lambda: h.alone_at_full_volume("arrival-two.wav"))
    assert first.state is PlayerState.STOPPED
    assert h.events()[-3].detail == {"direction": "next", "to": "Arrival two"}


@pytest.mark.parametrize(
    ("action", "state", "fade_s", "detail"),
    [
        pytest.param("pause", "paused", PAUSE_FADE_S, {}, id="pause"),
        pytest.param("quiet", "quiet", QUIET_FADE_S, {"fade_s": QUIET_FADE_S}, id="quiet"),
    ],
)
def test_pause_and_quiet_fade_out_then_play_fades_back_in(
    make_harness: MakeHarness, qtbot: QtBot, action: str, state: str, fade_s: float, detail
) -> None:
    # Given music playing
    h = make_harness()
    player = start_playing(qtbot, h)

    # When the therapist pauses (or quiets) the music
    getattr(h.music, action)()

    # Then it is logged at once, fades over `fade_s` and then pauses, keeping its place
    kind = action
    assert h.music.state == state
    assert h.rows()[-1] == row(kind, "Arrival one")
    assert h.events()[-1].detail == detail
    assert player.state is PlayerState.PLAYING
    h.clock.advance(fade_s)
    wait_until(qtbot, lambda: player.state is PlayerState.PAUSED)
    assert player.volume_pct == 0
    assert player.position_ms == pytest.approx(10000 + fade_s * 1000, abs=20)
    assert h.music.now_playing().state == state

    # When play is pressed
    h.music.play()

    # Then the same track resumes where it paused, fading back to the chosen volume
    assert player.state is PlayerState.PLAYING
    assert h.rows()[-1] == row("resume", "Arrival one")
    h.clock.advance(fade_s)
    wait_until(qtbot, lambda: player.volume_pct == pytest.approx(DEFAULT_VOLUME_PCT))
    assert h.kinds() == ["track_start", kind, "resume"]


def test_a_track_that_runs_out_while_fading_to_quiet_does_not_start_the_music_again(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given the first 30 s track is 2 s from its end
    h = make_harness()
    player = start_playing(qtbot, h, played_s=28)

    # When the therapist quiets the music (a 4 s fade) and the track ends during the fade
    h.music.quiet()
    h.clock.advance(3)
    wait_until(qtbot, lambda: h.kinds()[-1] == "track_end")
    h.clock.advance(QUIET_FADE_S)
    wait_until(qtbot, lambda: player.volume_pct == 0)

    # Then the music stays silent
    assert h.playing() == []
    assert h.kinds() == ["track_start", "quiet", "track_end"]
    assert h.music.now_playing().state == "stopped"

    # When play is pressed, the playlist goes on with the next track
    h.music.play()
    assert h.rows()[-1] == row("track_start", "Arrival two")


def test_pause_or_quiet_when_nothing_plays_logs_nothing(make_harness: MakeHarness) -> None:
    h = make_harness()
    h.music.pause()
    h.music.quiet()
    h.music.seek(5000)
    h.music.next()
    assert h.kinds() == []
    assert h.music.state == "stopped"


# --- volume -----------------------------------------------------------------------------------


def test_a_volume_drag_is_logged_once_when_it_settles(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given music playing at the default volume
    h = make_harness()
    player = start_playing(qtbot, h)

    # When the therapist drags the volume slider down through many values
    for volume_pct in range(60, 29, -2):
        h.music.set_volume(volume_pct)

    # Then the music follows at once, and once the drag settles one volume row is written
    assert player.volume_pct == pytest.approx(30)
    assert h.kinds() == ["track_start"]
    wait_until(qtbot, lambda: h.kinds() == ["track_start", "volume"])
    assert h.rows()[-1] == row("volume", "Arrival one", volume_pct=30)
    assert h.music.now_playing().volume_pct == 30


@pytest.mark.parametrize(
    ("room_max", "asked", "expected"),
    [
        pytest.param(80.0, 100.0, 80.0, id="capped"),
        pytest.param(80.0, 75.0, 75.0, id="below-the-cap"),
        pytest.param(50.0, 60.0, 50.0, id="quiet-room"),
        pytest.param(80.0, -5.0, 0.0, id="negative"),
    ],
)
def test_volume_is_capped_at_the_room_maximum(
    make_harness: MakeHarness, qtbot: QtBot, room_max: float, asked: float, expected: float
) -> None:
    # Given a room whose maximum is `room_max`
    h = make_harness(room_max_volume_pct=room_max)
    h.music.play()
    h.clock.advance(3)
    player = h.playing()[0]
    wait_until(qtbot, lambda: player.volume_pct == pytest.approx(min(DEFAULT_VOLUME_PCT, room_max)))

    # When the therapist asks for `asked`
    h.music.set_volume(asked)

    # Then the music plays at no more than the room's maximum, and that is what is logged
    now = h.music.now_playing()
    assert (now.volume_pct, now.max_volume_pct) == (expected, room_max)
    assert player.volume_pct == pytest.approx(expected)
    wait_until(qtbot, lambda: "volume" in h.kinds())
    assert h.events()[-1].volume_pct == expected


def test_a_volume_change_still_pending_is_logged_when_the_music_closes(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    h = make_harness()
    start_playing(qtbot, h)
    h.music.set_volume(40)
    h.music.close()
    assert h.rows()[-1] == row("volume", "Arrival one", volume_pct=40)


# --- phases -----------------------------------------------------------------------------------


def test_a_phase_change_with_fade_crossfades_at_once_to_the_new_phase_playlist(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given arrival music playing and the transition "fade"
    h = make_harness(transition="fade")
    outgoing = start_playing(qtbot, h)

    # When the session enters the intention phase
    h.session_to(INTENTION_AT + timedelta(seconds=5))

    # Then the transition, the old track's end and the new playlist's first track are logged
    assert h.rows()[1:] == [
        row("phase_transition", None, "intention.m3u8", "intention"),
        row("track_end", "Arrival one", "arrival.m3u8", "intention"),
        row("track_start", "Intention one", "intention.m3u8", "intention"),
    ]
    assert h.events()[1].detail == {
        "from_phase": "arrival",
        "to_phase": "intention",
        "mode": "fade",
    }
    assert h.events()[1].occurred_at == INTENTION_AT + timedelta(seconds=5)
    now = h.music.now_playing()
    assert (now.track_title, now.playlist_name, now.pending_playlist) == (
        "Intention one",
        "intention.m3u8",
        None,
    )
    # ... and the two tracks crossfade over the protocol's crossfade length
    assert len(h.playing()) == 2
    h.clock.advance(CROSSFADE_S / 2)
    wait_until(qtbot, lambda: 0 < outgoing.volume_pct < DEFAULT_VOLUME_PCT)
    h.clock.advance(CROSSFADE_S / 2)
    wait_until(qtbot, lambda: h.alone_at_full_volume("intention-one.wav"))
    assert outgoing.state is PlayerState.STOPPED


def test_a_phase_change_with_track_end_waits_for_the_current_track(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given arrival music 10 s into a 30 s track, with the transition "track_end"
    h = make_harness(transition="track_end")
    current = start_playing(qtbot, h, played_s=10)

    # When the session enters the intention phase
    h.session_to(INTENTION_AT + timedelta(seconds=5))

    # Then the transition is logged as waiting, the track plays on, the next playlist is shown
    assert h.rows()[1:] == [row("phase_transition", None, "intention.m3u8", "intention")]
    assert h.events()[1].detail == {
        "from_phase": "arrival",
        "to_phase": "intention",
        "mode": "track_end",
        "waits_for_track_end": True,
    }
    now = h.music.now_playing()
    assert (now.track_title, now.playlist_name, now.pending_playlist) == (
        "Arrival one",
        "arrival.m3u8",
        "intention.m3u8",
    )
    assert h.playing() == [current]

    # When the track reaches its end (the crossfade begins `crossfade_s` before it)
    h.clock.advance(30 - 10 - CROSSFADE_S + 0.5)
    wait_until(qtbot, lambda: "track_start" in h.kinds()[1:])

    # Then the intention playlist starts, not the arrival playlist's second track
    assert h.rows()[2:] == [
        row("track_end", "Arrival one", "arrival.m3u8", "intention"),
        row("track_start", "Intention one", "intention.m3u8", "intention"),
    ]
    now = h.music.now_playing()
    assert (now.track_title, now.playlist_name, now.pending_playlist) == (
        "Intention one",
        "intention.m3u8",
        None,
    )
    h.clock.advance(CROSSFADE_S)
    wait_until(qtbot, lambda: h.alone_at_full_volume("intention-one.wav"))
    assert current.state is PlayerState.STOPPED


@pytest.mark.parametrize("transition", ["fade", "track_end"])
def test_with_follow_phases_off_the_music_stays(
    make_harness: MakeHarness, qtbot: QtBot, transition: str
) -> None:
    # Given arrival music playing, and the therapist has told the music not to follow phases
    h = make_harness(transition=transition)
    player = start_playing(qtbot, h)
    h.music.set_follow_phases(False)

    # When the session enters the intention phase and the track ends
    h.session_to(INTENTION_AT + timedelta(seconds=5))
    h.clock.advance(30)
    wait_until(qtbot, lambda: h.kinds().count("track_start") == 2)

    # Then the arrival playlist carries on and no transition is logged
    assert "phase_transition" not in h.kinds()
    assert h.rows()[-1] == row("track_start", "Arrival two", phase="intention")
    now = h.music.now_playing()
    assert (now.playlist_name, now.pending_playlist, now.follow_phases) == (
        "arrival.m3u8",
        None,
        False,
    )
    wait_until(qtbot, lambda: h.alone_at_full_volume("arrival-two.wav"))
    assert player.source == h.folder / "music" / "arrival-two.wav"  # cut at the end: same player


def give_dose_and_reach_integration(h: Harness) -> None:
    h.session_to(DOSE_AT)
    assert dose_now(h.live, h.record.participants[0].id)
    h.session_to(DISCHARGE_AT - timedelta(minutes=1))
    assert h.live.state().current_phase.spec.key == "integration"


def test_a_phase_without_a_playlist_fades_the_music_out_with_fade(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given integration music playing with the transition "fade"
    h = make_harness(transition="fade")
    give_dose_and_reach_integration(h)
    player = start_playing(qtbot, h, played_s=5)
    assert h.music.now_playing().playlist_name == "integration.m3u8"

    # When the session enters the discharge phase, which has no playlist
    h.session_to(DISCHARGE_AT + timedelta(seconds=10))

    # Then the transition to silence is logged and the music fades out and stays silent
    transition = h.events()[-1]
    assert (transition.kind, transition.phase_key, transition.detail) == (
        "phase_transition",
        "discharge",
        {
            "from_phase": "integration",
            "to_phase": "discharge",
            "mode": "fade",
            "to_playlist": None,
        },
    )
    h.clock.advance(QUIET_FADE_S)
    wait_until(qtbot, lambda: player.state is PlayerState.PAUSED)
    assert player.volume_pct == 0
    assert h.music.now_playing().playlist_fit() == ""  # no playlist: nothing to compare


def test_a_phase_without_a_playlist_lets_the_track_end_with_track_end(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given integration music (one 20 s track) playing with the transition "track_end"
    h = make_harness(transition="track_end")
    give_dose_and_reach_integration(h)
    start_playing(qtbot, h, played_s=5)

    # When the session enters the discharge phase and the track then ends
    h.session_to(DISCHARGE_AT + timedelta(seconds=10))
    assert h.kinds()[-1] == "phase_transition"
    assert len(h.playing()) == 1
    h.clock.advance(20)
    wait_until(qtbot, lambda: h.kinds()[-1] == "track_end")

    # Then the music stops there: nothing else starts
    assert h.kinds() == ["track_start", "phase_transition", "track_end"]
    assert h.playing() == []
    assert h.music.now_playing().state == "stopped"


def test_a_pause_is_kept_across_a_phase_change(make_harness: MakeHarness, qtbot: QtBot) -> None:
    # Given the therapist has paused the arrival music
    h = make_harness(transition="fade")
    player = start_playing(qtbot, h)
    h.music.pause()
    h.clock.advance(PAUSE_FADE_S)
    wait_until(qtbot, lambda: player.state is PlayerState.PAUSED)

    # When the session enters the intention phase
    h.session_to(INTENTION_AT + timedelta(seconds=5))

    # Then the music stays silent (music never starts by itself); the paused track is over and
    # the intention playlist waits for play
    qtbot.wait(0)
    assert h.playing() == []
    now = h.music.now_playing()
    assert (now.state, now.playlist_name, now.track_title) == ("stopped", "intention.m3u8", None)
    assert h.rows()[1:] == [
        row("pause", "Arrival one"),
        row("phase_transition", None, "intention.m3u8", "intention"),
        row("track_end", "Arrival one", "arrival.m3u8", "intention"),
    ]
    assert h.events()[2].detail["waits_for_play"] is True

    # When the therapist presses play, the intention playlist starts
    h.music.play()
    assert [p.source for p in h.playing()] == [h.folder / "music" / "intention-one.wav"]
    assert h.rows()[-1] == row("track_start", "Intention one", "intention.m3u8", "intention")


# --- choosing ---------------------------------------------------------------------------------


def test_choose_playlist_crossfades_to_it_and_the_next_phase_brings_its_own_back(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given arrival music playing
    h = make_harness(transition="fade")
    start_playing(qtbot, h)
    assert h.music.playlist_names() == [
        "arrival.m3u8",
        "calm.pls",
        "integration.m3u8",
        "intention.m3u8",
    ]

    # When the therapist chooses another playlist (a PLS file)
    h.music.choose_playlist("calm.pls")

    # Then the switch is logged as the therapist's and the calm playlist plays
    assert h.rows()[1:] == [
        row("playlist_switch", None, "calm.pls"),
        row("track_end", "Arrival one"),
        row("track_start", "Calm one", "calm.pls"),
    ]
    assert h.events()[1].detail == {"chosen_by": "therapist"}
    assert h.music.now_playing().playlist_name == "calm.pls"

    # When the next phase begins, the music follows the phases again
    h.session_to(INTENTION_AT + timedelta(seconds=5))
    assert h.rows()[-1] == row("track_start", "Intention one", "intention.m3u8", "intention")


def test_choose_playlist_that_cannot_be_read_gives_a_notice(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path
) -> None:
    (folder / "broken.pls").write_text("File1=nothing.wav\n", encoding="utf-8")
    h = make_harness()
    start_playing(qtbot, h)
    h.music.choose_playlist("broken.pls")
    assert h.kinds() == ["track_start"]
    assert any("broken.pls" in notice for notice in h.notices)
    assert h.music.now_playing().track_title == "Arrival one"


def test_choose_playlist_that_lists_itself_plays_its_track_and_says_what_was_left_out(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path
) -> None:
    # Given a playlist listing one track, then itself
    (folder / "loop.m3u").write_text("music/calm-one.wav\nloop.m3u\n", encoding="utf-8")
    h = make_harness()
    start_playing(qtbot, h)
    # When the therapist chooses it
    h.music.choose_playlist("loop.m3u")
    # Then its track plays, and a notice says the line listing the playlist was left out
    assert h.music.now_playing().playlist_name == "loop.m3u"
    assert h.notices == ["Playlist loop.m3u: line 2 lists this playlist itself; left out."]


@pytest.mark.parametrize("how", ["track-ends", "next-pressed"])
def test_choose_track_plays_it_then_the_playlist_carries_on(
    make_harness: MakeHarness, qtbot: QtBot, tmp_path: Path, how: str
) -> None:
    # Given arrival music playing (first track) and a single file elsewhere on the laptop
    single = silent_wav(tmp_path / "elsewhere" / "request_song.wav", 15)
    h = make_harness()
    start_playing(qtbot, h)

    # When the therapist chooses that one track
    h.music.choose_track(single)

    # Then it is logged as a switch to that file, and it plays
    switch = h.events()[1]
    assert (switch.kind, switch.playlist, switch.detail) == (
        "playlist_switch",
        "request_song.wav",
        {"single_track": str(single)},
    )
    assert h.rows()[-1] == row("track_start", "Request song", "request_song.wav")
    assert h.events()[-1].track_path == str(single)
    assert h.music.now_playing().playlist_name == "request_song.wav"

    # When it ends (or the therapist presses next), the arrival playlist carries on
    if how == "track-ends":
        h.clock.advance(15 + 1)
        wait_until(qtbot, lambda: h.kinds().count("track_start") == 3)
    else:
        h.music.next()
        assert h.events()[-3].detail == {"direction": "next", "to": "Arrival two"}
    assert h.rows()[-2:] == [
        row("track_end", "Request song", "request_song.wav"),
        row("track_start", "Arrival two"),
    ]
    assert h.music.now_playing().playlist_name == "arrival.m3u8"

    # ... and goes on through the arrival playlist, not back to the single track
    h.clock.advance(40 + 1)
    wait_until(qtbot, lambda: h.kinds().count("track_start") == 4)
    assert h.rows()[-1] == row("track_start", "Arrival one")


# --- faults -----------------------------------------------------------------------------------

BROKEN = {
    "missing": lambda path: None,
    "zero-length": lambda path: path.write_bytes(b""),
    "corrupt": lambda path: path.write_bytes(b"this is not music at all " * 400),
}


@pytest.mark.parametrize("fault", BROKEN)
def test_a_broken_first_track_is_logged_skipped_and_noticed(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path, fault: str
) -> None:
    # Given the arrival playlist's first file is missing, empty or corrupt
    broken = folder / "music" / "arrival-one.wav"
    broken.unlink()
    BROKEN[fault](broken)
    h = make_harness()

    # When the therapist presses play
    h.music.play()
    wait_until(qtbot, lambda: "track_start" in h.kinds())

    # Then the fault is logged against that file, the next track plays, the therapist is told
    assert h.rows() == [row("error", "Arrival one"), row("track_start", "Arrival two")]
    error = h.events()[0]
    assert error.track_path == str(broken)
    assert "arrival-one.wav" in error.detail["message"]
    assert len(h.notices) == 1
    assert "arrival-one.wav" in h.notices[0] and "Skipped" in h.notices[0]
    assert [p.source for p in h.playing()] == [folder / "music" / "arrival-two.wav"]
    assert h.music.now_playing().track_title == "Arrival two"

    # ... and the session clock and the record carry on
    h.session_to(START + timedelta(minutes=3))
    assert h.live.add_marker("Music skipped")
    assert h.live.state().elapsed_s == pytest.approx(180)


def test_an_entry_that_is_not_a_local_file_is_logged_and_skipped(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path
) -> None:
    # Given a playlist that lists a web stream and a Windows path before a real file
    silent_wav(folder / "music" / "good.wav", 10)
    m3u8(
        folder,
        "arrival.m3u8",
        ("https://radio.example/live", "Radio"),
        ("C:\\Users\\Nurse\\Music\\calm.mp3", "Calm"),
        ("music/good.wav", "Good"),
    )
    h = make_harness()

    # When the therapist presses play
    h.music.play()
    wait_until(qtbot, lambda: "track_start" in h.kinds())

    # Then both are logged as errors with where they point, and the real file plays
    assert [(r.kind, r.track) for r in h.rows()] == [
        ("error", "Radio"),
        ("error", "Calm"),
        ("track_start", "Good"),
    ]
    assert "https://radio.example/live" in h.events()[0].detail["message"]
    assert h.events()[0].track_path is None
    assert len(h.notices) == 2


@pytest.mark.parametrize("fault", BROKEN)
def test_a_broken_track_in_the_middle_is_skipped_when_its_turn_comes(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path, fault: str
) -> None:
    # Given a playlist good, broken, good
    silent_wav(folder / "music" / "good-one.wav", 10)
    silent_wav(folder / "music" / "good-two.wav", 10)
    BROKEN[fault](folder / "music" / "bad.wav")
    m3u8(
        folder,
        "arrival.m3u8",
        ("music/good-one.wav", "Good one"),
        ("music/bad.wav", "Bad"),
        ("music/good-two.wav", "Good two"),
    )
    h = make_harness()
    start_playing(qtbot, h, played_s=2)

    # When the first track reaches its end
    h.clock.advance(10)
    wait_until(qtbot, lambda: h.kinds().count("track_start") == 2)

    # Then the broken one is logged as an error (against itself) and the third track plays
    assert [(r.kind, r.track) for r in h.rows()] == [
        ("track_start", "Good one"),
        ("error", "Bad"),
        ("track_end", "Good one"),
        ("track_start", "Good two"),
    ]
    assert h.music.now_playing().track_title == "Good two"
    assert len(h.notices) == 1 and "bad.wav" in h.notices[0]


def test_when_every_file_is_broken_the_music_stops_with_a_notice(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path
) -> None:
    # Given a playlist whose files are all missing, empty or corrupt
    for name, fault in zip(("a.wav", "b.wav", "c.wav"), BROKEN.values(), strict=True):
        fault(folder / "music" / name)
    m3u8(folder, "arrival.m3u8", ("music/a.wav", "A"), ("music/b.wav", "B"), ("music/c.wav", "C"))
    h = make_harness()

    # When the therapist presses play
    h.music.play()
    wait_until(qtbot, lambda: h.music.state == "stopped")

    # Then each file is tried once, then the music stops and says why
    assert [(r.kind, r.track) for r in h.rows()] == [("error", "A"), ("error", "B"), ("error", "C")]
    assert h.music.now_playing().state == "stopped"
    assert h.playing() == []
    assert "No playable track is left" in h.notices[-1]
    # ... and the session carries on
    h.session_to(START + timedelta(minutes=1))
    assert h.live.add_marker("No music today")


# --- session end, fit, no libVLC -------------------------------------------------------------


@pytest.mark.parametrize("paused", [False, True], ids=["playing", "paused"])
def test_the_end_of_the_session_fades_the_music_out_and_logs_stop(
    make_harness: MakeHarness, qtbot: QtBot, paused: bool
) -> None:
    # Given music playing (or paused)
    h = make_harness()
    player = start_playing(qtbot, h)
    if paused:
        h.music.pause()

    # When the session ends
    h.session_to(START + timedelta(minutes=5))
    assert h.live.end_session()

    # Then a stop is logged, and the music fades to silence
    assert h.kinds()[-1] == "stop"
    assert h.events()[-1].detail == {"reason": "session ended"}
    h.clock.advance(QUIET_FADE_S)
    wait_until(qtbot, lambda: player.state is not PlayerState.PLAYING)
    assert player.volume_pct == 0
    assert h.kinds().count("stop") == 1


@pytest.mark.parametrize(
    ("tracks_s", "fit"),
    [
        pytest.param((30, 40), "playlist 19 min shorter than the phase (it repeats)", id="short"),
        pytest.param((600, 600), "playlist fits the phase", id="fits"),
        pytest.param((600, 600, 480), "playlist 8 min longer than the phase", id="long"),
    ],
)
def test_playlist_fit_compares_the_phase_playlist_with_the_phase(
    make_harness: MakeHarness, folder: Path, tracks_s: tuple[int, ...], fit: str
) -> None:
    # Given an arrival playlist (the phase lasts 20 min) of tracks measured from the files
    entries = []
    for i, seconds in enumerate(tracks_s):
        silent_wav(folder / "music" / f"fit-{i}.wav", seconds, rate_hz=100)
        entries.append((f"music/fit-{i}.wav", None))
    m3u8(folder, "arrival.m3u8", *entries)

    # Then the panel says how the playlist fits the phase
    now = make_harness().music.now_playing()
    assert (now.playlist_total_ms, now.phase_length_s) == (sum(tracks_s) * 1000, 1200)
    assert now.playlist_fit() == fit


def test_without_libvlc_the_problem_names_the_install_command_and_play_is_silent(
    make_harness: MakeHarness, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given python-vlc without libVLC: its first call fails (as on a laptop without VLC)
    import vlc

    def no_libvlc(*_args: object) -> object:
        raise NameError("no function 'libvlc_new'")

    monkeypatch.setattr(vlc, "Instance", no_libvlc)
    backend = open_backend()
    assert not backend.available

    # When the music is made on that back-end
    h = make_harness(backend=backend)

    # Then the panel shows the problem with the exact install command
    now = h.music.now_playing()
    assert not now.available
    assert install_hint() in (now.problem or "")

    # ... and play still works, silently, and is logged
    h.music.play()
    assert h.music.now_playing().state == "playing"
    assert h.rows() == [row("track_start", "Arrival one")]


# --- a back-end opened later (libVLC takes a moment to start) --------------------------------


@dataclass
class LaterBackend:
    """How to open a back-end, counting how often it was asked to."""

    backend: AudioBackend
    opened: int = 0

    def __call__(self) -> AudioBackend:
        self.opened += 1
        return self.backend


def without_libvlc() -> AudioBackend:
    return AudioBackend(
        factory=NullPlayer, available=False, problem=f"Install it with: {install_hint()}"
    )


def test_a_back_end_handed_over_unopened_is_opened_by_open_audio_once_and_said(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given music handed a way to open a back-end that turns out to have no libVLC
    later = LaterBackend(without_libvlc())
    h = make_harness(backend=later)
    changes: list[None] = []
    h.music.changed.connect(lambda: changes.append(None))
    # Then nothing is opened yet, and until it is music counts as available, stopped
    now = h.music.now_playing()
    assert (later.opened, now.available, now.problem, now.state) == (0, True, None, "stopped")
    assert (now.position_ms, now.duration_ms, now.playlist_name) == (0, 0, "arrival.m3u8")
    # When the back-end is opened
    h.music.open_audio()
    # Then it was opened once, and the music says it cannot play and why
    assert later.opened == 1
    assert len(changes) == 1
    now = h.music.now_playing()
    assert not now.available
    assert install_hint() in (now.problem or "")
    # When it is asked again, nothing more is opened
    h.music.open_audio()
    assert (later.opened, len(changes)) == (1, 1)


def test_music_used_before_its_back_end_is_opened_opens_it_first(
    make_harness: MakeHarness, qtbot: QtBot
) -> None:
    # Given music whose back-end is not opened yet
    players: list[NullPlayer] = []

    def null_player() -> NullPlayer:
        players.append(NullPlayer(tick_ms=10))
        return players[-1]

    later = LaterBackend(AudioBackend(factory=null_player, available=True))
    h = make_harness(backend=later)
    assert (later.opened, players) == (0, [])
    # When the therapist presses play
    h.music.play()
    # Then the back-end was opened, its players made, and the phase's first track plays
    assert later.opened == 1
    assert len(players) == 2
    assert [p.source for p in players if p.state is PlayerState.PLAYING] == [
        h.folder / "music" / "arrival-one.wav"
    ]
    assert h.rows() == [row("track_start", "Arrival one")]
    # And opening it afterwards changes nothing
    h.music.open_audio()
    assert (later.opened, len(players)) == (1, 2)
    h.music.stop()


def test_music_closed_before_its_back_end_is_opened_never_opens_it(
    make_harness: MakeHarness,
) -> None:
    later = LaterBackend(without_libvlc())
    h = make_harness(backend=later)
    h.music.close()
    h.music.open_audio()
    assert later.opened == 0


# --- the same faults on the real libVLC back-end --------------------------------------------


@pytest.fixture
def libvlc_backend() -> AudioBackend:
    """VlcPlayers on the real libVLC with a silent output (skipped where libVLC is missing,
    failing under CI=true). libVLC finds a corrupt file only once it tries to play it."""
    backend = open_backend(options=("--aout=dummy", "--file-caching=0"))
    if not backend.available:
        reason = backend.problem or "libVLC does not load"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (required under CI=true)")
        pytest.skip(reason)
    return backend


def test_on_libvlc_a_corrupt_track_is_skipped_to_one_that_plays(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path, libvlc_backend: AudioBackend
) -> None:
    # Given a playlist whose first file is corrupt and whose second plays
    BROKEN["corrupt"](folder / "music" / "bad.wav")
    silent_wav(folder / "music" / "good.wav", 20, rate_hz=8000)
    m3u8(folder, "arrival.m3u8", ("music/bad.wav", "Bad"), ("music/good.wav", "Good"))
    h = make_harness(backend=libvlc_backend)

    # When the therapist presses play
    h.music.play()

    # Then libVLC's failure is logged against the corrupt file and the good one plays
    wait_until(qtbot, lambda: h.music.now_playing().position_ms > 0)
    assert [(r.kind, r.track) for r in h.rows() if r.kind != "track_end"] == [
        ("track_start", "Bad"),
        ("error", "Bad"),
        ("track_start", "Good"),
    ]
    assert h.music.now_playing().track_title == "Good"
    assert "bad.wav" in h.notices[0]


def test_on_libvlc_a_playlist_of_only_broken_files_stops_instead_of_looping(
    make_harness: MakeHarness, qtbot: QtBot, folder: Path, libvlc_backend: AudioBackend
) -> None:
    # Given a playlist whose files are corrupt, missing and empty (libVLC plays none of them)
    for name, fault in zip(("a.wav", "b.wav", "c.wav"), BROKEN.values(), strict=True):
        fault(folder / "music" / name)
    BROKEN["corrupt"](folder / "music" / "d.wav")
    m3u8(
        folder,
        "arrival.m3u8",
        *[(f"music/{n}.wav", n.upper()) for n in "dabc"],
    )
    h = make_harness(backend=libvlc_backend)

    # When the therapist presses play
    h.music.play()

    # Then every file is tried once and the music stops with a notice
    wait_until(qtbot, lambda: h.music.state == "stopped")
    errors = [r.track for r in h.rows() if r.kind == "error"]
    assert errors == ["D", "A", "B", "C"]
    assert h.music.state == "stopped"
    assert "No playable track is left" in h.notices[-1]
