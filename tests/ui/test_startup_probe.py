"""KAPSESSION_STARTUP_PROBE: the real app starts, shows its window, prints one JSON line, quits.

The process tests run `python -m kapsession --data-dir DIR` offscreen over a data folder in
tmp_path; live sessions are made beforehand through the services, as the app would, and the
data folder is closed before the app starts. `requested_mode` (which values arm the probe) is
checked in this process: with an unknown value the app would stay open, so no process runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import kapsession
from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.ui.startup_probe import MODES, PROBE_ENV, UNTIL_USED, requested_mode

REPO = Path(kapsession.__file__).resolve().parents[1]
PROTOCOL = "sublingual-kap-3h"
WAIT_S = 120  # a guard against a hung app, never a timing assertion


def start_live_sessions(data_dir: Path, count: int) -> list[uuid.UUID]:
    """`count` live sessions in the training database (the probe opens one without anyone
    signing in: issue 18), started a minute apart (the last is the newest); their ids."""
    clock = FakeClock(datetime.now(UTC) - timedelta(minutes=10))
    paths = resolve_paths(data_dir=data_dir, training=True, environ={})
    context = open_context(paths, clock=clock)
    try:
        service = context.service
        therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=clock.now())
        nurse = service.add_staff("Tom Becker", "nurse", at=clock.now())
        started = []
        for number in range(count):
            client = service.add_client("Maya", f"Fischer-{number}", at=clock.now())
            session = service.start_session(
                protocol_key=PROTOCOL,
                client_ids=[client.id],
                modality="individual",
                at=clock.now(),
                therapist_id=therapist.id,
                nurse_id=nurse.id,
            )
            started.append(session.id)
            clock.advance(60)
        assert [s.id for s in service.live_sessions()] == started[::-1]
        return started
    finally:
        context.close()


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of an app started by a test: offscreen, this checkout importable, a home
    of its own in tmp_path, no KAPSESSION_* from outside; then `extra`."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        **extra,
    )
    return env


def run_probe(
    tmp_path: Path, data_dir: Path, mode: str, *, training: bool = False
) -> tuple[int, dict[str, Any], str]:
    """Run the app with the probe armed: its exit code, its JSON line, its stderr;
    `training`: in training mode (no sign-in, issue 18), which `live` needs to open a session."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kapsession",
            "--data-dir",
            str(data_dir),
            *(["--training"] if training else []),
        ],
        cwd=tmp_path,
        env=app_env(tmp_path, **{PROBE_ENV: mode}),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(lines[0]), result.stderr


@pytest.mark.slow
def test_given_a_fresh_data_folder_when_probed_shown_then_the_start_screen_shows_and_it_quits(
    tmp_path: Path,
) -> None:
    # Given a data folder that does not exist yet
    data_dir = tmp_path / "data"
    # When the app starts with the probe set to `shown`
    code, line, stderr = run_probe(tmp_path, data_dir, "shown")
    # Then it showed its window on the start screen, said so, and quit by itself with 0
    assert code == 0, stderr
    assert line == {
        "probe": "shown",
        "shown": True,
        "screen": "start",
        "session": None,
        "title": line["title"],
    }
    assert "kapsession" in line["title"].lower()
    # ... having made its database on the way, as any first start does
    assert (data_dir / "kapsession.sqlite3").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("count", [1, 2], ids=["one-live", "two-live"])
def test_given_live_sessions_when_probed_live_then_the_newest_is_opened_on_the_live_screen(
    tmp_path: Path, count: int
) -> None:
    # Given live sessions in the data folder, the app not yet running
    data_dir = tmp_path / "data"
    started = start_live_sessions(data_dir, count)
    # When the app starts in training mode (no sign-in) with the probe set to `live`
    code, line, stderr = run_probe(tmp_path, data_dir, "live", training=True)
    # Then it opened the newest live session on the live screen, and quit with 0
    assert code == 0, stderr
    assert (line["probe"], line["shown"], line["screen"]) == ("live", True, "live")
    assert line["session"] == str(started[-1])
    # ... without importing the export modules or the Export dialog (nobody exported), nor
    # SQLAlchemy's ORM and the mapped classes (the window reads through the tables), nor what
    # nobody used yet: the corrections, the client's questionnaire screen, the lock screen
    # (training mode has no sign-in)
    assert line["unused_at_live"] == []
    assert {
        "kapsession.services.exports",
        "sqlalchemy.orm",
        "kapsession.ui.correction_dialogs",
        "kapsession.ui.client_questionnaire",
        "kapsession.ui.lock_screen",
    } <= set(UNTIL_USED)
    # ... and the session is still live: the probe only looks
    context = open_context(resolve_paths(data_dir=data_dir, training=True, environ={}))
    try:
        assert sorted(s.id for s in context.service.live_sessions()) == sorted(started)
    finally:
        context.close()


@pytest.mark.slow
def test_given_no_live_session_when_probed_live_then_it_stays_on_start_and_exits_1(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    code, line, stderr = run_probe(tmp_path, data_dir, "live", training=True)
    assert code == 1, stderr
    assert (line["probe"], line["shown"], line["screen"], line["session"]) == (
        "live",
        True,
        "start",
        None,
    )


# --- which values arm the probe --------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({PROBE_ENV: "shown"}, "shown", id="shown"),
        pytest.param({PROBE_ENV: "live"}, "live", id="live"),
        pytest.param({PROBE_ENV: "  live\n"}, "live", id="spaces-around"),
        pytest.param({}, None, id="unset"),
        pytest.param({PROBE_ENV: ""}, None, id="empty"),
        pytest.param({PROBE_ENV: "   "}, None, id="blank"),
    ],
)
def test_a_known_or_absent_value_arms_the_probe_or_not_silently(
    capsys: pytest.CaptureFixture[str], environ: dict[str, str], expected: str | None
) -> None:
    assert requested_mode(environ) == expected
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("value", ["bogus", "SHOWN", "live,shown", "1"])
def test_an_unknown_value_does_not_arm_the_probe_and_says_which_values_work(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    # When the variable holds a value that is not a mode
    mode = requested_mode({PROBE_ENV: value})
    # Then the app runs normally (no probe), and stderr names the variable and its values
    assert mode is None
    err = capsys.readouterr().err
    assert PROBE_ENV in err
    assert all(known in err for known in MODES)


def test_without_an_environ_the_process_environment_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PROBE_ENV, "live")
    assert requested_mode() == "live"
    monkeypatch.delenv(PROBE_ENV)
    assert requested_mode() is None
