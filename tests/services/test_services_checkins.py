"""The nurse's use cases on a real database and a fake clock: check-ins and their alerts, doses
with the hold-dose check, esketamine devices, discharge, the nurse board and staggered dosing."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from services_support import ALL_YES, ESKETAMINE, FULL_ALDRETE, START, Room, minutes, run_until

from kapsession.domain.discharge import (
    MINIMUM_TIME_KEY,
    DischargeOverride,
)
from kapsession.domain.hold_dose import HoldDoseLevel, HoldDoseOverride
from kapsession.domain.protocol import AlertRule, Comparison
from kapsession.domain.timeline import CheckinStatus
from kapsession.domain.vitals import (
    PLAUSIBLE_RANGES,
    READING_FIELDS,
    ReadingInvalid,
    parse_reading,
)
from kapsession.records.errors import AlreadyDone, StorageError
from kapsession.records.sessions import SessionRecord
from kapsession.services.checkins import CheckinService

CALM = {"bp": "124/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}
FULL_SET = {**CALM, "moaas": "5", "dissociation": "0", "nausea": "0", "suds": "3"}


def service(room: Room) -> CheckinService:
    return room.service.checkins


def save(
    room: Room,
    record: SessionRecord,
    raw: dict[str, str],
    *,
    participant: int = 0,
    key: str | None = None,
    occurred_at: datetime | None = None,
):  # -> CheckinResult
    now = room.clock.now()
    return service(room).save_checkin(
        record.id,
        record.participants[participant].id,
        raw,
        occurred_at=now if occurred_at is None else occurred_at,
        recorded_at=now,
        checkin_key=key,
        by=room.nurse.id,
    )


def dose(room: Room, record: SessionRecord, text: str = "200 mg", *, participant: int = 0, **kw):
    now = room.clock.now()
    return service(room).record_dose(
        record.id,
        record.participants[participant].id,
        text,
        occurred_at=kw.pop("occurred_at", now),
        recorded_at=now,
        lot_number=kw.pop("lot_number", "KT-24117"),
        given_by=room.nurse.id,
        by=room.nurse.id,
        **kw,
    )


def observation_count(room: Room, record: SessionRecord) -> int:
    return len(service(room).checkins.observations(record.id, include_history=True))


# --- a full schedule --------------------------------------------------------------------------


def test_a_full_schedule_of_check_ins_through_the_live_session(room: Room) -> None:
    # Given a live sublingual session and its protocol's schedule, ordered at 192 mg
    record = room.start(order=room.usual_order(dose_mg=192))
    pid = record.participants[0].id
    live, signals = room.open_live(record.id)
    schedule = live.protocol.checkins
    assert [c.key for c in schedule][:2] == ["baseline", "t15"]

    # When the baseline is taken when due, the dose given at start+40 with its details,
    # and every later check-in entered a minute after it falls due
    run_until(live, room.clock, START + minutes(6))
    assert live.save_checkin(pid, FULL_SET, checkin_key="baseline").saved
    run_until(live, room.clock, START + minutes(40))
    result = live.record_dose(pid, "3 mg/kg", weight_text="64 kg", lot_number="KT-24117")
    assert result is not None and result.saved
    assert result.hold_dose is not None and result.hold_dose.level is HoldDoseLevel.OK
    for spec in schedule[1:]:
        due = next(c for c in live.state(pid).checkins if c.spec.key == spec.key)
        assert due.status is CheckinStatus.UPCOMING
        run_until(live, room.clock, due.due_at + minutes(1))
        assert next(c for c in live.state(pid).checkins if c.spec.key == spec.key).status is (
            CheckinStatus.DUE
        )
        assert live.save_checkin(pid, FULL_SET, checkin_key=spec.key).saved

    # Then every check-in is done, each reading is on the record once, and nothing failed
    assert {c.status for c in live.state(pid).checkins} == {CheckinStatus.DONE}
    assert [o.checkin_key for o in live.observations] == [c.key for c in schedule]
    assert signals.failed == []
    assert signals.saved[0].startswith("Check-in Baseline vitals for Maya at")
    # And the dose has every detail, both units and the sublingual spit time
    (stored,) = live.doses
    assert (stored.dose_mg, stored.dose_mg_per_kg, stored.weight_kg, stored.lot_number) == (
        192.0,
        3.0,
        64.0,
        "KT-24117",
    )
    assert stored.given_by_id == room.nurse.id == live.nurse_author(pid)
    assert result.spit_due_at == stored.occurred_at + minutes(10)
    assert "192 mg (3 mg/kg at 64 kg)" in signals.saved[1]


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        pytest.param({"bp": "400/90"}, "bp", "400 mmHg is outside 40–300 mmHg", id="sbp-400"),
        pytest.param({"spo2_pct": "120"}, "spo2_pct", "SpO2 120 % is outside 50–100 %", id="spo2"),
        pytest.param(
            {"heart_rate_bpm": "-60"}, "heart_rate_bpm", "Heart rate cannot be negative", id="neg"
        ),
        pytest.param(
            {"heart_rate_bpm": "seventy"},
            "heart_rate_bpm",
            "Heart rate must be a whole number, not 'seventy'",
            id="text",
        ),
        pytest.param({"moaas": "7"}, "moaas", "MOAA/S 7 is outside the scale (0 to 5)", id="moaas"),
        pytest.param(
            {"temperature_c": "98.6"}, "temperature_c", "looks like degrees Fahrenheit", id="temp"
        ),
        pytest.param(
            {"bp": "80/120"}, "bp", "Diastolic (120) must be lower than systolic (80)", id="order"
        ),
    ],
)
def test_impossible_values_store_nothing_and_name_the_field_and_range(
    room: Room, raw: dict[str, str], field: str, words: str
) -> None:
    # Given a live session with one reading
    record = room.start()
    live, signals = room.open_live(record.id)
    assert live.save_checkin(record.participants[0].id, CALM) is not None
    before = observation_count(room, record)
    # When an impossible reading is saved
    result = live.save_checkin(record.participants[0].id, {**CALM, **raw})
    # Then nothing is stored, and the problem names the field and what is accepted
    assert result is not None and not result.saved
    assert observation_count(room, record) == before
    assert [p.field for p in result.problems] == [field]
    assert words in result.problems[0].message
    assert signals.failed[-1].startswith("Check-in NOT saved.") and words in signals.failed[-1]
    assert live.open_alerts == []


@pytest.mark.parametrize("raw", [{}, {"comment": "  "}, {"bp": " ", "heart_rate_bpm": ""}])
def test_an_empty_check_in_is_not_saved(room: Room, raw: dict[str, str]) -> None:
    record = room.start()
    result = save(room, record, raw)
    assert not result.saved
    assert [(p.field, p.message) for p in result.problems] == [
        ("reading", "Nothing was entered; type at least one value to save.")
    ]
    assert observation_count(room, record) == 0


# --- thresholds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        pytest.param({"bp": "180/90"}, ["systolic_mmhg"], id="sbp-180"),
        pytest.param({"bp": "179/90"}, [], id="sbp-179"),
        pytest.param({"bp": "90/60"}, ["systolic_mmhg"], id="sbp-90"),
        pytest.param({"bp": "150/110"}, ["diastolic_mmhg"], id="dbp-110"),
        pytest.param({"spo2_pct": "91"}, ["spo2_pct"], id="spo2-91"),
        pytest.param({"spo2_pct": "92"}, [], id="spo2-92"),
        pytest.param({"heart_rate_bpm": "121"}, ["heart_rate_bpm"], id="hr-121"),
        pytest.param({"heart_rate_bpm": "120"}, [], id="hr-120"),
        pytest.param({"heart_rate_bpm": "49"}, ["heart_rate_bpm"], id="hr-49"),
        pytest.param({"resp_rate_per_min": "9"}, ["resp_rate_per_min"], id="rr-9"),
        pytest.param({"resp_rate_per_min": "26"}, ["resp_rate_per_min"], id="rr-26"),
        pytest.param({"moaas": "2"}, ["moaas"], id="moaas-2"),
        pytest.param({"moaas": "3"}, [], id="moaas-3"),
        pytest.param({"bp": "184/112"}, ["systolic_mmhg", "diastolic_mmhg"], id="both"),
    ],
)
def test_protocol_thresholds_flag_a_saved_reading(
    room: Room, raw: dict[str, str], fields: list[str]
) -> None:
    record = room.start()
    result = save(room, record, {**CALM, **raw})
    assert result.saved
    assert [hit.rule.field for hit in result.hits] == fields
    assert [a.field for a in service(room).open_alerts(record.id)] == fields


def test_a_per_client_threshold_flags_only_that_client(room: Room) -> None:
    # Given a couples session where Jonah's prescriber set heart rate > 100 (not 120)
    jonah, lena = room.client("Jonah", "Okafor"), room.client("Lena", "Okafor")
    record = room.start(jonah, lena)
    rule = service(room).add_client_alert_rule(
        jonah.id,
        AlertRule("heart_rate_bpm", Comparison.GT, 100, "Heart rate above 100 (Jonah)"),
        at=room.clock.now(),
        by=room.therapist.id,
    )
    fast = {**CALM, "heart_rate_bpm": "108"}

    # When both have a heart rate of 108
    flagged = save(room, record, fast, participant=0)
    calm = save(room, record, fast, participant=1)

    # Then only Jonah's reading is flagged, with his threshold's label
    assert [(h.rule.label, h.message) for h in flagged.hits] == [
        ("Heart rate above 100 (Jonah)", "Heart rate 108 bpm — above 100")
    ]
    assert calm.hits == ()
    # And the protocol's own low limit still applies to him
    rules = service(room).alert_rules(record.id, record.participants[0].id)
    assert ("heart_rate_bpm", Comparison.LT, 50) in {(r.field, r.op, r.value) for r in rules}

    # When the threshold is retired, Then 108 no longer flags him
    service(room).retire_client_alert_rule(rule.id, at=room.clock.now(), by=room.therapist.id)
    assert save(room, record, fast, participant=0).hits == ()


def test_an_alert_stays_open_until_a_staff_member_acknowledges_it(room: Room) -> None:
    # Given a live session and a reading over the systolic threshold
    record = room.start()
    live, signals = room.open_live(record.id)
    result = live.save_checkin(record.participants[0].id, {**CALM, "bp": "186/100"})
    assert result is not None and result.saved
    assert signals.saved[-1].endswith("1 alert to acknowledge.")
    (alert,) = live.open_alerts
    room.clock.advance(60)
    assert [a.id for a in live.open_alerts] == [alert.id]
    # When it is acknowledged, Then it closes with the monitoring nurse's name and the time
    assert live.acknowledge_alert(alert.id, "rechecked", "recheck in 5 min")
    assert live.open_alerts == []
    (closed,) = service(room).checkins.alerts(record.id)
    assert (closed.acknowledged_by_id, closed.acknowledged_at) == (room.nurse.id, room.clock.now())
    assert closed.acknowledgement_comment == "recheck in 5 min"
    # And a second acknowledgement is refused
    with pytest.raises(AlreadyDone):
        service(room).acknowledge_alert(
            alert.id, by=room.therapist.id, at=room.clock.now(), action="rechecked"
        )
    assert live.acknowledge_alert(alert.id, "rechecked") is False


# --- corrections and late entries -------------------------------------------------------------


def test_a_correction_keeps_the_original_and_needs_a_reason(room: Room) -> None:
    record = room.start()
    live, signals = room.open_live(record.id)
    original = live.save_checkin(record.participants[0].id, CALM, checkin_key="baseline")
    assert original is not None and original.observation is not None
    room.clock.advance(120)
    # A correction without a reason is refused with the field named; nothing is stored
    refused = live.correct_checkin(original.observation.id, {**CALM, "bp": "134/82"}, "  ")
    assert refused is not None and [p.field for p in refused.problems] == ["reason"]
    # With a reason the correction stands, and the original is kept in the history
    fixed = live.correct_checkin(original.observation.id, {**CALM, "bp": "184/82"}, "misread")
    assert (
        fixed is not None
        and fixed.saved
        and [h.rule.field for h in fixed.hits] == ["systolic_mmhg"]
    )
    assert [o.values["systolic_mmhg"] for o in live.observations] == [184]
    history = service(room).checkins.observations(record.id, include_history=True)
    assert [o.values["systolic_mmhg"] for o in history] == [124, 184]
    assert live.state().checkins[0].status is CheckinStatus.DONE
    assert signals.saved[-1].startswith("Reading corrected")


def test_a_late_entry_keeps_the_time_it_describes_and_the_time_it_was_written(
    room: Room,
) -> None:
    # Given a session 50 minutes in
    record = room.start()
    live, signals = room.open_live(record.id)
    run_until(live, room.clock, START + minutes(50))
    taken = START + minutes(8)
    # When the baseline taken at minute 8 is entered now
    result = live.save_checkin(
        record.participants[0].id, CALM, checkin_key="baseline", occurred_at=taken
    )
    # Then both times are kept, it counts as late, and the message gives the time it describes
    assert result is not None and result.observation is not None
    (stored,) = live.observations
    assert (stored.occurred_at, stored.recorded_at) == (taken, START + minutes(50))
    assert stored.is_late
    assert taken.astimezone().strftime("%H:%M") in signals.saved[-1]
    # And an entry in the future is refused with a message
    assert (
        live.save_checkin(record.participants[0].id, CALM, occurred_at=START + minutes(55)) is None
    )
    assert "in the future" in signals.failed[-1]


# --- doses and the hold-dose check ------------------------------------------------------------


def test_a_caution_is_recorded_with_the_dose(room: Room) -> None:
    record = room.start()
    save(room, record, {**CALM, "bp": "150/92"}, key="baseline")
    room.clock.advance(35 * 60)
    result = dose(room, record)
    assert result.saved and result.hold_dose is not None
    assert result.hold_dose.level is HoldDoseLevel.CAUTION
    (event,) = room.events(record.id, "hold_dose_caution")
    assert event.detail["message"] == result.hold_dose.message
    assert "150/92 mmHg is above 140/90 mmHg" in event.detail["message"]
    assert event.detail["dose_id"] == str(result.dose.id)
    assert (event.occurred_at, event.participant_id) == (
        result.dose.occurred_at,
        record.participants[0].id,
    )


@pytest.mark.parametrize(
    ("baseline", "level"),
    [
        pytest.param({**CALM, "bp": "172/96"}, HoldDoseLevel.BLOCK, id="block"),
        pytest.param({"heart_rate_bpm": "70"}, HoldDoseLevel.NO_BASELINE, id="no-baseline-bp"),
        pytest.param(None, HoldDoseLevel.NO_BASELINE, id="no-reading"),
    ],
)
def test_a_blocked_first_dose_needs_an_override_recorded_with_it(
    room: Room, baseline: dict[str, str] | None, level: HoldDoseLevel
) -> None:
    # Given a session whose baseline is over the block limit, or missing
    record = room.start()
    live, signals = room.open_live(record.id)
    pid = record.participants[0].id
    if baseline is not None:
        assert live.save_checkin(pid, baseline, checkin_key="baseline") is not None
    run_until(live, room.clock, START + minutes(40))

    # When the dose is entered without an override, Then it is refused and nothing is written
    refused = live.record_dose(pid, "200 mg")
    assert refused is not None and refused.needs_override
    assert refused.hold_dose is not None and refused.hold_dose.level is level
    assert room.service.entries.doses(record.id) == []
    assert room.events(record.id, "hold_dose_override") == []
    assert signals.failed[-1].startswith("Dose NOT saved.")
    assert live.state(pid).dose_projected

    # When it is entered with an override, Then the dose and the override are on the record
    override = HoldDoseOverride("Recheck 158/98 after rest; prescriber agrees", "Dr. Ines Moreau")
    result = live.record_dose(pid, "200 mg", override=override)
    assert result is not None and result.saved and result.dose is not None
    (event,) = room.events(record.id, "hold_dose_override")
    assert event.detail["reason"] == "Recheck 158/98 after rest; prescriber agrees"
    assert event.detail["staff"] == "Dr. Ines Moreau"
    assert event.detail["level"] == level.value
    assert event.detail["dose_id"] == str(result.dose.id)
    assert live.first_dose_at(pid) == result.dose.occurred_at
    # And a booster later is checked again (issue 16), on a blood pressure taken for it
    room.clock.advance(35 * 60)
    assert live.save_checkin(pid, {**CALM, "bp": "132/84"}) is not None
    booster = live.record_dose(pid, "100 mg")
    assert booster is not None and booster.saved and booster.hold_dose is not None
    assert booster.hold_dose.level is HoldDoseLevel.OK
    assert booster.dose is not None and booster.dose.kind == "booster"


@pytest.mark.parametrize(
    ("text", "weight", "field", "words"),
    [
        pytest.param("2000", "", "dose", "outside 1–1000 mg", id="ten-times"),
        pytest.param("0.5 mg/kg", "", "weight_kg", "needs the client's weight", id="no-weight"),
        pytest.param("0.5", "", "dose", "Did you mean 0.5 mg/kg?", id="unit"),
        pytest.param("200", "154 lb", "weight_kg", "Weight must be in kg", id="pounds"),
    ],
)
def test_an_impossible_dose_stores_nothing(
    room: Room, text: str, weight: str, field: str, words: str
) -> None:
    record = room.start()
    save(room, record, CALM, key="baseline")
    result = dose(room, record, text, weight_text=weight)
    assert not result.saved and not result.needs_override
    assert field in [p.field for p in result.problems]
    assert words in result.message
    assert room.service.entries.doses(record.id) == []


def test_an_esketamine_dose_is_devices_five_minutes_apart_and_rems_runs_from_the_first(
    room: Room,
) -> None:
    # Given an esketamine session with its REMS baseline
    record = room.start(protocol_key=ESKETAMINE)
    pid = record.participants[0].id
    save(room, record, CALM, key="baseline")
    room.clock.advance(30 * 60)
    first_at = room.clock.now()

    # When 56 mg is recorded
    result = dose(room, record, "56", lot_number="SPR-5521A")
    # Then it is 2 devices of 28 mg, the second due 5 minutes after the first
    assert result.dose is not None and result.dose.device_count == 2
    assert result.intranasal is not None
    assert result.intranasal.given_at == (first_at,)
    assert result.intranasal.next_device_due_at == first_at + minutes(5)
    assert result.intranasal.rems_monitoring_ends_at == first_at + minutes(120)
    assert result.spit_due_at is None

    # When the second device is given a little after its rest
    room.clock.advance(5 * 60 + 20)
    saved = service(room).record_device(
        record.id, pid, occurred_at=room.clock.now(), recorded_at=room.clock.now()
    )
    status = saved.status
    # Then no device remains, and REMS still counts from the first device
    assert (status.remaining, status.next_device_due_at) == (0, None)
    assert status.rems_monitoring_ends_at == first_at + minutes(120)
    (event,) = room.events(record.id, "device_given")
    assert event.label == "Device 2 of 2"
    assert saved.event == event  # the record the save returned is the row as stored
    # And a third device is refused
    with pytest.raises(StorageError, match="All 2 devices"):
        service(room).record_device(
            record.id, pid, occurred_at=room.clock.now(), recorded_at=room.clock.now()
        )


@pytest.mark.parametrize(("text", "devices"), [("56", 2), ("84 mg", 3)])
def test_esketamine_device_counts(room: Room, text: str, devices: int) -> None:
    ordered = room.usual_order(ESKETAMINE, dose_mg=float(text.split()[0]))
    record = room.start(protocol_key=ESKETAMINE, order=ordered)
    save(room, record, CALM, key="baseline")
    result = dose(room, record, text)
    assert result.dose is not None and result.dose.device_count == devices
    assert result.intranasal is not None and result.intranasal.remaining == devices - 1


def test_an_esketamine_dose_that_is_not_whole_devices_is_refused(room: Room) -> None:
    record = room.start(protocol_key=ESKETAMINE)
    save(room, record, CALM, key="baseline")
    result = dose(room, record, "50")
    assert not result.saved
    assert "not a whole number of 28 mg devices" in result.message
    assert room.service.entries.doses(record.id) == []


# --- discharge --------------------------------------------------------------------------------


def test_discharge_is_refused_while_an_item_fails_then_overridden_with_a_reason(
    room: Room,
) -> None:
    # Given a sublingual session: baseline 120/80, dose, and 2 hours later BP still 150/96
    record = room.start()
    live, signals = room.open_live(record.id)
    pid = record.participants[0].id
    live.save_checkin(pid, {**CALM, "bp": "120/80"}, checkin_key="baseline")
    run_until(live, room.clock, START + minutes(40))
    dosed = live.record_dose(pid, "200 mg")
    assert dosed is not None and dosed.saved
    run_until(live, room.clock, START + minutes(170))
    live.save_checkin(pid, {**CALM, "bp": "150/96"}, checkin_key="pre-discharge")
    checklist = {**ALL_YES, "escort": False}

    # When the discharge check is evaluated
    evaluation = live.evaluate_discharge(pid, FULL_ALDRETE, checklist)
    # Then it names what fails: circulation 25 % from baseline scores 1, and no escort yet
    assert not evaluation.ready
    assert evaluation.aldrete.item("circulation").score == 1
    assert {p.key for p in evaluation.problems} == {"checklist.escort"}  # 9 of 10 passes
    # When discharge is recorded without an override, Then it is refused and nothing is written
    refused = live.record_discharge(pid, FULL_ALDRETE, checklist)
    assert refused is not None and not refused.saved
    assert "Not yet: Escort present" in signals.failed[-1]
    assert service(room).discharges.assessments(record.id) == []
    assert room.events(record.id, "discharge") == []
    # When it is recorded with an override and its reason
    override = DischargeOverride("Escort waiting in the car park", "Tom Becker")
    result = live.record_discharge(pid, FULL_ALDRETE, checklist, override=override)
    # Then the assessment keeps every item, the failure and the reason; the event marks the time
    assert result is not None and result.assessment is not None
    assessment = result.assessment
    assert (assessment.ready, assessment.override_reason, assessment.override_by) == (
        False,
        "Escort waiting in the car park",
        "Tom Becker",
    )
    assert assessment.aldrete == {
        "activity": 2,
        "breathing": 2,
        "circulation": 1,
        "consciousness": 2,
        "spo2": 2,
    }
    assert assessment.aldrete_total == 9
    assert assessment.checklist["escort"] is False
    assert assessment.problems == tuple(p.message for p in evaluation.problems)
    assert live.discharged == {pid: room.clock.now()}
    (event,) = room.events(record.id, "discharge")
    assert event.detail["override_reason"] == "Escort waiting in the car park"
    # And a participant is discharged once
    assert live.record_discharge(pid, FULL_ALDRETE, ALL_YES) is None
    assert "already discharged" in signals.failed[-1]


ESKETAMINE_CHECKLIST = {
    "sedation-resolved": True,
    "dissociation-resolved": True,
    "oriented": True,
    "steady-gait": True,
    "nausea-controlled": True,
    "escort": True,
    "no-driving": True,
}


@pytest.mark.parametrize(
    ("after_min", "ready", "minutes_ready"),
    [
        pytest.param(95.5, False, 95, id="clinically-ready-at-95"),
        pytest.param(121, True, 121, id="after-rems-minimum"),
    ],
)
def test_ready_minutes_after_the_first_device_for_the_rems_form(
    room: Room, after_min: float, ready: bool, minutes_ready: int
) -> None:
    # Given an esketamine session dosed at start+30, all well at `after_min`
    record = room.start(protocol_key=ESKETAMINE)
    pid = record.participants[0].id
    save(room, record, CALM, key="baseline")
    room.clock.advance(30 * 60)
    first = dose(room, record, "56")
    assert first.dose is not None
    room.clock.advance(after_min * 60)
    save(room, record, CALM, key="pre-discharge")
    checkins = service(room)

    # When discharge is recorded
    now = room.clock.now()
    kwargs = {
        "observation": FULL_ALDRETE,
        "checklist": ESKETAMINE_CHECKLIST,
        "occurred_at": now,
        "recorded_at": now,
    }
    result = checkins.record_discharge(record.id, pid, **kwargs)
    if not ready:
        # Then before the REMS 2 hours only the minimum time fails: refused without override
        assert not result.saved
        assert [p.key for p in result.evaluation.problems] == [MINIMUM_TIME_KEY]
        assert result.evaluation.clinically_ready
        moreau = room.service.add_staff("Dr. Moreau", "prescriber", at=now)
        override = DischargeOverride(
            "Leaving against advice", "Dr. Moreau", prescriber_id=moreau.id
        )
        result = checkins.record_discharge(record.id, pid, override=override, **kwargs)
    # Then the minute they were ready is recorded from the first device
    assert result.assessment is not None
    assert result.assessment.ready is ready
    assert result.assessment.ready_minutes_after_first_dose == minutes_ready


# --- the room: nurse board and staggered dosing -----------------------------------------------


def test_the_nurse_board_lists_three_participants_by_the_next_check_in_due(room: Room) -> None:
    # Given a group of three, each with a baseline, dosed at start+38, +44 and +40
    people = [room.client(*name) for name in (("Ana", "Lima"), ("Ben", "Cole"), ("Cy", "Diaz"))]
    record = room.start(*people, modality="group")
    assert record.modality == "group"
    ana, ben, cy = (p.id for p in record.participants)
    live, _ = room.open_live(record.id)
    for pid in (ana, ben, cy):
        live.save_checkin(pid, CALM, checkin_key="baseline")
    for at_min, pid in ((38, ana), (40, cy), (44, ben)):
        run_until(live, room.clock, START + minutes(at_min))
        dosed = live.record_dose(pid, "200 mg")
        assert dosed is not None and dosed.saved
    # ... and at start+59: Ana's T+15 (due 53) is overdue, Cy's (55) and Ben's (59) are due;
    # Cy has a reading with an alert
    run_until(live, room.clock, START + minutes(58))
    live.save_checkin(cy, {**CALM, "spo2_pct": "90"})
    run_until(live, room.clock, START + minutes(59))

    # When the board is read
    board = live.board()
    # Then overdue comes first, then due by time; with each one's T+ time and open alerts
    assert [row.name for row in board] == ["Ana Lima", "Cy Diaz", "Ben Cole"]
    statuses = [(row.next_checkin.spec.key, row.next_checkin.status) for row in board]
    assert statuses == [
        ("t15", CheckinStatus.OVERDUE),
        ("t15", CheckinStatus.DUE),
        ("t15", CheckinStatus.DUE),
    ]
    assert [row.since_dose_s for row in board] == [21 * 60, 19 * 60, 15 * 60]
    assert [row.open_alerts for row in board] == [0, 1, 0]
    assert board[1].last_reading is not None and board[1].last_reading.values["spo2_pct"] == 90
    assert board[0].last_reading is not None and board[0].last_reading.checkin_key == "baseline"
    assert {row.phase for row in board} == {"Onset"}

    # When Ana's T+15 is done, Then her next check-in (T+30, upcoming) puts her last
    live.save_checkin(ana, CALM, checkin_key="t15")
    assert [row.name for row in live.board()] == ["Cy Diaz", "Ben Cole", "Ana Lima"]
    # And the service gives the same board from the same timelines
    states = {pid: live.state(pid) for pid in (ana, ben, cy)}
    assert service(room).nurse_board(record.id, states) == live.board()


def test_a_discharged_participant_goes_to_the_bottom_of_the_board(room: Room) -> None:
    record = room.start(room.client("Jonah", "Okafor"), room.client("Lena", "Okafor"))
    jonah, lena = (p.id for p in record.participants)
    live, _ = room.open_live(record.id)
    for pid in (jonah, lena):
        live.save_checkin(pid, CALM, checkin_key="baseline")
    run_until(live, room.clock, START + minutes(40))
    for pid in (jonah, lena):
        dosed = live.record_dose(pid, "200 mg")
        assert dosed is not None and dosed.saved
    run_until(live, room.clock, START + minutes(175))
    live.save_checkin(jonah, CALM)
    assert live.record_discharge(jonah, FULL_ALDRETE, ALL_YES) is not None
    rows = live.board()
    assert [row.participant.id for row in rows] == [lena, jonah]
    assert rows[1].discharged_at == room.clock.now() and rows[1].next_checkin is None


def test_staggered_doses_show_each_participants_projected_t0_until_dosed(room: Room) -> None:
    # Given a group of three with doses planned 5 minutes apart
    people = [room.client(*name) for name in (("Ana", "Lima"), ("Ben", "Cole"), ("Cy", "Diaz"))]
    record = room.start(*people, modality="group")
    ids = [p.id for p in record.participants]
    live, _ = room.open_live(record.id)
    assert live.plan_staggered_doses(5)
    for pid in ids:
        live.save_checkin(pid, CALM, checkin_key="baseline")

    # Then each one's projected T0 is their own planned time
    expected = [START + minutes(40 + 5 * i) for i in range(3)]
    assert [live.state(pid).dose_anchor_at for pid in ids] == expected
    assert all(live.state(pid).dose_projected for pid in ids)
    assert live.dose_plan == dict(zip(ids, expected, strict=True))
    t15 = [next(c for c in live.state(pid).checkins if c.spec.key == "t15") for pid in ids]
    assert [c.due_at for c in t15] == [at + minutes(15) for at in expected]

    # When the first is dosed at start+41 and the app restarts at start+43
    run_until(live, room.clock, START + minutes(41))
    dosed = live.record_dose(ids[0], "200 mg")
    assert dosed is not None and dosed.saved
    run_until(live, room.clock, START + minutes(43))
    live.stop()
    again, _ = room.open_live(record.id)
    # Then the dosed one has their real T0; the others keep their plan after the restart
    assert again.state(ids[0]).dose_anchor_at == START + minutes(41)
    assert [again.state(pid).dose_anchor_at for pid in ids[1:]] == expected[1:]
    # And the others are still in the intention phase, waiting for their dose
    assert {again.state(pid).current_phase.spec.key for pid in ids[1:]} == {"intention"}


@pytest.mark.parametrize("stagger_min", [-1, 61])
def test_an_impossible_stagger_is_refused(room: Room, stagger_min: float) -> None:
    record = room.start(room.client("Jonah", "Okafor"), room.client("Lena", "Okafor"))
    live, signals = room.open_live(record.id)
    assert live.plan_staggered_doses(stagger_min) is False
    assert "0 to 60 minutes" in signals.failed[-1]
    assert live.dose_plan == {}


# --- property: no invalid reading is ever stored ----------------------------------------------

JUNK = st.one_of(
    st.integers(min_value=-500, max_value=500).map(str),
    st.floats(min_value=-50, max_value=400, allow_nan=False).map(lambda x: f"{x:.1f}"),
    st.sampled_from(["", " ", "80/120", "400/90", "120/", "abc", "98 %", "36,8", "½", "1e3"]),
    st.text(max_size=8),
)


def _plausible(field: str) -> st.SearchStrategy[str]:
    """Text a nurse could type for `field` that is (mostly) a real value."""
    if field == "bp":
        systolic = st.integers(70, 240)
        return systolic.flatmap(lambda sys: st.integers(30, sys).map(lambda dia: f"{sys}/{dia}"))
    if field == "temperature_c":
        return st.floats(34.0, 41.0).map(lambda x: f"{x:.1f}")
    if field == "emesis":
        return st.sampled_from(["yes", "no", "y", "n"])
    if field == "comment":
        return st.text(max_size=20)
    limits = PLAUSIBLE_RANGES[field]
    return st.integers(int(limits.low), int(limits.high)).map(str)


SEPARATE_BP = ("systolic_mmhg", "diastolic_mmhg")
TYPED = st.fixed_dictionaries(
    {},
    optional={f: _plausible(f) for f in (*READING_FIELDS, "bp") if f not in SEPARATE_BP},
)
SLIP = st.tuples(st.sampled_from([*READING_FIELDS, "bp"]), JUNK)


def _with_slip(typed: dict[str, str], slip: tuple[str, str] | None) -> dict[str, str]:
    return typed if slip is None else {**typed, slip[0]: slip[1]}


# What a nurse types (the "120/80" box, values mostly in range), sometimes with one slip in
# any field (the two separate blood pressure fields included), or anything at all.
RAW_READINGS = st.one_of(
    st.builds(_with_slip, TYPED, st.none() | SLIP),
    st.dictionaries(st.sampled_from([*READING_FIELDS, "bp"]), JUNK, max_size=5),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=RAW_READINGS)
def test_no_invalid_reading_is_ever_stored(room: Room, raw: dict[str, str]) -> None:
    # Given a live session (one per test run; the count only ever grows)
    record = _hypothesis_session(room)
    before = observation_count(room, record)
    room.clock.advance(1)
    # When whatever was typed is saved
    result = save(room, record, raw)
    # Then a reading is stored exactly when the domain accepts it, with the parsed values
    try:
        parsed = parse_reading(raw)
    except ReadingInvalid:
        parsed = None
    accepted = parsed is not None and not parsed.is_empty
    event("stored" if accepted else "refused")
    assert result.saved is accepted
    assert observation_count(room, record) == before + (1 if accepted else 0)
    if accepted:
        assert result.observation is not None and result.observation.reading == parsed
    else:
        assert result.problems


def _hypothesis_session(room: Room) -> SessionRecord:
    """The test's one live session (hypothesis runs the body many times on the same database)."""
    live = room.service.live_sessions()
    return room.service.sessions.get(live[0].id) if live else room.start()


def test_a_participant_of_another_session_is_refused(room: Room) -> None:
    record, other = room.start(), room.start()
    with pytest.raises(StorageError, match="not part of this session"):
        service(room).save_checkin(
            record.id,
            other.participants[0].id,
            CALM,
            occurred_at=room.clock.now(),
            recorded_at=room.clock.now(),
        )
    assert service(room).observations(record.id) == []
