"""Every key of the live screen, pressed in each kind of field: where a letter cannot be typed
(a number box, a choice) and outside any field every key acts; in a text box a letter is typed
and only the Ctrl and Alt keys and Esc act (but Ctrl+Left and Ctrl+Right, which move by word
there). And nothing typed is lost when a key acts.

The real window over a real data folder, the keys sent to whatever has the focus; the music on
silent players over short silent tracks, so that its keys have something to act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from support.audio_files import silent_wav
from support.signing_in import ADMIN_PIN, sign_in
from ui_harness import (
    START,
    ModalGuard,
    RunningApp,
    data_dir_context,
    focus_widget,
    press,
    room_theme,
)

from kapsession.audio.backend import AudioBackend
from kapsession.audio.null_player import NullPlayer
from kapsession.domain.clock import FakeClock
from kapsession.records.music import MusicState
from kapsession.records.notes import Pad
from kapsession.services.music_session import MusicSession
from kapsession.ui import keymap
from kapsession.ui.app_controller import AppController
from kapsession.ui.live_view import CHART, NOTES, READINGS, RECORD
from kapsession.ui.main_window import MainWindow

NO = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier
ALT = Qt.KeyboardModifier.AltModifier
ESC = Qt.Key.Key_Escape

FIELDS = ("none", "numeric", "choice", "text")
LETTER = {"none", "numeric", "choice"}  # where a single letter acts: no letter can be typed
EVERYWHERE = set(FIELDS)
TYPED_NUMBER = "88"  # in the heart-rate box, before the key
TYPED_TEXT = "ok"  # in the check-in's comment box, before the key


def silent_player() -> NullPlayer:
    return NullPlayer(monotonic_s=lambda: 0.0)


def playlists(folder: Path) -> Path:
    """The sublingual protocol's first phases' playlists: the same three short silent tracks."""
    lines = ["#EXTM3U"]
    for name in ("one", "two", "three"):
        silent_wav(folder / "music" / f"{name}.wav", 30)
        lines += [f"#EXTINF:-1,Track {name}", f"music/{name}.wav"]
    for phase in ("arrival", "intention", "onset", "peak"):
        (folder / f"{phase}.m3u8").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def keys_app(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, modal_guard: ModalGuard
) -> Iterator[RunningApp]:
    """A live session 3 minutes in: a baseline, the dose, a reading over the alert limit (an
    open alert), the music playing the second track of the phase's playlist at 50 %. The test
    leaves the session (Alt+Left), so that no clock is left ticking."""
    room_theme(qapp)
    clock = FakeClock(START)
    context = data_dir_context(tmp_path / "data", clock)
    window = MainWindow(training=False)
    qtbot.addWidget(window)
    controller = AppController(
        window,
        context,
        training=False,
        audio_backend=AudioBackend(factory=silent_player, available=True),
        playlists=playlists(tmp_path / "playlists"),
    )
    sign_in(controller)
    window.show()
    qtbot.waitExposed(window)
    app = RunningApp(qtbot, context, clock, window, controller, modal_guard)
    app.ready()
    app.start_session("Maya Fischer")
    live = controller.live
    assert live is not None
    (maya,) = live.participants
    minute_passes(app)
    baseline = {"systolic_mmhg": "122", "diastolic_mmhg": "78"}
    assert live.save_checkin(maya.id, baseline, checkin_key="baseline", ask_before_partial=False)
    minute_passes(app)
    _therapist, nurse = app.usual_staff()
    result = live.record_dose(maya.id, "200", given_by=nurse.id)
    assert result is not None and result.saved
    minute_passes(app)
    assert live.save_checkin(maya.id, {"systolic_mmhg": "190", "diastolic_mmhg": "100"})
    assert live.open_alerts
    music = music_of(app)
    music.toggle()
    music.next()
    app.live_view.music.volume.setValue(50)
    assert (music.now_playing().state, music.now_playing().track_title) == (
        MusicState.PLAYING,
        "Track two",
    )
    yield app
    context.close()


def minute_passes(app: RunningApp) -> None:
    """The room's clock moves on a minute and the session ticks, as its timer would."""
    app.clock.advance(60)
    assert app.controller.live is not None
    app.controller.live.tick()


