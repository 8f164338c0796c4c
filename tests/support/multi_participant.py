"""Shared sessions for isolation tests: a couples session, a three-person group session and an
intranasal esketamine couples session, played through the app's own services on a fake clock
into a real SQLite data folder.

Every participant has a distinctive name, record number and date of birth, and their own dose
(the prescriber's order for them is that dose), check-ins (baseline and later ones with values
no other participant of the session has), an alert with its acknowledgement, record notes, a
private note, markers and a discharge. The first participant's baseline is in the hold-dose
caution band, the second's over the block limit (dosed with an override), the third's within
the limits. Every text a participant's entries carry holds their `code`, an invented word found
nowhere else, so "does another participant's data show?" is a search for that word.
The couples and group sessions are signed (with the session note the app prefills); the
esketamine session is left unsigned, a draft.

Entries go through what the live screen uses: `LiveSession` for check-ins, alerts, doses,
devices, discharges and the end, `NotePad` for notes, private notes and quick markers, and
`SessionNoteService` for signing with a PIN.

`build_multi_participant(folder)` writes the data and returns `MultiParticipantData`, a plain
description of what was written. The fixtures at the end build it once per test run:
`multi_participant` (read it through `.context`, a copy of the pristine folder that tests
may only read or audit) and `multi_participant_copy` (a context on this test's own copy).
`build_live(folder, key)` plays the couples or group session only up to `LIVE_AFTER_START` and
leaves it live, for what only a running session shows (the forms, the note pad, the nurse
board); the `live_multi_participant` fixture builds both once per run, and a test opens its own
copy (`open_live_copy`, or `copy_live` for the window's data folder).
tests/export/conftest.py, tests/services/conftest.py and tests/ui/conftest.py import them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from kapsession.domain.clock import FakeClock
from kapsession.domain.discharge import AldreteObservation, DischargeOverride
from kapsession.domain.hold_dose import HoldDoseOverride
from kapsession.domain.protocol import Protocol
from kapsession.paths import resolve_paths
from kapsession.records.notes import SessionNoteText
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.resources import note_templates_dir
from kapsession.services.context import AppContext, open_context
from kapsession.services.live_session import LiveSession
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.notepad import NotePad
from kapsession.services.session_note import SessionNoteService
from kapsession.services.session_service import SessionService
from support.signing import FAST_KDF, PASSPHRASE, give_passphrase
from support.team import pass_screening, usual_order

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app

BUILT_AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # the couples session starts here
PIN = "864297"  # the signing PIN of the builder's staff
SUBLINGUAL = "sublingual-kap-3h"
ESKETAMINE = "intranasal-esketamine"


# --- what was written ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadingValues:
    """One check-in as the nurse typed it."""

    checkin_key: str
    minutes_after_dose: float  # negative: before the dose (the baseline)
    heart_rate: int
    spo2: int
    systolic: int | None = None
    diastolic: int | None = None
    comment: str = ""
    alert: bool = False  # the systolic value crosses the protocol's 180 mmHg alert

    @property
    def bp(self) -> str | None:
        """As every format writes it, e.g. "131/77"."""
        if self.systolic is None or self.diastolic is None:
            return None
        return f"{self.systolic}/{self.diastolic}"


@dataclass(frozen=True)
class ParticipantData:
    """One participant of a built session and everything distinctive written for them."""

    session_key: str
    position: int
    participant_id: uuid.UUID
    client_id: uuid.UUID
    given_name: str
    family_name: str
    record_number: str
    date_of_birth: date
    code: str  # an invented word inside every text of theirs (notes, markers, comments)
    dose_text: str
    dose_mg: float
    weight_text: str
    lot_number: str
    readings: tuple[ReadingValues, ...]
    notes: tuple[str, ...]
    private_notes: tuple[str, ...]
    markers: tuple[str, ...]
    acknowledgement: str  # the comment the nurse wrote when acknowledging their alert
    hold_dose: str  # what the hold-dose check said before the first dose (`HOLD_DOSE`)
    override_reason: str  # the reason the dose was given anyway ("" without an override)
    discharge_override: str  # the reason they left although the check failed ("" if it passed)
    dose_at: datetime
    discharged_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def weight_kg(self) -> float | None:
        return float(self.weight_text.removesuffix(" kg")) if self.weight_text else None

    @property
    def names(self) -> tuple[str, str, str]:
        return self.full_name, self.given_name, self.family_name

    @property
    def ids(self) -> tuple[str, ...]:
        """The participant's and the client's ids, dashed and as bare hex."""
        return tuple(
            text for i in (self.participant_id, self.client_id) for text in (str(i), i.hex)
        )

    @property
    def dates_of_birth(self) -> tuple[str, ...]:
        """The date of birth as the formats write it (ISO, "17 Mar 1961", US and day first)."""
        d = self.date_of_birth
        return (d.isoformat(), f"{d.day} {d:%b %Y}", f"{d:%m/%d/%Y}", f"{d:%d/%m/%Y}")

    @property
    def shared_texts(self) -> tuple[str, ...]:
        """Every distinctive text of theirs that belongs in their record (not private)."""
        comments = tuple(r.comment for r in self.readings if r.comment)
        overrides = tuple(t for t in (self.override_reason, self.discharge_override) if t)
        return (*self.notes, *self.markers, self.acknowledgement, *comments, *overrides)

    @property
    def blood_pressures(self) -> tuple[str, ...]:
        return tuple(r.bp for r in self.readings if r.bp is not None)

    @property
    def alert_reading(self) -> ReadingValues:
        return next(r for r in self.readings if r.alert)

    @property
    def alert_message(self) -> str:
        """Their alert as the app words it (the start of it: "Systolic BP 184 mmHg")."""
        return f"Systolic BP {self.alert_reading.systolic} mmHg"


@dataclass(frozen=True)
class SessionData:
    key: str  # "couples", "group" or "esketamine"
    session_id: uuid.UUID
    protocol_key: str
    modality: str
    signed: bool
    participants: tuple[ParticipantData, ...]

    def others(self, participant: ParticipantData) -> tuple[ParticipantData, ...]:
        return tuple(p for p in self.participants if p.participant_id != participant.participant_id)


@dataclass(frozen=True)
class MultiParticipantData:
    """The built data: `folder` is the pristine data folder (copy it before writing)."""

    folder: Path
    sessions: tuple[SessionData, ...]
    now: datetime  # the builder's clock when it finished: after every session
    therapist: StaffRecord
    nurse: StaffRecord
    context: AppContext | None = None  # set by the `multi_participant` fixture (a read copy)

    def session(self, key: str) -> SessionData:
        return next(s for s in self.sessions if s.key == key)

    @property
    def couples(self) -> SessionData:
        return self.session("couples")

    @property
    def group(self) -> SessionData:
        return self.session("group")

    @property
    def esketamine(self) -> SessionData:
        return self.session("esketamine")


# --- the people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    given_name: str
    family_name: str
    record_number: str
    date_of_birth: date
    code: str


# Invented codes, and names no word the app writes contains. No text, record number or lot
# holds a hyphen: pdftotext joins a word broken at a hyphen at the end of a line.
PEOPLE: dict[str, tuple[Person, ...]] = {
    "couples": (
        Person("Ottilie", "Brandvold", "MPC4471", date(1961, 3, 17), "quillmoraine"),
        Person("Casimir", "Oyelaran", "MPC5582", date(1974, 11, 23), "brackenvelt"),
    ),
    "group": (
        Person("Perpetua", "Lindqvist", "MPG6613", date(1958, 5, 29), "larkspindle"),
        Person("Evander", "Mbatha", "MPG7724", date(1983, 8, 14), "thornwhistle"),
        Person("Rosalind", "Achterberg", "MPG8835", date(1990, 1, 26), "cobblemere"),
    ),
    "esketamine": (
        Person("Leopold", "Szymanski", "MPE9946", date(1969, 7, 19), "gorsewick"),
        Person("Marisol", "Okonkwo", "MPE1057", date(1977, 10, 13), "ravenholm"),
    ),
}


def add_people(
    service: SessionService, key: str, *, at: datetime, by: uuid.UUID | None
) -> list[ClientRecord]:
    """The clients of one of the sessions (`PEOPLE[key]`), added as the app adds a client."""
    return [
        service.add_client(
            p.given_name,
            p.family_name,
            at=at,
            date_of_birth=p.date_of_birth,
            record_number=p.record_number,
            by=by,
        )
        for p in PEOPLE[key]
    ]


# The baseline blood pressure by position: over the hold-dose caution limit (140/90), over the
# block limit (160/100, dosed with an override whose reason holds the code), and within both;
# so each first dose but the third puts a hold-dose entry of its own on the record.
BASELINES = ((143, 86), (163, 94), (127, 77))
HOLD_DOSE = ("caution", "override", "ok")
# The first and third participants leave before their escort arrives: the discharge check
# does not pass and is overridden, with a reason that holds the code.
DISCHARGE_OVERRIDDEN = (True, False, True)


def readings_for(protocol_key: str, position: int, code: str) -> tuple[ReadingValues, ...]:
    """A participant's check-ins: heart rate 61, 72 or 83 (and +2, +4 later), SpO2 94, 96 or
    98, and blood pressures whose systolic values no other position uses."""
    hr, spo2 = 61 + 11 * position, 94 + 2 * position
    systolic, diastolic = BASELINES[position]
    baseline = ReadingValues(
        "baseline", -30, hr, spo2, systolic, diastolic, comment=f"Seated, left arm, {code} cuff"
    )
    alert = ReadingValues(
        "t40",
        40,
        hr + 4,
        spo2,
        181 + 3 * position,
        97 + position,
        comment=f"Rechecked at once, {code} recheck",
        alert=True,
    )
    if protocol_key == ESKETAMINE:
        return (
            baseline,
            ReadingValues("t15", 15, hr + 2, spo2),  # HR, SpO2 and scales: no blood pressure
            alert,
            ReadingValues("pre-discharge", 120, hr, spo2, systolic + 4, diastolic + 2),
        )
    return (
        baseline,
        ReadingValues("t15", 15, hr + 2, spo2, systolic + 8, diastolic + 6),
        alert,
        ReadingValues("pre-discharge", 130, hr, spo2, systolic + 4, diastolic + 2),
    )


def _raw(protocol: Protocol, reading: ReadingValues) -> dict[str, str]:
    """What the nurse types for a check-in: only what the protocol's check-in asks for."""
    values = {
        "bp": reading.bp or "",
        "hr": str(reading.heart_rate),
        "spo2": str(reading.spo2),
        "rr": "14",
        "moaas": "4" if reading.minutes_after_dose >= 0 else "5",
        "rass": "0",
        "dissociation": "1" if reading.minutes_after_dose >= 0 else "0",
        "nausea": "0",
        "suds": "3",
    }
    fields = {
        "bp": "bp",
        "hr": "heart_rate_bpm",
        "spo2": "spo2_pct",
        "rr": "resp_rate_per_min",
        "moaas": "moaas",
        "rass": "rass",
        "dissociation": "dissociation",
        "nausea": "nausea",
        "suds": "suds",
    }
    measures = protocol.checkin(reading.checkin_key).measures
    raw = {fields[m]: values[m] for m in measures if m in fields and values[m]}
    if reading.comment:
        raw["comment"] = reading.comment
    return raw


