"""Signing passphrases: each staff member's own, which opens the key their signatures are made
with (`storage/signing_keys.py`).

A staff member sets their signing passphrase once (at least 8 characters, typed twice) after
confirming their PIN; it seals a new Ed25519 key pair. Signing then asks the passphrase, not the
PIN: the key it opens makes the signature, so a PIN set by someone else, or a `pin_hash` emptied
in the database, signs nothing. A wrong passphrase is answered after a short pause, audited
(`passphrase.refused`, with why it was asked), and nothing is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from kapsession.domain.clock import Clock
from kapsession.records.errors import NotFound, StorageError
from kapsession.services.pins import REFUSAL_PAUSE_S, PinService
from kapsession.storage.audit import AuditRepository
from kapsession.storage.signing_keys import (
    MIN_PASSPHRASE,
    SigningKeyRepository,
    UnlockedKey,
    WrongPassphrase,
)

FAILURE_ACTION = "passphrase.refused"
PASSPHRASE_RULE = f"at least {MIN_PASSPHRASE} characters"  # as the sign dialog says it


class PassphraseProblem(ValueError):
    """A signing passphrase that cannot be set as typed; the message says what to do."""


@dataclass(frozen=True)
class KeyCheck:
    """The signer's key, opened; or why not, and how long the dialog waits to say so."""

    ok: bool
    message: str = ""
    key: UnlockedKey | None = None
    pause_s: float = 0.0


def check_new_passphrase(passphrase: str, repeat: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE or not passphrase.strip():
        raise PassphraseProblem(
            f"A signing passphrase has {PASSPHRASE_RULE} (a few words are easiest to remember). "
            "Type it again."
        )
    if passphrase != repeat:
        raise PassphraseProblem("The two passphrases differ. Type the same passphrase twice.")


class SigningKeyService:
    def __init__(
        self,
        keys: SigningKeyRepository,
        audit: AuditRepository,
        clock: Clock,
        pins: PinService,
    ) -> None:
        self._keys = keys
        self._audit = audit
        self._clock = clock
        self._pins = pins

    def has_key(self, staff_id: uuid.UUID) -> bool:
        return bool(self._keys.with_key([staff_id]))

    def with_key(self, staff_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `staff_ids` who have set their signing passphrase."""
        return self._keys.with_key(staff_ids)

    def set_passphrase(
        self,
        staff_id: uuid.UUID,
        passphrase: str,
        repeat: str,
        *,
        pin: str,
        session_id: uuid.UUID | None = None,
    ) -> None:
        """A first signing passphrase for `staff_id`, after their PIN: a new key pair sealed by
        it. `PassphraseProblem` (nothing stored) if the passphrase or the PIN is not right."""
        check_new_passphrase(passphrase, repeat)
        if self.has_key(staff_id):
            raise PassphraseProblem(
                "This staff member already has a signing passphrase; sign with it."
            )
        check = self._pins.verify(
            staff_id,
            pin,
            purpose="set the signing passphrase",
            session_id=session_id,
            not_done="The signing passphrase was not set and nothing was signed.",
        )
        if not check.ok:
            raise PassphraseProblem(check.message)
        try:
            self._keys.create(staff_id, passphrase, at=self._clock.now())
        except StorageError as exc:
            raise PassphraseProblem(str(exc)) from exc

    def unlock(
        self,
        staff_id: uuid.UUID,
        passphrase: str,
        *,
        purpose: str,
        session_id: uuid.UUID | None = None,
        not_done: str = "Nothing was signed.",
    ) -> KeyCheck:
        """The staff member's signing key, opened by `passphrase`; a wrong one is audited."""
        if not passphrase:
            return KeyCheck(False, f"Type your signing passphrase. {not_done}")
        try:
            key = self._keys.unlock(staff_id, passphrase)
        except NotFound:
            return KeyCheck(False, f"This staff member has no signing passphrase yet. {not_done}")
        except WrongPassphrase:
            self._audit.add(
                FAILURE_ACTION,
                at=self._clock.now(),
                staff_id=staff_id,
                entity="staff",
                entity_id=staff_id,
                session_id=session_id,
                detail={"purpose": purpose},
            )
            return KeyCheck(
                False,
                f"That signing passphrase is not right. {not_done} Check the keyboard layout "
                "and Caps Lock, then type it again.",
                pause_s=REFUSAL_PAUSE_S,
            )
        return KeyCheck(True, key=key)
