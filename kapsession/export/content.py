"""What one export of a session holds, scoped once, for every format.

The services read the session's rows (`services/export_content.py`, `SessionRows`); this
module narrows them to one participant (`scoped`) and knows nothing of the database.

Scope rules live here, so no format can get them wrong:
- one document per participant: a couples or group session is exported for one participant,
  with only their doses, readings, alerts, discharge and notes, plus what belongs to the whole
  room (phases, music, shared notes); other participants' names and record numbers in shared
  text are replaced by "[another participant]";
- private (psychotherapy) notes only when explicitly included;
- an unsigned session is a draft, and says so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kapsession.domain.corrections import effective
from kapsession.domain.protocol import Protocol
from kapsession.domain.protocol_file import parse_protocol
from kapsession.records.adverse import AdverseEventRecord, InterventionRecord, SubstanceRecord
from kapsession.records.entries import (
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    EventRecord,
    MusicEventRecord,
    ObservationRecord,
)
from kapsession.records.errors import StorageError
from kapsession.records.measures import MeasureRecord
from kapsession.records.notes import NoteRecord, PrivateNoteRecord, SignatureCheck, SignatureRecord
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.people import StaffRecord
from kapsession.records.session_log import LogItem
from kapsession.records.sessions import ParticipantRecord, SessionRecord, SessionStatus

REDACTED = "[another participant]"
FORMATS = ("pdf", "md", "csv", "fhir", "rems")


@dataclass(frozen=True)
class FollowedSession:
    """The dosing session an integration session follows (issue 17), as its export names it."""

    id: uuid.UUID
    held_at: datetime  # started (or, not started, created)
    protocol_name: str
    protocol_version: int


class ExportRefused(StorageError):
    """The export cannot be made as asked; the message says why and what to ask instead."""


@dataclass(frozen=True)
class ExportContent:
    """Everything one document shows, already scoped to one participant."""

    session: SessionRecord
    participant: ParticipantRecord
    protocol: Protocol
    staff: dict[uuid.UUID, StaffRecord]
    doses: list[DoseRecord]  # with corrections (`effective` gives the standing ones)
    observations: list[ObservationRecord]  # with corrections
    alerts: list[AlertRecord]
    events: list[EventRecord]  # theirs and the room's, with corrections
    notes: list[NoteRecord]  # entries (theirs and shared), the session note, addenda
    music: list[MusicEventRecord]
    discharges: list[DischargeAssessmentRecord]  # with corrections
    signatures: list[SignatureRecord]
    # part -> whether the record still holds what was signed, by the signer's key (issue 18)
    signatures_verified: dict[str, SignatureCheck]
    timeline: list[LogItem]  # everything above in time order, as the event list shows it
    private_notes: list[PrivateNoteRecord] | None = None  # None: not included
    exported_at: datetime | None = None
    others_redacted: tuple[str, ...] = field(default=(), repr=False)
    orders: list[DoseOrderRecord] = field(default_factory=list)  # with corrections (issue 16)

    @property
    def standing_order(self) -> DoseOrderRecord | None:
        """The participant's order as it stands; None: no order recorded."""
        standing = effective(self.orders)
        return standing[-1] if standing else None

    # issue 16: adverse events, interventions, the doses' controlled-substance counts (theirs
    # only, with corrections)
    adverse_events: list[AdverseEventRecord] = field(default_factory=list)
    interventions: list[InterventionRecord] = field(default_factory=list)
    substance_counts: list[SubstanceRecord] = field(default_factory=list)
    # issue 17: the client's outcome measures of the session (given in it, or outside any
    # session on its day; `services.export_content.session_measures`), every version
    measures: list[MeasureRecord] = field(default_factory=list)
    # issue 17: an integration session's dosing session (None: not an integration session)
    follows: FollowedSession | None = None
    # issue 18: each signed addendum's check, by its note's id (`SignatureRepository`)
    addenda_verified: dict[uuid.UUID, SignatureCheck] = field(default_factory=dict)

    @property
    def draft(self) -> bool:
        """Not signed: the document says DRAFT on every page."""
        return self.session.status != SessionStatus.SIGNED

    @property
    def client_name(self) -> str:
        return self.participant.client.full_name

    def staff_name(self, staff_id: uuid.UUID | None) -> str:
        if staff_id is None or staff_id not in self.staff:
            return ""
        return self.staff[staff_id].signature_name

    @property
    def standing_doses(self) -> list[DoseRecord]:
        return effective(self.doses)

    @property
    def standing_observations(self) -> list[ObservationRecord]:
        return effective(self.observations)

    @property
    def standing_adverse_events(self) -> list[AdverseEventRecord]:
        return effective(self.adverse_events)

    @property
    def standing_interventions(self) -> list[InterventionRecord]:
        return effective(self.interventions)

    @property
    def standing_substance_counts(self) -> list[SubstanceRecord]:
        return effective(self.substance_counts)

    @property
    def standing_discharges(self) -> list[DischargeAssessmentRecord]:
        return effective(self.discharges)

    @property
    def first_dose_at(self) -> datetime | None:
        times = [d.occurred_at for d in self.standing_doses]
        return min(times) if times else None

    @property
    def session_note(self) -> NoteRecord | None:
        signed = [n for n in self.notes if n.kind == "session_note"]
        return signed[-1] if signed else None

    @property
    def note_entries(self) -> list[NoteRecord]:
        return [n for n in self.notes if n.kind in ("entry", "intention")]  # intention: 17

    @property
    def addenda(self) -> list[NoteRecord]:
        return [n for n in self.notes if n.kind == "addendum"]


