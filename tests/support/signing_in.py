"""Signing in to the real window through the real service (issue 18), for tests about
something else: the first run's administrator made if there is none, then signed in by PIN
through the window's own sign-in.

The administrator's passphrase and PIN are stored with a light Argon2id (8 MiB, one pass): the
services take their hasher as a parameter, and a stored hash carries its own parameters, so the
window's sign-in verifies it as it verifies any PIN, in milliseconds instead of the half second
the clinic's parameters cost on purpose. Without this every UI test would pay two or three of
those (the suite ran about 20 minutes longer). The clinic's parameters themselves are tested
in tests/services/test_services_pins.py and test_services_access.py; the first-run and
first-sign-in screens in tests/ui/test_ui_sign_in.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher

from kapsession.services.access import AccessService
from kapsession.services.pins import PinService
from kapsession.storage.audit import AuditRepository

if TYPE_CHECKING:
    from kapsession.ui.app_controller import AppController

ADMIN_NAME = "Clinic Administrator"
ADMIN_PASSPHRASE = "harbour lantern meadow"
ADMIN_PIN = "518204"
LIGHT_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


def make_administrator(controller: AppController) -> None:
    """The first run's administrator, with their first PIN, through the services' own steps
    (their hashes light: see the module's text)."""
    staff, clock = controller.service.staff, controller.clock
    audit = AuditRepository(controller.service.database)
    pins = PinService(staff, audit, clock, hasher=LIGHT_HASHER)
    light = AccessService(staff, pins, audit, clock, passphrase_hasher=LIGHT_HASHER)
    admin = light.create_administrator(ADMIN_NAME, ADMIN_PASSPHRASE, ADMIN_PASSPHRASE)
    light.first_sign_in(admin.id, ADMIN_PASSPHRASE, ADMIN_PIN, ADMIN_PIN)


def sign_in(controller: AppController) -> None:
    """The window signed in as the clinic administrator (made on the first run)."""
    access = controller.access.access
    if access.needs_administrator():
        make_administrator(controller)
    admin = access.staff.administrators()[0]
    if access.needs_first_sign_in(admin.id):
        controller.access.first_sign_in(admin.id, ADMIN_PASSPHRASE, ADMIN_PIN, ADMIN_PIN)
    else:
        controller.access.sign_in(admin.id, ADMIN_PIN)
    assert not controller.access.locked, controller.access.screen.message.text()
