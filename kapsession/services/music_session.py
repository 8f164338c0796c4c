"""The session's music: phase playlists, transport, transitions, and the music log.

Follows the room's phase (the first participant's timeline): when the session enters a new
phase, the music moves to that phase's playlist at the end of the current track, or at once
with a crossfade, as the protocol or the therapist chooses. Every start, end, skip, pause,
volume change and transition is written to the session record as a music event. Faults (a
missing or broken file, a libVLC error) are logged, skipped, and told quietly; the session
clock and the record carry on. Music never starts by itself: the therapist presses play, and
music that was paused or quieted (or silenced by a phase without a playlist) stays silent
through a phase change, with the new phase's playlist waiting for play.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kapsession.audio.backend import AudioBackend
from kapsession.audio.crossfader import Crossfader
from kapsession.audio.player import Player, PlayerState
from kapsession.audio.playlist import Playlist, PlaylistEntry, PlaylistError, read_playlist
from kapsession.audio.probe import probe_track_headers
from kapsession.records.entries import MusicEventRecord
from kapsession.records.errors import StorageError
from kapsession.records.music import MusicState, NowPlaying
from kapsession.services.live_session import LiveSession
from kapsession.storage.music_log import MusicLogRepository

log = logging.getLogger(__name__)

PAUSE_FADE_S = 0.4  # pause/resume: a short ramp instead of a click
QUIET_FADE_S = 4.0  # "quiet": a slow fade to silence
RESTART_TRACK_AFTER_MS = 5000  # "previous" restarts the track once it has played this long
VOLUME_LOG_DELAY_MS = 800  # a volume drag is logged once it settles
DEFAULT_ROOM_MAX_VOLUME_PCT = 80.0
DEFAULT_VOLUME_PCT = 60.0
TRANSITIONS = ("track_end", "fade")


@dataclass(frozen=True)
class LoadedPlaylist:
    """A protocol's playlist, read, with its tracks' durations."""

    name: str  # file name, as the protocol names it
    playlist: Playlist
    durations_ms: tuple[int | None, ...]  # measured from the files (headers), per entry

    @property
    def total_ms(self) -> int:
        return sum(d for d in self.durations_ms if d)


def track_title(entry: PlaylistEntry) -> str:
    if entry.title:
        return entry.title
    name = entry.path.stem if entry.path is not None else entry.location
    return name.replace("-", " ").replace("_", " ").strip().capitalize()


class MusicSession(QObject):
    changed = Signal()
    notice = Signal(str)  # a quiet notice for the therapist: a skipped file, music disabled
    music_logged = Signal(MusicEventRecord)  # a music event written: the record of its row

    def __init__(
        self,
        live: LiveSession,
        music_log: MusicLogRepository,
        backend: AudioBackend | Callable[[], AudioBackend],
        playlists_dir: Path,
        *,
        room_max_volume_pct: float = DEFAULT_ROOM_MAX_VOLUME_PCT,
        monotonic_s: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        """`backend`: the players' back-end, or how to open it (starting libVLC takes a
        moment): then it is opened by `open_audio()`, or when the music is first used."""
        super().__init__(parent)
        self._live = live
        self._log = music_log
        self._open_backend: Callable[[], AudioBackend] | None = None
        self._backend: AudioBackend | None = None
        if isinstance(backend, AudioBackend):
            self._backend = backend
        else:
            self._open_backend = backend
        self._monotonic_s = monotonic_s
        self._crossfader: Crossfader | None = None
        self._closed = False
        self._playlists_dir = playlists_dir
        self._room_max = max(0.0, min(room_max_volume_pct, 100.0))
        self._volume = min(DEFAULT_VOLUME_PCT, self._room_max)
        if self._backend is not None:
            self.open_audio()
        self._state = MusicState.STOPPED
        self.follow_phases = True
        self.transition = live.protocol.music.transition
        self._cache: dict[str, LoadedPlaylist | None] = {}
        self._current: LoadedPlaylist | None = None
        self._index = 0
        self._pending: LoadedPlaylist | None = None  # waits for the end of the current track
        self._pending_reason = ""
        self._playing_entry: PlaylistEntry | None = None
        self._playing_playlist: str | None = None
        # entries of one playlist that failed since a track of it last played: when every
        # entry has failed, the music stops instead of trying them again and again
        self._failed_list: LoadedPlaylist | None = None
        self._failed: set[str] = set()  # locations
        self._skip_target: tuple[LoadedPlaylist, int] | None = None  # after a broken track
        self._skip_timer = QTimer(self)
        self._skip_timer.setSingleShot(True)
        self._skip_timer.setInterval(0)  # once the fader call that failed has returned
        self._skip_timer.timeout.connect(self._skip_broken)
        self._return_to: tuple[LoadedPlaylist, int] | None = None  # after a chosen single track
        self._phase_key = self._room_phase_key()
        self._volume_timer = QTimer(self)
        self._volume_timer.setSingleShot(True)
        self._volume_timer.setInterval(VOLUME_LOG_DELAY_MS)
        self._volume_timer.timeout.connect(self._log_volume)
        self._current = self._phase_playlist(self._phase_key)
        self.track_starts: list[tuple[datetime, str]] = []  # for the timeline strip
        try:
            self.track_starts = [
                (e.occurred_at, e.track_title or "")
                for e in music_log.for_session(live.record.id)
                if e.kind == "track_start"
            ]
        except StorageError as exc:
            log.warning("music log not read: %s", exc)
        live.ticked.connect(self._on_live_changed)  # the phase, and the time left shown
        live.ended.connect(self._on_session_ended)

    # the players ----------------------------------------------------------------------------
    def open_audio(self) -> None:
        """Open the back-end, if it was handed over unopened, and make the two players; then
        say so (`changed`: the panel shows whether music can play). Once only."""
        if self._crossfader is not None or self._closed:
            return
        if self._backend is None:
            assert self._open_backend is not None
            self._backend = self._open_backend()
        fader = Crossfader(
            self._backend.factory,
            monotonic_s=self._monotonic_s,
            crossfade_s=self._live.protocol.music.crossfade_s,
            max_volume_pct=self._volume,
            parent=self,
        )
        fader.track_started.connect(self._on_track_started)
        fader.track_finished.connect(self._on_track_finished)
        for player in fader.players:
            # from each player, after the Crossfader's own handler: which file failed is known
            player.error.connect(lambda message, p=player: self._on_error(message, p.source))
            player.position_changed.connect(lambda ms, p=player: self._on_position(p, ms))
        self._crossfader = fader
        if self._open_backend is not None:
            self.changed.emit()

    @property
    def _fader(self) -> Crossfader:
        """The players, opened first if they are not yet (any use of the music)."""
        if self._crossfader is None:
            self.open_audio()
        assert self._crossfader is not None
        return self._crossfader

    # reading --------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return self._audio.available

    @property
    def _audio(self) -> AudioBackend:
        if self._backend is None:
            self.open_audio()
        assert self._backend is not None
        return self._backend

    @property
    def state(self) -> str:
        return self._state

    def now_playing(self) -> NowPlaying:
        """What the music does. Before the back-end is opened (`open_audio`) nothing has
        played, and music counts as available until the back-end says otherwise."""
        playing = self._state != MusicState.STOPPED  # only ever after the back-end was opened
        lead = self._fader.leading if playing else None
        backend = self._backend
        window = self._live.state().current_phase
        phase_list = self._phase_playlist(self._phase_key)
        return NowPlaying(
            available=backend.available if backend is not None else True,
            problem=backend.problem if backend is not None else None,
            state=self._state,
            track_title=track_title(self._playing_entry) if self._playing_entry else None,
            playlist_name=self._current.name if self._current else None,
            position_ms=lead.position_ms if lead is not None else 0,
            duration_ms=lead.duration_ms if lead is not None else 0,
            volume_pct=self._volume,
            max_volume_pct=self._room_max,
            follow_phases=self.follow_phases,
            transition=self.transition,
            pending_playlist=self._pending.name if self._pending else None,
            playlist_total_ms=phase_list.total_ms if phase_list else None,
            phase_name=window.spec.name if window else None,
            phase_length_s=(window.ends_at - window.begins_at).total_seconds() if window else None,
        )

    def playlist_names(self) -> list[str]:
        """Playlists the therapist can choose from: every playlist file in the folder."""
        if not self._playlists_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self._playlists_dir.iterdir()
            if p.suffix.lower() in (".m3u", ".m3u8", ".pls", ".xspf")
        )

    # transport ------------------------------------------------------------------------------
    def play(self) -> None:
        """Start the phase's music, or resume after pause/quiet."""
        if self._state in (MusicState.PAUSED, MusicState.QUIET):
            self._fader.resume(PAUSE_FADE_S if self._state == MusicState.PAUSED else QUIET_FADE_S)
            self._set_state(MusicState.PLAYING)
            self._write("resume", entry=self._playing_entry)
            return
        if self._state == MusicState.PLAYING:
            return
        if self._current is None or not self._current.playlist.entries:
            self.notice.emit("No music for this phase: choose a playlist or a track.")
            return
        self._index = min(self._index, len(self._current.playlist.entries) - 1)
        self._start_entry(self._current, self._index, fade_s=0.0)

    def pause(self) -> None:
        if self._state != MusicState.PLAYING:
            return
        self._fader.quiet(PAUSE_FADE_S)
        self._set_state(MusicState.PAUSED)
        self._write("pause", entry=self._playing_entry)

    def toggle(self) -> None:
        if self._state == MusicState.PLAYING:
            self.pause()
        else:
            self.play()

    def quiet(self) -> None:
        """Fade to silence over a few seconds; `play()` fades back in."""
        if self._state != MusicState.PLAYING:
            return
        self._fader.quiet(QUIET_FADE_S)
        self._set_state(MusicState.QUIET)
        self._write("quiet", entry=self._playing_entry, detail={"fade_s": QUIET_FADE_S})

    def next(self) -> None:
        if self._return_to is not None and self._state != MusicState.STOPPED:
            self._skip_to(self._return_to[1], "next", self._return_to[0])  # end a single track
            return
        if self._current is None or not self._current.playlist.entries:
            return
        target = (self._index + 1) % len(self._current.playlist.entries)
        self._skip_to(target, "next")

    def previous(self) -> None:
        if self._current is None or not self._current.playlist.entries:
            return
        if self._fader.leading.position_ms > RESTART_TRACK_AFTER_MS:
            self.seek(0)
            return
        target = (self._index - 1) % len(self._current.playlist.entries)
        self._skip_to(target, "previous")

    def seek(self, position_ms: int) -> None:
        if self._state == MusicState.STOPPED:
            return
        self._fader.leading.seek(max(0, position_ms))
        self._write("seek", entry=self._playing_entry, position_ms=position_ms)

    def set_volume(self, volume_pct: float) -> None:
        """The therapist's volume, capped at the room's maximum; logged once it settles."""
        self._volume = max(0.0, min(volume_pct, self._room_max))
        self._fader.set_max_volume(self._volume)
        self._volume_timer.start()
        self.changed.emit()

    def choose_playlist(self, name: str) -> None:
        """Play another playlist now, with a crossfade (the phase playlist returns at the next
        phase while the music follows the phases)."""
        loaded = self._load(name)
        if loaded is None or not loaded.playlist.entries:
            self.notice.emit(
                f"The playlist {name} cannot be played; see `kapsession playlist check`."
            )
            return
        self._pending = None
        self._write("playlist_switch", playlist=name, detail={"chosen_by": "therapist"})
        self._start_entry(loaded, 0, fade_s=None if self._state == MusicState.PLAYING else 0.0)

    def choose_track(self, path: Path) -> None:
        """Play one file now; afterwards the current playlist carries on."""
        entry = PlaylistEntry(location=str(path), path=path)
        single = LoadedPlaylist(
            name=path.name,
            playlist=Playlist(source=path, entries=(entry,)),
            durations_ms=(probe_track_headers(path).duration_ms,),
        )
        return_to = self._return_to  # a single track chosen during another returns to the same
        if return_to is None and self._current is not None and self._current.playlist.entries:
            following = self._index + (0 if self._state == MusicState.STOPPED else 1)
            return_to = (self._current, following % len(self._current.playlist.entries))
        self._write("playlist_switch", playlist=path.name, detail={"single_track": str(path)})
        self._start_entry(
            single,
            0,
            fade_s=None if self._state == MusicState.PLAYING else 0.0,
            return_to=return_to,
        )

    def set_follow_phases(self, follow: bool) -> None:
        self.follow_phases = follow
        self.changed.emit()

    def set_transition(self, transition: str) -> None:
        if transition in TRANSITIONS:
            self.transition = transition
            self.changed.emit()

    def stop(self) -> None:
        if self._state == MusicState.STOPPED:
            return
        self._write("stop", entry=self._playing_entry)
        self._skip_target = None
        self._fader.stop()
        self._playing_entry = None
        self._set_state(MusicState.STOPPED)

    def close(self) -> None:
        if self._volume_timer.isActive():  # a volume change still settling is logged now
            self._volume_timer.stop()
            self._log_volume()
        self._skip_timer.stop()
        self._closed = True  # the players are not opened after this
        if self._crossfader is not None:
            self._crossfader.close()

    # phases ---------------------------------------------------------------------------------
    def _room_phase_key(self) -> str | None:
        window = self._live.state().current_phase
        return window.spec.key if window else None

    def _on_live_changed(self) -> None:
        key = self._room_phase_key()
        if key == self._phase_key:
            self.changed.emit()
            return
        previous, self._phase_key = self._phase_key, key
        target = self._phase_playlist(key)
        if not self.follow_phases:
            self.changed.emit()
            return
        if self._state == MusicState.STOPPED:
            self._current, self._index = target, 0
            self.changed.emit()
            return
        detail = {"from_phase": previous, "to_phase": key, "mode": self.transition}
        if target is None:
            # a phase without music: fade out (or let the track end) and stay quiet
            self._write("phase_transition", detail={**detail, "to_playlist": None})
            if self.transition == "fade":
                self._fader.quiet(QUIET_FADE_S)
                self._set_state(MusicState.QUIET)
            else:
                self._fader.set_next(None)
            self.changed.emit()
            return
        if target is self._current:
            self.changed.emit()
            return
        if self._state in (MusicState.PAUSED, MusicState.QUIET):
            # silenced (by the therapist or a silent phase): the new playlist waits for play
            self._write(
                "phase_transition", playlist=target.name, detail={**detail, "waits_for_play": True}
            )
            self._write("track_end", entry=self._playing_entry, playlist=self._playing_playlist)
            self._playing_entry = None
            self._current, self._index, self._pending = target, 0, None
            self._set_state(MusicState.STOPPED)  # the fade to silence runs on; play() starts afresh
            return
        if self.transition == "fade":
            self._write("phase_transition", playlist=target.name, detail=detail)
            self._start_entry(target, 0, fade_s=None if self._state == MusicState.PLAYING else 0.0)
        else:
            self._pending = target
            self._pending_reason = f"{previous}->{key}"
            first = target.playlist.entries[0].path if target.playlist.entries else None
            self._fader.set_next(first)
            self._write(
                "phase_transition",
                playlist=target.name,
                detail={**detail, "waits_for_track_end": True},
            )
        self.changed.emit()

    def _on_session_ended(self) -> None:
        if self._state == MusicState.STOPPED:
            return
        self._fader.quiet(QUIET_FADE_S)  # already silent when paused or quiet
        self._write("stop", entry=self._playing_entry, detail={"reason": "session ended"})
        self._skip_target = None
        self._playing_entry = None
        self._set_state(MusicState.STOPPED)

    # tracks ---------------------------------------------------------------------------------
    def _skip_to(self, index: int, direction: str, loaded: LoadedPlaylist | None = None) -> None:
        loaded = loaded or self._current
        assert loaded is not None
        if self._state == MusicState.STOPPED:
            self._current, self._index = loaded, index
            self.changed.emit()
            return
        target = loaded.playlist.entries[index]
        self._write(
            "skip",
            entry=self._playing_entry,
            position_ms=self._fader.leading.position_ms,
            detail={"direction": direction, "to": track_title(target)},
        )
        self._start_entry(loaded, index, fade_s=min(2.0, self._fader.crossfade_s))

    def _start_entry(
        self,
        loaded: LoadedPlaylist,
        index: int,
        *,
        fade_s: float | None,
        return_to: tuple[LoadedPlaylist, int] | None = None,
    ) -> None:
        self._current, self._index = loaded, index
        self._return_to = return_to
        self._skip_target = None
        entry = loaded.playlist.entries[index]
        was_playing = self._state == MusicState.PLAYING
        if self._state in (MusicState.PAUSED, MusicState.QUIET):
            self._fader.stop()
        self._set_state(MusicState.PLAYING)
        if entry.path is None:
            self._on_error(f"{entry.location} is not a file on this laptop.")
            return
        if was_playing:
            self._fader.crossfade_to(entry.path, fade_s)
        else:
            self._fader.play(entry.path, fade_in_s=2.0)

    def _entry_for(self, path: str) -> tuple[LoadedPlaylist, int] | None:
        """Which entry a started file is: the pending phase playlist first, then the playlist
        to return to after a single track, then the current playlist searched from the current
        position on (so repeated files resolve in order)."""
        if self._pending is not None:
            for i, entry in enumerate(self._pending.playlist.entries):
                if entry.path is not None and str(entry.path) == path:
                    return self._pending, i
        if self._return_to is not None:
            loaded, i = self._return_to
            if str(loaded.playlist.entries[i].path) == path:
                return loaded, i
        if self._current is not None:
            entries = self._current.playlist.entries
            for offset in range(len(entries)):
                i = (self._index + offset) % len(entries)
                if entries[i].path is not None and str(entries[i].path) == path:
                    return self._current, i
        return None

    def _on_track_started(self, path: str) -> None:
        found = self._entry_for(path)
        if found is not None:
            loaded, index = found
            if loaded is self._pending:
                self._pending = None
            if loaded is not self._current:
                self._return_to = None  # another playlist took over from the single track
            self._current, self._index = loaded, index
        previous = self._playing_entry
        if previous is not None:
            self._write("track_end", entry=previous, playlist=self._playing_playlist)
        entry = self._current.playlist.entries[self._index] if self._current else None
        self._playing_entry = entry
        self._playing_playlist = self._current.name if self._current else None
        duration = self._current.durations_ms[self._index] if self._current else None
        self._write(
            "track_start",
            entry=entry,
            detail={"duration_ms": duration} if duration else None,
        )
        self._queue_next()
        self.changed.emit()

    def _queue_next(self) -> None:
        if self._pending is not None:
            first = (
                self._pending.playlist.entries[0].path if self._pending.playlist.entries else None
            )
            self._fader.set_next(first)
            return
        if self._return_to is not None:
            loaded, index = self._return_to
            self._fader.set_next(loaded.playlist.entries[index].path)
            return
        if self._current is None or not self._current.playlist.entries:
            self._fader.set_next(None)
            return
        following = (self._index + 1) % len(self._current.playlist.entries)
        self._fader.set_next(self._current.playlist.entries[following].path)

    def _on_track_finished(self, _path: str) -> None:
        if self._state == MusicState.STOPPED:
            return  # stopped and logged already (the session ended during the fade-out)
        self._write("track_end", entry=self._playing_entry, playlist=self._playing_playlist)
        self._playing_entry = None
        silent_phase = self._phase_playlist(self._phase_key) is None and self.follow_phases
        if silent_phase or self._state != MusicState.PLAYING:
            # a silent phase, or the track ran out while fading to quiet: music does not restart
            if self._current is not None and self._current.playlist.entries:
                self._index = (self._index + 1) % len(self._current.playlist.entries)
            self._set_state(MusicState.STOPPED)
            return
        self._set_state(MusicState.STOPPED)
        self.play()

    def _on_position(self, player: Player, position_ms: int) -> None:
        if position_ms <= 0 or not self._failed or self._failed_list is None:
            return
        if any(
            e.path == player.source and e.location not in self._failed
            for e in self._failed_list.playlist.entries
        ):
            self._failed.clear()  # a track of that playlist really plays: it is not all broken

    def _on_error(self, message: str, source: Path | None = None) -> None:
        """Log the fault against the file that failed; skip to the one after it (deferred, so
        the fader call that failed returns first), or stop when none is left to try."""
        log.warning("music fault: %s", message)
        found = self._entry_for(str(source)) if source is not None else None
        loaded, index = found if found is not None else (self._current, self._index)
        count = len(loaded.playlist.entries) if loaded is not None else 0
        entry = loaded.playlist.entries[index % count] if loaded is not None and count else None
        if loaded is not self._failed_list:
            self._failed_list, self._failed = loaded, set()
        if entry is not None:
            self._failed.add(entry.location)
        self._write(
            "error",
            entry=entry,
            playlist=loaded.name if loaded is not None else None,
            detail={"message": message},
        )
        if loaded is None or all(e.location in self._failed for e in loaded.playlist.entries):
            self._skip_target = None
            self._fader.stop()
            self._playing_entry = None
            self._set_state(MusicState.STOPPED)
            self.notice.emit(f"{message} No playable track is left in this playlist.")
            return
        self.notice.emit(f"{message} Skipped to the next track.")
        self._skip_target = (loaded, (index + 1) % count)
        self._skip_timer.start()

    def _skip_broken(self) -> None:
        target, self._skip_target = self._skip_target, None
        if target is None or self._state != MusicState.PLAYING:
            return
        loaded, index = target
        path = loaded.playlist.entries[index].path
        if self._fader.leading.state is PlayerState.PLAYING and path is not None:
            self._fader.set_next(path)  # the current track plays on; the next playable follows
            return
        self._start_entry(loaded, index, fade_s=0.0, return_to=self._return_to)

    # helpers --------------------------------------------------------------------------------
    def _phase_playlist(self, key: str | None) -> LoadedPlaylist | None:
        if key is None:
            return None
        try:
            name = self._live.protocol.phase(key).playlist
        except KeyError:
            return None
        return self._load(name) if name else None

    def _load(self, name: str) -> LoadedPlaylist | None:
        if name in self._cache:
            return self._cache[name]
        path = self._playlists_dir / name
        loaded: LoadedPlaylist | None
        try:
            playlist = read_playlist(path)
        except (PlaylistError, OSError) as exc:
            log.warning("playlist %s cannot be read: %s", path, exc)
            self.notice.emit(f"Playlist {name} cannot be read ({exc}).")
            loaded = None
        else:
            for said in playlist.left_out:
                log.warning("playlist %s: %s", path, said)
                self.notice.emit(f"Playlist {name}: {said}.")
            durations = tuple(
                (probe_track_headers(e.path).duration_ms if e.path else None)
                or e.declared_duration_ms
                for e in playlist.entries
            )
            loaded = LoadedPlaylist(name=name, playlist=playlist, durations_ms=durations)
        self._cache[name] = loaded
        return loaded

    def _set_state(self, state: MusicState) -> None:
        self._state = state
        self.changed.emit()

    def _log_volume(self) -> None:
        self._write("volume", entry=self._playing_entry, volume_pct=self._volume)

    def _write(
        self,
        kind: str,
        *,
        entry: PlaylistEntry | None = None,
        playlist: str | None = None,
        position_ms: int | None = None,
        volume_pct: float | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        now = self._live.now()
        if kind == "track_start":
            self.track_starts.append((now, track_title(entry) if entry else ""))
        try:
            record = self._log.add(
                self._live.record.id,
                kind,
                occurred_at=now,
                recorded_at=now,
                track_path=str(entry.path) if entry and entry.path else None,
                track_title=track_title(entry) if entry else None,
                playlist=playlist or (self._current.name if self._current else None),
                position_ms=position_ms,
                volume_pct=volume_pct if volume_pct is not None else self._volume,
                phase_key=self._phase_key,
                detail=detail,
            )
        except StorageError as exc:
            log.warning("music event not logged: %s", exc)
            self.notice.emit(f"The music log could not be saved: {exc}")
            return
        self.music_logged.emit(record)


def open_music(
    live: LiveSession,
    backend: AudioBackend | Callable[[], AudioBackend],
    playlists_dir: Path,
    *,
    room_max_volume_pct: float = DEFAULT_ROOM_MAX_VOLUME_PCT,
    parent: QObject | None = None,
) -> MusicSession:
    """The music of an open live session, logging into the same database; `backend` as
    `MusicSession` takes it (opened, or how to open it)."""
    return MusicSession(
        live,
        MusicLogRepository(live.database),
        backend,
        playlists_dir,
        room_max_volume_pct=room_max_volume_pct,
        parent=parent,
    )
