"""Opening a database: migration to head, SQLite pragmas, and Alembic both ways."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, text

from kapsession.domain.vitals import Reading
from kapsession.storage import database as database_module
from kapsession.storage import schema
from kapsession.storage.backups import list_backups
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import (
    HEAD_REVISION,
    Database,
    _alembic_config,
    create_database_engine,
    head_revision,
    open_database,
)
from kapsession.storage.models import APPEND_ONLY_TABLES, Base

if TYPE_CHECKING:
    from conftest import Clinic

MODEL_TABLES = set(Base.metadata.tables)
LATER_TABLES = (  # 0011, 0012, 0013, 0014, 0015, 0016, 0017, 0018
    "dose_order",
    "adverse_event",
    "intervention",
    "controlled_substance",
    "client_profile",
    "outcome_measure",
    "consent",
    "course_plan",
    "staff_signing_key",
)


def _triggers(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT DISTINCT trigger_name FROM information_schema.triggers"
    return set(connection.execute(text(sql)).scalars())


def _version(connection: Connection) -> list[str]:
    return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_opening_an_empty_database_migrates_it_to_head(database_url: str, backup_dir: Path) -> None:
    # Given an empty database (no file at all for SQLite, an empty PostgreSQL database)
    # When kapsession opens it
    db = open_database(database_url, backup_dir=backup_dir)
    try:
        # Then the schema is at the newest revision, with every table of the models
        status = db.schema_status()
        assert status.up_to_date
        assert status.current == head_revision() == "0019"
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= MODEL_TABLES
            assert _version(connection) == [head_revision()]
        # And a brand-new database is not "upgraded", so no backup is made
        assert list_backups(backup_dir, "kapsession") == []
    finally:
        db.close()


def test_reopening_an_up_to_date_database_changes_nothing(
    database_url: str, backup_dir: Path, sqlite_path: Path
) -> None:
    # Given a database at head that holds a client
    first = open_database(database_url, backup_dir=backup_dir)
    with first.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO client (id, given_name, family_name, created_at) "
                "VALUES ('0000000000000000000000000000000a', 'Maya', 'Fischer', "
                "'2026-11-26 14:00:00')"
                if first.dialect == "sqlite"
                else "INSERT INTO client (id, given_name, family_name, created_at) VALUES "
                "('00000000-0000-0000-0000-00000000000a', 'Maya', 'Fischer', now())"
            )
        )
    first.close()
    before = hashlib.sha256(sqlite_path.read_bytes()).hexdigest() if sqlite_path.exists() else ""

    # When it is opened again
    again = open_database(database_url, backup_dir=backup_dir)
    try:
        # Then nothing is migrated or backed up, and the data is as it was
        assert again.schema_status().up_to_date
        with again.engine.connect() as connection:
            assert _version(connection) == [head_revision()]
            assert connection.execute(text("SELECT count(*) FROM client")).scalar_one() == 1
        assert list_backups(backup_dir, "kapsession") == []
    finally:
        again.close()
    if before:
        assert hashlib.sha256(sqlite_path.read_bytes()).hexdigest() == before


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("synchronous", 2),  # FULL: a commit is on disk before it returns
        ("foreign_keys", 1),
        ("busy_timeout", database_module.BUSY_TIMEOUT_MS),
    ],
)
def test_sqlite_connections_from_the_database_have_the_durability_pragmas(
    sqlite_path: Path, backup_dir: Path, pragma: str, expected: object
) -> None:
    # Given a SQLite database opened by kapsession
    db = open_database(f"sqlite:///{sqlite_path}", backup_dir=backup_dir)
    try:
        # When two connections are taken from its engine at the same time (two pool entries)
        with db.engine.connect() as one, db.engine.connect() as two:
            values = [c.exec_driver_sql(f"PRAGMA {pragma}").scalar() for c in (one, two)]
        # Then both have the pragma in force
        assert values == [expected, expected]
    finally:
        db.close()


def test_migrations_go_up_down_to_base_and_up_again(database_url: str, sqlite_path: Path) -> None:
    # Given an empty database and the engine kapsession would use
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        # When it is upgraded to head
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            triggers_at_head = _triggers(connection)
            assert _version(connection) == [head_revision()]
        # Then every table exists and every append-only table has its guard trigger
        assert tables >= MODEL_TABLES
        for table in APPEND_ONLY_TABLES:
            assert any(name.startswith(table) for name in triggers_at_head), table

        # When it is downgraded to 0001, the signed-session lock triggers are gone
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0001")
        with engine.connect() as connection:
            at_0001 = _triggers(connection)
            assert _version(connection) == ["0001"]
        assert at_0001 < triggers_at_head
        assert not any("signed" in name for name in at_0001)

        # When it is downgraded to base, no table or trigger of ours is left
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
            assert _triggers(connection) == set()
            if connection.dialect.name == "postgresql":
                functions = connection.execute(
                    text("SELECT proname FROM pg_proc WHERE proname LIKE 'kapsession%'")
                ).all()
                assert functions == []

        # When it is upgraded once more, it is exactly as after the first upgrade
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables
            assert _triggers(connection) == triggers_at_head
            assert _version(connection) == [head_revision()]
    finally:
        engine.dispose()


def test_downgrading_0004_gives_back_the_0003_schema_with_every_trigger(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0003 (SQLite copies `dose` and `observation` to drop 0004's columns,
    # which would lose their append-only and signed-lock triggers if nothing put them back)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0003")
        with engine.connect() as connection:
            tables_0003 = set(inspect(connection).get_table_names())
            triggers_0003 = _triggers(connection)
            dose_columns = {c["name"] for c in inspect(connection).get_columns("dose")}

        # When it is upgraded to 0004 and back
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0004")
        with engine.connect() as connection:
            added = _triggers(connection) - triggers_0003
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0003")

        # Then 0004 had added guards for its three clinical tables only
        assert {
            name.split("_no_")[0].split("_signed")[0].split("_append")[0] for name in added
        } == {
            "alert",
            "alert_acknowledgement",
            "discharge_assessment",
        }
        # And after the downgrade the tables, columns and triggers are those of 0003 again
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0003
            assert {c["name"] for c in inspect(connection).get_columns("dose")} == dose_columns
            assert _triggers(connection) == triggers_0003
            assert _version(connection) == ["0003"]
    finally:
        engine.dispose()


def test_downgrading_0005_gives_back_the_0004_schema_with_every_trigger(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0004 (SQLite copies `note` and `private_note` to drop 0005's columns,
    # which would lose their append-only and signed-lock triggers if nothing put them back)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0004")
        with engine.connect() as connection:
            tables_0004 = set(inspect(connection).get_table_names())
            triggers_0004 = _triggers(connection)
            note_columns = {c["name"] for c in inspect(connection).get_columns("note")}

        # When it is upgraded to 0005 and back
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0005")
        with engine.connect() as connection:
            added = _triggers(connection) - triggers_0004
            tables_0005 = set(inspect(connection).get_table_names())
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0004")

        # Then 0005 had added the signature table, the drafts and the part locks
        assert tables_0005 - tables_0004 == {"note_draft", "signature"}
        assert any(name.startswith("signature_") for name in added)
        assert {"dose_monitoring_lock", "note_therapy_lock"} <= added
        # And after the downgrade the tables, columns and triggers are those of 0004 again
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0004
            assert {c["name"] for c in inspect(connection).get_columns("note")} == note_columns
            assert _triggers(connection) == triggers_0004
            assert _version(connection) == ["0004"]
    finally:
        engine.dispose()


def _session_indexes(connection: Connection) -> dict[str, list[str]]:
    return {
        str(index["name"]): [str(c) for c in index["column_names"]]
        for index in inspect(connection).get_indexes("session")
    }


def test_0006_adds_the_session_status_and_end_index_and_its_downgrade_removes_it(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0005
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0005")
        with engine.connect() as connection:
            indexes_0005 = _session_indexes(connection)
            triggers_0005 = _triggers(connection)

        # When it is upgraded to 0006
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0006")
        with engine.connect() as connection:
            indexes_0006 = _session_indexes(connection)
            triggers_0006 = _triggers(connection)
        # Then the session table has one index more, on its status and end, and nothing else
        # changed
        assert set(indexes_0006) - set(indexes_0005) == {"ix_session_status_ended"}
        assert indexes_0006["ix_session_status_ended"] == ["status", "ended_at"]
        assert triggers_0006 == triggers_0005

        # And after the downgrade the session's indexes are those of 0005 again
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0005")
        with engine.connect() as connection:
            assert _session_indexes(connection) == indexes_0005
            assert _triggers(connection) == triggers_0005
            assert _version(connection) == ["0005"]
    finally:
        engine.dispose()


def test_0008_gives_earlier_readings_no_measures_not_taken_and_keeps_the_triggers(
    database_url: str, backup_dir: Path, clinic_on: Callable[[Database], Clinic]
) -> None:
    # Given a database with a complete reading, taken down to 0007 (before `not_taken`)
    db = open_database(database_url, backup_dir=backup_dir)
    try:
        clinic = clinic_on(db)
        session = clinic.new_session()
        at = clinic.now()
        CheckinRepository(db).add_observation(
            session.id,
            session.participants[0].id,
            Reading(systolic_mmhg=124, diastolic_mmhg=80),
            occurred_at=at,
            recorded_at=at,
        )
    finally:
        db.close()
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:  # the later revisions' tables have their own triggers
            command.downgrade(_alembic_config(connection), "0008")
        with engine.connect() as connection:
            triggers_0008 = {  # without those of later revisions' tables (0011's and 0012's)
                name for name in _triggers(connection) if not name.startswith(LATER_TABLES)
            }
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0007")
        with engine.connect() as connection:
            columns_0007 = {c["name"] for c in inspect(connection).get_columns("observation")}
            # Then the downgrade took the column away and put every trigger back
            assert "not_taken" not in columns_0007
            assert _triggers(connection) == triggers_0008

        # When it is upgraded to 0008 again
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0008")
        with engine.connect() as connection:
            # Then the earlier reading holds an empty list, written by the column's default
            stored = connection.execute(text("SELECT not_taken FROM observation")).scalars().all()
            assert [json.loads(v) if isinstance(v, str) else v for v in stored] == [[]]
            assert _triggers(connection) == triggers_0008
    finally:
        engine.dispose()
    # And the repositories read it as a reading with nothing left untaken
    db = open_database(database_url, backup_dir=backup_dir)
    try:
        (reading,) = CheckinRepository(db).observations(session.id)
        assert reading.not_taken == ()
        assert reading.values["systolic_mmhg"] == 124
    finally:
        db.close()


def _columns(connection: Connection, table: str) -> list[str]:
    return [str(c["name"]) for c in inspect(connection).get_columns(table)]


def test_0009_adds_the_team_columns_and_keeps_every_role_and_its_downgrade_removes_them(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0008 with today's roles, one role kapsession never wrote, and a
    # session with its therapist and nurse
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    staff = {"therapist": 1, "nurse": 2, "prescriber": 3, "lead": 4, "psychologist": 5}
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0008")
            for role, number in staff.items():
                connection.execute(
                    text(
                        "INSERT INTO staff (id, display_name, role, credentials, active, "
                        "created_at) VALUES (:id, :name, :role, '', :active, :at)"
                    ),
                    {"id": _id(connection, number), "name": role.title(), "role": role,
                     "active": True, "at": "2026-11-26 14:00:00"},
                )  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO session (id, room, modality, status, protocol_key, "
                    "protocol_name, protocol_version, protocol_text, protocol_sha256, "
                    "therapist_id, nurse_id, created_at) VALUES (:id, '', 'individual', "
                    "'planned', 'k', 'K', 1, '', '', :therapist, :nurse, :at)"
                ),
                {"id": _id(connection, 9), "therapist": _id(connection, 1),
                 "nurse": _id(connection, 2), "at": "2026-11-26 14:00:00"},
            )  # fmt: skip
        with engine.connect() as connection:
            session_0008 = _columns(connection, "session")
            participant_0008 = _columns(connection, "participant")
            triggers_0008 = _triggers(connection)

        # When it is upgraded to 0009
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0009")
        with engine.connect() as connection:
            # Then the session has a prescriber on site and a participant a monitoring
            # clinician of their own, empty for what was there; the team named stays
            assert _columns(connection, "session") == [*session_0008, "prescriber_id"]
            assert _columns(connection, "participant") == [*participant_0008, "monitor_id"]
            row = connection.execute(
                text("SELECT therapist_id, nurse_id, prescriber_id FROM session")
            ).one()
            assert row[2] is None and None not in row[:2]
            # And today's roles are kept; the one outside the list is "other"
            roles = dict(connection.execute(text("SELECT display_name, role FROM staff")).all())
            assert roles == {
                "Therapist": "therapist",
                "Nurse": "nurse",
                "Prescriber": "prescriber",
                "Lead": "lead",
                "Psychologist": "other",
            }
            # And the new columns point at staff members
            targets = {
                (fk["constrained_columns"][0], fk["referred_table"])
                for table in ("session", "participant")
                for fk in inspect(connection).get_foreign_keys(table)
            }
            assert {("prescriber_id", "staff"), ("monitor_id", "staff")} <= targets
            assert _triggers(connection) == triggers_0008

        # When it is downgraded again, Then the columns are gone and every trigger is there
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0008")
        with engine.connect() as connection:
            assert _columns(connection, "session") == session_0008
            assert _columns(connection, "participant") == participant_0008
            assert _triggers(connection) == triggers_0008
            assert _version(connection) == ["0008"]
    finally:
        engine.dispose()


def test_0013_adds_the_client_profile_append_only_and_its_downgrade_removes_it(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0012 with a client and a staff member
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0012")
            connection.execute(
                text(
                    "INSERT INTO staff (id, display_name, role, credentials, active, created_at) "
                    "VALUES (:id, 'Tom Becker', 'nurse', '', :active, :at)"
                ),
                {"id": _id(connection, 1), "active": True, "at": "2026-12-11 09:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO client (id, given_name, family_name, created_at) "
                    "VALUES (:id, 'Maya', 'Fischer', :at)"
                ),
                {"id": _id(connection, 5), "at": "2026-12-11 09:00:00"},
            )
        with engine.connect() as connection:
            tables_0012 = set(inspect(connection).get_table_names())
            triggers_0012 = _triggers(connection)

        # When it is upgraded to 0013
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0013")
        with engine.connect() as connection:
            # Then the profile table is there, empty: the client has nothing recorded
            assert set(inspect(connection).get_table_names()) == tables_0012 | {"client_profile"}
            assert connection.execute(text("SELECT count(*) FROM client_profile")).scalar() == 0
            assert {name for name in _triggers(connection) - triggers_0012} == (
                {"client_profile_append_only"}
                if connection.dialect.name == "postgresql"
                else {"client_profile_no_update", "client_profile_no_delete"}
            )
            targets = {
                (fk["constrained_columns"][0], fk["referred_table"])
                for fk in inspect(connection).get_foreign_keys("client_profile")
            }
            assert targets == {
                ("client_id", "client"),
                ("recorded_by_id", "staff"),
                ("replaces_id", "client_profile"),
            }
        # And a version written to it is never changed or deleted
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO client_profile (id, client_id, preferred_name, gender_identity, "
                    "record_system, phone, email, address, emergency_name, emergency_phone, "
                    "emergency_relationship, referring_clinician, diagnoses, recorded_at, "
                    "recorded_by_id) VALUES (:id, :c, 'Mo', '', '', '', '', '', '', '', '', '', "
                    "'[]', :at, :by)"
                ),
                {"id": _id(connection, 20), "c": _id(connection, 5), "by": _id(connection, 1),
                 "at": "2026-12-11 09:01:00"},
            )  # fmt: skip
        for statement in (
            "UPDATE client_profile SET preferred_name = 'M'",
            "DELETE FROM client_profile",
        ):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))

        # When it is downgraded again, Then the table and its triggers are gone, the client stays
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0012")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0012
            assert _triggers(connection) == triggers_0012
            assert _version(connection) == ["0012"]
            assert connection.execute(text("SELECT count(*) FROM client")).scalar() == 1
    finally:
        engine.dispose()


def test_0014_adds_outcome_measures_append_only_and_locked_with_a_signed_session(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0013 with a staff member, a client and a session of theirs signed
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0013")
            at = "2026-12-12 09:00:00"
            connection.execute(
                text(
                    "INSERT INTO staff (id, display_name, role, credentials, active, created_at) "
                    "VALUES (:id, 'Tom Becker', 'nurse', '', :active, :at)"
                ),
                {"id": _id(connection, 1), "active": True, "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO client (id, given_name, family_name, created_at) "
                    "VALUES (:id, 'Maya', 'Fischer', :at)"
                ),
                {"id": _id(connection, 5), "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO session (id, room, modality, status, protocol_key, "
                    "protocol_name, protocol_version, protocol_text, protocol_sha256, "
                    "created_at) VALUES (:id, '', 'individual', 'signed', 'k', 'K', 1, '', '', "
                    ":at)"
                ),
                {"id": _id(connection, 9), "at": at},
            )
        with engine.connect() as connection:
            tables_0013 = set(inspect(connection).get_table_names())
            triggers_0013 = _triggers(connection)

        # When it is upgraded to 0014
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0014")
        with engine.connect() as connection:
            # Then the measures' table is there, empty, with the guards of an entry's table
            assert set(inspect(connection).get_table_names()) == tables_0013 | {"outcome_measure"}
            assert connection.execute(text("SELECT count(*) FROM outcome_measure")).scalar() == 0
            locks = {"outcome_measure_signed_lock", "outcome_measure_monitoring_lock"}
            assert _triggers(connection) - triggers_0013 == locks | (
                {"outcome_measure_append_only"}
                if connection.dialect.name == "postgresql"
                else {"outcome_measure_no_update", "outcome_measure_no_delete"}
            )
            targets = {
                (fk["constrained_columns"][0], fk["referred_table"])
                for fk in inspect(connection).get_foreign_keys("outcome_measure")
            }
            assert targets == {
                ("client_id", "client"),
                ("session_id", "session"),
                ("recorded_by_id", "staff"),
                ("corrects_id", "outcome_measure"),
            }
        insert = (
            "INSERT INTO outcome_measure (id, client_id, session_id, instrument, answers, "
            "entry_mode, recorded_by_id, occurred_at, recorded_at, voids) VALUES (:id, :c, "
            "{session}, 'phq9', '[1, null, 0, 0, 0, 0, 0, 0, 0]', 'staff_paper', :by, :at, "
            ":at, :voids)"
        )
        # And an administration outside a session is written, and never changed or deleted
        with engine.begin() as connection:
            connection.execute(
                text(insert.format(session="NULL")),
                {"id": _id(connection, 20), "c": _id(connection, 5), "by": _id(connection, 1),
                 "at": "2026-12-12 09:01:00", "voids": False},
            )  # fmt: skip
        for statement in ("UPDATE outcome_measure SET total = 1", "DELETE FROM outcome_measure"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
        # And one given in the signed session is refused
        with pytest.raises(Exception, match="signed"), engine.begin() as connection:
            connection.execute(
                text(insert.format(session=":s")),
                {"id": _id(connection, 21), "c": _id(connection, 5), "by": _id(connection, 1),
                 "s": _id(connection, 9), "at": "2026-12-12 09:02:00", "voids": False},
            )  # fmt: skip

        # When it is downgraded again, Then the table and its triggers are gone, the rest stays
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0013")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0013
            assert _triggers(connection) == triggers_0013
            assert _version(connection) == ["0013"]
            assert connection.execute(text("SELECT count(*) FROM client")).scalar() == 1
    finally:
        engine.dispose()


def test_0015_adds_consents_append_only_and_its_downgrade_removes_them(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0014 with a staff member and a client
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0014")
            at = "2026-12-07 09:00:00"
            connection.execute(
                text(
                    "INSERT INTO staff (id, display_name, role, credentials, active, created_at) "
                    "VALUES (:id, 'Tom Becker', 'nurse', '', :active, :at)"
                ),
                {"id": _id(connection, 1), "active": True, "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO client (id, given_name, family_name, created_at) "
                    "VALUES (:id, 'Maya', 'Fischer', :at)"
                ),
                {"id": _id(connection, 5), "at": at},
            )
        with engine.connect() as connection:
            tables_0014 = set(inspect(connection).get_table_names())
            triggers_0014 = _triggers(connection)

        # When it is upgraded to 0015
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0015")
        with engine.connect() as connection:
            # Then the consents' table is there, empty (no client has one recorded), guarded
            assert set(inspect(connection).get_table_names()) == tables_0014 | {"consent"}
            assert connection.execute(text("SELECT count(*) FROM consent")).scalar() == 0
            assert _triggers(connection) - triggers_0014 == (
                {"consent_append_only"}
                if connection.dialect.name == "postgresql"
                else {"consent_no_update", "consent_no_delete"}
            )
            targets = {
                (fk["constrained_columns"][0], fk["referred_table"])
                for fk in inspect(connection).get_foreign_keys("consent")
            }
            assert targets == {
                ("client_id", "client"),
                ("witness_id", "staff"),
                ("recorded_by_id", "staff"),
                ("corrects_id", "consent"),
            }
        # And a consent is written, and never changed or deleted
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO consent (id, client_id, kind, given, signed_on, form_version, "
                    "witness_id, recorded_by_id, recorded_at, voids) VALUES (:id, :c, "
                    "'kap_treatment', :yes, '2026-12-01', 'v3', :by, :by, :at, :no)"
                ),
                {"id": _id(connection, 20), "c": _id(connection, 5), "by": _id(connection, 1),
                 "yes": True, "no": False, "at": "2026-12-07 09:01:00"},
            )  # fmt: skip
        for statement in ("UPDATE consent SET form_version = 'v4'", "DELETE FROM consent"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))

        # When it is downgraded again, Then the table and its triggers are gone, the rest stays
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0014")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0014
            assert _triggers(connection) == triggers_0014
            assert _version(connection) == ["0014"]
            assert connection.execute(text("SELECT count(*) FROM client")).scalar() == 1
    finally:
        engine.dispose()


def _id(connection: Connection, number: int) -> str:
    """A UUID as each back-end stores it (SQLite: 32 hex digits; PostgreSQL: uuid)."""
    value = f"{number:032x}"
    if connection.dialect.name == "sqlite":
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def test_the_head_revision_constant_is_alembics_head() -> None:
    # Given the migration files, When Alembic reads their head, Then the constant that lets a
    # current database open without Alembic names the same revision
    assert head_revision() == HEAD_REVISION


def test_0011_adds_the_order_table_append_only_and_its_downgrade_removes_it(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0010 with a running session (started before orders existed)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0010")
            connection.execute(
                text(
                    "INSERT INTO staff (id, display_name, role, credentials, active, created_at) "
                    "VALUES (:id, 'Dr Lee', 'prescriber', '', :active, :at)"
                ),
                {"id": _id(connection, 1), "active": True, "at": "2026-12-11 09:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO session (id, room, modality, status, protocol_key, "
                    "protocol_name, protocol_version, protocol_text, protocol_sha256, "
                    "created_at) VALUES (:id, '', 'individual', 'live', 'k', 'K', 1, '', '', :at)"
                ),
                {"id": _id(connection, 9), "at": "2026-12-11 09:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO client (id, given_name, family_name, created_at) "
                    "VALUES (:id, 'Maya', 'Fischer', :at)"
                ),
                {"id": _id(connection, 5), "at": "2026-12-11 09:00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO participant (id, session_id, client_id, position, created_at) "
                    "VALUES (:id, :s, :c, 0, :at)"
                ),
                {
                    "id": _id(connection, 6),
                    "s": _id(connection, 9),
                    "c": _id(connection, 5),
                    "at": "2026-12-11 09:00:00",
                },
            )
        with engine.connect() as connection:
            tables_0010 = set(inspect(connection).get_table_names())
            triggers_0010 = _triggers(connection)

        # When it is upgraded to 0011
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0011")
        with engine.connect() as connection:
            # Then the order table is there, empty: the running session has no order
            assert set(inspect(connection).get_table_names()) == tables_0010 | {"dose_order"}
            assert connection.execute(text("SELECT count(*) FROM dose_order")).scalar() == 0
            assert len(_triggers(connection) - triggers_0010) >= 2
        # And an order written to it is never changed or deleted
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO dose_order (id, session_id, participant_id, medication, route, "
                    "dose_mg, boosters, ordered_by_id, verbal, source, occurred_at, recorded_at, "
                    "voids) VALUES (:id, :s, :p, 'ketamine', 'sublingual', 200, 0, :by, :no, "
                    "'session_start', :at, :at, :no)"
                ),
                {"id": _id(connection, 20), "s": _id(connection, 9), "p": _id(connection, 6),
                 "by": _id(connection, 1), "no": False, "at": "2026-12-11 09:01:00"},
            )  # fmt: skip
        for statement in ("UPDATE dose_order SET dose_mg = 400", "DELETE FROM dose_order"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))

        # When it is downgraded again, Then the table and its triggers are gone
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0010")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0010
            assert _triggers(connection) == triggers_0010
            assert _version(connection) == ["0010"]
    finally:
        engine.dispose()


def test_0012_adds_the_adverse_event_tables_with_their_guards_and_its_downgrade_removes_them(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0011
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    new_tables = {"adverse_event", "intervention", "controlled_substance"}
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0011")
        with engine.connect() as connection:
            tables_0011 = set(inspect(connection).get_table_names())
            triggers_0011 = _triggers(connection)
        # When it is upgraded to 0012
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0012")
        with engine.connect() as connection:
            # Then the three tables are there, nothing else changed
            assert set(inspect(connection).get_table_names()) == tables_0011 | new_tables
            # And each is append-only and refuses rows once the session or its monitoring
            # part is signed, as doses and readings do
            added = _triggers(connection) - triggers_0011
            for table in new_tables:
                names = {name for name in added if name.startswith(table)}
                assert any("signed_lock" in name for name in names), table
                assert any("monitoring_lock" in name for name in names), table
                assert any("append_only" in name or "no_update" in name for name in names)
            # And a count points at its dose, an intervention at its adverse event
            targets = {
                (table, fk["constrained_columns"][0], fk["referred_table"])
                for table in new_tables
                for fk in inspect(connection).get_foreign_keys(table)
            }
            assert ("controlled_substance", "dose_id", "dose") in targets
            assert ("intervention", "adverse_event_id", "adverse_event") in targets
            assert ("adverse_event", "alert_id", "alert") in targets
        # When it is downgraded again, Then the tables and their triggers are gone
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0011")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0011
            assert _triggers(connection) == triggers_0011
            assert _version(connection) == ["0011"]
    finally:
        engine.dispose()


def test_0016_adds_the_course_plan_and_session_types_keeping_earlier_sessions_dosing(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0015 with a staff member, a client, their course and a session of
    # theirs with its participant (every session then was a dosing session)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0015")
            at = "2026-12-13 09:00:00"
            connection.execute(
                text(
                    "INSERT INTO staff (id, display_name, role, credentials, active, created_at) "
                    "VALUES (:id, 'Dr Lee', 'prescriber', '', :active, :at)"
                ),
                {"id": _id(connection, 1), "active": True, "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO client (id, given_name, family_name, created_at) "
                    "VALUES (:id, 'Maya', 'Fischer', :at)"
                ),
                {"id": _id(connection, 5), "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO course (id, client_id, title, planned_sessions, started_on, "
                    "created_at) VALUES (:id, :c, 'Course 1', 6, '2026-12-13', :at)"
                ),
                {"id": _id(connection, 7), "c": _id(connection, 5), "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO session (id, room, modality, status, protocol_key, "
                    "protocol_name, protocol_version, protocol_text, protocol_sha256, "
                    "created_at) VALUES (:id, '', 'individual', 'signed', 'k', 'K', 1, '', '', "
                    ":at)"
                ),
                {"id": _id(connection, 9), "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO participant (id, session_id, client_id, course_id, position, "
                    "created_at) VALUES (:id, :s, :c, :course, 0, :at)"
                ),
                {"id": _id(connection, 6), "s": _id(connection, 9), "c": _id(connection, 5),
                 "course": _id(connection, 7), "at": at},
            )  # fmt: skip
        with engine.connect() as connection:
            tables_0015 = set(inspect(connection).get_table_names())
            triggers_0015 = _triggers(connection)
            session_0015 = _columns(connection, "session")
            participant_0015 = _columns(connection, "participant")

        # When it is upgraded to 0016
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0016")
        with engine.connect() as connection:
            # Then the plan's table is there, empty, append-only like the client profile
            assert set(inspect(connection).get_table_names()) == tables_0015 | {"course_plan"}
            assert connection.execute(text("SELECT count(*) FROM course_plan")).scalar() == 0
            assert _triggers(connection) - triggers_0015 == (
                {"course_plan_append_only"}
                if connection.dialect.name == "postgresql"
                else {"course_plan_no_update", "course_plan_no_delete"}
            )
            # And the columns are schema.py's, the session's type and the integration link
            assert _columns(connection, "course_plan") == list(schema.course_plan.c.keys())
            assert _columns(connection, "session") == [*session_0015, "session_type"]
            assert _columns(connection, "participant") == [*participant_0015, "follows_session_id"]
            # And the earlier session is a dosing session, following nothing
            assert connection.execute(text("SELECT session_type FROM session")).scalar() == "dosing"
            follows = connection.execute(text("SELECT follows_session_id FROM participant"))
            assert follows.scalar() is None
            targets = {
                (fk["constrained_columns"][0], fk["referred_table"])
                for fk in inspect(connection).get_foreign_keys("participant")
            }
            assert ("follows_session_id", "session") in targets
        # And a plan written is never changed or deleted
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO course_plan (id, course_id, indication, dosing_sessions, "
                    "medication, route, recorded_at, recorded_by_id) VALUES (:id, :course, "
                    "'Depression', 6, 'ketamine', 'sublingual', :at, :by)"
                ),
                {"id": _id(connection, 20), "course": _id(connection, 7),
                 "at": "2026-12-13 09:01:00", "by": _id(connection, 1)},
            )  # fmt: skip
        for statement in ("UPDATE course_plan SET dosing_sessions = 8", "DELETE FROM course_plan"):
            with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))

        # When it is downgraded again, Then the table, its triggers and the columns are gone
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0015")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0015
            assert _triggers(connection) == triggers_0015
            assert _columns(connection, "session") == session_0015
            assert _columns(connection, "participant") == participant_0015
            assert _version(connection) == ["0015"]
            assert connection.execute(text("SELECT count(*) FROM session")).scalar() == 1
    finally:
        engine.dispose()


def test_0018_adds_signing_keys_leaves_old_signatures_unbound_and_guards_signed_people(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0017 with a session signed in its monitoring part, as signatures
    # were then: a content digest and no key
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0017")
            at = "2026-12-13 09:00:00"
            rows = (
                "INSERT INTO staff (id, display_name, role, credentials, pin_hash, active, "
                "created_at) VALUES (:s1, 'Ana Ruiz', 'nurse', 'RN', 'h', :yes, :at)",
                "INSERT INTO client (id, given_name, family_name, created_at) "
                "VALUES (:c5, 'Maya', 'Fischer', :at)",
                "INSERT INTO client (id, given_name, family_name, created_at) "
                "VALUES (:c6, 'Lena', 'Vogt', :at)",
                "INSERT INTO session (id, room, modality, status, protocol_key, protocol_name, "
                "protocol_version, protocol_text, protocol_sha256, created_at) VALUES "
                "(:s9, '', 'individual', 'completed', 'k', 'K', 1, '', '', :at)",
                "INSERT INTO participant (id, session_id, client_id, position, created_at) "
                "VALUES (:p8, :s9, :c5, 0, :at)",
                "INSERT INTO signature (id, session_id, part, staff_id, signer_name, "
                "signer_role, signed_at, meaning, content_sha256) VALUES (:g10, :s9, "
                "'monitoring', :s1, 'Ana Ruiz, RN', 'nurse', :at, 'm', :digest)",
            )
            ids = {"s1": 1, "c5": 5, "c6": 6, "s9": 9, "p8": 8, "g10": 10}
            values = {k: _id(connection, n) for k, n in ids.items()}
            values |= {"at": at, "yes": True, "digest": "0" * 64}
            for statement in rows:
                connection.execute(text(statement), values)
        with engine.connect() as connection:
            tables_0017 = set(inspect(connection).get_table_names())
            triggers_0017 = _triggers(connection)
            signature_0017 = _columns(connection, "signature")

        # When it is upgraded to 0018
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0018")
        with engine.connect() as connection:
            # Then the key table is there, empty, with the columns of schema.py
            assert set(inspect(connection).get_table_names()) == tables_0017 | {"staff_signing_key"}
            assert _columns(connection, "staff_signing_key") == list(
                schema.staff_signing_key.c.keys()
            )
            assert _columns(connection, "signature") == [
                *signature_0017,
                "public_key",
                "signature",
            ]
            # And the earlier signature has no key: it reads as made before binding
            bound = connection.execute(text("SELECT public_key, signature FROM signature"))
            assert bound.one() == (None, None)
        # And the signed session's participant, client and signer are guarded, and the PIN
        guarded = (
            ("UPDATE participant SET client_id = :c6 WHERE id = :p8", "participants"),
            ("DELETE FROM participant WHERE id = :p8", "participants"),
            ("UPDATE client SET family_name = 'Vogt' WHERE id = :c5", "date of birth"),
            ("UPDATE staff SET display_name = 'Eve' WHERE id = :s1", "name, role"),
            ("UPDATE staff SET pin_hash = NULL WHERE id = :s1", "never removed"),
        )
        for statement, said in guarded:
            with pytest.raises(Exception, match=said), engine.begin() as connection:
                connection.execute(text(statement), {k: _id(connection, n) for k, n in ids.items()})
        # ... while an unsigned client's name is still theirs to correct
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE client SET family_name = 'Vogt-Lind' WHERE id = :c6"),
                {"c6": _id(connection, 6)},
            )

        # When it is downgraded again, Then the table, its triggers and the columns are gone
        with engine.begin() as connection:
            command.downgrade(_alembic_config(connection), "0017")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == tables_0017
            assert _triggers(connection) == triggers_0017
            assert _columns(connection, "signature") == signature_0017
            assert _version(connection) == ["0017"]
    finally:
        engine.dispose()
