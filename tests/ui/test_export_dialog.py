"""The Export dialog through its controller: formats offered per session, a suggested file
name, writing, refusals shown in the dialog, and Copy for EHR."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from ui_harness import RunningApp

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.services.context import AppContext, open_context
from kapsession.services.demo import DemoSession, populate
from kapsession.storage.audit import AuditRepository
from kapsession.ui.export_controller import ExportController
from kapsession.ui.export_dialog import ExportDialog
from kapsession.ui.main_window import MainWindow

SHIFT = Qt.KeyboardModifier.ShiftModifier
NOW = datetime(2026, 11, 26, 18, 0, tzinfo=UTC) + timedelta(days=60)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[AppContext, list[DemoSession]]]:
    context = open_context(
        resolve_paths(data_dir=tmp_path / "data", training=True, environ={}),
        clock=FakeClock(NOW),
    )
    try:
        yield context, populate(context.service, NOW)
    finally:
        context.close()


@pytest.fixture
def clinical(tmp_path: Path) -> Iterator[tuple[AppContext, list[DemoSession]]]:
    """The demo's sessions in a clinical database (not marked training)."""
    context = open_context(
        resolve_paths(data_dir=tmp_path / "clinical", environ={}), clock=FakeClock(NOW)
    )
    try:
        assert not context.training
        yield context, populate(context.service, NOW)
    finally:
        context.close()


def _dialog(
    qtbot: QtBot,
    context: AppContext,
    session: DemoSession,
    folder: Path,
    by: uuid.UUID | None = None,
) -> ExportDialog:
    record = context.service.sessions.get(session.id)
    window = MainWindow(training=True)
    qtbot.addWidget(window)
    controller = ExportController(window, lambda: context.exports, parent=window)
    dialog = controller.dialog(
        record,
        folder=folder,
        esketamine=session.protocol == "intranasal-esketamine",
        by=by,
    )
    qtbot.addWidget(dialog)
    return dialog


def test_rems_is_offered_only_for_esketamine(qtbot: QtBot, demo, tmp_path: Path) -> None:
    context, made = demo
    esketamine = next(m for m in made if m.protocol == "intranasal-esketamine")
    sublingual = next(m for m in made if m.protocol == "sublingual-kap-3h")
    formats = lambda d: [d.format.itemData(i) for i in range(d.format.count())]  # noqa: E731
    assert "rems" in formats(_dialog(qtbot, context, esketamine, tmp_path))
    assert "rems" not in formats(_dialog(qtbot, context, sublingual, tmp_path))


def test_markdown_export_writes_the_suggested_file_and_audits(
    qtbot: QtBot, demo, tmp_path: Path
) -> None:
    context, made = demo
    dialog = _dialog(qtbot, context, made[0], tmp_path)
    dialog.format.setCurrentIndex(dialog.format.findData("md"))
    suggested = Path(dialog.path.text())
    assert suggested.parent == tmp_path and suggested.suffix == ".md"
    assert "Fischer, Maya" in suggested.name and "DRAFT" not in suggested.name
    dialog.export_button.click()
    assert dialog.result_files == (suggested,)
    assert "Maya Fischer" in suggested.read_text(encoding="utf-8")
    actions = [a.action for a in AuditRepository(context.service.database).for_session(made[0].id)]
    assert "export" in actions


def test_an_unsigned_session_says_draft(qtbot: QtBot, demo, tmp_path: Path) -> None:
    context, made = demo
    dialog = _dialog(qtbot, context, made[-1], tmp_path)
    assert "DRAFT" in dialog.draft.text()
    assert "DRAFT" in Path(dialog.path.text()).name


def test_an_existing_file_is_refused_in_the_dialog(qtbot: QtBot, demo, tmp_path: Path) -> None:
    context, made = demo
    dialog = _dialog(qtbot, context, made[0], tmp_path)
    dialog.format.setCurrentIndex(dialog.format.findData("md"))
    target = Path(dialog.path.text())
    target.write_text("keep", encoding="utf-8")
    dialog.export_button.click()
    assert not dialog.problem.isHidden() and "already exists" in dialog.problem.text()
    assert target.read_text(encoding="utf-8") == "keep"
    assert dialog.result_files == ()


