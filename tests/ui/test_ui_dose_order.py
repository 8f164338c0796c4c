"""The prescriber's order on the real window, by keyboard (issue 16): entered when the session
starts, shown on the live screen; a dose over the order refused in the dose form until the
prescriber overrides with their PIN and a reason; D saying why no booster outside the window,
after discharge or without a recent blood pressure; a verbal order countersigned."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from ui_harness import RunningApp, describe, fill_dose, key, tab_in_dialog_to, type_text

from kapsession.domain.discharge import AldreteObservation, DischargeOverride
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route
from kapsession.records.people import StaffRecord
from kapsession.services.session_service import OrderEntry
from kapsession.ui.dialogs import NewSessionDialog
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.order_dialogs import CountersignDialog

CTRL = Qt.KeyboardModifier.ControlModifier
ENTER = Qt.Key.Key_Return
PIN = "246813"
ORDER = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), 300)
READING = {"bp": "124/80", "heart_rate_bpm": "72", "spo2_pct": "98"}


def prescriber(app: RunningApp) -> StaffRecord:
    member = app.add_staff("Ines Moreau", "prescriber", "NP")
    app.context.notes.pins.set_pin(member.id, PIN, PIN)
    return member


def start_with_order(app: RunningApp, order: DoseOrder = ORDER) -> StaffRecord:
    """A session started with the order (as the new-session dialog gives it), its baseline
    taken by keyboard."""
    ines = prescriber(app)
    therapist, nurse = app.usual_staff()
    client = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.consent(client.id)  # issue 17: a dosing session starts with current consent
    app.controller.start.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=(client.id,),
        modality="individual",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        prescriber_id=ines.id,
        order=OrderEntry(order, ines.id),
    )
    app.pass_screening()  # and its first dose waits for the screening
    app.baseline_by_keyboard()
    return ines


def shots() -> Path | None:
    """Where to keep pictures of the dialogs for the issue's evidence, if asked."""
    folder = os.environ.get("KAPSESSION_TEST_SHOTS")
    return Path(folder) if folder else None


def test_the_live_screen_shows_the_order_with_who_gave_it(app: RunningApp) -> None:
    start_with_order(app)
    app.advance(1)
    line = app.live_view.order_line
    assert line.toolTip() == (
        "Order: 200 mg SL · booster ≤1 × 100 mg at T+30–45 · max 300 mg — Ines Moreau, NP"
    )
    assert line.isVisible() and line.text()
    assert not app.live_view.countersign_button.isVisible()
    folder = shots()
    if folder is not None:
        app.window.grab().save(str(folder / "live-screen-order.png"))
    app.leave_session()


def test_a_session_without_an_order_says_so(app: RunningApp) -> None:
    app.start_session("Maya Fischer", order=None)
    app.advance(1)
    assert app.live_view.order_line.toolTip().startswith("No order recorded")
    app.leave_session()


def test_a_dose_over_the_order_is_refused_until_the_prescriber_overrides(
    app: RunningApp, tmp_path: Path
) -> None:
    # Given a session ordered at 200 mg, the baseline taken
    ines = start_with_order(app)
    refusal: list[str] = []

    def refused_then_wrong_pin(dialog: QWidget) -> None:
        # Then the form is back, saying the dose is outside the order, asking the prescriber
        assert isinstance(dialog, DoseDialog), describe(dialog)
        assert dialog.order_block.isVisible()
        refusal.append(dialog.order_block.text())
        assert (
            dialog.prescriber.isVisible() and dialog.prescriber.currentText() == ines.signature_name
        )
        QApplication.processEvents()
        folder = shots() or tmp_path
        dialog.grab().save(str(folder / "dose-dialog-over-order.png"))
        # When a wrong PIN is typed with the reason
        tab_in_dialog_to(dialog.prescriber_pin)
        type_text("111111")
        tab_in_dialog_to(dialog.order_reason)
        type_text("Tolerated 250 mg last session")
        key(ENTER)

    def right_pin(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog), describe(dialog)
        assert "That PIN is not right" in dialog.problem.text()
        assert app.doses() == []  # nothing was saved
        assert dialog.prescriber_pin.hasFocus()
        type_text(PIN)
        key(ENTER)

    # When 250 mg is typed in the dose form
    with app.answering(fill_dose("250"), refused_then_wrong_pin, right_pin) as seen:
        app.key(Qt.Key.Key_D)
    assert [a.kind for a in seen] == ["DoseDialog"] * 3
    assert "The order is 200 mg; this dose is 250 mg." in refusal[0]
    assert "Only the prescriber's override (their PIN and a reason)" in refusal[0]
    # Then, with the prescriber's PIN, the dose is saved with who overrode it and why
    (dose,) = app.doses()
    assert dose.dose_mg == 250
    override = dose.detail["order_override"]
    assert (override["by_id"], override["reason"]) == (
        str(ines.id),
        "Tolerated 250 mg last session",
    )
    (event,) = app.events("dose_override")
    assert event.label.startswith("Dose outside the order, overridden by Ines Moreau, NP")
    app.leave_session()


