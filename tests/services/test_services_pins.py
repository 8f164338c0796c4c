"""Signing PINs: stored hashed, checked, slowed after wrong tries, every try audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from services_support import Room

from kapsession.services.pins import (
    LOCKOUT_FAILURES,
    LOCKOUT_S,
    PIN_HASH_PARAMETERS,
    PinProblem,
    PinService,
    wait_after,
)
from kapsession.storage.audit import AuditRepository

# Cheap hashing parameters so the tests run fast; the app uses PIN_HASH_PARAMETERS.
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _pins(room: Room) -> PinService:
    return PinService(
        room.service.staff, AuditRepository(room.context.database), room.clock, hasher=FAST
    )


def _actions(room: Room) -> list[str]:
    return [a.action for a in reversed(AuditRepository(room.context.database).all())]


def test_a_pin_is_stored_only_as_an_argon2id_hash(room: Room) -> None:
    pins = _pins(room)
    pins.set_pin(room.nurse.id, "482916", "482916")
    stored = room.service.staff.pin_hash(room.nurse.id)
    assert stored is not None and stored.startswith("$argon2id$")
    assert "482916" not in stored
    assert pins.verify(room.nurse.id, "482916", purpose="sign").ok
    assert "staff.pin_set" in _actions(room)


@pytest.mark.parametrize(
    ("pin", "repeat", "problem"),
    [
        ("12a456", "12a456", "digits"),
        ("123", "123", "digits"),
        ("4829", "4829", "6 to 12 digits"),  # a 4-digit PIN is no longer a new PIN
        ("48291", "48291", "6 to 12 digits"),
        ("1" * 13, "1" * 13, "digits"),
        ("777777", "777777", "easy"),
        ("345678", "345678", "easy"),
        ("482913", "482931", "differ"),
    ],
)
def test_a_bad_new_pin_is_refused_with_what_to_do(
    room: Room, pin: str, repeat: str, problem: str
) -> None:
    with pytest.raises(PinProblem, match=problem):
        _pins(room).set_pin(room.nurse.id, pin, repeat)
    assert room.service.staff.pin_hash(room.nurse.id) is None


def test_changing_a_pin_needs_the_current_one(room: Room) -> None:
    pins = _pins(room)
    pins.set_pin(room.nurse.id, "482916", "482916")
    with pytest.raises(PinProblem):
        pins.set_pin(room.nurse.id, "640213", "640213")
    with pytest.raises(PinProblem, match="not right"):
        pins.set_pin(room.nurse.id, "640213", "640213", current="000000")
    pins.set_pin(room.nurse.id, "640213", "640213", current="482916")
    assert pins.verify(room.nurse.id, "640213", purpose="sign").ok


def test_wrong_pins_are_refused_after_a_pause_audited_and_slowed(room: Room) -> None:
    # Given a nurse with a PIN (the fake clock moves between tries, as a real one would)
    pins = _pins(room)
    pins.set_pin(room.nurse.id, "482916", "482916")
    # When a wrong PIN is given, Then it is refused after a pause, with nothing signed
    room.clock.advance(1)
    first = pins.verify(room.nurse.id, "111111", purpose="sign")
    assert not first.ok and first.pause_s > 0 and "Nothing was signed" in first.message
    # When a second wrong one follows, the next try must wait
    room.clock.advance(1)
    second = pins.verify(room.nurse.id, "222222", purpose="sign")
    assert second.retry_in_s == wait_after(2) > 0
    # And even the right PIN is refused until the wait is over
    early = pins.verify(room.nurse.id, "482916", purpose="sign")
    assert not early.ok and "Wait" in early.message
    room.clock.advance(wait_after(2) + 0.1)
    third = pins.verify(room.nurse.id, "333333", purpose="sign")
    assert not third.ok
    # Then each wrong try is audited, and from the third the trail flags repeated failures
    actions = _actions(room)
    assert actions.count("pin.refused") == 3
    assert actions.count("pin.repeated_failures") == 1
    # And after the wait the right PIN works and ends the run of failures
    room.clock.advance(wait_after(3) + 0.1)
    assert pins.verify(room.nurse.id, "482916", purpose="sign").ok
    assert pins.failures_in_a_row(room.nurse.id)[0] == 0


def test_the_count_of_wrong_tries_survives_a_restart(room: Room) -> None:
    pins = _pins(room)
    pins.set_pin(room.nurse.id, "482916", "482916")
    for pin in ("111111", "222222"):
        room.clock.advance(timedelta(minutes=1).total_seconds())
        pins.verify(room.nurse.id, pin, purpose="sign")
    # A new service, as after the app restarted, still knows
    assert _pins(room).failures_in_a_row(room.nurse.id)[0] == 2


def test_a_staff_member_without_a_pin_is_told_to_set_one(room: Room) -> None:
    result = _pins(room).verify(room.therapist.id, "482916", purpose="sign")
    assert not result.ok and "Set one" in result.message


def test_waits_grow_then_lock_the_account_out() -> None:
    assert [wait_after(n) for n in (0, 1, 2, 3, 4)] == [0.0, 0.0, 2.0, 4.0, 8.0]
    assert wait_after(LOCKOUT_FAILURES) == LOCKOUT_S == 300.0
    assert wait_after(50) == LOCKOUT_S


def _wrong_tries(pins: PinService, room: Room, staff_id: object, count: int) -> None:
    """`count` wrong PINs in a row, each after the wait the one before asked for."""
    for n in range(count):
        room.clock.advance(wait_after(n) + 0.1)
        check = pins.verify(staff_id, "111111", purpose="sign in")  # type: ignore[arg-type]
        assert not check.ok and "not right" in check.message


def test_five_wrong_pins_lock_the_account_out_for_five_minutes_audited(room: Room) -> None:
    # Given a nurse with a PIN, and 4 wrong tries: not locked out yet
    pins = _pins(room)
    pins.set_pin(room.nurse.id, "482916", "482916")
    _wrong_tries(pins, room, room.nurse.id, LOCKOUT_FAILURES - 1)
    assert "pin.locked_out" not in _actions(room)
    # When the fifth wrong one follows
    room.clock.advance(wait_after(LOCKOUT_FAILURES - 1) + 0.1)
    fifth = pins.verify(room.nurse.id, "222222", purpose="sign in")
    # Then the account is locked out for 5 minutes, and the audit trail says so
    assert not fifth.ok and fifth.locked_out and fifth.retry_in_s == LOCKOUT_S
    until = (room.clock.now() + timedelta(seconds=LOCKOUT_S)).astimezone().strftime("%H:%M")
    assert f"locked until {until} (5 more minutes)" in fifth.message
    assert _actions(room).count("pin.locked_out") == 1
    locked = AuditRepository(room.context.database).recent_for_staff(
        room.nurse.id, ("pin.locked_out",)
    )
    assert locked[0].staff_id == room.nurse.id
    # And the right PIN is refused throughout, without being checked (no new refusal row)
    refusals = _actions(room).count("pin.refused")
    for minutes in (1, 4):
        room.clock.advance(60 if minutes == 1 else 3 * 60)
        during = pins.verify(room.nurse.id, "482916", purpose="sign in")
        assert not during.ok and during.locked_out
        assert f"locked until {until} ({5 - minutes} more minute" in during.message
        assert during.message.endswith("Nothing was signed.")  # what was not done
    assert _actions(room).count("pin.refused") == refusals
    # When the 5 minutes are over, Then the right PIN works again and ends the run
    room.clock.advance(60 + 0.1)
    assert pins.verify(room.nurse.id, "482916", purpose="sign in").ok
    assert pins.failures_in_a_row(room.nurse.id)[0] == 0


def test_a_wrong_pin_after_a_lock_out_locks_the_account_again(room: Room) -> None:
    pins = _pins(room)
    pins.set_pin(room.nurse.id, "482916", "482916")
    _wrong_tries(pins, room, room.nurse.id, LOCKOUT_FAILURES)
    room.clock.advance(LOCKOUT_S + 1)
    again = pins.verify(room.nurse.id, "333333", purpose="sign in")
    assert not again.ok and again.locked_out and again.retry_in_s == LOCKOUT_S
    assert _actions(room).count("pin.locked_out") == 2


def test_a_locked_out_account_never_keeps_another_staff_member_out(room: Room) -> None:
    # Given the nurse locked out after 5 wrong PINs
    pins = _pins(room)
    pins.set_pin(room.nurse.id, "482916", "482916")
    pins.set_pin(room.therapist.id, "640213", "640213")
    _wrong_tries(pins, room, room.nurse.id, LOCKOUT_FAILURES)
    assert pins.verify(room.nurse.id, "482916", purpose="sign in").locked_out
    # When the therapist gives their PIN at once (switching in, say), Then it is accepted
    assert pins.verify(room.therapist.id, "640213", purpose="sign in").ok
    # And wrong tries of the nurse's account count for nobody else
    assert pins.failures_in_a_row(room.therapist.id)[0] == 0


def test_a_pin_set_under_the_old_4_digit_rule_works_once_and_must_be_changed(
    room: Room,
) -> None:
    # Given a nurse whose 4-digit PIN was set before the rule became 6 digits (an old hash,
    # at older, cheaper parameters: its own parameters are in it)
    pins = _pins(room)
    room.service.staff.set_pin_hash(
        room.nurse.id, FAST.hash("4826"), at=room.clock.now(), by=room.nurse.id
    )
    # When she gives it, Then it is right, and she is told to change it now
    check = pins.verify(room.nurse.id, "4826", purpose="sign in")
    assert check.ok and check.must_change and "at least 6" in check.message
    # And she changes it with the old one as the current PIN
    pins.set_pin(room.nurse.id, "482916", "482916", current="4826")
    assert not pins.verify(room.nurse.id, "482916", purpose="sign in").must_change


def test_new_pins_are_hashed_at_the_parameters_of_a_day_long_search(room: Room) -> None:
    # The app's own hasher (not the tests' cheap one): the stored hash names its parameters
    pins = PinService(room.service.staff, AuditRepository(room.context.database), room.clock)
    pins.set_pin(room.nurse.id, "482916", "482916")
    stored = room.service.staff.pin_hash(room.nurse.id)
    assert stored is not None
    expected = "m={memory_cost},t={time_cost},p={parallelism}".format(**PIN_HASH_PARAMETERS)
    assert stored.startswith(f"$argon2id$v=19${expected}$")
    # And a hash made at the old, cheaper parameters still verifies
    room.service.staff.set_pin_hash(
        room.therapist.id, FAST.hash("640213"), at=room.clock.now(), by=room.therapist.id
    )
    assert pins.verify(room.therapist.id, "640213", purpose="sign in").ok