def _redactor(
    chosen: ParticipantRecord, others: Sequence[ParticipantRecord]
) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """A pattern for other participants' names, record numbers and ids, leaving out any word
    that is also the chosen participant's own (a couple's shared family name)."""
    own = {
        w.casefold()
        for w in (
            chosen.client.full_name,
            chosen.client.given_name,
            chosen.client.family_name,
            chosen.client.record_number or "",
        )
    }
    words: list[str] = []
    for other in others:
        client = other.client
        words += [client.full_name, client.family_name, client.given_name]
        words += [client.record_number or "", str(other.id), str(client.id)]
    kept = sorted(
        {w for w in words if w.strip() and w.casefold() not in own}, key=len, reverse=True
    )
    if not kept:
        return None, ()
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in kept) + r")\b", re.IGNORECASE)
    return pattern, tuple(kept)


def _others_lines(others: Sequence[ParticipantRecord]) -> re.Pattern[str] | None:
    """Lines about another participant in shared text, as the session note writes them
    ("Jonah: Dose …"): they are that participant's data and are left out."""
    names = sorted(
        {n for p in others for n in (p.client.full_name, p.client.given_name) if n.strip()},
        key=len,
        reverse=True,
    )
    if not names:
        return None
    return re.compile(
        r"^[^\n]*?\b(" + "|".join(re.escape(n) for n in names) + r"):[^\n]*(\n|$)",
        re.MULTILINE,
    )


def participant_choice(session: SessionRecord, wanted: str | None) -> ParticipantRecord:
    """The participant an export is for: by id or name; required when there are several."""
    if wanted is None or not wanted.strip():
        if len(session.participants) == 1:
            return session.participants[0]
        names = "; ".join(f"{p.client.full_name} ({p.id})" for p in session.participants)
        raise ExportRefused(
            "This session has several participants and each gets their own document. "
            f"Choose one with --participant: {names}."
        )
    text = wanted.strip().casefold()
    matches = [
        p
        for p in session.participants
        if text in (str(p.id), str(p.client.id), p.client.full_name.casefold())
        or (p.client.record_number or "").casefold() == text
        or p.client.given_name.casefold() == text
    ]
    if len(matches) != 1:
        names = "; ".join(p.client.full_name for p in session.participants)
        what = "matches more than one" if matches else "is not a participant of this session"
        raise ExportRefused(f'"{wanted}" {what}. The participants are: {names}.')
    return matches[0]


@dataclass(frozen=True)
class SessionRows:
    """A session's rows as the record holds them, for every participant: what `scoped`
    narrows to one. Entries come with their corrections; `timeline` is the session's whole log
    (`services/session_log.py`), `private_notes` None when they are not to be included."""

    session: SessionRecord
    protocol: Protocol
    staff: dict[uuid.UUID, StaffRecord]
    doses: list[DoseRecord]
    observations: list[ObservationRecord]
    alerts: list[AlertRecord]
    events: list[EventRecord]
    notes: list[NoteRecord]
    music: list[MusicEventRecord]
    discharges: list[DischargeAssessmentRecord]
    signatures: list[SignatureRecord]
    signatures_verified: dict[str, SignatureCheck]
    timeline: list[LogItem]
    private_notes: list[PrivateNoteRecord] | None = None
    orders: list[DoseOrderRecord] = field(default_factory=list)  # issue 16
    adverse_events: list[AdverseEventRecord] = field(default_factory=list)  # issue 16
    interventions: list[InterventionRecord] = field(default_factory=list)
    substance_counts: list[SubstanceRecord] = field(default_factory=list)
    measures: list[MeasureRecord] = field(default_factory=list)  # issue 17: every participant's
    followed: dict[uuid.UUID, FollowedSession] = field(default_factory=dict)  # by session id (17)
    # issue 18: each signed addendum's check, by its note's id
    addenda_verified: dict[uuid.UUID, SignatureCheck] = field(default_factory=dict)


def session_protocol(record: SessionRecord) -> Protocol:
    """The protocol the session ran under: the snapshot it keeps, not today's file."""
    return parse_protocol(record.protocol_text, f"protocol snapshot of session {record.id}")


