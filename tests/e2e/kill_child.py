"""The child process of test_kill_and_resume.py: the real app, driven by keyboard from inside.

    python kill_child.py DATA_DIR TAG

Runs kapsession's own entry point (`kapsession.__main__.main`: logging, open_context, run_gui
with its lock, MainWindow and AppController, exactly as the installed command does) and drives
the window with QTest key presses from a timer once it is shown. After each entry it has seen
saved it prints one line, flushed:

    CLIENT <client id>        the client dialog (Ctrl+N) saved the client
    SESSION <session id>      the new-session dialog (Ctrl+Return) started the session
    RESUMED <session id>      or, when a live session was offered, Enter on Resume opened it
    CHECKIN <json>            C, 124 Tab 80 Enter, saved the baseline check-in: the reading as
                              the app then showed it (`checkin_json`)
    DOSE <participant id>     D, 200 Enter in the dose dialog, saved the first dose
    MARKER <label>            M, the label, Enter: saved; "Kill test <TAG> note <n>", n = 0, 1, ...

The marker loop never ends: the test kills the process. On any surprise it prints
`ERROR <what>` and exits with status 3.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from kapsession.__main__ import main as kapsession_main
from kapsession.domain.consent import Consent, ConsentKind
from kapsession.records.entries import ObservationRecord
from kapsession.ui.app import application
from kapsession.ui.app_controller import AppController
from kapsession.ui.dialogs import ClientDialog, NewSessionDialog
from kapsession.ui.main_window import MainWindow

PROTOCOL_KEY = "sublingual-kap-3h"
WAIT_S = 30.0
CTRL = Qt.KeyboardModifier.ControlModifier


def say(line: str) -> None:
    print(line, flush=True)


def fail(what: str) -> None:
    say(f"ERROR {what}")
    os._exit(3)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            fail(f"timed out waiting for {what}")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.001)


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    if widget is None:
        fail("no widget has the keyboard focus")
    assert widget is not None
    return widget


def take_keys(window: MainWindow) -> QWidget:
    """Offscreen there is no window manager to hand the activation back after a dialog."""
    if QApplication.activeModalWidget() is None and not window.isActiveWindow():
        window.activateWindow()
    wait_for(
        lambda: window.isActiveWindow() and QApplication.focusWidget() is not None,
        "the window to take keys",
    )
    return focused()


def checkin_json(observation: ObservationRecord) -> str:
    """A saved check-in as one line of JSON: ids as text, times in ISO 8601."""
    fields = {
        "id": str(observation.id),
        "session_id": str(observation.session_id),
        "participant_id": str(observation.participant_id),
        "checkin_key": observation.checkin_key,
        "occurred_at": observation.occurred_at.isoformat(),
        "recorded_at": observation.recorded_at.isoformat(),
        "recorded_by_id": None
        if observation.recorded_by_id is None
        else str(observation.recorded_by_id),
        "on_room_air": observation.on_room_air,
        "values": observation.values,
        "not_taken": list(observation.not_taken),
    }
    return json.dumps(fields, sort_keys=True)


class Answer:
    """Runs `action(dialog)` on the next modal dialog, from a timer inside its event loop."""

    def __init__(self, action: Callable[[QWidget], None]) -> None:
        self.done = False
        self._action = action
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or not dialog.isActiveWindow() or QApplication.focusWidget() is None:
            return
        self._timer.stop()
        try:
            self._action(dialog)
        except BaseException:
            fail(traceback.format_exc().replace("\n", " | "))
        self.done = True


def new_client(dialog: QWidget) -> None:
    if not isinstance(dialog, ClientDialog):
        fail(f"expected the client dialog, got {dialog.windowTitle()!r}")
    QTest.keyClicks(focused(), "Maya")
    QTest.keyClick(focused(), Qt.Key.Key_Tab)
    QTest.keyClicks(focused(), "Fischer")
    QTest.keyClick(focused(), Qt.Key.Key_Return)


def new_session(dialog: QWidget) -> None:
    if not isinstance(dialog, NewSessionDialog):
        fail(f"expected the new-session dialog, got {dialog.windowTitle()!r}")
    assert isinstance(dialog, NewSessionDialog)
    QTest.keyClicks(focused(), "S")  # the protocol list: "Sublingual KAP, 3 hours"
    if dialog.protocol.currentData() != PROTOCOL_KEY:
        fail(f"typing S chose {dialog.protocol.currentData()!r}")
    QTest.keyClick(focused(), Qt.Key.Key_Return)


def dose_200(dialog: QWidget) -> None:
    if not dialog.windowTitle().startswith("Initial dose"):
        fail(f"expected the dose dialog, got {dialog.windowTitle()!r}")
    QTest.keyClicks(focused(), "200")  # the focus starts in the dose field
    QTest.keyClick(focused(), Qt.Key.Key_Return)


def partial_confirmed(dialog: QWidget) -> None:
    if not dialog.windowTitle().startswith("Partial check-in — "):
        fail(f"expected the partial check-in question, got {dialog.windowTitle()!r}")
    QTest.keyClick(focused(), Qt.Key.Key_Return)  # record the rest as not taken


def press_answered(
    window: MainWindow, key: Qt.Key, modifiers: Qt.KeyboardModifier, answer: Answer
) -> None:
    QTest.keyClick(take_keys(window), key, modifiers)
    if not answer.done:
        fail(f"no dialog opened for {key!r}")


def ensure_team(controller: AppController) -> None:
    """The room's therapist and nurse on the staff list: the new session names them as its
    team (a session cannot start without one); and a prescriber, whose order the new session
    gives (the protocol's usual one: no dose without an order)."""
    service, now = controller.service, controller.clock.now()
    roles = {s.role for s in service.staff.active()}
    if "therapist" not in roles:
        service.add_staff("Sam Lee", "therapist", at=now, credentials="PsyD")
    if "nurse" not in roles:
        service.add_staff("Ruth Okafor", "nurse", at=now, credentials="RN")
    if "prescriber" not in roles:
        service.add_staff("Jun Park", "prescriber", at=now, credentials="MD")
    # issue 17: each client's KAP treatment consent (a dosing session starts only with it)
    nurse = next(s for s in service.staff.active() if s.role == "nurse")
    for client in service.clients.search(""):
        if not service.consents.status(client.id, now).current:
            signed = Consent(
                ConsentKind.KAP_TREATMENT, True, now.astimezone().date(), "v1", nurse.id
            )
            service.consents.save(client.id, signed, at=now, by=nurse.id)


def sign_in(window: MainWindow) -> None:
    """Signed in as the clinic administrator through the real service (issue 18: the app opens
    to sign-in; these children are about something else). As tests/support/signing_in.py does:
    the children run without tests/ on their path."""
    controller = window.findChild(AppController)
    assert controller is not None
    access = controller.access.access
    passphrase, pin = "harbour lantern meadow", "518204"
    if access.needs_administrator():
        access.create_administrator("Clinic Administrator", passphrase, passphrase)
    admin = access.staff.administrators()[0]
    if access.needs_first_sign_in(admin.id):
        controller.access.first_sign_in(admin.id, passphrase, pin, pin)
    else:
        controller.access.sign_in(admin.id, pin)
    if controller.access.locked:
        fail(f"could not sign in: {controller.access.screen.message.text()}")


class WindowDriver:
    """Waits for the app's window to be shown and ready (its data opened: the controller is
    there), then drives it; any surprise is an ERROR line."""

    def start(self) -> None:
        shown = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, MainWindow) and w.isVisible() and w.findChild(AppController)
        ]
        if not shown:
            QTimer.singleShot(10, self.start)
            return
        try:
            sign_in(shown[0])
            self.drive(shown[0])
        except BaseException:
            fail(traceback.format_exc().replace("\n", " | "))

    def drive(self, window: MainWindow) -> None:
        raise NotImplementedError


