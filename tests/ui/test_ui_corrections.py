"""Corrections from the screen, on the real window by keyboard: Enter on a reading of the
readings table (R) or on an entry of the event list (Notes tab) opens its correction or its
withdrawal, with a required reason; the original stays on the record beside it, the alert a
typo raised says its reading was corrected, the export shows the correction and its reason;
a signed record is refused with how corrections after signing are made; in a couples session a
correction touches only the participant it is for. Each dialog names its participant."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from support.signing import PASSPHRASE, give_passphrase
from ui_harness import RunningApp, fill_dose, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.domain.corrections import EntryState
from kapsession.domain.dose_periods import HoldOutcome
from kapsession.export.text import to_markdown
from kapsession.records.session_log import LogItem
from kapsession.ui.correction_dialogs import (
    DoseCorrectionDialog,
    OrderCorrectionDialog,
    ReadingCorrectionDialog,
    TimeCorrectionDialog,
    WithdrawDialog,
)
from kapsession.ui.corrections_controller import REASON_MISSING
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.event_list import ITEM_ROLE
from kapsession.ui.formatting import local_time

ENTER, TAB, ESC = Qt.Key.Key_Return, Qt.Key.Key_Tab, Qt.Key.Key_Escape
NURSE = "Ruth Okafor"
PIN = "246813"
LAPTOP_HEIGHT_PX = 720 - 40  # the smallest screen, less a title bar


def dosed_at_40(app: RunningApp, *names: str, modality: str = "individual") -> None:
    """A session 40 minutes in, the nurse its monitoring clinician: a keyboard baseline, then
    D and 200 mg."""
    app.add_staff(NURSE)
    app.start_session(*names, modality=modality)
    app.advance(40 * 60)
    app.checkin_by_keyboard("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)


def live_of(app: RunningApp):  # type: ignore[no-untyped-def]
    live = app.controller.live
    assert live is not None
    return live


def reading_row(app: RunningApp, observation_id: uuid.UUID) -> None:
    """R, then the arrow keys until the reading's row is the current one."""
    app.key(Qt.Key.Key_R)
    table = app.live_view.readings
    assert app.ready() is table
    model = table.readings_model()
    for _ in range(2 * model.rowCount() + 2):
        if table.selected_observation() == observation_id:
            return
        current = table.currentIndex().row()
        rows = [model.observation_id(r) for r in range(model.rowCount())]
        wanted = rows.index(observation_id)
        app.key(Qt.Key.Key_Down if current < wanted else Qt.Key.Key_Up)
    raise AssertionError("the reading's row was never reached by the arrow keys")


def event_row(app: RunningApp, matches: Callable[[LogItem], bool]) -> LogItem:
    """The Notes tab (N, Esc out of the note box), Tab to the event list, End (the newest),
    then Up until the row wanted is the current one."""
    app.key(Qt.Key.Key_N)
    app.key(ESC)
    events = app.live_view.events
    view = events.list_view()
    app.tab_to(view)
    app.key(Qt.Key.Key_End)
    for _ in range(events.event_model().rowCount() + 1):
        item = view.currentIndex().data(ITEM_ROLE)
        if isinstance(item, LogItem) and matches(item):
            return item
        app.key(Qt.Key.Key_Up)
    raise AssertionError("no row of the event list matched")


def correct_reading(
    field: str, value: str, reason: str, *, enter_first: bool = False, seen: list[str] | None = None
) -> Callable[[QWidget], None]:
    """An answer to the reading's correction: Tab from the choice to the field, type the value,
    Tab to the reason and type it, Enter. `enter_first`: Enter before the reason (refused; what
    the dialog said goes into `seen`)."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, ReadingCorrectionDialog)
        assert dialog.height() <= LAPTOP_HEIGHT_PX and dialog.buttons.isVisible()
        assert focus_widget() is dialog.choice
        tab_in_dialog_to(dialog.fields[field])
        type_text(value)  # the box's own value is selected on arrival: typing replaces it
        if enter_first:
            key(ENTER)
            assert dialog.isVisible() and dialog.problem.isVisible()
            assert seen is not None
            seen.append(dialog.problem.text())
            assert focus_widget() is dialog.reason  # the keys go where the reason is missing
        tab_in_dialog_to(dialog.reason)
        type_text(reason)
        key(ENTER)

    return handler


def withdraw(reason: str) -> Callable[[QWidget], None]:
    """An answer to a withdrawal: the reason (the keys start there), Enter."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, WithdrawDialog)
        assert focus_widget() is dialog.reason
        type_text(reason)
        key(ENTER)

    return handler


