"""Training data: a demo team, demo clients and complete, realistic past sessions.

Only ever written to the training database. Each session is played through the same use
cases as a real one, with past times, so what the screens and exports show is what a real
session would have stored: the baseline and every scheduled check-in (blood pressure rising to
a peak around T+40 and settling again), the dose with its details, an alert acknowledged by the
nurse, the discharge check and the discharge; the therapist's notes, markers and a private
note; a session note from the clinic's template, signed as the role rules ask (the monitoring
part by the nurse, the therapy part by the therapist) and, for the first session, a signed
addendum. The esketamine session names the prescriber on site (the REMS asks for one). The most
recent session is left unsigned, ready to practise signing. Demo staff confirm with PIN
`DEMO_PIN` and sign with the signing passphrase `DEMO_PASSPHRASE`.
"""

from __future__ import annotations

import dataclasses
import math
import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from kapsession.audio.playlist import PlaylistEntry, PlaylistError, read_playlist
from kapsession.audio.probe import probe_track_headers
from kapsession.domain.adverse_events import (
    AdverseEventKind,
    InterventionKind,
    Outcome,
    Seriousness,
    Severity,
    check_adverse_event,
    check_intervention,
    check_substance_count,
)
from kapsession.domain.alert_followup import AlertAction
from kapsession.domain.clinic_rules import DEFAULT_RESCUE_MEDICATIONS
from kapsession.domain.clock import Clock, ScaledClock
from kapsession.domain.consent import Consent, ConsentKind
from kapsession.domain.course_plan import CoursePlan
from kapsession.domain.discharge import AldreteObservation
from kapsession.domain.dose_order import DoseOrder, OrderSource, usual_order
from kapsession.domain.dose_periods import HoldOutcome, InfusionAction
from kapsession.domain.protocol import Anchor, CheckinSpec, Medication, Protocol, Route, SessionType
from kapsession.domain.questionnaires import InstrumentKey
from kapsession.domain.timeline import compute_timeline, phase_changes_between
from kapsession.records.entries import DoseRecord
from kapsession.records.notes import SessionNoteText, SignedPart
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.resources import note_templates_dir, playlists_dir
from kapsession.services.checkin_results import CheckinResult
from kapsession.services.course import NextSession
from kapsession.services.dose_periods import holds_dose, infuses
from kapsession.services.music_session import track_title
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.pins import PinService
from kapsession.services.session_note import SessionNoteService, prefilled_sections
from kapsession.services.session_service import OrderEntry, SessionService, session_protocol
from kapsession.storage import schema
from kapsession.storage.audit import AuditRepository
from kapsession.storage.database import Database
from kapsession.storage.music_log import MusicLogRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository
from kapsession.storage.signing_keys import KdfParams, SigningKeyRepository, UnlockedKey

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
DEMO_PIN = "246813"  # every demo staff member's PIN (training data only)
DEMO_PASSPHRASE = "demo signing passphrase"  # every demo staff member's (training data only)
# The demo passphrase is published above, so no derivation cost protects it: its keys are sealed
# with a light Argon2id, and the demo is written in a moment.
DEMO_KDF = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)
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
    keys = SigningKeyRepository(service.database, DEMO_KDF)
    demo = [m for m in staff if m.display_name in {n for n, _r, _c in DEMO_STAFF}]
    for member in demo:
        if member.id not in keys.with_key([member.id]):
            keys.create(member.id, DEMO_PASSPHRASE, at=now)
    by_number = {c.record_number: c for c in service.clients.search("DEMO-")}
    clients = []
    for given, family, number in DEMO_CLIENTS:
        client = by_number.get(number)
        if client is None:
            client = service.add_client(given, family, at=now, record_number=number)
            _demo_consent(service, client, staff, now)
        clients.append(client)
    return staff, clients


