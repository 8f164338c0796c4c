"""A whole session by keyboard alone through the real window: client, session, check-ins, dose,
a marker, a note, an alert acknowledged, discharge, end. No mouse, no sound."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QListWidget, QWidget
from support.team import usual_prescriber
from ui_harness import (
    PROTOCOL_KEY,
    START,
    Answered,
    RunningApp,
    answer_nested,
    fill_client,
    fill_dose,
    focus_widget,
    press,
    type_text,
)
from ui_harness import key as press_key

from kapsession.records.entries import AlertAction
from kapsession.ui.ack_dialog import AcknowledgeDialog
from kapsession.ui.dialogs import NewSessionDialog
from kapsession.ui.discharge_dialog import DischargeDialog
from kapsession.ui.formatting import local_time

CTRL = Qt.KeyboardModifier.ControlModifier
ENTER = Qt.Key.Key_Return
# systolic, diastolic, HR, SpO2, RR, temp, MOAA/S, RASS, dissociation, nausea, SUDS
BASELINE = ("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")


@pytest.fixture
def beeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call of QApplication.beep during the test (there must be none)."""
    calls: list[str] = []
    original = QApplication.beep

    def spy() -> None:
        calls.append("beep")
        original()

    monkeypatch.setattr(QApplication, "beep", staticmethod(spy))
    yield calls


def choose_sublingual_and_start(dialog: object) -> None:
    """Type S in the protocol list to pick "Sublingual KAP, 3 hours", then Enter."""
    assert isinstance(dialog, NewSessionDialog)
    type_text("S")
    assert dialog.protocol.currentData() == PROTOCOL_KEY
    press_key(ENTER)


def start_by_keyboard(app: RunningApp, given: str = "Maya", family: str = "Fischer") -> None:
    """The room's therapist and nurse on the staff list (the dialog names them as the team)
    and a prescriber (the dialog gives their order: the protocol's usual one), a client made
    with Ctrl+N, and the session started with Ctrl+Return, S, Enter."""
    app.usual_staff()
    usual_prescriber(app.context.service, app.clock.now())
    with app.answering(fill_client(given, family)):
        app.key(Qt.Key.Key_N, CTRL)
    app.consent(*(c.id for c in app.context.service.clients.search("")))  # issue 17
    with app.answering(choose_sublingual_and_start):
        app.key(ENTER, CTRL)
    app.pass_screening()  # the first dose waits for it (issue 17)


def test_new_client_by_keyboard_is_stored_and_selected(app: RunningApp) -> None:
    # Given the start screen of an empty database
    assert app.window.stack.currentWidget() is app.start_view
    # When Ctrl+N opens the client dialog and the names are typed, then Enter
    with app.answering(fill_client("Maya", "Fischer", "1984-03-02", "KAP-0042")) as seen:
        app.key(Qt.Key.Key_N, CTRL)
    # Then the client is stored and selected, and the list has the focus for Ctrl+Return
    assert [a.title for a in seen] == ["New client"]
    (client,) = app.context.service.clients.search("")
    assert (client.given_name, client.family_name) == ("Maya", "Fischer")
    assert str(client.date_of_birth) == "1984-03-02"
    assert client.record_number == "KAP-0042"
    assert app.start_view.selected_client() == client.id
    assert isinstance(app.ready(), QListWidget)


def acknowledge_as_prescriber_informed(dialog: QWidget) -> None:
    """The acknowledgement dialog by keyboard: 3 (prescriber informed), Enter. ("Rechecked"
    takes the recheck's values, saved as a reading: tests/ui/test_ui_alert_followup.py.)"""
    assert isinstance(dialog, AcknowledgeDialog), dialog
    assert focus_widget() is dialog.choice
    type_text("3")
    press_key(ENTER)


CONFIRMED: list[Answered] = []  # the question before the discharge is recorded