# --- playing a session --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    key: str
    protocol_key: str
    modality: str
    start: datetime
    doses: tuple[tuple[str, float, str], ...]  # per position: dose text, mg, weight text
    sign: str  # "split" (nurse and therapist), "one" (the therapist) or "" (left unsigned)


PLANS = (
    _Plan(
        "couples",
        SUBLINGUAL,
        "couples",
        BUILT_AT,
        (("200 mg", 200.0, "58.5 kg"), ("250 mg", 250.0, "79.5 kg")),
        "split",
    ),
    _Plan(
        "group",
        SUBLINGUAL,
        "group",
        BUILT_AT + timedelta(hours=5),
        (("175 mg", 175.0, "52.5 kg"), ("225 mg", 225.0, "68.5 kg"), ("275 mg", 275.0, "88.5 kg")),
        "one",
    ),
    _Plan(
        "esketamine",
        ESKETAMINE,
        "couples",
        BUILT_AT + timedelta(days=1),
        (("56 mg", 56.0, ""), ("84 mg", 84.0, "")),
        "",
    ),
)


class _Session:
    """Plays one plan on the live session, entry by entry in time order."""

    def __init__(
        self,
        context: AppContext,
        clock: FakeClock,
        plan: _Plan,
        therapist: StaffRecord,
        nurse: StaffRecord,
    ) -> None:
        self.context, self.clock, self.plan = context, clock, plan
        self.therapist, self.nurse = therapist, nurse
        service = context.service
        clients = add_people(service, plan.key, at=clock.now(), by=therapist.id)
        self.record = service.start_session(
            protocol_key=plan.protocol_key,
            client_ids=[c.id for c in clients],
            modality=plan.modality,
            at=clock.now(),
            room="Room 3",
            therapist_id=therapist.id,
            nurse_id=nurse.id,
            by=therapist.id,
        )
        for participant, (_text, dose_mg, _weight) in zip(
            self.record.participants, plan.doses, strict=True
        ):  # each participant's order: the dose they are given, no booster, nothing more
            # (no number in it is another participant's: the exports are searched for those)
            order = usual_order(
                service, plan.protocol_key, clock.now(), dose_mg=dose_mg, boosters=0,
                booster_mg=None, booster_window_min=None, max_total_mg=dose_mg,
            )  # fmt: skip
            service.record_order(
                self.record, participant.id, order, at=clock.now(), by=therapist.id
            )
        pass_screening(service, self.record, clock.now())  # the first dose waits for it (17)
        self.live = LiveSession(service, self.record.id, clock)
        self.pad = NotePad(self.live)
        self.failures: list[str] = []
        self.live.entry_failed.connect(self.failures.append)
        self.pad.draft_failed.connect(self.failures.append)

    def at(self, when: datetime, staff: StaffRecord, action: Callable[[], object]) -> None:
        """Let the room's clock run to `when` (the app's timer ticks), then make the entry."""
        if when > self.clock.now():
            self.clock.advance((when - self.clock.now()).total_seconds())
        self.live.tick()
        self.live.switch_to(staff.id)  # as if each switched in at the keyboard (Ctrl+W)
        outcome = action()
        if outcome is None or outcome is False or self.failures:
            raise RuntimeError(f"{self.plan.key}: entry refused at {when}: {self.failures}")

    def play(self, until: datetime | None = None) -> tuple[ParticipantData, ...]:
        """Every participant's entries, made in time order across the room; then the end. With
        `until`, only the entries due by then: the clock is left there, the session live."""
        made = tuple(self._describe(index) for index in range(len(self.record.participants)))
        steps = [step for participant in made for step in self._steps(participant)]
        for when, staff, action in sorted(steps, key=lambda s: s[0]):  # stable: ties keep order
            if until is None or when <= until:
                self.at(when, staff, action)
        if until is None:
            end = max(when for when, _staff, _action in steps) + timedelta(minutes=5)
            self.at(end, self.therapist, self.live.end_session)
        else:
            self.clock.advance((until - self.clock.now()).total_seconds())
            self.live.tick()
        self.pad.stop()
        self.live.stop()
        return made

    def _describe(self, index: int) -> ParticipantData:
        """What will be written for the participant at `index`."""
        participant, person = self.record.participants[index], PEOPLE[self.plan.key][index]
        start, protocol = self.record.started_at, self.live.protocol
        assert start is not None
        code = person.code
        dose_text, dose_mg, weight = self.plan.doses[index]
        dose_at = start + timedelta(
            minutes=protocol.dosing.planned_dose_after_start_min + 5 * index
        )
        readings = readings_for(self.plan.protocol_key, index, code)
        last = max(r.minutes_after_dose for r in readings)
        return ParticipantData(
            session_key=self.plan.key,
            position=index,
            participant_id=participant.id,
            client_id=participant.client.id,
            given_name=person.given_name,
            family_name=person.family_name,
            record_number=person.record_number,
            date_of_birth=person.date_of_birth,
            code=code,
            dose_text=dose_text,
            dose_mg=dose_mg,
            weight_text=weight,
            lot_number=f"LOT{code[:4].upper()}{71 + index}",
            readings=readings,
            notes=(
                f"Intention set, the {code} harbour at dusk",
                f"Coming back, speaks of the {code} garden and smiles",
            ),
            private_notes=(f"My own reaction to the {code} garden, bring to supervision",),
            markers=(f"Eye mask on, {code}", f"Asked for water, {code}"),
            acknowledgement=f"Cuff reseated, {code} recheck in ten minutes",
            hold_dose=HOLD_DOSE[index],
            override_reason=(
                f"Rechecked after rest, {code} prescriber agrees"
                if HOLD_DOSE[index] == "override"
                else ""
            ),
            discharge_override=(
                f"Escort delayed, {code} taxi booked by the clinic"
                if DISCHARGE_OVERRIDDEN[index]
                else ""
            ),
            dose_at=dose_at,
            discharged_at=dose_at + timedelta(minutes=last + 5),
        )

    def _steps(
        self, p: ParticipantData
    ) -> list[tuple[datetime, StaffRecord, Callable[[], object]]]:
        """When each of the participant's entries is made, by whom, and how."""
        start, protocol = self.record.started_at, self.live.protocol
        assert start is not None
        pid, nurse, therapist, pad = p.participant_id, self.nurse, self.therapist, self.pad
        steps: list[tuple[datetime, StaffRecord, Callable[[], object]]] = []
        for reading in p.readings:
            if reading.minutes_after_dose < 0:  # the baseline, a few minutes after the start
                when = start + timedelta(minutes=5 + 2 * p.position)
            else:
                when = p.dose_at + timedelta(minutes=reading.minutes_after_dose)
            steps.append((when, nurse, self._checkin(pid, protocol, reading, p.acknowledgement)))
        steps.append(
            (
                p.dose_at,
                nurse,
                lambda: self.live.record_dose(
                    pid,
                    p.dose_text,
                    weight_text=p.weight_text,
                    lot_number=p.lot_number,
                    override=(
                        HoldDoseOverride(p.override_reason, self.therapist.display_name)
                        if p.override_reason
                        else None
                    ),
                ),
            )
        )
        if protocol.dosing.device_mg is not None:  # esketamine: each further device 5 min on
            for number in range(1, round(p.dose_mg / protocol.dosing.device_mg)):
                when = p.dose_at + timedelta(minutes=5 * number, seconds=10)
                steps.append((when, nurse, lambda: self.live.record_device(pid)))
        first_marker, second_marker = p.markers
        first_note, second_note = p.notes
        (private,) = p.private_notes
        steps += [
            (
                start + timedelta(minutes=10 + p.position),
                therapist,
                lambda: pad.quick_marker(first_marker, pid),
            ),
            (
                start + timedelta(minutes=25 + p.position),
                therapist,
                lambda: pad.commit("record", first_note, pid),
            ),
            (
                p.dose_at + timedelta(minutes=50),
                therapist,
                lambda: pad.commit("private", private, pid),
            ),
            (
                p.dose_at + timedelta(minutes=70),
                therapist,
                lambda: pad.commit("record", second_note, pid),
            ),
            (
                p.dose_at + timedelta(minutes=75),
                therapist,
                lambda: pad.quick_marker(second_marker, pid),
            ),
            (p.discharged_at, nurse, lambda: self._discharge(p, protocol)),
        ]
        return steps

    def _checkin(
        self, pid: uuid.UUID, protocol: Protocol, reading: ReadingValues, acknowledgement: str
    ) -> Callable[[], object]:
        def save() -> object:
            result = self.live.save_checkin(
                pid, _raw(protocol, reading), checkin_key=reading.checkin_key, on_room_air=True
            )
            if result is None or not result.saved:
                return None
            if len(result.alerts) != (1 if reading.alert else 0):
                raise RuntimeError(f"unexpected alerts for {reading}: {result.alerts}")
            for alert in result.alerts:
                self.clock.advance(90)
                if not self.live.acknowledge_alert(alert.id, "rechecked", acknowledgement):
                    return None
            return result

        return save

    def _discharge(self, p: ParticipantData, protocol: Protocol) -> object:
        """The discharge check; without the escort it fails and is overridden with a reason."""
        checklist = {item.key: True for item in protocol.discharge.checklist}
        override = None
        if p.discharge_override:
            checklist["escort"] = False
            override = DischargeOverride(p.discharge_override, self.nurse.display_name)
        result = self.live.record_discharge(
            p.participant_id,
            AldreteObservation(activity=2, breathing=2, consciousness=2),
            checklist,
            override=override,
        )
        if result is None or not result.saved:
            return None
        assert result.assessment is not None
        assert (result.assessment.override_reason or "") == p.discharge_override
        return result

    def sign(self) -> bool:
        """Sign as the signing page does: the prefilled session note, staff and passphrase."""
        if not self.plan.sign:
            return False
        notes = SessionNoteService(self.context.database, self.clock)
        catalog = NoteTemplateCatalog(note_templates_dir(), None)
        template = catalog.get(catalog.default_key)
        sections = [
            (key, title, body or "Discussed in the integration session.")
            for key, title, body in notes.prefill(self.record.id, template)
        ]
        note = SessionNoteText(template.key, tuple(sections))
        self.clock.advance(30 * 60)
        if self.plan.sign == "split":
            signings = [(self.nurse, ["monitoring"]), (self.therapist, ["therapy"])]
        else:  # the role rules: the therapist may not sign the monitoring part
            signings = [(self.nurse, ["monitoring"]), (self.therapist, ["therapy"])]
        for staff, parts in signings:
            outcome = notes.sign(self.record.id, staff.id, PASSPHRASE, parts, note)
            if not outcome.ok:
                raise RuntimeError(f"{self.plan.key}: signing refused: {outcome.message}")
        return notes.state(self.record.id).status == "signed"


