"""`NullPlayer`: a silent player that keeps honest time when libVLC or an audio output is missing.

It plays nothing, but tracks state and position against a monotonic clock and finishes
tracks when their real duration has passed, so sessions, playlists and the music log work
the same; the UI says that music is silent and what to install. Durations come from file
headers (WAV, Ogg, FLAC); for formats it cannot measure the duration stays 0 and the track
runs until stopped, like a stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from kapsession.audio.player import Player, PlayerState, clamp_volume_pct
from kapsession.audio.probe import UndecodableAudio, file_problem, header_duration_ms

DEFAULT_TICK_MS = 200


class NullPlayer(Player):
    """A `Player` without sound: position from `monotonic_s` (seconds), checked every tick."""

    def __init__(
        self,
        *,
        monotonic_s: Callable[[], float] = time.monotonic,
        tick_ms: int = DEFAULT_TICK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._monotonic_s = monotonic_s
        self._anchor_s = 0.0  # clock reading when play last started or the position last moved
        self._anchor_position_ms = 0
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._tick)

    def load(self, path: Path) -> None:
        if self._closed:
            return
        self._timer.stop()
        self._source = path
        self._set_position(0)
        self._set_duration(0)
        problem = file_problem(path)
        if problem is not None:
            self._fail(problem.message)
            return
        try:
            duration_ms = header_duration_ms(path)
        except UndecodableAudio:
            self._fail(f"{path.name} is damaged or not a music format kapsession plays.")
            return
        except OSError as exc:
            self._fail(f"{path.name} cannot be read ({exc.strerror or exc}).")
            return
        self._set_state(PlayerState.STOPPED)
        self._set_duration(duration_ms or 0)

    def play(self) -> None:
        if self._closed or self._source is None:
            return
        if self._state in (PlayerState.ERROR, PlayerState.PLAYING):
            return
        self._anchor(self._position_ms)
        self._set_state(PlayerState.PLAYING)
        self._timer.start()

    def pause(self) -> None:
        if self._state is not PlayerState.PLAYING:
            return
        self._timer.stop()
        self._set_position(self._clock_position_ms())
        self._set_state(PlayerState.PAUSED)

    def stop(self) -> None:
        if self._closed or self._source is None or self._state is PlayerState.ERROR:
            return
        self._timer.stop()
        self._set_position(0)
        self._set_state(PlayerState.STOPPED)

    def seek(self, position_ms: int) -> None:
        if self._closed or self._source is None or self._state is PlayerState.ERROR:
            return
        target_ms = self._clamp_seek(position_ms)
        self._anchor(target_ms)
        self._set_position(target_ms)

    def set_volume(self, volume_pct: float) -> None:
        self._volume_pct = clamp_volume_pct(volume_pct)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self.blockSignals(True)

    def _anchor(self, position_ms: int) -> None:
        self._anchor_s = self._monotonic_s()
        self._anchor_position_ms = position_ms

    def _clock_position_ms(self) -> int:
        elapsed_ms = round((self._monotonic_s() - self._anchor_s) * 1000)
        return self._anchor_position_ms + max(0, elapsed_ms)

    def _tick(self) -> None:
        position_ms = self._clock_position_ms()
        if 0 < self._duration_ms <= position_ms:
            self._timer.stop()
            self._finish()
            return
        self._set_position(position_ms)
