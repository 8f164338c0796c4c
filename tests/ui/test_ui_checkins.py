"""The nurse's half of the session on the real window, by keyboard: check-ins, limits, alerts,
late entries, doses with the hold-dose rule and esketamine devices, discharge, and a group."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QWidget
from ui_harness import (
    START,
    Answered,
    ModalHandler,
    RunningApp,
    answer_nested,
    confirm_partial,
    fill_dose,
    focus_widget,
    key,
    type_text,
)
from ui_harness import press as press_key

from kapsession.domain.scales import MOAAS
from kapsession.ui import theme
from kapsession.ui.checkin_form import FIELDS, UNSCHEDULED
from kapsession.ui.discharge_dialog import DischargeDialog
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.formatting import local_time
from kapsession.ui.live_view import CHART, READINGS
from kapsession.ui.readings_table import COLUMN_INDEX
from kapsession.ui.vitals_chart import BP_BAR, HR_LINE, SPO2_LINE

ENTER, TAB = Qt.Key.Key_Return, Qt.Key.Key_Tab
CTRL = Qt.KeyboardModifier.ControlModifier
FULL_SET = ("138", "86", "88", "97", "14", "36.8", "4", "-1", "2", "3", "4")
BASELINE_SET = ("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")


def at_minute(minutes: float) -> str:
    """The local wall time `minutes` after the session started, as the screen writes it."""
    return local_time(START + timedelta(minutes=minutes))


def dosed_at_40(app: RunningApp, *names: str, modality: str = "individual") -> None:
    """A session 40 minutes in: a keyboard baseline of BASELINE_SET, then D and 200 mg."""
    app.start_session(*names, modality=modality)
    app.advance(40 * 60)
    app.checkin_by_keyboard(*BASELINE_SET)
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)


def active_modal() -> QWidget:
    widget = QApplication.activeModalWidget()
    assert widget is not None, "no dialog is open"
    return widget


def row_cells(app: RunningApp) -> list[dict[str, str]]:
    """The readings table as the nurse sees it: one {column: text} per row."""
    model = app.live_view.readings.readings_model()
    return [
        {key: str(model.index(row, column).data()) for key, column in COLUMN_INDEX.items()}
        for row in range(model.rowCount())
    ]


def test_a_full_set_by_keyboard_only(app: RunningApp) -> None:
    # Given a session dosed at minute 40 after a full baseline, now at T+15
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    form = app.live_view.checkin_form
    before = app.observations()
    # When C is pressed
    app.key(Qt.Key.Key_C)
    # Then the form is on T+15, whose slot is open, every field is empty, the baseline's
    # values are shown beside them as references with their age, and the focus waits in
    # systolic
    assert form.checkin.currentData() == "t15"
    assert form.checkin.currentText() == "T+15 — due now"
    assert [box.text() for box in form.fields.values()] == [""] * len(form.fields)
    assert [form.reference_text(k) for k in ("systolic_mmhg", "heart_rate_bpm", "suds")] == [
        "last 122/78, 15 min ago",
        "last 72, 15 min ago",
        "last 3, 15 min ago",
    ]
    systolic = form.fields["systolic_mmhg"]
    assert app.ready() is systolic
    # When every value is typed with Tab between them
    for index, text in enumerate(FULL_SET):
        if index:
            app.key(TAB)
        app.type(text)
        if index == 6:  # MOAA/S: its anchor is shown as it is typed
            assert form.hint.text() == f"{MOAAS.name} 4: {MOAAS.anchor(4)}"
            assert "Lethargic response to name" in form.hint.text()
    app.key(ENTER)
    # Then exactly one observation is stored with every value, for T+15, at the fake time
    added = app.observations()[len(before) :]
    assert len(added) == 1
    (reading,) = added
    assert reading.checkin_key == "t15"
    assert reading.occurred_at == reading.recorded_at == app.clock.now()
    assert {k: reading.values[k] for k in form.fields} == {
        "systolic_mmhg": 138, "diastolic_mmhg": 86, "heart_rate_bpm": 88, "spo2_pct": 97,
        "resp_rate_per_min": 14, "temperature_c": 36.8, "moaas": 4, "rass": -1,
        "dissociation": 2, "nausea": 3, "suds": 4,
    }  # fmt: skip
    # And the check-in is done: gone from what is due, "done" in the form's list
    lines = [line.text() for line in app.live_view.checkin_lines if line.isVisible()]
    assert not any(line.startswith("T+15 ") for line in lines), lines
    assert form.checkin.itemText(form.checkin.findData("t15")) == "T+15 — done"
    # And the form starts again: empty, with what was just saved as the references, and no
    # slot open now (T+30's opens at T+25), so Unscheduled is offered
    assert [box.text() for box in form.fields.values()] == [""] * len(form.fields)
    assert form.reference_text("systolic_mmhg") == "last 138/86, just now"
    assert form.checkin.currentData() == UNSCHEDULED
    assert not form.problems.isVisible()
    # And R shows it in the readings table, G on the chart at minute 55
    app.key(Qt.Key.Key_R)
    assert app.live_view.readings.isVisible()
    last = row_cells(app)[-1]
    assert (last["time"], last["checkin"], last["bp"], last["hr"], last["spo2"]) == (
        at_minute(55), "T+15", "138/86", "88", "97",
    )  # fmt: skip
    assert (last["rr"], last["temp"], last["moaas"], last["rass"]) == ("14", "36.8", "4", "-1")
    assert (last["dissociation"], last["nausea"], last["suds"]) == ("2", "3", "4")
    app.key(Qt.Key.Key_G)
    chart = app.live_view.chart
    assert chart.isVisible()
    bars = [[(p.x(), p.y()) for p in s.points()] for s in chart.series_of(BP_BAR)]
    assert bars[-1] == [(55.0, 86.0), (55.0, 138.0)]
    assert (55.0, 88.0) in [(p.x(), p.y()) for s in chart.series_of(HR_LINE) for p in s.points()]
    assert (55.0, 97.0) in [(p.x(), p.y()) for s in chart.series_of(SPO2_LINE) for p in s.points()]
    app.leave_session()


def test_c_then_enter_on_an_empty_form_saves_nothing_and_says_why(app: RunningApp) -> None:
    # Given a session dosed at minute 40 after a full baseline, now at T+15
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    form = app.live_view.checkin_form
    before = app.observations()
    # When C then Enter are pressed, nothing typed
    app.key(Qt.Key.Key_C)
    app.key(ENTER)
    # Then nothing is saved; the form says why and keeps the focus in its first field
    assert app.observations() == before
    assert form.problems.isVisible()
    assert form.problems.text() == (
        "Not saved. Nothing was entered; type at least one value to save."
    )
    assert app.ready() is form.fields["systolic_mmhg"]
    # And the baseline's values stay references beside the fields, not entries
    assert [box.text() for box in form.fields.values()] == [""] * len(form.fields)
    assert form.reference_text("systolic_mmhg") == "last 122/78, 15 min ago"
    app.leave_session()


def test_a_second_check_in_right_after_a_first_does_not_save_the_firsts_values(
    app: RunningApp,
) -> None:
    # Given T+15 just saved with a full set
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard(*FULL_SET)
    form = app.live_view.checkin_form
    saved = app.observations()
    app.advance(60)
    # When C then Enter are pressed again at once
    app.key(Qt.Key.Key_C)
    app.key(ENTER)
    # Then no second reading is saved: the first's values are only shown as references
    assert app.observations() == saved
    assert "Nothing was entered" in form.problems.text()
    assert form.reference_text("systolic_mmhg") == "last 138/86, 1 min ago"
    # When only the heart rate is typed there and saved (unscheduled: no slot is open)
    assert app.ready() is form.fields["systolic_mmhg"]
    app.key(TAB)
    app.key(TAB)
    app.type("92")
    app.key(ENTER)
    # Then the new reading holds the heart rate alone; nothing of the first is copied into it
    (second,) = app.observations()[len(saved) :]
    assert second.checkin_key is None and second.not_taken == ()
    assert {k: v for k, v in second.values.items() if v not in (None, "")} == {"heart_rate_bpm": 92}
    app.leave_session()


def test_the_references_show_each_measures_own_last_value_and_age(app: RunningApp) -> None:
    # Given a full baseline at minute 40 and the dose, then at T+15 a reading of HR alone
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("", "", "88")
    form = app.live_view.checkin_form
    # When C is pressed 5 minutes later
    app.advance(5 * 60)
    app.key(Qt.Key.Key_C)
    # Then each reference is its measure's newest value, with its own age
    assert form.reference_text("heart_rate_bpm") == "last 88, 5 min ago"
    assert form.reference_text("systolic_mmhg") == "last 122/78, 20 min ago"
    assert form.references.texts == {
        "systolic_mmhg": "last 122/78, 20 min ago",
        "heart_rate_bpm": "last 88, 5 min ago",
        **{
            key: f"last {text}, 20 min ago"
            for (key, _label, _hint), text in zip(FIELDS[3:], BASELINE_SET[3:], strict=True)
        },
    }
    # And the ages follow the clock while the form is open
    app.advance(60)
    assert form.reference_text("heart_rate_bpm") == "last 88, 6 min ago"
    app.leave_session()


def test_a_partial_check_in_asks_first_and_the_table_says_what_was_not_taken(
    app: RunningApp,
) -> None:
    # Given T+15 (BP, HR, SpO2 and MOAA/S) due
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    form = app.live_view.checkin_form
    before = app.observations()
    # When only the heart rate is typed and Enter pressed, and the question is declined (Esc)
    with app.answering(press_key(Qt.Key.Key_Escape)) as asked:
        app.checkin_by_keyboard("", "", "88", confirm=False)
    # Then it named the participant, the check-in and what was not entered; nothing is saved;
    # the form keeps the heart rate and waits in the first measure left empty
    assert [a.title for a in asked] == ["Partial check-in — Maya Fischer"]
    assert asked[0].text.startswith("T+15 asks for BP, SpO2, MOAA/S, which were not entered.")
    assert app.observations() == before
    assert form.fields["heart_rate_bpm"].text() == "88"
    assert app.ready() is form.fields["systolic_mmhg"]
    # When Enter is pressed again and the question answered with Enter
    with app.answering(confirm_partial):
        app.key(ENTER)
    # Then T+15 is saved with BP, SpO2 and MOAA/S recorded as not taken
    (reading,) = app.observations()[len(before) :]
    assert (reading.checkin_key, reading.not_taken) == ("t15", ("bp", "spo2", "moaas"))
    assert reading.values["heart_rate_bpm"] == 88 and reading.values["systolic_mmhg"] is None
    # And the readings table says so on its row
    app.key(Qt.Key.Key_R)
    last = row_cells(app)[-1]
    assert (last["checkin"], last["hr"], last["bp"]) == ("T+15", "88", "")
    assert last["comment"] == "not taken: BP, SpO2, MOAA/S"
    app.leave_session()


def test_a_recheck_right_after_the_dose_is_unscheduled_and_leaves_t15_due(
    app: RunningApp,
) -> None:
    # Given the dose given two minutes ago (T+15's slot opens at T+10)
    dosed_at_40(app, "Maya Fischer")
    app.advance(2 * 60)
    form = app.live_view.checkin_form
    # When C is pressed
    app.key(Qt.Key.Key_C)
    # Then Unscheduled is offered, and the form says why and when the next slot is
    assert form.checkin.currentData() == UNSCHEDULED
    assert form.checkin.currentText() == "Unscheduled check-in"
    assert form.slot_note.text() == (
        "No check-in is open at this time: the reading is unscheduled and uses up no slot. "
        f"Next: T+15 at {at_minute(55)}."
    )
    # When a blood pressure is typed and saved
    app.type("150")
    app.key(TAB)
    app.type("92")
    app.key(ENTER)
    # Then it is saved without a check-in, with no question asked, and T+15 is still to come
    (recheck,) = [o for o in app.observations() if o.values["systolic_mmhg"] == 150]
    assert (recheck.checkin_key, recheck.not_taken) == (None, ())
    lines = [line.text() for line in app.live_view.checkin_lines if line.isVisible()]
    assert lines[0].startswith("T+15 — in 13 min"), lines
    # And at T+15 the form offers T+15, by its label
    app.advance(13 * 60)
    app.key(Qt.Key.Key_C)
    assert (form.checkin.currentData(), form.checkin.currentText()) == ("t15", "T+15 — due now")
    assert form.slot_note.text() == "T+15 asks for BP, HR, SpO2, MOAA/S."
    app.leave_session()


def choose_slot(app: RunningApp, text: str) -> None:
    """From the first field, Shift+Tab twice to the check-in list, then the arrow keys."""
    form = app.live_view.checkin_form
    assert app.ready() is form.fields["systolic_mmhg"]
    app.key(TAB, Qt.KeyboardModifier.ShiftModifier)
    app.key(TAB, Qt.KeyboardModifier.ShiftModifier)
    assert app.ready() is form.checkin
    wanted = form.checkin.findText(text)
    assert wanted >= 0, [form.checkin.itemText(i) for i in range(form.checkin.count())]
    while form.checkin.currentIndex() != wanted:
        app.key(Qt.Key.Key_Down if form.checkin.currentIndex() < wanted else Qt.Key.Key_Up)
    app.key(TAB)
    app.key(TAB)
    assert app.ready() is form.fields["systolic_mmhg"]


def test_the_nurse_chooses_another_check_in_or_unscheduled_by_keyboard(app: RunningApp) -> None:
    # Given the dose given 8 minutes ago: no slot is open, T+15 opens at T+10
    dosed_at_40(app, "Maya Fischer")
    app.advance(8 * 60)
    form = app.live_view.checkin_form
    # When C, then T+15 chosen in the list by keyboard, and a full T+15 typed
    app.key(Qt.Key.Key_C)
    choose_slot(app, f"T+15 — at {at_minute(55)}, open from {at_minute(50)}")
    # Then the choice stands while the clock moves, and the form says it is outside the slot
    app.advance(1)
    assert form.checkin.currentData() == "t15"
    assert form.slot_note.text().endswith(
        "Its slot is not open at this time; the reading is recorded as T+15 all the same."
    )
    for index, text in enumerate(("132", "84", "80", "97", "", "", "4")):
        if index:
            app.key(TAB)
        app.type(text)
    app.key(ENTER)
    # Then it is recorded as T+15, complete: no question
    (t15,) = [o for o in app.observations() if o.checkin_key == "t15"]
    assert t15.values["systolic_mmhg"] == 132 and t15.not_taken == ()
    # When at T+30, with T+30's slot open, Unscheduled is chosen instead and a BP saved
    app.advance(22 * 60)
    app.key(Qt.Key.Key_C)
    assert form.checkin.currentData() == "t30"
    choose_slot(app, "Unscheduled check-in")
    app.type("151")
    app.key(TAB)
    app.type("91")
    app.key(ENTER)
    # Then that reading uses no slot (and no question was asked), and T+30 is still due
    assert (app.observations()[-1].checkin_key, app.observations()[-1].not_taken) == (None, ())
    assert app.observations()[-1].values["systolic_mmhg"] == 151
    lines = [line.text() for line in app.live_view.checkin_lines if line.isVisible()]
    assert lines[0] == "T+30 — due now", lines
    app.leave_session()


def test_a_late_entry_counts_for_the_slot_open_when_it_was_taken(app: RunningApp) -> None:
    # Given T+27: T+15's slot closed at T+25, T+30's is open
    dosed_at_40(app, "Maya Fischer")
    app.advance(27 * 60)
    form = app.live_view.checkin_form
    app.key(Qt.Key.Key_C)
    assert form.checkin.currentData() == "t30"
    # When a full T+15 taken at T+16 is written up now, "taken at" set to then
    app.checkin_by_keyboard("132", "84", "80", "97", "", "", "4", taken_at=at_minute(56))
    # Then it counts for T+15, taken at T+16 and written now; T+30 is still to do
    (late,) = [o for o in app.observations() if o.values["systolic_mmhg"] == 132]
    assert late.checkin_key == "t15"
    assert late.occurred_at == START + timedelta(minutes=56)
    assert late.recorded_at == app.clock.now()
    assert form.checkin.currentData() == "t30"
    app.leave_session()


MARKED = f"border: 2px solid {theme.OVERDUE};"


@pytest.mark.parametrize(
    ("typed", "field", "message", "fix"),
    [
        (
            ("400", "80"),
            "systolic_mmhg",
            "Systolic blood pressure 400 mmHg is outside 40–300 mmHg",
            "140",
        ),
        (
            ("122", "78", "72", "120"),
            "spo2_pct",
            "SpO2 120 % is outside 50–100 %",
            "99",
        ),
        (
            ("122", "78", "low"),  # letters that are no key of the screen (A, C, D … act)
            "heart_rate_bpm",
            "Heart rate must be a whole number, not 'low'",
            "70",
        ),
        (
            ("120", "130"),
            "diastolic_mmhg",
            "Diastolic (130) must be lower than systolic (120)",
            "80",
        ),
    ],
    ids=["sbp-400", "spo2-120", "text-in-hr", "diastolic-above-systolic"],
)
def test_an_impossible_value_is_refused_and_named_until_fixed(
    app: RunningApp, typed: tuple[str, ...], field: str, message: str, fix: str
) -> None:
    # Given the baseline check-in due, 10 minutes into a session
    app.start_session("Maya Fischer")
    app.advance(10 * 60)
    form = app.live_view.checkin_form
    # When a reading with an impossible value is typed and Enter pressed
    app.checkin_by_keyboard(*typed)
    # Then nothing is stored; the banner names the field and what is accepted; the field is
    # marked and has the focus with its text selected, ready to be typed over
    assert app.observations() == []
    assert form.problems.isVisible()
    assert form.problems.text().startswith("Not saved. ")
    assert message in form.problems.text()
    box = form.fields[field]
    assert MARKED in box.styleSheet()
    assert [k for k, b in form.fields.items() if MARKED in b.styleSheet()] == [field]
    assert app.ready() is box and box.selectedText() == box.text()
    assert app.live_view.failure.isVisible() and message in app.live_view.failure.text()
    # When the value is typed over and Enter pressed (and the rest confirmed as not taken)
    app.type(fix)
    with app.answering(confirm_partial):
        app.key(ENTER)
    # Then the reading is saved once, the banner and the mark are gone
    (reading,) = app.observations()
    assert reading.values[field] == int(fix)
    assert reading.checkin_key == "baseline"
    assert not form.problems.isVisible()
    assert not any(MARKED in b.styleSheet() for b in form.fields.values())
    assert not app.live_view.failure.isVisible()
    app.leave_session()


def open_alert_text(app: RunningApp) -> str:
    banner = app.live_view.alerts
    return banner.text.text() if banner.isVisible() else ""


def test_an_alert_stays_until_a_staff_member_acknowledges_it(app: RunningApp) -> None:
    # Given a session whose monitoring clinician is the nurse on the staff list
    nurse = app.add_staff("Ruth Okafor")
    app.start_session("Maya Fischer")
    view = app.live_view
    app.advance(10 * 60)
    # When a baseline over the threshold (SBP 184) is saved
    app.checkin_by_keyboard("184", "96", "80", "97")
    # Then it is stored, and the alert shows and stays across ticks
    (reading,) = app.observations()
    (alert,) = app.alerts()
    assert (alert.observation_id, alert.field, alert.value) == (reading.id, "systolic_mmhg", 184)
    assert alert.is_open
    for _ in range(3):
        app.advance(60)
        assert "ALERT — needs acknowledging" in open_alert_text(app)
        assert "Systolic BP 184 mmHg" in open_alert_text(app)
    # When A is pressed, then 3 (prescriber informed) and Enter in the dialog ("rechecked"
    # takes the recheck's values: tests/ui/test_ui_alert_followup.py)
    app.advance(30)
    with app.answering(lambda _dialog: (key(Qt.Key.Key_3), key(ENTER))):
        app.key(Qt.Key.Key_A)
    # Then the acknowledgement is stored with who and when, and the banner goes
    (acknowledged,) = app.alerts()
    assert acknowledged.acknowledged_by_id == nurse.id
    assert acknowledged.acknowledged_at == app.clock.now()
    assert not view.alerts.isVisible()
    app.advance(60)
    assert not view.alerts.isVisible()
    app.leave_session()


def test_a_late_entry_keeps_the_time_it_describes_and_the_time_it_was_written(
    app: RunningApp,
) -> None:
    # Given a session 30 minutes in (local time at_minute(30))
    app.start_session("Maya Fischer")
    app.advance(30 * 60)
    # When the baseline taken at minute 12 is typed now, with "taken at" set to then
    app.checkin_by_keyboard("124", "80", taken_at=at_minute(12))
    # Then it is stored at minute 12 and written now, and the table shows both times
    (reading,) = app.observations()
    assert reading.occurred_at == START + timedelta(minutes=12)
    assert reading.recorded_at == app.clock.now()
    app.key(Qt.Key.Key_R)
    assert row_cells(app)[0]["time"] == f"{at_minute(12)} (entered {at_minute(30)}, late)"
    app.leave_session()


@pytest.mark.parametrize(
    ("taken_at", "message"),
    [
        (at_minute(45), f"{at_minute(45)} is later than now ({at_minute(30)})"),
        ("25:10", "25:10 is not a time of day; write HH:MM"),
        ("wow", "Write the time as HH:MM, e.g. 14:35, not 'wow'"),  # no key of the screen
    ],
    ids=["future", "no-such-time", "words"],
)
def test_a_taken_at_time_that_is_not_past_is_refused(
    app: RunningApp, taken_at: str, message: str
) -> None:
    # Given a session 30 minutes in
    app.start_session("Maya Fischer")
    app.advance(30 * 60)
    form = app.live_view.checkin_form
    # When a reading is typed with "taken at" in the future (or not a time)
    app.checkin_by_keyboard("124", "80", taken_at=taken_at)
    # Then nothing is stored; the banner says why and what to write; the time box is marked
    assert app.observations() == []
    assert form.problems.isVisible()
    assert message in form.problems.text()
    assert MARKED in form.taken_at.styleSheet()
    assert app.ready() is form.taken_at
    # When the box is emptied (blank = now) and Enter pressed, the reading is saved now
    assert form.taken_at.selectedText() == taken_at
    app.key(Qt.Key.Key_Backspace)
    with app.answering(confirm_partial):
        app.key(ENTER)
    (reading,) = app.observations()
    assert reading.occurred_at == app.clock.now()
    assert MARKED not in form.taken_at.styleSheet()
    app.leave_session()


HOLD_REASON = "Repeat BP by hand 150/92 after rest; prescriber Dr. Ng agrees"


def dose_with_override(reason: str, shown: str) -> ModalHandler:
    """The dose form for a first dose the hold-dose rule blocks: check what it shows, type
    the dose, Enter (refused: no reason), then the reason and Enter."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog)
        assert dialog.hold_block.isVisible() and shown in dialog.hold_block.text()
        assert dialog.override_reason_edit.isVisible()
        assert dialog.save_button.text() == "Save dose with override"
        assert focus_widget() is dialog.dose
        assert dialog.given_by.currentText() == "Ruth Okafor, RN"  # the one working
        type_text("200")
        key(ENTER)
        assert dialog.isVisible(), "a blocked dose was accepted without a reason"
        assert "Override reason: write why" in dialog.problem.text()
        assert focus_widget() is dialog.override_reason_edit
        type_text(reason)
        key(ENTER)

    return handler


