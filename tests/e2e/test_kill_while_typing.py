"""The real app killed with SIGKILL while a note is being typed: the draft survives.

The child (typing_child.py) is kapsession's own entry point over a data folder in tmp_path; it
commits two notes and then types a long note, reporting after each character how much is in
the box and when (CLOCK_MONOTONIC, shared by both processes). The test kills it at a moment of
its choosing and checks that the stored draft is what was typed, missing at most the last
second of typing, and that opening the app again puts the draft back in the note box.
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
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support.signing_in import sign_in
from typing_child import NOTES, TYPING

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import open_context
from kapsession.services.notepad import DRAFT_SAVE_MS
from kapsession.storage.notes import NoteRepository
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.theme import apply_room_theme

pytestmark = pytest.mark.slow

CHILD = Path(__file__).with_name("typing_child.py")
WAIT_S = 60.0  # a guard against a hung child, never a timing assertion
LOSS_BOUND_S = 1.0  # the promise: at most one second of typing is lost


def _child_env() -> dict[str, str]:
    from test_kill_and_resume import child_env

    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(CHILD.parent), env["PYTHONPATH"]])
    return env


def _run_and_kill(
    data_dir: Path, typed_before_kill: int
) -> tuple[uuid.UUID, list[tuple[float, int]], float]:
    """Start the child, kill it once it has typed `typed_before_kill` characters; return the
    session, the (monotonic, count) reports and the moment of the kill."""
    stderr = (data_dir.parent / "typing-child.stderr").open("w", encoding="utf-8")
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
    session_id: uuid.UUID | None = None
    notes: list[str] = []
    typed: list[tuple[float, int]] = []
    deadline = time.monotonic() + WAIT_S
    try:
        while not typed or typed[-1][1] < typed_before_kill:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None or line.startswith("ERROR") or time.monotonic() > deadline:
                stderr.close()
                tail = (data_dir.parent / "typing-child.stderr").read_text()[-3000:]
                pytest.fail(f"child stopped: {line}\n{tail}")
            word, _, rest = line.partition(" ")
            if word == "SESSION":
                session_id = uuid.UUID(rest)
            elif word == "NOTE":
                notes.append(rest)
            elif word == "TYPED":
                at, count = rest.split()
                typed.append((float(at), int(count)))
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=WAIT_S) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr.close()
    assert session_id is not None and notes == list(NOTES)
    return session_id, typed, killed_at


@pytest.mark.parametrize("typed_before_kill", [120, 457], ids=["after-120", "after-457"])
def test_a_kill_while_typing_loses_at_most_a_second_and_the_draft_comes_back(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, typed_before_kill: int
) -> None:
    # Given the real app typing a note, killed with SIGKILL mid-word
    data_dir = tmp_path / "data"
    session_id, typed, killed_at = _run_and_kill(data_dir, typed_before_kill)
    # Then the committed notes are stored, and the draft is exactly the start of what was typed
    paths = resolve_paths(data_dir=data_dir, environ={})
    context = open_context(paths)
    try:
        notes = NoteRepository(context.service.database)
        assert [n.text for n in notes.notes(session_id)] == list(NOTES)
        draft = notes.draft(session_id, "record")
        assert draft is not None
        assert TYPING.startswith(draft.text)
        # And it holds everything typed more than a second before the kill
        settled = [count for at, count in typed if at <= killed_at - LOSS_BOUND_S]
        assert len(draft.text) >= (settled[-1] if settled else 0)
        assert DRAFT_SAVE_MS < LOSS_BOUND_S * 1000
        started = context.service.sessions.get(session_id).started_at
    finally:
        context.close()
    # When the app is opened again on the folder and the session resumed
    assert started is not None
    clock = FakeClock(started)
    context = open_context(paths, clock=clock)
    apply_room_theme(qapp)
    window = MainWindow(training=False)
    qtbot.addWidget(window)
    controller = AppController(window, context, training=False)
    sign_in(controller)
    try:
        controller.open_session(session_id)
        # Then the note box shows the draft, ready to finish and commit
        box = window.live_view.note_pad.inputs["record"]
        assert box.toPlainText() == draft.text
    finally:
        controller.close_session()
        context.close()
