"""The child process of test_storage_fsync.py: entries committed the way the app commits them.

    python fsync_child.py DATA_DIR MARKS_DIR N

Opens the data folder the way the app does (open_context: migrations, daily backup, the
database's settings), adds a client, starts a session and opens it (LiveSession, NotePad).
Then it fsyncs the file MARKS_DIR/opened, commits N check-ins (LiveSession.save_checkin, the
driver-level save of storage/checkin_save.py) and N record-pad notes (NotePad.commit, the
driver-level save of storage/note_save.py), one after the other, and fsyncs MARKS_DIR/saved.
Under strace the two marker fsyncs bracket the syncs the commits made.

Prints one JSON line, {"checkins": <saved>, "notes": <saved>}, and exits with status 0; on any
surprise it prints the traceback and exits with status 3.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.services.live_session import LiveSession
from kapsession.services.notepad import NotePad

PROTOCOL_KEY = "sublingual-kap-3h"
CHECKIN = {
    "bp": "124/78",
    "heart_rate_bpm": "72",
    "spo2_pct": "98",
    "resp_rate_per_min": "14",
    "moaas": "5",
    "dissociation": "0",
    "nausea": "0",
    "suds": "3",
}


def mark(path: Path) -> None:
    """A sync strace shows by name: everything traced after it happened after this point."""
    with path.open("w") as file:
        file.write(path.name)
        file.flush()
        os.fsync(file.fileno())


def run(data_dir: str, marks_dir: str, count: int) -> dict[str, int]:
    context = open_context(resolve_paths(data_dir=data_dir, environ={}))
    try:
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
        live = LiveSession(service, record.id, context.clock)
        pad = NotePad(live)
        participant = live.participants[0].id
        mark(Path(marks_dir) / "opened")
        checkins = notes = 0
        for number in range(count):
            result = live.save_checkin(participant, CHECKIN)
            checkins += result is not None and result.saved
            notes += pad.commit("record", f"Fsync test note {number}", participant)
        mark(Path(marks_dir) / "saved")
        pad.stop()
        live.stop()
        return {"checkins": checkins, "notes": notes}
    finally:
        context.close()


def main(argv: list[str]) -> int:
    app = QCoreApplication([])  # a LiveSession is a QObject with a timer
    try:
        saved = run(argv[0], argv[1], int(argv[2]))
    except BaseException:
        traceback.print_exc()
        return 3
    print(json.dumps(saved), flush=True)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
