"""A process killed with SIGKILL while signing: each signature happened completely or not at all.

The parent prepares ended sessions, each with a session-note draft; the child (signing_child.py)
signs them one by one and reports each; the test kills it after a chosen number, so the kill
lands somewhere in the next signing. Then, on the file as the kill left it: every reported
signing is complete, and no session is half signed — signatures, their audit rows, the session
note, the cleared draft and the status all agree.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.signing import signing_key

from kapsession.domain.clock import FakeClock
from kapsession.records.notes import PARTS, SignatureCheck
from kapsession.storage.audit import AuditRepository
from kapsession.storage.database import open_database
from kapsession.storage.entries import EntryRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.people import ClientRepository, StaffRepository
from kapsession.storage.sessions import SessionRepository
from kapsession.storage.signatures import SignatureRepository

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("signing_child.py")
SESSIONS = 40
WAIT_S = 120.0  # a guard against a hung child, never a timing assertion


def _prepare(path: Path) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Ended sessions with a dose, a note and a session-note draft each."""
    database = open_database(f"sqlite:///{path}", backup_dir=path.parent / "backups")
    clock = FakeClock(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    # a physician: the role rules let them monitor and be the therapist, so they sign both parts
    staff = StaffRepository(database).add("Dr. Ruth Okafor", "physician", at=clock.now())
    signing_key(database, staff.id)  # the child opens it to sign
    client = ClientRepository(database).add("Maya", "Fischer", at=clock.now())
    sessions, entries, notes = (
        SessionRepository(database),
        EntryRepository(database),
        NoteRepository(database),
    )
    made = []
    for _ in range(SESSIONS):
        record = sessions.create(
            protocol_key="sublingual-kap-3h",
            protocol_name="Sublingual KAP, 3 hours",
            protocol_version=1,
            protocol_text="schema = 1\n",
            modality="individual",
            client_ids=[client.id],
            at=clock.now(),
            therapist_id=staff.id,
            nurse_id=staff.id,
        )
        clock.advance(60)
        sessions.start(record.id, at=clock.now(), by=staff.id)
        at = clock.now()
        entries.add_dose(record.id, record.participants[0].id, occurred_at=at, recorded_at=at)
        notes.add_entry(record.id, "Settled", occurred_at=at, recorded_at=at)
        clock.advance(60)
        sessions.end(record.id, at=clock.now(), by=staff.id)
        notes.save_draft(
            record.id,
            "session_note",
            "",
            at=clock.now(),
            sections=[("intention", "Intention", "draft")],
            template_key="kap",
        )
        made.append(record.id)
    database.close()
    return staff.id, made


def _sign_and_kill(path: Path, staff_id: uuid.UUID, ids: list[uuid.UUID], after: int) -> set[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(CHILD.parents[2]), str(CHILD.parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(staff_id), *map(str, ids)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    signed: set[str] = set()
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            word, _, rest = line.strip().partition(" ")
            if word == "SIGNED":
                signed.add(rest)
            if len(signed) >= after or word == "DONE":
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=WAIT_S)
        for line in proc.stdout:  # printed (so committed) before the kill, read after it
            word, _, rest = line.strip().partition(" ")
            if word == "SIGNED":
                signed.add(rest)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(signed) >= after, proc.stderr.read() if proc.stderr else ""
    return signed


@pytest.mark.parametrize("after", [1, 9, 23])
def test_a_kill_while_signing_leaves_no_session_half_signed(tmp_path: Path, after: int) -> None:
    # Given ended sessions, and a process signing them killed after `after` were reported
    path = tmp_path / "kapsession.sqlite3"
    staff_id, ids = _prepare(path)
    reported = _sign_and_kill(path, staff_id, ids, after)
    # Then the file is intact
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()
    database = open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups")
    try:
        sessions, signatures = SessionRepository(database), SignatureRepository(database)
        notes, audit = NoteRepository(database), AuditRepository(database)
        signed_sessions = 0
        for session_id in ids:
            status = sessions.get(session_id).status
            parts = {s.part: s for s in signatures.signatures(session_id)}
            session_notes = notes.notes(session_id, kinds=["session_note"])
            draft = notes.draft(session_id, "session_note")
            actions = {(a.action, a.entity_id) for a in audit.for_session(session_id)}
            if status == "signed":
                # ... a signed session has everything of its signing
                signed_sessions += 1
                assert set(parts) == {"monitoring", "therapy"}
                assert len(session_notes) == 1 and draft is None
                for part, signature in parts.items():
                    assert (f"sign.{part}", str(signature.id)) in actions
                assert ("session.signed", str(session_id)) in actions
                assert signatures.verify(session_id) == dict.fromkeys(PARTS, SignatureCheck.VALID)
            else:
                # ... and an unsigned one has nothing of it: no signature, note or audit row
                assert status == "completed"
                assert parts == {} and session_notes == [] and draft is not None
                assert not any(a.startswith("sign.") for a, _ in actions)
                assert str(session_id) not in reported
        # And every signing the child reported is there, plus at most the one under way
        assert {str(i) for i in ids if sessions.get(i).status == "signed"} >= reported
        assert signed_sessions in (len(reported), len(reported) + 1)
    finally:
        database.close()
