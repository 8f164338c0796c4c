"""The clinic's rules (`clinic.toml` in the data folder): for now, who may do what by role.

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

from kapsession.domain.clinic_file import (
    ClinicFileError,
    Invalid,
    parse_toml_file,
    read_text,
    show,
)
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
_TOP_FIELDS = ("schema", "roles")


@dataclass(frozen=True)
class RoleRules:
    """Which staff roles may take each place on a session's team."""

    may_monitor: frozenset[StaffRole]  # the monitoring clinician; signs the monitoring part
    may_be_therapist: frozenset[StaffRole]  # the therapist; signs the therapy part
    may_prescribe: frozenset[StaffRole]  # the prescriber on site

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
}


@dataclass(frozen=True)
class ClinicRules:
    roles: RoleRules = field(default=DEFAULT_ROLE_RULES)


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
            raise _unknown("", name, _TOP_FIELDS, "clinic.toml holds schema and a [roles] table")
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
                "[roles] holds may_monitor, may_be_therapist and may_prescribe",
            )
    default = DEFAULT_ROLE_RULES
    return ClinicRules(
        RoleRules(
            may_monitor=_roles(roles, "may_monitor", default.may_monitor),
            may_be_therapist=_roles(roles, "may_be_therapist", default.may_be_therapist),
            may_prescribe=_roles(roles, "may_prescribe", default.may_prescribe),
        )
    )


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
    table: dict[str, object], name: str, default: frozenset[StaffRole]
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
    if not value:
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
