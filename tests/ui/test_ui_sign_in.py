"""Sign-in, lock and switching person (issue 18), on the real window over a real data folder.

The window opens covered by the sign-in outside training mode; the first run creates the
administrator; a staff member's first sign-in sets their own PIN with the administrator's
setup code; the screen locks after the idle time (its timer driven here, no waiting) or on
Ctrl+L, showing no names, notes or values while the session runs on under it; the PIN of the
person signed in unlocks it, anyone else switches in with theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from support.signing_in import ADMIN_PASSPHRASE, ADMIN_PIN
from ui_harness import (
    START,
    MakeApp,
    ModalGuard,
    RunningApp,
    data_dir_context,
    describe,
    focus_widget,
    key,
    room_theme,
    type_text,
)

from kapsession.domain.clock import FakeClock
from kapsession.services.access import AccessService
from kapsession.services.pins import LOCKOUT_FAILURES, wait_after
from kapsession.ui.app_controller import AppController
from kapsession.ui.main_window import MainWindow
from kapsession.ui.staff_accounts_dialog import PassphraseDialog, StaffAccountsDialog

CTRL = Qt.KeyboardModifier.ControlModifier
ENTER = Qt.Key.Key_Return
TAB = Qt.Key.Key_Tab
NURSE_PIN = "640213"

CoveredApp = Callable[..., RunningApp]


@pytest.fixture
def covered_app(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path, modal_guard: ModalGuard
) -> Iterator[CoveredApp]:
    """`covered_app(prepare=)`: the window as it opens, nobody signed in; `prepare(access)`
    runs on the data first (an administrator, accounts)."""
    contexts = []

    def make(prepare: Callable[[AccessService], None] | None = None) -> RunningApp:
        room_theme(qapp)
        clock = FakeClock(START)
        context = data_dir_context(tmp_path / "data", clock)
        contexts.append(context)
        if prepare is not None:
            prepare(context.access)
        window = MainWindow(training=False)
        qtbot.addWidget(window)
        controller = AppController(window, context, training=False)
        window.show()
        qtbot.waitExposed(window)
        app = RunningApp(qtbot, context, clock, window, controller, modal_guard)
        app.ready()
        return app

    yield make
    for context in contexts:
        context.close()


def admin_signed_up(access: AccessService) -> None:
    access.create_administrator("Lena Hart", ADMIN_PASSPHRASE, ADMIN_PASSPHRASE)


def visible_texts(root: QWidget) -> list[str]:
    """Every text the widgets in view under `root` show: labels, fields, buttons, lists."""
    texts = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            texts.append(widget.text())
        elif isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        texts += [widget.toolTip(), widget.accessibleName()]
    return [t for t in texts if t]


def test_training_mode_opens_without_sign_in_and_says_training(make_app: MakeApp) -> None:
    # Given the app in training mode, When it opens, Then no sign-in covers it
    app = make_app(training=True)
    assert not app.controller.access.locked
    assert app.window.screen_name == "start" and app.ready() is app.start_view.search
    # And the training marker shows, on the screen and in the title
    assert app.start_view.training.isVisible() and "TRAINING" in app.window.windowTitle()
    # And Ctrl+L locks nothing: it says why
    app.key(Qt.Key.Key_L, CTRL)
    assert not app.controller.access.locked
    assert "Training mode has no sign-in" in app.window.statusBar().currentMessage()


def test_the_first_run_creates_the_administrator_who_signs_in_by_keyboard(
    covered_app: CoveredApp,
) -> None:
    # Given a new data folder, When the app opens, Then it asks for the administrator first
    app = covered_app()
    access = app.controller.access
    screen = access.screen
    assert access.locked and screen.page == "first-run"
    assert not app.window.stack.isEnabled()  # nothing under the cover takes keys
    # When a short passphrase is typed, Then it is refused with what to do
    app.type("Lena Hart")
    app.key(TAB)
    app.type("short")
    app.key(TAB)
    app.type("short")
    app.key(ENTER)
    assert "at least 10 characters" in screen.message.text()
    assert access.access.needs_administrator()
    # When the name and a long passphrase are typed twice
    app.ready()
    screen.admin_name.setFocus()
    app.key(TAB)
    app.type(ADMIN_PASSPHRASE)
    app.key(TAB)
    app.type(ADMIN_PASSPHRASE)
    app.key(ENTER)
    # Then the administrator exists and signs in once with the passphrase, choosing a PIN
    assert screen.page == "sign-in" and screen.chosen() is not None
    assert screen.chosen().admin and screen.chosen().needs_setup  # type: ignore[union-attr]
    assert app.ready() is screen.proof
    app.type(ADMIN_PASSPHRASE)
    app.key(TAB)
    app.type(ADMIN_PIN)
    app.key(TAB)
    app.type(ADMIN_PIN)
    app.key(ENTER)
    # And the start screen is theirs
    assert not access.locked, screen.message.text()
    assert app.window.stack.isEnabled() and app.ready() is app.start_view.search
    admin = app.context.access.staff.administrators()[0]
    assert app.controller.access.signed_in == admin.id and admin.display_name == "Lena Hart"


def test_a_first_sign_in_sets_the_owners_pin_with_the_setup_code(covered_app: CoveredApp) -> None:
    # Given an account the administrator made, and its setup code (handed to its owner)
    made = []

    def prepare(access: AccessService) -> None:
        admin_signed_up(access)
        made.append(access.add_staff(ADMIN_PASSPHRASE, "Nadia Brook", "nurse", credentials="RN"))

    app = covered_app(prepare)
    screen = app.controller.access.screen
    nadia = made[0]
    assert screen.page == "sign-in"
    screen.choose(nadia.staff.id)
    assert screen.proof.isVisible() and not screen.pin.isVisible()
    # When someone types a wrong code with a PIN of their choosing, Then no PIN is set
    app.type("ZZZZ-ZZZZ")
    app.key(TAB)
    app.type("482916")
    app.key(TAB)
    app.type("482916")
    app.key(ENTER)
    assert "not the setup code" in screen.message.text()
    assert app.controller.access.locked and app.context.access.needs_first_sign_in(nadia.staff.id)
    # When Nadia types her code and her own PIN twice
    assert app.ready() is screen.proof
    app.type(nadia.setup_code)
    app.key(TAB)
    app.type(NURSE_PIN)
    app.key(TAB)
    app.type(NURSE_PIN)
    app.key(ENTER)
    # Then she is signed in with the PIN she chose
    assert not app.controller.access.locked, screen.message.text()
    assert app.controller.access.signed_in == nadia.staff.id
    assert app.context.access.sign_in(nadia.staff.id, NURSE_PIN).ok


def test_a_pin_of_the_old_4_digit_rule_is_changed_at_sign_in(covered_app: CoveredApp) -> None:
    from argon2 import PasswordHasher

    ids = []

    def prepare(access: AccessService) -> None:
        admin_signed_up(access)
        member = access.staff.add("Tom Becker", "nurse", at=START, credentials="RN")
        old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("4826")
        access.staff.set_pin_hash(member.id, old, at=START, by=member.id)
        ids.append(member.id)

    app = covered_app(prepare)
    screen = app.controller.access.screen
    screen.choose(ids[0])
    # When Tom signs in with his 4-digit PIN, Then he must choose a new one first
    app.type("4826")
    app.key(ENTER)
    assert screen.page == "change-pin" and "at least 6" in screen.change_about.text()
    assert app.controller.access.locked
    app.type("4826")  # still too short: refused
    app.key(TAB)
    app.type("4826")
    app.key(ENTER)
    assert screen.page == "change-pin" and "6 to 12 digits" in screen.message.text()
    app.ready()
    screen.change_pin.setFocus()
    app.type(NURSE_PIN)
    app.key(TAB)
    app.type(NURSE_PIN)
    app.key(ENTER)
    assert not app.controller.access.locked, screen.message.text()
    assert app.context.access.sign_in(ids[0], NURSE_PIN).ok


def test_only_the_administrators_passphrase_opens_the_staff_accounts(app: RunningApp) -> None:
    # Given a signed-in window (the harness signs in the administrator)
    def wrong_then_right(dialog: QWidget) -> None:
        assert isinstance(dialog, PassphraseDialog), describe(dialog)
        type_text("a guess at it")
        key(ENTER)
        assert dialog.isVisible() and "not the administrator's passphrase" in dialog.message.text()
        type_text(ADMIN_PASSPHRASE)
        key(ENTER)

    codes: list[str] = []

    def add_nadia(dialog: QWidget) -> None:
        assert isinstance(dialog, StaffAccountsDialog), describe(dialog)
        assert focus_widget() is dialog.name
        type_text("Nadia Brook")
        dialog.credentials.setText("RN")
        dialog.add_button.click()
        assert dialog.code.isVisible(), dialog.problem.text()
        codes.append(dialog.code.text())
        dialog.accept()

    # When Staff accounts is asked for: the passphrase (a wrong one first), then an account
    with app.answering(wrong_then_right, add_nadia):
        app.start_view.staff_button.click()
    # Then the account is made, waiting for its owner's first sign-in with the code shown
    nadia = next(s for s in app.context.service.staff.active() if s.display_name == "Nadia Brook")
    assert app.context.access.needs_first_sign_in(nadia.id)
    assert "Setup code for Nadia Brook, RN: " in codes[0]
    # When the passphrase is not given (Escape), Then nothing opens
    with app.answering(lambda _d: key(Qt.Key.Key_Escape)) as seen:
        app.start_view.staff_button.click()
    assert [a.kind for a in seen] == ["PassphraseDialog"]


def lock_by_idle(app: RunningApp) -> None:
    """The idle time runs out (its timer driven: nothing waits)."""
    idle = app.controller.access.idle
    assert idle.isActive() and idle.interval() == 5 * 60_000  # clinic.toml's default
    idle.timeout.emit()


def test_the_idle_lock_covers_the_live_screen_showing_no_names_notes_or_values(
    app: RunningApp,
) -> None:
    # Given a live session: a note, a reading with values
    app.start_session("Maya Fischer")
    live = app.controller.live
    assert live is not None
    (maya,) = live.participants
    app.advance(60)
    assert live.save_checkin(maya.id, {"systolic_mmhg": "188", "diastolic_mmhg": "97"})
    assert live.add_marker("Asked for the blanket, spoke of her sister Clara") is not None
    texts_before = " ".join(visible_texts(app.window))
    assert "Maya Fischer" in texts_before
    # When the idle time runs out
    lock_by_idle(app)
    access = app.controller.access
    # Then the lock covers the window, the PIN field has the keys, the screens take none
    assert access.locked and access.screen.page == "locked"
    assert app.ready() is access.screen.unlock_pin
    assert not app.window.stack.isEnabled() and not app.window.statusBar().isVisible()
    # And in view there is no name, no note, no value: walk every widget's text
    shown = " ".join(visible_texts(access.screen))
    staff = [s.display_name for s in app.context.service.staff.all()]
    for secret in ("Maya", "Fischer", "Clara", "blanket", "188", "97", *staff):
        assert secret not in shown, (secret, shown)
    assert "Maya" not in app.window.windowTitle()
    # And the session goes on underneath: its clock moves on the lock face
    before = access.screen.face_clock.text()
    assert before.startswith("Session time ")
    app.advance(60)
    assert access.screen.face_clock.text() != before
    assert live.is_live and live._timer.isActive()
    # And the keys of the live screen do nothing while locked (Ctrl+E would ask to end it)
    app.key(Qt.Key.Key_E, CTRL)
    assert access.locked and focus_widget() is access.screen.unlock_pin
    assert live.is_live
    # When the PIN of the person signed in is typed, Then it unlocks onto the live screen
    app.type(ADMIN_PIN)
    app.key(ENTER)
    assert not access.locked and app.window.screen_name == "live"
    assert app.controller.access.idle.isActive()
    app.leave_session()


def test_the_lock_face_counts_the_check_ins_due_without_naming_anyone(app: RunningApp) -> None:
    app.start_session("Maya Fischer")
    app.key(Qt.Key.Key_L, CTRL)
    face = app.controller.access.face()
    assert "check-in" in face.checkins.lower()
    assert "Maya" not in face.checkins and face.clock.startswith("Session time ")
    app.type(ADMIN_PIN)
    app.key(ENTER)
    app.leave_session()


def test_a_wrong_pin_is_refused_and_another_person_switches_in_by_pin(app: RunningApp) -> None:
    # Given a live session, a nurse with her PIN, and the screen locked with Ctrl+L
    _therapist, nurse = app.usual_staff()
    app.context.notes.pins.set_pin(nurse.id, NURSE_PIN, NURSE_PIN)
    app.start_session("Maya Fischer")
    app.key(Qt.Key.Key_L, CTRL)
    access = app.controller.access
    assert access.locked
    # When a wrong PIN is typed, Then it stays locked and says so
    app.type("111111")
    app.key(ENTER)
    assert access.locked and "not right" in access.screen.message.text()
    # When the nurse uses Switch person and types her own PIN
    access.screen.switch_button.click()
    screen = access.screen
    assert screen.page == "sign-in" and screen.back_button.isVisible()
    screen.choose(nurse.id)
    app.ready()
    screen.pin.setFocus()
    app.type(NURSE_PIN)
    app.key(ENTER)
    # Then she is working from now on: unlocked, and every entry of the session is hers
    assert not access.locked, screen.message.text()
    assert access.signed_in == nurse.id
    assert app.controller.live is not None and app.controller.live.at_keyboard == nurse.id
    app.leave_session()


def test_a_locked_out_account_never_keeps_another_staff_member_out(app: RunningApp) -> None:
    # Given the screen locked during a session, and the nurse with her PIN
    _therapist, nurse = app.usual_staff()
    app.context.notes.pins.set_pin(nurse.id, NURSE_PIN, NURSE_PIN)
    app.start_session("Maya Fischer")
    app.key(Qt.Key.Key_L, CTRL)
    access = app.controller.access
    # When 5 wrong PINs are typed for the person signed in (the waits between them passing)
    for failures in range(LOCKOUT_FAILURES):
        app.clock.advance(wait_after(failures) + 0.1)
        app.ready()
        app.type("111111")
        app.key(ENTER)
    # Then that account is locked out for 5 minutes, even its right PIN
    assert "locked until" in access.screen.message.text()
    assert "(5 more minutes)" in access.screen.message.text()
    app.type(ADMIN_PIN)
    app.key(ENTER)
    assert access.locked and "locked until" in access.screen.message.text()
    # And the nurse switches in with her own PIN at once
    access.screen.switch_button.click()
    access.screen.choose(nurse.id)
    app.ready()
    access.screen.pin.setFocus()
    app.type(NURSE_PIN)
    app.key(ENTER)
    assert not access.locked, access.screen.message.text()
    app.leave_session()


def test_the_idle_time_is_the_clinics(make_app: MakeApp, tmp_path: Path) -> None:
    # Given a clinic.toml asking for 2 minutes
    data = tmp_path / "clinic-data"
    data.mkdir()
    text = (Path(__file__).parents[2] / "assets" / "clinic.toml").read_text(encoding="utf-8")
    (data / "clinic.toml").write_text(
        text.replace("idle_lock_minutes = 5", "idle_lock_minutes = 2"), encoding="utf-8"
    )
    # When the app opens and someone signs in, Then the screen locks after 2 minutes idle
    app = make_app(data_dir=data)
    assert app.controller.access.idle.interval() == 2 * 60_000
    assert app.controller.access.idle.isActive()


THERAPIST_PIN = "731904"


def switch_in_at_the_lock(app: RunningApp, staff_id: object, pin: str) -> None:
    """Ctrl+L, Switch person, the name chosen, their PIN and Enter: by keyboard."""
    access = app.controller.access
    app.key(Qt.Key.Key_L, CTRL)
    assert access.locked
    access.screen.switch_button.click()
    access.screen.choose(staff_id)  # type: ignore[arg-type]
    app.ready()
    access.screen.pin.setFocus()
    app.type(pin)
    app.key(ENTER)
    assert not access.locked, access.screen.message.text()


def test_whoever_types_their_pin_is_at_the_keyboard_within_their_roles_rules(
    app: RunningApp,
) -> None:
    # Given a live session, its therapist and nurse with their PINs (the harness signed in the
    # administrator before it opened: its entries go to the team's names)
    therapist, nurse = app.usual_staff()
    pins = app.context.notes.pins
    pins.set_pin(therapist.id, THERAPIST_PIN, THERAPIST_PIN)
    pins.set_pin(nurse.id, NURSE_PIN, NURSE_PIN)
    app.start_session("Maya Fischer")
    live = app.controller.live
    assert live is not None and live.at_keyboard is None
    (maya,) = live.participants
    failures: list[str] = []
    live.entry_failed.connect(failures.append)
    # When the therapist switches in at the lock screen with her PIN
    switch_in_at_the_lock(app, therapist.id, THERAPIST_PIN)
    # Then she is at the keyboard: the team bar says so, and her marker is hers
    assert live.at_keyboard == therapist.id
    assert therapist.signature_name in app.live_view.team_bar.keyboard.text()
    assert live.add_marker("Eyes closed, breathing slowly") is not None
    assert app.events("marker")[-1].recorded_by_id == therapist.id
    # And her role's rule still holds: a therapist records no vitals, and nothing is stored
    app.advance(60)
    assert live.save_checkin(maya.id, {"systolic_mmhg": "128", "diastolic_mmhg": "82"}) is None
    assert app.observations() == []
    assert "does not record monitoring entries" in failures[-1]
    # When someone else is put at the keyboard (Ctrl+W) and the therapist unlocks the screen
    live.switch_to(nurse.id)
    app.key(Qt.Key.Key_L, CTRL)
    app.type(THERAPIST_PIN)
    app.key(ENTER)
    # Then the person who unlocked is at the keyboard again: entries are not the nurse's
    assert not app.controller.access.locked
    assert live.at_keyboard == therapist.id
    # When the nurse switches in with her PIN, Then her check-in is saved as hers
    switch_in_at_the_lock(app, nurse.id, NURSE_PIN)
    assert live.at_keyboard == nurse.id
    assert live.save_checkin(maya.id, {"systolic_mmhg": "128", "diastolic_mmhg": "82"})
    assert [o.recorded_by_id for o in app.observations()] == [nurse.id]
    live.entry_failed.disconnect(failures.append)
    app.leave_session()


def other_windows_in_view(app: RunningApp) -> list[str]:
    """Every window in view but the main one (covered by the lock), with what it shows."""
    return [
        f"{type(w).__name__} {w.windowTitle()!r}: {' '.join(visible_texts(w))}"
        for w in QApplication.topLevelWidgets()
        if w.isWindow() and w.isVisible() and w is not app.window
    ]


@pytest.mark.parametrize(
    ("opened_by", "kind"),
    [
        ((Qt.Key.Key_E, Qt.KeyboardModifier.NoModifier), "adverse event dialog"),
        ((Qt.Key.Key_E, CTRL), "message box"),
        ((Qt.Key.Key_W, CTRL), "switch dialog"),
    ],
    ids=["adverse-event", "end-question", "switch-person"],
)
@pytest.mark.parametrize("locked_by", ["idle", "ctrl+l"])
def test_the_lock_closes_an_open_dialog_so_nothing_beside_it_shows_a_name_or_value(
    app: RunningApp, opened_by: tuple[Qt.Key, Qt.KeyboardModifier], kind: str, locked_by: str
) -> None:
    # Given a live session with a reading
    app.start_session("Maya Fischer")
    live = app.controller.live
    assert live is not None
    (maya,) = live.participants
    app.advance(60)
    assert live.save_checkin(maya.id, {"systolic_mmhg": "188", "diastolic_mmhg": "97"})
    access = app.controller.access
    seen: list[list[str]] = []

    def lock_while_open(dialog: QWidget) -> None:
        assert dialog.isVisible(), kind
        # When the screen locks while the dialog is open
        if locked_by == "idle":
            lock_by_idle(app)
        else:
            key(Qt.Key.Key_L, CTRL)  # typed in the dialog
        # Then the lock is up and no window but the covered main window is in view
        assert access.locked and access.screen.page == "locked"
        seen.append(other_windows_in_view(app))
        assert not dialog.isVisible()

    with app.answering(lock_while_open):
        app.key(*opened_by)
    assert seen == [[]]
    assert other_windows_in_view(app) == []
    shown = " ".join(visible_texts(access.screen)) + app.window.windowTitle()
    for secret in ("Maya", "Fischer", "188", "97"):
        assert secret not in shown, (secret, shown)
    # And the session goes on, not ended by the closed question
    assert live.is_live
    # When the person signed in unlocks, Then they are told what was closed, to open it again
    assert app.ready() is access.screen.unlock_pin
    app.type(ADMIN_PIN)
    app.key(ENTER)
    assert not access.locked and app.window.screen_name == "live"
    said = app.live_view.failure.text()
    assert "The screen locked while" in said and "Open it again" in said, said
    app.leave_session()
