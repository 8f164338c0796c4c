"""Signing with a signing passphrase: the session record in parts, and signed addenda afterwards.

Both dialogs ask who signs and their signing passphrase (issue 18: it opens the signer's own
key, which makes the signature), ask for the signature with a signal (`sign_requested`,
`addendum_requested`: the session note controller signs through the service and answers with
`answer(outcome)` before `emit` returns), and close on success. A refused passphrase is shown
only after the service's pause, with the form disabled meanwhile. A staff member without a
signing passphrase (not in `with_key`) confirms their PIN and sets one here, typed twice
(`passphrase_requested`, answered by `passphrase_set` or `passphrase_refused`). One without a
PIN (not in `with_pin`) has not signed in yet: no PIN is set here, whoever has the keyboard
(issue 18); the dialog says they sign in with the administrator's setup code to set their own
(`not_signed_in_yet`), and nothing is stored. Enter signs, Escape cancels.

`_PinDialog` without `with_key` is the PIN dialog the team's step-in dialogs build on.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Collection, Sequence
from typing import NamedTuple

from PySide6.QtCore import QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QRegularExpressionValidator, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.records.notes import MEANINGS, PART_NAMES, PARTS, SignOutcome
from kapsession.records.people import (
    PASSPHRASE_MIN_CHARS,
    PIN_MAX_DIGITS,
    PIN_MIN_DIGITS,
    StaffRecord,
)
from kapsession.ui import theme
from kapsession.ui.dialogs import _buttons, fit_height

PIN_RULE = f"{PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"
PASSPHRASE_RULE = f"at least {PASSPHRASE_MIN_CHARS} characters"

_EXTRA_STYLE = f"""
QLabel#dialogTitle {{ font-size: 19px; }}
QLabel#meaning {{ color: {theme.TEXT_DIM}; padding-left: 28px; }}
QLabel#newPin {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};
    border-radius: 6px; padding: 8px 12px; }}
QCheckBox {{ font-size: 16px; }}
QLineEdit[echoMode="2"] {{ font-size: 18px; letter-spacing: 3px; }}
"""


def part_title(part: str) -> str:
    """ "Monitoring record", "Therapy notes": the part's name as a heading."""
    name = PART_NAMES[part]
    return name[0].upper() + name[1:]


def not_signed_in_yet(name: str) -> str:
    """What a dialog says of a staff member without a PIN (issue 18): nobody sets one for them
    here; they set their own at their first sign-in."""
    return (
        f"{name} has not signed in yet: they sign in with the setup code from the administrator "
        "to set their own PIN (Ctrl+L, then Switch person), and set their signing passphrase "
        "with that PIN when they first sign. Nothing is set for them here."
    )


def _pin_field(accessible_name: str) -> QLineEdit:
    field = QLineEdit()
    field.setAccessibleName(accessible_name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(PIN_MAX_DIGITS)
    field.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9]*"), field))
    field.setInputMethodHints(
        Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
    )
    field.setMaximumWidth(220)
    return field


def _passphrase_field(accessible_name: str) -> QLineEdit:
    field = QLineEdit()
    field.setAccessibleName(accessible_name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(200)
    field.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData)
    field.setMaximumWidth(360)
    return field


