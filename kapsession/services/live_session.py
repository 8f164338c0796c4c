"""The running session: a QtCore object that keeps the session in memory, recomputes the clock
and saves entries.

The session is read once when it is opened (`SessionService.read_state`); after that every save
updates the state from the records it returned (built from the values written) and says what
changed with a fine-grained signal: `entries_added(kind, records)`, `alerts_changed`,
`checkins_changed`, `phase_changed`, `status_changed`, and `ticked` once per second of session
time for the clocks. Nothing reads the session back after a save; `reload()` is the recovery path
(a signature made by the signing page, an error).

Elapsed time is recomputed on every tick from the stored anchors (start, first doses) and a
monotonic reference captured when the session was opened, never accumulated from ticks. Phase
boundaries crossed while the app was not running are written on opening, as late entries.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from kapsession.domain.adverse_events import (
    EntryInvalid,
    EntryProblem,
    RescueMedication,
    check_adverse_event,
    check_intervention,
    check_substance_count,
    witness_problem,
)
from kapsession.domain.alert_followup import Recheck
from kapsession.domain.clock import Clock
from kapsession.domain.discharge import (
    AldreteObservation,
    DischargeEvaluation,
    DischargeOverride,
    needs_prescriber,
)
from kapsession.domain.dose_order import (
    DoseOrder,
    PrescriberOverride,
    SessionDoses,
    booster_available,
)
from kapsession.domain.dose_periods import (
    DosePeriodInvalid,
    Hold,
    HoldOutcome,
    Infusion,
    InfusionAction,
)
from kapsession.domain.dosing import DoseUnit
from kapsession.domain.escort import KIND as ESCORT
from kapsession.domain.escort import Escort, standing_escort
from kapsession.domain.hold_dose import HoldDoseOverride
from kapsession.domain.measures import measure_names
from kapsession.domain.protocol import Protocol
from kapsession.domain.roles import ROLE_NAMES, StaffRole, TeamRole
from kapsession.domain.screening import Checklist, failed_questions
from kapsession.domain.timeline import (
    CheckinStatus,
    ClockReference,
    TimelineState,
    compute_timeline,
    phase_changes_between,
)
from kapsession.domain.vitals import cautions_for
from kapsession.records.adverse import AdverseEventRecord, InterventionRecord, SubstanceRecord
from kapsession.records.entries import (
    AlertRecord,
    DoseRecord,
    EventRecord,
    ObservationRecord,
)
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.measures import MeasureRecord
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import ParticipantRecord, SessionRecord, SessionStatus
from kapsession.services.checkin_results import (
    CheckinResult,
    DischargeResult,
    DoseResult,
    IntranasalStatus,
)
from kapsession.services.checkins import intranasal_status_of, no_dose_reason, stale_bp
from kapsession.services.dose_gates import Decision, DoseBlock, dose_blocks, newest_screening
from kapsession.services.dose_periods import current_hold, current_infusion
from kapsession.services.entry_result import EntryResult
from kapsession.services.last_vitals import LastVital, last_vitals, watched_measures
from kapsession.services.nurse_board import BoardRow, board_rows
from kapsession.services.pins import PinService
from kapsession.services.session_service import OrderEntry, SessionService
from kapsession.services.session_state import EntryKind, SessionState
from kapsession.storage.database import Database

log = logging.getLogger(__name__)

WALL_JUMP_WARN_S = 5.0
PHASE_RETRY_S = 10.0  # a phase change that could not be saved is tried again this often


class LiveSession(QObject):
    """One open session, kept in memory and up to date from what its saves return."""

    ticked = Signal()  # a new second of session time: the clocks moved
    entries_added = Signal(str, tuple)  # an EntryKind, the records as saved
    alerts_changed = Signal()  # an alert was raised or acknowledged
    checkins_changed = Signal()  # a check-in's status changed (due, overdue, done), or its window
    phase_changed = Signal()  # a participant's phase changed
    status_changed = Signal()  # ended, signed, or read again
    team_changed = Signal()  # a handover, or another person at the keyboard
    entry_saved = Signal(str)  # a short, calm confirmation for the status line
    entry_failed = Signal(str)  # what went wrong and what to do; the entry was not saved
    ended = Signal()

    def __init__(
        self,
        service: SessionService,
        session_id: uuid.UUID,
        clock: Clock,
        *,
        tick_ms: int = 250,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._clock = clock
        self._reference = ClockReference.capture(clock)
        self._wall_jump_logged = False
        self._ticked_second: int | None = None
        self._phase_retry_at: datetime | None = None  # set while a phase change is unsaved
        self._state: SessionState = service.read_state(session_id)
        # Who switched in at the keyboard with their PIN; None: each entry is recorded as the
        # team member whose work it is (`nurse_author`, `acting_staff_id`).
        self._at_keyboard: uuid.UUID | None = None
        self._states: dict[uuid.UUID, TimelineState] = {}
        self._checkin_statuses: dict[uuid.UUID, tuple[tuple[str, CheckinStatus, bool], ...]] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)
        self._catch_up_phase_changes()
        self._recompute()

    # who acts -----------------------------------------------------------------------------
    @property
    def at_keyboard(self) -> uuid.UUID | None:
        """The person who switched in at the keyboard (their PIN checked), or None."""
        return self._at_keyboard

    def switch_to(self, staff_id: uuid.UUID | None) -> None:
        """From now on every entry is recorded as `staff_id` (their PIN was checked by the
        caller); None: back to each entry's team member."""
        self._at_keyboard = staff_id
        self.team_changed.emit()

    @property
    def acting_staff_id(self) -> uuid.UUID | None:
        """Who a note, a marker, the end or an export is recorded as: the person at the
        keyboard, else the session's therapist."""
        return self._at_keyboard or self._state.record.therapist_id

    def nurse_author(self, participant_id: uuid.UUID | None = None) -> uuid.UUID | None:
        """Who a nurse's entry (check-in, dose, acknowledgement, discharge) for the participant
        is recorded as: the person at the keyboard, else their monitoring clinician."""
        return self._at_keyboard or self._state.record.monitor_of(participant_id)

    def _monitoring_by(self, participant_id: uuid.UUID | None = None) -> uuid.UUID | None:
        """Who a monitoring entry (a check-in, a dose, an alert seen, a discharge, an adverse
        event or intervention) is saved as: `nurse_author`, when the clinic's role rules let
        that person monitor. NotAllowed (nothing is saved) when the person at the keyboard may
        not: a therapist who switched in writes notes, not vitals."""
        refusal = self.monitoring_refusal()
        if refusal:
            raise NotAllowed(refusal)
        return self.nurse_author(participant_id)

    def monitoring_refusal(self) -> str:
        """Why the person at the keyboard may not record monitoring entries ("" if they may)."""
        staff_id = self._at_keyboard
        if staff_id is None:
            return ""
        member = next((s for s in self._service.staff.all() if s.id == staff_id), None)
        role = member.role if member is not None else ""
        if self._service.roles.may(TeamRole.MONITORING, role):
            return ""
        name = member.signature_name if member is not None else "The person at the keyboard"
        what = ROLE_NAMES.get(StaffRole(role), role) if role in set(StaffRole) else role
        return (
            f"NOT saved: {name} is at the keyboard, and under the clinic's rules a "
            f"{what.lower()} does not record monitoring entries (check-ins, doses, alerts, "
            "discharge). The monitoring clinician switches in (Ctrl+W, their PIN) to record it."
        )

    def hand_over(
        self,
        place: TeamRole,
        staff_id: uuid.UUID | None,
        *,
        participant_id: uuid.UUID | None = None,
        by: uuid.UUID | None,
    ) -> bool:
        """`staff_id` takes `place` on the team now: recorded, and the team shown changes."""
        now = self.now()
        try:
            record, event = self._service.hand_over(
                self.record, place, staff_id, at=now, participant_id=participant_id, by=by
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._state.set_record(record)
        self._add_events((event,))
        self.team_changed.emit()
        self.entry_saved.emit(f"{event.label} — saved at {_local_hm(now)}.")
        return True

    # reading ------------------------------------------------------------------------------
    @property
    def record(self) -> SessionRecord:
        return self._state.record

    @property
    def database(self) -> Database:
        """The database this session is recorded in (music and other logs write there too)."""
        return self._service.database

    @property
    def protocol(self) -> Protocol:
        return self._state.protocol

    @property
    def participants(self) -> tuple[ParticipantRecord, ...]:
        return self._state.record.participants

    @property
    def events(self) -> list[EventRecord]:
        """Standing session events, in time order."""
        return self._state.events.standing

    @property
    def doses(self) -> list[DoseRecord]:
        """Standing doses, in time order."""
        return self._state.doses.standing

    @property
    def observations(self) -> list[ObservationRecord]:
        """Standing readings of every participant, in time order."""
        return self._state.observations.standing

    @property
    def observation_history(self) -> list[ObservationRecord]:
        """Every reading ever saved, corrected originals included (for the table)."""
        return self._state.observations.all

    @property
    def all_alerts(self) -> list[AlertRecord]:
        """Every alert of the session, acknowledged or not."""
        return self._state.alerts

    @property
    def open_alerts(self) -> list[AlertRecord]:
        """Alerts nobody has acknowledged yet, oldest first."""
        return self._state.open_alerts

    @property
    def discharged(self) -> dict[uuid.UUID, datetime]:
        return self._state.discharged

    @property
    def dose_plan(self) -> dict[uuid.UUID, datetime]:
        """Staggered dosing: each participant's planned dose time (empty without a plan)."""
        return self._state.dose_plan

    def last_reading(self, participant_id: uuid.UUID) -> ObservationRecord | None:
        """The participant's latest standing reading (what C prefills)."""
        return self._state.last_reading(participant_id)

    def last_vitals(self, participant_id: uuid.UUID) -> tuple[LastVital, ...]:
        """The newest standing value of each vital sign of the participant, and of each
        measure the protocol has an alert or a caution on, with its state."""
        state = self._state
        return last_vitals(
            state.newest.get(participant_id, {}),
            state.alerts,
            self.protocol.cautions,
            watched_measures(self.protocol),
        )

    @property
    def rechecks(self) -> tuple[Recheck, ...]:
        """Every recheck the alerts asked for, done or not, by due time."""
        return self._state.rechecks

    def board(self) -> list[BoardRow]:
        """The nurse board: every participant by the next check-in due, overdue first."""
        return board_rows(
            self.record,
            self._states,
            [r for p in self.participants if (r := self.last_reading(p.id)) is not None],
            self._state.open_alerts,
            self._state.discharged,
        )

    @property
    def is_live(self) -> bool:
        return self._state.record.status == SessionStatus.LIVE

    def now(self) -> datetime:
        """Session-trusted wall time (immune to wall-clock jumps while open)."""
        return self._reference.now(self._clock)

    def state(self, participant_id: uuid.UUID | None = None) -> TimelineState:
        """The clock of one participant; by default the room's (the first participant's)."""
        key = participant_id if participant_id is not None else self.participants[0].id
        return self._states[key]

    def first_dose_at(self, participant_id: uuid.UUID) -> datetime | None:
        return self._state.first_doses.get(participant_id)

    # running ------------------------------------------------------------------------------
    def start_ticking(self) -> None:
        if self.is_live:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        """Recompute and announce, once per second of session time: the timer fires four
        times a second so the clocks turn over promptly, but nothing on screen can change
        between two ticks of the same second, so those return at once."""
        drift = self._reference.drift_s(self._clock)
        if abs(drift) > WALL_JUMP_WARN_S and not self._wall_jump_logged:
            log.warning("wall clock moved %.1f s against the session clock; using monotonic", drift)
            self._wall_jump_logged = True
        second = math.floor(self.now().timestamp())
        if second == self._ticked_second:
            return
        self._ticked_second = second
        previous = {pid: s.phase_index for pid, s in self._states.items()}
        self._recompute()
        retry_due = self._phase_retry_at is not None and self.now() >= self._phase_retry_at
        if self.is_live and (
            retry_due
            or any(self._states[pid].phase_index != index for pid, index in previous.items())
        ):
            self._catch_up_phase_changes()
            self._recompute()
        if any(self._states[pid].phase_index != index for pid, index in previous.items()):
            self.phase_changed.emit()
        self.ticked.emit()

    def _recompute(self) -> None:
        """The clocks of every participant now; `checkins_changed` when a check-in's status
        moved (due, overdue, done) or its slot's window opened or closed since the last time."""
        state = self._state
        record = state.record
        assert record.started_at is not None, "a live session has a start time"
        now = self.now()
        self._states = {
            p.id: after_discharge(
                with_rechecks(
                    compute_timeline(
                        self.protocol,
                        started_at=record.started_at,
                        now=now,
                        first_dose_at=state.first_doses.get(p.id),
                        done_checkins=state.done_checkins.get(p.id, set()),
                        ended_at=record.ended_at,
                        planned_dose_at=state.dose_plan.get(p.id),
                    ),
                    [r for r in state.rechecks if r.participant_id == p.id],
                ),
                state.discharged.get(p.id),
            )
            for p in record.participants
        }
        statuses = {
            pid: tuple((c.spec.key, c.status, c.window_open) for c in timeline.checkins)
            for pid, timeline in self._states.items()
        }
        if statuses != self._checkin_statuses:
            self._checkin_statuses = statuses
            self.checkins_changed.emit()

    def reload(self) -> None:
        """Read the whole session again: the recovery path (a signature made by the signing
        page, a save whose outcome is not known). Every view redraws from it."""
        self._state = self._service.read_state(self._state.record.id)
        self._recompute()
        self.status_changed.emit()
        self.alerts_changed.emit()
        self.ticked.emit()

    # applying what a save returned ----------------------------------------------------------
    def _add_events(self, events: tuple[EventRecord, ...]) -> None:
        if events:
            self._state.add_events(events)
            self.entries_added.emit(EntryKind.EVENT, events)

    def _add_doses(self, doses: tuple[DoseRecord, ...]) -> None:
        self._state.add_doses(doses)
        self._recompute()
        self.entries_added.emit(EntryKind.DOSE, doses)

    def _add_observation(
        self, observation: ObservationRecord, alerts: tuple[AlertRecord, ...]
    ) -> None:
        changed = self._state.add_observation(observation, alerts)
        self._recompute()
        self.entries_added.emit(EntryKind.OBSERVATION, (observation,))
        if changed:
            self.entries_added.emit(EntryKind.ALERT, changed)
            self.alerts_changed.emit()

    def notes_added(self, kind: EntryKind, notes: tuple[object, ...]) -> None:
        """Note entries the note pad saved (NOTE or PRIVATE_NOTE): announced like the rest."""
        self.entries_added.emit(kind, notes)

    def _catch_up_phase_changes(self) -> None:
        """Write phase changes not yet in the record, each at the minute it happened."""
        record = self._state.record
        if record.status != SessionStatus.LIVE or record.started_at is None:
            return
        now = self.now()
        self._phase_retry_at = None
        written: list[EventRecord] = []
        try:
            for participant in record.participants:
                recorded = [
                    e.occurred_at
                    for e in self._state.events.standing
                    if e.kind == "phase_change" and e.participant_id == participant.id
                ]
                recorded += [e.occurred_at for e in written if e.participant_id == participant.id]
                after = max(recorded) if recorded else record.started_at - timedelta(microseconds=1)
                changes = phase_changes_between(
                    self.protocol,
                    started_at=record.started_at,
                    first_dose_at=self._state.first_doses.get(participant.id),
                    after=after,
                    upto=now,
                    planned_dose_at=self._state.dose_plan.get(participant.id),
                )
                for at, phase in changes:
                    written.append(
                        self._service.record_phase_change(
                            record.id, phase, at=at, recorded_at=now, participant_id=participant.id
                        )
                    )
        except StorageError as exc:
            # Not lost: tried again by a later tick, still at the minute it happened.
            self._phase_retry_at = now + timedelta(seconds=PHASE_RETRY_S)
            self.entry_failed.emit(str(exc))
        # also after a failure, so what was written is never written again
        self._add_events(tuple(written))

    # entries ------------------------------------------------------------------------------
    def _refuse_after_end(self, what: str) -> bool:
        """After the end the clock is stopped: an entry made "now" would fall outside it."""
        if self.is_live:
            return False
        self.entry_failed.emit(
            f"This session has already ended, so the {what} was NOT saved. If it happened "
            "during the session, add it to the record as a late entry with the time it happened."
        )
        return True

    def _dosed(self) -> None:
        """A dose moved a participant's T0: phases crossed since are written, clocks redrawn."""
        before = {pid: s.phase_index for pid, s in self._states.items()}
        self._catch_up_phase_changes()
        self._recompute()
        if any(self._states[pid].phase_index != index for pid, index in before.items()):
            self.phase_changed.emit()
        self.ticked.emit()

    def add_marker(self, label: str, participant_id: uuid.UUID | None = None) -> EventRecord | None:
        """The marker as saved, or None (the reason went out on `entry_failed`)."""
        if self._refuse_after_end("marker"):
            return None
        now = self.now()
        try:
            saved = self._service.add_marker(
                self.record.id,
                label,
                at=now,
                recorded_at=now,
                participant_id=participant_id,
                by=self.acting_staff_id,
            )
        except (StorageError, ValueError) as exc:
            self.entry_failed.emit(str(exc))
            return None
        self._add_events((saved,))
        self.entry_saved.emit(f"Marker “{label.strip()}” at {_local_hm(now)} — saved.")
        return saved

    def withdraw_marker(self, event_id: uuid.UUID, reason: str) -> bool:
        """Take a marker back (undo): a voiding correction, so the record shows it was."""
        try:
            withdrawal = self._service.entries.correct_event(
                event_id,
                reason=reason,
                recorded_at=self.now(),
                voids=True,
                by=self.acting_staff_id,
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._add_events((withdrawal,))
        return True

    # the escort for the day (issue 17) --------------------------------------------------------
    def escort(self, participant_id: uuid.UUID) -> Escort | None:
        """The participant's escort as it stands (None: not recorded)."""
        return standing_escort(self.events, participant_id)

    def record_escort(
        self, participant_id: uuid.UUID, escort: Escort, reason: str = ""
    ) -> EventRecord | None:
        """The participant's escort, recorded by the person at the keyboard; when one is
        recorded already, a correction of it (`reason` required, the earlier one kept). None
        when refused (the reason went out on `entry_failed`)."""
        if self._refuse_after_end("escort"):
            return None
        now = self.now()
        standing = [
            e for e in self.events if e.kind == ESCORT and e.participant_id == participant_id
        ]
        try:
            if standing:
                saved = self._service.entries.correct_event(
                    standing[-1].id,
                    reason=reason,
                    recorded_at=now,
                    label=escort.label(),
                    occurred_at=now,
                    detail=escort.detail(),
                    by=self.acting_staff_id,
                )
            else:
                saved = self._service.entries.add_event(
                    self.record.id,
                    ESCORT,
                    occurred_at=now,
                    recorded_at=now,
                    label=escort.label(),
                    participant_id=participant_id,
                    detail=escort.detail(),
                    by=self.acting_staff_id,
                )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        self._add_events((saved,))
        self.entry_saved.emit(
            f"{self._name(participant_id)}: escort today {escort.text()} — saved."
        )
        return saved

    def clock_position(
        self, participant_id: uuid.UUID | None
    ) -> tuple[str | None, int | None, int | None]:
        """Where `now` sits on the session clock for an entry: (phase key, elapsed s, s since
        the dose). Without a participant in a shared session there is no one dose to count
        from, so that is None; after the end, the clock shows where it stopped."""
        record = self.record
        now = self.now()
        if record.ended_at is not None:
            now = min(now, record.ended_at)
        elapsed = (
            None if record.started_at is None else round((now - record.started_at).total_seconds())
        )
        shared = len(self.participants) > 1 and participant_id is None
        state = self.state(participant_id)
        first = None if shared else self.first_dose_at(state_owner(self, participant_id))
        since = None if first is None else round((now - first).total_seconds())
        return _phase_key(state), elapsed, since

    # the nurse's entries ----------------------------------------------------------------------
    def _reading_participant(self, observation_id: uuid.UUID) -> uuid.UUID | None:
        found = [o for o in self._state.observations.all if o.id == observation_id]
        return found[0].participant_id if found else None

    def _alert_participant(self, alert_id: uuid.UUID) -> uuid.UUID | None:
        found = [a for a in self._state.alerts if a.id == alert_id]
        return found[0].participant_id if found else None

    def _name(self, participant_id: uuid.UUID) -> str:
        try:
            return self.record.participant(participant_id).client.given_name
        except KeyError:
            return "this participant"

    def save_checkin(
        self,
        participant_id: uuid.UUID,
        raw: Mapping[str, str],
        *,
        checkin_key: str | None = None,
        occurred_at: datetime | None = None,
        on_room_air: bool | None = None,
        ask_before_partial: bool = False,
    ) -> CheckinResult | None:
        """Save a check-in taken now (or at `occurred_at`, a late entry). Returns the result,
        whose `problems` name each field to fix when nothing was saved; None when the database
        refused (the reason is in `entry_failed`). With `ask_before_partial`, a check-in missing
        a required measure is not saved: the result names them (`needs_confirmation`)."""
        now = self.now()
        try:
            result = self._service.checkins.save_checkin(
                self.record.id,
                participant_id,
                raw,
                occurred_at=now if occurred_at is None else occurred_at,
                recorded_at=now,
                checkin_key=checkin_key,
                on_room_air=on_room_air,
                by=self._monitoring_by(participant_id),
                ask_before_partial=ask_before_partial,
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        if result.needs_confirmation:
            return result
        if not result.saved:
            self.entry_failed.emit(f"Check-in NOT saved. {result.message}")
            return result
        label = self._checkin_label(checkin_key)
        assert result.observation is not None
        when = _local_hm(result.observation.occurred_at)
        alerts = len(result.alerts)
        flagged = (
            "" if not alerts else f" {alerts} alert{'s' if alerts > 1 else ''} to acknowledge."
        )
        self._add_observation(result.observation, result.alerts)
        partial = f" Not taken: {measure_names(result.not_taken)}." if result.not_taken else ""
        cautions = cautions_for(
            result.observation.reading,
            self.protocol.cautions,
            alerted={alert.field for alert in result.alerts},
        )
        caution = f" Caution: {'; '.join(cautions)}." if cautions else ""
        self.entry_saved.emit(
            f"{label} for {self._name(participant_id)} at {when} — saved."
            f"{partial}{caution}{flagged}"
        )
        return result

    def _checkin_label(self, checkin_key: str | None) -> str:
        if checkin_key is None:
            return "Unscheduled check-in"
        try:
            return f"Check-in {self.protocol.checkin(checkin_key).label}"
        except KeyError:
            return "Check-in"

    def correct_checkin(
        self,
        original_id: uuid.UUID,
        raw: Mapping[str, str],
        reason: str,
        *,
        occurred_at: datetime | None = None,
    ) -> CheckinResult | None:
        """Correct a saved reading; the original stays on the record beside the correction."""
        try:
            result = self._service.checkins.correct_checkin(
                original_id,
                raw,
                reason=reason,
                recorded_at=self.now(),
                occurred_at=occurred_at,
                by=self._monitoring_by(self._reading_participant(original_id)),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        if not result.saved:
            self.entry_failed.emit(f"Correction NOT saved. {result.message}")
            return result
        assert result.observation is not None
        self._add_observation(result.observation, result.alerts)
        self.entry_saved.emit("Reading corrected — saved; the original stays on the record.")
        return result

    def withdraw_checkin(self, original_id: uuid.UUID, reason: str) -> CheckinResult | None:
        """A reading entered in error, taken back: it stays on the record, marked withdrawn
        with the reason, and its alerts say their reading was corrected."""
        try:
            result = self._service.checkins.void_checkin(
                original_id,
                reason=reason,
                recorded_at=self.now(),
                by=self._monitoring_by(self._reading_participant(original_id)),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        if not result.saved:
            return result
        assert result.observation is not None
        self._add_observation(result.observation, ())
        self.entry_saved.emit(
            "Reading withdrawn — saved; it stays on the record, marked withdrawn."
        )
        return result

    def acknowledge_alert(self, alert_id: uuid.UUID, action: str | None, comment: str = "") -> bool:
        """The participant's monitoring clinician (or the person at the keyboard) saw the alert
        and says what was done (`action`, an `AlertAction`; `comment` the intervention, the
        reason for no action, or a note); recorded with their name and the time."""
        try:
            by = self._monitoring_by(self._alert_participant(alert_id))
        except NotAllowed as exc:
            self.entry_failed.emit(str(exc))
            return False
        if by is None:
            self.entry_failed.emit(
                "The alert was NOT acknowledged: this session names no monitoring clinician. "
                "Press Ctrl+W and switch to yourself, then acknowledge it."
            )
            return False
        now = self.now()
        try:
            acknowledgement = self._service.checkins.acknowledge_alert(
                alert_id, by=by, at=now, action=action, comment=comment
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        done = self._state.acknowledge(acknowledgement)
        if done is not None:
            self.entries_added.emit(EntryKind.ALERT, (done,))
        self.alerts_changed.emit()
        what = "" if done is None else f" {done.follow_up}."
        self.entry_saved.emit(f"Alert acknowledged at {_local_hm(now)} — saved.{what}")
        return True

    def record_dose(
        self,
        participant_id: uuid.UUID,
        dose_text: str,
        *,
        weight_text: str = "",
        unit: DoseUnit | None = None,
        lot_number: str = "",
        given_by: uuid.UUID | None = None,
        at: datetime | None = None,
        override: HoldDoseOverride | None = None,
        order_override: PrescriberOverride | None = None,
    ) -> DoseResult | None:
        """A dose with its details (mg or mg/kg, lot, who gave it), given now or at `at`.

        Before the first dose the hold-dose check runs: the result's `needs_override` asks for
        a `HoldDoseOverride`; a caution is saved with the dose. None when the database refused.
        """
        if self._refuse_after_end("dose"):
            return None
        blocks = self.dose_blocks(participant_id)
        if blocks:  # issue 17: the screening and the prescriber's decisions come first
            self.entry_failed.emit(f"Dose NOT saved. {blocks[0].text}")
            return None
        now = self.now()
        given_at = now if at is None else min(at, now)
        try:
            result = self._service.checkins.record_dose(
                self.record.id,
                participant_id,
                dose_text,
                occurred_at=given_at,
                recorded_at=now,
                weight_text=weight_text,
                unit=unit,
                lot_number=lot_number,
                given_by=given_by or self._monitoring_by(participant_id),
                override=override,
                order_override=order_override,
                by=self._monitoring_by(participant_id),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        if result.dose is None:
            self.entry_failed.emit(f"Dose NOT saved. {result.message}")
            return result
        what = "Dose" if result.dose.kind == "initial" else "Booster"
        amount = result.entered.describe() if result.entered is not None else ""
        self._add_doses((result.dose,))
        self._add_events(result.events)
        self._dosed()
        self.entry_saved.emit(
            f"{what} {amount} given to {self._name(participant_id)} at {_local_hm(given_at)}"
            " — saved."
        )
        return result

    def _dose_participant(self, dose_id: uuid.UUID) -> uuid.UUID | None:
        return self._participant_of(self._state.doses.all, dose_id)

    def correct_dose(
        self,
        original_id: uuid.UUID,
        reason: str,
        *,
        dose_text: str | None = None,
        weight_text: str = "",
        lot_number: str | None = None,
        occurred_at: datetime | None = None,
        order_override: PrescriberOverride | None = None,
    ) -> DoseResult | None:
        """A saved dose corrected (its amount, lot or time); the original stays on the record.
        The result's `problems` name each field to fix; `needs_order_override`: outside the
        order or the protocol's limits, it is saved with the prescriber's override only (as a
        new dose is); None when the database refused."""
        try:
            result = self._service.checkins.correct_dose(
                original_id,
                reason=reason,
                recorded_at=self.now(),
                dose_text=dose_text,
                weight_text=weight_text,
                lot_number=lot_number,
                occurred_at=occurred_at,
                order_override=order_override,
                by=self._monitoring_by(self._dose_participant(original_id)),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        if result.dose is None:
            return result
        self._add_doses((result.dose,))
        self._add_events(result.events)
        self._dosed()
        self.entry_saved.emit("Dose corrected — saved; the original stays on the record.")
        return result

    def withdraw_dose(self, original_id: uuid.UUID, reason: str) -> bool:
        """A dose entered in error, taken back: it stays on the record, marked withdrawn, and so
        do the deviations recorded with it (the prescriber's override, a hold-dose override)."""
        try:
            withdrawal, deviations = self._service.entries.correct_dose_with_events(
                original_id,
                reason=reason,
                recorded_at=self.now(),
                voids=True,
                by=self._monitoring_by(self._dose_participant(original_id)),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._add_doses((withdrawal,))
        self._add_events(deviations)  # its deviations, withdrawn with it
        self._dosed()
        self.entry_saved.emit("Dose withdrawn — saved; it stays on the record, marked withdrawn.")
        return True

    # the prescriber's order (issue 16) --------------------------------------------------------
    def order_of(self, participant_id: uuid.UUID) -> DoseOrderRecord | None:
        """The participant's order as it stands; None: no order recorded (an older session)."""
        return self._state.order_of(participant_id)

    def awaiting_countersignature(self, participant_id: uuid.UUID) -> DoseOrderRecord | None:
        """The participant's verbal order not yet countersigned, or None."""
        order = self.order_of(participant_id)
        if order is None or not order.order.verbal or order.id in self._state.countersigned:
            return None
        return order

    # before the first dose (issue 17) -------------------------------------------------------
    def dose_blocks(self, participant_id: uuid.UUID) -> list[DoseBlock]:
        """What the participant's first dose waits for (`dose_gates`): the screening, the
        prescriber's decision on a failed one or on PHQ-9 item 9; empty after the first dose."""
        record = self.record
        participant = next((p for p in record.participants if p.id == participant_id), None)
        if participant is None or self.first_dose_at(participant_id) is not None:
            return []  # not one of this session's: the dose's own checks refuse it
        return dose_blocks(
            participant_id=participant_id,
            client_id=participant.client.id,
            session_id=record.id,
            started_at=record.started_at,
            events=self._state.events.standing,
            measures=self._state.measures,
        )

    def screening_of(self, participant_id: uuid.UUID) -> EventRecord | None:
        """The participant's screening as it stands (the newest), or None."""
        return newest_screening(self._state.events.standing, participant_id)

    def screening_checklist(self) -> Checklist:
        """The clinic's screening checklist now (ScreeningFileError: the file's mistake)."""
        return self._service.pre_dose.checklist()

    def record_screening(
        self,
        participant_id: uuid.UUID,
        checklist: Checklist,
        answers: Mapping[str, str],
        *,
        replaces: uuid.UUID | None = None,
        reason: str = "",
    ) -> EventRecord | None:
        """The participant's screening answers, saved now (with `replaces`: answered again, a
        correction with the reason); None when refused (said on `entry_failed`)."""
        if self._refuse_after_end("screening"):
            return None
        try:
            saved = self._service.pre_dose.record_screening(
                self.record.id,
                participant_id,
                checklist,
                answers,
                at=self.now(),
                by=self._monitoring_by(participant_id),
                replaces=replaces,
                reason=reason,
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        self._add_events((saved,))
        failed = failed_questions(saved.detail)
        name = self._name(participant_id)
        if failed:
            self.entry_saved.emit(
                f"Screening for {name} — saved; {len(failed)} failed: the prescriber decides "
                "before the dose (B)."
            )
        else:
            self.entry_saved.emit(f"Screening for {name} — saved; every item passed.")
        self.ticked.emit()
        return saved

    def record_dose_decision(
        self,
        participant_id: uuid.UUID,
        block: DoseBlock,
        decision: Decision,
        *,
        prescriber_id: uuid.UUID,
        reason: str,
    ) -> EventRecord | None:
        """The prescriber's proceed or hold on what `block` waits for (their PIN checked by
        the caller); None when refused (said on `entry_failed`)."""
        try:
            saved = self._service.pre_dose.record_decision(
                self.record.id,
                participant_id,
                block.gate,
                block.subject_id,
                decision,
                prescriber_id=prescriber_id,
                reason=reason,
                at=self.now(),
                by=self.acting_staff_id or prescriber_id,
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        self._add_events((saved,))
        self.entry_saved.emit(f"{saved.label} — saved.")
        self.ticked.emit()
        return saved

    def withdraw_event(self, event_id: uuid.UUID, reason: str) -> bool:
        """A session event entered in error (a screening, the prescriber's decision before the
        dose, an escort), taken back with the reason; it stays on the record, withdrawn."""
        try:
            withdrawal = self._service.entries.correct_event(
                event_id, reason=reason, recorded_at=self.now(), voids=True, by=self.acting_staff_id
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._add_events((withdrawal,))
        self.ticked.emit()
        return True

    def measures_saved(self, measures: Iterable[MeasureRecord]) -> None:
        """Outcome measures of a participant saved elsewhere while the session is open (a
        questionnaire screen): the PHQ-9 item 9 rule follows them without reading again."""
        clients = {p.client.id for p in self.record.participants}
        self._state.measures.extend(m for m in measures if m.client_id in clients)
        self.ticked.emit()

    def dose_availability(self, participant_id: uuid.UUID) -> tuple[bool, str]:
        """Whether D may record a dose for the participant now, and why not: the first dose
        until discharge or the end; then a booster only as the protocol allows (its window,
        its count); never after discharge or the end; never in a session without a dose. Issue
        17: the first dose waits for what `dose_blocks` says."""
        if not self.protocol.gives_dose:  # issue 17: consultation, preparation, integration ...
            return False, no_dose_reason(self.protocol)
        blocks = self.dose_blocks(participant_id)
        if blocks and self.is_live and self.discharged.get(participant_id) is None:
            return False, blocks[0].text
        standing = [d for d in self.doses if d.participant_id == participant_id]
        so_far = SessionDoses(
            first_dose_at=self.first_dose_at(participant_id),
            given_mg=tuple(d.dose_mg for d in standing if d.dose_mg is not None),
            boosters_given=sum(1 for d in standing if d.kind == "booster"),
            discharged_at=self.discharged.get(participant_id),
            ended_at=self.record.ended_at,
            session_started_at=self.record.started_at,
        )
        return booster_available(self.protocol.dosing, so_far, self.now())

    def booster_bp_wait(self, participant_id: uuid.UUID) -> str | None:
        """Why a booster now must wait for a blood pressure: none taken, or the newest older
        than the protocol's `booster_bp_max_age_min`; None when it need not (or no first dose
        yet: the first dose is checked on the baseline)."""
        if self.first_dose_at(participant_id) is None:
            return None
        when = self.now()
        taken = [
            o
            for o in self.observations
            if o.participant_id == participant_id and o.has_bp and o.occurred_at <= when
        ]
        newest = max(taken, key=lambda o: (o.occurred_at, o.recorded_at), default=None)
        return stale_bp(newest, when, self.protocol.hold_dose.booster_bp_max_age_min)

    def record_order(self, participant_id: uuid.UUID, entry: OrderEntry) -> DoseOrderRecord | None:
        """An order given during the session (a session without one, or a new one)."""
        now = self.now()
        try:
            order = self._service.record_order(
                self.record, participant_id, entry, at=now, by=self.acting_staff_id
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        self._state.add_orders((order,))  # the order line follows on the next tick
        self.entries_added.emit(EntryKind.ORDER, (order,))
        self.entry_saved.emit(f"Order for {self._name(participant_id)} — saved.")
        return order

    @property
    def orders(self) -> list[DoseOrderRecord]:
        """The standing orders of every participant."""
        return self._state.orders.standing

    @property
    def order_history(self) -> list[DoseOrderRecord]:
        """Every version of every order, corrected and withdrawn ones included."""
        return self._state.orders.all

    def prescribers(self) -> list[StaffRecord]:
        """The active staff whose role may prescribe (the clinic's rules)."""
        return self._service.prescribers()

    def correct_order(
        self,
        original_id: uuid.UUID,
        reason: str,
        *,
        prescriber_id: uuid.UUID,
        order: DoseOrder | None = None,
        voids: bool = False,
    ) -> DoseOrderRecord | None:
        """The prescriber corrects an order (`order`, the order as it should read), or takes
        it back as entered in error (`voids`); their PIN checked by the caller. The order line
        and the dose check follow the version saved at once. None: refused (`entry_failed`)."""
        try:
            saved = self._service.correct_order(
                self.record,
                original_id,
                order,
                reason=reason,
                prescriber_id=prescriber_id,
                voids=voids,
                at=self.now(),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        self._state.add_orders((saved,))
        self.entries_added.emit(EntryKind.ORDER, (saved,))
        what = "withdrawn" if voids else "corrected"
        self.entry_saved.emit(
            f"Order for {self._name(saved.participant_id)} {what} — saved; the earlier version "
            "stays on the record."
        )
        return saved

    def countersign_order(self, order: DoseOrderRecord, staff_id: uuid.UUID) -> bool:
        """The prescriber countersigned the verbal order (their PIN checked by the caller)."""
        now = self.now()
        try:
            event = self._service.countersign_order(self.record, order, staff_id, at=now)
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._add_events((event,))
        self.entry_saved.emit(f"Verbal order countersigned at {_local_hm(now)} — saved.")
        return True

    def record_device(
        self, participant_id: uuid.UUID, *, at: datetime | None = None
    ) -> IntranasalStatus | None:
        """The next esketamine device was given now (or at `at`)."""
        if self._refuse_after_end("device"):
            return None
        now = self.now()
        given_at = now if at is None else min(at, now)
        try:
            device = self._service.checkins.record_device(
                self.record.id,
                participant_id,
                occurred_at=given_at,
                recorded_at=now,
                by=self._monitoring_by(participant_id),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        status = device.status
        number = len(status.given_at)
        self._add_events((device.event,))
        self.entry_saved.emit(
            f"Device {number} of {status.devices} given to {self._name(participant_id)} at "
            f"{_local_hm(given_at)} — saved."
        )
        return status

    def intranasal_status(self, participant_id: uuid.UUID) -> IntranasalStatus | None:
        """The devices of an esketamine dose, from the session in memory."""
        return intranasal_status_of(self.protocol, self.doses, self.events, participant_id)

    # doses that last (issue 16) ------------------------------------------------------------
    def hold(self, participant_id: uuid.UUID) -> Hold | None:
        """The sublingual hold of the participant's latest dose (None: no such dose)."""
        return current_hold(self.protocol, self.doses, self.events, participant_id)

    def infusion(self, participant_id: uuid.UUID) -> Infusion | None:
        """The infusion of the participant's latest IV dose (None: no such dose)."""
        return current_infusion(self.protocol, self.doses, self.events, participant_id)

    def record_hold_outcome(
        self, participant_id: uuid.UUID, outcome: HoldOutcome, *, at: datetime | None = None
    ) -> EventRecord | None:
        """The client spat out or swallowed the held dose now (or at `at`, when H was
        pressed); None when refused (the reason goes out on `entry_failed`)."""
        periods = self._service.dose_periods
        event = self._save_dose_period(
            "end of the hold",
            participant_id,
            at,
            lambda when, now, by: periods.record_hold_outcome(
                self.record.id, participant_id, outcome, occurred_at=when, recorded_at=now, by=by
            ),
        )
        if event is not None:
            self.entry_saved.emit(
                f"{event.label} — {self._name(participant_id)} at {_local_hm(event.occurred_at)}"
                " — saved."
            )
        return event

    def record_infusion_action(
        self,
        participant_id: uuid.UUID,
        action: InfusionAction,
        *,
        total_mg: float | None = None,
        at: datetime | None = None,
    ) -> EventRecord | None:
        """Pause, resume or stop the participant's infusion now (or at `at`); a stop with the
        total given. None when refused (the reason goes out on `entry_failed`)."""
        periods = self._service.dose_periods
        event = self._save_dose_period(
            "infusion entry",
            participant_id,
            at,
            lambda when, now, by: periods.record_infusion_action(
                self.record.id,
                participant_id,
                action,
                occurred_at=when,
                recorded_at=now,
                total_mg=total_mg,
                by=by,
            ),
        )
        if event is not None:
            self.ticked.emit()
            self.entry_saved.emit(f"{event.label} — {self._name(participant_id)} — saved.")
        return event

    def _save_dose_period(
        self,
        what: str,
        participant_id: uuid.UUID,
        at: datetime | None,
        save: Callable[[datetime, datetime, uuid.UUID | None], EventRecord],
    ) -> EventRecord | None:
        """A hold's end or an infusion's action, at `at` (never later than now) and by the
        participant's nurse, kept in the state; None when refused (said on `entry_failed`)."""
        if self._refuse_after_end(what):
            return None
        now = self.now()
        when = now if at is None else min(at, now)
        try:
            event = save(when, now, self._monitoring_by(participant_id))
        except (DosePeriodInvalid, StorageError) as exc:
            self.entry_failed.emit(f"NOT saved. {exc}")
            return None
        self._add_events((event,))
        return event

    def correct_dose_period(
        self,
        event_id: uuid.UUID,
        reason: str,
        *,
        occurred_at: datetime | None = None,
        voids: bool = False,
    ) -> EventRecord | None:
        """A hold's end or an infusion's action at another time, or withdrawn (`voids`); the
        original stays on the record. None when refused (said on `entry_failed`)."""
        owner = self._participant_of(self._state.events.all, event_id)
        try:
            event = self._service.dose_periods.correct(
                self.record.id,
                event_id,
                reason=reason,
                recorded_at=self.now(),
                occurred_at=occurred_at,
                voids=voids,
                by=self._monitoring_by(owner),
            )
        except StorageError as exc:
            self.entry_failed.emit(f"NOT saved. {exc}")
            return None
        self._add_events((event,))
        self.ticked.emit()
        self.entry_saved.emit(
            f"{'Withdrawn' if voids else 'Corrected'} — saved; the original stays on the record."
        )
        return event

    def evaluate_discharge(
        self,
        participant_id: uuid.UUID,
        observation: AldreteObservation,
        checklist: Mapping[str, bool | None],
    ) -> DischargeEvaluation:
        """The discharge check now, nothing saved: what passes and what still fails."""
        return self._service.checkins.evaluate_discharge(
            self.record.id,
            participant_id,
            observation=observation,
            checklist=checklist,
            now=self.now(),
        )

    def record_discharge(
        self,
        participant_id: uuid.UUID,
        observation: AldreteObservation,
        checklist: Mapping[str, bool | None],
        *,
        override: DischargeOverride | None = None,
    ) -> DischargeResult | None:
        """Discharge the participant now: refused while an item fails, unless overridden with
        a reason. None when the database refused."""
        now = self.now()
        try:
            result = self._service.checkins.record_discharge(
                self.record.id,
                participant_id,
                observation=observation,
                checklist=checklist,
                occurred_at=now,
                recorded_at=now,
                override=override,
                by=self._monitoring_by(participant_id),
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return None
        if not result.saved:
            problems = " ".join(p.message for p in result.evaluation.problems)
            who = (
                "the prescriber's override (their PIN and the reason)"
                if needs_prescriber(result.evaluation)
                else "an override with the reason"
            )
            self.entry_failed.emit(
                f"Discharge NOT saved: the check does not pass. {problems} To discharge "
                f"anyway, record {who}."
            )
            return result
        assert result.event is not None
        self._add_events((result.event, *result.deviations))
        self._recompute()
        self.entry_saved.emit(
            f"{self._name(participant_id)} discharged at {_local_hm(now)} — saved."
        )
        return result

    def plan_staggered_doses(self, stagger_min: float, first_at: datetime | None = None) -> bool:
        """Plan the participants' doses `stagger_min` apart (in participant order)."""
        try:
            plan = self._service.checkins.plan_staggered_doses(
                self.record.id,
                stagger_min=stagger_min,
                at=self.now(),
                first_at=first_at,
                by=self._monitoring_by(),
            )
        except (StorageError, ValueError) as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._add_events((plan,))
        self._recompute()
        self.ticked.emit()
        self.entry_saved.emit(f"Doses planned {stagger_min:g} minutes apart — saved.")
        return True

    def end_session(self) -> bool:
        now = self.now()
        try:
            ended, event = self._service.end_session_with_event(
                self.record.id, at=now, by=self.acting_staff_id
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._timer.stop()
        self._state.set_record(ended)
        self._add_events((event,))
        self._recompute()
        self.entry_saved.emit(f"Session ended at {_local_hm(now)} — saved.")
        self.status_changed.emit()
        self.ticked.emit()
        self.ended.emit()
        return True

    # adverse events, interventions, controlled-substance counts (issue 16) ------------------
    @property
    def adverse_events(self) -> list[AdverseEventRecord]:
        """The standing adverse events, in time order."""
        return self._state.adverse_events.standing

    @property
    def interventions(self) -> list[InterventionRecord]:
        return self._state.interventions.standing

    @property
    def substance_counts(self) -> list[SubstanceRecord]:
        return self._state.substance_counts.standing

    @property
    def dose_history(self) -> list[DoseRecord]:
        """Every dose row, corrected and withdrawn versions included."""
        return self._state.doses.all

    def _add_adverse(
        self,
        kind: EntryKind,
        record: AdverseEventRecord | InterventionRecord | SubstanceRecord,
    ) -> None:
        self._state.add_adverse(kind, (record,))
        self.entries_added.emit(kind, (record,))

    def _participant_of(self, rows: Sequence[Any], entry_id: uuid.UUID) -> uuid.UUID | None:
        found = [row.participant_id for row in rows if row.id == entry_id]
        return found[0] if found else None

    def record_adverse_event(
        self,
        participant_id: uuid.UUID,
        *,
        kind: str,
        other: str = "",
        severity: str,
        seriousness: str,
        outcome: str,
        onset_at: datetime,
        resolved_at: datetime | None = None,
        actions: str = "",
        alert_id: uuid.UUID | None = None,
    ) -> EntryResult[AdverseEventRecord]:
        """An adverse event of the participant, saved the moment it is entered; the result's
        `problems` name every field to fix when nothing was saved."""
        now = self.now()
        try:
            entry = check_adverse_event(
                kind=kind, other=other, severity=severity, seriousness=seriousness,
                outcome=outcome, onset_at=onset_at, resolved_at=resolved_at, actions=actions,
                now=now, alert_id=alert_id,
            )  # fmt: skip
            record = self._service.adverse.add_adverse_event(
                self.record.id,
                participant_id,
                entry,
                recorded_at=now,
                by=self._monitoring_by(participant_id),
            )
        except EntryInvalid as exc:
            return EntryResult(problems=exc.problems)
        except StorageError as exc:
            self.entry_failed.emit(f"Adverse event NOT saved. {exc}")
            return EntryResult(message=str(exc))
        self._add_adverse(EntryKind.ADVERSE_EVENT, record)
        self.entry_saved.emit(
            f"Adverse event ({record.title.lower()}) for {self._name(participant_id)} at "
            f"{_local_hm(record.occurred_at)} — saved."
        )
        return EntryResult(record)

    def update_adverse_event(
        self,
        original_id: uuid.UUID,
        reason: str,
        *,
        kind: str,
        other: str = "",
        severity: str,
        seriousness: str,
        outcome: str,
        onset_at: datetime,
        resolved_at: datetime | None = None,
        actions: str = "",
        alert_id: uuid.UUID | None = None,
    ) -> EntryResult[AdverseEventRecord]:
        """The adverse event as it stands now (it resolved, its outcome): a correction, the
        original kept beside it."""
        now = self.now()
        owner = self._participant_of(self._state.adverse_events.all, original_id)
        try:
            entry = check_adverse_event(
                kind=kind, other=other, severity=severity, seriousness=seriousness,
                outcome=outcome, onset_at=onset_at, resolved_at=resolved_at, actions=actions,
                now=now, alert_id=alert_id,
            )  # fmt: skip
            record = self._service.adverse.correct_adverse_event(
                original_id, entry, reason=reason, recorded_at=now, by=self._monitoring_by(owner)
            )
        except EntryInvalid as exc:
            return EntryResult(problems=exc.problems)
        except StorageError as exc:
            self.entry_failed.emit(f"Update NOT saved. {exc}")
            return EntryResult(message=str(exc))
        self._add_adverse(EntryKind.ADVERSE_EVENT, record)
        self.entry_saved.emit(
            "Adverse event updated — saved; the earlier entry stays on the record."
        )
        return EntryResult(record)

    def withdraw_entry(self, kind: EntryKind, original_id: uuid.UUID, reason: str) -> bool:
        """An adverse event, intervention or count entered in error, taken back (it stays on
        the record, marked withdrawn, with the reason)."""
        repository = self._service.adverse
        history = self._state.adverse_history(kind)
        now = self.now()
        record: AdverseEventRecord | InterventionRecord | SubstanceRecord
        try:
            by = self._monitoring_by(self._participant_of(history.all, original_id))
            if kind is EntryKind.ADVERSE_EVENT:
                record = repository.correct_adverse_event(
                    original_id, None, reason=reason, recorded_at=now, voids=True, by=by
                )
            elif kind is EntryKind.INTERVENTION:
                record = repository.correct_intervention(
                    original_id, None, reason=reason, recorded_at=now, voids=True, by=by
                )
            else:
                record = repository.correct_substance_count(
                    original_id, None, witness_id=None, reason=reason, recorded_at=now,
                    voids=True, by=by,
                )  # fmt: skip
        except StorageError as exc:
            self.entry_failed.emit(f"NOT withdrawn. {exc}")
            return False
        self._add_adverse(kind, record)
        self.entry_saved.emit("Withdrawn — saved; the entry stays on the record, marked withdrawn.")
        return True

    def record_intervention(
        self,
        participant_id: uuid.UUID,
        *,
        kind: str,
        given_at: datetime | None = None,
        medications: tuple[RescueMedication, ...] = (),
        medication: str = "",
        dose_text: str = "",
        route: str = "",
        lot_number: str = "",
        flow_text: str = "",
        device: str = "",
        text: str = "",
        given_by: uuid.UUID | None = None,
        adverse_event_id: uuid.UUID | None = None,
        alert_id: uuid.UUID | None = None,
    ) -> EntryResult[InterventionRecord]:
        """An intervention for the participant (oxygen, a rescue medication of the clinic's
        list `medications`, repositioning, the prescriber called, other), optionally for an
        adverse event or an alert."""
        now = self.now()
        try:
            author = self._monitoring_by(participant_id)
            entry = check_intervention(
                kind=kind, given_at=now if given_at is None else given_at, now=now,
                medications=medications, medication=medication, dose_text=dose_text,
                route=route, lot_number=lot_number, flow_text=flow_text, device=device,
                text=text,
            )  # fmt: skip
            record = self._service.adverse.add_intervention(
                self.record.id,
                participant_id,
                entry,
                recorded_at=now,
                given_by=given_by or author,
                adverse_event_id=adverse_event_id,
                alert_id=alert_id,
                by=author,
            )
        except EntryInvalid as exc:
            return EntryResult(problems=exc.problems)
        except StorageError as exc:
            self.entry_failed.emit(f"Intervention NOT saved. {exc}")
            return EntryResult(message=str(exc))
        self._add_adverse(EntryKind.INTERVENTION, record)
        self.entry_saved.emit(
            f"Intervention ({record.title}) for {self._name(participant_id)} at "
            f"{_local_hm(record.occurred_at)} — saved."
        )
        return EntryResult(record)

    def record_substance_count(
        self,
        dose_id: uuid.UUID,
        *,
        drawn_text: str,
        given_text: str,
        wasted_text: str,
        witness_id: uuid.UUID | None,
        witness_pin: str,
        pins: PinService,
        comment: str = "",
    ) -> EntryResult[SubstanceRecord]:
        """A dose's controlled-substance count (Schedule III): mg drawn or dispensed, given and
        wasted. A waste is witnessed by a second staff member, who enters their PIN; the count
        is recorded by the participant's monitoring clinician (or who switched in)."""
        dose = next((d for d in self._state.doses.all if d.id == dose_id), None)
        if dose is None:
            return EntryResult(message="No such dose in this session.")
        try:
            author = self._monitoring_by(dose.participant_id)
        except NotAllowed as exc:
            self.entry_failed.emit(f"Count {exc}")
            return EntryResult(message=str(exc))
        try:
            count = check_substance_count(drawn_text, given_text, wasted_text)
        except EntryInvalid as exc:
            return EntryResult(problems=exc.problems)
        problem = witness_problem(author, witness_id, count.wasted_mg)
        if problem is not None:
            return EntryResult(problems=(EntryProblem("witness", problem),))
        if count.needs_witness:
            assert witness_id is not None
            check = pins.verify(
                witness_id,
                witness_pin,
                purpose="witness a controlled-substance waste",
                session_id=self.record.id,
                not_done="The count was not recorded.",
            )
            if not check.ok:
                return EntryResult(problems=(EntryProblem("pin", check.message),))
        try:
            record = self._service.adverse.add_substance_count(
                dose_id,
                count,
                witness_id=witness_id,
                comment=comment,
                recorded_at=self.now(),
                by=author,
            )
        except StorageError as exc:
            self.entry_failed.emit(f"Count NOT saved. {exc}")
            return EntryResult(message=str(exc))
        self._add_adverse(EntryKind.SUBSTANCE, record)
        self.entry_saved.emit(f"{record.title} — saved.")
        return EntryResult(record)


def with_rechecks(timeline: TimelineState, rechecks: Sequence[Recheck]) -> TimelineState:
    """The clock with the participant's rechecks after alerts in its due list, beside the
    protocol's check-ins (each as it stands at the clock's `now`). A recheck a reading has
    done leaves the list: it was never a slot of the schedule."""
    due = tuple(recheck.state(timeline.now) for recheck in rechecks if recheck.done_at is None)
    if not due:
        return timeline
    return dataclasses.replace(timeline, checkins=timeline.checkins + due)


def after_discharge(timeline: TimelineState, discharged_at: datetime | None) -> TimelineState:
    """A discharged participant's clock: nothing falls due for them any more. The check-ins
    not done and the rechecks leave its list (the tile, the nurse board, the check-in form);
    those done stay, for the record."""
    if discharged_at is None:
        return timeline
    done = tuple(c for c in timeline.checkins if c.status is CheckinStatus.DONE)
    return dataclasses.replace(timeline, checkins=done)


def state_owner(live: LiveSession, participant_id: uuid.UUID | None) -> uuid.UUID:
    """The participant whose clock an entry without one follows: the room's (the first)."""
    return participant_id if participant_id is not None else live.participants[0].id


def _phase_key(state: TimelineState) -> str | None:
    phase = state.current_phase
    return None if phase is None else phase.spec.key


def _local_hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")
