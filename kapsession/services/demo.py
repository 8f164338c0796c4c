"""Training data: a demo team, demo clients and complete, realistic past sessions.

Only ever written to the training database. Each session is played through the same use
cases as a real one, with past times, so what the screens and exports show is what a real
session would have stored: the baseline and every scheduled check-in (blood pressure rising to
a peak around T+40 and settling again), the dose with its details, an alert acknowledged by the
nurse, the discharge check and the discharge; the therapist's notes, markers and a private
note; a session note from the clinic's template, signed as the role rules ask (the monitoring
part by the nurse, the therapy part by the therapist) and, for the first session, a signed
addendum. The esketamine session names the prescriber on site (the REMS asks for one). The most
recent session is left unsigned, ready to practise signing. Demo staff sign with PIN
`DEMO_PIN`.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from kapsession.audio.playlist import PlaylistEntry, PlaylistError, read_playlist
from kapsession.audio.probe import probe_track_headers
from kapsession.domain.alert_followup import AlertAction
from kapsession.domain.clock import Clock, ScaledClock
from kapsession.domain.discharge import AldreteObservation
from kapsession.domain.protocol import Anchor, CheckinSpec, Protocol
from kapsession.domain.timeline import compute_timeline, phase_changes_between
from kapsession.records.notes import SessionNoteText, SignedPart
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.resources import note_templates_dir, playlists_dir
from kapsession.services.checkin_results import CheckinResult
from kapsession.services.music_session import track_title
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.pins import PinService
from kapsession.services.session_note import SessionNoteService, prefilled_sections
from kapsession.services.session_service import SessionService, session_protocol
from kapsession.storage import schema
from kapsession.storage.audit import AuditRepository
from kapsession.storage.database import Database
from kapsession.storage.music_log import MusicLogRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository

DEMO_CLIENTS = (
    ("Maya", "Fischer", "DEMO-0001"),
    ("Jonah", "Okafor", "DEMO-0002"),
    ("Lena", "Okafor", "DEMO-0003"),
    ("Sam", "Reyes", "DEMO-0004"),
    ("Noor", "Haddad", "DEMO-0005"),
)
DEMO_STAFF = (
    ("Dr. Ruth Adeyemi", "therapist", "PsyD"),
    ("Tom Becker", "nurse", "RN"),
    ("Dr. Ines Moreau", "prescriber", "MD"),
)
DEMO_PIN = "2468"  # every demo staff member's signing PIN (training data only)
NOTES = (  # (minutes after the dose, the therapist's note)
    (-20, "Intention: to meet the grief about my brother with more kindness."),
    (9, "Settling; breathing slower, hands open on the blanket."),
    (27, "Says she is \u201cfloating over the lake house\u201d; smiling, then quiet."),
    (46, "Tearful, asked for a hand on the shoulder (consent given earlier)."),
    (64, "Describes her brother laughing; warmth in the chest."),
    (95, "Re-entry: oriented, drinking water, wants to write a letter to him."),
)
PRIVATE_NOTE = (40, "My own grief stirred at the lake image; bring to supervision.")
ADDENDUM = "Phoned the next day: slept well, no nausea; the letter is written. Integration Tue."
MARKERS = (
    (-12, "Touch consent given"),
    (3, "Eye mask on"),
    (18, "Music request"),
    (34, "Tearful"),
    (52, "Restless"),
    (71, "Eye mask off"),
    (83, "Spoke"),
)


@dataclass(frozen=True)
class DemoSession:
    id: uuid.UUID
    client: str
    participants: tuple[str, ...]
    protocol: str
    route: str
    modality: str

    def as_dict(self) -> dict[str, object]:
        return {
            "id": str(self.id),
            "client": self.client,
            "participants": list(self.participants),
            "protocol": self.protocol,
            "route": self.route,
            "modality": self.modality,
        }


def resume_training_clock(database: Database, clock: Clock) -> datetime | None:
    """`kapsession demo --speed N` started again: its clock goes on from the latest time the
    training record holds (an entry, an event, the music, a draft), not from the real time, so a
    session resumed keeps the time it had reached (at 60x an hour of training passes in a real
    minute; started again from the real time, the clock would run back to before its entries).
    The latest time, or None when the clock runs at real speed or the record is empty."""
    if not isinstance(clock, ScaledClock):
        return None
    latest = [
        func.max(schema.audit_entry.c.occurred_at),
        func.max(schema.session_event.c.recorded_at),
        func.max(schema.music_event.c.recorded_at),
        func.max(schema.note_draft.c.updated_at),
    ]
    with database.rows() as rows:
        times = [rows.execute(select(column)).scalar() for column in latest]
    found: list[datetime] = [t for t in times if t is not None]
    if not found:
        return None
    clock.resume_from(max(found))
    return max(found)


def ensure_demo_people(
    service: SessionService, now: datetime
) -> tuple[list[StaffRecord], list[ClientRecord]]:
    """The demo team and clients, each created once (whoever else a trainer has added)."""
    staff = service.staff.active()
    names = {s.display_name for s in staff}
    staff += [
        service.add_staff(n, r, at=now, credentials=c) for n, r, c in DEMO_STAFF if n not in names
    ]
    pins = PinService(service.staff, AuditRepository(service.database), _NowClock(now))
    for member in staff:
        if member.display_name in {n for n, _r, _c in DEMO_STAFF} and not pins.has_pin(member.id):
            pins.set_pin(member.id, DEMO_PIN, DEMO_PIN)
    by_number = {c.record_number: c for c in service.clients.search("DEMO-")}
    clients = []
    for given, family, number in DEMO_CLIENTS:
        client = by_number.get(number)
        if client is None:
            client = service.add_client(given, family, at=now, record_number=number)
        clients.append(client)
    return staff, clients


@dataclass(frozen=True)
class _Plan:
    """One demo session: who, which protocol, and what is special about it."""

    protocol_key: str
    modality: str
    people: list[ClientRecord]
    days_ago: int
    doses: tuple[tuple[str, str], ...]  # per participant: (dose text, weight text)
    alert_at: str | None = None  # a check-in whose blood pressure crosses the alert threshold
    baseline_bp: tuple[int, int] | None = None  # the first participant's, when it matters
    late_checkin: str | None = None  # a check-in the nurse writes up a quarter of an hour late
    prescriber: StaffRecord | None = None  # the prescriber on site, when one is named


# What each `measures` name of a protocol check-in is in a Reading (the "bp" box is one).
MEASURE_FIELDS = {
    "bp": "bp",
    "hr": "heart_rate_bpm",
    "spo2": "spo2_pct",
    "rr": "resp_rate_per_min",
    "temp": "temperature_c",
    "moaas": "moaas",
    "rass": "rass",
    "dissociation": "dissociation",
    "nausea": "nausea",
    "suds": "suds",
}
LOTS = ("KT-24117", "KT-24203", "SPR-5521A", "KI-0931", "KV-2290")


def populate(service: SessionService, now: datetime, *, seed: int = 7) -> list[DemoSession]:
    """Write completed past sessions: a course for Maya, a couples session, and others."""
    rng = random.Random(seed)
    staff, clients = ensure_demo_people(service, now)
    therapist = next(s for s in staff if s.role == "therapist")
    nurse = next(s for s in staff if s.role == "nurse")
    prescriber = next(s for s in staff if s.role == "prescriber")
    maya, jonah, lena, sam, noor = clients
    sublingual = "sublingual-kap-3h"
    plans = [
        _Plan(sublingual, "individual", [maya], 35, (("200 mg", "64 kg"),)),
        _Plan(sublingual, "individual", [maya], 28, (("3 mg/kg", "64 kg"),), alert_at="t40"),
        _Plan(sublingual, "individual", [maya], 21, (("250 mg", "63.5 kg"),)),
        _Plan(
            sublingual,
            "couples",
            [jonah, lena],
            14,
            (("300 mg", "82 kg"), ("200 mg", "61 kg")),
            late_checkin="t60",
        ),
        _Plan(
            "intramuscular-kap",
            "individual",
            [sam],
            10,
            (("0.75 mg/kg", "81 kg"),),
            baseline_bp=(146, 88),  # above 140/90: a hold-dose caution goes on the record
        ),
        _Plan("iv-infusion", "individual", [noor], 7, (("0.5 mg/kg", "68 kg"),)),
        _Plan(
            "intranasal-esketamine",
            "individual",
            [sam],
            3,
            (("56 mg", ""),),
            alert_at="t40",
            prescriber=prescriber,
        ),
    ]
    made = []
    records = []
    for plan in plans:
        start = (now - timedelta(days=plan.days_ago)).replace(
            hour=9 + rng.randint(0, 4), minute=rng.choice((0, 15, 30)), second=0, microsecond=0
        )
        record = _play_session(service, plan, start, therapist, nurse, rng)
        records.append(record)
        protocol = session_protocol(record)
        made.append(
            DemoSession(
                id=record.id,
                client=plan.people[0].full_name,
                participants=tuple(p.full_name for p in plan.people),
                protocol=protocol.key,
                route=protocol.dosing.route.value,
                modality=plan.modality,
            )
        )
    _sign_demo_sessions(service, records, therapist, nurse)
    return made


@dataclass
class _Physiology:
    """A participant's readings over the session: a baseline and the rise around the peak."""

    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int
    resp_rate: int
    suds: int
    rise_mmhg: float  # systolic rise at the peak; diastolic rises about 0.6 of it
    peak_min: float = 40.0
    jitter: dict[str, float] = field(default_factory=dict)

    def effect(self, minutes_after_dose: float | None) -> float:
        """0 before the dose, 1 at the peak, fading over the next hour or so."""
        if minutes_after_dose is None or minutes_after_dose < 0:
            return 0.0
        return math.exp(-(((minutes_after_dose - self.peak_min) / 32) ** 2))

    def raw(
        self, spec: CheckinSpec, minutes_after_dose: float | None, rng: random.Random
    ) -> dict[str, str]:
        """What the nurse types for this check-in: only what the protocol asks for."""
        effect = self.effect(minutes_after_dose)
        dosed = minutes_after_dose is not None and minutes_after_dose >= 0
        systolic = round(self.systolic + self.rise_mmhg * effect + rng.randint(-3, 3))
        diastolic = round(self.diastolic + 0.6 * self.rise_mmhg * effect + rng.randint(-2, 2))
        values = {
            "bp": f"{systolic}/{diastolic}",
            "heart_rate_bpm": str(round(self.heart_rate + 9 * effect + rng.randint(-3, 3))),
            "spo2_pct": str(min(100, self.spo2 - (1 if effect > 0.6 else 0) + rng.randint(0, 1))),
            "resp_rate_per_min": str(self.resp_rate + rng.randint(-1, 1)),
            "temperature_c": f"{36.4 + rng.randint(0, 5) / 10:.1f}",
            "moaas": str(5 - round(1.4 * effect)) if dosed else "5",
            "rass": str(-round(1.2 * effect)) if dosed else "0",
            "dissociation": str(round(2.6 * effect)) if dosed else "0",
            "nausea": str(round(2 * effect) + rng.randint(0, 1)) if dosed else "0",
            "suds": str(max(0, self.suds - (3 if dosed else 0) + rng.randint(-1, 1))),
        }
        return {MEASURE_FIELDS[m]: values[MEASURE_FIELDS[m]] for m in spec.measures}


