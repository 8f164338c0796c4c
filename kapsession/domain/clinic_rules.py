"""The clinic's rules (`clinic.toml` in the data folder): who may do what by role, and the
rescue medications a nurse may record as an intervention (`[[rescue_medications]]`).

Which staff roles may be a session's monitoring clinician (and sign the monitoring part of its
record), its therapist (and sign the therapy part), and its prescriber on site. A clinic lead
edits the file by hand, so every mistake is reported with the file, the line and the field
(`roles.may_monitor[1]`), like the protocol files. Every key is optional with the default
below; later versions add sections, and `schema` says which layout the file follows.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kapsession.domain.adverse_events import RescueMedication
from kapsession.domain.clinic_file import (
    ClinicFileError,
    Invalid,
    parse_toml_file,
    read_text,
    show,
)
from kapsession.domain.consent import DEFAULT_VALID_DAYS
from kapsession.domain.roles import StaffRole, TeamRole
from kapsession.domain.toml_lines import join_path

SCHEMA_VERSION = 1

_TOML_HINTS: dict[str, str] = {
    "Cannot overwrite a value": "a field is set twice in the same table; keep one of the lines",
    "Invalid value": 'roles must be in double quotes, e.g. may_monitor = ["nurse"]',
    "Unterminated string": "a quoted text is not closed; add the closing quote",
    "Illegal character '\\n'": "a quoted text is not closed on this line; add the closing quote",
    "Invalid statement": "each line must look like field = value or [roles]; check for a stray "
    "word",
}
_TOP_FIELDS = ("schema", "roles", "rescue_medications", "consent", "access", "backup")
DEFAULT_IDLE_LOCK_MINUTES = 5  # issue 18: the screen locks after this long without a key
DEFAULT_BACKUP_INTERVAL_HOURS = 4  # issue 19: a backup when the newest is older than this
MAX_BACKUP_INTERVAL_HOURS = 24
_BACKUP_FIELDS = ("interval_h", "second_location")


@dataclass(frozen=True)
class BackupRules:
    """`[backup]`: how often the database is backed up while the app is open, and a second
    folder (a USB disk, a clinic share) that gets a copy of each backup."""

    interval_hours: int = DEFAULT_BACKUP_INTERVAL_HOURS
    second_location: Path | None = None


@dataclass(frozen=True)
class RoleRules:
    """Which staff roles may take each place on a session's team."""

    may_monitor: frozenset[StaffRole]  # the monitoring clinician; signs the monitoring part
    may_be_therapist: frozenset[StaffRole]  # the therapist; signs the therapy part
    may_prescribe: frozenset[StaffRole]  # the prescriber on site
    # besides the session's own therapist, who may read and export its private psychotherapy
    # notes (issue 18); by default nobody else
    may_read_private_notes: frozenset[StaffRole] = frozenset()

    def may_read_private(self, role: str, *, session_therapist: bool) -> bool:
        """Whether a staff member may read or export a session's private psychotherapy notes:
        its therapist (whoever holds that place now), or a role the clinic allows."""
        return session_therapist or role in self.may_read_private_notes

    def allowed(self, place: TeamRole) -> frozenset[StaffRole]:
        return {
            TeamRole.MONITORING: self.may_monitor,
            TeamRole.THERAPIST: self.may_be_therapist,
            TeamRole.PRESCRIBER: self.may_prescribe,
        }[place]

    def may(self, place: TeamRole, role: str) -> bool:
        return role in self.allowed(place)


# The defaults, and why (the comments of assets/clinic.toml say the same to the clinic lead):
# monitoring by a clinician allowed to monitor: nurse, prescriber, physician (product.md, "Safety
# rules of the record"; clinical-sources.md §1.2, §6: clinical staff assess continuously, the
# (es)ketamine recommendations ask for nursing staff present); the therapist: a therapist, or a
# physician who provides the psychotherapy (ASKP3 counts physicians among KAP's
# psychotherapists; product.md keeps prescribers on the monitoring side of the team); the
# prescriber on site: prescriber or physician (the SPRAVATO REMS asks for a prescriber on site).
DEFAULT_ROLE_RULES = RoleRules(
    may_monitor=frozenset({StaffRole.NURSE, StaffRole.PRESCRIBER, StaffRole.PHYSICIAN}),
    may_be_therapist=frozenset({StaffRole.THERAPIST, StaffRole.PHYSICIAN}),
    may_prescribe=frozenset({StaffRole.PRESCRIBER, StaffRole.PHYSICIAN}),
)
_ROLE_FIELDS = {  # each field of [roles], and what it allows
    "may_monitor": "monitor a session or sign its monitoring part",
    "may_be_therapist": "be a session's therapist",
    "may_prescribe": "be the prescriber on site",
    "may_read_private_notes": "read or export a session's private psychotherapy notes besides "
    "its therapist",
}


