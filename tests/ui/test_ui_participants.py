"""The right client in couples and group sessions, on the real window by keyboard: every form,
dialog and note box names its participant; C opens the check-in of the participant the nurse
board lists as most urgent; a note's draft stays with the participant it was typed for when the
session is opened again, whoever is selected then; a session opens on its first tab.

The sessions are tests/support/multi_participant.py's couples and group sessions, left live 59
minutes in: everyone dosed (5 minutes apart), the first participant's T+15 done, the second's
due a minute later.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from support.multi_participant import LiveData, ParticipantData, copy_live
from ui_harness import MakeApp, RunningApp, describe, key

from kapsession.domain.clock import FakeClock
from kapsession.storage.notes import NoteRepository
from kapsession.ui.adverse_dialogs import AdverseEventDialog, InterventionDialog
from kapsession.ui.discharge_dialog import DischargeDialog
from kapsession.ui.note_pad import AmendDialog

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier
SHARED = ("couples", "group")


def _resumed(make_app: MakeApp, data: LiveData, folder: Path) -> RunningApp:
    """The app on a copy of the live session's folder, the session resumed by Enter on Resume."""
    app = make_app(data_dir=copy_live(data, folder), clock=FakeClock(data.now))
    assert app.ready() is app.start_view.resume_button
    app.key(Qt.Key.Key_Return)
    assert app.controller.live is not None
    assert app.controller.live.record.id == data.session.session_id
    return app


def _select(app: RunningApp, participant: ParticipantData) -> None:
    """Choose the participant in the session header's selector by keyboard."""
    app.choose(app.live_view.participant, participant.full_name)
    assert app.live_view.current_participant() == participant.participant_id