def _physiology(rng: random.Random, baseline_bp: tuple[int, int] | None) -> _Physiology:
    systolic, diastolic = baseline_bp or (rng.randint(112, 132), rng.randint(70, 82))
    return _Physiology(
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=rng.randint(62, 80),
        spo2=rng.randint(97, 99),
        resp_rate=rng.randint(12, 16),
        suds=rng.randint(4, 7),
        rise_mmhg=rng.randint(14, 26),
    )


def _checkin_time(
    spec: CheckinSpec, start: datetime, dose_at: datetime, rng: random.Random
) -> datetime:
    base = start if spec.at.anchor is Anchor.START else dose_at
    return base + timedelta(minutes=spec.at.minutes + rng.uniform(0.0, 2.0))


def _play_session(
    service: SessionService,
    plan: _Plan,
    start: datetime,
    therapist: StaffRecord,
    nurse: StaffRecord,
    rng: random.Random,
) -> SessionRecord:
    record = service.start_session(
        protocol_key=plan.protocol_key,
        client_ids=[p.id for p in plan.people],
        modality=plan.modality,
        at=start,
        room="Room 2",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        prescriber_id=plan.prescriber.id if plan.prescriber is not None else None,
        by=therapist.id,
    )
    protocol = session_protocol(record)
    checkins = service.checkins
    planned = protocol.dosing.planned_dose_after_start_min
    doses: dict[uuid.UUID, datetime] = {}
    discharges: list[datetime] = []
    for index, participant in enumerate(record.participants):
        body = _physiology(rng, plan.baseline_bp if index == 0 else None)
        # a few minutes either side of the plan; staggered by 5 minutes in a couples session
        dose_at = start + timedelta(minutes=planned + rng.randint(-3, 6) + 5 * index)
        doses[participant.id] = dose_at
        schedule = [(spec, _checkin_time(spec, start, dose_at, rng)) for spec in protocol.checkins]
        before = [(spec, at) for spec, at in schedule if at < dose_at]
        after = [(spec, at) for spec, at in schedule if at >= dose_at]
        for spec, at in before:  # the baseline, so the hold-dose check has it
            _checkin(service, record, participant.id, spec, at, body.raw(spec, None, rng), nurse)
        dose_text, weight_text = plan.doses[index]
        result = checkins.record_dose(
            record.id,
            participant.id,
            dose_text,
            occurred_at=dose_at,
            recorded_at=dose_at + timedelta(seconds=20),
            weight_text=weight_text,
            lot_number=rng.choice(LOTS),
            given_by=nurse.id,
            by=nurse.id,
        )
        if result.dose is None:
            raise RuntimeError(f"demo dose refused: {result.message}")
        status = result.intranasal
        while status is not None and status.next_device_due_at is not None:
            device_at = status.next_device_due_at + timedelta(seconds=rng.randint(5, 40))
            status = checkins.record_device(
                record.id,
                participant.id,
                occurred_at=device_at,
                recorded_at=device_at + timedelta(seconds=15),
                by=nurse.id,
            ).status
        for spec, at in after:
            raw = body.raw(spec, (at - dose_at) / timedelta(minutes=1), rng)
            if spec.key == plan.alert_at and index == 0:
                raw["bp"] = f"{183 + rng.randint(0, 6)}/{96 + rng.randint(0, 6)}"
            late = spec.key == plan.late_checkin and index == len(record.participants) - 1
            saved = _checkin(service, record, participant.id, spec, at, raw, nurse, late=late)
            for alert in saved.alerts:
                checkins.acknowledge_alert(
                    alert.id,
                    by=nurse.id,
                    at=alert.raised_at + timedelta(minutes=rng.randint(1, 3)),
                    action=AlertAction.RECHECKED,
                    comment="Rechecked manually, client comfortable; recheck at the next check-in",
                )
        last_at = max(at for _, at in schedule)
        discharged_at = last_at + timedelta(minutes=rng.randint(3, 6))
        discharge = checkins.record_discharge(
            record.id,
            participant.id,
            observation=AldreteObservation(activity=2, breathing=2, consciousness=2),
            checklist={item.key: True for item in protocol.discharge.checklist},
            occurred_at=discharged_at,
            recorded_at=discharged_at + timedelta(seconds=40),
            by=nurse.id,
        )
        if not discharge.saved:
            problems = [p.message for p in discharge.evaluation.problems]
            raise RuntimeError(f"demo discharge refused: {problems}")
        discharges.append(discharged_at)
    end = max(doses.values())
    last_phase_end = protocol.phases[-1].ends
    end = end + timedelta(minutes=last_phase_end.minutes + rng.randint(0, 10))
    end = max(end, max(discharges) + timedelta(minutes=2))
    _phases_and_markers(service, record, protocol, start, doses, end, therapist, rng)
    _music_log(service, record, protocol, start, min(doses.values()), end, rng)
    _notes(service, record, protocol, start, doses, end, therapist)
    return service.end_session(record.id, at=end, by=therapist.id)


