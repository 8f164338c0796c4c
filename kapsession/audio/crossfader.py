"""`Crossfader`: two players, equal-power crossfades, a room's volume ceiling, quiet and resume.

Each player's volume is always `crossfade gain × quiet gain × max_volume_pct`, with the gains
in amplitude (see fades.py). Ramps are recomputed from a monotonic clock reading on every
tick of a ~50 ms QTimer, never accumulated from ticks, so a late tick only makes the next
step larger. A crossfade's clock starts when the incoming track actually plays, so a slow
file open does not eat into the fade. Inject `monotonic_s` to run fades on a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from kapsession.audio.fades import (
    DEFAULT_CROSSFADE_S,
    clamp_crossfade_s,
    crossfade_gains,
    ramp_gain,
)
from kapsession.audio.player import Player, PlayerState, clamp_volume_pct

DEFAULT_TICK_MS = 50


@dataclass
class _Ramp:
    """A gain moving from `start` to `end` over `length_s`, from clock reading `began_s`."""

    start: float
    end: float
    length_s: float
    began_s: float | None = None  # None: waiting for the audio to start

    def fraction(self, now_s: float) -> float:
        if self.began_s is None:
            return 0.0
        if self.length_s <= 0:
            return 1.0
        return min(1.0, max(0.0, (now_s - self.began_s) / self.length_s))


class Crossfader(QObject):
    """Plays one track at a time and crossfades to the next; owns its two players.

    `player_factory` makes each of the two players (e.g. ``lambda: VlcPlayer(instance)``).
    """

    track_started = Signal(str)  # path of the track that now leads
    track_finished = Signal(str)  # the leading track ended and no next track was set
    fade_progress = Signal(float)  # 0.0 … 1.0 on every tick while a fade runs
    fade_finished = Signal()  # every fade (crossfade, quiet, resume) has completed
    error = Signal(str)  # a player's message, for the person at the laptop

    def __init__(
        self,
        player_factory: Callable[[], Player],
        *,
        monotonic_s: Callable[[], float] = time.monotonic,
        tick_ms: int = DEFAULT_TICK_MS,
        crossfade_s: float = DEFAULT_CROSSFADE_S,
        max_volume_pct: float = 100.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._players = (player_factory(), player_factory())
        self._gains = [1.0, 0.0]  # crossfade gain per player
        self._lead = 0
        self._quiet_gain = 1.0
        self._max_volume_pct = clamp_volume_pct(max_volume_pct)
        self._crossfade_s = clamp_crossfade_s(crossfade_s)
        self._monotonic_s = monotonic_s
        self._crossfade: _Ramp | None = None  # progress 0 → 1 of the running crossfade
        self._quiet_ramp: _Ramp | None = None
        self._pause_when_silent = False
        self._quiet = False  # quieted by quiet(): paused, waiting for resume()
        self._next: Path | None = None
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._tick)
        for index, player in enumerate(self._players):
            player.state_changed.connect(lambda state, i=index: self._on_state(i, state))
            player.position_changed.connect(lambda pos, i=index: self._on_position(i, pos))
            player.track_finished.connect(lambda i=index: self._on_finished(i))
            player.error.connect(lambda message, i=index: self._on_error(i, message))
        self._apply_volumes()

    # --- properties -------------------------------------------------------------------------

    @property
    def leading(self) -> Player:
        """The player whose track is the current one (the incoming one once a crossfade starts)."""
        return self._players[self._lead]

    @property
    def players(self) -> tuple[Player, Player]:
        return self._players

    @property
    def max_volume_pct(self) -> float:
        return self._max_volume_pct

    @property
    def crossfade_s(self) -> float:
        return self._crossfade_s

    @property
    def is_fading(self) -> bool:
        return self._crossfade is not None or self._quiet_ramp is not None

    @property
    def is_quiet(self) -> bool:
        """Quieted by `quiet()` (or fading towards it) and not yet resumed."""
        return self._quiet or self._pause_when_silent

    def set_crossfade_s(self, crossfade_s: float) -> None:
        """Default crossfade length for `crossfade_to` and automatic advances; 0–12 s."""
        self._crossfade_s = clamp_crossfade_s(crossfade_s)

    def set_max_volume(self, volume_pct: float) -> None:
        """The room's ceiling in amplitude percent; every gain is scaled by it at once."""
        self._max_volume_pct = clamp_volume_pct(volume_pct)
        self._apply_volumes()

    # --- control ----------------------------------------------------------------------------

    def play(self, path: Path, fade_in_s: float = 0.0) -> None:
        """Start `path` now, cutting whatever played; optionally fade in over `fade_in_s`."""
        if self._closed:
            return
        self._reset()
        lead = self.leading
        self._gains[self._lead] = 1.0
        fade_in_s = clamp_crossfade_s(fade_in_s)
        if fade_in_s > 0:
            self._quiet_gain = 0.0
            self._quiet_ramp = _Ramp(0.0, 1.0, fade_in_s)
        self._apply_volumes()
        lead.load(path)
        if lead.state is PlayerState.ERROR:
            self._reset()
            return  # reported through error()
        self.track_started.emit(str(path))
        lead.play()
        self._start_timer_if_fading()

    def crossfade_to(self, path: Path, fade_s: float | None = None) -> None:
        """Fade the current track out and `path` in, equal-power, over `fade_s` (0–12 s).

        With nothing playing this starts `path` at once; while quiet it loads `path` so that
        `resume()` starts it. A crossfade asked for during another completes that one first.
        """
        if self._closed:
            return
        fade_s = self._crossfade_s if fade_s is None else clamp_crossfade_s(fade_s)
        if self._quiet:
            self._reset()
            self._quiet = True
            self._quiet_gain = 0.0
            self._apply_volumes()
            self.leading.load(path)
            if self.leading.state is not PlayerState.ERROR:
                self.track_started.emit(str(path))
            return
        if self.leading.state is not PlayerState.PLAYING and self._crossfade is None:
            self.play(path)
            return
        self._complete_crossfade()
        incoming = 1 - self._lead
        player = self._players[incoming]
        self._gains[incoming] = 0.0
        self._apply_volumes()
        player.load(path)
        if player.state is PlayerState.ERROR:
            return  # reported through error(); the current track plays on
        outgoing, self._lead = self._lead, incoming
        if fade_s <= 0:
            self._players[outgoing].stop()
            self._gains[outgoing] = 0.0
            self._gains[incoming] = 1.0
        else:
            self._crossfade = _Ramp(0.0, 1.0, fade_s)
        self._apply_volumes()
        self.track_started.emit(str(path))
        player.play()
        self._start_timer_if_fading()

    def set_next(self, path: Path | None) -> None:
        """Crossfade to `path` by itself when the current track has `crossfade_s` left."""
        self._next = path

    def quiet(self, fade_s: float) -> None:
        """Fade to silence over `fade_s`, then pause, keeping the position for `resume()`."""
        if self._closed or self.is_quiet:
            return
        self._pause_when_silent = True
        self._quiet_ramp = _Ramp(self._quiet_gain, 0.0, max(0.0, fade_s), self._monotonic_s())
        self._start_timer_if_fading()
        self._tick()

    def resume(self, fade_s: float) -> None:
        """Undo `quiet()`: play again from where it paused, fading in over `fade_s`."""
        if self._closed or not self.is_quiet:
            return
        self._pause_when_silent = False
        self._quiet = False
        self._quiet_ramp = _Ramp(self._quiet_gain, 1.0, max(0.0, fade_s), self._monotonic_s())
        self._apply_volumes()
        self.leading.play()
        self._start_timer_if_fading()
        self._tick()

    def stop(self) -> None:
        """Stop both players at once (no fade) and forget any next track."""
        if self._closed:
            return
        self._reset()
        self._next = None
        self._apply_volumes()

    def close(self) -> None:
        """Stop the timer and close both players; nothing is emitted after this."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self.blockSignals(True)
        for player in self._players:
            player.close()

    # --- internals --------------------------------------------------------------------------

    def _reset(self) -> None:
        self._timer.stop()
        self._crossfade = None
        self._quiet_ramp = None
        self._pause_when_silent = False
        self._quiet = False
        self._quiet_gain = 1.0
        for player in self._players:
            player.stop()
        self._gains = [0.0, 0.0]
        self._gains[self._lead] = 1.0

    def _complete_crossfade(self) -> None:
        """End a running crossfade now: the outgoing track stops, the incoming one is full."""
        if self._crossfade is None:
            return
        self._crossfade = None
        outgoing = 1 - self._lead
        self._players[outgoing].stop()
        self._gains[outgoing] = 0.0
        self._gains[self._lead] = 1.0
        self._apply_volumes()

    def _apply_volumes(self) -> None:
        for player, gain in zip(self._players, self._gains, strict=True):
            player.set_volume(gain * self._quiet_gain * self._max_volume_pct)

    def _start_timer_if_fading(self) -> None:
        if self.is_fading and not self._timer.isActive():
            self._timer.start()

    def _tick(self) -> None:
        now_s = self._monotonic_s()
        progress = 1.0
        if self._crossfade is not None:
            progress = self._crossfade.fraction(now_s)
            outgoing_gain, incoming_gain = crossfade_gains(progress)
            self._gains[1 - self._lead] = outgoing_gain
            self._gains[self._lead] = incoming_gain
            if self._crossfade.began_s is not None and progress >= 1.0:
                self._complete_crossfade()
        if self._quiet_ramp is not None:
            ramp = self._quiet_ramp
            fraction = ramp.fraction(now_s)
            progress = min(progress, fraction)
            self._quiet_gain = ramp_gain(ramp.start, ramp.end, fraction)
            if fraction >= 1.0:
                self._quiet_ramp = None
                if self._pause_when_silent:
                    self._go_quiet()
        self._apply_volumes()
        if self.is_fading:
            self.fade_progress.emit(progress)
            return
        self._timer.stop()
        self.fade_progress.emit(1.0)
        self.fade_finished.emit()

    def _go_quiet(self) -> None:
        self._complete_crossfade()
        self._pause_when_silent = False
        self._quiet = True
        self._quiet_gain = 0.0
        self.leading.pause()

    def _on_state(self, index: int, state: str) -> None:
        if (
            self._crossfade is not None
            and self._crossfade.began_s is None
            and index == self._lead
            and state == PlayerState.PLAYING
        ):
            self._crossfade.began_s = self._monotonic_s()
        if (
            self._quiet_ramp is not None
            and self._quiet_ramp.began_s is None
            and index == self._lead
            and state == PlayerState.PLAYING
        ):
            self._quiet_ramp.began_s = self._monotonic_s()

    def _on_position(self, index: int, position_ms: int) -> None:
        player = self._players[index]
        if (
            index != self._lead
            or self._next is None
            or self.is_fading
            or self.is_quiet
            or player.state is not PlayerState.PLAYING
            or player.duration_ms <= 0
        ):
            return
        remaining_s = (player.duration_ms - position_ms) / 1000
        if remaining_s <= self._crossfade_s:
            path, self._next = self._next, None
            self.crossfade_to(path, min(self._crossfade_s, max(0.0, remaining_s)))

    def _on_finished(self, index: int) -> None:
        if index != self._lead:
            return  # an outgoing track ran out during its fade
        finished = self.leading.source
        if self._next is not None and not self.is_quiet:
            path, self._next = self._next, None
            self.play(path)
            return
        self.track_finished.emit(str(finished) if finished else "")

    def _on_error(self, index: int, message: str) -> None:
        if index == self._lead and self._crossfade is not None:
            # the incoming track failed: keep the outgoing one playing at full level
            self._crossfade = None
            self._lead = 1 - index
            self._gains[self._lead] = 1.0
            self._gains[index] = 0.0
            self._apply_volumes()
            if not self.is_fading:
                self._timer.stop()
        self.error.emit(message)
