"""A staff member's signing key (issue 18): an Ed25519 key pair whose private key is stored only
sealed (AES-256-GCM under a key Argon2id derives from their signing passphrase)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from support.signing import FAST_KDF, PASSPHRASE

from kapsession.records.errors import StorageError
from kapsession.storage.models import AuditEntry, StaffSigningKey
from kapsession.storage.signing_keys import (
    SIGNING_KDF,
    KdfParams,
    SealedKey,
    SigningKeyRepository,
    WrongPassphrase,
    open_sealed_key,
)

if TYPE_CHECKING:
    from conftest import Clinic


def _rows(clinic: Clinic) -> list[StaffSigningKey]:
    with clinic.db.read() as orm:
        return list(orm.scalars(select(StaffSigningKey).order_by(StaffSigningKey.created_at)))


def test_a_key_is_sealed_by_the_passphrase_and_opened_by_it_alone(clinic: Clinic) -> None:
    keys = SigningKeyRepository(clinic.db, FAST_KDF)
    # When the physician sets a signing passphrase
    record = keys.create(clinic.therapist.id, PASSPHRASE, at=clinic.now())
    (row,) = _rows(clinic)
    # Then the row holds the public key, a salt, the derivation's parameters and a sealed key
    assert row.public_key == record.public_key and len(row.public_key) == 64
    assert len(bytes.fromhex(row.salt)) == 16
    assert row.kdf == {
        "algorithm": "argon2id",
        "version": 19,
        "time_cost": FAST_KDF.time_cost,
        "memory_kib": FAST_KDF.memory_kib,
        "parallelism": FAST_KDF.parallelism,
        "key_length": 32,
    }
    # ... and the passphrase opens it: the private key belongs to the public key
    opened = keys.unlock(clinic.therapist.id, PASSPHRASE)
    assert opened.public_key == row.public_key
    private = opened._private
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    # ... which is not in the row in the clear, nor is the passphrase
    stored = f"{row.public_key}{row.sealed_private_key}{row.salt}{row.kdf}"
    assert raw.hex() not in stored and PASSPHRASE not in stored
    # ... but is, decrypted with the key Argon2id derives from the passphrase and the salt
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    derived = hash_secret_raw(PASSPHRASE.encode(), bytes.fromhex(row.salt), 1, 1024, 1, 32, Type.ID)
    blob = bytes.fromhex(row.sealed_private_key)
    associated = f"kapsession signing key/1 {clinic.therapist.id.hex} {row.public_key}".encode()
    assert AESGCM(derived).decrypt(blob[:12], blob[12:], associated) == raw
    # And a wrong passphrase opens nothing
    with pytest.raises(WrongPassphrase):
        keys.unlock(clinic.therapist.id, PASSPHRASE + "!")
    # And making it was audited, with the public key
    with clinic.db.read() as orm:
        audit = orm.scalars(
            select(AuditEntry).where(AuditEntry.action == "signing_key.created")
        ).one()
        assert audit.detail == {"public_key": row.public_key}


def test_the_apps_keys_are_sealed_at_the_strong_parameters(clinic: Clinic) -> None:
    # Given the repository as the app makes it; When a key is made
    SigningKeyRepository(clinic.db).create(clinic.therapist.id, PASSPHRASE, at=clinic.now())
    # Then its derivation costs 128 MiB and three passes per guess (RFC 9106's second
    # recommendation doubled in memory)
    (row,) = _rows(clinic)
    assert KdfParams.from_json(row.kdf) == SIGNING_KDF
    assert SIGNING_KDF.memory_kib >= 128 * 1024 and SIGNING_KDF.time_cost >= 3


def test_a_new_key_supersedes_the_older_which_stays(clinic: Clinic) -> None:
    keys = SigningKeyRepository(clinic.db, FAST_KDF)
    first = keys.create(clinic.therapist.id, PASSPHRASE, at=clinic.now())
    second = keys.create(clinic.therapist.id, "another long passphrase", at=clinic.now())
    assert keys.current(clinic.therapist.id) == second
    assert keys.unlock(clinic.therapist.id, "another long passphrase").record == second
    assert {r.public_key for r in _rows(clinic)} == {first.public_key, second.public_key}


def test_a_short_passphrase_makes_no_key(clinic: Clinic) -> None:
    keys = SigningKeyRepository(clinic.db, FAST_KDF)
    with pytest.raises(StorageError, match="at least 8 characters"):
        keys.create(clinic.therapist.id, "short", at=clinic.now())
    assert _rows(clinic) == []


def test_a_sealed_key_copied_to_another_staff_member_does_not_open(clinic: Clinic) -> None:
    # Given the physician's sealed key, and someone who knows the passphrase
    keys = SigningKeyRepository(clinic.db, FAST_KDF)
    keys.create(clinic.therapist.id, PASSPHRASE, at=clinic.now())
    nurse = clinic.staff.add("Sam Lee", "nurse", at=clinic.now(), credentials="RN")
    (row,) = _rows(clinic)
    sealed = SealedKey(row.public_key, row.sealed_private_key, row.salt, FAST_KDF)
    assert open_sealed_key(clinic.therapist.id, sealed, PASSPHRASE) is not None
    # When it is opened as another staff member's (a copy into their key row), Then it does
    # not open: the seal names whose key it is
    with pytest.raises(WrongPassphrase):
        open_sealed_key(nurse.id, sealed, PASSPHRASE)
