"""The clinical entries of a session (events, doses, readings, alerts, discharge, music) and
the audit trail, as plain, immutable records."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kapsession.domain.alert_followup import AlertAction, describe_follow_up
from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import READING_FIELDS, AlertHit, Reading

# An entry written this long after the time it describes is a late entry: both times are shown.
LATE_ENTRY_AFTER = timedelta(minutes=5)


def is_late(occurred_at: datetime, recorded_at: datetime) -> bool:
    """Whether an entry was written well after the moment it describes."""
    return recorded_at - occurred_at > LATE_ENTRY_AFTER


class EventKind(enum.StrEnum):
    """What a session event records (`session_event.kind`)."""

    SESSION_START = "session_start"
    PHASE_CHANGE = "phase_change"
    MARKER = "marker"
    CHECKIN = "checkin"
    ALERT = "alert"
    SESSION_END = "session_end"
    HOLD_DOSE_CAUTION = "hold_dose_caution"  # the baseline BP was above the caution limit
    HOLD_DOSE_OVERRIDE = "hold_dose_override"  # dosed despite a block (or no baseline)
    DEVICE_GIVEN = "device_given"  # intranasal: a device after the first of a dose
    DOSE_PLAN = "dose_plan"  # staggered dosing: the planned dose time of each participant
    DISCHARGE = "discharge"  # the participant left; the assessment is in discharge_assessment
    HANDOVER = "handover"  # another staff member took a place on the team (detail: role, from, to)
    # issue 16: a dose outside the order or a protocol limit, overridden by the prescriber
    # (detail: by, reason, deviations); a verbal order countersigned (detail: order_id)
    DOSE_OVERRIDE = "dose_override"
    ORDER_COUNTERSIGNED = "order_countersigned"
    # a dose that lasts (issue 16): detail names the dose (dose_id)
    HOLD_OUTCOME = "hold_outcome"  # sublingual: the hold ended, spat out or swallowed (outcome)
    INFUSION_PAUSE = "infusion_pause"  # IV: the infusion paused
    INFUSION_RESUME = "infusion_resume"
    INFUSION_STOP = "infusion_stop"  # IV: the infusion stopped (total_mg given)
    # a discharge before the minimum time (or with sedation or dissociation not resolved) on
    # the prescriber's override: a protocol deviation (detail: by, reason, shortfalls, summary)
    DISCHARGE_DEVIATION = "discharge_deviation"
    # issue 17: who takes the participant home (detail: name, relationship, phone, none)
    ESCORT = "escort"
    # issue 17: the screening before a participant's first dose (detail: the checklist's
    # version, each question with its answer and whether it passed); the prescriber's decision,
    # proceed or hold, on a failed screening or a PHQ-9 item 9 above zero (detail: gate,
    # subject_id, decision, reason, by, prescriber_id); a session started without the client's
    # current KAP treatment consent on the prescriber's override: a protocol deviation
    # (detail: why, reason, by, prescriber_id)
    SCREENING = "screening"
    DOSE_GATE_DECISION = "dose_gate_decision"
    CONSENT_OVERRIDE = "consent_override"


class DoseKind(enum.StrEnum):
    """A dose is the first of the session (T0) or a booster (`dose.kind`)."""

    INITIAL = "initial"
    BOOSTER = "booster"


@dataclass(frozen=True)
class EventRecord:
    """A session event (a marker, a phase change, the end …) as stored."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID | None
    kind: EventKind
    label: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None
    detail: dict[str, Any] = field(default_factory=dict)
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False


