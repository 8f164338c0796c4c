"""After the session: the structured session note, signing, and signed addenda.

The note starts filled from the record (doses, vitals extremes, alerts, markers, music played,
the in-session notes) in the sections of the clinic's template, and is edited from there; until
it is signed it lives as a draft, saved as it is typed. Signing checks the signer's PIN first,
then writes the note, the signatures, their audit rows and the session's new status in one
transaction (storage/signatures.py): it happened completely or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.clock import Clock
from kapsession.domain.corrections import effective
from kapsession.domain.note_templates import NoteTemplate, Prefill
from kapsession.records.entries import (
    AlertRecord,
    DischargeAssessmentRecord,
    DoseRecord,
    EventRecord,
    ObservationRecord,
)
from kapsession.records.errors import StorageError
from kapsession.records.notes import (
    PARTS,
    NoteRecord,
    Pad,
    Section,
    SessionNoteText,
    SignedPart,
    SigningState,
    SignOutcome,
)
from kapsession.records.sessions import SessionRecord, SessionStatus
from kapsession.services.checkins import CheckinService
from kapsession.services.pins import PinCheck, PinService
from kapsession.services.session_log import reading_text
from kapsession.storage.audit import AuditRepository
from kapsession.storage.database import Database
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.entries import EntryRepository
from kapsession.storage.music_log import MusicLogRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.people import StaffRepository
from kapsession.storage.sessions import SessionRepository
from kapsession.storage.signatures import SignatureRepository


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")


def _t_plus(when: datetime, first_dose: datetime | None) -> str:
    if first_dose is None:
        return _hm(when)
    minutes = round((when - first_dose).total_seconds() / 60)
    return f"{_hm(when)} (T{minutes:+d})"


@dataclass(frozen=True)
class RecordFacts:
    """What the prefill reads from the record, in one place."""

    session: SessionRecord
    doses: list[DoseRecord]
    observations: list[ObservationRecord]
    alerts: list[AlertRecord]
    events: list[EventRecord]
    notes: list[NoteRecord]
    tracks: list[str]
    playlists: list[str]
    discharges: list[DischargeAssessmentRecord]
    staff_names: dict[uuid.UUID, str]

    def name(self, participant_id: uuid.UUID | None) -> str:
        if participant_id is None or len(self.session.participants) < 2:
            return ""
        try:
            return self.session.participant(participant_id).client.given_name + ": "
        except KeyError:
            return ""

    def first_dose(self, participant_id: uuid.UUID | None) -> datetime | None:
        times = [
            d.occurred_at
            for d in self.doses
            if participant_id is None or d.participant_id == participant_id
        ]
        return min(times) if times else None


def _intention(f: RecordFacts) -> str:
    lines = [
        f"{f.name(n.participant_id)}{n.text}"
        for n in f.notes
        if n.phase_key == "intention" or n.text.lower().startswith("intention")
    ]
    return "\n".join(lines)


def _setting(f: RecordFacts) -> str:
    s = f.session
    who = [f.staff_names[i] for i in (s.therapist_id, s.nurse_id) if i in f.staff_names]
    lines = [
        f"{s.modality.capitalize()} session"
        + (f" in {s.room}" if s.room else "")
        + f", protocol: {s.protocol_name}.",
        f"Present: {'; '.join([*(p.client.full_name for p in s.participants), *who])}.",
    ]
    if s.started_at is not None:
        end = f" to {_hm(s.ended_at)}" if s.ended_at else ""
        lines.append(f"Session from {_hm(s.started_at)}{end}.")
    if f.playlists:
        lines.append(f"Music: {', '.join(f.playlists)}.")
    return "\n".join(lines)


def _doses(f: RecordFacts) -> str:
    lines = []
    for d in f.doses:
        amount = f"{d.dose_mg:g} mg" if d.dose_mg is not None else "amount not recorded"
        what = "Booster" if d.kind == "booster" else "Dose"
        medication = f" {d.medication}" if d.medication else ""
        route = f" {d.route}" if d.route else ""
        lot = f", lot {d.lot_number}" if d.lot_number else ""
        devices = f", {d.device_count} devices" if d.device_count else ""
        lines.append(
            f"{f.name(d.participant_id)}{what}{medication} {amount}{route} at "
            f"{_hm(d.occurred_at)}{devices}{lot}."
        )
    return "\n".join(lines) or "No dose recorded."


def _extremes(readings: Sequence[ObservationRecord], field: str) -> tuple[float, float] | None:
    values = [r.values[field] for r in readings if r.values.get(field) is not None]
    return (min(values), max(values)) if values else None


def _vitals(f: RecordFacts) -> str:
    lines = []
    for participant in f.session.participants:
        readings = [o for o in f.observations if o.participant_id == participant.id]
        if not readings:
            continue
        prefix = f.name(participant.id)
        first_dose = f.first_dose(participant.id)
        baseline = next((o for o in readings if o.checkin_key == "baseline"), readings[0])
        lines.append(
            f"{prefix}Baseline {_hm(baseline.occurred_at)}: {reading_text(baseline.reading)}."
        )
        ranges = []
        for field, label, unit in (
            ("systolic_mmhg", "SBP", ""),
            ("diastolic_mmhg", "DBP", ""),
            ("heart_rate_bpm", "HR", ""),
            ("spo2_pct", "SpO2", " %"),
            ("resp_rate_per_min", "RR", ""),
            ("moaas", "MOAA/S", ""),
        ):
            span = _extremes(readings, field)
            if span is not None:
                low, high = span
                ranges.append(
                    f"{label} {low:g}–{high:g}{unit}" if low != high else f"{label} {low:g}{unit}"
                )
        if ranges:
            lines.append(f"{prefix}Range over {len(readings)} readings: {', '.join(ranges)}.")
        last = readings[-1]
        if last is not baseline:
            lines.append(
                f"{prefix}Last {_t_plus(last.occurred_at, first_dose)}: "
                f"{reading_text(last.reading)}."
            )
    return "\n".join(lines) or "No vital signs recorded."


def _alerts(f: RecordFacts) -> str:
    lines = []
    for a in f.alerts:
        if a.acknowledged_at is None:
            outcome = "not acknowledged"
        else:
            who = f.staff_names.get(a.acknowledged_by_id) if a.acknowledged_by_id else None
            outcome = f"acknowledged {_hm(a.acknowledged_at)}" + (f" by {who}" if who else "")
            if a.acknowledgement_comment:
                outcome += f" — {a.acknowledgement_comment}"
        lines.append(f"{f.name(a.participant_id)}Alert {_hm(a.raised_at)}: {a.message}; {outcome}.")
    return "\n".join(lines) or "No alerts."


def _markers(f: RecordFacts) -> str:
    return "\n".join(
        f"{_t_plus(e.occurred_at, f.first_dose(e.participant_id))} "
        f"{f.name(e.participant_id)}{e.label}"
        for e in f.events
        if e.kind == "marker"
    )


def _music(f: RecordFacts) -> str:
    if not f.tracks:
        return "No music played."
    return "Tracks played: " + "; ".join(f.tracks) + "."


def _notes(f: RecordFacts) -> str:
    return "\n".join(
        f"{_t_plus(n.occurred_at, f.first_dose(n.participant_id))} {f.name(n.participant_id)}"
        f"{n.text}"
        for n in f.notes
    )


def _discharge(f: RecordFacts) -> str:
    lines = []
    for d in f.discharges:
        verdict = "ready to leave" if d.ready else "not all items passed"
        minutes = (
            f", ready {d.ready_minutes_after_first_dose} min after the first dose"
            if d.ready_minutes_after_first_dose is not None
            else ""
        )
        line = f"{f.name(d.participant_id)}Aldrete {d.aldrete_total}/10, {verdict}{minutes}."
        if d.problems:
            line += " " + " ".join(d.problems)
        if d.override_reason:
            line += f" Override by {d.override_by or 'staff'}: {d.override_reason}."
        lines.append(line)
    return "\n".join(lines) or "No discharge assessment recorded."


PREFILLERS = {
    Prefill.INTENTION: _intention,
    Prefill.SETTING: _setting,
    Prefill.DOSES: _doses,
    Prefill.VITALS: _vitals,
    Prefill.ALERTS: _alerts,
    Prefill.MARKERS: _markers,
    Prefill.MUSIC: _music,
    Prefill.NOTES: _notes,
    Prefill.DISCHARGE: _discharge,
}


def prefilled_sections(template: NoteTemplate, facts: RecordFacts) -> list[Section]:
    """The template's sections, each starting with what the record holds for it."""
    out = []
    for section in template.sections:
        parts = [PREFILLERS[p](facts) for p in section.prefills]
        out.append((section.key, section.title, "\n".join(p for p in parts if p)))
    return out


