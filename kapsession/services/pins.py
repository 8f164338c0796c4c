"""Staff signing PINs: set, checked, and slowed down after wrong tries.

A PIN is stored only as an Argon2id hash (argon2-cffi, the maintained binding of the reference
implementation; its defaults follow RFC 9106). A wrong PIN is answered only after a short pause,
each wrong try is audited, and consecutive wrong tries make the staff member wait longer before
the next one (counted from the audit trail, so a restart does not reset it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kapsession.domain.clock import Clock
from kapsession.records.people import PIN_MAX_DIGITS, PIN_MIN_DIGITS
from kapsession.storage.audit import AuditRepository
from kapsession.storage.people import StaffRepository

if TYPE_CHECKING:
    from argon2 import PasswordHasher

REFUSAL_PAUSE_S = 1.0  # how long the dialog waits before saying a PIN was wrong
REPEATED_FAILURES = 3  # from this many wrong tries in a row, the audit trail says so
MAX_WAIT_S = 60.0
# What ends a run of wrong tries: a right PIN (every use of one is audited) or a new PIN.
SUCCESS_ACTIONS = ("pin.accepted", "staff.pin_set", "staff.pin_change")
FAILURE_ACTION = "pin.refused"
SWITCH_PURPOSE = "switch the person at the keyboard"


class PinProblem(ValueError):
    """A PIN that cannot be set as typed; the message says what to type instead."""


@dataclass(frozen=True)
class PinCheck:
    ok: bool
    message: str = ""
    pause_s: float = 0.0  # wait this long before showing a refusal
    retry_in_s: float = 0.0  # the next try is refused until then


def check_new_pin(pin: str, repeat: str) -> None:
    if not pin.isdigit() or not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise PinProblem(
            f"A PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits (numbers only). Type it again."
        )
    if len(set(pin)) == 1 or pin in "01234567890123456789" or pin in "98765432109876543210":
        raise PinProblem("That PIN is too easy to guess (all one digit, or a run). Choose another.")
    if pin != repeat:
        raise PinProblem("The two PINs differ. Type the same PIN twice.")


def wait_after(failures: int) -> float:
    """Seconds before the next try after `failures` wrong tries in a row: 0, 0, 2, 4, 8 … 60."""
    if failures < 2:
        return 0.0
    return min(MAX_WAIT_S, 2.0 ** (failures - 1))


class PinService:
    def __init__(
        self,
        staff: StaffRepository,
        audit: AuditRepository,
        clock: Clock,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._staff = staff
        self._audit = audit
        self._clock = clock
        self._given_hasher = hasher

    @property
    def _hasher(self) -> PasswordHasher:
        """argon2 is imported when a PIN is first set or checked: the app starts without it."""
        if self._given_hasher is None:
            from argon2 import PasswordHasher

            self._given_hasher = PasswordHasher()
        return self._given_hasher

    def has_pin(self, staff_id: uuid.UUID) -> bool:
        return self._staff.pin_hash(staff_id) is not None

    def set_pin(
        self, staff_id: uuid.UUID, pin: str, repeat: str, *, current: str | None = None
    ) -> None:
        """Set a first PIN, or change one (then `current` must be right)."""
        check_new_pin(pin, repeat)
        if self.has_pin(staff_id):
            if current is None:
                raise PinProblem("This staff member already has a PIN; give the current one.")
            result = self.verify(staff_id, current, purpose="change the PIN")
            if not result.ok:
                raise PinProblem(result.message)
        self._staff.set_pin_hash(
            staff_id, self._hasher.hash(pin), at=self._clock.now(), by=staff_id
        )

    def failures_in_a_row(self, staff_id: uuid.UUID) -> tuple[int, datetime | None]:
        """Wrong tries since the last right one, and when the latest was."""
        rows = self._audit.recent_for_staff(staff_id, (FAILURE_ACTION, *SUCCESS_ACTIONS))
        count = 0
        latest: datetime | None = None
        for row in rows:
            if row.action != FAILURE_ACTION:
                break
            count += 1
            latest = latest or row.occurred_at
        return count, latest

    def verify(
        self,
        staff_id: uuid.UUID,
        pin: str,
        *,
        purpose: str,
        session_id: uuid.UUID | None = None,
        not_done: str = "Nothing was signed.",
    ) -> PinCheck:
        """Whether `pin` is this staff member's; every answer is audited. `not_done`: what a
        refusal says did not happen."""
        now = self._clock.now()
        failures, latest = self.failures_in_a_row(staff_id)
        wait = wait_after(failures)
        if latest is not None and wait > 0:
            ready_at = latest + timedelta(seconds=wait)
            if now < ready_at:
                left = (ready_at - now).total_seconds()
                return PinCheck(
                    False,
                    f"Too many wrong PINs. Wait {left:.0f} s, then try again.",
                    retry_in_s=left,
                )
        stored = self._staff.pin_hash(staff_id)
        if stored is None:
            return PinCheck(False, "This staff member has no PIN yet. Set one first.")
        hasher = self._hasher
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        try:
            hasher.verify(stored, pin)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            failures += 1
            self._audit.add(
                FAILURE_ACTION,
                at=now,
                staff_id=staff_id,
                entity="staff",
                entity_id=staff_id,
                session_id=session_id,
                detail={"purpose": purpose, "failures_in_a_row": failures},
            )
            if failures >= REPEATED_FAILURES:
                self._audit.add(
                    "pin.repeated_failures",
                    at=now,
                    staff_id=staff_id,
                    entity="staff",
                    entity_id=staff_id,
                    session_id=session_id,
                    detail={"purpose": purpose, "failures_in_a_row": failures},
                )
            retry = wait_after(failures)
            message = f"That PIN is not right. {not_done}"
            if retry:
                message += f" Wait {retry:.0f} s before the next try."
            return PinCheck(False, message, pause_s=REFUSAL_PAUSE_S, retry_in_s=retry)
        self._audit.add(
            "pin.accepted",
            at=now,
            staff_id=staff_id,
            entity="staff",
            entity_id=staff_id,
            session_id=session_id,
            detail={"purpose": purpose},
        )
        return PinCheck(True)

    def check_switch(self, staff_id: uuid.UUID, pin: str, *, session_id: uuid.UUID) -> PinCheck:
        """The PIN of the person switching in at the keyboard (audited like any PIN: who
        switched in, when, in which session)."""
        return self.verify(
            staff_id,
            pin,
            purpose=SWITCH_PURPOSE,
            session_id=session_id,
            not_done="The person at the keyboard was not changed.",
        )
