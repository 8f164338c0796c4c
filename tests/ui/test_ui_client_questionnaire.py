"""The questionnaire the client fills on the screen (issue 17), by keyboard only: F on the live
screen for the participant shown, Shift+Q on the start screen's client list. Staff hand it over,
the client answers one item at a time and checks their answers, and it is saved as the client's
self-report; leaving the screen needs a staff PIN (a wrong one is refused, the app's keys do
nothing there), an unfinished one left with the PIN is saved as incomplete, and the screen shows
nothing of anyone else."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QWidget
from ui_harness import RunningApp, describe, focus_widget, key, type_text

from kapsession.domain.client_profile import ClientProfile
from kapsession.records.measures import measure_cells, over_time
from kapsession.records.people import StaffRecord
from kapsession.ui.client_questionnaire import (
    CHECK,
    DONE,
    ITEM,
    PIN,
    STAFF,
    ClientQuestionnaireScreen,
    HandOverDialog,
)

ENTER = Qt.Key.Key_Return
ESC = Qt.Key.Key_Escape
DIGITS = {n: getattr(Qt.Key, f"Key_{n}") for n in range(10)}
RIGHT_PIN, WRONG_PIN = "246813", "999999"
SHOTS = os.environ.get("KAPSESSION_CLIENT_SHOTS", "")  # a folder: save what the screen shows
PRESCRIBER = "the prescriber must decide before the next dose"


def _shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def _nurse_with_pin(app: RunningApp) -> StaffRecord:
    _therapist, nurse = app.usual_staff()
    app.context.notes.pins.set_pin(nurse.id, RIGHT_PIN, RIGHT_PIN)
    return nurse


def hand_over(dialog: QWidget) -> None:
    """Staff hand it over as offered: PHQ-9, by the monitoring nurse (Enter)."""
    assert isinstance(dialog, HandOverDialog), describe(dialog)
    key(ENTER)


def _screen(dialog: QWidget) -> ClientQuestionnaireScreen:
    assert isinstance(dialog, ClientQuestionnaireScreen), describe(dialog)
    return dialog


def _answer_all(screen: ClientQuestionnaireScreen, digits: list[int]) -> None:
    """From the intro: Enter, then a digit per item; the check page follows the last."""
    key(ENTER)
    assert screen.page == ITEM and focus_widget() is screen.item_page
    for digit in digits:
        key(DIGITS[digit])
    assert screen.page == CHECK


def _leave_with_pin(app: RunningApp, screen: ClientQuestionnaireScreen, pin: str) -> None:
    key(ESC)
    assert screen.page == PIN and focus_widget() is screen.pin
    type_text(pin)
    key(ENTER)


def client(run: Callable[[ClientQuestionnaireScreen], None]) -> Callable[[QWidget], None]:
    """An answer to the client's screen; a failed check inside it closes the screen (the
    guard's Esc would only ask for the PIN), so the test fails instead of hanging."""

    def handler(dialog: QWidget) -> None:
        screen = _screen(dialog)
        try:
            run(screen)
        except BaseException:
            screen.done(QDialog.DialogCode.Rejected)
            raise

    return handler


def test_a_phq9_answered_by_keys_is_stored_as_the_clients_self_report_with_its_total(
    app: RunningApp,
) -> None:
    # Given a live session with a nurse who has a PIN
    nurse = _nurse_with_pin(app)
    session = app.start_session("Maya Fischer")
    (participant,) = session.participants
    staff_saw: list[str] = []

    def answer(screen: ClientQuestionnaireScreen) -> None:
        # The screen fills the screen, and greets the client by first name only
        assert screen.isFullScreen()
        assert screen.greeting.text() == "Hello Maya."
        _shot(screen, "1-intro")
        # When the client answers the nine items, going back once to change item 2
        key(ENTER)
        key(DIGITS[1])
        key(DIGITS[3])
        key(Qt.Key.Key_Left)  # back to item 2: its answer is shown, ↑ changes it
        assert screen.number == 2 and screen.item_page.highlight == 3
        key(Qt.Key.Key_Up)
        _shot(screen, "2-item")
        key(ENTER)  # 2 for item 2
        for digit in (2, 2, 1, 1, 1, 1, 0):
            key(DIGITS[digit])
        # Then the check page lists every answer, "Send" chosen
        assert screen.page == CHECK
        rows = [screen.check_list.item(i).text() for i in range(screen.check_list.count())]
        assert "→ 2  More than half the days" in rows[1] and rows[-1].strip() == "Send my answers"
        _shot(screen, "3-check")
        # And Enter on item 3 changes it, coming back to the check page
        key(Qt.Key.Key_Up)
        for _ in range(6):
            key(Qt.Key.Key_Up)
        assert screen.check_list.currentRow() == 2
        key(ENTER)
        assert screen.page == ITEM and screen.number == 3
        key(DIGITS[3])
        assert screen.page == CHECK
        key(Qt.Key.Key_End)
        key(ENTER)  # send
        assert screen.page == DONE
        _shot(screen, "4-done")
        assert app.context.service.measures.history(participant.client.id)  # saved at once
        # When the nurse leaves with their PIN
        _leave_with_pin(app, screen, RIGHT_PIN)
        assert screen.page == STAFF
        staff_saw.append(screen.staff_result.text())
        assert not screen.staff_flag_label.isVisible()
        key(ENTER)  # Close

    with app.answering(hand_over, client(answer)) as seen:
        app.key(Qt.Key.Key_F)
    assert [a.kind for a in seen] == ["HandOverDialog", "ClientQuestionnaireScreen"]
    # Then one PHQ-9 is stored: 1+2+3+2+1+1+1+1+0 = 12, the client's self-report, handed
    # over by the nurse, in this session
    (measure,) = app.context.service.measures.history(participant.client.id)
    assert measure.answers == (1, 2, 3, 2, 1, 1, 1, 1, 0)
    assert (measure.total, measure.band) == (12, "moderate")
    assert measure.entry_mode == "client_screen" and measure.recorded_by_id == nurse.id
    assert measure.session_id == session.id
    assert staff_saw == ["PHQ-9 12 (moderate) saved. Entered by the client on the screen."]
    # And the client's history says it is their self-report, and who handed it over
    (line,) = [line for lines in over_time([measure]).values() for line in lines]
    assert measure_cells(line)[-1] == (
        "client self-report on the screen, handed over by Ruth Okafor, RN"
    )
    assert "PHQ-9 12 (moderate) saved." in app.live_view.saved.text()
    # And the live screen has the keys again
    assert app.ready() is not None and app.controller.live is not None
    app.leave_session()