def test_d_says_why_no_booster_before_the_window_and_after_discharge(app: RunningApp) -> None:
    ines = start_with_order(app)
    app.dose_by_keyboard("200")
    # When D is pressed 10 minutes after the dose, Then no form opens and the screen says why
    app.advance(10 * 60)
    app.key(Qt.Key.Key_D)
    assert app.live_view.failure.text().startswith("No booster yet: the window T+30–45 opens")
    assert not app.live_view.dose_button.isEnabled()
    # When the participant is discharged, Then D stays off even inside the window
    app.advance(25 * 60)
    live = app.controller.live
    assert live is not None
    participant = live.participants[0].id
    assert live.save_checkin(participant, READING) is not None
    checklist = dict.fromkeys((item.key for item in live.protocol.discharge.checklist), True)
    discharged = live.record_discharge(
        participant,
        AldreteObservation(activity=2, breathing=2, consciousness=2, on_room_air=True),
        checklist,
        override=DischargeOverride(
            "Left early with escort", ines.signature_name, prescriber_id=ines.id
        ),
    )
    assert discharged is not None and discharged.saved
    app.advance(1)
    assert not app.live_view.dose_button.isEnabled()
    app.key(Qt.Key.Key_D)
    assert app.live_view.failure.text().startswith("No dose after discharge")
    assert [d.kind for d in app.doses()] == ["initial"]
    app.leave_session()


def test_a_booster_without_a_recent_blood_pressure_is_refused(app: RunningApp) -> None:
    # Given the dose, and 35 minutes later no blood pressure since the baseline
    start_with_order(app)
    app.dose_by_keyboard("200")
    app.advance(35 * 60)
    assert app.live_view.dose_button.isEnabled()
    refused: list[str] = []

    def says_why(box: QWidget) -> None:
        assert isinstance(box, QMessageBox), describe(box)
        refused.append(box.text())
        key(Qt.Key.Key_Escape)

    # When D is pressed for the booster, Then it asks for a blood pressure first (Escape:
    # nothing; test_ui_booster_bp.py takes it from there)
    with app.answering(says_why):
        app.key(Qt.Key.Key_D)
    assert "Take a blood pressure before the booster" in refused[0]
    assert [d.kind for d in app.doses()] == ["initial"]
    # And with one just taken the booster is saved
    live = app.controller.live
    assert live is not None
    assert live.save_checkin(live.participants[0].id, READING) is not None
    app.dose_by_keyboard("100")
    assert [d.kind for d in app.doses()] == ["initial", "booster"]
    app.leave_session()


def test_the_new_session_dialog_prefills_the_usual_order_and_starts_with_it(
    app: RunningApp,
) -> None:
    # Given the team, a prescriber and a client
    app.usual_staff()
    ines = prescriber(app)
    app.consent(app.context.service.add_client("Maya", "Fischer", at=app.clock.now()).id)
    app.controller.start.refresh()
    seen: list[tuple[str, str, str]] = []

    def verbal_and_start(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog), describe(dialog)
        type_text("S")  # the sublingual protocol
        order = dialog.order
        seen.append((order.dose.text(), order.max_total.text(), order.ordered_by.currentText()))
        tab_in_dialog_to(order.verbal)
        key(Qt.Key.Key_Space)
        key(ENTER)

    # When the dialog opens (Ctrl+Return) and the order is marked verbal
    with app.answering(verbal_and_start):
        app.key(ENTER, CTRL)
    # Then it was prefilled from the protocol, the prescriber as who ordered it
    assert seen == [("200 mg", "400", "Ines Moreau, NP")]
    live = app.controller.live
    assert live is not None
    order = live.order_of(live.participants[0].id)
    assert order is not None and order.ordered_by_id == ines.id and order.order.verbal
    assert order.order.dose_mg == 200
    # And the live screen flags it for the prescriber's countersignature
    app.advance(1)
    assert "awaiting countersignature" in app.live_view.order_line.toolTip()
    assert app.live_view.countersign_button.isVisible()

    def countersign(dialog: QWidget) -> None:
        assert isinstance(dialog, CountersignDialog), describe(dialog)
        assert dialog.signer.currentText() == "Ines Moreau, NP"
        tab_in_dialog_to(dialog.pin)
        type_text(PIN)
        key(ENTER)

    # When the prescriber countersigns with their PIN
    with app.answering(countersign):
        app.live_view.countersign_button.click()
    # Then it is on the record and no longer flagged
    (event,) = app.events("order_countersigned")
    assert event.detail["order_id"] == str(order.id)
    app.advance(1)
    assert "awaiting" not in app.live_view.order_line.toolTip()
    assert not app.live_view.countersign_button.isVisible()
    app.leave_session()
