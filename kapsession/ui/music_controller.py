"""The session's music: the music panel's requests to the music session, which opens with a
session (`open`, following its phases) and stops when the session is left (`close`).

libVLC is opened once, with the first session's music, once the live screen has been painted
(starting it takes about 40 ms, which the window does not wait for), or sooner when the music is
used first; the music panel then shows whether music can play."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMetaObject, QObject, Qt, Slot
from PySide6.QtWidgets import QWidget

from kapsession.audio.backend import AudioBackend, open_backend
from kapsession.resources import assets_dir
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession, open_music
from kapsession.ui.music_panel import MusicPanel

log = logging.getLogger(__name__)


class MusicController(QObject):
    def __init__(
        self,
        panel: MusicPanel,
        *,
        playlists: Path,
        max_volume_pct: float,
        audio_backend: AudioBackend | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`max_volume_pct`: the room's ceiling (room.toml); `audio_backend`: None, libVLC
        (or the silent fallback) opened when the first session opens."""
        super().__init__(parent)
        self.panel = panel
        self.playlists = playlists
        self.max_volume_pct = max_volume_pct
        self.music: MusicSession | None = None
        self._audio = audio_backend
        panel.play_pause_requested.connect(lambda: self.music and self.music.toggle())
        panel.next_requested.connect(lambda: self.music and self.music.next())
        panel.previous_requested.connect(lambda: self.music and self.music.previous())
        panel.quiet_requested.connect(lambda: self.music and self.music.quiet())
        panel.volume_changed.connect(lambda v: self.music and self.music.set_volume(v))
        panel.seek_requested.connect(lambda ms: self.music and self.music.seek(ms))
        panel.track_chosen.connect(lambda p: self.music and self.music.choose_track(Path(p)))
        panel.music_folder = str(assets_dir() / "music")
        panel.playlist_chosen.connect(lambda n: self.music and self.music.choose_playlist(n))
        panel.follow_phases_changed.connect(
            lambda f: self.music and self.music.set_follow_phases(f)
        )
        panel.transition_changed.connect(lambda t: self.music and self.music.set_transition(t))

    def open(self, live: LiveSession) -> MusicSession:
        """The music of `live`, its playlists on the panel. The first time, libVLC is opened
        once the window has painted the session (or when the music is first used)."""
        self.close()
        first = self._audio is None
        music = open_music(
            live,
            self.audio_backend if first else self.audio_backend(),
            self.playlists,
            room_max_volume_pct=self.max_volume_pct,
            parent=self,
        )
        self.music = music
        music.notice.connect(self.panel.show_notice)
        self.panel.set_playlists(music.playlist_names())
        self.panel.show_notice("")
        if first:
            _AfterPaint(self.panel.window(), music.open_audio, parent=music)
        return music

    def close(self) -> None:
        if self.music is not None:
            self.music.stop()
            self.music.close()
            self.music.deleteLater()
            self.music = None

    def audio_backend(self) -> AudioBackend:
        """libVLC players (made once: starting libVLC takes a moment), or the silent fallback."""
        if self._audio is None:
            self._audio = open_backend()
            if not self._audio.available:
                log.warning("music disabled: %s", self._audio.problem)
        return self._audio


class _AfterPaint(QObject):
    """Calls `then` once `window` has been painted, after that paint is over (the frame is on
    the screen): queued behind it; not at all once its parent is gone. No timer: a window
    never painted (minimised) waits, and meanwhile any use of the music opens what it needs
    itself."""

    def __init__(self, window: QWidget, then: Callable[[], None], *, parent: QObject) -> None:
        super().__init__(parent)
        self._window = window
        self._then = then
        self._posted = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Paint and not self._posted:
            self._posted = True
            self._window.removeEventFilter(self)
            QMetaObject.invokeMethod(self, "go_on", Qt.ConnectionType.QueuedConnection)
        return False

    @Slot()
    def go_on(self) -> None:
        self._then()
