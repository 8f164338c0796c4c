"""A start-up check for the bundle's smoke test and the start-up benchmark.

With KAPSESSION_STARTUP_PROBE set, the GUI quits by itself once its window is ready (the data
opened, the start screen's lists filled) and painted, after printing one JSON line to standard
output:

    KAPSESSION_STARTUP_PROBE=shown   the window as it opens (the start screen)
    KAPSESSION_STARTUP_PROBE=live    first opens the newest live session, as Resume would
    KAPSESSION_STARTUP_PROBE=paint   the start screen, and how the start went (below)

    {"probe": "live", "shown": true, "screen": "live", "session": "<id>", "title": "..."}

`paint` adds to these: `painted_at` and `filled_at`, when the first frame was painted and when
the start screen's lists were filled and painted (seconds of the system's monotonic clock,
`time.monotonic()` in any process); `paints_before`, how many paint events the window had had
by then; `first_frame`, the screen of that first frame;
`heavy_at_paint`, which of the modules the first frame does without (`HEAVY`) were imported
by then (none, as it should be); `screens`, the screens shown one after the other (`start
(loading)` while the client list says it is loading, `updating` while the database is being
updated); `busy_messages`, what the blocking screen said; `responsive_while_updating`, for each
time it was shown, whether the UI thread went on handling events meanwhile (the update runs off
it); `clients`, how many clients the list shows; `collecting_at_paint` and `collecting`, whether
Python's garbage collection was on at the first frame (no: held off during the start-up) and
once the window was ready (yes: on the GUI thread, `gui_thread_gc`); `collecting_on_any_thread`,
whether Python's own automatic collection was on then (no: it would run on any thread).

`live` adds `unused_at_live`: which of the modules a live session's window does without until
they are used (`UNTIL_USED`: SQLAlchemy's ORM and the mapped classes, the export modules and the
Export dialog, the corrections, the client's questionnaire screen, a client's history, the
course's plan, the pre-dose checks, signing keys, and in training mode the lock screen) were
imported by the time it was painted (none, as it should be).

It stores nothing that the same start by hand would not: `live` opens a session that is
already live, exactly as Resume does (which writes any phase change it missed while closed).
Unset (as in every clinic), nothing here runs.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication

from kapsession.ui.gui_thread_gc import collecting
from kapsession.ui.main_window import MainWindow

if TYPE_CHECKING:
    from kapsession.ui.app_controller import AppController
    from kapsession.ui.startup import Startup

PROBE_ENV = "KAPSESSION_STARTUP_PROBE"
MODES = ("shown", "live", "paint")
# What the first frame must not wait for: the ORM and migrations, the services, the export
# modules, the charts, the live screen, the controller that wires them.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "kapsession.storage",
    "kapsession.services.context",
    "kapsession.services.session_service",
    "kapsession.export",
    "PySide6.QtCharts",
    "kapsession.ui.live_view",
    "kapsession.ui.app_controller",
)
# What the live session's window does without until it is used: exporting; SQLAlchemy's ORM and
# the mapped classes (its reads go through the tables; the ORM is loaded once the start is over,
# `AppController.after_start`, which runs after the probe has opened the session); corrections
# (with the readings table or the event list), the client's questionnaire screen, a client's
# history, a course's plan, the consent needed to start a dosing session, signing keys, and in
# training mode (no sign-in) the lock screen and the accounts.
UNTIL_USED = (
    "sqlalchemy.orm",
    "kapsession.storage.models",
    "kapsession.export",
    "kapsession.services.exports",
    "kapsession.ui.export_dialog",
    "kapsession.ui.export_chart",
    "kapsession.ui.corrections_controller",
    "kapsession.ui.correction_dialogs",
    "kapsession.ui.client_questionnaire",
    "kapsession.services.client_history",
    "kapsession.services.course",
    "kapsession.services.pre_dose",
    "kapsession.services.signing_keys",
    "kapsession.services.access",
    "kapsession.ui.lock_screen",
)
LOADING_SCREEN = "start (loading)"


def requested_mode(environ: dict[str, str] | None = None) -> str | None:
    mode = (os.environ if environ is None else environ).get(PROBE_ENV, "").strip()
    if not mode:
        return None
    if mode not in MODES:
        print(f"kapsession: {PROBE_ENV} must be one of {', '.join(MODES)}", file=sys.stderr)
        return None
    return mode


def screen_of(window: MainWindow) -> str:
    screen = window.screen_name
    return LOADING_SCREEN if screen == "start" and window.start_view.loading else screen


def arm(app: QApplication, window: MainWindow, mode: str) -> None:
    """Over a window that is ready: once the event loop runs, (for `live`) open the live
    session, paint, report, quit."""
    QTimer.singleShot(0, lambda: _report(app, window, mode, {}))


def arm_startup(app: QApplication, window: MainWindow, mode: str, startup: Startup) -> None:
    """Over a window that is being started (`Startup`): note its first frame and the screens it
    shows, then report once it is ready."""
    seen: dict[str, Any] = {"screens": [], "busy_messages": [], "responsive_while_updating": []}
    paints = _PaintCounter(window)

    def note_screen() -> None:
        screen = screen_of(window)
        if not seen["screens"] or seen["screens"][-1] != screen:
            seen["screens"].append(screen)
        if screen == "updating":
            seen["busy_messages"].append(window.busy_screen.message.text())
            # Queued now, before the update's outcome can be: runs while the screen is still
            # up only if the update leaves the UI thread free.
            QTimer.singleShot(0, note_responsive)

    def note_responsive() -> None:
        seen["responsive_while_updating"].append(screen_of(window) == "updating")

    def painted() -> None:
        seen["painted_at"] = time.monotonic()
        seen["paints_before"] = paints.count
        seen["first_frame"] = screen_of(window)
        seen["heavy_at_paint"] = [name for name in HEAVY if name in sys.modules]
        seen["collecting_at_paint"] = collecting(app)
        note_screen()
        window.stack.currentChanged.connect(lambda _index: note_screen())

    def ready(_controller: AppController) -> None:
        QTimer.singleShot(0, lambda: _report(app, window, mode, seen))

    startup.painted.connect(painted)
    startup.ready.connect(ready)


def _report(
    app: QApplication,
    window: MainWindow,
    mode: str,
    seen: dict[str, Any],
) -> None:
    session = _open_newest_live(window) if mode == "live" else None
    window.repaint()  # painted at least once, whatever the platform's expose timing
    filled_at = time.monotonic()
    screen = screen_of(window)
    line: dict[str, Any] = {
        "probe": mode,
        "shown": window.isVisible(),
        "screen": screen,
        "session": session,
        "title": window.windowTitle(),
    }
    if mode == "live":
        line["unused_at_live"] = [name for name in UNTIL_USED if name in sys.modules]
    if mode == "paint":
        screens = list(seen.get("screens", []))
        if not screens or screens[-1] != screen:
            screens.append(screen)
        line.update(
            painted_at=seen.get("painted_at"),
            filled_at=filled_at,
            paints_before=seen.get("paints_before"),
            first_frame=seen.get("first_frame"),
            heavy_at_paint=seen.get("heavy_at_paint"),
            screens=screens,
            busy_messages=seen.get("busy_messages", []),
            responsive_while_updating=seen.get("responsive_while_updating", []),
            clients=_client_count(window),
            collecting_at_paint=seen.get("collecting_at_paint"),
            collecting=collecting(app),
            collecting_on_any_thread=gc.isenabled(),
        )
    print(json.dumps(line), flush=True)
    app.exit(0 if window.isVisible() and (mode != "live" or screen == "live") else 1)


class _PaintCounter(QObject):
    """How many times the window was painted (its paint events)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.count = 0
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def _client_count(window: MainWindow) -> int:
    clients = window.start_view.client_list
    return 0 if window.start_view.loading else clients.count()


def _open_newest_live(window: MainWindow) -> str | None:
    """Resume the session the start screen lists first (the newest live one), as the nurse
    would: its Resume button."""
    start = window.start_view
    item = start.live_list.currentItem()
    if item is None or not start.resume_button.isVisible():
        return None
    start.resume_button.click()
    return str(item.data(Qt.ItemDataRole.UserRole))
