"""`kapsession history CLIENT [--json]` with a corrected questionnaire (issue 17): the version
that stands, marked corrected with who corrected it and why, and the earlier values kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kapsession.paths import resolve_paths
from kapsession.records.measures import EntryMode
from kapsession.services.context import open_context

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def _history(home: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_DATA_HOME=str(home / "share"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
    )
    return subprocess.run(
        [sys.executable, "-m", "kapsession", "--data-dir", str(data), "--training", "history",
         *args],
        cwd=home, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_a_corrected_self_report_shows_as_it_stands_with_its_earlier_version(
    tmp_path: Path,
) -> None:
    # Given a PHQ-9 of 18 the client filled on the screen, corrected by another nurse to 16
    data, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    context = open_context(resolve_paths(data_dir=data, training=True, environ={}))
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    try:
        service = context.service
        nurse = service.add_staff("Tom Becker", "nurse", at=at, credentials="RN")
        other = service.add_staff("Ana Ruiz", "nurse", at=at, credentials="RN")
        client = service.add_client("Maya", "Fischer", at=at)
        first = service.measures.save(
            client.id, "phq9", dict(enumerate([3, 3, 2, 2, 2, 2, 2, 2, 0], 1)),
            administered_at=at, at=at, by=nurse.id, mode=EntryMode.CLIENT_SCREEN,
        )  # fmt: skip
        service.measures.correct(
            first.record.id, "phq9", dict(enumerate([1, 3, 2, 2, 2, 2, 2, 2, 0], 1)),
            reason="Item 1 tapped by mistake", at=at + timedelta(minutes=5), by=other.id,
        )  # fmt: skip
    finally:
        context.close()

    # When the history is asked for as JSON
    result = _history(home, data, "Fischer", "--json")
    assert result.returncode == 0, result.stderr
    (measure,) = json.loads(result.stdout)["measures"]
    # Then the standing total, marked corrected, by whom and why, with the earlier version
    assert (measure["total"], measure["band"]) == (16, "moderately severe")
    assert measure["corrected"] is True
    assert measure["corrected_by"] == "Ana Ruiz, RN"
    assert measure["correction_reason"] == "Item 1 tapped by mistake"
    assert (measure["entry_mode"], measure["entered_by"]) == ("client_screen", "Tom Becker, RN")
    (earlier,) = measure["versions"]
    assert earlier["id"] == str(first.record.id)
    assert (earlier["total"], earlier["band"]) == (18, "moderately severe")
    assert earlier["answers"] == [3, 3, 2, 2, 2, 2, 2, 2, 0]
    assert earlier["recorded_by"] == "Tom Becker, RN"

    # And the table says it in plain words
    table = _history(home, data, "Fischer")
    assert table.returncode == 0, table.stderr
    (line,) = [row for row in table.stdout.splitlines() if row.startswith("PHQ-9")]
    assert line.endswith(
        "client self-report on the screen, handed over by Tom Becker, RN "
        "(corrected by Ana Ruiz, RN; was 18)"
    )


def test_an_uncorrected_questionnaire_has_no_versions(tmp_path: Path) -> None:
    # Given a PHQ-9 entered from paper and never corrected
    data, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    context = open_context(resolve_paths(data_dir=data, training=True, environ={}))
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    try:
        service = context.service
        nurse = service.add_staff("Tom Becker", "nurse", at=at, credentials="RN")
        client = service.add_client("Maya", "Fischer", at=at)
        service.measures.save(
            client.id, "phq9", dict.fromkeys(range(1, 10), 1), administered_at=at, at=at,
            by=nurse.id,
        )  # fmt: skip
    finally:
        context.close()
    # When the history is asked for as JSON
    result = _history(home, data, "Fischer", "--json")
    assert result.returncode == 0, result.stderr
    (measure,) = json.loads(result.stdout)["measures"]
    # Then it is not marked corrected and has no earlier versions
    assert measure["corrected"] is False and measure["versions"] == []
    assert measure["corrected_by"] is None and measure["correction_reason"] is None
