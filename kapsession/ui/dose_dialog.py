"""The dose form: how much, which lot, who gave it and when. It checks what was typed and emits
a DoseEntry; the controller saves it and hands back what the service refused, if anything."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.dose_order import NO_ORDER, DoseCheck
from kapsession.domain.dosing import (
    DoseInput,
    DoseInvalid,
    DoseUnit,
    devices_for_dose,
    parse_dose_input,
)
from kapsession.domain.hold_dose import HoldDoseLevel, HoldDoseResult
from kapsession.domain.protocol import DosingSpec, Medication, Route
from kapsession.domain.vitals import FieldProblem
from kapsession.records.people import StaffRecord
from kapsession.services.checkin_results import DoseResult
from kapsession.ui import theme
from kapsession.ui.dialogs import _buttons, fit_height

MEDICATION_NAMES = {
    Medication.KETAMINE: "Ketamine (racemic)",
    Medication.ESKETAMINE: "Esketamine (Spravato)",
}
ROUTE_NAMES = {
    Route.SUBLINGUAL: "sublingual lozenge / RDT",
    Route.INTRAMUSCULAR: "intramuscular injection",
    Route.INTRAVENOUS: "intravenous infusion",
    Route.INTRANASAL: "intranasal spray",
}
ESKETAMINE_PRESETS_MG = (56, 84)  # the label's doses: 2 and 3 devices of 28 mg
NOT_RECORDED = "— not recorded —"
_MINUTES_PER_DAY = 24 * 60
_CLOCK_TEXT = re.compile(r"([0-9]{1,2})\s*[:.h]\s*([0-9]{2})|([0-9]{2})([0-9]{2})", re.ASCII)

_EXTRA_STYLE = f"""
QLabel#preview {{ font-size: 17px; color: {theme.TEXT}; }}
QLabel#previewProblem {{ color: {theme.DUE}; }}
QLabel#kind {{ font-size: 19px; }}
QLabel#info {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER}; border-radius: 6px;
    padding: 8px 12px; color: {theme.TEXT}; }}
QLabel#noOrder {{ background: {theme.PANEL}; border: 1px solid {theme.DUE}; border-radius: 6px;
    padding: 8px 12px; color: {theme.DUE}; }}
QScrollArea#doseBody, QScrollArea#doseBody > QWidget > QWidget {{ background: transparent; }}
QScrollArea#doseBody QScrollBar:vertical {{ background: transparent; width: 8px; margin: 0; }}
QScrollArea#doseBody QScrollBar::handle:vertical {{ background: {theme.BORDER};
    border-radius: 4px; min-height: 24px; }}
QScrollArea#doseBody QScrollBar::add-line, QScrollArea#doseBody QScrollBar::sub-line {{
    height: 0; }}
QScrollArea#doseBody QScrollBar::add-page, QScrollArea#doseBody QScrollBar::sub-page {{
    background: transparent; }}
