"""No PHI in the logs, and every file of the data folder its user's alone.

A whole session is scripted through the services, as the app runs it, under umask 022 with
logging set up as the app does at its most detailed (`-v`): clients, staff and a second
participant with distinctive names and record numbers, a note and its amendment, a private
note, a draft, markers (one withdrawn), a check-in with a comment whose reading raises an
alert, the alert acknowledged with a comment, refused entries (a NUL in a note, a reused
record number, a change to a saved marker that the database itself refuses, logged with its SQL
and stack, then handed to the crash hook as if nothing had caught it), a search, a
client looked up by a name nobody has, a Markdown export into the data folder and the end.
Then every log file is read for every name, record number and text typed, and every folder
and file under the data folder is checked for its mode (0700 and 0600).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from services_support import START, Room, run_until
from sqlalchemy import update
from support.dosing import dose_now

from kapsession import logs
from kapsession.domain.alert_followup import AlertAction
from kapsession.domain.clock import FakeClock
from kapsession.paths import Paths, resolve_paths
from kapsession.records.errors import NotFound, StorageError
from kapsession.services.client_history import ClientHistoryService
from kapsession.services.context import open_context
from kapsession.services.exports import ExportRequest
from kapsession.services.notepad import NotePad
from kapsession.storage import schema

THERAPIST = ("Isolde", "Verhoeven-Quarrie")
NURSE = ("Bartholomew", "Kettleworth")
CLIENT = ("Zephyrine", "Quillfeather", "MRN-ZQ-77123")
PARTNER = ("Ottoline", "Marchbanks", "MRN-OM-90415")
NOTE = "Spoke of the lighthouse at Kerrowmoor and her brother Ambrose"
AMENDED = "Spoke of the lighthouse at Kerrowmoor and her brother Ambrose, then slept"
AMEND_REASON = "added what followed, per Verhoeven"
PRIVATE = "Transference: reminds her of Aunt Philippa Dunsmore"
DRAFT = "Half-typed thought about the Pellucid Orchard dream"
MARKER = "Wept during the Saint-Saens cello piece"
WITHDRAW_REASON = "marker meant for Marchbanks"
COMMENT = "Pins and needles in the left thumb since Thornbury"
ACK_COMMENT = "Repositioned, cool flannel, BP recheck by Kettleworth"
REFUSED_NOTE = "Mentioned Wolverhampton\x00 twice"
SEARCHED = "Quillfea"
UNKNOWN = "Persephone Ashgrove-Tilling"
CALM = {"heart_rate_bpm": "72", "spo2_pct": "98", "moaas": "5"}

# Every word staff typed that names or describes someone; none may reach a log.
SECRETS = (
    *THERAPIST,
    *NURSE,
    *CLIENT,
    *PARTNER,
    "Kerrowmoor",
    "Ambrose",
    "then slept",
    "per Verhoeven",
    "Philippa",
    "Dunsmore",
    "Pellucid",
    "Saint-Saens",
    "meant for",
    "Thornbury",
    "Pins and needles",
    "cool flannel",
    "Wolverhampton",
    SEARCHED,
    "Persephone",
    "Ashgrove",
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return resolve_paths(data_dir=tmp_path / "data", environ={})


@pytest.fixture
def verbose_logging(paths: Paths) -> Iterator[Path]:
    """Logging as the app sets it up with -v (everything from DEBUG up, to the log file); the
    root logger restored after."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    logs.setup_logging(paths.log_file, verbose=True)
    try:
        yield paths.log_dir
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved:
            root.addHandler(handler)
        root.setLevel(level)


