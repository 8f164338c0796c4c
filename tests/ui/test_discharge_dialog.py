"""The discharge check by keyboard, over the real domain rules: Discharge only when ready, the
failing items listed, an override only with a reason, and the values handed back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_harness import focus_widget, key, type_text

from kapsession.domain.discharge import (
    AldreteObservation,
    DischargeEvaluation,
    evaluate_discharge,
)
from kapsession.domain.protocol import DischargeCriteria
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.vitals import Reading
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


@dataclass
class Room:
    """The fake `evaluate` the controller would pass: the real rules over set readings and a
    clock the test moves; it notes what it was asked."""

    criteria: DischargeCriteria
    minutes_after_dose: float
    current: Reading = GOOD_NOW
    asked: list[tuple[AldreteObservation, dict[str, bool | None]]] = field(default_factory=list)

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
        dialog = DischargeDialog("Ben Ortiz", room.criteria, room)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.activity)
        return dialog

    yield make


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
    qtbot: QtBot, open_dialog: OpenDialog
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
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    assert dialog.value() == DischargeEntry(
        AldreteObservation(activity=2, breathing=2, consciousness=2, on_room_air=True),
        all_ticked(ESKETAMINE),
        None,
    )
    assert room.asked[-1] == (dialog.value().observation, all_ticked(ESKETAMINE))


@pytest.mark.parametrize(
    ("room", "scores", "tick", "failing"),
    [
        (  # everything passes but the REMS two hours
            Room(ESKETAMINE, minutes_after_dose=95),
            "222",
            6,
            [
                "Monitoring must last at least 120 minutes from the first dose; discharge is "
                "possible in 25 minutes."
            ],
        ),
        (  # not responding on calling: the score is below the pass mark
            Room(SUBLINGUAL, minutes_after_dose=130),
            "220",
            5,
            [
                "Modified Aldrete score is 8 of 10; 9 or more is needed to leave. Below full "
                "score: Consciousness 0 — Not responding."
            ],
        ),
        (  # nothing scored or ticked yet
            Room(SUBLINGUAL, minutes_after_dose=130),
            "",
            0,
            ["Activity is not scored yet.", "Not answered yet: Alert and oriented."],
        ),
        (  # two checklist items left
            Room(SUBLINGUAL, minutes_after_dose=130),
            "222",
            3,
            [
                "Not answered yet: Escort present to take the client home.",
                "Not answered yet: Told: no driving until the next day, after a night's sleep.",
            ],
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
) -> None:
    # Given a client not ready for one reason or another
    dialog = open_dialog(room)
    if scores:
        score_and_tick(dialog, scores, tick)
    # Then each failing item is listed in its own words and Discharge needs an override
    for message in failing:
        assert f"•  {message}" in dialog.failing.text()
    assert dialog.status.text().startswith("Not ready yet")
    assert dialog.discharge_button.text() == "Discharge with override"
    assert not dialog.discharge_button.isEnabled()
    assert dialog.override_reason_edit.isVisible()
    # And Enter does not discharge
    with qtbot.assertNotEmitted(dialog.accepted):
        key(ENTER)
    dialog.reject()


def test_discharging_a_client_not_ready_needs_a_reason(
    qtbot: QtBot, open_dialog: OpenDialog
) -> None:
    # Given an esketamine client clinically ready at 95 minutes, inside the REMS two hours
    room = Room(ESKETAMINE, minutes_after_dose=95)
    dialog = open_dialog(room)
    score_and_tick(dialog, "222", tick=len(ESKETAMINE.checklist))
    assert "Clinically ready at 95 minutes after the first dose" in dialog.timing.text()
    earliest = FIRST_DOSE + timedelta(minutes=120)
    assert f"Earliest discharge {local_time(earliest)}" in dialog.timing.text()
    # When the nurse asks to discharge without a reason
    with qtbot.assertNotEmitted(dialog.accepted):
        dialog.accept()
    # Then the banner says what to do and the focus waits in the reason field
    assert dialog.problem.isVisible() and "Override — reason" in dialog.problem.text()
    assert focus_widget() is dialog.override_reason_edit
    # When the reason is typed / Then the button offers the override and Enter discharges
    type_text(REASON)
    assert dialog.discharge_button.isEnabled()
    assert dialog.discharge_button.text() == "Discharge with override"
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    observation, checklist, reason = dialog.value()
    assert observation == AldreteObservation(2, 2, 2, on_room_air=True)
    assert checklist == all_ticked(ESKETAMINE)
    assert reason == REASON


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
