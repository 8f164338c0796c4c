"""`kapsession backup` and `kapsession restore` (issue 19), end to end as a clinic would meet
them: a damaged database found by `doctor`, which names the newest good backup; the restore puts
it back, checked, and keeps the damaged file; a restore waits for no open app and refuses what
is not a good kapsession backup. Real subprocesses on a real data folder."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QLockFile
from support.damage import damage_an_index

from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.storage.backups import REPLACED_FOLDER

RunCli = Callable[..., subprocess.CompletedProcess[str]]  # the `run_cli` fixture (conftest)


def json_out(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The command's JSON answer, after checking it succeeded."""
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert isinstance(answer, dict)
    return answer


def add_clients(data_dir: Path, *names: str) -> None:
    context = open_context(resolve_paths(data_dir=data_dir), daily_backup=False)
    try:
        for name in names:
            context.service.clients.add(name, "Okafor", at=datetime.now(UTC))
    finally:
        context.close()


def client_names(database: Path) -> list[str]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT given_name FROM client ORDER BY given_name").fetchall()
        return [row[0] for row in rows]
    finally:
        connection.close()


def check(doctor: dict[str, object], name: str) -> dict[str, str]:
    checks = doctor["checks"]
    assert isinstance(checks, list)
    (found,) = [c for c in checks if c["name"] == name]
    return found


def test_a_damaged_database_is_named_by_doctor_and_restored_from_its_backup(
    run_cli: RunCli, data_dir: Path
) -> None:
    # Given a backup made with Lena and Jonah, then Ama added, then the database damaged
    add_clients(data_dir, *(f"Client{i:03d}" for i in range(60)), "Lena", "Jonah")
    made = Path(json_out(run_cli("backup", "--json"))["backup"])
    add_clients(data_dir, "Ama")
    database = data_dir / "kapsession.sqlite3"
    damage_an_index(database)
    damaged = database.read_bytes()
    # When doctor runs
    doctor = run_cli("doctor", "--json")
    # Then it fails on the database, naming the backup to restore and how
    assert doctor.returncode == 1
    detail = check(json.loads(doctor.stdout), "database")
    assert detail["status"] == "fail"
    assert "is damaged" in detail["detail"] and f"kapsession restore {made}" in detail["detail"]
    # When that backup is restored
    restored = json_out(run_cli("restore", str(made), "--json"))
    # Then the database is the backup's, it passes doctor, and the damaged file is kept
    assert "Lena" in client_names(database) and "Ama" not in client_names(database)
    replaced = Path(restored["replaced"])
    assert replaced.parent == data_dir / "backups" / REPLACED_FOLDER
    assert replaced.read_bytes() == damaged
    after = run_cli("doctor", "--json")
    assert check(json.loads(after.stdout), "database")["status"] == "ok"
    # and the app's commands open it again
    assert run_cli("sessions").returncode == 0


def test_a_restore_waits_for_no_open_app(run_cli: RunCli, data_dir: Path) -> None:
    # Given a backup, and the app holding the data folder (its lock, as an open window does)
    add_clients(data_dir, "Lena")
    made = Path(json_out(run_cli("backup", "--json"))["backup"])
    before = (data_dir / "kapsession.sqlite3").read_bytes()
    lock = QLockFile(str(resolve_paths(data_dir=data_dir).lock_file))
    assert lock.tryLock(0)
    try:
        # When a restore is asked for
        result = run_cli("restore", str(made))
    finally:
        lock.unlock()
    # Then it is refused in one line saying what to do, and nothing changed
    assert result.returncode == 1
    assert "kapsession is open on this data folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert (data_dir / "kapsession.sqlite3").read_bytes() == before


def test_a_restore_refuses_what_is_not_a_good_backup(
    run_cli: RunCli, data_dir: Path, tmp_path: Path
) -> None:
    add_clients(data_dir, *(f"Client{i:03d}" for i in range(60)))
    made = Path(json_out(run_cli("backup", "--json"))["backup"])
    database = data_dir / "kapsession.sqlite3"
    before = database.read_bytes()
    stranger = tmp_path / "notes.sqlite3"
    connection = sqlite3.connect(stranger)
    connection.execute("CREATE TABLE note (text TEXT)")
    connection.commit()
    connection.close()
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(made.read_bytes())
    damage_an_index(damaged)
    cases = {
        str(tmp_path / "missing.sqlite3"): "is not a file",
        str(data_dir): "is not a file",
        str(stranger): "not a kapsession database",
        str(database): "is the database itself",
        str(damaged): "fails its check",
    }
    for backup, said in cases.items():
        result = run_cli("restore", backup)
        assert result.returncode == 1, backup
        assert said in result.stderr, (backup, result.stderr)
        assert "Traceback" not in result.stderr
        assert database.read_bytes() == before, backup
    assert not (data_dir / "backups" / REPLACED_FOLDER).exists()


def test_a_backup_now_is_copied_to_the_second_location_or_says_why_not(
    run_cli: RunCli, data_dir: Path, tmp_path: Path
) -> None:
    # Given clinic.toml naming a second location that is there
    add_clients(data_dir, "Lena")
    usb = tmp_path / "usb"
    usb.mkdir()
    clinic = data_dir / "clinic.toml"
    default = clinic.read_text(encoding="utf-8")
    clinic.write_text(default + f'second_location = "{usb}"\n', encoding="utf-8")
    # When a backup is made, Then it says where, and the copy is in the laptop's folder there
    result = run_cli("backup")
    assert result.returncode == 0, result.stderr
    answer = json_out(run_cli("backup", "--json"))
    copy = Path(str(answer["copy"]))
    assert copy.parent.parent == usb and copy.name == Path(answer["backup"]).name
    assert client_names(copy) == ["Lena"]
    assert "copied to" in result.stdout and result.stderr == ""
    # Given the second location unplugged
    usb.rename(tmp_path / "unplugged")
    # When a backup is made, Then it is made here, with a one-line warning, and exit 0
    result = run_cli("backup")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Backed up to ")
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("kapsession: the backup was made, but the second backup location")
    assert "is not there" in warning and not usb.exists()
