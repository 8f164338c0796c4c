"""Consent and the screening before the dose on the real window, by keyboard only (issue 17): K
on the client list records a consent and the client's line says so; a session without current
consent does not start unless the prescriber overrides with their PIN and a reason (a protocol
deviation); D before the screening opens it, a failed item asks for the prescriber's decision,
"hold" keeps D from dosing, "proceed" lets the dose be given; PHQ-9 item 9 above zero says why
the dose waits."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget
from test_ui_corrections import event_row, withdraw
from ui_harness import (
    RunningApp,
    describe,
    fill_dose,
    focus_widget,
    key,
    tab_in_dialog_to,
    type_text,
)

from kapsession.records.people import StaffRecord
from kapsession.ui.pre_dose_dialogs import ConsentDialog, PrescriberDecisionDialog, ScreeningDialog

ENTER, ESC = Qt.Key.Key_Return, Qt.Key.Key_Escape
PIN = "246813"
SHOTS = os.environ.get("KAPSESSION_TEST_SHOTS", "")


def _shot(dialog: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(Path(SHOTS) / f"{name}.png"))


def _prescriber(app: RunningApp) -> StaffRecord:
    ines = app.add_staff("Ines Moreau", "prescriber", "NP")
    app.context.notes.pins.set_pin(ines.id, PIN, PIN)
    return ines


def _choose(combo: QComboBox, wanted: str) -> None:
    assert focus_widget() is combo, describe(focus_widget())
    index = combo.findText(wanted)
    assert index >= 0, wanted
    while combo.currentIndex() != index:
        key(Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


def _decide(decision: str, reason: str, seen: list[str] | None = None):  # type: ignore[no-untyped-def]
    """An answer to the prescriber's decision: the decision, their PIN, the reason, Enter."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, PrescriberDecisionDialog), describe(dialog)
        if seen is not None:
            seen.append(dialog.about.text())
        _choose(dialog.decision, decision)
        _shot(dialog, f"decision-{decision.split(':')[0].lower()}")
        tab_in_dialog_to(dialog.pin)
        type_text(PIN)
        tab_in_dialog_to(dialog.reason)
        type_text(reason)
        key(ENTER)

    return handler


def test_a_consent_recorded_with_k_shows_on_the_clients_line(app: RunningApp) -> None:
    # Given a client selected on the start screen, with no consent yet
    app.usual_staff()
    client = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.controller.refresh_start()
    app.start_view.select_client(client.id)
    app.ready()
    line = app.start_view.consent_line
    assert "KAP treatment consent: NOT current (none recorded)" in line.text()
    assert "touch consent: not recorded" in line.text()

    def fill(dialog: QWidget) -> None:
        # When K opens the consent, the form's version is typed, Enter saves, Esc closes
        assert isinstance(dialog, ConsentDialog), describe(dialog)
        assert dialog.windowTitle() == "Consent — Maya Fischer"
        tab_in_dialog_to(dialog.form_version)
        type_text("v3")
        tab_in_dialog_to(dialog.witness)
        _choose(dialog.witness, "Ruth Okafor, RN")
        key(ENTER)
        # (who enters it is named, never a default)
        assert "Entered by: choose who is entering it." in dialog.problem.text()
        tab_in_dialog_to(dialog.by)
        _choose(dialog.by, "Sam Lee, PsyD")
        key(ENTER)
        assert "Saved: KAP treatment consent." in dialog.saved_note.text()
        assert dialog.history.count() == 1
        _shot(dialog, "consent")
        key(ESC)

    app.start_view.client_list.setFocus()
    with app.answering(fill):
        app.key(Qt.Key.Key_K)
    # Then it is stored, witnessed as chosen, and the client's line says it is current
    (saved,) = app.context.service.consents.history(client.id)
    assert saved.consent.form_version == "v3" and saved.witness == "Ruth Okafor, RN"
    assert line.text().startswith("KAP treatment consent: signed ")
    assert "(form v3), holds until" in line.text()


def test_a_session_without_consent_starts_only_on_the_prescribers_override(
    app: RunningApp,
) -> None:
    # Given a prescriber with a PIN and a client with no consent
    ines = _prescriber(app)
    said: list[str] = []

    def cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, PrescriberDecisionDialog), describe(dialog)
        said.append(dialog.about.text())
        key(ESC)

    maya = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    therapist, nurse = app.usual_staff()

    def start() -> None:
        app.controller.start.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=(maya.id,),
            modality="individual",
            therapist_id=therapist.id,
            nurse_id=nurse.id,
        )

    # When the session is started, Then it is refused naming the client, and Esc starts nothing
    with app.answering(cancel):
        start()
    assert "No current KAP treatment consent for Maya Fischer (none recorded)" in said[0]
    assert app.controller.live is None
    assert app.context.service.live_sessions() == []

    def override(dialog: QWidget) -> None:
        assert isinstance(dialog, PrescriberDecisionDialog), describe(dialog)
        assert dialog.prescriber.currentText() == "Ines Moreau, NP"
        tab_in_dialog_to(dialog.pin)
        type_text(PIN)
        tab_in_dialog_to(dialog.reason)
        type_text("Signed form at reception, not yet entered")
        key(ENTER)

    # When it is started again and the prescriber overrides with their PIN and a reason
    with app.answering(override):
        start()
    # Then the session runs, and the deviation is on the record naming who and why
    assert app.controller.live is not None
    (deviation,) = app.events("consent_override")
    assert deviation.detail["prescriber_id"] == str(ines.id)
    assert deviation.detail["reason"] == "Signed form at reception, not yet entered"
    app.leave_session()


