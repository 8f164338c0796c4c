"""How the exports write times: local clock times, days, the zone, and minutes from the first
dose. Plain Python (no Qt), for every format."""

from __future__ import annotations

import math
from datetime import datetime, tzinfo

from kapsession.export.content import ExportContent


def local(when: datetime, tz: tzinfo | None = None) -> datetime:
    """`when` in `tz`, the computer's zone by default."""
    return when.astimezone(tz)


def clock_time(when: datetime | None, tz: tzinfo | None = None) -> str:
    """14:05 in local time; an empty cell without a time."""
    if when is None:
        return ""
    moment = local(when, tz)
    return f"{moment.hour:02d}:{moment.minute:02d}"  # strftime imports `time` on every call


def day_text(when: datetime | None, tz: tzinfo | None = None) -> str:
    """Mon 21 Dec 2026"""
    if when is None:
        return ""
    moment = local(when, tz)
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def date_time_text(when: datetime | None, tz: tzinfo | None = None) -> str:
    """21 Dec 2026, 14:05"""
    if when is None:
        return ""
    moment = local(when, tz)
    return f"{moment.day} {moment:%b %Y}, {moment:%H:%M}"


def zone_text(when: datetime, tz: tzinfo | None = None) -> str:
    """The local zone the times are written in, e.g. "UTC+01:00 (CET)"."""
    moment = local(when, tz)
    offset = moment.strftime("%z")
    sign, hours, minutes = offset[:1] or "+", offset[1:3] or "00", offset[3:5] or "00"
    name = moment.tzname() or ""
    label = f"UTC{sign}{hours}:{minutes}"
    return label if not name or name.startswith(("UTC", "+", "-")) else f"{label} ({name})"


def since_dose(when: datetime, first_dose_at: datetime | None) -> str:
    """Whole minutes from the first dose as the session clock counts them, every format alike:
    T+40 from 40:00 to 40:59 after it, T−41 from 41:00 to 40:01 before it."""
    if first_dose_at is None:
        return ""
    seconds = (when - first_dose_at).total_seconds()
    if seconds >= 0:
        return f"T+{math.floor(seconds / 60)}"
    return f"T−{math.ceil(-seconds / 60)}"


class SessionTimes:
    """One session's times in `tz` (the computer's zone by default), for every layout: the
    note for the EHR writes "14:05" on the session's day and "2026-11-27 14:05" otherwise
    (`hm`), print "14:05" and "27 Nov 14:05" (`when`)."""

    def __init__(self, content: ExportContent, tz: tzinfo | None) -> None:
        self.tz = tz
        self.start = content.session.started_at or content.session.created_at
        self.end = content.session.ended_at
        self.day = self.local(self.start).date()
        self.first_dose = content.first_dose_at

    def local(self, at: datetime) -> datetime:
        return local(at, self.tz)

    def hm(self, at: datetime) -> str:
        here = self.local(at)
        clock = f"{here.hour:02d}:{here.minute:02d}"
        return clock if here.date() == self.day else f"{here:%Y-%m-%d} {clock}"

    def when(self, at: datetime) -> str:
        here = self.local(at)
        clock = f"{here.hour:02d}:{here.minute:02d}"
        return clock if here.date() == self.day else f"{here.day} {here:%b} {clock}"

    def clock(self, at: datetime | None) -> str:
        return clock_time(at, self.tz)

    def day_text(self, at: datetime | None) -> str:
        return day_text(at, self.tz)

    def date_time(self, at: datetime | None) -> str:
        return date_time_text(at, self.tz)

    def since_dose(self, at: datetime) -> str:
        """Minutes from the first dose, as on the session clock: "T+32", "T−10"."""
        return since_dose(at, self.first_dose)

    def zone(self) -> str:
        """The zone as the note for the EHR names it: "CET, UTC+01:00"."""
        here = self.local(self.start)
        offset = here.utcoffset()
        minutes = 0 if offset is None else round(offset.total_seconds() / 60)
        sign = "+" if minutes >= 0 else "-"
        utc = (
            "UTC" if minutes == 0 else f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        )
        name = here.tzname() or ""
        return utc if not name or name.startswith("UTC") else f"{name}, {utc}"

    def zone_text(self) -> str:
        """The zone as print names it: "UTC+01:00 (CET)"."""
        return zone_text(self.start, self.tz)
