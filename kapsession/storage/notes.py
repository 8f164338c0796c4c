"""The therapist's notes: entries of the record, private notes, and drafts being typed.

An entry is committed the moment it is entered, in the same transaction that clears its draft,
so a crash either kept the draft or the entry, never both and never neither. Entries are
append-only: an amendment is a new row pointing at the original, with a reason; an entry taken
back (undo, entered in error) is a voiding correction, so the original stays visible.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from kapsession.domain.entry_text import note_length_problem
from kapsession.records.errors import NotFound, StorageError, TextRefused
from kapsession.records.notes import (
    DraftRecord,
    NoteKind,
    NoteRecord,
    Pad,
    PrivateNoteRecord,
    Sections,
)
from kapsession.storage.corrections import append_correction, correction_reason, standing_original
from kapsession.storage.database import Database
from kapsession.storage.entry_rules import check_participant
from kapsession.storage.note_save import NotePlace, insert_note, new_note, note_sql

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

PADS = tuple(Pad)


def sections_json(sections: Sections) -> list[dict[str, str]]:
    return [{"key": key, "title": title, "text": text} for key, title, text in sections]


def sections_tuple(data: list[dict[str, str]] | None) -> tuple[tuple[str, str, str], ...]:
    return tuple((s["key"], s["title"], s["text"]) for s in data or ())


def note_record(row: models.Note) -> NoteRecord:
    return NoteRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        kind=NoteKind(row.kind),
        text=row.text,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        author_id=row.author_id,
        phase_key=row.phase_key,
        elapsed_s=row.elapsed_s,
        since_dose_s=row.since_dose_s,
        template_key=row.template_key,
        sections=sections_tuple(row.sections),
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def private_note_record(row: models.PrivateNote) -> PrivateNoteRecord:
    return PrivateNoteRecord(
        id=row.id,
        session_id=row.session_id,
        participant_id=row.participant_id,
        text=row.text,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        author_id=row.author_id,
        phase_key=row.phase_key,
        elapsed_s=row.elapsed_s,
        since_dose_s=row.since_dose_s,
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )


def _draft_record(row: models.NoteDraft) -> DraftRecord:
    return DraftRecord(
        session_id=row.session_id,
        pad=row.pad,
        text=row.text,
        updated_at=row.updated_at,
        author_id=row.author_id,
        template_key=row.template_key,
        sections=sections_tuple(row.sections),
        participant_id=row.participant_id,
    )


def check_note_text(text: str) -> str:
    """The text as typed, if there is something in it and it is not too long
    (`domain.entry_text.NOTE_MAX_CHARS`): kept exactly, never trimmed inside."""
    if not text.strip():
        raise StorageError("The note is empty: type something before saving it.")
    too_long = note_length_problem(text)
    if too_long is not None:
        raise TextRefused(too_long)
    return text


def clear_draft_row(orm: OrmSession, session_id: uuid.UUID, pad: str) -> None:
    orm.execute(
        delete(models.NoteDraft).where(
            models.NoteDraft.session_id == session_id, models.NoteDraft.pad == pad
        )
    )


def _check_pad(pad: str) -> None:
    if pad not in PADS:
        raise StorageError(f"Unknown note pad {pad!r}.")


class NoteRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # entries of the record -------------------------------------------------------------------
    def add_entry(
        self,
        session_id: uuid.UUID,
        text: str,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        participant_id: uuid.UUID | None = None,
        phase_key: str | None = None,
        elapsed_s: int | None = None,
        since_dose_s: int | None = None,
        by: uuid.UUID | None = None,
    ) -> NoteRecord:
        """Commit a note entry and clear the record pad's draft, in one transaction."""
        place = NotePlace(participant_id, phase_key, elapsed_s, since_dose_s)
        record = self._add("note", session_id, text, occurred_at, recorded_at, place, by)
        assert isinstance(record, NoteRecord)
        return record

    def amend_entry(
        self,
        original_id: uuid.UUID,
        text: str | None,
        *,
        reason: str,
        recorded_at: datetime,
        voids: bool = False,
        by: uuid.UUID | None = None,
    ) -> NoteRecord:
        """An amendment replacing the entry's text (or, with `voids`, taking it back); the
        original stays in the record, shown as amended, with the reason."""
        row = self._amend(
            models.Note,
            original_id,
            text,
            reason=reason,
            recorded_at=recorded_at,
            voids=voids,
            by=by,
        )
        assert isinstance(row, models.Note)
        return note_record(row)

    def notes(self, session_id: uuid.UUID, kinds: Sequence[str] = ()) -> list[NoteRecord]:
        """Every note row of the session in time order, amended ones included (see
        `entries.effective` for the standing ones)."""
        with self._db.read() as orm:
            query = select(models.Note).where(models.Note.session_id == session_id)
            if kinds:
                query = query.where(models.Note.kind.in_(kinds))
            rows = orm.scalars(query.order_by(models.Note.occurred_at, models.Note.recorded_at))
            return [note_record(row) for row in rows]

    def note(self, note_id: uuid.UUID) -> NoteRecord:
        with self._db.read() as orm:
            row = orm.get(models.Note, note_id)
            if row is None:
                raise NotFound(f"No note with id {note_id}.")
            return note_record(row)

    # private notes ---------------------------------------------------------------------------
    def add_private(
        self,
        session_id: uuid.UUID,
        text: str,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        participant_id: uuid.UUID | None = None,
        phase_key: str | None = None,
        elapsed_s: int | None = None,
        since_dose_s: int | None = None,
        by: uuid.UUID | None = None,
    ) -> PrivateNoteRecord:
        """Commit a private note and clear the private pad's draft, in one transaction. Its
        audit row says a private note exists, never what it says."""
        place = NotePlace(participant_id, phase_key, elapsed_s, since_dose_s)
        record = self._add("private_note", session_id, text, occurred_at, recorded_at, place, by)
        assert isinstance(record, PrivateNoteRecord)
        return record

    def amend_private(
        self,
        original_id: uuid.UUID,
        text: str | None,
        *,
        reason: str,
        recorded_at: datetime,
        voids: bool = False,
        by: uuid.UUID | None = None,
    ) -> PrivateNoteRecord:
        row = self._amend(
            models.PrivateNote,
            original_id,
            text,
            reason=reason,
            recorded_at=recorded_at,
            voids=voids,
            by=by,
        )
        assert isinstance(row, models.PrivateNote)
        return private_note_record(row)

    def _add(
        self,
        table: str,
        session_id: uuid.UUID,
        text: str,
        occurred_at: datetime,
        recorded_at: datetime,
        place: NotePlace,
        by: uuid.UUID | None,
    ) -> NoteRecord | PrivateNoteRecord:
        """The row, its draft cleared and its audit row, in one transaction, sent at the
        driver's level (note_save.py: the ORM made this save many times raw sqlite3's)."""
        body = check_note_text(text)
        sql = note_sql(self._db.dialect)
        new = new_note(
            sql,
            table,
            session_id,
            body,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            place=place,
            by=by,
        )
        with self._db.write_driver(f"save the {table.replace('_', ' ')}") as driver:
            insert_note(driver, sql, new)
        return new.record

    def _amend(
        self,
        model: type[models.Note] | type[models.PrivateNote],
        original_id: uuid.UUID,
        text: str | None,
        *,
        reason: str,
        recorded_at: datetime,
        voids: bool,
        by: uuid.UUID | None,
    ) -> models.Note | models.PrivateNote:
        """A new row replacing (or with `voids`, taking back) the standing version; both are
        kept, with the reason and the audit row."""
        why = correction_reason(
            reason, "An amendment needs a reason: write why the note is changed."
        )
        entity = model.__tablename__
        what = entity.replace("_", " ")
        with self._db.write("save the amendment") as orm:
            original = orm.get(model, original_id)
            if isinstance(original, models.Note) and original.kind not in ("entry", "intention"):
                raise StorageError(
                    "Only in-session note entries are amended; add an addendum to a signed note."
                )
            original, _session = standing_original(orm, model, original_id, what)
            text_now = {} if voids or text is None else {"text": check_note_text(text)}
            return append_correction(
                orm,
                original,
                text_now,
                reason=why,
                recorded_at=recorded_at,
                by=by,
                voids=voids,
                action=f"{entity}.amend",
            )

    def private_notes(self, session_id: uuid.UUID) -> list[PrivateNoteRecord]:
        with self._db.read() as orm:
            rows = orm.scalars(
                select(models.PrivateNote)
                .where(models.PrivateNote.session_id == session_id)
                .order_by(models.PrivateNote.occurred_at, models.PrivateNote.recorded_at)
            )
            return [private_note_record(row) for row in rows]

    # drafts ----------------------------------------------------------------------------------
    def save_draft(
        self,
        session_id: uuid.UUID,
        pad: str,
        text: str,
        *,
        at: datetime,
        by: uuid.UUID | None = None,
        sections: Sections | None = None,
        template_key: str | None = None,
        participant_id: uuid.UUID | None = None,
    ) -> None:
        """Keep what is being typed on `pad`, with whose note it is (`participant_id`, a
        participant of the session; None: the whole room); an empty pad has no draft."""
        _check_pad(pad)
        with self._db.write("save the draft") as orm:
            if participant_id is not None:
                check_participant(orm, session_id, participant_id)
            row = orm.scalar(
                select(models.NoteDraft).where(
                    models.NoteDraft.session_id == session_id, models.NoteDraft.pad == pad
                )
            )
            empty = not text and not any(body for _k, _t, body in sections or ())
            if empty:
                if row is not None:
                    orm.delete(row)
                return
            values: dict[str, Any] = {
                "text": text,
                "sections": None if sections is None else sections_json(sections),
                "template_key": template_key,
                "participant_id": participant_id,
                "author_id": by,
                "updated_at": at,
            }
            if row is None:
                orm.add(models.NoteDraft(session_id=session_id, pad=pad, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)

    def draft(self, session_id: uuid.UUID, pad: str) -> DraftRecord | None:
        _check_pad(pad)
        with self._db.read() as orm:
            row = orm.scalar(
                select(models.NoteDraft).where(
                    models.NoteDraft.session_id == session_id, models.NoteDraft.pad == pad
                )
            )
            return None if row is None else _draft_record(row)

    def clear_draft(self, session_id: uuid.UUID, pad: str) -> None:
        _check_pad(pad)
        with self._db.write("clear the draft") as orm:
            clear_draft_row(orm, session_id, pad)
