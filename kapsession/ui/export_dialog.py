"""The Export dialog: format, participant, private notes, page size and where to write.

The dialog only collects the choice and shows what came of it: it asks for a file name
(`name_requested`), an export (`export_requested`) and the text for the EHR (`copy_requested`),
and the export controller answers (`show_name`, `exported`, `copied`, `show_problem`).
"Copy for EHR" puts the plain-text record on the clipboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.records.sessions import SessionRecord, SessionStatus


@dataclass(frozen=True)
class ExportFormat:
    key: str  # "pdf", "md", …
    name: str  # as offered
    suffix: str  # the file's, with its dot
    paged: bool  # a page size applies


@dataclass(frozen=True)
class ExportChoice:
    """What the dialog was set to when Export or Copy for EHR was pressed."""

    export_format: str
    out: Path
    participant: str  # the participant's id
    include_private: bool
    page: str  # "A4" or "Letter"


class ExportDialog(QDialog):
    name_requested = Signal(str, str)  # format, participant id: the file name to suggest
    export_requested = Signal(object)  # ExportChoice
    copy_requested = Signal(object)  # ExportChoice: the plain text, onto the clipboard

    def __init__(
        self,
        record: SessionRecord,
        formats: list[ExportFormat],
        *,
        folder: Path,
        parent: QWidget | None = None,
    ) -> None:
        """`formats`: those offered for this session. Connect the requests, then call
        `suggest_name()` for the first file name."""
        super().__init__(parent)
        self.setWindowTitle("Export the session record")
        self._record = record
        self._formats = {f.key: f for f in formats}
        self._progress: QProgressDialog | None = None
        self.result_files: tuple[Path, ...] = ()
        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for export_format in formats:
            self.format.addItem(export_format.name, export_format.key)
        self.participant = QComboBox()
        self.participant.setAccessibleName("Participant")
        for p in record.participants:
            self.participant.addItem(p.client.full_name, str(p.id))
        self.participant.setEnabled(len(record.participants) > 1)
        self.private = QCheckBox("Include the private psychotherapy notes")
        self.private.setToolTip(
            "Psychotherapy notes are kept apart from the record (HIPAA §164.501); include them "
            "only when the client's care needs it."
        )
        self.page = QComboBox()
        self.page.setAccessibleName("Page size")
        self.page.addItem("A4", "A4")
        self.page.addItem("US Letter", "Letter")
        self.path = QLineEdit()
        self.path.setAccessibleName("Save as")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(choose)
        self._folder = folder
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("For", self.participant)
        form.addRow("Page size", self.page)
        form.addRow("", self.private)
        form.addRow("Save as", where)
        self.draft = QLabel()
        self.draft.setObjectName("dim")
        self.draft.setWordWrap(True)
        if record.status != SessionStatus.SIGNED:
            self.draft.setText(
                "This session is not signed yet: the export is marked DRAFT on every page."
            )
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.copy_button = QPushButton("Copy for EHR")
        self.copy_button.setToolTip("Put the record as plain text on the clipboard, to paste")
        self.copy_button.clicked.connect(self._copy)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("primary")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._export)
        cancel = QPushButton("Close")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.draft)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.format.currentIndexChanged.connect(lambda _i: self.suggest_name())
        self.participant.currentIndexChanged.connect(lambda _i: self.suggest_name())
        self.resize(640, 300)

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def _participant(self) -> str:
        return str(self.participant.currentData())

    def suggest_name(self) -> None:
        """A file name in the export folder from the session, client and format."""
        key = self.chosen_format()
        self.page.setEnabled(self._formats[key].paged)
        self.name_requested.emit(key, self._participant())

    def show_name(self, name: str) -> None:
        self.path.setText(str(self._folder / name))

    def _choose(self) -> None:
        key = self.chosen_format()
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the export as", self.path.text(), f"*{self._formats[key].suffix}"
        )
        if path:
            self.path.setText(path)

    def choice(self) -> ExportChoice:
        return ExportChoice(
            export_format=self.chosen_format(),
            out=Path(self.path.text()).expanduser(),
            participant=self._participant(),
            include_private=self.private.isChecked(),
            page=str(self.page.currentData()),
        )

    def _export(self) -> None:
        self.problem.hide()
        if not self.path.text().strip():
            self.show_problem("Choose where to save the export.")
            return
        progress = QProgressDialog("Writing the export…", "", 0, 0, self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        self._progress = progress
        self.export_requested.emit(self.choice())
        self._end_progress()  # not answered: nothing was written

    def exported(self, files: tuple[Path, ...]) -> None:
        """The export was written: the dialog closes."""
        self._end_progress()
        self.result_files = files
        self.accept()

    def _copy(self) -> None:
        self.problem.hide()
        self.copy_requested.emit(self.choice())

    def copied(self, text: str) -> None:
        QApplication.clipboard().setText(text)
        self.copy_button.setText("Copied — paste it into the EHR")

    def show_problem(self, message: str) -> None:
        """Why the name, the export or the copy could not be made; the dialog stays open."""
        self._end_progress()
        self.problem.setText(message)
        self.problem.show()

    def _end_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None
