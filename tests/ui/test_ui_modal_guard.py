"""The test harness's ModalGuard: a dialog opened from inside an answer, which nothing answers,
is closed and reported, so the test fails instead of waiting for ever."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QLineEdit, QMessageBox, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot
from ui_harness import ModalGuard


def test_a_dialog_opened_inside_an_answer_and_left_unanswered_is_closed_and_reported(
    qtbot: QtBot, modal_guard: ModalGuard
) -> None:
    outer = QDialog()
    qtbot.addWidget(outer)
    outer.setWindowTitle("Outer")
    QVBoxLayout(outer).addWidget(QLineEdit())  # something to take the keys, as in every dialog
    nested_results: list[int] = []

    def answer(dialog: QWidget) -> None:
        # the answer's key opens a question of its own, as "Record the order…" does
        question = QMessageBox(
            QMessageBox.Icon.Question, "Nested", "Nobody answers this", parent=dialog
        )
        nested_results.append(question.exec())
        dialog.accept()

    with modal_guard.answering(answer) as seen:
        QTimer.singleShot(0, outer.show)
        outer.exec()

    assert [a.title for a in seen] == ["Outer"]
    assert len(nested_results) == 1, "the nested question never returned"
    assert modal_guard.unexpected == [
        "QMessageBox 'Nested' 'Nobody answers this' (opened inside an answer; nothing answered)"
    ]
    modal_guard.unexpected.clear()  # reported, as a test that met it would be: not this one
