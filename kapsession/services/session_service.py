"""Use cases of the live session, free of Qt: start, dose, markers, phase changes, end.

Every method commits its entry before it returns. Times come from the caller (the live
session's trusted clock), so a test can run a whole session on a fake clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.protocol import PhaseSpec, Protocol
from kapsession.domain.protocol_file import parse_protocol
from kapsession.domain.roles import TEAM_ROLE_NAMES, TeamRole
from kapsession.records.entries import DoseRecord, EventRecord
from kapsession.records.errors import StorageError
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.records.sessions import SessionRecord, SessionStatus, SessionSummary
from kapsession.services.checkins import CheckinService
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.session_state import SessionState
from kapsession.services.session_team import TeamChoice, check_place, check_team, handover_label
from kapsession.storage.audit import AuditRepository
from kapsession.storage.database import Database
from kapsession.storage.entries import EntryRepository
from kapsession.storage.people import ClientRepository, StaffRepository
from kapsession.storage.sessions import SessionRepository


class SessionService:
    def __init__(
        self, database: Database, catalog: ProtocolCatalog, roles: RoleRules = DEFAULT_ROLE_RULES
    ) -> None:
        """`roles`: the clinic's role rules (clinic.toml): who may take which place on a team."""
        self.database = database
        self.catalog = catalog
        self.roles = roles
        self.staff = StaffRepository(database)
        self.clients = ClientRepository(database)
        self.sessions = SessionRepository(database)
        self.entries = EntryRepository(database)
        self.audit = AuditRepository(database)
        self.checkins = CheckinService(database)  # the nurse's use cases

    def prepare_writes(self) -> None:
        """Load what the writes other than a check-in or a note need (SQLAlchemy's ORM and the
        mapped classes), so that the first of them does not wait for it."""
        self.database.prepare_orm()

    # people -------------------------------------------------------------------------------
    def add_client(
        self,
        given_name: str,
        family_name: str,
        *,
        at: datetime,
        date_of_birth: date | None = None,
        record_number: str | None = None,
        by: uuid.UUID | None = None,
    ) -> ClientRecord:
        return self.clients.add(
            given_name,
            family_name,
            at=at,
            date_of_birth=date_of_birth,
            record_number=record_number,
            by=by,
        )

    def add_staff(
        self, display_name: str, role: str, *, at: datetime, credentials: str = ""
    ) -> StaffRecord:
        return self.staff.add(display_name, role, at=at, credentials=credentials)

    # sessions -----------------------------------------------------------------------------
    def start_session(
        self,
        *,
        protocol_key: str,
        client_ids: Sequence[uuid.UUID],
        modality: str,
        at: datetime,
        room: str = "",
        therapist_id: uuid.UUID | None = None,
        nurse_id: uuid.UUID | None = None,
        prescriber_id: uuid.UUID | None = None,
        monitors: Mapping[uuid.UUID, uuid.UUID] | None = None,
        by: uuid.UUID | None = None,
    ) -> SessionRecord:
        """Create the session with a snapshot of its protocol and start its clock at `at`.

        Its team: the therapist and the monitoring clinician (`nurse_id`, of everyone but the
        clients `monitors` gives one of their own) are required, the prescriber on site is
        optional; each must be allowed their place by the clinic's role rules. Nothing is saved
        otherwise (StorageError, NotAllowed)."""
        team = TeamChoice(therapist_id, nurse_id, prescriber_id, dict(monitors or {}))
        check_team(self.roles, team, {s.id: s for s in self.staff.all()})
        choice = self.catalog.get(protocol_key)
        record = self.sessions.create(
            protocol_key=choice.key,
            protocol_name=choice.protocol.name,
            protocol_version=choice.protocol.version,
            protocol_text=choice.text,
            modality=modality,
            client_ids=client_ids,
            at=at,
            room=room,
            therapist_id=therapist_id,
            nurse_id=nurse_id,
            prescriber_id=prescriber_id,
            monitors=team.monitors,
            by=by,
        )
        return self.sessions.start(record.id, at=at, by=by)

    def hand_over(
        self,
        record: SessionRecord,
        place: TeamRole,
        staff_id: uuid.UUID | None,
        *,
        at: datetime,
        participant_id: uuid.UUID | None = None,
        by: uuid.UUID | None,
    ) -> tuple[SessionRecord, EventRecord]:
        """`staff_id` takes `place` on the session's team from `at` (the monitoring of one
        participant, or of everyone); None: the prescriber is no longer on site. Recorded as a
        `handover` event with who and when; the session as it now stands is returned with it.
        The newcomer must be allowed the place (NotAllowed)."""
        staff = {s.id: s for s in self.staff.all()}
        incoming = None if staff_id is None else staff.get(staff_id)
        if staff_id is not None or place is not TeamRole.PRESCRIBER:
            check_place(self.roles, place, incoming)
        current = {
            TeamRole.THERAPIST: record.therapist_id,
            TeamRole.PRESCRIBER: record.prescriber_id,
            TeamRole.MONITORING: record.monitor_of(participant_id),
        }[place]
        own = any(p.monitor_id is not None for p in record.participants)
        everyone = place is TeamRole.MONITORING and participant_id is None
        if current == staff_id and not (everyone and own):
            who = incoming.signature_name if incoming is not None else "Nobody"
            raise StorageError(
                f"{who} is already the {TEAM_ROLE_NAMES[place]}; nothing was handed over."
            )
        name = ""
        if participant_id is not None and len(record.participants) > 1:
            name = record.participant(participant_id).client.full_name
        label = handover_label(
            place, incoming, staff.get(current) if current is not None else None, name
        )
        return self.sessions.hand_over(
            record.id, place, staff_id, at=at, label=label, participant_id=participant_id, by=by
        )

    def live_sessions(self) -> list[SessionSummary]:
        return self.sessions.summaries(status=SessionStatus.LIVE)

    def ended_sessions(
        self, now: datetime, *, signed_within_days: int = 14
    ) -> list[SessionSummary]:
        """Ended sessions awaiting signature (all), then those signed within the last days
        (an addendum is usually written within days)."""
        waiting = self.sessions.summaries(status=SessionStatus.COMPLETED)
        since = now - timedelta(days=signed_within_days)
        signed = self.sessions.summaries(status=SessionStatus.SIGNED, ended_since=since, limit=100)
        return [*waiting, *signed]

    def read_state(self, session_id: uuid.UUID) -> SessionState:
        """The whole session as an open session keeps it: read once on opening, and again
        only to recover (after an error, or a signature made elsewhere)."""
        record = self.sessions.get(session_id)
        return SessionState.of(
            record,
            self.checkins.protocol_of(record),
            events=self.entries.events(session_id, include_history=True),
            doses=self.entries.doses(session_id, include_history=True),
            observations=self.checkins.observation_history(session_id),
            alerts=self.checkins.alerts(session_id),
        )

    def give_dose(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        *,
        at: datetime,
        recorded_at: datetime,
        protocol: Protocol,
        kind: str = "initial",
        by: uuid.UUID | None = None,
    ) -> DoseRecord:
        """Record that a dose was given at `at`. The first one anchors T0."""
        dose, _events = self.entries.add_dose(
            session_id,
            participant_id,
            occurred_at=at,
            recorded_at=recorded_at,
            kind=kind,
            medication=protocol.dosing.medication.value,
            route=protocol.dosing.route.value,
            given_by=by,
            by=by,
        )
        return dose

    def add_marker(
        self,
        session_id: uuid.UUID,
        label: str,
        *,
        at: datetime,
        recorded_at: datetime,
        participant_id: uuid.UUID | None = None,
        by: uuid.UUID | None = None,
    ) -> EventRecord:
        text = label.strip()
        if not text:
            raise ValueError("Type what happened before saving the marker.")
        return self.entries.add_event(
            session_id,
            "marker",
            occurred_at=at,
            recorded_at=recorded_at,
            label=text,
            participant_id=participant_id,
            by=by,
        )

    def record_phase_change(
        self,
        session_id: uuid.UUID,
        phase: PhaseSpec,
        *,
        at: datetime,
        recorded_at: datetime,
        participant_id: uuid.UUID | None,
    ) -> EventRecord:
        """A phase boundary crossed at `at`; written late (recorded_at later) after a restart."""
        return self.entries.add_event(
            session_id,
            "phase_change",
            occurred_at=at,
            recorded_at=recorded_at,
            label=phase.name,
            participant_id=participant_id,
            detail={"phase": phase.key},
        )

    def end_session(
        self, session_id: uuid.UUID, *, at: datetime, by: uuid.UUID | None = None
    ) -> SessionRecord:
        return self.sessions.end(session_id, at=at, by=by)

    def end_session_with_event(
        self, session_id: uuid.UUID, *, at: datetime, by: uuid.UUID | None = None
    ) -> tuple[SessionRecord, EventRecord]:
        """End the session; the `session_end` event written with it as well."""
        return self.sessions.end_with_event(session_id, at=at, by=by)


def session_protocol(record: SessionRecord) -> Protocol:
    """The protocol exactly as the session started with it, whatever the files say today."""
    return parse_protocol(record.protocol_text, f"protocol snapshot of session {record.id}")
