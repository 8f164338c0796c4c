"""Who is at the keyboard, through the real window by keyboard: the team bar says who the
entries go to, and they do; Ctrl+W switches the person with their own PIN (or a first PIN they
set there); Ctrl+Shift+W records a handover; a signature the role rules do not allow is
refused; a session does not start without its team."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QWidget
from support.signing import PASSPHRASE, give_passphrase
from ui_harness import (
    ModalHandler,
    RunningApp,
    describe,
    focus_widget,
    key,
    tab_in_dialog_to,
    type_text,
)

from kapsession.domain.roles import TeamRole
from kapsession.records.people import StaffRecord
from kapsession.services.pins import SWITCH_PURPOSE
from kapsession.storage.audit import AuditRepository
from kapsession.storage.notes import NoteRepository
from kapsession.ui.dialogs import NewSessionDialog
from kapsession.ui.live_view import RECORD
from kapsession.ui.sign_dialog import SignDialog, not_signed_in_yet
from kapsession.ui.team_dialogs import HandoverDialog, SwitchPersonDialog

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
ENTER, ESCAPE, SPACE = Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Space
PIN = "246813"
CALM = ("124", "80", "72", "98")


def with_pin(
    app: RunningApp, name: str, role: str = "nurse", credentials: str = "RN"
) -> StaffRecord:
    """A staff member who has set their PIN."""
    member = app.add_staff(name, role, credentials)
    app.context.notes.pins.set_pin(member.id, PIN, PIN)
    return member


def back_tab_to(target: QWidget, *, limit: int = 10) -> None:
    """Shift+Tab until `target` has the keys (from the PIN up to who and what: no button is
    crossed, so none becomes the one Enter presses)."""
    for _ in range(limit):
        if focus_widget() is target:
            return
        key(Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    raise AssertionError(f"Shift+Tab never reached {target.accessibleName()!r}")


def choose_in(combo: QComboBox, text: str, *, back: bool = False) -> None:
    """Tab (or Shift+Tab) to a drop-down and move it with the arrow keys until it shows
    `text`."""
    if back:
        back_tab_to(combo)
    else:
        tab_in_dialog_to(combo)
    wanted = combo.findText(text)
    assert wanted >= 0, f"{text!r} is not offered in {combo.accessibleName()!r}"
    while combo.currentIndex() != wanted:
        key(Qt.Key.Key_Down if combo.currentIndex() < wanted else Qt.Key.Key_Up)


def switch_to(name: str, pin: str = PIN) -> ModalHandler:
    """An answer to Ctrl+W: choose the person, type their PIN, Enter."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, SwitchPersonDialog), describe(dialog)
        choose_in(dialog.signer, back=True, text=name)
        tab_in_dialog_to(dialog.pin)
        type_text(pin)
        key(ENTER)

    return handler


def keyboard_line(app: RunningApp) -> str:
    bar = app.live_view.team_bar
    return f"{bar.keyboard.text()} {bar.team.text()}"


def observations_by(app: RunningApp) -> list[object]:
    return [o.recorded_by_id for o in app.observations()]


def test_without_a_switch_the_entries_go_to_the_team_as_the_bar_says(app: RunningApp) -> None:
    # Given a session whose team is the room's therapist and nurse
    therapist = app.add_staff("Sam Lee", "therapist", "PsyD")
    nurse = app.add_staff("Ruth Okafor", "nurse", "RN")
    app.start_session("Maya Fischer")
    app.advance(10 * 60)
    # Then the bar says who the entries go to
    assert keyboard_line(app) == (
        "Entries go to the team: therapist Sam Lee, PsyD (notes) · monitoring Ruth Okafor, RN "
        "(vitals, doses)"
    )
    assert app.live_view.team_bar.keyboard.isVisible()
    # When a reading over the alert line is saved, acknowledged with A, and a note is written
    app.checkin_by_keyboard("184", "96", "80", "97")
    with app.answering(lambda _dialog: (key(Qt.Key.Key_3), key(ENTER))):  # prescriber informed
        app.key(Qt.Key.Key_A)
    app.key(Qt.Key.Key_N)
    app.type("Settled on the mat")
    app.key(ENTER)
    # Then the reading and the acknowledgement are the nurse's, the note the therapist's
    assert observations_by(app) == [nurse.id]
    (alert,) = app.alerts()
    assert alert.acknowledged_by_id == nurse.id
    (note,) = NoteRepository(app.context.database).notes(app.session().id)
    assert note.author_id == therapist.id
    app.leave_session()


