"""Use cases of the live session, free of Qt: start, dose, markers, phase changes, end.

Every method commits its entry before it returns. Times come from the caller (the live
session's trusted clock), so a test can run a whole session on a fake clock.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.consent import DEFAULT_VALID_DAYS
from kapsession.domain.dose_order import DoseOrder, OrderSource, check_order
from kapsession.domain.protocol import PhaseSpec, Protocol, SessionType
from kapsession.domain.protocol_file import parse_protocol
from kapsession.domain.roles import TEAM_ROLE_NAMES, TeamRole
from kapsession.domain.vitals import FieldProblem
from kapsession.records.course import Intention
from kapsession.records.entries import EventRecord
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.measures import MeasureRecord
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.records.sessions import SessionRecord, SessionStatus, SessionSummary
from kapsession.services.checkins import CheckinService
from kapsession.services.client_profiles import ClientProfileService
from kapsession.services.dose_periods import DosePeriodService
from kapsession.services.outcome_measures import OutcomeMeasureService
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.session_state import SessionState
from kapsession.services.session_team import TeamChoice, check_place, check_team, handover_label
from kapsession.storage.adverse_events import AdverseEventRepository
from kapsession.storage.audit import AuditRepository
from kapsession.storage.course_plans import CourseRepository
from kapsession.storage.database import Database
from kapsession.storage.dose_orders import NewOrder
from kapsession.storage.entries import EntryRepository, NewEvent
from kapsession.storage.people import ClientRepository, StaffRepository
from kapsession.storage.sessions import SessionRepository

if TYPE_CHECKING:  # built when first used: a start of the app does without them
    from kapsession.services.consents import ConsentService
    from kapsession.services.course import CourseService
    from kapsession.services.pre_dose import ConsentOverride, PreDoseService


@dataclass(frozen=True)
class OrderEntry:
    """The prescriber's order as entered when a session starts (or, issue 17, taken from the
    course plan: `source`)."""

    order: DoseOrder
    ordered_by: uuid.UUID  # a staff member whose role may prescribe
    ordered_at: datetime | None = None  # None: when the session starts
    source: OrderSource = OrderSource.SESSION_START


class OrderInvalid(StorageError):
    """An order that cannot be recorded; `problems` name each field to fix."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(" ".join(p.message for p in problems))
        self.problems = tuple(problems)


