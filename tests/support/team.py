"""A session's team for tests that start sessions: a session cannot start without a therapist
and a monitoring clinician (the clinic's role rules), so tests name the room's usual two."""

from __future__ import annotations

import uuid
from datetime import datetime

from kapsession.records.people import StaffRecord
from kapsession.services.session_service import SessionService

THERAPIST = ("Sam Lee", "therapist", "PsyD")
NURSE = ("Ruth Okafor", "nurse", "RN")


def usual_staff(service: SessionService, at: datetime) -> tuple[StaffRecord, StaffRecord]:
    """The first active therapist and nurse on the staff list, added when there is none."""
    staff = service.staff.active()
    found = []
    for name, role, credentials in (THERAPIST, NURSE):
        member = next((s for s in staff if s.role == role), None)
        if member is None:
            member = service.add_staff(name, role, at=at, credentials=credentials)
        found.append(member)
    return found[0], found[1]


def team(service: SessionService, at: datetime) -> dict[str, uuid.UUID]:
    """`start_session`'s team arguments: the usual therapist and monitoring nurse."""
    therapist, nurse = usual_staff(service, at)
    return {"therapist_id": therapist.id, "nurse_id": nurse.id}
