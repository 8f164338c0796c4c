"""The ORM's classes, mapped onto the Core tables of `schema.py`: what the writes that are not on
the hot path (doses, events, corrections, discharges, signatures, people) and the exports'
readers use.

The columns, their types, defaults and indexes are the tables' (`schema.py`); a class names its
columns again only as typed attributes, and adds its relationships. Importing this module loads
SQLAlchemy's ORM (a tenth of a second at start-up): the app imports it after its window is up
(`kapsession.storage.lazy_models`), the live session's reads use the tables alone. The ORM
refuses changes to append-only rows (`append_only.py`) as the database does.

No `from __future__ import annotations` here: with it every `Mapped[...]` annotation is a string
that SQLAlchemy evaluates when it maps the class. A class named before it is defined is quoted
(`Mapped[list["Course"]]`).
"""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from kapsession.storage import schema
from kapsession.storage.schema import APPEND_ONLY_TABLES, new_id, with_postgresql_options

__all__ = ["APPEND_ONLY_TABLES", "Base", "new_id", "with_postgresql_options"]


class Base(DeclarativeBase):
    metadata = schema.metadata


class Staff(Base):
    __tablename__ = "staff"
    __table__ = schema.staff

    id: Mapped[uuid.UUID]
    display_name: Mapped[str]
    role: Mapped[str]  # a StaffRole: therapist, nurse, prescriber, physician, lead ... (0009)
    credentials: Mapped[str]
    pin_hash: Mapped[str | None]
    active: Mapped[bool]
    created_at: Mapped[datetime]
    is_admin: Mapped[bool]  # the clinic administrator's account (0019)
    admin_passphrase_hash: Mapped[str | None]
    setup_code_hash: Mapped[str | None]


class Client(Base):
    __tablename__ = "client"
    __table__ = schema.client

    id: Mapped[uuid.UUID]
    given_name: Mapped[str]
    family_name: Mapped[str]
    date_of_birth: Mapped[date | None]
    record_number: Mapped[str | None]
    created_at: Mapped[datetime]

    courses: Mapped[list["Course"]] = relationship(back_populates="client")


class ClientProfileVersion(Base):
    """A saved version of a client's profile (0013); the newest is the profile as it stands."""

    __tablename__ = "client_profile"
    __table__ = schema.client_profile

    id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    preferred_name: Mapped[str]
    sex: Mapped[str | None]  # FHIR administrative gender
    gender_identity: Mapped[str]
    record_system: Mapped[str]
    phone: Mapped[str]
    email: Mapped[str]
    address: Mapped[str]
    emergency_name: Mapped[str]
    emergency_phone: Mapped[str]
    emergency_relationship: Mapped[str]
    referring_clinician: Mapped[str]
    allergies: Mapped[list[dict[str, str]] | None]  # None: not recorded; []: none known
    medications: Mapped[list[dict[str, Any]] | None]  # None: not recorded; []: none
    weight_kg: Mapped[float | None]
    weight_measured_on: Mapped[date | None]
    diagnoses: Mapped[list[dict[str, str]]]
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[uuid.UUID]
    replaces_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None]


class CoursePlanVersion(Base):
    """A saved version of a course's plan (0016); the newest is the plan as it stands."""

    __tablename__ = "course_plan"
    __table__ = schema.course_plan

    id: Mapped[uuid.UUID]
    course_id: Mapped[uuid.UUID]
    indication: Mapped[str]
    dosing_sessions: Mapped[int]
    medication: Mapped[str]
    route: Mapped[str]
    order_dose_mg: Mapped[float | None]
    order_dose_mg_per_kg: Mapped[float | None]
    order_boosters: Mapped[int | None]
    order_booster_mg: Mapped[float | None]
    order_booster_from_min: Mapped[float | None]
    order_booster_to_min: Mapped[float | None]
    order_max_total_mg: Mapped[float | None]
    ordered_by_id: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[uuid.UUID]
    replaces_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None]


