"""Sessions: who may take part, finding one by id prefix, numbering in a course, listings."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, func, select

from kapsession.records.errors import NotFound, StorageError
from kapsession.storage.database import open_database
from kapsession.storage.models import Session as SessionRow

if TYPE_CHECKING:
    from conftest import Clinic


@pytest.mark.parametrize(
    ("modality", "count"),
    [("individual", 1), ("couples", 2), ("group", 2), ("group", 5)],
)
def test_a_session_with_the_right_number_of_clients_is_created(
    clinic: Clinic, modality: str, count: int
) -> None:
    # Given `count` clients; When a `modality` session is created for them
    clients = [clinic.add_client("Client", f"Number{i}") for i in range(count)]
    session = clinic.new_session(clients, modality=modality, status="planned")
    # Then it is planned, with the clients in the order given
    assert session.status == "planned"
    assert [p.client.id for p in session.participants] == [c.id for c in clients]
    assert [p.position for p in session.participants] == list(range(count))


@pytest.mark.parametrize(
    ("modality", "count", "message"),
    [
        ("individual", 2, "exactly one client"),
        ("couples", 1, "exactly two clients"),
        ("couples", 3, "exactly two clients"),
        ("group", 1, "at least two clients"),
        ("family", 2, "individual, couples or group"),
    ],
)
def test_a_session_with_the_wrong_number_of_clients_is_refused(
    clinic: Clinic, modality: str, count: int, message: str
) -> None:
    # Given `count` clients
    clients = [clinic.add_client("Client", f"Number{i}") for i in range(count)]
    # When a `modality` session is created for them, Then it is refused, saying why
    with pytest.raises(StorageError, match=message):
        clinic.new_session(clients, modality=modality, status="planned")
    # And no session was stored
    assert clinic.sessions.summaries() == []


def test_the_same_client_twice_is_refused(clinic: Clinic) -> None:
    maya = clinic.add_client()
    with pytest.raises(StorageError, match="twice"):
        clinic.new_session([maya, maya], modality="couples")
    assert clinic.sessions.summaries() == []


def test_an_unknown_client_leaves_no_half_created_session(clinic: Clinic) -> None:
    # Given one real client and one id that belongs to nobody
    maya = clinic.add_client()
    ghost = dataclasses.replace(maya, id=uuid.uuid4())
    # When a couples session is created for them, Then it is refused
    with pytest.raises(NotFound, match=str(ghost.id)):
        clinic.new_session([maya, ghost], modality="couples")
    # And nothing of the session was stored (its row was flushed before the check failed)
    with clinic.db.read() as orm:
        assert orm.scalar(select(func.count()).select_from(SessionRow)) == 0


@pytest.mark.parametrize(
    ("start", "action", "message"),
    [
        ("live", "start", "already live"),
        ("completed", "start", "already completed"),
        ("planned", "end", "Only a live session"),
        ("completed", "end", "Only a live session"),
    ],
)
def test_a_session_moves_only_planned_to_live_to_completed(
    clinic: Clinic, start: str, action: str, message: str
) -> None:
    # Given a session in state `start`; When it is started or ended out of turn
    session = clinic.new_session(status=start)
    move = clinic.sessions.start if action == "start" else clinic.sessions.end
    # Then it is refused and the session is unchanged
    with pytest.raises(StorageError, match=message):
        move(session.id, at=clinic.now(), by=clinic.therapist.id)
    assert clinic.sessions.get(session.id).status == start


def test_entries_need_a_started_session(clinic: Clinic) -> None:
    session = clinic.new_session(status="planned")
    at = clinic.now()
    with pytest.raises(StorageError, match="Start the session"):
        clinic.entries.add_event(session.id, "marker", occurred_at=at, recorded_at=at)


# --- find by id prefix --------------------------------------------------------------------------

TWINS = (
    uuid.UUID("abcd1234-0000-4000-8000-000000000001"),
    uuid.UUID("abcd1234-0000-4000-8000-000000000002"),
)


def _session_with_id(clinic: Clinic, session_id: uuid.UUID) -> None:
    with clinic.db.write() as orm:
        orm.add(
            SessionRow(
                id=session_id,
                room="",
                modality="individual",
                status="planned",
                protocol_key="k",
                protocol_name="n",
                protocol_version=1,
                protocol_text="",
                protocol_sha256="0" * 64,
                created_at=clinic.now(),
            )
        )


@pytest.mark.parametrize(
    "text",
    [
        "abcd1234-0000-4000-8000-000000000001",
        "abcd1234000040008000000000000001",
        "ABCD1234-0000-4000-8000-000000000001",
        "  abcd1234-0000-4000-8000-000000000001 ",
    ],
    ids=["full", "no-dashes", "upper-case", "spaces"],
)
def test_find_accepts_a_whole_id_in_any_usual_spelling(clinic: Clinic, text: str) -> None:
    for session_id in TWINS:
        _session_with_id(clinic, session_id)
    assert clinic.sessions.find(text).id == TWINS[0]


@pytest.mark.parametrize("prefix", ["abcd", "ABCD12", "abcd-1234-0"])
def test_find_by_a_prefix_two_sessions_share_asks_for_more(clinic: Clinic, prefix: str) -> None:
    # Given two sessions whose ids start alike
    for session_id in TWINS:
        _session_with_id(clinic, session_id)
    # When one is looked up by their common start, Then staff are asked for more of the id
    with pytest.raises(NotFound, match="More than one session id starts with"):
        clinic.sessions.find(prefix)


def test_find_by_a_unique_prefix(clinic: Clinic) -> None:
    # Given two sessions; When one is looked up by the start of its id only
    session = clinic.new_session()
    _session_with_id(clinic, TWINS[0])
    prefix = session.id.hex[:8] if session.id.hex[:4] != "abcd" else session.id.hex[:12]
    # Then it is found
    assert clinic.sessions.find(prefix).id == session.id


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "at least the first 4 characters"),
        ("", "at least the first 4 characters"),
        ("ffff0000", "No session id starts with 'ffff0000'"),
        ("____", "No session id starts with"),  # LIKE wildcards must not match everything
        ("%%%%", "No session id starts with"),
        ("ab%d", "No session id starts with"),
    ],
    ids=["too-short", "empty", "unknown", "underscores", "percents", "inner-wildcard"],
)
def test_find_explains_what_is_wrong(clinic: Clinic, text: str, message: str) -> None:
    # Given one session whose id starts with abcd
    _session_with_id(clinic, TWINS[0])
    # When it is looked up with text that does not name it, Then staff read why
    with pytest.raises(NotFound, match=message):
        clinic.sessions.find(text)


def test_find_an_unknown_whole_id(clinic: Clinic) -> None:
    with pytest.raises(NotFound, match="No session with id"):
        clinic.sessions.find(str(uuid.UUID(int=12345)))


# --- numbering and listing ----------------------------------------------------------------------


def test_successive_sessions_of_a_client_are_numbered_in_the_course(clinic: Clinic) -> None:
    # Given a client, and another with sessions of her own in between
    maya = clinic.add_client("Maya", "Fischer")
    other = clinic.add_client("Jon", "Berg")
    numbers = []
    for _ in range(3):
        clinic.new_session([other])
        # When a session is created for Maya
        session = clinic.new_session([maya], status="completed")
        numbers.append(clinic.sessions.get(session.id).participants[0].session_number)
    # Then they count 1, 2, 3, whatever the other client's sessions
    assert numbers == [1, 2, 3]


def test_each_partner_of_a_couples_session_has_their_own_session_number(clinic: Clinic) -> None:
    # Given Maya with one earlier session; When she and Jon have a couples session
    maya = clinic.add_client("Maya", "Fischer")
    jon = clinic.add_client("Jon", "Berg")
    clinic.new_session([maya])
    couples = clinic.new_session([maya, jon], modality="couples")
    # Then it is Maya's second and Jon's first
    assert [p.session_number for p in couples.participants] == [2, 1]


def test_summaries_filter_by_status_and_client_newest_first(clinic: Clinic) -> None:
    # Given sessions in each state, for two clients
    maya = clinic.add_client("Maya", "Fischer")
    jon = clinic.add_client("Jon", "Berg")
    planned = clinic.new_session([maya], status="planned")
    live = clinic.new_session([jon], status="live")
    done = clinic.new_session([maya], status="completed")
    couple = clinic.new_session([maya, jon], modality="couples", status="live")

    # When they are listed, Then newest first, each with its clients' names
    listed = clinic.sessions.summaries()
    assert [s.id for s in listed] == [couple.id, done.id, live.id, planned.id]
    assert listed[0].participants == ("Maya Fischer", "Jon Berg")
    # And filtered by status
    assert [s.id for s in clinic.sessions.summaries(status="live")] == [couple.id, live.id]
    assert [s.id for s in clinic.sessions.summaries(status="completed")] == [done.id]
    assert clinic.sessions.summaries(status="signed") == []
    # And by client
    assert [s.id for s in clinic.sessions.summaries(client_id=jon.id)] == [couple.id, live.id]
    assert [s.id for s in clinic.sessions.summaries(status="planned", client_id=maya.id)] == [
        planned.id
    ]
    # And limited
    assert [s.id for s in clinic.sessions.summaries(limit=2)] == [couple.id, done.id]


def test_the_recently_signed_sessions_are_found_through_the_status_and_end_index(
    sqlite_path: Path, clinic_on: Any
) -> None:
    # Given a SQLite database with an ended session (a signed session's end comes after its
    # protocol snapshot in the row: read from the table, every signed row's overflow pages are)
    sqlite_path.parent.mkdir(parents=True)
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=None)
    try:
        clinic = clinic_on(db)
        clinic.new_session(status="completed")
        statements: list[tuple[str, Any]] = []
        event.listen(
            db.engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, parameters, _ctx, _many: statements.append(
                (statement, parameters)
            ),
        )
        # When the start screen's query for sessions signed since a moment runs
        since = clinic.clock.now() - timedelta(days=14)
        assert clinic.sessions.summaries(status="signed", ended_since=since, limit=100) == []
        # Then SQLite finds them through the index on (status, ended_at), not the rows
        ((statement, parameters),) = [(s, p) for s, p in statements if "coalesce" in s]
        with db.engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            steps = [str(row[3]) for row in plan]
        assert any("ix_session_status_ended" in step for step in steps), steps
    finally:
        db.close()