def _team(context: AppContext, clock: FakeClock) -> tuple[StaffRecord, StaffRecord]:
    """The builder's therapist and nurse, each with the PIN and the signing passphrase."""
    service = context.service
    therapist = service.add_staff(
        "Dr. Hana Whitlock", "therapist", at=clock.now(), credentials="PsyD"
    )
    nurse = service.add_staff("Jude Ferreira", "nurse", at=clock.now(), credentials="RN")
    notes = SessionNoteService(context.database, clock, kdf=FAST_KDF)
    for member in (therapist, nurse):
        notes.pins.set_pin(member.id, PIN, PIN)
        give_passphrase(notes, member.id, PIN)
    return therapist, nurse


def build_multi_participant(folder: Path, *, start: datetime = BUILT_AT) -> MultiParticipantData:
    """Write the three sessions into a new data folder (a QApplication must exist: the live
    session and the note pad are Qt objects)."""
    clock = FakeClock(start)
    context = open_context(resolve_paths(data_dir=folder, environ={}), clock=clock)
    try:
        therapist, nurse = _team(context, clock)
        sessions = []
        for plan in PLANS:
            offset = plan.start - BUILT_AT
            if start + offset > clock.now():
                clock.advance((start + offset - clock.now()).total_seconds())
            played = _Session(context, clock, plan, therapist, nurse)
            participants = played.play()
            signed = played.sign()
            sessions.append(
                SessionData(
                    plan.key,
                    played.record.id,
                    plan.protocol_key,
                    plan.modality,
                    signed,
                    participants,
                )
            )
        return MultiParticipantData(folder, tuple(sessions), clock.now(), therapist, nurse)
    finally:
        context.close()


