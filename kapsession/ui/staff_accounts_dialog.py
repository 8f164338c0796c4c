"""The clinic administrator's staff accounts (issue 18). Layout only.

`PassphraseDialog` asks for the administrator's passphrase first (answered by the controller
before `emit` returns: `refuse(message)`, or the dialog is accepted). `StaffAccountsDialog`
lists the accounts with where each stands (PIN set, waiting for its first sign-in, disabled),
adds one (name, role, credentials), resets one (its PIN cleared: its owner sets a new one with
the new setup code) and disables one. A setup code is shown once, to hand to its owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.roles import ROLE_NAMES, StaffRole


@dataclass(frozen=True)
class AccountRow:
    id: uuid.UUID
    name: str
    role: str
    standing: str  # "PIN set", "waiting for the first sign-in", "disabled"
    admin: bool


class PassphraseDialog(QDialog):
    passphrase_given = Signal(str)  # answered before emit returns: refuse(), or accepted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Staff accounts — administrator")
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName("Administrator's passphrase")
        self.message = QLabel("Only the clinic administrator changes staff accounts.")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        form = QFormLayout()
        form.addRow("Administrator's passphrase", self.passphrase)
        ok = QPushButton("Open")
        ok.setDefault(True)
        ok.clicked.connect(self._given)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(ok)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addLayout(buttons)
        self.passphrase.setFocus()

    def _given(self) -> None:
        self.passphrase_given.emit(self.passphrase.text())

    def refuse(self, message: str) -> None:
        self.message.setText(message)
        self.passphrase.clear()
        self.passphrase.setFocus()


class StaffAccountsDialog(QDialog):
    add_requested = Signal(str, str, str)  # name, role, credentials
    reset_requested = Signal(object)  # staff id
    disable_requested = Signal(object)  # staff id

    def __init__(self, rows: Sequence[AccountRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Staff accounts")
        self.accounts = QListWidget()
        self.accounts.setAccessibleName("Staff accounts")
        self.reset_button = QPushButton("Reset PIN (new setup code)")
        self.reset_button.clicked.connect(lambda: self._for_current(self.reset_requested))
        self.disable_button = QPushButton("Disable")
        self.disable_button.clicked.connect(lambda: self._for_current(self.disable_requested))
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.reset_button)
        row_buttons.addWidget(self.disable_button)
        row_buttons.addStretch(1)
        self.name = QLineEdit()
        self.name.setAccessibleName("Name")
        self.name.setPlaceholderText("e.g. Dr. Ruth Okafor")
        self.role = QComboBox()
        self.role.setAccessibleName("Role")
        for role, label in ROLE_NAMES.items():
            if role is not StaffRole.ADMINISTRATOR:
                self.role.addItem(label, role.value)
        self.credentials = QLineEdit()
        self.credentials.setAccessibleName("Credentials")
        self.credentials.setPlaceholderText("e.g. PsyD, RN, NP (optional)")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        form.addRow("Credentials", self.credentials)
        self.add_button = QPushButton("Add the account")
        self.add_button.clicked.connect(self._add)
        self.code = QLabel()
        self.code.setObjectName("notice")
        self.code.setAccessibleName("Setup code")
        self.code.setWordWrap(True)
        self.code.setTextFormat(Qt.TextFormat.PlainText)
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code.hide()
        self.problem = QLabel()
        self.problem.setObjectName("failure")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.accounts)
        layout.addLayout(row_buttons)
        layout.addWidget(QLabel("New account"))
        layout.addLayout(form)
        layout.addWidget(self.add_button)
        layout.addWidget(self.code)
        layout.addWidget(self.problem)
        layout.addWidget(close, alignment=Qt.AlignmentFlag.AlignRight)
        self.resize(560, 520)
        self.show_accounts(rows)
        self.name.setFocus()

    def show_accounts(self, rows: Sequence[AccountRow]) -> None:
        self.accounts.clear()
        for row in rows:
            role = ROLE_NAMES.get(StaffRole(row.role), row.role)
            kind = "clinic administrator" if row.admin else role
            item = QListWidgetItem(f"{row.name} — {kind} — {row.standing}")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            self.accounts.addItem(item)

    def show_code(self, name: str, code: str) -> None:
        """A setup code, shown once: its owner types it at their first sign-in."""
        self.problem.hide()
        self.code.setText(
            f"Setup code for {name}: {code}\nGive it to them in person; it is shown only now. "
            "They type it at their first sign-in and choose their own PIN."
        )
        self.code.show()

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.setVisible(bool(message))

    def _for_current(self, signal: object) -> None:
        item = self.accounts.currentItem()
        if item is None:
            self.show_problem("Choose an account in the list first.")
            return
        signal.emit(item.data(Qt.ItemDataRole.UserRole))  # type: ignore[attr-defined]

    def _add(self) -> None:
        self.add_requested.emit(self.name.text(), self.role.currentData(), self.credentials.text())

    def added(self) -> None:
        for field in (self.name, self.credentials):
            field.clear()
        self.name.setFocus()
