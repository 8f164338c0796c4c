"""The open session is kept in memory from what each save returned; a fresh read must agree.

A long couples session is scripted through the live session and its note pad, with every kind
of entry: staggered doses (one with a hold-dose caution), boosters, scheduled and unscheduled
check-ins, alerts and their acknowledgement, a corrected reading whose alert then says so, a
voided reading, markers and a withdrawn one, notes with an amendment and an undo, private
notes, phase changes on the way, music following the phases and played with by hand, a
handover of one participant's monitoring to another nurse, both discharges and the end. At the
end, the state the live session kept and the event list the notes side kept are compared with
what a fresh read of the database gives: every row, the standing views and what the screen
derives from them.

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

from kapsession.audio.backend import AudioBackend
from kapsession.audio.null_player import NullPlayer
from kapsession.domain.alert_followup import is_recheck, scheduled
from kapsession.domain.corrections import EntryState
from kapsession.domain.roles import TeamRole
from kapsession.records.session_log import LogKind
from kapsession.services.live_log import LiveLog
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession
from kapsession.services.notepad import NotePad
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
    }


def scripted_session(
    room: Room,
    playlists: Path,
    on_open: Callable[[LiveSession, NotePad, MusicSession], None] | None = None,
) -> tuple[LiveSession, NotePad, list[tuple[str, tuple[Any, ...]]]]:
    maya, jonas = room.client("Maya", "Fischer"), room.client("Jonas", "Weber")
    record = room.start(maya, jonas)
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

    for pid, bp in ((first, "124/80"), (second, "150/95")):  # the second: a caution
        saved = live.save_checkin(pid, {**CALM, "bp": bp}, checkin_key="baseline")
        assert saved is not None and saved.saved, saved
    assert live.plan_staggered_doses(5)
    pad.commit("record", "Both settled on the mats; intentions read aloud.", None)
    run_until(live, room.clock, START + minutes(40))
    assert (dosed := live.record_dose(first, "200 mg")) is not None and dosed.saved
    run_until(live, room.clock, START + minutes(45))
    dosed = live.record_dose(second, "200 mg")
    assert dosed is not None and dosed.saved and dosed.events  # the hold-dose caution
    music.next()
    music.pause()
    music.play()
    marker = live.add_marker("Tearful, then laughing", first)
    assert marker is not None
    assert live.withdraw_marker(marker.id, "Wrong participant")
    live.add_marker("Tearful, then laughing", second)
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
        if step == 5:  # the HR alert asks for a recheck, which the next reading does
            pending = [c for c in live.state(first).checkins if is_recheck(c)]
            assert [(c.spec.label, c.status.value) for c in pending][-1] == (
                "Recheck HR (alert 130 bpm)",
                "upcoming",
            )
        pad.commit(
            "record", f"Quiet breathing; the music is in its long middle part ({step}).", second
        )
        pad.commit("private", f"Transference theme again ({step}).", first)
        pad.text_changed("record", "half a thought")
    relief = room.service.add_staff("Nadia Brook", "nurse", at=room.clock.now(), credentials="RN")
    assert live.hand_over(TeamRole.MONITORING, relief.id, participant_id=second, by=relief.id)
    alert = next(a for a in live.open_alerts if a.participant_id == first)
    assert live.acknowledge_alert(alert.id, "intervention", "Rested, lights dimmed")
    readings = [o for o in live.observations if o.participant_id == first]
    corrected = next(o for o in readings if o.id == alert.observation_id)
    result = live.correct_checkin(corrected.id, {**CALM, "bp": "162/100"}, "Cuff too small")
    assert result is not None and result.saved
    note = next(n for n in pad.entries() if n.participant_id == second)
    assert pad.amend(note.id, "Quiet, even breathing.", "Clearer wording")
    music.choose_playlist("calm.m3u8")
    pad.commit("record", "Written for the wrong client", first)
    assert pad.undo()
    run_until(live, room.clock, START + minutes(175))
    for pid in (first, second):
        saved = live.save_checkin(pid, {**CALM, "bp": "122/80"}, checkin_key="pre-discharge")
        assert saved is not None and saved.saved, saved
        discharged = live.record_discharge(pid, FULL_ALDRETE, ALL_YES)
        assert discharged is not None and discharged.saved, discharged
    run_until(live, room.clock, START + minutes(182))
    assert live.end_session()
    music.close()
    assert signals.failed == [], signals.failed
    return live, pad, announced


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
    # And the music was in it, with the phases and by hand
    music = [i.title for i in kept.items if i.kind is LogKind.MUSIC]
    assert len(music) >= 12, music
