"""`VlcPlayer`: the real `Player`, over libVLC through python-vlc.

Threading: libVLC calls its event callbacks on its own thread. They only emit a Qt signal,
queued to the player's thread, and never call libVLC (libVLC is not re-entrant from its
callbacks). The handler then reads the player's *current* state from libVLC, so an event
that arrives after a newer `stop()` or `load()` cannot put the player in a stale state.
The position is polled by a QTimer while playing, because libVLC's time events come at
the decoder's pace rather than the UI's.

Volume: `volume_pct` is amplitude; libVLC's volume is cubic (50 ≈ 0.125 amplitude), so it
is converted with a cube root (see fades.amplitude_to_vlc_volume). libVLC keeps the volume in
the player's audio output, and `libvlc_media_player_stop()` destroys that output: a volume
set afterwards is lost and the next track starts at full level (measured: a 50 ms burst at
the start of a crossfade). So this adapter never calls stop() before close(): it stops and
rewinds by setting the media again, which ends playback but keeps the audio output.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from kapsession.audio.fades import amplitude_to_vlc_volume
from kapsession.audio.libvlc import AudioUnavailable, install_hint, load_libvlc
from kapsession.audio.player import Player, PlayerState, clamp_volume_pct
from kapsession.audio.probe import file_problem

__all__ = ["AudioUnavailable", "VlcPlayer", "install_hint", "load_libvlc"]

DEFAULT_POLL_MS = 200

# libVLC event name -> what the Qt-side handler does with it
_EVENTS = {
    "MediaPlayerPlaying": "state",
    "MediaPlayerPaused": "state",
    "MediaPlayerStopped": "state",
    "MediaPlayerEndReached": "end",
    "MediaPlayerEncounteredError": "error",
    "MediaPlayerLengthChanged": "length",
}


class VlcPlayer(Player):
    """A `Player` playing through libVLC.

    `instance` shares one libVLC instance between players (the crossfader's two); without
    it the player makes and owns one with `options` (e.g. ``("--aout=pulse",)``).
    Raises AudioUnavailable, with the install command, when libVLC does not work.
    """

    _vlc_event = Signal(str)  # emitted from libVLC's thread, handled queued on ours

    def __init__(
        self,
        instance: Any = None,
        *,
        options: Sequence[str] = (),
        poll_interval_ms: int = DEFAULT_POLL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._owns_instance = instance is None
        self._instance = load_libvlc(options) if instance is None else instance
        import vlc  # works: load_libvlc proved it

        self._vlc: Any = vlc
        self._mp: Any = self._instance.media_player_new()
        self._heard_audio = False  # a length or a position > 0 was reported for this track
        self._pending_seek_ms: int | None = None
        self._starting = False  # play() asked libVLC to open the track; waiting for Playing
        self._closed = False
        self._vlc_event.connect(self._on_vlc_event, Qt.ConnectionType.QueuedConnection)
        self._events: Any = self._mp.event_manager()  # keep: it holds the ctypes callback
        emit = self._vlc_event.emit
        for event_name, kind in _EVENTS.items():
            self._events.event_attach(
                getattr(vlc.EventType, event_name), lambda _event, k=kind: emit(k)
            )
        self._timer = QTimer(self)
        self._timer.setInterval(poll_interval_ms)
        self._timer.timeout.connect(self._poll)

    # --- the port ---------------------------------------------------------------------------

    def load(self, path: Path) -> None:
        if self._closed:
            return
        self._timer.stop()
        self._source = path
        self._heard_audio = False
        self._pending_seek_ms = None
        self._starting = False
        self._set_position(0)
        self._set_duration(0)
        problem = file_problem(path)
        if problem is not None:
            self._mp.set_media(None)
            self._fail(problem.message)
            return
        self._rewind()
        self._set_state(PlayerState.STOPPED)

    def play(self) -> None:
        if self._closed or self._source is None:
            return
        if self._state in (PlayerState.ERROR, PlayerState.PLAYING):
            return
        if self._state is PlayerState.PAUSED:
            # resuming needs no opening: the state follows at once, like pause()
            self._mp.set_pause(0)
            self._set_state(PlayerState.PLAYING)
            self._timer.start()
            return
        self._starting = True
        if self._mp.play() != 0:
            self._starting = False
            self._fail(f"VLC could not start {self._source.name}. Try another track.")

    def pause(self) -> None:
        if self._closed or self._state is not PlayerState.PLAYING:
            return
        self._mp.set_pause(1)
        self._timer.stop()
        self._poll()
        self._set_state(PlayerState.PAUSED)

    def stop(self) -> None:
        if self._closed or self._source is None:
            return
        self._timer.stop()
        self._pending_seek_ms = None
        self._starting = False
        self._rewind()
        self._set_position(0)
        if self._state is not PlayerState.ERROR:
            self._set_state(PlayerState.STOPPED)

    def seek(self, position_ms: int) -> None:
        if self._closed or self._source is None or self._state is PlayerState.ERROR:
            return
        target_ms = self._clamp_seek(position_ms)
        if self._state in (PlayerState.PLAYING, PlayerState.PAUSED):
            self._mp.set_time(target_ms)
        else:
            self._pending_seek_ms = target_ms
        self._set_position(target_ms)

    def set_volume(self, volume_pct: float) -> None:
        self._volume_pct = clamp_volume_pct(volume_pct)
        if not self._closed:
            self._apply_volume()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self.blockSignals(True)
        for event_name in _EVENTS:
            self._events.event_detach(getattr(self._vlc.EventType, event_name))
        self._mp.stop()
        self._mp.release()
        if self._owns_instance:
            self._instance.release()

    # --- libVLC -> Qt -----------------------------------------------------------------------

    def _rewind(self) -> None:
        """Stop and rewind to the start of the current track, keeping the audio output."""
        if self._source is None:
            return
        media = self._instance.media_new_path(str(self._source))
        self._mp.set_media(media)
        media.release()  # the player holds its own reference

    def _apply_volume(self) -> None:
        self._mp.audio_set_volume(amplitude_to_vlc_volume(self._volume_pct / 100))

    def _on_vlc_event(self, kind: str) -> None:
        if self._closed or self._source is None:
            return
        vlc_state = self._mp.get_state()
        states = self._vlc.State
        if kind == "length":
            self._read_length()
        elif kind == "end" and vlc_state == states.Ended:
            self._on_end()
        elif kind == "error" and vlc_state == states.Error:
            self._starting = False
            self._timer.stop()
            self._rewind()
            self._fail(
                f"VLC could not play {self._source.name}: the file may be damaged or in a format "
                "VLC does not play. Try another track."
            )
        elif kind == "state":
            self._follow(vlc_state)

    def _follow(self, vlc_state: Any) -> None:
        """Take up state changes libVLC made on its own; pause and resume are ours already."""
        states = self._vlc.State
        if vlc_state == states.Playing and self._starting:
            self._starting = False
            self._apply_volume()
            if self._pending_seek_ms is not None:
                self._mp.set_time(self._pending_seek_ms)
                self._pending_seek_ms = None
            self._read_length()
            self._set_state(PlayerState.PLAYING)
            self._timer.start()
        elif vlc_state in (states.Stopped, states.NothingSpecial) and self._state in (
            PlayerState.PLAYING,
            PlayerState.PAUSED,
        ):
            self._timer.stop()
            self._set_position(0)
            self._set_state(PlayerState.STOPPED)

    def _on_end(self) -> None:
        assert self._source is not None
        self._starting = False
        self._timer.stop()
        self._read_length()
        self._rewind()  # an ended libVLC player plays again only with its media set anew
        if not self._heard_audio:
            # libVLC "plays" undecodable files for zero milliseconds and reports the end
            self._fail(
                f"{self._source.name} is damaged or not a music format VLC plays. "
                "Replace the file or remove it from the playlist."
            )
            return
        self._finish()

    def _read_length(self) -> None:
        length_ms = int(self._mp.get_length())
        if length_ms > 0:
            self._heard_audio = True
            self._set_duration(length_ms)

    def _poll(self) -> None:
        time_ms = int(self._mp.get_time())
        if time_ms > 0:
            self._heard_audio = True
        if time_ms >= 0 and self._pending_seek_ms is None:
            self._set_position(time_ms)
        if self._duration_ms == 0:
            self._read_length()