# The rescue medications offered when an intervention is recorded, with their usual dose and
# route (the nurse may change both). The defaults, and why (assets/clinic.toml says the same):
# ondansetron 4 mg oral (ODT) for nausea or vomiting, clonidine 0.1 mg oral for a high blood
# pressure, lorazepam 1 mg oral for severe agitation (clinical-sources.md §1.3, "Emesis and other
# PRN interventions": a clinic consent's oral ondansetron, clonidine and lorazepam; the
# esketamine clinic's PRN clonidine 0.1 mg); midazolam 2 mg IM for agitation (§1.3: "for
# agitation ... benzodiazepine"; the dose is a common starting dose, not from a source) and
# labetalol 10 mg IV for hypertension (not in the sources: a common starting dose). A clinic's
# prescriber sets its own list.
DEFAULT_RESCUE_MEDICATIONS: tuple[RescueMedication, ...] = (
    RescueMedication("ondansetron", 4.0, "mg", "oral (ODT)", "nausea or vomiting"),
    RescueMedication("clonidine", 0.1, "mg", "oral", "high blood pressure"),
    RescueMedication("lorazepam", 1.0, "mg", "oral", "severe agitation or anxiety"),
    RescueMedication("midazolam", 2.0, "mg", "intramuscular", "agitation"),
    RescueMedication("labetalol", 10.0, "mg", "intravenous", "hypertension"),
)
RESCUE_UNITS = ("mg", "mcg", "mL")
_RESCUE_FIELDS = ("name", "dose", "unit", "route", "use")
_RESCUE_EXAMPLE = (
    '[[rescue_medications]] then name = "ondansetron", dose = 4, unit = "mg", '
    'route = "oral (ODT)" on lines of their own'
)


@dataclass(frozen=True)
class ClinicRules:
    """The clinic's rules from clinic.toml, with the built-in defaults."""

    roles: RoleRules = field(default=DEFAULT_ROLE_RULES)
    rescue_medications: tuple[RescueMedication, ...] = DEFAULT_RESCUE_MEDICATIONS
    # how long a consent holds from the day it was signed (issue 17); None: no expiry
    consent_valid_days: int | None = DEFAULT_VALID_DAYS
    # minutes without a key or a click before the screen locks (issue 18, `[access]`)
    idle_lock_minutes: int = DEFAULT_IDLE_LOCK_MINUTES
    backup: BackupRules = field(default=BackupRules())  # `[backup]` (issue 19)


DEFAULT_CLINIC_RULES = ClinicRules()


def role_list(roles: Iterable[str]) -> str:
    """Roles in the order of `StaffRole`, for messages: "nurse, prescriber or physician"."""
    chosen = set(roles)
    names = [role.value for role in StaffRole if role in chosen]
    if len(names) < 2:
        return "".join(names) or "no role"
    return f"{', '.join(names[:-1])} or {names[-1]}"


class ClinicRulesError(ClinicFileError):
    """A clinic.toml that cannot be used, with where the problem is and how to fix it."""


def read_clinic_rules(path: Path) -> ClinicRules:
    """Read and validate a clinic file; every problem is a `ClinicRulesError` naming the file."""
    return parse_clinic_rules(read_text(path, ClinicRulesError), path.name)


def parse_clinic_rules(text: str, source: str) -> ClinicRules:
    """Validate the text of a clinic file; `source` names it in errors."""
    return parse_toml_file(
        text, source, ClinicRulesError, _read, hints=_TOML_HINTS, what="clinic file"
    )


def _unknown(path: str, name: str, known: tuple[str, ...], holds: str) -> Invalid:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return Invalid(
        join_path(path, name),
        f'unknown field "{name}"; {holds}' + (f' (did you mean "{close[0]}"?)' if close else ""),
    )


