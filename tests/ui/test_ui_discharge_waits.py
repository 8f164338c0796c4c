"""Discharge on the real window (issue 16): refused before 60 minutes after the dose, asked
once more before it is recorded, and afterwards no check-in reminder on the screen."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from ui_harness import (
    START,
    Answered,
    ModalHandler,
    RunningApp,
    answer_nested,
    describe,
    fill_dose,
    focus_widget,
    key,
    type_text,
)
from ui_harness import press as answer_with

from kapsession.ui import theme
from kapsession.ui.discharge_dialog import DischargeDialog
from kapsession.ui.formatting import local_time

ENTER, TAB, SPACE = Qt.Key.Key_Return, Qt.Key.Key_Tab, Qt.Key.Key_Space
CTRL = Qt.KeyboardModifier.ControlModifier
BASELINE_SET = ("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")
CALM_SET = ("124", "80", "72", "98", "", "", "5")


def at_minute(minutes: float) -> str:
    return local_time(START + timedelta(minutes=minutes))


def score_and_tick_all(dialog: QWidget) -> None:
    """2, 2, 2 on the Aldrete items, Space on every checklist item."""
    assert isinstance(dialog, DischargeDialog), describe(dialog)
    for index, digit in enumerate("222"):
        if index:
            key(TAB)
        type_text(digit)
    key(TAB)
    for box in dialog.checklist.values():
        key(TAB)
        assert focus_widget() is box
        key(SPACE)


def check_waits_then_cancel(dialog: QWidget) -> None:
    """Everything ticked 30 minutes after the dose: not ready, the time after the dose named;
    Escape closes it."""
    assert isinstance(dialog, DischargeDialog)
    score_and_tick_all(dialog)
    assert dialog.status.text() == "Not ready yet — 1 item"
    assert "Observe at least 60 minutes after the final dose" in dialog.failing.text()
    assert not dialog.discharge_button.isEnabled()
    key(Qt.Key.Key_Escape)


def tick_all_and_discharge(answer: Qt.Key, asked: list[Answered]) -> ModalHandler:
    """Score and tick everything, Enter; the question that follows answered with `answer`
    (Escape goes back to the check, then Escape closes it)."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, DischargeDialog)
        score_and_tick_all(dialog)
        assert dialog.status.text() == "Ready to leave", dialog.failing.text()
        answer_nested(record_it if answer == ENTER else answer_with(answer), asked)
        key(ENTER)
        if dialog.isVisible():
            assert answer != ENTER
            dialog.activateWindow()  # (offscreen, the window manager's part)
            dialog.reject()

    return handler


def record_it(box: QWidget) -> None:
    assert isinstance(box, QMessageBox), describe(box)
    assert box.text() == f"Record discharge at {at_minute(40 + 60)} for Maya Fischer?"
    key(ENTER)


def test_discharge_waits_then_asks_and_then_nothing_falls_due(app: RunningApp) -> None:
    # Given a sublingual session dosed at minute 40
    app.start_session("Maya Fischer")
    app.advance(40 * 60)
    app.checkin_by_keyboard(*BASELINE_SET)
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)
    view = app.live_view

    # When Ctrl+D is pressed 30 minutes after the dose, everything ticked
    app.advance(30 * 60)
    app.checkin_by_keyboard(*CALM_SET)
    with app.answering(check_waits_then_cancel):
        app.key(Qt.Key.Key_D, CTRL)
    # Then nothing is recorded
    assert app.events("discharge") == []

    # When at 60 minutes after the dose the check passes and Enter is pressed, then the
    # question answered with Escape
    app.advance(30 * 60)
    app.checkin_by_keyboard(*CALM_SET)
    asked: list[Answered] = []
    with app.answering(tick_all_and_discharge(Qt.Key.Key_Escape, asked)):
        app.key(Qt.Key.Key_D, CTRL)
    # Then the question named the client and the time, and nothing was recorded
    assert [(a.title, a.text) for a in asked] == [
        (
            "Record discharge — Maya Fischer",
            f"Record discharge at {at_minute(100)} for Maya Fischer?",
        )
    ]
    assert app.events("discharge") == []

    # When it is done again and the question answered with Enter
    with app.answering(tick_all_and_discharge(ENTER, asked)):
        app.key(Qt.Key.Key_D, CTRL)
    # Then she is discharged at that minute
    (discharge,) = app.events("discharge")
    assert discharge.occurred_at == app.clock.now()

    # And the check-ins tile says none are due for her, now and an hour later
    lines = [line.text() for line in view.checkin_lines if line.isVisible()]
    assert lines[0] == f"None due: discharged at {at_minute(100)}."
    app.advance(60 * 60)
    app.ready()
    lines = [line.text() for line in view.checkin_lines if line.isVisible()]
    assert lines == [f"None due: discharged at {at_minute(100)}."]
    assert all("due" not in t.replace("None due", "") for t in lines)
    assert view.checkin_lines[0].styleSheet().find(theme.OVERDUE) < 0
    # And no check-in of the schedule is offered as due on the form
    form = view.checkin_form
    offered = [form.checkin.itemText(i) for i in range(form.checkin.count())]
    assert not any("due" in text or "overdue" in text for text in offered), offered
    app.leave_session()