@pytest.mark.parametrize(
    ("baseline", "shown"),
    [
        (None, "No baseline blood pressure yet"),
        (("172", "104"), "Hold the dose: baseline blood pressure 172/104"),
    ],
    ids=["no-baseline", "over-the-block-limit"],
)
def test_a_blocked_first_dose_needs_a_reason_which_is_recorded(
    app: RunningApp, baseline: tuple[str, str] | None, shown: str
) -> None:
    # Given a nurse working, 40 minutes in, with no baseline or one above 160/100
    nurse = app.add_staff("Ruth Okafor")
    app.start_session("Maya Fischer", monitor_id=nurse.id)
    app.advance(40 * 60)
    if baseline is not None:
        app.checkin_by_keyboard(*baseline)
    # When D opens the dose form (the block shows at once) and the dose is saved with a reason
    with app.answering(dose_with_override(HOLD_REASON, shown)) as seen:
        app.key(Qt.Key.Key_D)
    # Then the form opened once; the dose and the override are stored together
    assert [a.title for a in seen] == ["Initial dose — Maya Fischer"]
    (dose,) = app.doses()
    assert (dose.kind, dose.dose_mg, dose.occurred_at) == ("initial", 200.0, app.clock.now())
    assert dose.given_by_id == nurse.id
    (override,) = app.events("hold_dose_override")
    assert override.detail["reason"] == HOLD_REASON
    assert override.detail["staff"] == "Ruth Okafor"
    assert override.occurred_at == dose.occurred_at
    assert app.live_view.since_dose.text() == "T+0:00:00"
    app.leave_session()