def _notes(
    service: SessionService,
    record: SessionRecord,
    protocol: Protocol,
    start: datetime,
    doses: dict[uuid.UUID, datetime],
    end: datetime,
    therapist: StaffRecord,
) -> None:
    """The therapist's notes on the first participant's clock, and one private note."""
    notes = NoteRepository(service.database)
    participant = record.participants[0].id
    dose_at = doses[participant]
    shared = len(record.participants) > 1
    for minutes, text in (*NOTES, PRIVATE_NOTE):
        at = dose_at + timedelta(minutes=minutes, seconds=20)
        if at >= end:
            continue
        state = compute_timeline(protocol, started_at=start, now=at, first_dose_at=dose_at)
        phase = state.current_phase
        place: dict[str, Any] = {
            "occurred_at": at,
            "recorded_at": at,
            "participant_id": participant if shared else None,
            "phase_key": None if phase is None else phase.spec.key,
            "elapsed_s": round((at - start).total_seconds()),
            "since_dose_s": round((at - dose_at).total_seconds()),
            "by": therapist.id,
        }
        if (minutes, text) == PRIVATE_NOTE:
            notes.add_private(record.id, text, **place)
        else:
            notes.add_entry(record.id, text, **place)


def _sign_demo_sessions(
    service: SessionService,
    records: list[SessionRecord],
    therapist: StaffRecord,
    nurse: StaffRecord,
) -> None:
    """Sign all but the most recent session with a session note from the default template:
    the monitoring part by the nurse, the therapy part by the therapist (the role rules); the
    first one gets a signed addendum."""
    catalog = NoteTemplateCatalog(note_templates_dir(), None)
    template = catalog.get(catalog.default_key)
    note_service = SessionNoteService(service.database, _NoClock())
    signatures = SignatureRepository(service.database, service.roles)
    for index, record in enumerate(records[:-1]):
        ended = record.ended_at or record.created_at
        sections = prefilled_sections(template, note_service.facts(record.id))
        sections = [(k, t, body or _DEMO_SECTION_TEXT.get(k, "")) for k, t, body in sections]
        note = SessionNoteText(template.key, tuple(sections))
        signatures.sign(
            record.id,
            [SignedPart.MONITORING],
            staff_id=nurse.id,
            at=ended + timedelta(minutes=12),
        )
        signatures.sign(
            record.id,
            [SignedPart.THERAPY],
            staff_id=therapist.id,
            at=ended + timedelta(hours=2 if len(record.participants) > 1 else 1),
            session_note=note,
        )
        if index == 0:
            signatures.add_addendum(
                record.id, ADDENDUM, staff_id=therapist.id, at=ended + timedelta(days=1)
            )


