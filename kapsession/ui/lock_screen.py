"""The sign-in and lock screen (issue 18): one widget over the whole window. Layout only.

It covers the window's screens while nobody is signed in or the screen is locked; the screens
and the open session keep running underneath (the session clock, the check-ins falling due,
the music), and the window's own keys do nothing meanwhile (the access controller disables
them). Its pages:

- first run: the clinic administrator's account (a name, a passphrase typed twice);
- sign-in: choose your name, type your PIN; a first sign-in types the one-time setup code the
  administrator gave (the administrator: their passphrase) and the new PIN twice;
- a PIN set under the old 4-digit rule: a new one, typed twice;
- locked: the session clock, how many check-ins are due and whether music plays; no name, no
  note, no value. The PIN of the person signed in unlocks it; "Switch person" shows the
  sign-in page, and whoever signs in there is working from then on.

Filled by the access controller with plain data; every request is a signal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapsession.records.people import PIN_MAX_DIGITS, PIN_MIN_DIGITS

PIN_RULE = f"{PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"


@dataclass(frozen=True)
class Account:
    """Someone who may sign in, as the sign-in list shows them."""

    id: uuid.UUID
    name: str
    needs_setup: bool  # no PIN yet: the first sign-in sets it
    admin: bool


@dataclass(frozen=True)
class LockFace:
    """What the lock screen shows of the open session: no name, no note, no value."""

    clock: str  # "Session time 1:02:03", or "" without an open session
    checkins: str  # "2 check-ins due now", "No check-in due"
    music: str  # "Music playing", "Music paused", ""


def _secret(name: str, *, digits: bool) -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setAccessibleName(name)
    if digits:
        field.setMaxLength(PIN_MAX_DIGITS)
    return field


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("phase")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


def _dim(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setObjectName("dim")
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class LockScreen(QFrame):
    administrator_requested = Signal(str, str, str)  # name, passphrase, repeat
    sign_in_requested = Signal(object, str)  # staff id, PIN
    first_sign_in_requested = Signal(object, str, str, str)  # staff id, code, PIN, repeat
    change_pin_requested = Signal(str, str)  # new PIN, repeat
    unlock_requested = Signal(str)  # the PIN of the person signed in
    switch_requested = Signal()  # the sign-in list, to switch person
    back_requested = Signal()  # from switching back to the lock face
    accounts_requested = Signal()  # the administrator's staff accounts

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAutoFillBackground(True)
        self.pages = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        box = QFrame()
        box.setObjectName("panel")
        box.setMinimumWidth(460)
        box.setMaximumWidth(560)
        inner = QVBoxLayout(box)
        inner.addWidget(self.pages)
        self.message = QLabel()
        self.message.setObjectName("failure")
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        inner.addWidget(self.message)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self._accounts: list[Account] = []
        self._build_first_run()
        self._build_sign_in()
        self._build_change_pin()
        self._build_locked()
        self.hide()

    # the pages -------------------------------------------------------------------------------
    def _build_first_run(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_title("Set up kapsession"))
        layout.addWidget(
            _dim(
                "No clinic administrator yet. The administrator creates, disables and resets "
                "the staff accounts; each staff member then sets their own PIN. Choose a "
                "passphrase of at least 10 characters (a few words): only its hash is kept."
            )
        )
        form = QFormLayout()
        self.admin_name = QLineEdit()
        self.admin_name.setAccessibleName("Administrator's name")
        self.admin_passphrase = _secret("Passphrase", digits=False)
        self.admin_repeat = _secret("Passphrase again", digits=False)
        form.addRow("Administrator's name", self.admin_name)
        form.addRow("Passphrase", self.admin_passphrase)
        form.addRow("Passphrase again", self.admin_repeat)
        layout.addLayout(form)
        self.create_button = QPushButton("Create the administrator")
        self.create_button.setObjectName("primary")
        self.create_button.setAutoDefault(True)
        self.create_button.clicked.connect(self._create_admin)
        self.admin_repeat.returnPressed.connect(self._create_admin)
        layout.addWidget(self.create_button)
        self.first_run_page = page
        self.pages.addWidget(page)

    def _build_sign_in(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.sign_in_title = _title("Sign in")
        layout.addWidget(self.sign_in_title)
        self.sign_in_about = _dim("Choose your name and type your PIN.")
        layout.addWidget(self.sign_in_about)
        form = QFormLayout()
        self.who = QComboBox()
        self.who.setAccessibleName("Who signs in")
        self.who.currentIndexChanged.connect(lambda _i: self._show_who())
        form.addRow("Your name", self.who)
        self.pin = _secret("PIN", digits=True)
        self.pin.returnPressed.connect(self._sign_in)
        form.addRow("PIN", self.pin)
        self.proof = _secret("Setup code", digits=False)
        self.proof.setEchoMode(QLineEdit.EchoMode.Normal)
        form.addRow("Setup code", self.proof)
        self.new_pin = _secret("New PIN", digits=True)
        form.addRow("New PIN", self.new_pin)
        self.new_repeat = _secret("New PIN again", digits=True)
        self.new_repeat.returnPressed.connect(self._sign_in)
        form.addRow("New PIN again", self.new_repeat)
        self.sign_in_form = form
        layout.addLayout(form)
        self.setup_note = _dim()
        layout.addWidget(self.setup_note)
        buttons = QHBoxLayout()
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self.back_requested)
        self.accounts_button = QPushButton("Staff accounts (administrator)…")
        self.accounts_button.clicked.connect(self.accounts_requested)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.setAutoDefault(True)
        self.sign_in_button.clicked.connect(self._sign_in)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.accounts_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        layout.addLayout(buttons)
        self.sign_in_page = page
        self.pages.addWidget(page)

    def _build_change_pin(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_title("Choose a new PIN"))
        self.change_about = _dim()
        layout.addWidget(self.change_about)
        form = QFormLayout()
        self.change_pin = _secret("New PIN", digits=True)
        self.change_repeat = _secret("New PIN again", digits=True)
        self.change_repeat.returnPressed.connect(self._change_pin)
        form.addRow("New PIN", self.change_pin)
        form.addRow("New PIN again", self.change_repeat)
        layout.addLayout(form)
        self.change_button = QPushButton("Save the new PIN")
        self.change_button.setObjectName("primary")
        self.change_button.setAutoDefault(True)
        self.change_button.clicked.connect(self._change_pin)
        layout.addWidget(self.change_button)
        self.change_page = page
        self.pages.addWidget(page)

    def _build_locked(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(_title("Locked"))
        self.face_clock = QLabel()
        self.face_clock.setObjectName("bigClock")
        self.face_clock.setAccessibleName("Session time")
        self.face_clock.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.face_checkins = QLabel()
        self.face_checkins.setAccessibleName("Check-ins due")
        self.face_checkins.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.face_music = _dim()
        self.face_music.setAccessibleName("Music")
        self.face_music.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for label in (self.face_clock, self.face_checkins, self.face_music):
            layout.addWidget(label)
        layout.addWidget(
            _dim(
                "The session goes on: its clock, its check-ins and its music. The PIN of the "
                "person signed in unlocks the screen; someone else uses Switch person."
            )
        )
        form = QFormLayout()
        self.unlock_pin = _secret("PIN to unlock", digits=True)
        self.unlock_pin.returnPressed.connect(self._unlock)
        form.addRow("PIN", self.unlock_pin)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.switch_button = QPushButton("Switch person…")
        self.switch_button.clicked.connect(self.switch_requested)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("primary")
        self.unlock_button.setAutoDefault(True)
        self.unlock_button.clicked.connect(self._unlock)
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        layout.addLayout(buttons)
        self.locked_page = page
        self.pages.addWidget(page)

    # what the controller shows -----------------------------------------------------------------
    def show_first_run(self) -> None:
        for field in (self.admin_passphrase, self.admin_repeat):
            field.clear()
        self._show(self.first_run_page, self.admin_name)

    def show_sign_in(self, accounts: Sequence[Account], *, switching: bool = False) -> None:
        """The list of who may sign in; `switching`: from the lock screen (Back returns)."""
        self._accounts = list(accounts)
        self.who.blockSignals(True)
        self.who.clear()
        for account in self._accounts:
            self.who.addItem(account.name, account.id)
        self.who.blockSignals(False)
        self.sign_in_title.setText("Switch person" if switching else "Sign in")
        self.sign_in_about.setText(
            "Whoever signs in here is working from now on: their PIN unlocks the screen."
            if switching
            else "Choose your name and type your PIN."
        )
        self.back_button.setVisible(switching)
        self.accounts_button.setVisible(not switching)
        self._show(self.sign_in_page, self.who)
        self._show_who()

    def show_change_pin(self, message: str) -> None:
        self.change_about.setText(message)
        for field in (self.change_pin, self.change_repeat):
            field.clear()
        self._show(self.change_page, self.change_pin)

    def show_locked(self, face: LockFace) -> None:
        self.show_face(face)
        self.unlock_pin.clear()
        self._show(self.locked_page, self.unlock_pin)

    def show_face(self, face: LockFace) -> None:
        self.face_clock.setText(face.clock)
        self.face_clock.setVisible(bool(face.clock))
        self.face_checkins.setText(face.checkins)
        self.face_checkins.setVisible(bool(face.checkins))
        self.face_music.setText(face.music)
        self.face_music.setVisible(bool(face.music))

    def show_message(self, text: str) -> None:
        """What went wrong and what to do ("" hides it); the secret fields are emptied."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        for field in (self.pin, self.unlock_pin, self.proof, self.new_pin, self.new_repeat):
            field.clear()
        for field in (self.change_pin, self.change_repeat, self.admin_passphrase):
            field.clear()
        self.admin_repeat.clear()
        current = self.pages.currentWidget()
        if current is self.sign_in_page:
            self._show_who()
        elif current is self.locked_page:
            self.unlock_pin.setFocus()

    @property
    def page(self) -> str:
        """Which page is shown: first-run, sign-in, change-pin or locked."""
        return {
            id(self.first_run_page): "first-run",
            id(self.sign_in_page): "sign-in",
            id(self.change_page): "change-pin",
            id(self.locked_page): "locked",
        }[id(self.pages.currentWidget())]

    def choose(self, staff_id: uuid.UUID) -> None:
        """Put `staff_id` in the list's choice (as the arrow keys would)."""
        for index, account in enumerate(self._accounts):
            if account.id == staff_id:
                self.who.setCurrentIndex(index)
                return

    def chosen(self) -> Account | None:
        index = self.who.currentIndex()
        return self._accounts[index] if 0 <= index < len(self._accounts) else None

    # inside ----------------------------------------------------------------------------------
    def _show(self, page: QWidget, focus: QWidget) -> None:
        if page is not self.pages.currentWidget():
            self.message.hide()
        self.pages.setCurrentWidget(page)
        self.show()
        self.raise_()
        focus.setFocus()

    def _show_who(self) -> None:
        account = self.chosen()
        setup = account is not None and account.needs_setup
        for field in (self.proof, self.new_pin, self.new_repeat):
            field.setVisible(setup)
            label = self.sign_in_form.labelForField(field)
            if label is not None:
                label.setVisible(setup)
        self.pin.setVisible(not setup)
        label = self.sign_in_form.labelForField(self.pin)
        if label is not None:
            label.setVisible(not setup)
        proof_name = "Administrator's passphrase" if account and account.admin else "Setup code"
        self.proof.setEchoMode(
            QLineEdit.EchoMode.Password if account and account.admin else QLineEdit.EchoMode.Normal
        )
        self.proof.setAccessibleName(proof_name)
        proof_label = self.sign_in_form.labelForField(self.proof)
        if isinstance(proof_label, QLabel):
            proof_label.setText(proof_name)
        if setup and account is not None:
            proof = (
                "your passphrase"
                if account.admin
                else "the one-time setup code the administrator gave you"
            )
            self.setup_note.setText(
                f"First sign-in: type {proof}, then choose your own PIN ({PIN_RULE}) and "
                "type it twice. Nobody else sets it."
            )
        self.setup_note.setVisible(setup)
        self.sign_in_button.setText("Set my PIN and sign in" if setup else "Sign in")
        (self.proof if setup else self.pin).setFocus()

    def _create_admin(self) -> None:
        self.administrator_requested.emit(
            self.admin_name.text(), self.admin_passphrase.text(), self.admin_repeat.text()
        )

    def _sign_in(self) -> None:
        account = self.chosen()
        if account is None:
            return
        if account.needs_setup:
            self.first_sign_in_requested.emit(
                account.id, self.proof.text(), self.new_pin.text(), self.new_repeat.text()
            )
        else:
            self.sign_in_requested.emit(account.id, self.pin.text())

    def _change_pin(self) -> None:
        self.change_pin_requested.emit(self.change_pin.text(), self.change_repeat.text())

    def _unlock(self) -> None:
        self.unlock_requested.emit(self.unlock_pin.text())
