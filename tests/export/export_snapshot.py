"""Every export of every demo session, written to a folder, so that a change that must not change
the exports can be checked byte for byte (not a test; run before and after the change):

    python tests/export/export_snapshot.py write OUT_DIR
    python tests/export/export_snapshot.py compare BEFORE_DIR AFTER_DIR

The demo sessions (`kapsession.services.demo.populate`) are written to a fresh database with a
fixed clock and seeded ids (`uuid.uuid4` replaced before kapsession is imported: the records'
ids appear in the exports), so two runs of the same code write the same files. The one session
the demo leaves unsigned then gets a correction of every kind (`correct`): a reading corrected
and one withdrawn, the dose corrected, a marker withdrawn, a note amended and one withdrawn, a
private note amended, so that the exports show amended and withdrawn entries too. Each session
is exported in every format for each participant, with and without the private notes. Qt writes
the time of writing and random ids into every PDF: `compare` leaves those out (the information
dictionary's dates, the XMP metadata's dates and ids, the trailer's id) and compares the rest
byte for byte.

Run on one machine: the PDF's text layout depends on its fonts.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
FORMATS = ("pdf", "md", "csv", "fhir", "rems")
# the time of writing (information dictionary and XMP metadata) and the random document ids
_PDF_VOLATILE = re.compile(
    rb"\(D:\d{14}[^)]*\)"
    rb"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^<\"]*"
    rb"|uuid:[0-9a-fA-F-]{36}"
    rb"|/ID \[\s*<[0-9a-fA-F]*>\s*<[0-9a-fA-F]*>\s*\]"
)


def _seeded_uuid4() -> None:
    ids = random.Random(20261126)

    def uuid4() -> uuid.UUID:
        return uuid.UUID(int=ids.getrandbits(128), version=4)

    uuid.uuid4 = uuid4


def write(out_dir: Path) -> int:
    _seeded_uuid4()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QT_HASH_SEED"] = "0"  # Qt embeds the PDF's fonts in the order of a hash
    os.environ["TZ"] = "Europe/Berlin"  # the exports give local times
    import time

    time.tzset()
    from kapsession.domain.clock import FakeClock
    from kapsession.export.content import ExportRefused
    from kapsession.paths import resolve_paths
    from kapsession.services.context import open_context
    from kapsession.services.demo import populate
    from kapsession.ui.app import headless_application
    from kapsession.ui.export_chart import chart_for

    headless_application()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    with tempfile.TemporaryDirectory(prefix="kapsession-export-snapshot-") as tmp:
        clock = FakeClock(NOW)
        context = open_context(resolve_paths(data_dir=Path(tmp), environ={}), clock=clock)
        try:
            sessions = populate(context.service, NOW)
            correct(context, sessions[-1].id)
            for number, demo in enumerate(sessions, start=1):
                for who in demo.participants:
                    for private in (False, True):
                        try:
                            content = context.exports.content(
                                demo.id, participant=who, include_private=private
                            )
                        except ExportRefused as exc:
                            print(f"session {number} {who}: refused: {exc}")
                            continue
                        for export_format in FORMATS:
                            stem = (
                                f"{number:02d}-{demo.protocol}-{who.replace(' ', '_')}"
                                f"{'-private' if private else ''}-{export_format}"
                            )
                            target = out_dir / stem
                            try:
                                files = context.exports.render(
                                    content, export_format, target, "A4", chart_for=chart_for
                                )
                            except ExportRefused as exc:
                                (out_dir / f"{stem}.refused").write_text(f"{exc}\n")
                                written += 1
                                continue
                            for path, data in files.items():
                                Path(path).write_bytes(data)
                                written += 1
        finally:
            context.close()
    print(f"wrote {written} files to {out_dir}")
    return 0


def correct(context: Any, session_id: uuid.UUID) -> None:
    """A correction of every kind on one (unsigned) session, written a day after it."""
    from datetime import timedelta

    from kapsession.storage.notes import NoteRepository

    service = context.service
    record = service.sessions.get(session_id)
    at = (record.ended_at or NOW) + timedelta(hours=2)
    nurse = record.nurse_id
    readings = service.checkins.observations(session_id)
    fixed = service.checkins.correct_checkin(
        readings[1].id,
        {"bp": "128/82", "heart_rate_bpm": "76", "spo2_pct": "97"},
        reason="Transcribed from the wrong line of the paper chart",
        recorded_at=at,
        on_room_air=True,
        by=nurse,
    )
    assert fixed.saved, fixed.problems
    service.checkins.void_checkin(
        readings[-1].id, reason="Entered for the wrong client", recorded_at=at, by=nurse
    )
    (dose, *_) = service.entries.doses(session_id)
    service.checkins.correct_dose(
        dose.id, reason="Lot number misread", recorded_at=at, lot_number="KX-2291-B", by=nurse
    )
    markers = [e for e in service.entries.events(session_id) if e.kind == "marker"]
    service.entries.correct_event(
        markers[0].id, reason="Marked in the wrong session", recorded_at=at, voids=True, by=nurse
    )
    notes = NoteRepository(service.database)
    entries = notes.notes(session_id, kinds=["entry"])
    therapist = record.therapist_id
    notes.amend_entry(
        entries[0].id,
        entries[0].text + " (then quiet for a while)",
        reason="Completed the note",
        recorded_at=at,
        by=therapist,
    )
    notes.amend_entry(
        entries[-1].id, None, reason="Written in the wrong note", recorded_at=at, voids=True
    )
    private = notes.private_notes(session_id)
    if private:
        notes.amend_private(
            private[0].id, private[0].text + " Revisit.", reason="Added a plan", recorded_at=at
        )


def _comparable(path: Path) -> bytes:
    data = path.read_bytes()
    if data.startswith(b"%PDF"):
        data = _PDF_VOLATILE.sub(b"", data)
    return data


def compare(before: Path, after: Path) -> int:
    names = sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()})
    differ = []
    for name in names:
        a, b = before / name, after / name
        if not a.exists() or not b.exists():
            differ.append(f"{name}: only in {'after' if b.exists() else 'before'}")
        elif _comparable(a) != _comparable(b):
            digest = hashlib.sha256
            differ.append(
                f"{name}: differs ({digest(_comparable(a)).hexdigest()[:12]} → "
                f"{digest(_comparable(b)).hexdigest()[:12]})"
            )
    for line in differ:
        print(line)
    print(f"{len(names) - len(differ)} of {len(names)} files identical")
    return 1 if differ else 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "write":
        return write(Path(argv[1]))
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