class SessionNoteService:
    """The session note, signing and addenda of one session."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        pins: PinService | None = None,
        *,
        checkins: CheckinService | None = None,
        roles: RoleRules = DEFAULT_ROLE_RULES,
    ) -> None:
        """`checkins`: the app's one CheckinService (its protocol cache shared); else its own.
        `roles`: the clinic's role rules (who may sign the monitoring part)."""
        self._db = database
        self._clock = clock
        self.staff = StaffRepository(database)
        self.notes = NoteRepository(database)
        self.signatures = SignatureRepository(database, roles)
        self._sessions = SessionRepository(database)
        self._entries = EntryRepository(database)
        self._checkins = checkins or CheckinService(database)
        self._music = MusicLogRepository(database)
        self._discharges = DischargeRepository(database)
        self.pins = pins or PinService(self.staff, AuditRepository(database), clock)

    def staff_names(self) -> dict[uuid.UUID, str]:
        return {s.id: s.signature_name for s in self.staff.active()}

    def facts(self, session_id: uuid.UUID) -> RecordFacts:
        music = self._music.for_session(session_id)
        tracks = [m.track_title or m.track_path or "" for m in music if m.kind == "track_start"]
        playlists = list(dict.fromkeys(m.playlist for m in music if m.playlist))
        return RecordFacts(
            session=self._sessions.get(session_id),
            doses=self._entries.doses(session_id),
            observations=self._checkins.observations(session_id),
            alerts=self._checkins.alerts(session_id),
            events=self._entries.events(session_id),
            notes=effective(self.notes.notes(session_id, kinds=["entry"])),
            tracks=[t for t in tracks if t],
            playlists=playlists,
            discharges=self._discharges.assessments(session_id),
            staff_names=self.staff_names(),
        )

    def prefill(self, session_id: uuid.UUID, template: NoteTemplate) -> list[Section]:
        return prefilled_sections(template, self.facts(session_id))

    # the draft --------------------------------------------------------------------------------
    def draft(self, session_id: uuid.UUID) -> tuple[str | None, list[Section]]:
        saved = self.notes.draft(session_id, Pad.SESSION_NOTE)
        if saved is None:
            return None, []
        return saved.template_key, list(saved.sections)

    def save_draft(
        self,
        session_id: uuid.UUID,
        template_key: str,
        sections: Sequence[Section],
        *,
        by: uuid.UUID | None,
    ) -> None:
        self.notes.save_draft(
            session_id,
            Pad.SESSION_NOTE,
            "",
            at=self._clock.now(),
            by=by,
            sections=sections,
            template_key=template_key,
        )

    # signing ----------------------------------------------------------------------------------
    def state(self, session_id: uuid.UUID) -> SigningState:
        signatures = self.signatures.signatures(session_id)
        by_note = {s.note_id: s for s in signatures if s.part == "addendum"}
        addenda = [(n, by_note.get(n.id)) for n in self.notes.notes(session_id, kinds=["addendum"])]
        return SigningState(
            status=self._sessions.get(session_id).status,
            signed={s.part: s for s in signatures if s.part in PARTS},
            addenda=addenda,
            open_alerts=len(self._checkins.open_alerts(session_id)),
        )

    def sign(
        self,
        session_id: uuid.UUID,
        staff_id: uuid.UUID,
        pin: str,
        parts: Iterable[str],
        note: SessionNoteText | None,
    ) -> SignOutcome:
        wanted = [p for p in PARTS if p in set(parts)]
        if not wanted:
            return SignOutcome(False, "Tick what you are signing: the monitoring or therapy part.")
        state = self.state(session_id)
        if state.status != SessionStatus.COMPLETED:
            message = {
                SessionStatus.LIVE: "End the session before signing it.",
                SessionStatus.SIGNED: "This session is already signed; add an addendum instead.",
            }.get(state.status, "This session cannot be signed yet.")
            return SignOutcome(False, message)
        if SignedPart.MONITORING in wanted and state.open_alerts:
            return SignOutcome(
                False,
                f"{state.open_alerts} alert(s) are not acknowledged yet. Acknowledge them "
                "before signing the monitoring part.",
            )
        if SignedPart.THERAPY in wanted and (note is None or not note.text.strip()):
            return SignOutcome(False, "Write the session note before signing the therapy part.")
        check = self.pins.verify(staff_id, pin, purpose="sign the session", session_id=session_id)
        if not check.ok:
            return _refused(check)
        try:
            records = self.signatures.sign(
                session_id,
                wanted,
                staff_id=staff_id,
                at=self._clock.now(),
                session_note=note if SignedPart.THERAPY in wanted else None,
            )
        except StorageError as exc:
            return SignOutcome(False, str(exc))
        names = " and ".join(SignedPart(p).value for p in wanted)
        done = self.state(session_id).status == SessionStatus.SIGNED
        message = f"Signed the {names} part{'s' if len(wanted) > 1 else ''}." + (
            " The session is signed and locked." if done else ""
        )
        return SignOutcome(True, message, signatures=tuple(records))

    def add_addendum(
        self, session_id: uuid.UUID, staff_id: uuid.UUID, pin: str, text: str
    ) -> SignOutcome:
        if not text.strip():
            return SignOutcome(False, "The addendum is empty: write it before signing.")
        check = self.pins.verify(staff_id, pin, purpose="sign an addendum", session_id=session_id)
        if not check.ok:
            return _refused(check)
        try:
            _note, signature = self.signatures.add_addendum(
                session_id, text, staff_id=staff_id, at=self._clock.now()
            )
        except StorageError as exc:
            return SignOutcome(False, str(exc))
        return SignOutcome(True, "Addendum signed and added.", signatures=(signature,))


def _refused(check: PinCheck) -> SignOutcome:
    return SignOutcome(False, check.message, pause_s=check.pause_s, retry_in_s=check.retry_in_s)
