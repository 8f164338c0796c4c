"""The dose form: how much, which lot, who gave it and when. It checks what was typed and emits
a DoseEntry; the controller saves it and hands back what the service refused, if anything."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

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
from kapsession.ui.dialogs import _buttons

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


def _fit_height(dialog: QDialog) -> None:
    """Grow the dialog to show every wrapped line: Qt sizes a window without asking its
    word-wrapped labels how tall they are at the window's width."""
    layout = dialog.layout()
    if layout is None:
        return
    layout.activate()
    height = layout.totalHeightForWidth(dialog.width())
    if height > dialog.height():
        dialog.resize(dialog.width(), height)


class DoseDialog(QDialog):
    """Record a dose for one participant. Enter saves when everything typed is valid.

    The controller runs it in a loop, so a refusal keeps what was typed:
    `while dialog.exec(): result = live.record_dose(...); if saved: break;
    dialog.show_result_problems(result)`.
    """

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
    ) -> None:
        super().__init__(parent)
        self._dosing = dosing
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
        layout.addWidget(self.kind)
        layout.addWidget(self.hold_block)
        layout.addWidget(self.hold_info)
        layout.addLayout(self.form)
        layout.addWidget(self.route_note)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        for edit in (self.dose, self.weight):
            edit.textChanged.connect(self._update_preview)
        self.unit.currentIndexChanged.connect(self._unit_changed)
        self.given_at.textChanged.connect(self._update_time_note)
        self._unit_changed()
        self._update_time_note()
        self.dose.setFocus()

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
        hold = result.hold_dose
        if result.needs_override and hold is not None:
            self._ask_for_override(hold)
        elif hold is not None and hold.level is HoldDoseLevel.CAUTION:
            self.hold_info.setText(hold.message)
            self.hold_info.show()
        _fit_height(self)

    def show_hold_dose(self, check: HoldDoseResult) -> None:
        """The hold-dose check on the baseline as it stands when the form opens, so the nurse
        reads it before saving: a caution as information, a block with the reason field (the
        focus stays in the dose field). The service checks again when the dose is saved."""
        if check.requires_override:
            self._ask_for_override(check, take_focus=False)
        elif check.level is HoldDoseLevel.CAUTION:
            self.hold_info.setText(check.message)
            self.hold_info.show()
        _fit_height(self)

    def accept(self) -> None:
        if self.value() is not None:
            super().accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        _fit_height(self)

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
                f"When you save, the spit timer starts: hold {_num(dosing.hold_min)} min, then "
                "spit or swallow."
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
        _fit_height(self)

    def _ask_for_override(self, hold: HoldDoseResult, *, take_focus: bool = True) -> None:
        self._override_needed = True
        self.hold_info.hide()
        self.hold_block.setText(hold.message)
        self.hold_block.show()
        self.form.setRowVisible(self.override_reason_edit, True)
        self.save_button.setText("Save dose with override")
        if take_focus:
            self.override_reason_edit.setFocus()

    def _show_problems(self, problems: Sequence[FieldProblem]) -> None:
        """Every problem in the banner; the focus goes to the first field to fix."""
        self._show_banner("Not saved. " + " ".join(p.message for p in problems))
        fields = {
            "dose": self.dose,
            "weight_kg": self.weight,
            "given_at": self.given_at,
            "override_reason": self.override_reason_edit,
        }
        for problem in problems:
            edit = fields.get(problem.field)
            if edit is not None:
                edit.setFocus()
                edit.selectAll()
                break

    def _show_banner(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        _fit_height(self)
