"""One behaviour suite for every `Player` back-end (NullPlayer, VlcPlayer on real libVLC).

The tone files are real WAVs written into tmp_path; libVLC plays them through a silent
audio output. Every wait is on a signal, never on a fixed delay.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytestqt.qtbot import QtBot

from kapsession.audio.player import Player, PlayerState

if TYPE_CHECKING:
    from conftest import PlayerFactory, Tones

WAIT_MS = 8000
TONE_MS = 1200


@pytest.fixture
def tone(tones: Tones) -> Path:
    return tones.wav("tone.wav", seconds=TONE_MS / 1000)


def start(qtbot: QtBot, player: Player) -> None:
    with qtbot.waitSignal(
        player.state_changed, timeout=WAIT_MS, check_params_cb=lambda s: s == "playing"
    ):
        player.play()


def advance_past(qtbot: QtBot, player: Player, position_ms: int) -> None:
    with qtbot.waitSignal(
        player.position_changed, timeout=WAIT_MS, check_params_cb=lambda ms: ms > position_ms
    ):
        pass


def test_given_a_tone_when_loaded_then_stopped_at_zero(
    qtbot: QtBot, make_player: PlayerFactory, tone: Path
) -> None:
    player = make_player()

    player.load(tone)

    assert player.state is PlayerState.STOPPED
    assert player.position_ms == 0
    assert player.source == tone


def test_given_a_tone_when_played_then_playing_with_its_duration_and_moving_position(
    qtbot: QtBot, make_player: PlayerFactory, tone: Path
) -> None:
    player = make_player()
    player.load(tone)

    start(qtbot, player)
    advance_past(qtbot, player, 0)

    assert player.state is PlayerState.PLAYING
    assert player.duration_ms == pytest.approx(TONE_MS, abs=50)
    assert 0 < player.position_ms <= player.duration_ms


def test_given_playing_when_track_ends_then_stopped_at_zero_and_finished(
    qtbot: QtBot, make_player: PlayerFactory, tone: Path
) -> None:
    player = make_player()
    player.load(tone)
    states: list[str] = []
    player.state_changed.connect(states.append)
    player.track_finished.connect(lambda: states.append("<finished>"))
    errors: list[str] = []
    player.error.connect(errors.append)

    with qtbot.waitSignal(player.track_finished, timeout=WAIT_MS):
        player.play()

    assert states == ["playing", "stopped", "<finished>"]
    assert player.state is PlayerState.STOPPED
    assert player.position_ms == 0
    assert errors == []


def test_given_finished_when_played_again_then_it_plays_from_the_start(
    qtbot: QtBot, make_player: PlayerFactory, tone: Path
) -> None:
    player = make_player()
    player.load(tone)
    with qtbot.waitSignal(player.track_finished, timeout=WAIT_MS):
        player.play()

    with qtbot.waitSignal(player.track_finished, timeout=WAIT_MS):
        player.play()

    assert player.state is PlayerState.STOPPED


def test_given_playing_when_paused_and_resumed_then_position_continues(
    qtbot: QtBot, make_player: PlayerFactory, tones: Tones
) -> None:
    player = make_player()
    player.load(tones.wav("long.wav", seconds=4))
    start(qtbot, player)
    advance_past(qtbot, player, 200)

    player.pause()
    paused_at_ms = player.position_ms

    assert player.state is PlayerState.PAUSED
    assert paused_at_ms > 200
    start(qtbot, player)
    advance_past(qtbot, player, paused_at_ms)
    assert player.state is PlayerState.PLAYING


@pytest.mark.parametrize("target_ms", [1500, 3000])
def test_given_paused_when_seeking_then_position_moves_there_and_play_continues_from_it(
    qtbot: QtBot, make_player: PlayerFactory, tones: Tones, target_ms: int
) -> None:
    player = make_player()
    player.load(tones.wav("long.wav", seconds=4))
    start(qtbot, player)
    player.pause()

    with qtbot.waitSignal(player.position_changed, timeout=WAIT_MS) as moved:
        player.seek(target_ms)

    assert moved.args == [target_ms]
    start(qtbot, player)
    advance_past(qtbot, player, target_ms)
    assert player.position_ms >= target_ms


def test_given_stopped_when_seeking_then_play_starts_there(
    qtbot: QtBot, make_player: PlayerFactory, tones: Tones
) -> None:
    player = make_player()
    player.load(tones.wav("long.wav", seconds=4))

    player.seek(2500)
    start(qtbot, player)
    advance_past(qtbot, player, 2500)

    assert player.position_ms > 2500


def test_given_playing_when_stopped_then_stopped_at_zero_and_playable_again(
    qtbot: QtBot, make_player: PlayerFactory, tones: Tones
) -> None:
    player = make_player()
    player.load(tones.wav("long.wav", seconds=4))
    start(qtbot, player)
    advance_past(qtbot, player, 100)

    player.stop()

    assert player.state is PlayerState.STOPPED
    assert player.position_ms == 0
    start(qtbot, player)


@pytest.mark.parametrize(
    ("asked_pct", "kept_pct"), [(50.0, 50.0), (150.0, 100.0), (-5.0, 0.0), (12.5, 12.5)]
)
def test_given_a_volume_when_set_then_kept_clamped_and_across_loads(
    qtbot: QtBot, make_player: PlayerFactory, tone: Path, asked_pct: float, kept_pct: float
) -> None:
    player = make_player()

    player.set_volume(asked_pct)
    player.load(tone)
    start(qtbot, player)

    assert player.volume_pct == kept_pct


def test_given_nothing_loaded_when_played_then_nothing_happens(
    make_player: PlayerFactory,
) -> None:
    player = make_player()

    player.play()

    assert player.state is PlayerState.STOPPED


@pytest.mark.parametrize(
    ("make_file", "expected_words"),
    [
        (lambda t: t.folder / "no-such-track.ogg", "missing"),
        (lambda t: t.raw("empty.ogg", b""), "empty"),
        (lambda t: t.corrupt("noise.ogg"), "damaged"),
        (lambda t: t.raw("text.ogg", b"this is a text file, not music\n" * 50), "damaged"),
        (lambda t: t.raw("truncated.wav", b"RIFF\x00\x00\x00\x00WAVEfmt "), "damaged"),
    ],
    ids=["missing", "zero-length", "noise", "text", "truncated-wav"],
)
def test_given_a_bad_file_when_loaded_and_played_then_error_names_it_and_play_does_nothing(
    qtbot: QtBot,
    make_player: PlayerFactory,
    tones: Tones,
    make_file: Callable[[Any], Path],
    expected_words: str,
) -> None:
    path = make_file(tones)
    player = make_player()

    with qtbot.waitSignal(player.error, timeout=WAIT_MS) as failed:
        player.load(path)
        player.play()

    message = failed.args[0]
    assert path.name in message
    assert expected_words in message
    assert player.state is PlayerState.ERROR
    player.play()
    assert player.state is PlayerState.ERROR


def test_given_an_error_when_a_good_file_is_loaded_then_it_plays(
    qtbot: QtBot, make_player: PlayerFactory, tones: Tones, tone: Path
) -> None:
    player = make_player()
    with qtbot.waitSignal(player.error, timeout=WAIT_MS):
        player.load(tones.folder / "missing.wav")

    player.load(tone)

    assert player.state is PlayerState.STOPPED
    start(qtbot, player)


def test_given_playing_when_closed_then_no_more_signals(
    qtbot: QtBot, make_player: PlayerFactory, tone: Path
) -> None:
    player = make_player()
    player.load(tone)
    start(qtbot, player)
    heard: list[object] = []
    for signal in (player.position_changed, player.state_changed, player.track_finished):
        signal.connect(lambda *args: heard.append(args))

    player.close()
    player.close()  # safe to repeat
    player.play()

    with qtbot.assertNotEmitted(player.track_finished, wait=TONE_MS + 500):
        pass
    assert heard == []
