"""Staff accounts and signing in (issue 18): the first run's administrator, staff accounts
changed only by the administrator, each owner's first sign-in setting their own PIN."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from services_support import Room

from kapsession.records.people import StaffRecord
from kapsession.services.access import AccessProblem, AccessService, normal_setup_code
from kapsession.services.pins import LOCKOUT_FAILURES, PinProblem, PinService, wait_after
from kapsession.storage.audit import AuditRepository

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # the tests' cheap hashes
PASSPHRASE = "harbour lantern meadow"


def _access(room: Room) -> AccessService:
    audit = AuditRepository(room.context.database)
    pins = PinService(room.service.staff, audit, room.clock, hasher=FAST)
    return AccessService(room.service.staff, pins, audit, room.clock, passphrase_hasher=FAST)


def _actions(room: Room) -> list[str]:
    return [a.action for a in reversed(AuditRepository(room.context.database).all())]


def _admin(access: AccessService) -> StaffRecord:
    return access.create_administrator("Lena Hart", PASSPHRASE, PASSPHRASE)


def test_the_first_run_creates_the_administrator_once_with_a_long_passphrase(room: Room) -> None:
    access = _access(room)
    # Given no administrator yet
    assert access.needs_administrator()
    # When the passphrase is short, or typed differently twice, Then nothing is made
    with pytest.raises(AccessProblem, match="at least 10"):
        access.create_administrator("Lena Hart", "short", "short")
    with pytest.raises(AccessProblem, match="differ"):
        access.create_administrator("Lena Hart", PASSPHRASE, PASSPHRASE + "x")
    assert access.needs_administrator()
    # When it is long enough, Then the administrator exists, the passphrase kept as a hash
    admin = _admin(access)
    assert admin.admin and not access.needs_administrator()
    stored = room.service.staff.admin_passphrase_hash(admin.id)
    assert stored is not None and stored.startswith("$argon2id$") and PASSPHRASE not in stored
    # And the account works in no session: it is on no team list, but may sign in
    assert admin.id not in {s.id for s in room.service.staff.active()}
    assert admin.id in {s.id for s in access.accounts()}
    # And a second administrator is refused
    with pytest.raises(AccessProblem, match="already"):
        access.create_administrator("Someone Else", PASSPHRASE, PASSPHRASE)
    assert "admin.create" in _actions(room)


def test_only_the_administrator_adds_disables_and_resets_staff_accounts(room: Room) -> None:
    access = _access(room)
    _admin(access)
    # When someone without the passphrase adds, disables or resets an account, Then refused
    with pytest.raises(AccessProblem, match="not the administrator's passphrase"):
        access.add_staff("guess", "Mallory Cole", "nurse")
    room.clock.advance(1)
    with pytest.raises(AccessProblem):
        access.disable("guess", room.nurse.id)
    room.clock.advance(1)
    with pytest.raises(AccessProblem):
        access.reset("wrong passphrase", room.nurse.id)
    room.clock.advance(1)
    assert "Mallory Cole" not in {s.display_name for s in room.service.staff.all()}
    assert room.nurse.id in {s.id for s in room.service.staff.active()}
    assert _actions(room).count("admin.passphrase_refused") == 3
    # When the administrator does it, Then it is done and audited as theirs
    made = access.add_staff(PASSPHRASE, "Nadia Brook", "nurse", credentials="RN")
    assert made.staff.display_name == "Nadia Brook" and made.setup_code
    assert access.needs_first_sign_in(made.staff.id)
    access.disable(PASSPHRASE, room.nurse.id)
    assert room.nurse.id not in {s.id for s in access.accounts()}
    assert not access.sign_in(room.nurse.id, "482916").ok
    for action in ("staff.add", "staff.disable"):
        assert action in _actions(room)


def test_a_first_sign_in_sets_the_owners_pin_with_their_setup_code_never_another(
    room: Room,
) -> None:
    access = _access(room)
    _admin(access)
    made = access.add_staff(PASSPHRASE, "Nadia Brook", "nurse", credentials="RN")
    nadia = made.staff.id
    # When someone types a wrong setup code, Then no PIN is set (whatever PIN they chose)
    with pytest.raises(PinProblem, match="not the setup code"):
        access.first_sign_in(nadia, "ABCD-EFGH", "482916", "482916")
    assert access.needs_first_sign_in(nadia)
    # When a first sign-in is tried on an account that has no setup code (an existing one
    # from before issue 18, say), Then it is refused: the administrator resets it
    with pytest.raises(PinProblem, match="no setup code"):
        access.first_sign_in(room.therapist.id, "ABCD-EFGH", "482916", "482916")
    # When Nadia types her code (any case, spaces for the dash) and her PIN twice
    typed = made.setup_code.lower().replace("-", " ")
    assert normal_setup_code(typed) == made.setup_code
    access.first_sign_in(nadia, typed, "640213", "640213")
    # Then her PIN is set, the code used up, and she signs in with her PIN
    assert not access.needs_first_sign_in(nadia)
    assert room.service.staff.setup_code_hash(nadia) is None
    assert access.sign_in(nadia, "640213").ok
    with pytest.raises(PinProblem, match="already"):
        access.first_sign_in(nadia, made.setup_code, "777123", "777123")
    assert {"staff.first_sign_in", "staff.sign_in", "staff.setup_code_refused"} <= set(
        _actions(room)
    )


def test_a_reset_clears_the_pin_and_its_owner_sets_a_new_one(room: Room) -> None:
    access = _access(room)
    _admin(access)
    made = access.add_staff(PASSPHRASE, "Nadia Brook", "nurse", credentials="RN")
    access.first_sign_in(made.staff.id, made.setup_code, "640213", "640213")
    # When the administrator resets the account
    again = access.reset(PASSPHRASE, made.staff.id)
    # Then the old PIN no longer works, and the new code with a new PIN does
    assert access.needs_first_sign_in(made.staff.id)
    assert not access.sign_in(made.staff.id, "640213").ok
    with pytest.raises(PinProblem):
        access.first_sign_in(made.staff.id, made.setup_code, "482916", "482916")  # the old code
    access.first_sign_in(made.staff.id, again.setup_code, "482916", "482916")
    assert access.sign_in(made.staff.id, "482916").ok
    assert "staff.pin_reset" in _actions(room)


def test_the_administrators_first_sign_in_is_proved_by_the_passphrase(room: Room) -> None:
    access = _access(room)
    admin = _admin(access)
    with pytest.raises(PinProblem, match="passphrase"):
        access.first_sign_in(admin.id, "not the passphrase", "482916", "482916")
    access.first_sign_in(admin.id, PASSPHRASE, "482916", "482916")
    assert access.sign_in(admin.id, "482916").ok


def test_the_administrators_passphrase_is_locked_out_after_five_wrong_tries(room: Room) -> None:
    access = _access(room)
    _admin(access)
    for _ in range(LOCKOUT_FAILURES):
        room.clock.advance(1)
        assert not access.check_administrator("wrong passphrase").ok
    # Then even the right one waits 5 minutes, and the trail says so
    locked = access.check_administrator(PASSPHRASE)
    assert not locked.ok and locked.locked_out
    assert "pin.locked_out" in _actions(room)
    room.clock.advance(wait_after(LOCKOUT_FAILURES) + 1)
    assert access.check_administrator(PASSPHRASE).ok
