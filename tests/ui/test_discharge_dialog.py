"""The discharge check by keyboard, over the real domain rules: Discharge only when ready, the
failing items listed, an override only with a reason, and the values handed back."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from ui_harness import ModalGuard, describe, focus_widget, key, type_text
from ui_harness import press as answer_with

from kapsession.domain.discharge import (
    AldreteObservation,
    DischargeEvaluation,
    evaluate_discharge,
)
from kapsession.domain.protocol import DischargeCriteria
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.roles import StaffRole
from kapsession.domain.vitals import Reading
from kapsession.records.people import StaffRecord
from kapsession.services.checkin_results import DischargeResult
from kapsession.ui.discharge_dialog import REFRESH_MS, DischargeDialog, DischargeEntry
from kapsession.ui.formatting import local_time

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
ESKETAMINE = load_protocol(PROTOCOLS / "intranasal-esketamine.toml").discharge  # REMS: 120 min
SUBLINGUAL = load_protocol(PROTOCOLS / "sublingual-kap-3h.toml").discharge  # no minimum time
FIRST_DOSE = datetime(2026, 11, 26, 14, 40, tzinfo=UTC)
BASELINE = Reading(122, 78, heart_rate_bpm=72, spo2_pct=98)
GOOD_NOW = Reading(130, 82, heart_rate_bpm=76, spo2_pct=97)
TAB, ENTER, SPACE = Qt.Key.Key_Tab, Qt.Key.Key_Return, Qt.Key.Key_Space
REASON = "Escort waiting in the car park; oriented and walking steadily; Dr. Ng agrees"
INES = StaffRecord(uuid.uuid4(), "Ines Moreau", StaffRole.PRESCRIBER, "NP", True)


@dataclass
class Room:
    """The fake `evaluate` the controller would pass: the real rules over set readings and a
    clock the test moves; it notes what it was asked."""

    criteria: DischargeCriteria
    minutes_after_dose: float
    current: Reading = GOOD_NOW
    asked: list[tuple[AldreteObservation, dict[str, bool | None]]] = field(default_factory=list)
    prescribers: tuple[StaffRecord, ...] = ()

    def __call__(
        self, observation: AldreteObservation, answers: Mapping[str, bool | None]
    ) -> DischargeEvaluation:
        self.asked.append((observation, dict(answers)))
        return evaluate_discharge(
            criteria=self.criteria,
            current=self.current,
            baseline=BASELINE,
            observation=observation,
            checklist_answers=answers,
            first_dose_at=FIRST_DOSE,
            now=FIRST_DOSE + timedelta(minutes=self.minutes_after_dose),
        )


OpenDialog = Callable[[Room], DischargeDialog]


@pytest.fixture
def open_dialog(qtbot: QtBot) -> Iterator[OpenDialog]:
    """The discharge check on screen with the focus on Activity. Each test closes it (its
    half-minute re-check must not outlive the test)."""

    def make(room: Room) -> DischargeDialog:
        dialog = DischargeDialog(
            "Ben Ortiz", room.criteria, room, prescribers=room.prescribers, prescriber_id=INES.id
        )
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.activity)
        return dialog

    yield make


def after(minutes: float) -> datetime:
    return FIRST_DOSE + timedelta(minutes=minutes)


def confirm_override(box: QWidget) -> None:
    """The last question of an override says so, with the reason; Enter records."""
    assert isinstance(box, QMessageBox), describe(box)
    assert box.informativeText().startswith("OVERRIDE: 1 item of the check still fails.")
    assert REASON in box.informativeText()
    key(ENTER)


def all_ticked(criteria: DischargeCriteria) -> dict[str, bool | None]:
    return {item.key: True for item in criteria.checklist}


def score_and_tick(dialog: DischargeDialog, scores: str, tick: int) -> None:
    """By keyboard: a digit on each Aldrete item, Tab past room air, Space on `tick` boxes."""
    for index, digit in enumerate(scores):
        if index:
            key(TAB)
        type_text(digit)
    key(TAB)
    assert focus_widget() is dialog.room_air
    for box in list(dialog.checklist.values())[:tick]:
        key(TAB)
        assert focus_widget() is box
        key(SPACE)


def test_a_ready_client_is_discharged_from_the_keyboard(
    qtbot: QtBot, open_dialog: OpenDialog, modal_guard: ModalGuard
) -> None:
    # Given an esketamine client 130 minutes after the first device, with good vitals
    room = Room(ESKETAMINE, minutes_after_dose=130)
    dialog = open_dialog(room)
    assert not dialog.discharge_button.isEnabled()
    # When the nurse scores 2, 2, 2, Tabs through and ticks every checklist item
    score_and_tick(dialog, "222", tick=len(ESKETAMINE.checklist))
    # Then the check passes, Discharge is enabled, and Enter hands back what was entered
    assert dialog.evaluation().ready
    assert dialog.status.text() == "Ready to leave"
    assert dialog.total.text() == "Aldrete 10 of 10"
    assert "Ready to leave at 130 minutes after the first dose." in dialog.timing.text()
    assert dialog.discharge_button.isEnabled()
    assert dialog.discharge_button.text() == "Discharge"
    assert not dialog.override_reason_edit.isVisible()
    with modal_guard.answering(answer_with(ENTER)) as seen, qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    # (after the question naming the client and the time, answered with Enter)
    assert [a.text for a in seen] == [
        f"Record discharge at {local_time(after(130))} for Ben Ortiz?"
    ]
    assert dialog.value() == DischargeEntry(
        AldreteObservation(activity=2, breathing=2, consciousness=2, on_room_air=True),
        all_ticked(ESKETAMINE),
        None,
    )
    assert room.asked[-1] == (dialog.value().observation, all_ticked(ESKETAMINE))


@pytest.mark.parametrize(
    ("room", "scores", "tick", "failing", "button"),
    [
        (  # everything passes but the REMS two hours: only the prescriber may override
            Room(ESKETAMINE, minutes_after_dose=95),
            "222",
            6,
            [
                "Monitoring must last at least 120 minutes from the first dose; discharge is "
                "possible in 25 minutes."
            ],
            "Discharge with the prescriber's override",
        ),
        (  # not responding on calling: the score is below the pass mark
            Room(SUBLINGUAL, minutes_after_dose=130),
            "220",
            5,
            [
                "Modified Aldrete score is 8 of 10; 9 or more is needed to leave. Below full "
                "score: Consciousness 0 — Not responding."
            ],
            "Discharge with override",
        ),
        (  # nothing scored or ticked yet
            Room(SUBLINGUAL, minutes_after_dose=130),
            "",
            0,
            ["Activity is not scored yet.", "Not answered yet: Alert and oriented."],
            "Discharge with the prescriber's override",  # sedation, dissociation not resolved
        ),
        (  # two checklist items left
            Room(SUBLINGUAL, minutes_after_dose=130),
            "222",
            3,
            [
                "Not answered yet: Escort present to take the client home.",
                "Not answered yet: Told: no driving until the next day, after a night's sleep.",
            ],
            "Discharge with override",
        ),
    ],
)
def test_a_client_not_ready_has_each_failing_item_listed_and_discharge_disabled(
    qtbot: QtBot,
    open_dialog: OpenDialog,
    room: Room,
    scores: str,
    tick: int,
    failing: list[str],
    button: str,
) -> None:
    # Given a client not ready for one reason or another
    dialog = open_dialog(room)
    if scores:
        score_and_tick(dialog, scores, tick)
    # Then each failing item is listed in its own words and Discharge needs an override
    for message in failing:
        assert f"•  {message}" in dialog.failing.text()
    assert dialog.status.text().startswith("Not ready yet")
    assert dialog.discharge_button.text() == button
    assert not dialog.discharge_button.isEnabled()
    assert dialog.override_reason_edit.isVisible()
    # And Enter does not discharge
    with qtbot.assertNotEmitted(dialog.accepted):
        key(ENTER)
    dialog.reject()


def test_discharging_a_client_not_ready_needs_a_reason(
    qtbot: QtBot, open_dialog: OpenDialog, modal_guard: ModalGuard
) -> None:
    # Given a client whose Aldrete score is below the pass mark, after the minimum time
    room = Room(SUBLINGUAL, minutes_after_dose=130)
    dialog = open_dialog(room)
    score_and_tick(dialog, "211", tick=len(SUBLINGUAL.checklist))
    assert [p.key for p in dialog.evaluation().problems] == ["aldrete"]
    # When the nurse asks to discharge without a reason
    with qtbot.assertNotEmitted(dialog.accepted):
        dialog.accept()
    # Then the banner says what to do and the focus waits in the reason field
    assert dialog.problem.isVisible() and "Override — reason" in dialog.problem.text()
    assert focus_widget() is dialog.override_reason_edit
    assert not dialog.prescriber_pin.isVisible()  # the nurse's own override will do
    # When the reason is typed / Then the button offers the override and Enter discharges
    type_text(REASON)
    assert dialog.discharge_button.isEnabled()
    assert dialog.discharge_button.text() == "Discharge with override"
    with modal_guard.answering(confirm_override) as seen, qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    assert [a.title for a in seen] == ["Record discharge — Ben Ortiz"]
    observation, checklist, reason = dialog.value()
    assert observation == AldreteObservation(2, 1, 1, on_room_air=True)
    assert checklist == all_ticked(SUBLINGUAL)
    assert reason == REASON
    assert dialog.prescriber_override() is None


def confirm_prescriber_override(box: QWidget) -> None:
    assert isinstance(box, QMessageBox), describe(box)
    assert box.informativeText().startswith(
        "PRESCRIBER'S OVERRIDE by Ines Moreau, NP: 1 item of the check still fails, recorded "
        "as a protocol deviation."
    )
    key(ENTER)


def test_before_the_minimum_time_only_the_prescribers_override_lets_the_client_leave(
    qtbot: QtBot, open_dialog: OpenDialog, modal_guard: ModalGuard
) -> None:
    # Given an esketamine client clinically ready at 95 minutes, inside the REMS two hours
    room = Room(ESKETAMINE, minutes_after_dose=95, prescribers=(INES,))
    dialog = open_dialog(room)
    score_and_tick(dialog, "222", tick=len(ESKETAMINE.checklist))
    assert "Clinically ready at 95 minutes after the first dose" in dialog.timing.text()
    earliest = FIRST_DOSE + timedelta(minutes=120)
    assert f"Earliest discharge {local_time(earliest)}" in dialog.timing.text()
    # Then the override asks for the prescriber (the session's, chosen) and their PIN
    assert dialog.prescriber.isVisible() and dialog.prescriber.currentText() == "Ines Moreau, NP"
    assert dialog.discharge_button.text() == "Discharge with the prescriber's override"
    # When Enter is pressed with only the reason typed
    dialog.override_reason_edit.setFocus()
    type_text("Transfer to hospital for an unrelated injury")
    assert not dialog.discharge_button.isEnabled()
    with qtbot.assertNotEmitted(dialog.accepted):
        key(ENTER)
    # Then it asks for the PIN, the focus in its field
    assert "The prescriber types their PIN" in dialog.problem.text()
    assert focus_widget() is dialog.prescriber_pin
    # When the PIN is typed and Enter pressed, the question answered with Enter
    type_text("246813")
    with (
        modal_guard.answering(confirm_prescriber_override) as seen,
        qtbot.waitSignal(dialog.accepted),
    ):
        key(ENTER)
    # Then the dialog hands back the prescriber's override as typed, for the PIN check
    assert [a.title for a in seen] == ["Record discharge — Ben Ortiz"]
    assert dialog.prescriber_override() == (
        INES.id,
        "Ines Moreau, NP",
        "246813",
        "Transfer to hospital for an unrelated injury",
    )
    # And a refused PIN is said, the PIN emptied and the focus back in it
    dialog.show()
    dialog.show_override_refused("That PIN is not right. The discharge was not saved.")
    assert "That PIN is not right" in dialog.problem.text()
    assert dialog.prescriber_pin.text() == ""
    dialog.reject()


def test_without_a_prescriber_on_the_staff_list_the_early_discharge_waits(
    qtbot: QtBot, open_dialog: OpenDialog
) -> None:
    # Given a client before the REMS two hours and no prescriber on the staff list
    dialog = open_dialog(Room(ESKETAMINE, minutes_after_dose=95))
    score_and_tick(dialog, "222", tick=len(ESKETAMINE.checklist))
    dialog.override_reason_edit.setFocus()
    type_text(REASON)
    # When Enter is pressed / Then nothing is handed back and the banner says why
    with qtbot.assertNotEmitted(dialog.accepted):
        key(ENTER)
    assert "no prescriber is on the staff list: the discharge waits" in dialog.problem.text()
    dialog.reject()


def test_a_blank_reason_is_no_reason(qtbot: QtBot, open_dialog: OpenDialog) -> None:
    dialog = open_dialog(Room(SUBLINGUAL, minutes_after_dose=130))
    dialog.override_reason_edit.setFocus()
    type_text("   ")
    assert not dialog.discharge_button.isEnabled()
    with qtbot.assertNotEmitted(dialog.accepted):
        dialog.accept()
    assert dialog.value().override_reason is None
    dialog.reject()


@pytest.mark.parametrize(
    ("keys", "score"),
    [
        ("0", 0),
        ("1", 1),
        ("2", 2),
        ("3", None),  # not a score: ignored
        ("21", 1),  # the last digit counts
    ],
)
def test_digits_set_the_focused_aldrete_item(
    open_dialog: OpenDialog, keys: str, score: int | None
) -> None:
    # Given the check with the focus on Breathing
    room = Room(SUBLINGUAL, minutes_after_dose=130)
    dialog = open_dialog(room)
    key(TAB)
    assert focus_widget() is dialog.breathing
    # When digits are typed / Then Breathing takes the score, nothing else, and is evaluated
    type_text(keys)
    assert dialog.breathing.score() == score
    assert (dialog.activity.score(), dialog.consciousness.score()) == (None, None)
    assert room.asked[-1][0].breathing == score
    dialog.reject()


@pytest.mark.parametrize(
    ("presses", "score"),
    [
        ([Qt.Key.Key_Up], 2),
        ([Qt.Key.Key_Down], 0),
        ([Qt.Key.Key_Up, Qt.Key.Key_Down], 1),
        ([Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Up], 1),
    ],
)
def test_arrow_keys_move_the_score(
    open_dialog: OpenDialog, presses: list[Qt.Key], score: int
) -> None:
    dialog = open_dialog(Room(SUBLINGUAL, minutes_after_dose=130))
    for press in presses:
        key(press)
    assert dialog.activity.score() == score
    dialog.reject()


def test_supplemental_oxygen_lowers_the_computed_spo2_item(open_dialog: OpenDialog) -> None:
    # Given a client otherwise ready, SpO2 97 %
    room = Room(SUBLINGUAL, minutes_after_dose=130)
    dialog = open_dialog(room)
    score_and_tick(dialog, "222", tick=len(SUBLINGUAL.checklist))
    assert dialog.spo2.score.text() == "2" and dialog.evaluation().ready
    assert "134" not in dialog.circulation.detail.text()
    assert "130/82 mmHg" in dialog.circulation.detail.text()  # computed, read-only
    # When "on room air" is unticked (the client is on oxygen)
    dialog.room_air.setFocus()
    key(SPACE)
    # Then SpO2 scores 1 from the evaluation, the total drops to 9 and still passes
    assert room.asked[-1][0].on_room_air is False
    assert dialog.spo2.score.text() == "1" and "on oxygen" in dialog.spo2.detail.text()
    assert dialog.total.text() == "Aldrete 9 of 10"
    assert dialog.evaluation().ready
    dialog.reject()


def test_the_check_reruns_while_open_so_the_minimum_time_can_pass(
    open_dialog: OpenDialog,
) -> None:
    # Given an esketamine client ready but for the last minute of the REMS two hours
    room = Room(ESKETAMINE, minutes_after_dose=119)
    dialog = open_dialog(room)
    score_and_tick(dialog, "222", tick=len(ESKETAMINE.checklist))
    assert not dialog.discharge_button.isEnabled()
    assert dialog.refresh_timer.isActive() and dialog.refresh_timer.interval() == REFRESH_MS
    # When the clock passes two hours and the half-minute re-check runs
    room.minutes_after_dose = 120
    dialog.refresh_timer.timeout.emit()
    # Then the client is ready without the nurse touching anything
    assert dialog.evaluation().ready and dialog.discharge_button.isEnabled()
    assert dialog.discharge_button.text() == "Discharge"
    # And closing the dialog stops the re-check
    dialog.reject()
    assert not dialog.refresh_timer.isActive()


def test_a_refused_discharge_is_shown_and_the_entries_kept(open_dialog: OpenDialog) -> None:
    # Given a dialog whose discharge the service refused: the check does not pass now
    room = Room(SUBLINGUAL, minutes_after_dose=130, current=Reading(160, 100, spo2_pct=97))
    dialog = open_dialog(room)
    score_and_tick(dialog, "222", tick=2)
    evaluation = room(dialog.observation(), dialog.answers())
    # When the result is shown
    dialog.show_result_problems(DischargeResult(evaluation=evaluation))
    # Then the banner says it was not recorded; the scores stay and circulation shows why
    assert "Discharge was NOT recorded" in dialog.problem.text()
    assert dialog.activity.score() == 2
    assert dialog.circulation.score.text() == "1"
    assert focus_widget() is dialog.override_reason_edit
    dialog.reject()


def test_without_a_dose_no_minimum_time_applies(open_dialog: OpenDialog) -> None:
    room = Room(ESKETAMINE, minutes_after_dose=0)
    dialog = open_dialog(room)
    no_dose = evaluate_discharge(
        criteria=ESKETAMINE,
        current=GOOD_NOW,
        baseline=BASELINE,
        observation=AldreteObservation(2, 2, 2),
        checklist_answers=all_ticked(ESKETAMINE),
        first_dose_at=None,
        now=FIRST_DOSE,
    )
    dialog.show_result_problems(DischargeResult(evaluation=no_dose))
    assert "No dose recorded" in dialog.timing.text()
    assert dialog.discharge_button.isEnabled()
    dialog.reject()


# --- the confirmation (issue 16) ----------------------------------------------------------------


def tab_to_discharge_and_space(dialog: DischargeDialog) -> None:
    """Tab from the last checklist item until the Discharge button has the focus, then Space."""
    for _ in range(10):
        if focus_widget() is dialog.discharge_button:
            break
        key(TAB)
    assert focus_widget() is dialog.discharge_button
    key(SPACE)


def test_tab_and_space_alone_record_nothing(
    qtbot: QtBot, open_dialog: OpenDialog, modal_guard: ModalGuard
) -> None:
    # Given a ready sublingual client, scored and ticked by keyboard
    room = Room(SUBLINGUAL, minutes_after_dose=75)
    dialog = open_dialog(room)
    score_and_tick(dialog, "222", tick=len(SUBLINGUAL.checklist))
    assert dialog.evaluation().ready
    # When Tab reaches Discharge and Space presses it, and the question is left with Escape
    with (
        modal_guard.answering(answer_with(Qt.Key.Key_Escape)) as seen,
        qtbot.assertNotEmitted(dialog.accepted),
    ):
        tab_to_discharge_and_space(dialog)
    # Then the question named the client and the time, and nothing was handed back
    assert [(a.title, a.text) for a in seen] == [
        (
            "Record discharge — Ben Ortiz",
            f"Record discharge at {local_time(after(75))} for Ben Ortiz?",
        )
    ]
    assert dialog.isVisible() and dialog.result() == 0
    dialog.activateWindow()  # (offscreen, the window manager's part)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.discharge_button)
    # When Space is pressed again and the question answered with Enter
    with modal_guard.answering(answer_with(ENTER)), qtbot.waitSignal(dialog.accepted):
        key(SPACE)
    # Then the discharge goes to the controller
    assert dialog.value().override_reason is None


def test_the_checklist_asks_sedation_and_dissociation_in_every_protocol(
    open_dialog: OpenDialog,
) -> None:
    for path in sorted(p for p in PROTOCOLS.glob("*.toml") if load_protocol(p).gives_dose):
        criteria = load_protocol(path).discharge
        dialog = open_dialog(Room(criteria, minutes_after_dose=130))
        labels = [box.text() for box in dialog.checklist.values()]
        assert any(label.startswith("Sedation") for label in labels), path.name
        assert any(label.startswith("Dissociation resolved") for label in labels), path.name
        dialog.reject()


def test_the_time_after_the_last_dose_is_shown(open_dialog: OpenDialog) -> None:
    # Given a sublingual client 40 minutes after the dose
    dialog = open_dialog(Room(SUBLINGUAL, minutes_after_dose=40))
    score_and_tick(dialog, "222", tick=len(SUBLINGUAL.checklist))
    # Then the check waits for 60 minutes after it, and says until when
    assert not dialog.evaluation().ready
    assert f"Earliest discharge {local_time(after(60))}: at least 60 min after the last dose." in (
        dialog.timing.text()
    )
    assert "possible in 20 minutes" in dialog.failing.text()
    dialog.reject()


def test_on_a_short_screen_the_check_scrolls_and_the_buttons_stay_in_view(
    qtbot: QtBot, open_dialog: OpenDialog
) -> None:
    # Given the check of a client not ready, every checklist item unanswered (the tallest it
    # gets), on the tests' laptop screen
    dialog = open_dialog(Room(ESKETAMINE, minutes_after_dose=30))
    screen = dialog.screen().availableGeometry()
    # Then the dialog is no taller than the screen, the override and the buttons are inside it
    assert dialog.height() <= screen.height()
    inside = dialog.rect()
    for widget in (dialog.override_reason_edit, dialog.buttons):
        corner = widget.mapTo(dialog, widget.rect().bottomRight())
        assert inside.contains(corner), type(widget).__name__
    # And when the dialog is made shorter than what it holds, the two columns scroll while
    # the buttons stay in view, and the focus moved down the columns is scrolled to
    dialog.resize(dialog.width(), 380)
    qtbot.waitUntil(lambda: dialog.body.verticalScrollBar().maximum() > 0)
    inside = dialog.rect()
    assert inside.contains(dialog.buttons.mapTo(dialog, dialog.buttons.rect().bottomRight()))
    boxes = list(dialog.checklist.values())
    boxes[0].setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is boxes[0])
    for _ in boxes[1:]:
        key(TAB)
    assert QApplication.focusWidget() is boxes[-1]
    viewport = dialog.body.viewport()
    bottom = boxes[-1].mapTo(viewport, boxes[-1].rect().bottomLeft())
    assert viewport.rect().contains(bottom)
    dialog.reject()
