"""NullPlayer on a fake clock: honest position and durations without libVLC."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytestqt.qtbot import QtBot

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
def player(clock: FakeClock, closing: Callable[[Any], Any]) -> NullPlayer:
    return closing(NullPlayer(monotonic_s=clock.monotonic, tick_ms=10))


def position_after(qtbot: QtBot, player: NullPlayer, clock: FakeClock, seconds: float) -> int:
    """Advance the fake clock and return the position the next tick reports."""
    with qtbot.waitSignal(player.position_changed, timeout=WAIT_MS) as moved:
        clock.advance(seconds)
    position_ms: int = moved.args[0]
    return position_ms


def test_given_a_wav_when_loaded_then_its_duration_comes_from_the_header(
    player: NullPlayer, tones: Tones
) -> None:
    with_duration: list[int] = []
    player.duration_changed.connect(with_duration.append)

    player.load(tones.silent_wav("ten-minutes.wav", seconds=600))

    assert player.duration_ms == 600_000
    assert with_duration == [600_000]


def test_given_playing_when_the_clock_moves_then_position_follows_it(
    qtbot: QtBot, player: NullPlayer, clock: FakeClock, tones: Tones
) -> None:
    player.load(tones.silent_wav("long.wav", seconds=600))
    player.play()

    assert position_after(qtbot, player, clock, 0.7) == 700
    assert position_after(qtbot, player, clock, 120) == 120_700


def test_given_paused_when_time_passes_then_it_is_not_counted(
    qtbot: QtBot, player: NullPlayer, clock: FakeClock, tones: Tones
) -> None:
    player.load(tones.silent_wav("long.wav", seconds=600))
    player.play()
    position_after(qtbot, player, clock, 10)

    player.pause()
    clock.advance(300)  # five minutes paused
    player.play()

    assert player.state is PlayerState.PLAYING
    assert position_after(qtbot, player, clock, 1) == 11_000


def test_given_a_seek_while_playing_then_time_counts_from_there(
    qtbot: QtBot, player: NullPlayer, clock: FakeClock, tones: Tones
) -> None:
    player.load(tones.silent_wav("long.wav", seconds=600))
    player.play()
    position_after(qtbot, player, clock, 5)

    player.seek(400_000)

    assert position_after(qtbot, player, clock, 2) == 402_000


def test_given_the_duration_passes_then_the_track_finishes(
    qtbot: QtBot, player: NullPlayer, clock: FakeClock, tones: Tones
) -> None:
    player.load(tones.silent_wav("short.wav", seconds=90))
    player.play()

    with qtbot.waitSignal(player.track_finished, timeout=WAIT_MS):
        clock.advance(90)

    assert player.state is PlayerState.STOPPED
    assert player.position_ms == 0


def test_given_a_format_it_cannot_measure_then_duration_0_and_it_never_finishes(
    qtbot: QtBot, player: NullPlayer, clock: FakeClock, tones: Tones
) -> None:
    mp3_like = tones.raw("song.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 4000)
    finished: list[bool] = []
    player.track_finished.connect(lambda: finished.append(True))

    player.load(mp3_like)
    player.play()

    assert player.duration_ms == 0
    assert position_after(qtbot, player, clock, 3600) == 3_600_000
    assert finished == []


def test_given_a_sox_ogg_when_loaded_then_its_duration_is_read_without_libvlc(
    player: NullPlayer, tones: Tones
) -> None:
    ogg = tones.converted(tones.wav("tone.wav", seconds=2.5), "tone.ogg")

    player.load(ogg)

    assert player.duration_ms == pytest.approx(2500, abs=5)


def test_given_closed_then_load_and_play_do_nothing(player: NullPlayer, tones: Tones) -> None:
    player.close()

    player.load(tones.silent_wav("x.wav", seconds=1))
    player.play()

    assert player.state is PlayerState.STOPPED
    assert player.source is None


def test_given_a_path_that_is_a_folder_then_error(player: NullPlayer, tmp_path: Path) -> None:
    errors: list[str] = []
    player.error.connect(errors.append)

    player.load(tmp_path)

    assert player.state is PlayerState.ERROR
    assert "folder" in errors[0]
