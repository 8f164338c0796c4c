"""The room's settings file: defaults when missing, clear errors, and the music ceiling used."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kapsession.paths import resolve_paths
from kapsession.services.doctor import Status, run_checks
from kapsession.services.room_settings import (
    DEFAULT_MAX_VOLUME_PCT,
    RoomSettings,
    RoomSettingsError,
    load_room_settings,
    read_room_settings,
)


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    assert read_room_settings(tmp_path / "room.toml") == RoomSettings("", DEFAULT_MAX_VOLUME_PCT)


def test_a_room_file_sets_the_name_and_the_music_ceiling(tmp_path: Path) -> None:
    (tmp_path / "room.toml").write_text('[room]\nname = "Room 2"\nmax_volume_pct = 65\n')
    assert load_room_settings(tmp_path) == RoomSettings("Room 2", 65.0)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[room]\nmax_volume_pct = 140\n", "not a percentage from 1 to 100"),
        ("[room]\nmax_volume_pct = true\n", "not a percentage"),
        ("[room]\nmaxvolume = 50\n", "unknown setting(s) maxvolume"),
        ("[room\n", "room.toml"),
        ("volume = 3\n", "under a [room] table"),
    ],
)
def test_a_wrong_file_is_named_and_the_app_keeps_the_defaults(
    tmp_path: Path, text: str, words: str
) -> None:
    (tmp_path / "room.toml").write_text(text)
    with pytest.raises(RoomSettingsError, match=re.escape(words)):
        read_room_settings(tmp_path / "room.toml")
    assert load_room_settings(tmp_path) == RoomSettings()
    check = next(
        c for c in run_checks(resolve_paths(data_dir=tmp_path)) if c.name == "room settings"
    )
    assert check.status is Status.WARN and "defaults apply" in check.detail
