"""Alerts followed up in the open session: a recheck falls due in the due list and on the nurse
board and is cleared by a reading of its measure; acknowledging records what was done; the last
vitals say where each value stands. All kept from what the saves return (no reload)."""

from __future__ import annotations

from services_support import START, Room, minutes, run_until
from support.dosing import dose_now

from kapsession.domain.alert_followup import AlertAction, is_recheck, scheduled
from kapsession.domain.timeline import CheckinStatus
from kapsession.domain.vitals import ValueState
from kapsession.services.live_session import LiveSession
from kapsession.services.nurse_board import checkin_target
from kapsession.services.session_log import alert_items
from kapsession.services.session_state import EntryKind

CALM = {"heart_rate_bpm": "72", "spo2_pct": "98", "moaas": "5"}


def rechecks_of(live: LiveSession, pid: object) -> list[tuple[str, CheckinStatus]]:
    return [(c.spec.label, c.status) for c in live.state(pid).checkins if is_recheck(c)]


def dosed_couple(room: Room) -> tuple[LiveSession, object, object]:
    """A couples session 40 minutes in, both with their baseline and dosed at 40, the nurse
    their monitoring clinician."""
    record = room.start(room.client("Maya", "Fischer"), room.client("Jonas", "Weber"))
    live, _signals = room.open_live(record.id)
    assert live.nurse_author(record.participants[0].id) == room.nurse.id
    first, second = (p.id for p in record.participants)
    run_until(live, room.clock, START + minutes(10))
    for pid in (first, second):
        baseline = {**CALM, "bp": "124/80", "resp_rate_per_min": "14", "suds": "3"}
        saved = live.save_checkin(pid, baseline, checkin_key="baseline")
        assert saved is not None and saved.saved
    run_until(live, room.clock, START + minutes(40))
    for pid in (first, second):
        dose_now(live, pid)
    return live, first, second


def test_an_alert_raises_a_recheck_that_a_reading_of_its_measure_clears(room: Room) -> None:
    # Given a dosed couple, 3 minutes after the dose
    live, first, second = dosed_couple(room)
    run_until(live, room.clock, START + minutes(43))
    changes: list[str] = []
    live.checkins_changed.connect(lambda: changes.append("checkins"))
    # When 190/115 is saved for the second (over the systolic and the diastolic alert)
    result = live.save_checkin(second, {**CALM, "bp": "190/115"})
    assert result is not None and result.saved and len(result.alerts) == 2
    # Then one BP recheck is in their due list, upcoming, due 5 minutes after the alert
    assert rechecks_of(live, second) == [("Recheck BP (alert 190/115)", CheckinStatus.UPCOMING)]
    (recheck,) = [c for c in live.state(second).checkins if is_recheck(c)]
    assert recheck.due_at == START + minutes(48)
    assert rechecks_of(live, first) == []
    assert changes  # the lines of what is due were told
    # And the protocol's schedule is unchanged beside it
    assert [c.spec.key for c in scheduled(live.state(second).checkins)] == [
        c.key for c in live.protocol.checkins
    ]
    # When its time comes, Then it is due, first on the nurse board, and C is for them
    run_until(live, room.clock, START + minutes(48))
    assert rechecks_of(live, second) == [("Recheck BP (alert 190/115)", CheckinStatus.DUE)]
    board = live.board()
    assert board[0].participant.id == second
    assert board[0].next_checkin is not None
    assert board[0].next_checkin.spec.label == "Recheck BP (alert 190/115)"
    assert checkin_target(board, first) == second
    # And 5 minutes later it is overdue
    run_until(live, room.clock, START + minutes(53))
    assert rechecks_of(live, second) == [("Recheck BP (alert 190/115)", CheckinStatus.OVERDUE)]
    # When a reading without a blood pressure is saved, Then it stays overdue
    result = live.save_checkin(second, CALM)
    assert result is not None and result.saved
    assert rechecks_of(live, second) == [("Recheck BP (alert 190/115)", CheckinStatus.OVERDUE)]
    # When a reading with a blood pressure is saved (an unscheduled one, using up no slot)
    result = live.save_checkin(second, {"bp": "152/94"})
    assert result is not None and result.saved and result.observation is not None
    assert result.observation.checkin_key is None
    # Then the recheck is done: it leaves the due list and the board
    assert rechecks_of(live, second) == []
    (done,) = live.rechecks
    assert done.done_at == result.observation.occurred_at
    row = next(r for r in live.board() if r.participant.id == second)
    assert row.next_checkin is None or not is_recheck(row.next_checkin)
    # And a fresh read of the session agrees
    assert room.service.read_state(live.record.id).rechecks == live.rechecks