_DEMO_SECTION_TEXT = {
    "client_words": "\u201cI could finally let him be happy in my mind.\u201d",
    "themes": "Grief held with warmth; the letter to her brother; body as a safe place.",
    "plan": "Integration session Tuesday; next dosing session in one week if BP settles.",
}


class _NowClock:
    """A clock stopped at the demo's `now`, for the PINs' audit rows."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return 0.0


class _NoClock:
    """The demo never asks the note service for the time (it signs at fixed past times)."""

    def now(self) -> datetime:
        raise AssertionError("the demo writes explicit times")

    def monotonic(self) -> float:
        raise AssertionError("the demo writes explicit times")


def _music_log(
    service: SessionService,
    record: SessionRecord,
    protocol: Protocol,
    start: datetime,
    first_dose: datetime,
    end: datetime,
    rng: random.Random,
) -> None:
    """What a therapist's music would have left in the record: each phase's playlist played
    through (real track lengths from the bundled files), transitions, a volume change, a pause
    and a skip."""
    log = MusicLogRepository(service.database)
    timeline = compute_timeline(protocol, started_at=start, now=end, first_dose_at=first_dose)
    volume = 60.0
    at = start + timedelta(minutes=2)  # music starts once the client has settled
    log.add(record.id, "volume", occurred_at=at, recorded_at=at, volume_pct=volume)
    paused_once = skipped_once = False
    tracks_played = 0
    previous_phase: str | None = None
    for window in timeline.phases:
        name = window.spec.playlist
        if name is None:
            continue
        try:
            playlist = read_playlist(playlists_dir() / name)
        except (PlaylistError, OSError):
            continue
        at = max(at, window.begins_at)
        if previous_phase is not None:
            log.add(
                record.id,
                "phase_transition",
                occurred_at=at,
                recorded_at=at,
                playlist=name,
                phase_key=window.spec.key,
                volume_pct=volume,
                detail={
                    "from_phase": previous_phase,
                    "to_phase": window.spec.key,
                    "mode": protocol.music.transition,
                },
            )
        previous_phase = window.spec.key
        entries = [e for e in playlist.entries if e.path is not None]
        index = 0
        while entries and at < window.ends_at:
            entry = entries[index % len(entries)]
            assert entry.path is not None
            length = probe_track_headers(entry.path).duration_ms or 300_000

            def event(
                kind: str,
                when: datetime,
                volume_pct: float,
                *,
                position_ms: int | None = None,
                detail: dict[str, Any] | None = None,
                entry: PlaylistEntry = entry,
                playlist: str = name,
                phase: str = window.spec.key,
            ) -> None:
                log.add(
                    record.id,
                    kind,
                    occurred_at=when,
                    recorded_at=when,
                    track_path=str(entry.path),
                    track_title=track_title(entry),
                    playlist=playlist,
                    phase_key=phase,
                    volume_pct=volume_pct,
                    position_ms=position_ms,
                    detail=detail,
                )

            event("track_start", at, volume, detail={"duration_ms": length})
            played = timedelta(milliseconds=length)
            tracks_played += 1
            if tracks_played == 3 and not skipped_once:  # the therapist skips one track
                played = timedelta(seconds=rng.randint(40, 90))
                skipped_once = True
                skip_ms = int(played.total_seconds() * 1000)
                event(
                    "skip", at + played, volume, position_ms=skip_ms, detail={"direction": "next"}
                )
            if window.begins_at >= first_dose and not paused_once:  # paused once after the dose
                pause_at = at + timedelta(seconds=rng.randint(60, 120))
                event("pause", pause_at, volume)
                resume_at = pause_at + timedelta(seconds=rng.randint(20, 50))
                event("resume", resume_at, volume)
                played += resume_at - pause_at
                paused_once = True
                volume = 50.0
                event("volume", resume_at, volume)
            at = min(at + played, end)
            event("track_end", at, volume, position_ms=int(played.total_seconds() * 1000))
            index += 1
    log.add(
        record.id,
        "stop",
        occurred_at=at,
        recorded_at=at,
        volume_pct=volume,
        detail={"reason": "session ended"},
    )


def _checkin(
    service: SessionService,
    record: SessionRecord,
    participant_id: uuid.UUID,
    spec: CheckinSpec,
    at: datetime,
    raw: dict[str, str],
    nurse: StaffRecord,
    *,
    late: bool = False,
) -> CheckinResult:
    delay = timedelta(minutes=15) if late else timedelta(seconds=45)
    result = service.checkins.save_checkin(
        record.id,
        participant_id,
        raw,
        occurred_at=at,
        recorded_at=at + delay,
        checkin_key=spec.key,
        on_room_air=True,
        by=nurse.id,
    )
    if not result.saved:
        raise RuntimeError(f"demo check-in refused: {result.message}")
    return result


def _phases_and_markers(
    service: SessionService,
    record: SessionRecord,
    protocol: Protocol,
    start: datetime,
    doses: dict[uuid.UUID, datetime],
    end: datetime,
    therapist: StaffRecord,
    rng: random.Random,
) -> None:
    for participant in record.participants:
        for at, phase in phase_changes_between(
            protocol,
            started_at=start,
            first_dose_at=doses[participant.id],
            after=start - timedelta(microseconds=1),
            upto=end,
        ):
            service.record_phase_change(
                record.id, phase, at=at, recorded_at=at, participant_id=participant.id
            )
        for minutes, label in MARKERS:
            if rng.random() < 0.75:
                at = doses[participant.id] + timedelta(minutes=minutes + rng.random())
                service.add_marker(
                    record.id,
                    label,
                    at=at,
                    recorded_at=at + timedelta(seconds=5),
                    participant_id=participant.id,
                    by=therapist.id,
                )
