"""The database schema as typed SQLAlchemy 2 models.

Clinical rows (doses, observations, alerts and their acknowledgements, discharge assessments,
notes, private notes, session events, music events, audit entries) are append-only: a correction
is a new row whose `corrects_id` points at the original, with a reason. The database refuses
UPDATE and DELETE on those tables (triggers created by the migrations), and the ORM refuses them
too (`append_only.py`).

No `from __future__ import annotations` here: with it every `Mapped[...]` annotation is a string
that SQLAlchemy evaluates when it maps the class, a sixth of this module's import (7 ms of the
app's start). A class named before it is defined is quoted (`Mapped[list["Course"]]`).
"""

import uuid
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy import text as text_clause
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kapsession.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


SIGNED_ONCE = "part <> 'addendum'"  # a part is signed once; addenda as often as needed


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))  # therapist | nurse | prescriber | lead
    credentials: Mapped[str] = mapped_column(String(60), default="")
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Client(Base):
    __tablename__ = "client"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    record_number: Mapped[str | None] = mapped_column(String(60), unique=True)
    created_at: Mapped[datetime]

    courses: Mapped[list["Course"]] = relationship(back_populates="client")


class Course(Base):
    """A course of treatment: typically six dosing sessions over four to six weeks."""

    __tablename__ = "course"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    planned_sessions: Mapped[int] = mapped_column(Integer, default=6)
    started_on: Mapped[date]
    created_at: Mapped[datetime]

    client: Mapped[Client] = relationship(back_populates="courses")