class _PinDialog(QDialog):
    """Who signs, their PIN (or a first PIN, typed twice), the refusal pause and the wait.

    With `with_key` (the staff members who have a signing passphrase) it signs with the signing
    passphrase instead: the PIN is asked only to set a first passphrase. Subclasses add what is
    signed above the signer and implement `_check` and `_submit`.
    """

    # staff id, their PIN, new passphrase, repeated: a first signing passphrase to set
    passphrase_requested = Signal(object, str, str, str)

    def __init__(
        self,
        title: str,
        staff: Sequence[StaffRecord],
        signer_id: uuid.UUID | None,
        with_pin: Collection[uuid.UUID],
        sign_text: str,
        parent: QWidget | None,
        with_key: Collection[uuid.UUID] | None = None,
    ) -> None:
        """`with_pin`: the staff members who have a PIN. `with_key`: those who have a signing
        passphrase; None: the dialog asks a PIN, not a passphrase."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(580)
        self.setStyleSheet(_EXTRA_STYLE)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._with_pin = set(with_pin)
        self._signs_with_key = with_key is not None
        self._with_key = set(with_key or ())
        self._passphrase_problem = ""  # why the passphrase just asked for was not set
        self._answer: SignOutcome | None = None  # the answer to the signing request
        self._sign_text = sign_text
        self.outcome: SignOutcome | None = None  # set when the signature is stored
        self._pending: SignOutcome | None = None  # a refusal waiting for its pause to pass

        self.signer = QComboBox()
        self.signer.setAccessibleName("Signing as")
        for member in staff:
            self.signer.addItem(member.signature_name, member.id)
        ids = [self.signer.itemData(i) for i in range(self.signer.count())]
        if signer_id in ids:  # findData compares by identity, not by value
            self.signer.setCurrentIndex(ids.index(signer_id))
        self.pin = _pin_field("PIN")
        self.new_pin_note = QLabel()
        self.new_pin_note.setObjectName("newPin")
        self.new_pin_note.setWordWrap(True)
        self.passphrase = _passphrase_field("Signing passphrase")
        self.new_passphrase = _passphrase_field("New signing passphrase")
        self.repeat_passphrase = _passphrase_field("Repeat the new signing passphrase")
        self.form = QFormLayout()
        self.form.setVerticalSpacing(12)
        self.form.addRow("Signing as", self.signer)
        self.form.addRow(self.new_pin_note)
        self.form.addRow("Signing passphrase", self.passphrase)
        self.form.addRow("PIN", self.pin)
        self.form.addRow("New passphrase", self.new_passphrase)
        self.form.addRow("Repeat passphrase", self.repeat_passphrase)

        self.message = QLabel()
        self.message.setObjectName("banner")
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = _buttons(self, sign_text)
        self.sign_button: QPushButton = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_button.setDefault(True)
        self.cancel_button: QPushButton = self.buttons.button(
            QDialogButtonBox.StandardButton.Cancel
        )
        self.footer = QLabel(
            "Your signing passphrase opens your own signing key: the signature is recorded "
            "with your name and the time, and cannot be taken back."
            if self._signs_with_key
            else "Your PIN is your signature: it is recorded with your name and the time, and "
            "cannot be taken back."
        )
        self.footer.setObjectName("notice")
        self.footer.setWordWrap(True)

        self.body = QVBoxLayout()
        self.body.setSpacing(10)
        layout = QVBoxLayout(self)
        layout.setSpacing(14)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addLayout(self.body)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.footer)
        layout.addWidget(self.buttons)

        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.timeout.connect(self._pause_over)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._retry_over)
        self.signer.currentIndexChanged.connect(self._signer_changed)
        self._show_pin_mode()

    # what the page reads ---------------------------------------------------------------------
    def signer_id(self) -> uuid.UUID | None:
        value = self.signer.currentData()
        return value if isinstance(value, uuid.UUID) else None

    def needs_first_sign_in(self) -> bool:
        """The chosen staff member has no PIN yet: nothing is asked or set here; they sign in
        first, with the administrator's setup code (the note says so)."""
        staff_id = self.signer_id()
        if staff_id is None or staff_id in self._with_pin:
            return False
        return not self._signs_with_key or staff_id not in self._with_key

    def needs_new_passphrase(self) -> bool:
        """The chosen staff member has no signing passphrase yet: the dialog asks for one."""
        staff_id = self.signer_id()
        return (
            self._signs_with_key
            and staff_id is not None
            and staff_id not in self._with_key
            and not self.needs_first_sign_in()
        )

    def is_waiting(self) -> bool:
        """A refusal is held back for its pause, or the next try is not allowed yet."""
        return self._pause.isActive() or self._retry.isActive()

    def _secret_fields(self) -> tuple[QLineEdit, ...]:
        return (
            self.passphrase,
            self.pin,
            self.new_passphrase,
            self.repeat_passphrase,
        )

    def _chain_tabs(self, *first: QWidget) -> None:
        """Tab through the dialog top to bottom: what is signed, who, the secrets, the buttons."""
        chain = [*first, self.signer, *self._secret_fields(), self.sign_button, self.cancel_button]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

    # subclass hooks --------------------------------------------------------------------------
    def _check(self) -> str | None:
        """What is missing before signing ("" or None: nothing), checked before the PIN."""
        return None

    def _submit(self, staff_id: uuid.UUID, secret: str) -> SignOutcome:
        """Sign with `secret`: the signing passphrase (or the PIN, without `with_key`)."""
        raise NotImplementedError

    # the answers ---------------------------------------------------------------------------
    def passphrase_set(self, staff_id: uuid.UUID) -> None:
        """The answer to `passphrase_requested`: the signing passphrase is set."""
        self._with_key.add(staff_id)

    def passphrase_refused(self, message: str) -> None:
        """The answer to `passphrase_requested`: it was not set, and why."""
        self._passphrase_problem = message

    def answer(self, outcome: SignOutcome) -> None:
        """The answer to the signing request: signed, or why not."""
        self._answer = outcome

    def _asked(self) -> SignOutcome:
        """The answer the request just emitted was given (none: nothing was signed)."""
        outcome, self._answer = self._answer, None
        return outcome or SignOutcome(False, "Nothing was signed.")

    def _first_field(self) -> QWidget:
        if self.needs_first_sign_in():
            return self.signer
        if self.needs_new_passphrase() or not self._signs_with_key:
            return self.pin
        return self.passphrase

    # signing ---------------------------------------------------------------------------------
    def accept(self) -> None:
        """Enter or Sign: check the form, set a first passphrase if needed, then sign."""
        if self.is_waiting():
            return
        staff_id = self.signer_id()
        if staff_id is None:
            self._show_message("Choose who is signing.")
            self.signer.setFocus()
            return
        missing = self._check()
        if missing:
            self._show_message(missing)
            return
        if self.needs_first_sign_in():  # nothing is set for them here: say what to do
            self._show_message(not_signed_in_yet(self.signer.currentText()))
            self.signer.setFocus()
            return
        pin = self.pin.text()
        if (not self._signs_with_key or self.needs_new_passphrase()) and not PIN_MIN_DIGITS <= len(
            pin
        ) <= PIN_MAX_DIGITS:
            self._show_message(f"Type your PIN: {PIN_RULE}.")
            self.pin.setFocus()
            return
        if not self._signs_with_key:
            secret = pin
        elif self.needs_new_passphrase():
            secret = self.new_passphrase.text()
            if not self._set_first_passphrase(staff_id, pin, secret):
                return
        else:
            secret = self.passphrase.text()
            if len(secret) < PASSPHRASE_MIN_CHARS:
                self._show_message(f"Type your signing passphrase: {PASSPHRASE_RULE}.")
                self.passphrase.setFocus()
                return
        outcome = self._submit(staff_id, secret)
        if outcome.ok:
            self.outcome = outcome
            super().accept()
            return
        self.pin.clear()
        self.passphrase.clear()
        if outcome.pause_s > 0:
            self._pending = outcome
            self.message.hide()
            self.setFocus()  # not Cancel: an Enter pressed during the pause must not cancel
            self._set_form_enabled(False)
            self._pause.start(round(outcome.pause_s * 1000))
        else:
            self._refused(outcome)

    def _set_first_passphrase(self, staff_id: uuid.UUID, pin: str, passphrase: str) -> bool:
        self._passphrase_problem = ""
        self.passphrase_requested.emit(staff_id, pin, passphrase, self.repeat_passphrase.text())
        self.new_passphrase.clear()
        self.repeat_passphrase.clear()
        if staff_id not in self._with_key:
            self._show_message(self._passphrase_problem or "The passphrase was not set.")
            self.pin.clear()
            self._first_field().setFocus()
            return False
        self.pin.clear()
        self._show_pin_mode()
        return True

    def _pause_over(self) -> None:
        outcome, self._pending = self._pending, None
        self._set_form_enabled(True)
        if outcome is not None:
            self._refused(outcome)

    def _refused(self, outcome: SignOutcome) -> None:
        self._show_message(outcome.message)
        if outcome.retry_in_s > 0:
            self.sign_button.setEnabled(False)
            self._retry.start(round(outcome.retry_in_s * 1000))
        self._first_field().setFocus()

    def _retry_over(self) -> None:
        self.sign_button.setEnabled(True)
        self.message.setText(self.message.text() + " You can try again now.")

    def done(self, result: int) -> None:
        self._pause.stop()
        self._retry.stop()
        super().done(result)

    # the form --------------------------------------------------------------------------------
    def _signer_changed(self) -> None:
        self._retry.stop()  # another person's wrong tries do not hold this one back
        self.sign_button.setEnabled(True)
        for field in self._secret_fields():
            field.clear()
        self.message.hide()
        self._show_pin_mode()

    def _show_pin_mode(self) -> None:
        not_signed_in = self.needs_first_sign_in()
        first_passphrase = self.needs_new_passphrase()
        with_key = self._signs_with_key
        asks_pin = not not_signed_in and (first_passphrase or not with_key)
        shows_passphrase = with_key and not (first_passphrase or not_signed_in)
        self.form.setRowVisible(self.passphrase, shows_passphrase)
        self.form.setRowVisible(self.pin, asks_pin)
        self.form.setRowVisible(self.new_pin_note, not_signed_in or first_passphrase)
        self.form.setRowVisible(self.new_passphrase, first_passphrase)
        self.form.setRowVisible(self.repeat_passphrase, first_passphrase)
        self.sign_button.setEnabled(not not_signed_in and not self._retry.isActive())
        name = self.signer.currentText()
        sign = self._sign_text.lower()
        if not_signed_in:
            self.sign_button.setText(self._sign_text)
            self.new_pin_note.setText(not_signed_in_yet(name))
        elif first_passphrase:
            self.sign_button.setText(f"Set passphrase and {sign}")
            self.new_pin_note.setText(
                f"{name} has no signing passphrase yet. Confirm with your PIN, then choose a "
                f"signing passphrase ({PASSPHRASE_RULE}; a few words are easiest to remember) "
                "and type it twice: it opens your own signing key, now and from now on. Nobody "
                "else can set or recover it."
            )
        else:
            self.sign_button.setText(self._sign_text)
        fit_height(self)

    def _set_form_enabled(self, enabled: bool) -> None:
        for index in range(self.body.count()):
            item = self.body.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setEnabled(enabled)
        for field in (self.signer, *self._secret_fields(), self.sign_button):
            field.setEnabled(enabled)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        fit_height(self)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height(self)
        self._first_field().setFocus()


