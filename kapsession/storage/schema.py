"""The database schema as SQLAlchemy Core tables: what every read and write names.

Clinical rows (doses, observations, alerts and their acknowledgements, discharge assessments,
notes, private notes, session events, music events, audit entries, signatures) are append-only:
a correction is a new row whose `corrects_id` points at the original, with a reason; the
database refuses UPDATE and DELETE on those tables (triggers created by the migrations). Every
clinical entry has `id`, `occurred_at` (the time it describes), `recorded_at` (when it was
written: they differ for a late entry), `correction_reason` and `voids` (a correction that takes
the entry back: entered in error).

Core, not the ORM: the app reads a live session and its start screen through these tables
alone, so that SQLAlchemy's ORM and the mapped classes (`models.py`, mapped onto these tables)
load after the window is up. The migrations are written by hand (`migrations/versions`);
`tests/storage/test_storage_open.py` checks that they build exactly these tables.
"""

from __future__ import annotations

import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)

from kapsession.storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SIGNED_ONCE = "part <> 'addendum'"  # a part is signed once; addenda as often as needed

metadata = MetaData(naming_convention=NAMING)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


# People who work in the room; `role` is a `domain.roles.StaffRole` (therapist, nurse, prescriber,
# physician, lead, administrator or other: migration 0009).
staff = Table(
    "staff",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("display_name", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("credentials", String(60), default="", nullable=False),
    Column("pin_hash", String(200)),
    Column("active", Boolean(), default=True, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # issue 18 (0019): the clinic administrator's account and passphrase (Argon2id), and the
    # one-time setup code of an account whose PIN is not set yet (Argon2id; cleared when set)
    Column("is_admin", Boolean(), default=False, server_default=false(), nullable=False),
    Column("admin_passphrase_hash", String(200)),
    Column("setup_code_hash", String(200)),
)

client = Table(
    "client",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("given_name", String(120), nullable=False),
    Column("family_name", String(120), nullable=False),
    Column("date_of_birth", Date()),
    Column("record_number", String(60), unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# A course of treatment: typically six dosing sessions over four to six weeks.
course = Table(
    "course",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("client_id", Uuid(), ForeignKey("client.id"), nullable=False, index=True),
    Column("title", String(120), nullable=False),
    Column("planned_sessions", Integer(), default=6, nullable=False),
    Column("started_on", Date(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# One dosing session in one room, with its own clock and a snapshot of its protocol
# (`protocol_text`: the exact TOML it started with). The start screen's recently signed sessions
# read their ends from ix_session_status_ended (0006). Its team as it stands (0009): the
# therapist, the monitoring clinician (`nurse_id`: of every participant without their own
# `participant.monitor_id`) and the prescriber on site; a handover changes them and is a
# `handover` event of the session.
session = Table(
    "session",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("room", String(60), default="", nullable=False),
    Column("modality", String(20), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("protocol_key", String(80), nullable=False),
    Column("protocol_name", String(200), nullable=False),
    Column("protocol_version", Integer(), nullable=False),
    Column("protocol_text", Text(), nullable=False),
    Column("protocol_sha256", String(64), nullable=False),
    Column("therapist_id", Uuid(), ForeignKey("staff.id")),
    Column("nurse_id", Uuid(), ForeignKey("staff.id")),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("started_at", UTCDateTime()),
    Column("ended_at", UTCDateTime()),
    Column("prescriber_id", Uuid(), ForeignKey("staff.id")),
    # issue 17 (0016): consultation | preparation | dosing | integration | follow-up, the type
    # of its protocol; every earlier session is a dosing session
    Column(
        "session_type",
        String(20),
        default="dosing",
        server_default=text("'dosing'"),
        nullable=False,
    ),
    Index("ix_session_status_ended", "status", "ended_at"),
)

# A client taking part in a session; couples and group sessions have several.
participant = Table(
    "participant",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False, index=True),
    Column("client_id", Uuid(), ForeignKey("client.id"), nullable=False, index=True),
    Column("course_id", Uuid(), ForeignKey("course.id")),
    Column("position", Integer(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("monitor_id", Uuid(), ForeignKey("staff.id")),
    # issue 17 (0016): in an integration session, the dosing session it follows
    Column("follows_session_id", Uuid(), ForeignKey("session.id")),
    UniqueConstraint("session_id", "client_id"),
)

# Something that happened on the session clock: start, phase change, marker, end ...
session_event = Table(
    "session_event",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id")),
    Column("kind", String(40), nullable=False),
    Column("label", Text(), default="", nullable=False),
    Column("detail", JSON(), default=dict, nullable=False),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("session_event.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_session_event_session_time", "session_id", "occurred_at"),
)

# A dose given to one participant. The first one anchors T0 of their timeline.
dose = Table(
    "dose",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("kind", String(20), default="initial", nullable=False),
    Column("medication", String(40)),
    Column("route", String(40)),
    Column("dose_mg", Float()),
    Column("lot_number", String(60)),
    Column("weight_kg", Float()),
    Column("dose_mg_per_kg", Float()),
    Column("device_count", Integer()),
    Column("given_by_id", Uuid(), ForeignKey("staff.id")),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("detail", JSON(), default=dict, nullable=False),
    Column("corrects_id", Uuid(), ForeignKey("dose.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_dose_session_time", "session_id", "occurred_at"),
)

# The prescriber's order for one participant's dosing session (migration 0011, issue 16): the
# dose (mg or mg/kg), the boosters it allows (how many, each one's mg, the window in minutes
# after the first dose), the session's maximum, who ordered it and when (`occurred_at`), and
# whether it was a verbal order (countersigned later: an `order_countersigned` event). `source`:
# session_start | course_plan. An entry like the others: corrected by a new row.
dose_order = Table(
    "dose_order",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("medication", String(40), nullable=False),
    Column("route", String(40), nullable=False),
    Column("dose_mg", Float()),
    Column("dose_mg_per_kg", Float()),
    Column("boosters", Integer(), default=0, nullable=False),
    Column("booster_mg", Float()),
    Column("booster_window_from_min", Float()),
    Column("booster_window_to_min", Float()),
    Column("max_total_mg", Float()),
    Column("ordered_by_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("verbal", Boolean(), default=False, nullable=False),
    Column("source", String(20), default="session_start", nullable=False),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("dose_order.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_dose_order_session_time", "session_id", "occurred_at"),
)

# A check-in reading for one participant: vitals and scales, any of them optional.
# `on_room_air` False: on supplemental oxygen.
observation = Table(
    "observation",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("checkin_key", String(60)),
    Column("systolic_mmhg", Integer()),
    Column("diastolic_mmhg", Integer()),
    Column("heart_rate_bpm", Integer()),
    Column("spo2_pct", Integer()),
    Column("resp_rate_per_min", Integer()),
    Column("temperature_c", Float()),
    Column("moaas", Integer()),
    Column("rass", Integer()),
    Column("dissociation", Integer()),
    Column("nausea", Integer()),
    Column("emesis", Boolean()),
    Column("suds", Integer()),
    Column("comment", Text(), default="", nullable=False),
    Column("on_room_air", Boolean()),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("observation.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    # The measures its check-in required that were not taken (a partial check-in), as the
    # protocol names them: ["bp", "spo2"]; [] for a complete one, and for rows before 0008.
    Column("not_taken", JSON(), default=list, server_default=text("'[]'"), nullable=False),
    Index("ix_observation_session_time", "session_id", "occurred_at"),
)

# A saved reading that met an alert rule (`field` a Reading attribute, `op` one of < <= > >=,
# `position` the rule's order within its reading); open until a staff member acknowledges it.
alert = Table(
    "alert",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("observation_id", Uuid(), ForeignKey("observation.id"), nullable=False, index=True),
    Column("field", String(40), nullable=False),
    Column("op", String(4), nullable=False),
    Column("threshold", Float(), nullable=False),
    Column("value", Float(), nullable=False),
    Column("label", Text(), default="", nullable=False),
    Column("message", Text(), nullable=False),
    Column("raised_at", UTCDateTime(), nullable=False),
    Column("position", Integer(), default=0, nullable=False),
    Index("ix_alert_session_time", "session_id", "raised_at"),
)

# Who saw an alert, when, and what was done (`action`: rechecked, intervention,
# prescriber_informed, no_action; "not_recorded" for rows before 0010); the intervention given
# or the reason for no action is its `comment`. An alert is acknowledged once.
alert_acknowledgement = Table(
    "alert_acknowledgement",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("alert_id", Uuid(), ForeignKey("alert.id"), nullable=False, unique=True),
    Column("acknowledged_at", UTCDateTime(), nullable=False),
    Column("staff_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("comment", Text(), default="", nullable=False),
    Column("action", String(24), server_default=text("'not_recorded'"), nullable=False),
)

# A prescriber's threshold for one client, replacing or adding to the protocol's alerts.
# Configuration, not a clinical entry: retiring a rule sets `retired_at` (audited).
client_alert_rule = Table(
    "client_alert_rule",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("client_id", Uuid(), ForeignKey("client.id"), nullable=False, index=True),
    Column("field", String(40), nullable=False),
    Column("op", String(4), nullable=False),
    Column("value", Float(), nullable=False),
    Column("label", Text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by_id", Uuid(), ForeignKey("staff.id")),
    Column("retired_at", UTCDateTime()),
)

# The discharge check of one participant as recorded: Aldrete items, checklist ({item key:
# answered yes}), verdict (`ready`: every item passed; `problems`: what did not), and who decided
# an override (`override_by`).
discharge_assessment = Table(
    "discharge_assessment",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("observation_id", Uuid(), ForeignKey("observation.id")),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("aldrete_activity", Integer()),
    Column("aldrete_breathing", Integer()),
    Column("aldrete_circulation", Integer()),
    Column("aldrete_consciousness", Integer()),
    Column("aldrete_spo2", Integer()),
    Column("aldrete_total", Integer(), nullable=False),
    Column("on_room_air", Boolean(), nullable=False),
    Column("checklist", JSON(), default=dict, nullable=False),
    Column("ready", Boolean(), nullable=False),
    Column("ready_minutes_after_first_dose", Integer()),
    Column("problems", JSON(), default=list, nullable=False),
    Column("override_reason", Text()),
    Column("override_by", String(120)),
    Column("corrects_id", Uuid(), ForeignKey("discharge_assessment.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_discharge_assessment_session_time", "session_id", "occurred_at"),
)

# A therapist's timestamped note entry, session note or addendum: part of the record. `kind`:
# entry | session_note | addendum; `elapsed_s`, `since_dose_s`: where the entry sits on the
# session clock as shown when it was written; a session note's template and the text of each
# section in `sections`, in the template's order.
note = Table(
    "note",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id")),
    Column("kind", String(20), default="entry", nullable=False),
    Column("text", Text(), nullable=False),
    Column("phase_key", String(60)),
    Column("author_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("note.id")),
    Column("elapsed_s", Integer()),
    Column("since_dose_s", Integer()),
    Column("template_key", String(60)),
    Column("sections", JSON()),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_note_session_time", "session_id", "occurred_at"),
)

# Psychotherapy notes (HIPAA 164.501): apart from the record, out of exports by default.
private_note = Table(
    "private_note",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False, index=True),
    Column("participant_id", Uuid(), ForeignKey("participant.id")),
    Column("text", Text(), nullable=False),
    Column("author_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("private_note.id")),
    Column("phase_key", String(60)),
    Column("elapsed_s", Integer()),
    Column("since_dose_s", Integer()),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
)

# Text being typed and not yet committed: saved every second so a crash loses at most that.
# Not part of the record (working state, overwritten as the text changes); one row per session
# and pad (record | private | session_note | addendum), cleared when the text is committed.
# `participant_id`: whose note the text is (record and private pads; migration 0007), so a draft
# restored after a crash is committed for them, whoever is selected then.
note_draft = Table(
    "note_draft",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("pad", String(20), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id")),
    Column("text", Text(), default="", nullable=False),
    Column("sections", JSON()),
    Column("template_key", String(60)),
    Column("author_id", Uuid(), ForeignKey("staff.id")),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("session_id", "pad"),
)

# A staff member's signature on a part of a session's record, or on one addendum (`note_id`).
# `monitoring` (doses, vitals, discharge: the nurse's part) and `therapy` (notes and the session
# note: the therapist's part) are signed once each; with both the session is signed and locked.
# `content_sha256` is a digest of what was signed, so a later change would show.
signature = Table(
    "signature",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False, index=True),
    Column("part", String(20), nullable=False),
    Column("staff_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("signer_name", String(200), nullable=False),
    Column("signer_role", String(20), nullable=False),
    Column("signed_at", UTCDateTime(), nullable=False),
    Column("meaning", Text(), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("note_id", Uuid(), ForeignKey("note.id")),
    # issue 18 (0018): the signer's Ed25519 public key (hex) and the signature (hex) over the
    # digest of what the signature covers (`signatures.signed_digest`); NULL for a signature
    # made before signatures were bound to a person
    Column("public_key", String(64)),
    Column("signature", String(128)),
    Index(
        "uq_signature_session_part",
        "session_id",
        "part",
        unique=True,
        sqlite_where=text(SIGNED_ONCE),
    ),
)

# What played when: track start/end, skip, pause, volume, playlist and phase transitions.
music_event = Table(
    "music_event",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("track_path", Text()),
    Column("track_title", Text()),
    Column("playlist", Text()),
    Column("position_ms", Integer()),
    Column("volume_pct", Float()),
    Column("phase_key", String(60)),
    Column("detail", JSON(), default=dict, nullable=False),
    Index("ix_music_event_session_time", "session_id", "occurred_at"),
)

# Who did what to the record, and when. Written with every change, sign-off and export.
audit_entry = Table(
    "audit_entry",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("staff_id", Uuid(), ForeignKey("staff.id")),
    Column("action", String(60), nullable=False),
    Column("entity", String(40), nullable=False),
    Column("entity_id", String(40)),
    Column("session_id", Uuid(), ForeignKey("session.id")),
    Column("detail", JSON(), default=dict, nullable=False),
    Index("ix_audit_entry_session_time", "session_id", "occurred_at"),
)

# An adverse event of one participant (issue 16): `kind` an `AdverseEventKind` ("other" with
# what it was in `other`), `severity`, `seriousness` and `outcome` the FHIR R4 AdverseEvent codes,
# `occurred_at` its onset, `resolved_at` when it resolved, the alert it follows (`alert_id`) and
# what was done (`actions`). Updated later (resolution, outcome) by a correction.
adverse_event = Table(
    "adverse_event",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("other", Text(), default="", nullable=False),
    Column("severity", String(20), nullable=False),
    Column("seriousness", String(20), nullable=False),
    Column("outcome", String(30), nullable=False),
    Column("resolved_at", UTCDateTime()),
    Column("alert_id", Uuid(), ForeignKey("alert.id")),
    Column("actions", Text(), default="", nullable=False),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("adverse_event.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_adverse_event_session_time", "session_id", "occurred_at"),
)

# An intervention for one participant (issue 16): `kind` oxygen (`flow_l_min`, `device`),
# rescue_medication (`medication` of the clinic's list, `dose` in `unit`, `route`, `lot_number`,
# `given_by_id`), repositioning, prescriber_called or other (`text`: what was done or said);
# optionally for an adverse event (`adverse_event_id`: the version it was entered against) or an
# alert.
intervention = Table(
    "intervention",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("medication", String(80)),
    Column("dose", Float()),
    Column("unit", String(10)),
    Column("route", String(60)),
    Column("lot_number", String(60)),
    Column("flow_l_min", Float()),
    Column("device", String(60)),
    Column("text", Text(), default="", nullable=False),
    Column("given_by_id", Uuid(), ForeignKey("staff.id")),
    Column("adverse_event_id", Uuid(), ForeignKey("adverse_event.id")),
    Column("alert_id", Uuid(), ForeignKey("alert.id")),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("intervention.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_intervention_session_time", "session_id", "occurred_at"),
)

# The controlled-substance count of one dose (Schedule III; issue 16): mg drawn or dispensed,
# given and wasted; a waste witnessed by a second staff member (`witness_id`, their PIN checked
# when it was recorded). `dose_id`: the version of the dose it was entered against.
controlled_substance = Table(
    "controlled_substance",
    metadata,
    Column("session_id", Uuid(), ForeignKey("session.id"), nullable=False),
    Column("participant_id", Uuid(), ForeignKey("participant.id"), nullable=False),
    Column("dose_id", Uuid(), ForeignKey("dose.id"), nullable=False),
    Column("medication", String(40)),
    Column("drawn_mg", Float(), nullable=False),
    Column("given_mg", Float(), nullable=False),
    Column("wasted_mg", Float(), nullable=False),
    Column("witness_id", Uuid(), ForeignKey("staff.id")),
    Column("comment", Text(), default="", nullable=False),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("controlled_substance.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_controlled_substance_session_time", "session_id", "occurred_at"),
)

# A version of a client's profile (issue 17, migration 0013): one row per save, never changed;
# the newest is the profile as it stands, the others its history. Lists are JSON: `allergies`
# and `medications` NULL for "not recorded", [] for "none"; `replaces_id` the version it
# replaced, with the `reason`. A client without a row has nothing recorded.
client_profile = Table(
    "client_profile",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("client_id", Uuid(), ForeignKey("client.id"), nullable=False),
    Column("preferred_name", Text(), default="", nullable=False),
    Column("sex", String(10)),  # FHIR administrative gender; NULL: not recorded
    Column("gender_identity", Text(), default="", nullable=False),
    Column("record_system", Text(), default="", nullable=False),
    Column("phone", Text(), default="", nullable=False),
    Column("email", Text(), default="", nullable=False),
    Column("address", Text(), default="", nullable=False),
    Column("emergency_name", Text(), default="", nullable=False),
    Column("emergency_phone", Text(), default="", nullable=False),
    Column("emergency_relationship", Text(), default="", nullable=False),
    Column("referring_clinician", Text(), default="", nullable=False),
    Column("allergies", JSON(none_as_null=True)),
    Column("medications", JSON(none_as_null=True)),
    Column("weight_kg", Float()),
    Column("weight_measured_on", Date()),
    Column("diagnoses", JSON(), default=list, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("replaces_id", Uuid(), ForeignKey("client_profile.id"), unique=True),
    Column("reason", Text()),
    Index("ix_client_profile_client_time", "client_id", "recorded_at"),
)

# One administration of an outcome measure (issue 17, migration 0014): PHQ-9, GAD-7 or PCL-5
# (`instrument`, a `domain.questionnaires.InstrumentKey`) for a client, in a session
# (`session_id`; NULL: outside one), when it was administered (`occurred_at`), who entered it
# and how (`entry_mode`: staff_paper | client_screen). `answers` is a JSON list, item 1 first,
# null for an unanswered item (never 0); `total` and `band` as scored when entered, NULL while
# an item is unanswered. A clinical entry: corrected or withdrawn by a new row with a reason.
outcome_measure = Table(
    "outcome_measure",
    metadata,
    Column("client_id", Uuid(), ForeignKey("client.id"), nullable=False),
    Column("session_id", Uuid(), ForeignKey("session.id")),
    Column("instrument", String(10), nullable=False),
    Column("answers", JSON(), nullable=False),
    Column("total", Integer()),
    Column("band", String(60)),
    Column("entry_mode", String(20), nullable=False),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id")),
    Column("corrects_id", Uuid(), ForeignKey("outcome_measure.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_outcome_measure_client_time", "client_id", "occurred_at"),
    Index("ix_outcome_measure_session_time", "session_id", "occurred_at"),
)

# A client's consent (issue 17, migration 0015): the KAP treatment consent or the touch
# consent (`kind`), given or declined (`given`), the day it was signed, the version of the
# clinic's form, the staff member who witnessed it, and when it expires (NULL: the clinic's
# rule, clinic.toml `[consent] valid_days`) or was withdrawn by the client (`withdrawn_on`, a
# new version of the row). Append-only: corrected by a new row naming it (`corrects_id`) with
# a reason; `voids` takes back one entered in error.
consent = Table(
    "consent",
    metadata,
    Column("client_id", Uuid(), ForeignKey("client.id"), nullable=False),
    Column("kind", String(20), nullable=False),  # kap_treatment | touch
    Column("given", Boolean(), nullable=False),
    Column("signed_on", Date(), nullable=False),
    Column("form_version", Text(), nullable=False),
    Column("witness_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("expires_on", Date()),
    Column("withdrawn_on", Date()),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("corrects_id", Uuid(), ForeignKey("consent.id")),
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("correction_reason", Text()),
    Column("voids", Boolean(), default=False, nullable=False),
    Index("ix_consent_client_time", "client_id", "recorded_at"),
)

# A version of a course's plan (issue 17, migration 0016): one row per save, never changed; the
# newest is the plan as it stands. The indication, how many dosing sessions, the medication and
# route, and the prescriber's standing order (`order_*`, NULL without one; `ordered_by_id` its
# prescriber), offered as a new dosing session's order. `replaces_id` the version it replaced,
# with the `reason`. A course without a row has no plan recorded.
course_plan = Table(
    "course_plan",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("course_id", Uuid(), ForeignKey("course.id"), nullable=False),
    Column("indication", Text(), nullable=False),
    Column("dosing_sessions", Integer(), nullable=False),
    Column("medication", String(40), nullable=False),
    Column("route", String(40), nullable=False),
    Column("order_dose_mg", Float()),
    Column("order_dose_mg_per_kg", Float()),
    Column("order_boosters", Integer()),
    Column("order_booster_mg", Float()),
    Column("order_booster_from_min", Float()),
    Column("order_booster_to_min", Float()),
    Column("order_max_total_mg", Float()),
    Column("ordered_by_id", Uuid(), ForeignKey("staff.id")),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("recorded_by_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("replaces_id", Uuid(), ForeignKey("course_plan.id"), unique=True),
    Column("reason", Text()),
    Index("ix_course_plan_course_time", "course_id", "recorded_at"),
)

# What the database holds (issue 18, migration 0017): one row, "clinical" or "training", written
# once when the database is made (or marked clinical when an existing one was upgraded) and
# never changed (UPDATE and DELETE refused by the database). No row: clinical.
database_kind = Table(
    "database_kind",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    CheckConstraint("id = 1", name="one_row"),
    CheckConstraint("kind IN ('clinical', 'training')", name="known_kind"),
)

# A staff member's signing key (issue 18, migration 0018): an Ed25519 key pair, the private key
# sealed (AES-256-GCM) with a key derived by Argon2id from their signing passphrase, `salt` and
# `kdf` (its parameters) beside it. Append-only: a new key supersedes the older (the newest is
# the one that signs); the older stay for verifying the signatures they made.
staff_signing_key = Table(
    "staff_signing_key",
    metadata,
    Column("id", Uuid(), primary_key=True, default=new_id),
    Column("staff_id", Uuid(), ForeignKey("staff.id"), nullable=False),
    Column("public_key", String(64), nullable=False, unique=True),
    Column("sealed_private_key", String(200), nullable=False),
    Column("salt", String(64), nullable=False),
    Column("kdf", JSON(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_staff_signing_key_staff_time", "staff_id", "created_at"),
)


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
    "dose_order",
    "adverse_event",
    "intervention",
    "controlled_substance",
    "client_profile",
    "outcome_measure",
    "consent",
    "course_plan",
    "staff_signing_key",
)


def with_postgresql_options() -> MetaData:
    """The metadata with its PostgreSQL-only options (the WHERE of the partial unique index on
    signatures), for the migrations. Not named in the table: naming a PostgreSQL option loads
    SQLAlchemy's PostgreSQL dialect, which opening a SQLite database does without (about 20 ms
    of every start)."""
    index = next(i for i in signature.indexes if i.name == "uq_signature_session_part")
    index.dialect_options["postgresql"]["where"] = text(SIGNED_ONCE)
    return metadata
