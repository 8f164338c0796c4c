"""The clinic's rules: its `clinic.toml`, written with the built-in defaults on first start.

The file in the data folder is the clinic's to edit (the built-in one in `assets/` holds the
defaults with their sources as comments, and is copied there when the data folder has none). A
file with a mistake is reported, never raised: the built-in rules apply until it is fixed, so a
typo never stops a session.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kapsession.domain.clinic_rules import (
    DEFAULT_CLINIC_RULES,
    ClinicRules,
    ClinicRulesError,
    read_clinic_rules,
)
from kapsession.paths import PRIVATE_FILE_MODE, make_private

log = logging.getLogger(__name__)

CLINIC_FILE_NAME = "clinic.toml"  # the built-in one in assets/, the clinic's in the data folder


def load_clinic_rules(builtin: Path, data_dir: Path) -> tuple[ClinicRules, str | None]:
    """The rules to follow, and a problem to show with them (None when all is well).

    A data folder without the file gets a copy of the built-in one first."""
    clinic_file = data_dir / CLINIC_FILE_NAME
    problems: list[str] = []
    if not os.path.lexists(clinic_file):
        try:
            _write_default(builtin, clinic_file)
        except OSError as exc:
            problems.append(
                f"{clinic_file} could not be written ({exc.strerror or exc}); the built-in role "
                "rules apply."
            )
    if os.path.lexists(clinic_file):
        try:
            return read_clinic_rules(clinic_file), None
        except ClinicRulesError as exc:
            problems.append(f"{exc}. The built-in role rules apply until {clinic_file} is fixed.")
    try:
        rules = read_clinic_rules(builtin)
    except ClinicRulesError as exc:
        problems.append(f"{exc}. The built-in clinic file is damaged; reinstall kapsession.")
        rules = DEFAULT_CLINIC_RULES
    problem = "\n".join(problems) or None
    if problem is not None:
        log.warning("clinic rules: %s", problem)
    return rules, problem


def _write_default(builtin: Path, target: Path) -> None:
    """The built-in file, with its comments, written whole or not at all; its user's alone, as
    everything in the data folder, whatever the umask (`PRIVATE_FILE_MODE`)."""
    text = builtin.read_bytes()
    partial = target.with_name(f".{target.name}.partial")
    flags = os.O_CREAT | os.O_WRONLY | os.O_TRUNC
    with os.fdopen(os.open(partial, flags, PRIVATE_FILE_MODE), "wb") as out:
        make_private(partial)  # one left by an older version keeps its mode when opened
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, target)
    log.info("wrote the default clinic rules to %s", target)
