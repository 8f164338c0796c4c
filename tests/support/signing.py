"""Signing keys for tests that sign: each signer gets an Ed25519 key sealed by a passphrase
through the real repository or service (issue 18: a signature is made with the signer's own
key), at light Argon2id parameters, as tests/services/test_services_pins.py hashes PINs with a
light hasher: the product's are the subject of tests/storage/test_storage_signing_keys.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kapsession.services.session_note import SessionNoteService
from kapsession.storage.database import Database
from kapsession.storage.signing_keys import KdfParams, SigningKeyRepository, UnlockedKey

FAST_KDF = KdfParams(time_cost=1, memory_kib=1024, parallelism=1)
PASSPHRASE = "quiet river at dawn"  # every test signer's signing passphrase
KEY_MADE_AT = datetime(2020, 1, 1, tzinfo=UTC)  # before any test's signatures


def signing_key(
    database: Database, staff_id: uuid.UUID, passphrase: str = PASSPHRASE
) -> UnlockedKey:
    """`staff_id`'s signing key, opened by `passphrase`; made first if they have none."""
    keys = SigningKeyRepository(database, FAST_KDF)
    if not keys.with_key([staff_id]):
        keys.create(staff_id, passphrase, at=KEY_MADE_AT)
    return keys.unlock(staff_id, passphrase)


def give_passphrase(
    notes: SessionNoteService, staff_id: uuid.UUID, pin: str, passphrase: str = PASSPHRASE
) -> None:
    """Set `staff_id`'s signing passphrase through the service, after their PIN, as the sign
    dialog does for a signer without one."""
    notes.keys.set_passphrase(staff_id, passphrase, passphrase, pin=pin)
