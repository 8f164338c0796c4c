"""The prescriber's order in the room (issue 16): a verbal order countersigned with their PIN,
and an order recorded for a participant without one (`OrderDialog`, from the dose dialog).

The countersignature asks with a signal (`countersign_requested`), answered by
`answer(outcome)` before `emit` returns, as the signing dialogs are; a prescriber without a PIN
has not signed in yet, and the dialog says how they set their own (nothing is set here). Enter
confirms, Escape cancels.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import DosingSpec
from kapsession.records.notes import SignOutcome
from kapsession.records.people import StaffRecord
from kapsession.ui.dialogs import _buttons, fit_height
from kapsession.ui.order_fields import OrderFields
from kapsession.ui.team_dialogs import _StepInDialog


class CountersignDialog(_StepInDialog):
    """The prescriber who gave a verbal order confirms it: their PIN."""

    countersign_requested = Signal(object, str)  # staff id, PIN; answered by answer()

    def __init__(
        self,
        order_text: str,
        prescribers: Sequence[StaffRecord],
        ordered_by: uuid.UUID,
        with_pin: Collection[uuid.UUID],
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Countersign the verbal order",
            f"Verbal order: {order_text}. The prescriber who gave it confirms it with their "
            "own PIN; the countersignature goes on the record with who and when.",
            "Prescriber",
            prescribers,
            ordered_by,
            with_pin,
            "Countersign",
            parent,
        )
        self._chain_tabs()

    def _submit(self, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        self.countersign_requested.emit(staff_id, pin)
        return self._asked()


class OrderDialog(QDialog):
    """The prescriber's order for a participant without one, recorded in the room (from the
    dose dialog): prefilled with the protocol's usual order; the prescriber confirms it with
    their PIN, or it is recorded as a verbal order that they countersign later. Enter records
    it when everything typed is valid; Escape cancels.

    The controller runs it in a loop, as the dose dialog: `while dialog.exec(): typed =
    dialog.value(); ... record; if saved: break; dialog.show_refused(message)`."""

    def __init__(
        self,
        participant_name: str,
        dosing: DosingSpec,
        prescribers: Sequence[StaffRecord],
        prescriber_id: uuid.UUID | None,
        *,
        parent: QWidget | None = None,
    ) -> None:
        """`prescriber_id`: the session's prescriber on site, chosen as who ordered it."""
        super().__init__(parent)
        self.setWindowTitle(f"Record the order — {participant_name}")
        self.setMinimumWidth(720)
        title = QLabel(f"The prescriber's order for {participant_name}")
        title.setStyleSheet("font-size: 19px;")
        about = QLabel(
            "What the prescriber orders for this session. They confirm it with their own PIN; "
            "a verbal order (given by phone) is recorded without it and waits for their "
            "countersignature (Countersign… on the live screen)."
        )
        about.setObjectName("dim")
        about.setWordWrap(True)
        self.fields = OrderFields(prescribers, none_text=None)
        self.fields.set_protocol(dosing)
        self.fields.follow_prescriber(prescriber_id)
        self.pin = QLineEdit()
        self.pin.setAccessibleName("Prescriber's PIN")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaximumWidth(160)
        self.pin_note = QLabel()
        self.pin_note.setObjectName("dim")
        pin_row = QHBoxLayout()
        pin_row.addWidget(QLabel("Prescriber's PIN"))
        pin_row.addWidget(self.pin)
        pin_row.addWidget(self.pin_note, 1)
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = _buttons(self, "Record the order")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(about)
        layout.addWidget(self.fields)
        layout.addLayout(pin_row)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.fields.verbal.toggled.connect(self._verbal)
        self._verbal()
        self.fields.dose.setFocus()

    def value(self) -> tuple[DoseOrder, uuid.UUID, str] | None:
        """(the order, who ordered it, their PIN: "" for a verbal order), or None with every
        problem shown."""
        order, ordered_by, problems = self.fields.value()
        messages = [p.message for p in problems]
        if ordered_by is None:
            messages.append(
                "No one on the staff list may prescribe (the clinic's role rules): add the "
                "prescriber with Add staff, or press Escape."
            )
        verbal = self.fields.verbal.isChecked()
        if not verbal and not self.pin.text():
            messages.append(
                "The prescriber types their PIN; or tick Verbal order for an order given by "
                "phone, which they countersign later."
            )
        if messages or order is None or ordered_by is None:
            self._show_problem("Not recorded. " + " ".join(messages))
            return None
        return order, ordered_by, "" if verbal else self.pin.text()

    def show_refused(self, message: str) -> None:
        """The order was not recorded (a wrong PIN, the record refused): say why, the PIN
        emptied for a retry."""
        self.pin.clear()
        self._show_problem(f"The order was NOT recorded. {message}")
        if self.pin.isEnabled():
            self.pin.setFocus()

    def accept(self) -> None:
        if self.value() is not None:
            super().accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height(self)

    def _verbal(self) -> None:
        verbal = self.fields.verbal.isChecked()
        self.pin.setEnabled(not verbal)
        if verbal:
            self.pin.clear()
        self.pin_note.setText(
            "not now: the prescriber countersigns the verbal order later"
            if verbal
            else "the prescriber who ordered it"
        )

    def _show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        fit_height(self)
