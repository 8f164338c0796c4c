"""Crossfader logic on silent NullPlayers and a fake clock: gains, ceiling, quiet and resume.

What these players are asked to play is checked here; that the ramps are what comes out
of the loudspeaker is test_audible_crossfade.py's job.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytestqt.qtbot import QtBot

from kapsession.audio.crossfader import Crossfader
from kapsession.audio.null_player import NullPlayer
from kapsession.audio.player import PlayerState
from kapsession.domain.clock import FakeClock

if TYPE_CHECKING:
    from conftest import Tones

WAIT_MS = 3000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fader(clock: FakeClock, closing: Callable[[Any], Any]) -> Crossfader:
    def make() -> NullPlayer:
        return NullPlayer(monotonic_s=clock.monotonic, tick_ms=10)

    return closing(Crossfader(make, monotonic_s=clock.monotonic, tick_ms=10))


@pytest.fixture
def tracks(tones: Tones) -> tuple[Path, Path, Path]:
    return (
        tones.silent_wav("a.wav", seconds=300),
        tones.silent_wav("b.wav", seconds=300),
        tones.silent_wav("c.wav", seconds=300),
    )


def volumes(fader: Crossfader) -> tuple[float, float]:
    """(outgoing, leading) volume_pct."""
    lead = fader.leading
    other = fader.players[1] if lead is fader.players[0] else fader.players[0]
    return other.volume_pct, lead.volume_pct


def tick_after(qtbot: QtBot, fader: Crossfader, clock: FakeClock, seconds: float) -> None:
    with qtbot.waitSignal(fader.fade_progress, timeout=WAIT_MS):
        clock.advance(seconds)


def finish_fades(qtbot: QtBot, fader: Crossfader, clock: FakeClock, seconds: float) -> None:
    with qtbot.waitSignal(fader.fade_finished, timeout=WAIT_MS):
        clock.advance(seconds)


def test_given_a_track_when_played_then_it_leads_at_the_room_maximum(
    fader: Crossfader, tracks: tuple[Path, ...]
) -> None:
    started: list[str] = []
    fader.track_started.connect(started.append)
    fader.set_max_volume(80)

    fader.play(tracks[0])

    assert fader.leading.state is PlayerState.PLAYING
    assert fader.leading.volume_pct == 80
    assert started == [str(tracks[0])]


@pytest.mark.parametrize("elapsed_s", [0.6, 1.5, 3.0, 4.5, 5.9])
def test_given_a_6_s_crossfade_when_part_way_then_equal_power_at_the_room_maximum(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...], elapsed_s: float
) -> None:
    fader.set_max_volume(60)
    fader.play(tracks[0])

    fader.crossfade_to(tracks[1], 6.0)
    tick_after(qtbot, fader, clock, elapsed_s)

    outgoing_pct, incoming_pct = volumes(fader)
    fraction = elapsed_s / 6
    assert outgoing_pct == pytest.approx(60 * math.cos(math.pi / 2 * fraction))
    assert incoming_pct == pytest.approx(60 * math.sin(math.pi / 2 * fraction))
    assert (outgoing_pct / 60) ** 2 + (incoming_pct / 60) ** 2 == pytest.approx(1.0)


def test_given_a_crossfade_when_it_ends_then_only_the_new_track_plays_at_full(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0])
    old = fader.leading

    fader.crossfade_to(tracks[1], 6.0)
    finish_fades(qtbot, fader, clock, 6.0)

    assert old.state is PlayerState.STOPPED
    assert fader.leading is not old
    assert fader.leading.source == tracks[1]
    assert fader.leading.state is PlayerState.PLAYING
    assert fader.leading.volume_pct == 100
    assert not fader.is_fading


def test_given_a_zero_length_crossfade_then_the_switch_is_instant(
    fader: Crossfader, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0])
    old = fader.leading

    fader.crossfade_to(tracks[1], 0.0)

    assert old.state is PlayerState.STOPPED
    assert fader.leading.source == tracks[1]
    assert fader.leading.volume_pct == 100
    assert not fader.is_fading


def test_given_nothing_playing_when_crossfading_then_the_track_just_starts(
    fader: Crossfader, tracks: tuple[Path, ...]
) -> None:
    fader.crossfade_to(tracks[1])

    assert fader.leading.source == tracks[1]
    assert fader.leading.volume_pct == 100
    assert not fader.is_fading


def test_given_a_crossfade_running_when_another_is_asked_then_the_first_completes(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0])
    fader.crossfade_to(tracks[1], 6.0)
    tick_after(qtbot, fader, clock, 2.0)

    fader.crossfade_to(tracks[2], 6.0)
    tick_after(qtbot, fader, clock, 3.0)

    sources = {player.source: player for player in fader.players}
    assert set(sources) == {tracks[1], tracks[2]}
    outgoing_pct, incoming_pct = volumes(fader)
    assert fader.leading.source == tracks[2]
    assert outgoing_pct == pytest.approx(100 * math.cos(math.pi / 4))
    assert incoming_pct == pytest.approx(100 * math.sin(math.pi / 4))


def test_given_a_lower_room_maximum_during_a_fade_then_both_scale_down_at_once(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0])
    fader.crossfade_to(tracks[1], 6.0)
    tick_after(qtbot, fader, clock, 3.0)

    fader.set_max_volume(30)

    outgoing_pct, incoming_pct = volumes(fader)
    assert outgoing_pct == pytest.approx(30 * math.sqrt(0.5))
    assert incoming_pct == pytest.approx(30 * math.sqrt(0.5))


def test_given_playing_when_quieted_then_fades_to_silence_and_pauses(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0])
    clock.advance(20)

    fader.quiet(4.0)
    tick_after(qtbot, fader, clock, 2.0)
    halfway_pct = fader.leading.volume_pct
    finish_fades(qtbot, fader, clock, 2.0)

    assert halfway_pct == pytest.approx(100 * math.cos(math.pi / 4))
    assert fader.leading.volume_pct == 0
    assert fader.leading.state is PlayerState.PAUSED
    assert fader.is_quiet


def test_given_quiet_when_resumed_then_it_continues_where_it_paused_and_fades_back_in(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.set_max_volume(90)
    fader.play(tracks[0])
    with qtbot.waitSignal(fader.leading.position_changed, timeout=WAIT_MS):
        clock.advance(20)
    fader.quiet(0.0)
    paused_at_ms = fader.leading.position_ms
    clock.advance(600)  # ten minutes of talking

    fader.resume(3.0)
    with qtbot.waitSignals([fader.fade_progress, fader.leading.position_changed], timeout=WAIT_MS):
        clock.advance(1.5)
    halfway_pct = fader.leading.volume_pct
    resumed_at_ms = fader.leading.position_ms
    finish_fades(qtbot, fader, clock, 1.5)

    assert paused_at_ms == 20_000
    assert resumed_at_ms == 21_500
    assert halfway_pct == pytest.approx(90 * math.sin(math.pi / 4))
    assert fader.leading.volume_pct == 90
    assert fader.leading.state is PlayerState.PLAYING
    assert not fader.is_quiet


def test_given_quiet_when_a_new_track_is_asked_then_it_waits_silently_for_resume(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0])
    fader.quiet(0.0)

    fader.crossfade_to(tracks[1])

    assert fader.leading.source == tracks[1]
    assert fader.leading.state is PlayerState.STOPPED
    assert all(player.state is not PlayerState.PLAYING for player in fader.players)
    fader.resume(0.0)
    assert fader.leading.state is PlayerState.PLAYING


def test_given_a_fade_in_when_played_then_it_rises_from_silence(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0], fade_in_s=4.0)
    start_pct = fader.leading.volume_pct

    finish_fades(qtbot, fader, clock, 4.0)

    assert start_pct == 0
    assert fader.leading.volume_pct == 100


def test_given_a_next_track_when_the_current_nears_its_end_then_it_crossfades_by_itself(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tones: Tones
) -> None:
    first = tones.silent_wav("first.wav", seconds=60)
    second = tones.silent_wav("second.wav", seconds=60)
    fader.set_crossfade_s(8.0)
    fader.play(first)
    fader.set_next(second)

    with qtbot.waitSignal(fader.track_started, timeout=WAIT_MS) as started:
        clock.advance(52.5)

    assert started.args == [str(second)]
    assert fader.is_fading
    finish_fades(qtbot, fader, clock, 8.0)
    assert fader.leading.source == second


def test_given_no_next_track_when_the_current_ends_then_track_finished(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tones: Tones
) -> None:
    only = tones.silent_wav("only.wav", seconds=30)
    fader.play(only)

    with qtbot.waitSignal(fader.track_finished, timeout=WAIT_MS) as finished:
        clock.advance(30)

    assert finished.args == [str(only)]


def test_given_a_missing_next_track_when_crossfading_then_error_and_the_current_plays_on(
    qtbot: QtBot, fader: Crossfader, tracks: tuple[Path, ...], tmp_path: Path
) -> None:
    fader.play(tracks[0])

    with qtbot.waitSignal(fader.error, timeout=WAIT_MS) as failed:
        fader.crossfade_to(tmp_path / "gone.ogg", 6.0)

    assert "gone.ogg" in failed.args[0]
    assert fader.leading.source == tracks[0]
    assert fader.leading.state is PlayerState.PLAYING
    assert fader.leading.volume_pct == 100
    assert not fader.is_fading


def test_given_playing_when_stopped_then_both_players_stop(
    qtbot: QtBot, fader: Crossfader, clock: FakeClock, tracks: tuple[Path, ...]
) -> None:
    fader.play(tracks[0])
    fader.crossfade_to(tracks[1], 6.0)
    tick_after(qtbot, fader, clock, 1.0)

    fader.stop()

    assert all(player.state is PlayerState.STOPPED for player in fader.players)
    assert not fader.is_fading