def test_a_cautioned_first_dose_shows_the_caution_and_saves_it_with_the_dose(
    app: RunningApp,
) -> None:
    # Given a baseline of 150/95: above 140/90, below the block limit
    app.start_session("Maya Fischer")
    app.advance(40 * 60)
    app.checkin_by_keyboard("150", "95")
    shown: list[str] = []

    def read_the_caution(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog)
        assert dialog.hold_info.isVisible()
        shown.append(dialog.hold_info.text())
        assert not dialog.hold_block.isVisible()
        assert not dialog.override_reason_edit.isVisible()

    # When D opens the form, the caution is read, the dose typed and Enter pressed once
    with app.answering(fill_dose("200", before_enter=lambda: read_the_caution(active_modal()))):
        app.key(Qt.Key.Key_D)
    # Then the caution was on the form, and it is stored with the dose
    assert shown and shown[0].startswith("Caution: baseline blood pressure 150/95")
    (dose,) = app.doses()
    (caution,) = app.events("hold_dose_caution")
    assert caution.detail["level"] == "caution"
    assert (caution.detail["systolic_mmhg"], caution.detail["diastolic_mmhg"]) == (150, 95)
    assert caution.occurred_at == dose.occurred_at
    assert app.events("hold_dose_override") == []
    app.leave_session()