def test_a_reading_corrected_away_takes_its_recheck_with_it(room: Room) -> None:
    live, first, _second = dosed_couple(room)
    result = live.save_checkin(first, {**CALM, "heart_rate_bpm": "131"})
    assert result is not None and result.saved and result.observation is not None
    assert rechecks_of(live, first) == [("Recheck HR (alert 131 bpm)", CheckinStatus.UPCOMING)]
    # When the reading is corrected (it was 113: no alert)
    corrected = live.correct_checkin(
        result.observation.id, {**CALM, "heart_rate_bpm": "113"}, "Typed 131 for 113"
    )
    assert corrected is not None and corrected.saved
    # Then the recheck is gone; the alert stays open, saying its reading was corrected
    assert rechecks_of(live, first) == []
    (alert,) = live.open_alerts
    assert alert.reading_corrected


def test_acknowledging_records_what_was_done_and_says_so(room: Room) -> None:
    live, first, _second = dosed_couple(room)
    record = live.record
    saved: list[str] = []
    failed: list[str] = []
    live.entry_saved.connect(saved.append)
    live.entry_failed.connect(failed.append)
    added: list[tuple[str, tuple[object, ...]]] = []
    live.entries_added.connect(lambda kind, records: added.append((kind, records)))
    result = live.save_checkin(first, {**CALM, "bp": "186/100"})
    assert result is not None and result.saved
    (alert,) = live.open_alerts
    # When "no action" is chosen without a reason, Then nothing is stored and it says why
    assert live.acknowledge_alert(alert.id, AlertAction.NO_ACTION, "  ") is False
    assert "Write why no action was taken" in failed[-1]
    assert [a.id for a in live.open_alerts] == [alert.id]
    assert room.service.checkins.open_alerts(record.id) != []
    # When an intervention is recorded
    assert live.acknowledge_alert(alert.id, AlertAction.INTERVENTION, "Clonidine 0.1 mg by mouth")
    # Then the alert is closed with what was done, in memory and on disk
    assert live.open_alerts == []
    (closed,) = live.all_alerts
    assert closed.acknowledgement_action == "intervention"
    assert closed.follow_up == "Intervention: Clonidine 0.1 mg by mouth"
    (stored,) = room.service.checkins.alerts(record.id)
    assert stored == closed
    assert added[-1] == (EntryKind.ALERT, (closed,))
    assert saved[-1].endswith("— saved. Intervention: Clonidine 0.1 mg by mouth.")
    # And the event list says what was done beside the acknowledgement
    (_raised, acknowledged) = alert_items([closed], {room.nurse.id: "Tom Becker"})
    assert acknowledged.title == "Alert acknowledged by Tom Becker"
    assert acknowledged.detail == (
        "Systolic BP 180 or higher — Intervention: Clonidine 0.1 mg by mouth"
    )


def test_the_last_vitals_are_each_measures_newest_value_with_its_state(room: Room) -> None:
    live, first, second = dosed_couple(room)
    # Given (after the baseline) a full reading, then HR 104 and SpO2 96 alone, then 190/115
    # for the first
    run_until(live, room.clock, START + minutes(45))
    for raw in (
        {**CALM, "bp": "128/82", "resp_rate_per_min": "14"},
        {"heart_rate_bpm": "104", "spo2_pct": "96"},
        {"bp": "190/115"},
    ):
        result = live.save_checkin(first, raw)
        assert result is not None and result.saved
        room.clock.advance(60)
    live.save_checkin(second, {"heart_rate_bpm": "131"})
    # When the first's last vitals are asked for
    vitals = {v.measure: v for v in live.last_vitals(first)}
    # Then each vital sign, and each measure the protocol watches, shows its newest value, when
    # it was taken, and its state (SUDS, in the baseline, is no vital sign and has no alert)
    assert {m: (v.display, v.state) for m, v in vitals.items()} == {
        "bp": ("190/115 mmHg", ValueState.ALERT),
        "hr": ("104 bpm", ValueState.CAUTION),
        "spo2": ("96 %", ValueState.NORMAL),
        "rr": ("14/min", ValueState.NORMAL),
        "moaas": ("5", ValueState.NORMAL),
    }
    assert vitals["hr"].taken_at == START + minutes(46)
    assert vitals["rr"].taken_at == START + minutes(45)
    assert [v.label for v in live.last_vitals(first)] == ["BP", "HR", "SpO2", "RR", "MOAA/S"]
    # And the second's are theirs alone: their baseline, and their HR over the alert
    theirs = {v.measure: (v.display, v.state) for v in live.last_vitals(second)}
    assert theirs["hr"] == ("131 bpm", ValueState.ALERT)
    assert theirs["bp"] == ("124/80 mmHg", ValueState.NORMAL)


def test_a_value_in_the_caution_band_is_named_when_saved(room: Room) -> None:
    live, first, _second = dosed_couple(room)
    saved: list[str] = []
    live.entry_saved.connect(saved.append)
    result = live.save_checkin(first, {"heart_rate_bpm": "104", "bp": "186/101"})
    assert result is not None and result.saved
    assert saved[-1].endswith(
        "Caution: Heart rate 104 bpm — above 100; Diastolic BP 101 mmHg — at or above 100."
        " 1 alert to acknowledge."
    )
