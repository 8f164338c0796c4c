"""The course chart on the client history screen (issue 17), and the course summary's export
from it by keyboard: H shows the questionnaires' totals over the course beside the in-session
trends, the dosing sessions marked, an incomplete questionnaire marked apart (never at zero);
Ctrl+Shift+E exports the summary. Readable on the room laptop at 1366×768 and 1280×720
(KAPSESSION_COURSE_SHOTS=folder saves what the screen shows)."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QWidget
from test_client_history import _open_history_of, _past_session
from ui_harness import RunningApp, describe, focus_widget, key, type_text

from kapsession.domain.questionnaires import InstrumentKey
from kapsession.records.course_summary import NO_MEASURES
from kapsession.ui.course_chart import NOT_SCORED_AT
from kapsession.ui.course_summary_dialog import CourseSummaryDialog

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
SHOTS = os.environ.get("KAPSESSION_COURSE_SHOTS", "")


@pytest.fixture
def maya(app: RunningApp) -> uuid.UUID:
    """Maya Fischer with two ended sessions (a dose each), a PHQ-9 of 18 before the first and
    of 9 after the second, and a GAD-7 with item 3 unanswered in between."""
    service = app.context.service
    maya = service.add_client("Maya", "Fischer", at=app.clock.now(), record_number="KAP-0042")
    nurse = app.add_staff("Tom Becker")
    first = app.clock.now()
    service.measures.save(
        maya.id, "phq9", dict(enumerate([2] * 9, 1)), administered_at=first, at=first, by=nurse.id
    )
    app.clock.advance(24 * 3600)
    for dose, peak in (("200", "150/92"), ("250", "160/95")):
        _past_session(app, maya.id, dose, peak)
    between = app.clock.now() - timedelta(days=8)
    gad = dict(enumerate([1, 1, None, 1, 1, 1, 1], 1))
    service.measures.save(maya.id, "gad7", gad, administered_at=between, at=between, by=nurse.id)
    last = app.clock.now()
    phq = dict(enumerate([1] * 9, 1))
    service.measures.save(maya.id, "phq9", phq, administered_at=last, at=last, by=nurse.id)
    return maya.id


def _shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.mark.parametrize("size", [(1366, 768), (1280, 720)], ids=["1366x768", "1280x720"])
def test_the_course_chart_shows_the_stored_totals_and_the_dosing_sessions(
    app: RunningApp, maya: uuid.UUID, size: tuple[int, int]
) -> None:
    # Given the window at the room laptop's size; When Maya's history is opened with H
    app.window.showNormal()
    app.window.resize(*size)
    _open_history_of(app, "Fischer")
    view = app.window.history_view
    chart = view.course_chart
    # Then the PHQ-9 line has her two totals, on the days they were given
    stored = app.context.service.measures.history(maya)
    phq = [m for m in stored if m.instrument_key == "phq9"]
    points = chart.lines[InstrumentKey.PHQ9].points()
    assert [(p.x(), p.y()) for p in points] == [
        (m.occurred_at.timestamp() * 1000, float(m.total or -1)) for m in phq
    ]
    # And the incomplete GAD-7 is not on a line but marked apart, under zero
    assert chart.lines[InstrumentKey.GAD7].points() == []
    (missing,) = chart.incomplete[InstrumentKey.GAD7].points()
    assert missing.y() == NOT_SCORED_AT < 0
    # And each session with a dose is a vertical line on its day
    model = view.table.history_model()
    held = [model.session(row).held_at.timestamp() * 1000 for row in range(model.rowCount())]
    assert [line.points()[0].x() for line in chart.dosing_lines] == held
    assert all(line.points()[0].x() == line.points()[1].x() for line in chart.dosing_lines)
    # And the chart is shown whole beside the trends, inside the window
    assert chart.isVisible() and view.chart.isVisible()
    inside = QRect(QPoint(0, 0), app.window.size())
    for widget in (chart, view.chart, view.summary_button, view.back_button):
        box = QRect(widget.mapTo(app.window, QPoint(0, 0)), widget.size())
        assert inside.contains(box), (describe(widget), box, inside)
    assert chart.height() >= chart.minimumHeight() >= 200
    assert chart.geometry().top() == view.chart.geometry().top()  # beside, not under
    _shot(app.window, f"history-{size[0]}x{size[1]}")


def test_a_client_without_measures_has_a_chart_saying_so(app: RunningApp) -> None:
    app.context.service.add_client("Noor", "Haddad", at=app.clock.now())
    _open_history_of(app, "Haddad")
    chart = app.window.history_view.course_chart
    assert chart.isVisible()
    assert chart.chart().title() == NO_MEASURES
    assert not chart.lines and not chart.dosing_lines


NURSE_PIN = "483920"


def _audit_rows(app: RunningApp, action: str) -> list[tuple[str | None, str]]:
    with app.context.database.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT staff_id, entity FROM audit_entry WHERE action = ?", (action,)
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_ctrl_shift_e_exports_the_course_summary(
    app: RunningApp, maya: uuid.UUID, tmp_path: Path
) -> None:
    # Given Maya's history open, and the nurse with a PIN of her own
    nurse = next(s for s in app.context.service.staff.active() if s.display_name == "Tom Becker")
    app.context.notes.pins.set_pin(nurse.id, NURSE_PIN, NURSE_PIN)
    _open_history_of(app, "Fischer")
    out = tmp_path / "maya summary.md"

    def export(dialog: QWidget) -> None:
        assert isinstance(dialog, CourseSummaryDialog), describe(dialog)
        # The format has the keys, PDF first, a file suggested in the export folder
        assert focus_widget() is dialog.format
        assert dialog.chosen_format() == "pdf"
        assert dialog.path.text().endswith("Fischer, Maya - course summary.pdf")
        # When Markdown is chosen, Tab to the file, its name typed, Enter
        key(Qt.Key.Key_Down)
        assert dialog.chosen_format() == "md"
        assert dialog.path.text().endswith("course summary.md")
        key(Qt.Key.Key_Tab)
        assert focus_widget() is dialog.path
        key(Qt.Key.Key_A, CTRL)
        type_text(str(out))
        # Nobody named: refused, nothing written
        key(Qt.Key.Key_Return)
        assert dialog.problem.isVisibleTo(dialog) and "who is exporting" in dialog.problem.text()
        assert not out.exists()
        # The nurse named with a wrong PIN: refused, nothing written
        dialog.staff.setCurrentIndex(dialog.staff.findText(nurse.signature_name))
        dialog.pin.setFocus()
        type_text("111999")
        key(Qt.Key.Key_Return)
        assert "PIN is not right" in dialog.problem.text() and not out.exists()
        assert focus_widget() is dialog.pin and dialog.pin.text() == ""
        # Then her right PIN
        type_text(NURSE_PIN)
        key(Qt.Key.Key_Return)

    # When Ctrl+Shift+E is pressed
    with app.answering(export) as seen:
        app.key(Qt.Key.Key_E, CTRL | SHIFT)
    # Then the dialog named her, the summary is written and the status line says where
    assert [a.title for a in seen] == ["Course summary: Maya Fischer"]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Course summary: Maya Fischer\n")
    assert "| -9 from 18: response |" in text
    assert "incomplete: item 3 unanswered" in text
    assert str(out) in app.window.statusBar().currentMessage()
    # And the export's audit row names the nurse; her wrong PIN is audited too
    assert _audit_rows(app, "export") == [(nurse.id.hex, "client")]
    assert _audit_rows(app, "pin.refused") == [(nurse.id.hex, "staff")]
    # And the history keeps the keys
    assert app.ready() is app.window.history_view.table


def test_the_summary_button_is_reached_by_tab_and_esc_cancels(
    app: RunningApp, maya: uuid.UUID
) -> None:
    # Given Maya's history open, the table with the keys
    _open_history_of(app, "Fischer")
    view = app.window.history_view
    # When Tab is pressed three times (the questionnaires, Back, then the summary's button)
    app.key(Qt.Key.Key_Tab)
    assert focus_widget() is view.measures
    app.key(Qt.Key.Key_Tab)
    assert focus_widget() is view.back_button
    app.key(Qt.Key.Key_Tab)
    assert focus_widget() is view.summary_button
    # Then Enter opens the dialog, and Esc closes it with nothing written
    with app.answering(lambda dialog: key(Qt.Key.Key_Escape)) as seen:
        app.key(Qt.Key.Key_Return)
    assert [a.title for a in seen] == ["Course summary: Maya Fischer"]
    assert "written" not in app.window.statusBar().currentMessage()
    assert app.window.stack.currentWidget() is view
