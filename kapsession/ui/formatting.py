"""How times read on screen: clocks as H:MM:SS, durations in plain minutes."""

from __future__ import annotations

import math
from datetime import datetime


def clock_text(seconds: float) -> str:
    total = max(math.floor(seconds), 0)
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def minutes_text(seconds: float) -> str:
    minutes = max(math.ceil(seconds / 60.0), 0)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def local_time(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")