class CountersignAsk(NamedTuple):
    """A verbal order not countersigned yet (issue 16): the prescriber who must countersign
    before the monitoring part is signed, and what the dialog says about it."""

    staff_id: uuid.UUID
    name: str
    message: str


class SignDialog(_PinDialog):
    """Sign one or both parts of a completed session: who, what (with what it attests), the
    signing passphrase. With a verbal order not countersigned, the prescriber who gave it can
    countersign here (their PIN) before the monitoring part is signed."""

    # staff id, signing passphrase, parts; answered by answer()
    sign_requested = Signal(object, str, list)

    def __init__(
        self,
        staff: Sequence[StaffRecord],
        signer_id: uuid.UUID | None,
        parts: Sequence[str],
        ticked: Collection[str],
        with_pin: Collection[uuid.UUID],
        with_key: Collection[uuid.UUID],
        *,
        session_title: str = "",
        parent: QWidget | None = None,
        countersign: CountersignAsk | None = None,
    ) -> None:
        """`with_key`: the staff members who have a signing passphrase."""
        super().__init__(
            "Sign the session record", staff, signer_id, with_pin, "Sign", parent, with_key
        )
        self.countersign = countersign
        self._countersign_refused = False
        heading = QLabel("Sign the session record")
        heading.setObjectName("dialogTitle")
        self.body.addWidget(heading)
        if session_title:
            about = QLabel(session_title)
            about.setObjectName("dim")
            about.setWordWrap(True)
            self.body.addWidget(about)
        self.part_boxes: dict[str, QCheckBox] = {}
        for part in (p for p in PARTS if p in parts):
            box = QCheckBox(part_title(part))
            box.setAccessibleName(f"Sign the {PART_NAMES[part]}")
            box.setChecked(part in ticked)
            meaning = QLabel(MEANINGS[part])
            meaning.setObjectName("meaning")
            meaning.setWordWrap(True)
            box.setAccessibleDescription(MEANINGS[part])
            self.body.addWidget(box)
            self.body.addWidget(meaning)
            self.part_boxes[part] = box
        self.countersign_note = QLabel()
        self.countersign_note.setObjectName("newPin")
        self.countersign_note.setWordWrap(True)
        self.countersign_pin = _pin_field("Prescriber's PIN to countersign")
        self.countersign_row = QWidget()
        row = QHBoxLayout(self.countersign_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(f"{countersign.name if countersign else ''} — PIN"))
        row.addWidget(self.countersign_pin)
        row.addStretch(1)
        if countersign is not None:
            self.countersign_note.setText(countersign.message)
            self.body.addWidget(self.countersign_note)
            self.body.addWidget(self.countersign_row)
        self._chain_tabs(*self.part_boxes.values(), self.countersign_pin)
        self._show_countersign()
        monitoring = self.part_boxes.get("monitoring")
        if monitoring is not None:
            monitoring.toggled.connect(self._show_countersign)

    def parts(self) -> list[str]:
        return [part for part, box in self.part_boxes.items() if box.isChecked()]

    def countersign_pin_text(self) -> str | None:
        """The prescriber's PIN typed to countersign now; None when no countersignature is
        asked for here (none pending, or the monitoring part not ticked)."""
        if self.countersign is None or "monitoring" not in self.parts():
            return None
        return self.countersign_pin.text()

    def countersigned(self) -> None:
        """The verbal order is countersigned: the block goes."""
        self.countersign = None
        self._show_countersign()

    def countersign_refused(self) -> None:
        """The prescriber's PIN was not accepted: emptied, the focus back in it."""
        self.countersign_pin.clear()
        self._countersign_refused = True

    def _show_countersign(self) -> None:
        shown = self.countersign is not None and "monitoring" in self.parts()
        self.countersign_note.setVisible(shown)
        self.countersign_row.setVisible(shown)
        fit_height(self)

    def _first_field(self) -> QWidget:
        if self._countersign_refused and self.countersign is not None:
            self._countersign_refused = False
            return self.countersign_pin
        return super()._first_field()

    def _check(self) -> str | None:
        if not self.parts():
            return "Tick what you are signing."
        if self.countersign_pin_text() == "" and self.countersign is not None:
            self.countersign_pin.setFocus()
            return (
                f"Nothing was signed: {self.countersign.name} must countersign the verbal order "
                "first, with their PIN in the field above (or Countersign on the live screen)."
            )
        return None

    def _submit(self, staff_id: uuid.UUID, secret: str) -> SignOutcome:
        self.sign_requested.emit(staff_id, secret, self.parts())
        return self._asked()


