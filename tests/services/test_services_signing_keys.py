"""Signing with a signing passphrase (issue 18): set once after the PIN, asked at each signature;
a wrong one signs nothing and is audited; a PIN given to someone else's name signs nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import Room, minutes
from support.signing import FAST_KDF, PASSPHRASE
from support.tampering import unguarded

from kapsession.records.errors import RecordLocked
from kapsession.records.notes import SessionNoteText
from kapsession.records.sessions import SessionRecord
from kapsession.services.pins import LOCKOUT_FAILURES, LOCKOUT_S
from kapsession.services.session_note import SessionNoteService
from kapsession.services.signing_keys import PassphraseProblem
from kapsession.storage.audit import AuditRepository
from kapsession.storage.driver import DRIVER_VALUES

PIN = "246813"
NOTE = SessionNoteText("standard", (("summary", "Summary", "Calm session."),))


def _notes(room: Room) -> SessionNoteService:
    return SessionNoteService(room.context.database, room.clock, kdf=FAST_KDF)


def _ended(room: Room) -> SessionRecord:
    record = room.start()
    room.service.end_session(record.id, at=room.clock.now() + minutes(1))
    room.clock.advance(120)
    return record


def test_a_signing_passphrase_is_set_after_the_pin_typed_twice(room: Room) -> None:
    notes = _notes(room)
    nurse = room.nurse.id
    keys = notes.keys
    # Without a PIN, or with a wrong one, it is not set
    with pytest.raises(PassphraseProblem, match="no PIN yet"):
        keys.set_passphrase(nurse, PASSPHRASE, PASSPHRASE, pin=PIN)
    notes.pins.set_pin(nurse, PIN, PIN)
    with pytest.raises(PassphraseProblem, match="That PIN is not right"):
        keys.set_passphrase(nurse, PASSPHRASE, PASSPHRASE, pin="135790")
    # Nor too short, nor typed differently
    with pytest.raises(PassphraseProblem, match="at least 8 characters"):
        keys.set_passphrase(nurse, "seven77", "seven77", pin=PIN)
    with pytest.raises(PassphraseProblem, match="The two passphrases differ"):
        keys.set_passphrase(nurse, PASSPHRASE, PASSPHRASE + ".", pin=PIN)
    assert not keys.has_key(nurse)
    # With her PIN and the same passphrase twice, it is set; once
    keys.set_passphrase(nurse, PASSPHRASE, PASSPHRASE, pin=PIN)
    assert keys.has_key(nurse) and keys.unlock(nurse, PASSPHRASE, purpose="test").ok
    with pytest.raises(PassphraseProblem, match="already has a signing passphrase"):
        keys.set_passphrase(nurse, "a different passphrase", "a different passphrase", pin=PIN)


def test_a_wrong_passphrase_signs_nothing_and_is_audited(room: Room) -> None:
    # Given an ended session; the therapist and nurse with PINs and passphrases
    notes = _notes(room)
    for member in (room.therapist, room.nurse):
        notes.pins.set_pin(member.id, PIN, PIN)
        notes.keys.set_passphrase(member.id, PASSPHRASE, PASSPHRASE, pin=PIN)
    record = _ended(room)
    # When the therapist signs with her PIN, or a wrong passphrase
    for wrong in (PIN, "not the passphrase"):
        refused = notes.sign(record.id, room.therapist.id, wrong, ["therapy"], NOTE)
        # Then it is refused after a pause, and nothing is stored: no signature, no note
        assert not refused.ok and refused.pause_s > 0
        assert refused.message.startswith("That signing passphrase is not right. Nothing was")
    assert notes.state(record.id).signed == {}
    assert notes.notes.notes(record.id, kinds=["session_note"]) == []
    # And each wrong try is in the audit trail, with what it was for
    audit = AuditRepository(room.context.database).for_session(record.id)
    refusals = [a for a in audit if a.action == "passphrase.refused"]
    # (both at the same instant of the test's clock: their order is not the point)
    assert sorted(((a.staff_id, a.detail) for a in refusals), key=lambda row: str(row[1])) == [
        (room.therapist.id, {"purpose": "sign the session", "failures_in_a_row": 1}),
        (room.therapist.id, {"purpose": "sign the session", "failures_in_a_row": 2}),
    ]
    # When she gives her passphrase, Then the part is signed with her key
    signed = notes.sign(record.id, room.therapist.id, PASSPHRASE, ["therapy"], NOTE)
    assert signed.ok, signed.message
    (signature,) = signed.signatures
    key = notes.keys.unlock(room.therapist.id, PASSPHRASE, purpose="test").key
    assert key is not None and signature.public_key == key.public_key


def test_a_pin_emptied_and_set_again_signs_nothing_in_the_nurses_name(room: Room) -> None:
    # Given the nurse with her PIN and signing passphrase, and an ended session
    notes = _notes(room)
    nurse = room.nurse.id
    notes.pins.set_pin(nurse, PIN, PIN)
    notes.keys.set_passphrase(nurse, PASSPHRASE, PASSPHRASE, pin=PIN)
    record = _ended(room)
    # When someone empties her PIN hash, Then the database refuses it
    from sqlalchemy import Uuid, bindparam, text

    statement = text("UPDATE staff SET pin_hash = NULL WHERE id = :id").bindparams(
        bindparam("id", nurse, type_=Uuid())
    )
    with pytest.raises(RecordLocked, match="never removed"), room.context.database.write() as orm:
        orm.execute(statement)
    # When they do it past the trigger, and give her name a PIN of their own
    driver = DRIVER_VALUES[room.context.database.dialect]
    with unguarded(room.context.database, "staff") as cursor:
        cursor.execute(
            driver.sql("UPDATE staff SET pin_hash = NULL WHERE id = ?"), (driver.param_uuid(nurse),)
        )
    notes.pins.set_pin(nurse, "731542", "731542")
    # Then that PIN signs nothing in her name: signing asks her passphrase
    refused = notes.sign(record.id, nurse, "731542", ["monitoring"], None)
    assert not refused.ok and "passphrase is not right" in refused.message
    # ... and it cannot set a passphrase (a key) of their own in her name
    with pytest.raises(PassphraseProblem, match="already has a signing passphrase"):
        notes.keys.set_passphrase(
            nurse, "attacker's own words", "attacker's own words", pin="731542"
        )
    assert notes.state(record.id).signed == {}


def test_five_wrong_passphrases_lock_that_accounts_signing_for_5_minutes_and_nobody_elses(
    room: Room,
) -> None:
    # Given an ended session; the therapist and the nurse with PINs and passphrases
    notes = _notes(room)
    for member in (room.therapist, room.nurse):
        notes.pins.set_pin(member.id, PIN, PIN)
        notes.keys.set_passphrase(member.id, PASSPHRASE, PASSPHRASE, pin=PIN)
    record = _ended(room)
    therapist = room.therapist.id
    # When the therapist types a wrong passphrase 4 times, Then each answer counts down
    said = []
    for _ in range(LOCKOUT_FAILURES - 1):
        refused = notes.sign(record.id, therapist, "not the passphrase", ["therapy"], NOTE)
        assert not refused.ok and refused.retry_in_s == 0
        said.append(refused.message)
        room.clock.advance(5)
    assert [m.split(": ")[-1] for m in said] == [
        f"{n} {'try' if n == 1 else 'tries'} left before your signing is locked for 5 minutes."
        for n in (4, 3, 2, 1)
    ]
    # When the fifth is wrong, Then her signing is locked for 5 minutes, audited, saying until when
    fifth = notes.sign(record.id, therapist, "not the passphrase", ["therapy"], NOTE)
    until = (room.clock.now() + timedelta(seconds=LOCKOUT_S)).astimezone().strftime("%H:%M")
    assert not fifth.ok and fifth.retry_in_s == LOCKOUT_S
    assert f"this account's signing is locked until {until} (5 minutes)" in fifth.message
    audit = AuditRepository(room.context.database).for_session(record.id)
    locked = [a for a in audit if a.action == "passphrase.locked_out"]
    assert [(a.staff_id, a.detail["failures_in_a_row"]) for a in locked] == [(therapist, 5)]
    # And even her right passphrase is refused meanwhile, saying until when; nothing is signed
    room.clock.advance(60)
    refused = notes.sign(record.id, therapist, PASSPHRASE, ["therapy"], NOTE)
    assert not refused.ok and f"locked until {until}" in refused.message
    assert refused.retry_in_s == pytest.approx(LOCKOUT_S - 60)
    assert notes.state(record.id).signed == {}
    # And the nurse signs the monitoring part meanwhile
    assert notes.sign(record.id, room.nurse.id, PASSPHRASE, ["monitoring"], NOTE).ok
    # When the 5 minutes have passed, Then her right passphrase signs
    room.clock.advance(LOCKOUT_S)
    signed = notes.sign(record.id, therapist, PASSPHRASE, ["therapy"], NOTE)
    assert signed.ok, signed.message
    # And a restart (a new service on the same database) counts from the audit trail: the run
    # ended with her right passphrase, so her next wrong one has 4 tries left
    again = _notes(room).keys.unlock(therapist, "not the passphrase", purpose="test")
    assert "4 tries left" in again.message
