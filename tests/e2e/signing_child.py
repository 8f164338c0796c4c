"""The child process of test_kill_while_signing.py: signs ended sessions one after another.

    python signing_child.py DATABASE_FILE STAFF_ID SESSION_ID...

Each session is signed the way the app signs it (SignatureRepository.sign: the session note,
both parts' signatures, their audit rows and the status, in one transaction), with a long
session note so that much of the time is spent inside the transaction. After each signature
it prints `SIGNED <session id>`, flushed. The test kills it with SIGKILL at a moment it chooses.
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from support.signing import signing_key

from kapsession.records.notes import SessionNoteText
from kapsession.storage.database import open_database
from kapsession.storage.signatures import SignatureRepository

SECTIONS = tuple(
    (f"section{n}", f"Section {n}", f"What was seen in part {n}. " * 400) for n in range(12)
)


def main(database_file: str, staff_id: str, session_ids: list[str]) -> int:
    path = Path(database_file)
    database = open_database(f"sqlite:///{path}", backup_dir=path.parent / "backups")
    signatures = SignatureRepository(database)
    note = SessionNoteText("kap", SECTIONS)
    key = signing_key(database, uuid.UUID(staff_id))  # made by the parent; opened here
    for session_id in session_ids:
        signatures.sign(
            uuid.UUID(session_id),
            ["monitoring", "therapy"],
            staff_id=uuid.UUID(staff_id),
            at=datetime.now(UTC),
            key=key,
            session_note=note,
        )
        print(f"SIGNED {session_id}", flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