def test_a_mistyped_bp_is_corrected_from_the_readings_table(app: RunningApp) -> None:
    # Given T+15 saved by keyboard with 214 typed for 124: an alert was raised
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("214", "80", "72", "98")
    live = live_of(app)
    typo = app.observations()[-1]
    (alert,) = [a for a in app.alerts() if a.observation_id == typo.id]
    # And a later reading (the correction is of the typo's own measurement, never this one)
    app.advance(60)
    app.checkin_by_keyboard("130", "84", "76", "97")
    # When R, the reading's row, Enter: 124 in systolic, the reason, Enter
    reading_row(app, typo.id)
    with app.answering(correct_reading("systolic_mmhg", "124", "124 typed as 214")) as seen:
        app.key(ENTER)
    # Then the dialog named the participant
    assert [a.title for a in seen] == ["Correct reading — Maya Fischer"]
    # And the corrected reading stands in its place, recorded by her monitoring clinician,
    # with the other values as they were (the same measurement, corrected)
    (standing,) = [o for o in app.observations() if o.corrects_id == typo.id]
    assert standing.correction_reason == "124 typed as 214"
    assert (standing.values["systolic_mmhg"], standing.values["diastolic_mmhg"]) == (124, 80)
    assert standing.values["heart_rate_bpm"] == 72
    assert standing.occurred_at == typo.occurred_at
    assert standing.recorded_by_id == live.nurse_author(standing.participant_id)
    assert typo.id not in {o.id for o in live.observations}
    # And the alert the typo raised says its reading was corrected, in the database and on screen
    assert [a.reading_corrected for a in app.alerts() if a.id == alert.id] == [True]
    assert [a.reading_corrected for a in live.all_alerts if a.id == alert.id] == [True]
    # And the table shows both: the original struck through with the reason, and the correction
    model = app.live_view.readings.readings_model()
    kinds = {model.observation_id(r): model.row_kind(r) for r in range(model.rowCount())}
    assert kinds[typo.id] is EntryState.AMENDED
    assert kinds[standing.id] is EntryState.STANDING
    # And the Markdown export shows the correction with its reason
    markdown = to_markdown(app.context.exports.content(live.record.id))
    assert "124 typed as 214" in markdown
    assert "214/80" in markdown and "124/80" in markdown
    app.leave_session()


def test_a_correction_without_a_reason_or_with_a_bad_value_stores_nothing(
    app: RunningApp,
) -> None:
    # Given a reading at T+15
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("214", "80", "72", "98")
    reading = app.observations()[-1]
    history = app.context.service.checkins.observation_history(reading.session_id)

    # When its correction is entered with no reason: Enter, then Esc
    said: list[str] = []

    def no_reason(dialog: QWidget) -> None:
        assert isinstance(dialog, ReadingCorrectionDialog)
        tab_in_dialog_to(dialog.fields["systolic_mmhg"])
        type_text("124")
        key(ENTER)
        said.append(dialog.problem.text())
        assert dialog.isVisible() and focus_widget() is dialog.reason
        key(ESC)

    reading_row(app, reading.id)
    with app.answering(no_reason):
        app.key(ENTER)
    # Then the dialog said a reason is needed
    assert said == [REASON_MISSING]

    # When a value the check-in form refuses is typed, with a reason
    def bad_value(dialog: QWidget) -> None:
        assert isinstance(dialog, ReadingCorrectionDialog)
        tab_in_dialog_to(dialog.fields["heart_rate_bpm"])
        type_text("7x")
        tab_in_dialog_to(dialog.reason)
        type_text("pulse misread")
        key(ENTER)
        said.append(dialog.problem.text())
        assert dialog.isVisible() and focus_widget() is dialog.fields["heart_rate_bpm"]
        key(ESC)

    reading_row(app, reading.id)
    with app.answering(bad_value):
        app.key(ENTER)
    # Then the form's own message named the heart rate
    assert "Heart rate" in said[-1]
    # And nothing was stored
    after = app.context.service.checkins.observation_history(reading.session_id)
    assert [o.id for o in after] == [o.id for o in history]
    app.leave_session()