def scripted_session(room: Room, data_dir: Path) -> None:
    """The session described above, through the services as the app calls them."""
    service, clock = room.service, room.clock
    client = service.add_client(
        CLIENT[0], CLIENT[1], record_number=CLIENT[2], at=clock.now(), by=room.therapist.id
    )
    partner = service.add_client(
        PARTNER[0], PARTNER[1], record_number=PARTNER[2], at=clock.now(), by=room.therapist.id
    )
    with pytest.raises(StorageError):  # the database refuses a record number used already
        service.add_client("Again", CLIENT[1], record_number=CLIENT[2], at=clock.now())
    record = room.start(client, partner)
    first, second = (p.id for p in record.participants)
    live, signals = room.open_live(record.id)
    pad = NotePad(live)
    run_until(live, clock, START + timedelta(minutes=20))
    assert dose_now(live, first) and dose_now(live, second)
    assert pad.commit("record", NOTE, first)
    assert pad.commit("private", PRIVATE, first)
    assert pad.amend(pad.entries()[0].id, AMENDED, AMEND_REASON)
    assert not pad.commit("record", REFUSED_NOTE, first)  # a NUL: refused, said, not saved
    assert signals.failed
    pad.text_changed("record", DRAFT, second)
    assert pad.save_drafts()
    marker = live.add_marker(MARKER, first)
    assert marker is not None
    assert live.add_marker(MARKER, second) is not None
    assert live.withdraw_marker(marker.id, WITHDRAW_REASON)
    with (
        pytest.raises(StorageError) as refused,
        service.database.write_rows("save the marker") as rows,
    ):
        rows.execute(  # a saved entry is never changed: the database's trigger refuses it
            update(schema.session_event)
            .where(schema.session_event.c.id == marker.id)
            .values(label=f"{MARKER} ({CLIENT[2]})")
        )
    # ... and the same refusal, had nothing caught it, reaches the crash hook, which logs it
    # with its stack and the database's error it came from
    logs.set_error_presenter(lambda summary, details: None)
    try:
        logs.excepthook(refused.type, refused.value, refused.tb)
    finally:
        logs.set_error_presenter(None)
    result = live.save_checkin(first, {**CALM, "bp": "190/115", "comment": COMMENT})
    assert result is not None and result.alerts
    assert live.acknowledge_alert(result.alerts[0].id, AlertAction.INTERVENTION, ACK_COMMENT)
    run_until(live, clock, START + timedelta(minutes=40))
    assert [c.id for c in service.clients.search(SEARCHED)] == [client.id]
    with pytest.raises(NotFound):
        ClientHistoryService(service.database).find_client(UNKNOWN)
    exported = room.context.exports.export(
        ExportRequest(
            record.id,
            "md",
            data_dir / "exports" / "record.md",
            participant=f"{CLIENT[0]} {CLIENT[1]}",
            include_private=True,
        ),
        by=room.therapist.id,
    )
    assert CLIENT[1] in exported.files[0].read_text(encoding="utf-8")
    pad.stop()
    assert live.end_session()
    live.stop()


def test_a_whole_session_leaves_no_name_or_text_in_the_logs_and_no_file_readable_by_others(
    umask_022: None, paths: Paths, verbose_logging: Path, qapp: object
) -> None:
    # Given the app's data opened under umask 022, with -v logging, and a team with
    # distinctive names
    clock = FakeClock(START)
    context = open_context(paths, clock=clock)
    try:
        service = context.service
        therapist = service.add_staff(" ".join(THERAPIST), "therapist", at=clock.now())
        nurse = service.add_staff(" ".join(NURSE), "nurse", at=clock.now())
        room = Room(context=context, clock=clock, therapist=therapist, nurse=nurse)
        (paths.data_dir / "exports").mkdir(mode=0o700)  # the user's own folder there
        # When a whole session is run through the services
        scripted_session(room, paths.data_dir)
    finally:
        context.close()
    logging.getLogger("kapsession").info("the session ran")  # the log is being written
    # Then the logs hold something, and no name, record number or text typed
    logged = {
        p.name: p.read_text(encoding="utf-8", errors="replace")
        for p in verbose_logging.iterdir()
        if p.is_file()
    }
    everything = "\n".join(logged.values())
    assert "the session ran" in everything
    assert "save the marker failed" in everything and "UPDATE session_event" in everything
    assert "CRITICAL kapsession: unexpected error" in everything
    found = {s: name for s in SECRETS for name, text in logged.items() if s.lower() in text.lower()}
    assert found == {}
    # And every folder under the data folder is 0700, every file 0600
    walked = [paths.data_dir, *paths.data_dir.rglob("*")]
    assert len([p for p in walked if p.is_file()]) >= 5  # database, WAL, backup, log, export
    modes = {str(p.relative_to(paths.data_dir)): oct(mode(p)) for p in walked}
    wanted = {
        str(p.relative_to(paths.data_dir)): oct(0o700 if p.is_dir() else 0o600) for p in walked
    }
    assert modes == wanted
