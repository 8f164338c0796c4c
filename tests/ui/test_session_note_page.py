"""The session note after the session, on a real training database with the demo sessions:
filled from the record, saved as a draft while typing, signed in parts with signing passphrases
(a wrong one answered only after a pause; a signer without one sets it after their PIN),
read-only once signed, then signed addenda."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from support.team import team
from ui_harness import (
    WAIT_MS,
    ModalGuard,
    data_dir_context,
    focus_widget,
    key,
    room_theme,
    type_text,
)

from kapsession.domain.clock import FakeClock
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.resources import note_templates_dir
from kapsession.services.context import AppContext
from kapsession.services.demo import DEMO_PASSPHRASE, populate
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.session_note import SessionNoteService
from kapsession.storage.audit import AuditRepository
from kapsession.storage.notes import NoteRepository
from kapsession.ui.session_note_controller import SessionNoteController
from kapsession.ui.session_note_page import LINE_HEIGHT_PCT, NoteEdit, SessionNotePage
from kapsession.ui.sign_dialog import AddendumDialog, SignDialog

NOW = datetime(2027, 1, 25, 12, 0, tzinfo=UTC)
TAB, ENTER, ESCAPE = Qt.Key.Key_Tab, Qt.Key.Key_Return, Qt.Key.Key_Escape
NURSE, THERAPIST = "Tom Becker, RN", "Dr. Ruth Adeyemi, PsyD"
PLAN = "Integration session on Tuesday; same dose next time."

Handler = Callable[[QWidget], None]


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training data folder with the demo sessions, written once and copied for each test."""
    folder = tmp_path_factory.mktemp("demo") / "data"
    context = data_dir_context(folder, FakeClock(NOW), training=True)
    try:
        populate(context.service, NOW)
    finally:
        context.close()
    return folder


@dataclass
class Room:
    """The demo database, the services the page uses, and a way to put the page on screen."""

    qtbot: QtBot
    guard: ModalGuard
    context: AppContext
    clock: FakeClock
    notes: SessionNoteService
    catalog: NoteTemplateCatalog
    controllers: list[SessionNoteController] = field(default_factory=list)

    @property
    def staff(self) -> dict[str, StaffRecord]:
        return {s.signature_name: s for s in self.context.service.staff.active()}

    def session(self, status: str) -> SessionRecord:
        """The most recent demo session with this status (the one "completed" is unsigned)."""
        sessions = self.context.service.sessions
        return sessions.get(sessions.summaries(status=status)[0].id)

    def page(self, record: SessionRecord) -> SessionNotePage:
        """The page on screen for `record`, working as the therapist, taking keys."""
        controller = SessionNoteController(self.notes, self.catalog, self.clock)
        self.controllers.append(controller)
        page = controller.page
        self.qtbot.addWidget(page)
        page.resize(1366, 720)
        controller.show_session(record, self.staff[THERAPIST].id)
        page.show()
        self.qtbot.waitExposed(page)
        self.ready(page)
        return page

    def ready(self, page: SessionNotePage) -> None:
        """Give the page the keys back (offscreen, no window manager does it when a dialog
        closes)."""
        if not page.isActiveWindow():
            page.activateWindow()
        self.qtbot.waitUntil(page.isActiveWindow, timeout=WAIT_MS)

    def draft(self, session_id: uuid.UUID) -> tuple[str | None, dict[str, str]]:
        saved = NoteRepository(self.context.database).draft(session_id, "session_note")
        if saved is None:
            return None, {}
        return saved.template_key, {k: text for k, _t, text in saved.sections}

    def open_dialog(self, page: SessionNotePage, button: QWidget, *handlers: Handler) -> None:
        """Press `button` by keyboard; answer the dialog(s) it opens; wait until closed."""
        self.ready(page)
        with self.guard.answering(*handlers):
            button.setFocus()
            key(Qt.Key.Key_Space)
            self.qtbot.waitUntil(lambda: page.dialog is None, timeout=3 * WAIT_MS)


