"""A session's team for tests that start sessions: a session cannot start without a therapist
and a monitoring clinician (the clinic's role rules), so tests name the room's usual two; and
the prescriber's order, without which no dose is given unless the prescriber overrides."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from kapsession.domain import dose_order
from kapsession.domain.consent import Consent, ConsentKind
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.consents import local_day
from kapsession.services.session_service import OrderEntry, SessionService

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


PRESCRIBER = ("Jun Park", "prescriber", "MD")


def usual_prescriber(service: SessionService, at: datetime) -> StaffRecord:
    """The first active prescriber on the staff list, added when there is none."""
    member = next((s for s in service.staff.active() if s.role == "prescriber"), None)
    if member is None:
        name, role, credentials = PRESCRIBER
        member = service.add_staff(name, role, at=at, credentials=credentials)
    return member


def usual_order(
    service: SessionService, protocol_key: str, at: datetime, **changes: object
) -> OrderEntry:
    """The prescriber's order a session starts with in the tests: the protocol's usual order
    (`changes` to it, e.g. `dose_mg=250`), given by the usual prescriber. A dose needs an order
    (or the prescriber's override), so the harnesses give one unless a test asks for none."""
    order = dose_order.usual_order(service.catalog.get(protocol_key).protocol.dosing)
    if changes:
        order = replace(order, **changes)  # type: ignore[arg-type]
    return OrderEntry(order, usual_prescriber(service, at).id)


def usual_consent(service: SessionService, client_ids: Iterable[uuid.UUID], at: datetime) -> None:
    """Each client's signed KAP treatment consent, witnessed by the usual nurse (issue 17): a
    dosing session starts only with it (or the prescriber's override), so the harnesses give it
    unless a test asks for none."""
    _therapist, nurse = usual_staff(service, at)
    for client_id in client_ids:
        service.consents.save(
            client_id,
            Consent(ConsentKind.KAP_TREATMENT, True, local_day(at), "v1", nurse.id),
            at=at,
            by=nurse.id,
        )


def passing_answers(service: SessionService) -> dict[str, str]:
    """The clinic's screening answered so that every item passes."""
    return {item.key: item.passes for item in service.pre_dose.checklist().items}


def pass_screening(service: SessionService, record: SessionRecord, at: datetime) -> None:
    """Every participant's screening before the dose, every item passed (issue 17): the first
    dose waits for it, so the harnesses record it unless a test asks for none."""
    checklist = service.pre_dose.checklist()
    answers = passing_answers(service)
    _therapist, nurse = usual_staff(service, at)
    for participant in record.participants:
        service.pre_dose.record_screening(
            record.id, participant.id, checklist, answers, at=at, by=nurse.id
        )
