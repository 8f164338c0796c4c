"""Where kapsession keeps its files: options beat the environment, which beats the platform."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from kapsession.paths import NotWritable, ensure_writable, resolve_paths

SERVER = "postgresql+psycopg://kap@db.clinic.local/kapsession"
OTHER_SERVER = "postgresql+psycopg://kap@backup.clinic.local/kapsession"


@pytest.mark.parametrize(
    ("option", "env_value", "expected"),
    [
        pytest.param("opt", "env", "opt", id="option-beats-environment"),
        pytest.param(None, "env", "env", id="environment-alone"),
        pytest.param("opt", None, "opt", id="option-alone"),
        pytest.param(None, "", None, id="empty-environment-ignored"),
    ],
)
def test_the_data_dir_comes_from_the_option_then_the_environment(
    tmp_path: Path, option: str | None, env_value: str | None, expected: str | None
) -> None:
    environ = {} if env_value is None else {"KAPSESSION_DATA_DIR": str(tmp_path / env_value)}
    if env_value == "":
        environ["KAPSESSION_DATA_DIR"] = ""
    paths = resolve_paths(data_dir=None if option is None else tmp_path / option, environ=environ)
    if expected is None:
        assert paths.data_dir == Path(platformdirs.user_data_dir("kapsession", appauthor=False))
        assert paths.log_dir == Path(platformdirs.user_log_dir("kapsession", appauthor=False))
        return
    base = tmp_path / expected
    assert paths.data_dir == base
    assert paths.log_dir == base / "logs"
    assert paths.log_file == base / "logs" / "kapsession.log"
    assert paths.backup_dir == base / "backups"
    assert paths.database_url == f"sqlite:///{base / 'kapsession.sqlite3'}"
    assert paths.database_url_overridden is False


def test_a_relative_or_home_data_dir_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_paths(data_dir="rel", environ={}).data_dir == tmp_path / "rel"
    assert resolve_paths(data_dir="~/kap", environ={}).data_dir == tmp_path / "home" / "kap"


@pytest.mark.parametrize(
    ("option", "env_value", "expected"),
    [
        pytest.param(SERVER, OTHER_SERVER, SERVER, id="option-beats-environment"),
        pytest.param(None, OTHER_SERVER, OTHER_SERVER, id="environment-alone"),
        pytest.param(SERVER, None, SERVER, id="option-alone"),
    ],
)
def test_the_database_url_comes_from_the_option_then_the_environment(
    tmp_path: Path, option: str | None, env_value: str | None, expected: str
) -> None:
    environ = {"KAPSESSION_DATA_DIR": str(tmp_path)}
    if env_value is not None:
        environ["KAPSESSION_DATABASE_URL"] = env_value
    paths = resolve_paths(database_url=option, environ=environ)
    assert paths.database_url == expected
    assert paths.database_url_overridden is True
    assert paths.data_dir == tmp_path  # backups and logs still live in the data folder


@pytest.mark.parametrize(
    ("option", "env_value"),
    [(SERVER, None), (None, OTHER_SERVER), (SERVER, OTHER_SERVER), (None, None)],
    ids=["option", "environment", "both", "neither"],
)
def test_training_is_always_a_local_file_of_its_own(
    tmp_path: Path, option: str | None, env_value: str | None
) -> None:
    environ = {} if env_value is None else {"KAPSESSION_DATABASE_URL": env_value}
    paths = resolve_paths(data_dir=tmp_path, database_url=option, training=True, environ=environ)
    assert paths.training is True
    assert paths.database_url == f"sqlite:///{tmp_path / 'kapsession-training.sqlite3'}"
    assert paths.database_url_overridden is False
    clinical = resolve_paths(data_dir=tmp_path, environ={})
    assert clinical.database_url != paths.database_url


def test_resolving_creates_nothing(tmp_path: Path) -> None:
    paths = resolve_paths(data_dir=tmp_path / "new", environ={})
    assert not paths.data_dir.exists() and not paths.log_dir.exists()


def test_the_process_environment_is_used_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAPSESSION_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("KAPSESSION_DATABASE_URL", SERVER)
    paths = resolve_paths()
    assert (paths.data_dir, paths.database_url) == (tmp_path / "env", SERVER)


def test_ensure_writable_creates_the_folder_and_leaves_no_probe(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    ensure_writable(folder)
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_ensure_writable_refuses_a_folder_under_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(NotWritable) as raised:
        ensure_writable(blocker / "data")
    message = str(raised.value)
    assert message.startswith(f"The folder {blocker / 'data'} cannot be written (")
    assert "--data-dir" in message and "KAPSESSION_DATA_DIR" in message