def _answer_screening(failing: str | None = None):  # type: ignore[no-untyped-def]
    """An answer to the screening: every item passed but `failing`, Y or N typed on each."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, ScreeningDialog), describe(dialog)
        for item in dialog.checklist.items:
            combo = dialog.answers[item.key]
            tab_in_dialog_to(combo)
            passes = item.passes if item.key != failing else {"yes": "no", "no": "yes"}[item.passes]
            type_text("Y" if passes == "yes" else "N")
            assert combo.currentData() == passes
        _shot(dialog, "screening")
        key(ENTER)

    return handler


def test_the_dose_waits_for_the_screening_and_the_prescribers_decision(app: RunningApp) -> None:
    # Given a session started without the screening, its baseline taken
    _prescriber(app)
    app.start_session("Maya Fischer", screening=None)
    app.advance(6 * 60)
    app.baseline_by_keyboard()
    line = app.live_view.order_line
    assert "Screening before the dose is not done: press B" in line.toolTip()
    assert not app.live_view.dose_button.isEnabled()

    # When D is pressed: the screening opens; the escort is not confirmed; the prescriber holds
    with app.answering(
        _answer_screening("escort-transport"), _decide("Hold: no dose for now", "Escort not here")
    ) as seen:
        app.key(Qt.Key.Key_D)
    assert [a.kind for a in seen] == ["ScreeningDialog", "PrescriberDecisionDialog"]
    assert app.doses() == []
    # Then D gives no dose and the screen says who held it and why
    app.advance(1)
    app.key(Qt.Key.Key_D)
    assert app.live_view.failure.isVisible()
    assert (
        "Dose held by Ines Moreau, NP (the screening): Escort not here"
        in app.live_view.failure.text()
    )
    assert "Dose held by Ines Moreau, NP" in line.toolTip()

    def wrong_pin(dialog: QWidget) -> None:
        # When B is pressed and "proceed" is entered with a wrong PIN
        assert isinstance(dialog, PrescriberDecisionDialog), describe(dialog)
        _choose(dialog.decision, "Proceed: the dose may be given")
        tab_in_dialog_to(dialog.pin)
        type_text("111111")
        tab_in_dialog_to(dialog.reason)
        type_text("Escort arrived")
        key(ENTER)

    def right_pin(dialog: QWidget) -> None:
        # Then nothing is recorded, the dialog is back saying why, the PIN to type again
        assert isinstance(dialog, PrescriberDecisionDialog), describe(dialog)
        assert "NOT recorded. That PIN is not right." in dialog.problem.text()
        assert len(app.events("dose_gate_decision")) == 1
        assert focus_widget() is dialog.pin
        type_text(PIN)
        key(ENTER)

    # When the right PIN is typed, Then D gives the dose
    with app.answering(wrong_pin, right_pin):
        app.key(Qt.Key.Key_B)
    app.advance(1)
    assert app.live_view.dose_button.isEnabled()
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)
    (dose,) = app.doses()
    assert dose.dose_mg == 200
    # And the screening and both decisions are on the timeline
    assert [e.kind for e in app.events("screening")] == ["screening"]
    assert [e.detail["decision"] for e in app.events("dose_gate_decision")] == ["hold", "proceed"]
    app.leave_session()


def test_phq9_item9_above_zero_says_why_the_dose_waits(app: RunningApp) -> None:
    # Given a PHQ-9 filled in the waiting room with item 9 answered 2
    nurse = app.add_staff("Tom Becker")
    _prescriber(app)
    maya = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    answers = dict.fromkeys(range(1, 9), 1) | {9: 2}
    app.context.service.measures.save(
        maya.id, "phq9", answers, administered_at=app.clock.now() - timedelta(minutes=30),
        at=app.clock.now(), by=nurse.id,
    )  # fmt: skip
    app.consent(maya.id)
    app.controller.start.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=(maya.id,),
        modality="individual",
        therapist_id=app.usual_staff()[0].id,
        nurse_id=app.usual_staff()[1].id,
    )
    app.pass_screening()
    app.advance(1)
    # Then the live screen says why the dose waits, in plain words
    tip = app.live_view.order_line.toolTip()
    assert "item 9 (thoughts of being better off dead or of self-harm) answered 2" in tip
    assert "the prescriber decides — proceed or hold — before the dose" in tip
    said: list[str] = []
    # When D is pressed, Then the prescriber's decision opens, saying the same
    with app.answering(
        _decide("Proceed: the dose may be given", "Passive thoughts; safety plan", said)
    ):
        app.key(Qt.Key.Key_D)
    assert "answered 2" in said[0]
    assert [e.detail["gate"] for e in app.events("dose_gate_decision")] == ["phq9_item9"]
    app.leave_session()


def test_a_screening_entered_in_error_is_withdrawn_from_the_event_list(app: RunningApp) -> None:
    # Given a session whose screening passed (the harness's), before the dose
    app.start_session("Maya Fischer")
    app.advance(60)
    (screening,) = app.events("screening")
    assert app.live_view.dose_button.isEnabled()
    # When its row of the event list has Enter, a reason typed, Enter
    event_row(app, lambda item: item.entry_id == screening.id)
    with app.answering(withdraw("Answered for the wrong client")) as seen:
        app.key(ENTER)
    # Then it is withdrawn with the reason, and the dose waits for a screening again
    assert [a.title for a in seen] == ["Withdraw screening entry — Maya Fischer"]
    assert app.events("screening") == []
    app.advance(1)
    assert "Screening before the dose is not done" in app.live_view.order_line.toolTip()
    app.leave_session()