class Course(Base):
    """A course of treatment: typically six dosing sessions over four to six weeks."""

    __tablename__ = "course"
    __table__ = schema.course

    id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    title: Mapped[str]
    planned_sessions: Mapped[int]
    started_on: Mapped[date]
    created_at: Mapped[datetime]

    client: Mapped[Client] = relationship(back_populates="courses")


class Session(Base):
    """One dosing session in one room, with its own clock and a snapshot of its protocol."""

    __tablename__ = "session"
    __table__ = schema.session

    id: Mapped[uuid.UUID]
    room: Mapped[str]
    modality: Mapped[str]  # individual | couples | group
    status: Mapped[str]  # planned|live|completed|signed
    protocol_key: Mapped[str]
    protocol_name: Mapped[str]
    protocol_version: Mapped[int]
    protocol_text: Mapped[str]  # the exact TOML the session started with
    protocol_sha256: Mapped[str]
    therapist_id: Mapped[uuid.UUID | None]
    nurse_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    prescriber_id: Mapped[uuid.UUID | None]  # the prescriber on site (0009)
    session_type: Mapped[str]  # a SessionType (0016): dosing for every earlier session

    participants: Mapped[list["Participant"]] = relationship(
        back_populates="session",
        order_by="Participant.position",
        foreign_keys="Participant.session_id",  # not follows_session_id (0016)
    )


class Participant(Base):
    """A client taking part in a session; couples and group sessions have several."""

    __tablename__ = "participant"
    __table__ = schema.participant

    id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    course_id: Mapped[uuid.UUID | None]
    position: Mapped[int]
    created_at: Mapped[datetime]
    monitor_id: Mapped[uuid.UUID | None]  # their own monitoring clinician (0009)
    follows_session_id: Mapped[uuid.UUID | None]  # integration: the dosing session (0016)

    session: Mapped[Session] = relationship(
        back_populates="participants", foreign_keys="Participant.session_id"
    )
    client: Mapped[Client] = relationship()


class _ClinicalEntry:
    """Columns every append-only clinical row has."""

    id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime]  # the time the entry describes
    recorded_at: Mapped[datetime]  # the time it was written (differs for a late entry)
    correction_reason: Mapped[str | None]
    voids: Mapped[bool]  # correction: entered in error


class SessionEvent(_ClinicalEntry, Base):
    """Something that happened on the session clock: start, phase change, marker, end ..."""

    __tablename__ = "session_event"
    __table__ = schema.session_event

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID | None]
    kind: Mapped[str]
    label: Mapped[str]
    detail: Mapped[dict[str, Any]]
    recorded_by_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]


class Dose(_ClinicalEntry, Base):
    """A dose given to one participant. The first one anchors T0 of their timeline."""

    __tablename__ = "dose"
    __table__ = schema.dose

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    kind: Mapped[str]  # initial | booster
    medication: Mapped[str | None]
    route: Mapped[str | None]
    dose_mg: Mapped[float | None]
    lot_number: Mapped[str | None]
    weight_kg: Mapped[float | None]  # the weight a mg/kg dose used
    dose_mg_per_kg: Mapped[float | None]
    device_count: Mapped[int | None]  # intranasal: devices in the dose
    given_by_id: Mapped[uuid.UUID | None]
    recorded_by_id: Mapped[uuid.UUID | None]
    detail: Mapped[dict[str, Any]]
    corrects_id: Mapped[uuid.UUID | None]


class DoseOrder(_ClinicalEntry, Base):
    """The prescriber's order for one participant's session (issue 16)."""

    __tablename__ = "dose_order"
    __table__ = schema.dose_order

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    medication: Mapped[str]
    route: Mapped[str]
    dose_mg: Mapped[float | None]
    dose_mg_per_kg: Mapped[float | None]
    boosters: Mapped[int]
    booster_mg: Mapped[float | None]
    booster_window_from_min: Mapped[float | None]
    booster_window_to_min: Mapped[float | None]
    max_total_mg: Mapped[float | None]
    ordered_by_id: Mapped[uuid.UUID]
    verbal: Mapped[bool]
    source: Mapped[str]
    recorded_by_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]


