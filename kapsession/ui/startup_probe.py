"""A start-up check for the bundle's smoke test and the start-up benchmark.

With KAPSESSION_STARTUP_PROBE set, the GUI quits by itself once its window is shown and painted,
after printing one JSON line to standard output:

    KAPSESSION_STARTUP_PROBE=shown   the window as it opens (the start screen)
    KAPSESSION_STARTUP_PROBE=live    first opens the newest live session, as Resume would

    {"probe": "live", "shown": true, "screen": "live", "session": "<id>", "title": "..."}

It stores nothing that the same start by hand would not: `live` opens a session that is
already live, exactly as Resume does (which writes any phase change it missed while closed).
Unset (as in every clinic), nothing here runs.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow

PROBE_ENV = "KAPSESSION_STARTUP_PROBE"
MODES = ("shown", "live")


def requested_mode(environ: dict[str, str] | None = None) -> str | None:
    mode = (os.environ if environ is None else environ).get(PROBE_ENV, "").strip()
    if not mode:
        return None
    if mode not in MODES:
        print(f"kapsession: {PROBE_ENV} must be one of {', '.join(MODES)}", file=sys.stderr)
        return None
    return mode


def arm(
    app: QApplication,
    window: MainWindow,
    mode: str,
    controller: AppController,
) -> None:
    """Once the event loop runs: (for `live`) open the live session, paint, report, quit."""

    def report() -> None:
        session = _open_newest_live(controller) if mode == "live" else None
        window.repaint()  # painted at least once, whatever the platform's expose timing
        screen = "live" if window.stack.currentWidget() is window.live_view else "start"
        line = {
            "probe": mode,
            "shown": window.isVisible(),
            "screen": screen,
            "session": session,
            "title": window.windowTitle(),
        }
        print(json.dumps(line), flush=True)
        app.exit(0 if window.isVisible() and (mode != "live" or screen == "live") else 1)

    QTimer.singleShot(0, report)


def _open_newest_live(controller: AppController) -> str | None:
    live = controller.service.live_sessions()
    if not live:
        return None
    controller.open_session(live[0].id)
    return str(live[0].id)