class Session(Base):
    """One dosing session in one room, with its own clock and a snapshot of its protocol."""

    __tablename__ = "session"
    # the start screen's recently signed sessions: their ends read from the index (0006)
    __table_args__ = (Index("ix_session_status_ended", "status", "ended_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    room: Mapped[str] = mapped_column(String(60), default="")
    modality: Mapped[str] = mapped_column(String(20))  # individual | couples | group
    status: Mapped[str] = mapped_column(String(20), index=True)  # planned|live|completed|signed
    protocol_key: Mapped[str] = mapped_column(String(80))
    protocol_name: Mapped[str] = mapped_column(String(200))
    protocol_version: Mapped[int] = mapped_column(Integer)
    protocol_text: Mapped[str] = mapped_column(Text)  # the exact TOML the session started with
    protocol_sha256: Mapped[str] = mapped_column(String(64))
    therapist_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    nurse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    participants: Mapped[list["Participant"]] = relationship(
        back_populates="session", order_by="Participant.position"
    )


class Participant(Base):
    """A client taking part in a session; couples and group sessions have several."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("session_id", "client_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"), index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    course_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("course.id"))
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]

    session: Mapped[Session] = relationship(back_populates="participants")
    client: Mapped[Client] = relationship()


class _ClinicalEntry:
    """Columns every append-only clinical row has."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    occurred_at: Mapped[datetime]  # the time the entry describes
    recorded_at: Mapped[datetime]  # the time it was written (differs for a late entry)
    correction_reason: Mapped[str | None] = mapped_column(Text)
    voids: Mapped[bool] = mapped_column(Boolean, default=False)  # correction: entered in error


class SessionEvent(_ClinicalEntry, Base):
    """Something that happened on the session clock: start, phase change, marker, end ..."""

    __tablename__ = "session_event"
    __table_args__ = (Index("ix_session_event_session_time", "session_id", "occurred_at"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    participant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participant.id"))
    kind: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("session_event.id"))


class Dose(_ClinicalEntry, Base):
    """A dose given to one participant. The first one anchors T0 of their timeline."""

    __tablename__ = "dose"
    __table_args__ = (Index("ix_dose_session_time", "session_id", "occurred_at"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"))
    kind: Mapped[str] = mapped_column(String(20), default="initial")  # initial | booster
    medication: Mapped[str | None] = mapped_column(String(40))
    route: Mapped[str | None] = mapped_column(String(40))
    dose_mg: Mapped[float | None] = mapped_column(Float)
    lot_number: Mapped[str | None] = mapped_column(String(60))
    weight_kg: Mapped[float | None] = mapped_column(Float)  # the weight a mg/kg dose used
    dose_mg_per_kg: Mapped[float | None] = mapped_column(Float)
    device_count: Mapped[int | None] = mapped_column(Integer)  # intranasal: devices in the dose
    given_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dose.id"))


class Observation(_ClinicalEntry, Base):
    """A check-in reading for one participant: vitals and scales, any of them optional."""

    __tablename__ = "observation"
    __table_args__ = (Index("ix_observation_session_time", "session_id", "occurred_at"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"))
    checkin_key: Mapped[str | None] = mapped_column(String(60))
    systolic_mmhg: Mapped[int | None] = mapped_column(Integer)
    diastolic_mmhg: Mapped[int | None] = mapped_column(Integer)
    heart_rate_bpm: Mapped[int | None] = mapped_column(Integer)
    spo2_pct: Mapped[int | None] = mapped_column(Integer)
    resp_rate_per_min: Mapped[int | None] = mapped_column(Integer)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    moaas: Mapped[int | None] = mapped_column(Integer)
    rass: Mapped[int | None] = mapped_column(Integer)
    dissociation: Mapped[int | None] = mapped_column(Integer)
    nausea: Mapped[int | None] = mapped_column(Integer)
    emesis: Mapped[bool | None] = mapped_column(Boolean)
    suds: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    on_room_air: Mapped[bool | None] = mapped_column(Boolean)  # False: on supplemental oxygen
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("observation.id"))


class Alert(Base):
    """A saved reading that met an alert rule; open until a staff member acknowledges it."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_session_time", "session_id", "raised_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"))
    observation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("observation.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))  # a Reading attribute, e.g. "systolic_mmhg"
    op: Mapped[str] = mapped_column(String(4))  # < <= > >=
    threshold: Mapped[float] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(Text, default="")  # the rule's label
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    position: Mapped[int] = mapped_column(Integer, default=0)  # rule order within its reading


class AlertAcknowledgement(Base):
    """Who saw an alert and when; an alert is acknowledged once."""

    __tablename__ = "alert_acknowledgement"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alert.id"), unique=True)
    acknowledged_at: Mapped[datetime]
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    comment: Mapped[str] = mapped_column(Text, default="")


class ClientAlertRule(Base):
    """A prescriber's threshold for one client, replacing or adding to the protocol's alerts.

    Configuration, not a clinical entry: retiring a rule sets `retired_at` (audited).
    """

    __tablename__ = "client_alert_rule"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    op: Mapped[str] = mapped_column(String(4))
    value: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    retired_at: Mapped[datetime | None]


class DischargeAssessment(_ClinicalEntry, Base):
    """The discharge check of one participant as recorded: Aldrete items, checklist, verdict."""

    __tablename__ = "discharge_assessment"
    __table_args__ = (Index("ix_discharge_assessment_session_time", "session_id", "occurred_at"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"))
    observation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("observation.id"))
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    aldrete_activity: Mapped[int | None] = mapped_column(Integer)
    aldrete_breathing: Mapped[int | None] = mapped_column(Integer)
    aldrete_circulation: Mapped[int | None] = mapped_column(Integer)
    aldrete_consciousness: Mapped[int | None] = mapped_column(Integer)
    aldrete_spo2: Mapped[int | None] = mapped_column(Integer)
    aldrete_total: Mapped[int] = mapped_column(Integer)
    on_room_air: Mapped[bool] = mapped_column(Boolean)
    checklist: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {item key: answered yes}
    ready: Mapped[bool] = mapped_column(Boolean)  # every item passed
    ready_minutes_after_first_dose: Mapped[int | None] = mapped_column(Integer)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)  # what did not pass
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(120))  # the clinician who decided
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("discharge_assessment.id"))


class Note(_ClinicalEntry, Base):
    """A therapist's timestamped note entry, session note or addendum: part of the record."""

    __tablename__ = "note"
    __table_args__ = (Index("ix_note_session_time", "session_id", "occurred_at"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    participant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participant.id"))
    kind: Mapped[str] = mapped_column(String(20), default="entry")  # entry|session_note|addendum
    text: Mapped[str] = mapped_column(Text)
    phase_key: Mapped[str | None] = mapped_column(String(60))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("note.id"))
    # where the entry sits on the session clock, as shown when it was written
    elapsed_s: Mapped[int | None] = mapped_column(Integer)
    since_dose_s: Mapped[int | None] = mapped_column(Integer)
    # a session note: its template and the text of each section, in the template's order
    template_key: Mapped[str | None] = mapped_column(String(60))
    sections: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)


class PrivateNote(_ClinicalEntry, Base):
    """Psychotherapy notes (HIPAA 164.501): apart from the record, out of exports by default."""

    __tablename__ = "private_note"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"), index=True)
    participant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("participant.id"))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("private_note.id"))
    phase_key: Mapped[str | None] = mapped_column(String(60))
    elapsed_s: Mapped[int | None] = mapped_column(Integer)
    since_dose_s: Mapped[int | None] = mapped_column(Integer)


class NoteDraft(Base):
    """Text being typed and not yet committed: saved every second so a crash loses at most that.

    Not part of the record (it is working state, overwritten as the text changes); one row per
    session and pad. Cleared when the text is committed as an entry.
    """

    __tablename__ = "note_draft"
    __table_args__ = (UniqueConstraint("session_id", "pad"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    pad: Mapped[str] = mapped_column(String(20))  # record | private | session_note | addendum
    text: Mapped[str] = mapped_column(Text, default="")
    sections: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    template_key: Mapped[str | None] = mapped_column(String(60))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime]


class Signature(Base):
    """A staff member's signature on a part of a session's record, or on one addendum.

    `monitoring` (doses, vitals, discharge: the nurse's part) and `therapy` (notes and the
    session note: the therapist's part) are signed once each; with both the session is signed
    and locked. `content_sha256` is a digest of what was signed, so a later change would show.
    """

    __tablename__ = "signature"
    __table_args__ = (
        Index(
            "uq_signature_session_part",
            "session_id",
            "part",
            unique=True,
            sqlite_where=text_clause(SIGNED_ONCE),
            # postgresql_where: added by with_postgresql_options()
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"), index=True)
    part: Mapped[str] = mapped_column(String(20))  # monitoring | therapy | addendum
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    signer_name: Mapped[str] = mapped_column(String(200))  # name and credentials as signed
    signer_role: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[datetime]
    meaning: Mapped[str] = mapped_column(Text)  # what the signer attests, in words
    content_sha256: Mapped[str] = mapped_column(String(64))
    note_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("note.id"))  # the addendum


class MusicEvent(Base):
    """What played when: track start/end, skip, pause, volume, playlist and phase transitions."""

    __tablename__ = "music_event"
    __table_args__ = (Index("ix_music_event_session_time", "session_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("session.id"))
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    track_path: Mapped[str | None] = mapped_column(Text)
    track_title: Mapped[str | None] = mapped_column(Text)
    playlist: Mapped[str | None] = mapped_column(Text)
    position_ms: Mapped[int | None] = mapped_column(Integer)
    volume_pct: Mapped[float | None] = mapped_column(Float)
    phase_key: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditEntry(Base):
    """Who did what to the record, and when. Written with every change, sign-off and export."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_session_time", "session_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    occurred_at: Mapped[datetime]
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("session.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


APPEND_ONLY_TABLES: tuple[str, ...] = (
    "session_event",
    "dose",
    "observation",
    "note",
    "private_note",
    "music_event",
    "audit_entry",
    "alert",
    "alert_acknowledgement",
    "discharge_assessment",
    "signature",
)


def with_postgresql_options() -> MetaData:
    """The models' metadata with their PostgreSQL-only options (the WHERE of the partial unique
    index on signatures), for the migrations. Not named in the classes: naming a PostgreSQL
    option loads SQLAlchemy's PostgreSQL dialect, which opening a SQLite database does without
    (about 20 ms of every start)."""
    indexes = Base.metadata.tables[Signature.__tablename__].indexes
    index = next(i for i in indexes if i.name == "uq_signature_session_part")
    index.dialect_options["postgresql"]["where"] = text_clause(SIGNED_ONCE)
    return Base.metadata