class Observation(_ClinicalEntry, Base):
    """A check-in reading for one participant: vitals and scales, any of them optional."""

    __tablename__ = "observation"
    __table__ = schema.observation

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    checkin_key: Mapped[str | None]
    systolic_mmhg: Mapped[int | None]
    diastolic_mmhg: Mapped[int | None]
    heart_rate_bpm: Mapped[int | None]
    spo2_pct: Mapped[int | None]
    resp_rate_per_min: Mapped[int | None]
    temperature_c: Mapped[float | None]
    moaas: Mapped[int | None]
    rass: Mapped[int | None]
    dissociation: Mapped[int | None]
    nausea: Mapped[int | None]
    emesis: Mapped[bool | None]
    suds: Mapped[int | None]
    comment: Mapped[str]
    on_room_air: Mapped[bool | None]  # False: on supplemental oxygen
    recorded_by_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]
    not_taken: Mapped[list[str]]  # required measures not taken: ["bp", "spo2"]


class Alert(Base):
    """A saved reading that met an alert rule; open until a staff member acknowledges it."""

    __tablename__ = "alert"
    __table__ = schema.alert

    id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    observation_id: Mapped[uuid.UUID]
    field: Mapped[str]  # a Reading attribute, e.g. "systolic_mmhg"
    op: Mapped[str]  # < <= > >=
    threshold: Mapped[float]
    value: Mapped[float]
    label: Mapped[str]  # the rule's label
    message: Mapped[str]
    raised_at: Mapped[datetime]
    position: Mapped[int]  # rule order within its reading


class AlertAcknowledgement(Base):
    """Who saw an alert, when, and what was done; an alert is acknowledged once."""

    __tablename__ = "alert_acknowledgement"
    __table__ = schema.alert_acknowledgement

    id: Mapped[uuid.UUID]
    alert_id: Mapped[uuid.UUID]
    acknowledged_at: Mapped[datetime]
    staff_id: Mapped[uuid.UUID]
    comment: Mapped[str]  # the intervention given, the reason for no action, or a note
    action: Mapped[str]  # an AlertAction; "not_recorded" for acknowledgements before 0010


class ClientAlertRule(Base):
    """A prescriber's threshold for one client, replacing or adding to the protocol's alerts.

    Configuration, not a clinical entry: retiring a rule sets `retired_at` (audited).
    """

    __tablename__ = "client_alert_rule"
    __table__ = schema.client_alert_rule

    id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    field: Mapped[str]
    op: Mapped[str]
    value: Mapped[float]
    label: Mapped[str]
    created_at: Mapped[datetime]
    created_by_id: Mapped[uuid.UUID | None]
    retired_at: Mapped[datetime | None]


class DischargeAssessment(_ClinicalEntry, Base):
    """The discharge check of one participant as recorded: Aldrete items, checklist, verdict."""

    __tablename__ = "discharge_assessment"
    __table__ = schema.discharge_assessment

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    observation_id: Mapped[uuid.UUID | None]
    recorded_by_id: Mapped[uuid.UUID | None]
    aldrete_activity: Mapped[int | None]
    aldrete_breathing: Mapped[int | None]
    aldrete_circulation: Mapped[int | None]
    aldrete_consciousness: Mapped[int | None]
    aldrete_spo2: Mapped[int | None]
    aldrete_total: Mapped[int]
    on_room_air: Mapped[bool]
    checklist: Mapped[dict[str, Any]]  # {item key: answered yes}
    ready: Mapped[bool]  # every item passed
    ready_minutes_after_first_dose: Mapped[int | None]
    problems: Mapped[list[str]]  # what did not pass
    override_reason: Mapped[str | None]
    override_by: Mapped[str | None]  # the clinician who decided
    corrects_id: Mapped[uuid.UUID | None]


