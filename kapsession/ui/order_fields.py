"""The prescriber's order as the new-session dialog takes it (issue 16): the dose (mg or
mg/kg), the boosters it allows (how many, each one's mg, the window after the first dose), the
session's maximum, who ordered it and whether it was a verbal order. Prefilled from the
protocol's usual dose (`usual_order`); the course plan (issue 17) will prefill it instead."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from kapsession.domain.dose_order import MAX_ORDER_BOOSTERS, DoseOrder, check_order, usual_order
from kapsession.domain.protocol import DosingSpec
from kapsession.domain.vitals import FieldProblem
from kapsession.records.people import StaffRecord

_AMOUNT = re.compile(r"\s*([0-9]+(?:[.,][0-9]+)?)\s*(mg\s*/\s*kg|mg)?\s*", re.IGNORECASE)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _amount(text: str) -> tuple[float, bool] | None:
    """A typed amount and whether it is per kg: "200", "200 mg", "0.5 mg/kg"."""
    match = _AMOUNT.fullmatch(text)
    if match is None:
        return None
    per_kg = (match.group(2) or "mg").replace(" ", "").lower() == "mg/kg"
    return float(match.group(1).replace(",", ".")), per_kg


NO_ORDER_YET = "No order yet — the prescriber gives it before the dose"


class OrderFields(QWidget):
    """The order's fields, in two rows; `value()` gives the order or what is wrong."""

    def __init__(
        self,
        prescribers: Sequence[StaffRecord],
        parent: QWidget | None = None,
        *,
        none_text: str | None = NO_ORDER_YET,
    ) -> None:
        """`none_text`: the choice of who ordered it that records no order now (a session may
        start before the prescriber gives it); None: an order must be entered."""
        super().__init__(parent)
        self._dosing: DosingSpec | None = None
        self.dose = QLineEdit()
        self.dose.setAccessibleName("Ordered dose")
        self.dose.setPlaceholderText("e.g. 200 mg or 0.5 mg/kg")
        self.boosters = QSpinBox()
        self.boosters.setAccessibleName("Boosters allowed")
        self.boosters.setRange(0, MAX_ORDER_BOOSTERS)
        self.booster_mg = QLineEdit()
        self.booster_mg.setAccessibleName("Booster dose in mg")
        self.booster_mg.setMaximumWidth(70)
        self.window_from = QLineEdit()
        self.window_from.setAccessibleName("Booster window opens, minutes after the dose")
        self.window_from.setMaximumWidth(50)
        self.window_to = QLineEdit()
        self.window_to.setAccessibleName("Booster window closes, minutes after the dose")
        self.window_to.setMaximumWidth(50)
        self.max_total = QLineEdit()
        self.max_total.setAccessibleName("Maximum for the session in mg")
        self.max_total.setMaximumWidth(70)
        self.ordered_by = QComboBox()
        self.ordered_by.setAccessibleName("Ordered by")
        if none_text is not None:
            self.ordered_by.addItem(none_text, None)
        for member in prescribers:
            self.ordered_by.addItem(member.signature_name, member.id)
        if prescribers and none_text is not None:
            self.ordered_by.setCurrentIndex(1)
        self.verbal = QCheckBox("Verbal order (countersigned later)")
        self.verbal.setAccessibleName("Verbal order")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        row = [
            self.dose,
            QLabel("boosters"),
            self.boosters,
            QLabel("×"),
            self.booster_mg,
            QLabel("mg at T+"),
            self.window_from,
            QLabel("–"),
            self.window_to,
            QLabel("max"),
            self.max_total,
            QLabel("mg"),
        ]
        for column, widget in enumerate(row):
            grid.addWidget(widget, 0, column)
        grid.setColumnStretch(0, 1)
        grid.addWidget(QLabel("Ordered by"), 1, 0)
        grid.addWidget(self.ordered_by, 1, 1, 1, 5)
        grid.addWidget(self.verbal, 1, 6, 1, 6)
        self.boosters.valueChanged.connect(self._booster_fields)
        self.ordered_by.currentIndexChanged.connect(self._booster_fields)
        self._booster_fields()

    def set_protocol(self, dosing: DosingSpec) -> None:
        """Prefill the protocol's usual order (its dose, its boosters, its session maximum)."""
        self._dosing = dosing
        order = usual_order(dosing)
        self.dose.setText(order.dose_text())
        self.boosters.setMaximum(dosing.boosters_allowed)
        self.boosters.setValue(order.boosters)
        self.booster_mg.setText(_num(order.booster_mg))
        window = order.booster_window_min
        self.window_from.setText("" if window is None else _num(window[0]))
        self.window_to.setText("" if window is None else _num(window[1]))
        self.max_total.setText(_num(order.max_total_mg))
        self._booster_fields()

    def set_order(self, order: DoseOrder, ordered_by: uuid.UUID) -> None:
        """Prefill an order given elsewhere (issue 17: the course's standing order), and who
        gave it; `set_protocol` first, for the protocol it is checked against."""
        self.dose.setText(order.dose_text())
        self.boosters.setValue(order.boosters)
        self.booster_mg.setText(_num(order.booster_mg))
        window = order.booster_window_min
        self.window_from.setText("" if window is None else _num(window[0]))
        self.window_to.setText("" if window is None else _num(window[1]))
        self.max_total.setText(_num(order.max_total_mg))
        self.follow_prescriber(ordered_by)
        self._booster_fields()

    def follow_prescriber(self, staff_id: uuid.UUID | None) -> None:
        """The prescriber on site chosen: they gave the order, unless another was chosen."""
        ids = [self.ordered_by.itemData(i) for i in range(self.ordered_by.count())]
        if staff_id in ids:
            self.ordered_by.setCurrentIndex(ids.index(staff_id))

    def _booster_fields(self) -> None:
        """The booster's fields while boosters are ordered; no field while no order is."""
        ordered = self.ordered_by.currentData() is not None
        for field in (self.dose, self.boosters, self.max_total, self.verbal):
            field.setEnabled(ordered)
        some = ordered and self.boosters.value() > 0
        for field in (self.booster_mg, self.window_from, self.window_to):
            field.setEnabled(some)

    def value(self) -> tuple[DoseOrder | None, uuid.UUID | None, list[FieldProblem]]:
        """(the order, who ordered it, problems); no one chosen: no order, no problem."""
        ordered_by = self.ordered_by.currentData()
        dosing = self._dosing
        if ordered_by is None or dosing is None:
            return None, None, []
        problems: list[FieldProblem] = []
        dose = _amount(self.dose.text())
        if dose is None:
            problems.append(
                FieldProblem("order_dose", "Order: type the dose, e.g. 200 mg or 0.5 mg/kg.")
            )
        numbers: dict[str, float | None] = {}
        for name, field in (
            ("booster_mg", self.booster_mg),
            ("from", self.window_from),
            ("to", self.window_to),
            ("max_total", self.max_total),
        ):
            text = field.text().strip()
            parsed = _amount(text) if text and field.isEnabled() else None
            if text and field.isEnabled() and (parsed is None or parsed[1]):
                problems.append(
                    FieldProblem(f"order_{name}", f"Order: {field.accessibleName()} is a number.")
                )
            numbers[name] = None if parsed is None else parsed[0]
        if problems or dose is None:
            return None, ordered_by, problems
        boosters = self.boosters.value()
        window = None
        if boosters and numbers["from"] is not None and numbers["to"] is not None:
            window = (numbers["from"], numbers["to"])
        amount, per_kg = dose
        order = DoseOrder(
            medication=dosing.medication,
            route=dosing.route,
            dose_mg=None if per_kg else amount,
            dose_mg_per_kg=amount if per_kg else None,
            boosters=boosters,
            booster_mg=numbers["booster_mg"] if boosters else None,
            booster_window_min=window,
            max_total_mg=numbers["max_total"],
            verbal=self.verbal.isChecked(),
        )
        return order, ordered_by, check_order(order, dosing)
