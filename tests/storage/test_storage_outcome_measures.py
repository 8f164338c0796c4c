"""Outcome measures in storage (issue 17): an administration stored with its answers, total and
band, an incomplete one unscored with its unanswered items as null (never 0), corrections and
withdrawals as new rows, and a session's locks; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Uuid, bindparam, text
from support.signing import signing_key

from kapsession.domain.corrections import effective
from kapsession.domain.questionnaires import GAD7, PHQ9, score
from kapsession.records.errors import EntryTimeInvalid, RecordLocked, StorageError
from kapsession.records.measures import EntryMode
from kapsession.records.notes import SignatureCheck
from kapsession.storage.outcome_measures import OutcomeMeasureRepository
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:
    from conftest import Clinic

# PHQ-9 answered 2,2,2,2,2,1,1,1,1: 14, moderate
ANSWERS = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 1, 7: 1, 8: 1, 9: 1}


def _raw(clinic: Clinic, measure_id: uuid.UUID) -> dict[str, Any]:
    statement = text(
        "SELECT answers, total, band, entry_mode, session_id FROM outcome_measure WHERE id = :id"
    ).bindparams(bindparam("id", measure_id, type_=Uuid()))
    with clinic.db.engine.connect() as connection:
        row = dict(connection.execute(statement).mappings().one())
    if isinstance(row["answers"], str):  # SQLite's JSON is text; PostgreSQL's is parsed
        row["answers"] = json.loads(row["answers"])
    return row


def test_a_complete_phq9_is_stored_with_its_answers_total_band_and_who_entered_it(
    clinic: Clinic,
) -> None:
    # Given a client in a live session
    session = clinic.new_session()
    client = session.participants[0].client
    repo = OutcomeMeasureRepository(clinic.db)
    given = clinic.now()
    # When a PHQ-9 from paper is stored for the session
    saved = repo.add(
        client.id,
        score(PHQ9, ANSWERS),
        administered_at=given - timedelta(minutes=20),
        recorded_at=given,
        mode=EntryMode.STAFF_PAPER,
        by=clinic.therapist.id,
        session_id=session.id,
    )
    # Then it reads back as stored, named with who entered it
    (read,) = repo.history(client.id)
    assert read == saved
    assert read.answers == (2, 2, 2, 2, 2, 1, 1, 1, 1)
    assert (read.total, read.band) == (14, "moderate")
    assert read.entry_mode == "staff_paper" and read.session_id == session.id
    assert read.occurred_at == given - timedelta(minutes=20) and read.recorded_at == given
    assert read.recorded_by == "Dr. Ruth Okafor, MD"
    assert repo.of_session(session.id) == [read]


def test_an_incomplete_measure_is_stored_unscored_with_its_unanswered_items_as_null(
    clinic: Clinic,
) -> None:
    # Given a client outside any session
    client = clinic.add_client("Ben", "Ortiz")
    repo = OutcomeMeasureRepository(clinic.db)
    at = clinic.now()
    # When a GAD-7 is stored with items 3 and 7 unanswered
    answers = {1: 3, 2: 3, 4: 3, 5: 3, 6: 3}
    saved = repo.add(
        client.id,
        score(GAD7, answers),
        administered_at=at,
        recorded_at=at,
        mode=EntryMode.CLIENT_SCREEN,
        by=clinic.therapist.id,
    )
    # Then the database holds null for those items, and no total or band
    raw = _raw(clinic, saved.id)
    assert raw["answers"] == [3, 3, None, 3, 3, 3, None]
    assert raw["total"] is None and raw["band"] is None
    assert raw["session_id"] is None and raw["entry_mode"] == "client_screen"
    # And the record says it is incomplete
    assert not saved.complete
    assert saved.score().missing == (3, 7)


def test_a_correction_is_a_new_row_and_the_original_stays(clinic: Clinic) -> None:
    # Given a stored PHQ-9 with item 9 mistyped
    client = clinic.add_client()
    repo = OutcomeMeasureRepository(clinic.db)
    at = clinic.now()
    original = repo.add(
        client.id,
        score(PHQ9, ANSWERS),
        administered_at=at,
        recorded_at=at,
        mode=EntryMode.STAFF_PAPER,
        by=clinic.therapist.id,
    )
    # When it is corrected with a reason
    fixed = {**ANSWERS, 9: 0}
    corrected = repo.correct(
        original.id,
        score(PHQ9, fixed),
        reason="Item 9 was 0 on the form",
        recorded_at=clinic.now(),
        by=clinic.therapist.id,
    )
    # Then both rows are there, the new one standing with the new total
    history = repo.history(client.id)
    assert [m.id for m in history] == [original.id, corrected.id]
    assert history[0] == original
    assert corrected.corrects_id == original.id and not corrected.voids
    assert corrected.correction_reason == "Item 9 was 0 on the form"
    assert (corrected.total, corrected.band, corrected.answers[8]) == (13, "moderate", 0)
    assert corrected.occurred_at == original.occurred_at
    assert effective(history) == [corrected]
    # And the original, already corrected, cannot be corrected again
    with pytest.raises(StorageError, match="already corrected"):
        repo.correct(
            original.id,
            score(PHQ9, ANSWERS),
            reason="again",
            recorded_at=clinic.now(),
            by=clinic.therapist.id,
        )


def test_a_withdrawal_needs_a_reason_and_leaves_nothing_standing(clinic: Clinic) -> None:
    # Given a stored GAD-7 entered for the wrong client
    client = clinic.add_client()
    repo = OutcomeMeasureRepository(clinic.db)
    at = clinic.now()
    original = repo.add(
        client.id,
        score(GAD7, dict.fromkeys(range(1, 8), 1)),
        administered_at=at,
        recorded_at=at,
        mode=EntryMode.STAFF_PAPER,
        by=clinic.therapist.id,
    )
    # When it is withdrawn without a reason, Then it is refused and nothing is written
    with pytest.raises(StorageError, match="reason"):
        repo.correct(
            original.id, None, reason="  ", recorded_at=clinic.now(), by=clinic.therapist.id
        )
    assert repo.history(client.id) == [original]
    # When it is withdrawn with one, Then it stays in the history, voided, and nothing stands
    withdrawn = repo.correct(
        original.id,
        None,
        reason="Another client's form",
        recorded_at=clinic.now(),
        by=clinic.therapist.id,
    )
    assert withdrawn.voids and withdrawn.answers == original.answers
    assert effective(repo.history(client.id)) == []


def test_a_measure_in_the_future_or_for_a_session_not_the_clients_is_refused(
    clinic: Clinic,
) -> None:
    # Given a client and a session of someone else
    client = clinic.add_client("Ben", "Ortiz")
    other = clinic.new_session()
    repo = OutcomeMeasureRepository(clinic.db)
    at = clinic.now()
    # When a measure is dated an hour ahead, Then it is refused
    with pytest.raises(EntryTimeInvalid, match="future"):
        repo.add(
            client.id,
            score(PHQ9, ANSWERS),
            administered_at=at + timedelta(hours=1),
            recorded_at=at,
            mode=EntryMode.STAFF_PAPER,
            by=clinic.therapist.id,
        )
    # When one is given for the other client's session, Then it is refused
    with pytest.raises(StorageError, match="not one of this client's"):
        repo.add(
            client.id,
            score(PHQ9, ANSWERS),
            administered_at=at,
            recorded_at=at,
            mode=EntryMode.STAFF_PAPER,
            by=clinic.therapist.id,
            session_id=other.id,
        )
    # And nothing was stored
    assert repo.history(client.id) == []


def test_a_signed_monitoring_part_locks_the_sessions_measures(clinic: Clinic) -> None:
    # Given a completed session with a PHQ-9 given in it, and one outside any session
    session = clinic.new_session()
    client = session.participants[0].client
    repo = OutcomeMeasureRepository(clinic.db)
    at = clinic.now()
    kept: dict[str, Any] = {"mode": EntryMode.STAFF_PAPER, "by": clinic.therapist.id}
    in_session = repo.add(
        client.id,
        score(PHQ9, ANSWERS),
        administered_at=at,
        recorded_at=at,
        session_id=session.id,
        **kept,
    )
    outside = repo.add(client.id, score(PHQ9, ANSWERS), administered_at=at, recorded_at=at, **kept)
    clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    # When its monitoring part is signed
    signatures = SignatureRepository(clinic.db)
    signatures.sign(
        session.id,
        ["monitoring"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
    )
    assert signatures.verify(session.id)["monitoring"] == SignatureCheck.VALID
    # Then neither a new measure in it nor a correction of one is taken
    at = clinic.now()
    with pytest.raises(RecordLocked, match="monitoring"):
        repo.add(
            client.id,
            score(PHQ9, ANSWERS),
            administered_at=at,
            recorded_at=at,
            session_id=session.id,
            **kept,
        )
    with pytest.raises(RecordLocked, match="monitoring"):
        repo.correct(
            in_session.id,
            None,
            reason="wrong client",
            recorded_at=at,
            by=clinic.therapist.id,
        )
    # But one outside a session is still corrected
    corrected = repo.correct(
        outside.id,
        score(PHQ9, {**ANSWERS, 1: 0}),
        reason="typo",
        recorded_at=at,
        by=clinic.therapist.id,
    )
    assert corrected.total == 12
    assert [m.id for m in effective(repo.history(client.id))] == [in_session.id, corrected.id]
