"""After the session: the structured session note, signing, and signed addenda.

The note starts filled from the record (doses, vitals extremes, alerts, markers, music played,
the in-session notes) in the sections of the clinic's template, and is edited from there; until
it is signed it lives as a draft, saved as it is typed. Signing opens the signer's key with
their signing passphrase first (services/signing_keys.py; a wrong one is audited and nothing is
stored), then writes the note, the signatures (bound to that key), their audit rows and the
session's new status in one transaction (storage/signatures.py): it happened completely or not
at all.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.clock import Clock
from kapsession.domain.corrections import effective
from kapsession.domain.note_templates import NoteTemplate, Prefill
from kapsession.records.adverse import (
    AdverseEventRecord,
    InterventionRecord,
    SubstanceRecord,
    chain_ids,
)
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
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.sessions import SessionRecord, SessionStatus
from kapsession.services.checkins import CheckinService
from kapsession.services.countersign import awaiting, countersign
from kapsession.services.pins import PinCheck, PinService
from kapsession.services.session_log import reading_text
from kapsession.storage.adverse_events import AdverseEventRepository
from kapsession.storage.audit import AuditRepository
from kapsession.storage.course_plans import CourseRepository
from kapsession.storage.database import Database
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.dose_orders import DoseOrderRepository
from kapsession.storage.entries import EntryRepository
from kapsession.storage.music_log import MusicLogRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.people import StaffRepository
from kapsession.storage.sessions import SessionRepository
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:  # signing keys: imported when first used
    from kapsession.services.signing_keys import KeyCheck, SigningKeyService
    from kapsession.storage.signing_keys import KdfParams


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
    # issue 16, standing: adverse events (and every version, for the interventions' links),
    # interventions, the doses' controlled-substance counts
    adverse_events: list[AdverseEventRecord] = dataclasses.field(default_factory=list)
    adverse_history: list[AdverseEventRecord] = dataclasses.field(default_factory=list)
    interventions: list[InterventionRecord] = dataclasses.field(default_factory=list)
    substance_counts: list[SubstanceRecord] = dataclasses.field(default_factory=list)
    # issue 17: each participant's intentions from preparation in their course, as they stand
    # (participant id of this session, text), set up to the end of this session
    course_intentions: list[tuple[uuid.UUID, str]] = dataclasses.field(default_factory=list)

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
    lines += [
        f"{f.name(participant_id)}Intention from preparation: {text}"
        for participant_id, text in f.course_intentions
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
    for c in f.substance_counts:  # issue 16: Schedule III
        witness = f.staff_names.get(c.witness_id) if c.witness_id else None
        waste = f", waste witnessed by {witness}" if c.wasted_mg > 0 and witness else ""
        lines.append(
            f"{f.name(c.participant_id)}Controlled substance: drawn {c.drawn_mg:g} mg, given "
            f"{c.given_mg:g} mg, wasted {c.wasted_mg:g} mg{waste}."
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
    return "\n".join([*(lines or ["No alerts."]), *_adverse_lines(f)])


def _adverse_lines(f: RecordFacts) -> list[str]:
    """The adverse events with what was given for them, and interventions for none (issue 16)."""
    lines = []
    linked: set[uuid.UUID] = set()
    for a in f.adverse_events:
        ids = chain_ids(f.adverse_history, a.id)
        given = [i for i in f.interventions if i.adverse_event_id in ids]
        linked |= {i.id for i in given}
        resolved = f" at {_hm(a.resolved_at)}" if a.resolved_at is not None else ""
        line = f"{f.name(a.participant_id)}Adverse event {_hm(a.occurred_at)}: {a.title} "
        line += f"({a.grading}{resolved})"
        if a.actions:
            line += f"; {a.actions}"
        if given:
            line += "; given: " + ", ".join(f"{i.title} at {_hm(i.occurred_at)}" for i in given)
        lines.append(line + ".")
    for i in f.interventions:
        if i.id not in linked:
            text = f" — {i.text}" if i.text else ""
            lines.append(
                f"{f.name(i.participant_id)}Intervention {_hm(i.occurred_at)}: {i.title}{text}."
            )
    return lines


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
        kdf: KdfParams | None = None,
    ) -> None:
        """`checkins`: the app's one CheckinService (its protocol cache shared); else its own.
        `roles`: the clinic's role rules (who may sign the monitoring part). `kdf`: the Argon2id
        parameters a new signing passphrase seals its key with (None: `SIGNING_KDF`)."""
        self._db = database
        self._clock = clock
        self.staff = StaffRepository(database)
        self.notes = NoteRepository(database)
        self.signatures = SignatureRepository(database, roles)
        self._roles = roles
        self._orders = DoseOrderRepository(database)
        self._sessions = SessionRepository(database)
        self._entries = EntryRepository(database)
        self._checkins = checkins or CheckinService(database)
        self._music = MusicLogRepository(database)
        self._discharges = DischargeRepository(database)
        self._adverse = AdverseEventRepository(database)
        self._course = CourseRepository(database)  # intentions from preparation (issue 17)
        self.pins = pins or PinService(self.staff, AuditRepository(database), clock)
        self._kdf = kdf
        self._signed_listeners: list[Callable[[], None]] = []

    @cached_property
    def keys(self) -> SigningKeyService:
        """The staff's signing keys, sealed by their passphrases; built when first used (a
        signature, the session note page), not with the app."""
        from kapsession.services.signing_keys import SigningKeyService
        from kapsession.storage.signing_keys import SIGNING_KDF, SigningKeyRepository

        return SigningKeyService(
            SigningKeyRepository(self._db, self._kdf or SIGNING_KDF),
            AuditRepository(self._db),
            self._clock,
            self.pins,
        )

    def staff_names(self) -> dict[uuid.UUID, str]:
        return {s.id: s.signature_name for s in self.staff.active()}

    def facts(self, session_id: uuid.UUID) -> RecordFacts:
        music = self._music.for_session(session_id)
        tracks = [m.track_title or m.track_path or "" for m in music if m.kind == "track_start"]
        playlists = list(dict.fromkeys(m.playlist for m in music if m.playlist))
        adverse_history = self._adverse.adverse_events(session_id)
        session = self._sessions.get(session_id)
        return RecordFacts(
            session=session,
            doses=self._entries.doses(session_id),
            observations=self._checkins.observations(session_id),
            alerts=self._checkins.alerts(session_id),
            events=self._entries.events(session_id),
            notes=effective(self.notes.notes(session_id, kinds=["entry"])),
            tracks=[t for t in tracks if t],
            playlists=playlists,
            discharges=self._discharges.assessments(session_id),
            staff_names=self.staff_names(),
            adverse_events=effective(adverse_history),
            adverse_history=adverse_history,
            interventions=effective(self._adverse.interventions(session_id)),
            substance_counts=effective(self._adverse.substance_counts(session_id)),
            course_intentions=self._course_intentions(session),
        )

    def _course_intentions(self, session: SessionRecord) -> list[tuple[uuid.UUID, str]]:
        """Each participant's intentions from preparation in their course (issue 17), those
        set before this session ended."""
        until = session.ended_at or self._clock.now()
        found: list[tuple[uuid.UUID, str]] = []
        for participant in session.participants:
            if participant.course_id is None:
                continue
            found += [
                (participant.id, intention.text)
                for intention in self._course.intentions(participant.course_id)
                if intention.occurred_at <= until
            ]
        return found

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
    def on_signed(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after each signature or signed addendum is stored (the backup
        made after signing, issue 19), on the thread that signed."""
        self._signed_listeners.append(listener)

    def _signed(self) -> None:
        for listener in self._signed_listeners:
            listener()

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
        passphrase: str,
        parts: Iterable[str],
        note: SessionNoteText | None,
    ) -> SignOutcome:
        """Sign `parts` as `staff_id`, with their signing passphrase."""
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
        if SignedPart.MONITORING in wanted:
            waiting = self.awaiting_countersignature(session_id)
            if waiting:
                return SignOutcome(False, self.countersign_needed(waiting))
        if SignedPart.THERAPY in wanted and (note is None or not note.text.strip()):
            return SignOutcome(False, "Write the session note before signing the therapy part.")
        opened = self.keys.unlock(
            staff_id, passphrase, purpose="sign the session", session_id=session_id
        )
        if opened.key is None:
            return _not_opened(opened)
        try:
            records = self.signatures.sign(
                session_id,
                wanted,
                staff_id=staff_id,
                at=self._clock.now(),
                key=opened.key,
                session_note=note if SignedPart.THERAPY in wanted else None,
            )
        except StorageError as exc:
            return SignOutcome(False, str(exc))
        self._signed()
        names = " and ".join(SignedPart(p).value for p in wanted)
        done = self.state(session_id).status == SessionStatus.SIGNED
        message = f"Signed the {names} part{'s' if len(wanted) > 1 else ''}." + (
            " The session is signed and locked." if done else ""
        )
        return SignOutcome(True, message, signatures=tuple(records))

    # verbal orders (issue 16) ---------------------------------------------------------------
    def awaiting_countersignature(self, session_id: uuid.UUID) -> list[DoseOrderRecord]:
        """The session's verbal orders not countersigned yet: the monitoring part waits."""
        return awaiting(self._orders.orders(session_id), self._entries.events(session_id))

    def countersign_needed(self, waiting: Sequence[DoseOrderRecord]) -> str:
        names = {s.id: s.signature_name for s in self.staff.all()}
        who = list(dict.fromkeys(names.get(o.ordered_by_id, "the prescriber") for o in waiting))
        orders = "; ".join(o.order.summary() for o in waiting)
        many = len(waiting) > 1
        return (
            f"The monitoring part cannot be signed yet: the verbal order{'s' if many else ''} "
            f"({orders}) {'are' if many else 'is'} not countersigned. {' and '.join(who)}, who "
            f"gave {'them' if many else 'it'}, must countersign first: their PIN here, or "
            "Countersign on the live screen."
        )

    def countersign_orders(
        self, session_id: uuid.UUID, staff_id: uuid.UUID, pin: str
    ) -> SignOutcome:
        """The prescriber countersigns, where the monitoring part is signed, each of their
        verbal orders still awaiting it: their PIN first, then one event per order."""
        waiting = [
            o for o in self.awaiting_countersignature(session_id) if o.ordered_by_id == staff_id
        ]
        if not waiting:
            return SignOutcome(False, "No verbal order of theirs awaits a countersignature.")
        check = self.pins.verify(
            staff_id,
            pin,
            purpose="countersign a verbal order",
            session_id=session_id,
            not_done="The order was not countersigned and nothing was signed.",
        )
        if not check.ok:
            return _refused(check)
        for order in waiting:
            try:
                countersign(
                    self.staff,
                    self._roles,
                    self._entries,
                    session_id,
                    order,
                    staff_id,
                    at=self._clock.now(),
                )
            except StorageError as exc:
                return SignOutcome(False, str(exc))
        return SignOutcome(True, "Verbal order countersigned.")

    def add_addendum(
        self, session_id: uuid.UUID, staff_id: uuid.UUID, passphrase: str, text: str
    ) -> SignOutcome:
        """A signed addendum, with the author's signing passphrase."""
        if not text.strip():
            return SignOutcome(False, "The addendum is empty: write it before signing.")
        opened = self.keys.unlock(
            staff_id, passphrase, purpose="sign an addendum", session_id=session_id
        )
        if opened.key is None:
            return _not_opened(opened)
        try:
            _note, signature = self.signatures.add_addendum(
                session_id, text, staff_id=staff_id, at=self._clock.now(), key=opened.key
            )
        except StorageError as exc:
            return SignOutcome(False, str(exc))
        self._signed()
        return SignOutcome(True, "Addendum signed and added.", signatures=(signature,))


def _refused(check: PinCheck) -> SignOutcome:
    return SignOutcome(False, check.message, pause_s=check.pause_s, retry_in_s=check.retry_in_s)


def _not_opened(check: KeyCheck) -> SignOutcome:
    return SignOutcome(False, check.message, pause_s=check.pause_s, retry_in_s=check.retry_in_s)
