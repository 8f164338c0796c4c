"""Screenshots of the nurse's screens for a look by eye (not a test).

Builds an individual session at T+45 (readings, an open alert) and a group of three with
staggered doses (one client's reading over the alert limit), each over its own throw-away data
folder and fake clock, and saves grabs of the live screen (the check-in as C opens it, the
readings, the chart, the notes, the session note), the nurse board and the dose and discharge
dialogs at the room laptop's sizes, 1366x768 and 1280x720 (the window as it opens on such a
screen), to /tmp/shots/<size>/ (or the folder given):

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/ui/make_screenshots.py [/tmp/shots]
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from kapsession.domain.clock import FakeClock
from kapsession.domain.consent import Consent, ConsentKind
from kapsession.domain.dose_order import usual_order
from kapsession.domain.hold_dose import check_hold_dose
from kapsession.paths import resolve_paths
from kapsession.services.context import AppContext, open_context
from kapsession.services.live_session import LiveSession
from kapsession.services.session_service import OrderEntry
from kapsession.ui.app_controller import AppController
from kapsession.ui.discharge_dialog import DischargeDialog
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.formatting import local_time
from kapsession.ui.live_view import CHART, READINGS
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SIZES = ((1366, 768), (1280, 720))
PROTOCOL = "sublingual-kap-3h"


class Room:
    """One window and controller over its own data folder and fake clock."""

    def __init__(self, folder: Path, size: tuple[int, int]) -> None:
        self.clock = FakeClock(START)
        paths = resolve_paths(data_dir=folder, training=False, environ={})
        self.context: AppContext = open_context(paths, clock=self.clock)
        service = self.context.service
        self.nurse = service.add_staff("Ruth Okafor", "nurse", at=START, credentials="RN")
        self.therapist = service.add_staff("Sam Lee", "therapist", at=START, credentials="PsyD")
        self.prescriber = service.add_staff("Jun Park", "prescriber", at=START, credentials="MD")
        self.window = MainWindow(training=False)
        self.controller = AppController(self.window, self.context, training=False)
        sign_in(self.controller)
        self.window.setWindowState(Qt.WindowState.WindowNoState)  # at the size asked, not the
        self.window.resize(*size)  # offscreen platform's screen
        self.window.show()

    @property
    def live(self) -> LiveSession:
        assert self.controller.live is not None
        return self.controller.live

    def start(self, names: tuple[str, ...], modality: str) -> list[uuid.UUID]:
        service = self.context.service
        clients = []
        for name in names:
            given, family = name.split(" ", 1)
            clients.append(service.add_client(given, family, at=START).id)
        for client_id in clients:  # a dosing session needs the client's consent (issue 17)
            signed = Consent(ConsentKind.KAP_TREATMENT, True, START.date(), "v1", self.nurse.id)
            service.consents.save(client_id, signed, at=START, by=self.nurse.id)
        self.controller.start.start_session(
            protocol_key=PROTOCOL,
            client_ids=tuple(clients),
            modality=modality,
            room="Room 2",
            therapist_id=self.therapist.id,
            nurse_id=self.nurse.id,
            order=OrderEntry(
                usual_order(service.catalog.get(PROTOCOL).protocol.dosing), self.prescriber.id
            ),
        )
        checklist = self.live.screening_checklist()  # the first doses wait for it (issue 17)
        for participant in self.live.participants:
            passing = {item.key: item.passes for item in checklist.items}
            self.live.record_screening(participant.id, checklist, passing)
        return [p.id for p in self.live.participants]

    def at(self, minute: float) -> None:
        """Move the fake clock to `minute` after the start and let the screen catch up."""
        target = START + timedelta(minutes=minute)
        self.clock.advance((target - self.clock.now()).total_seconds())
        self.live.tick()
        settle()

    def reading(self, participant: uuid.UUID, key: str | None, **values: str) -> None:
        result = self.live.save_checkin(participant, values, checkin_key=key, on_room_air=True)
        assert result is not None and result.saved, result

    def dose(self, participant: uuid.UUID, mg: str) -> None:
        result = self.live.record_dose(
            participant, mg, lot_number="KX-2291", given_by=self.nurse.id, weight_text="72"
        )
        assert result is not None and result.dose is not None, result

    def close(self) -> None:
        self.live.stop()
        self.window.close()
        self.context.close()


def settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


def save(widget: QWidget, folder: Path, name: str) -> None:
    settle()
    path = folder / f"{name}.png"
    widget.grab().save(str(path))
    print(f"{path}  {widget.width()}x{widget.height()}")


def individual(folder: Path, data: Path, size: tuple[int, int]) -> None:
    """Maya at T+45: baseline, dose at minute 40, an unscheduled recheck, T+15, T+30, T+40 over
    180 (an open alert) without MOAA/S (a partial check-in)."""
    room = Room(data, size)
    (maya,) = room.start(("Maya Fischer",), "individual")
    room.at(6)
    room.reading(
        maya, "baseline", systolic_mmhg="124", diastolic_mmhg="80", heart_rate_bpm="72",
        spo2_pct="98", resp_rate_per_min="14", suds="5",
    )  # fmt: skip
    room.at(40)
    room.dose(maya, "200")
    room.at(42)
    room.live.add_marker("Eye mask on", maya)
    room.at(44)
    room.reading(maya, None, systolic_mmhg="146", diastolic_mmhg="88")  # no slot open: unscheduled
    room.at(55)
    room.reading(
        maya, "t15", systolic_mmhg="138", diastolic_mmhg="86", heart_rate_bpm="84",
        spo2_pct="97", moaas="4",
    )  # fmt: skip
    room.at(71)
    room.reading(
        maya, "t30", systolic_mmhg="152", diastolic_mmhg="94", heart_rate_bpm="90",
        spo2_pct="96", moaas="3", dissociation="2",
    )  # fmt: skip
    room.at(80)
    room.reading(
        maya, "t40", systolic_mmhg="184", diastolic_mmhg="104", heart_rate_bpm="96",
        spo2_pct="95",
    )  # fmt: skip
    room.at(85)
    view = room.window.live_view
    view.tabs.setCurrentIndex(0)
    room.controller.nurse._on_checkin_requested()  # C: the form on T+45, empty, with references
    save(room.window, folder, "1-live-checkin-T45")
    view.show_tab(READINGS)
    save(room.window, folder, "2-readings")
    view.show_tab(CHART)
    save(room.window, folder, "3-vitals-chart")
    # the therapist's notes beside the event list: notes, quick markers, an amendment, an undo
    pad = room.controller.notes
    view.show_notes()
    for minute, text in (
        (43, "Settling, breathing slower, hands open on the blanket"),
        (50, "Says she is \u201cfloating over the lake house\u201d; smiling, then quiet"),
        (62, "Tearful; asked for a hand on the shoulder (consent given earlier)"),
        (74, "Describes her brother laughing \u2014 warmth in the chest"),
        (83, "wrong room noise noted"),
    ):
        room.at(minute)
        view.note_pad.current_input().setPlainText(text)
        pad._commit("record", text)  # Enter in the note box
    assert pad.pad is not None and pad.pad.undo()  # the last one taken back at once
    first = pad.pad.entries()[1]
    pad.pad.amend(first.id, first.text.replace("lake house", "lake house, age 7"), "detail")
    room.at(84)
    pad._marker("Tearful")
    pad._marker("Music request")
    room.at(85)
    view.note_pad.current_input().setPlainText("She asks whether the music can")
    save(room.window, folder, "7-notes-and-event-list")
    view.tabs.setCurrentWidget(view.record_page)
    save(room.window, folder, "8-session-note-live")
    # the discharge check at T+45: far from ready, two items scored
    dialog = DischargeDialog(
        "Maya Fischer",
        room.live.protocol.discharge,
        lambda obs, checklist: room.live.evaluate_discharge(maya, obs, checklist),
        room.window,
    )
    dialog.activity.set_score(2)
    dialog.breathing.set_score(2)
    dialog.checklist["oriented"].setChecked(True)
    dialog.show()
    save(dialog, folder, "6-discharge-dialog")
    dialog.close()
    room.close()


def group(folder: Path, data: Path, size: tuple[int, int]) -> None:
    """Three clients, doses staggered 5 minutes apart, at minute 67: one overdue, one due."""
    room = Room(data, size)
    ids = room.start(("Maya Fischer", "Jonas Weber", "Lea Braun"), "group")
    room.live.plan_staggered_doses(5.0)
    room.at(30)
    for index, participant in enumerate(ids):
        room.reading(
            participant, "baseline", systolic_mmhg=str(120 + 6 * index),
            diastolic_mmhg=str(78 + 3 * index), heart_rate_bpm=str(70 + 4 * index),
            spo2_pct="98", resp_rate_per_min="14", suds=str(4 + index),
        )  # fmt: skip
    for index, participant in enumerate(ids):
        room.at(40 + 5 * index)
        room.dose(participant, "200")
    room.at(56)
    room.reading(
        ids[0], "t15", systolic_mmhg="142", diastolic_mmhg="88", heart_rate_bpm="86",
        spo2_pct="97", moaas="4",
    )  # fmt: skip
    room.at(61)
    room.reading(
        ids[1], None, systolic_mmhg="136", diastolic_mmhg="84", heart_rate_bpm="124",
        spo2_pct="96", comment="anxious, settling",
    )  # fmt: skip
    room.at(67)
    view = room.window.live_view
    view.tabs.setCurrentIndex(0)
    save(room.window, folder, "4-nurse-board-group")
    room.controller.nurse._on_checkin_requested()  # C: the most urgent on the board, named
    save(room.window, folder, "4b-group-checkin")
    view.show_private_notes()
    save(room.window, folder, "4c-group-private-notes")
    view.tabs.setCurrentIndex(0)
    # the dose dialog as D opens it for a client without a baseline BP: the hold-dose block
    dialog = DoseDialog(
        "Lea Braun",
        room.live.protocol.dosing,
        [room.nurse, room.therapist],
        room.nurse.id,
        first_dose=True,
        now_text=local_time(room.live.now()),
        last_weight_kg=None,
        parent=room.window,
        order_text=room.controller.nurse._order_text(ids[0]),
        prescribers=[room.prescriber],
    )
    dialog.show_hold_dose(check_hold_dose(None, room.live.protocol.hold_dose))
    dialog.dose.setText("200")
    dialog.weight.setText("68")
    dialog.show()
    save(dialog, folder, "5-dose-dialog-hold-block")
    dialog.close()
    # the dose dialog for a client without an order: it says so and offers to record it
    dialog = DoseDialog(
        "Lea Braun",
        room.live.protocol.dosing,
        [room.nurse, room.therapist, room.prescriber],
        room.nurse.id,
        first_dose=True,
        now_text=local_time(room.live.now()),
        last_weight_kg=None,
        parent=room.window,
        order_text=None,
        prescribers=[room.prescriber],
    )
    dialog.show()
    save(dialog, folder, "5b-dose-dialog-no-order")
    dialog.close()
    room.close()


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/shots")
    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_room_theme(app)
    with tempfile.TemporaryDirectory() as data:
        for size in SIZES:
            shots = folder / f"{size[0]}x{size[1]}"
            shots.mkdir(exist_ok=True)
            individual(shots, Path(data) / f"individual-{size[0]}", size)
            group(shots, Path(data) / f"group-{size[0]}", size)


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
