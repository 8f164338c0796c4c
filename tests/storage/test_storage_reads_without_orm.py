"""What a live session's window reads goes through the Core tables (`storage/schema.py`), so that
SQLAlchemy's ORM and the mapped classes load only once the app's start is over: checked in a
fresh Python process, where nothing else has imported them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import kapsession
from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context

REPO = Path(kapsession.__file__).resolve().parents[1]
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WAIT_S = 120  # a guard against a hung child, never a timing assertion

# What the start screen and opening a live session read, then the first write of another kind.
CHILD = """
import json, sys
from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from datetime import datetime
context = open_context(resolve_paths(data_dir=sys.argv[1], environ={}),
                       clock=FakeClock(datetime.fromisoformat(sys.argv[2])))
service = context.service
seen = {}
def note(step):
    seen[step] = [name for name in ("sqlalchemy.orm", "kapsession.storage.models")
                  if name in sys.modules]
note("opened")
live = service.live_sessions()
service.ended_sessions(context.clock.now())
clients = service.clients.search("")
service.staff.active()
service.profiles.history(clients[0].id)  # the profile dialog's read (issue 17)
note("start screen read")
state = service.read_state(live[0].id)
service.checkins.open_alerts(live[0].id)
note("live session read")
service.add_staff("Ana Ruiz", "nurse", at=context.clock.now())
note("first write through the ORM")
context.close()
print(json.dumps({"seen": seen, "session": str(state.record.id),
                  "readings": len(state.observations.standing), "alerts": len(state.alerts)}))
"""


def _live_session_with_a_reading_and_an_alert(data_dir: Path) -> str:
    clock = FakeClock(START)
    context = open_context(resolve_paths(data_dir=data_dir, environ={}), clock=clock)
    try:
        service = context.service
        nurse = service.add_staff("Tom Becker", "nurse", at=START)
        therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=START)
        client = service.add_client("Maya", "Fischer", at=START)
        record = service.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=[client.id],
            modality="individual",
            at=START,
            therapist_id=therapist.id,
            nurse_id=nurse.id,
        )
        protocol = service.read_state(record.id).protocol
        participant = record.participants[0].id
        # a dose row as stored (this test reads the record; the checked save is LiveSession's)
        service.entries.add_dose(
            record.id, participant, occurred_at=START, recorded_at=START,
            medication=protocol.dosing.medication.value, route=protocol.dosing.route.value,
        )  # fmt: skip
        saved = service.checkins.save_checkin(
            record.id,
            participant,
            {"systolic_mmhg": "192", "diastolic_mmhg": "96"},
            occurred_at=START,
            recorded_at=START,
            by=nurse.id,
        )
        assert saved.problems == ()
        return str(record.id)
    finally:
        context.close()


def test_the_start_screen_and_a_live_session_are_read_without_the_orm_which_the_first_write_loads(
    tmp_path: Path,
) -> None:
    # Given a live session with a dose, a reading and the alert it raised, saved earlier
    data_dir = tmp_path / "data"
    session = _live_session_with_a_reading_and_an_alert(data_dir)
    # When a fresh process reads what the start screen and the live session's window read,
    # then makes a write that goes through the ORM
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAPSESSION_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir), START.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout.splitlines()[-1])
    # Then it read the whole session (the reading and its alert among it) ...
    assert (line["session"], line["readings"], line["alerts"]) == (session, 1, 1)
    # ... with neither the ORM nor the mapped classes imported, until the write needed them
    assert line["seen"] == {
        "opened": [],
        "start screen read": [],
        "live session read": [],
        "first write through the ORM": ["sqlalchemy.orm", "kapsession.storage.models"],
    }