def discharge_ready(dialog: QWidget) -> None:
    """The discharge check by keyboard: activity, breathing and consciousness 2 (typed), Tab
    past the reading's own items, Space on every item of the checklist, Enter."""
    assert isinstance(dialog, DischargeDialog), dialog
    for index, digit in enumerate("222"):
        if index:
            press_key(Qt.Key.Key_Tab)
        type_text(digit)
    press_key(Qt.Key.Key_Tab)
    assert focus_widget() is dialog.room_air
    for box in dialog.checklist.values():
        press_key(Qt.Key.Key_Tab)
        assert focus_widget() is box
        press_key(Qt.Key.Key_Space)
    assert dialog.status.text() == "Ready to leave", dialog.failing.text()
    answer_nested(press(ENTER), CONFIRMED)  # "Record discharge at … for Maya Fischer?"
    press_key(ENTER)


def test_whole_session_by_keyboard(app: RunningApp, beeps: list[str]) -> None:
    # Given a client made with Ctrl+N and a session started with Ctrl+Return, S, Enter
    start_by_keyboard(app)
    assert app.window.stack.currentWidget() is app.live_view
    session = app.session()
    assert (session.status, session.started_at) == ("live", START)
    assert session.protocol_key == PROTOCOL_KEY
    assert app.live_view.elapsed.text() == "0:00:00"

    # When the baseline check-in is due: C, every value typed with Tab between, Enter
    app.advance(6 * 60)
    assert app.checkin_by_keyboard(*BASELINE) == []  # complete: no question asked
    # Then it is the baseline, stored at that minute, with what was typed
    (baseline,) = app.observations()
    assert (baseline.checkin_key, baseline.occurred_at) == ("baseline", app.clock.now())
    assert (baseline.values["systolic_mmhg"], baseline.values["suds"]) == (122, 3)

    # When 40 minutes in, D, the dose and lot typed in the dose form, Enter
    app.advance(34 * 60)
    with app.answering(fill_dose("200", lot="KT-2291")) as seen:
        app.key(Qt.Key.Key_D)
    # Then one initial dose is stored at that time, and the T+ clock runs from it
    assert [a.title for a in seen] == ["Initial dose — Maya Fischer"]
    (dose,) = app.doses()
    assert (dose.dose_mg, dose.lot_number, dose.kind) == (200.0, "KT-2291", "initial")
    assert dose.occurred_at == app.clock.now()
    assert app.live_view.since_dose.text() == "T+0:00:00"

    # When M is pressed, a marker typed (its letters are text, not keys) and Enter pressed
    app.advance(2 * 60)
    app.key(Qt.Key.Key_M)
    app.type("Feels a little dizzy, wants water")
    app.key(ENTER)
    # Then it is saved with the time, and no dose or check-in came of its letters
    assert app.markers() == ["Feels a little dizzy, wants water"]
    assert app.events("marker")[0].occurred_at == app.clock.now()
    assert (len(app.doses()), len(app.observations())) == (1, 1)

    # When N, a note typed and Enter, then Esc (out of the note box)
    app.key(Qt.Key.Key_N)
    app.type("Settling, breathing slower, hands open on the blanket")
    app.key(ENTER)
    app.key(Qt.Key.Key_Escape)
    # Then the note is in the record, for the client, and the keys act on the screen again
    notes = app.controller.notes.pad
    assert notes is not None
    assert [n.text for n in notes.entries()] == [
        "Settling, breathing slower, hands open on the blanket"
    ]
    assert app.ready() is app.live_view

    # When T+15 falls due and its reading is over the alert limit: C, values, Enter
    app.advance(13 * 60)
    assert app.checkin_by_keyboard("186", "96", "96", "97", "", "", "4") == []
    # Then it is saved for T+15 and an alert is open
    assert app.observations()[-1].checkin_key == "t15"
    (alert,) = app.alerts()
    assert alert.acknowledged_at is None and app.live_view.alerts.isVisible()
    # When A is pressed and the dialog answered by keyboard (3: prescriber informed, Enter)
    with app.answering(acknowledge_as_prescriber_informed) as seen:
        app.key(Qt.Key.Key_A)
    # Then the alert is acknowledged now, with what was done
    assert [a.title for a in seen] == ["Acknowledge alert — Maya Fischer"]
    (alert,) = app.alerts()
    assert (alert.acknowledged_at, alert.acknowledgement_action) == (
        app.clock.now(),
        AlertAction.PRESCRIBER_INFORMED,
    )
    assert not app.live_view.alerts.isVisible()
    # When the recheck falls due and a blood pressure alone is taken (unscheduled)
    app.advance(5 * 60)
    assert app.checkin_by_keyboard("148", "90") == []
    assert (app.observations()[-1].checkin_key, len(app.observations())) == (None, 3)

    # When two hours after the dose a last check-in is taken and Ctrl+D opens the discharge
    # check, answered by keyboard
    app.advance(100 * 60)
    app.checkin_by_keyboard("124", "80", "72", "98", "", "", "5")
    with app.answering(discharge_ready) as seen:
        app.key(Qt.Key.Key_D, CTRL)
    # Then the client is discharged, ready, at that time (asked once more, Enter)
    assert [a.title for a in seen] == ["Discharge — Maya Fischer"]
    assert [a.title for a in CONFIRMED] == ["Record discharge — Maya Fischer"]
    (maya,) = app.session().participants
    assert app.context.service.checkins.discharged(app.session().id) == {maya.id: app.clock.now()}
    (assessment,) = app.context.service.checkins.discharges.assessments(app.session().id)
    assert (assessment.ready, assessment.override_reason) == (True, None)

    # When Ctrl+E is pressed and the question answered with Enter ("Yes, record it")
    app.advance(60)
    with app.answering(press(ENTER)) as seen:
        app.key(Qt.Key.Key_E, CTRL)
    # Then the session is completed at that time, the clock stops, entry keys are off
    assert [a.title for a in seen] == ["End session"]
    ended = app.session()
    assert (ended.status, ended.ended_at) == ("completed", app.clock.now())
    assert not app.controller.live._timer.isActive()  # type: ignore[union-attr]
    assert app.live_view.phase_name.text() == "Session ended"
    assert not app.live_view.dose_button.isEnabled()
    app.key(Qt.Key.Key_D)  # a stray D after the end records nothing
    assert len(app.doses()) == 1
    # And nothing made a sound
    assert beeps == []
    app.leave_session()


