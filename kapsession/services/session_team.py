"""A session's team: who may take which place (the clinic's role rules), and its wording.

The team is named when the session starts (its therapist and monitoring clinician are
required, a prescriber on site is optional, a group may have a monitoring clinician per
participant) and changes only by a recorded handover.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from kapsession.domain.clinic_rules import RoleRules, role_list
from kapsession.domain.roles import ROLE_NAMES, TEAM_ROLE_NAMES, TeamRole
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionRecord


@dataclass(frozen=True)
class TeamChoice:
    """The team named for a new session; `monitors`: a participant's own monitoring clinician
    (client id -> staff id), where it is not `monitor_id`."""

    therapist_id: uuid.UUID | None
    monitor_id: uuid.UUID | None
    prescriber_id: uuid.UUID | None = None
    monitors: Mapping[uuid.UUID, uuid.UUID] = field(default_factory=dict)


def check_place(rules: RoleRules, place: TeamRole, member: StaffRecord | None) -> None:
    """`member` may take `place` on a team: on the staff list, active, in a role allowed to."""
    title = TEAM_ROLE_NAMES[place]
    if member is None or not member.active:
        raise StorageError(f"The {title} chosen is not on the active staff list; choose again.")
    if not rules.may(place, member.role):
        allowed = role_list(rules.allowed(place))
        role = ROLE_NAMES[member.role].lower()
        raise NotAllowed(
            f"{member.signature_name} cannot be the {title}: the {title} is {_a(allowed)} "
            f"(the clinic's role rules, clinic.toml); {member.display_name} is on the staff "
            f"list as {_a(role)}. Choose someone else."
        )


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def check_team(rules: RoleRules, team: TeamChoice, staff: Mapping[uuid.UUID, StaffRecord]) -> None:
    """A session starts with a therapist and a monitoring clinician, each allowed their place;
    nothing is saved otherwise (the message says what to choose)."""
    if team.therapist_id is None:
        raise StorageError(
            "Choose the session's therapist: a session cannot start without one. Nothing was saved."
        )
    if team.monitor_id is None:
        raise StorageError(
            "Choose the monitoring clinician (who takes the vitals and signs the monitoring "
            "part): a session cannot start without one. Nothing was saved."
        )
    check_place(rules, TeamRole.THERAPIST, staff.get(team.therapist_id))
    check_place(rules, TeamRole.MONITORING, staff.get(team.monitor_id))
    for monitor in team.monitors.values():
        check_place(rules, TeamRole.MONITORING, staff.get(monitor))
    if team.prescriber_id is not None:
        check_place(rules, TeamRole.PRESCRIBER, staff.get(team.prescriber_id))


def handover_label(
    place: TeamRole,
    incoming: StaffRecord | None,
    outgoing: StaffRecord | None,
    participant_name: str = "",
) -> str:
    """The handover as the record's event list says it."""
    title = TEAM_ROLE_NAMES[place]
    title = title[0].upper() + title[1:]
    whose = f" of {participant_name}" if participant_name else ""
    if incoming is None:
        return (
            f"{title} left: {outgoing.signature_name if outgoing else 'nobody'} no longer on site"
        )
    was = f" (was {outgoing.signature_name})" if outgoing is not None else ""
    return f"{title}{whose}: {incoming.signature_name} takes over{was}"


def team_text(
    record: SessionRecord, names: Mapping[uuid.UUID, str], *, with_duties: bool = False
) -> str:
    """The team as it stands, in one line: the therapist, the monitoring (per participant
    when they differ), the prescriber on site when one is named; `with_duties`: what each is
    given."""

    def who(staff_id: uuid.UUID | None) -> str:
        if staff_id is None:
            return "not named"
        return names.get(staff_id, "a former staff member")

    monitors: dict[uuid.UUID | None, list[str]] = {}
    for participant in record.participants:
        monitors.setdefault(record.monitor_of(participant.id), []).append(
            participant.client.given_name
        )
    if len(monitors) > 1:
        monitoring = ", ".join(f"{who(m)} ({', '.join(given)})" for m, given in monitors.items())
    else:
        monitoring = who(next(iter(monitors), record.nurse_id))
    parts = [
        f"therapist {who(record.therapist_id)}" + (" (notes)" if with_duties else ""),
        f"monitoring {monitoring}" + (" (vitals, doses)" if with_duties else ""),
    ]
    if record.prescriber_id is not None:
        parts.append(f"prescriber on site {who(record.prescriber_id)}")
    return " · ".join(parts)
