"""Signatures bound to a person (issue 18), against an attacker with the database file.

Each signature row holds the signer's Ed25519 public key and a signature over the digest of the
part's rows, the session's identity, its participants and their clients, and the signer's staff
row. The triggers of 0017 refuse what would move or rename a signed session's people; with them
dropped (`support.tampering.unguarded`), verifying still finds every change, using nothing but
the public keys in the record.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Uuid, bindparam, select, text
from support.signing import signing_key
from support.tampering import unguarded

from kapsession.records.client_profile import IdentityCorrection
from kapsession.records.errors import AppendOnlyViolation, RecordLocked
from kapsession.records.notes import PARTS, SessionNoteText, SignatureCheck
from kapsession.storage.client_profiles import ClientProfileRepository
from kapsession.storage.driver import DRIVER_VALUES
from kapsession.storage.models import Signature
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository, signed_digest

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.sessions import SessionRecord
    from kapsession.storage.database import Database

NOTE = SessionNoteText("kap", (("plan", "Plan", "Integration on Tuesday"),))
BOTH_VALID = dict.fromkeys(PARTS, SignatureCheck.VALID)
BOTH_CHANGED = dict.fromkeys(PARTS, SignatureCheck.CHANGED)


def _signed(clinic: Clinic) -> SessionRecord:
    """An ended session with a dose and a note, both parts signed by the clinic's physician."""
    session = clinic.new_session()
    at = clinic.now()
    participant = session.participants[0].id
    clinic.entries.add_dose(session.id, participant, occurred_at=at, recorded_at=at, dose_mg=200.0)
    NoteRepository(clinic.db).add_entry(session.id, "Settled", occurred_at=at, recorded_at=at)
    session = clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    SignatureRepository(clinic.db).sign(
        session.id,
        PARTS,
        staff_id=clinic.therapist.id,
        at=clinic.now(),
        key=signing_key(clinic.db, clinic.therapist.id),
        session_note=NOTE,
    )
    return session


def _attack(db: Database, table: str, statement: str, *params: Any) -> None:
    """One statement by the attacker, past the triggers of `table` (`?` placeholders; ids as
    uuid.UUID)."""
    driver = DRIVER_VALUES[db.dialect]
    values = [driver.param_uuid(p) if isinstance(p, uuid.UUID) else p for p in params]
    with unguarded(db, table) as cursor:
        cursor.execute(driver.sql(statement), values)
        assert cursor.rowcount >= 1


def _execute(db: Database, statement: str, **params: Any) -> None:
    """A statement through the app's own connection: the triggers stand."""
    bound = text(statement).bindparams(
        *(bindparam(k, v, type_=Uuid()) for k, v in params.items() if isinstance(v, uuid.UUID))
    )
    values = {k: v for k, v in params.items() if not isinstance(v, uuid.UUID)}
    with db.write("tamper") as orm:
        orm.execute(bound, values)


def _signature_rows(db: Database, session_id: uuid.UUID) -> list[Signature]:
    with db.read() as orm:
        rows = orm.scalars(select(Signature).where(Signature.session_id == session_id))
        return [r for r in rows if r.part in PARTS]


# signing and verifying -----------------------------------------------------------------------
def test_a_signature_is_made_with_the_signers_key_and_verified_with_the_public_key_alone(
    clinic: Clinic,
) -> None:
    # Given both parts signed with the physician's key
    session = _signed(clinic)
    key = signing_key(clinic.db, clinic.therapist.id)
    rows = _signature_rows(clinic.db, session.id)
    # Then each signature row holds the signer's public key and an Ed25519 signature
    assert {r.public_key for r in rows} == {key.public_key}
    # ... which the public key alone verifies over what the record holds
    with clinic.db.read() as orm:
        for row in rows:
            public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key.public_key))
            assert row.signature is not None
            public.verify(bytes.fromhex(row.signature), signed_digest(orm, row))
    assert SignatureRepository(clinic.db).verify(session.id) == BOTH_VALID


def test_a_key_signs_only_for_its_own_staff_member(clinic: Clinic) -> None:
    # Given an ended session and a nurse's key
    session = clinic.sessions.end(clinic.new_session().id, at=clinic.now(), by=None)
    nurse = clinic.staff.add("Sam Lee", "nurse", at=clinic.now(), credentials="RN")
    # When the physician's signature is asked for with the nurse's key, Then it is refused
    from kapsession.records.errors import NotAllowed

    with pytest.raises(NotAllowed, match="signer's own key"):
        SignatureRepository(clinic.db).sign(
            session.id,
            ["monitoring"],
            staff_id=clinic.therapist.id,
            at=clinic.now(),
            key=signing_key(clinic.db, nurse.id),
        )
    assert SignatureRepository(clinic.db).signatures(session.id) == []


