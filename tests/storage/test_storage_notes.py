"""Note entries, private notes and drafts on real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kapsession.domain.corrections import effective
from kapsession.domain.entry_text import NOTE_MAX_CHARS
from kapsession.records.errors import StorageError
from kapsession.storage.audit import AuditRepository
from kapsession.storage.notes import NoteRepository

if TYPE_CHECKING:
    from conftest import Clinic

KEPT_EXACTLY = [
    pytest.param("Calm.  Breathing slow.\n\tSmiled twice.  ", id="spaces-and-lines"),
    pytest.param("Said: \u201cI am the ocean\u201d \U0001f30a\U0001f64f\u2764\ufe0f", id="emoji"),
    pytest.param("\u05d4\u05d5\u05d0 \u05d0\u05de\u05e8 \u05e9\u05dc\u05d5\u05dd", id="hebrew"),
    pytest.param("\u0642\u0627\u0644 \u0625\u0646\u0647 \u0628\u062e\u064a\u0631 ok", id="arabic"),
    pytest.param("x" * NOTE_MAX_CHARS, id="very-long"),  # the longest a note may be
    pytest.param("a\u200fb\u202ec\u2066d\u2069 \u00e9\u0301", id="bidi-controls"),
]


@pytest.mark.parametrize("text", KEPT_EXACTLY)
def test_a_note_entry_is_kept_exactly_as_typed(clinic: Clinic, text: str) -> None:
    # Given a live session; When an entry with unusual text is committed
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    saved = notes.add_entry(
        session.id,
        text,
        occurred_at=at,
        recorded_at=at,
        phase_key="peak",
        elapsed_s=1830,
        since_dose_s=1200,
        participant_id=session.participants[0].id,
        by=clinic.therapist.id,
    )
    # Then it reads back byte for byte, with where it sat on the session clock
    (stored,) = notes.notes(session.id)
    assert stored == saved
    assert stored.text == text
    assert (stored.phase_key, stored.elapsed_s, stored.since_dose_s) == ("peak", 1830, 1200)
    assert stored.author_id == clinic.therapist.id
    assert stored.participant_id == session.participants[0].id


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t"])
def test_an_empty_entry_is_refused_and_nothing_is_stored(clinic: Clinic, text: str) -> None:
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    with pytest.raises(StorageError, match="empty"):
        notes.add_entry(session.id, text, occurred_at=at, recorded_at=at)
    with pytest.raises(StorageError, match="empty"):
        notes.add_private(session.id, text, occurred_at=at, recorded_at=at)
    assert notes.notes(session.id) == []
    assert notes.private_notes(session.id) == []


def test_committing_an_entry_clears_its_draft_in_the_same_step(clinic: Clinic) -> None:
    # Given a draft on the record pad and one on the private pad
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    notes.save_draft(session.id, "record", "Client describes warm", at=clinic.now())
    notes.save_draft(session.id, "private", "Countertransference: tired", at=clinic.now())
    # When the record entry is committed
    at = clinic.now()
    notes.add_entry(session.id, "Client describes warmth", occurred_at=at, recorded_at=at)
    # Then its draft is gone and the private one is untouched
    assert notes.draft(session.id, "record") is None
    private = notes.draft(session.id, "private")
    assert private is not None and private.text == "Countertransference: tired"


def test_a_draft_is_overwritten_as_typing_goes_on_and_emptied_to_nothing(clinic: Clinic) -> None:
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    for text in ("Te", "Tearful at", "Tearful at the bridge"):
        notes.save_draft(session.id, "record", text, at=clinic.now(), by=clinic.therapist.id)
    draft = notes.draft(session.id, "record")
    assert draft is not None
    assert (draft.text, draft.author_id) == ("Tearful at the bridge", clinic.therapist.id)
    notes.save_draft(session.id, "record", "", at=clinic.now())
    assert notes.draft(session.id, "record") is None


def test_a_session_note_draft_keeps_its_sections_in_order(clinic: Clinic) -> None:
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    sections = [("intention", "Intention", "Grief"), ("plan", "Plan", "Integration Tue")]
    notes.save_draft(
        session.id, "session_note", "", at=clinic.now(), sections=sections, template_key="kap"
    )
    draft = notes.draft(session.id, "session_note")
    assert draft is not None
    assert draft.sections == tuple(sections)
    assert draft.template_key == "kap"


def test_an_unknown_pad_is_refused(clinic: Clinic) -> None:
    session = clinic.new_session()
    with pytest.raises(StorageError, match="pad"):
        NoteRepository(clinic.db).save_draft(session.id, "scratch", "x", at=clinic.now())


def test_an_amendment_keeps_the_original_visible_with_its_reason(clinic: Clinic) -> None:
    # Given an entry
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    original = notes.add_entry(
        session.id, "Eye mask of", occurred_at=at, recorded_at=at, elapsed_s=600
    )
    # When it is amended
    later = clinic.now(30)
    amended = notes.amend_entry(
        original.id, "Eye mask off", reason="typo", recorded_at=later, by=clinic.therapist.id
    )
    # Then both rows are kept; the standing one is the amendment, at the original's time
    rows = notes.notes(session.id)
    assert [r.text for r in rows] == ["Eye mask of", "Eye mask off"]
    assert effective(rows) == [amended]
    assert (amended.corrects_id, amended.correction_reason) == (original.id, "typo")
    assert (amended.occurred_at, amended.recorded_at, amended.elapsed_s) == (at, later, 600)
    # And the audit trail names the amendment, what it corrects and why
    (audit,) = [
        a for a in AuditRepository(clinic.db).for_session(session.id) if a.action == "note.amend"
    ]
    assert audit.detail["corrects"] == str(original.id)
    assert audit.detail["reason"] == "typo"
    assert audit.staff_id == clinic.therapist.id


def test_an_amendment_needs_a_reason_and_applies_to_the_newest_version(clinic: Clinic) -> None:
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    original = notes.add_entry(session.id, "Spoke", occurred_at=at, recorded_at=at)
    with pytest.raises(StorageError, match="reason"):
        notes.amend_entry(original.id, "Spoke softly", reason="  ", recorded_at=clinic.now())
    notes.amend_entry(original.id, "Spoke softly", reason="detail", recorded_at=clinic.now())
    with pytest.raises(StorageError, match="already corrected"):
        notes.amend_entry(original.id, "Spoke loudly", reason="again", recorded_at=clinic.now())
    assert len(notes.notes(session.id)) == 2


def test_a_withdrawn_entry_drops_out_but_stays_in_the_history(clinic: Clinic) -> None:
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    entry = notes.add_entry(session.id, "wrong client", occurred_at=at, recorded_at=at)
    withdrawn = notes.amend_entry(
        entry.id, None, reason="Undone within 10 s", recorded_at=clinic.now(), voids=True
    )
    rows = notes.notes(session.id)
    assert effective(rows) == []
    assert withdrawn.voids and withdrawn.text == "wrong client"


def test_private_notes_are_kept_apart_from_the_record(clinic: Clinic) -> None:
    # Given a record entry and a private note
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    notes.add_entry(session.id, "Relaxed", occurred_at=at, recorded_at=at)
    private = notes.add_private(
        session.id, "Reminds me of my own father", occurred_at=at, recorded_at=at, elapsed_s=90
    )
    # Then the record holds only the entry, the private store only the private note
    assert [n.text for n in notes.notes(session.id)] == ["Relaxed"]
    assert notes.private_notes(session.id) == [private]
    # And its audit row says one was written without saying what
    audits = AuditRepository(clinic.db).for_session(session.id)
    (row,) = [a for a in audits if a.action == "private_note.add"]
    assert "father" not in repr(row)


def test_a_private_note_is_amended_like_an_entry(clinic: Clinic) -> None:
    session = clinic.new_session()
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    private = notes.add_private(session.id, "Draft thought", occurred_at=at, recorded_at=at)
    amended = notes.amend_private(
        private.id, "Second thought", reason="clarified", recorded_at=clinic.now()
    )
    assert effective(notes.private_notes(session.id)) == [amended]


def test_notes_are_refused_before_the_session_starts(clinic: Clinic) -> None:
    session = clinic.new_session(status="planned")
    at = clinic.now()
    with pytest.raises(StorageError, match="Start the session"):
        NoteRepository(clinic.db).add_entry(session.id, "early", occurred_at=at, recorded_at=at)


def test_a_participant_of_another_session_is_refused(clinic: Clinic) -> None:
    session, other = clinic.new_session(), clinic.new_session()
    at = clinic.now()
    with pytest.raises(StorageError):
        NoteRepository(clinic.db).add_entry(
            session.id,
            "mixed up",
            occurred_at=at,
            recorded_at=at,
            participant_id=other.participants[0].id,
        )
    assert NoteRepository(clinic.db).notes(session.id) == []
