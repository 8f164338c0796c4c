"""Signing in to the real window through the real service (issue 18), for tests about
something else: the first run's administrator made if there is none, then signed in by PIN
(their first sign-in, proved by the passphrase, sets it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kapsession.ui.app_controller import AppController

ADMIN_NAME = "Clinic Administrator"
ADMIN_PASSPHRASE = "harbour lantern meadow"
ADMIN_PIN = "518204"


def sign_in(controller: AppController) -> None:
    """The window signed in as the clinic administrator (made on the first run)."""
    access = controller.access.access
    if access.needs_administrator():
        access.create_administrator(ADMIN_NAME, ADMIN_PASSPHRASE, ADMIN_PASSPHRASE)
    admin = access.staff.administrators()[0]
    if access.needs_first_sign_in(admin.id):
        controller.access.first_sign_in(admin.id, ADMIN_PASSPHRASE, ADMIN_PIN, ADMIN_PIN)
    else:
        controller.access.sign_in(admin.id, ADMIN_PIN)
    assert not controller.access.locked, controller.access.screen.message.text()
