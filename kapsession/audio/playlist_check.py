"""Checking a playlist before a session: every track found, readable and measured.

Backs `kapsession playlist check`. It probes each file (libVLC when present, else file
headers, see probe.py), so it blocks on disk: run it off the UI thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kapsession.audio.playlist import Playlist, PlaylistEntry, read_playlist
from kapsession.audio.probe import TrackProbe, TrackProblem, probe_track

_WINDOWS_LOCATION = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\|file://[^/])|^file:///[A-Za-z]:", re.I)


@dataclass(frozen=True)
class EntryCheck:
    """One playlist entry: its measured duration, or what is wrong with it."""

    entry: PlaylistEntry
    duration_ms: int | None  # measured from the file; None if it could not be measured
    problem: TrackProblem | None = None
    message: str = ""  # for a person: what is wrong and what to do; "" when fine

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class PlaylistCheck:
    playlist: Playlist
    entries: tuple[EntryCheck, ...]

    @property
    def total_duration_ms(self) -> int:
        """Sum of the measured durations of the tracks that will play."""
        return sum(check.duration_ms or 0 for check in self.entries if check.ok)

    @property
    def problems(self) -> tuple[EntryCheck, ...]:
        return tuple(check for check in self.entries if not check.ok)

    @property
    def unmeasured(self) -> tuple[EntryCheck, ...]:
        """Playable entries whose length could not be measured (e.g. MP3 without libVLC)."""
        return tuple(check for check in self.entries if check.ok and check.duration_ms is None)

    @property
    def ok(self) -> bool:
        """At least one track, every track playable, and nothing left out."""
        return bool(self.entries) and not self.problems and not self.playlist.left_out


def check_playlist(
    path: Path, *, probe: Callable[[Path], TrackProbe] = probe_track
) -> PlaylistCheck:
    """Read the playlist at `path` and probe every entry; PlaylistError if it cannot be read.

    A file listed several times is probed once.
    """
    playlist = read_playlist(path)
    probes: dict[Path, TrackProbe] = {}
    checks = []
    for entry in playlist.entries:
        if entry.path is None:
            checks.append(EntryCheck(entry, None, TrackProblem.NOT_LOCAL, _not_local(entry)))
            continue
        if entry.path not in probes:
            probes[entry.path] = probe(entry.path)
        found = probes[entry.path]
        checks.append(EntryCheck(entry, found.duration_ms, found.problem, found.message))
    return PlaylistCheck(playlist, tuple(checks))


def _not_local(entry: PlaylistEntry) -> str:
    if _WINDOWS_LOCATION.match(entry.location):
        return (
            f"{entry.location} is a Windows or network path and is not on this computer; "
            "copy the music next to the playlist and list it by a relative path"
        )
    return (
        f"{entry.location} is not a file on this laptop (a web address?); "
        "kapsession plays local files only"
    )
