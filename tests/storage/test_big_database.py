"""The benchmarks' big database (benchmarks/big_database.py) is a valid kapsession database:
built small here, then read through the app's own repositories, services and export."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kapsession.records.notes import PARTS, SignatureCheck
from kapsession.resources import protocols_dir
from kapsession.services.export_content import gather
from kapsession.services.protocols import ProtocolCatalog
from kapsession.services.session_service import SessionService
from kapsession.storage.client_history import ClientHistoryRepository
from kapsession.storage.database import Database, head_revision, open_database
from kapsession.storage.signatures import SignatureRepository

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SESSIONS, HISTORY = 60, 14


def _load() -> ModuleType:
    """benchmarks/big_database.py, imported as the benchmarks import it (by its file)."""
    if "big_database" not in sys.modules:
        path = REPO_ROOT / "benchmarks" / "big_database.py"
        spec = importlib.util.spec_from_file_location("big_database", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["big_database"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["big_database"]


big_database = _load()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("big")
    return big_database.build(
        folder / "big.sqlite3",
        sessions=SESSIONS,
        history_sessions=HISTORY,
        live_session=True,
        now=NOW,
    )


@pytest.fixture
def db(built: Any) -> Iterator[Database]:
    database = open_database(built.url, backup_dir=None)
    try:
        yield database
    finally:
        database.close()


@pytest.fixture
def service(db: Database) -> SessionService:
    return SessionService(db, ProtocolCatalog(protocols_dir()))


def test_it_is_at_the_newest_schema_with_the_sessions_asked_for(
    built: Any, db: Database, service: SessionService
) -> None:
    # Given the built database, opened as the app opens it
    assert db.schema_status().current == head_revision()
    # Then it holds the sessions asked for (the live one among them), almost all signed
    summaries = service.sessions.summaries(limit=10_000)
    assert built.sessions == service.sessions.count() == len(summaries) == SESSIONS
    assert Counter(s.status for s in summaries) == {
        "signed": SESSIONS - 1 - big_database.UNSIGNED_RECENT,
        "completed": big_database.UNSIGNED_RECENT,
        "live": 1,
    }
    # And the ended unsigned ones are the most recent past sessions, waiting to be signed
    waiting = service.ended_sessions(NOW)
    assert [s.status for s in waiting[: big_database.UNSIGNED_RECENT]] == ["completed"] * 5
    assert all(s.ended_at is not None and s.ended_at < NOW for s in summaries if s.status != "live")


def test_every_signed_session_verifies_against_what_was_signed(
    db: Database, service: SessionService
) -> None:
    # Given every signed session; When its signatures are checked against the record
    signatures = SignatureRepository(db)
    signed = service.sessions.summaries(status="signed", limit=10_000)
    results = {s.id: signatures.verify(s.id) for s in signed}
    # Then both parts of every one hold exactly what was signed, by the signer's key
    assert len(results) == SESSIONS - 1 - big_database.UNSIGNED_RECENT
    valid = dict.fromkeys(PARTS, SignatureCheck.VALID)
    assert all(r == valid for r in results.values()), results


def test_a_signed_session_exports_with_its_whole_record(
    built: Any, db: Database, service: SessionService
) -> None:
    # Given one of the history client's signed sessions
    history = ClientHistoryRepository(db).history(built.history_client_id)
    signed = next(
        s for s in history.sessions if s.status == "signed" and s.modality == "individual"
    )
    # When the export gathers it
    content = gather(db, signed.session_id, exported_at=NOW)
    # Then it is that client's complete, signed record
    assert content.client_name == "Maya Fischer"
    assert not content.draft
    assert len(content.standing_doses) >= 1
    assert len(content.standing_observations) >= 7
    assert len(content.standing_discharges) == 1
    assert content.session_note is not None
    assert len(content.note_entries) >= 8
    assert content.first_dose_at is not None


def test_the_history_client_has_courses_of_six_over_two_years(built: Any, db: Database) -> None:
    # When the history client's course history is read
    history = ClientHistoryRepository(db).history(built.history_client_id)
    sessions = history.sessions
    # Then it has every session asked for, in courses of six numbered from 1, one couples
    assert len(sessions) == HISTORY
    assert [s.session_number for s in sessions] == [1, 2, 3, 4, 5, 6] * 2 + [1, 2]
    assert history.courses == 3
    assert {s.modality for s in sessions} == {"individual", "couples"}
    # And every past session has its dose, vitals, discharge and minutes to ready
    assert all(s.dose_total_mg and s.peak_systolic_mmhg and s.lowest_spo2_pct for s in sessions)
    assert all(s.ready_minutes_after_first_dose for s in sessions)
    assert sessions[-1].held_at < NOW < sessions[0].held_at + timedelta(days=740)


def test_the_live_session_is_running_with_a_baseline_and_a_dose(
    built: Any, service: SessionService
) -> None:
    # When the live session is read as the live screen reads it
    snapshot = service.read_state(built.live_session_id)
    # Then it started half an hour ago, and has its baseline reading and its dose
    record = snapshot.record
    assert record.status == "live" and record.ended_at is None
    assert record.started_at == NOW - timedelta(minutes=30)
    assert len(snapshot.doses.standing) == 1 and len(snapshot.observations.standing) == 1
    assert snapshot.observations.standing[0].checkin_key == "baseline"
    participant = record.participants[0].id
    assert snapshot.first_doses[participant] == NOW - timedelta(minutes=5)
    assert snapshot.discharged == {}


def _rows(path: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table's column names and rows (sorted), read with plain sqlite3."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = "SELECT name FROM sqlite_master WHERE type = 'table'"
        found = {}
        for (table,) in connection.execute(names).fetchall():
            columns = [c[1] for c in connection.execute(f'PRAGMA table_info("{table}")')]
            found[table] = (
                columns,
                sorted(connection.execute(f'SELECT * FROM "{table}"'), key=repr),
            )
        return found
    finally:
        connection.close()


RANDOM_COLUMNS = {
    "staff": ("pin_hash",),
    "staff_signing_key": ("public_key", "sealed_private_key", "salt"),  # issue 18
    "signature": ("public_key", "signature"),
}


def _without(columns: list[str], rows: list[tuple[Any, ...]], name: str) -> list[tuple[Any, ...]]:
    index = columns.index(name)
    return [row[:index] + row[index + 1 :] for row in rows]


def test_rows_are_stored_as_sqlalchemy_core_would_store_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same clinic built twice: values converted for the driver (the fast way it is
    # built) and through SQLAlchemy Core's own bind processing
    options = {"sessions": 20, "history_sessions": 6, "live_session": True, "now": NOW}
    big_database.build(tmp_path / "driver.sqlite3", **options)
    monkeypatch.setattr(big_database, "CORE_BINDS", True)
    big_database.build(tmp_path / "core.sqlite3", **options)
    driver, core = _rows(tmp_path / "driver.sqlite3"), _rows(tmp_path / "core.sqlite3")
    # Then every table holds the same values, byte for byte, with known exceptions
    assert set(driver) == set(core)
    for table, (columns, stored) in driver.items():
        expected = core[table][1]
        assert len(stored) == len(expected), table
        # each build hashes the PIN with a salt of its own, and makes keys of its own
        remaining = columns
        for name in RANDOM_COLUMNS.get(table, ()):
            stored, expected = (
                _without(remaining, stored, name),
                _without(remaining, expected, name),
            )
            remaining = [c for c in remaining if c != name]
        stored, expected = sorted(stored, key=repr), sorted(expected, key=repr)
        if table == "note":  # a note without sections: Core writes an explicit None as JSON
            # 'null', where the app leaves SQL NULL, as the driver values do
            index = columns.index("sections")
            expected = [
                (*row[:index], None if row[index] == "null" else row[index], *row[index + 1 :])
                for row in expected
            ]
        assert stored == expected, table


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        pytest.param({"history_sessions": 0}, ValueError, "between 1 and 9", id="no-history"),
        pytest.param({"history_sessions": 10}, ValueError, "between 1 and 9", id="too-long"),
    ],
)
def test_impossible_sizes_are_refused(
    tmp_path: Path, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    path = tmp_path / "refused.sqlite3"
    with pytest.raises(error, match=message):
        big_database.build(path, sessions=10, live_session=True, **options)
    assert not path.exists()


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "kept.sqlite3"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="already exists"):
        big_database.build(path, sessions=10, history_sessions=2)
    assert path.read_bytes() == b"precious"