def test_esketamine_devices_are_recorded_one_by_one(app: RunningApp) -> None:
    # Given an esketamine session with a baseline, 30 minutes in
    app.start_session("Maya Fischer", protocol_key="intranasal-esketamine")
    app.advance(30 * 60)
    app.checkin_by_keyboard("128", "80")
    view = app.live_view
    assert not view.device_button.isVisible()

    def choose_56_mg(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog)
        preset = dialog.presets[0]
        assert preset.text() == "56 mg"
        key(TAB)
        assert focus_widget() is preset
        key(Qt.Key.Key_Space)
        assert focus_widget() is dialog.dose and dialog.dose.text() == "56"
        assert dialog.preview.text() == "56 mg  ·  2 devices of 28 mg"
        key(ENTER)

    # When D, Tab to the 56 mg preset, Space, Enter
    with app.answering(choose_56_mg):
        app.key(Qt.Key.Key_D)
    # Then the dose of 2 devices is stored; the first device is the dose itself
    (dose,) = app.doses()
    assert (dose.medication, dose.dose_mg, dose.device_count) == ("esketamine", 56.0, 2)
    assert view.device_button.isVisible()
    # When 5 minutes later V records the second device
    app.advance(5 * 60)
    app.key(Qt.Key.Key_V)
    # Then it is stored, and the V button goes at once: every device is given
    (device,) = app.events("device_given")
    assert (device.label, device.occurred_at) == ("Device 2 of 2", app.clock.now())
    assert not view.device_button.isVisible()
    app.advance(1)
    assert not view.device_button.isVisible()
    # And another V records nothing and complains about nothing
    app.key(Qt.Key.Key_V)
    assert len(app.events("device_given")) == 1
    assert not view.failure.isVisible()
    app.leave_session()


