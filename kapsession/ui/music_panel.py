"""The music panel of the live screen: what plays, time left, transport, volume, playlists."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from kapsession.records.music import MusicState, NowPlaying
from kapsession.ui import theme
from kapsession.ui.clock_label import LEFT_MIDDLE, ClockLabel
from kapsession.ui.formatting import clock_text

STATE_WORDS = {
    MusicState.PLAYING: "playing",
    MusicState.PAUSED: "paused",
    MusicState.QUIET: "quiet",
    MusicState.STOPPED: "stopped",
}


class MusicPanel(QFrame):
    play_pause_requested = Signal()
    next_requested = Signal()
    previous_requested = Signal()
    quiet_requested = Signal()
    volume_changed = Signal(float)
    seek_requested = Signal(int)  # position_ms
    playlist_chosen = Signal(str)
    track_chosen = Signal(str)  # a file path
    follow_phases_changed = Signal(bool)
    transition_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        heading = QLabel("MUSIC")
        heading.setObjectName("heading")
        self.disabled_banner = QLabel()
        self.disabled_banner.setObjectName("banner")
        self.disabled_banner.setWordWrap(True)
        self.disabled_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.disabled_banner.hide()
        self.title = QLabel("—")
        self.title.setAccessibleName("Track")
        self.title.setStyleSheet("font-size: 18px;")
        self.detail = ClockLabel(background=theme.PANEL)  # the time left: every second
        self.detail.setObjectName("dim")
        self.fit = QLabel()
        self.fit.setObjectName("dim")
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.previous_button = QPushButton("Previous")
        self.previous_button.setToolTip("Previous track (Ctrl+Left)")
        self.previous_button.setAccessibleName("Previous track")
        self.play_button = QPushButton("Play  (P)")
        self.play_button.setAccessibleName("Play or pause")
        self.next_button = QPushButton("Next")
        self.next_button.setToolTip("Next track (Ctrl+Right)")
        self.next_button.setAccessibleName("Next track")
        self.quiet_button = QPushButton("Quiet  (Q)")
        self.quiet_button.setToolTip("Fade the music to silence; Play fades it back in")
        for button in (self.previous_button, self.play_button, self.next_button, self.quiet_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.previous_button.clicked.connect(self.previous_requested)
        self.play_button.clicked.connect(self.play_pause_requested)
        self.next_button.clicked.connect(self.next_requested)
        self.quiet_button.clicked.connect(self.quiet_requested)
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setAccessibleName("Position in the track")
        self.position.setToolTip("Drag to move within the track")
        self.position.sliderReleased.connect(
            lambda: self.seek_requested.emit(self.position.value())
        )
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setAccessibleName("Music volume")
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(140)
        self.volume.valueChanged.connect(lambda v: self.volume_changed.emit(float(v)))
        self.volume_label = QLabel()
        self.volume_label.setObjectName("dim")
        self.playlists = QComboBox()
        self.playlists.setAccessibleName("Choose a playlist")
        self.playlists.activated.connect(self._on_playlist_activated)
        self.follow = QCheckBox("Follow phases")
        self.follow.setChecked(True)
        self.follow.toggled.connect(self.follow_phases_changed)
        self.transition = QComboBox()
        self.transition.setAccessibleName("Phase transition")
        self.transition.addItem("at the end of the track", "track_end")
        self.transition.addItem("at once, with a fade", "fade")
        self.transition.activated.connect(
            lambda _i: self.transition_changed.emit(self.transition.currentData())
        )
        transport = QHBoxLayout()
        for widget in (self.previous_button, self.play_button, self.next_button, self.quiet_button):
            transport.addWidget(widget)
        transport.addSpacing(12)
        transport.addWidget(self.volume)
        transport.addWidget(self.volume_label)
        transport.addStretch(1)
        self.track_button = QPushButton("One track…")
        self.track_button.setToolTip(
            "Play a single music file now; the playlist carries on after it"
        )
        self.track_button.clicked.connect(self._choose_track)
        options = QHBoxLayout()
        options.addWidget(self.playlists, 1)
        options.addWidget(self.track_button)
        options.addWidget(self.follow)
        change = QLabel("change")
        change.setObjectName("dim")
        options.addWidget(change)
        options.addWidget(self.transition)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.disabled_banner)
        layout.addWidget(self.title)
        layout.addWidget(self.detail, 0, LEFT_MIDDLE)
        layout.addWidget(self.fit)
        layout.addWidget(self.position)
        layout.addLayout(transport)
        layout.addLayout(options)
        layout.addWidget(self.notice)
        self._names: list[str] = []
        self.music_folder = ""  # where the track chooser opens

    def set_playlists(self, names: list[str]) -> None:
        self._names = names
        self.playlists.blockSignals(True)
        self.playlists.clear()
        self.playlists.addItem("Choose another playlist…", None)
        for name in names:
            self.playlists.addItem(name.rsplit(".", 1)[0].replace("-", " ").capitalize(), name)
        self.playlists.blockSignals(False)

    def show_now_playing(self, now: NowPlaying) -> None:
        if not now.available and now.problem:
            self.disabled_banner.setText(f"Music is disabled on this laptop. {now.problem}")
            self.disabled_banner.show()
        else:
            self.disabled_banner.hide()
        self.title.setText(now.track_title or "No track playing")
        parts = [STATE_WORDS.get(now.state, now.state)]
        if now.track_title and now.duration_ms:
            parts.append(f"{clock_text(now.remaining_ms / 1000)} left in the track")
        if now.playlist_name:
            parts.append(now.playlist_name)
        if now.pending_playlist:
            parts.append(f"next: {now.pending_playlist} after this track")
        self.detail.setText("  ·  ".join(parts))
        fit = now.playlist_fit()
        self.fit.setText(f"{now.phase_name}: {fit}" if fit and now.phase_name else fit)
        self.play_button.setText("Pause  (P)" if now.state == MusicState.PLAYING else "Play  (P)")
        if not self.position.isSliderDown():  # never fight the hand that is dragging it
            self.position.blockSignals(True)
            self.position.setRange(0, max(now.duration_ms, 0))
            self.position.setValue(min(now.position_ms, max(now.duration_ms, 0)))
            self.position.blockSignals(False)
        self.position.setEnabled(now.state != MusicState.STOPPED and now.duration_ms > 0)
        self.quiet_button.setEnabled(now.state == MusicState.PLAYING)
        self.volume.blockSignals(True)
        self.volume.setMaximum(int(now.max_volume_pct))
        self.volume.setValue(round(now.volume_pct))
        self.volume.blockSignals(False)
        self.volume_label.setText(f"{now.volume_pct:.0f} % (room max {now.max_volume_pct:.0f})")
        self.follow.blockSignals(True)
        self.follow.setChecked(now.follow_phases)
        self.follow.blockSignals(False)
        index = self.transition.findData(now.transition)
        if index >= 0 and index != self.transition.currentIndex():
            self.transition.setCurrentIndex(index)

    def show_notice(self, message: str) -> None:
        self.notice.setText(message)

    def _choose_track(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            "Play one track",
            self.music_folder,
            "Music (*.ogg *.oga *.opus *.mp3 *.flac *.wav *.m4a *.aac);;All files (*)",
        )
        if path:
            self.track_chosen.emit(path)

    def _on_playlist_activated(self, index: int) -> None:
        name = self.playlists.itemData(index)
        if isinstance(name, str):
            self.playlist_chosen.emit(name)
        self.playlists.setCurrentIndex(0)