def test_a_marker_is_withdrawn_from_the_event_list(app: RunningApp) -> None:
    # Given a marker saved with M
    dosed_at_40(app, "Maya Fischer")
    app.advance(60)
    app.key(Qt.Key.Key_M)
    app.type("Wrong client's marker")
    app.key(ENTER)
    (marker,) = app.events("marker")
    # When its row of the event list has Enter, a reason typed, Enter
    event_row(app, lambda item: item.entry_id == marker.id)
    with app.answering(withdraw("typed for the wrong client")) as seen:
        app.key(ENTER)
    # Then the dialog named the participant, and the marker is withdrawn with the reason,
    # credited to who writes markers (the therapist)
    assert [a.title for a in seen] == ["Withdraw marker — Maya Fischer"]
    live = live_of(app)
    assert app.markers() == []
    history = app.context.service.entries.events(live.record.id, include_history=True)
    (withdrawal,) = [e for e in history if e.corrects_id == marker.id]
    assert withdrawal.voids and withdrawal.correction_reason == "typed for the wrong client"
    assert withdrawal.recorded_by_id == live.acting_staff_id
    # And the event list shows it withdrawn, with the reason
    (shown,) = [i for i in app.live_view.events.shown_items() if i.entry_id == marker.id]
    assert (shown.state, shown.reason) == (EntryState.WITHDRAWN, "typed for the wrong client")
    app.leave_session()


def test_a_dose_amount_outside_the_order_is_corrected_with_the_prescribers_override(
    app: RunningApp,
) -> None:
    # Given a dose of 200 mg, as ordered; the prescriber with a PIN
    dosed_at_40(app, "Maya Fischer")
    (dose,) = app.doses()
    jun = prescriber_with_pin(app)
    app.advance(60)
    asked: list[str] = []

    # When its row of the event list has Enter: 150 mg (not the order's 200), the reason,
    # Enter; the prescriber's PIN and reason, Enter
    def amount(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseCorrectionDialog)
        assert dialog.amount.text() == "200 mg"  # the dose as recorded
        tab_in_dialog_to(dialog.amount)
        type_text("150")
        tab_in_dialog_to(dialog.reason)
        type_text("150 mg given, 200 typed")
        key(ENTER)
        asked.append(dialog.order_block.text())
        assert dialog.isVisible() and focus_widget() is dialog.prescriber
        assert app.doses() == [dose]  # nothing saved yet
        tab_in_dialog_to(dialog.prescriber_pin)
        type_text("135792")  # a wrong PIN first: refused, nothing saved
        tab_in_dialog_to(dialog.order_reason)
        type_text("Only 150 mg drawn up")
        key(ENTER)
        asked.append(dialog.problem.text())
        assert focus_widget() is dialog.prescriber_pin and dialog.prescriber_pin.text() == ""
        assert app.doses() == [dose]
        type_text(PIN)
        key(ENTER)

    event_row(app, lambda item: item.entry_id == dose.id)
    with app.answering(amount) as seen:
        app.key(ENTER)
    # Then the correction said why it needs the prescriber
    assert [a.title for a in seen] == ["Correct dose — Maya Fischer"]
    assert "The order is 200 mg; this dose is 150 mg." in asked[0]
    assert asked[1] == "That PIN is not right. The correction was not saved."
    # And the dose stands corrected, at its own time, by her monitoring clinician
    live = live_of(app)
    (corrected,) = app.doses()
    assert (corrected.corrects_id, corrected.dose_mg) == (dose.id, 150.0)
    assert corrected.correction_reason == "150 mg given, 200 typed"
    assert corrected.occurred_at == dose.occurred_at
    assert corrected.recorded_by_id == live.nurse_author(dose.participant_id)
    assert [d.dose_mg for d in live.doses] == [150.0]
    # And with the prescriber's override, as a new dose: in its detail and a deviation event
    override = corrected.detail["order_override"]
    assert (override["by_id"], override["reason"]) == (str(jun.id), "Only 150 mg drawn up")
    (event,) = app.events("dose_override")
    assert event.detail["dose_id"] == str(corrected.id)
    assert [d["rule"] for d in event.detail["deviations"]] == ["order_dose"]
    # And the event list titles it a protocol deviation
    (shown,) = [i for i in app.live_view.events.shown_items() if i.entry_id == event.id]
    assert shown.title.startswith("Protocol deviation: ")
    app.leave_session()