def _demo_consent(
    service: SessionService, client: ClientRecord, staff: list[StaffRecord], now: datetime
) -> None:
    """A demo client's KAP treatment consent, signed a year ago less a month (issue 17): a
    dosing session starts only with it."""
    nurse = next((s for s in staff if s.role == "nurse"), staff[0])
    signed = (now - timedelta(days=330)).astimezone().date()
    consent = Consent(ConsentKind.KAP_TREATMENT, True, signed, "2026-01", nurse.id)
    service.consents.save(client.id, consent, at=now, by=nurse.id)


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
    # issue 16: nausea turning to emesis, ondansetron given, and the dose's count with a waste
    adverse_event: bool = False
    # issue 17: the order the session starts with (the course's standing order), else the
    # demo gives each participant's order at the start
    order: OrderEntry | None = None


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


@dataclass(frozen=True)
class DemoWritten:
    """What the demo wrote: its sessions (as `populate` returns them) and, apart, the course
    client's full course (issue 17), oldest first; empty when an earlier run wrote it."""

    sessions: list[DemoSession]
    course: list[DemoSession]


def populate(service: SessionService, now: datetime, *, seed: int = 7) -> list[DemoSession]:
    """Write completed past sessions: a course for Maya, a couples session, and others; and
    the course client's full course once (`write_demo` tells its sessions)."""
    return write_demo(service, now, seed=seed).sessions


