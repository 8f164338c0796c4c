"""Migration 0007: a note draft names its participant. Drafts saved before it keep their meaning:
an individual session's note drafts are its one participant's; a couples session's and the
session note's stay without one. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, inspect

from kapsession.storage.database import _alembic_config, create_database_engine

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# The tables as they stood at 0006, with only the columns these rows need.
CLIENT = sa.table(
    "client",
    sa.column("id", sa.Uuid()),
    sa.column("given_name", sa.String()),
    sa.column("family_name", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
SESSION = sa.table(
    "session",
    *(sa.column(name, sa.String()) for name in ("room", "modality", "status", "protocol_key")),
    *(sa.column(name, sa.String()) for name in ("protocol_name", "protocol_text")),
    sa.column("protocol_sha256", sa.String()),
    sa.column("id", sa.Uuid()),
    sa.column("protocol_version", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
PARTICIPANT = sa.table(
    "participant",
    sa.column("id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("client_id", sa.Uuid()),
    sa.column("position", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
DRAFT = sa.table(
    "note_draft",
    sa.column("id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("pad", sa.String()),
    sa.column("text", sa.Text()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _session(
    connection: Connection, modality: str, clients: int
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A live session of `clients` new clients, as 0006 stored it; its id and participants."""
    session_id = uuid.uuid4()
    connection.execute(
        sa.insert(SESSION).values(
            id=session_id,
            room="Room 2",
            modality=modality,
            status="live",
            protocol_key="sublingual-kap-3h",
            protocol_name="Sublingual KAP, 3 hours",
            protocol_version=1,
            protocol_text="schema = 1\n",
            protocol_sha256="0" * 64,
            created_at=AT,
        )
    )
    participants = []
    for position in range(clients):
        client_id, participant_id = uuid.uuid4(), uuid.uuid4()
        connection.execute(
            sa.insert(CLIENT).values(
                id=client_id, given_name="Given", family_name=f"Family{position}", created_at=AT
            )
        )
        connection.execute(
            sa.insert(PARTICIPANT).values(
                id=participant_id,
                session_id=session_id,
                client_id=client_id,
                position=position,
                created_at=AT,
            )
        )
        participants.append(participant_id)
    return session_id, participants


def _draft(connection: Connection, session_id: uuid.UUID, pad: str, text: str) -> None:
    connection.execute(
        sa.insert(DRAFT).values(
            id=uuid.uuid4(), session_id=session_id, pad=pad, text=text, updated_at=AT
        )
    )


def _drafts(connection: Connection) -> dict[tuple[uuid.UUID, str], tuple[str, uuid.UUID | None]]:
    rows = connection.execute(
        sa.select(
            DRAFT.c.session_id, DRAFT.c.pad, DRAFT.c.text, sa.column("participant_id", sa.Uuid())
        ).select_from(DRAFT)
    )
    return {(r.session_id, r.pad): (r.text, r.participant_id) for r in rows}


def test_0007_gives_old_drafts_their_participant_where_it_is_known_and_downgrades_back(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0006 with drafts of an individual and a couples session
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0006")
        with engine.begin() as connection:
            alone, (only,) = _session(connection, "individual", 1)
            couple, _two = _session(connection, "couples", 2)
            _draft(connection, alone, "record", "Maya: warm hands")
            _draft(connection, alone, "private", "Tired today")
            _draft(connection, alone, "session_note", "Intention")
            _draft(connection, couple, "record", "One of them laughs")

        # When it is upgraded to 0007
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0007")

        # Then the individual session's note drafts are its participant's, and the couples
        # session's and the session note's name nobody; every text is kept
        with engine.connect() as connection:
            assert _drafts(connection) == {
                (alone, "record"): ("Maya: warm hands", only),
                (alone, "private"): ("Tired today", only),
                (alone, "session_note"): ("Intention", None),
                (couple, "record"): ("One of them laughs", None),
            }
            keys = inspect(connection).get_foreign_keys("note_draft")
            assert {(k["constrained_columns"][0], k["referred_table"]) for k in keys} >= {
                ("participant_id", "participant")
            }

        # When it is downgraded to 0006, Then the column is gone and the drafts are kept
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0006")
        with engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("note_draft")}
            assert "participant_id" not in columns
            texts = connection.execute(sa.select(DRAFT.c.text)).scalars()
            assert sorted(texts) == sorted(
                ["Maya: warm hands", "Tired today", "Intention", "One of them laughs"]
            )
    finally:
        engine.dispose()