def test_cancelling_the_dose_dialog_records_nothing(app: RunningApp) -> None:
    # Given a live session
    app.start_session("Maya Fischer")
    app.advance(40 * 60)
    # When D is pressed and the dose dialog is cancelled with Escape
    with app.answering(press(Qt.Key.Key_Escape)):
        app.key(Qt.Key.Key_D)
    # Then no dose is stored and the clock still waits for the dose
    assert app.doses() == []
    assert app.live_view.since_dose.text() == "no dose yet"
    # When Ctrl+E is pressed and cancelled, the session stays live
    with app.answering(press(Qt.Key.Key_Escape)):
        app.key(Qt.Key.Key_E, CTRL)
    assert app.session().status == "live"
    app.leave_session()


def test_a_suggested_marker_is_saved_with_one_enter(app: RunningApp) -> None:
    # Given a live session and the suggestion list of the marker field
    app.start_session("Maya Fischer")
    # When M, a suggested word is typed (the completer pops up) and Enter pressed once
    app.key(Qt.Key.Key_M)
    app.type("Tearful")
    app.key(ENTER)
    # Then the marker is saved and the field cleared
    assert app.markers() == ["Tearful"]
    assert app.live_view.marker.text() == ""
    app.leave_session()


def test_a_booster_follows_the_first_dose(app: RunningApp) -> None:
    # Given a session with a baseline and its first dose
    app.start_session("Maya Fischer")
    app.baseline_by_keyboard()
    app.dose_by_keyboard("200")
    assert app.live_view.dose_button.text() == "Booster given now  (D)"
    # When D is pressed again 35 minutes later, a BP just taken (a booster needs one no older
    # than 15 minutes, issue 16), and the booster typed in the form
    app.advance(35 * 60)
    live = app.controller.live
    assert live is not None
    reading = {"bp": "124/80", "heart_rate_bpm": "72", "spo2_pct": "98"}
    assert live.save_checkin(live.participants[0].id, reading) is not None
    with app.answering(fill_dose("100")) as seen:
        app.key(Qt.Key.Key_D)
    # Then the form was the booster's, a booster is stored; T0 stays at the first dose
    assert [a.title for a in seen] == ["Booster — Maya Fischer"]
    assert [(d.kind, d.dose_mg) for d in app.doses()] == [("initial", 200.0), ("booster", 100.0)]
    assert app.live_view.since_dose.text() == "T+0:35:00"
    app.leave_session()


