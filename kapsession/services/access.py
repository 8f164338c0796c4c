"""Who may use the app (issue 18): the clinic administrator, staff accounts and signing in.

- The first run (no administrator yet: a new database, or one from before issue 18) creates the
  clinic administrator's account: a name and a passphrase of at least 10 characters, kept as an
  Argon2id hash. That account manages the others and works in no session (it is on no team
  list: `StaffRepository.active`).
- Only the administrator, with their passphrase, creates, disables and resets staff accounts.
  A new or reset account gets a one-time setup code (shown once, to hand to its owner; kept
  only as a hash); its owner types it at their first sign-in together with the PIN they choose,
  so nobody else sets anyone's PIN. The administrator's own first sign-in is proved by the
  passphrase.
- Signing in, unlocking and switching person are by PIN (`PinService`: 6 digits or more, slowed
  after wrong tries, 5 minutes' lock-out after 5 in a row, per account). A PIN set under the old
  4-digit rule is changed at that sign-in, before anything else.

Every act is audited: `admin.create`, `staff.add`, `staff.disable`, `staff.pin_reset`,
`staff.first_sign_in`, `staff.sign_in`, and the passphrase's tries.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from kapsession.domain.clock import Clock
from kapsession.domain.roles import StaffRole
from kapsession.records.errors import StorageError
from kapsession.records.people import StaffRecord
from kapsession.services.pins import (
    LOCKOUT_FAILURES,
    LOCKOUT_S,
    REFUSAL_PAUSE_S,
    PinCheck,
    PinProblem,
    PinService,
    check_new_pin,
)
from kapsession.storage.audit import AuditRepository
from kapsession.storage.people import StaffRepository

if TYPE_CHECKING:
    from argon2 import PasswordHasher

PASSPHRASE_MIN_CHARS = 10
SETUP_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or copied
SETUP_CODE_CHARS = 8
SIGN_IN_PURPOSE = "sign in"
UNLOCK_PURPOSE = "unlock the screen"
PASSPHRASE_REFUSED = "admin.passphrase_refused"
PASSPHRASE_ACCEPTED = "admin.passphrase_accepted"


class AccessProblem(ValueError):
    """Something typed that cannot be accepted; the message says what to do instead."""


@dataclass(frozen=True)
class NewAccount:
    """A staff account just made or reset, and its one-time setup code (shown once)."""

    staff: StaffRecord
    setup_code: str


def new_setup_code() -> str:
    """A one-time setup code: 8 characters of an alphabet read without mistakes, as XXXX-XXXX."""
    code = "".join(secrets.choice(SETUP_CODE_ALPHABET) for _ in range(SETUP_CODE_CHARS))
    return f"{code[:4]}-{code[4:]}"


def normal_setup_code(typed: str) -> str:
    """A setup code as typed (any case, spaces or dashes) in its stored form."""
    plain = "".join(c for c in typed.upper() if c.isalnum())
    return f"{plain[:4]}-{plain[4:]}" if len(plain) == SETUP_CODE_CHARS else plain


def check_new_passphrase(passphrase: str, repeat: str) -> None:
    if len(passphrase.strip()) < PASSPHRASE_MIN_CHARS:
        raise AccessProblem(
            f"The administrator's passphrase has at least {PASSPHRASE_MIN_CHARS} characters; "
            "a few words are easier to remember than symbols. Type a longer one."
        )
    if passphrase != repeat:
        raise AccessProblem("The two passphrases differ. Type the same passphrase twice.")


class AccessService:
    def __init__(
        self,
        staff: StaffRepository,
        pins: PinService,
        audit: AuditRepository,
        clock: Clock,
        *,
        passphrase_hasher: PasswordHasher | None = None,
    ) -> None:
        """`passphrase_hasher`: None, argon2-cffi's defaults (RFC 9106's second
        recommendation, 64 MiB) for the passphrase and setup codes: a 10-character passphrase
        is not searched, whatever a hash costs."""
        self.staff = staff
        self.pins = pins
        self._audit = audit
        self._clock = clock
        self._given_hasher = passphrase_hasher

    @property
    def _hasher(self) -> PasswordHasher:
        if self._given_hasher is None:
            from argon2 import PasswordHasher

            self._given_hasher = PasswordHasher()
        return self._given_hasher

    # the administrator -------------------------------------------------------------------
    def needs_administrator(self) -> bool:
        """No administrator account yet: the first run (or the first start after issue 18)."""
        return not self.staff.administrators()

    def create_administrator(self, name: str, passphrase: str, repeat: str) -> StaffRecord:
        """The clinic administrator's account, once: refused when there is one."""
        if not self.needs_administrator():
            raise AccessProblem("The clinic already has its administrator.")
        if not name.strip():
            raise AccessProblem("Type the administrator's name.")
        check_new_passphrase(passphrase, repeat)
        member = self.staff.add(
            name,
            StaffRole.ADMINISTRATOR,
            at=self._clock.now(),
            admin_passphrase_hash=self._hasher.hash(passphrase),
        )
        self._audit.add(
            "admin.create",
            at=self._clock.now(),
            staff_id=member.id,
            entity="staff",
            entity_id=member.id,
        )
        return member

    def check_administrator(self, passphrase: str) -> PinCheck:
        """Whether `passphrase` is the administrator's: audited, paused when wrong, and refused
        for 5 minutes after 5 wrong in a row (as PINs are)."""
        admins = self.staff.administrators()
        if not admins:
            return PinCheck(False, "There is no administrator yet.")
        admin = admins[0]
        now = self._clock.now()
        rows = self._audit.recent_for_staff(admin.id, (PASSPHRASE_REFUSED, PASSPHRASE_ACCEPTED))
        failures = 0
        for row in rows:
            if row.action != PASSPHRASE_REFUSED:
                break
            failures += 1
        if failures >= LOCKOUT_FAILURES:
            ready_at = rows[0].occurred_at + timedelta(seconds=LOCKOUT_S)
            if now < ready_at:
                left = (ready_at - now).total_seconds()
                return PinCheck(
                    False,
                    f"{failures} wrong passphrases in a row: wait {max(1, round(left / 60))} "
                    "min before the next try.",
                    retry_in_s=left,
                    locked_out=True,
                )
        stored = self.staff.admin_passphrase_hash(admin.id)
        if stored is None or not self._matches(stored, passphrase):
            self._audit.add(
                PASSPHRASE_REFUSED,
                at=now,
                staff_id=admin.id,
                entity="staff",
                entity_id=admin.id,
                detail={"failures_in_a_row": failures + 1},
            )
            if failures + 1 >= LOCKOUT_FAILURES:
                self._audit.add(
                    "pin.locked_out",
                    at=now,
                    staff_id=admin.id,
                    entity="staff",
                    entity_id=admin.id,
                    detail={"secret": "administrator's passphrase"},
                )
            return PinCheck(
                False,
                "That is not the administrator's passphrase. Nothing was changed.",
                pause_s=REFUSAL_PAUSE_S,
            )
        self._audit.add(
            PASSPHRASE_ACCEPTED, at=now, staff_id=admin.id, entity="staff", entity_id=admin.id
        )
        return PinCheck(True)

    def _matches(self, stored: str, typed: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            return bool(self._hasher.verify(stored, typed))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _as_administrator(self, passphrase: str) -> StaffRecord:
        check = self.check_administrator(passphrase)
        if not check.ok:
            raise AccessProblem(check.message)
        return self.staff.administrators()[0]

    # staff accounts (the administrator only) -----------------------------------------------
    def add_staff(
        self, passphrase: str, name: str, role: str, *, credentials: str = ""
    ) -> NewAccount:
        """A new staff account, by the administrator (their passphrase), with its one-time
        setup code for the owner's first sign-in."""
        admin = self._as_administrator(passphrase)
        code = new_setup_code()
        try:
            member = self.staff.add(
                name,
                role,
                at=self._clock.now(),
                credentials=credentials,
                by=admin.id,
                setup_code_hash=self._hasher.hash(code),
            )
        except StorageError as exc:
            raise AccessProblem(str(exc)) from exc
        return NewAccount(member, code)

    def disable(self, passphrase: str, staff_id: uuid.UUID) -> None:
        """The account can no longer sign in and is offered nowhere (its records keep it)."""
        admin = self._as_administrator(passphrase)
        if staff_id == admin.id:
            raise AccessProblem("The administrator's own account is not disabled here.")
        self.staff.set_active(staff_id, False, at=self._clock.now(), by=admin.id)

    def reset(self, passphrase: str, staff_id: uuid.UUID) -> NewAccount:
        """The PIN cleared and a new one-time setup code: its owner sets a new PIN at their
        next sign-in (a forgotten PIN, a lock-out that must end, a PIN someone else saw)."""
        admin = self._as_administrator(passphrase)
        member = self.staff.get(staff_id)
        if member.admin:
            raise AccessProblem("The administrator's account has no PIN to reset here.")
        code = new_setup_code()
        self.staff.reset_pin(staff_id, self._hasher.hash(code), at=self._clock.now(), by=admin.id)
        return NewAccount(member, code)

    # signing in ----------------------------------------------------------------------------
    def accounts(self) -> list[StaffRecord]:
        """Who may sign in, by name."""
        return self.staff.accounts()

    def needs_first_sign_in(self, staff_id: uuid.UUID) -> bool:
        """No PIN yet: the first sign-in sets it (with the setup code, or the passphrase)."""
        return not self.pins.has_pin(staff_id)

    def sign_in(self, staff_id: uuid.UUID, pin: str, *, purpose: str = SIGN_IN_PURPOSE) -> PinCheck:
        """A sign-in (or unlock, or switch) by PIN; audited by the PIN check."""
        if not self._may_sign_in(staff_id):
            return PinCheck(False, "This account is disabled. Ask the clinic administrator.")
        check = self.pins.verify(staff_id, pin, purpose=purpose, not_done="Nobody was signed in.")
        if check.ok:
            self._audit.add(
                "staff.sign_in",
                at=self._clock.now(),
                staff_id=staff_id,
                entity="staff",
                entity_id=staff_id,
                detail={"purpose": purpose},
            )
        return check

    def first_sign_in(self, staff_id: uuid.UUID, proof: str, pin: str, repeat: str) -> None:
        """The owner's first PIN: `proof` is the one-time setup code the administrator gave
        them (the administrator's own account: its passphrase). Raises PinProblem."""
        if not self._may_sign_in(staff_id):
            raise PinProblem("This account is disabled. Ask the clinic administrator.")
        if self.pins.has_pin(staff_id):
            raise PinProblem("This account has a PIN already: sign in with it.")
        check_new_pin(pin, repeat)
        member = self.staff.get(staff_id)
        if member.admin:
            if not self.check_administrator(proof).ok:
                raise PinProblem("That is not the administrator's passphrase. No PIN was set.")
        else:
            stored = self.staff.setup_code_hash(staff_id)
            if stored is None:
                raise PinProblem(
                    "This account has no setup code. The clinic administrator resets it and "
                    "gives you one."
                )
            if not self._matches(stored, normal_setup_code(proof)):
                self._audit.add(
                    "staff.setup_code_refused",
                    at=self._clock.now(),
                    staff_id=staff_id,
                    entity="staff",
                    entity_id=staff_id,
                )
                raise PinProblem(
                    "That is not the setup code of this account. Type the code the "
                    "administrator gave you. No PIN was set."
                )
        self.pins.set_pin(staff_id, pin, repeat)  # clears the setup code, audited
        self._audit.add(
            "staff.first_sign_in",
            at=self._clock.now(),
            staff_id=staff_id,
            entity="staff",
            entity_id=staff_id,
        )

    def change_pin(self, staff_id: uuid.UUID, current: str, pin: str, repeat: str) -> None:
        """A PIN changed by its owner (a 4-digit one at its sign-in). Raises PinProblem."""
        self.pins.set_pin(staff_id, pin, repeat, current=current)

    def _may_sign_in(self, staff_id: uuid.UUID) -> bool:
        return any(s.id == staff_id for s in self.staff.accounts())
