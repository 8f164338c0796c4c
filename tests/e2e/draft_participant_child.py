"""The child process of test_kill_draft_participant.py: the real app, a couples session, a note
typed for the second participant.

    python draft_participant_child.py DATA_DIR

Runs kapsession's own entry point over a data folder that holds one live couples session
(written by the test), resumes it with Enter on Resume, chooses the second participant in the
session header by keyboard (Tab to the selector, Down), opens the note pad (N) and types a note
one character at a time, never pressing Enter. It prints, flushed:

    SESSION <session id>
    SELECTED <participant id>     the participant chosen before typing
    TYPED <monotonic s> <count>   the first <count> characters of TYPING are in the box

The typing never ends: the test kills the process. On any surprise: `ERROR <what>`, status 3.
"""

from __future__ import annotations

import sys
import time

from kill_child import WindowDriver, fail, focused, say, take_keys
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from typing_child import type_text

from kapsession.__main__ import main as kapsession_main
from kapsession.ui.app import application
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.note_pad import NoteInput

TYPING = ("Speaks of her father's boat, the tide coming in; calm hands. " * 200).strip()


class Driver(WindowDriver):
    def drive(self, window: MainWindow) -> None:
        controller = window.findChild(AppController)
        if controller is None:
            fail("the window has no AppController")
        assert controller is not None
        if take_keys(window) is not window.start_view.resume_button:
            fail("the live session is offered but Resume does not have the focus")
        QTest.keyClick(focused(), Qt.Key.Key_Return)
        live = controller.live
        if live is None:
            fail("Enter on Resume did not open the session")
        assert live is not None
        say(f"SESSION {live.record.id}")
        view = window.live_view
        for _ in range(60):
            if take_keys(window) is view.participant:
                break
            QTest.keyClick(focused(), Qt.Key.Key_Tab)
        else:
            fail("Tab never reached the participant selector")
        QTest.keyClick(focused(), Qt.Key.Key_Down)
        second = live.participants[1].id
        if view.current_participant() != second:
            fail(f"Down chose {view.current_participant()}, not the second participant")
        say(f"SELECTED {second}")
        QTest.keyClick(take_keys(window), Qt.Key.Key_N)
        note_input = focused()
        if not isinstance(note_input, NoteInput):
            fail(f"N did not put the focus in the note pad but in {type(note_input).__name__}")
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