DISCHARGE_REASON = "Escort is the spouse, waiting in the lobby; told about driving; Dr. Ng agrees"


def board_rows(app: RunningApp) -> list[tuple[str, ...]]:
    """The nurse board, top to bottom: (participant, T+, phase, next check-in)."""
    table = app.live_view.board
    return [tuple(table.item(r, c).text() for c in range(4)) for r in range(table.rowCount())]


def couple_dosed_at_40(app: RunningApp) -> None:
    """Maya and Jonas, each with a keyboard baseline and a dose at minute 40."""
    app.start_session("Maya Fischer", "Jonas Weber", modality="couples")
    view = app.live_view
    app.advance(40 * 60)
    for name in ("Maya Fischer", "Jonas Weber"):
        app.choose(view.participant, name)
        app.checkin_by_keyboard(*BASELINE_SET)
        with app.answering(fill_dose("200")):
            app.key(Qt.Key.Key_D)


def discharge_without_the_driving_talk(reason: str, confirmed: list[Answered]) -> ModalHandler:
    """Score 2, 2, 2 and tick every item but the last; check Discharge is off; Enter is
    refused; write the override reason; Enter."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, DischargeDialog)
        assert focus_widget() is dialog.activity
        for index, digit in enumerate("222"):
            if index:
                key(TAB)
            type_text(digit)
        key(TAB)
        assert focus_widget() is dialog.room_air
        for box in list(dialog.checklist.values())[:-1]:
            key(TAB)
            assert focus_widget() is box
            key(Qt.Key.Key_Space)
        assert dialog.status.text() == "Not ready yet — 1 item"
        assert "Not answered yet: Told: no driving until the next day" in dialog.failing.text()
        assert not dialog.discharge_button.isEnabled()
        key(ENTER)
        assert dialog.isVisible(), "a failing check was discharged without a reason"
        assert focus_widget() is dialog.override_reason_edit
        type_text(reason)
        assert dialog.discharge_button.isEnabled()
        assert dialog.discharge_button.text() == "Discharge with override"
        answer_nested(press_key(ENTER), confirmed)  # "Record discharge at … for …?"
        key(ENTER)

    return handler


def test_discharge_with_an_override_shows_on_the_board(app: RunningApp) -> None:
    # Given a couples session dosed at minute 40, monitored by a nurse, 130 minutes later
    nurse = app.add_staff("Ruth Okafor")
    couple_dosed_at_40(app)
    view = app.live_view
    app.choose(view.participant, "Maya Fischer")
    maya, jonas = app.session().participants
    app.advance(130 * 60)
    # When Ctrl+D opens Maya's discharge check, one item fails, and an override is written
    confirmed: list[Answered] = []
    with app.answering(discharge_without_the_driving_talk(DISCHARGE_REASON, confirmed)) as seen:
        app.key(Qt.Key.Key_D, CTRL)
    # Then Maya is discharged now (asked once more, Enter), with the reason and who decided;
    # Jonas is not
    assert [a.title for a in seen] == ["Discharge — Maya Fischer"]
    assert [a.title for a in confirmed] == ["Record discharge — Maya Fischer"]
    session_id = app.session().id
    assert app.context.service.checkins.discharged(session_id) == {maya.id: app.clock.now()}
    (assessment,) = app.context.service.checkins.discharges.assessments(session_id)
    assert (assessment.ready, assessment.aldrete_total) == (False, 10)
    assert assessment.override_reason == DISCHARGE_REASON
    assert (assessment.override_by, assessment.recorded_by_id) == ("Ruth Okafor", nurse.id)
    # And the board lists her last as discharged at that minute; Ctrl+D is off for her
    rows = board_rows(app)
    assert rows[-1][0] == "Maya Fischer"
    assert rows[-1][3] == f"discharged {local_time(app.clock.now())}"
    assert rows[0][0] == "Jonas Weber" and "discharged" not in rows[0][3]
    assert not view.discharge_button.isEnabled()
    app.key(Qt.Key.Key_D, CTRL)  # nothing opens (the guard would report a dialog)
    assert jonas.id not in app.context.service.checkins.discharged(session_id)
    app.leave_session()


def test_choosing_another_participant_starts_the_form_from_their_own_reading(
    app: RunningApp,
) -> None:
    # Given a couples session where Maya's full baseline was just saved by keyboard
    app.start_session("Maya Fischer", "Jonas Weber", modality="couples")
    view, form = app.live_view, app.live_view.checkin_form
    maya, jonas = app.session().participants
    app.advance(10 * 60)
    app.checkin_by_keyboard(*BASELINE_SET)
    assert form.reference_text("heart_rate_bpm") == "last 72, just now"  # hers, as a reference
    # When Jonas is chosen in the participant list
    app.choose(view.participant, "Jonas Weber")
    # Then the form holds nothing of Maya's, not even as a reference, and is on his baseline
    assert [box.text() for box in form.fields.values()] == [""] * len(form.fields)
    assert form.references.texts == {}
    assert form.checkin.currentData() == "baseline"
    # When only his blood pressure is typed (no C) and Enter pressed, and the question that
    # names him is answered
    app.tab_to(form.fields["systolic_mmhg"])
    app.type("118")
    app.key(TAB)
    app.type("76")
    with app.answering(confirm_partial) as asked:
        app.key(ENTER)
    assert [a.title for a in asked] == ["Partial check-in — Jonas Weber"]
    # Then his reading holds his values and none of hers
    (reading,) = [o for o in app.observations() if o.participant_id == jonas.id]
    assert (reading.values["systolic_mmhg"], reading.values["diastolic_mmhg"]) == (118, 76)
    assert reading.values["heart_rate_bpm"] is None and reading.values["suds"] is None
    assert reading.checkin_key == "baseline"
    # And back on Maya, the references are hers again
    app.choose(view.participant, "Maya Fischer")
    assert form.reference_text("heart_rate_bpm") == "last 72, just now"
    assert maya.id != jonas.id
    app.leave_session()


def test_on_room_air_is_each_participants_own(app: RunningApp) -> None:
    # Given a couples session, and Maya's baseline typed with "on room air" unticked (oxygen)
    app.start_session("Maya Fischer", "Jonas Weber", modality="couples")
    view, form = app.live_view, app.live_view.checkin_form
    maya, jonas = app.session().participants
    app.advance(10 * 60)
    app.key(Qt.Key.Key_C)
    app.tab_to(form.room_air)
    app.key(Qt.Key.Key_Space)
    assert not form.room_air.isChecked()
    app.tab_to(form.fields["systolic_mmhg"])
    for index, text in enumerate(BASELINE_SET):
        if index:
            app.key(TAB)
        app.type(text)
    app.key(ENTER)
    (reading,) = app.observations()
    assert (reading.participant_id, reading.on_room_air) == (maya.id, False)
    # When C is pressed, the board's most urgent is Jonas (his baseline is due): his form
    # starts on room air (nothing recorded for him yet)
    app.key(Qt.Key.Key_C)
    assert view.current_participant() == jonas.id
    assert form.room_air.isChecked()
    # And on Maya, hers starts on oxygen still
    app.choose(view.participant, "Maya Fischer")
    assert not form.room_air.isChecked()
    app.leave_session()


GROUP = ("Maya Fischer", "Jonas Weber", "Lea Braun")


def type_minutes(minutes: str) -> ModalHandler:
    """The stagger question: type the minutes over the suggested value, Enter."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog)
        type_text(minutes)
        assert dialog.intValue() == int(minutes)
        key(ENTER)

    return handler


