"""Times go in timezone-aware, are stored as UTC, and come back aware UTC on both back-ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.exc import StatementError

if TYPE_CHECKING:
    from conftest import Clinic

INSTANT = datetime(2026, 11, 26, 14, 3, 7, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "zone",
    [
        UTC,
        timezone(timedelta(hours=-8), "PST"),
        timezone(timedelta(hours=5, minutes=30)),
        timezone(timedelta(hours=14)),
    ],
    ids=["utc", "minus-8h", "plus-5h30", "plus-14h"],
)
def test_an_aware_time_comes_back_as_the_same_instant_in_utc(
    clinic: Clinic, zone: timezone
) -> None:
    # Given a session and a time given in some zone (to the microsecond)
    session = clinic.new_session()
    given = INSTANT.astimezone(zone)

    # When an event with that time is saved and read back
    saved = clinic.entries.add_event(
        session.id, "marker", occurred_at=given, recorded_at=given, label="zoned"
    )
    (read,) = [e for e in clinic.entries.events(session.id) if e.id == saved.id]

    # Then it is the same instant, expressed in UTC, with UTC's wall clock
    for value in (read.occurred_at, read.recorded_at):
        assert value == INSTANT
        assert value.tzinfo is UTC
        assert (value.hour, value.minute, value.microsecond) == (14, 3, 123456)


def test_the_database_holds_utc_wall_clock_times(clinic: Clinic) -> None:
    # Given an event entered at 19:33:07 in India (14:03:07 UTC)
    session = clinic.new_session()
    given = INSTANT.astimezone(timezone(timedelta(hours=5, minutes=30)))
    saved = clinic.entries.add_event(
        session.id, "marker", occurred_at=given, recorded_at=given, label="stored"
    )

    # When the stored value is read with raw SQL, Then it is the UTC time
    with clinic.db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TIME ZONE 'UTC'")
        stored = connection.execute(
            text("SELECT occurred_at FROM session_event WHERE id = :id").bindparams(
                bindparam("id", saved.id, type_=Uuid())
            )
        ).scalar_one()
    assert str(stored).startswith("2026-11-26 14:03:07.123456")


def test_events_sort_by_instant_whatever_zone_they_were_entered_in(clinic: Clinic) -> None:
    # Given an event at 14:00 UTC, and a later one entered as 09:30 in New York (14:30 UTC)
    session = clinic.new_session()
    early = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    late = datetime(2026, 11, 26, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    clinic.entries.add_event(session.id, "marker", occurred_at=late, recorded_at=late, label="B")
    clinic.entries.add_event(session.id, "marker", occurred_at=early, recorded_at=early, label="A")

    # When the events are listed, Then they are in time order
    labels = [e.label for e in clinic.entries.events(session.id) if e.kind == "marker"]
    assert labels == ["A", "B"]


def test_a_naive_time_is_refused_and_nothing_is_saved(clinic: Clinic) -> None:
    # Given a session
    session = clinic.new_session()
    before = clinic.entries.events(session.id, include_history=True)
    naive = datetime(2026, 11, 26, 14, 0)

    # When an event is saved with a time that has no zone
    # Then it is refused (the time cannot be placed on the session clock)
    with pytest.raises((ValueError, StatementError), match="timezone-aware"):
        clinic.entries.add_event(session.id, "marker", occurred_at=naive, recorded_at=naive)
    # And nothing was saved
    assert clinic.entries.events(session.id, include_history=True) == before


def test_session_and_client_times_come_back_aware_utc(clinic: Clinic) -> None:
    # Given a completed session whose times were given in another zone
    zone = timezone(timedelta(hours=-7))
    client = clinic.clients.add("Maya", "Fischer", at=INSTANT.astimezone(zone))
    session = clinic.new_session([client], status="completed")

    # When they are read back, Then every time is aware UTC
    read = clinic.sessions.get(session.id)
    times = [
        read.created_at,
        read.started_at,
        read.ended_at,
        clinic.clients.get(client.id).created_at,
    ]
    assert all(t is not None and t.tzinfo is UTC for t in times)
    assert clinic.clients.get(client.id).created_at == INSTANT
