"""The music panel: seek, volume under the room's ceiling, what is shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from kapsession.records.music import NowPlaying
from kapsession.ui.music_panel import MusicPanel


def playing(position_ms: int = 30_000, **changes: object) -> NowPlaying:
    values: dict[str, object] = dict(
        available=True,
        problem=None,
        state="playing",
        track_title="Deep drone",
        playlist_name="onset.m3u8",
        position_ms=position_ms,
        duration_ms=330_000,
        volume_pct=60.0,
        max_volume_pct=80.0,
        follow_phases=True,
        transition="track_end",
        pending_playlist=None,
        playlist_total_ms=1_560_000,
        phase_name="Onset",
        phase_length_s=1500.0,
    )
    values.update(changes)
    return NowPlaying(**values)  # type: ignore[arg-type]


def test_dragging_the_position_asks_to_seek_once_on_release(qtbot: QtBot) -> None:
    panel = MusicPanel()
    qtbot.addWidget(panel)
    panel.show_now_playing(playing())
    assert (panel.position.maximum(), panel.position.value()) == (330_000, 30_000)
    seeks: list[int] = []
    panel.seek_requested.connect(seeks.append)
    # When the slider is dragged and released at 2 minutes
    panel.position.setSliderDown(True)
    panel.position.setValue(120_000)
    panel.show_now_playing(playing(31_000))  # a tick while dragging does not move it back
    assert panel.position.value() == 120_000
    panel.position.setSliderDown(False)
    # Then one seek to 2:00 is asked for
    assert seeks == [120_000]


def test_the_volume_slider_stops_at_the_room_maximum(qtbot: QtBot) -> None:
    panel = MusicPanel()
    qtbot.addWidget(panel)
    panel.show_now_playing(playing(max_volume_pct=65.0, volume_pct=65.0))
    assert panel.volume.maximum() == 65
    panel.volume.setFocus()
    qtbot.keyClick(panel.volume, Qt.Key.Key_End)
    assert panel.volume.value() == 65
    assert "room max 65" in panel.volume_label.text()


def test_music_disabled_shows_the_install_command(qtbot: QtBot) -> None:
    panel = MusicPanel()
    qtbot.addWidget(panel)
    panel.show_now_playing(
        playing(
            available=False,
            state="stopped",
            problem="Install it with: sudo apt-get install libvlc5",
        )
    )
    assert panel.disabled_banner.isVisibleTo(panel)
    assert "apt-get install libvlc5" in panel.disabled_banner.text()
    assert not panel.position.isEnabled()


def test_one_track_is_chosen_from_a_file_dialog(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the file dialog answers with a music file
    chosen = tmp_path / "bowl.ogg"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *_a, **_k: (str(chosen), ""))
    )
    panel = MusicPanel()
    qtbot.addWidget(panel)
    picked: list[str] = []
    panel.track_chosen.connect(picked.append)
    # When "One track…" is pressed, Then that file is asked for
    panel.track_button.click()
    assert picked == [str(chosen)]
