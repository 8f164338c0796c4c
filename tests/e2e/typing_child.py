"""The child process of test_kill_while_typing.py: the real app, a note being typed.

    python typing_child.py DATA_DIR

Runs kapsession's own entry point like kill_child.py, starts a session by keyboard, opens the
note pad (N), commits two notes with Enter, then types a long note one character at a time and
never presses Enter. It prints, flushed:

    SESSION <session id>
    NOTE <text>                   a note committed with Enter, seen saved
    TYPED <monotonic s> <count>   the first <count> characters of TYPING are in the box

The typing never ends: the test kills the process. On any surprise: `ERROR <what>`, status 3.
"""

from __future__ import annotations

import sys
import time

from kill_child import (
    CTRL,
    Answer,
    WindowDriver,
    ensure_team,
    fail,
    focused,
    new_client,
    new_session,
    press_answered,
    say,
    take_keys,
)
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from kapsession.__main__ import main as kapsession_main
from kapsession.ui.app import application
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.note_pad import NoteInput

NOTES = ("Settling, eyes closed", "Said: “the lake is warm”")
# What is typed and never committed: long enough that the kill always comes mid-way.
TYPING = ("Tearful at the bridge, then laughing; ‏שלום‏ said twice. " * 400).strip()


def type_text(widget: QWidget, text: str) -> None:
    """Key presses carrying each character, as a keyboard layout or input method sends them
    (QTest.keyClicks only knows ASCII)."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char)
            )


class Driver(WindowDriver):
    def drive(self, window: MainWindow) -> None:
        controller = window.findChild(AppController)
        if controller is None:
            fail("the window has no AppController")
        assert controller is not None
        take_keys(window)
        press_answered(window, Qt.Key.Key_N, CTRL, Answer(new_client))
        ensure_team(controller)
        press_answered(window, Qt.Key.Key_Return, CTRL, Answer(new_session))
        if controller.live is None:
            fail("the session did not start")
        assert controller.live is not None
        say(f"SESSION {controller.live.record.id}")
        QTest.keyClick(take_keys(window), Qt.Key.Key_N)
        note_input = focused()
        if not isinstance(note_input, NoteInput):
            fail(f"N did not put the focus in the note pad but in {type(note_input).__name__}")
        pad = controller.notes.pad
        assert pad is not None
        for text in NOTES:
            type_text(note_input, text)
            QTest.keyClick(note_input, Qt.Key.Key_Return)
            if note_input.toPlainText() or text not in [e.text for e in pad.entries()]:
                fail(f"note {text!r} not saved")
            say(f"NOTE {text}")
        for count, char in enumerate(TYPING, start=1):
            type_text(note_input, char)
            if note_input.toPlainText() != TYPING[:count]:
                fail("the box does not hold what was typed")
            say(f"TYPED {time.monotonic():.3f} {count}")
            QApplication.processEvents()
            time.sleep(0.01)  # about a fast typist's pace, with the app's timers running
        fail("typed everything: the test never killed the app")


def run(data_dir: str) -> int:
    application()
    driver = Driver()
    QTimer.singleShot(0, driver.start)
    return kapsession_main(["--data-dir", data_dir])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1]))
