"""Audio layer: playing music and reading playlists (QtCore at most, never QtWidgets/QtGui).

- player.py         the `Player` port and `PlayerState`; the contract every back-end keeps
- vlc_player.py     `VlcPlayer` over libVLC; libvlc.py loads libVLC (`AudioUnavailable`)
- null_player.py    `NullPlayer`, the silent fallback that keeps honest time
- fades.py          equal-power gains, amplitude ↔ libVLC volume (cube root), ramps
- crossfader.py     `Crossfader`: two players, crossfades, room maximum, quiet/resume
- playlist.py       M3U/M3U8, PLS, XSPF reading (`read_playlist`, `PlaylistError`)
- probe.py          real durations and file problems (`probe_track`, `probe_duration_ms`)
- playlist_check.py `check_playlist` for `kapsession playlist check`

Nothing here is imported at package import time, so the CLI can read playlists without Qt.
"""
