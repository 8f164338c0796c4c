"""Signing passphrases: each staff member's own, which opens the key their signatures are made
with (`storage/signing_keys.py`).

A staff member sets their signing passphrase once (at least 8 characters, typed twice) after
confirming their PIN; it seals a new Ed25519 key pair. Signing then asks the passphrase, not the
PIN: the key it opens makes the signature, so a PIN set by someone else, or a `pin_hash` emptied
in the database, signs nothing. A wrong passphrase is answered after a short pause, audited
(`passphrase.refused`, with why it was asked and how many in a row), and nothing is stored; the
answer says how many tries are left. After `LOCKOUT_FAILURES` (5) wrong ones in a row that
account's signing is refused for `LOCKOUT_S` (5 minutes; audited `passphrase.locked_out`), as a
PIN's is. It is counted from that staff member's own audit rows (a right passphrase,
`passphrase.accepted`, or a new key ends the run), so a restart does not reset it and nobody
else is kept from signing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from kapsession.domain.clock import Clock
from kapsession.records.errors import NotFound, StorageError
from kapsession.services.pins import (
    LOCKOUT_FAILURES,
    LOCKOUT_S,
    REFUSAL_PAUSE_S,
    PinService,
    audit_staff,
)
from kapsession.storage.audit import AuditRepository
from kapsession.storage.signing_keys import (
    MIN_PASSPHRASE,
    SigningKeyRepository,
    UnlockedKey,
    WrongPassphrase,
)

FAILURE_ACTION = "passphrase.refused"
SUCCESS_ACTION = "passphrase.accepted"
LOCKED_OUT_ACTION = "passphrase.locked_out"
# What ends a run of wrong passphrases: a right one, or a new key (a new passphrase).
RUN_ENDS = (SUCCESS_ACTION, "signing_key.created")
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
    retry_in_s: float = 0.0  # the account's signing is locked out for this long


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
        now = self._clock.now()
        failures, latest = self.failures_in_a_row(staff_id)
        if failures >= LOCKOUT_FAILURES and latest is not None:
            ready_at = latest + timedelta(seconds=LOCKOUT_S)
            if now < ready_at:  # the passphrase is not even tried: no guess counts meanwhile
                return KeyCheck(
                    False,
                    f"{_locked_out(failures, ready_at)} {not_done}",
                    retry_in_s=(ready_at - now).total_seconds(),
                )
            # over: the next try is checked, and a wrong one locks it again (as a PIN's)
        try:
            key = self._keys.unlock(staff_id, passphrase)
        except NotFound:
            return KeyCheck(False, f"This staff member has no signing passphrase yet. {not_done}")
        except WrongPassphrase:
            failures += 1
            audit_staff(
                self._audit,
                FAILURE_ACTION,
                staff_id,
                at=now,
                session_id=session_id,
                detail={"purpose": purpose, "failures_in_a_row": failures},
            )
            wrong = f"That signing passphrase is not right. {not_done}"
            if failures >= LOCKOUT_FAILURES:
                audit_staff(
                    self._audit,
                    LOCKED_OUT_ACTION,
                    staff_id,
                    at=now,
                    session_id=session_id,
                    detail={
                        "purpose": purpose,
                        "failures_in_a_row": failures,
                        "locked_for_s": LOCKOUT_S,
                    },
                )
                ready_at = now + timedelta(seconds=LOCKOUT_S)
                return KeyCheck(
                    False,
                    f"{wrong} {_locked_out(failures, ready_at)}",
                    pause_s=REFUSAL_PAUSE_S,
                    retry_in_s=LOCKOUT_S,
                )
            left = LOCKOUT_FAILURES - failures
            return KeyCheck(
                False,
                f"{wrong} Check the keyboard layout and Caps Lock, then type it again: "
                f"{left} {'try' if left == 1 else 'tries'} left before your signing is locked "
                f"for {round(LOCKOUT_S / 60)} minutes.",
                pause_s=REFUSAL_PAUSE_S,
            )
        audit_staff(
            self._audit,
            SUCCESS_ACTION,
            staff_id,
            at=now,
            session_id=session_id,
            detail={"purpose": purpose},
        )
        return KeyCheck(True, key=key)

    def failures_in_a_row(self, staff_id: uuid.UUID) -> tuple[int, datetime | None]:
        """Wrong signing passphrases since the last right one (or new key), and when the
        latest was."""
        rows = self._audit.recent_for_staff(staff_id, (FAILURE_ACTION, *RUN_ENDS))
        count = 0
        latest: datetime | None = None
        for row in rows:
            if row.action != FAILURE_ACTION:
                break
            count += 1
            latest = latest or row.occurred_at
        return count, latest


def _locked_out(failures: int, ready_at: datetime) -> str:
    """What a locked-out signer is told: until when, and that anyone else still signs."""
    until = ready_at.astimezone().strftime("%H:%M")
    return (
        f"{failures} wrong signing passphrases in a row: this account's signing is locked "
        f"until {until} ({round(LOCKOUT_S / 60)} minutes). Anyone else can still sign."
    )