# --- the same sessions, still running -----------------------------------------------------------

# Where a live session is left: 59 minutes after its start, with the protocol's dose at 40 and
# each participant dosed 5 minutes after the one before, every participant has their baseline,
# dose, first marker and first note; the first participant's T+15 check-in is done, the second's
# falls due a minute later (T+15 at 60 minutes), the third's (group) at 65. No alert yet.
LIVE_AFTER_START = timedelta(minutes=59)


@dataclass(frozen=True)
class LiveData:
    """One session of `PLANS` played up to `now` and left live, in its own data folder (copy
    it before writing: `open_live_copy`). `session` describes the whole plan; what is written
    is what fell due by `now` (`written`)."""

    folder: Path
    session: SessionData
    now: datetime
    therapist: StaffRecord
    nurse: StaffRecord

    def written(self, participant: ParticipantData) -> tuple[ReadingValues, ...]:
        """The participant's check-ins saved by `now`."""
        start = self.now - LIVE_AFTER_START
        return tuple(
            r
            for r in participant.readings
            if (
                start + timedelta(minutes=5 + 2 * participant.position)
                if r.minutes_after_dose < 0
                else participant.dose_at + timedelta(minutes=r.minutes_after_dose)
            )
            <= self.now
        )


def build_live(folder: Path, key: str, *, start: datetime = BUILT_AT) -> LiveData:
    """Write one of the shared sessions (`key`: couples, group or esketamine) into a new data
    folder, played up to `LIVE_AFTER_START` and left live."""
    plan = next(p for p in PLANS if p.key == key)
    clock = FakeClock(start)
    context = open_context(resolve_paths(data_dir=folder, environ={}), clock=clock)
    try:
        therapist, nurse = _team(context, clock)
        played = _Session(context, clock, plan, therapist, nurse)
        assert played.record.started_at is not None
        participants = played.play(until=played.record.started_at + LIVE_AFTER_START)
        session = SessionData(
            key, played.record.id, plan.protocol_key, plan.modality, False, participants
        )
        return LiveData(folder, session, clock.now(), therapist, nurse)
    finally:
        context.close()


