"""The controllers' two ways of speaking to staff: a question before an action, and a problem
that stopped one (logged as well)."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


def ask(parent: QWidget, title: str, text: str) -> bool:
    """Yes or Cancel, Yes the default: True if the action is to go ahead."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    yes = box.addButton("Yes, record it", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(yes)
    box.exec()
    return box.clickedButton() is yes


def problem(parent: QWidget, title: str, text: str) -> None:
    """Tell staff what stopped an action. Only the title reaches the log: the text may name
    a client or quote what was typed (the failure itself is logged where it happened)."""
    log.warning("problem shown: %s", title)
    QMessageBox.warning(parent, title, text)