def exportable(record: SessionRecord, participant: str | None) -> ParticipantRecord:
    """The participant an export of this session is for, or why it cannot be made."""
    if record.status == SessionStatus.PLANNED:
        raise ExportRefused("This session has not started; there is nothing to export yet.")
    return participant_choice(record, participant)


def _cleaned_override(detail: dict[str, Any], clean: Callable[[str], str]) -> dict[str, Any]:
    """A dose's detail with its prescriber's override (who, why) redacted like any text."""
    override = detail.get("order_override")
    if not isinstance(override, dict):
        return detail
    words = {k: clean(v) if isinstance(v, str) else v for k, v in override.items()}
    return {**detail, "order_override": words}


def scoped(
    rows: SessionRows, chosen: ParticipantRecord, *, exported_at: datetime | None = None
) -> ExportContent:
    """The session's rows scoped to one of its participants (see the module's rules)."""
    record = rows.session
    others = [p for p in record.participants if p.id != chosen.id]
    pattern, words = _redactor(chosen, others)
    their_lines = _others_lines(others)

    def clean(text: str) -> str:
        if their_lines is not None:
            text = their_lines.sub("", text)
        return text if pattern is None else pattern.sub(REDACTED, text)

    other_ids = {p.id for p in others}

    def mine(participant_id: uuid.UUID | None) -> bool:
        return participant_id not in other_ids

    notes = [
        replace(
            n,
            text=clean(n.text),
            sections=tuple((k, t, clean(b)) for k, t, b in n.sections),
            correction_reason=n.correction_reason and clean(n.correction_reason),
        )
        for n in rows.notes
        if mine(n.participant_id)
    ]
    private = None
    if rows.private_notes is not None:
        private = [
            replace(n, text=clean(n.text)) for n in rows.private_notes if mine(n.participant_id)
        ]
    events = [
        replace(
            e,
            label=clean(e.label),
            detail={k: clean(v) if isinstance(v, str) else v for k, v in e.detail.items()},
            correction_reason=e.correction_reason and clean(e.correction_reason),
        )
        for e in rows.events
        if mine(e.participant_id)
    ]
    timeline = [
        replace(
            i, title=clean(i.title), detail=clean(i.detail), reason=i.reason and clean(i.reason)
        )
        for i in rows.timeline
        if mine(i.participant_id)
    ]
    observations = [
        replace(
            o,
            values={**o.values, "comment": clean(o.values.get("comment") or "")},
            correction_reason=o.correction_reason and clean(o.correction_reason),
        )
        for o in rows.observations
        if o.participant_id == chosen.id
    ]
    doses = [
        replace(
            d,
            correction_reason=d.correction_reason and clean(d.correction_reason),
            detail=_cleaned_override(d.detail, clean),
        )
        for d in rows.doses
        if d.participant_id == chosen.id
    ]
    alerts = [
        replace(a, acknowledgement_comment=clean(a.acknowledgement_comment))
        for a in rows.alerts
        if a.participant_id == chosen.id
    ]
    discharges = [
        replace(
            d,
            override_reason=d.override_reason and clean(d.override_reason),
            problems=tuple(clean(p) for p in d.problems),
            correction_reason=d.correction_reason and clean(d.correction_reason),
        )
        for d in rows.discharges
        if d.participant_id == chosen.id
    ]
    adverse_events = [
        replace(
            a,
            other=clean(a.other),
            actions=clean(a.actions),
            correction_reason=a.correction_reason and clean(a.correction_reason),
        )
        for a in rows.adverse_events
        if a.participant_id == chosen.id
    ]
    interventions = [
        replace(
            i,
            text=clean(i.text),
            correction_reason=i.correction_reason and clean(i.correction_reason),
        )
        for i in rows.interventions
        if i.participant_id == chosen.id
    ]
    counts = [
        replace(
            c,
            comment=clean(c.comment),
            correction_reason=c.correction_reason and clean(c.correction_reason),
        )
        for c in rows.substance_counts
        if c.participant_id == chosen.id
    ]
    return ExportContent(
        session=record,
        participant=chosen,
        protocol=rows.protocol,
        staff=rows.staff,
        doses=doses,
        observations=observations,
        alerts=alerts,
        events=events,
        notes=notes,
        music=rows.music,
        discharges=discharges,
        signatures=rows.signatures,
        signatures_verified=rows.signatures_verified,
        timeline=timeline,
        private_notes=private,
        exported_at=exported_at,
        others_redacted=words,
        orders=[o for o in rows.orders if o.participant_id == chosen.id],
        adverse_events=adverse_events,
        interventions=interventions,
        substance_counts=counts,
        measures=[m for m in rows.measures if m.client_id == chosen.client.id],  # issue 17
        follows=(
            None
            if chosen.follows_session_id is None
            else rows.followed.get(chosen.follows_session_id)
        ),
        addenda_verified=rows.addenda_verified,
    )