def write_demo(service: SessionService, now: datetime, *, seed: int = 7) -> DemoWritten:
    """`populate`, with the course client's sessions told apart."""
    rng = random.Random(seed)
    staff, clients = ensure_demo_people(service, now)
    therapist, nurse, prescriber = (
        _demo_member(staff, r) for r in ("therapist", "nurse", "prescriber")
    )
    maya, jonah, lena, sam, noor = clients
    sublingual = "sublingual-kap-3h"
    plans = [
        _Plan(sublingual, "individual", [maya], 35, (("200 mg", "64 kg"),)),
        _Plan(sublingual, "individual", [maya], 28, (("3 mg/kg", "64 kg"),), alert_at="t40"),
        _Plan(sublingual, "individual", [maya], 21, (("250 mg", "63.5 kg"),), adverse_event=True),
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
            (("0.75 mg/kg", "80 kg"),),  # 60 mg: the protocol's limit
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
        record = _play_session(service, plan, start, therapist, nurse, rng, prescriber)
        records.append(record)
        made.append(_demo_session(record))
    _sign_demo_sessions(service, records, therapist, nurse)
    course: list[SessionRecord] = []
    course_client = _new_course_client(service, now)
    if course_client is not None:  # written once, like the demo's people
        course = _demo_course(service, course_client, now, therapist, nurse, prescriber, seed)
        _sign_course(service, course, therapist, nurse)
    return DemoWritten(made, [_demo_session(record) for record in course])


def _demo_session(record: SessionRecord) -> DemoSession:
    protocol = session_protocol(record)
    names = tuple(p.client.full_name for p in record.participants)
    return DemoSession(
        id=record.id,
        client=names[0],
        participants=names,
        protocol=protocol.key,
        route=protocol.dosing.route.value if protocol.gives_dose else "",  # "": no dose
        modality=record.modality,
    )


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


def _demo_orders(
    service: SessionService,
    plan: _Plan,
    record: SessionRecord,
    prescriber: StaffRecord,
    therapist: StaffRecord,
) -> list[DoseOrderRecord]:
    """Each participant's order as the dose that was given (issue 16), given at the start
    (before any dose: a dose without an order needs the prescriber's override); the IV one a
    verbal order (`_countersign_demo_orders`)."""
    dosing = session_protocol(record).dosing
    saved = []
    for participant, (dose_text, _weight) in zip(record.participants, plan.doses, strict=True):
        amount = float(dose_text.split()[0])
        per_kg = dose_text.endswith("mg/kg")
        order = replace(
            usual_order(dosing),
            dose_mg=None if per_kg else amount,
            dose_mg_per_kg=amount if per_kg else None,
            verbal=dosing.route is Route.INTRAVENOUS,
        )
        assert record.started_at is not None
        at = record.started_at + timedelta(minutes=1)
        saved.append(service.checkins.orders.add(
            record.id, participant.id, order, ordered_by=prescriber.id,
            ordered_at=record.started_at, recorded_at=at, by=therapist.id,
        ))  # fmt: skip
    return saved


def _countersign_demo_orders(
    service: SessionService,
    record: SessionRecord,
    orders: list[DoseOrderRecord],
    prescriber: StaffRecord,
) -> None:
    """A verbal order countersigned by the prescriber before the end."""
    assert record.ended_at is not None
    for saved in orders:
        if saved.order.verbal:
            signed_at = record.ended_at - timedelta(minutes=5)  # before the end
            service.entries.add_event(
                record.id, "order_countersigned", occurred_at=signed_at,
                recorded_at=signed_at, label=f"Verbal order countersigned by "
                f"{prescriber.signature_name}", participant_id=saved.participant_id,
                detail={"order_id": str(saved.id), "by": prescriber.signature_name},
                by=prescriber.id,
            )  # fmt: skip


def _demo_screening(
    service: SessionService, record: SessionRecord, at: datetime, nurse: StaffRecord
) -> None:
    """Every participant's screening before the dose, every item passed (issue 17)."""
    checklist = service.pre_dose.checklist()
    answers = {item.key: item.passes for item in checklist.items}
    for participant in record.participants:
        service.pre_dose.record_screening(
            record.id, participant.id, checklist, answers, at=at, by=nurse.id
        )


def _play_session(
    service: SessionService,
    plan: _Plan,
    start: datetime,
    therapist: StaffRecord,
    nurse: StaffRecord,
    rng: random.Random,
    prescriber: StaffRecord,
) -> SessionRecord:
    record = service.start_dosing_session(
        protocol_key=plan.protocol_key,
        client_ids=[p.id for p in plan.people],
        modality=plan.modality,
        at=start,
        room="Room 2",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        prescriber_id=plan.prescriber.id if plan.prescriber is not None else None,
        order=plan.order,
        by=therapist.id,
    )
    orders = [] if plan.order else _demo_orders(service, plan, record, prescriber, therapist)
    _demo_screening(service, record, start, nurse)  # issue 17: before the first dose
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
        _dose_period(service, record, protocol, participant.id, dose_at, nurse, index)
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
        if plan.adverse_event and index == 0:
            _adverse_event(service, result.dose, nurse, therapist)
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
    ended = service.end_session(record.id, at=end, by=therapist.id)
    _countersign_demo_orders(service, ended, orders, prescriber)
    return ended


def _dose_period(
    service: SessionService,
    record: SessionRecord,
    protocol: Protocol,
    participant_id: uuid.UUID,
    dose_at: datetime,
    nurse: StaffRecord,
    index: int,
) -> None:
    """A sublingual hold's end (spat out; the second of a couple swallowed) or an infusion
    paused for 3 minutes and stopped at 43 minutes (issue 16). No random draws: the other
    sessions' data stay as they were."""
    periods = service.dose_periods

    def late(at: datetime) -> datetime:
        return at + timedelta(seconds=20)

    if holds_dose(protocol) and protocol.dosing.hold_min:
        at = dose_at + timedelta(minutes=protocol.dosing.hold_min + 1)
        outcome = HoldOutcome.SWALLOW if index == 1 else HoldOutcome.SPIT
        periods.record_hold_outcome(
            record.id, participant_id, outcome, occurred_at=at, recorded_at=late(at), by=nurse.id
        )
    elif infuses(protocol):
        for minutes, action in (
            (18, InfusionAction.PAUSE),
            (21, InfusionAction.RESUME),
            (43, InfusionAction.STOP),
        ):
            at = dose_at + timedelta(minutes=minutes)
            periods.record_infusion_action(
                record.id, participant_id, action, occurred_at=at, recorded_at=late(at), by=nurse.id
            )


def _adverse_event(
    service: SessionService, dose: DoseRecord, nurse: StaffRecord, witness: StaffRecord
) -> None:
    """Issue 16 in the demo: nausea from T+25 turning to emesis, ondansetron 4 mg ODT at T+28,
    resolved at T+50 (an update of the entry); the dose's count, 50 mg wasted and witnessed."""
    repo = service.adverse
    onset = dose.occurred_at + timedelta(minutes=25)
    event = check_adverse_event(
        kind=AdverseEventKind.EMESIS, other="", severity=Severity.MODERATE,
        seriousness=Seriousness.NON_SERIOUS, outcome=Outcome.ONGOING, onset_at=onset,
        resolved_at=None, actions="Nausea, then vomited once; bowl, head turned to the side",
        now=onset,
    )  # fmt: skip
    saved = repo.add_adverse_event(
        dose.session_id, dose.participant_id, event, recorded_at=onset + timedelta(minutes=2),
        by=nurse.id,
    )  # fmt: skip
    given_at = dose.occurred_at + timedelta(minutes=28)
    ondansetron = check_intervention(
        kind=InterventionKind.RESCUE_MEDICATION, given_at=given_at, now=given_at,
        medications=DEFAULT_RESCUE_MEDICATIONS, medication="ondansetron", dose_text="4",
        lot_number="ON-2291",
    )  # fmt: skip
    repo.add_intervention(
        dose.session_id, dose.participant_id, ondansetron, recorded_at=given_at,
        given_by=nurse.id, adverse_event_id=saved.id, by=nurse.id,
    )  # fmt: skip
    resolved_at = dose.occurred_at + timedelta(minutes=50)
    resolved = dataclasses.replace(event, outcome=Outcome.RESOLVED, resolved_at=resolved_at)
    repo.correct_adverse_event(
        saved.id, resolved, reason="Resolved: no further vomiting, sipping water",
        recorded_at=resolved_at + timedelta(minutes=1), by=nurse.id,
    )  # fmt: skip
    repo.add_substance_count(
        dose.id, check_substance_count("300", "250", "50"), witness_id=witness.id,
        comment="Two 150 mg troches dispensed; 50 mg wasted", recorded_at=dose.recorded_at,
        by=nurse.id,
    )  # fmt: skip


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
    nurse_key, therapist_key = _demo_key(service, nurse), _demo_key(service, therapist)
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
            key=nurse_key,
        )
        signatures.sign(
            record.id,
            [SignedPart.THERAPY],
            staff_id=therapist.id,
            at=ended + timedelta(hours=2 if len(record.participants) > 1 else 1),
            key=therapist_key,
            session_note=note,
        )
        if index == 0:
            signatures.add_addendum(
                record.id,
                ADDENDUM,
                staff_id=therapist.id,
                at=ended + timedelta(days=1),
                key=therapist_key,
            )


