"""A note pasted with a character that cannot be stored: the live screen says what and where,
nothing is stored, and the text stays in the box to be fixed."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import QApplication
from ui_harness import RunningApp

from kapsession.storage.notes import NoteRepository

ENTER = Qt.Key.Key_Return
CTRL = Qt.KeyboardModifier.ControlModifier


def test_a_pasted_nul_is_refused_with_a_message_and_the_note_stays_in_the_box(
    app: RunningApp,
) -> None:
    # Given a live session, and text with a NUL in it on the clipboard (a broken paste)
    app.start_session("Maya Fischer")
    app.advance(60)
    mime = QMimeData()
    mime.setText("Eyes\x00closed")
    QApplication.clipboard().setMimeData(mime)  # the clipboard owns it from here
    del mime
    # When it is pasted into the note box with Ctrl+V and saved with Enter
    app.key(Qt.Key.Key_N)
    app.key(Qt.Key.Key_V, CTRL)
    app.key(ENTER)
    # Then the screen says what is wrong, where, and what to do
    failure = app.live_view.failure
    assert failure.isVisible()
    assert failure.text().startswith(
        "The note holds a NUL character (U+0000) at character 5, which cannot be stored. "
        "Delete it (retype that part rather than pasting it)"
    )
    # And nothing was stored, and the text is still in the box
    assert NoteRepository(app.context.service.database).notes(app.session().id) == []
    assert app.live_view.note_pad.inputs["record"].toPlainText() == "Eyes\x00closed"
    QApplication.clipboard().clear()
    app.leave_session()
