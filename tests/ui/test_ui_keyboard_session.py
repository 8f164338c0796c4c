"""A whole session by keyboard alone: client, session, dose, markers, end. No mouse, no sound."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QListWidget
from ui_harness import (
    PROTOCOL_KEY,
    START,
    RunningApp,
    fill_client,
    fill_dose,
    press,
    type_text,
)
from ui_harness import key as press_key

from kapsession.ui.dialogs import NewSessionDialog
from kapsession.ui.formatting import local_time

CTRL = Qt.KeyboardModifier.ControlModifier
ENTER = Qt.Key.Key_Return


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
    """The room's therapist and nurse on the staff list (the dialog names them as the team),
    a client made with Ctrl+N, and the session started with Ctrl+Return, S, Enter."""
    app.usual_staff()
    with app.answering(fill_client(given, family)):
        app.key(Qt.Key.Key_N, CTRL)
    with app.answering(choose_sublingual_and_start):
        app.key(ENTER, CTRL)


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


def test_whole_session_by_keyboard(app: RunningApp, beeps: list[str]) -> None:
    # Given a client made with Ctrl+N and a session started with Ctrl+Return, Enter
    start_by_keyboard(app)
    assert app.window.stack.currentWidget() is app.live_view
    session = app.session()
    assert session.status == "live"
    assert session.started_at == START
    assert session.protocol_key == PROTOCOL_KEY
    assert app.live_view.elapsed.text() == "0:00:00"

    # When 40 minutes pass, D is pressed, and the dose and lot typed in the dose form, Enter
    app.advance(40 * 60)
    assert app.live_view.elapsed.text() == "0:40:00"
    app.baseline_by_keyboard()  # C, 122, Tab, 78, Enter: the hold-dose rule reads it
    with app.answering(fill_dose("200", lot="KT-2291")) as seen:
        app.key(Qt.Key.Key_D)
    # Then one initial dose is stored at the fake time, and the T+ clock runs from it
    assert [a.title for a in seen] == ["Initial dose — Maya Fischer"]
    (dose,) = app.doses()
    assert (dose.dose_mg, dose.lot_number) == (200.0, "KT-2291")
    assert (dose.kind, dose.occurred_at, dose.route) == ("initial", app.clock.now(), "sublingual")
    assert app.live_view.since_dose.text() == "T+0:00:00"
    assert "Dose 200 mg given to Maya" in app.live_view.saved.text()
    assert app.events("hold_dose_override") == []  # the baseline is within the limits

    # When M is pressed, a marker typed and Enter pressed
    app.advance(5 * 60)
    app.key(Qt.Key.Key_M)
    assert app.ready() is app.live_view.marker
    app.type("Eye mask on, a little dizzy")  # D and M typed here are text, not shortcuts
    app.key(ENTER)
    # Then it is saved with the time, the field is cleared, and no dose was added by the "d"
    assert app.markers() == ["Eye mask on, a little dizzy"]
    assert app.events("marker")[0].occurred_at == app.clock.now()
    assert app.live_view.marker.text() == ""
    assert len(app.doses()) == 1
    assert f"{local_time(app.clock.now())} Eye mask on, a little dizzy" in (
        app.live_view.recent.text()
    )

    # When Ctrl+E is pressed and the question answered with Enter ("Yes, record it")
    app.advance(60)
    with app.answering(press(ENTER)) as seen:
        app.key(Qt.Key.Key_E, CTRL)
    # Then the session is completed at that time, the clock stops, entry keys are off
    assert [a.title for a in seen] == ["End session"]
    ended = app.session()
    assert (ended.status, ended.ended_at) == ("completed", app.clock.now())
    assert not app.controller.live._timer.isActive()  # type: ignore[union-attr]
    assert app.live_view.ended_label.isVisible()
    assert not app.live_view.dose_button.isEnabled()
    app.key(Qt.Key.Key_D)  # a stray D after the end records nothing
    assert len(app.doses()) == 1
    # And nothing made a sound
    assert beeps == []


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
    # When D is pressed again 35 minutes later and the booster typed in the form
    app.advance(35 * 60)
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
