"""Signing the monitoring part with a verbal order not countersigned, on the real window by
keyboard (issue 16): refused with a message naming the prescriber who must countersign, unless
the prescriber countersigns right there with their PIN; a wrong PIN countersigns nothing. The
nurse signs with her signing passphrase (issue 18)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from support.signing import PASSPHRASE, give_passphrase
from ui_harness import RunningApp, describe, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route
from kapsession.records.people import StaffRecord
from kapsession.services.session_service import OrderEntry
from kapsession.ui.live_view import RECORD
from kapsession.ui.sign_dialog import SignDialog

ENTER, SPACE = Qt.Key.Key_Return, Qt.Key.Key_Space
NURSE_PIN, PRESCRIBER_PIN = "246813", "135792"
VERBAL = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, verbal=True)
CALM = ("124", "80", "72", "98")


def ended_with_a_verbal_order(app: RunningApp) -> tuple[StaffRecord, StaffRecord]:
    """A session started on a verbal order from Ines Moreau, never countersigned, ended; the
    nurse and the prescriber have their PINs, the nurse her signing passphrase."""
    ines = app.add_staff("Ines Moreau", "prescriber", "NP")
    app.context.notes.pins.set_pin(ines.id, PRESCRIBER_PIN, PRESCRIBER_PIN)
    therapist, nurse = app.usual_staff()
    app.context.notes.pins.set_pin(nurse.id, NURSE_PIN, NURSE_PIN)
    give_passphrase(app.context.notes, nurse.id, NURSE_PIN)
    client = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.consent(client.id)  # issue 17: a dosing session starts with current consent
    app.controller.start.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=(client.id,),
        modality="individual",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        prescriber_id=ines.id,
        order=OrderEntry(VERBAL, ines.id),
    )
    app.advance(10 * 60)
    app.checkin_by_keyboard(*CALM)
    app.end_by_keyboard()
    return ines, nurse


def test_the_monitoring_part_waits_for_the_countersignature_or_takes_it_there(
    app: RunningApp,
) -> None:
    # Given an ended session whose verbal order Ines Moreau has not countersigned
    ines, nurse = ended_with_a_verbal_order(app)
    live = app.controller.live
    assert live is not None
    pid = live.participants[0].id
    assert live.awaiting_countersignature(pid) is not None
    app.live_view.show_tab(RECORD)
    page = app.controller.notes.session_note.page
    said: list[str] = []
    countersigned_on_wrong_pin: list[int] = []

    def sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignDialog), describe(dialog)
        # Then the dialog says who must countersign, with a field for her PIN
        assert dialog.countersign_note.isVisible()
        said.append(dialog.countersign_note.text())
        # When the nurse types her passphrase and presses Enter, the countersignature empty
        tab_in_dialog_to(dialog.passphrase)
        type_text(PASSPHRASE)
        key(ENTER)
        # Then nothing is signed: the message names who must countersign, the focus there
        said.append(dialog.message.text())
        if os.environ.get("KAPSESSION_TEST_SHOTS"):
            shot = Path(os.environ["KAPSESSION_TEST_SHOTS"]) / "sign-dialog-countersign.png"
            dialog.grab().save(str(shot))
        assert focus_widget() is dialog.countersign_pin
        assert app.context.notes.state(app.session().id).signed == {}
        # When the prescriber types a wrong PIN
        type_text("999999")
        key(ENTER)
        app.qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=5000)
        said.append(dialog.message.text())
        countersigned_on_wrong_pin.append(len(app.events("order_countersigned")))
        # When she types hers, and the nurse hers, Enter
        assert focus_widget() is dialog.countersign_pin
        type_text(PRESCRIBER_PIN)
        tab_in_dialog_to(dialog.passphrase)
        type_text(PASSPHRASE)
        key(ENTER)

    app.ready()
    with app.answering(sign):
        page.parts["monitoring"].sign_button.setFocus()
        key(SPACE)
        app.qtbot.waitUntil(lambda: page.dialog is None, timeout=5000)
    # Then the refusal named the prescriber who gave the order
    wanted = (
        "The monitoring part cannot be signed yet: the verbal order (200 mg SL · no booster · "
        "verbal order) is not countersigned. Ines Moreau, NP, who gave it, must countersign "
        "first: their PIN here, or Countersign on the live screen."
    )
    assert said[0] == wanted
    assert said[1] == (
        "Nothing was signed: Ines Moreau, NP must countersign the verbal order first, with "
        "their PIN in the field above (or Countersign on the live screen)."
    )
    # And a wrong PIN countersigned nothing
    assert said[2].startswith("That PIN is not right. The order was not countersigned")
    assert countersigned_on_wrong_pin == [0]
    # And with hers the order is countersigned by her, then the part signed by the nurse
    (event,) = app.events("order_countersigned")
    assert event.recorded_by_id == ines.id
    signed = app.context.notes.state(app.session().id).signed
    assert signed["monitoring"].staff_id == nurse.id
    assert event.recorded_at <= signed["monitoring"].signed_at
    # And the live screen no longer waits for the countersignature
    live = app.controller.live
    assert live is not None and live.awaiting_countersignature(pid) is None
    app.leave_session()