# the triggers ------------------------------------------------------------------------------
def test_the_people_of_a_signed_session_cannot_be_moved_or_renamed(clinic: Clinic) -> None:
    # Given a signed session, and another client
    session = _signed(clinic)
    other = clinic.add_client("Lena", "Vogt")
    participant = session.participants[0]
    # When its participant is moved to the other client, Then the database refuses it
    with pytest.raises(RecordLocked, match="who took part in it cannot be changed"):
        _execute(
            clinic.db,
            "UPDATE participant SET client_id = :client WHERE id = :id",
            client=other.id,
            id=participant.id,
        )
    # ... and so its removal, and the client's new name, and the signer's
    with pytest.raises(RecordLocked, match="who took part"):
        _execute(clinic.db, "DELETE FROM participant WHERE id = :id", id=participant.id)
    with pytest.raises(RecordLocked, match="their name, date of birth and record number"):
        _execute(
            clinic.db,
            "UPDATE client SET family_name = 'Vogt' WHERE id = :id",
            id=participant.client.id,
        )
    with pytest.raises(RecordLocked, match="name, role and credentials"):
        _execute(
            clinic.db,
            "UPDATE staff SET display_name = 'Dr. Eve' WHERE id = :id",
            id=clinic.therapist.id,
        )
    # And the session still verifies, as signed
    assert SignatureRepository(clinic.db).verify(session.id) == BOTH_VALID


def test_a_pin_is_never_emptied_and_a_key_never_changed(clinic: Clinic) -> None:
    # Given a staff member with a PIN and a signing key
    clinic.staff.set_pin_hash(clinic.therapist.id, "$argon2id$stand-in", at=clinic.now(), by=None)
    signing_key(clinic.db, clinic.therapist.id)
    # When the PIN hash is emptied (the way to give someone else's name a new PIN), Then refused
    with pytest.raises(RecordLocked, match="never removed"):
        _execute(
            clinic.db, "UPDATE staff SET pin_hash = NULL WHERE id = :id", id=clinic.therapist.id
        )
    # And the key rows are append-only
    with pytest.raises(AppendOnlyViolation):
        _execute(
            clinic.db,
            "UPDATE staff_signing_key SET public_key = :key WHERE staff_id = :id",
            key="0" * 64,
            id=clinic.therapist.id,
        )
    with pytest.raises(AppendOnlyViolation):
        _execute(
            clinic.db, "DELETE FROM staff_signing_key WHERE staff_id = :id", id=clinic.therapist.id
        )


def test_an_unsigned_sessions_people_are_changed_as_before(clinic: Clinic) -> None:
    # Given an ended session nobody signed
    session = clinic.sessions.end(clinic.new_session().id, at=clinic.now(), by=None)
    other = clinic.add_client("Lena", "Vogt")
    # When its participant's client is changed, Then the triggers let it be
    _execute(
        clinic.db,
        "UPDATE participant SET client_id = :client WHERE id = :id",
        client=other.id,
        id=session.participants[0].id,
    )
    assert clinic.sessions.get(session.id).participants[0].client.id == other.id


# past the triggers: verifying finds it --------------------------------------------------------
def test_a_participant_moved_to_another_client_past_the_triggers_fails_verification(
    clinic: Clinic,
) -> None:
    session = _signed(clinic)
    other = clinic.add_client("Lena", "Vogt")
    _attack(
        clinic.db,
        "participant",
        "UPDATE participant SET client_id = ? WHERE id = ?",
        other.id,
        session.participants[0].id,
    )
    assert SignatureRepository(clinic.db).verify(session.id) == BOTH_CHANGED


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("client", "UPDATE client SET given_name = 'Lena' WHERE id = ?"),
        ("client", "UPDATE client SET record_number = 'K-999' WHERE id = ?"),
        ("staff", "UPDATE staff SET display_name = 'Dr. Eve Stone' WHERE id = ?"),
        ("staff", "UPDATE staff SET role = 'nurse' WHERE id = ?"),
    ],
)
def test_a_renamed_client_or_signer_past_the_triggers_fails_verification(
    clinic: Clinic, table: str, statement: str
) -> None:
    session = _signed(clinic)
    row_id = session.participants[0].client.id if table == "client" else clinic.therapist.id
    _attack(clinic.db, table, statement, row_id)
    assert SignatureRepository(clinic.db).verify(session.id) == BOTH_CHANGED


