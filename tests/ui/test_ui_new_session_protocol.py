"""A new session starts on the protocol of the client's last session (a sublingual client is not
offered IV first); a client with no session yet gets the dialog's first protocol. By keyboard:
Ctrl+F, the name, Enter to the list, Enter on the client."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from ui_harness import RunningApp, describe, key

from kapsession.ui.dialogs import NewSessionDialog

CTRL = Qt.KeyboardModifier.ControlModifier


def _offered_protocol(app: RunningApp, name: str) -> tuple[str, str]:
    """Open the new-session dialog for the client `name` by keyboard; what protocol it starts
    on and which is its first (then Escape: nothing starts)."""
    app.key(Qt.Key.Key_F, CTRL)
    app.key(Qt.Key.Key_A, CTRL)  # the last search replaced
    app.type(name.split()[-1])  # the family name finds them
    app.key(Qt.Key.Key_Return)
    seen: list[tuple[str, str]] = []

    def note(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog), describe(dialog)
        assert [i.text() for i in dialog.clients.selectedItems()] == [name]
        seen.append((dialog.protocol.currentData(), dialog.protocol.itemData(0)))
        key(Qt.Key.Key_Escape)

    with app.answering(note):
        app.key(Qt.Key.Key_Return)
    return seen[0]


def test_a_new_session_starts_on_the_clients_last_protocol(app: RunningApp) -> None:
    # Given Maya's last session sublingual and Jonas's intramuscular, both ended; Lena new
    app.start_session("Maya Fischer", protocol_key="sublingual-kap-3h")
    app.end_by_keyboard()
    app.leave_session()
    app.start_session("Jonas Weber", protocol_key="intramuscular-kap")
    app.end_by_keyboard()
    app.leave_session()
    app.context.service.add_client("Lena", "Okafor", at=app.clock.now())
    app.controller.refresh_start()

    # When the new-session dialog opens for each, Then it is on their last protocol
    maya, first = _offered_protocol(app, "Maya Fischer")
    assert maya == "sublingual-kap-3h" != first
    assert _offered_protocol(app, "Jonas Weber")[0] == "intramuscular-kap"
    # And a client without sessions gets the first protocol offered
    lena, first = _offered_protocol(app, "Lena Okafor")
    assert lena == first
    assert app.context.service.sessions.count() == 2  # nothing more was started