def test_ctrl_w_and_her_pin_put_the_relief_nurse_at_the_keyboard(app: RunningApp) -> None:
    # Given a session monitored by Ruth, and Nadia, a relief nurse with her PIN
    nurse = app.add_staff("Ruth Okafor", "nurse", "RN")
    nadia = with_pin(app, "Nadia Brook")
    app.start_session("Maya Fischer", monitor_id=nurse.id)
    app.advance(10 * 60)
    # When Ctrl+W is pressed in the note box (a text field), Nadia chosen and her PIN typed
    app.key(Qt.Key.Key_N)
    with app.answering(switch_to("Nadia Brook, RN")) as seen:
        app.key(Qt.Key.Key_W, CTRL)
    # Then she is at the keyboard, as the bar says, and her readings and notes are hers
    assert [a.title for a in seen] == ["Who is at the keyboard"]
    assert app.live_view.team_bar.keyboard.text() == (
        "At the keyboard: Nadia Brook, RN — every entry is theirs."
    )
    assert "Team: therapist Sam Lee, PsyD · monitoring Ruth Okafor, RN" in keyboard_line(app)
    app.type("Asked for water")  # the keys are back in the note box
    app.key(ENTER)
    app.key(ESCAPE)
    app.checkin_by_keyboard(*CALM)
    assert observations_by(app) == [nadia.id]
    (note,) = NoteRepository(app.context.database).notes(app.session().id)
    assert (note.text, note.author_id) == ("Asked for water", nadia.id)
    # And the switch is in the audit trail with her name
    audit = AuditRepository(app.context.database).for_session(app.session().id)
    accepted = [a for a in audit if a.action == "pin.accepted"]
    assert [(a.staff_id, a.detail["purpose"]) for a in accepted] == [(nadia.id, SWITCH_PURPOSE)]

    # When Ctrl+W again and "Back to the team's names"
    def back_to_the_team(dialog: QWidget) -> None:
        assert isinstance(dialog, SwitchPersonDialog)
        tab_in_dialog_to(dialog.team_button)
        key(SPACE)

    with app.answering(back_to_the_team):
        app.key(Qt.Key.Key_W, CTRL)
    # Then the next reading is the monitoring nurse's again
    assert keyboard_line(app).startswith("Entries go to the team:")
    app.advance(60)
    app.checkin_by_keyboard(*CALM)
    assert observations_by(app) == [nadia.id, nurse.id]
    app.leave_session()


def test_a_wrong_pin_changes_nobody_at_the_keyboard(app: RunningApp) -> None:
    # Given a session and a relief nurse with her PIN
    nurse = app.add_staff("Ruth Okafor", "nurse", "RN")
    with_pin(app, "Nadia Brook")
    app.start_session("Maya Fischer", monitor_id=nurse.id)
    refusals: list[str] = []

    def wrong_pin(dialog: QWidget) -> None:
        assert isinstance(dialog, SwitchPersonDialog)
        choose_in(dialog.signer, back=True, text="Nadia Brook, RN")
        tab_in_dialog_to(dialog.pin)
        type_text("135792")
        key(ENTER)
        app.qtbot.waitUntil(dialog.message.isVisible, timeout=5000)  # after the refusal pause
        refusals.append(dialog.message.text())
        assert focus_widget() is dialog.pin
        key(ESCAPE)

    # When Ctrl+W, Nadia and a wrong PIN, then Escape
    with app.answering(wrong_pin):
        app.key(Qt.Key.Key_W, CTRL)
    # Then the dialog said so, and the entries still go to the team
    assert refusals == ["That PIN is not right. The person at the keyboard was not changed."]
    assert keyboard_line(app).startswith("Entries go to the team:")
    app.advance(60)
    app.checkin_by_keyboard(*CALM)
    assert observations_by(app) == [nurse.id]
    app.leave_session()


def test_someone_without_a_pin_is_not_given_one_in_the_switch_dialog(app: RunningApp) -> None:
    # Given a relief nurse who has no PIN yet (issue 18: she sets her own at her first sign-in)
    nadia = app.add_staff("Nadia Brook", "nurse", "RN")
    app.start_session("Maya Fischer")
    refusals: list[str] = []

    def try_to_set_her_pin(dialog: QWidget) -> None:
        assert isinstance(dialog, SwitchPersonDialog)
        choose_in(dialog.signer, back=True, text="Nadia Brook, RN")
        # Then no field offers to set a PIN for her: the dialog says what she does instead
        assert dialog.needs_first_sign_in() and not dialog.pin.isVisible()
        assert not dialog.sign_button.isEnabled()
        refusals.append(dialog.new_pin_note.text())
        key(ENTER)  # stores nothing
        assert dialog.isVisible()
        key(Qt.Key.Key_Escape)

    # When whoever has the keyboard chooses her with Ctrl+W
    with app.answering(try_to_set_her_pin):
        app.key(Qt.Key.Key_W, CTRL)
    # Then no PIN is set, nobody switched in, and the dialog said how she sets her own
    assert refusals == [not_signed_in_yet("Nadia Brook, RN")]
    assert refusals[0].startswith(
        "Nadia Brook, RN has not signed in yet: they sign in with the setup code from the "
        "administrator to set their own PIN"
    )
    assert not app.context.notes.pins.has_pin(nadia.id)
    assert app.controller.live is not None and app.controller.live.at_keyboard is None
    app.leave_session()


