"""Check-in storage on SQLite and PostgreSQL: a reading, its alerts and its audit row are one
transaction; alerts are acknowledged once, by a named staff member; corrections keep the
original; the new clinical tables are append-only and locked with a signed session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Uuid, bindparam, insert, text
from sqlalchemy.exc import DBAPIError

from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.vitals import AlertOverrideInvalid, Reading, alerts_for
from kapsession.records.errors import (
    AlreadyDone,
    EntryTimeInvalid,
    NotFound,
    RecordLocked,
    StorageError,
)
from kapsession.storage.alert_rules import ClientAlertRuleRepository
from kapsession.storage.audit import AuditRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.entries import NewEvent
from kapsession.storage.models import Alert, AlertAcknowledgement, DischargeAssessment

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.entries import SavedReading
    from kapsession.records.sessions import SessionRecord
    from kapsession.storage.database import Database

HIGH_SBP = AlertRule("systolic_mmhg", Comparison.GE, 180, "Systolic BP 180 or higher")
HIGH_DBP = AlertRule("diastolic_mmhg", Comparison.GE, 110, "Diastolic BP 110 or higher")
LOW_SPO2 = AlertRule("spo2_pct", Comparison.LT, 92, "SpO2 below 92 %")
RULES = (HIGH_SBP, HIGH_DBP, LOW_SPO2)
CALM = Reading(systolic_mmhg=124, diastolic_mmhg=78, heart_rate_bpm=72, spo2_pct=98)
HIGH = Reading(systolic_mmhg=186, diastolic_mmhg=112, heart_rate_bpm=96, spo2_pct=97)


def _count(db: Database, table: str, session_id: uuid.UUID | None = None) -> int:
    if session_id is None:
        statement = text(f"SELECT count(*) FROM {table}")
    else:
        statement = text(f"SELECT count(*) FROM {table} WHERE session_id = :id").bindparams(
            bindparam("id", session_id, type_=Uuid())
        )
    with db.engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def _save(
    clinic: Clinic,
    session: SessionRecord,
    reading: Reading = HIGH,
    *,
    key: str | None = "t40",
    minutes_ago: float = 0,
) -> SavedReading:
    at = clinic.now()
    return CheckinRepository(clinic.db).add_observation(
        session.id,
        session.participants[0].id,
        reading,
        occurred_at=at - timedelta(minutes=minutes_ago),
        recorded_at=at,
        checkin_key=key,
        on_room_air=True,
        alerts=alerts_for(reading, RULES),
        by=clinic.therapist.id,
    )


def _sign(clinic: Clinic, session_id: uuid.UUID) -> None:
    with clinic.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE session SET status = 'signed' WHERE id = :id").bindparams(
                bindparam("id", session_id, type_=Uuid())
            )
        )


@contextmanager
def failing_alert_inserts(db: Database) -> Iterator[None]:
    """Make the database itself refuse every alert row, as a failing disk would mid-way."""
    if db.dialect == "postgresql":
        create = [
            "CREATE FUNCTION test_fail_alert() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'alert row could not be written'; END $$",
            "CREATE TRIGGER test_fail_alert BEFORE INSERT ON alert "
            "FOR EACH ROW EXECUTE FUNCTION test_fail_alert()",
        ]
        drop = ["DROP TRIGGER test_fail_alert ON alert", "DROP FUNCTION test_fail_alert()"]
    else:
        create = [
            "CREATE TRIGGER test_fail_alert BEFORE INSERT ON alert "
            "BEGIN SELECT RAISE(ABORT, 'alert row could not be written'); END"
        ]
        drop = ["DROP TRIGGER test_fail_alert"]
    with db.engine.begin() as connection:
        for sql in create:
            connection.exec_driver_sql(sql)
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            for sql in drop:
                connection.exec_driver_sql(sql)


# --- a reading with its alerts ------------------------------------------------------------------


def test_a_reading_its_alerts_and_its_audit_row_are_saved_together(clinic: Clinic) -> None:
    # Given a live session
    session = clinic.new_session()
    audit_before = len(AuditRepository(clinic.db).for_session(session.id))

    # When a reading over two thresholds is saved
    saved = _save(clinic, session, HIGH)

    # Then the reading reads back with exactly its values, and two open alerts point at it
    checkins = CheckinRepository(clinic.db)
    (stored,) = checkins.observations(session.id)
    assert stored == saved.observation
    assert stored.reading == HIGH and stored.on_room_air is True and stored.checkin_key == "t40"
    alerts = checkins.open_alerts(session.id)
    assert alerts == list(saved.alerts)
    assert [(a.field, a.op, a.threshold, a.value) for a in alerts] == [
        ("systolic_mmhg", ">=", 180.0, 186.0),
        ("diastolic_mmhg", ">=", 110.0, 112.0),
    ]
    assert [a.message for a in alerts] == [
        "Systolic BP 186 mmHg — at or above 180",
        "Diastolic BP 112 mmHg — at or above 110",
    ]
    assert all(a.observation_id == stored.id and a.is_open for a in alerts)
    # And one audit row records the reading with the alerts it raised
    audit = AuditRepository(clinic.db).for_session(session.id)[audit_before:]
    assert [(a.action, a.entity_id) for a in audit] == [("observation.add", str(stored.id))]
    assert audit[0].detail["alerts"] == [str(a.id) for a in alerts]


@pytest.mark.parametrize(
    ("reading", "fields"),
    [
        pytest.param(CALM, [], id="calm"),
        pytest.param(Reading(spo2_pct=90), ["spo2_pct"], id="spo2-only"),
        pytest.param(Reading(comment="asleep"), [], id="comment-only"),
    ],
)
def test_readings_raise_only_the_alerts_they_meet(
    clinic: Clinic, reading: Reading, fields: list[str]
) -> None:
    session = clinic.new_session()
    saved = _save(clinic, session, reading)
    assert [a.field for a in saved.alerts] == fields
    assert [a.field for a in CheckinRepository(clinic.db).open_alerts(session.id)] == fields


def test_a_failed_alert_insert_leaves_no_reading_and_no_audit_row(clinic: Clinic) -> None:
    # Given a live session with one reading already saved
    session = clinic.new_session()
    _save(clinic, session, CALM, key="t15")
    counts = {t: _count(clinic.db, t) for t in ("observation", "alert", "audit_entry")}

    # When a reading that raises an alert is saved while alert rows cannot be written
    with failing_alert_inserts(clinic.db), pytest.raises(StorageError, match="Nothing was changed"):
        _save(clinic, session, HIGH)

    # Then nothing of it is on disk: no reading, no alert, no audit row
    assert {t: _count(clinic.db, t) for t in counts} == counts
    assert [o.checkin_key for o in CheckinRepository(clinic.db).observations(session.id)] == ["t15"]
    # And once the database works again the same reading saves with its alerts
    saved = _save(clinic, session, HIGH)
    assert len(saved.alerts) == 2


def test_a_reading_for_a_participant_of_another_session_is_refused(clinic: Clinic) -> None:
    session, other = clinic.new_session(), clinic.new_session()
    with pytest.raises(StorageError, match="not part of this session"):
        CheckinRepository(clinic.db).add_observation(
            session.id,
            other.participants[0].id,
            CALM,
            occurred_at=clinic.now(),
            recorded_at=clinic.now(),
        )
    assert _count(clinic.db, "observation", session.id) == 0


# --- late entries and times -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes_ago", "late"),
    [(0, False), (4, False), (5.5, True), (25, True)],
)
def test_a_late_entry_keeps_both_times(clinic: Clinic, minutes_ago: float, late: bool) -> None:
    # Given a session running for a while
    session = clinic.new_session()
    clinic.now(advance_s=3600)
    # When a reading taken `minutes_ago` is entered now
    saved = _save(clinic, session, CALM, minutes_ago=minutes_ago)
    # Then both the time it describes and the time it was written are kept
    (stored,) = CheckinRepository(clinic.db).observations(session.id)
    assert stored.recorded_at - stored.occurred_at == timedelta(minutes=minutes_ago)
    assert stored.is_late is late
    assert stored == saved.observation


@pytest.mark.parametrize(
    ("offset", "match"),
    [
        pytest.param(timedelta(minutes=2), "in the future", id="future"),
        pytest.param(timedelta(hours=-3), "before the session started", id="before-start"),
    ],
)
def test_impossible_entry_times_are_refused(clinic: Clinic, offset: timedelta, match: str) -> None:
    session = clinic.new_session()
    now = clinic.now(advance_s=600)
    with pytest.raises(EntryTimeInvalid, match=match):
        CheckinRepository(clinic.db).add_observation(
            session.id, session.participants[0].id, CALM, occurred_at=now + offset, recorded_at=now
        )
    with pytest.raises(EntryTimeInvalid, match=match):
        clinic.entries.add_dose(
            session.id, session.participants[0].id, occurred_at=now + offset, recorded_at=now
        )
    assert _count(clinic.db, "observation", session.id) == 0
    assert _count(clinic.db, "dose", session.id) == 0


def test_a_clock_a_few_seconds_fast_is_not_refused(clinic: Clinic) -> None:
    session = clinic.new_session()
    now = clinic.now()
    saved = CheckinRepository(clinic.db).add_observation(
        session.id,
        session.participants[0].id,
        CALM,
        occurred_at=now + timedelta(seconds=40),
        recorded_at=now,
    )
    assert saved.observation.occurred_at == now + timedelta(seconds=40)


# --- acknowledgement --------------------------------------------------------------------------


def test_an_alert_is_acknowledged_once_by_a_named_staff_member(clinic: Clinic) -> None:
    # Given a reading with two open alerts
    session = clinic.new_session()
    first, second = _save(clinic, session, HIGH).alerts
    checkins = CheckinRepository(clinic.db)
    nurse = clinic.staff.add("Tom Becker", "nurse", at=clinic.now(), credentials="RN")

    # When the nurse acknowledges the first, without a comment
    at = clinic.now()
    ack = checkins.acknowledge(first.id, staff_id=nurse.id, at=at, action="rechecked")

    # Then it is closed with who and when, and only the second stays open
    assert (ack.alert_id, ack.staff_id, ack.acknowledged_at, ack.comment) == (
        first.id,
        nurse.id,
        at,
        "",
    )
    assert [a.id for a in checkins.open_alerts(session.id)] == [second.id]
    closed = next(a for a in checkins.alerts(session.id) if a.id == first.id)
    assert (closed.acknowledged_at, closed.acknowledged_by_id, closed.is_open) == (
        at,
        nurse.id,
        False,
    )
    actions = [a.action for a in AuditRepository(clinic.db).for_session(session.id)]
    assert actions[-1] == "alert.acknowledge"

    # When it is acknowledged again, Then that is refused, saying when it was done
    with pytest.raises(AlreadyDone, match="already acknowledged at"):
        checkins.acknowledge(
            first.id, staff_id=clinic.therapist.id, at=clinic.now(), action="rechecked"
        )
    # And the first acknowledgement stands, alone
    assert _count(clinic.db, "alert_acknowledgement") == 1
    closed = next(a for a in checkins.alerts(session.id) if a.id == first.id)
    assert closed.acknowledged_by_id == nurse.id

    # When the second is acknowledged with a comment, Then the comment is kept, trimmed
    ack = checkins.acknowledge(
        second.id,
        staff_id=nurse.id,
        at=clinic.now(),
        action="rechecked",
        comment="  rechecked: 150/95  ",
    )
    assert ack.comment == "rechecked: 150/95"
    assert checkins.open_alerts(session.id) == []


def test_acknowledging_needs_a_staff_member_who_exists(clinic: Clinic) -> None:
    session = clinic.new_session()
    (alert, _) = _save(clinic, session, HIGH).alerts
    checkins = CheckinRepository(clinic.db)
    with pytest.raises(StorageError, match="Choose who"):
        checkins.acknowledge(alert.id, staff_id=None, at=clinic.now())
    with pytest.raises(NotFound, match="staff"):
        checkins.acknowledge(alert.id, staff_id=uuid.uuid4(), at=clinic.now(), action="rechecked")
    with pytest.raises(NotFound, match="alert"):
        checkins.acknowledge(
            uuid.uuid4(), staff_id=clinic.therapist.id, at=clinic.now(), action="rechecked"
        )
    assert len(checkins.open_alerts(session.id)) == 2


def test_the_database_refuses_a_second_acknowledgement_written_behind_the_repository(
    clinic: Clinic,
) -> None:
    session = clinic.new_session()
    (alert, _) = _save(clinic, session, HIGH).alerts
    CheckinRepository(clinic.db).acknowledge(
        alert.id, staff_id=clinic.therapist.id, at=clinic.now(), action="rechecked"
    )
    with pytest.raises(DBAPIError), clinic.db.engine.begin() as connection:
        connection.execute(
            insert(AlertAcknowledgement).values(
                id=uuid.uuid4(),
                alert_id=alert.id,
                acknowledged_at=clinic.now(),
                staff_id=clinic.therapist.id,
                comment="",
            )
        )
    assert _count(clinic.db, "alert_acknowledgement") == 1


# --- corrections ------------------------------------------------------------------------------


def test_a_corrected_reading_keeps_the_original_and_raises_its_own_alerts(clinic: Clinic) -> None:
    # Given a reading typed as 186/112 that was really 136/82
    session = clinic.new_session()
    original = _save(clinic, session, HIGH)
    checkins = CheckinRepository(clinic.db)

    # When it is corrected, with a reason
    fixed_reading = Reading(systolic_mmhg=136, diastolic_mmhg=82, heart_rate_bpm=96, spo2_pct=91)
    fixed = checkins.correct_observation(
        original.observation.id,
        fixed_reading,
        reason="  typed the wrong row  ",
        recorded_at=clinic.now(),
        alerts=alerts_for(fixed_reading, RULES),
        by=clinic.therapist.id,
    )

    # Then the standing record shows the correction, at the original's time and check-in
    (standing,) = checkins.observations(session.id)
    assert standing == fixed.observation
    assert standing.reading == fixed_reading
    assert (standing.corrects_id, standing.correction_reason) == (
        original.observation.id,
        "typed the wrong row",
    )
    assert standing.occurred_at == original.observation.occurred_at
    assert standing.checkin_key == "t40"
    # And the history keeps the original exactly as it was saved
    history = checkins.observations(session.id, include_history=True)
    assert history == [original.observation, fixed.observation]
    # And the original's alerts stay until acknowledged, marked as behind a corrected reading
    alerts = checkins.open_alerts(session.id)
    assert [(a.field, a.reading_corrected) for a in alerts] == [
        ("systolic_mmhg", True),
        ("diastolic_mmhg", True),
        ("spo2_pct", False),
    ]
    # And the check-in still counts as done
    assert clinic.entries.done_checkins(session.id) == {session.participants[0].id: {"t40"}}

    # When the superseded original is corrected again, Then that is refused
    with pytest.raises(StorageError, match="already corrected"):
        checkins.correct_observation(
            original.observation.id, CALM, reason="again", recorded_at=clinic.now()
        )


def test_a_voided_reading_leaves_the_record_but_not_the_history(clinic: Clinic) -> None:
    session = clinic.new_session()
    original = _save(clinic, session, CALM, key="t15")
    checkins = CheckinRepository(clinic.db)
    void = checkins.correct_observation(
        original.observation.id,
        None,
        reason="entered for the wrong client",
        recorded_at=clinic.now(),
        voids=True,
    )
    assert checkins.observations(session.id) == []
    assert [o.id for o in checkins.observations(session.id, include_history=True)] == [
        original.observation.id,
        void.observation.id,
    ]
    assert void.observation.values == original.observation.values
    assert void.alerts == ()
    assert clinic.entries.done_checkins(session.id) == {}


# --- a partial check-in ---------------------------------------------------------------------------


def _stored_not_taken(db: Database, observation_id: uuid.UUID) -> str:
    """The column as the database holds it, as text."""
    statement = text("SELECT CAST(not_taken AS TEXT) FROM observation WHERE id = :id").bindparams(
        bindparam("id", observation_id, type_=Uuid())
    )
    with db.engine.connect() as connection:
        return str(connection.execute(statement).scalar_one())


def test_a_partial_reading_keeps_the_measures_not_taken(clinic: Clinic) -> None:
    # Given T+40 taken without blood pressure and SpO2, and a complete reading after it
    session = clinic.new_session()
    at = clinic.now()
    checkins = CheckinRepository(clinic.db)
    partial = checkins.add_observation(
        session.id,
        session.participants[0].id,
        Reading(heart_rate_bpm=88),
        occurred_at=at,
        recorded_at=at,
        checkin_key="t40",
        not_taken=("bp", "spo2"),
        by=clinic.therapist.id,
    )
    complete = _save(clinic, session, CALM, key="t45")
    # Then the saved record says which were not taken, and reads back the same
    assert partial.observation.not_taken == ("bp", "spo2")
    assert complete.observation.not_taken == ()
    assert checkins.observations(session.id) == [partial.observation, complete.observation]
    assert checkins.observation(partial.observation.id) == partial.observation
    # And the column holds the JSON the ORM would write ([] for a complete reading)
    assert _stored_not_taken(clinic.db, partial.observation.id) == '["bp", "spo2"]'
    assert _stored_not_taken(clinic.db, complete.observation.id) == "[]"
    # And the audit row names them too
    (added, _) = [
        e for e in AuditRepository(clinic.db).for_session(session.id) if e.entity == "observation"
    ]
    assert added.detail["not_taken"] == ["bp", "spo2"]


def test_a_correction_says_what_its_values_leave_not_taken(clinic: Clinic) -> None:
    # Given T+40 saved without blood pressure and SpO2
    session = clinic.new_session()
    at = clinic.now()
    checkins = CheckinRepository(clinic.db)
    original = checkins.add_observation(
        session.id,
        session.participants[0].id,
        Reading(heart_rate_bpm=88),
        occurred_at=at,
        recorded_at=at,
        checkin_key="t40",
        not_taken=("bp", "spo2"),
    )
    # When it is corrected with the blood pressure that had been taken after all
    fixed = checkins.correct_observation(
        original.observation.id,
        Reading(systolic_mmhg=150, diastolic_mmhg=92, heart_rate_bpm=88),
        reason="BP was on the monitor",
        recorded_at=clinic.now(),
        not_taken=("spo2",),
    )
    # Then the standing reading lacks only SpO2; the original keeps what it said
    (standing,) = checkins.observations(session.id)
    assert standing.not_taken == ("spo2",) == fixed.observation.not_taken
    history = checkins.observations(session.id, include_history=True)
    assert [o.not_taken for o in history] == [("bp", "spo2"), ("spo2",)]
    # And a withdrawal copies the original's, as it copies its values
    void = checkins.correct_observation(
        fixed.observation.id, None, reason="wrong client", recorded_at=clinic.now(), voids=True
    )
    assert void.observation.not_taken == ("spo2",)


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_correction_without_a_reason_writes_nothing(clinic: Clinic, reason: str) -> None:
    session = clinic.new_session()
    original = _save(clinic, session, CALM)
    with pytest.raises(StorageError, match="needs a reason"):
        CheckinRepository(clinic.db).correct_observation(
            original.observation.id, HIGH, reason=reason, recorded_at=clinic.now()
        )
    assert _count(clinic.db, "observation", session.id) == 1


def test_a_dose_with_its_details_is_corrected_by_a_new_row(clinic: Clinic) -> None:
    # Given a dose entered in mg/kg with the weight, a lot and who gave it, 10 minutes late
    session = clinic.new_session()
    pid = session.participants[0].id
    at = clinic.now(advance_s=3600)
    dose, _events = clinic.entries.add_dose(
        session.id,
        pid,
        occurred_at=at - timedelta(minutes=10),
        recorded_at=at,
        medication="ketamine",
        route="intramuscular",
        dose_mg=52.5,
        dose_mg_per_kg=0.75,
        weight_kg=70.0,
        lot_number="  KT-24117 ",
        given_by=clinic.therapist.id,
        by=clinic.therapist.id,
    )
    # Then every detail reads back, and it is a late entry
    (stored,) = clinic.entries.doses(session.id)
    assert stored == dose
    assert (stored.dose_mg, stored.dose_mg_per_kg, stored.weight_kg, stored.lot_number) == (
        52.5,
        0.75,
        70.0,
        "KT-24117",
    )
    assert stored.is_late and stored.device_count is None

    # When the lot number is corrected
    fixed = clinic.entries.correct_dose(
        dose.id, reason="lot misread", recorded_at=clinic.now(), lot_number="KT-24171"
    )
    # Then the correction carries the other details over and the original stays in the history
    (standing,) = clinic.entries.doses(session.id)
    assert standing == fixed
    assert (standing.lot_number, standing.dose_mg, standing.weight_kg) == ("KT-24171", 52.5, 70.0)
    assert standing.occurred_at == dose.occurred_at
    assert clinic.entries.doses(session.id, include_history=True) == [dose, fixed]
    assert clinic.entries.first_doses(session.id) == {pid: dose.occurred_at}
    with pytest.raises(StorageError, match="already corrected"):
        clinic.entries.correct_dose(dose.id, reason="again", recorded_at=clinic.now())


def test_a_dose_and_its_hold_dose_event_are_saved_together_or_not_at_all(
    clinic: Clinic,
) -> None:
    session = clinic.new_session()
    pid = session.participants[0].id
    at = clinic.now()
    # When the event that goes with the dose cannot be written (an unknown kind)
    with pytest.raises(StorageError, match="Unknown event kind"):
        clinic.entries.add_dose(
            session.id, pid, occurred_at=at, recorded_at=at, with_events=[NewEvent("nonsense")]
        )
    # Then the dose is not saved either
    assert clinic.entries.doses(session.id) == []
    # And with a real event both are saved, the event pointing at the dose, and both returned
    dose, events = clinic.entries.add_dose(
        session.id,
        pid,
        occurred_at=at,
        recorded_at=at,
        with_events=[NewEvent("hold_dose_override", "Dosed anyway", {"reason": "recheck 158/96"})],
    )
    (event,) = [e for e in clinic.entries.events(session.id) if e.kind == "hold_dose_override"]
    assert events == (event,) and clinic.entries.doses(session.id) == [dose]
    assert event.detail == {"reason": "recheck 158/96", "dose_id": str(dose.id)}
    assert (event.participant_id, event.occurred_at) == (pid, at)


# --- baseline ---------------------------------------------------------------------------------


def test_the_baseline_is_the_latest_blood_pressure_before_the_first_dose(clinic: Clinic) -> None:
    # Given a baseline, a recheck without BP, a recheck with BP, then the dose and a later BP
    session = clinic.new_session()
    pid = session.participants[0].id
    checkins = CheckinRepository(clinic.db)
    assert checkins.baseline(session.id, pid) is None
    first = _save(clinic, session, Reading(systolic_mmhg=168, diastolic_mmhg=98), key="baseline")
    _save(clinic, session, Reading(heart_rate_bpm=80), key=None)
    recheck = _save(clinic, session, Reading(systolic_mmhg=152, diastolic_mmhg=92), key=None)
    dose_at = clinic.now()
    _save(clinic, session, Reading(systolic_mmhg=170, diastolic_mmhg=100), key="t40")

    # Then the latest BP before the dose counts (not the baseline check-in, not the later one)
    assert checkins.baseline(session.id, pid, before=dose_at) == recheck.observation
    # And without a dose time, simply the latest BP so far
    latest = checkins.baseline(session.id, pid)
    assert latest is not None and latest.values["systolic_mmhg"] == 170
    # And a dose time before any BP falls back to the baseline check-in
    early = first.observation.occurred_at - timedelta(minutes=1)
    assert checkins.baseline(session.id, pid, before=early) == first.observation


# --- client alert thresholds ------------------------------------------------------------------


def test_client_alert_thresholds_are_added_listed_and_retired_with_an_audit_trail(
    clinic: Clinic,
) -> None:
    client = clinic.add_client()
    rules = ClientAlertRuleRepository(clinic.db)
    by = clinic.therapist.id
    hr = AlertRule("heart_rate_bpm", Comparison.GT, 110, "Heart rate above 110 (beta blocker)")
    sbp = AlertRule("systolic_mmhg", Comparison.GE, 170, "Systolic BP 170 or higher")

    added = rules.add(client.id, hr, at=clinic.now(), by=by)
    rules.add(client.id, sbp, at=clinic.now(), by=by)
    assert rules.active_rules(client.id) == [hr, sbp]
    assert added.rule == hr and added.created_by_id == by

    # A second threshold for the same field and comparison is refused until the first retires
    with pytest.raises(AlertOverrideInvalid, match="retire it first"):
        rules.add(client.id, replace_value(hr, 100), at=clinic.now(), by=by)
    retired = rules.retire(added.id, at=clinic.now(), by=by)
    assert retired.retired_at is not None
    rules.add(client.id, replace_value(hr, 100), at=clinic.now(), by=by)
    assert rules.active_rules(client.id) == [sbp, replace_value(hr, 100)]
    assert len(rules.for_client(client.id, include_retired=True)) == 3
    with pytest.raises(StorageError, match="already retired"):
        rules.retire(added.id, at=clinic.now(), by=by)

    # And every change is on the audit trail
    audit = [a.action for a in AuditRepository(clinic.db).all() if a.entity == "client_alert_rule"]
    assert sorted(audit) == sorted(["client_alert_rule.add"] * 3 + ["client_alert_rule.retire"])


def replace_value(rule: AlertRule, value: float) -> AlertRule:
    return AlertRule(rule.field, rule.op, value, rule.label)


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        pytest.param(
            AlertRule("spo2_pct", Comparison.LT, 120, "x"), "outside 50–100 %", id="range"
        ),
        pytest.param(AlertRule("pulse", Comparison.GT, 100, "x"), "not a reading", id="field"),
        pytest.param(AlertRule("spo2_pct", Comparison.LT, 90, "  "), "label is empty", id="label"),
    ],
)
def test_impossible_client_thresholds_are_refused(
    clinic: Clinic, rule: AlertRule, match: str
) -> None:
    client = clinic.add_client()
    rules = ClientAlertRuleRepository(clinic.db)
    with pytest.raises(AlertOverrideInvalid, match=match):
        rules.add(client.id, rule, at=clinic.now(), by=None)
    assert rules.for_client(client.id, include_retired=True) == []


# --- discharge --------------------------------------------------------------------------------


def _discharge(clinic: Clinic, session: SessionRecord, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "occurred_at": clinic.now(),
        "recorded_at": clinic.now(),
        "aldrete": dict.fromkeys(("activity", "breathing", "circulation", "consciousness"), 2)
        | {"spo2": 2},
        "aldrete_total": 10,
        "on_room_air": True,
        "checklist": {"oriented": True, "escort": True},
        "ready": True,
        "ready_minutes_after_first_dose": 124,
        "problems": [],
        "by": clinic.therapist.id,
    }
    values.update(overrides)
    assessment, event, deviations = DischargeRepository(clinic.db).record(
        session.id, session.participants[0].id, **values
    )
    assert event.kind == "discharge" and event.detail["assessment_id"] == str(assessment.id)
    assert deviations == ()  # none asked for
    return assessment


def test_a_discharge_is_the_assessment_and_a_discharge_event_once(clinic: Clinic) -> None:
    # Given a live session; When the participant is discharged
    session = clinic.new_session()
    pid = session.participants[0].id
    assessment = _discharge(clinic, session)
    # Then the assessment reads back and a discharge event marks the moment
    discharges = DischargeRepository(clinic.db)
    assert discharges.assessments(session.id) == [assessment]
    assert assessment.aldrete["spo2"] == 2 and assessment.ready_minutes_after_first_dose == 124
    (event,) = [e for e in clinic.entries.events(session.id) if e.kind == "discharge"]
    assert (event.participant_id, event.occurred_at) == (pid, assessment.occurred_at)
    assert event.detail["assessment_id"] == str(assessment.id)
    assert discharges.discharged(session.id) == {pid: assessment.occurred_at}
    # When a second discharge is attempted, Then it is refused and nothing is added
    with pytest.raises(AlreadyDone, match="already discharged"):
        _discharge(clinic, session)
    assert _count(clinic.db, "discharge_assessment", session.id) == 1


def test_a_discharge_that_does_not_pass_needs_the_reason_in_the_record(clinic: Clinic) -> None:
    session = clinic.new_session()
    not_ready = {"ready": False, "aldrete_total": 8, "problems": ["Not yet: Steady gait."]}
    with pytest.raises(StorageError, match="reason"):
        _discharge(clinic, session, **not_ready)
    assert _count(clinic.db, "discharge_assessment", session.id) == 0
    saved = _discharge(
        clinic, session, **not_ready, override_reason="Leaves by wheelchair", override_by="Dr. M"
    )
    assert (saved.ready, saved.override_reason, saved.problems) == (
        False,
        "Leaves by wheelchair",
        ("Not yet: Steady gait.",),
    )
    (event,) = [e for e in clinic.entries.events(session.id) if e.kind == "discharge"]
    assert event.detail["override_reason"] == "Leaves by wheelchair"


# --- the signed lock and append-only on the new tables ------------------------------------------


def _raw_rows(clinic: Clinic, session: SessionRecord, alert_id: uuid.UUID) -> dict[str, Any]:
    participant = session.participants[0].id
    at = clinic.now()
    observation_id = CheckinRepository(clinic.db).observations(session.id)[0].id
    return {
        "alert": insert(Alert).values(
            id=uuid.uuid4(),
            session_id=session.id,
            participant_id=participant,
            observation_id=observation_id,
            field="spo2_pct",
            op="<",
            threshold=92.0,
            value=90.0,
            label="",
            message="late",
            raised_at=at,
            position=0,
        ),
        "alert_acknowledgement": insert(AlertAcknowledgement).values(
            id=uuid.uuid4(),
            alert_id=alert_id,
            acknowledged_at=at,
            staff_id=clinic.therapist.id,
            comment="",
        ),
        "discharge_assessment": insert(DischargeAssessment).values(
            id=uuid.uuid4(),
            session_id=session.id,
            participant_id=participant,
            occurred_at=at,
            recorded_at=at,
            aldrete_total=10,
            on_room_air=True,
            checklist={},
            ready=True,
            problems=[],
            voids=False,
        ),
    }


@pytest.mark.parametrize("table", ["alert", "alert_acknowledgement", "discharge_assessment"])
def test_a_signed_session_refuses_raw_rows_in_the_new_tables(clinic: Clinic, table: str) -> None:
    # Given a completed session with a reading and an open alert, then signed
    session = clinic.new_session()
    (alert, _) = _save(clinic, session, HIGH).alerts
    clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    statement = _raw_rows(clinic, session, alert.id)[table]
    _sign(clinic, session.id)
    before = _count(clinic.db, table)
    # When a row is inserted behind the repositories' back, Then the database refuses it
    with pytest.raises(DBAPIError, match="session is signed"), clinic.db.engine.begin() as c:
        c.execute(statement)
    with pytest.raises(RecordLocked), clinic.db.write() as orm:
        orm.execute(statement)
    assert _count(clinic.db, table) == before


@pytest.mark.parametrize("table", ["alert", "alert_acknowledgement", "discharge_assessment"])
def test_an_unsigned_session_accepts_raw_rows_in_the_new_tables(clinic: Clinic, table: str) -> None:
    session = clinic.new_session()
    (alert, _) = _save(clinic, session, HIGH).alerts
    statement = _raw_rows(clinic, session, alert.id)[table]
    before = _count(clinic.db, table)
    with clinic.db.engine.begin() as connection:
        connection.execute(statement)
    assert _count(clinic.db, table) == before + 1


def test_the_repositories_refuse_check_ins_acknowledgements_and_discharge_once_signed(
    clinic: Clinic,
) -> None:
    session = clinic.new_session()
    (alert, _) = _save(clinic, session, HIGH).alerts
    clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    _sign(clinic, session.id)
    checkins = CheckinRepository(clinic.db)
    with pytest.raises(RecordLocked, match="addend"):
        _save(clinic, session, CALM)
    with pytest.raises(RecordLocked, match="addend"):
        checkins.acknowledge(
            alert.id, staff_id=clinic.therapist.id, at=clinic.now(), action="rechecked"
        )
    with pytest.raises(RecordLocked, match="addend"):
        _discharge(clinic, session)
    (observation,) = checkins.observations(session.id)
    with pytest.raises(RecordLocked, match="addend"):
        checkins.correct_observation(observation.id, CALM, reason="x", recorded_at=clinic.now())
    assert len(checkins.open_alerts(session.id)) == 2


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("alert", "message"),
        ("alert_acknowledgement", "comment"),
        ("discharge_assessment", "override_reason"),
    ],
)
def test_the_new_clinical_tables_refuse_raw_updates(
    clinic: Clinic, table: str, column: str
) -> None:
    session = clinic.new_session()
    (alert, _) = _save(clinic, session, HIGH).alerts
    CheckinRepository(clinic.db).acknowledge(
        alert.id, staff_id=clinic.therapist.id, at=clinic.now(), action="rechecked"
    )
    _discharge(clinic, session)
    with pytest.raises(DBAPIError, match="append-only"), clinic.db.engine.begin() as connection:
        connection.execute(text(f"UPDATE {table} SET {column} = 'changed'"))
    with clinic.db.engine.connect() as connection:
        values = connection.execute(text(f"SELECT {column} FROM {table}")).scalars().all()
    assert "changed" not in values


def test_client_alert_thresholds_are_configuration_and_may_be_updated(clinic: Clinic) -> None:
    # Client thresholds are not clinical entries: retiring one is an update the database allows
    client = clinic.add_client()
    rule = ClientAlertRuleRepository(clinic.db).add(
        client.id,
        AlertRule("spo2_pct", Comparison.LT, 90, "SpO2 below 90 %"),
        at=clinic.now(),
        by=None,
    )
    with clinic.db.engine.begin() as connection:
        connection.execute(
            text("UPDATE client_alert_rule SET label = 'edited' WHERE id = :id").bindparams(
                bindparam("id", rule.id, type_=Uuid())
            )
        )
    (edited,) = ClientAlertRuleRepository(clinic.db).for_client(client.id)
    assert edited.label == "edited"
