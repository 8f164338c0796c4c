"""The Export dialog: format, participant, private notes, page size and where to write.

The dialog only collects the choice; `ExportService` gathers, renders, writes and audits.
"Copy for EHR" puts the plain-text record on the clipboard.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
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

from kapsession.export.content import ExportRefused
from kapsession.records.errors import StorageError
from kapsession.records.sessions import SessionRecord
from kapsession.services.exports import (
    FORMAT_NAMES,
    SUFFIXES,
    ExportRequest,
    ExportResult,
    ExportService,
    default_file_name,
)


class ExportDialog(QDialog):
    def __init__(
        self,
        record: SessionRecord,
        exports: ExportService,
        *,
        folder: Path,
        esketamine: bool,
        by: uuid.UUID | None,
        parent: QWidget | None = None,
        on_done: Callable[[ExportResult], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export the session record")
        self._record = record
        self._exports = exports
        self._by = by
        self._on_done = on_done
        self.result_files: tuple[Path, ...] = ()
        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for key, name in FORMAT_NAMES.items():
            if key == "rems" and not esketamine:
                continue
            self.format.addItem(name, key)
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
        if record.status != "signed":
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
        self.format.currentIndexChanged.connect(lambda _i: self._suggest())
        self.participant.currentIndexChanged.connect(lambda _i: self._suggest())
        self._suggest()
        self.resize(640, 300)

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def _participant(self) -> str:
        return str(self.participant.currentData())

    def _suggest(self) -> None:
        """A file name in the export folder from the session, client and format."""
        key = self.chosen_format()
        self.page.setEnabled(key in ("pdf", "rems"))
        try:
            content = self._exports.content(self._record.id, participant=self._participant())
        except StorageError as exc:
            self._fail(str(exc))
            return
        self.path.setText(str(self._folder / default_file_name(content, key)))

    def _choose(self) -> None:
        key = self.chosen_format()
        path, _filter = QFileDialog.getSaveFileName(
            self, "Save the export as", self.path.text(), f"*{SUFFIXES[key]}"
        )
        if path:
            self.path.setText(path)

    def request(self, *, force: bool = False) -> ExportRequest:
        return ExportRequest(
            session_id=self._record.id,
            export_format=self.chosen_format(),
            out=Path(self.path.text()).expanduser(),
            participant=self._participant(),
            include_private=self.private.isChecked(),
            force=force,
            page=str(self.page.currentData()),
        )

    def _export(self) -> None:
        self.problem.hide()
        if not self.path.text().strip():
            self._fail("Choose where to save the export.")
            return
        progress = QProgressDialog("Writing the export…", "", 0, 0, self)
        progress.setCancelButton(None)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        try:
            result = self._exports.export(self.request(), by=self._by)
        except (ExportRefused, StorageError, OSError) as exc:
            progress.close()
            self._fail(str(exc))
            return
        progress.close()
        self.result_files = result.files
        if self._on_done is not None:
            self._on_done(result)
        self.accept()

    def _copy(self) -> None:
        self.problem.hide()
        try:
            content = self._exports.content(
                self._record.id,
                participant=self._participant(),
                include_private=self.private.isChecked(),
            )
            text = self._exports.plain_text(content, by=self._by)
        except (ExportRefused, StorageError) as exc:
            self._fail(str(exc))
            return
        QApplication.clipboard().setText(text)
        self.copy_button.setText("Copied — paste it into the EHR")

    def _fail(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.show()
