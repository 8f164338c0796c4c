"""Correcting an entry from the screen: a reading, a dose, a hold's end, an infusion's action or
the prescriber's order corrected, or any entry withdrawn as entered in error, always with a
reason.

Each dialog names its participant and the entry as it was recorded, and offers two things to
record: the correction (the fields, filled with the entry's own values: the same measurement,
corrected) or "Entered in error" (the entry withdrawn). Tab goes top to bottom: what to record,
the fields, the reason, the buttons; Enter records, Esc cancels. The dialogs check nothing
themselves: on Enter they hand what was typed to `submit` (the controller's: the live session
checks it and saves it), and what comes back is shown under the form with the keys in the first
field to fix, nothing stored; with no problem the dialog closes.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import DosingSpec
from kapsession.domain.vitals import FIELD_LABELS, FieldProblem
from kapsession.records.people import StaffRecord
from kapsession.ui.checkin_form import FIELDS
from kapsession.ui.dialogs import _buttons, fit_height
from kapsession.ui.order_fields import OrderFields

CORRECT = "correct"
WITHDRAW = "withdraw"
WITHDRAW_TEXT = "Entered in error — withdraw it"
READING_COLUMNS = 3  # label and box pairs side by side: the dialog stays low on a laptop


class Problem(Protocol):
    """One thing to fix (FieldProblem, EntryProblem): the field and what to do."""

    @property
    def field(self) -> str: ...

    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class Message:
    field: str
    message: str


class CorrectionDialog(QDialog):
    """The frame of every correction: the entry as recorded, what to record, the fields of a
    correction (none when the entry can only be withdrawn), the reason, Record and Cancel."""

    def __init__(
        self,
        title: str,
        heading: str,
        recorded: str,
        *,
        correct_text: str | None,
        parent: QWidget | None = None,
    ) -> None:
        """`correct_text`: the choice that corrects the entry ("Correct the values"); None:
        the entry can only be withdrawn."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(620)
        self.heading = QLabel(heading)
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.recorded = QLabel(f"As recorded: {recorded}")
        self.recorded.setWordWrap(True)
        self.recorded.setTextFormat(Qt.TextFormat.PlainText)
        self.recorded.setAccessibleName("The entry as recorded")
        self.choice = QComboBox()
        self.choice.setAccessibleName("What to record")
        if correct_text is not None:
            self.choice.addItem(correct_text, CORRECT)
        self.choice.addItem(WITHDRAW_TEXT, WITHDRAW)
        self.choice.setEnabled(self.choice.count() > 1)
        self.fields: dict[str, QWidget] = {}
        self.body = QWidget()  # the correction's fields
        self.scrolled = QScrollArea()
        self.scrolled.setWidget(self.body)
        self.scrolled.setWidgetResizable(True)
        self.scrolled.setFrameShape(QFrame.Shape.NoFrame)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason (required; it goes on the record)")
        self.reason.setPlaceholderText("Why: it goes on the record with the correction")
        self.fields["reason"] = self.reason
        top = QFormLayout()
        top.addRow("Record", self.choice)
        bottom = QFormLayout()
        bottom.addRow("Reason (required)", self.reason)
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        self.buttons = _buttons(self, "Record correction")
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.recorded)
        layout.addLayout(top)
        layout.addWidget(self.scrolled, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.choice.currentIndexChanged.connect(self._chosen)
        # the controller's: save what was typed, give back what to fix (nothing: it was saved)
        self.submit: Callable[[], Sequence[Problem]] | None = None

    def finish(self) -> None:
        """Once the subclass has added its fields: the Tab order, the first focus, the size."""
        if not self.fields.keys() - {"reason"}:
            self.scrolled.hide()
        self._chosen()
        first = self.choice if self.choice.isEnabled() else self.reason
        first.setFocus()
        fit_height(self, None if self.scrolled.isHidden() else self.scrolled)

    @property
    def action(self) -> str:
        """CORRECT or WITHDRAW."""
        return str(self.choice.currentData())

    def _chosen(self) -> None:
        correcting = self.action == CORRECT
        self.body.setEnabled(correcting)  # a withdrawal takes the entry back as it was
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Record correction" if correcting else "Withdraw entry")

    def accept(self) -> None:
        problems = [] if self.submit is None else list(self.submit())
        if problems:
            self.show_problems(problems)
            return
        super().accept()

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """Each problem under the form; the keys in the first field to fix."""
        self.problem.setText("\n".join(p.message for p in problems))
        self.problem.show()
        for p in problems:
            widget = self.fields.get("systolic_mmhg" if p.field == "bp" else p.field)
            if widget is not None and widget.isEnabled():
                widget.setFocus()
                break


def _line(name: str, text: str) -> QLineEdit:
    box = QLineEdit(text)
    box.setAccessibleName(name)
    return box


class ReadingCorrectionDialog(CorrectionDialog):
    """A reading corrected: each measure's box filled with the value recorded for it (the same
    measurement, corrected: never another reading's values), the time it was taken, and its
    comment."""

    def __init__(
        self,
        title: str,
        heading: str,
        recorded: str,
        values: Mapping[str, str],
        taken_at_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, heading, recorded, correct_text="Correct the values", parent=parent)
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        boxes = [
            (key, label, hint)
            for key, label, hint in (*FIELDS, ("emesis", FIELD_LABELS["emesis"], "yes/no"))
        ]
        for number, (key, label, hint) in enumerate(boxes):
            box = _line(f"{label} ({hint})", values.get(key, ""))
            box.setPlaceholderText(hint)
            self.fields[key] = box
            row, column = divmod(number, READING_COLUMNS)
            grid.addWidget(QLabel(label), row, 2 * column)
            grid.addWidget(box, row, 2 * column + 1)
        rows = (len(boxes) + READING_COLUMNS - 1) // READING_COLUMNS
        self.taken_at = _line("Taken at, HH:MM", taken_at_text)
        self.fields["taken_at"] = self.taken_at
        self.comment = _line("Comment", values.get("comment", ""))
        self.fields["comment"] = self.comment
        grid.addWidget(QLabel("Taken at"), rows, 0)
        grid.addWidget(self.taken_at, rows, 1)
        grid.addWidget(QLabel("Comment"), rows + 1, 0)
        grid.addWidget(self.comment, rows + 1, 1, 1, 2 * READING_COLUMNS - 1)
        self.finish()

    def raw(self) -> dict[str, str]:
        """What is typed, as the check-in form hands it on (field -> text)."""
        keys = [key for key, _label, _hint in FIELDS] + ["emesis", "comment"]
        return {key: box.text() for key in keys if isinstance(box := self.fields[key], QLineEdit)}


class DoseCorrectionDialog(CorrectionDialog):
    """A dose corrected: its amount (mg, or mg/kg with the weight), its lot and its time, each
    filled as recorded. A corrected amount or time outside the order or the protocol's limits
    is recorded with the prescriber's override, as a new dose is: once the correction is
    refused for it (`ask_for_prescriber`), who, their PIN and their reason."""

    def __init__(
        self,
        title: str,
        heading: str,
        recorded: str,
        *,
        amount_text: str,
        weight_text: str,
        lot_text: str,
        time_text: str,
        prescribers: Sequence[StaffRecord] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, heading, recorded, correct_text="Correct the dose", parent=parent)
        self.form = form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        self.amount = _line("Dose, mg or mg/kg", amount_text)
        self.weight = _line("Weight, kg (for a dose in mg/kg)", weight_text)
        self.lot = _line("Lot number", lot_text)
        self.time = _line("Given at, HH:MM", time_text)
        for label, key, box in (
            ("Dose", "dose", self.amount),
            ("Weight (kg)", "weight_kg", self.weight),
            ("Lot", "lot", self.lot),
            ("Given at", "time", self.time),
        ):
            form.addRow(label, box)
            self.fields[key] = box
        # the prescriber's override of a corrected dose outside the order or a limit
        self.order_block = QLabel()
        self.order_block.setObjectName("banner")
        self.order_block.setWordWrap(True)
        self.prescriber = QComboBox()
        self.prescriber.setAccessibleName("Prescriber overriding")
        for member in prescribers:
            self.prescriber.addItem(member.signature_name, member.id)
        self.prescriber_pin = _line("Prescriber's PIN", "")
        self.prescriber_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.prescriber_pin.setMaximumWidth(160)
        self.order_reason = _line("Prescriber's reason", "")
        self.order_reason.setPlaceholderText("why the prescriber allows this dose")
        form.addRow(self.order_block)
        rows: tuple[tuple[str, str, QWidget], ...] = (
            ("Prescriber", "prescriber", self.prescriber),
            ("Prescriber's PIN", "prescriber_pin", self.prescriber_pin),
            ("Prescriber's reason", "order_reason", self.order_reason),
        )
        for label, key, widget in rows:
            form.addRow(label, widget)
            self.fields[key] = widget
        self.override_asked = False
        for row in (self.order_block, self.prescriber, self.prescriber_pin, self.order_reason):
            form.setRowVisible(row, False)
        self.finish()

    def ask_for_prescriber(self, deviations: Sequence[str]) -> None:
        """The correction is outside the order or the protocol's limits: say how, and ask for
        the prescriber's override (who, their PIN, their reason)."""
        lines = "\n".join(f"• {d}" for d in deviations)
        self.order_block.setText(
            f"Outside the order or the protocol's limits:\n{lines}\nThe dose given is recorded "
            "as it was, with the prescriber's override (their PIN and a reason)."
        )
        self.override_asked = True
        for row in (self.order_block, self.prescriber, self.prescriber_pin, self.order_reason):
            self.form.setRowVisible(row, True)
        fit_height(self, self.scrolled)

    def prescriber_override(self) -> tuple[uuid.UUID, str, str, str] | None:
        """(staff id, name, PIN, reason) once asked for; None before, or with no prescriber."""
        if not self.override_asked or self.prescriber.currentData() is None:
            return None
        return (
            self.prescriber.currentData(),
            self.prescriber.currentText(),
            self.prescriber_pin.text(),
            self.order_reason.text().strip(),
        )


class TimeCorrectionDialog(CorrectionDialog):
    """An entry whose time can be corrected (a hold's end, an infusion's action)."""

    def __init__(
        self,
        title: str,
        heading: str,
        recorded: str,
        *,
        time_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, heading, recorded, correct_text="Correct the time", parent=parent)
        form = QFormLayout(self.body)
        form.setContentsMargins(0, 0, 0, 0)
        self.time = _line("At, HH:MM", time_text)
        form.addRow("At", self.time)
        self.fields["time"] = self.time
        self.finish()


class WithdrawDialog(CorrectionDialog):
    """An entry that can only be withdrawn here (a marker, an intervention, a count, an
    adverse event): to change it, withdraw it and enter it again; `hint` says how."""

    def __init__(
        self, title: str, heading: str, recorded: str, hint: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(title, heading, recorded, correct_text=None, parent=parent)
        self.hint = QLabel(hint)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("notice")
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(2, self.hint)
        self.finish()


def _amount_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class PrescriberRows(QWidget):
    """Who of the prescribers acts, and their PIN: a choice and a password box, on one row."""

    def __init__(
        self,
        prescribers: Sequence[StaffRecord],
        chosen: uuid.UUID | None,
        what: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.prescriber = QComboBox()
        self.prescriber.setAccessibleName(f"Prescriber {what}")
        ids = []
        for member in prescribers:
            self.prescriber.addItem(member.signature_name, member.id)
            ids.append(member.id)
        if chosen in ids:  # compared by value: findData compares an id by identity
            self.prescriber.setCurrentIndex(ids.index(chosen))
        self.pin = QLineEdit()
        self.pin.setAccessibleName("Prescriber's PIN")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaximumWidth(160)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Prescriber", self.prescriber)
        form.addRow("Prescriber's PIN", self.pin)

    def typed(self) -> tuple[uuid.UUID, str, str] | None:
        """(staff id, name, PIN), or None when no prescriber is on the staff list."""
        staff_id = self.prescriber.currentData()
        if staff_id is None:
            return None
        return staff_id, self.prescriber.currentText(), self.pin.text()


class OrderCorrectionDialog(CorrectionDialog):
    """The prescriber's order corrected (the order's fields, filled as it stands), or taken
    back as entered in error: either is the prescriber's, their PIN below the reason. The
    corrected order is theirs, confirmed in person: no verbal order to countersign."""

    def __init__(
        self,
        title: str,
        heading: str,
        recorded: str,
        *,
        order: DoseOrder,
        dosing: DosingSpec,
        prescribers: Sequence[StaffRecord],
        ordered_by: uuid.UUID,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, heading, recorded, correct_text="Correct the order", parent=parent)
        self.setMinimumWidth(760)  # the order's fields on one row
        self.order_fields = OrderFields(prescribers, none_text=None)
        self.order_fields.dose.setMinimumWidth(120)
        self.order_fields.set_protocol(dosing)
        self.order_fields.dose.setText(order.dose_text())
        self.order_fields.boosters.setValue(order.boosters)
        self.order_fields.booster_mg.setText(_amount_text(order.booster_mg))
        window = order.booster_window_min
        self.order_fields.window_from.setText("" if window is None else f"{window[0]:g}")
        self.order_fields.window_to.setText("" if window is None else f"{window[1]:g}")
        self.order_fields.max_total.setText(_amount_text(order.max_total_mg))
        # who orders it and in person are the prescriber's rows below: not fields of the order
        self.order_fields.ordered_by.hide()
        self.order_fields.verbal.setChecked(False)
        self.order_fields.verbal.hide()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.order_fields)
        self.fields["order_dose"] = self.order_fields.dose
        self.fields["order_booster_mg"] = self.order_fields.booster_mg
        self.fields["order_booster_window"] = self.order_fields.window_from
        self.fields["order_from"] = self.order_fields.window_from
        self.fields["order_to"] = self.order_fields.window_to
        self.fields["order_max_total"] = self.order_fields.max_total
        self.fields["order_boosters"] = self.order_fields.boosters
        self.prescriber_rows = PrescriberRows(prescribers, ordered_by, "correcting the order")
        self.fields["prescriber"] = self.prescriber_rows.prescriber
        self.fields["pin"] = self.prescriber_rows.pin
        frame = self.layout()
        assert isinstance(frame, QVBoxLayout)
        frame.insertWidget(frame.indexOf(self.problem), self.prescriber_rows)
        for label in self.order_fields.findChildren(QLabel):
            if label.text() == "Ordered by":
                label.hide()
        fields = self.order_fields
        chain: list[QWidget] = [
            self.choice,
            fields.dose,
            fields.boosters,
            fields.booster_mg,
            fields.window_from,
            fields.window_to,
            fields.max_total,
            self.reason,
            self.prescriber_rows.prescriber,
            self.prescriber_rows.pin,
            *self.buttons.buttons(),
        ]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)
        self.finish()

    def order(self) -> tuple[DoseOrder | None, list[FieldProblem]]:
        """The order as typed, or what is wrong with it."""
        order, _by, problems = self.order_fields.value()
        return order, problems