def copy_live(data: LiveData, folder: Path) -> Path:
    """A fresh copy of the live session's pristine folder: the data folder to open."""
    shutil.copytree(data.folder, folder)
    return folder


def open_live_copy(data: LiveData, folder: Path) -> AppContext:
    """A context on a fresh copy of the live session's folder, its clock where it was left."""
    copy_live(data, folder)
    return open_context(resolve_paths(data_dir=folder, environ={}), clock=FakeClock(data.now))


def open_copy(data: MultiParticipantData, folder: Path) -> AppContext:
    """A context on a fresh copy of the pristine folder, its clock at the builder's end."""
    shutil.copytree(data.folder, folder)
    return open_context(resolve_paths(data_dir=folder, environ={}), clock=FakeClock(data.now))


# --- fixtures -----------------------------------------------------------------------------------

_BUILT: dict[Path, MultiParticipantData] = {}  # per test run (its base temp folder)


def _built_once(tmp_path_factory: pytest.TempPathFactory) -> MultiParticipantData:
    """Built once per run, whichever conftest's copy of the fixture asks first."""
    run = tmp_path_factory.getbasetemp()
    if run not in _BUILT:
        _BUILT[run] = build_multi_participant(tmp_path_factory.mktemp("multi-participant") / "data")
    return _BUILT[run]


