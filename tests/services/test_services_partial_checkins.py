"""A check-in records only what was measured, on a real database and a fake clock: the
measures its check-in requires but that were left empty are confirmed, then recorded as not
taken; an empty check-in is refused; a reading outside every slot's window is unscheduled and
leaves the slot due."""

from __future__ import annotations

import uuid

from services_support import START, Room, Signals, minutes, run_until

from kapsession.domain.timeline import CheckinState, CheckinStatus
from kapsession.records.sessions import SessionRecord
from kapsession.services.live_session import LiveSession

# The sublingual protocol's T+15 measures bp, hr, spo2 and moaas (all required by default).
T15_HR_AND_MOAAS = {"heart_rate_bpm": "84", "moaas": "4"}
T15_COMPLETE = {"bp": "132/84", "spo2_pct": "97", **T15_HR_AND_MOAAS}
BASELINE = {
    "bp": "122/78",
    "heart_rate_bpm": "72",
    "spo2_pct": "98",
    "resp_rate_per_min": "14",
    "suds": "3",
}


def dosed_at_40(room: Room) -> tuple[SessionRecord, LiveSession, Signals]:
    """A session with a complete baseline and a dose at minute 40."""
    record = room.start()
    live, signals = room.open_live(record.id)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(6))
    saved = live.save_checkin(pid, BASELINE, checkin_key="baseline")
    assert saved is not None and saved.saved and saved.not_taken == ()
    run_until(live, room.clock, START + minutes(40))
    dose = live.record_dose(pid, "200 mg", lot_number="KT-1")
    assert dose is not None and dose.saved
    return record, live, signals


def slot(live: LiveSession, pid: uuid.UUID, key: str) -> CheckinState:
    return next(c for c in live.state(pid).checkins if c.spec.key == key)


def test_a_partial_check_in_is_confirmed_then_records_what_was_not_taken(room: Room) -> None:
    # Given T+15 due, and a reading of only heart rate and MOAA/S
    record, live, signals = dosed_at_40(room)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(56))
    before = len(live.observations)
    # When it is saved asking before a partial check-in
    asked = live.save_checkin(pid, T15_HR_AND_MOAAS, checkin_key="t15", ask_before_partial=True)
    # Then nothing is saved; the required measures left empty come back, in protocol order,
    # and nothing failed (it is a question, not a refusal)
    assert asked is not None and asked.needs_confirmation and not asked.saved
    assert asked.not_taken == ("bp", "spo2")
    assert len(live.observations) == before
    assert len(room.service.checkins.observations(record.id)) == before
    assert signals.failed == []
    assert slot(live, pid, "t15").status is CheckinStatus.DUE
    # When the nurse confirms (the same save, not asking)
    saved = live.save_checkin(pid, T15_HR_AND_MOAAS, checkin_key="t15")
    # Then it is recorded as T+15 with BP and SpO2 not taken, and the slot is done
    assert saved is not None and saved.saved
    assert saved.observation is not None and saved.observation.not_taken == ("bp", "spo2")
    (stored,) = room.service.checkins.observations(record.id)[before:]
    assert stored == saved.observation
    assert (stored.values["systolic_mmhg"], stored.values["spo2_pct"]) == (None, None)
    assert slot(live, pid, "t15").status is CheckinStatus.DONE
    assert signals.saved[-1].endswith("— saved. Not taken: BP, SpO2.")


def test_a_complete_check_in_is_saved_without_a_question(room: Room) -> None:
    record, live, _signals = dosed_at_40(room)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(56))
    saved = live.save_checkin(pid, T15_COMPLETE, checkin_key="t15", ask_before_partial=True)
    assert saved is not None and saved.saved and saved.observation is not None
    assert saved.not_taken == saved.observation.not_taken == ()


def test_an_empty_check_in_is_refused_before_any_question(room: Room) -> None:
    # Given T+15 due
    record, live, signals = dosed_at_40(room)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(56))
    before = len(live.observations)
    # When a check-in with nothing typed is saved
    result = live.save_checkin(pid, {}, checkin_key="t15", ask_before_partial=True)
    # Then it is refused as empty (not offered as a partial check-in), and nothing is stored
    assert result is not None and not result.saved and not result.needs_confirmation
    assert [p.field for p in result.problems] == ["reading"]
    assert "Nothing was entered" in signals.failed[-1]
    assert len(room.service.checkins.observations(record.id)) == before


def test_an_unscheduled_reading_asks_nothing_and_leaves_the_slot_due(room: Room) -> None:
    # Given the dose given two minutes ago: no slot's window is open
    record, live, signals = dosed_at_40(room)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(42))
    assert live.state(pid).open_slot() is None
    # When a recheck of the blood pressure alone is saved as unscheduled
    saved = live.save_checkin(pid, {"bp": "150/92"}, checkin_key=None, ask_before_partial=True)
    # Then it is saved with no check-in and nothing marked not taken
    assert saved is not None and saved.saved and saved.observation is not None
    assert (saved.observation.checkin_key, saved.observation.not_taken) == (None, ())
    assert signals.saved[-1].startswith("Unscheduled check-in for Maya at")
    # And T+15 has not been used up: it falls due and its slot opens as it would have
    assert slot(live, pid, "t15").status is CheckinStatus.UPCOMING
    run_until(live, room.clock, START + minutes(50))
    assert live.state(pid).open_slot() == slot(live, pid, "t15")
    run_until(live, room.clock, START + minutes(55))
    assert slot(live, pid, "t15").status is CheckinStatus.DUE
    # And reading the session again agrees (the slot is due there too)
    live.reload()
    assert slot(live, pid, "t15").status is CheckinStatus.DUE


def test_the_check_ins_change_when_a_slots_window_opens(room: Room) -> None:
    # Given the dose given, T+15 upcoming with its window (T+10) not open yet
    record, live, _signals = dosed_at_40(room)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(49))
    changes: list[bool] = []
    live.checkins_changed.connect(lambda: changes.append(slot(live, pid, "t15").window_open))
    # When the clock passes T+10
    run_until(live, room.clock, START + minutes(51))
    # Then the check-ins changed once (the form follows the open slot), status still upcoming
    assert changes == [True]
    assert slot(live, pid, "t15").status is CheckinStatus.UPCOMING


def test_a_correction_records_what_its_values_leave_not_taken(room: Room) -> None:
    # Given T+15 saved without blood pressure and SpO2
    record, live, _signals = dosed_at_40(room)
    pid = record.participants[0].id
    run_until(live, room.clock, START + minutes(56))
    first = live.save_checkin(pid, T15_HR_AND_MOAAS, checkin_key="t15")
    assert first is not None and first.observation is not None
    # When it is corrected with the blood pressure the monitor had after all
    fixed = live.correct_checkin(
        first.observation.id, {**T15_HR_AND_MOAAS, "bp": "140/88"}, "BP was on the monitor"
    )
    # Then the corrected reading lacks only SpO2
    assert fixed is not None and fixed.observation is not None
    assert fixed.observation.not_taken == ("spo2",)
    (standing,) = [o for o in live.observations if o.checkin_key == "t15"]
    assert standing.not_taken == ("spo2",)
