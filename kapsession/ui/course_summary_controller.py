"""The course summary's export from the client history screen (issue 17): Ctrl+Shift+E (or its
button) opens the dialog for the client shown; the export runs through
`CourseSummaryService`, with the chart drawn by `course_chart.py`, and the status line says
where it was written. Built by the start controller when a history is first shown.

The person exporting is named in the dialog and confirmed by their PIN (`PinService.verify`,
audited, with its waits); the export's audit row names them (issue 18). On training data
nobody need be named, and a PIN left empty is not asked for."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from kapsession.domain.clock import Clock
from kapsession.paths import documents_dir
from kapsession.records.errors import StorageError
from kapsession.services.course_summary import CourseSummaryService, summary_file_name
from kapsession.services.pins import PinService
from kapsession.services.session_service import SessionService
from kapsession.ui.main_window import MainWindow

if TYPE_CHECKING:
    from kapsession.ui.course_summary_dialog import SummaryChoice

EXPORT_PURPOSE = "export a course summary"


class CourseSummaryController(QObject):
    def __init__(
        self,
        window: MainWindow,
        summaries: CourseSummaryService,
        clock: Clock,
        parent: QObject | None = None,
        *,
        service: SessionService | None = None,
        pins: PinService | None = None,
        training: Callable[[], bool] = lambda: False,
    ) -> None:
        """`service`: the staff list; `pins`: their PINs; `training`: whether the data is
        training data (asked when the dialog opens)."""
        super().__init__(parent)
        self.window = window
        self.summaries = summaries
        self.clock = clock
        self.service = service
        self.pins = pins
        self.training = training
        window.history_view.summary_requested.connect(self.export_summary)

    def export_summary(self, client_id: uuid.UUID) -> None:
        from kapsession.ui.course_chart import course_chart_for
        from kapsession.ui.course_summary_dialog import CourseSummaryDialog

        view = self.window.history_view
        training = self.training()
        staff = self.service.staff.active() if self.service is not None else []
        dialog = CourseSummaryDialog(
            view.title.text(), documents_dir(), self.window, staff=staff, pin_needed=not training
        )
        client = self.summaries.client(client_id)

        def name(export_format: str) -> None:
            dialog.show_name(summary_file_name(client, self.clock.now(), export_format))

        def export(choice: SummaryChoice) -> None:
            refused = self._refused(choice, training)
            if refused is not None:
                dialog.pin_refused(refused)
                return
            try:
                written = self.summaries.export(
                    client_id,
                    choice.export_format,
                    choice.out,
                    chart_for=course_chart_for,
                    by=choice.by,
                )
            except StorageError as exc:  # ExportRefused too: a message staff can act on
                dialog.show_problem(str(exc))
                return
            dialog.accept()
            self.window.statusBar().showMessage(
                f"Course summary of {written.client} written to {written.path}.", 10000
            )

        dialog.name_requested.connect(name)
        dialog.export_requested.connect(export)
        dialog.suggest_name()
        dialog.exec()
        view.focus_table()

    def _refused(self, choice: SummaryChoice, training: bool) -> str | None:
        """Why the person named may not export it (no PIN, a wrong one), or None."""
        if choice.by is None or (training and not choice.pin):
            return None if training else "Choose who is exporting, and type their PIN."
        if self.pins is None:
            return "PINs cannot be checked here. Nothing was written."
        check = self.pins.verify(
            choice.by, choice.pin, purpose=EXPORT_PURPOSE, not_done="Nothing was written."
        )
        return None if check.ok else check.message
