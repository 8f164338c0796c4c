"""Staff PINs: set, checked, slowed down after wrong tries, and locked out after five.

A PIN is stored only as an Argon2id hash (argon2-cffi, the maintained binding of the reference
implementation) at parameters (`PIN_HASH_PARAMETERS`) that make a search of every 6-digit PIN
cost more than a day on the room laptop (issue 18: the measurement is beside them). The stored
hash carries its own parameters, so a hash made under older ones still verifies.

A new PIN has at least 6 digits (`PIN_MIN_DIGITS`); a PIN set under the old 4-digit rule still
verifies, and the answer says it must be changed (`PinCheck.must_change`): the sign-in has it
changed before anything else.

A wrong PIN is answered only after a short pause, each wrong try is audited, consecutive wrong
tries make the staff member wait longer before the next one, and after `LOCKOUT_FAILURES` in a
row the account is refused for `LOCKOUT_S` (audited `pin.locked_out`). All of it is counted
from that staff member's own rows of the audit trail, so a restart does not reset it and it
never keeps anyone else out: another staff member signs in, unlocks or switches in meanwhile.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from kapsession.domain.clock import Clock
from kapsession.records.people import PIN_MAX_DIGITS, PIN_MIN_DIGITS, PIN_OLD_MIN_DIGITS
from kapsession.storage.audit import AuditRepository
from kapsession.storage.people import StaffRepository

if TYPE_CHECKING:
    from argon2 import PasswordHasher

REFUSAL_PAUSE_S = 1.0  # how long the dialog waits before saying a PIN was wrong
REPEATED_FAILURES = 3  # from this many wrong tries in a row, the audit trail says so
MAX_WAIT_S = 60.0
LOCKOUT_FAILURES = 5  # this many wrong tries in a row lock the account out …
LOCKOUT_S = 5 * 60.0  # … for this long (each wrong try after it starts it again)
LOCKED_OUT_ACTION = "pin.locked_out"
# Argon2id for PINs (issue 18). An attacker with the database file tries every 6-digit PIN
# offline: 10^6 hashes. On the room laptop (2 cores) that must take more than a day:
# 10^6 x t / 2 cores > 86,400 s, so t > 0.173 s per hash on one core. One lane (parallelism
# 1), so that one hash is one core's work, as the attacker would run it; 128 MiB each.
# Measured on this machine (2 cores, shared with other work; scripts/measure_pin_hash.py,
# 2026-12-07): 0.41 s per hash at the fastest, medians 0.45 to 0.86 s as the load varied, so
# every 6-digit PIN takes at least 10^6 x 0.41 / 2 = 205,000 s, 2.4 days; every 4-digit PIN
# 35 minutes (why new PINs have 6). An idle machine is somewhat faster: even at 0.2 s a hash
# the search takes 1.16 days.
# (256 MiB and 4 passes measured 1.6 s: too slow for every unlock.) A PIN is checked at each
# sign-in, unlock, switch and signature: about half a second each.
PIN_TIME_COST = 3  # passes over the memory
PIN_MEMORY_KIB = 128 * 1024  # 128 MiB
PIN_LANES = 1
MEASURED_S = 0.41  # seconds per hash on one core here, the fastest run (see above)
PIN_HASH_PARAMETERS = {
    "time_cost": PIN_TIME_COST,
    "memory_cost": PIN_MEMORY_KIB,
    "parallelism": PIN_LANES,
}
# What ends a run of wrong tries: a right PIN (every use of one is audited) or a new PIN.
SUCCESS_ACTIONS = ("pin.accepted", "staff.pin_set", "staff.pin_change")
FAILURE_ACTION = "pin.refused"
SWITCH_PURPOSE = "switch the person at the keyboard"


class PinProblem(ValueError):
    """A PIN that cannot be set as typed; the message says what to type instead."""


@dataclass(frozen=True)
class PinCheck:
    """The outcome of checking a PIN, and what to tell the person."""

    ok: bool
    message: str = ""
    pause_s: float = 0.0  # wait this long before showing a refusal
    retry_in_s: float = 0.0  # the next try is refused until then
    must_change: bool = False  # right, but shorter than a new PIN may be: change it now
    locked_out: bool = False  # refused: too many wrong tries in a row, for LOCKOUT_S


def could_be_pin(typed: str) -> bool:
    """Whether `typed` could be someone's PIN, new or set under the old rule (4 digits): worth
    checking against the stored hash."""
    return typed.isdigit() and PIN_OLD_MIN_DIGITS <= len(typed) <= PIN_MAX_DIGITS


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
    """Seconds before the next try after `failures` wrong tries in a row: 0, 0, 2, 4, 8, then
    from LOCKOUT_FAILURES the lock-out (5 minutes)."""
    if failures >= LOCKOUT_FAILURES:
        return LOCKOUT_S
    if failures < 2:
        return 0.0
    return min(MAX_WAIT_S, 2.0 ** (failures - 1))


def pin_hasher() -> PasswordHasher:
    """The hasher of new PINs (`PIN_HASH_PARAMETERS`); imported when first used."""
    from argon2 import PasswordHasher

    return PasswordHasher(
        time_cost=PIN_TIME_COST, memory_cost=PIN_MEMORY_KIB, parallelism=PIN_LANES
    )


def audit_staff(
    audit: AuditRepository,
    action: str,
    staff_id: uuid.UUID,
    *,
    at: datetime,
    session_id: uuid.UUID | None,
    detail: dict[str, object],
) -> None:
    """One audit row about a staff member's own account (a PIN or passphrase tried, a run of
    wrong ones, a lock-out)."""
    audit.add(
        action,
        at=at,
        staff_id=staff_id,
        entity="staff",
        entity_id=staff_id,
        session_id=session_id,
        detail=detail,
    )


def _waiting(left: float, failures: int, ready_at: datetime) -> str:
    if failures >= LOCKOUT_FAILURES:
        minutes = max(1, round(left / 60))
        until = ready_at.astimezone().strftime("%H:%M")
        return (
            f"{failures} wrong PINs in a row: this account is locked until {until} ({minutes} "
            f"more minute{'s' if minutes != 1 else ''}). Anyone else can still sign in or "
            "switch in."
        )
    return f"Too many wrong PINs. Wait {left:.0f} s, then try again."


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
            self._given_hasher = pin_hasher()
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
                    f"{_waiting(left, failures, ready_at)} {not_done}",
                    retry_in_s=left,
                    locked_out=failures >= LOCKOUT_FAILURES,
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
            audit_staff(
                self._audit,
                FAILURE_ACTION,
                staff_id,
                at=now,
                session_id=session_id,
                detail={"purpose": purpose, "failures_in_a_row": failures},
            )
            if failures >= REPEATED_FAILURES:
                audit_staff(
                    self._audit,
                    "pin.repeated_failures",
                    staff_id,
                    at=now,
                    session_id=session_id,
                    detail={"purpose": purpose, "failures_in_a_row": failures},
                )
            locked = failures >= LOCKOUT_FAILURES
            if locked:
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
            retry = wait_after(failures)
            message = f"That PIN is not right. {not_done}"
            if locked:
                message += " " + _waiting(retry, failures, now + timedelta(seconds=retry))
            elif retry:
                message += f" Wait {retry:.0f} s before the next try."
            return PinCheck(
                False, message, pause_s=REFUSAL_PAUSE_S, retry_in_s=retry, locked_out=locked
            )
        audit_staff(
            self._audit,
            "pin.accepted",
            staff_id,
            at=now,
            session_id=session_id,
            detail={"purpose": purpose},
        )
        if len(pin) < PIN_MIN_DIGITS:  # set under the old rule: right, but too short now
            return PinCheck(
                True,
                f"This PIN has {len(pin)} digits; a PIN now has at least {PIN_MIN_DIGITS}. "
                "Choose a new one now.",
                must_change=True,
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
