"""Discharge before the minimum time on the real window, by keyboard (issue 16): only the
prescriber's override (their PIN and a reason) lets the client leave; a wrong PIN saves
nothing; the discharge is recorded with a protocol deviation naming the minimum, the time
actually waited, the prescriber and the reason."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from ui_harness import (
    Answered,
    RunningApp,
    answer_nested,
    describe,
    fill_dose,
    focus_widget,
    key,
    tab_in_dialog_to,
    type_text,
)

from kapsession.domain.dose_order import usual_order
from kapsession.records.people import StaffRecord
from kapsession.records.session_log import LogKind
from kapsession.services.session_log import event_items
from kapsession.services.session_service import OrderEntry
from kapsession.ui.discharge_dialog import DischargeDialog

ENTER, TAB, SPACE = Qt.Key.Key_Return, Qt.Key.Key_Tab, Qt.Key.Key_Space
CTRL = Qt.KeyboardModifier.ControlModifier
PIN = "246813"
REASON = "Transfer to hospital for an unrelated injury"
BASELINE_SET = ("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")
CALM_SET = ("124", "80", "72", "98", "", "", "5")


def start_with_prescriber(app: RunningApp) -> StaffRecord:
    """A sublingual session with a prescriber on site who has a PIN and gave the usual order,
    dosed at minute 40."""
    ines = app.add_staff("Ines Moreau", "prescriber", "NP")
    app.context.notes.pins.set_pin(ines.id, PIN, PIN)
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
        order=OrderEntry(
            usual_order(app.context.service.catalog.get("sublingual-kap-3h").protocol.dosing),
            ines.id,
        ),
    )
    app.pass_screening()  # and its first dose waits for the screening
    app.advance(40 * 60)
    app.checkin_by_keyboard(*BASELINE_SET)
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)
    return ines


def score_and_tick_all(dialog: DischargeDialog) -> None:
    for index, digit in enumerate("222"):
        if index:
            key(TAB)
        type_text(digit)
    key(TAB)
    for box in dialog.checklist.values():
        key(TAB)
        assert focus_widget() is box
        key(SPACE)


def record_it(box: QWidget) -> None:
    assert isinstance(box, QMessageBox), describe(box)
    key(ENTER)


def test_an_early_discharge_needs_the_prescribers_pin_and_is_a_protocol_deviation(
    app: RunningApp,
) -> None:
    # Given a client dosed 30 minutes ago (the protocol asks 60 after the last dose), all well
    ines = start_with_prescriber(app)
    dose_at = app.clock.now()
    app.advance(30 * 60)
    app.checkin_by_keyboard(*CALM_SET)
    asked: list[Answered] = []
    offered: list[str] = []

    def wrong_pin(dialog: QWidget) -> None:
        # When the nurse scores and ticks everything, writes the prescriber's reason and the
        # prescriber types a wrong PIN, Enter, and Enter on the question
        assert isinstance(dialog, DischargeDialog), describe(dialog)
        score_and_tick_all(dialog)
        assert "Observe at least 60 minutes after the final dose" in dialog.failing.text()
        offered.append(dialog.prescriber.currentText())
        offered.append(dialog.discharge_button.text())
        tab_in_dialog_to(dialog.override_reason_edit)
        type_text(REASON)
        tab_in_dialog_to(dialog.prescriber_pin)
        type_text("111111")
        if os.environ.get("KAPSESSION_TEST_SHOTS"):
            shot = Path(os.environ["KAPSESSION_TEST_SHOTS"]) / "discharge-prescriber-override.png"
            dialog.grab().save(str(shot))
        answer_nested(record_it, asked)
        key(ENTER)

    def right_pin(dialog: QWidget) -> None:
        # Then the check is back, saying the PIN was wrong, and nothing was saved
        assert isinstance(dialog, DischargeDialog), describe(dialog)
        assert "That PIN is not right. The discharge was not saved." in dialog.problem.text()
        assert app.events("discharge") == []
        assert focus_widget() is dialog.prescriber_pin
        # When the right PIN is typed, Enter, and Enter on the question
        type_text(PIN)
        answer_nested(record_it, asked)
        key(ENTER)

    with app.answering(wrong_pin, right_pin) as seen:
        app.key(Qt.Key.Key_D, CTRL)
    assert [a.kind for a in seen] == ["DischargeDialog", "DischargeDialog"]
    assert offered == ["Ines Moreau, NP", "Discharge with the prescriber's override"]
    assert len(asked) == 2

    # Then she is discharged now, the prescriber named as who decided, with the reason
    (discharge,) = app.events("discharge")
    assert discharge.occurred_at == app.clock.now()
    assert discharge.detail["override_by"] == "Ines Moreau, NP"
    assert discharge.detail["override_reason"] == REASON
    # And a protocol deviation names the minimum, the time waited, the prescriber, the reason
    (deviation,) = app.events("discharge_deviation")
    assert deviation.occurred_at == discharge.occurred_at
    assert deviation.detail["by_id"] == str(ines.id)
    assert (deviation.detail["by"], deviation.detail["reason"]) == ("Ines Moreau, NP", REASON)
    assert deviation.detail["shortfalls"] == [
        {
            "rule": "minimum-time-after-last-dose",
            "minimum_min": 60,
            "counted_from": "the last dose",
            "anchor_at": dose_at.isoformat(),
            "waited_min": 30,
        }
    ]
    assert deviation.label.startswith(
        f"Discharged before the minimum time, on the prescriber's override by Ines Moreau, NP: "
        f"{REASON} (30 min after the last dose ("
    )
    assert deviation.label.endswith("the protocol's minimum is 60 min)")
    # And the session's log lists it as a protocol deviation, with the discharge
    (item,) = event_items([deviation])
    assert item.kind is LogKind.DISCHARGE
    assert item.title.startswith("Protocol deviation: Discharged before the minimum time")
    app.leave_session()