@dataclass(frozen=True)
class DoseRecord:
    """A dose as stored."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    kind: DoseKind
    occurred_at: datetime
    recorded_at: datetime
    medication: str | None
    route: str | None
    dose_mg: float | None
    lot_number: str | None
    given_by_id: uuid.UUID | None
    recorded_by_id: uuid.UUID | None
    detail: dict[str, Any] = field(default_factory=dict)
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False
    weight_kg: float | None = None
    dose_mg_per_kg: float | None = None
    device_count: int | None = None

    @property
    def is_late(self) -> bool:
        return is_late(self.occurred_at, self.recorded_at)


@dataclass(frozen=True)
class ObservationRecord:
    """One saved check-in reading; the measurements are the `Reading` fields, None = not taken."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    checkin_key: str | None
    occurred_at: datetime
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None
    values: dict[str, Any]  # Reading attribute -> stored value, for every Reading field
    on_room_air: bool | None = None
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False
    not_taken: tuple[str, ...] = ()  # required measures not taken (a partial check-in)

    @property
    def reading(self) -> Reading:
        """The stored values as a Reading (checked again, so it is always a real one)."""
        return Reading(**{name: self.values[name] for name in READING_FIELDS})

    @property
    def has_bp(self) -> bool:
        return (
            self.values["systolic_mmhg"] is not None and self.values["diastolic_mmhg"] is not None
        )

    @property
    def is_late(self) -> bool:
        return is_late(self.occurred_at, self.recorded_at)


@dataclass(frozen=True)
class AlertRecord:
    """A reading that met an alert rule, with its acknowledgement once a staff member gave it."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    observation_id: uuid.UUID
    field: str
    op: str
    threshold: float
    value: float
    label: str
    message: str
    raised_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by_id: uuid.UUID | None = None
    acknowledgement_comment: str = ""  # the intervention, the reason for no action, or a note
    reading_corrected: bool = False  # the reading behind it was corrected or voided since
    # What was done (an `AlertAction`: "rechecked", "intervention", "prescriber_informed",
    # "no_action"; "not_recorded" for acknowledgements before it was asked); "" while open.
    acknowledgement_action: str = ""

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def follow_up(self) -> str:
        """What was done, as the screen says it ("Intervention: clonidine 0.1 mg"); "" while
        open."""
        if self.acknowledged_at is None:
            return ""
        return describe_follow_up(self.acknowledgement_action, self.acknowledgement_comment)


@dataclass(frozen=True)
class SavedReading:
    """A reading as saved, with the alerts it raised (saved in the same transaction)."""

    observation: ObservationRecord
    alerts: tuple[AlertRecord, ...]
    hits: tuple[AlertHit, ...] = ()  # the rule hits behind `alerts`, in the same order


@dataclass(frozen=True)
class AcknowledgementRecord:
    """An alert's acknowledgement as stored."""

    id: uuid.UUID
    alert_id: uuid.UUID
    acknowledged_at: datetime
    staff_id: uuid.UUID
    comment: str  # the intervention given, the reason for no action, or a note
    action: str = AlertAction.NOT_RECORDED  # an `AlertAction`


@dataclass(frozen=True)
class ClientAlertRuleRecord:
    """A prescriber's alert threshold for one client."""

    id: uuid.UUID
    client_id: uuid.UUID
    field: str
    op: str
    value: float
    label: str
    created_at: datetime
    created_by_id: uuid.UUID | None
    retired_at: datetime | None = None

    @property
    def rule(self) -> AlertRule:
        return AlertRule(self.field, Comparison(self.op), self.value, self.label)


ALDRETE_ITEM_KEYS = ("activity", "breathing", "circulation", "consciousness", "spo2")


@dataclass(frozen=True)
class DischargeAssessmentRecord:
    """The discharge check of one participant as it was recorded."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    observation_id: uuid.UUID | None
    occurred_at: datetime
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None
    aldrete: dict[str, int | None]  # ALDRETE_ITEM_KEYS -> score; None = not scored
    aldrete_total: int
    on_room_air: bool
    checklist: dict[str, bool]
    ready: bool
    ready_minutes_after_first_dose: int | None
    problems: tuple[str, ...]
    override_reason: str | None = None
    override_by: str | None = None
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False


@dataclass(frozen=True)
class MusicEventRecord:
    """A music event (a track started, a fade …) as stored."""

    id: uuid.UUID
    session_id: uuid.UUID
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    track_path: str | None
    track_title: str | None
    playlist: str | None
    position_ms: int | None
    volume_pct: float | None
    phase_key: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    """An audit row: who did what to which entity, and when."""

    id: uuid.UUID
    occurred_at: datetime
    staff_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: str | None
    session_id: uuid.UUID | None
    detail: dict[str, Any]
