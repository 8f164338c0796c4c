"""Training data: complete, realistic past sessions written through the real use cases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from services_support import START

from kapsession.domain.clock import FakeClock
from kapsession.domain.dose_order import OrderSource
from kapsession.domain.protocol import Anchor, Medication, Route, SessionType
from kapsession.paths import resolve_paths
from kapsession.records.notes import PARTS, SignatureCheck
from kapsession.services.context import AppContext, open_context
from kapsession.services.demo import (
    COURSE_INDICATION,
    COURSE_INTENTION,
    COURSE_ORDER,
    DEMO_CLIENTS,
    DEMO_COURSE_CLIENT,
    DEMO_PASSPHRASE,
    DEMO_PIN,
    DEMO_STAFF,
    populate,
    write_demo,
)
from kapsession.services.session_note import SessionNoteService
from kapsession.services.session_service import session_protocol
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository

NOW = START + timedelta(days=60)


@pytest.fixture
def training(tmp_path: Path) -> Iterator[AppContext]:
    paths = resolve_paths(data_dir=tmp_path / "data", training=True, environ={})
    ctx = open_context(paths, clock=FakeClock(NOW))
    try:
        yield ctx
    finally:
        ctx.close()


def test_populate_writes_complete_realistic_past_sessions(training: AppContext) -> None:
    # When the training database is populated
    made = populate(training.service, NOW)
    # Then each session it reports is on the record, completed, in the past
    service = training.service
    assert len(made) == len({m.id for m in made}) >= 5
    protocols_used = set()
    for demo in made:
        record = service.sessions.get(demo.id)
        protocol = session_protocol(record)
        protocols_used.add(protocol.key)
        assert record.status in ("completed", "signed")
        assert record.started_at is not None and record.ended_at is not None
        assert record.started_at < record.ended_at < NOW
        assert (demo.protocol, demo.route, demo.modality) == (
            protocol.key,
            protocol.dosing.route.value,
            record.modality,
        )
        assert demo.participants == tuple(p.client.full_name for p in record.participants)
        assert demo.client == demo.participants[0]
        assert set(demo.as_dict()) == {
            "id",
            "client",
            "participants",
            "protocol",
            "route",
            "modality",
        }
        events = service.entries.events(record.id)
        doses = service.entries.doses(record.id)
        kinds = [e.kind for e in events]
        assert kinds[0] == "session_start" and kinds[-1] == "session_end"
        assert all(record.started_at <= e.occurred_at <= record.ended_at for e in events)
        for participant in record.participants:
            # ... each participant has one dose, given near the planned time
            (dose,) = [d for d in doses if d.participant_id == participant.id]
            planned = record.started_at + timedelta(
                minutes=protocol.dosing.planned_dose_after_start_min
            )
            assert dose.kind == "initial" and dose.route == protocol.dosing.route.value
            assert abs(dose.occurred_at - planned) <= timedelta(minutes=15)
            assert dose.recorded_at >= dose.occurred_at
            # ... every phase once, in order, at its boundary from their own dose
            changes = [
                e for e in events if e.kind == "phase_change" and e.participant_id == participant.id
            ]
            assert [e.detail["phase"] for e in changes] == [p.key for p in protocol.phases]
            for event, phase in zip(changes, protocol.phases, strict=True):
                base = (
                    record.started_at if phase.begins.anchor is Anchor.START else dose.occurred_at
                )
                assert event.occurred_at == base + timedelta(minutes=phase.begins.minutes)
            # ... and markers of their own
            assert any(e.kind == "marker" and e.participant_id == participant.id for e in events)
    assert protocols_used == {
        "sublingual-kap-3h",
        "intramuscular-kap",
        "iv-infusion",
        "intranasal-esketamine",
    }
    # ... and one of them is a couples session with two participants, each with their own dose
    (couples,) = [m for m in made if m.modality == "couples"]
    assert len(couples.participants) == 2
    couple_doses = service.entries.doses(couples.id)
    assert len({d.participant_id for d in couple_doses}) == 2


def test_populated_sessions_carry_notes_signatures_and_an_addendum(training: AppContext) -> None:
    # When the training database is populated
    made = populate(training.service, NOW)
    database = training.service.database
    notes, signatures = NoteRepository(database), SignatureRepository(database)
    statuses = [training.service.sessions.get(m.id).status for m in made]
    # Then every session but the latest is signed; the latest waits to be signed
    assert statuses == ["signed"] * (len(made) - 1) + ["completed"]
    for demo in made:
        # ... each has the therapist's notes and one private note, apart from the record
        assert len(notes.notes(demo.id, kinds=["entry"])) >= 4
        assert len(notes.private_notes(demo.id)) == 1
        assert any(e.kind == "marker" for e in training.service.entries.events(demo.id))
    for demo in made[:-1]:
        # ... a signed session has its session note, filled from the record, and verifies
        (note,) = notes.notes(demo.id, kinds=["session_note"])
        assert "Dose" in note.text and "Baseline" in note.text
        assert all(body.strip() for _key, _title, body in note.sections)
        assert signatures.verify(demo.id) == dict.fromkeys(PARTS, SignatureCheck.VALID)
    # ... the couples session was signed by the nurse and the therapist separately
    (couples,) = [m for m in made if m.modality == "couples"]
    roles = {s.part: s.signer_role for s in signatures.signatures(couples.id)}
    assert roles == {"monitoring": "nurse", "therapy": "therapist"}
    # ... and the first session has a signed addendum
    (addendum,) = notes.notes(made[0].id, kinds=["addendum"])
    assert any(s.note_id == addendum.id for s in signatures.signatures(made[0].id))
    # ... and the demo staff confirm with the demo PIN and sign with the demo passphrase
    notes_service = SessionNoteService(database, training.clock)
    nurse = next(s for s in training.service.staff.active() if s.role == "nurse")
    assert notes_service.pins.verify(nurse.id, DEMO_PIN, purpose="test").ok
    assert notes_service.keys.unlock(nurse.id, DEMO_PASSPHRASE, purpose="test").ok


def test_populating_twice_adds_sessions_but_never_duplicates_people(
    training: AppContext,
) -> None:
    first = populate(training.service, NOW)
    second = populate(training.service, NOW + timedelta(days=1))
    service = training.service
    assert sorted(s.display_name for s in service.staff.active()) == sorted(
        name for name, _, _ in DEMO_STAFF
    )
    clients = service.clients.search("DEMO-")
    numbers = [n for _, _, n in (*DEMO_CLIENTS, DEMO_COURSE_CLIENT)]
    assert sorted(c.record_number for c in clients) == sorted(numbers)
    # (the course client's course is written once, with them)
    (ava,) = service.clients.search(DEMO_COURSE_CLIENT[2])
    course = len(service.course.overview(ava.id).sessions)
    assert service.sessions.count() == len(first) + len(second) + course == 7 + 7 + 14
    assert {m.id for m in first}.isdisjoint(m.id for m in second)


def test_populate_works_when_a_trainer_already_added_a_nurse(training: AppContext) -> None:
    # Given a training database where someone added a nurse (but no therapist) by hand
    training.service.add_staff("Ana Lima", "nurse", at=NOW, credentials="RN")
    # When it is populated
    made = populate(training.service, NOW)
    # Then the sessions are written, led by the demo therapist, and no one is duplicated
    staff = training.service.staff.active()
    assert any(s.role == "therapist" for s in staff)
    names = [s.display_name for s in staff]
    assert len(names) == len(set(names))
    record = training.service.sessions.get(made[0].id)
    therapist = training.service.staff.get(record.therapist_id)
    assert therapist.display_name == DEMO_STAFF[0][0]


def test_populated_sessions_carry_the_nurses_half_of_the_record(training: AppContext) -> None:
    # When the training database is populated
    made = populate(training.service, NOW)
    service = training.service
    checkins = service.checkins
    acknowledged = 0
    for demo in made:
        record = service.sessions.get(demo.id)
        protocol = session_protocol(record)
        assert record.started_at is not None and record.ended_at is not None
        observations = checkins.observations(record.id)
        doses = service.entries.doses(record.id)
        events = service.entries.events(record.id)
        assessments = checkins.discharges.assessments(record.id)
        for participant in record.participants:
            mine = [o for o in observations if o.participant_id == participant.id]
            (dose,) = [d for d in doses if d.participant_id == participant.id]
            # Then each participant has the whole schedule, each reading a real one
            assert [o.checkin_key for o in mine] == [c.key for c in protocol.checkins]
            assert all(o.reading is not None and o.recorded_by_id is not None for o in mine)
            # ... a baseline before the dose, which carries its details
            assert mine[0].checkin_key == "baseline" and mine[0].occurred_at < dose.occurred_at
            assert dose.dose_mg is not None and dose.lot_number and dose.given_by_id is not None
            assert dose.route == protocol.dosing.route.value
            # ... blood pressure rising to a peak around T+40 and settling again
            bp = {o.checkin_key: o.values["systolic_mmhg"] for o in mine if o.has_bp}
            if "t40" in bp:
                assert bp["t40"] > bp["baseline"]
                assert bp["pre-discharge"] < bp["t40"]
            # ... and a discharge that passed, recorded with its event within the session
            (assessment,) = [a for a in assessments if a.participant_id == participant.id]
            assert assessment.ready and assessment.aldrete_total >= 9
            (left,) = [
                e for e in events if e.kind == "discharge" and e.participant_id == participant.id
            ]
            assert left.occurred_at == assessment.occurred_at <= record.ended_at
        alerts = checkins.checkins.alerts(record.id)
        assert all(not a.is_open for a in alerts)
        acknowledged += len(alerts)
    # And at least one alert was raised and acknowledged
    assert acknowledged >= 1
    # And the esketamine session is 56 mg as 2 devices 5 minutes apart, with the REMS readings
    (eske,) = [m for m in made if m.protocol == "intranasal-esketamine"]
    (dose,) = service.entries.doses(eske.id)
    assert (dose.dose_mg, dose.device_count) == (56.0, 2)
    (device,) = [e for e in service.entries.events(eske.id) if e.kind == "device_given"]
    assert timedelta(minutes=5) <= device.occurred_at - dose.occurred_at < timedelta(minutes=6)
    protocol = session_protocol(service.sessions.get(eske.id))
    rems = {c.key for c in protocol.checkins if c.rems}
    assert rems <= {o.checkin_key for o in checkins.observations(eske.id)}
    status = checkins.intranasal_status(eske.id, dose.participant_id)
    assert status is not None and status.remaining == 0
    (assessment,) = checkins.discharges.assessments(eske.id)
    minutes = assessment.ready_minutes_after_first_dose
    assert minutes is not None and minutes >= 120
    # And in the couples session both participants have their own readings
    (couples,) = [m for m in made if m.modality == "couples"]
    readers = {o.participant_id for o in checkins.observations(couples.id)}
    assert len(readers) == 2


def test_populated_sessions_carry_a_realistic_music_log(training: AppContext) -> None:
    from kapsession.storage.music_log import MusicLogRepository

    # When the training database is populated
    made = populate(training.service, NOW)
    log = MusicLogRepository(training.service.database)
    for demo in made:
        events = log.for_session(demo.id)
        kinds = [e.kind for e in events]
        record = training.service.sessions.get(demo.id)
        assert record.started_at is not None and record.ended_at is not None
        # Then the music played from the session's start to its end, in time order
        assert kinds[0] == "volume" and kinds[-1] == "stop"
        assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
        assert all(record.started_at <= e.occurred_at <= record.ended_at for e in events)
        # ... every track that started also ended, and the phases moved the music on
        assert kinds.count("track_start") == kinds.count("track_end") > 5
        assert kinds.count("phase_transition") >= 3
        # ... with the therapist's own actions: a pause and resume, a skip, a volume change
        assert {"pause", "resume", "skip"} <= set(kinds)
        assert kinds.count("volume") >= 2
        starts = [e for e in events if e.kind == "track_start"]
        assert all(e.track_title and e.playlist and e.phase_key for e in starts)
        assert all(e.detail.get("duration_ms", 0) > 60_000 for e in starts)


def test_populate_writes_a_full_course_for_its_course_client(training: AppContext) -> None:
    # When the training database is populated
    written = write_demo(training.service, NOW)
    made = written.sessions
    # Then the course client's course ran in its order: a consultation, a preparation, then six
    # dosing sessions, each followed by its integration session, all completed in the past
    service = training.service
    (ava,) = service.clients.search(DEMO_COURSE_CLIENT[2])
    overview = service.course.overview(ava.id)
    sessions = overview.sessions
    dosing, integration = SessionType.DOSING, SessionType.INTEGRATION
    assert [s.session_type for s in sessions] == [
        SessionType.CONSULTATION,
        SessionType.PREPARATION,
        *[dosing, integration] * 6,
    ]
    assert [c.id for c in written.course] == [s.session_id for s in sessions]
    for row, demo in zip(sessions, written.course, strict=True):
        record = service.sessions.get(row.session_id)
        assert record.status == "signed"
        assert (demo.client, demo.protocol) == (ava.full_name, record.protocol_key)
        assert demo.route == ("sublingual" if row.session_type is dosing else "")
        assert record.started_at is not None and record.ended_at is not None
        assert record.started_at < record.ended_at < NOW
    starts = [service.sessions.get(s.session_id).started_at for s in sessions]
    assert starts == sorted(starts)
    for index in range(3, len(sessions), 2):
        assert sessions[index].follows_session_id == sessions[index - 1].session_id
    # ... written before the other demo sessions, which keep their places in what populate made
    earliest = min(service.sessions.get(m.id).started_at for m in made)  # type: ignore[type-var]
    assert starts[-1] < earliest  # type: ignore[operator]
    assert ava.full_name not in {m.client for m in made}
    # ... each dosing session gave one dose on the course's standing order, after a screening
    dosing_ids = [s.session_id for s in sessions if s.session_type is dosing]
    for session_id in dosing_ids:
        (dose,) = service.entries.doses(session_id)
        assert dose.dose_mg == 200.0
        orders = service.checkins.orders.orders(session_id)
        assert [(o.order, o.source) for o in orders] == [(COURSE_ORDER, OrderSource.COURSE_PLAN)]
        kinds = [e.kind for e in service.entries.events(session_id)]
        assert "discharge" in kinds and kinds[-1] == "session_end"
    # ... under the plan (its indication, six dosing sessions, sublingual ketamine, the
    # prescriber's standing order) and with the intention set in preparation
    assert overview.plan is not None
    plan = overview.plan.plan
    prescriber = next(s for s in service.staff.active() if s.role == "prescriber")
    assert (plan.indication, plan.dosing_sessions) == (COURSE_INDICATION, 6)
    assert (plan.medication, plan.route) == (Medication.KETAMINE, Route.SUBLINGUAL)
    assert (plan.standing_order, plan.ordered_by) == (COURSE_ORDER, prescriber.id)
    assert [(i.text, i.session_id) for i in overview.intentions] == [
        (COURSE_INTENTION, sessions[1].session_id)
    ]
    # ... a PHQ-9 and GAD-7 with a total at the consultation and at each dosing session, falling
    measures = service.measures.history(ava.id)
    totals = {}
    for key in ("phq9", "gad7"):
        given = [m for m in measures if m.instrument_key == key]
        assert [m.session_id for m in given] == [sessions[0].session_id, *dosing_ids]
        totals[key] = [m.total for m in given]
        assert all(m.answers[8] == 0 for m in given if key == "phq9")  # item 9: not at all
    assert totals["phq9"] == [19, 18, 16, 14, 11, 9, 7]
    assert totals["gad7"] == [16, 15, 13, 12, 9, 8, 6]
    # ... and "next in course" now offers the follow-up
    offered = service.course.next_session(ava.id)
    assert offered is not None and offered.step.session_type is SessionType.FOLLOW_UP
    assert offered.protocol_key == "follow-up"