def _demo_member(staff: list[StaffRecord], role: str) -> StaffRecord:
    """The demo team's member in `role` (whose signing key the demo passphrase opens), else the
    first of that role a trainer added."""
    demo = {n for n, _r, _c in DEMO_STAFF}
    of_role = [s for s in staff if s.role == role]
    return next((s for s in of_role if s.display_name in demo), of_role[0])


def _demo_key(service: SessionService, member: StaffRecord) -> UnlockedKey:
    """A demo staff member's signing key, opened with the demo passphrase."""
    return SigningKeyRepository(service.database, DEMO_KDF).unlock(member.id, DEMO_PASSPHRASE)


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


# The full course (issue 17) of a client of its own, written long before the other demo
# sessions: a consultation, a preparation with the client's intention, six weekly dosing
# sessions on the course's standing order, each followed two days later by its integration.
DEMO_COURSE_CLIENT = ("Ava", "Lindqvist", "DEMO-0006")
COURSE_INDICATION = "Treatment-resistant depression (F33.2): two antidepressant trials failed"
COURSE_ORDER = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), 300)
COURSE_INTENTION = "To stop bracing for the worst, and to feel the ground under my feet again."
COURSE_DAYS_AGO = 120  # the consultation; the preparation a week later, then dosing weekly
# (PHQ-9, GAD-7) at the consultation, then before each dosing session: a response from the
# fourth session on, remission (PHQ-9 below 10) by the sixth; item 9 always "not at all"
COURSE_MEASURES = ((19, 16), (18, 15), (16, 13), (14, 12), (11, 9), (9, 8), (7, 6))


