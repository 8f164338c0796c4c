"""Whom C opens a check-in for (`nurse_board.checkin_target`): the participant the nurse board
lists as most urgent when their check-in is due or overdue, not merely the one selected; the
selected one when they are just as urgent, or when nothing is due.

The shared sessions are tests/support/multi_participant.py's couples and group sessions, left
live 59 minutes in (the second participant's T+15 falls due at 60); the ties are a new couples
session whose baselines fall overdue together.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from services_support import Room
from support.multi_participant import LiveData, add_people, open_live_copy

from kapsession.domain.timeline import CheckinStatus
from kapsession.services.context import AppContext
from kapsession.services.live_session import LiveSession
from kapsession.services.nurse_board import checkin_target


@pytest.fixture(params=["couples", "group"])
def shared(
    request: pytest.FixtureRequest, live_multi_participant: dict[str, LiveData], tmp_path: Path
) -> tuple[LiveData, AppContext, LiveSession]:
    data = live_multi_participant[request.param]
    context = open_live_copy(data, tmp_path / "data")
    live = LiveSession(context.service, data.session.session_id, context.clock)

    def close() -> None:
        live.stop()
        context.close()

    request.addfinalizer(close)
    return data, context, live


def test_the_live_data_is_where_the_support_module_says(
    shared: tuple[LiveData, AppContext, LiveSession],
) -> None:
    # Given a shared session left live; Then everyone is dosed, the first participant's T+15
    # is done and nothing is due yet; the check-ins written are those `written` lists
    data, context, live = shared
    assert live.is_live
    for p in data.session.participants:
        assert live.first_dose_at(p.participant_id) == p.dose_at
        saved = context.service.checkins.observations(data.session.session_id, p.participant_id)
        assert [o.checkin_key for o in saved] == [r.checkin_key for r in data.written(p)]
    assert [r.checkin_key for r in data.written(data.session.participants[0])] == [
        "baseline",
        "t15",
    ]
    assert all(r.next_checkin.status is CheckinStatus.UPCOMING for r in live.board())
    assert live.open_alerts == []


def test_c_is_for_the_participant_whose_check_in_is_due_whoever_is_selected(
    shared: tuple[LiveData, AppContext, LiveSession],
) -> None:
    # Given the second participant's T+15 fallen due, the first participant selected
    data, context, live = shared
    first, second = (p.participant_id for p in data.session.participants[:2])
    context.clock.advance(2 * 60)
    live.tick()
    rows = live.board()
    # When C asks whom the check-in is for, Then it is the second participant
    assert rows[0].participant.id == second
    assert checkin_target(rows, first) == second
    # And with the second selected, still the second
    assert checkin_target(rows, second) == second


def test_c_is_for_the_most_overdue_when_another_is_only_due(
    shared: tuple[LiveData, AppContext, LiveSession],
) -> None:
    # Given the second participant's T+15 overdue and (group) the third's due, the third selected
    data, context, live = shared
    participants = [p.participant_id for p in data.session.participants]
    context.clock.advance(7 * 60)
    live.tick()
    rows = live.board()
    assert rows[0].next_checkin is not None
    assert rows[0].next_checkin.status is CheckinStatus.OVERDUE
    # When C asks, Then it is the overdue second participant's, whoever is selected
    assert {checkin_target(rows, p) for p in participants} == {participants[1]}


def test_c_is_for_the_selected_participant_when_nothing_is_due(
    shared: tuple[LiveData, AppContext, LiveSession],
) -> None:
    # Given nobody's check-in due yet
    data, _context, live = shared
    rows = live.board()
    # When C asks with any participant selected, Then it is that participant (an extra one)
    for p in data.session.participants:
        assert checkin_target(rows, p.participant_id) == p.participant_id
    # And with nobody selected, the board's first
    assert checkin_target(rows, None) == rows[0].participant.id


def test_c_stays_with_the_selected_participant_when_they_are_as_urgent(room: Room) -> None:
    # Given a couples session 45 minutes in, both baselines overdue since the same minute
    clients = add_people(room.service, "couples", at=room.clock.now(), by=room.therapist.id)
    record = room.start(*clients, modality="couples")
    live, _signals = room.open_live(record.id)
    room.clock.advance(timedelta(minutes=45).total_seconds())
    live.tick()
    rows = live.board()
    assert {r.next_checkin.status for r in rows if r.next_checkin} == {CheckinStatus.OVERDUE}
    # When C asks with either selected, Then it stays with the one selected
    for participant in record.participants:
        assert checkin_target(rows, participant.id) == participant.id
    live.stop()
