"""Adverse events (E), interventions (T) and a dose's controlled-substance count on the real
window, by keyboard (issue 16): each dialog names its participant; what was typed wrong keeps
the dialog open and stores nothing; what is saved is in the record and the event list. A
screenshot of an adverse event with its intervention is written when KAPSESSION_SHOTS names a
folder."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from ui_harness import START, RunningApp, fill_dose, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.ui.adverse_dialogs import AdverseEventDialog, InterventionDialog, SubstanceDialog
from kapsession.ui.formatting import local_time

ENTER, TAB = Qt.Key.Key_Return, Qt.Key.Key_Tab
NURSE = "Ruth Okafor"


def dosed(app: RunningApp) -> None:
    app.add_staff(NURSE)
    app.start_session("Maya Fischer")
    app.advance(40 * 60)
    app.checkin_by_keyboard("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)


def choose(text: str) -> None:
    """A drop-down with the keys: type the start of an item to choose it."""
    type_text(text)


def emesis(*, first_enter: bool = False) -> object:
    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, AdverseEventDialog)
        assert focus_widget() is dialog.kind
        choose("Emesis")
        if first_enter:  # severity and seriousness not chosen: refused, the keys sent there
            key(ENTER)
            assert dialog.isVisible() and "severity" in dialog.problem.text()
            assert focus_widget() is dialog.severity
        tab_in_dialog_to(dialog.severity)
        choose("Mod")
        key(TAB)
        choose("Non")
        tab_in_dialog_to(dialog.actions_taken)
        type_text("bowl, head turned to the side")
        key(ENTER)

    return handler


def ondansetron(dialog: QWidget) -> None:
    assert isinstance(dialog, InterventionDialog)
    assert focus_widget() is dialog.kind
    choose("Rescue")
    key(TAB)
    assert focus_widget() is dialog.medication
    choose("ond")
    assert (dialog.dose.text(), dialog.route.text()) == ("4", "oral (ODT)")  # the list's usual
    tab_in_dialog_to(dialog.lot)
    type_text("ON-2291")
    key(ENTER)


def test_an_adverse_event_and_its_intervention_are_entered_by_keyboard(app: RunningApp) -> None:
    # Given a dosed session
    dosed(app)
    # When E is pressed: emesis, Enter before the severity (refused), then moderate, non-serious
    with app.answering(emesis(first_enter=True)) as seen:
        app.key(Qt.Key.Key_E)
    # Then the dialog named the participant and the adverse event is on the record
    assert [a.title for a in seen] == ["Adverse event — Maya Fischer"]
    live = app.controller.live
    assert live is not None
    (event,) = live.adverse_events
    assert (event.kind, event.severity, event.seriousness, event.outcome) == (
        "emesis", "moderate", "non-serious", "ongoing",
    )  # fmt: skip
    # When T is pressed and ondansetron of the clinic's list given, with its lot
    with app.answering(ondansetron) as seen:
        app.key(Qt.Key.Key_T)
    # Then it is recorded for the adverse event, given by the monitoring nurse
    assert [a.title for a in seen] == ["Intervention — Maya Fischer"]
    (given,) = live.interventions
    assert (given.title, given.lot_number, given.adverse_event_id) == (
        "Ondansetron 4 mg oral (ODT)", "ON-2291", event.id,
    )  # fmt: skip
    assert given.given_by_id == live.nurse_author(given.participant_id)
    # And the event list shows both, with the alerts
    app.key(Qt.Key.Key_N)
    titles = [item.title for item in app.live_view.events.shown_items()]
    assert "Adverse event: Emesis" in titles
    assert "Intervention: Ondansetron 4 mg oral (ODT)" in titles
    shots = os.environ.get("KAPSESSION_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        app.window.grab().save(str(Path(shots) / "adverse-event-with-intervention.png"))

    # When E is pressed again: the emesis, still ongoing, can be updated: resolved now
    def resolve(dialog: QWidget) -> None:
        assert isinstance(dialog, AdverseEventDialog)
        assert dialog.windowTitle() == "Update adverse event — Maya Fischer"
        tab_in_dialog_to(dialog.outcome)
        key(Qt.Key.Key_Home)  # the first outcome: Resolved
        assert dialog.outcome.currentText() == "Resolved"
        tab_in_dialog_to(dialog.resolved)
        type_text(dialog.onset.text())
        key(ENTER)

    def update_it(dialog: QWidget) -> None:
        assert dialog.windowTitle() == "Adverse event — Maya Fischer"
        key(Qt.Key.Key_Down)  # from "New adverse event" to "Update: Emesis …"
        key(ENTER)

    app.key(Qt.Key.Key_Escape)  # out of the note box: the letters act again
    with app.answering(update_it, resolve):
        app.key(Qt.Key.Key_E)
    # Then the update is a correction beside the original, which stays on the record
    (standing,) = live.adverse_events
    assert standing.corrects_id == event.id and standing.outcome == "resolved"
    assert standing.resolved_at is not None
    app.leave_session()


def test_a_waste_is_recorded_from_the_button_the_dose_brings_with_a_witness_pin(
    app: RunningApp,
) -> None:
    # Given a second nurse with a PIN, and a dose of 200 mg just given
    witness = app.add_staff("Sam Lee")
    app.context.notes.pins.set_pin(witness.id, "482613", "482613")
    dosed(app)
    # Then the live screen offers the dose's count
    at_40 = local_time(START + timedelta(minutes=40))
    button = app.live_view.substance_button
    assert button.isVisible() and button.text() == f"Record waste ({at_40} dose)…"

    def count(dialog: QWidget) -> None:
        assert isinstance(dialog, SubstanceDialog)
        assert dialog.windowTitle() == "Controlled substance — Maya Fischer"
        assert focus_widget() is dialog.drawn
        type_text("250")
        tab_in_dialog_to(dialog.wasted)
        dialog.wasted.selectAll()
        type_text("50")
        key(TAB)
        choose("Sam")
        key(TAB)
        type_text("111111")  # a wrong PIN: refused, typed again
        key(ENTER)
        assert dialog.isVisible() and "PIN is not right" in dialog.problem.text()
        tab_in_dialog_to(dialog.pin)
        type_text("482613")
        key(ENTER)

    # When it is pressed (a button: reached with Tab, pressed with Space) and filled in
    with app.answering(count):
        button.setFocus()
        app.key(Qt.Key.Key_Space)
    # Then the count is on the record with its witness, and the offer is gone
    live = app.controller.live
    assert live is not None
    (recorded,) = live.substance_counts
    assert (recorded.drawn_mg, recorded.given_mg, recorded.wasted_mg) == (250, 200, 50)
    assert recorded.witness_id == witness.id
    assert not button.isVisible()
    app.leave_session()


def test_an_update_keeps_the_alert_the_adverse_event_follows(app: RunningApp) -> None:
    # Given a dosed session where a BP of 192/110 raised an alert, and hypertension recorded
    # with E for it (the open alert chosen)
    dosed(app)
    app.advance(15 * 60)
    app.checkin_by_keyboard("192", "110", "72", "98")
    live = app.controller.live
    assert live is not None
    alert = next(a for a in live.open_alerts if a.field == "systolic_mmhg")

    def hypertension(dialog: QWidget) -> None:
        assert isinstance(dialog, AdverseEventDialog)
        assert dialog.alert.currentData() == alert.id
        choose("Hyper")
        tab_in_dialog_to(dialog.severity)
        choose("Mod")
        key(TAB)
        choose("Non")
        key(ENTER)

    app.key(Qt.Key.Key_Escape)
    with app.answering(hypertension):
        app.key(Qt.Key.Key_E)
    (event,) = live.adverse_events
    assert event.alert_id == alert.id
    shown: list[object] = []

    def update_it(dialog: QWidget) -> None:
        key(Qt.Key.Key_Down)  # from "New adverse event" to "Update: Hypertension …"
        key(ENTER)

    def resolve(dialog: QWidget) -> None:
        assert isinstance(dialog, AdverseEventDialog)
        shown.append(dialog.alert.currentData())
        tab_in_dialog_to(dialog.resolved)
        type_text(local_time(live.now()))
        tab_in_dialog_to(dialog.outcome)
        key(Qt.Key.Key_Home)  # the first outcome: Resolved
        key(ENTER)

    # When the alert has been seen and is over an hour old (no longer offered), and E updates
    # the hypertension: resolved now
    assert live.acknowledge_alert(alert.id, "no_action", "rechecked")
    app.advance(70 * 60)
    app.key(Qt.Key.Key_Escape)
    with app.answering(update_it, resolve):
        app.key(Qt.Key.Key_E)
    # Then the update's form showed the alert it follows, and the update keeps it
    assert shown == [alert.id]
    (standing,) = live.adverse_events
    assert standing.corrects_id == event.id and standing.resolved_at is not None
    assert standing.alert_id == alert.id
    app.leave_session()
