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

from kapsession.domain.discharge import (
    AldreteObservation,
    DischargeEvaluation,
    DischargeOverride,
    may_discharge,
)
from kapsession.domain.discharge import evaluate_discharge as evaluate_discharge_rules
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
from kapsession.domain.protocol import AlertRule, Medication, Protocol, Route
from kapsession.domain.protocol_file import parse_protocol
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
from kapsession.records.errors import StorageError
from kapsession.records.sessions import SessionRecord
from kapsession.services.checkin_results import (
    CheckinResult,
    DeviceResult,
    DischargeResult,
    DoseResult,
    IntranasalStatus,
)
from kapsession.services.nurse_board import BoardRow, board_rows, staggered_dose_times
from kapsession.storage.alert_rules import ClientAlertRuleRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.entries import EntryRepository, NewEvent
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
    def __init__(self, database: Database) -> None:
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
        by: uuid.UUID | None = None,
    ) -> DoseResult:
        """Record a dose from what was typed. Before the first dose the hold-dose check runs on
        the baseline: a caution is recorded with the dose; a block (or no baseline) refuses the
        dose unless `override` says why and who, which is then recorded with it.
        """
        facts = self._session(session_id)
        self._client(facts, participant_id)
        dosing = facts.protocol.dosing
        try:
            entered = parse_dose_input(
                dose_text, route=dosing.route, weight_text=weight_text, unit=unit
            )
            devices = self._devices(facts.protocol, entered.dose_mg)
        except DoseInvalid as invalid:
            return DoseResult(problems=tuple(invalid.problems))
        first = not any(d.participant_id == participant_id for d in self.entries.doses(session_id))
        events: list[NewEvent] = []
        check: HoldDoseResult | None = None
        if first:
            baseline = self.checkins.baseline(session_id, participant_id, before=occurred_at)
            check = check_hold_dose(
                None if baseline is None else baseline.reading, facts.protocol.hold_dose
            )
            if not may_dose(check, override):
                return DoseResult(hold_dose=check, entered=entered)
            events.extend(_hold_dose_events(check, override, baseline))
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
            detail={
                "entered_amount": entered.entered_amount,
                "entered_unit": entered.entered_unit.value,
            },
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
        by: uuid.UUID | None = None,
    ) -> DoseResult:
        """A corrected dose (amount, lot, time) replacing the original, which stays on record."""
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
        dose = self.entries.correct_dose(
            original_id,
            reason=reason,
            recorded_at=recorded_at,
            occurred_at=occurred_at,
            dose_mg=None if entered is None else entered.dose_mg,
            weight_kg=None if entered is None else entered.weight_kg,
            dose_mg_per_kg=None if entered is None else entered.dose_mg_per_kg,
            device_count=devices,
            lot_number=lot_number,
            by=by,
        )
        return DoseResult(dose=dose, entered=entered)

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
        evaluation = evaluate_discharge_rules(
            criteria=facts.protocol.discharge,
            current=Reading() if current is None else current.reading,
            baseline=None if baseline is None else baseline.reading,
            observation=observation,
            checklist_answers=checklist,
            first_dose_at=first,
            now=now,
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
        assessment, event = self.discharges.record(
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
        )
        return DischargeResult(evaluation, assessment, event)

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