def test_ctrl_shift_w_records_a_handover_and_the_team_shown_changes(app: RunningApp) -> None:
    # Given a session monitored by Ruth, and Nadia with her PIN
    ruth = app.add_staff("Ruth Okafor", "nurse", "RN")
    nadia = with_pin(app, "Nadia Brook")
    app.start_session("Maya Fischer", monitor_id=ruth.id)
    app.advance(30 * 60)

    def nadia_takes_over_the_monitoring(dialog: QWidget) -> None:
        assert isinstance(dialog, HandoverDialog), describe(dialog)
        choose_in(dialog.place, back=True, text="Monitoring clinician")
        choose_in(dialog.signer, "Nadia Brook, RN")
        tab_in_dialog_to(dialog.pin)
        type_text(PIN)
        key(ENTER)

    # When Ctrl+Shift+W, the monitoring, Nadia and her PIN
    with app.answering(nadia_takes_over_the_monitoring) as seen:
        app.key(Qt.Key.Key_W, CTRL_SHIFT)
    # Then the handover is on the record with who and when, and the bar shows the new team
    assert [a.title for a in seen] == ["Hand over on the team"]
    (event,) = app.events("handover")
    assert (event.occurred_at, event.recorded_by_id) == (app.clock.now(), nadia.id)
    assert event.detail["role"] == TeamRole.MONITORING
    assert "monitoring Nadia Brook, RN (vitals, doses)" in keyboard_line(app)
    # And her readings are hers, without a switch
    app.checkin_by_keyboard(*CALM)
    assert observations_by(app) == [nadia.id]
    app.leave_session()


def test_a_handover_to_a_role_not_allowed_the_place_is_refused_before_the_pin(
    app: RunningApp,
) -> None:
    # Given a session and a nurse with her PIN
    with_pin(app, "Nadia Brook")
    app.start_session("Maya Fischer")
    said: list[str] = []

    def nurse_as_therapist(dialog: QWidget) -> None:
        assert isinstance(dialog, HandoverDialog)
        choose_in(dialog.place, back=True, text="Therapist")
        choose_in(dialog.signer, "Nadia Brook, RN")
        tab_in_dialog_to(dialog.pin)
        type_text(PIN)
        key(ENTER)
        said.append(dialog.message.text())
        key(ESCAPE)

    with app.answering(nurse_as_therapist):
        app.key(Qt.Key.Key_W, CTRL_SHIFT)
    assert said and said[0].startswith("Nadia Brook, RN cannot be the therapist")
    assert said[0].endswith("Nothing was handed over.")
    assert app.events("handover") == []
    # And her PIN was not even asked for
    audit = AuditRepository(app.context.database).for_session(app.session().id)
    assert [a.action for a in audit if a.action.startswith("pin.")] == []
    app.leave_session()


def test_the_monitoring_part_is_refused_to_the_therapist_and_signed_by_the_nurse(
    app: RunningApp,
) -> None:
    # Given an ended session, its therapist and nurse with their PINs and signing passphrases
    therapist = with_pin(app, "Sam Lee", "therapist", "PsyD")
    nurse = with_pin(app, "Ruth Okafor")
    for member in (therapist, nurse):
        give_passphrase(app.context.notes, member.id, PIN)
    app.start_session("Maya Fischer")
    app.advance(10 * 60)
    app.checkin_by_keyboard(*CALM)
    app.end_by_keyboard()
    app.live_view.show_tab(RECORD)
    page = app.controller.notes.session_note.page
    said: list[str] = []

    def therapist_then_nurse(dialog: QWidget) -> None:
        assert isinstance(dialog, SignDialog), describe(dialog)
        assert dialog.signer.currentText() == "Ruth Okafor, RN"  # offered: the monitoring nurse
        choose_in(dialog.signer, back=True, text="Sam Lee, PsyD")
        tab_in_dialog_to(dialog.passphrase)
        type_text(PASSPHRASE)
        key(ENTER)
        said.append(dialog.message.text())
        choose_in(dialog.signer, back=True, text="Ruth Okafor, RN")
        tab_in_dialog_to(dialog.passphrase)
        type_text(PASSPHRASE)
        key(ENTER)

    # When the therapist tries to sign the monitoring part, then the nurse signs it
    app.ready()
    with app.answering(therapist_then_nurse):
        page.parts["monitoring"].sign_button.setFocus()
        key(SPACE)
        app.qtbot.waitUntil(lambda: page.dialog is None, timeout=5000)
    # Then the therapist was refused with the rule, and the part is signed by the nurse
    assert said == [
        "Sam Lee, PsyD (therapist) may not sign the monitoring part: the clinic's role rules "
        "give it to a nurse, prescriber or physician. Nothing was signed; the monitoring "
        "clinician signs it."
    ]
    signed = app.context.notes.state(app.session().id).signed
    assert signed["monitoring"].staff_id == nurse.id
    assert therapist.id not in {s.staff_id for s in signed.values()}
    app.leave_session()


