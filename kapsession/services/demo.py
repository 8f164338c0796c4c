"""Training data: a demo team, demo clients and complete, realistic past sessions.

Only ever written to the training database. Each session is played through the same use
cases as a real one, with past times, so what the screens and exports show is what a real
session would have stored.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from kapsession.domain.timeline import phase_changes_between
from kapsession.services.session_service import SessionService, session_protocol
from kapsession.storage.records import ClientRecord, SessionRecord, StaffRecord

DEMO_CLIENTS = (
    ("Maya", "Fischer", "DEMO-0001"),
    ("Jonah", "Okafor", "DEMO-0002"),
    ("Lena", "Okafor", "DEMO-0003"),
    ("Sam", "Reyes", "DEMO-0004"),
    ("Noor", "Haddad", "DEMO-0005"),
)
DEMO_STAFF = (
    ("Dr. Ruth Adeyemi", "therapist", "PsyD"),
    ("Tom Becker", "nurse", "RN"),
    ("Dr. Ines Moreau", "prescriber", "MD"),
)
MARKERS = (
    (-12, "Touch consent given"),
    (3, "Eye mask on"),
    (18, "Music request"),
    (34, "Tearful"),
    (52, "Restless"),
    (71, "Eye mask off"),
    (83, "Spoke"),
)


@dataclass(frozen=True)
class DemoSession:
    id: uuid.UUID
    client: str
    participants: tuple[str, ...]
    protocol: str
    route: str
    modality: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "client": self.client,
            "participants": list(self.participants),
            "protocol": self.protocol,
            "route": self.route,
            "modality": self.modality,
        }


def ensure_demo_people(
    service: SessionService, now: datetime
) -> tuple[list[StaffRecord], list[ClientRecord]]:
    """The demo team and clients, each created once (whoever else a trainer has added)."""
    staff = service.staff.active()
    names = {s.display_name for s in staff}
    staff += [
        service.add_staff(n, r, at=now, credentials=c) for n, r, c in DEMO_STAFF if n not in names
    ]
    by_number = {c.record_number: c for c in service.clients.search("DEMO-")}
    clients = []
    for given, family, number in DEMO_CLIENTS:
        client = by_number.get(number)
        if client is None:
            client = service.add_client(given, family, at=now, record_number=number)
        clients.append(client)
    return staff, clients


def populate(service: SessionService, now: datetime, *, seed: int = 7) -> list[DemoSession]:
    """Write completed past sessions: a course for Maya, a couples session, and others."""
    rng = random.Random(seed)
    staff, clients = ensure_demo_people(service, now)
    therapist = next(s for s in staff if s.role == "therapist")
    nurse = next(s for s in staff if s.role == "nurse")
    maya, jonah, lena, sam, noor = clients
    plans: list[tuple[str, str, list[ClientRecord], int]] = [
        ("sublingual-kap-3h", "individual", [maya], 35),
        ("sublingual-kap-3h", "individual", [maya], 28),
        ("sublingual-kap-3h", "individual", [maya], 21),
        ("sublingual-kap-3h", "couples", [jonah, lena], 14),
        ("intramuscular-kap", "individual", [sam], 10),
        ("iv-infusion", "individual", [noor], 7),
        ("intranasal-esketamine", "individual", [sam], 3),
    ]
    made = []
    for protocol_key, modality, people, days_ago in plans:
        start = (now - timedelta(days=days_ago)).replace(
            hour=9 + rng.randint(0, 4), minute=rng.choice((0, 15, 30)), second=0, microsecond=0
        )
        record = _play_session(
            service, protocol_key, modality, people, start, therapist, nurse, rng
        )
        protocol = session_protocol(record)
        made.append(
            DemoSession(
                id=record.id,
                client=people[0].full_name,
                participants=tuple(p.full_name for p in people),
                protocol=protocol.key,
                route=protocol.dosing.route.value,
                modality=modality,
            )
        )
    return made


def _play_session(
    service: SessionService,
    protocol_key: str,
    modality: str,
    people: list[ClientRecord],
    start: datetime,
    therapist: StaffRecord,
    nurse: StaffRecord,
    rng: random.Random,
) -> SessionRecord:
    record = service.start_session(
        protocol_key=protocol_key,
        client_ids=[p.id for p in people],
        modality=modality,
        at=start,
        room="Room 2",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        by=therapist.id,
    )
    protocol = session_protocol(record)
    planned = protocol.dosing.planned_dose_after_start_min
    doses: dict[uuid.UUID, datetime] = {}
    for index, participant in enumerate(record.participants):
        # a few minutes either side of the plan; staggered by 5 minutes in a couples session
        dose_at = start + timedelta(minutes=planned + rng.randint(-3, 6) + 5 * index)
        doses[participant.id] = dose_at
        service.give_dose(
            record.id,
            participant.id,
            at=dose_at,
            recorded_at=dose_at + timedelta(seconds=20),
            protocol=protocol,
            by=nurse.id,
        )
    end = max(doses.values())
    last_phase_end = protocol.phases[-1].ends
    end = end + timedelta(minutes=last_phase_end.minutes + rng.randint(0, 10))
    for participant in record.participants:
        for at, phase in phase_changes_between(
            protocol,
            started_at=start,
            first_dose_at=doses[participant.id],
            after=start - timedelta(microseconds=1),
            upto=end,
        ):
            service.record_phase_change(
                record.id, phase, at=at, recorded_at=at, participant_id=participant.id
            )
        for minutes, label in MARKERS:
            if rng.random() < 0.75:
                at = doses[participant.id] + timedelta(minutes=minutes + rng.random())
                service.add_marker(
                    record.id,
                    label,
                    at=at,
                    recorded_at=at + timedelta(seconds=5),
                    participant_id=participant.id,
                    by=therapist.id,
                )
    return service.end_session(record.id, at=end, by=therapist.id)
