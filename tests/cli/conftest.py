"""Command-line test fixtures: the real entry point in a subprocess, confined to tmp_path.

Each run gets its own HOME and XDG folders, so a command that falls back to the platform's
folders can never touch the real user's data. PostgreSQL comes from
KAPSESSION_TEST_POSTGRES_URL: locally its tests are skipped without it, under CI=true they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
PG_URL_ENV = "KAPSESSION_TEST_POSTGRES_URL"

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The data folder the commands are pointed at; it does not exist before the first run."""
    return tmp_path / "data"


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return _confined_env(tmp_path / "home")


def _confined_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        QT_QPA_PLATFORM="offscreen",
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
    )
    return env


@pytest.fixture
def run_cli(tmp_path: Path, cli_env: dict[str, str], data_dir: Path) -> RunCli:
    """`run_cli(*args, env=..., use_data_dir=True)`: `python -m kapsession --data-dir DIR *args`."""

    def run(
        *args: str, env: dict[str, str] | None = None, use_data_dir: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "kapsession"]
        if use_data_dir:
            command += ["--data-dir", str(data_dir)]
        return subprocess.run(
            [*command, *args],
            cwd=tmp_path,
            env={**cli_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    return run


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A data folder populated once per module by the real `demo --populate --json` (seconds
    of work), and what the command printed: for tests about something done on the demo's
    data, each of which copies the folder (the command itself is tested in
    test_cli_commands.py)."""
    work = tmp_path_factory.mktemp("demo")
    folder = work / "data"
    command = [sys.executable, "-m", "kapsession", "--data-dir", str(folder)]
    result = subprocess.run(
        [*command, "demo", "--populate", "--json"],
        cwd=work,
        env=_confined_env(work / "home"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return folder, json_out(result)


def json_out(result: subprocess.CompletedProcess[str]) -> Any:
    """The command's stdout as JSON, after checking it succeeded."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def parse_json() -> Callable[[subprocess.CompletedProcess[str]], Any]:
    return json_out


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """An empty database of its own on the test PostgreSQL server, dropped afterwards."""
    admin_url = os.environ.get(PG_URL_ENV, "").strip()
    if not admin_url:
        reason = f"{PG_URL_ENV} is not set (scripts/test-postgres.sh url gives one)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"PostgreSQL CLI tests must run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    name = f"kc_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    except Exception as exc:
        admin.dispose()
        pytest.fail(f"cannot create a database on {PG_URL_ENV}: {exc}", pytrace=False)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