def _read(data: dict[str, object]) -> ClinicRules:
    for name in data:
        if name not in _TOP_FIELDS:
            raise _unknown(
                "",
                name,
                _TOP_FIELDS,
                "clinic.toml holds schema, a [roles] table, [[rescue_medications]], [consent], "
                "[access] and [backup]",
            )
    _check_schema(data)
    roles = data.get("roles", {})
    if not isinstance(roles, dict):
        raise Invalid(
            "roles", f"must be a table, written [roles] on a line of its own, not {show(roles)}"
        )
    for name in roles:
        if name not in _ROLE_FIELDS:
            raise _unknown(
                "roles",
                name,
                tuple(_ROLE_FIELDS),
                "[roles] holds may_monitor, may_be_therapist, may_prescribe and "
                "may_read_private_notes",
            )
    default = DEFAULT_ROLE_RULES
    return ClinicRules(
        RoleRules(
            may_monitor=_roles(roles, "may_monitor", default.may_monitor),
            may_be_therapist=_roles(roles, "may_be_therapist", default.may_be_therapist),
            may_prescribe=_roles(roles, "may_prescribe", default.may_prescribe),
            may_read_private_notes=_roles(
                roles,
                "may_read_private_notes",
                default.may_read_private_notes,
                may_be_empty=True,
            ),
        ),
        _rescue_medications(data),
        _consent_valid_days(data),
        _idle_lock_minutes(data),
        _backup(data),
    )


def _backup(data: dict[str, object]) -> BackupRules:
    """`[backup] interval_h` (whole hours, 1 to 24) and `second_location` (an absolute folder
    path); the defaults when the file has none (issue 19)."""
    table = data.get("backup", {})
    if not isinstance(table, dict):
        raise Invalid(
            "backup", f"must be a table, written [backup] on a line of its own, not {show(table)}"
        )
    for name in table:
        if name not in _BACKUP_FIELDS:
            raise _unknown(
                "backup", name, _BACKUP_FIELDS, "[backup] holds interval_h and second_location"
            )
    hours = table.get("interval_h", DEFAULT_BACKUP_INTERVAL_HOURS)
    if (
        isinstance(hours, bool)
        or not isinstance(hours, int)
        or not 1 <= hours <= MAX_BACKUP_INTERVAL_HOURS
    ):
        raise Invalid(
            "backup.interval_h",
            f"must be a whole number of hours from 1 to {MAX_BACKUP_INTERVAL_HOURS}, e.g. "
            f"interval_h = 4, not {show(hours)}",
        )
    where = table.get("second_location")
    if where is None:
        return BackupRules(interval_hours=hours)
    example = 'e.g. second_location = "/media/usb/kapsession"'
    if not isinstance(where, str) or not where.strip():
        raise Invalid(
            "backup.second_location",
            f"must be a folder's full path in double quotes, {example}, not {show(where)}",
        )
    folder = Path(where.strip()).expanduser()
    if not folder.is_absolute() or "\0" in where:
        raise Invalid(
            "backup.second_location",
            f"must be a full path, starting at the top of the disk, {example}, not {show(where)}",
        )
    return BackupRules(interval_hours=hours, second_location=folder)


