"""Export the course summary (issue 17), from the client history screen (Ctrl+Shift+E): the
format (PDF, Markdown, or the measures as a FHIR bundle) and the file, suggested in the export
folder from the client's name and the day. Keyboard only: the format has the focus, Tab to
the file name, Enter exports, Esc cancels. A view: it asks with signals and is answered
(`show_name`, `show_problem`, `pin_refused`), the controller runs the export.

Who exports it is chosen below the file, with their PIN (issue 18): the audit row names them.
On training data nobody need be named, and a PIN may be left empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.records.people import StaffRecord

SUMMARY_FORMAT_NAMES = {
    "pdf": "PDF, with the chart",
    "md": "Markdown, for the EHR",
    "fhir": "FHIR bundle of the measures (JSON)",
}


@dataclass(frozen=True)
class SummaryChoice:
    export_format: str
    out: Path
    by: uuid.UUID | None = None  # who exports it
    pin: str = ""  # their PIN, checked by the controller


class CourseSummaryDialog(QDialog):
    name_requested = Signal(str)  # the format: answered with show_name
    export_requested = Signal(object)  # a SummaryChoice: answered with accept or show_problem

    def __init__(
        self,
        client_name: str,
        folder: Path,
        parent: QWidget | None = None,
        *,
        staff: Sequence[StaffRecord] = (),
        pin_needed: bool = True,
    ) -> None:
        """`staff`: who may be named as exporting it; `pin_needed`: False on training data."""
        super().__init__(parent)
        self.setWindowTitle(f"Course summary: {client_name}")
        self.setMinimumWidth(560)
        self._folder = folder
        self.format = QComboBox()
        for key, name in SUMMARY_FORMAT_NAMES.items():
            self.format.addItem(name, key)
        self.format.currentIndexChanged.connect(self.suggest_name)
        self.path = QLineEdit()
        self.path.setAccessibleName("File")
        choose = QPushButton("Choose…")
        choose.setAutoDefault(False)
        choose.clicked.connect(self._choose)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(choose)
        self.staff = QComboBox()
        self.staff.setAccessibleName("Exported by")
        self.staff.addItem("Choose who is exporting…", None)
        for member in staff:
            self.staff.addItem(member.signature_name, member.id)
        self.pin = QLineEdit()
        self.pin.setAccessibleName("PIN")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaximumWidth(160)
        self._pin_needed = pin_needed
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("File", where)
        form.addRow("Exported by", self.staff)
        form.addRow("PIN", self.pin)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.export_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("Export")
        self.export_button.setDefault(True)
        buttons.accepted.connect(self._export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "The course plan, the sessions and their doses, the questionnaires over the "
            "course and the chart."
        )
        intro.setWordWrap(True)
        intro.setObjectName("dim")
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.format.setFocus()

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def suggest_name(self) -> None:
        self.name_requested.emit(self.chosen_format())

    def show_name(self, name: str) -> None:
        self.path.setText(str(self._folder / name))

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.show()

    def pin_refused(self, message: str) -> None:
        """The PIN was not accepted: why, the PIN emptied for another try."""
        self.pin.clear()
        self.show_problem(message)
        self.pin.setFocus()

    def _choose(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the course summary as", self.path.text()
        )
        if path:
            self.path.setText(path)

    def _export(self) -> None:
        self.problem.hide()
        if not self.path.text().strip():
            self.show_problem("Choose where to save the course summary.")
            return
        by = self.staff.currentData()
        if by is None and self._pin_needed:
            self.show_problem("Choose who is exporting the summary: it is recorded as theirs.")
            self.staff.setFocus()
            return
        if by is not None and self._pin_needed and not self.pin.text():
            self.show_problem(f"{self.staff.currentText()} types their PIN.")
            self.pin.setFocus()
            return
        choice = SummaryChoice(
            self.chosen_format(),
            Path(self.path.text().strip()).expanduser(),
            by=by,
            pin=self.pin.text(),
        )
        self.export_requested.emit(choice)
