"""The course summary's export from the client history screen (issue 17): Ctrl+Shift+E (or its
button) opens the dialog for the client shown; the export runs through
`CourseSummaryService`, with the chart drawn by `course_chart.py`, and the status line says
where it was written. Built by the start controller when a history is first shown."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QObject

from kapsession.domain.clock import Clock
from kapsession.paths import documents_dir
from kapsession.records.errors import StorageError
from kapsession.services.course_summary import CourseSummaryService, summary_file_name
from kapsession.ui.main_window import MainWindow


class CourseSummaryController(QObject):
    def __init__(
        self,
        window: MainWindow,
        summaries: CourseSummaryService,
        clock: Clock,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.summaries = summaries
        self.clock = clock
        window.history_view.summary_requested.connect(self.export_summary)

    def export_summary(self, client_id: uuid.UUID) -> None:
        from kapsession.ui.course_chart import course_chart_for
        from kapsession.ui.course_summary_dialog import CourseSummaryDialog, SummaryChoice

        view = self.window.history_view
        dialog = CourseSummaryDialog(view.title.text(), documents_dir(), self.window)
        client = self.summaries.client(client_id)

        def name(export_format: str) -> None:
            dialog.show_name(summary_file_name(client, self.clock.now(), export_format))

        def export(choice: SummaryChoice) -> None:
            try:
                written = self.summaries.export(
                    client_id,
                    choice.export_format,
                    choice.out,
                    chart_for=course_chart_for,
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
