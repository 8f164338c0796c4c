"""A note draft keeps whose note it is (SQLite and PostgreSQL): in a couples or group session the
text on the pad is one participant's, and a draft read back after a crash says whose."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kapsession.records.errors import StorageError
from kapsession.storage.notes import NoteRepository

if TYPE_CHECKING:
    from conftest import Clinic


def test_a_draft_keeps_the_participant_it_was_typed_for(clinic: Clinic) -> None:
    # Given a couples session
    session = clinic.new_session(
        [clinic.add_client("Ana", "Silva"), clinic.add_client("Ben", "Okoro")], modality="couples"
    )
    first, second = (p.id for p in session.participants)
    notes = NoteRepository(clinic.db)

    # When a record note is typed for the second participant and a private note for the first
    notes.save_draft(session.id, "record", "Ben speaks of", at=clinic.now(), participant_id=second)
    notes.save_draft(session.id, "private", "Ana reminds me", at=clinic.now(), participant_id=first)

    # Then each draft reads back with its own participant
    record, private = notes.draft(session.id, "record"), notes.draft(session.id, "private")
    assert record is not None and private is not None
    assert (record.text, record.participant_id) == ("Ben speaks of", second)
    assert (private.text, private.participant_id) == ("Ana reminds me", first)


def test_a_draft_written_again_takes_the_participant_given_then(clinic: Clinic) -> None:
    # Given a draft of the first participant's note
    session = clinic.new_session(
        [clinic.add_client("Ana", "Silva"), clinic.add_client("Ben", "Okoro")], modality="couples"
    )
    first, second = (p.id for p in session.participants)
    notes = NoteRepository(clinic.db)
    notes.save_draft(session.id, "record", "Ana", at=clinic.now(), participant_id=first)

    # When the pad is emptied and a note for the second participant is started
    notes.save_draft(session.id, "record", "", at=clinic.now(), participant_id=first)
    notes.save_draft(session.id, "record", "Ben", at=clinic.now(), participant_id=second)

    # Then the one draft of the pad is the second participant's
    draft = notes.draft(session.id, "record")
    assert draft is not None and (draft.text, draft.participant_id) == ("Ben", second)


def test_a_draft_for_a_participant_of_another_session_is_refused(clinic: Clinic) -> None:
    # Given two sessions, one with a draft
    session = clinic.new_session()
    other = clinic.new_session()
    notes = NoteRepository(clinic.db)
    notes.save_draft(
        session.id, "record", "Kept", at=clinic.now(), participant_id=session.participants[0].id
    )

    # When a draft names the other session's participant, Then it is refused
    with pytest.raises(StorageError, match="not part of this session"):
        notes.save_draft(
            session.id, "record", "Lost", at=clinic.now(), participant_id=other.participants[0].id
        )

    # And the draft stored before is untouched
    draft = notes.draft(session.id, "record")
    assert draft is not None
    assert (draft.text, draft.participant_id) == ("Kept", session.participants[0].id)