@pytest.fixture(scope="session")
def multi_participant(
    qapp: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MultiParticipantData]:
    """The sessions, built once per test run; `.context` reads a copy (exports may audit)."""
    built = _built_once(tmp_path_factory)
    context = open_copy(built, tmp_path_factory.mktemp("multi-participant-read") / "data")
    try:
        yield replace(built, context=context)
    finally:
        context.close()


@pytest.fixture(scope="session")
def live_multi_participant(
    qapp: object, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, LiveData]:
    """The couples and group sessions left live (`LIVE_AFTER_START`), each in its own pristine
    folder, built once per test run: copy one (`copy_live`, `open_live_copy`) to use it."""
    run = tmp_path_factory.getbasetemp()
    if run not in _LIVE:
        _LIVE[run] = {
            key: build_live(tmp_path_factory.mktemp(f"live-{key}") / "data", key)
            for key in ("couples", "group")
        }
    return _LIVE[run]


_LIVE: dict[Path, dict[str, LiveData]] = {}  # per test run, whichever conftest asks first


@pytest.fixture
def multi_participant_copy(
    multi_participant: MultiParticipantData, tmp_path: Path
) -> Iterator[AppContext]:
    """A context on this test's own copy of the sessions, free to write to."""
    context = open_copy(multi_participant, tmp_path / "multi-participant")
    try:
        yield context
    finally:
        context.close()
