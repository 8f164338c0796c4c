"""Signing with a PIN: the session record in parts, and signed addenda afterwards.

Both dialogs ask who signs and their PIN, ask for the signature with a signal
(`sign_requested`, `addendum_requested`: the session note controller signs through the
service and answers with `answer(outcome)` before `emit` returns), and close on success. A
refused PIN is shown only after the service's pause, with the form disabled meanwhile, and
Sign stays disabled while the service makes the signer wait. A staff member without a PIN (not
in `with_pin`) sets one here first (`pin_requested`, answered by `pin_set` or `pin_refused`).
Enter signs, Escape cancels.
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
from kapsession.records.people import PIN_MAX_DIGITS, PIN_MIN_DIGITS, StaffRecord
from kapsession.ui import theme
from kapsession.ui.dialogs import _buttons, fit_height

PIN_RULE = f"{PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits"

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


class _PinDialog(QDialog):
    """Who signs, their PIN (or a first PIN, typed twice), the refusal pause and the wait.

    Subclasses add what is signed above the signer and implement `_check` and `_submit`.
    """

    pin_requested = Signal(object, str, str)  # staff id, new PIN, repeated: a first PIN to set

    def __init__(
        self,
        title: str,
        staff: Sequence[StaffRecord],
        signer_id: uuid.UUID | None,
        with_pin: Collection[uuid.UUID],
        sign_text: str,
        parent: QWidget | None,
    ) -> None:
        """`with_pin`: the staff members who have a signing PIN."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(580)
        self.setStyleSheet(_EXTRA_STYLE)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self._with_pin = set(with_pin)
        self._pin_problem = ""  # why the PIN just asked for was not set
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
        self.new_pin = _pin_field("New PIN")
        self.repeat_pin = _pin_field("Repeat the new PIN")
        self.form = QFormLayout()
        self.form.setVerticalSpacing(12)
        self.form.addRow("Signing as", self.signer)
        self.form.addRow(self.new_pin_note)
        self.form.addRow("PIN", self.pin)
        self.form.addRow("New PIN", self.new_pin)
        self.form.addRow("Repeat PIN", self.repeat_pin)

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
            "Your PIN is your signature: it is recorded with your name and the time, and "
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

    def needs_new_pin(self) -> bool:
        """The chosen staff member has no PIN yet: the dialog asks for a first one."""
        staff_id = self.signer_id()
        return staff_id is not None and staff_id not in self._with_pin

    def is_waiting(self) -> bool:
        """A refusal is held back for its pause, or the next try is not allowed yet."""
        return self._pause.isActive() or self._retry.isActive()

    def _chain_tabs(self, *first: QWidget) -> None:
        """Tab through the dialog top to bottom: what is signed, who, the PIN, the buttons."""
        chain = [
            *first,
            self.signer,
            self.pin,
            self.new_pin,
            self.repeat_pin,
            self.sign_button,
            self.cancel_button,
        ]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

    # subclass hooks --------------------------------------------------------------------------
    def _check(self) -> str | None:
        """What is missing before signing ("" or None: nothing), checked before the PIN."""
        return None

    def _submit(self, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        raise NotImplementedError

    # the answers ---------------------------------------------------------------------------
    def pin_set(self, staff_id: uuid.UUID) -> None:
        """The answer to `pin_requested`: the PIN is set."""
        self._with_pin.add(staff_id)

    def pin_refused(self, message: str) -> None:
        """The answer to `pin_requested`: the PIN was not set, and why."""
        self._pin_problem = message

    def answer(self, outcome: SignOutcome) -> None:
        """The answer to the signing request: signed, or why not."""
        self._answer = outcome

    def _asked(self) -> SignOutcome:
        """The answer the request just emitted was given (none: nothing was signed)."""
        outcome, self._answer = self._answer, None
        return outcome or SignOutcome(False, "Nothing was signed.")

    def _first_field(self) -> QWidget:
        return self.new_pin if self.needs_new_pin() else self.pin

    # signing ---------------------------------------------------------------------------------
    def accept(self) -> None:
        """Enter or Sign: check the form, set a first PIN if needed, then sign."""
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
        if self.needs_new_pin():
            pin = self.new_pin.text()
            self._pin_problem = ""
            self.pin_requested.emit(staff_id, pin, self.repeat_pin.text())
            if staff_id not in self._with_pin:
                self._show_message(self._pin_problem or "The PIN was not set.")
                self.new_pin.clear()
                self.repeat_pin.clear()
                self.new_pin.setFocus()
                return
            self.new_pin.clear()
            self.repeat_pin.clear()
            self._show_pin_mode()
        else:
            pin = self.pin.text()
            if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
                self._show_message(f"Type your PIN: {PIN_RULE}.")
                self.pin.setFocus()
                return
        outcome = self._submit(staff_id, pin)
        if outcome.ok:
            self.outcome = outcome
            super().accept()
            return
        self.pin.clear()
        if outcome.pause_s > 0:
            self._pending = outcome
            self.message.hide()
            self.setFocus()  # not Cancel: an Enter pressed during the pause must not cancel
            self._set_form_enabled(False)
            self._pause.start(round(outcome.pause_s * 1000))
        else:
            self._refused(outcome)

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
        for field in (self.pin, self.new_pin, self.repeat_pin):
            field.clear()
        self.message.hide()
        self._show_pin_mode()

    def _show_pin_mode(self) -> None:
        first = self.needs_new_pin()
        self.form.setRowVisible(self.pin, not first)
        self.form.setRowVisible(self.new_pin_note, first)
        self.form.setRowVisible(self.new_pin, first)
        self.form.setRowVisible(self.repeat_pin, first)
        self.sign_button.setText(
            f"Set PIN and {self._sign_text.lower()}" if first else self._sign_text
        )
        if first:
            self.new_pin_note.setText(
                f"{self.signer.currentText()} has no signing PIN yet. Choose one ({PIN_RULE}) "
                "and type it twice: it signs now, and from now on."
            )
        fit_height(self)

    def _set_form_enabled(self, enabled: bool) -> None:
        for index in range(self.body.count()):
            item = self.body.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setEnabled(enabled)
        for field in (self.signer, self.pin, self.new_pin, self.repeat_pin, self.sign_button):
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
    """Sign one or both parts of a completed session: who, what (with what it attests), PIN.
    With a verbal order not countersigned, the prescriber who gave it can countersign here
    (their PIN) before the monitoring part is signed."""

    sign_requested = Signal(object, str, list)  # staff id, PIN, parts; answered by answer()

    def __init__(
        self,
        staff: Sequence[StaffRecord],
        signer_id: uuid.UUID | None,
        parts: Sequence[str],
        ticked: Collection[str],
        with_pin: Collection[uuid.UUID],
        *,
        session_title: str = "",
        parent: QWidget | None = None,
        countersign: CountersignAsk | None = None,
    ) -> None:
        super().__init__("Sign the session record", staff, signer_id, with_pin, "Sign", parent)
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

    def _submit(self, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        self.sign_requested.emit(staff_id, pin, self.parts())
        return self._asked()


class AddendumDialog(_PinDialog):
    """Write and sign an addendum to a signed record. Enter in the text starts a new line;
    Ctrl+Enter (or Enter in the PIN) signs."""

    addendum_requested = Signal(object, str, str)  # staff id, PIN, text; answered by answer()

    def __init__(
        self,
        staff: Sequence[StaffRecord],
        signer_id: uuid.UUID | None,
        with_pin: Collection[uuid.UUID],
        *,
        text: str = "",
        session_title: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Add a signed addendum", staff, signer_id, with_pin, "Sign addendum", parent
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

    def _submit(self, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        self.addendum_requested.emit(staff_id, pin, self.text.toPlainText().strip())
        return self._asked()
