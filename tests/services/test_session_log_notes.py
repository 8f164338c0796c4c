"""The event list's rows for notes: each says what kind of note it is, also once amended (an
amended intention reads "Intention (amended)", never as a plain note)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kapsession.records.notes import NoteKind, NoteRecord
from kapsession.services.session_log import note_items

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _note(kind: NoteKind, text: str, corrects: NoteRecord | None = None) -> NoteRecord:
    later = timedelta(minutes=5 if corrects else 0)
    return NoteRecord(
        id=uuid.uuid4(),
        session_id=uuid.uuid4() if corrects is None else corrects.session_id,
        participant_id=None,
        kind=kind,
        text=text,
        occurred_at=AT,
        recorded_at=AT + later,
        author_id=None,
        corrects_id=None if corrects is None else corrects.id,
        correction_reason=None if corrects is None else "Typo",
    )


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        (NoteKind.ENTRY, "Note"),
        (NoteKind.INTENTION, "Intention"),
        (NoteKind.ADDENDUM, "Addendum"),
    ],
)
def test_a_note_and_its_amendment_keep_their_kind_in_the_title(kind: NoteKind, title: str) -> None:
    # Given a note of a kind and its amendment
    first = _note(kind, "kindness toward the grif")
    amended = _note(kind, "kindness toward the grief", corrects=first)
    # When the event list's rows are made
    rows = note_items([first, amended], {})
    # Then both name the kind, the amendment marked as such
    assert [r.title for r in rows] == [title, f"{title} (amended)"]
