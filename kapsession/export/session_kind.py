"""What kind of session a session export is about (issue 17): its type ("Integration session"),
the dosing session an integration session follows, and its medication only when its protocol
gives a dose. A protocol of another type keeps inert stand-in dosing sections; they are never
printed as if a dose were planned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kapsession.domain.protocol import SESSION_TYPE_NAMES
from kapsession.export.content import ExportContent


def session_kind(content: ExportContent, day: Callable[[datetime], str]) -> str:
    """ "Dosing session"; "Integration session, after the dosing session of <day> (<protocol>,
    version n)"; `day` writes a date as the format does."""
    text = f"{SESSION_TYPE_NAMES[content.protocol.session_type]} session"
    followed = content.follows
    if followed is not None:
        text += (
            f", after the dosing session of {day(followed.held_at)} "
            f"({followed.protocol_name}, version {followed.protocol_version})"
        )
    return text


def medication_and_route(content: ExportContent) -> str:
    """The protocol's medication and route; for a session that gives no dose, says so."""
    if not content.protocol.gives_dose:
        kind = SESSION_TYPE_NAMES[content.protocol.session_type].lower()
        article = "an" if kind[0] in "aeiou" else "a"
        return f"none — {article} {kind} session gives no dose"
    dosing = content.protocol.dosing
    return f"{dosing.medication.value}, {dosing.route.value}"