def test_a_session_does_not_start_without_a_therapist(app: RunningApp) -> None:
    # Given only a nurse on the staff list, and a client
    app.add_staff("Ruth Okafor", "nurse", "RN")
    app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.controller.refresh_start()
    said: list[str] = []

    def press_start(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog), describe(dialog)
        assert dialog.nurse.currentText() == "Ruth Okafor, RN"
        assert dialog.therapist.count() == 1  # no one the rules allow
        key(ENTER)
        said.append(dialog.problem.text())
        key(ESCAPE)

    # When Ctrl+Return opens the new-session dialog and Enter presses Start
    app.start_view.client_list.setFocus()
    app.start_view.client_list.setCurrentRow(0)
    with app.answering(press_start):
        app.key(ENTER, CTRL)
    # Then it says why and what to do, and no session started
    assert said == [
        "No one on the staff list may be the therapist (a therapist or physician, by the "
        "clinic's role rules). Add them with Add staff, then start the session."
    ]
    assert app.context.service.sessions.count() == 0
    assert app.controller.live is None


def test_the_new_session_dialog_names_the_team_with_a_monitor_per_participant(
    app: RunningApp,
) -> None:
    # Given the room's team, a relief nurse and a prescriber, and a couple of clients
    therapist = app.add_staff("Sam Lee", "therapist", "PsyD")
    nurse = app.add_staff("Ruth Okafor", "nurse", "RN")
    nadia = app.add_staff("Nadia Brook", "nurse", "RN")
    ines = app.add_staff("Ines Moreau", "prescriber", "NP")
    service = app.context.service
    for given, family in (("Jonas", "Weber"), ("Maya", "Fischer")):
        app.consent(service.add_client(given, family, at=app.clock.now()).id)
    app.controller.refresh_start()

    def couple_with_their_own_nurses(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog), describe(dialog)
        assert dialog.therapist.currentText() == "Sam Lee, PsyD"
        # the lists offer only who the rules allow
        assert [dialog.therapist.itemText(i) for i in range(dialog.therapist.count())] == [
            "— choose —",
            "Sam Lee, PsyD",
        ]
        choose_in(dialog.modality, "Couples")
        tab_in_dialog_to(dialog.clients)  # Maya is chosen already: Down to Jonas, Space
        key(Qt.Key.Key_Down)
        key(SPACE)
        assert len(dialog.clients.selectedItems()) == 2
        choose_in(dialog.nurse, "Ruth Okafor, RN")
        tab_in_dialog_to(dialog.per_participant)
        key(SPACE)
        QApplication.processEvents()  # the rows just added are shown from the event loop
        combos = dialog.monitor_combos()
        assert list(combos) == ["Maya Fischer", "Jonas Weber"]
        choose_in(combos["Jonas Weber"], "Nadia Brook, RN")
        choose_in(dialog.prescriber, "Ines Moreau, NP")
        key(ENTER)

    app.start_view.client_list.setCurrentRow(0)
    with app.answering(couple_with_their_own_nurses):
        app.key(ENTER, CTRL)
    record = app.session()
    by_name = {p.client.given_name: record.monitor_of(p.id) for p in record.participants}
    assert by_name == {"Jonas": nadia.id, "Maya": nurse.id}
    assert (record.therapist_id, record.prescriber_id) == (therapist.id, ines.id)
    assert "prescriber on site Ines Moreau, NP" in keyboard_line(app)
    assert "monitoring Ruth Okafor, RN (Maya), Nadia Brook, RN (Jonas)" in keyboard_line(app)
    app.leave_session()
