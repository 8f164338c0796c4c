"""What a database holds, stored in it (issue 18, migration 0017): a database made as the
training database says so; every other one is clinical, and the marker cannot be changed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from test_storage_open import _id

from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.storage.database import (
    Database,
    _alembic_config,
    create_database_engine,
    open_database,
)
from kapsession.storage.database_kind import (
    CLINICAL,
    TRAINING,
    database_kind,
    is_training,
    mark_database,
)

AT = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("training", [True, False], ids=["training", "clinical"])
def test_a_new_database_is_marked_as_what_it_was_made_for(tmp_path: Path, training: bool) -> None:
    # When kapsession makes a new database, the training one or the clinical one
    context = open_context(
        resolve_paths(data_dir=tmp_path / "data", training=training, environ={}),
        daily_backup=False,
    )
    try:
        # Then it says so, in the data
        assert context.training is training
        assert database_kind(context.database) == (TRAINING if training else CLINICAL)
        # And a second mark changes nothing
        assert not mark_database(context.database, CLINICAL if training else TRAINING, at=AT)
        assert is_training(context.database) is training
    finally:
        context.close()


def test_the_marker_cannot_be_changed_or_removed(database_url: str, backup_dir: Path) -> None:
    # Given a database marked clinical
    db = open_database(database_url, backup_dir=backup_dir)
    try:
        assert mark_database(db, CLINICAL, at=AT)
        # When raw SQL tries to make it training, to delete the mark, or to add a second one
        for statement in (
            "UPDATE database_kind SET kind = 'training'",
            "DELETE FROM database_kind",
            "INSERT INTO database_kind (id, kind, recorded_at) VALUES (2, 'training', "
            "'2026-12-07 21:00:00')",
        ):
            with pytest.raises(DBAPIError), db.engine.begin() as connection:
                connection.execute(text(statement))
        # Then it is clinical as it was
        assert database_kind(db) == CLINICAL
    finally:
        db.close()


def test_an_unmarked_database_counts_as_clinical(database_url: str, backup_dir: Path) -> None:
    db = open_database(database_url, backup_dir=backup_dir)  # made without open_context
    try:
        assert database_kind(db) == CLINICAL and not is_training(db)
    finally:
        db.close()


def test_a_database_with_people_upgraded_to_0017_is_marked_clinical(
    database_url: str, sqlite_path: Path
) -> None:
    # Given a database at 0016 holding a staff member (a demo's training database of then too)
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0016")
            connection.execute(
                text(
                    "INSERT INTO staff (id, display_name, role, credentials, active, created_at) "
                    "VALUES (:id, 'Dr Lee', 'therapist', '', :active, :at)"
                ),
                {"id": _id(connection, 1), "active": True, "at": "2026-12-07 09:00:00"},
            )
        # When it is upgraded to 0017
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "0017")
        # Then it is marked clinical
        db = Database(database_url, engine)
        assert database_kind(db) == CLINICAL
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM database_kind")).scalar() == 1
    finally:
        engine.dispose()
