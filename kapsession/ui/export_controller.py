"""Exporting the open session: the Export dialog's requests to the export service.

The dialog collects the choice (format, participant, private notes, page, file); this
controller gathers, renders, writes and audits through `ExportService` and tells the dialog
what came of it. The PDF's vitals chart is drawn here (`export_chart.chart_for`).

The dialog, the export service and the export modules behind it are imported when Export is
first used: the app starts without them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from kapsession.paths import documents_dir
from kapsession.records.errors import StorageError
from kapsession.records.sessions import SessionRecord
from kapsession.services.live_session import LiveSession
from kapsession.ui.main_window import MainWindow

if TYPE_CHECKING:
    from kapsession.services.exports import ExportResult, ExportService
    from kapsession.ui.export_dialog import ExportChoice, ExportDialog, ExportFormat

PAGED_FORMATS = ("pdf", "rems")


def offered_formats(*, esketamine: bool) -> list[ExportFormat]:
    """The formats a session can be exported in (the REMS form for esketamine only)."""
    from kapsession.services.exports import FORMAT_NAMES, SUFFIXES
    from kapsession.ui.export_dialog import ExportFormat

    return [
        ExportFormat(key, name, SUFFIXES[key], key in PAGED_FORMATS)
        for key, name in FORMAT_NAMES.items()
        if key != "rems" or esketamine
    ]


class ExportController(QObject):
    def __init__(
        self,
        window: MainWindow,
        exports: Callable[[], ExportService],
        *,
        parent: QObject | None = None,
    ) -> None:
        """`exports`: the export service, asked for when Export is first used."""
        super().__init__(parent)
        self.window = window
        self._exports = exports
        self.live: LiveSession | None = None
        window.live_view.export_requested.connect(self._on_export)

    @property
    def exports(self) -> ExportService:
        return self._exports()

    def open(self, live: LiveSession) -> None:
        self.live = live

    def close(self) -> None:
        self.live = None

    def _on_export(self) -> None:
        live = self.live
        if live is None:
            return
        dialog = self.dialog(
            live.record,
            folder=documents_dir(),
            esketamine=live.protocol.dosing.device_mg is not None,
            # the person working as (issue 18): who switched in at the keyboard, else the
            # therapist, else the monitoring clinician; the audit row and the private notes'
            # rule go by them
            by=live.acting_staff_id or live.nurse_author(),
            parent=self.window,
        )
        dialog.exec()

    def dialog(
        self,
        record: SessionRecord,
        *,
        folder: Path,
        esketamine: bool,
        by: uuid.UUID | None,
        parent: MainWindow | None = None,
    ) -> ExportDialog:
        """The Export dialog for `record`, its requests answered, a file name suggested;
        `by`: who exports (the audit row's)."""
        from kapsession.ui.export_dialog import ExportDialog

        dialog = ExportDialog(
            record, offered_formats(esketamine=esketamine), folder=folder, parent=parent
        )
        dialog.name_requested.connect(
            lambda key, participant: self._suggest(dialog, record, key, participant)
        )
        dialog.export_requested.connect(lambda choice: self._export(dialog, record, choice, by))
        dialog.copy_requested.connect(lambda choice: self._copy(dialog, record, choice, by))
        dialog.suggest_name()
        return dialog

    def _suggest(
        self, dialog: ExportDialog, record: SessionRecord, key: str, participant: str
    ) -> None:
        from kapsession.services.exports import default_file_name

        try:
            content = self.exports.content(record.id, participant=participant)
        except StorageError as exc:
            dialog.show_problem(str(exc))
            return
        dialog.show_name(default_file_name(content, key))

    def _export(
        self,
        dialog: ExportDialog,
        record: SessionRecord,
        choice: ExportChoice,
        by: uuid.UUID | None,
    ) -> None:
        from kapsession.export.content import ExportRefused
        from kapsession.services.exports import ExportRequest
        from kapsession.ui.export_chart import chart_for

        request = ExportRequest(
            session_id=record.id,
            export_format=choice.export_format,
            out=choice.out,
            participant=choice.participant,
            include_private=choice.include_private,
            page=choice.page,
        )
        try:
            result = self.exports.export(request, by=by, chart_for=chart_for)
        except (ExportRefused, StorageError, OSError) as exc:
            dialog.show_problem(str(exc))
            return
        self._done(result)
        dialog.exported(result.files)

    def _done(self, result: ExportResult) -> None:
        self.window.live_view.show_saved(
            f"Exported {', '.join(p.name for p in result.files)}"
            + (" (DRAFT)" if result.draft else "")
        )

    def _copy(
        self,
        dialog: ExportDialog,
        record: SessionRecord,
        choice: ExportChoice,
        by: uuid.UUID | None,
    ) -> None:
        from kapsession.export.content import ExportRefused

        try:
            content = self.exports.content(
                record.id, participant=choice.participant, include_private=choice.include_private
            )
            text = self.exports.plain_text(content, by=by)
        except (ExportRefused, StorageError) as exc:
            dialog.show_problem(str(exc))
            return
        dialog.copied(text)
