"""The room's own settings (`room.toml` in the data folder): its name and music ceiling.

Set once per treatment room by the clinic; a missing file means the defaults. A file that
cannot be used is reported (log and `kapsession doctor`) and the defaults apply, so a typo
never stops a session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from kapsession.domain.clinic_file import ClinicFileError, load_toml, read_text

log = logging.getLogger(__name__)

ROOM_FILE = "room.toml"
DEFAULT_MAX_VOLUME_PCT = 80.0


@dataclass(frozen=True)
class RoomSettings:
    """The room's settings (room.toml): its name and music ceiling."""

    name: str = ""
    max_volume_pct: float = DEFAULT_MAX_VOLUME_PCT  # the music never goes louder than this


class RoomSettingsError(ValueError):
    """room.toml cannot be used; the message says where and what to write."""


class _RoomFileError(ClinicFileError):
    """What the shared clinic file reading says of room.toml (then a RoomSettingsError)."""


def read_room_settings(path: Path) -> RoomSettings:
    """The settings in `path`; RoomSettingsError with file and field when they are wrong."""
    if not path.exists():
        return RoomSettings()
    try:  # bounded like every clinic file: a regular file, its size, its nesting
        data = load_toml(
            read_text(path, _RoomFileError),
            path.name,
            _RoomFileError,
            hints={},
            what="room settings file",
        )
    except _RoomFileError as exc:
        raise RoomSettingsError(str(exc)) from None
    room = data.get("room", {})
    if not isinstance(room, dict) or set(data) - {"room"}:
        raise RoomSettingsError(f"{path.name}: write the settings under a [room] table only")
    unknown = set(room) - {"name", "max_volume_pct"}
    if unknown:
        raise RoomSettingsError(
            f"{path.name}, [room]: unknown setting(s) {', '.join(sorted(unknown))}"
        )
    name = room.get("name", "")
    if not isinstance(name, str):
        raise RoomSettingsError(f"{path.name}, [room].name: write the room name in quotes")
    volume = room.get("max_volume_pct", DEFAULT_MAX_VOLUME_PCT)
    if isinstance(volume, bool) or not isinstance(volume, int | float) or not 0 < volume <= 100:
        raise RoomSettingsError(
            f"{path.name}, [room].max_volume_pct: {volume!r} is not a percentage from 1 to 100"
        )
    return RoomSettings(name=name.strip(), max_volume_pct=float(volume))


def load_room_settings(data_dir: Path) -> RoomSettings:
    """For the app: the settings, or the defaults with the problem logged."""
    try:
        return read_room_settings(data_dir / ROOM_FILE)
    except RoomSettingsError as exc:
        log.warning("room settings not used (defaults apply): %s", exc)
        return RoomSettings()