def test_leaving_without_the_pin_is_refused_and_the_apps_keys_do_nothing(
    app: RunningApp,
) -> None:
    # Given the client's screen open over a live session, two items answered
    _nurse_with_pin(app)
    session = app.start_session("Maya Fischer")
    (participant,) = session.participants
    pages: list[int] = []

    def try_to_leave(screen: ClientQuestionnaireScreen) -> None:
        key(ENTER)
        key(DIGITS[1])
        key(DIGITS[1])
        # When the app's keys are pressed: back, switch person, end, export, tabs, quit
        for combination in (
            (Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier),
            (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
            (Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier),
            (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
            (Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier),
            (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
        ):
            key(*combination)
        # Then the screen is still there, on item 3
        assert screen.isVisible() and screen.page == ITEM and screen.number == 3
        # When the window is closed, it asks for the staff's PIN instead
        screen.close()
        assert screen.isVisible() and screen.page == PIN
        # And Esc there goes back to the client's question, with nothing lost
        key(ESC)
        assert screen.page == ITEM and screen.number == 3
        # When Enter is pressed on the PIN page with no PIN, it says so and stays
        key(ESC)
        key(ENTER)
        assert screen.isVisible() and screen.pin_message.text().startswith("Type the PIN")
        pages.append(screen.page)
        _shot(screen, "5-pin")
        # (the test ends: the right PIN lets it go)
        type_text(RIGHT_PIN)
        key(ENTER)
        key(ENTER)

    with app.answering(hand_over, client(try_to_leave)):
        app.key(Qt.Key.Key_F)
    assert pages == [PIN]
    # Then the live session stayed open and the session was not ended
    assert app.controller.live is not None and app.session().status == "live"
    # And the two answers given were saved as incomplete, not scored
    (measure,) = app.context.service.measures.history(participant.client.id)
    assert measure.answers == (1, 1, None, None, None, None, None, None, None)
    assert measure.total is None and measure.band is None
    app.leave_session()


def test_a_wrong_pin_is_refused_and_the_screen_stays(app: RunningApp) -> None:
    # Given a client on the start screen, the screen opened with Shift+Q, nothing answered
    nurse = _nurse_with_pin(app)
    client_record = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.controller.refresh_start()
    app.start_view.select_client(client_record.id)
    said: list[str] = []

    def wrong_then_right(screen: ClientQuestionnaireScreen) -> None:
        # When a wrong PIN is typed
        _leave_with_pin(app, screen, WRONG_PIN)
        # Then it is refused after the pause, and the screen stays on the PIN page
        app.qtbot.waitUntil(lambda: screen.pin_message.isVisible(), timeout=5000)
        said.append(screen.pin_message.text())
        assert screen.isVisible() and screen.page == PIN
        # When the right PIN is typed, nothing answered: nothing is saved
        app.qtbot.waitUntil(lambda: screen.pin.isEnabled(), timeout=5000)
        type_text(RIGHT_PIN)
        key(ENTER)
        assert screen.page == STAFF
        said.append(screen.staff_result.text())
        key(ENTER)

    with app.answering(hand_over, client(wrong_then_right)) as seen:
        app.key(Qt.Key.Key_Q, Qt.KeyboardModifier.ShiftModifier)
    assert [a.title for a in seen] == [
        "Questionnaire on the screen — Maya Fischer",
        "Questionnaire",
    ]
    assert said[0].startswith("That PIN is not right.")
    assert said[1] == "Nothing was answered: nothing was saved."
    assert app.context.service.measures.history(client_record.id) == []
    # And the wrong try is in the audit trail, for the nurse
    failures, _latest = app.context.notes.pins.failures_in_a_row(nurse.id)
    assert failures == 0  # the right PIN after it ended the run; the wrong one was audited


def test_phq9_item_9_above_zero_is_flagged_to_the_staff_after_the_pin_not_to_the_client(
    app: RunningApp,
) -> None:
    # Given a client filling a PHQ-9 from the start screen (Shift+Q)
    _nurse_with_pin(app)
    client_record = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.controller.refresh_start()
    app.start_view.select_client(client_record.id)
    client_saw: list[str] = []
    flag: list[str] = []

    def answer(screen: ClientQuestionnaireScreen) -> None:
        # When item 9 is answered 2 and the answers sent
        _answer_all(screen, [0, 0, 0, 0, 0, 0, 0, 0, 2])
        key(ENTER)
        assert screen.page == DONE
        client_saw.extend(t for t in screen.texts() if t != screen.staff_flag_label.text())
        client_saw.append(screen.done_text.text())
        assert not screen.staff_flag_label.isVisible()
        # Then after the PIN the staff see the flag
        _leave_with_pin(app, screen, RIGHT_PIN)
        assert screen.staff_flag_label.isVisible()
        flag.append(screen.staff_flag_label.text())
        _shot(screen, "6-staff-flag")
        key(ENTER)

    with app.answering(hand_over, client(answer)):
        app.key(Qt.Key.Key_Q, Qt.KeyboardModifier.ShiftModifier)
    assert len(flag) == 1 and PRESCRIBER in flag[0] and "PHQ-9 item 9" in flag[0]
    # And nothing the client saw spoke of it
    assert not any("prescriber" in text or "item 9" in text for text in client_saw)
    (measure,) = app.context.service.measures.history(client_record.id)
    assert (measure.total, measure.session_id) == (2, None)
    assert PRESCRIBER in app.window.statusBar().currentMessage()


def test_nothing_of_another_participant_or_the_session_is_on_the_clients_screen(
    app: RunningApp,
) -> None:
    # Given a group of three, Jonas's preferred name "Jo", Jonas shown on the live screen
    nurse = _nurse_with_pin(app)
    session = app.start_session("Maya Fischer", "Jonas Weber", "Lea Braun", modality="group")
    jonas = next(p for p in session.participants if p.client.given_name == "Jonas")
    profiles = app.context.service.profiles
    profiles.save(
        jonas.client.id,
        ClientProfile(preferred_name="Jo"),
        at=app.clock.now(),
        by=nurse.id,
        based_on=None,
    )
    app.choose(app.live_view.participant, "Jonas Weber")
    app.advance(60)
    texts: list[str] = []

    def look(screen: ClientQuestionnaireScreen) -> None:
        # When the client goes through every page they can reach
        texts.extend(screen.texts())
        key(ENTER)
        texts.extend(screen.texts())
        _answer_all_from_item(screen)
        texts.extend(screen.texts())
        key(ENTER)
        texts.extend(screen.texts())
        key(ESC)
        texts.extend(screen.texts())
        assert screen.greeting.text() == "Hello Jo."
        type_text(RIGHT_PIN)
        key(ENTER)
        key(ENTER)

    with app.answering(hand_over, client(look)):
        app.key(Qt.Key.Key_F)
    # Then no text on it names anyone else, the staff, Jonas's family name, or the session
    whole = "\n".join(texts)
    for other in ("Maya", "Fischer", "Lea", "Braun", "Weber", "Jonas", "Sam Lee", "Ruth Okafor"):
        assert other not in whole, other
    for session_text in ("T+", "Sublingual", "Group", "Room", "BP", "alert"):
        assert session_text not in whole, session_text
    # And the questionnaire is Jonas's
    (measure,) = app.context.service.measures.history(jonas.client.id)
    assert measure.session_id == session.id and measure.total == 9
    app.leave_session()


def _answer_all_from_item(screen: ClientQuestionnaireScreen) -> None:
    for _ in screen.instrument.items:
        key(DIGITS[1])
    assert screen.page == CHECK


def test_item_9_answered_on_the_screen_during_the_session_holds_the_first_dose_at_once(
    app: RunningApp,
) -> None:
    # Given a live session before its first dose (consent and screening done), D available
    _nurse_with_pin(app)
    session = app.start_session("Maya Fischer")
    (participant,) = session.participants
    live = app.controller.live
    assert live is not None
    assert live.dose_availability(participant.id)[0] is True

    def answer(screen: ClientQuestionnaireScreen) -> None:
        # When the client answers a PHQ-9 on the screen (F), item 9 above zero
        _answer_all(screen, [1, 1, 0, 0, 0, 0, 0, 0, 1])
        key(ENTER)
        _leave_with_pin(app, screen, RIGHT_PIN)
        key(ENTER)

    with app.answering(hand_over, client(answer)):
        app.key(Qt.Key.Key_F)
    # Then the open session's dose waits for the prescriber's decision, without reading again
    allowed, why = live.dose_availability(participant.id)
    assert allowed is False and "item 9" in why, why
    app.leave_session()