def music_of(app: RunningApp) -> MusicSession:
    assert app.controller.music is not None
    return app.controller.music


# the places the keys are pressed in -------------------------------------------------------
def go_to(app: RunningApp, field: str) -> QWidget:
    """Put the keys in a field of the kind `field`, as a nurse would; return that field."""
    view = app.live_view
    form = view.checkin_form
    if field == "none":
        view.setFocus()
        assert app.ready() is view
        return view
    app.key(Qt.Key.Key_C)
    assert app.ready() is form.fields["systolic_mmhg"]
    if field == "numeric":
        app.tab_to(form.fields["heart_rate_bpm"])
        app.type(TYPED_NUMBER)
        return form.fields["heart_rate_bpm"]
    if field == "choice":
        app.key(Qt.Key.Key_Tab, SHIFT)
        app.key(Qt.Key.Key_Tab, SHIFT)
        assert app.ready() is form.checkin
        return form.checkin
    app.tab_to(form.comment)
    app.type(TYPED_TEXT)
    return form.comment


# what each key does, seen from outside --------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    key: Qt.Key
    modifiers: Qt.KeyboardModifier
    acts_in: set[str]
    acted: Callable[[RunningApp], bool] | None  # what it did, seen from outside
    dialog: str | None = None  # or the dialog it opens (closed with Esc)
    letter: str = ""  # what it types in a text box when it does not act there


def current_tab(app: RunningApp, page: str) -> bool:
    view = app.live_view
    return view.built(page) and view.tabs.currentWidget() is view._pages[page]


def note_box_has_keys(app: RunningApp, pad: str) -> bool:
    view = app.live_view
    return current_tab(app, NOTES) and focus_widget() is view.note_pad.inputs[pad]


def music_state(app: RunningApp) -> MusicState:
    return music_of(app).now_playing().state


def track(app: RunningApp) -> str | None:
    return music_of(app).now_playing().track_title


def check_in_started(app: RunningApp) -> bool:
    return focus_widget() is app.live_view.checkin_form.fields["systolic_mmhg"]


def booster_refused(app: RunningApp) -> bool:
    failure = app.live_view.failure
    return failure.isVisible() and failure.text().startswith("No booster yet: the window")


def screening_done(app: RunningApp) -> bool:
    failure = app.live_view.failure
    return failure.isVisible() and "screening comes before the first dose" in failure.text()


def marker_has_keys(app: RunningApp) -> bool:
    return focus_widget() is app.live_view.marker


def readings_shown(app: RunningApp) -> bool:
    return current_tab(app, READINGS) and focus_widget() is app.live_view.readings


def music_tab_shown(app: RunningApp) -> bool:
    return app.live_view.tabs.currentWidget() is app.live_view.music_page


def volume(app: RunningApp) -> int:
    return app.live_view.music.volume.value()


def locked_then_unlocked(app: RunningApp) -> bool:
    """Ctrl+L locked the screen (the PIN field has the keys); the PIN of the person signed
    in unlocks it again, and the keys go back where they were."""
    access = app.controller.access
    if not access.locked:
        return False
    assert focus_widget() is access.screen.unlock_pin
    app.type(ADMIN_PIN)
    app.key(Qt.Key.Key_Return)
    return not access.locked


