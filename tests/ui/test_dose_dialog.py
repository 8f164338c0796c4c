"""The dose form by keyboard: the entry it gives, both units shown live, impossible doses
refused with the field named, the hold-dose block asking for a reason, esketamine presets, and
the controller's loop that keeps the form open across a refusal."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from ui_harness import ModalGuard, focus_widget, key, type_text

from kapsession.domain.dose_order import NO_ORDER, Deviation, DoseCheck
from kapsession.domain.dosing import DoseUnit
from kapsession.domain.hold_dose import HoldDoseLevel, check_hold_dose
from kapsession.domain.protocol import Protocol
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.vitals import FieldProblem, Reading
from kapsession.records.people import StaffRecord
from kapsession.services.checkin_results import DoseResult
from kapsession.ui.dose_dialog import DoseDialog, DoseEntry, clock_minute

PROTOCOLS = Path(__file__).parents[2] / "assets" / "protocols"
SUBLINGUAL = load_protocol(PROTOCOLS / "sublingual-kap-3h.toml")
ESKETAMINE = load_protocol(PROTOCOLS / "intranasal-esketamine.toml")
INTRAMUSCULAR = load_protocol(PROTOCOLS / "intramuscular-kap.toml")
NURSE = StaffRecord(uuid.uuid4(), "Ruth Okafor", "nurse", "RN", True)
THERAPIST = StaffRecord(uuid.uuid4(), "Sam Lee", "therapist", "PsyD", True)
PRESCRIBER = StaffRecord(uuid.uuid4(), "Ada Lee", "prescriber", "MD", True)
STAFF = [THERAPIST, NURSE, PRESCRIBER]
ORDER_TEXT = "200 mg SL · booster ≤1 × 100 mg at T+30–45 · max 400 mg — Ada Lee, MD"
TAB, ENTER, SPACE, DOWN = Qt.Key.Key_Tab, Qt.Key.Key_Return, Qt.Key.Key_Space, Qt.Key.Key_Down
OpenDialog = Callable[..., DoseDialog]  # the open_dialog fixture
NO_ORDER_CHECK = Deviation(NO_ORDER, "No order is recorded: the prescriber gives the order.")


@pytest.fixture
def open_dialog(qtbot: QtBot) -> Iterator[OpenDialog]:
    """`open_dialog(protocol, ...)`: the dose form on screen with the focus in the dose field."""
    opened: list[DoseDialog] = []

    def make(
        protocol: Protocol = SUBLINGUAL,
        *,
        first_dose: bool = True,
        now_text: str = "14:40",
        last_weight_kg: float | None = None,
        order_text: str | None = ORDER_TEXT,
    ) -> DoseDialog:
        dialog = DoseDialog(
            "Anna Berg",
            protocol.dosing,
            STAFF,
            NURSE.id,
            first_dose=first_dose,
            now_text=now_text,
            last_weight_kg=last_weight_kg,
            order_text=order_text,
            prescribers=[PRESCRIBER],
        )
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.activateWindow()
        first = dialog.dose if order_text else dialog.record_order_button
        qtbot.waitUntil(lambda: QApplication.focusWidget() is first)
        opened.append(dialog)
        return dialog

    yield make
    for dialog in opened:
        dialog.close()


def tab_to(widget: QWidget) -> None:
    key(TAB)
    assert focus_widget() is widget, f"Tab went to {focus_widget().accessibleName()!r}"


def test_a_dose_typed_tabbed_and_entered_gives_the_entry(
    qtbot: QtBot, open_dialog: OpenDialog
) -> None:
    # Given the first-dose form for sublingual ketamine, opened at 14:40
    dialog = open_dialog()
    assert dialog.given_by.currentData() == NURSE.id  # the acting staff gave it
    # When the nurse types the dose, Tabs through weight, lot and time, and presses Enter
    type_text("100")
    tab_to(dialog.unit)
    tab_to(dialog.weight)
    type_text("70")
    tab_to(dialog.lot)
    type_text("KX-2291")
    tab_to(dialog.given_by)
    tab_to(dialog.given_at)
    type_text("14:32")  # Tab selected the prefilled time, so typing replaces it
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    # Then the entry is what was typed, as a late entry given by the acting nurse
    assert dialog.value() == DoseEntry(
        dose_text="100",
        unit=DoseUnit.MG,
        weight_text="70",
        lot_number="KX-2291",
        given_by=NURSE.id,
        given_at_text="14:32",
        late_entry=True,
    )
    assert dialog.override_reason() is None


def test_enter_straight_after_the_dose_records_it_as_given_now(
    qtbot: QtBot, open_dialog: OpenDialog
) -> None:
    # Given the form prefilled with now (14:40) / When only the dose is typed and Enter pressed
    dialog = open_dialog()
    type_text("150 mg")
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    # Then it is given now: not a late entry, and no time to convert
    entry = dialog.value()
    assert entry is not None
    assert (entry.dose_text, entry.given_at_text, entry.late_entry) == ("150 mg", "14:40", False)
    assert entry.given_at(datetime(2026, 11, 26, 14, 41, tzinfo=UTC)) is None
    assert not dialog.time_note.isVisible()


@pytest.mark.parametrize(
    ("dose", "per_kg", "weight", "preview", "unit"),
    [
        ("100", False, "70", "100 mg = 1.43 mg/kg at 70 kg", DoseUnit.MG),
        ("100", False, "", "100 mg", DoseUnit.MG),
        ("0.5", True, "70", "0.5 mg/kg at 70 kg = 35 mg", DoseUnit.MG_PER_KG),
        ("0,5", True, "73.3", "0.5 mg/kg at 73.3 kg = 36.7 mg", DoseUnit.MG_PER_KG),  # half up
    ],
)
def test_both_units_are_shown_live_and_mg_per_kg_converts(
    qtbot: QtBot,
    open_dialog: OpenDialog,
    dose: str,
    per_kg: bool,
    weight: str,
    preview: str,
    unit: DoseUnit,
) -> None:
    # Given the intramuscular form / When the dose, the unit (Down on the unit box) and the
    # weight are typed
    dialog = open_dialog(INTRAMUSCULAR)
    type_text(dose)
    tab_to(dialog.unit)
    if per_kg:
        key(DOWN)
    tab_to(dialog.weight)
    type_text(weight)
    # Then both units show as the nurse types, and Enter gives the chosen unit
    assert dialog.preview.text() == preview
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    entry = dialog.value()
    assert entry is not None and (entry.unit, entry.weight_text) == (unit, weight)


def test_the_last_recorded_weight_is_prefilled(open_dialog: OpenDialog) -> None:
    # Given a client weighed at 72.5 kg last time / When 100 mg is typed
    dialog = open_dialog(last_weight_kg=72.5)
    type_text("100")
    # Then the weight is there and the dose shows in mg/kg too
    assert dialog.weight.text() == "72.5"
    assert dialog.preview.text() == "100 mg = 1.38 mg/kg at 72.5 kg"


@pytest.mark.parametrize(
    ("protocol", "dose", "per_kg", "weight", "message", "field"),
    [
        (SUBLINGUAL, "5000", False, "", "Dose 5000 mg is outside 1–1000 mg", "dose"),
        (SUBLINGUAL, "0.5", False, "", "Did you mean 0.5 mg/kg?", "dose"),
        (SUBLINGUAL, "lots", False, "", "Dose must be a number of mg or mg/kg", "dose"),
        (SUBLINGUAL, "", False, "", "Enter the dose", "dose"),
        (INTRAMUSCULAR, "0.5", True, "", "needs the client's weight in kg", "weight"),
        (INTRAMUSCULAR, "0.5", True, "154 lb", "Weight must be in kg", "weight"),
        (INTRAMUSCULAR, "20", True, "70", "Dose 20 mg/kg is outside", "dose"),
        (ESKETAMINE, "70", False, "", "70 mg is not a whole number of 28 mg devices", "dose"),
    ],
)
def test_an_impossible_dose_is_named_and_nothing_is_accepted(
    qtbot: QtBot,
    open_dialog: OpenDialog,
    protocol: Protocol,
    dose: str,
    per_kg: bool,
    weight: str,
    message: str,
    field: str,
) -> None:
    # Given the form / When an impossible dose (or weight) is typed and Enter pressed
    dialog = open_dialog(protocol)
    type_text(dose)
    if per_kg:
        tab_to(dialog.unit)
        key(DOWN)
        tab_to(dialog.weight)
        type_text(weight)
    with qtbot.assertNotEmitted(dialog.accepted):
        key(ENTER)
    # Then the form stays open with the problem in the banner, the focus on the field to fix,
    # and no entry
    assert dialog.isVisible()
    assert dialog.problem.isVisible() and message in dialog.problem.text()
    assert focus_widget() is (dialog.dose if field == "dose" else dialog.weight)
    assert dialog.value() is None


@pytest.mark.parametrize(
    ("typed", "now_text", "note", "accepted"),
    [
        ("14:25", "14:40", "Late entry: given 15 min before now", True),
        ("1425", "14:40", "Late entry: given 15 min before now", True),
        ("23:50", "00:10", "Late entry: given 20 min before now", True),  # across midnight
        ("12:30", "14:40", "Late entry: given 2 h 10 min before now", True),
        ("14:55", "14:40", "Time given 14:55 is later than now (14:40)", False),
        ("25:00", "14:40", "Time given: write it as HH:MM", False),
        ("soon", "14:40", "Time given: write it as HH:MM, e.g. 14:05 not 'soon'", False),
    ],
)
def test_the_time_given_says_when_it_is_a_late_entry(
    qtbot: QtBot, open_dialog: OpenDialog, typed: str, now_text: str, note: str, accepted: bool
) -> None:
    # Given the form opened at `now_text` with a dose typed
    dialog = open_dialog(now_text=now_text)
    type_text("100")
    # When the time given is changed
    dialog.given_at.setFocus()
    dialog.given_at.selectAll()
    type_text(typed)
    # Then the note under the field says what it means
    assert dialog.time_note.isVisible() and note in dialog.time_note.text()
    # And Enter accepts a past time only
    if accepted:
        with qtbot.waitSignal(dialog.accepted):
            key(ENTER)
        entry = dialog.value()
        assert entry is not None and entry.late_entry
    else:
        with qtbot.assertNotEmitted(dialog.accepted):
            key(ENTER)
        assert note in dialog.problem.text() and focus_widget() is dialog.given_at


def test_a_late_entry_is_converted_to_the_moment_it_describes() -> None:
    # Given a dose written at 00:10 local time as given at 23:50
    now = datetime(2026, 11, 27, 0, 10, 30).astimezone()
    entry = DoseEntry("100", DoseUnit.MG, "", "", None, "23:50", late_entry=True)
    # When it is turned into a time / Then it is 23:50 of the day before, in UTC
    given = entry.given_at(now)
    assert given is not None and given.tzinfo is UTC
    assert given == (now.replace(second=0) - timedelta(minutes=20)).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "minute"),
    [("14:05", 845), ("9:05", 545), ("09.05", 545), ("0905", 545), ("24:00", None), ("", None)],
)
def test_clock_times_are_read_as_minutes_of_the_day(text: str, minute: int | None) -> None:
    assert clock_minute(text) == minute


@pytest.mark.parametrize(
    ("baseline", "level", "message"),
    [
        (Reading(172, 104), HoldDoseLevel.BLOCK, "Hold the dose: baseline blood pressure 172/104"),
        (None, HoldDoseLevel.NO_BASELINE, "No baseline blood pressure yet"),
    ],
)
def test_a_hold_dose_block_asks_for_the_override_reason(
    qtbot: QtBot,
    open_dialog: OpenDialog,
    baseline: Reading | None,
    level: HoldDoseLevel,
    message: str,
) -> None:
    # Given a first dose the service refused: the hold-dose check needs an override
    dialog = open_dialog()
    type_text("100")
    result = DoseResult(hold_dose=check_hold_dose(baseline, SUBLINGUAL.hold_dose))
    assert result.needs_override and result.hold_dose is not None
    assert result.hold_dose.level is level
    assert not dialog.override_reason_edit.isVisible()
    # When the form shows the result
    dialog.show_result_problems(result)
    # Then the hold-dose message is prominent, the reason field appears with the focus in it
    assert dialog.hold_block.isVisible() and message in dialog.hold_block.text()
    assert dialog.override_reason_edit.isVisible() and focus_widget() is dialog.override_reason_edit
    assert dialog.save_button.text() == "Save dose with override"
    # And Enter without a reason is refused, naming the field
    with qtbot.assertNotEmitted(dialog.accepted):
        key(ENTER)
    assert "Override reason: write why" in dialog.problem.text()
    assert dialog.override_reason() is None
    # When the reason is typed / Then Enter accepts and the reason is handed back
    type_text("Repeat BP 150/92 after rest; prescriber Dr. Ng agrees")
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    assert dialog.override_reason() == "Repeat BP 150/92 after rest; prescriber Dr. Ng agrees"
    entry = dialog.value()
    assert entry is not None and entry.dose_text == "100"


def test_a_hold_dose_caution_is_information_only(qtbot: QtBot, open_dialog: OpenDialog) -> None:
    # Given a result carrying a caution (baseline above 140/90, below the block limit)
    dialog = open_dialog()
    type_text("100")
    caution = check_hold_dose(Reading(150, 95), SUBLINGUAL.hold_dose)
    assert caution.level is HoldDoseLevel.CAUTION
    # When it is shown
    dialog.show_result_problems(DoseResult(hold_dose=caution))
    # Then it reads as information: no block, no reason field, Enter still saves
    assert dialog.hold_info.isVisible() and "Caution: baseline blood pressure 150/95" in (
        dialog.hold_info.text()
    )
    assert not dialog.hold_block.isVisible() and not dialog.override_reason_edit.isVisible()
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    assert dialog.override_reason() is None


@pytest.mark.parametrize(
    ("result", "shown", "focus"),
    [
        (
            DoseResult(problems=(FieldProblem("weight_kg", "Weight 400 kg is outside 20–300"),)),
            "Not saved. Weight 400 kg is outside 20–300",
            "weight",
        ),
        (None, "The dose was NOT saved: the record could not be written", "dose"),
    ],
)
def test_what_the_service_refused_is_shown_and_the_typing_kept(
    open_dialog: OpenDialog, result: DoseResult | None, shown: str, focus: str
) -> None:
    # Given a typed dose / When the service refuses it
    dialog = open_dialog()
    type_text("100")
    dialog.show_result_problems(result)
    # Then the banner says why and what was typed is still there
    assert dialog.problem.isVisible() and shown in dialog.problem.text()
    assert dialog.dose.text() == "100"
    assert focus_widget() is getattr(dialog, focus)


@pytest.mark.parametrize(("preset", "dose_mg", "devices"), [(0, 56, 2), (1, 84, 3)])
def test_esketamine_presets_give_the_dose_and_the_device_count(
    qtbot: QtBot, open_dialog: OpenDialog, preset: int, dose_mg: int, devices: int
) -> None:
    # Given the intranasal esketamine form: mg only, no weight asked
    dialog = open_dialog(ESKETAMINE)
    assert not dialog.unit.isVisible() and not dialog.weight.isVisible()
    assert "28 mg per device, 5 min rest between devices" in dialog.route_note.text()
    # When the nurse Tabs to a preset and presses Space
    for button in dialog.presets[: preset + 1]:
        tab_to(button)
    key(SPACE)
    # Then the dose is set with its devices, the focus back on the dose, and Enter saves it
    assert dialog.dose.text() == str(dose_mg) and focus_widget() is dialog.dose
    assert dialog.preview.text() == f"{dose_mg} mg  ·  {devices} devices of 28 mg"
    with qtbot.waitSignal(dialog.accepted):
        key(ENTER)
    entry = dialog.value()
    assert entry is not None
    assert (entry.dose_text, entry.unit, entry.weight_text) == (str(dose_mg), DoseUnit.MG, "")


@pytest.mark.parametrize(
    ("protocol", "first_dose", "kind", "route_note"),
    [
        (
            SUBLINGUAL,
            True,
            "Initial dose — it starts T0",
            "the hold counts down on the live screen: hold 10 min, then press H",
        ),
        (
            SUBLINGUAL,
            False,
            "Booster — an additional dose",
            "the hold counts down on the live screen: hold 10 min, then press H",
        ),
        (INTRAMUSCULAR, True, "Initial dose", ""),
    ],
)
def test_the_form_says_what_kind_of_dose_and_what_follows(
    open_dialog: OpenDialog, protocol: Protocol, first_dose: bool, kind: str, route_note: str
) -> None:
    dialog = open_dialog(protocol, first_dose=first_dose)
    assert kind in dialog.kind.text()
    assert kind.split(" —")[0] in dialog.windowTitle()
    assert route_note in dialog.route_note.text()
    assert dialog.route_note.isVisible() == bool(route_note)


def test_the_controller_loop_keeps_the_form_open_across_a_refusal(
    qtbot: QtBot, modal_guard: ModalGuard
) -> None:
    # Given the form run modally as the controller runs it, and a service that blocks the
    # first dose (a baseline of 172/104) until an override reason comes with it
    dialog = DoseDialog(
        "Anna Berg",
        SUBLINGUAL.dosing,
        STAFF,
        NURSE.id,
        first_dose=True,
        now_text="14:40",
        last_weight_kg=None,
        order_text=ORDER_TEXT,
    )
    qtbot.addWidget(dialog)
    block = DoseResult(hold_dose=check_hold_dose(Reading(172, 104), SUBLINGUAL.hold_dose))
    tries: list[tuple[DoseEntry | None, str | None]] = []

    def type_dose(_dialog: QWidget) -> None:
        type_text("100")
        key(ENTER)

    def give_reason(_dialog: QWidget) -> None:
        assert focus_widget() is dialog.override_reason_edit
        assert dialog.dose.text() == "100" and "Hold the dose" in dialog.hold_block.text()
        type_text("Repeat BP 150/92; prescriber agrees")
        key(ENTER)

    # When the nurse types the dose, is refused, and gives the reason
    with modal_guard.answering(type_dose, give_reason):
        while dialog.exec():
            tries.append((dialog.value(), dialog.override_reason()))
            if dialog.override_reason():
                break  # the service saves it with the override
            dialog.show_result_problems(block)
    # Then the second try carries the same dose with the reason
    assert [(entry and entry.dose_text, reason) for entry, reason in tries] == [
        ("100", None),
        ("100", "Repeat BP 150/92; prescriber agrees"),
    ]


def test_without_an_order_the_form_asks_for_it_and_an_order_recorded_asks_no_more(
    open_dialog: OpenDialog,
) -> None:
    # Given the form for a participant without an order: it says so, the focus on recording it
    dialog = open_dialog(order_text=None)
    assert dialog.order_line.text().startswith("No order recorded for Anna Berg")
    assert dialog.record_order_button.isVisible()
    # When the dose is refused for want of an order
    dialog.dose.setText("200")
    dialog.show_result_problems(DoseResult(order_check=DoseCheck(deviations=(NO_ORDER_CHECK,))))
    # Then it names both ways on: record the order, or the prescriber's override
    assert "Record the order" in dialog.order_block.text()
    assert "the prescriber overrides below with their PIN and a reason" in dialog.order_block.text()
    assert dialog.prescriber_pin.isVisible() and dialog.value() is None  # no PIN typed
    # When the order is recorded from it
    dialog.order_recorded(ORDER_TEXT)
    # Then the form shows the order and asks for no override: the dose is checked against it
    assert dialog.order_line.text() == f"Order: {ORDER_TEXT}"
    assert not dialog.record_order_button.isVisible() and not dialog.order_block.isVisible()
    assert not dialog.prescriber_pin.isVisible()
    assert dialog.save_button.text() == "Save dose"
    assert dialog.prescriber_override() is None
    entry = dialog.value()
    assert entry is not None and entry.dose_text == "200"
    dialog.reject()
