"""The `Player` port: one track at a time, Qt signals in milliseconds.

Every back-end (`VlcPlayer`, `NullPlayer`) keeps this contract, and one test suite
(tests/audio/test_player_contract.py) runs against each:

- `load(path)` replaces the track and stops: state `stopped`, position 0, duration 0 until
  known, then `duration_changed`. A missing, unreadable or empty file gives state `error` and
  `error(message)` at once; a file that cannot be decoded gives them when play starts.
- `play()` starts or resumes; `state_changed("playing")` once audio runs. It does nothing
  when no track is loaded or the player is in `error` (load another track to recover).
- `pause()` pauses while playing (`paused`) and does nothing otherwise.
- `stop()` goes to `stopped` and position 0; the track stays loaded for the next `play()`.
- `seek(position_ms)` moves within the track (clamped to 0 … duration when it is known) and
  reports the new position; when stopped, the next `play()` starts there.
- `set_volume(volume_pct)` is amplitude in percent: 50 plays at half amplitude (−6 dB), not
  at libVLC's 50 (−18 dB). Clamped to 0–100; kept across `load`.
- At the end of the track: state `stopped`, position 0, then `track_finished()`.
- `close()` releases the back-end and stops all timers; no signals after it. Safe to repeat.

Signals are emitted on the Qt thread that owns the player, never from a back-end thread.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class PlayerState(StrEnum):
    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"
    ERROR = "error"


def clamp_volume_pct(volume_pct: float) -> float:
    """Volumes outside 0–100 % are clamped; NaN is treated as silence."""
    if volume_pct != volume_pct:  # NaN
        return 0.0
    return min(100.0, max(0.0, float(volume_pct)))


class Player(QObject):
    """Base class for audio back-ends: signals, state bookkeeping, the documented contract.

    Subclasses implement the `load` … `close` methods and report through `_set_state`,
    `_set_position`, `_set_duration`, `_fail` and `_finish`, which emit only on change.
    """

    state_changed = Signal(str)  # a PlayerState value
    position_changed = Signal(int)  # position_ms
    duration_changed = Signal(int)  # duration_ms
    track_finished = Signal()
    error = Signal(str)  # message for the person at the laptop

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = PlayerState.STOPPED
        self._position_ms = 0
        self._duration_ms = 0
        self._volume_pct = 100.0
        self._source: Path | None = None

    # --- the port ---------------------------------------------------------------------------

    def load(self, path: Path) -> None:
        """Replace the current track with `path` and stop."""
        raise NotImplementedError

    def play(self) -> None:
        """Start or resume the loaded track."""
        raise NotImplementedError

    def pause(self) -> None:
        """Pause while playing; otherwise do nothing."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop and rewind to 0; the track stays loaded."""
        raise NotImplementedError

    def seek(self, position_ms: int) -> None:
        """Move to `position_ms` in the loaded track."""
        raise NotImplementedError

    def set_volume(self, volume_pct: float) -> None:
        """Set the amplitude in percent (50 = half amplitude); clamped to 0–100."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the back-end; no signals after this."""
        raise NotImplementedError

    # --- read-only state --------------------------------------------------------------------

    @property
    def state(self) -> PlayerState:
        return self._state

    @property
    def position_ms(self) -> int:
        return self._position_ms

    @property
    def duration_ms(self) -> int:
        """Length of the loaded track; 0 while unknown."""
        return self._duration_ms

    @property
    def volume_pct(self) -> float:
        return self._volume_pct

    @property
    def source(self) -> Path | None:
        """The loaded file, or None before the first `load`."""
        return self._source

    # --- bookkeeping for subclasses ---------------------------------------------------------

    def _set_state(self, state: PlayerState) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(str(state))

    def _set_position(self, position_ms: int) -> None:
        position_ms = max(0, int(position_ms))
        if position_ms != self._position_ms:
            self._position_ms = position_ms
            self.position_changed.emit(position_ms)

    def _set_duration(self, duration_ms: int) -> None:
        duration_ms = max(0, int(duration_ms))
        if duration_ms != self._duration_ms:
            self._duration_ms = duration_ms
            self.duration_changed.emit(duration_ms)

    def _clamp_seek(self, position_ms: int) -> int:
        position_ms = max(0, int(position_ms))
        if self._duration_ms > 0:
            position_ms = min(position_ms, self._duration_ms)
        return position_ms

    def _fail(self, message: str) -> None:
        log.warning("audio: %s", message)
        self._set_position(0)
        self._set_state(PlayerState.ERROR)
        self.error.emit(message)

    def _finish(self) -> None:
        self._set_position(0)
        self._set_state(PlayerState.STOPPED)
        self.track_finished.emit()