def test_a_couple_chooses_whose_document(qtbot: QtBot, demo, tmp_path: Path) -> None:
    context, made = demo
    couples = next(m for m in made if m.modality == "couples")
    dialog = _dialog(qtbot, context, couples, tmp_path)
    assert dialog.participant.isEnabled() and dialog.participant.count() == 2
    dialog.participant.setCurrentIndex(dialog.participant.findText("Lena Okafor"))
    assert "Okafor, Lena" in dialog.path.text()


def test_copy_for_ehr_puts_plain_text_on_the_clipboard(qtbot: QtBot, demo, tmp_path: Path) -> None:
    context, made = demo
    dialog = _dialog(qtbot, context, made[0], tmp_path)
    QApplication.clipboard().clear()
    dialog.copy_button.click()
    text = QApplication.clipboard().text()
    assert "Maya Fischer" in text and "|" not in text.splitlines()[0]
    assert "Copied" in dialog.copy_button.text()


@pytest.mark.parametrize("role", ["nurse", "therapist"])
def test_private_notes_only_for_the_sessions_therapist(
    qtbot: QtBot, clinical, tmp_path: Path, role: str
) -> None:
    # Given a clinical session, exported by its nurse or its therapist ("working as")
    context, made = clinical
    session = next(m for m in made if m.protocol == "iv-infusion")
    who = next(s for s in context.service.staff.active() if s.role == role)
    dialog = _dialog(qtbot, context, session, tmp_path, by=who.id)
    dialog.format.setCurrentIndex(dialog.format.findData("md"))
    target = Path(dialog.path.text())
    # When the private notes are included
    dialog.private.setChecked(True)
    dialog.export_button.click()
    audit = AuditRepository(context.service.database).for_session(session.id)
    exports = [a for a in audit if a.action == "export"]
    if role == "nurse":
        # Then the nurse is refused in the dialog and nothing is written
        assert not dialog.problem.isHidden()
        assert "private psychotherapy notes" in dialog.problem.text()
        assert not target.exists() and exports == []
        # And Copy for EHR with them is refused too
        dialog.copy_button.click()
        assert "Copied" not in dialog.copy_button.text()
    else:
        # Then the therapist's export holds them, and its audit row names her
        assert "supervision" in target.read_text(encoding="utf-8")
        assert [(a.staff_id, a.detail["private_notes_included"]) for a in exports] == [
            (who.id, True)
        ]


@pytest.mark.parametrize("at_keyboard", ["nobody", "nurse"])
def test_the_live_export_is_the_person_working_as(
    app: RunningApp, tmp_path: Path, at_keyboard: str
) -> None:
    # Given a live session on clinical data: its therapist "working as", or the nurse who
    # switched in at the keyboard
    record = app.start_session("Maya Fischer")
    therapist, nurse = record.therapist_id, record.monitor_of(None)
    assert therapist is not None and nurse is not None
    live = app.controller.live
    assert live is not None
    if at_keyboard == "nurse":
        live.switch_to(nurse)
    out = tmp_path / "record.md"

    def export(dialog: QWidget) -> None:
        # When the record is exported with the private notes, from Ctrl+Shift+E
        assert isinstance(dialog, ExportDialog)
        dialog.format.setCurrentIndex(dialog.format.findData("md"))
        dialog.path.setText(str(out))
        dialog.private.setChecked(True)
        dialog.export_button.click()
        if dialog.isVisible():
            dialog.reject()

    with app.answering(export):
        app.key(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | SHIFT)
    app.leave_session()
    exports = [
        a for a in AuditRepository(app.context.database).for_session(record.id)
        if a.action == "export"
    ]  # fmt: skip
    if at_keyboard == "nurse":
        # Then the nurse may not take the private notes out: nothing written
        assert not out.exists() and exports == []
    else:
        # Then the therapist's export is written and audited as hers
        assert out.exists()
        assert [(a.staff_id, a.detail["private_notes_included"]) for a in exports] == [
            (therapist, True)
        ]
