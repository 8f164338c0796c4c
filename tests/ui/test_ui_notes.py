"""The therapist's note pad by keyboard alone: N, type, Enter; Shift+Enter, quick marker keys,
Ctrl+Z undo, the private pad; and what the database then holds."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QMimeData, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from ui_harness import RunningApp

from kapsession.domain.corrections import EntryState, effective
from kapsession.records.session_log import LogKind
from kapsession.services.demo import populate
from kapsession.storage.notes import NoteRepository
from kapsession.ui.note_pad import NoteInput

ENTER = Qt.Key.Key_Return
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def type_any(text: str) -> None:
    """Characters as a keyboard layout sends them, non-ASCII included."""
    widget = QApplication.focusWidget()
    assert widget is not None
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char)
            )


@pytest.fixture
def notes_app(app: RunningApp) -> RunningApp:
    """A live session a minute in; each test leaves it at its end (Alt+Left), so no clock is
    left ticking."""
    app.start_session("Maya Fischer")
    app.advance(60)
    return app


def _notes(app: RunningApp) -> NoteRepository:
    return NoteRepository(app.context.service.database)


def test_n_then_typing_and_enter_commits_a_note_on_the_session_clock(
    notes_app: RunningApp,
) -> None:
    app = notes_app
    # When N is pressed, the keys go to the note box of the session notes
    app.key(Qt.Key.Key_N)
    box = app.ready()
    assert isinstance(box, NoteInput) and box.pad == "record"
    # When a note is typed with a line break (Shift+Enter) and Enter is pressed
    app.type("Eyes closed")
    app.key(ENTER, SHIFT)
    type_any("said “warm” — שלום")
    app.key(ENTER)
    # Then it is in the database exactly as typed, with its time, and the box is empty
    (entry,) = _notes(app).notes(app.session().id)
    assert entry.text == "Eyes closed\nsaid “warm” — שלום"
    assert entry.elapsed_s == 60 and entry.since_dose_s is None
    assert entry.phase_key == "arrival"
    assert box.toPlainText() == ""
    # And the pad and the event list show it
    assert "Eyes closed" in app.live_view.note_pad.entries.item(0).text()
    shown = [i for i in app.live_view.events.shown_items() if i.kind is LogKind.NOTE]
    assert [i.detail for i in shown] == [entry.text]
    app.leave_session()


def test_n_again_on_the_notes_tab_keeps_the_list_as_it_is(notes_app: RunningApp) -> None:
    # Given two notes written on the session notes' pad
    app = notes_app
    app.key(Qt.Key.Key_N)
    for text in ("Settling", "Eyes closed"):
        app.type(text)
        app.key(ENTER)
    entries = app.live_view.note_pad.entries
    first = entries.item(0)
    # When N is pressed again (Esc first, as from the live screen)
    app.key(Qt.Key.Key_Escape)
    app.key(Qt.Key.Key_N)
    # Then the list is the one already drawn, not drawn again
    assert entries.item(0) is first and entries.count() == 2
    # And switching to the private pad and back draws each pad's own entries
    app.key(Qt.Key.Key_Escape)
    app.key(Qt.Key.Key_N, SHIFT)
    assert entries.count() == 0
    app.key(Qt.Key.Key_Escape)
    app.key(Qt.Key.Key_N)
    assert [entries.item(n).text().split("\n")[1] for n in range(2)] == ["Settling", "Eyes closed"]
    app.leave_session()


def test_enter_on_an_empty_box_saves_nothing(notes_app: RunningApp) -> None:
    app = notes_app
    app.key(Qt.Key.Key_N)
    app.type("   ")
    app.key(ENTER)
    assert _notes(app).notes(app.session().id) == []
    app.leave_session()


def test_quick_marker_keys_and_ctrl_z_undo(notes_app: RunningApp) -> None:
    app = notes_app
    # Given the Notes tab with the keys out of the text box (Esc)
    app.key(Qt.Key.Key_N)
    app.key(Qt.Key.Key_Escape)
    assert not isinstance(app.ready(), NoteInput)
    # When 3 (Tearful) and 1 (Eye mask on) are pressed
    app.key(Qt.Key.Key_3)
    app.key(Qt.Key.Key_1)
    # Then both are markers on the record, in order
    assert app.markers() == ["Tearful", "Eye mask on"]
    # When the therapist goes back to the box and presses Ctrl+Z on the empty box
    app.key(Qt.Key.Key_N)
    app.key(Qt.Key.Key_Z, CTRL)
    # Then the last marker is withdrawn: out of the standing record, shown as withdrawn
    assert app.markers() == ["Tearful"]
    withdrawn = [
        i
        for i in app.live_view.events.shown_items()
        if i.kind is LogKind.MARKER and i.state is EntryState.WITHDRAWN
    ]
    assert [i.title for i in withdrawn] == ["Eye mask on"]
    app.leave_session()


def test_digits_typed_in_the_box_are_text_not_markers(notes_app: RunningApp) -> None:
    app = notes_app
    app.key(Qt.Key.Key_N)
    app.type("BP felt like 3 of 10")
    app.key(ENTER)
    assert app.markers() == []
    assert [n.text for n in _notes(app).notes(app.session().id)] == ["BP felt like 3 of 10"]
    app.leave_session()


def test_undo_of_a_note_by_ctrl_z_keeps_it_visible_as_withdrawn(notes_app: RunningApp) -> None:
    app = notes_app
    app.key(Qt.Key.Key_N)
    app.type("Wrong client")
    app.key(ENTER)
    app.key(Qt.Key.Key_Z, CTRL)
    rows = _notes(app).notes(app.session().id)
    assert effective(rows) == []
    assert rows[0].text == "Wrong client" and rows[1].voids
    assert "withdrawn" in app.live_view.note_pad.entries.item(0).text()
    app.leave_session()


def test_private_notes_stay_on_their_own_pad(notes_app: RunningApp) -> None:
    app = notes_app
    pad = app.live_view.note_pad
    # When the private pad is chosen (Tab to the pad buttons, Right, Space) and a note is typed
    app.key(Qt.Key.Key_N)
    app.tab_to(pad.pad_buttons.button(0))
    app.key(Qt.Key.Key_Right)
    app.key(Qt.Key.Key_Space)
    box = app.ready()
    assert isinstance(box, NoteInput) and box.pad == "private"
    assert pad.private_mark.isVisible()
    app.type("My own grief stirred")
    app.key(ENTER)
    # Then it is a private note, not part of the record, and not in the event list
    notes = _notes(app)
    assert notes.notes(app.session().id) == []
    assert [p.text for p in notes.private_notes(app.session().id)] == ["My own grief stirred"]
    assert not any("grief" in i.detail for i in app.live_view.events.shown_items())
    # And Shift+N comes back to it from anywhere on the screen, N to the session notes
    app.key(Qt.Key.Key_Escape)
    app.key(Qt.Key.Key_N)
    assert app.ready() is pad.inputs["record"]
    app.key(Qt.Key.Key_Escape)
    app.key(Qt.Key.Key_N, SHIFT)
    assert app.ready() is pad.inputs["private"]
    app.leave_session()


def test_a_half_typed_note_is_kept_as_a_draft_and_comes_back(notes_app: RunningApp) -> None:
    app = notes_app
    session_id = app.session().id
    app.key(Qt.Key.Key_N)
    app.type("Tearful at the bri")
    # the draft is saved within the save interval, without Enter
    app.qtbot.waitUntil(lambda: _notes(app).draft(session_id, "record") is not None, timeout=3000)
    # When the therapist leaves the session and resumes it, the text is back in the box
    app.leave_session()
    app.controller.open_session(session_id)
    assert app.live_view.note_pad.inputs["record"].toPlainText() == "Tearful at the bri"
    app.leave_session()


def test_pasted_rich_text_is_kept_as_plain_text(notes_app: RunningApp) -> None:
    app = notes_app
    # Given formatted text on the clipboard (as copied from a web page or a word processor)
    mime = QMimeData()
    mime.setHtml("<p><b>Bold</b> and <span style='color:red'>red</span></p><p>second</p>")
    mime.setText("Bold and red\nsecond")
    QApplication.clipboard().setMimeData(mime)  # the clipboard owns it from here
    del mime
    # When it is pasted into the note box with Ctrl+V and saved with Enter
    app.key(Qt.Key.Key_N)
    app.key(Qt.Key.Key_V, CTRL)
    app.key(ENTER)
    # Then the record holds the text, without markup
    (entry,) = _notes(app).notes(app.session().id)
    assert entry.text == "Bold and red\nsecond"
    QApplication.clipboard().clear()  # Qt deletes the data now, not at interpreter exit
    app.leave_session()


def test_a_signed_session_shows_its_notes_but_takes_no_more(make_app, tmp_path) -> None:
    # Given a training database with signed demo sessions
    app = make_app(training=True, data_dir=tmp_path / "signed")
    made = populate(app.context.service, app.clock.now())
    # When a signed session is opened
    app.controller.open_session(made[0].id)
    pad = app.live_view.note_pad
    # Then its notes are listed, the boxes are read-only and the pad says why
    assert pad.entries.count() >= 4
    assert all(box.isReadOnly() for box in pad.inputs.values())
    assert not pad.locked.isHidden() and "addendum" in pad.locked.text()
    app.leave_session()