def _idle_lock_minutes(data: dict[str, object]) -> int:
    """`[access] idle_lock_minutes`: minutes without a key or a click before the screen locks
    (issue 18); the default when the file has none."""
    table = data.get("access", {})
    if not isinstance(table, dict):
        raise Invalid(
            "access", f"must be a table, written [access] on a line of its own, not {show(table)}"
        )
    for name in table:
        if name != "idle_lock_minutes":
            raise _unknown(
                "access", name, ("idle_lock_minutes",), "[access] holds idle_lock_minutes"
            )
    minutes = table.get("idle_lock_minutes", DEFAULT_IDLE_LOCK_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 60:
        raise Invalid(
            "access.idle_lock_minutes",
            "must be a whole number of minutes from 1 to 60, e.g. idle_lock_minutes = 5, "
            f"not {show(minutes)}",
        )
    return minutes


def _consent_valid_days(data: dict[str, object]) -> int | None:
    """`[consent] valid_days`: days a consent holds from the day it was signed (0: no
    expiry); the default when the file has none (issue 17)."""
    table = data.get("consent", {})
    if not isinstance(table, dict):
        raise Invalid(
            "consent", f"must be a table, written [consent] on a line of its own, not {show(table)}"
        )
    for name in table:
        if name != "valid_days":
            raise _unknown("consent", name, ("valid_days",), "[consent] holds valid_days")
    if "valid_days" not in table:
        return DEFAULT_VALID_DAYS
    days = table["valid_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
        raise Invalid(
            "consent.valid_days",
            "must be a whole number of days from 0 (no expiry) to 3650, e.g. valid_days = 365, "
            f"not {show(days)}",
        )
    return days or None


def _rescue_medications(data: dict[str, object]) -> tuple[RescueMedication, ...]:
    """The clinic's `[[rescue_medications]]`, each with its name, usual dose, unit and route;
    the defaults when the file has none."""
    if "rescue_medications" not in data:
        return DEFAULT_RESCUE_MEDICATIONS
    value = data["rescue_medications"]
    if not isinstance(value, list):
        raise Invalid(
            "rescue_medications",
            f"must be tables, each written {_RESCUE_EXAMPLE}, not {show(value)}",
        )
    chosen: list[RescueMedication] = []
    for index, item in enumerate(value):
        path = f"rescue_medications[{index}]"
        if not isinstance(item, dict):
            raise Invalid(path, f"must be a table, written {_RESCUE_EXAMPLE}, not {show(item)}")
        for name in item:
            if name not in _RESCUE_FIELDS:
                raise _unknown(
                    path,
                    name,
                    _RESCUE_FIELDS,
                    "a rescue medication holds name, dose, unit, route and use",
                )
        name = _text(item, path, "name", 'name = "ondansetron"')
        if any(m.name.casefold() == name.casefold() for m in chosen):
            raise Invalid(join_path(path, "name"), f'"{name}" is listed twice; keep one')
        dose = item.get("dose")
        dose_path = join_path(path, "dose")
        if dose is None:
            raise Invalid(dose_path, "is missing; write the usual dose as a number, e.g. dose = 4")
        if isinstance(dose, bool) or not isinstance(dose, int | float):
            raise Invalid(
                dose_path, f"must be a number (no quotes), e.g. dose = 4, not {show(dose)}"
            )
        if not 0 < dose <= 1000:
            raise Invalid(dose_path, f"must be above 0 (and at most 1000), not {show(dose)}")
        unit = _text(item, path, "unit", 'unit = "mg"')
        if unit not in RESCUE_UNITS:
            raise Invalid(
                join_path(path, "unit"),
                f'"{unit}" is not a unit kapsession knows; use "mg", "mcg" or "mL"',
            )
        route = _text(item, path, "route", 'route = "oral"')
        use = item.get("use", "")
        if not isinstance(use, str):
            raise Invalid(join_path(path, "use"), f"must be text in double quotes, not {show(use)}")
        chosen.append(RescueMedication(name, float(dose), unit, route, use.strip()))
    return tuple(chosen)


def _text(table: dict[str, object], path: str, name: str, example: str) -> str:
    where = join_path(path, name)
    if name not in table:
        raise Invalid(where, f"is missing; write it, e.g. {example}")
    value = table[name]
    if not isinstance(value, str) or not value.strip():
        raise Invalid(where, f"must be text in double quotes, e.g. {example}, not {show(value)}")
    return value.strip()


def _check_schema(data: dict[str, object]) -> None:
    if "schema" not in data:
        raise Invalid("schema", f"is missing; the file must start with schema = {SCHEMA_VERSION}")
    schema = data["schema"]
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise Invalid(
            "schema", f"must be the number {SCHEMA_VERSION} (no quotes), not {show(schema)}"
        )
    if schema != SCHEMA_VERSION:
        raise Invalid(
            "schema",
            f"clinic file schema {schema} is not known to this version of kapsession, which "
            f"reads schema {SCHEMA_VERSION}; use a matching kapsession or rewrite the file",
        )


def _roles(
    table: dict[str, object],
    name: str,
    default: frozenset[StaffRole],
    *,
    may_be_empty: bool = False,
) -> frozenset[StaffRole]:
    if name not in table:
        return default
    path = join_path("roles", name)
    what = _ROLE_FIELDS[name]
    example = f"{name} = {_example(default)}"
    value = table[name]
    if not isinstance(value, list):
        raise Invalid(
            path,
            f"must be a list of roles in square brackets, e.g. {example}, not {show(value)}",
        )
    if not value and not may_be_empty:
        raise Invalid(
            path,
            f"is empty, so nobody could {what}; name at least one role, e.g. {example}",
        )
    chosen: list[StaffRole] = []
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, str):
            raise Invalid(item_path, f"must be a role in double quotes, not {show(item)}")
        try:
            role = StaffRole(item.strip())
        except ValueError:
            known = [r.value for r in StaffRole]
            close = difflib.get_close_matches(item.strip().lower(), known, n=1, cutoff=0.6)
            raise Invalid(
                item_path,
                f'"{item}" is not a staff role; use {role_list(known)}'
                + (f' (did you mean "{close[0]}"?)' if close else ""),
            ) from None
        if role in chosen:
            raise Invalid(item_path, f'"{role.value}" is listed twice; keep one')
        chosen.append(role)
    return frozenset(chosen)


def _example(roles: frozenset[StaffRole]) -> str:
    names = [f'"{role.value}"' for role in StaffRole if role in roles]
    return f"[{', '.join(names)}]"