class Driver(WindowDriver):
    def __init__(self, tag: str) -> None:
        self.tag = tag

    def drive(self, window: MainWindow) -> None:
        controller = window.findChild(AppController)
        if controller is None:
            fail("the window has no AppController")
        assert controller is not None
        take_keys(window)
        start = window.start_view
        if start.live_list.count():
            if focused() is not start.resume_button:
                fail("a live session is offered but Resume does not have the focus")
            QTest.keyClick(focused(), Qt.Key.Key_Return)
            if controller.live is None:
                fail("Enter on Resume did not open the session")
            assert controller.live is not None
            say(f"RESUMED {controller.live.record.id}")
        else:
            press_answered(window, Qt.Key.Key_N, CTRL, Answer(new_client))
            client_id = start.selected_client()
            if client_id is None:
                fail("the client was not saved")
            say(f"CLIENT {client_id}")
            ensure_team(controller)
            press_answered(window, Qt.Key.Key_Return, CTRL, Answer(new_session))
            if controller.live is None:
                fail("the session did not start")
            assert controller.live is not None
            say(f"SESSION {controller.live.record.id}")
            participant = controller.live.participants[0].id
            checklist = controller.live.screening_checklist()  # the dose waits for it (17)
            passing = {item.key: item.passes for item in checklist.items}
            if controller.live.record_screening(participant, checklist, passing) is None:
                fail("the screening was not saved")
            # the baseline blood pressure by keyboard (the hold-dose rule reads it): C, Tab,
            # Enter, and Enter again to record the baseline's other measures as not taken
            QTest.keyClick(take_keys(window), Qt.Key.Key_C)
            QTest.keyClicks(focused(), "124")
            QTest.keyClick(focused(), Qt.Key.Key_Tab)
            QTest.keyClicks(focused(), "80")
            no_modifier = Qt.KeyboardModifier.NoModifier
            press_answered(window, Qt.Key.Key_Return, no_modifier, Answer(partial_confirmed))
            if len(controller.live.observations) != 1:
                fail(f"the baseline check-in was not saved: {controller.live.observations}")
            say(f"CHECKIN {checkin_json(controller.live.observations[0])}")
            press_answered(window, Qt.Key.Key_D, Qt.KeyboardModifier.NoModifier, Answer(dose_200))
            if controller.live.first_dose_at(participant) is None:
                fail("the dose was not saved")
            say(f"DOSE {participant}")
        self.markers(window, controller)

    def markers(self, window: MainWindow, controller: AppController) -> None:
        live = controller.live
        assert live is not None
        saved: list[str] = []
        live.entry_saved.connect(saved.append)
        marker = window.live_view.marker
        for number in itertools.count():
            if take_keys(window) is not marker:
                QTest.keyClick(focused(), Qt.Key.Key_M)
            label = f"Kill test {self.tag} note {number}"
            QTest.keyClicks(marker, label)
            QTest.keyClick(marker, Qt.Key.Key_Return)
            if marker.text() or not saved or f"“{label}”" not in saved[-1]:
                fail(f"marker {label!r} not saved: field {marker.text()!r}, saved {saved[-1:]}")
            say(f"MARKER {label}")
            QApplication.processEvents()  # let the session clock tick between entries


def run(data_dir: str, tag: str) -> int:
    application()  # the app's own QApplication, made first so the driver's timer can wait in it
    driver = Driver(tag)
    QTimer.singleShot(0, driver.start)
    return kapsession_main(["--data-dir", data_dir])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2]))