def test_an_edited_note_past_the_triggers_names_the_therapy_part_changed(clinic: Clinic) -> None:
    session = _signed(clinic)
    _attack(
        clinic.db,
        "note",
        "UPDATE note SET text = 'Agitated' WHERE session_id = ? AND kind = 'entry'",
        session.id,
    )
    assert SignatureRepository(clinic.db).verify(session.id) == {
        "monitoring": SignatureCheck.VALID,
        "therapy": SignatureCheck.CHANGED,
    }


def test_a_signature_re_made_with_another_key_fails_verification(clinic: Clinic) -> None:
    # Given a signed session; an attacker's own key pair
    session = _signed(clinic)
    own = Ed25519PrivateKey.generate()
    public = (
        own.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )
    # When they swap the public key of each signature for theirs and sign what it covers
    for row in _signature_rows(clinic.db, session.id):
        columns = [c.name for c in Signature.__table__.columns]
        swapped = Signature(**{c: getattr(row, c) for c in columns})
        swapped.public_key = public
        with clinic.db.read() as orm:
            forged = own.sign(signed_digest(orm, swapped)).hex()
        _attack(
            clinic.db,
            "signature",
            "UPDATE signature SET public_key = ?, signature = ? WHERE id = ?",
            public,
            forged,
            row.id,
        )
    # Then the key is not the signer's: both parts read as changed
    assert SignatureRepository(clinic.db).verify(session.id) == BOTH_CHANGED


def test_a_signature_stripped_of_its_key_reads_changed_not_old(clinic: Clinic) -> None:
    # Given a signed session; When an attacker empties the key and signature of each part
    session = _signed(clinic)
    _attack(
        clinic.db,
        "signature",
        "UPDATE signature SET public_key = NULL, signature = NULL WHERE session_id = ?",
        session.id,
    )
    # Then it does not pass for a signature from before 0017: its signer had a key by then
    assert SignatureRepository(clinic.db).verify(session.id) == BOTH_CHANGED


def test_a_signature_from_before_keys_reads_as_made_before_binding(clinic: Clinic) -> None:
    # Given a part signed as before 0017: the content digest, no key (the signer has none)
    session = _signed(clinic)
    nurse = clinic.staff.add("Sam Lee", "nurse", at=clinic.now(), credentials="RN")
    _attack(
        clinic.db,
        "signature",
        "UPDATE signature SET public_key = NULL, signature = NULL, staff_id = ? "
        "WHERE session_id = ? AND part = 'monitoring'",
        nurse.id,
        session.id,
    )
    # Then it reads as made before signatures were bound to a person, never as valid
    assert SignatureRepository(clinic.db).verify(session.id) == {
        "monitoring": SignatureCheck.UNBOUND,
        "therapy": SignatureCheck.VALID,
    }


def test_correcting_a_signed_clients_date_of_birth_is_refused_with_what_to_do(
    clinic: Clinic,
) -> None:
    # Given a client of a signed session
    session = _signed(clinic)
    client = session.participants[0].client
    # When their date of birth is corrected (the profile's identity correction, issue 17)
    with pytest.raises(RecordLocked) as refused:
        ClientProfileRepository(clinic.db).save(
            client.id,
            None,
            at=clinic.now(),
            by=clinic.therapist.id,
            replaces=None,
            reason="the referral letter says 1948",
            identity=IdentityCorrection(date(1948, 3, 2), client.record_number),
        )
    # Then it is refused, saying why and what to do instead, and nothing changed
    assert str(refused.value) == (
        "This client is in a signed session record: their name, date of birth and record "
        "number cannot be changed. Nothing was changed; add an addendum to the signed record "
        "to say what is wrong."
    )
    assert clinic.clients.get(client.id) == client
    assert SignatureRepository(clinic.db).verify(session.id) == BOTH_VALID


def test_a_signed_addendum_is_bound_and_an_edited_one_reads_changed(clinic: Clinic) -> None:
    # Given a signed session with a signed addendum
    session = _signed(clinic)
    signatures = SignatureRepository(clinic.db)
    note, signature = signatures.add_addendum(
        session.id,
        "Phoned next day: slept well.",
        staff_id=clinic.therapist.id,
        at=clinic.now(),
        key=signing_key(clinic.db, clinic.therapist.id),
    )
    assert signature.public_key is not None
    assert signatures.verify_addenda(session.id) == {note.id: SignatureCheck.VALID}
    # When its text is changed past the triggers, Then it reads as changed
    _attack(clinic.db, "note", "UPDATE note SET text = 'Phoned: unwell.' WHERE id = ?", note.id)
    assert signatures.verify_addenda(session.id) == {note.id: SignatureCheck.CHANGED}
