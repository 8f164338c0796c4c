"""The session record as Markdown and as plain text, to paste into an EHR note.

One document (`note_blocks.note_document`: headings, fields, tables, notes, one-line lists) is
built from the ExportContent and written out twice (`document_text.py`): Markdown for a file,
plain text for "Copy for EHR". Times are local (`tz`, the computer's zone by default).
"""

from __future__ import annotations

from datetime import tzinfo

from kapsession.export.content import ExportContent
from kapsession.export.document_text import markdown, plain_text
from kapsession.export.note_blocks import note_document


def to_markdown(content: ExportContent, *, tz: tzinfo | None = None) -> str:
    """The session record as a Markdown document (times in `tz`, the computer's by default)."""
    return markdown(note_document(content, tz))


def to_plain_text(content: ExportContent, *, tz: tzinfo | None = None) -> str:
    """The same document without Markdown, for an EHR that takes plain text."""
    return plain_text(note_document(content, tz))