CASES = [
    Case("C", Qt.Key.Key_C, NO, LETTER, check_in_started, letter="c"),
    # 3 minutes after the dose the booster window is not open: D says so (issue 16)
    Case("D", Qt.Key.Key_D, NO, LETTER, booster_refused, letter="d"),
    # after the first dose B says the screening came before it (issue 17)
    Case("B", Qt.Key.Key_B, NO, LETTER, screening_done, letter="b"),
    Case("A", Qt.Key.Key_A, NO, LETTER, None, dialog="AcknowledgeDialog", letter="a"),
    Case("E", Qt.Key.Key_E, NO, LETTER, None, dialog="AdverseEventDialog", letter="e"),
    Case("T", Qt.Key.Key_T, NO, LETTER, None, dialog="InterventionDialog", letter="t"),
    # nobody has a PIN in this room: F says that leaving the client's screen would need one
    Case("F", Qt.Key.Key_F, NO, LETTER, None, dialog="QMessageBox", letter="f"),
    Case("Y", Qt.Key.Key_Y, NO, LETTER, None, dialog="EscortDialog", letter="y"),
    Case("M", Qt.Key.Key_M, NO, LETTER, marker_has_keys, letter="m"),
    Case("N", Qt.Key.Key_N, NO, LETTER, lambda app: note_box_has_keys(app, Pad.RECORD), letter="n"),
    # (QTest types Shift+N lower-case: the key's text, as it sends it)
    Case("Shift+N", Qt.Key.Key_N, SHIFT, LETTER, lambda app: note_box_has_keys(app, Pad.PRIVATE),
         letter="n"),
    Case("R", Qt.Key.Key_R, NO, LETTER, readings_shown, letter="r"),
    Case("G", Qt.Key.Key_G, NO, LETTER, lambda app: current_tab(app, CHART), letter="g"),
    Case("U", Qt.Key.Key_U, NO, LETTER, music_tab_shown, letter="u"),
    Case("S", Qt.Key.Key_S, NO, LETTER, lambda app: current_tab(app, RECORD), letter="s"),
    Case("P", Qt.Key.Key_P, NO, LETTER, lambda app: music_state(app) is MusicState.PAUSED,
         letter="p"),
    Case("Q", Qt.Key.Key_Q, NO, LETTER, lambda app: music_state(app) is MusicState.QUIET,
         letter="q"),
    Case("Ctrl+Right", Qt.Key.Key_Right, CTRL, LETTER, lambda app: track(app) == "Track three"),
    Case("Ctrl+Left", Qt.Key.Key_Left, CTRL, LETTER, lambda app: track(app) == "Track one"),
    Case("Ctrl+Up", Qt.Key.Key_Up, CTRL, EVERYWHERE, lambda app: volume(app) == 55),
    Case("Ctrl+Down", Qt.Key.Key_Down, CTRL, EVERYWHERE, lambda app: volume(app) == 45),
    Case("Ctrl+Tab", Qt.Key.Key_Tab, CTRL, EVERYWHERE,
         lambda app: app.live_view.tabs.currentIndex() == 1),
    Case("Ctrl+Shift+Tab", Qt.Key.Key_Backtab, CTRL | SHIFT, EVERYWHERE,
         lambda app: current_tab(app, RECORD)),
    Case("Ctrl+D", Qt.Key.Key_D, CTRL, EVERYWHERE, None, dialog="DischargeDialog"),
    Case("Ctrl+E", Qt.Key.Key_E, CTRL, EVERYWHERE, None, dialog="QMessageBox"),
    Case("Ctrl+Shift+E", Qt.Key.Key_E, CTRL | SHIFT, EVERYWHERE, None, dialog="ExportDialog"),
    Case("Ctrl+W", Qt.Key.Key_W, CTRL, EVERYWHERE, None, dialog="SwitchPersonDialog"),
    Case("Ctrl+Shift+W", Qt.Key.Key_W, CTRL | SHIFT, EVERYWHERE, None, dialog="HandoverDialog"),
    Case("Ctrl+L", Qt.Key.Key_L, CTRL, EVERYWHERE, locked_then_unlocked),
    Case("Alt+Left", Qt.Key.Key_Left, ALT, EVERYWHERE, lambda app: app.controller.live is None),
    Case("Esc", ESC, NO, EVERYWHERE, lambda app: focus_widget() is app.live_view),
]  # fmt: skip


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_key_acts_where_it_should_and_loses_nothing(
    keys_app: RunningApp, case: Case, field: str
) -> None:
    app = keys_app
    # Given the keys in a field of this kind (a number and a comment typed in theirs)
    place = go_to(app, field)
    form = app.live_view.checkin_form
    # When the key is pressed there (a dialog it opens is closed with Esc)
    acts = field in case.acts_in
    with app.guard.answering_if_opened(press(ESC)) as seen:
        app.key(case.key, case.modifiers)
    app.ready()  # (after a dialog: the window takes the keys back)
    # Then it acted if, and only if, it acts in that kind of field
    if case.dialog is not None:
        assert [a.kind for a in seen] == ([case.dialog] if acts else [])
    else:
        assert seen == []
        assert case.acted is not None and case.acted(app) is acts
    # And where it did not act, the text box has the letter typed and kept the keys
    if not acts:
        assert focus_widget() is place
        assert form.comment.text() == TYPED_TEXT + case.letter
    # And no key but those that go to one moves the keys into a text box (where the next
    # letter would be typed instead of acting)
    moved_in = field != "text" and keymap.field_of(focus_widget()) is keymap.Field.TEXT
    if case.name not in ("M", "N", "Shift+N") and app.controller.live is not None:
        assert not moved_in, focus_widget()
    # And nothing typed before was lost
    if field == "numeric" and app.controller.live is not None:
        assert form.fields["heart_rate_bpm"].text() == TYPED_NUMBER
    if field == "text" and acts:
        assert form.comment.text() == TYPED_TEXT
    if app.controller.live is not None:
        app.leave_session()


