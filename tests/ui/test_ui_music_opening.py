"""libVLC is opened with the first session's music once the live screen has been painted: the
window does not wait for it. Counted on the real libVLC (or its silent fallback) through the
function the music controller opens it with."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget
from ui_harness import WAIT_MS, RunningApp

from kapsession.audio.backend import AudioBackend
from kapsession.ui import music_controller


class PaintCounter(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def count_openings(monkeypatch: pytest.MonkeyPatch, paints: PaintCounter) -> list[int]:
    """Each time libVLC is opened from now on: how many times the window had been painted."""
    opened: list[int] = []
    real = music_controller.open_backend

    def counted(options: Sequence[str] = ()) -> AudioBackend:
        opened.append(paints.count)
        return real(options)

    monkeypatch.setattr(music_controller, "open_backend", counted)
    return opened


def test_libvlc_is_opened_after_the_live_screen_is_painted_and_once(
    app: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the app on its start screen, libVLC not opened yet
    paints = PaintCounter(app.window)
    opened = count_openings(monkeypatch, paints)
    # When a session starts and its live screen opens
    app.start_session("Maya Fischer")
    painted_before = paints.count
    # Then libVLC was not opened while it opened
    assert opened == []
    # And it is opened once the window has painted the live screen
    app.qtbot.waitUntil(lambda: opened != [], timeout=WAIT_MS)
    assert opened[0] > painted_before
    # When the nurse goes back and starts another session
    app.leave_session()
    app.start_session("Jon Berg")
    # Then its music plays on the libVLC already opened: not opened again
    assert app.controller.music is not None
    assert app.controller.music.now_playing().state == "stopped"
    assert len(opened) == 1
    app.leave_session()
