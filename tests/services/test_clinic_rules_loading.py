"""The clinic's clinic.toml: written with its commented defaults on first start, read when valid,
reported (and the built-in rules used) when not; the services follow what it says."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.filesystems import read_only_folder

from kapsession.domain.clinic_rules import DEFAULT_CLINIC_RULES
from kapsession.domain.clock import FakeClock
from kapsession.domain.roles import StaffRole
from kapsession.paths import resolve_paths
from kapsession.resources import assets_dir
from kapsession.services.clinic_rules import CLINIC_FILE_NAME, load_clinic_rules
from kapsession.services.context import open_context

BUILTIN = assets_dir() / CLINIC_FILE_NAME
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
PRESCRIBERS_TOO = 'schema = 1\n[roles]\nmay_be_therapist = ["therapist", "prescriber"]\n'


def test_the_first_start_writes_the_commented_defaults(tmp_path: Path) -> None:
    # Given a data folder without a clinic.toml
    # When the app opens it
    context = open_context(resolve_paths(data_dir=tmp_path, environ={}), clock=FakeClock(NOW))
    context.close()
    # Then the file is there, a copy of the built-in one with its comments, and it is followed
    written = tmp_path / CLINIC_FILE_NAME
    assert written.read_bytes() == BUILTIN.read_bytes()
    assert "# Who may be a session's monitoring clinician" in written.read_text(encoding="utf-8")
    assert (context.clinic, context.clinic_problem) == (DEFAULT_CLINIC_RULES, None)
    assert list(tmp_path.glob(".*partial")) == []


def test_a_clinics_own_file_is_kept_and_followed(tmp_path: Path) -> None:
    # Given a clinic whose prescribers also give the therapy
    (tmp_path / CLINIC_FILE_NAME).write_text(PRESCRIBERS_TOO, encoding="utf-8")
    # When the app opens the data folder
    context = open_context(resolve_paths(data_dir=tmp_path, environ={}), clock=FakeClock(NOW))
    try:
        service = context.service
        prescriber = service.add_staff("Ana Lima", "prescriber", at=NOW, credentials="NP")
        nurse = service.add_staff("Tom Becker", "nurse", at=NOW, credentials="RN")
        client = service.add_client("Maya", "Fischer", at=NOW)
        # Then a prescriber may be the session's therapist, as the file says
        record = service.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=[client.id],
            modality="individual",
            at=NOW,
            therapist_id=prescriber.id,
            nurse_id=nurse.id,
        )
        assert record.therapist_id == prescriber.id
    finally:
        context.close()
    # And the file was left as the clinic wrote it
    assert (tmp_path / CLINIC_FILE_NAME).read_text(encoding="utf-8") == PRESCRIBERS_TOO
    assert StaffRole.PRESCRIBER in context.clinic.roles.may_be_therapist


def test_a_broken_file_is_reported_with_its_line_and_the_defaults_apply(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a clinic.toml with a role that does not exist
    broken = 'schema = 1\n[roles]\nmay_monitor = ["nurse", "RN"]\n'
    (tmp_path / CLINIC_FILE_NAME).write_text(broken, encoding="utf-8")
    # When the rules are loaded
    rules, problem = load_clinic_rules(BUILTIN, tmp_path)
    # Then the built-in rules apply and the problem says where and what to do
    assert rules == DEFAULT_CLINIC_RULES
    assert problem is not None
    assert problem.startswith('clinic.toml, line 3, roles.may_monitor[1]: "RN" is not a staff role')
    assert f"The built-in role rules apply until {tmp_path / CLINIC_FILE_NAME} is fixed." in problem
    assert "clinic rules" in caplog.text
    # And the clinic's file is not overwritten
    assert (tmp_path / CLINIC_FILE_NAME).read_text(encoding="utf-8") == broken


def test_a_folder_that_cannot_take_the_file_still_gives_the_defaults(tmp_path: Path) -> None:
    # Given a data folder where no file can be written
    with read_only_folder(tmp_path / "data") as folder:
        # When the rules are loaded
        rules, problem = load_clinic_rules(BUILTIN, folder)
    # Then the built-in rules apply, and the problem says the file could not be written
    assert rules == DEFAULT_CLINIC_RULES
    assert problem is not None and "clinic.toml could not be written" in problem