class AdverseEvent(_ClinicalEntry, Base):
    """An adverse event of one participant (0012)."""

    __tablename__ = "adverse_event"
    __table__ = schema.adverse_event

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    kind: Mapped[str]  # an AdverseEventKind
    other: Mapped[str]
    severity: Mapped[str]  # FHIR adverse-event-severity
    seriousness: Mapped[str]  # FHIR adverse-event-seriousness
    outcome: Mapped[str]  # FHIR adverse-event-outcome
    resolved_at: Mapped[datetime | None]
    alert_id: Mapped[uuid.UUID | None]
    actions: Mapped[str]
    recorded_by_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]


class Intervention(_ClinicalEntry, Base):
    """An intervention for one participant: oxygen, a rescue medication ... (0012)."""

    __tablename__ = "intervention"
    __table__ = schema.intervention

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    kind: Mapped[str]  # an InterventionKind
    medication: Mapped[str | None]
    dose: Mapped[float | None]
    unit: Mapped[str | None]
    route: Mapped[str | None]
    lot_number: Mapped[str | None]
    flow_l_min: Mapped[float | None]
    device: Mapped[str | None]
    text: Mapped[str]
    given_by_id: Mapped[uuid.UUID | None]
    adverse_event_id: Mapped[uuid.UUID | None]
    alert_id: Mapped[uuid.UUID | None]
    recorded_by_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]


class ControlledSubstance(_ClinicalEntry, Base):
    """The controlled-substance count of one dose: drawn, given, wasted, the witness (0012)."""

    __tablename__ = "controlled_substance"
    __table__ = schema.controlled_substance

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID]
    dose_id: Mapped[uuid.UUID]
    medication: Mapped[str | None]
    drawn_mg: Mapped[float]
    given_mg: Mapped[float]
    wasted_mg: Mapped[float]
    witness_id: Mapped[uuid.UUID | None]
    comment: Mapped[str]
    recorded_by_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]


class OutcomeMeasure(_ClinicalEntry, Base):
    """One administration of PHQ-9, GAD-7 or PCL-5 for a client (0014)."""

    __tablename__ = "outcome_measure"
    __table__ = schema.outcome_measure

    client_id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID | None]  # None: given outside a session
    instrument: Mapped[str]  # an InstrumentKey
    answers: Mapped[list[int | None]]  # item 1 first; None: not answered
    total: Mapped[int | None]  # None: incomplete
    band: Mapped[str | None]
    entry_mode: Mapped[str]  # an EntryMode
    recorded_by_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]


class Consent(Base):
    """A version of a client's KAP treatment or touch consent (0015)."""

    __tablename__ = "consent"
    __table__ = schema.consent

    id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    kind: Mapped[str]  # a ConsentKind
    given: Mapped[bool]
    signed_on: Mapped[date]
    form_version: Mapped[str]
    witness_id: Mapped[uuid.UUID]
    expires_on: Mapped[date | None]
    withdrawn_on: Mapped[date | None]
    recorded_by_id: Mapped[uuid.UUID]
    corrects_id: Mapped[uuid.UUID | None]
    recorded_at: Mapped[datetime]
    correction_reason: Mapped[str | None]
    voids: Mapped[bool]


class Note(_ClinicalEntry, Base):
    """A therapist's timestamped note entry, session note or addendum: part of the record."""

    __tablename__ = "note"
    __table__ = schema.note

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID | None]
    kind: Mapped[str]  # entry|session_note|addendum
    text: Mapped[str]
    phase_key: Mapped[str | None]
    author_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]
    # where the entry sits on the session clock, as shown when it was written
    elapsed_s: Mapped[int | None]
    since_dose_s: Mapped[int | None]
    # a session note: its template and the text of each section, in the template's order
    template_key: Mapped[str | None]
    sections: Mapped[list[dict[str, str]] | None]


