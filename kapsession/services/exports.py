"""Exporting a session: gather it for one participant, render a format, write it, audit it.

Used by the Export dialog and by `kapsession export`. The PDF's vitals chart is drawn by the
UI layer; whoever runs the export passes `chart_for` (content -> draw(width_px, height_px)).
Each format's module is imported when it is first used, so opening the app loads none of them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.clock import Clock
from kapsession.domain.roles import ROLE_NAMES
from kapsession.export.content import FORMATS, ExportContent, ExportRefused
from kapsession.export.files import FILE, check_destination, what_is_at, write_atomically
from kapsession.records.errors import NotFound
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.export_content import gather, record_export
from kapsession.storage.database import Database
from kapsession.storage.people import StaffRepository

FORMAT_NAMES = {
    "pdf": "PDF record",
    "md": "Markdown / text for the EHR",
    "csv": "CSV (readings and events)",
    "fhir": "FHIR R4 bundle (JSON)",
    "rems": "SPRAVATO REMS monitoring form (PDF)",
}
SUFFIXES = {"pdf": ".pdf", "md": ".md", "csv": ".csv", "fhir": ".json", "rems": ".pdf"}
ChartFor = Callable[[ExportContent], Callable[[int, int], Any]]


@dataclass(frozen=True)
class ExportRequest:
    session_id: uuid.UUID
    export_format: str
    out: Path
    participant: str | None = None
    include_private: bool = False
    force: bool = False
    page: str = "A4"  # or "Letter"


@dataclass(frozen=True)
class ExportResult:
    files: tuple[Path, ...]
    draft: bool
    participant: str


def default_file_name(content: ExportContent, export_format: str) -> str:
    """e.g. `2026-11-26 Fischer, Maya - session 3.pdf`"""
    client = content.participant.client
    day = (content.session.started_at or content.session.created_at).astimezone()
    number = content.participant.session_number
    what = "REMS" if export_format == "rems" else f"session {number}" if number else "session"
    draft = " DRAFT" if content.draft else ""
    name = f"{day:%Y-%m-%d} {client.family_name}, {client.given_name} - {what}{draft}"
    return "".join(c for c in name if c not in '/\\:*?"<>|') + SUFFIXES[export_format]


def check_private_notes(
    rules: RoleRules, who: StaffRecord | None, session: SessionRecord, *, training: bool
) -> None:
    """ExportRefused unless `who` may take the session's private psychotherapy notes out of the
    app: its therapist, or a role the clinic's rules allow (`RoleRules.may_read_private`). On
    training data nobody need be named."""
    if who is None:
        if training:
            return
        raise ExportRefused(
            "The private psychotherapy notes are exported only by a named person (the "
            "session's therapist). Nothing was written."
        )
    if rules.may_read_private(who.role, session_therapist=who.id == session.therapist_id):
        return
    allowed = sorted(ROLE_NAMES[r].lower() for r in rules.may_read_private_notes)
    also = f" or a {' or '.join(allowed)}" if allowed else ""
    raise ExportRefused(
        f"{who.signature_name} ({ROLE_NAMES[who.role].lower()}) may not export the private "
        f"psychotherapy notes: only the session's therapist{also} may (the clinic's rules). "
        "Nothing was written; export without the private notes."
    )


class ExportService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        chart_for: ChartFor | None = None,
        roles: RoleRules = DEFAULT_ROLE_RULES,
        training: bool = False,
    ):
        """`roles`: the clinic's, for who may export private notes; `training`: the database
        holds training data (nobody need be named for its private notes)."""
        self._db = database
        self._clock = clock
        self._chart_for = chart_for
        self._roles = roles
        self._training = training

    def check_private(self, content: ExportContent, by: uuid.UUID | None) -> None:
        """ExportRefused when `content` holds the private notes and `by` may not take them."""
        if content.private_notes is None:
            return
        who: StaffRecord | None = None
        if by is not None:
            try:
                who = StaffRepository(self._db).get(by)
            except NotFound:
                raise ExportRefused(
                    "The person exporting is not on the staff list. Nothing was written."
                ) from None
        check_private_notes(self._roles, who, content.session, training=self._training)

    def content(
        self,
        session_id: uuid.UUID,
        *,
        participant: str | None = None,
        include_private: bool = False,
    ) -> ExportContent:
        return gather(
            self._db,
            session_id,
            participant=participant,
            include_private=include_private,
            exported_at=self._clock.now(),
        )

    def render(
        self,
        content: ExportContent,
        export_format: str,
        out: Path,
        page: str,
        *,
        chart_for: ChartFor | None = None,
    ) -> dict[Path, bytes]:
        """The files of one export, by path (CSV is two files), not yet written. `chart_for`:
        the PDF's vitals chart, instead of the one given when the service was made."""
        if export_format == "pdf":
            from kapsession.export.pdf import to_pdf

            chart_for = chart_for or self._chart_for
            chart = None if chart_for is None else chart_for(content)
            return {out: to_pdf(content, page=page, chart=chart, clinic=content.session.room)}
        if export_format == "rems":
            from kapsession.export.rems import rems_pdf

            return {out: rems_pdf(content, page=page)}
        if export_format == "md":
            from kapsession.export.text import to_markdown

            return {out: to_markdown(content).encode("utf-8")}
        if export_format == "csv":
            from kapsession.export.csv_export import csv_files

            return {path: text.encode("utf-8") for path, text in csv_files(content, out).items()}
        if export_format == "fhir":
            from kapsession.export.fhir import to_fhir_json

            return {out: to_fhir_json(content).encode("utf-8")}
        raise ExportRefused(
            f'Unknown format "{export_format}"; choose one of: {", ".join(FORMATS)}.'
        )

    def export(
        self,
        request: ExportRequest,
        *,
        by: uuid.UUID | None = None,
        chart_for: ChartFor | None = None,
    ) -> ExportResult:
        """Gather, render, write each file atomically, then write the audit row."""
        if request.export_format not in FORMATS:
            raise ExportRefused(
                f'Unknown format "{request.export_format}"; choose one of: {", ".join(FORMATS)}.'
            )
        if request.page not in ("A4", "Letter"):
            raise ExportRefused('The page size is "A4" or "Letter".')
        if os.path.isdir(request.out):  # CSV writes beside the name given: a folder too
            raise ExportRefused(
                f"{request.out} is a folder; give a file name to write, e.g. "
                f"{request.out / ('record' + SUFFIXES[request.export_format])}."
            )
        existing = what_is_at(request.out) if request.export_format == "csv" else None
        if existing not in (None, FILE):  # CSV names its files after it: not beside a device
            example = request.out.parent / ("record" + SUFFIXES[request.export_format])
            raise ExportRefused(
                f"{request.out} is {existing}, not a file an export may write; give the name "
                f"of a file, e.g. {example}."
            )
        for path in self._targets(request):
            check_destination(path, force=request.force)  # before any work is done
        content = self.content(
            request.session_id,
            participant=request.participant,
            include_private=request.include_private,
        )
        self.check_private(content, by)  # before anything is rendered or written
        files = self.render(
            content, request.export_format, request.out, request.page, chart_for=chart_for
        )
        for path in files:
            check_destination(path, force=request.force)
        for path, data in files.items():
            write_atomically(path, data, force=request.force)
        record_export(
            self._db,
            content,
            export_format=request.export_format,
            destination=", ".join(str(p) for p in files),
            at=self._clock.now(),
            by=by,
        )
        return ExportResult(tuple(files), content.draft, content.client_name)

    @staticmethod
    def _targets(request: ExportRequest) -> tuple[Path, ...]:
        if request.export_format == "csv":
            from kapsession.export.csv_export import csv_paths

            return csv_paths(request.out)
        return (request.out,)

    def plain_text(self, content: ExportContent, *, by: uuid.UUID | None = None) -> str:
        """ "Copy for EHR": the plain-text record, audited as an export to the clipboard."""
        from kapsession.export.text import to_plain_text

        self.check_private(content, by)
        text: str = to_plain_text(content)
        record_export(
            self._db,
            content,
            export_format="text",
            destination="clipboard",
            at=self._clock.now(),
            by=by,
        )
        return text
