"""`kapsession history CLIENT [--json]`: a client's sessions over all courses, oldest first,
found by record number, name or id prefix; a client that cannot be told apart is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kapsession.paths import resolve_paths
from kapsession.services.context import open_context

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
EXIT_PROBLEM = 1

History = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    """`history(*args)`: `kapsession --training history *args` on demo data written once
    (Maya Fischer's three signed sessions, a couples session of Jonah and Lena Okafor, ...)."""
    home = tmp_path_factory.mktemp("home")
    data = tmp_path_factory.mktemp("data")
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

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kapsession", "--data-dir", str(data), "--training", *args],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    populated = run("demo", "--populate")
    assert populated.returncode == 0, populated.stderr
    add_maya_phq9s(data)
    return lambda *args: run("history", *args)


def add_maya_phq9s(data: Path) -> None:
    """Two PHQ-9s of Maya Fischer's entered from paper, 18 then 8 (a response), and a GAD-7 with
    item 4 unanswered."""
    context = open_context(resolve_paths(data_dir=data, training=True, environ={}))
    try:
        service = context.service
        (maya,) = [c for c in service.clients.search("Fischer") if c.given_name == "Maya"]
        nurse = service.staff.active()[0]
        first = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        for weeks, answers in ((0, [2] * 9), (4, [1] * 8 + [0])):
            at = first + timedelta(weeks=weeks)
            service.measures.save(
                maya.id, "phq9", dict(enumerate(answers, 1)), administered_at=at, at=at, by=nurse.id
            )
        gad = dict(enumerate([1, 1, 1, None, 1, 1, 1], 1))
        service.measures.save(maya.id, "gad7", gad, administered_at=first, at=first, by=nurse.id)
    finally:
        context.close()


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_table_lists_the_clients_sessions_oldest_first(history: History) -> None:
    # When Maya's history is asked for by record number
    result = history("DEMO-0001")
    # Then it names her, lists her three signed sessions under a header, then her
    # questionnaires
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Maya Fischer  DEMO-0001  3 sessions in 1 course, oldest first"
    assert lines[1].split()[:4] == ["DATE", "COURSE", "NO", "PROTOCOL"]
    rows = lines[2:5]
    assert len(rows) == 3
    assert [row.split()[3] for row in rows] == ["1", "2", "3"]  # "Course 1" takes two words
    assert all("Sublingual KAP, 3 hours" in row and " signed " in row for row in rows)
    assert sorted(row[:10] for row in rows) == [row[:10] for row in rows]
    assert lines[5:7] == ["", "Questionnaires, oldest first"]
    assert lines[7].split()[:2] == ["QUESTIONNAIRE", "DATE"]
    measures = lines[8:]
    assert len(measures) == 3
    assert measures[0].startswith("PHQ-9  2026-11-02  18  moderately severe  -  ")
    assert measures[1].startswith("PHQ-9  2026-11-30  8  mild  -10 from 18: response  ")
    assert measures[2].startswith("GAD-7  2026-11-02  incomplete  item 4 unanswered  -  ")
    assert "Traceback" not in result.stderr


def test_json_has_every_figure_of_every_session(history: History) -> None:
    # When Maya's history is asked for as JSON
    made = _json(history("DEMO-0001", "--json"))
    # Then it is her, with her three sessions oldest first and their figures
    assert made["client"]["name"] == "Maya Fischer"
    assert made["client"]["record_number"] == "DEMO-0001"
    assert made["courses"] == 1
    phq = [m for m in made["measures"] if m["instrument"] == "phq9"]
    assert [(m["total"], m["band"]) for m in phq] == [(18, "moderately severe"), (8, "mild")]
    assert phq[1]["change"] == {"difference": -10, "label": "response"}
    (gad,) = [m for m in made["measures"] if m["instrument"] == "gad7"]
    assert gad["total"] is None and gad["missing_items"] == [4] and gad["answers"][3] is None
    sessions = made["sessions"]
    assert [s["session_number"] for s in sessions] == [1, 2, 3]
    assert [s["started_at"] for s in sessions] == sorted(s["started_at"] for s in sessions)
    for session in sessions:
        assert session["status"] == "signed" and session["route"] == "sublingual"
        assert session["dose_total_mg"] > 0 and session["dose_count"] == 1
        assert session["baseline_systolic_mmhg"] and session["peak_systolic_mmhg"]
        assert session["ready_minutes_after_first_dose"] > 0
    # the demo's second session has a blood pressure over the alert line at T+40
    assert [s["alerts"] for s in sessions] == [0, 1, 0]
    assert sessions[1]["peak_systolic_mmhg"] >= 180


@pytest.mark.parametrize(
    "how",
    [
        pytest.param(lambda made: "maya fischer", id="name"),
        pytest.param(lambda made: "Fischer", id="family-name"),
        pytest.param(lambda made: made["client"]["id"][:8], id="id-prefix"),
    ],
)
def test_the_client_is_found_by_name_or_id_prefix(
    history: History, how: Callable[[dict[str, Any]], str]
) -> None:
    made = _json(history("DEMO-0001", "--json"))
    assert _json(history(how(made), "--json")) == made


@pytest.mark.parametrize(
    ("client", "message"),
    [
        pytest.param(
            "Okafor",
            "More than one client matches 'Okafor': Jonah Okafor (DEMO-0002), Lena Okafor "
            "(DEMO-0003). Give the record number.",
            id="ambiguous",
        ),
        pytest.param("Nobody", "No client matches 'Nobody'.", id="unknown"),
    ],
)
def test_a_client_that_cannot_be_told_apart_is_refused(
    history: History, client: str, message: str
) -> None:
    result = history(client)
    assert result.returncode == EXIT_PROBLEM
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_couples_session_shows_in_each_partners_history(history: History) -> None:
    jonah, lena = _json(history("DEMO-0002", "--json")), _json(history("DEMO-0003", "--json"))
    (his,), (hers,) = jonah["sessions"], lena["sessions"]
    assert his["session_id"] == hers["session_id"]
    assert his["modality"] == hers["modality"] == "couples"
    assert his["participant_id"] != hers["participant_id"]
    assert (his["dose_total_mg"], hers["dose_total_mg"]) == (300.0, 200.0)