@pytest.fixture
def room(
    demo_data: Path, tmp_path: Path, qtbot: QtBot, qapp: QApplication, modal_guard: ModalGuard
) -> Iterator[Room]:
    folder = tmp_path / "data"
    shutil.copytree(demo_data, folder)
    room_theme(qapp)
    clock = FakeClock(NOW + timedelta(minutes=5))  # after the demo staff's PINs were set
    context = data_dir_context(folder, clock, training=True)
    notes = SessionNoteService(context.database, clock)
    yield Room(qtbot, modal_guard, context, clock, notes, NoteTemplateCatalog(note_templates_dir()))
    context.close()


def type_into(page: SessionNotePage, key_: str, text: str) -> None:
    """Click into a section's text, go to its end and type."""
    edit = next(e.edit for e in page.editors if e.key == key_)
    edit.setFocus()
    edit.moveCursor(QTextCursor.MoveOperation.End)
    assert focus_widget() is edit
    type_text(text)


def tab_to(target: QWidget, *, backwards: bool = False, limit: int = 20) -> None:
    """Press Tab (or Shift+Tab) until `target` has the keys."""
    modifier = Qt.KeyboardModifier.ShiftModifier if backwards else Qt.KeyboardModifier.NoModifier
    for _ in range(limit):
        if focus_widget() is target:
            return
        key(TAB, modifier)
    raise AssertionError(f"Tab never reached {target.accessibleName()!r}")


def choose(combo: QComboBox, text: str) -> None:
    """Move a focused drop-down with the arrow keys until it shows `text`."""
    wanted = combo.findText(text)
    assert wanted >= 0, f"{text!r} is not offered in {combo.accessibleName()!r}"
    while combo.currentIndex() != wanted:
        key(Qt.Key.Key_Down if combo.currentIndex() < wanted else Qt.Key.Key_Up)


