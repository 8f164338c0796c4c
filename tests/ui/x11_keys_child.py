"""The live screen's Ctrl keys in its text boxes, on Qt's X11 platform (run by
test_ui_keys_x11.py under a private Xvfb; prints one JSON object).

On X11 a Qt text box takes Ctrl+E itself ("end of line", the emacs-style bindings of the
desktop's key scheme), so a shortcut never sees it unless the screen says otherwise; the
offscreen platform of the other tests has no such binding. Here the real window and controller
run over a throw-away data folder; each key is sent through Qt's own key path (QTest, as the
X server's events arrive) to the box that has the focus, and any dialog it opens is recorded
and closed.

    QT_QPA_PLATFORM=xcb DISPLAY=:N python tests/ui/x11_keys_child.py DATA_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QPlainTextEdit, QWidget

from kapsession.domain.clock import FakeClock
from kapsession.domain.consent import Consent, ConsentKind
from kapsession.paths import resolve_paths
from kapsession.records.notes import Pad
from kapsession.services.context import open_context
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme

CTRL = Qt.KeyboardModifier.ControlModifier


def main() -> None:
    data = Path(sys.argv[1])
    app = QApplication(sys.argv[:1])
    apply_room_theme(app)
    clock = FakeClock()
    context = open_context(resolve_paths(data_dir=data, training=False, environ={}), clock=clock)
    service = context.service
    therapist = service.add_staff("Sam Lee", "therapist", at=clock.now(), credentials="PsyD")
    nurse = service.add_staff("Ruth Okafor", "nurse", at=clock.now(), credentials="RN")
    client = service.add_client("Maya", "Fischer", at=clock.now())
    signed = Consent(
        ConsentKind.KAP_TREATMENT, True, clock.now().astimezone().date(), "v1", nurse.id
    )
    service.consents.save(client.id, signed, at=clock.now(), by=nurse.id)  # needed (issue 17)
    window = MainWindow(training=False)
    controller = AppController(window, context, training=False)
    sign_in(controller)
    window.show()
    controller.start.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=(client.id,),
        modality="individual",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
    )
    live = controller.live
    assert live is not None
    live.stop()  # the fake clock stands still: nothing to tick
    view = window.live_view
    window.activateWindow()
    QTest.qWaitForWindowActive(window, 5000)

    opened: list[str] = []

    def close_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            opened.append(dialog.windowTitle())
            if isinstance(dialog, QDialog):
                dialog.reject()
            else:
                dialog.close()

    closer = QTimer()
    closer.setInterval(20)
    closer.timeout.connect(close_dialog)
    closer.start()

    view.show_notes()  # the note box built
    boxes: dict[str, QWidget] = {
        "marker": view.marker,
        "note": view.note_pad.inputs[Pad.RECORD],
        "comment": view.checkin_form.comment,
    }
    results = {}
    for name, box in boxes.items():
        box.setFocus()
        QTest.keyClicks(box, "calm")  # something typed, to be kept
        seen: dict[str, object] = {}
        for label, key in (("ctrl_e", Qt.Key.Key_E), ("ctrl_tab", Qt.Key.Key_Tab)):
            pages = [view.tabs.widget(i) for i in range(view.tabs.count())]
            page = next((p for p in pages if p is not None and p.isAncestorOf(box)), None)
            view.tabs.setCurrentWidget(page or view.tabs.widget(0))  # the marker: below them
            window.activateWindow()  # back from a dialog: no window manager gives it back
            QTest.qWaitForWindowActive(window, 5000)
            box.setFocus()
            QApplication.processEvents()
            text_before = _text(box)
            tab_before = view.tabs.currentIndex()
            del opened[:]
            QTest.keyClick(box, key, CTRL)
            QApplication.processEvents()
            seen[label] = {
                "dialogs": list(opened),
                "text_kept": _text(box) == text_before == "calm",
                "tab_moved": view.tabs.currentIndex() != tab_before,
            }
        results[name] = seen
    bindings = QKeySequence.keyBindings(QKeySequence.StandardKey.MoveToEndOfLine)
    print(
        json.dumps(
            {
                "platform": QGuiApplication.platformName(),
                "ctrl_e_is_end_of_line": QKeySequence("Ctrl+E") in bindings,
                "boxes": results,
            }
        )
    )
    closer.stop()
    controller.close_session()
    context.close()


def _text(box: QWidget) -> str:
    if isinstance(box, QPlainTextEdit):
        return box.toPlainText()
    assert isinstance(box, QLineEdit)
    return box.text()


def sign_in(controller: AppController) -> None:
    """Signed in as the clinic administrator, through the real service (issue 18; as
    tests/support/signing_in.py does: this script runs without tests/ on its path)."""
    access = controller.access.access
    passphrase, pin = "harbour lantern meadow", "518204"
    if access.needs_administrator():
        access.create_administrator("Clinic Administrator", passphrase, passphrase)
    admin = access.staff.administrators()[0]
    if access.needs_first_sign_in(admin.id):
        controller.access.first_sign_in(admin.id, passphrase, pin, pin)
    else:
        controller.access.sign_in(admin.id, pin)


if __name__ == "__main__":
    main()
