"""The command line as other tools and people use it: `python -m kapsession ...` in a subprocess."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import kapsession
from kapsession.storage.database import head_revision

pytestmark = pytest.mark.slow

CLINICAL_DB = "kapsession.sqlite3"
TRAINING_DB = "kapsession-training.sqlite3"
CHECK_NAMES = [
    "data folder",
    "log folder",
    "free disk",
    "database",
    "backups",
    "protocols",
    "room settings",
    "libVLC",
    "audio output",
    "file permissions",
]
DEMO_KEYS = {"id", "client", "participants", "protocol", "route", "modality"}


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


def test_version_prints_the_package_version(run_cli) -> None:
    result = run_cli("--version", use_data_dir=False)
    assert result.returncode == 0
    assert result.stdout == f"kapsession {kapsession.__version__}\n"


@pytest.mark.parametrize("where", ["before", "after"], ids=["option-first", "command-first"])
def test_sessions_on_an_empty_database(run_cli, parse_json, data_dir: Path, where: str) -> None:
    # When `sessions` runs on a new data folder (the option before or after the command)
    if where == "before":
        result = run_cli("sessions")
    else:
        result = run_cli("sessions", "--data-dir", str(data_dir), use_data_dir=False)
    # Then it says there are none, having created and migrated the database there
    assert (result.returncode, result.stdout) == (0, "No sessions yet.\n")
    assert_no_traceback(result)
    assert (data_dir / CLINICAL_DB).is_file()
    assert parse_json(run_cli("sessions", "--json")) == []
    # ... and it logged to <data-dir>/logs/kapsession.log
    log = (data_dir / "logs" / "kapsession.log").read_text(encoding="utf-8")
    assert f"database schema at {head_revision()}" in log


ROUTES = ("sublingual", "intramuscular", "intravenous", "intranasal")


def test_demo_populate_writes_only_the_training_database(run_cli, parse_json, data_dir) -> None:
    # When the training database is populated
    made = parse_json(run_cli("demo", "--populate", "--json"))
    # Then it prints each session it wrote, oldest first: the course client's full course too
    assert len(made) >= 5 + 14
    assert [s["protocol"] for s in made[:4]] == [
        "consultation", "preparation", "sublingual-kap-3h", "integration",
    ]  # fmt: skip
    for session in made:
        assert set(session) == DEMO_KEYS
        assert session["participants"][0] == session["client"]
        if session["protocol"] in ("consultation", "preparation", "integration"):
            assert session["route"] == ""  # the demo course's sessions without a dose
        else:
            assert session["route"] in ROUTES
    assert {s["modality"] for s in made} == {"individual", "couples"}
    # ... and they are the sessions of the training database: all ended, all but the latest
    # signed (the latest waits for its signature, to practise signing)
    listed = parse_json(run_cli("--training", "sessions", "--json"))
    assert {s["id"] for s in listed} == {s["id"] for s in made}
    status = {s["id"]: s["status"] for s in listed}
    assert [status[s["id"]] for s in made] == ["signed"] * (len(made) - 1) + ["completed"]
    by_id = {s["id"]: s for s in listed}
    for session in made:
        assert by_id[session["id"]]["participants"] == session["participants"]
        assert by_id[session["id"]]["protocol"] == session["protocol"]
    # ... while the clinical database was never touched
    assert (data_dir / TRAINING_DB).is_file()
    assert not (data_dir / CLINICAL_DB).exists()
    assert parse_json(run_cli("sessions", "--json")) == []


def test_demo_populate_prints_one_line_per_session(run_cli) -> None:
    result = run_cli("demo", "--populate")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) >= 5
    assert any("couples" in line and "Jonah Okafor, Lena Okafor" in line for line in lines)


def test_doctor_json_on_a_fresh_folder(run_cli, parse_json) -> None:
    report = parse_json(run_cli("doctor", "--json"))
    assert set(report) == {"ok", "training", "checks"}
    assert (report["ok"], report["training"]) == (True, False)
    assert [c["name"] for c in report["checks"]] == CHECK_NAMES
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail"}
        assert check["status"] in ("ok", "warn", "fail") and check["detail"]
    database = report["checks"][3]
    assert database["status"] == "warn" and "does not exist yet" in database["detail"]
    training = parse_json(run_cli("doctor", "--json", "--training"))
    assert training["training"] is True
    assert TRAINING_DB in training["checks"][3]["detail"]


def test_a_database_from_a_newer_kapsession_is_refused_with_the_reason(
    run_cli, data_dir: Path
) -> None:
    # Given a database a newer kapsession has upgraded
    assert run_cli("sessions").returncode == 0
    with sqlite3.connect(data_dir / CLINICAL_DB) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.close()
    # Then doctor fails, saying why and what to do
    result = run_cli("doctor")
    assert result.returncode == 1
    assert (
        f"[FAIL] database: written by a newer kapsession (schema 9999_future, this version "
        f"knows {head_revision()}); install the newer version" in result.stdout
    )
    assert result.stdout.endswith("Problems found.\n")
    # ... and the other commands refuse to open it, leaving it unchanged
    sessions = run_cli("sessions")
    assert sessions.returncode == 1
    assert "written by a newer version of kapsession" in sessions.stderr
    assert_no_traceback(sessions)
    with sqlite3.connect(data_dir / CLINICAL_DB) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("9999_future",)
        ]
    con.close()


def test_the_data_dir_can_come_from_the_environment(run_cli, parse_json, tmp_path: Path) -> None:
    from_env = tmp_path / "from-env"
    from_option = tmp_path / "from-option"
    env = {"KAPSESSION_DATA_DIR": str(from_env)}
    # When only the environment names a folder, it is used like --data-dir
    parse_json(run_cli("demo", "--populate", "--json", env=env, use_data_dir=False))
    assert (from_env / TRAINING_DB).is_file()
    assert (from_env / "logs" / "kapsession.log").is_file()
    listed = parse_json(run_cli("--training", "sessions", "--json", env=env, use_data_dir=False))
    assert listed
    # When both are given, the option wins
    result = run_cli("sessions", "--data-dir", str(from_option), env=env, use_data_dir=False)
    assert result.returncode == 0
    assert (from_option / CLINICAL_DB).is_file() and not (from_env / CLINICAL_DB).exists()
    # ... and nothing was written under HOME
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_sqlite_database_url(run_cli, parse_json, data_dir: Path, tmp_path: Path, how) -> None:
    # Given a database URL pointing at a file outside the data folder
    elsewhere = tmp_path / "shared" / "clinic.sqlite3"
    url = f"sqlite:///{elsewhere}"
    args, env = (
        (["--database-url", url], {}) if how == "option" else ([], {"KAPSESSION_DATABASE_URL": url})
    )
    # When the clinical and the training commands run
    assert parse_json(run_cli(*args, "sessions", "--json", env=env)) == []
    assert parse_json(run_cli(*args, "demo", "--populate", "--json", env=env))
    # Then the clinical database is that file, and training stays a local file of its own
    assert elsewhere.is_file()
    assert not (data_dir / CLINICAL_DB).exists()
    assert (data_dir / TRAINING_DB).is_file()
    assert parse_json(run_cli(*args, "sessions", "--json", env=env)) == []
    doctor = parse_json(run_cli(*args, "doctor", "--json", env=env))
    assert str(elsewhere) in doctor["checks"][3]["detail"]


@pytest.mark.postgres
def test_a_postgresql_database_url(
    run_cli, parse_json, data_dir: Path, fresh_postgres_url: str
) -> None:
    url = fresh_postgres_url
    password = url.split("://", 1)[1].split("@", 1)[0].partition(":")[2]
    # When the commands run against an empty database on the clinic's server
    assert parse_json(run_cli("--database-url", url, "sessions", "--json")) == []
    report = parse_json(run_cli("--database-url", url, "doctor", "--json"))
    # Then it was migrated there, and doctor reports it without the password
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert checks["database"]["status"] == "ok"
    assert f"schema {head_revision()}, 0 sessions" in checks["database"]["detail"]
    assert checks["backups"] == {
        "name": "backups",
        "status": "warn",
        "detail": "not checked: the server's own backups apply",
    }
    if password:
        assert password not in str(report)
    assert not (data_dir / CLINICAL_DB).exists()
    # ... and training never goes to the server
    made = parse_json(run_cli("--database-url", url, "demo", "--populate", "--json"))
    assert made and (data_dir / TRAINING_DB).is_file()
    assert parse_json(run_cli("--database-url", url, "sessions", "--json")) == []


@pytest.mark.parametrize(
    "args",
    [["frobnicate"], ["sessions", "--status", "lost"], ["demo", "--speed", "0"]],
    ids=["unknown-command", "bad-choice", "bad-speed"],
)
def test_a_usage_error_exits_2_with_usage(run_cli, data_dir: Path, args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: kapsession")
    assert "error:" in result.stderr
    assert_no_traceback(result)
    assert not data_dir.exists()


@pytest.mark.parametrize(
    "command",
    [["sessions"], ["sessions", "--json"], ["demo", "--populate"], ["doctor"]],
    ids=["sessions", "sessions-json", "demo-populate", "doctor"],
)
def test_a_data_dir_that_is_a_file_exits_1_with_a_clear_message(
    run_cli, tmp_path: Path, command: list[str]
) -> None:
    # Given a --data-dir that is a regular file
    not_a_folder = tmp_path / "kapsession-data.txt"
    not_a_folder.write_text("notes\n", encoding="utf-8")
    # When a command runs on it
    result = run_cli("--data-dir", str(not_a_folder), *command, use_data_dir=False)
    # Then it exits 1, saying which folder cannot be written and how to choose another
    assert result.returncode == 1
    output = result.stdout if command == ["doctor"] else result.stderr
    assert f"The folder {not_a_folder} cannot be written" in output
    assert "--data-dir" in output
    assert_no_traceback(result)
    assert not_a_folder.read_text(encoding="utf-8") == "notes\n"
    if command != ["doctor"]:
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("url", "says", "stack_in_log"),
    [
        pytest.param("not a url", "is not a URL kapsession can use", False, id="not-a-url"),
        pytest.param(
            "nosuchdb://kap:s3cret@x/y",
            "nosuchdb://kap:***@x/y cannot be used",
            False,
            id="dialect",
        ),
        pytest.param(
            "postgresql+psycopg://kap:s3cret@127.0.0.1:9/kapsession",
            "Connection refused",
            True,
            id="server-down",
        ),
    ],
)
def test_a_database_url_that_cannot_be_used_exits_1_without_a_stack_trace(
    run_cli, data_dir: Path, url: str, says: str, stack_in_log: bool
) -> None:
    result = run_cli("--database-url", url, "sessions")
    assert result.returncode == 1
    assert says.lower() in result.stderr.lower()
    assert_no_traceback(result)
    assert "s3cret" not in result.stderr
    # ... while the log file keeps the details (and the stack of a driver error) for IT
    log = (data_dir / "logs" / "kapsession.log").read_text(encoding="utf-8")
    assert "cannot open data" in log and "s3cret" not in log
    assert ("Traceback" in log) is stack_in_log
