"""The open session is kept in memory from what each save returned; a fresh read must agree.

A long couples session is scripted through the live session and its note pad, with every kind
of entry: staggered doses (one with a hold-dose caution), boosters, scheduled and unscheduled
check-ins, alerts and their acknowledgement, a corrected reading whose alert then says so, a
voided reading, markers and a withdrawn one, a verbal order countersigned then corrected, notes
with an amendment and an undo, private notes, phase changes on the way, music following the
phases and played with by hand, a handover of one participant's monitoring to another nurse,
both discharges and the end. At the end, the state the live session kept and the event list
the notes side kept are compared with what a fresh read of the database gives: every row, the
standing views and what the screen derives from them.

The music runs on silent `NullPlayer`s whose clock stands still, so no track ends by itself:
every music event is one a phase change or the script causes, written as the session runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from services_support import ALL_YES, FULL_ALDRETE, START, Room, minutes, run_until
from support.audio_files import silent_wav
from support.team import passing_answers

from kapsession.audio.backend import AudioBackend
from kapsession.audio.null_player import NullPlayer
from kapsession.domain.alert_followup import is_recheck, scheduled
from kapsession.domain.corrections import EntryState
from kapsession.domain.discharge import DischargeOverride
from kapsession.domain.dose_order import DoseOrder, PrescriberOverride
from kapsession.domain.dose_periods import Hold, HoldOutcome
from kapsession.domain.escort import Escort, standing_escort
from kapsession.domain.protocol import Medication, Route
from kapsession.domain.roles import TeamRole
from kapsession.records.session_log import LogKind
from kapsession.services.dose_gates import Decision
from kapsession.services.dose_periods import current_hold
from kapsession.services.live_log import LiveLog
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession
from kapsession.services.notepad import NotePad
from kapsession.services.session_service import OrderEntry
from kapsession.services.session_state import EntryKind, SessionState
from kapsession.storage.music_log import MusicLogRepository

CALM = {"heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14", "moaas": "5"}
MUSIC_PHASES = ("arrival", "intention", "onset", "reentry", "integration")  # peak: silence


@pytest.fixture
def playlists(tmp_path: Path) -> Path:
    """A playlist of two short silent tracks for most of the protocol's phases, and one to
    choose by hand."""
    folder = tmp_path / "playlists"
    for name in (*MUSIC_PHASES, "calm"):
        for n in ("one", "two"):
            silent_wav(folder / "music" / f"{name}-{n}.wav", 30)
        lines = ["#EXTM3U"]
        for n in ("one", "two"):
            lines += [f"#EXTINF:-1,{name.capitalize()} {n}", f"music/{name}-{n}.wav"]
        (folder / f"{name}.m3u8").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def still_music_clock() -> float:
    return 100.0


def state_view(state: SessionState) -> dict[str, Any]:
    """Everything the state holds, as plain values to compare."""
    return {
        "record": state.record,
        "events": state.events.all,
        "standing events": state.events.standing,
        "doses": state.doses.all,
        "standing doses": state.doses.standing,
        "observations": state.observations.all,
        "standing observations": state.observations.standing,
        "alerts": state.alerts,
        "open alerts": state.open_alerts,
        "first doses": state.first_doses,
        "done check-ins": state.done_checkins,
        "discharged": state.discharged,
        "dose plan": state.dose_plan,
        "rechecks": state.rechecks,
        "newest of each measure": state.newest,
        "orders": state.orders.all,
        "standing orders": state.orders.standing,
        "countersigned orders": state.countersigned,
        "adverse events": state.adverse_events.all,
        "standing adverse events": state.adverse_events.standing,
        "interventions": state.interventions.all,
        "measures": state.measures,  # issue 17
        "standing interventions": state.interventions.standing,
        "controlled-substance counts": state.substance_counts.all,
    }


def scripted_session(
    room: Room,
    playlists: Path,
    on_open: Callable[[LiveSession, NotePad, MusicSession], None] | None = None,
) -> tuple[LiveSession, NotePad, list[tuple[str, tuple[Any, ...]]]]:
    maya, jonas = room.client("Maya", "Fischer"), room.client("Jonas", "Weber")
    # the orders and (issue 17) the screenings come in the room
    record = room.start(maya, jonas, order=None, screening=None)
    live, signals = room.open_live(record.id)
    announced: list[tuple[str, tuple[Any, ...]]] = []
    live.entries_added.connect(lambda kind, records: announced.append((kind, records)))
    pad = NotePad(live)
    silent = AudioBackend(factory=lambda: NullPlayer(monotonic_s=still_music_clock), available=True)
    music = MusicSession(
        live,
        MusicLogRepository(room.context.database),
        silent,
        playlists,
        monotonic_s=still_music_clock,
    )
    music.set_transition("fade")  # a phase's playlist starts with the phase
    if on_open is not None:
        on_open(live, pad, music)
    first, second = (p.id for p in record.participants)
    music.play()
    # the first participant's verbal order, given during the session: a booster allowed
    prescriber = room.service.add_staff("Dr Ada Lee", "prescriber", at=room.clock.now())
    verbal = DoseOrder(
        Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), 300, verbal=True
    )
    order = live.record_order(first, OrderEntry(verbal, prescriber.id))
    assert order is not None

    # issue 17: the first's screening passes; the second's fails, the prescriber holds, then
    # proceeds (the hold withdrawn as entered for the wrong one first)
    checklist = live.screening_checklist()
    assert live.record_screening(first, checklist, passing_answers(room.service)) is not None
    failing = {**passing_answers(room.service), "fasting": "no"}
    assert live.record_screening(second, checklist, failing) is not None
    (block,) = live.dose_blocks(second)
    held = live.record_dose_decision(
        second, block, Decision.HOLD, prescriber_id=prescriber.id, reason="Ask when they ate"
    )
    assert held is not None and live.withdraw_event(held.id, "Meant for later")
    assert live.record_dose_decision(
        second, block, Decision.PROCEED, prescriber_id=prescriber.id, reason="Ate 5 h ago"
    )
    phq9 = room.service.measures.save(  # item 9 answered 0: nothing waits for it
        maya.id, "phq9", dict.fromkeys(range(1, 10), 0), administered_at=room.clock.now(),
        at=room.clock.now(), by=room.nurse.id, session_id=record.id,
    )  # fmt: skip
    live.measures_saved([phq9.record])
    for pid, bp in ((first, "124/80"), (second, "150/95")):  # the second: a caution
        saved = live.save_checkin(pid, {**CALM, "bp": bp}, checkin_key="baseline")
        assert saved is not None and saved.saved, saved
    assert live.plan_staggered_doses(5)
    pad.commit("record", "Both settled on the mats; intentions read aloud.", None)
    run_until(live, room.clock, START + minutes(40))
    assert (dosed := live.record_dose(first, "200 mg")) is not None and dosed.saved
    run_until(live, room.clock, START + minutes(45))
    # the second has no order: dosed on the prescriber's override (issue 16)
    override = PrescriberOverride(prescriber.id, prescriber.signature_name, "Order by phone")
    dosed = live.record_dose(second, "200 mg", order_override=override)
    assert dosed is not None and dosed.saved and dosed.events  # the hold-dose caution
    assert live.record_hold_outcome(first, HoldOutcome.SPIT) is not None  # issue 16
    music.next()
    music.pause()
    music.play()
    marker = live.add_marker("Tearful, then laughing", first)
    assert marker is not None
    assert live.withdraw_marker(marker.id, "Wrong participant")
    live.add_marker("Tearful, then laughing", second)
    # the escort for the day (issue 17): one recorded, then corrected; the other none
    escort = Escort("Ben Okafor", "brother", "0170 555 0102")
    assert live.record_escort(first, escort) is not None
    assert live.record_escort(first, Escort("Ben Okafor", "brother", "0170 555 0103"), "Typo")
    assert live.record_escort(second, Escort(none=True)) is not None
    for step in range(1, 10):
        run_until(live, room.clock, START + minutes(45 + 10 * step))
        for pid in (first, second):
            slots = scheduled(live.state(pid).checkins)
            due = [c for c in slots if c.status.value in ("due", "overdue")]
            key = due[0].spec.key if due else None
            bp = "192/110" if (step, pid) == (2, first) else f"{120 + step}/{78 + step}"
            hr = "130" if (step, pid) == (5, first) else CALM["heart_rate_bpm"]
            raw = {**CALM, "bp": bp, "heart_rate_bpm": hr}
            result = live.save_checkin(pid, raw, checkin_key=key)
            assert result is not None and result.saved, result
        if step == 1:
            assert live.record_hold_outcome(second, HoldOutcome.SWALLOW) is not None
        if step == 5:  # the HR alert asks for a recheck, which the next reading does
            pending = [c for c in live.state(first).checkins if is_recheck(c)]
            assert [(c.spec.label, c.status.value) for c in pending][-1] == (
                "Recheck HR (alert 130 bpm)",
                "upcoming",
            )
        if step == 3:  # T+35 for the first: a booster, on the BP just taken
            boosted = live.record_dose(first, "100 mg")
            assert boosted is not None and boosted.saved, boosted
        pad.commit(
            "record", f"Quiet breathing; the music is in its long middle part ({step}).", second
        )
        pad.commit("private", f"Transference theme again ({step}).", first)
        pad.text_changed("record", "half a thought")
    relief = room.service.add_staff("Nadia Brook", "nurse", at=room.clock.now(), credentials="RN")
    assert live.hand_over(TeamRole.MONITORING, relief.id, participant_id=second, by=relief.id)
    alert = next(a for a in live.open_alerts if a.participant_id == first)
    assert live.acknowledge_alert(alert.id, "intervention", "Rested, lights dimmed")
    adverse_entries(room, live, alert.id, room.therapist.id)
    readings = [o for o in live.observations if o.participant_id == first]
    corrected = next(o for o in readings if o.id == alert.observation_id)
    result = live.correct_checkin(corrected.id, {**CALM, "bp": "162/100"}, "Cuff too small")
    assert result is not None and result.saved
    corrections_from_the_screen(live, second)
    note = next(n for n in pad.entries() if n.participant_id == second)
    assert pad.amend(note.id, "Quiet, even breathing.", "Clearer wording")
    music.choose_playlist("calm.m3u8")
    pad.commit("record", "Written for the wrong client", first)
    assert pad.undo()
    run_until(live, room.clock, START + minutes(175))
    for pid in (first, second):
        saved = live.save_checkin(pid, {**CALM, "bp": "122/80"}, checkin_key="pre-discharge")
        assert saved is not None and saved.saved, saved
        if pid == first:
            discharged = live.record_discharge(pid, FULL_ALDRETE, ALL_YES)
        else:  # sedation not confirmed resolved: the prescriber's override, a deviation (16)
            decided = DischargeOverride(
                "Fetched by family", prescriber.signature_name, prescriber_id=prescriber.id
            )
            unsure = {**ALL_YES, "sedation-resolved": None}
            discharged = live.record_discharge(pid, FULL_ALDRETE, unsure, override=decided)
            assert discharged is not None and len(discharged.deviations) == 1, discharged
        assert discharged is not None and discharged.saved, discharged
    assert live.countersign_order(order, prescriber.id)
    # the prescriber corrects the countersigned order's maximum, in person (issue 16)
    fixed = dataclasses.replace(verbal, max_total_mg=350, verbal=False)
    assert live.correct_order(order.id, "Max was 350", prescriber_id=prescriber.id, order=fixed)
    run_until(live, room.clock, START + minutes(182))
    assert live.end_session()
    music.close()
    assert signals.failed == [], signals.failed
    return live, pad, announced


def corrections_from_the_screen(live: LiveSession, second: Any) -> None:
    """What Enter on an entry corrects: a dose's lot, the time a hold ended, a reading entered
    for the wrong client withdrawn."""
    dose = next(d for d in live.doses if d.participant_id == second)
    fixed = live.correct_dose(dose.id, "Lot misread", lot_number="SL-2291B")
    assert fixed is not None and fixed.saved, fixed
    swallowed = next(
        e for e in live.events if e.kind == "hold_outcome" and e.participant_id == second
    )
    later = swallowed.occurred_at + minutes(1)
    assert live.correct_dose_period(swallowed.id, "A minute later", occurred_at=later)
    wrong = live.save_checkin(second, {**CALM, "bp": "131/84"})
    assert wrong is not None and wrong.observation is not None
    withdrawn = live.withdraw_checkin(wrong.observation.id, "Wrong client")
    assert withdrawn is not None and withdrawn.saved, withdrawn


def adverse_entries(room: Room, live: LiveSession, alert_id: Any, witness_id: Any) -> None:
    """Issue 16: an adverse event after the alert, updated when it resolved; rescue medication
    for it and a withdrawn intervention; each dose's controlled-substance count, one with a
    waste witnessed by the therapist with her PIN."""
    alert = next(a for a in live.all_alerts if a.id == alert_id)
    now = live.now()
    made = live.record_adverse_event(
        alert.participant_id, kind="hypertension", severity="moderate",
        seriousness="non-serious", outcome="ongoing", onset_at=now, alert_id=alert.id,
    )  # fmt: skip
    assert made.record is not None, made
    given = live.record_intervention(
        alert.participant_id, kind="rescue_medication",
        medications=room.context.clinic.rescue_medications, medication="clonidine",
        dose_text="0.1", adverse_event_id=made.record.id,
    )  # fmt: skip
    assert given.saved, given
    wrong = live.record_intervention(alert.participant_id, kind="repositioning")
    assert wrong.record is not None
    assert live.withdraw_entry(EntryKind.INTERVENTION, wrong.record.id, "Entered twice")
    resolved = live.update_adverse_event(
        made.record.id, "Resolved", kind="hypertension", severity="moderate",
        seriousness="non-serious", outcome="resolved", onset_at=now, resolved_at=live.now(),
        alert_id=alert.id,
    )  # fmt: skip
    assert resolved.saved, resolved
    room.context.notes.pins.set_pin(witness_id, "482613", "482613")
    for dose in live.doses:
        counted = live.record_substance_count(
            dose.id, drawn_text="250", given_text="200", wasted_text="50",
            witness_id=witness_id, witness_pin="482613", pins=room.context.notes.pins,
        )  # fmt: skip
        assert counted.saved, counted


def test_the_state_kept_from_saves_is_what_a_fresh_read_gives(room: Room, playlists: Path) -> None:
    # Given a long session run through the live session, every save applied to its state
    live, _pad, announced = scripted_session(room, playlists)
    kept = live._state
    # When the session is read afresh from the database
    fresh = room.service.read_state(live.record.id)
    # Then every row and every derived view agree
    kept_view, fresh_view = state_view(kept), state_view(fresh)
    for name, rows in kept_view.items():
        assert rows == fresh_view[name], name
    # And the session was a long one, with every kind of entry announced
    assert len(kept.observations.all) >= 22 and len(kept.events.all) >= 15
    assert {kind for kind, _records in announced} == set(EntryKind)
    assert any(a.reading_corrected for a in kept.alerts)
    assert len(kept.orders.all) == 2 and kept.countersigned == {kept.orders.all[0].id}
    assert [o.order.max_total_mg for o in kept.orders.standing] == [350]
    assert [d.kind for d in kept.doses.all].count("booster") == 1
    # And the holds' ends, kept and read afresh, are the same (issue 16)
    first, second = (p.id for p in live.participants)
    # (the first's hold is now its booster's, held anew: its dose was spat out before)
    assert [(live.hold(p) or Hold(START, 0)).outcome for p in (first, second)] == [
        None,
        HoldOutcome.SWALLOW,
    ]
    spat = [e for e in kept.events.all if e.kind == "hold_outcome" and e.participant_id == first]
    assert [e.detail["outcome"] for e in spat] == ["spit"]
    protocol = live.protocol
    for pid in (first, second):
        assert current_hold(
            protocol, fresh.doses.standing, fresh.events.standing, pid
        ) == live.hold(pid)
    # And the escorts (issue 17), kept and read afresh, stand the same
    escorts = [e for e in fresh.events.standing if e.kind == "escort"]
    assert [e.label for e in escorts] == [
        "Escort today: Ben Okafor (brother), 0170 555 0103",
        "Escort today: none — client told to arrange transport",
    ]
    assert [standing_escort(fresh.events.standing, p) for p in (first, second)] == [
        live.escort(first),
        live.escort(second),
    ]
    assert [(r.spec.label, r.done_at is not None) for r in kept.rechecks] == [
        ("Recheck HR (alert 130 bpm)", True)
    ]


def test_the_event_list_kept_from_saves_is_what_a_fresh_read_gives(
    room: Room, playlists: Path
) -> None:
    # Given another session in the database, to be left out
    other = room.start(room.client("Ann", "Early"))
    room.service.checkins.save_checkin(
        other.id, other.participants[0].id, {**CALM, "bp": "120/80"}, occurred_at=START,
        recorded_at=START,
    )  # fmt: skip
    # And the long session, its event list read when it opened and fed every entry saved and
    # every music event written, as the notes side is
    names = {room.therapist.id: room.therapist.display_name, room.nurse.id: "Nurse Tom"}
    logs: list[LiveLog] = []

    def read_log(live: LiveSession, pad: NotePad, music: MusicSession) -> None:
        log = pad.read_log(names)
        live.entries_added.connect(log.add)
        music.music_logged.connect(log.add_music)
        logs.append(log)

    _live, pad, _announced = scripted_session(room, playlists, read_log)
    (kept,) = logs
    # When it is read in full afresh
    fresh = pad.read_log(names)
    # Then the two lists are the same items, in the same order, with the same states
    assert [dataclasses.astuple(i) for i in kept.items] == [
        dataclasses.astuple(i) for i in fresh.items
    ]
    assert len(kept.items) > 60
    assert {i.state for i in kept.items} == set(EntryState)
    # And the first's order is in it: the verbal version countersigned, then corrected
    orders = [i for i in kept.items if i.title.startswith("Prescriber's order")]
    assert [(i.state, i.corrects) for i in orders] == [
        (EntryState.AMENDED, False),
        (EntryState.STANDING, True),
    ]
    assert "verbal, countersigned by Dr Ada Lee at" in orders[0].detail
    assert "verbal" not in orders[1].detail and "max 350 mg" in orders[1].title
    # And the music was in it, with the phases and by hand
    music = [i.title for i in kept.items if i.kind is LogKind.MUSIC]
    assert len(music) >= 12, music
