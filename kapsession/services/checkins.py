"""The nurse's use cases, free of Qt: check-ins, alerts, doses with the hold-dose check,
esketamine devices, discharge, the nurse board and staggered dosing.

What a nurse typed is parsed by the domain rules; a value that cannot be a reading, a dose
that cannot be right or a missing reason comes back as `problems` naming the field, and nothing
is stored. Storage failures (a locked database, a signed session) raise StorageError with a
message for the nurse. Times come from the caller (the live session's trusted clock).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.discharge import (
    AldreteObservation,
    DischargeEvaluation,
    DischargeOverride,
    may_discharge,
    needs_prescriber,
    time_shortfalls,
)
from kapsession.domain.discharge import evaluate_discharge as evaluate_discharge_rules
from kapsession.domain.dose_order import (
    DoseCheck,
    DoseKind,
    DoseOrder,
    PrescriberOverride,
    SessionDoses,
    check_corrected_dose,
    check_dose,
)
from kapsession.domain.dosing import (
    DoseInput,
    DoseInvalid,
    DoseUnit,
    IntranasalPlan,
    devices_for_dose,
    parse_dose_input,
    rems_monitoring_ends_at,
    spit_due_at,
)
from kapsession.domain.hold_dose import (
    HoldDoseLevel,
    HoldDoseOverride,
    HoldDoseResult,
    check_hold_dose,
    may_dose,
)
from kapsession.domain.measures import not_taken as measures_not_taken
from kapsession.domain.protocol import (
    SESSION_TYPE_NAMES,
    AlertRule,
    DischargeCriteria,
    Medication,
    Protocol,
    Route,
)
from kapsession.domain.protocol_file import parse_protocol
from kapsession.domain.roles import TeamRole
from kapsession.domain.timeline import TimelineState
from kapsession.domain.vitals import (
    AlertHit,
    FieldProblem,
    Reading,
    ReadingInvalid,
    alerts_for,
    effective_alert_rules,
    parse_reading,
)
from kapsession.records.entries import (
    AcknowledgementRecord,
    AlertRecord,
    ClientAlertRuleRecord,
    DoseRecord,
    EventRecord,
    ObservationRecord,
)
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.checkin_results import (
    CheckinResult,
    DeviceResult,
    DischargeResult,
    DoseResult,
    IntranasalStatus,
)
from kapsession.services.dose_periods import last_dose_end
from kapsession.services.nurse_board import BoardRow, board_rows, staggered_dose_times
from kapsession.storage.alert_rules import ClientAlertRuleRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.dose_orders import DoseOrderRepository
from kapsession.storage.entries import EntryRepository, NewEvent
from kapsession.storage.people import StaffRepository
from kapsession.storage.sessions import SessionRepository


@dataclass(frozen=True)
class _SessionFacts:
    """What never changes about a started session: its protocol and who its clients are."""

    protocol: Protocol
    clients: Mapping[uuid.UUID, uuid.UUID]  # participant -> client
    checkin_keys: frozenset[str]  # the protocol's check-ins
    required: Mapping[str, tuple[str, ...]]  # check-in -> the measures a full one holds

    def not_taken(self, checkin_key: str | None, reading: Reading) -> tuple[str, ...]:
        """The measures the check-in requires that the reading leaves empty; none for an
        unscheduled reading (no check-in asks for anything then)."""
        if checkin_key is None:
            return ()
        return measures_not_taken(self.required.get(checkin_key, ()), reading)


def _time(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


# --- the service ------------------------------------------------------------------------------


class CheckinService:
    def __init__(self, database: Database, roles: RoleRules = DEFAULT_ROLE_RULES) -> None:
        """`roles`: the clinic's role rules: who may override a dose as the prescriber."""
        self.roles = roles
        self.orders = DoseOrderRepository(database)
        self._staff = StaffRepository(database)
        self.sessions = SessionRepository(database)
        self.entries = EntryRepository(database)
        self.checkins = CheckinRepository(database)
        self.rules = ClientAlertRuleRepository(database)
        self.discharges = DischargeRepository(database)
        self._facts: dict[uuid.UUID, _SessionFacts] = {}

    def _session(self, session_id: uuid.UUID) -> _SessionFacts:
        """The protocol snapshot and the clients, read once per session (both are fixed)."""
        facts = self._facts.get(session_id)
        if facts is None:
            facts = self._facts_of(self.sessions.get(session_id))
        return facts

    def _facts_of(self, record: SessionRecord) -> _SessionFacts:
        protocol = parse_protocol(record.protocol_text, f"protocol snapshot of session {record.id}")
        facts = _SessionFacts(
            protocol=protocol,
            clients={p.id: p.client.id for p in record.participants},
            checkin_keys=frozenset(c.key for c in protocol.checkins),
            required={c.key: c.required_measures for c in protocol.checkins},
        )
        self._facts[record.id] = facts
        return facts

    def protocol(self, session_id: uuid.UUID) -> Protocol:
        return self._session(session_id).protocol

    def protocol_of(self, record: SessionRecord) -> Protocol:
        """`protocol(record.id)`, from a record just read rather than reading it again."""
        facts = self._facts.get(record.id)
        return (facts or self._facts_of(record)).protocol

    @staticmethod
    def _client(facts: _SessionFacts, participant_id: uuid.UUID) -> uuid.UUID:
        client = facts.clients.get(participant_id)
        if client is None:
            raise StorageError("That participant is not part of this session.")
        return client

    # alert thresholds -------------------------------------------------------------------------
    def alert_rules(
        self, session_id: uuid.UUID, participant_id: uuid.UUID
    ) -> tuple[AlertRule, ...]:
        """The protocol's alerts with this participant's own thresholds applied."""
        facts = self._session(session_id)
        client = self._client(facts, participant_id)
        return effective_alert_rules(facts.protocol.alerts, self.rules.active_rules(client))

    def add_client_alert_rule(
        self, client_id: uuid.UUID, rule: AlertRule, *, at: datetime, by: uuid.UUID | None
    ) -> ClientAlertRuleRecord:
        """A prescriber's threshold for one client; raises AlertOverrideInvalid naming the
        field to fix."""
        return self.rules.add(client_id, rule, at=at, by=by)

    def retire_client_alert_rule(
        self, rule_id: uuid.UUID, *, at: datetime, by: uuid.UUID | None
    ) -> ClientAlertRuleRecord:
        return self.rules.retire(rule_id, at=at, by=by)

    def client_alert_rules(self, client_id: uuid.UUID) -> list[ClientAlertRuleRecord]:
        return self.rules.for_client(client_id)

    # check-ins --------------------------------------------------------------------------------
    def _parse(
        self, facts: _SessionFacts, raw: Mapping[str, str], checkin_key: str | None
    ) -> Reading | list[FieldProblem]:
        problems: list[FieldProblem] = []
        if checkin_key is not None and checkin_key not in facts.checkin_keys:
            problems.append(
                FieldProblem(
                    "checkin_key",
                    f"'{checkin_key}' is not a check-in of this session's protocol; this is a "
                    "program error.",
                )
            )
        try:
            reading = parse_reading(raw)
        except ReadingInvalid as invalid:
            return [*problems, *invalid.problems]
        if reading.is_empty:
            problems.append(
                FieldProblem("reading", "Nothing was entered; type at least one value to save.")
            )
        return problems or reading

    def save_checkin(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        raw: Mapping[str, str],
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        checkin_key: str | None = None,
        on_room_air: bool | None = None,
        by: uuid.UUID | None = None,
        ask_before_partial: bool = False,
    ) -> CheckinResult:
        """Parse what was typed, check it against the alert thresholds (with the client's own)
        and save the reading with its alerts at once. A reading that cannot be real is not
        saved: its problems come back, each naming the field and the accepted range.

        The measures its check-in requires that were left empty are recorded as not taken (a
        partial check-in). With `ask_before_partial` such a check-in is not saved: they come
        back (`needs_confirmation`) for the nurse to confirm, and the same save without it
        records them."""
        facts = self._session(session_id)
        self._client(facts, participant_id)  # a stranger is refused before the typing is judged
        parsed = self._parse(facts, raw, checkin_key)
        if not isinstance(parsed, Reading):
            return CheckinResult(problems=tuple(parsed))
        reading = parsed
        not_taken = facts.not_taken(checkin_key, reading)
        if not_taken and ask_before_partial:
            return CheckinResult(not_taken=not_taken)

        def check_alerts(client_rules: Sequence[AlertRule]) -> list[AlertHit]:
            # Called inside the save's transaction with the thresholds in force right then.
            return alerts_for(reading, effective_alert_rules(facts.protocol.alerts, client_rules))

        saved = self.checkins.add_observation(
            session_id,
            participant_id,
            reading,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            checkin_key=checkin_key,
            on_room_air=on_room_air,
            check_alerts=check_alerts,
            by=by,
            not_taken=not_taken,
        )
        return CheckinResult(saved.observation, saved.alerts, saved.hits, not_taken=not_taken)

    def correct_checkin(
        self,
        original_id: uuid.UUID,
        raw: Mapping[str, str],
        *,
        reason: str,
        recorded_at: datetime,
        occurred_at: datetime | None = None,
        on_room_air: bool | None = None,
        by: uuid.UUID | None = None,
    ) -> CheckinResult:
        """A corrected reading replacing the original, which stays on the record; the corrected
        values raise their own alerts."""
        original = self.checkins.observation(original_id)
        facts = self._session(original.session_id)
        self._client(facts, original.participant_id)  # the participant must still exist
        parsed = self._parse(facts, raw, None)
        problems = [] if isinstance(parsed, Reading) else list(parsed)
        if not reason.strip():
            problems.append(
                FieldProblem("reason", "Write why the reading is corrected; it goes on the record.")
            )
        if problems or not isinstance(parsed, Reading):
            return CheckinResult(problems=tuple(problems))
        reading = parsed

        def check_alerts(client_rules: Sequence[AlertRule]) -> list[AlertHit]:
            # Inside the correction's transaction, with the thresholds in force right then.
            return alerts_for(reading, effective_alert_rules(facts.protocol.alerts, client_rules))

        not_taken = facts.not_taken(original.checkin_key, reading)
        saved = self.checkins.correct_observation(
            original_id,
            reading,
            reason=reason,
            recorded_at=recorded_at,
            occurred_at=occurred_at,
            on_room_air=on_room_air,
            check_alerts=check_alerts,
            by=by,
            not_taken=not_taken,
        )
        return CheckinResult(saved.observation, saved.alerts, saved.hits, not_taken=not_taken)

    def void_checkin(
        self, original_id: uuid.UUID, *, reason: str, recorded_at: datetime, by: uuid.UUID | None
    ) -> CheckinResult:
        """Retract a reading entered in error (the wrong client, a test entry); it stays in the
        history with the reason."""
        if not reason.strip():
            return CheckinResult(
                problems=(
                    FieldProblem(
                        "reason", "Write why the reading is withdrawn; it goes on the record."
                    ),
                )
            )
        saved = self.checkins.correct_observation(
            original_id, None, reason=reason, recorded_at=recorded_at, voids=True, by=by
        )
        return CheckinResult(saved.observation)

    def acknowledge_alert(
        self,
        alert_id: uuid.UUID,
        *,
        by: uuid.UUID | None,
        at: datetime,
        action: str | None = None,
        comment: str = "",
    ) -> AcknowledgementRecord:
        """A staff member saw the alert (required) and says what was done (`action`, an
        `AlertAction`, required; `comment` the intervention, the reason for no action (both
        required), or a note); recorded once, with who and when."""
        return self.checkins.acknowledge(
            alert_id, staff_id=by, at=at, action=action, comment=comment
        )

    def observations(
        self, session_id: uuid.UUID, participant_id: uuid.UUID | None = None
    ) -> list[ObservationRecord]:
        return self.checkins.observations(session_id, participant_id=participant_id)

    def observation_history(self, session_id: uuid.UUID) -> list[ObservationRecord]:
        """Every reading, corrected and voided originals included."""
        return self.checkins.observations(session_id, include_history=True)

    def alerts(self, session_id: uuid.UUID) -> list[AlertRecord]:
        """Every alert, acknowledged or not."""
        return self.checkins.alerts(session_id)

    def open_alerts(
        self, session_id: uuid.UUID, participant_id: uuid.UUID | None = None
    ) -> list[AlertRecord]:
        return self.checkins.open_alerts(session_id, participant_id)

    def baseline(
        self, session_id: uuid.UUID, participant_id: uuid.UUID
    ) -> ObservationRecord | None:
        """The baseline reading the hold-dose check and the Aldrete circulation item use."""
        first = self.entries.first_doses(session_id).get(participant_id)
        return self.checkins.baseline(session_id, participant_id, before=first)

    # doses ------------------------------------------------------------------------------------
    def record_dose(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        dose_text: str,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        weight_text: str = "",
        unit: DoseUnit | None = None,
        lot_number: str = "",
        given_by: uuid.UUID | None = None,
        override: HoldDoseOverride | None = None,
        order_override: PrescriberOverride | None = None,
        by: uuid.UUID | None = None,
    ) -> DoseResult:
        """Record a dose from what was typed. Before every dose the hold-dose check runs (the
        first dose: on the baseline; a booster: on the newest blood pressure, no older than
        the protocol's `booster_bp_max_age_min`): a caution is recorded with the dose; a block
        (or no baseline) refuses the dose unless `override` says why and who, which is then
        recorded with it. The dose is checked against the prescriber's order and the protocol's
        limits (issue 16): what no override allows (a booster the protocol does not offer now,
        anything after discharge or the end) comes back as a problem; a deviation refuses the
        dose unless `order_override` (the prescriber, their PIN checked by the caller, and a
        reason) is given, which is recorded with the dose and as a `dose_override` event.
        """
        facts = self._session(session_id)
        self._client(facts, participant_id)
        if not facts.protocol.gives_dose:  # issue 17: a session of another type has no dose
            return DoseResult(problems=(FieldProblem("dose", no_dose_reason(facts.protocol)),))
        dosing = facts.protocol.dosing
        try:
            entered = parse_dose_input(
                dose_text, route=dosing.route, weight_text=weight_text, unit=unit
            )
            devices = self._devices(facts.protocol, entered.dose_mg)
        except DoseInvalid as invalid:
            return DoseResult(problems=tuple(invalid.problems))
        standing = [d for d in self.entries.doses(session_id) if d.participant_id == participant_id]
        first = not standing
        kind = DoseKind.INITIAL if first else DoseKind.BOOSTER
        order_check = check_dose(
            entered,
            kind=kind,
            dosing=dosing,
            order=self._standing_order(session_id, participant_id),
            so_far=self._doses_so_far(session_id, participant_id, standing),
            at=occurred_at,
        )
        if order_check.refusals:
            problems = tuple(FieldProblem("dose", text) for text in order_check.refusals)
            return DoseResult(problems=problems, entered=entered, order_check=order_check)
        if order_check.deviations:
            if order_override is None:
                return DoseResult(entered=entered, order_check=order_check)
            self._check_prescriber(order_override.staff_id)
        events: list[NewEvent] = []
        check: HoldDoseResult | None = None
        if first:
            baseline = self.checkins.baseline(session_id, participant_id, before=occurred_at)
            check = check_hold_dose(
                None if baseline is None else baseline.reading, facts.protocol.hold_dose
            )
        else:
            baseline = self.checkins.baseline(session_id, participant_id, before=occurred_at)
            stale = stale_bp(baseline, occurred_at, facts.protocol.hold_dose.booster_bp_max_age_min)
            if stale is not None:
                return DoseResult(problems=(FieldProblem("dose", stale),), entered=entered)
            assert baseline is not None
            check = check_hold_dose(baseline.reading, facts.protocol.hold_dose, what="newest")
        if not may_dose(check, override):
            return DoseResult(hold_dose=check, entered=entered, order_check=order_check)
        events.extend(_hold_dose_events(check, override, baseline))
        detail: dict[str, Any] = {
            "entered_amount": entered.entered_amount,
            "entered_unit": entered.entered_unit.value,
        }
        if order_check.deviations and order_override is not None:
            detail["order_override"] = _override_detail(order_check, order_override)
            events.append(_order_override_event(order_check, order_override))
        dose, saved_events = self.entries.add_dose(
            session_id,
            participant_id,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            kind="initial" if first else "booster",
            medication=dosing.medication.value,
            route=dosing.route.value,
            dose_mg=entered.dose_mg,
            lot_number=lot_number,
            given_by=given_by,
            weight_kg=entered.weight_kg,
            dose_mg_per_kg=entered.dose_mg_per_kg,
            device_count=devices,
            detail=detail,
            with_events=events,
            by=by,
        )
        spit = None
        if dosing.route is Route.SUBLINGUAL and dosing.hold_min:
            spit = spit_due_at(dose.occurred_at, dosing.hold_min)
        return DoseResult(
            dose=dose,
            hold_dose=check,
            entered=entered,
            intranasal=self.intranasal_status(session_id, participant_id),
            spit_due_at=spit,
            events=saved_events,
            order_check=order_check,
        )

    # the order (issue 16) ---------------------------------------------------------------------
    def _standing_order(self, session_id: uuid.UUID, participant_id: uuid.UUID) -> DoseOrder | None:
        """The participant's order as it stands; None for a session without one."""
        record = self.standing_order(session_id, participant_id)
        return None if record is None else record.order

    def standing_order(
        self, session_id: uuid.UUID, participant_id: uuid.UUID
    ) -> DoseOrderRecord | None:
        mine = [o for o in self.orders.orders(session_id) if o.participant_id == participant_id]
        return mine[-1] if mine else None

    def _doses_so_far(
        self, session_id: uuid.UUID, participant_id: uuid.UUID, standing: Sequence[DoseRecord]
    ) -> SessionDoses:
        record = self.sessions.get(session_id)
        discharged = [
            e.occurred_at
            for e in self.entries.events(session_id)
            if e.kind == "discharge" and e.participant_id == participant_id
        ]
        return SessionDoses(
            first_dose_at=min((d.occurred_at for d in standing), default=None),
            given_mg=tuple(d.dose_mg for d in standing if d.dose_mg is not None),
            boosters_given=sum(1 for d in standing if d.kind == "booster"),
            discharged_at=min(discharged, default=None),
            ended_at=record.ended_at,
            session_started_at=record.started_at,
        )

    def _check_prescriber(self, staff_id: uuid.UUID) -> None:
        """Only a staff member whose role may prescribe overrides the order."""
        member = next((s for s in self._staff.all() if s.id == staff_id), None)
        if member is None or not self.roles.may(TeamRole.PRESCRIBER, member.role):
            raise NotAllowed(
                "Only a prescriber (a role the clinic's rules let prescribe) can override the "
                "order; the dose was NOT saved."
            )

    @staticmethod
    def _devices(protocol: Protocol, dose_mg: float) -> int | None:
        dosing = protocol.dosing
        if dosing.route is not Route.INTRANASAL or dosing.device_mg is None:
            return None
        return devices_for_dose(dose_mg, dosing.device_mg)

    def correct_dose(
        self,
        original_id: uuid.UUID,
        *,
        reason: str,
        recorded_at: datetime,
        dose_text: str | None = None,
        weight_text: str = "",
        unit: DoseUnit | None = None,
        lot_number: str | None = None,
        occurred_at: datetime | None = None,
        order_override: PrescriberOverride | None = None,
        by: uuid.UUID | None = None,
    ) -> DoseResult:
        """A corrected dose (amount, lot, time) replacing the original, which stays on record.

        A correction records what was actually given, so it is never refused for being outside
        the order or the protocol's limits, but a new amount or time is checked as a new dose
        is (`check_corrected_dose`, against the other standing doses): outside them, the
        correction needs the prescriber's override (`order_override`, their PIN checked by the
        caller), recorded with it as a new dose's is (the version's detail and a
        `dose_override` event naming it)."""
        original = self.entries.dose(original_id)
        protocol = self.protocol(original.session_id)
        problems: list[FieldProblem] = []
        entered: DoseInput | None = None
        devices: int | None = None
        if dose_text is not None:
            try:
                entered = parse_dose_input(
                    dose_text, route=protocol.dosing.route, weight_text=weight_text, unit=unit
                )
                devices = self._devices(protocol, entered.dose_mg)
            except DoseInvalid as invalid:
                problems.extend(invalid.problems)
        if not reason.strip():
            problems.append(
                FieldProblem("reason", "Write why the dose is corrected; it goes on the record.")
            )
        if problems:
            return DoseResult(problems=tuple(problems))
        order_check = None
        if entered is not None or occurred_at is not None:
            order_check = self._check_correction(original, entered, occurred_at, protocol)
        if order_check is not None and order_check.refusals:
            refused = tuple(FieldProblem("dose", text) for text in order_check.refusals)
            return DoseResult(problems=refused, entered=entered, order_check=order_check)
        detail = None
        events: list[NewEvent] = []
        if order_check is not None and order_check.deviations:
            if order_override is None:
                return DoseResult(entered=entered, order_check=order_check)
            self._check_prescriber(order_override.staff_id)
            detail = {
                **original.detail,
                "order_override": _override_detail(order_check, order_override),
            }
            events.append(_order_override_event(order_check, order_override))
        dose, saved_events = self.entries.correct_dose_with_events(
            original_id,
            reason=reason,
            recorded_at=recorded_at,
            occurred_at=occurred_at,
            dose_mg=None if entered is None else entered.dose_mg,
            weight_kg=None if entered is None else entered.weight_kg,
            dose_mg_per_kg=None if entered is None else entered.dose_mg_per_kg,
            device_count=devices,
            lot_number=lot_number,
            detail=detail,
            with_events=events,
            by=by,
        )
        return DoseResult(dose=dose, entered=entered, events=saved_events, order_check=order_check)

    def _check_correction(
        self,
        original: DoseRecord,
        entered: DoseInput | None,
        occurred_at: datetime | None,
        protocol: Protocol,
    ) -> DoseCheck | None:
        """The corrected dose against the order and the protocol's limits, beside the
        participant's other standing doses; None when it cannot be (no amount recorded)."""
        if entered is None:
            if original.dose_mg is None:
                return None
            entered = _as_entered(original, protocol)
        session_id, participant_id = original.session_id, original.participant_id
        others = [
            d
            for d in self.entries.doses(session_id)
            if d.participant_id == participant_id and d.id != original.id
        ]
        return check_corrected_dose(
            entered,
            kind=DoseKind(original.kind),
            dosing=protocol.dosing,
            order=self._standing_order(session_id, participant_id),
            so_far=self._doses_so_far(session_id, participant_id, others),
            at=original.occurred_at if occurred_at is None else occurred_at,
        )

    def record_device(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        *,
        occurred_at: datetime,
        recorded_at: datetime,
        by: uuid.UUID | None = None,
    ) -> DeviceResult:
        """The next esketamine device of the dose was given (the first is the dose itself)."""
        status = self.intranasal_status(session_id, participant_id)
        if status is None:
            raise StorageError(
                "Record the esketamine dose first; its first device is given with it."
            )
        if status.remaining == 0:
            raise StorageError(f"All {status.devices} devices of this dose are already recorded.")
        if occurred_at < status.given_at[-1]:
            raise StorageError(
                f"Device {len(status.given_at) + 1} cannot be given before device "
                f"{len(status.given_at)} ({_time(status.given_at[-1])}); check the time."
            )
        number = len(status.given_at) + 1
        event = self.entries.add_event(
            session_id,
            "device_given",
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            label=f"Device {number} of {status.devices}",
            participant_id=participant_id,
            detail={"device": number, "devices": status.devices},
            by=by,
        )
        updated = self.intranasal_status(session_id, participant_id)
        assert updated is not None
        return DeviceResult(event, updated)

    def intranasal_status(
        self, session_id: uuid.UUID, participant_id: uuid.UUID
    ) -> IntranasalStatus | None:
        """The devices of an esketamine participant's dose; None for other routes or before it."""
        protocol = self.protocol(session_id)
        if not _counts_devices(protocol):
            return None
        return intranasal_status_of(
            protocol,
            self.entries.doses(session_id),
            self.entries.events(session_id),
            participant_id,
        )

    def _current_reading(
        self, session_id: uuid.UUID, participant_id: uuid.UUID, observation_id: uuid.UUID | None
    ) -> ObservationRecord | None:
        if observation_id is not None:
            chosen = self.checkins.observation(observation_id)
            if chosen.participant_id != participant_id:
                raise StorageError("That reading belongs to another participant.")
            return chosen
        readings = self.checkins.observations(session_id, participant_id=participant_id)
        return max(readings, key=lambda o: (o.occurred_at, o.recorded_at)) if readings else None

    def evaluate_discharge(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        *,
        observation: AldreteObservation,
        checklist: Mapping[str, bool | None],
        now: datetime,
        observation_id: uuid.UUID | None = None,
    ) -> DischargeEvaluation:
        """The discharge check against the latest reading (or `observation_id`) and the
        baseline before the first dose; every item that fails is named."""
        evaluation, _ = self._evaluate(
            session_id, participant_id, observation, checklist, now, observation_id
        )
        return evaluation

    def _evaluate(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        observation: AldreteObservation,
        checklist: Mapping[str, bool | None],
        now: datetime,
        observation_id: uuid.UUID | None,
    ) -> tuple[DischargeEvaluation, ObservationRecord | None]:
        facts = self._session(session_id)
        self._client(facts, participant_id)
        first = self.entries.first_doses(session_id).get(participant_id)
        current = self._current_reading(session_id, participant_id, observation_id)
        baseline = self.checkins.baseline(session_id, participant_id, before=first)
        last, infusing = last_dose_end(
            facts.protocol,
            self.entries.doses(session_id),
            self.entries.events(session_id),
            participant_id,
        )
        evaluation = evaluate_discharge_rules(
            criteria=facts.protocol.discharge,
            current=Reading() if current is None else current.reading,
            baseline=None if baseline is None else baseline.reading,
            observation=observation,
            checklist_answers=checklist,
            first_dose_at=first,
            now=now,
            last_dose_at=last,
            infusion_running=infusing,
        )
        return evaluation, current

    def record_discharge(
        self,
        session_id: uuid.UUID,
        participant_id: uuid.UUID,
        *,
        observation: AldreteObservation,
        checklist: Mapping[str, bool | None],
        occurred_at: datetime,
        recorded_at: datetime,
        override: DischargeOverride | None = None,
        observation_id: uuid.UUID | None = None,
        by: uuid.UUID | None = None,
    ) -> DischargeResult:
        """Record that the participant left at `occurred_at`: refused while an item fails,
        unless `override` gives the reason and who decided; saved with a `discharge` event."""
        evaluation, current = self._evaluate(
            session_id, participant_id, observation, checklist, occurred_at, observation_id
        )
        if not may_discharge(evaluation, override):
            return DischargeResult(evaluation)
        used = None if evaluation.ready else override
        deviations: list[NewEvent] = []
        if used is not None and used.prescriber_id is not None:
            self._check_discharge_prescriber(used.prescriber_id)
            if needs_prescriber(evaluation):
                criteria = self.protocol(session_id).discharge
                deviations.append(_discharge_deviation_event(evaluation, criteria, used))
        assessment, event, added = self.discharges.record(
            session_id,
            participant_id,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            observation_id=None if current is None else current.id,
            aldrete={item.key: item.score for item in evaluation.aldrete.items},
            aldrete_total=evaluation.aldrete.total,
            on_room_air=observation.on_room_air,
            checklist={key: bool(answer) for key, answer in checklist.items()},
            ready=evaluation.ready,
            ready_minutes_after_first_dose=evaluation.ready_minutes_after_first_dose,
            problems=[problem.message for problem in evaluation.problems],
            override_reason=None if used is None else used.reason,
            override_by=None if used is None else used.staff,
            label="Discharged" if used is None else "Discharged (check overridden)",
            by=by,
            with_events=deviations,
        )
        return DischargeResult(evaluation, assessment, event, added)

    def _check_discharge_prescriber(self, staff_id: uuid.UUID) -> None:
        """Only a staff member whose role may prescribe gives the prescriber's override."""
        member = next((s for s in self._staff.all() if s.id == staff_id), None)
        if member is None or not self.roles.may(TeamRole.PRESCRIBER, member.role):
            raise NotAllowed(
                "Only a prescriber (a role the clinic's rules let prescribe) can let the client "
                "leave before the minimum time; the discharge was NOT saved."
            )

    def discharged(self, session_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
        return self.discharges.discharged(session_id)

    # the room ---------------------------------------------------------------------------------
    def plan_staggered_doses(
        self,
        session_id: uuid.UUID,
        *,
        stagger_min: float,
        at: datetime,
        first_at: datetime | None = None,
        by: uuid.UUID | None = None,
    ) -> EventRecord:
        """Plan the participants' doses `stagger_min` apart; each one's projected T0 follows the
        plan until they are dosed. Recorded as a `dose_plan` event, so it survives a restart; the
        event is returned (`nurse_board.dose_plan` reads the times from it)."""
        record = self.sessions.get(session_id)
        planned = staggered_dose_times(record, self.protocol(session_id), stagger_min, first_at)
        return self.entries.add_event(
            session_id,
            "dose_plan",
            occurred_at=at,
            recorded_at=at,
            label=f"Doses planned {stagger_min:g} minutes apart",
            detail={
                "stagger_min": stagger_min,
                "planned": {str(pid): when.isoformat() for pid, when in planned.items()},
            },
            by=by,
        )

    def nurse_board(
        self, session_id: uuid.UUID, states: Mapping[uuid.UUID, TimelineState]
    ) -> list[BoardRow]:
        """Every participant by the next check-in due (overdue first), from the session's
        timelines at one moment (`LiveSession` has them)."""
        record = self.sessions.get(session_id)
        return board_rows(
            record,
            states,
            self.checkins.observations(session_id),
            self.checkins.open_alerts(session_id),
            self.discharges.discharged(session_id),
        )


def _counts_devices(protocol: Protocol) -> bool:
    dosing = protocol.dosing
    return dosing.medication is Medication.ESKETAMINE and dosing.device_mg is not None


def intranasal_status_of(
    protocol: Protocol,
    doses: Iterable[DoseRecord],
    events: Iterable[EventRecord],
    participant_id: uuid.UUID,
) -> IntranasalStatus | None:
    """The devices of an esketamine participant's dose from the session's standing doses and
    events; None for other routes or before the dose."""
    dosing = protocol.dosing
    if not _counts_devices(protocol):
        return None
    dose = next(
        (d for d in doses if d.participant_id == participant_id and d.kind == "initial"), None
    )
    if dose is None or dose.dose_mg is None:
        return None
    plan = IntranasalPlan.from_spec(dose.dose_mg, dosing)
    devices = [
        e.occurred_at
        for e in events
        if e.kind == "device_given" and e.participant_id == participant_id
    ]
    given = (dose.occurred_at, *sorted(devices))
    return IntranasalStatus(
        devices=plan.devices,
        given_at=given,
        next_device_due_at=plan.next_device_due(given),
        rems_monitoring_ends_at=rems_monitoring_ends_at(
            dose.occurred_at, protocol.discharge.min_minutes_after_first_dose
        ),
    )


def stale_bp(newest: ObservationRecord | None, at: datetime, max_age_min: float) -> str | None:
    """Why a booster waits for a blood pressure: none yet, or the newest is too old."""
    if newest is None:
        return (
            f"Take a blood pressure before the booster: none is recorded (it must be at most "
            f"{max_age_min:g} min old). Press C for a check-in."
        )
    age_min = (at - newest.occurred_at).total_seconds() / 60
    if age_min > max_age_min:
        return (
            f"Take a blood pressure before the booster: the newest, at "
            f"{_time(newest.occurred_at)}, is {age_min:.0f} min old and must be at most "
            f"{max_age_min:g} min old. Press C for a check-in."
        )
    return None


def _as_entered(dose: DoseRecord, protocol: Protocol) -> DoseInput:
    """A saved dose as it was entered (its time corrected, its amount kept), to check again."""
    assert dose.dose_mg is not None
    unit_text = dose.detail.get("entered_unit")
    per_kg = unit_text == DoseUnit.MG_PER_KG.value and dose.dose_mg_per_kg is not None
    return DoseInput(
        route=protocol.dosing.route,
        entered_amount=dose.dose_mg_per_kg if per_kg and dose.dose_mg_per_kg else dose.dose_mg,
        entered_unit=DoseUnit.MG_PER_KG if per_kg else DoseUnit.MG,
        dose_mg=dose.dose_mg,
        weight_kg=dose.weight_kg,
    )


def _override_detail(check: DoseCheck, override: PrescriberOverride) -> dict[str, Any]:
    return {
        "by_id": str(override.staff_id),
        "by": override.name,
        "reason": override.reason,
        "deviations": [{"rule": d.rule, "message": d.message} for d in check.deviations],
    }


def _discharge_deviation_event(
    evaluation: DischargeEvaluation, criteria: DischargeCriteria, override: DischargeOverride
) -> NewEvent:
    """The protocol deviation a discharge on the prescriber's override is recorded with: the
    minimum not waited and the time actually waited, what else only the prescriber may pass,
    who decided and why."""
    shortfalls = time_shortfalls(evaluation, criteria)
    timed = {s.rule for s in shortfalls}
    other = [p.message.rstrip(".") for p in needs_prescriber(evaluation) if p.key not in timed]
    summary = "; ".join([*(s.text() for s in shortfalls), *other])
    before = "before the minimum time" if shortfalls else "before the check allows"
    return NewEvent(
        "discharge_deviation",
        f"Discharged {before}, on the prescriber's override by {override.staff}: "
        f"{override.reason} ({summary})",
        {
            "by_id": str(override.prescriber_id),
            "by": override.staff,
            "reason": override.reason,
            "summary": summary,
            "shortfalls": [
                {
                    "rule": s.rule,
                    "minimum_min": s.minimum_min,
                    "counted_from": s.counted_from,
                    "anchor_at": s.anchor_at.isoformat(),
                    "waited_min": s.waited_min,
                }
                for s in shortfalls
            ],
            "other": other,  # what else only the prescriber may pass (sedation not resolved)
        },
    )


def _order_override_event(check: DoseCheck, override: PrescriberOverride) -> NewEvent:
    return NewEvent(
        "dose_override",
        f"Dose outside the order, overridden by {override.name}: {override.reason}",
        _override_detail(check, override),
    )


def _hold_dose_events(
    check: HoldDoseResult, override: HoldDoseOverride | None, baseline: ObservationRecord | None
) -> list[NewEvent]:
    """What the hold-dose check puts on the record with the first dose."""
    detail: dict[str, Any] = {
        "level": check.level.value,
        "message": check.message,
        "systolic_mmhg": check.systolic_mmhg,
        "diastolic_mmhg": check.diastolic_mmhg,
        "baseline_id": None if baseline is None else str(baseline.id),
    }
    if check.requires_override and override is not None:
        return [
            NewEvent(
                "hold_dose_override",
                f"Dosed despite the hold-dose check: {override.reason}",
                {**detail, "reason": override.reason, "staff": override.staff},
            )
        ]
    if check.level is HoldDoseLevel.CAUTION:
        return [NewEvent("hold_dose_caution", "Hold-dose caution", detail)]
    return []


def no_dose_reason(protocol: Protocol) -> str:
    """Why a session of a type without a dose (issue 17) takes none."""
    kind = SESSION_TYPE_NAMES[protocol.session_type].lower()
    return (
        f"This is a {kind} session: it gives no dose and runs on the session clock only. "
        "Start a dosing session for a dose."
    )
