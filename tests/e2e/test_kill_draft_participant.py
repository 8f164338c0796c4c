"""The real app killed with SIGKILL while a note is typed for the second participant of a couples
session: the draft survives as that participant's, and opened again with the first participant
selected, it is shown and saved as the second's.

The child (draft_participant_child.py) is kapsession's own entry point over a data folder in
tmp_path holding one live couples session (the clients of tests/support/multi_participant.py,
started here through the services on the real clock); it resumes the session, chooses the
second participant by keyboard and types a note, reporting each character.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from draft_participant_child import TYPING
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.multi_participant import add_people
from support.signing_in import sign_in

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.storage.notes import NoteRepository
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("draft_participant_child.py")
WAIT_S = 60.0  # a guard against a hung child, never a timing assertion
TYPED_BEFORE_KILL = 150  # well over a draft save's worth of typing (DRAFT_SAVE_MS)


def _child_env() -> dict[str, str]:
    from test_kill_and_resume import child_env

    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(CHILD.parent), env["PYTHONPATH"]])
    return env


def _couples_session(data_dir: Path) -> uuid.UUID:
    """A live couples session started now on the real clock, as the app would."""
    context = open_context(resolve_paths(data_dir=data_dir, environ={}))
    try:
        service = context.service
        now = context.clock.now()
        therapist = service.add_staff("Dr. Hana Whitlock", "therapist", at=now)
        nurse = service.add_staff("Tom Becker", "nurse", at=now)
        clients = add_people(service, "couples", at=now, by=therapist.id)
        record = service.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=[c.id for c in clients],
            modality="couples",
            at=now,
            therapist_id=therapist.id,
            nurse_id=nurse.id,
            by=therapist.id,
        )
        return record.id
    finally:
        context.close()


def _run_and_kill(data_dir: Path) -> tuple[uuid.UUID, uuid.UUID]:
    """Start the child, kill it once it has typed TYPED_BEFORE_KILL characters; return the
    session and the participant the note was typed for."""
    stderr_path = data_dir.parent / "draft-child.stderr"
    stderr = stderr_path.open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=_child_env(),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    reported: dict[str, str] = {}
    typed = 0
    deadline = time.monotonic() + WAIT_S
    try:
        while typed < TYPED_BEFORE_KILL:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None or line.startswith("ERROR") or time.monotonic() > deadline:
                stderr.close()
                pytest.fail(f"child stopped: {line}\n{stderr_path.read_text()[-3000:]}")
            word, _, rest = line.partition(" ")
            if word == "TYPED":
                typed = int(rest.split()[1])
            else:
                reported[word] = rest
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=WAIT_S) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr.close()
    return uuid.UUID(reported["SESSION"]), uuid.UUID(reported["SELECTED"])


def test_a_kill_while_typing_for_the_second_participant_keeps_the_draft_theirs(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> None:
    # Given the real app typing a note for the second participant of a couples session,
    # killed with SIGKILL mid-word
    data_dir = tmp_path / "data"
    session_id = _couples_session(data_dir)
    killed_session, typed_for = _run_and_kill(data_dir)
    assert killed_session == session_id
    paths = resolve_paths(data_dir=data_dir, environ={})
    context = open_context(paths)
    try:
        record = context.service.sessions.get(session_id)
        first, second = (p.id for p in record.participants)
        assert typed_for == second
        # Then the stored draft is the start of what was typed, and it is the second's
        notes = NoteRepository(context.service.database)
        draft = notes.draft(session_id, "record")
        assert draft is not None and draft.text and TYPING.startswith(draft.text)
        assert draft.participant_id == second
        started = record.started_at
    finally:
        context.close()

    # When the app is opened again and the session resumed (the first participant selected)
    assert started is not None
    context = open_context(paths, clock=FakeClock(context.clock.now()))
    apply_room_theme(qapp)
    window = MainWindow(training=False)
    qtbot.addWidget(window)
    controller = AppController(window, context, training=False)
    sign_in(controller)
    try:
        controller.open_session(session_id)
        view = window.live_view
        assert view.current_participant() == first
        view.show_notes()
        # Then the note box shows the draft, named as the second participant's note
        box = view.note_pad.inputs["record"]
        assert box.toPlainText() == draft.text
        name = record.participant(second).client.full_name
        assert view.note_pad.whose.text() == f"Note for {name}"
        # And Enter saves it for the second participant
        QTest.keyClick(box, Qt.Key.Key_Return)
        saved = NoteRepository(context.service.database).notes(session_id, kinds=["entry"])
        assert [(n.text, n.participant_id) for n in saved] == [(draft.text, second)]
    finally:
        controller.close_session()
        context.close()