class PrivateNote(_ClinicalEntry, Base):
    """Psychotherapy notes (HIPAA 164.501): apart from the record, out of exports by default."""

    __tablename__ = "private_note"
    __table__ = schema.private_note

    session_id: Mapped[uuid.UUID]
    participant_id: Mapped[uuid.UUID | None]
    text: Mapped[str]
    author_id: Mapped[uuid.UUID | None]
    corrects_id: Mapped[uuid.UUID | None]
    phase_key: Mapped[str | None]
    elapsed_s: Mapped[int | None]
    since_dose_s: Mapped[int | None]


class NoteDraft(Base):
    """Text being typed and not yet committed: saved every second so a crash loses at most that.

    Not part of the record (it is working state, overwritten as the text changes); one row per
    session and pad. Cleared when the text is committed as an entry.
    """

    __tablename__ = "note_draft"
    __table__ = schema.note_draft

    id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID]
    pad: Mapped[str]  # record | private | session_note | addendum
    participant_id: Mapped[uuid.UUID | None]  # whose note (record and private pads)
    text: Mapped[str]
    sections: Mapped[list[dict[str, str]] | None]
    template_key: Mapped[str | None]
    author_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime]


class Signature(Base):
    """A staff member's signature on a part of a session's record, or on one addendum.

    `monitoring` (doses, vitals, discharge: the nurse's part) and `therapy` (notes and the
    session note: the therapist's part) are signed once each; with both the session is signed
    and locked. `content_sha256` is a digest of what was signed, so a later change would show.
    """

    __tablename__ = "signature"
    __table__ = schema.signature

    id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID]
    part: Mapped[str]  # monitoring | therapy | addendum
    staff_id: Mapped[uuid.UUID]
    signer_name: Mapped[str]  # name and credentials as signed
    signer_role: Mapped[str]
    signed_at: Mapped[datetime]
    meaning: Mapped[str]  # what the signer attests, in words
    content_sha256: Mapped[str]
    note_id: Mapped[uuid.UUID | None]  # the addendum
    public_key: Mapped[str | None]  # the signer's Ed25519 key, hex (0017; NULL before)
    signature: Mapped[str | None]  # Ed25519 over `signatures.signed_digest`, hex


class StaffSigningKey(Base):
    """A staff member's Ed25519 key pair, the private key sealed by their signing passphrase
    (0017). Append-only; the newest signs, the older verify what they signed."""

    __tablename__ = "staff_signing_key"
    __table__ = schema.staff_signing_key

    id: Mapped[uuid.UUID]
    staff_id: Mapped[uuid.UUID]
    public_key: Mapped[str]
    sealed_private_key: Mapped[str]
    salt: Mapped[str]
    kdf: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class MusicEvent(Base):
    """What played when: track start/end, skip, pause, volume, playlist and phase transitions."""

    __tablename__ = "music_event"
    __table__ = schema.music_event

    id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID]
    kind: Mapped[str]
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    track_path: Mapped[str | None]
    track_title: Mapped[str | None]
    playlist: Mapped[str | None]
    position_ms: Mapped[int | None]
    volume_pct: Mapped[float | None]
    phase_key: Mapped[str | None]
    detail: Mapped[dict[str, Any]]


class AuditEntry(Base):
    """Who did what to the record, and when. Written with every change, sign-off and export."""

    __tablename__ = "audit_entry"
    __table__ = schema.audit_entry

    id: Mapped[uuid.UUID]
    occurred_at: Mapped[datetime]
    staff_id: Mapped[uuid.UUID | None]
    action: Mapped[str]
    entity: Mapped[str]
    entity_id: Mapped[str | None]
    session_id: Mapped[uuid.UUID | None]
    detail: Mapped[dict[str, Any]]