"""


@dataclass(frozen=True)
class DoseEntry:
    """The dose form as typed; `parse_dose_input` has accepted dose, unit and weight."""

    dose_text: str
    unit: DoseUnit
    weight_text: str
    lot_number: str
    given_by: uuid.UUID | None
    given_at_text: str  # HH:MM, local time
    late_entry: bool = False  # the nurse wrote a time before the form's "now"

    def given_at(self, now: datetime) -> datetime | None:
        """The moment the dose was given (UTC): None for "now", else `given_at_text` on the
        local clock at or before `now` (a time after now is yesterday's, across midnight)."""
        if not self.late_entry:
            return None
        minute = clock_minute(self.given_at_text)
        if minute is None:
            raise ValueError(f"time given {self.given_at_text!r} is not HH:MM")
        local_now = now.astimezone()
        when = local_now.replace(hour=minute // 60, minute=minute % 60, second=0, microsecond=0)
        if when > local_now:
            when -= timedelta(days=1)
        return when.astimezone(UTC)


def clock_minute(text: str) -> int | None:
    """Minute of the day from "14:05", "14.05", "9:05" or "1405"; None if it is not a time."""
    match = _CLOCK_TEXT.fullmatch(text.strip())
    if match is None:
        return None
    hours = int(match.group(1) or match.group(3))
    minutes = int(match.group(2) or match.group(4))
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def _num(value: float) -> str:
    return f"{value:g}"


class DoseDialog(QDialog):
    """Record a dose for one participant. Enter saves when everything typed is valid.

    The controller runs it in a loop, so a refusal keeps what was typed:
    `while dialog.exec(): result = live.record_dose(...); if saved: break;
    dialog.show_result_problems(result)`.

    A participant without an order (issue 16): the dialog says so and offers "Record the
    order…" (`order_requested`; the controller answers with `order_recorded`), or the
    prescriber's override once the dose is refused for it.
    """

    order_requested = Signal()  # "Record the order…": the prescriber's order, in the room

    def __init__(
        self,
        participant_name: str,
        dosing: DosingSpec,
        staff: list[StaffRecord],
        acting_staff_id: uuid.UUID | None,
        *,
        first_dose: bool,
        now_text: str,
        last_weight_kg: float | None,
        parent: QWidget | None = None,
        order_text: str | None = None,
        prescribers: Sequence[StaffRecord] = (),
    ) -> None:
        """`order_text`: the prescriber's order in one line (None: no order recorded: the
        prescriber gives it, or overrides, before the dose); `prescribers`: who may override
        it (issue 16)."""
        super().__init__(parent)
        self._dosing = dosing
        self._order_override_needed = False
        self._now_minute = clock_minute(now_text)
        self._override_needed = False
        kind = "Initial dose" if first_dose else "Booster"
        self.setWindowTitle(f"{kind} — {participant_name}")
        self.setMinimumWidth(600)
        self.setStyleSheet(_EXTRA_STYLE)

        name = QLabel(participant_name)
        name.setObjectName("kind")
        self.kind = QLabel(self._kind_text(first_dose))
        self.kind.setObjectName("dim")
        self.kind.setWordWrap(True)
        medication = QLabel(f"{MEDICATION_NAMES[dosing.medication]} · {ROUTE_NAMES[dosing.route]}")
        medication.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.dose = QLineEdit()
        self.dose.setAccessibleName("Dose")
        self.dose.setPlaceholderText("e.g. 56" if self._intranasal else "e.g. 100")
        self.unit = QComboBox()
        self.unit.setAccessibleName("Dose unit")
        for unit in DoseUnit:
            self.unit.addItem(unit.value, unit.value)
        dose_row = QHBoxLayout()
        dose_row.addWidget(self.dose, 1)
        if self._intranasal:  # esketamine is dosed in whole devices, never per kg
            self.unit.hide()
            dose_row.addWidget(QLabel("mg"))
        else:
            dose_row.addWidget(self.unit)
        self.presets: list[QPushButton] = []
        if self._intranasal and dosing.device_mg:
            for dose_mg in ESKETAMINE_PRESETS_MG:
                button = QPushButton(f"{dose_mg} mg")
                button.setAutoDefault(False)
                button.setToolTip(
                    f"{dose_mg} mg = {dose_mg / dosing.device_mg:g} devices of "
                    f"{_num(dosing.device_mg)} mg"
                )
                button.clicked.connect(lambda _c=False, mg=dose_mg: self._preset(mg))
                dose_row.addWidget(button)
                self.presets.append(button)
        self.preview = QLabel()
        self.preview.setObjectName("preview")
        self.preview.setWordWrap(True)

        self.weight = QLineEdit("" if last_weight_kg is None else _num(last_weight_kg))
        self.weight.setAccessibleName("Weight in kg")
        self.lot = QLineEdit()
        self.lot.setAccessibleName("Lot number")
        self.lot.setPlaceholderText("from the package")
        self.given_by = QComboBox()
        self.given_by.setAccessibleName("Given by")
        self.given_by.addItem(NOT_RECORDED, None)
        for member in staff:
            self.given_by.addItem(member.signature_name, member.id)
        # findData compares Python objects by identity: an equal staff id read separately
        # from the database would never match, so compare the values
        given = [self.given_by.itemData(i) for i in range(self.given_by.count())]
        if acting_staff_id is not None and acting_staff_id in given:
            self.given_by.setCurrentIndex(given.index(acting_staff_id))
        self.given_at = QLineEdit(now_text)
        self.given_at.setAccessibleName("Time given (HH:MM)")
        self.given_at.setPlaceholderText("HH:MM")
        self.given_at.setMaximumWidth(110)
        self.time_note = QLabel()
        self.time_note.setObjectName("dim")
        self.time_note.setWordWrap(True)
        self.time_note.hide()

        self.order_line = QLabel(
            f"Order: {order_text}"
            if order_text
            else f"No order recorded for {participant_name} — the prescriber gives it before "
            "the dose: record the order (their PIN, or a verbal order they countersign later), "
            "or the prescriber overrides when you save."
        )
        self.order_line.setObjectName("info" if order_text else "noOrder")
        self.order_line.setWordWrap(True)
        self.order_line.setAccessibleName("The prescriber's order")
        self.record_order_button = QPushButton("Record the order…")
        self.record_order_button.setAccessibleName("Record the order")
        self.record_order_button.setToolTip(
            "The prescriber's order for this participant: their PIN, or a verbal order"
        )
        self.record_order_button.clicked.connect(self.order_requested)
        self.record_order_button.setVisible(not order_text)
        order_row = QHBoxLayout()
        order_row.addWidget(self.order_line, 1)
        order_row.addWidget(self.record_order_button, 0, Qt.AlignmentFlag.AlignVCenter)
        # the prescriber's override of the order or a protocol limit: who, their PIN, why
        self.prescriber = QComboBox()
        self.prescriber.setAccessibleName("Prescriber overriding")
        for member in prescribers:
            self.prescriber.addItem(member.signature_name, member.id)
        self.prescriber_pin = QLineEdit()
        self.prescriber_pin.setAccessibleName("Prescriber's PIN")
        self.prescriber_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.prescriber_pin.setMaximumWidth(160)
        self.order_reason = QLineEdit()
        self.order_reason.setAccessibleName("Prescriber's reason")
        self.order_reason.setPlaceholderText("why the prescriber orders this dose")

        self.override_reason_edit = QLineEdit()
        self.override_reason_edit.setAccessibleName("Override reason")
        self.override_reason_edit.setPlaceholderText("why the dose is given despite the check")

        self.form = QFormLayout()
        self.form.setVerticalSpacing(10)
        self.form.addRow("Medication", medication)
        self.form.addRow("Dose", dose_row)
        self.form.addRow("", self.preview)
        self.form.addRow("Weight (kg)", self.weight)
        self.form.addRow("Lot number", self.lot)
        self.form.addRow("Given by", self.given_by)
        self.form.addRow("Time given", self.given_at)
        self.form.addRow("", self.time_note)
        self.form.addRow("Override reason", self.override_reason_edit)
        self.form.setRowVisible(self.override_reason_edit, False)
        self.form.addRow("Prescriber", self.prescriber)
        self.form.addRow("Prescriber's PIN", self.prescriber_pin)
        self.form.addRow("Prescriber's reason", self.order_reason)
        for row in (self.prescriber, self.prescriber_pin, self.order_reason):
            self.form.setRowVisible(row, False)
        self.form.setRowVisible(self.weight, not self._intranasal)

        self.route_note = QLabel(self._route_text())
        self.route_note.setObjectName("dim")
        self.route_note.setWordWrap(True)
        self.route_note.setVisible(bool(self.route_note.text()))
        self.hold_block = QLabel()  # a hold-dose block: needs an override with a reason
        self.hold_block.setObjectName("banner")
        self.hold_block.setWordWrap(True)
        self.hold_block.hide()
        self.hold_info = QLabel()  # a hold-dose caution: information only
        self.hold_info.setObjectName("info")
        self.hold_info.setWordWrap(True)
        self.hold_info.hide()
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = _buttons(self, "Save dose")
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)

        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(name)
        # What lies between the name and the buttons scrolls on a screen too short for it (a
        # 720-pixel laptop with the overrides shown): the problem and the buttons stay in view.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setSpacing(12)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(self.kind)
        body_layout.addLayout(order_row)
        self.order_block = QLabel()  # outside the order or a limit: the prescriber's override
        self.order_block.setObjectName("banner")
        self.order_block.setWordWrap(True)
        self.order_block.hide()
        body_layout.addWidget(self.order_block)
        body_layout.addWidget(self.hold_block)
        body_layout.addWidget(self.hold_info)
        body_layout.addLayout(self.form)
        body_layout.addWidget(self.route_note)
        body_layout.addStretch(1)
        self.body = QScrollArea()
        self.body.setObjectName("doseBody")  # transparent, with a thin scroll bar
        self.body.setWidget(body)
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        for edit in (self.dose, self.weight):
            edit.textChanged.connect(self._update_preview)
        self.unit.currentIndexChanged.connect(self._unit_changed)
        self.given_at.textChanged.connect(self._update_time_note)
        self._unit_changed()
        self._update_time_note()
        # without an order the first thing to do is to record it (Tab: on to the dose)
        (self.record_order_button if not order_text else self.dose).setFocus()

    # what the controller uses ---------------------------------------------------------------
    def value(self) -> DoseEntry | None:
        """The entered dose, or None with every problem shown in the banner."""
        problems: list[FieldProblem] = []
        try:
            self._parsed()
        except DoseInvalid as invalid:
            problems.extend(invalid.problems)
        late_min, time_problem = self._late_minutes()
        if time_problem:
            problems.append(FieldProblem("given_at", time_problem))
        if self._override_needed and not self.override_reason_edit.text().strip():
            problems.append(
                FieldProblem(
                    "override_reason",
                    "Override reason: write why the dose is given despite the blood pressure "
                    "check; it goes into the record. Or press Escape and recheck the blood "
                    "pressure.",
                )
            )
        if self._order_override_needed:
            if self.prescriber.currentData() is None:
                problems.append(
                    FieldProblem(
                        "prescriber",
                        "No prescriber is on the staff list to override the order; the dose "
                        "cannot be saved as entered.",
                    )
                )
            elif not self.prescriber_pin.text():
                problems.append(
                    FieldProblem("prescriber_pin", "The prescriber types their PIN to override.")
                )
            if not self.order_reason.text().strip():
                problems.append(
                    FieldProblem(
                        "order_reason",
                        "Prescriber's reason: write why this dose is given outside the order; "
                        "it goes into the record.",
                    )
                )
        if problems:
            self._show_problems(problems)
            return None
        minute = clock_minute(self.given_at.text())
        assert minute is not None  # _late_minutes found no problem
        return DoseEntry(
            dose_text=self.dose.text().strip(),
            unit=self._unit(),
            weight_text=self._weight_text(),
            lot_number=self.lot.text().strip(),
            given_by=self.given_by.currentData(),
            given_at_text=f"{minute // 60:02d}:{minute % 60:02d}",
            late_entry=bool(late_min),
        )

    def override_reason(self) -> str | None:
        """The reason to dose despite a hold-dose block; None when no override is asked for."""
        if not self._override_needed:
            return None
        return self.override_reason_edit.text().strip() or None

    def prescriber_override(self) -> tuple[uuid.UUID, str, str, str] | None:
        """The prescriber's override as typed: (staff id, name, PIN, reason); None when no
        override is asked for."""
        if not self._order_override_needed or self.prescriber.currentData() is None:
            return None
        return (
            self.prescriber.currentData(),
            self.prescriber.currentText(),
            self.prescriber_pin.text(),
            self.order_reason.text().strip(),
        )

    def show_override_refused(self, message: str) -> None:
        """The prescriber's PIN was not accepted: say so, the PIN field emptied for a retry."""
        self.prescriber_pin.clear()
        self._show_banner(f"The dose was NOT saved. {message}")
        self._focus(self.prescriber_pin)

    def order_recorded(self, order_text: str) -> None:
        """The order was recorded from here: shown, and the dose is checked against it when
        saved (an override asked for without it is asked no more)."""
        self.order_line.setText(f"Order: {order_text}")
        self.order_line.setObjectName("info")
        self.order_line.style().unpolish(self.order_line)
        self.order_line.style().polish(self.order_line)
        self.record_order_button.hide()
        if self._order_override_needed:
            self._order_override_needed = False
            self.order_block.hide()
            for row in (self.prescriber, self.prescriber_pin, self.order_reason):
                self.form.setRowVisible(row, False)
            self.prescriber_pin.clear()
            held = self._override_needed  # the hold-dose override still asked for
            self.save_button.setText("Save dose with override" if held else "Save dose")
        self.problem.hide()
        self._focus(self.dose)
        fit_height(self, self.body)

    def _ask_for_prescriber(self, check: DoseCheck) -> None:
        self._order_override_needed = True
        if any(d.rule == NO_ORDER for d in check.deviations):
            others = "".join(f"\n• {d.message}" for d in check.deviations if d.rule != NO_ORDER)
            also = f"\nThe dose is also outside the protocol's limits:{others}" if others else ""
            self.order_block.setText(
                "No order recorded: the prescriber gives it before the dose. Record the order "
                "(Record the order…: their PIN, or a verbal order they countersign later), or "
                f"the prescriber overrides below with their PIN and a reason.{also}\nOr press "
                "Escape."
            )
        else:
            lines = "\n".join(f"• {d.message}" for d in check.deviations)
            self.order_block.setText(
                f"Outside the order or the protocol's limits:\n{lines}\nOnly the prescriber's "
                "override (their PIN and a reason) lets this dose be saved; or press Escape."
            )
        self.order_block.show()
        for row in (self.prescriber, self.prescriber_pin, self.order_reason):
            self.form.setRowVisible(row, True)
        self.save_button.setText("Save with the prescriber's override")
        self._focus(self.prescriber)

    def show_result_problems(self, result: DoseResult | None) -> None:
        """Show why the service did not save the dose; the typed values stay for a retry.

        None means the record could not be written at all (the main window says why).
        """
        self.problem.hide()
        if result is None:
            self._show_banner(
                "The dose was NOT saved: the record could not be written (the main window "
                "says why). Nothing was recorded; save again, or note the dose on paper."
            )
            return
        if result.problems:
            self._show_problems(result.problems)
        if result.needs_order_override and result.order_check is not None:
            self._ask_for_prescriber(result.order_check)
        hold = result.hold_dose
        if result.needs_override and hold is not None:
            self._ask_for_override(hold)
        elif hold is not None and hold.level is HoldDoseLevel.CAUTION:
            self.hold_info.setText(hold.message)
            self.hold_info.show()
        fit_height(self, self.body)

    def show_hold_dose(self, check: HoldDoseResult) -> None:
        """The hold-dose check on the baseline as it stands when the form opens, so the nurse
        reads it before saving: a caution as information, a block with the reason field (the
        focus stays in the dose field). The service checks again when the dose is saved."""
        if check.requires_override:
            self._ask_for_override(check, take_focus=False)
        elif check.level is HoldDoseLevel.CAUTION:
            self.hold_info.setText(check.message)
            self.hold_info.show()
        fit_height(self, self.body)

    def accept(self) -> None:
        if self.value() is not None:
            super().accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height(self, self.body)

    # building blocks ------------------------------------------------------------------------
    @property
    def _intranasal(self) -> bool:
        return self._dosing.route is Route.INTRANASAL

    def _kind_text(self, first_dose: bool) -> str:
        if first_dose:
            return (
                "Initial dose — it starts T0 of the session clock. The hold-dose check runs "
                "on the baseline blood pressure when you save."
            )
        return "Booster — an additional dose; T0 stays at the first dose."

    def _route_text(self) -> str:
        dosing = self._dosing
        if dosing.route is Route.SUBLINGUAL and dosing.hold_min:
            return (
                f"When you save, the hold counts down on the live screen: hold "
                f"{_num(dosing.hold_min)} min, then press H when the client spits or swallows."
            )
        if self._intranasal and dosing.device_mg:
            rest = (
                f", {_num(dosing.device_spacing_min)} min rest between devices"
                if dosing.device_spacing_min
                else ""
            )
            return (
                f"{_num(dosing.device_mg)} mg per device{rest}. Record each device as it is "
                "given; monitoring time counts from the first device."
            )
        return ""

    def _weight_text(self) -> str:
        """The weight for the record; esketamine is a fixed dose, so no weight is asked."""
        return "" if self._intranasal else self.weight.text().strip()

    def _unit(self) -> DoseUnit:
        return DoseUnit(self.unit.currentData() or DoseUnit.MG)

    def _parsed(self) -> tuple[DoseInput, int | None]:
        """The dose as the service will read it, and the device count for esketamine."""
        entered = parse_dose_input(
            self.dose.text(),
            route=self._dosing.route,
            weight_text=self._weight_text(),
            unit=self._unit(),
        )
        devices = None
        if self._intranasal and self._dosing.device_mg:
            devices = devices_for_dose(entered.dose_mg, self._dosing.device_mg)
        return entered, devices

    def _preset(self, dose_mg: int) -> None:
        self.dose.setText(str(dose_mg))
        self.dose.setFocus()

    def _unit_changed(self) -> None:
        per_kg = self._unit() is DoseUnit.MG_PER_KG
        self.weight.setPlaceholderText("needed for a dose in mg/kg" if per_kg else "optional")
        self._update_preview()

    def _update_preview(self) -> None:
        """Both units live, e.g. "100 mg = 1.43 mg/kg at 70 kg", or what is wrong so far."""
        if not self.dose.text().strip():
            self._set_preview("", problem=False)
            return
        try:
            entered, devices = self._parsed()
        except DoseInvalid as invalid:
            self._set_preview(invalid.problems[0].message, problem=True)
            return
        per_kg = entered.dose_mg_per_kg
        if entered.entered_unit is DoseUnit.MG_PER_KG and entered.weight_kg is not None:
            text = (
                f"{_num(entered.entered_amount)} mg/kg at {_num(entered.weight_kg)} kg "
                f"= {_num(entered.dose_mg)} mg"
            )
        elif per_kg is not None and entered.weight_kg is not None:
            weight = _num(entered.weight_kg)
            text = f"{_num(entered.dose_mg)} mg = {_num(per_kg)} mg/kg at {weight} kg"
        else:
            text = f"{_num(entered.dose_mg)} mg"
        if devices is not None and self._dosing.device_mg:
            plural = "device" if devices == 1 else "devices"
            text += f"  ·  {devices} {plural} of {_num(self._dosing.device_mg)} mg"
        self._set_preview(text, problem=False)

    def _set_preview(self, text: str, *, problem: bool) -> None:
        self.preview.setObjectName("previewProblem" if problem else "preview")
        self.preview.style().unpolish(self.preview)
        self.preview.style().polish(self.preview)
        self.preview.setText(text)

    def _late_minutes(self) -> tuple[int, str | None]:
        """How many minutes before "now" the dose was given, or what is wrong with the time."""
        text = self.given_at.text().strip()
        minute = clock_minute(text)
        if minute is None:
            shown = f" not '{text}'" if text else ""
            return 0, f"Time given: write it as HH:MM, e.g. 14:05{shown}."
        if self._now_minute is None:
            return 0, None
        late = (self._now_minute - minute) % _MINUTES_PER_DAY
        if late > _MINUTES_PER_DAY // 2:  # more than 12 h "ago" is really a time still to come
            now = f"{self._now_minute // 60:02d}:{self._now_minute % 60:02d}"
            return 0, (
                f"Time given {minute // 60:02d}:{minute % 60:02d} is later than now ({now}); "
                "record a dose once it has been given."
            )
        return late, None

    def _update_time_note(self) -> None:
        late, problem = self._late_minutes()
        if problem:
            self.time_note.setText(problem)
        elif late:
            when = f"{late} min" if late < 60 else f"{late // 60} h {late % 60:02d} min"
            self.time_note.setText(
                f"Late entry: given {when} before now. The record keeps both the time given "
                "and the time written."
            )
        self.time_note.setVisible(bool(problem or late))
        fit_height(self, self.body)

    def _ask_for_override(self, hold: HoldDoseResult, *, take_focus: bool = True) -> None:
        self._override_needed = True
        self.hold_info.hide()
        self.hold_block.setText(hold.message)
        self.hold_block.show()
        self.form.setRowVisible(self.override_reason_edit, True)
        self.save_button.setText("Save dose with override")
        if take_focus:
            self._focus(self.override_reason_edit)

    def _show_problems(self, problems: Sequence[FieldProblem]) -> None:
        """Every problem in the banner; the focus goes to the first field to fix."""
        self._show_banner("Not saved. " + " ".join(p.message for p in problems))
        fields = {
            "dose": self.dose,
            "weight_kg": self.weight,
            "given_at": self.given_at,
            "override_reason": self.override_reason_edit,
            "prescriber": self.prescriber,
            "prescriber_pin": self.prescriber_pin,
            "order_reason": self.order_reason,
        }
        for problem in problems:
            edit = fields.get(problem.field)
            if edit is not None:
                self._focus(edit)
                if isinstance(edit, QLineEdit):
                    edit.selectAll()
                break

    def _focus(self, widget: QWidget) -> None:
        """Focus `widget` and scroll it into view once the rows just shown are laid out."""
        widget.setFocus()
        QTimer.singleShot(0, self, lambda: self.body.ensureWidgetVisible(widget))

    def _show_banner(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        fit_height(self, self.body)
