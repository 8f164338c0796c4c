"""Each staff member's signing key: an Ed25519 key pair sealed by their signing passphrase.

The private key is stored only sealed: AES-256-GCM (the `cryptography` package) under a key
derived from the passphrase by Argon2id (argon2-cffi's `hash_secret_raw`), with a random salt and
the derivation's parameters beside it, and the staff member's id and public key as associated
data (a sealed key moved to another row does not open). The public key is stored in the clear:
verifying a signature needs nothing else (`signatures.py`). The table is append-only; a new key
supersedes the older, which stay to verify what they signed. A wrong passphrase raises
`WrongPassphrase` and nothing changes; the service above audits it.

`cryptography` and `argon2` are imported when a key is first made or opened: the app starts
without them.
"""

from __future__ import annotations

import os
import unicodedata
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kapsession.records.errors import NotFound, StorageError
from kapsession.records.people import PASSPHRASE_MIN_CHARS
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

SALT_BYTES = 16
NONCE_BYTES = 12
KEY_BYTES = 32
MIN_PASSPHRASE = PASSPHRASE_MIN_CHARS
SEAL_FORMAT = "kapsession signing key/1"


class WrongPassphrase(StorageError):
    """The passphrase does not open the staff member's sealed key."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id's parameters for one sealed key (stored with it, so they can be raised later
    without making older keys unreadable)."""

    time_cost: int
    memory_kib: int
    parallelism: int

    def as_json(self) -> dict[str, Any]:
        return {
            "algorithm": "argon2id",
            "version": 19,
            "time_cost": self.time_cost,
            "memory_kib": self.memory_kib,
            "parallelism": self.parallelism,
            "key_length": KEY_BYTES,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> KdfParams:
        if value.get("algorithm") != "argon2id" or value.get("key_length") != KEY_BYTES:
            raise StorageError(f"Unknown key derivation {value!r}: this key cannot be opened.")
        return cls(int(value["time_cost"]), int(value["memory_kib"]), int(value["parallelism"]))


# Argon2id at 128 MiB, 3 passes, one lane. Measured on this machine (two cores) on 2026-12-07:
# 0.53 s per derivation with one other test run beside it, 0.42-0.62 s with two (this machine
# was never idle while measured; alone it is faster, about 0.3-0.4 s). Each guess of an offline
# search costs the same 128 MiB and time: RFC 9106's second recommendation (64 MiB, 3 passes)
# doubled in memory.
SIGNING_KDF = KdfParams(time_cost=3, memory_kib=128 * 1024, parallelism=1)


@dataclass(frozen=True)
class SigningKeyRecord:
    """A staff member's public signing key as stored."""

    id: uuid.UUID
    staff_id: uuid.UUID
    public_key: str  # hex, 32 bytes
    created_at: datetime


class UnlockedKey:
    """A staff member's private key, opened by their passphrase for one signing: kept only in
    memory, by the code that signs."""

    def __init__(self, record: SigningKeyRecord, private: Ed25519PrivateKey) -> None:
        self.record = record
        self._private = private

    @property
    def staff_id(self) -> uuid.UUID:
        return self.record.staff_id

    @property
    def public_key(self) -> str:
        return self.record.public_key

    def sign(self, data: bytes) -> str:
        """The Ed25519 signature of `data`, hex."""
        return self._private.sign(data).hex()

    def __repr__(self) -> str:  # never the key itself
        return f"UnlockedKey(staff_id={self.staff_id}, public_key={self.public_key})"


def normalized(passphrase: str) -> bytes:
    """The passphrase as it is derived from: NFC, so the same letters typed on another keyboard
    layout give the same bytes."""
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def derive(passphrase: str, salt: bytes, kdf: KdfParams) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        normalized(passphrase),
        salt,
        time_cost=kdf.time_cost,
        memory_cost=kdf.memory_kib,
        parallelism=kdf.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def _associated(staff_id: uuid.UUID, public_key: str) -> bytes:
    return f"{SEAL_FORMAT} {staff_id.hex} {public_key}".encode("ascii")


@dataclass(frozen=True)
class SealedKey:
    """A key pair, its private key sealed by a passphrase."""

    public_key: str  # hex
    sealed_private_key: str  # hex: nonce, then the AES-GCM ciphertext and tag
    salt: str  # hex
    kdf: KdfParams


def new_sealed_key(staff_id: uuid.UUID, passphrase: str, kdf: KdfParams) -> SealedKey:
    """A new Ed25519 key pair, its private key sealed by the passphrase."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(derive(passphrase, salt, kdf)).encrypt(
        nonce, raw, _associated(staff_id, public.hex())
    )
    return SealedKey(public.hex(), (nonce + sealed).hex(), salt.hex(), kdf)


def open_sealed_key(staff_id: uuid.UUID, sealed: SealedKey, passphrase: str) -> Ed25519PrivateKey:
    """The private key, if `passphrase` seals it (`WrongPassphrase` otherwise)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    blob = bytes.fromhex(sealed.sealed_private_key)
    nonce, body = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    key = derive(passphrase, bytes.fromhex(sealed.salt), sealed.kdf)
    try:
        raw = AESGCM(key).decrypt(nonce, body, _associated(staff_id, sealed.public_key))
    except InvalidTag:
        raise WrongPassphrase("That signing passphrase is not right.") from None
    private = Ed25519PrivateKey.from_private_bytes(raw)
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if public.hex() != sealed.public_key:  # sealed for another public key: not this row's
        raise WrongPassphrase("This signing key does not match its public key.")
    return private


def _newest(orm: OrmSession, staff_id: uuid.UUID) -> models.StaffSigningKey | None:
    key = models.StaffSigningKey
    return orm.scalars(
        select(key).where(key.staff_id == staff_id).order_by(key.created_at.desc(), key.id).limit(1)
    ).first()


def _record(row: models.StaffSigningKey) -> SigningKeyRecord:
    return SigningKeyRecord(row.id, row.staff_id, row.public_key, row.created_at)


class SigningKeyRepository:
    def __init__(self, database: Database, kdf: KdfParams = SIGNING_KDF) -> None:
        """`kdf`: the Argon2id parameters new keys are sealed with."""
        self._db = database
        self._kdf = kdf

    def create(self, staff_id: uuid.UUID, passphrase: str, *, at: datetime) -> SigningKeyRecord:
        """A new key pair for `staff_id`, sealed by `passphrase`; it supersedes any older one.
        The passphrase's rules are the caller's (`services/signing_keys.py`)."""
        if len(passphrase) < MIN_PASSPHRASE:
            raise StorageError(f"A signing passphrase has at least {MIN_PASSPHRASE} characters.")
        sealed = new_sealed_key(staff_id, passphrase, self._kdf)  # before the write: it is slow
        with self._db.write("save the signing key") as orm:
            staff = orm.get(models.Staff, staff_id)
            if staff is None or not staff.active:
                raise NotFound("This staff member is unknown or no longer active.")
            row = models.StaffSigningKey(
                staff_id=staff_id,
                public_key=sealed.public_key,
                sealed_private_key=sealed.sealed_private_key,
                salt=sealed.salt,
                kdf=sealed.kdf.as_json(),
                created_at=at,
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=at,
                staff_id=staff_id,
                action="signing_key.created",
                entity="staff",
                entity_id=staff_id,
                detail={"public_key": sealed.public_key},
            )
            return _record(row)

    def current(self, staff_id: uuid.UUID) -> SigningKeyRecord | None:
        """The staff member's newest key: the one that signs."""
        with self._db.read() as orm:
            row = _newest(orm, staff_id)
            return None if row is None else _record(row)

    def with_key(self, staff_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `staff_ids` who have a signing key."""
        if not staff_ids:
            return set()
        table = schema.staff_signing_key
        with self._db.read() as orm:
            found = orm.execute(
                select(table.c.staff_id).where(table.c.staff_id.in_(set(staff_ids))).distinct()
            )
            return {staff_id for (staff_id,) in found}

    def unlock(self, staff_id: uuid.UUID, passphrase: str) -> UnlockedKey:
        """The staff member's newest key, opened by `passphrase` (`WrongPassphrase` if it does
        not open it, `NotFound` without a key)."""
        with self._db.read() as orm:
            row = _newest(orm, staff_id)
            if row is None:
                raise NotFound("This staff member has no signing key yet.")
            record = _record(row)
            sealed = SealedKey(
                row.public_key, row.sealed_private_key, row.salt, KdfParams.from_json(row.kdf)
            )
        return UnlockedKey(record, open_sealed_key(staff_id, sealed, passphrase))
