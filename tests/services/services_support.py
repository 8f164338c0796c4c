"""Shared helpers of the services tests: a treatment room on a real database, signal recorders.

(Imported by conftest.py and the tests; pytest puts this folder on sys.path.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from support.team import pass_screening, usual_order, usual_prescriber

from kapsession.domain.clock import FakeClock
from kapsession.domain.discharge import AldreteObservation
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Anchor, Offset
from kapsession.records.entries import EventRecord
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.context import AppContext
from kapsession.services.live_session import LiveSession
from kapsession.services.session_service import OrderEntry, SessionService

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SUBLINGUAL = "sublingual-kap-3h"
ESKETAMINE = "intranasal-esketamine"

# The discharge checklist all answered yes, and a full Aldrete score (ready to leave).
ALL_YES = {
    "sedation-resolved": True,
    "dissociation-resolved": True,
    "oriented": True,
    "steady-gait": True,
    "nausea-controlled": True,
    "escort": True,
    "no-driving": True,
}
FULL_ALDRETE = AldreteObservation(activity=2, breathing=2, consciousness=2, on_room_air=True)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@dataclass
class Signals:
    """What a LiveSession said: saved and failed messages, changes and ends, in order."""

    saved: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    changed: int = 0
    ended: int = 0

    def on_changed(self) -> None:
        self.changed += 1

    def on_ended(self) -> None:
        self.ended += 1


@dataclass
class Room:
    """A treatment room on the test's database: staff, clients, and shortcuts to start sessions."""

    context: AppContext
    clock: FakeClock
    therapist: StaffRecord
    nurse: StaffRecord

    @property
    def service(self) -> SessionService:
        return self.context.service

    def client(self, given: str = "Maya", family: str = "Fischer") -> ClientRecord:
        return self.service.add_client(given, family, at=self.clock.now(), by=self.therapist.id)

    def start(
        self,
        *clients: ClientRecord,
        protocol_key: str = SUBLINGUAL,
        modality: str | None = None,
        order: DoseOrder | Literal["usual"] | None = "usual",
        screening: Literal["passed"] | None = "passed",
    ) -> SessionRecord:
        """A session started now with the room's team; `order`: each participant's order (the
        protocol's usual one, given by the usual prescriber; None: started without one);
        `screening`: every participant's screening before the dose, passed (None: none)."""
        chosen = list(clients) or [self.client()]
        entry = None
        if order == "usual":
            entry = usual_order(self.service, protocol_key, self.clock.now())
        elif order is not None:
            entry = OrderEntry(order, usual_prescriber(self.service, self.clock.now()).id)
        started = self.service.start_session(
            protocol_key=protocol_key,
            client_ids=[c.id for c in chosen],
            modality=modality or ("individual" if len(chosen) == 1 else "couples"),
            at=self.clock.now(),
            room="Room 2",
            therapist_id=self.therapist.id,
            nurse_id=self.nurse.id,
            order=entry,
            by=self.therapist.id,
        )
        if screening == "passed":
            pass_screening(self.service, started, self.clock.now())
        return started

    def usual_order(self, protocol_key: str = SUBLINGUAL, **changes: object) -> DoseOrder:
        """The protocol's usual order with `changes`, e.g. `dose_mg=300` for a test's dose."""
        return usual_order(self.service, protocol_key, self.clock.now(), **changes).order

    def phase_changes(
        self, session_id: uuid.UUID, participant_id: uuid.UUID | None = None
    ) -> list[EventRecord]:
        """The phase_change events in the database, in time order (optionally one participant's)."""
        return [
            e
            for e in self.service.entries.events(session_id)
            if e.kind == "phase_change"
            and (participant_id is None or e.participant_id == participant_id)
        ]

    def events(self, session_id: uuid.UUID, kind: str) -> list[EventRecord]:
        return [e for e in self.service.entries.events(session_id) if e.kind == kind]

    def open_live(self, session_id: uuid.UUID) -> tuple[LiveSession, Signals]:
        """Open the session as the app does (catching up on missed phases) and listen to it."""
        signals = Signals()
        live = LiveSession(self.service, session_id, self.clock)
        live.entry_saved.connect(signals.saved.append)
        live.entry_failed.connect(signals.failed.append)
        live.ticked.connect(signals.on_changed)
        live.ended.connect(signals.on_ended)
        return live, signals


def boundary_at(offset: Offset, *, started_at: datetime, dose_at: datetime) -> datetime:
    """Where a protocol offset falls, worked out by hand from the session's two anchors."""
    base = started_at if offset.anchor is Anchor.START else dose_at
    return base + timedelta(minutes=offset.minutes)


def run_until(live: LiveSession, clock: FakeClock, until: datetime, step_s: float = 7.0) -> None:
    """Let the room's clock run to `until`, ticking every `step_s` like the app's timer
    (ticking twice each time: a repeated tick must never write anything twice)."""
    while clock.now() < until:
        clock.advance(min(step_s, (until - clock.now()).total_seconds()))
        live.tick()
        live.tick()