def test_every_key_of_the_screen_is_tested_here() -> None:
    # Given the screen's keys (the table that binds them), then each has its case above
    # (H and I act only while a hold or an infusion runs: test_ui_dose_periods.py)
    own = ("device", "hold", "infusion")
    assert [k.sequence for k in keymap.KEYS if k.action not in own] == [c.name for c in CASES]


@pytest.mark.parametrize("field", FIELDS)
def test_v_records_the_next_esketamine_device_outside_text_boxes(
    app: RunningApp, field: str
) -> None:
    # Given an esketamine dose of two devices, the first given, and the keys in a field
    app.start_session("Maya Fischer", protocol_key="intranasal-esketamine")
    live = app.controller.live
    assert live is not None
    (maya,) = live.participants
    app.advance(60)
    baseline = {"systolic_mmhg": "128", "diastolic_mmhg": "80"}
    assert live.save_checkin(maya.id, baseline, checkin_key="baseline", ask_before_partial=False)
    _therapist, nurse = app.usual_staff()
    result = live.record_dose(maya.id, "56", given_by=nurse.id)
    assert result is not None and result.saved
    app.advance(5 * 60)
    assert app.live_view.device_button.isVisible()
    place = go_to(app, field)
    # When V is pressed
    app.key(Qt.Key.Key_V)
    # Then the second device is recorded, except in a text box, which takes the letter
    devices = app.events("device_given")
    assert len(devices) == (0 if field == "text" else 1)
    if field == "text":
        assert (focus_widget(), app.live_view.checkin_form.comment.text()) == (place, "okv")
    app.leave_session()


@pytest.mark.parametrize("field", ["none", "numeric", "text"])
def test_a_quick_marker_key_acts_only_outside_number_and_text_boxes(
    app: RunningApp, field: str
) -> None:
    # Given a live session, the keys on the Notes tab (outside any box, or in the note box),
    # or in a number box of the check-in
    app.start_session("Maya Fischer")
    view = app.live_view
    if field == "numeric":
        app.key(Qt.Key.Key_C)
    else:
        app.key(Qt.Key.Key_N)
        if field == "none":
            app.key(ESC)
    place = app.ready()
    # When 1 (the first quick marker, "Eye mask on") is pressed
    app.key(Qt.Key.Key_1)
    # Then the marker is saved outside the boxes; in a box the digit is typed instead
    assert app.markers() == (["Eye mask on"] if field == "none" else [])
    if field == "numeric":
        assert view.checkin_form.fields["systolic_mmhg"].text() == "1"
    if field == "text":
        assert view.note_pad.inputs[Pad.RECORD].toPlainText() == "1"
    assert focus_widget() is place
    app.leave_session()