def _new_course_client(service: SessionService, now: datetime) -> ClientRecord | None:
    """The course's client, added now; None when an earlier populate added them (and their
    course) already."""
    given, family, number = DEMO_COURSE_CLIENT
    if any(c.record_number == number for c in service.clients.search(number)):
        return None
    return service.add_client(given, family, at=now, record_number=number)


def _demo_course(
    service: SessionService,
    client: ClientRecord,
    now: datetime,
    therapist: StaffRecord,
    nurse: StaffRecord,
    prescriber: StaffRecord,
    seed: int,
) -> list[SessionRecord]:
    """Each session the course offers next, started as the start screen starts it (its
    template, its integration link, the standing order), until the follow-up is due."""
    rng = random.Random(seed + 1)  # its own draws: the other sessions' data stay as they were
    course = service.course
    first = (now - timedelta(days=COURSE_DAYS_AGO)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    measures = iter(COURSE_MEASURES)
    made: list[SessionRecord] = []
    dosing = 0
    while (offered := course.next_session(client.id)) is not None:
        kind = offered.step.session_type
        if kind is SessionType.FOLLOW_UP:
            break
        assert offered.protocol_key is not None
        if kind is SessionType.DOSING:
            start = first + timedelta(days=14 + 7 * dosing, hours=-1)
            dosing += 1
            order = None
            if offered.order is not None and offered.ordered_by is not None:
                order = OrderEntry(
                    offered.order, offered.ordered_by, source=OrderSource.COURSE_PLAN
                )
            plan = _Plan(
                offered.protocol_key, "individual", [client], 0, (("200 mg", "71 kg"),), order=order
            )
            record = _play_session(service, plan, start, therapist, nurse, rng, prescriber)
            _course_measures(service, record, next(measures), nurse, rng)
        else:
            days = {SessionType.CONSULTATION: 0, SessionType.PREPARATION: 7}.get(kind)
            start = first + timedelta(days=14 + 7 * (dosing - 1) + 2, hours=5)
            if days is not None:
                start = first + timedelta(days=days)
            record, end = _course_talk(service, client, offered, start, therapist, nurse)
            if kind is SessionType.CONSULTATION:
                _course_measures(service, record, next(measures), nurse, rng)
                _course_consultation(service, client, end, nurse, prescriber)
            elif kind is SessionType.PREPARATION:
                course.add_intention(
                    record.id, record.participants[0].id, COURSE_INTENTION,
                    at=start + timedelta(minutes=20), by=therapist.id,
                )  # fmt: skip
            record = service.end_session(record.id, at=end, by=therapist.id)
        made.append(record)
    return made


def _course_talk(
    service: SessionService,
    client: ClientRecord,
    offered: NextSession,
    start: datetime,
    therapist: StaffRecord,
    nurse: StaffRecord,
) -> tuple[SessionRecord, datetime]:
    """A session without a dose, started, with its template's phases on the session clock;
    and when it ends (its last phase's end)."""
    assert offered.protocol_key is not None
    follows = offered.follows_session_id
    record = service.start_dosing_session(
        protocol_key=offered.protocol_key,
        client_ids=[client.id],
        modality="individual",
        at=start,
        room="Room 1",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        follows=None if follows is None else {client.id: follows},
        by=therapist.id,
    )
    protocol = session_protocol(record)
    end = start + timedelta(minutes=protocol.phases[-1].ends.minutes)
    for at, phase in phase_changes_between(
        protocol, started_at=start, first_dose_at=None, after=start - timedelta(microseconds=1),
        upto=end,
    ):  # fmt: skip
        service.record_phase_change(record.id, phase, at=at, recorded_at=at, participant_id=None)
    return record, end


def _course_consultation(
    service: SessionService,
    client: ClientRecord,
    end: datetime,
    nurse: StaffRecord,
    prescriber: StaffRecord,
) -> None:
    """What the consultation settles at its end: the client's consents (KAP treatment, touch)
    and the course plan with the prescriber's standing order."""
    at = end - timedelta(minutes=5)
    signed = at.astimezone().date()
    for kind in (ConsentKind.KAP_TREATMENT, ConsentKind.TOUCH):
        consent = Consent(kind, True, signed, "2026-01", nurse.id)
        service.consents.save(client.id, consent, at=at, by=nurse.id)
    plan = CoursePlan(
        indication=COURSE_INDICATION,
        dosing_sessions=len(COURSE_MEASURES) - 1,
        medication=Medication.KETAMINE,
        route=Route.SUBLINGUAL,
        standing_order=COURSE_ORDER,
        ordered_by=prescriber.id,
    )
    service.course.save_plan(client.id, plan, at=at, by=prescriber.id, based_on=None)


def _course_measures(
    service: SessionService,
    record: SessionRecord,
    totals: tuple[int, int],
    nurse: StaffRecord,
    rng: random.Random,
) -> None:
    """The client's PHQ-9 and GAD-7 on paper at the start of the session, entered by the
    nurse; item answers spread to give `totals`, PHQ-9 item 9 answered 0."""
    assert record.started_at is not None
    client_id = record.participants[0].client.id
    given = record.started_at + timedelta(minutes=2)
    for key, items, total in (
        (InstrumentKey.PHQ9, 8, totals[0]),
        (InstrumentKey.GAD7, 7, totals[1]),
    ):
        answers = [total // items + (1 if i < total % items else 0) for i in range(items)]
        rng.shuffle(answers)
        numbered: dict[int, int | None] = {n: a for n, a in enumerate(answers, start=1)}
        if key is InstrumentKey.PHQ9:
            numbered[9] = 0
        service.measures.save(
            client_id, key, numbered, administered_at=given, at=given + timedelta(minutes=3),
            by=nurse.id, session_id=record.id,
        )  # fmt: skip


def _sign_course(
    service: SessionService,
    records: list[SessionRecord],
    therapist: StaffRecord,
    nurse: StaffRecord,
) -> None:
    """Sign each session of the course as `_sign_demo_sessions` does, with the course's own
    words in the session note."""
    catalog = NoteTemplateCatalog(note_templates_dir(), None)
    template = catalog.get(catalog.default_key)
    note_service = SessionNoteService(service.database, _NoClock())
    signatures = SignatureRepository(service.database, service.roles)
    nurse_key, therapist_key = _demo_key(service, nurse), _demo_key(service, therapist)
    for record in records:
        ended = record.ended_at or record.created_at
        sections = prefilled_sections(template, note_service.facts(record.id))
        sections = [(k, t, body or _COURSE_SECTION_TEXT.get(k, "")) for k, t, body in sections]
        note = SessionNoteText(template.key, tuple(sections))
        signatures.sign(
            record.id,
            [SignedPart.MONITORING],
            staff_id=nurse.id,
            at=ended + timedelta(minutes=10),
            key=nurse_key,
        )
        signatures.sign(
            record.id,
            [SignedPart.THERAPY],
            staff_id=therapist.id,
            at=ended + timedelta(hours=1),
            key=therapist_key,
            session_note=note,
        )


_COURSE_SECTION_TEXT = {
    "client_words": "\u201cI can feel my feet on the floor.\u201d",
    "themes": "Bracing for the worst; the body as somewhere safe to land.",
    "plan": "Next session of the course as planned; PHQ-9 and GAD-7 before each dosing session.",
}
