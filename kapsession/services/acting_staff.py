"""Who is exporting, printing or reading clinical content on the command line (issue 18).

`kapsession export`, `course-summary` and `history` name the person (`--staff NAME`) and prove
it with their PIN, asked on the terminal or read from `--pin-file` (never from the command line
or the environment: both are visible to other users of the machine). The PIN is checked by
`PinService.verify` (its waits and its audit rows apply). A PIN file is refused, like ssh refuses
a private key, when another user could read or write it. Training data needs nobody.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kapsession.records.errors import StorageError
from kapsession.records.people import StaffRecord
from kapsession.services.pins import PinCheck, PinService
from kapsession.storage.people import StaffRepository

PIN_FILE_MAX_BYTES = 4096  # a PIN is a line of digits; anything longer is not a PIN file


class IdentityRefused(StorageError):
    """The person could not be named or confirmed; the message says what to do. Nothing was
    done."""


def find_staff(staff: StaffRepository, name: str) -> StaffRecord:
    """The active staff member `name` names: their name as the app shows it (with or without
    credentials, any case), or a part of it only they have."""
    wanted = " ".join(name.split()).casefold()
    active = staff.active()
    exact = [
        s for s in active if wanted in (s.display_name.casefold(), s.signature_name.casefold())
    ]
    found = exact or [s for s in active if wanted and wanted in s.signature_name.casefold()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise IdentityRefused(
            f'No active staff member is called "{name}". Give your name as the app\'s staff list '
            'shows it, e.g. --staff "Ruth Adeyemi". Nothing was done.'
        )
    names = "; ".join(s.signature_name for s in found)
    raise IdentityRefused(
        f'"{name}" could be any of: {names}. Give the whole name. Nothing was done.'
    )


def read_pin_file(path: Path) -> str:
    """The PIN on the first line of `path`. Refused (IdentityRefused): a file another user
    could read or write, one that is not the caller's, not a regular file, or empty."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise IdentityRefused(
            f"The PIN file {path} cannot be read ({exc.strerror or exc}). Nothing was done."
        ) from exc
    if not stat.S_ISREG(info.st_mode):
        raise IdentityRefused(
            f"The PIN file {path} is not a regular file. Give a file holding the PIN on its "
            "first line. Nothing was done."
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise IdentityRefused(
            f"The PIN file {path} belongs to another user. Use a file of your own, readable by "
            "you alone (chmod 600). Nothing was done."
        )
    if info.st_mode & 0o077:
        raise IdentityRefused(
            f"The PIN file {path} can be read or changed by other users (permissions "
            f"{stat.S_IMODE(info.st_mode):04o}). Make it yours alone (chmod 600 {path}) and "
            "try again. Nothing was done."
        )
    try:
        with open(path, "rb") as file:
            data = file.read(PIN_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise IdentityRefused(
            f"The PIN file {path} cannot be read ({exc.strerror or exc}). Nothing was done."
        ) from exc
    lines = data[:PIN_FILE_MAX_BYTES].decode("utf-8", errors="replace").splitlines()
    pin = lines[0].strip() if lines else ""
    if not pin:
        raise IdentityRefused(
            f"The PIN file {path} is empty: write the PIN on its first line. Nothing was done."
        )
    return pin


def confirm(
    pins: PinService, member: StaffRecord, pin: str, *, purpose: str, not_done: str
) -> PinCheck:
    """The PIN checked for `purpose` (audited by the PIN service, with its waits)."""
    return pins.verify(member.id, pin, purpose=purpose, not_done=not_done)
