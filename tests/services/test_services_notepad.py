"""The note pad on a live session: entries on the session clock, drafts, markers and undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services_support import START, Room, run_until
from support.dosing import dose_now

from kapsession.domain.corrections import EntryState, effective
from kapsession.records.session_log import LogKind
from kapsession.services.notepad import NotePad
from kapsession.services.session_log import SessionLog
from kapsession.storage.notes import NoteRepository


class Monotonic:
    """A hand-turned monotonic clock for the undo window."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


def _pad(room: Room, *clients_given: str) -> tuple[NotePad, Monotonic]:
    clients = [room.client(given) for given in clients_given] or [room.client()]
    record = room.start(*clients)
    live, _signals = room.open_live(record.id)
    monotonic = Monotonic()
    return NotePad(live, monotonic=monotonic), monotonic


def test_an_entry_carries_its_place_on_the_session_clock(room: Room) -> None:
    # Given a live session whose dose was given 20 minutes in
    pad, _ = _pad(room)
    live = pad.live
    participant = live.participants[0].id
    run_until(live, room.clock, START + timedelta(minutes=20))
    assert dose_now(live, participant)
    run_until(live, room.clock, START + timedelta(minutes=52, seconds=30))
    # When the therapist commits a note
    assert pad.commit("record", "Eyes closed, smiling", participant)
    # Then it is in the database with wall time, elapsed, since dose, phase and author
    (entry,) = pad.entries()
    assert entry.text == "Eyes closed, smiling"
    assert entry.occurred_at == START + timedelta(minutes=52, seconds=30)
    assert (entry.elapsed_s, entry.since_dose_s) == (52 * 60 + 30, 32 * 60 + 30)
    assert entry.phase_key == live.state(participant).current_phase.spec.key
    assert entry.author_id == room.therapist.id
    assert entry.participant_id == participant


def test_a_shared_entry_in_a_couples_session_has_no_single_dose_time(room: Room) -> None:
    pad, _ = _pad(room, "Ana", "Ben")
    assert pad.commit("record", "Both resting", None)
    (entry,) = pad.entries()
    assert entry.participant_id is None and entry.since_dose_s is None
    assert entry.elapsed_s == 0


def test_an_empty_entry_is_not_saved(room: Room) -> None:
    pad, _ = _pad(room)
    assert not pad.commit("record", "  \n ", None)
    assert pad.entries() == []
    assert pad.last_entry is None


def test_a_draft_is_saved_within_the_save_interval_and_cleared_by_the_commit(
    room: Room, qtbot
) -> None:
    # Given text being typed on the record pad
    pad, _ = _pad(room)
    notes = NoteRepository(room.context.database)
    pad.text_changed("record", "Tearful at the bri")
    # When the save interval passes, Then the draft is on disk
    qtbot.waitUntil(lambda: notes.draft(pad.session_id, "record") is not None, timeout=3000)
    assert notes.draft(pad.session_id, "record").text == "Tearful at the bri"
    # When typing goes on and the entry is committed
    pad.text_changed("record", "Tearful at the bridge")
    assert pad.commit("record", "Tearful at the bridge", None)
    pad.save_drafts()
    # Then there is no draft left, only the entry
    assert notes.draft(pad.session_id, "record") is None
    assert [e.text for e in pad.entries()] == ["Tearful at the bridge"]


def test_a_draft_comes_back_for_a_new_pad_on_the_same_session(room: Room) -> None:
    pad, _ = _pad(room)
    pad.text_changed("private", "Reminds me of")
    pad.save_drafts()
    live, _ = room.open_live(pad.session_id)
    assert NotePad(live).draft("private").text == "Reminds me of"
    assert NotePad(live).draft("record").text == ""


def test_undo_within_the_window_withdraws_the_entry_visibly(room: Room) -> None:
    # Given a committed entry
    pad, monotonic = _pad(room)
    offered: list[bool] = []
    pad.undo_changed.connect(offered.append)
    assert pad.commit("record", "Wrong client!", None)
    assert offered == [True]
    # When Undo is pressed within the window
    monotonic.now_s += 5
    assert pad.undo()
    # Then the entry is out of the standing record but still in its history, marked withdrawn
    rows = pad.entries()
    assert effective(rows) == []
    assert [r.text for r in rows] == ["Wrong client!", "Wrong client!"]
    assert rows[1].voids and "Undone" in (rows[1].correction_reason or "")
    items = [
        i
        for i in SessionLog(room.context.database).items(pad.live.record, {})
        if i.kind is LogKind.NOTE
    ]
    assert [(i.detail, i.state) for i in items] == [("Wrong client!", EntryState.WITHDRAWN)]
    assert offered == [True, False]


def test_undo_after_the_window_does_nothing(room: Room) -> None:
    pad, monotonic = _pad(room)
    assert pad.commit("record", "Spoke about her mother", None)
    monotonic.now_s += 11
    assert pad.last_entry is None
    assert not pad.undo()
    assert [e.text for e in effective(pad.entries())] == ["Spoke about her mother"]


def test_a_quick_marker_is_an_event_and_can_be_undone(room: Room) -> None:
    pad, _ = _pad(room)
    live = pad.live
    assert pad.quick_marker("Eye mask on", live.participants[0].id)
    assert [e.label for e in room.events(pad.session_id, "marker")] == ["Eye mask on"]
    assert pad.undo()
    assert room.events(pad.session_id, "marker") == []  # standing events: withdrawn
    log = SessionLog(room.context.database).items(live.record, {})
    (marker,) = [i for i in log if i.kind is LogKind.MARKER]
    assert marker.state is EntryState.WITHDRAWN


def test_a_private_note_stays_out_of_the_record_and_its_log(room: Room) -> None:
    pad, _ = _pad(room)
    assert pad.commit("private", "My own tiredness today", None)
    assert pad.entries() == []
    assert [p.text for p in pad.private_entries()] == ["My own tiredness today"]
    log = SessionLog(room.context.database).items(pad.live.record, {})
    assert not any("tiredness" in f"{i.title} {i.detail}" for i in log)


def test_an_amendment_before_signing_keeps_the_original(room: Room) -> None:
    pad, _ = _pad(room)
    assert pad.commit("record", "Eye mask of", None)
    (original,) = pad.entries()
    assert pad.amend(original.id, "Eye mask off", "typo")
    rows = pad.entries()
    assert [r.text for r in rows] == ["Eye mask of", "Eye mask off"]
    log = [
        i
        for i in SessionLog(room.context.database).items(pad.live.record, {})
        if i.kind is LogKind.NOTE
    ]
    assert [(i.state, i.reason) for i in log] == [
        (EntryState.AMENDED, "typo"),
        (EntryState.STANDING, None),
    ]


@pytest.mark.parametrize(
    "text",
    ["שלום, he said 🙏", "x" * 50_000, "<b>bold</b> pasted", "line one\nline two"],
    ids=["rtl-emoji", "long", "markup-as-text", "two-lines"],
)
def test_what_is_typed_is_what_is_stored(room: Room, text: str) -> None:
    pad, _ = _pad(room)
    assert pad.commit("record", text, None)
    assert pad.entries()[0].text == text
