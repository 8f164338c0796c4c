"""A client's course summary (issue 17): the plan, the sessions and their doses, the outcome
measures with the course chart, as a PDF or Markdown; the measures also as a FHIR bundle.

Reached from the client history screen (Ctrl+Shift+E) and `kapsession course-summary`. The
summary is read in one go (the history's queries, the courses, the doses, the measures' versions),
rendered by `export/course_summary.py` (the formats' module is imported when first used), written
atomically, then audited. The PDF's chart is drawn by the UI layer: whoever runs the export
passes `chart_for` (the chart's data -> draw(width_px, height_px)).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from kapsession.domain.clock import Clock
from kapsession.export.content import ExportRefused
from kapsession.export.files import check_destination, write_atomically
from kapsession.records.course_summary import (
    CourseChart,
    CoursePlan,
    CourseSummary,
    standing_doses,
)
from kapsession.records.history import ClientHistory
from kapsession.records.people import ClientRecord
from kapsession.services.client_history import ClientHistoryService
from kapsession.storage.audit import AuditRepository
from kapsession.storage.course_plans import CourseRepository
from kapsession.storage.course_summary import CourseSummaryRepository
from kapsession.storage.database import Database
from kapsession.storage.outcome_measures import OutcomeMeasureRepository
from kapsession.storage.people import StaffRepository

SUMMARY_FORMATS = ("pdf", "md", "fhir")
SUMMARY_SUFFIXES = {"pdf": ".pdf", "md": ".md", "fhir": ".json"}
CourseChartFor = Callable[[CourseChart], Callable[[int, int], Any]]


@dataclass(frozen=True)
class SummaryWritten:
    path: Path
    client: str


def summary_file_name(client: ClientRecord, at: datetime, export_format: str) -> str:
    """e.g. `2026-12-01 Fischer, Maya - course summary.pdf`"""
    name = f"{at.astimezone():%Y-%m-%d} {client.family_name}, {client.given_name}"
    name = "".join(c for c in f"{name} - course summary" if c not in '/\\:*?"<>|')
    return name + SUMMARY_SUFFIXES[export_format]


class CourseSummaryService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock
        self._history = ClientHistoryService(database)
        self._courses = CourseSummaryRepository(database)
        self._measures = OutcomeMeasureRepository(database)

    def find_client(self, text: str) -> ClientRecord:
        """A client by record number, name or id prefix (StorageError says what matched)."""
        return self._history.find_client(text)

    def client(self, client_id: uuid.UUID) -> ClientRecord:
        """The client (NotFound for an id not known)."""
        return self._history.history(client_id).client

    def summary(self, client_id: uuid.UUID) -> CourseSummary:
        """The client's course as it stands now."""
        versions = tuple(self._measures.history(client_id))
        history = self._history.history(client_id)
        return CourseSummary(
            history=history,
            plans=tuple(self._plan(p, history) for p in self._courses.plans(client_id)),
            doses=standing_doses(self._courses.doses(client_id)),
            made_at=self._clock.now(),
            measure_versions=versions,
            kinds=self._courses.session_kinds(client_id),
        )

    def _plan(self, course: CoursePlan, history: ClientHistory) -> CoursePlan:
        """The course with its plan as it stands (issue 17), started on its first session's
        day where that is earlier than the day the course row gives."""
        versions = CourseRepository(self._db).plan_history(course.id)
        plan = versions[-1].plan if versions else None
        prescriber = ""
        if plan is not None and plan.ordered_by is not None:
            staff = {s.id: s for s in StaffRepository(self._db).all()}
            found = staff.get(plan.ordered_by)
            prescriber = "" if found is None else found.signature_name
        days = [s.held_at.astimezone().date() for s in history.sessions if s.course_id == course.id]
        started = min([course.started_on, *days])
        return replace(course, plan=plan, prescriber=prescriber, started_on=started)

    def render(
        self,
        summary: CourseSummary,
        export_format: str,
        *,
        page: str = "A4",
        chart_for: CourseChartFor | None = None,
    ) -> bytes:
        """The summary as a file's bytes; `chart_for` draws the PDF's chart (none without)."""
        from kapsession.export import course_summary as formats

        if export_format == "pdf":
            return formats.summary_pdf(summary, page=page, chart_for=chart_for)
        if export_format == "md":
            return formats.summary_markdown(summary).encode("utf-8")
        if export_format == "fhir":
            from kapsession.export.fhir import measures_bundle_json

            return measures_bundle_json(summary).encode("utf-8")
        raise ExportRefused(
            f'Unknown format "{export_format}"; choose one of: {", ".join(SUMMARY_FORMATS)}.'
        )

    def export(
        self,
        client_id: uuid.UUID,
        export_format: str,
        out: Path,
        *,
        force: bool = False,
        page: str = "A4",
        chart_for: CourseChartFor | None = None,
        by: uuid.UUID | None = None,
    ) -> SummaryWritten:
        """Read, render, write atomically, then write the audit row. ExportRefused, nothing
        written, for a format or page not known or a destination that may not be written."""
        if export_format not in SUMMARY_FORMATS:
            raise ExportRefused(
                f'Unknown format "{export_format}"; choose one of: {", ".join(SUMMARY_FORMATS)}.'
            )
        if page not in ("A4", "Letter"):
            raise ExportRefused('The page size is "A4" or "Letter".')
        if os.path.isdir(out):  # False for a name too long too: check_destination says so
            raise ExportRefused(
                f"{out} is a folder; give a file name to write, e.g. "
                f"{out / ('course summary' + SUMMARY_SUFFIXES[export_format])}."
            )
        check_destination(out, force=force)  # before any work is done
        summary = self.summary(client_id)
        data = self.render(summary, export_format, page=page, chart_for=chart_for)
        write_atomically(out, data, force=force)
        AuditRepository(self._db).add(
            "export",
            at=self._clock.now(),
            staff_id=by,
            entity="client",
            entity_id=client_id,
            detail={"format": f"course_summary_{export_format}", "destination": str(out)},
        )
        return SummaryWritten(out, summary.client_name)