def _cancel_naming(seen: list[str], kind: type[QWidget]) -> Callable[[QWidget], None]:
    """An answer: note the dialog's title, then Escape."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, kind), describe(dialog)
        seen.append(dialog.windowTitle())
        key(Qt.Key.Key_Escape)

    return handler


@pytest.mark.parametrize("session_key", SHARED)
def test_every_form_and_box_names_the_participant_selected(
    make_app: MakeApp,
    live_multi_participant: dict[str, LiveData],
    tmp_path: Path,
    session_key: str,
) -> None:
    # Given a shared session resumed on the window
    data = live_multi_participant[session_key]
    app = _resumed(make_app, data, tmp_path / "data")
    view = app.live_view
    for participant in reversed(data.session.participants):
        name, others = participant.full_name, data.session.others(participant)
        # When the participant is chosen in the header
        _select(app, participant)

        # Then the check-in form names them, and no one else
        assert view.checkin_form.heading.text() == f"CHECK-IN — {name}"
        # And the note box and the private-note box name them
        app.key(Qt.Key.Key_N)
        assert view.note_pad.whose.text() == f"Note for {name}"
        app.key(Qt.Key.Key_Escape)  # out of the note box: the keys act on the screen again
        app.key(Qt.Key.Key_N, SHIFT)
        assert view.note_pad.whose.text() == f"Private note for {name}"
        assert view.note_pad.whose.isVisible()
        app.key(Qt.Key.Key_Escape)
        # And Ctrl+D, E and T open dialogs titled with their name (D opens none here: no
        # booster is due yet, which test_ui_dose_order covers)
        titles: list[str] = []
        with app.answering(_cancel_naming(titles, DischargeDialog)):
            app.key(Qt.Key.Key_D, CTRL)
        with app.answering(_cancel_naming(titles, AdverseEventDialog)):
            app.key(Qt.Key.Key_E)
        with app.answering(_cancel_naming(titles, InterventionDialog)):
            app.key(Qt.Key.Key_T)
        assert [t.endswith(f"— {name}") for t in titles] == [True, True, True], titles
        assert not any(o.full_name in " ".join(titles) for o in others)
    app.leave_session()


def test_the_alert_button_names_whose_alert_it_acknowledges(
    make_app: MakeApp, live_multi_participant: dict[str, LiveData], tmp_path: Path
) -> None:
    # Given the group session with its second participant's T+15 due
    data = live_multi_participant["group"]
    app = _resumed(make_app, data, tmp_path / "data")
    app.advance(2 * 60)
    second = data.session.participants[1]
    # When their T+15 is saved with a blood pressure over the alert limit
    app.checkin_by_keyboard("186", "96", "90", "96", "14", "", "4")
    # Then the alert's button names them
    assert app.live_view.alerts.isVisible()
    assert app.live_view.alerts.button.text() == f"Acknowledge — {second.full_name}  (A)"
    app.leave_session()


@pytest.mark.parametrize("session_key", SHARED)
def test_c_opens_the_check_in_of_the_participant_the_board_lists_first(
    make_app: MakeApp,
    live_multi_participant: dict[str, LiveData],
    tmp_path: Path,
    session_key: str,
) -> None:
    # Given a shared session whose second participant's T+15 has just fallen due, with the
    # first participant selected (nothing of theirs due)
    data = live_multi_participant[session_key]
    first, second = data.session.participants[:2]
    app = _resumed(make_app, data, tmp_path / "data")
    app.advance(2 * 60)
    view = app.live_view
    _select(app, first)
    assert view.board.item(0, 0).text() == second.full_name
    assert "due now" in view.board.item(0, 3).text()
    before = {o.id for o in app.observations()}

    # When C is pressed and the check-in typed and saved with Enter
    app.key(Qt.Key.Key_C)
    assert view.current_participant() == second.participant_id
    assert view.checkin_form.heading.text() == f"CHECK-IN — {second.full_name}"
    assert view.checkin_form.checkin.currentData() == "t15"
    assert app.ready() is view.checkin_form.fields["systolic_mmhg"]
    for index, value in enumerate(("131", "84", "77", "97", "14", "", "4")):
        if index:
            app.key(Qt.Key.Key_Tab)
        app.type(value)
    app.key(Qt.Key.Key_Return)

    # Then the reading is the second participant's T+15, and nothing was saved for the first
    (saved,) = [o for o in app.observations() if o.id not in before]
    assert (saved.participant_id, saved.checkin_key) == (second.participant_id, "t15")
    assert saved.values["systolic_mmhg"] == 131
    app.leave_session()


def test_c_stays_with_the_selected_participant_when_nothing_is_due(
    make_app: MakeApp, live_multi_participant: dict[str, LiveData], tmp_path: Path
) -> None:
    # Given the group session before anyone's next check-in is due, the last one selected
    data = live_multi_participant["group"]
    last = data.session.participants[-1]
    app = _resumed(make_app, data, tmp_path / "data")
    _select(app, last)
    # When C is pressed, Then the form is theirs (an extra check-in of the one on screen)
    app.key(Qt.Key.Key_C)
    assert app.live_view.current_participant() == last.participant_id
    assert app.live_view.checkin_form.heading.text() == f"CHECK-IN — {last.full_name}"
    app.leave_session()


@pytest.mark.parametrize("pad_name", ["record", "private"])
def test_a_draft_is_shown_and_saved_for_the_participant_it_was_typed_for(
    make_app: MakeApp, live_multi_participant: dict[str, LiveData], tmp_path: Path, pad_name: str
) -> None:
    # Given the couples session, a note typed for the second participant and left unsaved
    data = live_multi_participant["couples"]
    first, second = data.session.participants
    app = _resumed(make_app, data, tmp_path / "data")
    view = app.live_view
    _select(app, second)
    app.key(Qt.Key.Key_N, SHIFT if pad_name == "private" else NONE)
    text = f"For {second.given_name}: said the lake is warm"
    app.type(text)
    notes = NoteRepository(app.context.database)
    sid = data.session.session_id
    app.qtbot.waitUntil(lambda: notes.draft(sid, pad_name) is not None, timeout=3000)

    # When the session is left and resumed: the first participant is selected again
    app.leave_session()
    app.key(Qt.Key.Key_Return)  # Resume
    assert view.current_participant() == first.participant_id
    app.key(Qt.Key.Key_N, SHIFT if pad_name == "private" else NONE)

    # Then the box holds the draft, named as the second participant's note
    box = view.note_pad.inputs[pad_name]
    assert box.toPlainText() == text
    whose = "Private note" if pad_name == "private" else "Note"
    assert view.note_pad.whose.text() == f"{whose} for {second.full_name}"
    assert box.accessibleName() == f"{whose} for {second.full_name}"
    # And Enter saves it for the second participant, whoever is selected
    app.key(Qt.Key.Key_Return)
    rows = notes.private_notes(sid) if pad_name == "private" else notes.notes(sid, kinds=["entry"])
    assert {r.participant_id for r in rows if r.text == text} == {second.participant_id}
    # And the empty box is the selected participant's again
    assert view.note_pad.whose.text() == f"{whose} for {first.full_name}"
    # And amending the saved note names whose note it is
    (saved,) = [r for r in rows if r.text == text]
    titles: list[str] = []
    entries = view.note_pad.entries
    app.tab_to(entries)
    app.key(Qt.Key.Key_End)  # the newest entry
    assert entries.currentItem().data(Qt.ItemDataRole.UserRole) == saved.id
    with app.answering(_cancel_naming(titles, AmendDialog)):
        app.key(Qt.Key.Key_Return)
    assert titles == [f"Amend note — {second.given_name}"]
    app.leave_session()


def test_a_session_opens_on_its_first_tab(
    make_app: MakeApp, live_multi_participant: dict[str, LiveData], tmp_path: Path
) -> None:
    # Given a session left on the Notes tab
    data = live_multi_participant["couples"]
    app = _resumed(make_app, data, tmp_path / "data")
    app.key(Qt.Key.Key_N)
    assert app.live_view.tabs.currentWidget() is app.live_view.notes_page
    app.leave_session()
    # When another session is started, Then it opens on the check-in, the first tab
    app.start_session("Maya Fischer")
    assert app.live_view.tabs.currentIndex() == 0
    assert app.live_view.tabs.tabText(0).startswith("Check-in")
    app.leave_session()