def test_escape_leaves_the_marker_field_so_shortcuts_work_again(app: RunningApp) -> None:
    # Given a baseline taken and the focus in the marker field
    app.start_session("Maya Fischer")
    app.baseline_by_keyboard()
    app.key(Qt.Key.Key_M)
    assert app.ready() is app.live_view.marker
    # When Escape is pressed, then D
    app.key(Qt.Key.Key_Escape)
    assert app.ready() is not app.live_view.marker
    # Then D opens the dose form (and the dose is saved) instead of typing a letter
    app.dose_by_keyboard("200")
    assert app.live_view.marker.text() == ""
    app.leave_session()


def test_the_beep_spy_hears_a_beep(beeps: list[str]) -> None:
    # The check above would see a beep: QApplication.beep is what it wraps
    QApplication.beep()
    assert beeps == ["beep"]


def test_search_then_enter_twice_opens_the_session_dialog_for_that_client(app: RunningApp) -> None:
    # Given two clients
    service = app.context.service
    service.add_client("Maya", "Fischer", at=app.clock.now())
    jonas = service.add_client("Jonas", "Weber", at=app.clock.now())
    app.controller.refresh_start()
    # When Ctrl+F, part of a name, Enter (to the list) and Enter (on the client)
    app.key(Qt.Key.Key_F, CTRL)
    app.type("webe")
    app.key(ENTER)
    assert app.ready() is app.start_view.client_list
    chosen: list[list[str]] = []

    def note_and_cancel(dialog: object) -> None:
        assert isinstance(dialog, NewSessionDialog)
        chosen.append([item.text() for item in dialog.clients.selectedItems()])
        press_key(Qt.Key.Key_Escape)

    with app.answering(note_and_cancel):
        app.key(ENTER)
    # Then the new-session dialog had that client chosen; cancelled, nothing started
    assert chosen == [["Jonas Weber"]]
    assert app.start_view.selected_client() == jonas.id
    assert app.context.service.sessions.count() == 0


def test_after_an_ended_session_the_start_screen_takes_typing(app: RunningApp) -> None:
    # Given a session ended with Ctrl+E (and the question answered)
    app.start_session("Maya Fischer")
    app.end_by_keyboard()
    # When Alt+Left goes back to the start screen
    app.key(Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    # Then nothing is offered for resuming, and typing searches the clients straight away
    assert not app.start_view.live_panel.isVisible()
    assert app.ready() is app.start_view.search
    app.type("Fis")
    assert app.start_view.search.text() == "Fis"
    assert app.start_view.client_list.count() == 1


def test_a_slow_confirmation_records_the_dose_at_the_time_it_asked_about(app: RunningApp) -> None:
    # Given a live session 40 minutes in
    app.start_session("Maya Fischer")
    app.advance(40 * 60)
    app.baseline_by_keyboard()
    pressed_at = app.clock.now()

    shown: list[str] = []

    def answer_after_90_s(dialog: object) -> None:
        shown.append(dialog.given_at.text())  # type: ignore[attr-defined]
        app.clock.advance(90)  # the nurse settles the client before saving

    # When D is pressed and the dose dialog (time given: 14:40) is saved 90 s later
    with app.answering(
        fill_dose("200", before_enter=lambda: answer_after_90_s(QApplication.activeModalWidget()))
    ):
        app.key(Qt.Key.Key_D)
    # Then the dose is stored at the time the dialog named, entered 90 s later
    assert shown == [local_time(pressed_at)]
    (dose,) = app.doses()
    assert dose.occurred_at == pressed_at
    assert dose.recorded_at == app.clock.now()
    assert app.live_view.since_dose.text() == "T+0:01:30"
    app.leave_session()
