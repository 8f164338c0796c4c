"""The quick markers on the note pad: the clinic's own file when it is valid, else the built-in."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kapsession.domain.quick_markers import (
    DEFAULT_QUICK_MARKERS,
    QuickMarker,
    QuickMarkerError,
    read_quick_markers,
)

log = logging.getLogger(__name__)

MARKERS_FILE_NAME = "markers.toml"  # the built-in one in assets/, the clinic's in the data dir


def load_quick_markers(
    builtin: Path, clinic_file: Path
) -> tuple[tuple[QuickMarker, ...], str | None]:
    """The markers to show, and a problem to show with them (None when all is well).

    A missing clinic file is normal (the built-in markers are used); a broken one is reported,
    never raised, so the note pad always has its buttons.
    """
    problems: list[str] = []
    if os.path.lexists(clinic_file):
        try:
            return read_quick_markers(clinic_file), None
        except QuickMarkerError as exc:
            problems.append(f"{exc}. The standard markers are shown until {clinic_file} is fixed.")
    try:
        markers = read_quick_markers(builtin)
    except QuickMarkerError as exc:
        problems.append(f"{exc}. The built-in markers file is damaged; reinstall kapsession.")
        markers = DEFAULT_QUICK_MARKERS
    problem = "\n".join(problems) or None
    if problem is not None:
        log.warning("quick markers: %s", problem)
    return markers, problem
