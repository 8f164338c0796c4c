"""The session-note templates a therapist can pick: the built-in ones and the clinic's own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from kapsession.domain.note_templates import (
    DEFAULT_NOTE_TEMPLATE_KEY,
    NoteTemplate,
    NoteTemplateError,
    list_note_template_files,
    read_note_template,
)

log = logging.getLogger(__name__)


class UnknownNoteTemplate(LookupError):
    """No valid note template with that key."""


@dataclass(frozen=True)
class NoteTemplateCatalog:
    """Built-in templates, replaced key by key by valid files in the clinic's folder (if any)."""

    builtin: Path
    clinic: Path | None = None
    default_key: ClassVar[str] = DEFAULT_NOTE_TEMPLATE_KEY

    def scan(self) -> tuple[list[NoteTemplate], list[NoteTemplateError]]:
        """Every usable template by name, and the problems of the rest (never raises for a file).

        A broken clinic file is skipped, so the built-in template with its key stays offered.
        """
        problems: list[NoteTemplateError] = []
        if not self.builtin.is_dir():
            problems.append(
                NoteTemplateError(
                    str(self.builtin),
                    None,
                    None,
                    "the built-in note template folder is missing; reinstall kapsession",
                )
            )
        templates = self._read_folder(self.builtin, problems)
        if self.clinic is not None:
            if self.clinic.exists() and not self.clinic.is_dir():
                problems.append(
                    NoteTemplateError(
                        str(self.clinic),
                        None,
                        None,
                        "is a file, not a folder; put the clinic's note templates in a folder "
                        "of that name",
                    )
                )
            templates.update(self._read_folder(self.clinic, problems))
        for problem in problems:
            log.warning("note template skipped: %s", problem)
        return sorted(templates.values(), key=lambda t: (t.name.casefold(), t.key)), problems

    def get(self, key: str) -> NoteTemplate:
        templates, problems = self.scan()
        for template in templates:
            if template.key == key:
                return template
        known = ", ".join(t.key for t in templates) or "none"
        broken = "".join(f"\n  {p}" for p in problems)
        raise UnknownNoteTemplate(
            f'No valid note template "{key}". Available: {known}.'
            + (f"\nThese note template files have errors:{broken}" if broken else "")
        )

    @staticmethod
    def _read_folder(folder: Path, problems: list[NoteTemplateError]) -> dict[str, NoteTemplate]:
        """The valid templates in one folder by key; a second file with a key is reported."""
        try:
            paths = list_note_template_files(folder)
        except OSError as exc:
            problems.append(
                NoteTemplateError(
                    str(folder),
                    None,
                    None,
                    f"cannot be read ({exc.strerror or exc}); check the folder's permissions",
                )
            )
            return {}
        found: dict[str, tuple[NoteTemplate, Path]] = {}
        for path in paths:
            try:
                template = read_note_template(path)
            except NoteTemplateError as exc:
                problems.append(exc)
                continue
            if template.key in found:
                first = found[template.key][1].name
                problems.append(
                    NoteTemplateError(
                        path.name,
                        None,
                        "template.key",
                        f'{first} already uses key "{template.key}"; give this template a key '
                        "of its own",
                    )
                )
                continue
            found[template.key] = (template, path)
        return {key: template for key, (template, _path) in found.items()}
