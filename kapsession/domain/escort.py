"""The escort for the day (issue 17): who takes the participant home after the session, recorded
per session and participant as a session event (`EventKind.ESCORT`), corrected like any.

Either a person (name, relationship, phone; the name and a phone are needed to reach them) or
none: the client was told to arrange their own transport (no driving the day of a dose), which
the discharge shows. The event's `detail` holds the fields; its label is the text the screens
and the exports show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

NONE_TEXT = "none — client told to arrange transport"
NAME_MISSING = "Escort's name: write who takes the client home, or tick “No escort”."
PHONE_MISSING = "Escort's phone: write a number to reach them, or tick “No escort”."
LONGEST = 120  # characters of each field
KIND = "escort"  # the session event's kind (EventKind.ESCORT)


@dataclass(frozen=True)
class Escort:
    """Who takes the client home, or that nobody does."""

    name: str = ""
    relationship: str = ""
    phone: str = ""
    none: bool = False  # no escort: the client was told to arrange transport

    def text(self) -> str:
        """ "Ben Fischer (husband), 0170 555 0102" or "none — client told to arrange transport"."""
        if self.none:
            return NONE_TEXT
        who = f"{self.name} ({self.relationship})" if self.relationship else self.name
        return f"{who}, {self.phone}"

    def label(self) -> str:
        """The event's label: what the event list and the timeline show."""
        return f"Escort today: {self.text()}"

    def detail(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "relationship": self.relationship,
            "phone": self.phone,
            "none": self.none,
        }

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> Escort:
        return cls(
            name=str(detail.get("name", "")),
            relationship=str(detail.get("relationship", "")),
            phone=str(detail.get("phone", "")),
            none=bool(detail.get("none", False)),
        )


class EscortProblem(ValueError):
    """What to fix, naming the field (`field`: name or phone)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_escort(name: str, relationship: str, phone: str, *, none: bool) -> Escort:
    """The escort as typed, trimmed; EscortProblem naming the field when the name or the phone
    is missing (none ticked: the fields are not kept)."""
    if none:
        return Escort(none=True)
    name, relationship, phone = name.strip(), relationship.strip(), phone.strip()
    if not name:
        raise EscortProblem("name", NAME_MISSING)
    if not phone:
        raise EscortProblem("phone", PHONE_MISSING)
    for field, value in (("name", name), ("relationship", relationship), ("phone", phone)):
        if len(value) > LONGEST:
            raise EscortProblem(field, f"Escort's {field}: at most {LONGEST} characters.")
    return Escort(name=name, relationship=relationship, phone=phone)


class _Event(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def participant_id(self) -> Any: ...
    @property
    def detail(self) -> dict[str, Any]: ...


def standing_escort(events: Iterable[_Event], participant_id: Any) -> Escort | None:
    """The participant's escort from the session's standing events (the latest; None: not
    recorded)."""
    found = None
    for event in events:
        if event.kind == KIND and event.participant_id == participant_id:
            found = Escort.from_detail(event.detail)
    return found