def sign_as(signer: str, passphrase: str, ticked: list[str]) -> Handler:
    """An answer to the signing dialog: check the preset signer and parts, type the signing
    passphrase, Enter."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, SignDialog)
        assert dialog.signer.currentText() == signer
        assert dialog.parts() == ticked
        assert focus_widget() is dialog.passphrase
        type_text(passphrase)
        key(ENTER)

    return handler


def answer_box(button_text: str) -> Handler:
    def handler(box: QWidget) -> None:
        assert isinstance(box, QMessageBox), box
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        button.click()

    return handler


# filled from the record ------------------------------------------------------------------------
@pytest.mark.parametrize("template_key", ["kap", "soap", "dap", "birp"])
def test_the_note_starts_filled_from_the_record(room: Room, template_key: str) -> None:
    # Given the unsigned demo session (esketamine 56 mg) and no draft yet
    record = room.session("completed")
    assert room.draft(record.id) == (None, {})
    page = room.page(record)
    assert page.template_combo.currentData() == room.catalog.default_key
    # When the therapist picks the template by keyboard (nothing typed: nothing is asked)
    combo = page.template_combo
    combo.setFocus()
    choose(combo, room.catalog.get(template_key).name)
    # Then each section of the template is shown, filled as the record fills it, hint as
    # placeholder
    template = room.catalog.get(template_key)
    assert page.sections() == room.notes.prefill(record.id, template)
    assert [e.title.text() for e in page.editors] == [s.title for s in template.sections]
    assert [e.edit.placeholderText() for e in page.editors] == [s.hint for s in template.sections]
    text = "\n".join(body for _k, _t, body in page.sections())
    assert "56 mg" in text and "Baseline" in text
    assert not page.is_read_only()


def test_tab_moves_to_the_next_section_and_the_sections_grow(room: Room) -> None:
    page = room.page(room.session("completed"))
    first, second = page.editors[0].edit, page.editors[1].edit
    before = first.toPlainText()
    # When Tab is pressed in a section, the next section takes the keys (no tab typed)
    first.setFocus()
    key(TAB)
    assert focus_widget() is second and first.toPlainText() == before
    # When many lines are typed, the section grows instead of scrolling inside itself
    height = second.height()
    second.moveCursor(QTextCursor.MoveOperation.End)
    for _ in range(12):
        key(ENTER)
        type_text("Another line.")
    assert second.height() > height
    assert second.verticalScrollBar().maximum() == 0
    page.save_draft()


# the draft -----------------------------------------------------------------------------------
def test_typing_saves_the_draft_and_a_new_page_restores_it(room: Room) -> None:
    record = room.session("completed")
    page = room.page(record)
    # When the therapist types into the plan
    type_into(page, "plan", PLAN)
    # Then the draft is in the database within about a second, without leaving the page
    room.qtbot.waitUntil(lambda: room.draft(record.id)[1].get("plan") == PLAN, timeout=WAIT_MS)
    key_, saved = room.draft(record.id)
    assert key_ == "kap" and "56 mg" in saved["doses"]
    assert page.saved_label.text().startswith("Draft saved ")
    # And a new page on the same session starts from that draft
    again = room.page(record)
    assert dict((k, text) for k, _t, text in again.sections())["plan"] == PLAN
    assert again.sections() == page.sections()


def test_hiding_the_page_saves_the_draft_at_once(room: Room) -> None:
    record = room.session("completed")
    page = room.page(record)
    type_into(page, "themes", "Grief held with warmth")
    assert room.draft(record.id) == (None, {})  # not yet: the autosave waits a moment
    # When the page is hidden (another tab, the window closed)
    page.hide()
    # Then what was typed is saved now
    assert room.draft(record.id)[1]["themes"] == "Grief held with warmth"


@pytest.mark.parametrize(
    ("answer", "replaced"), [("Replace", True), ("Keep my text", False)], ids=["replace", "keep"]
)
def test_changing_the_template_asks_before_replacing_typed_text(
    room: Room, answer: str, replaced: bool
) -> None:
    record = room.session("completed")
    page = room.page(record)
    type_into(page, "plan", PLAN)
    combo = page.template_combo
    # When the therapist picks SOAP after typing, she is asked first
    combo.setFocus()
    assert combo.itemData(combo.currentIndex() + 1) == "soap"
    with room.guard.answering(answer_box(answer)) as asked:
        key(Qt.Key.Key_Down)
    assert asked[0].title == "Replace the edited text?"
    page.save_draft()
    key_, saved = room.draft(record.id)
    if replaced:
        # Then the note starts again as SOAP, filled from the record, and is saved so
        assert page.sections() == room.notes.prefill(record.id, room.catalog.get("soap"))
        assert key_ == "soap" and PLAN not in saved.values()
    else:
        # Then the note and the picker stay as they were
        assert combo.currentData() == "kap" and page.template_key() == "kap"
        assert key_ == "kap" and saved["plan"] == PLAN


def test_fill_again_asks_and_restores_the_record_text(room: Room) -> None:
    record = room.session("completed")
    page = room.page(record)
    type_into(page, "doses", " Given by the nurse.")
    with room.guard.answering(answer_box("Replace")):
        page.fill_button.setFocus()
        key(Qt.Key.Key_Space)
    assert page.sections() == room.notes.prefill(record.id, room.catalog.get("kap"))


def test_pasted_formatting_is_dropped(qtbot: QtBot) -> None:
    edit = NoteEdit("hint")
    qtbot.addWidget(edit)
    edit.set_text("Seen at 14:00.")
    edit.moveCursor(QTextCursor.MoveOperation.End)
    mime = QMimeData()
    mime.setHtml("<p><b>Bold</b> <span style='color:red'>red</span></p><p>Second</p>")
    mime.setText("Bold red\nSecond")
    # When formatted text is pasted, only its plain text arrives, in the note's own lines
    edit.insertFromMimeData(mime)
    assert edit.toPlainText() == "Seen at 14:00.Bold red\nSecond"
    html = edit.toHtml()
    assert "font-weight:700" not in html and "color:#ff0000" not in html
    block = edit.document().begin()
    while block.isValid():
        assert block.blockFormat().lineHeight() == LINE_HEIGHT_PCT
        block = block.next()


# signing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("wrong_tries", [1, 2])
def test_a_wrong_passphrase_is_refused_only_after_a_pause(room: Room, wrong_tries: int) -> None:
    record = room.session("completed")
    page = room.page(record)
    seen: list[str] = []

    def wrong_passphrases(dialog: QWidget) -> None:
        assert isinstance(dialog, SignDialog)
        for _ in range(wrong_tries):
            type_text("not the passphrase")
            key(ENTER)
            # Then the form is disabled and the refusal not shown yet
            assert dialog.is_waiting() and not dialog.message.isVisible()
            assert not dialog.passphrase.isEnabled() and not dialog.sign_button.isEnabled()
            room.qtbot.waitUntil(dialog.message.isVisible, timeout=WAIT_MS)
            seen.append(dialog.message.text())
            assert dialog.passphrase.isEnabled() and dialog.passphrase.text() == ""
            assert focus_widget() is dialog.passphrase
        key(ESCAPE)

    room.open_dialog(page, page.parts["monitoring"].sign_button, wrong_passphrases)
    assert all(
        text.startswith("That signing passphrase is not right. Nothing was signed.")
        for text in seen
    )
    # And nothing was signed; the wrong tries are in the audit trail
    assert room.notes.state(record.id).signed == {}
    audit = AuditRepository(room.context.database).for_session(record.id)
    assert [a.action for a in audit].count("passphrase.refused") == wrong_tries
    assert page.parts["monitoring"].status.text() == "Not signed yet"


def test_the_nurse_and_the_therapist_sign_their_parts(room: Room) -> None:
    record = room.session("completed")
    page = room.page(record)
    statuses: list[str] = []
    room.controllers[-1].record_signed.connect(statuses.append)
    type_into(page, "plan", PLAN)
    # When the nurse signs the monitoring record (she is offered as its signer)
    room.open_dialog(
        page, page.parts["monitoring"].sign_button, sign_as(NURSE, DEMO_PASSPHRASE, ["monitoring"])
    )
    # Then it is signed in the database and on the page; the note can still be edited
    state = room.notes.state(record.id)
    assert set(state.signed) == {"monitoring"} and state.status == "completed"
    assert state.signed["monitoring"].signer_name == NURSE
    assert page.parts["monitoring"].status.text().startswith(f"Signed by {NURSE}\n")
    assert not page.is_read_only()
    # When the therapist signs the therapy part
    room.open_dialog(
        page, page.parts["therapy"].sign_button, sign_as(THERAPIST, DEMO_PASSPHRASE, ["therapy"])
    )
    # Then the session is signed, with the session note as typed, and the draft is gone
    state = room.notes.state(record.id)
    assert state.status == "signed" and state.unsigned_parts == []
    assert state.signed["therapy"].signer_name == THERAPIST
    (note,) = room.notes.notes.notes(record.id, kinds=["session_note"])
    assert note.template_key == "kap"
    assert dict((k, text) for k, _t, text in note.sections)["plan"].endswith(PLAN)
    assert room.draft(record.id) == (None, {})
    assert statuses == ["completed", "signed"]
    # And the page shows the signed note, read-only, with the addenda
    assert page.is_read_only()
    assert all(e.edit.isReadOnly() for e in page.editors)
    assert page.sections() == list(note.sections)
    assert page.addendum_button.isVisible() and not page.template_combo.isVisible()
    assert not page.parts["therapy"].sign_button.isVisible()


def test_a_signed_addendum_is_added_and_listed(room: Room) -> None:
    record = room.session("signed")
    page = room.page(record)
    assert page.is_read_only()
    before = len(page.addendum_texts())
    text = "Phoned on Monday: sleeping well, no nausea."

    def write_then_cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, AddendumDialog)
        assert focus_widget() is dialog.text
        type_text(text)
        key(ESCAPE)

    def sign_it(dialog: QWidget) -> None:
        assert isinstance(dialog, AddendumDialog)
        assert dialog.text.toPlainText() == text  # what was cancelled is offered again
        assert dialog.signer.currentText() == THERAPIST
        dialog.text.setFocus()
        key(TAB)
        assert focus_widget() is dialog.signer
        key(TAB)
        assert focus_widget() is dialog.passphrase
        type_text(DEMO_PASSPHRASE)
        key(ENTER)

    room.open_dialog(page, page.addendum_button, write_then_cancel)
    assert len(room.notes.state(record.id).addenda) == before
    room.open_dialog(page, page.addendum_button, sign_it)
    # Then it is in the record, signed, and listed under the note
    addendum, signature = room.notes.state(record.id).addenda[-1]
    assert addendum.text == text and signature is not None
    assert signature.signer_name == THERAPIST
    listed = page.addendum_texts()
    assert len(listed) == before + 1
    assert listed[-1].endswith(f"signed by {THERAPIST}\n{text}")


def test_nobody_sets_a_pin_for_a_staff_member_who_has_not_signed_in_yet(room: Room) -> None:
    # Given a completed session and Ana, whose account has no PIN yet (issue 18: she sets her
    # own PIN and signing passphrase at her first sign-in, with the administrator's setup code)
    record = room.session("completed")
    service = room.context.service
    ana = service.add_staff("Ana Lima", "nurse", at=NOW, credentials="RN")
    page = room.page(record)
    seen: list[str] = []

    def try_to_set_hers(dialog: QWidget) -> None:
        assert isinstance(dialog, SignDialog)
        # When whoever opened the dialog chooses Ana (keyboard: back to the signer, arrows)
        tab_to(dialog.signer, backwards=True)
        choose(dialog.signer, "Ana Lima, RN")
        # Then no field asks for a PIN or a passphrase: the dialog says what she does instead
        assert dialog.needs_first_sign_in() and not dialog.needs_new_passphrase()
        secrets = (dialog.pin, dialog.passphrase, dialog.new_passphrase, dialog.repeat_passphrase)
        assert not any(field.isVisible() for field in secrets)
        assert dialog.new_pin_note.isVisible() and not dialog.sign_button.isEnabled()
        seen.append(dialog.new_pin_note.text())
        # And Enter stores nothing: it says the same
        dialog.accept()
        seen.append(dialog.message.text())
        assert dialog.isVisible()
        key(Qt.Key.Key_Escape)

    room.open_dialog(page, page.parts["monitoring"].sign_button, try_to_set_hers)
    said = (
        "Ana Lima, RN has not signed in yet: they sign in with the setup code from the "
        "administrator to set their own PIN"
    )
    assert len(seen) == 2 and all(text.startswith(said) for text in seen), seen
    # And nothing was stored: no PIN, no key, no signature, no PIN set in the audit trail
    assert not room.notes.pins.has_pin(ana.id) and not room.notes.keys.has_key(ana.id)
    assert room.notes.state(record.id).signed == {}
    ana_did = [
        a.action for a in AuditRepository(room.context.database).all() if a.staff_id == ana.id
    ]
    assert "staff.pin_set" not in ana_did and "signing_key.created" not in ana_did


def test_a_live_session_is_signed_only_after_it_ends(room: Room) -> None:
    service = room.context.service
    client = service.clients.search("DEMO-")[0]
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=NOW,
        **team(service, NOW),
    )
    page = room.page(record)
    for row in page.parts.values():
        assert not row.sign_button.isEnabled()
        assert row.reason.isVisible() and row.reason.text() == "End the session to sign."
    assert not page.is_read_only()
    # When the session ends, a refresh offers signing
    service.end_session(record.id, at=NOW)
    page.refresh()
    assert all(row.sign_button.isEnabled() for row in page.parts.values())
