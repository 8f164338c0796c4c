"""The note pad in a couples or group session: the text on a pad is one participant's note, from
its first character until it is committed or emptied, in its draft too, whoever is selected
meanwhile or when the draft comes back on a new pad (the app opened again after a crash).

The sessions are tests/support/multi_participant.py's couples and group sessions, left live.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from support.multi_participant import LiveData, open_live_copy

from kapsession.services.context import AppContext
from kapsession.services.live_session import LiveSession
from kapsession.services.notepad import NotePad
from kapsession.storage.notes import NoteRepository


def _open(context: AppContext, data: LiveData) -> NotePad:
    live = LiveSession(context.service, data.session.session_id, context.clock)
    assert live.acting_staff_id == data.therapist.id  # notes go to the session's therapist
    return NotePad(live)


def _standing(context: AppContext, data: LiveData, text: str, *, private: bool = False) -> set:
    """Whose entries hold `text` (record or private)."""
    notes = NoteRepository(context.database)
    sid = data.session.session_id
    rows = notes.private_notes(sid) if private else notes.notes(sid, kinds=["entry"])
    return {r.participant_id for r in rows if r.text == text}


@pytest.fixture(params=["couples", "group"])
def shared(
    request: pytest.FixtureRequest,
    live_multi_participant: dict[str, LiveData],
    tmp_path: Path,
) -> tuple[LiveData, AppContext]:
    data = live_multi_participant[request.param]
    context = open_live_copy(data, tmp_path / "data")
    request.addfinalizer(context.close)
    return data, context


@pytest.mark.parametrize("pad_name", ["record", "private"])
def test_a_note_stays_with_the_participant_it_was_started_for(
    shared: tuple[LiveData, AppContext], pad_name: str
) -> None:
    # Given a note being typed for the last participant of a shared session
    data, context = shared
    pad = _open(context, data)
    first, last = data.session.participants[0], data.session.participants[-1]
    text = f"Typed for {last.given_name} only"
    pad.text_changed(pad_name, text[:9], last.participant_id)
    pad.text_changed(pad_name, text, first.participant_id)  # typing on, another one selected

    # When Enter commits it while the first participant is selected
    assert pad.commit(pad_name, text, first.participant_id)

    # Then it is the last participant's entry, not the selected one's
    assert _standing(context, data, text, private=pad_name == "private") == {last.participant_id}
    # And the empty pad follows the selection again
    assert pad.owner(pad_name, first.participant_id) == first.participant_id
    pad.stop()
    pad.live.stop()


@pytest.mark.parametrize("pad_name", ["record", "private"])
def test_a_draft_comes_back_with_its_participant_and_is_saved_for_them(
    shared: tuple[LiveData, AppContext], pad_name: str
) -> None:
    # Given a draft typed for the second participant and saved (as every 0.4 s)
    data, context = shared
    first, second = data.session.participants[:2]
    text = f"About {second.given_name}, not yet finished"
    before = _open(context, data)
    before.text_changed(pad_name, text, second.participant_id)
    assert before.save_drafts()
    before.live.stop()  # the app is gone (what a kill leaves: the saved draft)

    # When the session is opened again on a new pad, the first participant selected
    after = _open(context, data)
    restored = after.draft(pad_name)

    # Then the draft comes back as the second participant's
    assert (restored.text, restored.participant_id) == (text, second.participant_id)
    assert after.owner(pad_name, first.participant_id) == second.participant_id
    # And finished and committed with the first participant selected, it is saved for the
    # second, and its draft is gone
    finished = text + ", said twice"
    after.text_changed(pad_name, finished, first.participant_id)
    assert after.commit(pad_name, finished, first.participant_id)
    assert _standing(context, data, finished, private=pad_name == "private") == {
        second.participant_id
    }
    assert NoteRepository(context.database).draft(data.session.session_id, pad_name) is None
    after.stop()
    after.live.stop()


def test_an_emptied_pad_is_the_next_selected_participants(
    shared: tuple[LiveData, AppContext],
) -> None:
    # Given a note started for the first participant, then deleted to nothing
    data, context = shared
    pad = _open(context, data)
    first, second = (p.participant_id for p in data.session.participants[:2])
    pad.text_changed("record", "Wrong one", first)
    pad.text_changed("record", "", first)

    # When a note is typed and committed with the second participant selected
    pad.text_changed("record", "Right one", second)
    assert pad.save_drafts()
    draft = NoteRepository(context.database).draft(data.session.session_id, "record")
    assert pad.commit("record", "Right one", second)

    # Then its draft and its entry are the second participant's
    assert draft is not None and draft.participant_id == second
    assert _standing(context, data, "Right one") == {second}
    pad.stop()
    pad.live.stop()


def test_a_draft_saved_before_drafts_named_their_participant_follows_the_selection(
    shared: tuple[LiveData, AppContext],
) -> None:
    # Given a draft stored without a participant (as before migration 0007)
    data, context = shared
    notes = NoteRepository(context.database)
    notes.save_draft(data.session.session_id, "record", "Old draft", at=context.clock.now())
    second: uuid.UUID = data.session.participants[1].participant_id

    # When it comes back on a pad and is committed with the second participant selected
    pad = _open(context, data)
    assert pad.draft("record").participant_id is None
    pad.text_changed("record", "Old draft, finished", second)
    assert pad.commit("record", "Old draft, finished", second)

    # Then it is the selected participant's entry
    assert _standing(context, data, "Old draft, finished") == {second}
    pad.stop()
    pad.live.stop()
