"""Signing PINs: stored hashed, checked, slowed after wrong tries, every try audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from services_support import Room

from kapsession.services.pins import PinProblem, PinService, wait_after
from kapsession.storage.audit import AuditRepository

# Cheap hashing parameters so the tests run fast; the app uses argon2-cffi's defaults.
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
        ("12a4", "12a4", "digits"),
        ("123", "123", "digits"),
        ("1" * 13, "1" * 13, "digits"),
        ("7777", "7777", "easy"),
        ("3456", "3456", "easy"),
        ("4829", "4828", "differ"),
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


def test_waits_grow_and_are_capped() -> None:
    assert [wait_after(n) for n in (0, 1, 2, 3, 4)] == [0.0, 0.0, 2.0, 4.0, 8.0]
    assert wait_after(50) == 60.0
