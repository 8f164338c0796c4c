"""A client's course history on real databases (SQLite and PostgreSQL): what each session row
says, from the standing record only, the client's own values only, in a few set-based queries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event
from support.signing import signing_key

from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import Reading, alerts_for
from kapsession.records.errors import NotFound
from kapsession.records.people import ClientRecord
from kapsession.records.sessions import SessionRecord
from kapsession.resources import protocols_dir
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.client_history import ClientHistoryRepository
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.models import Course
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.history import HistorySession

PROTOCOLS = {
    "sublingual-kap-3h": ("Sublingual KAP, 3 hours", "sublingual"),
    "intranasal-esketamine": ("Intranasal esketamine (SPRAVATO)", "intranasal"),
}
HIGH_SYSTOLIC = AlertRule("systolic_mmhg", Comparison.GE, 180, "Systolic BP 180 or higher")


@dataclass
class Room:
    """The clinic of conftest plus the repositories a course needs, with shortcuts."""

    clinic: Clinic
    checkins: CheckinRepository
    discharges: DischargeRepository
    history: ClientHistoryRepository

    def session(
        self,
        *clients: ClientRecord,
        protocol: str = "sublingual-kap-3h",
        modality: str = "individual",
    ) -> SessionRecord:
        """A live session of the bundled protocol, with its real snapshot text."""
        name, _route = PROTOCOLS[protocol]
        text = (protocols_dir() / f"{protocol}.toml").read_text(encoding="utf-8")
        record = self.clinic.sessions.create(
            protocol_key=protocol,
            protocol_name=name,
            protocol_version=1,
            protocol_text=text,
            modality=modality,
            client_ids=[c.id for c in clients],
            at=self.clinic.now(),
            therapist_id=self.clinic.therapist.id,
        )
        return self.clinic.sessions.start(record.id, at=self.clinic.now(), by=None)

    def reading(self, session: SessionRecord, position: int, **values: Any) -> uuid.UUID:
        """A standing check-in of participant `position`, with the alerts the rule raises."""
        reading = Reading(**values)
        at = self.clinic.now(60)
        saved = self.checkins.add_observation(
            session.id,
            session.participants[position].id,
            reading,
            occurred_at=at,
            recorded_at=at,
            alerts=alerts_for(reading, [HIGH_SYSTOLIC]),
        )
        return saved.observation.id

    def dose(self, session: SessionRecord, position: int, dose_mg: float) -> uuid.UUID:
        at = self.clinic.now(60)
        participant = session.participants[position].id
        given = [
            d for d in self.clinic.entries.doses(session.id) if d.participant_id == participant
        ]
        kind = "booster" if given else "initial"
        dose, _events = self.clinic.entries.add_dose(
            session.id,
            participant,
            occurred_at=at,
            recorded_at=at,
            kind=kind,
            dose_mg=dose_mg,
        )
        return dose.id

    def discharge(self, session: SessionRecord, position: int, ready_minutes: int | None) -> None:
        at = self.clinic.now(60)
        self.discharges.record(
            session.id,
            session.participants[position].id,
            occurred_at=at,
            recorded_at=at,
            aldrete={},
            aldrete_total=10 if ready_minutes is not None else 7,
            on_room_air=True,
            checklist={},
            ready=ready_minutes is not None,
            ready_minutes_after_first_dose=ready_minutes,
            problems=[] if ready_minutes is not None else ["Aldrete 7"],
            override_reason=None if ready_minutes is not None else "Escort waiting; MD agreed",
        )

    def new_course(self, client: ClientRecord, title: str) -> None:
        """A second course (the app has no screen for it yet): later sessions belong to it."""
        at = self.clinic.now()
        with self.clinic.db.write() as orm:
            orm.add(
                Course(
                    client_id=client.id,
                    title=title,
                    started_on=(at + timedelta(days=1)).date(),
                    created_at=at,
                )
            )


@pytest.fixture
def room(clinic: Clinic) -> Room:
    return Room(
        clinic,
        CheckinRepository(clinic.db),
        DischargeRepository(clinic.db),
        ClientHistoryRepository(clinic.db),
    )


@pytest.fixture
def maya(room: Room) -> ClientRecord:
    return room.clinic.add_client("Maya", "Fischer", record_number="KAP-0001")


def _only(room: Room, client: ClientRecord) -> HistorySession:
    (row,) = room.history.history(client.id).sessions
    return row


def test_a_signed_session_reads_back_with_every_figure(room: Room, maya: ClientRecord) -> None:
    # Given a session with a baseline, a dose and booster, readings (one raising an alert),
    # a discharge ready at 95 minutes, then ended and signed
    session = room.session(maya)
    room.reading(session, 0, systolic_mmhg=124, diastolic_mmhg=78, heart_rate_bpm=70, spo2_pct=98)
    room.dose(session, 0, 200.0)
    room.reading(session, 0, systolic_mmhg=150, diastolic_mmhg=96, spo2_pct=95, dissociation=2)
    room.reading(session, 0, systolic_mmhg=183, diastolic_mmhg=92, spo2_pct=97, dissociation=3)
    room.dose(session, 0, 50.0)
    room.reading(session, 0, systolic_mmhg=132, diastolic_mmhg=80, spo2_pct=99, dissociation=0)
    room.discharge(session, 0, 95)
    room.clinic.sessions.end(session.id, at=room.clinic.now(), by=None)
    SignatureRepository(room.clinic.db).sign(
        session.id,
        ["monitoring", "therapy"],
        staff_id=room.clinic.therapist.id,
        key=signing_key(room.clinic.db, room.clinic.therapist.id),
        at=room.clinic.now(),
    )

    # When the client's history is read
    history = room.history.history(maya.id)

    # Then it is the client's, with the one session and every figure of it
    assert history.client == maya
    assert history.courses == 1
    (row,) = history.sessions
    assert (row.session_id, row.participant_id) == (session.id, session.participants[0].id)
    assert (row.course_title, row.session_number) == ("Course 1", 1)
    assert (row.protocol_name, row.route, row.modality) == (
        "Sublingual KAP, 3 hours",
        "sublingual",
        "individual",
    )
    assert (row.status, row.status_label) == ("signed", "signed")
    assert (row.dose_count, row.dose_total_mg) == (2, 250.0)
    assert (
        row.baseline_systolic_mmhg,
        row.baseline_diastolic_mmhg,
        row.baseline_heart_rate_bpm,
        row.baseline_spo2_pct,
    ) == (124, 78, 70, 98)
    assert (row.peak_systolic_mmhg, row.peak_diastolic_mmhg) == (183, 96)
    assert (row.lowest_spo2_pct, row.highest_dissociation) == (95, 3)
    assert row.alerts == 1
    assert row.ready_minutes_after_first_dose == 95
    assert row.held_at == session.started_at
    assert row.ended_at is not None


@pytest.mark.parametrize(
    ("correction", "expected_count", "expected_total"),
    [
        pytest.param({"dose_mg": 225.0}, 1, 225.0, id="amended-amount-counts"),
        pytest.param({"voids": True}, 0, None, id="voided-dose-drops-out"),
    ],
)
def test_a_corrected_dose_counts_as_it_stands(
    room: Room,
    maya: ClientRecord,
    correction: dict[str, Any],
    expected_count: int,
    expected_total: float | None,
) -> None:
    # Given a dose of 250 mg, then corrected (a new amount) or voided (entered in error)
    session = room.session(maya)
    original = room.dose(session, 0, 250.0)
    room.clinic.entries.correct_dose(
        original, reason="Wrong amount typed", recorded_at=room.clinic.now(), **correction
    )
    # When the history is read; Then only the standing dose counts
    row = _only(room, maya)
    assert (row.dose_count, row.dose_total_mg) == (expected_count, expected_total)


@pytest.mark.parametrize("voids", [True, False], ids=["voided", "amended"])
def test_a_corrected_reading_no_longer_sets_the_peak_or_the_baseline(
    room: Room, maya: ClientRecord, voids: bool
) -> None:
    # Given a first reading of 190/100 that is then voided or amended to 128/84, and another
    session = room.session(maya)
    wrong = room.reading(session, 0, systolic_mmhg=190, diastolic_mmhg=100, spo2_pct=90)
    room.checkins.correct_observation(
        wrong,
        None if voids else Reading(systolic_mmhg=128, diastolic_mmhg=84, spo2_pct=97),
        reason="Cuff on the wrong arm",
        recorded_at=room.clinic.now(),
        voids=voids,
    )
    room.reading(session, 0, systolic_mmhg=140, diastolic_mmhg=88, spo2_pct=96)
    # When the history is read
    row = _only(room, maya)
    # Then the wrong values set nothing; the amended reading (written earlier) is the baseline
    assert (row.peak_systolic_mmhg, row.peak_diastolic_mmhg, row.lowest_spo2_pct) == (140, 88, 96)
    expected_baseline = (140, 88) if voids else (128, 84)
    assert (row.baseline_systolic_mmhg, row.baseline_diastolic_mmhg) == expected_baseline
    # And the alert the wrong reading raised stays on the record (alerts are never removed)
    assert row.alerts == 1


def test_a_couples_session_shows_only_the_clients_own_values(
    room: Room, maya: ClientRecord
) -> None:
    # Given a couples session where the partner has a larger dose, an alert and higher BP
    jonah = room.clinic.add_client("Jonah", "Okafor")
    session = room.session(maya, jonah, modality="couples")
    room.dose(session, 0, 200.0)
    room.dose(session, 1, 300.0)
    room.reading(session, 0, systolic_mmhg=130, diastolic_mmhg=80, spo2_pct=97, dissociation=1)
    room.reading(session, 1, systolic_mmhg=190, diastolic_mmhg=110, spo2_pct=91, dissociation=4)
    room.discharge(session, 1, 80)
    # When each client's history is read
    mine, theirs = _only(room, maya), _only(room, jonah)
    # Then each row holds only that client's dose, readings, alerts and discharge
    assert mine.modality == theirs.modality == "couples"
    assert (mine.dose_total_mg, mine.peak_systolic_mmhg, mine.lowest_spo2_pct) == (200.0, 130, 97)
    assert (mine.highest_dissociation, mine.alerts, mine.ready_minutes_after_first_dose) == (
        1,
        0,
        None,
    )
    assert (theirs.dose_total_mg, theirs.peak_systolic_mmhg, theirs.lowest_spo2_pct) == (
        300.0,
        190,
        91,
    )
    assert (theirs.highest_dissociation, theirs.alerts, theirs.ready_minutes_after_first_dose) == (
        4,
        1,
        80,
    )


def test_sessions_come_oldest_first_numbered_within_each_course(
    room: Room, maya: ClientRecord
) -> None:
    # Given two sessions in the first course, then a second course with an esketamine session,
    # and a session of another client in between
    first = room.session(maya)
    room.clinic.sessions.end(first.id, at=room.clinic.now(), by=None)
    second = room.session(maya)
    room.session(room.clinic.add_client("Sam", "Reyes"))
    room.new_course(maya, "Maintenance 2027")
    third = room.session(maya, protocol="intranasal-esketamine")
    # When the history is read
    history = room.history.history(maya.id)
    # Then the sessions are the client's three, oldest first, numbered per course
    assert [r.session_id for r in history.sessions] == [first.id, second.id, third.id]
    assert [(r.course_title, r.session_number) for r in history.sessions] == [
        ("Course 1", 1),
        ("Course 1", 2),
        ("Maintenance 2027", 1),
    ]
    assert history.courses == 2
    assert [r.status_label for r in history.sessions] == ["ended", "live", "live"]
    assert [r.route for r in history.sessions] == ["sublingual", "sublingual", "intranasal"]
    # And a session with nothing recorded yet has no figures, rather than zeros
    row = history.sessions[2]
    assert (row.dose_count, row.dose_total_mg, row.peak_systolic_mmhg, row.alerts) == (
        0,
        None,
        None,
        0,
    )


@pytest.mark.parametrize(
    ("ready_minutes", "expected"),
    [pytest.param(95, 95, id="ready"), pytest.param(None, None, id="overridden")],
)
def test_minutes_to_ready_come_from_the_discharge_check(
    room: Room, maya: ClientRecord, ready_minutes: int | None, expected: int | None
) -> None:
    session = room.session(maya)
    room.dose(session, 0, 200.0)
    room.discharge(session, 0, ready_minutes)
    assert _only(room, maya).ready_minutes_after_first_dose == expected


def test_a_client_without_sessions_has_an_empty_history(room: Room, maya: ClientRecord) -> None:
    history = room.history.history(maya.id)
    assert (history.client, history.sessions, history.courses) == (maya, (), 0)


def test_an_unknown_client_is_named_in_the_refusal(room: Room) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=str(missing)):
        room.history.history(missing)


@contextmanager
def _statements(room: Room) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement sent to the database during the block, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    engine = room.clinic.db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _with_sessions(room: Room, count: int) -> ClientRecord:
    client = room.clinic.add_client("Course", f"Client{count}")
    for _ in range(count):
        session = room.session(client)
        room.reading(session, 0, systolic_mmhg=120, diastolic_mmhg=80)
        room.dose(session, 0, 200.0)
        room.discharge(session, 0, 90)
    return client


def test_the_history_takes_the_same_few_queries_whatever_its_length(room: Room) -> None:
    # Given a client with one session and one with six
    one, six = _with_sessions(room, 1), _with_sessions(room, 6)
    room.history.history(one.id)  # the protocol snapshot's route is read once
    # When each history is read
    counts = []
    for client in (one, six):
        with _statements(room) as sent:
            assert len(room.history.history(client.id).sessions) in (1, 6)
        counts.append(len([s for s, _ in sent if s.lstrip().upper().startswith("SELECT")]))
    # Then both take the same handful of queries: nothing is read session by session
    assert counts[0] == counts[1] <= 6


BIG_TABLES = (
    "participant",
    "session",
    "dose",
    "observation",
    "alert",
    "discharge_assessment",
    "course",
)


# SQLite only: its plan does not depend on table sizes, PostgreSQL's does (a small test
# database there is rightly scanned), so the PostgreSQL case is not generated at all.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_every_history_query_searches_an_index_on_sqlite(room: Room) -> None:
    # Given a client with sessions on SQLite
    assert room.clinic.db.dialect == "sqlite"
    client = _with_sessions(room, 3)
    with _statements(room) as sent:
        room.history.history(client.id)
    # When SQLite explains each statement the history sent
    scans = []
    explained = []
    with room.clinic.db.engine.connect() as connection:
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            for row in plan:
                detail = str(row[-1])
                explained.append(detail)
                if re.match(rf"SCAN ({'|'.join(BIG_TABLES)})\b", detail):
                    scans.append((detail, statement))
    # Then no table is read whole: each is searched through an index
    assert len(explained) >= 5
    assert scans == []


@pytest.mark.parametrize(
    ("text", "who"),
    [
        pytest.param("KAP-0001", "Maya Fischer", id="record-number"),
        pytest.param("kap-0001", "Maya Fischer", id="record-number-any-case"),
        pytest.param("Maya Fischer", "Maya Fischer", id="full-name"),
        pytest.param("  jonah  ", "Jonah Okafor", id="one-name-word"),
        pytest.param("Lena Okafor", "Lena Okafor", id="full-name-among-namesakes"),
    ],
)
def test_a_client_is_found_by_record_number_or_name(
    room: Room, maya: ClientRecord, text: str, who: str
) -> None:
    room.clinic.add_client("Jonah", "Okafor", record_number="KAP-0002")
    room.clinic.add_client("Lena", "Okafor", record_number="KAP-0003")
    assert room.history.find_client(text).full_name == who


def test_a_client_is_found_by_the_start_of_their_id(room: Room, maya: ClientRecord) -> None:
    assert room.history.find_client(str(maya.id)[:8]) == maya
    assert room.history.find_client(str(maya.id).upper()) == maya


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("Okafor", "More than one client matches 'Okafor'.*KAP-0002", id="ambiguous"),
        pytest.param("Nobody", "No client matches 'Nobody'", id="unknown"),
        pytest.param("   ", "Say which client", id="empty"),
    ],
)
def test_a_client_that_cannot_be_told_apart_is_refused_with_what_to_give(
    room: Room, maya: ClientRecord, text: str, message: str
) -> None:
    room.clinic.add_client("Jonah", "Okafor", record_number="KAP-0002")
    room.clinic.add_client("Lena", "Okafor", record_number="KAP-0003")
    with pytest.raises(NotFound, match=message):
        room.history.find_client(text)
