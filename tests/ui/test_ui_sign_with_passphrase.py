"""Signing with a signing passphrase on the real window, by keyboard (issue 18): a nurse who has
a PIN but no passphrase yet confirms her PIN and sets one in the sign dialog (typed twice, at
least 8 characters); a wrong PIN sets nothing; then the part is signed with her own key."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from ui_harness import RunningApp, describe, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.records.notes import SignatureCheck
from kapsession.storage.audit import AuditRepository
from kapsession.storage.signatures import SignatureRepository
from kapsession.ui.live_view import RECORD
from kapsession.ui.sign_dialog import SignDialog

ENTER, SPACE, TAB = Qt.Key.Key_Return, Qt.Key.Key_Space, Qt.Key.Key_Tab
PIN = "246813"
PASSPHRASE = "lanterns over the harbour"
CALM = ("124", "80", "72", "98")


def test_a_first_signing_passphrase_is_set_in_the_sign_dialog_and_signs(app: RunningApp) -> None:
    # Given an ended session; its nurse has a PIN and no signing passphrase yet
    _therapist, nurse = app.usual_staff()
    app.context.notes.pins.set_pin(nurse.id, PIN, PIN)
    app.start_session("Maya Fischer")
    app.advance(10 * 60)
    app.checkin_by_keyboard(*CALM)
    app.end_by_keyboard()
    app.live_view.show_tab(RECORD)
    page = app.controller.notes.session_note.page
    said: list[str] = []

    def set_and_sign(dialog: QWidget) -> None:
        assert isinstance(dialog, SignDialog), describe(dialog)
        assert dialog.signer.currentText() == nurse.signature_name
        # Then she is asked to confirm her PIN and choose a signing passphrase, twice
        assert dialog.needs_new_passphrase() and not dialog.needs_first_sign_in()
        said.append(dialog.new_pin_note.text())
        assert dialog.pin.isVisible() and dialog.new_passphrase.isVisible()
        assert not dialog.passphrase.isVisible()
        assert dialog.sign_button.text() == "Set passphrase and sign"
        # When she types a wrong PIN, Then nothing is set
        for pin in ("135790", PIN):
            tab_in_dialog_to(dialog.pin)
            type_text(pin)
            key(TAB)
            type_text(PASSPHRASE)
            key(TAB)
            type_text(PASSPHRASE)
            key(ENTER)
            if dialog.isVisible():
                said.append(dialog.message.text())
                assert not app.context.notes.keys.has_key(nurse.id)
                assert focus_widget() is dialog.pin

    app.ready()
    with app.answering(set_and_sign):
        page.parts["monitoring"].sign_button.setFocus()
        key(SPACE)
        app.qtbot.waitUntil(lambda: page.dialog is None, timeout=10_000)
    assert said[0].startswith(
        f"{nurse.signature_name} has no signing passphrase yet. Confirm with your PIN, then "
        "choose a signing passphrase (at least 8 characters"
    )
    assert said[1].startswith("That PIN is not right. The signing passphrase was not set")
    # Then the monitoring part is signed with her new key, and verifies
    session_id = app.session().id
    signed = app.context.notes.state(session_id).signed["monitoring"]
    key_now = app.context.notes.keys.unlock(nurse.id, PASSPHRASE, purpose="test").key
    assert key_now is not None
    assert signed.staff_id == nurse.id and signed.public_key == key_now.public_key
    assert SignatureRepository(app.context.database).verify(session_id) == {
        "monitoring": SignatureCheck.VALID
    }
    actions = [a.action for a in AuditRepository(app.context.database).for_session(session_id)]
    assert "pin.refused" in actions and "sign.monitoring" in actions
    app.leave_session()
