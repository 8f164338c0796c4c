"""The escort for the day (issue 17): Y on the live screen, for the participant shown.

Who takes them home: name, relationship and phone; or "No escort — client told to arrange
transport" (the fields then left out). When one is recorded already the dialog holds it and
asks why it changes: the new one is a correction, the earlier one kept. Keyboard only: Tab goes
name, relationship, phone, no escort, reason; Enter records, Esc cancels. On Enter the dialog
hands what was typed to `submit` (the controller's: it checks and saves); a problem comes back
under the form with the keys in the field to fix, nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.escort import NONE_TEXT, Escort
from kapsession.ui.dialogs import _buttons, fit_height

# what was typed (name, relationship, phone, none, reason) -> (field to fix, message) or None
Submit = Callable[[str, str, str, bool, str], tuple[str, str] | None]


class EscortDialog(QDialog):
    def __init__(
        self,
        participant: str,
        recorded: Escort | None,
        submit: Submit,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.submit = submit
        self.setWindowTitle(f"Escort today — {participant}")
        self.setMinimumWidth(560)
        heading = QLabel(
            f"Who takes {participant} home today. "
            + ("Not recorded yet." if recorded is None else f"Recorded: {recorded.text()}.")
        )
        heading.setWordWrap(True)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        held = recorded or Escort()
        self.name = self._line("Escort's name", held.name)
        self.relationship = self._line("Relationship", held.relationship)
        self.phone = self._line("Phone", held.phone)
        self.none = QCheckBox(f"No escort — {NONE_TEXT.removeprefix('none — ')}")
        self.none.setAccessibleName("No escort: client told to arrange transport")
        self.none.setChecked(held.none)
        self.reason = self._line("Reason for the change (required; it goes on the record)", "")
        self.reason.setPlaceholderText("Why it changes: it goes on the record")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Relationship", self.relationship)
        form.addRow("Phone", self.phone)
        form.addRow("", self.none)
        if recorded is not None:
            form.addRow("Reason (required)", self.reason)
        else:
            self.reason.hide()
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        self.buttons = _buttons(self, "Record escort")
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.fields = {
            "name": self.name,
            "relationship": self.relationship,
            "phone": self.phone,
            "reason": self.reason,
        }
        self.none.toggled.connect(self._none_toggled)
        self._none_toggled(self.none.isChecked())
        (self.none if held.none else self.name).setFocus()
        fit_height(self)

    @staticmethod
    def _line(name: str, text: str) -> QLineEdit:
        box = QLineEdit(text)
        box.setAccessibleName(name)
        return box

    def _none_toggled(self, none: bool) -> None:
        for box in (self.name, self.relationship, self.phone):
            box.setEnabled(not none)  # out of the Tab chain: nobody to name

    def accept(self) -> None:
        problem = self.submit(
            self.name.text(),
            self.relationship.text(),
            self.phone.text(),
            self.none.isChecked(),
            self.reason.text(),
        )
        if problem is None:
            super().accept()
            return
        field, message = problem
        self.problem.setText(message)
        self.problem.show()
        widget = self.fields.get(field)
        if widget is not None and widget.isEnabled():
            widget.setFocus()
        fit_height(self)
