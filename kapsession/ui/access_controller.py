"""Who is signed in, and the lock (issue 18): the sign-in and lock screen, the idle lock, the
lock key, switching person by PIN, and the administrator's staff accounts.

Outside training mode the window opens covered by the sign-in (`LockScreen`): the first run
creates the clinic administrator; then a staff member chooses their name and types their PIN
(their first sign-in: the one-time setup code and the PIN they choose; a PIN of the old 4-digit
rule is changed there). After the clinic's idle time without a key or a click
(`clinic.toml` `[access] idle_lock_minutes`), or on Ctrl+L, the screen locks: the cover comes
back over the window, the window's screens are disabled (their keys do nothing), the status
line is emptied, and the open session keeps running underneath (its clock, its check-ins, its
music); the lock face shows the session time, how many check-ins are due and whether music
plays, nothing else. The PIN of the person signed in unlocks it; anyone else switches in with
their own PIN. Whoever types their PIN (signing in, unlocking, switching) while a session is
open is at its keyboard from then on: every entry is theirs (`LiveSession.switch_to`), within
what the clinic's role rules let their role record.

The lock covers everything: a dialog or message box open when it locks (the idle time, or
Ctrl+L typed in the dialog) is closed as Cancel or Escape would close it, storing nothing, and
an open popup list too; no other window stays in view with a name or a value. Whoever unlocks
is told what was closed, to open it again (`closed_by_lock`).

Training mode (`--training`, `demo`) has no sign-in and no lock: practice data, marked
"TRAINING" on every screen.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from kapsession.domain.timeline import CheckinStatus
from kapsession.records.errors import StorageError
from kapsession.records.music import MusicState
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession
from kapsession.services.pins import PinProblem
from kapsession.ui.formatting import clock_text
from kapsession.ui.main_window import MainWindow

if TYPE_CHECKING:  # imported when the sign-in or the lock is first needed (never in training)
    from kapsession.services.access import AccessService
    from kapsession.ui.lock_screen import Account, LockFace, LockScreen

log = logging.getLogger(__name__)

IDLE_TIMER = "kapsession-idle-lock"  # the idle lock's timer (runs while someone is signed in)
SWITCH_PURPOSE = "switch person at the lock screen"
LOCK_KEY = QKeyCombination(Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_L)  # as keymap's "lock"
ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class AccessController(QObject):
    def __init__(
        self,
        window: MainWindow,
        access: Callable[[], AccessService],
        *,
        training: bool,
        idle_lock_minutes: int,
        live: Callable[[], LiveSession | None],
        music: Callable[[], MusicSession | None],
        parent: QObject | None = None,
    ) -> None:
        """`access`: the accounts' service, asked for when first needed; `live`, `music`: the
        open session and its music (None: none open). The sign-in and lock screen is built
        when it is first shown: at once outside training mode, never in it."""
        super().__init__(parent)
        self.window = window
        self._access = access
        self.training = training
        self._live = live
        self._music = music
        self.signed_in: uuid.UUID | None = None  # who is working (None: nobody, or training)
        self._pending_pin = ""  # a 4-digit PIN just typed, to change it (kept only meanwhile)
        self._pending_person: uuid.UUID | None = None
        self._watched: LiveSession | None = None
        self._focus_before: QWidget | None = None  # where the keys were when it locked
        # the titles of the dialogs the last lock closed, said to whoever unlocks
        self.closed_by_lock: list[str] = []
        self.idle = QTimer(self)
        self.idle.setObjectName(IDLE_TIMER)
        self.idle.setSingleShot(True)
        self.idle.setInterval(idle_lock_minutes * 60_000)
        self.idle.timeout.connect(self._idle_ran_out)
        self._screen: LockScreen | None = None
        window.lock_requested.connect(self.lock)
        if not training:
            self._cover()
            self._show_entry()

    @property
    def access(self) -> AccessService:
        return self._access()

    @property
    def screen(self) -> LockScreen:
        """The sign-in and lock screen over the window (built when first asked for)."""
        if self._screen is None:
            from kapsession.ui.lock_screen import LockScreen

            self._screen = screen = LockScreen(self.window)
            self.window.set_cover(screen)
            self._connect(screen)
        return self._screen

    def _connect(self, screen: LockScreen) -> None:
        screen.administrator_requested.connect(self.create_administrator)
        screen.sign_in_requested.connect(self.sign_in)
        screen.first_sign_in_requested.connect(self.first_sign_in)
        screen.change_pin_requested.connect(self.change_pin)
        screen.unlock_requested.connect(self.unlock)
        screen.switch_requested.connect(self._show_switch)
        screen.back_requested.connect(self._show_locked)
        screen.accounts_requested.connect(self.manage_accounts)

    # state -----------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """The cover is over the window: nobody signed in yet, or the screen locked."""
        # (isVisible is False until the window is shown)
        return self._screen is not None and not self._screen.isHidden()

    def stop(self) -> None:
        """At exit: the idle timer and the watching of input stop."""
        self.idle.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    # the idle lock ---------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY and self.idle.isActive():
            self.idle.start()  # from now on again
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.keyCombination() == LOCK_KEY
            and isinstance(watched, QWidget)
            and watched.window() is not self.window
            and self.signed_in is not None
            and not self.locked
        ):
            self.lock()  # Ctrl+L in a dialog: the window's own shortcut does not reach it
            return True
        return False

    def _watch_input(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
            app.installEventFilter(self)
        self.idle.start()

    def _idle_ran_out(self) -> None:
        log.info("idle: the screen locks")
        self.lock()

    # locking -----------------------------------------------------------------------------------
    def lock(self) -> None:
        """Ctrl+L or the idle time: the cover over the window, the session running under it."""
        if self.training:
            self.window.statusBar().showMessage(
                "Training mode has no sign-in, so nothing locks: practice data only.", 8000
            )
            return
        if self.signed_in is None or self.locked:
            return
        self.idle.stop()
        focus = QApplication.focusWidget()
        self._focus_before = focus if focus is not None and focus.window() is self.window else None
        self._close_other_windows()
        self._cover()
        self._show_locked()
        self._follow(self._live())

    def _close_other_windows(self) -> None:
        """Every dialog, message box and popup in view closes as Cancel or Escape would: none
        stays beside the lock with a name or a value (issue 18). The innermost first; each
        caller's `exec` returns as if cancelled once the lock is up."""
        popup = QApplication.activePopupWidget()
        while popup is not None:
            popup.close()
            following = QApplication.activePopupWidget()
            popup = following if following is not popup else None
        done: set[int] = set()
        while True:
            others = [
                w
                for w in QApplication.topLevelWidgets()
                if self._covers_nothing(w) and id(w) not in done
            ]
            if not others:
                return
            widget = QApplication.activeModalWidget()
            if widget is None or widget not in others:
                widget = others[0]
            title = widget.windowTitle().strip()
            if title and title not in self.closed_by_lock:
                self.closed_by_lock.append(title)
            done.add(id(widget))
            log.info("lock: a %s was closed", type(widget).__name__)
            if isinstance(widget, QDialog):
                widget.reject()
            if widget.isVisible():
                widget.hide()

    def _covers_nothing(self, widget: QWidget) -> bool:
        """A window in view that the lock's cover does not cover: any but the main window."""
        return widget is not self.window and widget.isWindow() and widget.isVisible()

    def _cover(self) -> None:
        self.window.statusBar().clearMessage()
        self.window.statusBar().hide()
        self.window.stack.setEnabled(False)  # their keys (QShortcut) do nothing meanwhile
        self.screen.show()
        self.screen.raise_()

    def _uncover(self) -> None:
        self._follow(None)
        self.screen.show_message("")
        self.screen.hide()
        self.window.stack.setEnabled(True)
        if self.window.screen_name != "live":
            self.window.statusBar().show()
        self._focus_screen()
        self._watch_input()
        self._say_what_was_closed()

    def _say_what_was_closed(self) -> None:
        """Whoever unlocks is told which dialogs the lock closed, and that nothing in them was
        saved: they open them again."""
        closed, self.closed_by_lock = self.closed_by_lock, []
        if not closed:
            return
        names = ", ".join(f"“{title}”" for title in closed)
        message = (
            f"The screen locked while {names} {'was' if len(closed) == 1 else 'were'} open: "
            "closed, and nothing in it was saved. Open it again to go on."
        )
        if self.window.screen_name == "live":
            self.window.live_view.show_failure(message)
        else:
            self.window.statusBar().showMessage(message, 30_000)

    def _focus_screen(self) -> None:
        """The keys back where they were when the screen locked (a field being typed in), else
        to the screen shown."""
        before, self._focus_before = self._focus_before, None
        back = before is not None and shiboken6.isValid(before) and before.isVisible()
        if back and before is not None and before.window() is self.window and before.isEnabled():
            before.setFocus()
            return
        name = self.window.screen_name
        if name == "start":
            start = self.window.start_view
            if start.live_list.count():  # a live session: Resume, as the start screen does
                start.resume_button.setFocus()
            else:
                start.search.setFocus()
        elif name == "live":
            self.window.live_view.setFocus()
        else:
            current = self.window.stack.currentWidget()
            if current is not None:
                current.setFocus()

    def _follow(self, live: LiveSession | None) -> None:
        """The lock face follows the open session's clock while locked."""
        if self._watched is not None:
            for signal in (self._watched.ticked, self._watched.checkins_changed):
                signal.disconnect(self._refresh_face)
        self._watched = live
        if live is not None:
            live.ticked.connect(self._refresh_face)
            live.checkins_changed.connect(self._refresh_face)

    def session_closed(self) -> None:
        """The open session is let go of (the composer's): the face stops following it."""
        self._follow(None)
        if self.locked and self.screen.page == "locked":
            self._refresh_face()

    def _refresh_face(self) -> None:
        self.screen.show_face(self.face())

    def face(self) -> LockFace:
        """The session time, how many check-ins are due, whether music plays: nothing else."""
        from kapsession.ui.lock_screen import LockFace

        live = self._live()
        if live is None or not live.participants:
            return LockFace("", "No session is open.", "")
        due = overdue = 0
        for participant in live.participants:
            for checkin in live.state(participant.id).checkins:
                if checkin.status is CheckinStatus.OVERDUE:
                    overdue += 1
                elif checkin.status is CheckinStatus.DUE:
                    due += 1
        if due + overdue == 0:
            checkins = "No check-in due now."
        else:
            total = due + overdue
            checkins = f"{total} check-in{'s' if total != 1 else ''} due now"
            checkins += f" ({overdue} overdue)." if overdue else "."
        music = self._music()
        state = music.now_playing().state if music is not None else MusicState.STOPPED
        sound = {
            MusicState.PLAYING: "Music playing.",
            MusicState.PAUSED: "Music paused.",
            MusicState.QUIET: "Music faded to silence.",
        }.get(state, "")
        return LockFace(f"Session time {clock_text(live.state().elapsed_s)}", checkins, sound)

    def _show_locked(self) -> None:
        self.screen.show_locked(self.face())

    # signing in --------------------------------------------------------------------------------
    def _show_entry(self) -> None:
        """The first run's administrator, or the sign-in list."""
        try:
            if self.access.needs_administrator():
                self.screen.show_first_run()
                return
            self.screen.show_sign_in(self._accounts())
        except StorageError as exc:
            self.screen.show_message(f"The staff list cannot be read: {exc}")

    def _show_switch(self) -> None:
        self.screen.show_sign_in(self._accounts(), switching=True)

    def _accounts(self) -> list[Account]:
        from kapsession.ui.lock_screen import Account

        return [
            Account(s.id, s.signature_name, self.access.needs_first_sign_in(s.id), s.admin)
            for s in self.access.accounts()
        ]

    def create_administrator(self, name: str, passphrase: str, repeat: str) -> None:
        from kapsession.services.access import AccessProblem

        try:
            admin = self.access.create_administrator(name, passphrase, repeat)
        except (AccessProblem, StorageError) as exc:
            self.screen.show_message(str(exc))
            return
        self.screen.show_sign_in(self._accounts())
        self.screen.choose(admin.id)
        self.screen.show_message(
            f"{admin.display_name} is the clinic administrator. Sign in once with the "
            "passphrase to choose your PIN; then add the staff accounts (Staff accounts…)."
        )

    def sign_in(self, staff_id: uuid.UUID, pin: str) -> None:
        switching = self.signed_in is not None
        check = self.access.sign_in(
            staff_id, pin, purpose=SWITCH_PURPOSE if switching else "sign in"
        )
        if not check.ok:
            self.screen.show_message(check.message)
            return
        if check.must_change:
            self._pending_pin = pin
            self._pending_person = staff_id
            self.screen.show_change_pin(check.message)
            return
        self._signed_in(staff_id)

    def first_sign_in(self, staff_id: uuid.UUID, proof: str, pin: str, repeat: str) -> None:
        try:
            self.access.first_sign_in(staff_id, proof, pin, repeat)
        except (PinProblem, StorageError) as exc:
            self.screen.show_message(str(exc))
            return
        self._signed_in(staff_id)

    def change_pin(self, pin: str, repeat: str) -> None:
        staff_id = self._pending_person
        if staff_id is None or not self._pending_pin:
            self._show_entry()
            return
        try:
            self.access.change_pin(staff_id, self._pending_pin, pin, repeat)
        except (PinProblem, StorageError) as exc:
            self.screen.show_message(str(exc))
            return
        self._pending_pin = ""
        self._pending_person = None
        self._signed_in(staff_id)

    def unlock(self, pin: str) -> None:
        """The PIN of the person signed in; anyone else uses Switch person."""
        from kapsession.services.access import UNLOCK_PURPOSE

        if self.signed_in is None:
            return
        check = self.access.sign_in(self.signed_in, pin, purpose=UNLOCK_PURPOSE)
        if not check.ok:
            self.screen.show_message(check.message)
            return
        self._at_the_keyboard(self.signed_in)
        self._uncover()

    def _signed_in(self, staff_id: uuid.UUID) -> None:
        self.signed_in = staff_id
        self._at_the_keyboard(staff_id)
        self._uncover()

    def _at_the_keyboard(self, staff_id: uuid.UUID) -> None:
        """Whoever just typed their PIN (a sign-in, an unlock, a switch) is working in the open
        session from now on: every entry is theirs, within what their role allows
        (`LiveSession.switch_to`; a role that may not monitor records no vitals)."""
        live = self._live()
        if live is None or live.at_keyboard == staff_id:
            return
        live.switch_to(staff_id)
        name = next(
            (s.signature_name for s in self.access.accounts() if s.id == staff_id), "Someone"
        )
        refusal = live.monitoring_refusal()
        limit = " Their role records no monitoring entries." if refusal else ""
        self.window.live_view.show_saved(
            f"{name} is at the keyboard: entries are theirs now.{limit}"
        )

    # the administrator's staff accounts ------------------------------------------------------
    def manage_accounts(self) -> None:
        """The administrator's passphrase, then the staff accounts."""
        from kapsession.services.access import AccessProblem
        from kapsession.ui.staff_accounts_dialog import (
            AccountRow,
            PassphraseDialog,
            StaffAccountsDialog,
        )

        if self.access.needs_administrator():
            self._show_entry()
            return
        asking = PassphraseDialog(self.window)
        given: list[str] = []

        def check(passphrase: str) -> None:
            result = self.access.check_administrator(passphrase)
            if not result.ok:
                asking.refuse(result.message)
                return
            given.append(passphrase)
            asking.accept()

        asking.passphrase_given.connect(check)
        if asking.exec() != QDialog.DialogCode.Accepted or not given:
            return
        passphrase = given[0]

        def rows() -> list[AccountRow]:
            found = []
            for member in self.access.staff.all():
                if not member.active:
                    standing = "disabled"
                elif self.access.needs_first_sign_in(member.id):
                    standing = "waiting for the first sign-in"
                else:
                    standing = "PIN set"
                found.append(
                    AccountRow(member.id, member.display_name, member.role, standing, member.admin)
                )
            return sorted(found, key=lambda r: (not r.admin, r.name.lower()))

        dialog = StaffAccountsDialog(rows(), self.window)

        def add(name: str, role: str, credentials: str) -> None:
            try:
                made = self.access.add_staff(passphrase, name, role, credentials=credentials)
            except AccessProblem as exc:
                dialog.show_problem(str(exc))
                return
            dialog.show_accounts(rows())
            dialog.show_code(made.staff.signature_name, made.setup_code)
            dialog.added()

        def reset(staff_id: uuid.UUID) -> None:
            try:
                made = self.access.reset(passphrase, staff_id)
            except (AccessProblem, StorageError) as exc:
                dialog.show_problem(str(exc))
                return
            dialog.show_accounts(rows())
            dialog.show_code(made.staff.signature_name, made.setup_code)

        def disable(staff_id: uuid.UUID) -> None:
            try:
                self.access.disable(passphrase, staff_id)
            except (AccessProblem, StorageError) as exc:
                dialog.show_problem(str(exc))
                return
            dialog.show_problem("")
            dialog.show_accounts(rows())

        dialog.add_requested.connect(add)
        dialog.reset_requested.connect(reset)
        dialog.disable_requested.connect(disable)
        dialog.exec()
        if self.locked and self.screen.page == "sign-in":
            self.screen.show_sign_in(self._accounts())
