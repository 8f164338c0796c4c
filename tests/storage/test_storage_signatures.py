"""Signing a session's parts, the locks that follow, and signed addenda — at the storage layer
on real databases, so a UI that forgot a check could still not change a signed record."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Uuid, bindparam, insert, text
from support.signing import signing_key

from kapsession.records.errors import AlreadyDone, RecordLocked, StorageError
from kapsession.records.notes import PARTS, SessionNoteText, SignatureCheck
from kapsession.storage.audit import AuditRepository
from kapsession.storage.models import Dose, Note, Observation, PrivateNote
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.people import StaffRecord
    from kapsession.records.sessions import SessionRecord

NOTE = SessionNoteText(
    "kap",
    (
        ("intention", "Intention", "To grieve my brother"),
        ("experience", "Experience", "Floating; saw the lake house"),
        ("plan", "Plan", ""),
    ),
)


def _nurse(clinic: Clinic) -> StaffRecord:
    return clinic.staff.add("Sam Lee", "nurse", at=clinic.now(), credentials="RN")


def _completed_with_entries(clinic: Clinic) -> SessionRecord:
    session = clinic.new_session()
    at = clinic.now()
    participant = session.participants[0].id
    clinic.entries.add_dose(session.id, participant, occurred_at=at, recorded_at=at, dose_mg=200.0)
    NoteRepository(clinic.db).add_entry(session.id, "Settled", occurred_at=at, recorded_at=at)
    return clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)


def _raw_rows(session: SessionRecord, at: Any) -> dict[str, Any]:
    participant = session.participants[0].id
    base = {"id": uuid.uuid4(), "session_id": session.id, "occurred_at": at, "recorded_at": at}
    base["voids"] = False
    return {
        "dose": insert(Dose).values(**base, participant_id=participant, kind="booster", detail={}),
        "observation": insert(Observation).values(**base, participant_id=participant, comment=""),
        "note": insert(Note).values(**base, kind="entry", text="late"),
        "private_note": insert(PrivateNote).values(**base, text="late"),
    }


def _count(clinic: Clinic, table: str, session_id: uuid.UUID) -> int:
    statement = text(f"SELECT count(*) FROM {table} WHERE session_id = :id").bindparams(
        bindparam("id", session_id, type_=Uuid())
    )
    with clinic.db.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def test_signing_both_parts_signs_the_session_with_the_note_and_audit(clinic: Clinic) -> None:
    # Given a completed session; When the therapist signs both parts with the session note
    session = _completed_with_entries(clinic)
    signatures = SignatureRepository(clinic.db)
    at = clinic.now()
    signed = signatures.sign(
        session.id,
        ["monitoring", "therapy"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=at,
        session_note=NOTE,
    )
    # Then both signatures carry the signer as they were, and a digest of what was signed
    assert [s.part for s in signed] == ["monitoring", "therapy"]
    assert {s.signer_name for s in signed} == {"Dr. Ruth Okafor, MD"}
    assert all(len(s.content_sha256) == 64 for s in signed)
    assert clinic.sessions.get(session.id).status == "signed"
    # And the session note is in the record with its sections
    (note,) = NoteRepository(clinic.db).notes(session.id, kinds=["session_note"])
    assert note.sections == NOTE.sections
    assert note.template_key == "kap"
    assert "To grieve my brother" in note.text and "Plan" not in note.text
    # And the audit trail holds each signature and the session's signing
    actions = [a.action for a in AuditRepository(clinic.db).for_session(session.id)]
    assert {"sign.monitoring", "sign.therapy", "session.signed", "note.session_note"} <= set(
        actions
    )
    # And what was signed still verifies
    assert signatures.verify(session.id) == dict.fromkeys(PARTS, SignatureCheck.VALID)


def test_nurse_and_therapist_sign_their_parts_separately(clinic: Clinic) -> None:
    # Given a completed session and a nurse
    session = _completed_with_entries(clinic)
    nurse = _nurse(clinic)
    signatures = SignatureRepository(clinic.db)
    # When the nurse signs the monitoring part
    signatures.sign(
        session.id,
        ["monitoring"],
        staff_id=nurse.id,
        key=signing_key(clinic.db, nurse.id),
        at=clinic.now(),
    )
    # Then the session is not yet signed, and therapy notes are still accepted
    assert clinic.sessions.get(session.id).status == "completed"
    at = clinic.now()
    NoteRepository(clinic.db).add_entry(session.id, "Late note", occurred_at=at, recorded_at=at)
    # But a dose is refused by the repositories and by the database itself
    with pytest.raises(RecordLocked, match="monitoring"):
        clinic.entries.add_dose(
            session.id, session.participants[0].id, occurred_at=at, recorded_at=at
        )
    with pytest.raises(RecordLocked, match="monitoring"), clinic.db.write() as orm:
        orm.execute(_raw_rows(session, at)["observation"])
    # When the therapist signs the therapy part
    signatures.sign(
        session.id,
        ["therapy"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
        session_note=NOTE,
    )
    # Then the session is signed, with two signers
    assert clinic.sessions.get(session.id).status == "signed"
    assert {(s.part, s.signer_name) for s in signatures.signatures(session.id)} == {
        ("monitoring", "Sam Lee, RN"),
        ("therapy", "Dr. Ruth Okafor, MD"),
    }


@pytest.mark.parametrize("table", ["note", "private_note"])
def test_after_the_therapy_part_is_signed_the_database_refuses_notes(
    clinic: Clinic, table: str
) -> None:
    session = _completed_with_entries(clinic)
    SignatureRepository(clinic.db).sign(
        session.id,
        ["therapy"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
        session_note=NOTE,
    )
    before = _count(clinic, table, session.id)
    with pytest.raises(RecordLocked, match="therapy"), clinic.db.write() as orm:
        orm.execute(_raw_rows(session, clinic.now())[table])
    assert _count(clinic, table, session.id) == before


def test_a_part_is_signed_once(clinic: Clinic) -> None:
    session = _completed_with_entries(clinic)
    signatures = SignatureRepository(clinic.db)
    signatures.sign(
        session.id,
        ["monitoring"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
    )
    nurse = _nurse(clinic)
    with pytest.raises(AlreadyDone, match="already signed"):
        signatures.sign(
            session.id,
            ["monitoring"],
            staff_id=nurse.id,
            key=signing_key(clinic.db, nurse.id),
            at=clinic.now(),
        )
    assert len(signatures.signatures(session.id)) == 1


def test_the_database_refuses_a_second_signature_of_a_part(clinic: Clinic) -> None:
    # Given a signed monitoring part; When a second one is inserted behind the repository
    session = _completed_with_entries(clinic)
    signatures = SignatureRepository(clinic.db)
    (first,) = signatures.sign(
        session.id,
        ["monitoring"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
    )
    from kapsession.storage.models import Signature

    with pytest.raises(StorageError), clinic.db.write() as orm:
        orm.execute(
            insert(Signature).values(
                id=uuid.uuid4(),
                session_id=session.id,
                part="monitoring",
                staff_id=clinic.therapist.id,
                signer_name="x",
                signer_role="nurse",
                signed_at=clinic.now(),
                meaning="x",
                content_sha256=first.content_sha256,
            )
        )
    assert len(signatures.signatures(session.id)) == 1


@pytest.mark.parametrize("status", ["planned", "live"])
def test_only_an_ended_session_is_signed(clinic: Clinic, status: str) -> None:
    session = clinic.new_session(status=status)
    with pytest.raises(StorageError, match="End the session"):
        SignatureRepository(clinic.db).sign(
            session.id,
            ["monitoring"],
            staff_id=clinic.therapist.id,
            key=signing_key(clinic.db, clinic.therapist.id),
            at=clinic.now(),
        )
    assert SignatureRepository(clinic.db).signatures(session.id) == []


def test_an_empty_session_note_is_not_signed_and_nothing_is_written(clinic: Clinic) -> None:
    # Given a completed session; When both parts are signed with an empty session note
    session = _completed_with_entries(clinic)
    empty = SessionNoteText("kap", (("intention", "Intention", "  "),))
    with pytest.raises(StorageError, match="empty"):
        SignatureRepository(clinic.db).sign(
            session.id,
            ["monitoring", "therapy"],
            staff_id=clinic.therapist.id,
            key=signing_key(clinic.db, clinic.therapist.id),
            at=clinic.now(),
            session_note=empty,
        )
    # Then nothing at all happened: no signature, no note, the session still open
    assert SignatureRepository(clinic.db).signatures(session.id) == []
    assert NoteRepository(clinic.db).notes(session.id, kinds=["session_note"]) == []
    assert clinic.sessions.get(session.id).status == "completed"


def test_a_signed_session_takes_signed_addenda_only(clinic: Clinic) -> None:
    # Given a signed session
    session = _completed_with_entries(clinic)
    signatures = SignatureRepository(clinic.db)
    signatures.sign(
        session.id,
        ["monitoring", "therapy"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
        session_note=NOTE,
    )
    notes = NoteRepository(clinic.db)
    at = clinic.now()
    (entry,) = notes.notes(session.id, kinds=["entry"])
    # When an entry, an amendment or a private note is tried, each is refused
    with pytest.raises(RecordLocked):
        notes.add_entry(session.id, "more", occurred_at=at, recorded_at=at)
    with pytest.raises(RecordLocked):
        notes.amend_entry(entry.id, "Settled well", reason="detail", recorded_at=at)
    with pytest.raises(RecordLocked):
        notes.add_private(session.id, "more", occurred_at=at, recorded_at=at)
    # When an addendum is added, it is stored with its own signature and audit row
    addendum, signature = signatures.add_addendum(
        session.id,
        "Phoned next day: slept well.",
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=at,
    )
    assert addendum.kind == "addendum"
    assert (signature.part, signature.note_id) == ("addendum", addendum.id)
    audit = [a for a in AuditRepository(clinic.db).for_session(session.id)]
    assert any(a.action == "note.addendum" and a.entity_id == str(addendum.id) for a in audit)
    # And the signed parts still verify: an addendum is not a change to them
    assert signatures.verify(session.id) == dict.fromkeys(PARTS, SignatureCheck.VALID)


def test_an_addendum_before_signing_is_refused(clinic: Clinic) -> None:
    session = _completed_with_entries(clinic)
    with pytest.raises(StorageError, match="before signing"):
        SignatureRepository(clinic.db).add_addendum(
            session.id,
            "early",
            staff_id=clinic.therapist.id,
            key=signing_key(clinic.db, clinic.therapist.id),
            at=clinic.now(),
        )


def test_a_changed_signed_part_no_longer_verifies(clinic: Clinic) -> None:
    # Given a signed monitoring part; When a dose row is slipped in with the lock trigger gone
    session = _completed_with_entries(clinic)
    signatures = SignatureRepository(clinic.db)
    signatures.sign(
        session.id,
        ["monitoring"],
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
    )
    trigger = (
        "DROP TRIGGER dose_monitoring_lock"
        if clinic.db.dialect == "sqlite"
        else "DROP TRIGGER dose_monitoring_lock ON dose"
    )
    with clinic.db.engine.begin() as connection:
        connection.exec_driver_sql(trigger)
        connection.execute(_raw_rows(session, clinic.now())["dose"])
    # Then verification shows the signed part changed
    assert signatures.verify(session.id) == {"monitoring": SignatureCheck.CHANGED}
