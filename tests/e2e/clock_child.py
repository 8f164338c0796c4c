"""The child process of test_wall_clock_jump.py: a live session on the real clock, asked on stdin.

    python clock_child.py DATA_DIR

Reads one command a line on stdin and answers each with one JSON line on stdout, flushed:

    clocks    {"wall": time.time(), "boottime": CLOCK_BOOTTIME}, as this process sees them
    open      opens the data folder the way the app does (open_context, so SystemClock), adds a
              client, starts a session at the clock's now and opens it as a LiveSession;
              answers {"session": <id>, "started_at": <ISO time>}
    elapsed   one tick of the session (as the UI's timer makes), then the session read again
              (its clocks recomputed at this moment); answers {"elapsed_s": <the room's elapsed
              seconds>, "warnings": [<warnings the session logged so far>]}
    quit      closes the data folder and exits with status 0

On any surprise it answers {"error": <what>} and exits with status 3.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any

from PySide6.QtCore import QCoreApplication

from kapsession.paths import resolve_paths
from kapsession.services.context import AppContext, open_context
from kapsession.services.live_session import LiveSession

PROTOCOL_KEY = "sublingual-kap-3h"


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def answer(value: dict[str, Any]) -> None:
    print(json.dumps(value), flush=True)


class Child:
    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir
        self.context: AppContext | None = None
        self.live: LiveSession | None = None
        self.warnings = Warnings()
        logging.getLogger("kapsession.services.live_session").addHandler(self.warnings)

    def clocks(self) -> dict[str, Any]:
        return {"wall": time.time(), "boottime": time.clock_gettime(time.CLOCK_BOOTTIME)}

    def open(self) -> dict[str, Any]:
        context = open_context(resolve_paths(data_dir=self.data_dir, environ={}))
        self.context = context
        service = context.service
        client = service.add_client("Maya", "Fischer", at=context.clock.now())
        therapist = service.add_staff("Sam Lee", "therapist", at=context.clock.now())
        nurse = service.add_staff("Ruth Okafor", "nurse", at=context.clock.now())
        record = service.start_session(
            protocol_key=PROTOCOL_KEY,
            client_ids=(client.id,),
            modality="individual",
            at=context.clock.now(),
            therapist_id=therapist.id,
            nurse_id=nurse.id,
        )
        self.live = LiveSession(service, record.id, context.clock)
        assert self.live.record.started_at is not None
        return {"session": str(record.id), "started_at": self.live.record.started_at.isoformat()}

    def elapsed(self) -> dict[str, Any]:
        live = self.live
        if live is None:
            raise RuntimeError("no session is open: send 'open' first")
        live.tick()
        live.reload()
        return {"elapsed_s": live.state().elapsed_s, "warnings": list(self.warnings.messages)}

    def quit(self) -> None:
        if self.live is not None:
            self.live.stop()
        if self.context is not None:
            self.context.close()


def serve(child: Child) -> int:
    commands = {"clocks": child.clocks, "open": child.open, "elapsed": child.elapsed}
    for line in sys.stdin:
        command = line.strip()
        try:
            if command == "quit":
                child.quit()
                return 0
            answer(commands[command]())
        except BaseException:
            answer({"error": traceback.format_exc()})
            return 3
    return 0


def run(data_dir: str) -> int:
    app = QCoreApplication([])  # a LiveSession is a QObject with a timer
    status = serve(Child(data_dir))
    del app
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1]))