def test_the_time_a_hold_ended_is_corrected_from_the_event_list(app: RunningApp) -> None:
    # Given a sublingual dose whose hold's end (spat out) was recorded at minute 51
    dosed_at_40(app, "Maya Fischer")
    live = live_of(app)
    participant = live.participants[0].id
    app.advance(11 * 60)
    spat = live.record_hold_outcome(participant, HoldOutcome.SPIT)
    assert spat is not None
    app.advance(2 * 60)
    earlier = spat.occurred_at - timedelta(minutes=1)

    # When its row of the event list has Enter: the minute before, the reason, Enter
    def time(dialog: QWidget) -> None:
        assert isinstance(dialog, TimeCorrectionDialog)
        tab_in_dialog_to(dialog.time)
        type_text(local_time(earlier))
        tab_in_dialog_to(dialog.reason)
        type_text("spat out at 14:50, pressed late")
        key(ENTER)

    event_row(app, lambda item: item.entry_id == spat.id)
    with app.answering(time) as seen:
        app.key(ENTER)
    # Then the hold's end stands at the minute before, by her monitoring clinician
    assert [a.title for a in seen] == ["Correct entry — Maya Fischer"]
    (ended,) = app.events("hold_outcome")
    assert (ended.corrects_id, ended.occurred_at) == (spat.id, earlier)
    assert ended.detail["outcome"] == "spit"
    assert ended.recorded_by_id == live.nurse_author(participant)
    app.leave_session()


def test_an_adverse_event_is_withdrawn_from_the_event_list(app: RunningApp) -> None:
    # Given an adverse event recorded for the client
    dosed_at_40(app, "Maya Fischer")
    live = live_of(app)
    participant = live.participants[0].id
    saved = live.record_adverse_event(
        participant,
        kind="emesis",
        severity="mild",
        seriousness="non-serious",
        outcome="ongoing",
        onset_at=live.now(),
    )
    assert saved.saved, saved.problems
    assert saved.record is not None
    event_id = saved.record.id
    app.advance(60)
    # When its row of the event list has Enter, a reason, Enter
    event_row(app, lambda item: item.entry_id == event_id)
    with app.answering(withdraw("entered for the wrong client")) as seen:
        app.key(ENTER)
    # Then it is withdrawn, kept on the record with the reason, by her monitoring clinician
    assert [a.title for a in seen] == ["Withdraw adverse event — Maya Fischer"]
    assert live.adverse_events == []
    rows = app.context.service.adverse.adverse_events(live.record.id)
    (withdrawal,) = [r for r in rows if r.corrects_id == event_id]
    assert withdrawal.voids and withdrawal.correction_reason == "entered for the wrong client"
    assert withdrawal.recorded_by_id == live.nurse_author(participant)
    app.leave_session()