def chart_minutes(app: RunningApp) -> list[int]:
    """The minutes with a blood pressure bar on the chart, to the minute (its tab shown: a
    chart out of sight is drawn when it comes into view)."""
    view = app.live_view
    view.show_tab(CHART)
    return [round(s.points()[0].x()) for s in view.chart.series_of(BP_BAR)]


def readings_bp(app: RunningApp) -> list[str]:
    """The blood pressures in the readings table, its tab shown."""
    app.live_view.show_tab(READINGS)
    return [row["bp"] for row in row_cells(app)]


def test_a_group_of_three_on_one_clock(app: RunningApp) -> None:
    # Given a group session of three
    record = app.start_session(*GROUP, modality="group")
    ids = {p.client.full_name: p.id for p in record.participants}
    view = app.live_view
    assert view.room_panel.isVisible()
    assert [row[0] for row in board_rows(app)] == list(GROUP)
    # When "Stagger doses…" is pressed by keyboard and 5 minutes typed
    app.tab_to(view.stagger_button)
    with app.answering(type_minutes("5")) as seen:
        app.key(Qt.Key.Key_Space)
    # Then the doses are planned 5 minutes apart from the planned dose time, on the board
    assert [a.kind for a in seen] == ["QInputDialog"]
    planned = {name: at_minute(40 + 5 * index) for index, name in enumerate(GROUP)}
    assert {row[0]: row[1] for row in board_rows(app)} == {
        name: f"no dose yet — planned {when}" for name, when in planned.items()
    }
    (plan,) = app.events("dose_plan")
    assert plan.detail["stagger_min"] == 5
    # When each one's baseline is taken and their dose given at the planned minute,
    # choosing them in the participant list and pressing D
    app.advance(35 * 60)
    for name in GROUP:
        app.choose(view.participant, name)
        app.checkin_by_keyboard(*BASELINE_SET)
    for name in GROUP:
        app.advance(5 * 60)
        app.choose(view.participant, name)
        with app.answering(fill_dose("200")) as seen:
            app.key(Qt.Key.Key_D)
        assert seen[0].title == f"Initial dose — {name}"
    doses = {d.participant_id: d.occurred_at for d in app.doses()}
    assert doses == {
        ids[name]: START + timedelta(minutes=40 + 5 * i) for i, name in enumerate(GROUP)
    }
    # When at minute 62 the first of them has had T+15 (the others have not)
    app.advance(12 * 60)
    app.choose(view.participant, "Maya Fischer")
    app.checkin_by_keyboard("132", "84", "80", "97")
    # Then the board lists the most urgent first: Jonas's T+15 due (at minute 60), Lea's
    # upcoming at minute 65, Maya's next (T+30) upcoming at minute 70
    assert [(row[0], row[3]) for row in board_rows(app)] == [
        ("Jonas Weber", "T+15 — due now"),
        ("Lea Braun", f"T+15 at {at_minute(65)}"),
        ("Maya Fischer", f"T+30 at {at_minute(70)}"),
    ]
    # And at minute 67 Jonas is overdue, Lea due, Maya still upcoming
    app.advance(5 * 60)
    assert [(row[0], row[3]) for row in board_rows(app)] == [
        ("Jonas Weber", "T+15 — overdue"),
        ("Lea Braun", "T+15 — due now"),
        ("Maya Fischer", f"T+30 at {at_minute(70)}"),
    ]
    # And on a 1366x768 laptop every participant's row and the action buttons are in view
    app.window.resize(1366, 768)
    app.advance(1)
    assert view.board.verticalScrollBar().maximum() == 0
    window = app.window.rect()
    for button in (view.dose_button, view.end_button):
        corner = button.mapTo(app.window, button.rect().bottomRight())
        assert window.contains(corner), f"{button.text()!r} is off the window"
    # And C scrolls the screen (a little taller than the window now) to bring the whole form
    # into view
    app.key(Qt.Key.Key_C)
    systolic = view.checkin_form.fields["systolic_mmhg"]
    assert app.ready() is systolic
    form = view.checkin_form
    assert form.visibleRegion().boundingRect() == form.rect(), "part of the form is hidden"
    # When Jonas's reading is entered with him chosen
    app.choose(view.participant, "Jonas Weber")
    app.checkin_by_keyboard("141", "91", "84", "96")
    (jonas_reading,) = [o for o in app.observations() if o.values["systolic_mmhg"] == 141]
    assert (jonas_reading.participant_id, jonas_reading.checkin_key) == (ids["Jonas Weber"], "t15")
    # Then it is in his readings and on his chart, and in nobody else's
    app.key(Qt.Key.Key_R)
    assert [row["bp"] for row in row_cells(app)] == ["122/78", "141/91"]
    assert chart_minutes(app) == [35, 67]
    for other, bps, minutes in (
        ("Maya Fischer", ["122/78", "132/84"], [35, 62]),
        ("Lea Braun", ["122/78"], [35]),
    ):
        app.choose(view.participant, other)
        assert readings_bp(app) == bps
        assert chart_minutes(app) == minutes
    app.leave_session()


def test_a_reading_saved_elsewhere_becomes_the_reference_and_leaves_what_is_typed(
    app: RunningApp,
) -> None:
    # Given the nurse typing a systolic value in the form at T+10
    dosed_at_40(app, "Maya Fischer")
    app.advance(10 * 60)
    form = app.live_view.checkin_form
    app.key(Qt.Key.Key_C)
    app.type("14")
    assert form.reference_text("systolic_mmhg") == "last 122/78, 10 min ago"
    # When a reading is saved another way meanwhile (as a recheck typed in an acknowledgement is)
    live = app.controller.live
    assert live is not None
    (maya,) = live.participants
    values = {"systolic_mmhg": "150", "diastolic_mmhg": "92", "heart_rate_bpm": "80"}
    assert live.save_checkin(maya.id, values, ask_before_partial=False)
    # Then the form's references are that reading's, and what was typed is still there
    assert form.reference_text("systolic_mmhg") == "last 150/92, just now"
    assert form.reference_text("heart_rate_bpm") == "last 80, just now"
    assert form.fields["systolic_mmhg"].text() == "14"
    app.key(Qt.Key.Key_Escape)
    app.leave_session()
