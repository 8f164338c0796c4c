"""A statement that fails is logged with its stack and its SQL, never with its parameters:
they hold names, notes and search text."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert, update

from kapsession import logs
from kapsession.records.errors import StorageError
from kapsession.storage import schema

if TYPE_CHECKING:
    from conftest import Clinic


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Logging set up as the app does, into a real file; the root logger restored after."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    path = tmp_path / "logs" / "kapsession.log"
    logs.setup_logging(path)
    try:
        yield path
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


def test_a_failed_statement_is_logged_without_the_names_it_carried(
    clinic: Clinic, log_file: Path
) -> None:
    # Given a live session with a marker, and a client's name in a statement that the database
    # refuses (a saved entry cannot be changed: the append-only trigger)
    live = clinic.new_session()
    at = clinic.now()
    marker = clinic.entries.add_event(live.id, "marker", occurred_at=at, recorded_at=at, label="x")
    secret = "Maya Fischer told us about Ødegård"
    with pytest.raises(StorageError), clinic.db.write_rows("save the marker") as rows:
        rows.execute(
            update(schema.session_event)
            .where(schema.session_event.c.id == marker.id)
            .values(label=secret)
        )
    # When the log file is read
    written = log_file.read_text(encoding="utf-8")
    # Then the failure is there with its stack and SQL, and the name and text are not
    assert "save the marker failed" in written
    assert "UPDATE session_event" in written
    assert "Traceback" in written
    assert "Maya" not in written
    assert "Ødegård" not in written


def test_a_refused_duplicate_is_logged_and_told_without_the_value_it_repeats(
    clinic: Clinic, log_file: Path
) -> None:
    # Given a client with a record number, and a second row with the same number (PostgreSQL
    # names the duplicate value in the DETAIL line of its error)
    record_number = "MRN-58213-FISCHER"
    row = {
        "given_name": "Maya",
        "family_name": "Fischer",
        "record_number": record_number,
        "created_at": clinic.now(),
    }
    with clinic.db.write_rows("save the client") as rows:
        rows.execute(insert(schema.client).values(id=uuid.uuid4(), **row))
    # When the database refuses the second
    with pytest.raises(StorageError) as refused, clinic.db.write_rows("save the client") as rows:
        rows.execute(insert(schema.client).values(id=uuid.uuid4(), **row))
    # Then the log has the failure, its stack and its SQL, and never the repeated value
    written = log_file.read_text(encoding="utf-8")
    assert "save the client failed" in written
    assert "INSERT INTO client" in written
    assert "Traceback" in written
    assert "MRN-58213" not in written
    assert "Fischer" not in written
    # ... and neither has the message staff read (which the screens log as well)
    assert "MRN-58213" not in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