def test_a_signed_record_is_not_corrected_and_says_how(app: RunningApp) -> None:
    # Given a session ended and its monitoring part signed by the nurse
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("124", "80", "72", "98")
    reading = app.observations()[-1]
    app.end_by_keyboard()
    live = live_of(app)
    nurse = next(s for s in app.context.service.staff.active() if s.display_name == NURSE)
    app.context.notes.pins.set_pin(nurse.id, "246813", "246813")
    give_passphrase(app.context.notes, nurse.id, "246813")
    for alert in live.open_alerts:
        assert live.acknowledge_alert(alert.id, "no_action", "within the plan")
    signed = app.context.notes.sign(live.record.id, nurse.id, PASSPHRASE, ["monitoring"], None)
    assert signed.ok, signed.message
    live.reload()
    before = app.context.service.checkins.observation_history(live.record.id)
    # When R, the reading's row, Enter
    reading_row(app, reading.id)
    answer: list[str] = []

    def read_and_close(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        answer.append(box.text())
        key(ENTER)

    with app.answering(read_and_close) as seen:
        app.key(ENTER)
    # Then no correction opens: the message says the part is signed and how to correct it now
    assert [a.title for a in seen] == ["Signed record — Maya Fischer"]
    assert "monitoring part of this session is signed" in answer[0]
    assert "signed addendum" in answer[0]
    after = app.context.service.checkins.observation_history(live.record.id)
    assert [o.id for o in after] == [o.id for o in before]
    app.leave_session()


def test_correcting_the_second_participants_reading_leaves_the_first_untouched(
    app: RunningApp,
) -> None:
    # Given a couples session where both have a reading at minute 20
    app.add_staff(NURSE)
    app.start_session("Maya Fischer", "Jon Berg", modality="couples")
    app.advance(20 * 60)
    live = live_of(app)
    first, second = (p.id for p in live.participants)
    for participant, bp in ((first, ("131", "84")), (second, ("213", "82"))):
        raw = {"systolic_mmhg": bp[0], "diastolic_mmhg": bp[1]}
        saved = live.save_checkin(participant, raw)
        assert saved is not None and saved.saved, saved
    before = {o.id: o for o in app.observations() if o.participant_id == first}
    jon = next(o for o in app.observations() if o.participant_id == second)
    app.advance(60)
    # When Jon is shown, R, his reading's row, Enter: 123, the reason, Enter
    app.choose(app.live_view.participant, "Jon Berg")
    app.key(Qt.Key.Key_Escape)
    reading_row(app, jon.id)
    with app.answering(correct_reading("systolic_mmhg", "123", "123 typed as 213")) as seen:
        app.key(ENTER)
    # Then the dialog named Jon, his reading is corrected
    assert [a.title for a in seen] == ["Correct reading — Jon Berg"]
    history = app.context.service.checkins.observation_history(live.record.id)
    (correction,) = [o for o in history if o.corrects_id is not None]
    assert (correction.participant_id, correction.corrects_id) == (second, jon.id)
    assert (correction.values["systolic_mmhg"], correction.values["diastolic_mmhg"]) == (123, 82)
    # And Maya's readings are exactly as they were, none of them corrected
    assert {o.id: o for o in app.observations() if o.participant_id == first} == before
    assert live.last_reading(first) == before[max(before, key=lambda i: before[i].occurred_at)]
    app.leave_session()


def prescriber_with_pin(app: RunningApp):  # type: ignore[no-untyped-def]
    """The prescriber who gave the session's usual order, with a PIN."""
    member = next(s for s in app.context.service.staff.active() if s.role == "prescriber")
    app.context.notes.pins.set_pin(member.id, PIN, PIN)
    return member


def test_the_order_is_corrected_by_the_prescriber_from_the_event_list(app: RunningApp) -> None:
    # Given a session started with the usual order (200 mg), its prescriber with a PIN
    app.add_staff(NURSE)
    app.start_session("Maya Fischer")
    live = live_of(app)
    pid = live.participants[0].id
    order = live.order_of(pid)
    assert order is not None and order.order.dose_mg == 200
    jun = prescriber_with_pin(app)
    app.advance(60)
    refused: list[str] = []

    # When its row of the event list has Enter: 150 mg, the reason, a wrong PIN, Enter; then
    # the right PIN, Enter
    def correct(dialog: QWidget) -> None:
        assert isinstance(dialog, OrderCorrectionDialog)
        assert dialog.order_fields.dose.text() == "200 mg"  # the order as it stands
        tab_in_dialog_to(dialog.order_fields.dose)
        type_text("150 mg")
        tab_in_dialog_to(dialog.reason)
        type_text("150 mg was ordered")
        tab_in_dialog_to(dialog.prescriber_rows.pin)
        type_text("135792")
        key(ENTER)
        refused.append(dialog.problem.text())
        assert dialog.isVisible() and focus_widget() is dialog.prescriber_rows.pin
        assert dialog.prescriber_rows.pin.text() == ""
        assert live.order_of(pid) == order  # nothing saved on a wrong PIN
        type_text(PIN)
        key(ENTER)

    event_row(app, lambda item: item.entry_id == order.id)
    with app.answering(correct) as seen:
        app.key(ENTER)
    # Then the dialog named the participant; the wrong PIN was refused, saying so
    assert [a.title for a in seen] == ["Correct the order — Maya Fischer"]
    assert refused == ["That PIN is not right. The order was not corrected."]
    # And the corrected order stands, given and recorded by the prescriber
    corrected = live.order_of(pid)
    assert corrected is not None and corrected.corrects_id == order.id
    assert (corrected.order.dose_mg, corrected.ordered_by_id) == (150.0, jun.id)
    assert corrected.recorded_by_id == jun.id
    assert corrected.correction_reason == "150 mg was ordered"
    # And the live screen's order line follows it at once
    assert app.live_view.order_line.toolTip().startswith("Order: 150 mg SL")
    # And the event list shows both versions: the first amended, with the reason
    shown = {i.entry_id: i for i in app.live_view.events.shown_items()}
    assert (shown[order.id].state, shown[order.id].reason) == (
        EntryState.AMENDED,
        "150 mg was ordered",
    )
    assert shown[corrected.id].title.startswith("Prescriber's order: 150 mg SL")
    # And D's form checks against the corrected order
    forms: list[str] = []

    def look(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog)
        forms.append(dialog.order_line.text())
        key(ESC)

    with app.answering(look):
        app.key(Qt.Key.Key_D)
    assert forms and "150 mg SL" in forms[0]
    app.leave_session()
