"""A problem shown to staff reaches the log by its title only: its text may name the client or
quote what was typed (the log holds no health information)."""

from __future__ import annotations

import logging

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from ui_harness import ModalGuard

from kapsession.ui.messages import problem


def test_a_problem_is_logged_by_its_title_without_its_text(
    qtbot: QtBot, modal_guard: ModalGuard, caplog: pytest.LogCaptureFixture
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    text = "Maya Fischer (MRN-58213) was not saved: the record number is used already."
    caplog.set_level(logging.WARNING, logger="kapsession")
    with modal_guard.answering(lambda box: box.close()) as seen:
        problem(parent, "The client was not saved", text)
    # Then staff read the whole text
    assert [(a.kind, a.title, a.text) for a in seen] == [
        (QMessageBox.__name__, "The client was not saved", text)
    ]
    # ... and the log has the title only
    assert "problem shown: The client was not saved" in caplog.text
    assert "Fischer" not in caplog.text and "MRN-58213" not in caplog.text
