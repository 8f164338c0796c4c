"""Text that cannot be stored (NUL, half of a broken character, a control character) is refused
at entry, whichever field it is typed in, with a message saying what and where; nothing is
saved. A note longer than the limit is refused the same way."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from services_support import START, Room, run_until
from support.dosing import dose_now

from kapsession.domain.alert_followup import AlertAction
from kapsession.domain.entry_text import NOTE_MAX_CHARS, text_problem
from kapsession.records.errors import NotFound, TextRefused
from kapsession.services.client_history import ClientHistoryService
from kapsession.services.notepad import NotePad

BAD = {
    "nul": ("\x00", "a NUL character (U+0000)"),
    "lone surrogate": ("\ud800", "half of a broken character (U+D800)"),
    "vertical tab": ("\x0b", "an invisible control character (U+000B, vertical tab)"),
    "escape": ("\x1b", "an invisible control character (U+001B, escape)"),
    "C1 control": ("\x85", "an invisible control character (U+0085)"),
}
CALM = {"heart_rate_bpm": "72", "spo2_pct": "98", "moaas": "5"}


def _refusal(character: str, described: str, what: str, where: int) -> str:
    return f"The {what} holds {described} at character {where}, which cannot be stored."


@pytest.mark.parametrize(("character", "described"), BAD.values(), ids=BAD.keys())
def test_names_holding_a_character_that_cannot_be_stored_are_refused(
    room: Room, character: str, described: str
) -> None:
    clients_before = room.service.clients.search("")
    staff_before = room.service.staff.all()
    # When a client or a staff member is added with the character in a name
    for add, what, where in (
        (lambda: room.service.add_client(f"Ma{character}ya", "Fischer", at=START), "first name", 3),
        (lambda: room.service.add_client("Maya", f"Fi{character}sc", at=START), "last name", 3),
        (
            lambda: room.service.add_client(
                "Maya", "Fischer", at=START, record_number=f"K{character}1"
            ),
            "record number",
            2,
        ),
        (lambda: room.service.add_staff(f"A{character}n", "nurse", at=START), "name", 2),
        (
            lambda: room.service.add_staff("Ann", "nurse", at=START, credentials=f"R{character}N"),
            "credentials",
            2,
        ),
    ):
        with pytest.raises(TextRefused) as refused:
            add()
        # Then it is refused saying which field, what and where, and what to do
        message = str(refused.value)
        assert message.startswith(_refusal(character, described, what, where))
        assert "Delete it" in message and "nothing was saved" in message
    # And nobody was added
    assert room.service.clients.search("") == clients_before
    assert room.service.staff.all() == staff_before


@pytest.mark.parametrize(("character", "described"), BAD.values(), ids=BAD.keys())
def test_entries_of_a_live_session_holding_such_a_character_are_refused_and_not_saved(
    room: Room, character: str, described: str
) -> None:
    # Given a live session with a marker, a note and an alert after its dose
    record = room.start()
    pid = record.participants[0].id
    live, signals = room.open_live(record.id)
    pad = NotePad(live)
    run_until(live, room.clock, START + timedelta(minutes=20))
    assert dose_now(live, pid)
    assert pad.commit("record", "Resting", pid)
    marker = live.add_marker("Music on", pid)
    assert marker is not None
    result = live.save_checkin(pid, {**CALM, "bp": "190/115"})
    assert result is not None and result.alerts
    before = (
        room.service.entries.events(record.id, include_history=True),
        pad.entries(),
        room.service.checkins.observation_history(record.id),
        room.service.checkins.alerts(record.id),
    )
    bad = f"ok{character}go"
    # When each kind of text entry holds the character
    attempts: list[tuple[Callable[[], object], str]] = [
        (lambda: live.add_marker(bad, pid), "entry"),
        (lambda: pad.commit("record", bad, pid), "note"),
        (lambda: pad.commit("private", bad, pid), "note"),
        (lambda: pad.amend(pad.entries()[0].id, bad, "typo"), "note"),
        (lambda: pad.amend(pad.entries()[0].id, "Resting quietly", bad), "reason"),
        (lambda: live.withdraw_marker(marker.id, bad), "reason"),
        (
            lambda: live.acknowledge_alert(result.alerts[0].id, AlertAction.INTERVENTION, bad),
            "comment",
        ),
    ]
    for attempt, what in attempts:
        signals.failed.clear()
        outcome = attempt()
        # Then each is refused with the message on the live session's failure signal
        assert outcome in (None, False), what
        assert signals.failed, what
        assert signals.failed[-1].startswith(_refusal(character, described, what, 3)), (
            signals.failed
        )
    # And a check-in's comment is refused as the form's other fields are, on the field
    signals.failed.clear()
    refused = live.save_checkin(pid, {**CALM, "comment": bad})
    assert refused is not None and not refused.saved
    assert [(p.field, p.message) for p in refused.problems] == [
        ("comment", text_problem(bad, "comment"))
    ]
    assert refused.problems[0].message.startswith(_refusal(character, described, "comment", 3))
    assert signals.failed == [f"Check-in NOT saved. {refused.problems[0].message}"]
    # And nothing of it was saved
    after = (
        room.service.entries.events(record.id, include_history=True),
        pad.entries(),
        room.service.checkins.observation_history(record.id),
        room.service.checkins.alerts(record.id),
    )
    assert after == before
    pad.stop()  # as the app does when the session closes: its undo timer no longer runs


def test_tab_line_breaks_and_other_scripts_are_kept_exactly(room: Room) -> None:
    # Given a live session
    record = room.start()
    pid = record.participants[0].id
    live, _signals = room.open_live(record.id)
    pad = NotePad(live)
    text = "Line one\r\nline two\tafter a tab\u2028שלום 🧘‍♀️ e\u0301"
    # When a note and a marker hold tabs, line breaks and any script
    assert pad.commit("record", text, pid)
    assert live.add_marker(text, pid) is not None
    # Then they are saved exactly as typed
    assert [n.text for n in pad.entries()] == [text]
    assert [e.label for e in room.events(record.id, "marker")] == [text]


def test_a_note_longer_than_the_limit_is_refused_saying_how_long_and_what_to_do(
    room: Room,
) -> None:
    # Given a live session
    record = room.start()
    pid = record.participants[0].id
    live, signals = room.open_live(record.id)
    pad = NotePad(live)
    # When a note of exactly the limit, and then one character more, is committed
    assert pad.commit("record", "x" * NOTE_MAX_CHARS, pid)
    assert not pad.commit("record", "y" * (NOTE_MAX_CHARS + 1), pid)
    # Then the first is saved, the second refused with its length, the limit and what to do
    assert signals.failed == [
        "The note is 100,001 characters long; one note can hold at most 100,000 (about 40 "
        "pages). Split it into shorter notes; nothing was saved."
    ]
    assert [len(n.text) for n in pad.entries()] == [NOTE_MAX_CHARS]
    # And an amendment is held to the same limit
    assert not pad.amend(pad.entries()[0].id, "z" * (NOTE_MAX_CHARS + 1), "longer")
    assert "100,001 characters" in signals.failed[-1]


@pytest.mark.parametrize(("character", "described"), BAD.values(), ids=BAD.keys())
def test_a_search_holding_such_a_character_finds_nobody_and_says_so(
    room: Room, character: str, described: str
) -> None:
    # Given a client
    room.client("Maya", "Fischer")
    typed = f"Ma{character}ya"
    # When the start screen's search and the history's look-up are given such text
    found = room.service.clients.search(typed)
    with pytest.raises(NotFound) as refused:
        ClientHistoryService(room.service.database).find_client(typed)
    # Then nobody is found, and the look-up says why and what to do, no error of the driver's
    assert found == []
    assert str(refused.value).startswith(
        "No client matches: what was typed holds a character no name or record number can hold"
    )
    assert "takes a record number, a name" in str(refused.value)
