"""What the music panel shows of the session's music: plain data, no player."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MusicState(enum.StrEnum):
    """What the session's music is doing."""

    STOPPED = "stopped"
    PLAYING = "playing"
    PAUSED = "paused"
    QUIET = "quiet"  # faded to silence, the track running on


@dataclass(frozen=True)
class NowPlaying:
    """What the music panel shows."""

    available: bool
    problem: str | None
    state: MusicState
    track_title: str | None
    playlist_name: str | None
    position_ms: int
    duration_ms: int
    volume_pct: float
    max_volume_pct: float
    follow_phases: bool
    transition: str
    pending_playlist: str | None  # a phase playlist waiting for the current track to end
    playlist_total_ms: int | None
    phase_name: str | None
    phase_length_s: float | None

    @property
    def remaining_ms(self) -> int:
        return max(self.duration_ms - self.position_ms, 0)

    def playlist_fit(self) -> str:
        """Whether the phase's playlist is shorter or longer than the phase, in words."""
        if self.playlist_total_ms is None or self.phase_length_s is None:
            return ""
        diff_s = self.playlist_total_ms / 1000 - self.phase_length_s
        minutes = round(abs(diff_s) / 60)
        if minutes == 0:
            return "playlist fits the phase"
        if diff_s < 0:
            return f"playlist {minutes} min shorter than the phase (it repeats)"
        return f"playlist {minutes} min longer than the phase"