class SessionService:
    def __init__(
        self,
        database: Database,
        catalog: ProtocolCatalog,
        roles: RoleRules = DEFAULT_ROLE_RULES,
        *,
        consent_valid_days: int | None = DEFAULT_VALID_DAYS,
    ) -> None:
        """`roles`: the clinic's role rules (clinic.toml): who may take which place on a team;
        `consent_valid_days`: how long a consent holds (clinic.toml `[consent]`)."""
        self.database = database
        self.catalog = catalog
        self.roles = roles
        self.staff = StaffRepository(database)
        self.clients = ClientRepository(database)
        self.sessions = SessionRepository(database)
        self.entries = EntryRepository(database)
        self.audit = AuditRepository(database)
        self.checkins = CheckinService(database, roles)  # the nurse's use cases
        # a sublingual hold's end, an infusion's pauses and stop (issue 16)
        self.dose_periods = DosePeriodService(database, self.checkins.protocol)
        self.adverse = AdverseEventRepository(database)  # adverse events, interventions (16)
        self.profiles = ClientProfileService(database)  # clients' profiles (issue 17)
        self.measures = OutcomeMeasureService(database)  # PHQ-9, GAD-7, PCL-5 (issue 17)
        self._consent_valid_days = consent_valid_days
        self._course_plans = CourseRepository(database)

    @cached_property
    def course(self) -> CourseService:
        """A client's course: its plan, session types, the session due next (issue 17); built
        when first used (a live session reads only the intentions: `intentions`)."""
        from kapsession.services.course import CourseService

        return CourseService(self.database, self.catalog)

    def intentions(self, course_id: uuid.UUID) -> list[Intention]:
        """The client's intentions standing in their course, oldest first (issue 17)."""
        return self._course_plans.intentions(course_id)

    @cached_property
    def consents(self) -> ConsentService:
        """Consents (issue 17); built when first used (a new session, the consent dialog)."""
        from kapsession.services.consents import ConsentService

        return ConsentService(self.database, self._consent_valid_days)

    @cached_property
    def pre_dose(self) -> PreDoseService:
        """The screening and the prescriber's decisions before a dose, and the consent a
        dosing session needs (issue 17); built when first used."""
        from kapsession.services.pre_dose import PreDoseService

        return PreDoseService(self.entries, self.staff, self.consents, self.roles)

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
        order: OrderEntry | None = None,
        by: uuid.UUID | None = None,
        follows: Mapping[uuid.UUID, uuid.UUID] | None = None,
        deviations: Callable[[SessionRecord], Sequence[tuple[uuid.UUID, NewEvent]]] | None = None,
    ) -> SessionRecord:
        """Create the session with a snapshot of its protocol and start its clock at `at`.
        Its type is its protocol's (issue 17): a session without a dose takes no order; an
        integration session follows, for each client, the dosing session `follows` names
        (client id -> session id), by default their most recent one in their course.

        Its team: the therapist and the monitoring clinician (`nurse_id`, of everyone but the
        clients `monitors` gives one of their own) are required, the prescriber on site is
        optional; each must be allowed their place by the clinic's role rules. `order`: the
        prescriber's order, recorded for each participant once the session has started.
        Nothing is saved otherwise (StorageError, NotAllowed, OrderInvalid).

        The session is created planned, then started with its orders and `deviations` (what
        the planned session's protocol deviations at the start are, per participant) in one
        transaction: a session is never live without them, whenever the app is stopped (a
        planned session left behind has no clock and no entries)."""
        team = TeamChoice(therapist_id, nurse_id, prescriber_id, dict(monitors or {}))
        check_team(self.roles, team, {s.id: s for s in self.staff.all()})
        choice = self.catalog.get(protocol_key)
        session_type = choice.protocol.session_type
        if order is not None and not choice.protocol.gives_dose:
            raise StorageError(
                f"A {session_type.value} session gives no dose, so it takes no order; start a "
                "dosing session for a dose."
            )
        if order is not None:
            self.check_order(order, choice.protocol)
        if session_type is SessionType.INTEGRATION:
            follows = self._follows(client_ids, follows or {})
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
            session_type=session_type,
            follows=follows if session_type is SessionType.INTEGRATION else None,
        )
        orders = (
            []
            if order is None
            else [
                NewOrder(p.id, order.order, order.ordered_by, order.ordered_at or at, order.source)
                for p in record.participants
            ]
        )
        return self.sessions.start(
            record.id,
            at=at,
            by=by,
            orders=orders,
            deviations=deviations(record) if deviations is not None else (),
        )

    def _follows(
        self, client_ids: Sequence[uuid.UUID], chosen: Mapping[uuid.UUID, uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        """What each client's integration session follows: as chosen, else their most recent
        dosing session in their course (a client with none follows nothing)."""
        follows = dict(chosen)
        for client_id in client_ids:
            if client_id not in follows:
                default = self.course.default_follows(client_id)
                if default is not None:
                    follows[client_id] = default
        return follows

    def start_dosing_session(
        self,
        *,
        protocol_key: str,
        client_ids: Sequence[uuid.UUID],
        modality: str,
        at: datetime,
        consent_override: ConsentOverride | None = None,
        by: uuid.UUID | None = None,
        **team: Any,
    ) -> SessionRecord:
        """`start_session` for a dosing session (issue 17): refused (ConsentMissing, nothing
        saved) while a client has no current KAP treatment consent, unless the prescriber
        overrides (`consent_override`, their PIN checked by the caller), which is recorded for
        each such participant as a protocol deviation (a `consent_override` event). A session
        of a type without a dose (a consultation, before any consent) starts as it is."""
        if not self.catalog.get(protocol_key).protocol.gives_dose:
            return self.start_session(
                protocol_key=protocol_key,
                client_ids=client_ids,
                modality=modality,
                at=at,
                by=by,
                **team,
            )
        clients = [self.clients.get(c) for c in client_ids]
        from kapsession.services.pre_dose import ConsentMissing

        missing = self.pre_dose.missing_consent(clients, at)
        if missing and consent_override is None:
            raise ConsentMissing(missing)
        if missing and consent_override is not None:
            self.pre_dose.check_override(consent_override)
        why = {client.id: text for client, text in missing}

        def overrides(planned: SessionRecord) -> list[tuple[uuid.UUID, NewEvent]]:
            return [
                (p.id, self.pre_dose.consent_override_event(why[p.client.id], consent_override))
                for p in planned.participants
                if p.client.id in why and consent_override is not None
            ]

        return self.start_session(
            protocol_key=protocol_key,
            client_ids=client_ids,
            modality=modality,
            at=at,
            by=by,
            deviations=overrides,
            **team,
        )

    # the prescriber's order (issue 16) --------------------------------------------------------
    def check_order(self, entry: OrderEntry, protocol: Protocol) -> None:
        """Refuse an order that is wrong for the protocol or not given by a prescriber."""
        problems = check_order(entry.order, protocol.dosing)
        if problems:
            raise OrderInvalid(problems)
        member = next((s for s in self.staff.all() if s.id == entry.ordered_by), None)
        if member is None or not self.roles.may(TeamRole.PRESCRIBER, member.role):
            raise NotAllowed(
                "The order must be given by a prescriber (a role the clinic's rules let "
                "prescribe); choose who ordered it."
            )

    def record_order(
        self,
        record: SessionRecord,
        participant_id: uuid.UUID,
        entry: OrderEntry,
        *,
        at: datetime,
        by: uuid.UUID | None,
    ) -> DoseOrderRecord:
        """The order of one participant, committed with its audit row."""
        self.check_order(entry, session_protocol(record))
        return self.checkins.orders.add(
            record.id,
            participant_id,
            entry.order,
            ordered_by=entry.ordered_by,
            ordered_at=entry.ordered_at or at,
            recorded_at=at,
            source=entry.source,
            by=by,
        )

    def prescribers(self) -> list[StaffRecord]:
        """The active staff whose role may prescribe (the clinic's rules)."""
        return [s for s in self.staff.active() if self.roles.may(TeamRole.PRESCRIBER, s.role)]

    def correct_order(
        self,
        record: SessionRecord,
        original_id: uuid.UUID,
        order: DoseOrder | None,
        *,
        reason: str,
        prescriber_id: uuid.UUID,
        at: datetime,
        voids: bool = False,
    ) -> DoseOrderRecord:
        """A changed order is the prescriber's (their PIN checked by the caller): the order as
        it should read, checked as a new one is, now ordered by them and confirmed in person, so
        not a verbal order awaiting a countersignature; or, with `voids`, the order taken back
        as entered in error. Recorded by the prescriber, with the reason; the earlier version
        stays on the record."""
        if voids:
            member = next((s for s in self.staff.all() if s.id == prescriber_id), None)
            if member is None or not self.roles.may(TeamRole.PRESCRIBER, member.role):
                raise NotAllowed("Only a prescriber can take back the order.")
            confirmed = None
        else:
            if order is None:
                raise StorageError("Enter the order as it should read.")
            confirmed = dataclasses.replace(order, verbal=False)
            self.check_order(OrderEntry(confirmed, prescriber_id), session_protocol(record))
        return self.checkins.orders.correct(
            original_id,
            reason=reason,
            recorded_at=at,
            order=confirmed,
            ordered_by=None if voids else prescriber_id,
            voids=voids,
            by=prescriber_id,
        )

    def countersign_order(
        self,
        record: SessionRecord,
        order: DoseOrderRecord,
        staff_id: uuid.UUID,
        *,
        at: datetime,
    ) -> EventRecord:
        """The prescriber countersigns a verbal order (their PIN checked by the caller): an
        `order_countersigned` event, with its audit row. Only a prescriber, once per order."""
        from kapsession.services.countersign import countersign

        return countersign(self.staff, self.roles, self.entries, record.id, order, staff_id, at=at)

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
            orders=self.checkins.orders.orders(session_id, include_history=True),
            adverse_events=self.adverse.adverse_events(session_id),
            interventions=self.adverse.interventions(session_id),
            substance_counts=self.adverse.substance_counts(session_id),
            measures=self._measures_of(record),
        )

    def _measures_of(self, record: SessionRecord) -> list[MeasureRecord]:
        """The participants' outcome measures, every version (the PHQ-9 item 9 rule, 17)."""
        found: list[MeasureRecord] = []
        for participant in record.participants:
            found += self.measures.history(participant.client.id)
        return found

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