class AddendumDialog(_PinDialog):
    """Write and sign an addendum to a signed record. Enter in the text starts a new line;
    Ctrl+Enter (or Enter in the passphrase) signs."""

    # staff id, signing passphrase, text; answered by answer()
    addendum_requested = Signal(object, str, str)

    def __init__(
        self,
        staff: Sequence[StaffRecord],
        signer_id: uuid.UUID | None,
        with_pin: Collection[uuid.UUID],
        with_key: Collection[uuid.UUID],
        *,
        text: str = "",
        session_title: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Add a signed addendum",
            staff,
            signer_id,
            with_pin,
            "Sign addendum",
            parent,
            with_key,
        )
        heading = QLabel("Add a signed addendum")
        heading.setObjectName("dialogTitle")
        self.body.addWidget(heading)
        for line in (
            session_title,
            "The signed record stays as it is; the addendum follows it, with your name and "
            "the time.",
        ):
            if line:
                about = QLabel(line)
                about.setObjectName("dim")
                about.setWordWrap(True)
                self.body.addWidget(about)
        self.text = QPlainTextEdit(text)
        self.text.setAccessibleName("Addendum")
        self.text.setPlaceholderText("What is added to the record, and why.")
        self.text.setTabChangesFocus(True)
        self.text.setMinimumHeight(140)
        self.body.addWidget(self.text)
        keys = QLabel("Enter starts a new line; Ctrl+Enter signs.")
        keys.setObjectName("notice")
        self.body.addWidget(keys)
        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(sequence), self, self.accept)
        self._chain_tabs(self.text)

    def _first_field(self) -> QWidget:
        if not self.text.toPlainText().strip():
            return self.text
        return super()._first_field()

    def _check(self) -> str | None:
        if not self.text.toPlainText().strip():
            self.text.setFocus()
            return "Write the addendum before signing it."
        return None

    def _submit(self, staff_id: uuid.UUID, secret: str) -> SignOutcome:
        self.addendum_requested.emit(staff_id, secret, self.text.toPlainText().strip())
        return self._asked()
