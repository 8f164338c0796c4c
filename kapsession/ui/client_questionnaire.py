"""The questionnaire the client answers on the screen (issue 17): F on the live screen, Shift+Q
on the start screen's client list.

Staff choose the questionnaire and who hands the laptop over (`HandOverDialog`); the client
then answers on a full-screen, dim page (`ClientQuestionnaireScreen`): one item at a time in
large text, a digit answers it and moves on (0–3, 0–4 for PCL-5), ↑ ↓ choose an answer and
Enter gives it, ← or Backspace goes back to change one, → moves on without answering; a last
page lists every answer to check (Enter on an item changes it, Enter on "Send my answers"
sends them). Nothing of anyone else is shown: no other participant, no session clock, vitals,
notes or staff names; only the client's own preferred (else first) name, so that they see the
form is theirs.

Leaving needs a staff PIN, before the end or after it: Esc, closing the window, or "Staff" show
the PIN page (Esc there goes back to the client's page); every other key of the app is
inert while the screen is up (it is modal and full-screen). The PIN is the handing-over staff
member's; "Someone else" lets another staff member choose their name. A PIN answered wrong is
refused after the service's pause, the form disabled meanwhile.

What the client sent is saved when they send it (`save_requested`); one left unfinished is
asked to be saved as incomplete once the PIN is accepted (never scored as zero), and nothing is
saved when no item was answered. The staff then see what was saved and, for PHQ-9 item 9
above zero, the prescriber's flag; the client's pages never alarm. The controller answers the
requests before `emit` returns (`saved`, `save_failed`, `answer`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QMouseEvent, QRegularExpressionValidator
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
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.questionnaires import INSTRUMENTS, Instrument
from kapsession.records.notes import SignOutcome
from kapsession.records.people import PIN_MAX_DIGITS, PIN_MIN_DIGITS, StaffRecord
from kapsession.ui.dialogs import _buttons

# The client's pages: dimmer than the room theme, large type, one thing at a time.
DIM_BACKGROUND = "#0b0c0d"
DIM_TEXT = "#b9b3a8"
DIM_FAINT = "#6c6862"
CHOSEN = "#26323d"
CHOSEN_BORDER = "#4a6075"
CLIENT_STYLE = f"""
ClientQuestionnaireScreen, ClientQuestionnaireScreen QWidget {{
    background: {DIM_BACKGROUND}; color: {DIM_TEXT}; font-size: 24px; }}
QLabel {{ background: transparent; }}
QLabel#clientTitle {{ font-size: 34px; }}
QLabel#clientItem {{ font-size: 34px; }}
QLabel#clientFaint {{ color: {DIM_FAINT}; font-size: 20px; }}
QLabel#option {{ border: 2px solid transparent; border-radius: 8px; padding: 12px 18px;
    font-size: 28px; }}
QLabel#option[chosen="true"] {{ background: {CHOSEN}; border-color: {CHOSEN_BORDER}; }}
QLabel#option[answer="true"] {{ color: #d8d2c6; }}
QListWidget {{ border: 1px solid #23272b; border-radius: 8px; font-size: 22px; }}
QListWidget::item {{ padding: 8px; }}
QListWidget::item:selected {{ background: {CHOSEN}; color: #d8d2c6; }}
QListWidget:focus {{ border: 2px solid {CHOSEN_BORDER}; }}
QPushButton {{ background: #16191c; border: 1px solid #2a2e33; border-radius: 8px;
    padding: 10px 20px; font-size: 20px; color: {DIM_TEXT}; }}
QPushButton:focus {{ border: 2px solid {CHOSEN_BORDER}; }}
QLineEdit {{ background: #16191c; border: 1px solid #2a2e33; border-radius: 8px;
    padding: 8px; font-size: 26px; letter-spacing: 4px; }}
QLineEdit:focus {{ border: 2px solid {CHOSEN_BORDER}; }}
QComboBox {{ font-size: 20px; }}
QLabel#staffFlag {{ background: #2a2320; border: 1px solid #c9705d; border-radius: 8px;
    padding: 14px 18px; color: #e6e0d6; font-size: 24px; }}
"""
NOT_ANSWERED = "Not answered"
SEND = "Send my answers"
HAND_BACK = "Thank you. Your answers are saved.\n\nPlease hand the laptop back to a staff member."
LEAVE_PURPOSE = "leave the client's questionnaire screen"

# the pages
INTRO, ITEM, CHECK, DONE, PIN, STAFF = range(6)


@dataclass(frozen=True)
class HandOver:
    """What staff chose before handing the laptop over."""

    key: str  # an InstrumentKey
    by: uuid.UUID  # who hands it over (their PIN lets the screen go)


class HandOverDialog(QDialog):
    """Staff choose the questionnaire and who hands it over (someone with a PIN)."""

    def __init__(
        self,
        client_name: str,
        staff: Sequence[StaffRecord],
        chosen: uuid.UUID | None,
        *,
        where: str,
        parent: QWidget | None = None,
    ) -> None:
        """`staff`: those with a PIN; `where`: the session or "not in a session"."""
        super().__init__(parent)
        self.setWindowTitle(f"Questionnaire on the screen — {client_name}")
        self.setMinimumWidth(620)
        self.instrument = QComboBox()
        self.instrument.setAccessibleName("Questionnaire")
        for form in INSTRUMENTS.values():
            self.instrument.addItem(form.title, form.key.value)
        self.handed_by = QComboBox()
        self.handed_by.setAccessibleName("Handed over by")
        for member in staff:
            self.handed_by.addItem(member.signature_name, member.id)
        ids = [member.id for member in staff]
        if chosen in ids:
            self.handed_by.setCurrentIndex(ids.index(chosen))
        about = QLabel(
            f"{client_name} answers on the full screen, one question at a time ({where}). "
            "Only their preferred or first name is shown there. Leaving the screen, before "
            "the end or after it, needs your PIN."
        )
        about.setObjectName("dim")
        about.setWordWrap(True)
        fields = QFormLayout()
        fields.addRow("Questionnaire", self.instrument)
        fields.addRow("Handed over by", self.handed_by)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(fields)
        layout.addWidget(_buttons(self, "Hand to the client"))
        self.instrument.setFocus()

    def value(self) -> HandOver:
        return HandOver(self.instrument.currentData(), self.handed_by.currentData())


class _OptionLabel(QLabel):
    """One answer on an item's page; a click gives it."""

    clicked = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit()


class _ItemPage(QWidget):
    """One item, its answers one under the other; it takes the keys itself."""

    answered = Signal(int)  # the answer's value
    step = Signal(int)  # -1 back, +1 on (without answering)

    def __init__(self, instrument: Instrument) -> None:
        super().__init__()
        self.instrument = instrument
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Question")
        self.counter = QLabel()
        self.counter.setObjectName("clientFaint")
        self.stem = QLabel(instrument.stem)
        self.stem.setObjectName("clientFaint")
        self.stem.setWordWrap(True)
        self.text = QLabel()
        self.text.setObjectName("clientItem")
        self.text.setWordWrap(True)
        self.options: list[_OptionLabel] = []
        self.highlight: int | None = None
        self.answer: int | None = None
        layout = QVBoxLayout(self)
        layout.setSpacing(14)
        layout.addWidget(self.counter)
        layout.addWidget(self.stem)
        layout.addWidget(self.text)
        layout.addSpacing(12)
        for value, words in enumerate(instrument.options):
            option = _OptionLabel(f"{value}   {words}")
            option.setObjectName("option")
            option.clicked.connect(lambda value=value: self.answered.emit(value))
            self.options.append(option)
            layout.addWidget(option)
        layout.addStretch(1)
        self.hint = QLabel(
            f"Press a number (0 to {instrument.max_answer}), or ↑ ↓ and Enter.   ← Back   → Next"
        )
        self.hint.setObjectName("clientFaint")
        layout.addWidget(self.hint)

    def show_item(self, number: int, answer: int | None) -> None:
        item = self.instrument.items[number - 1]
        self.counter.setText(f"Question {number} of {len(self.instrument.items)}")
        self.text.setText(item.text)
        self.answer = answer
        self.highlight = answer
        self._paint()

    def _paint(self) -> None:
        for value, option in enumerate(self.options):
            option.setProperty("chosen", value == self.highlight)
            option.setProperty("answer", value == self.answer)
            option.style().unpolish(option)
            option.style().polish(option)
        chosen = "none chosen" if self.highlight is None else self.options[self.highlight].text()
        self.setAccessibleDescription(f"{self.text.text()} — {chosen}")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        top = self.instrument.max_answer
        held = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        if event.modifiers() & held:
            super().keyPressEvent(event)  # no combination acts here, nor past the screen
            return
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
            digit = key - Qt.Key.Key_0
            if digit <= top:
                self.answered.emit(digit)
            return
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            move = 1 if key == Qt.Key.Key_Down else -1
            start = (-1 if move > 0 else top + 1) if self.highlight is None else self.highlight
            self.highlight = min(top, max(0, start + move))
            self._paint()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.highlight is not None:
                self.answered.emit(self.highlight)
            return
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Backspace):
            self.step.emit(-1)
            return
        if key == Qt.Key.Key_Right:
            self.step.emit(1)
            return
        super().keyPressEvent(event)  # to the screen: Esc is the staff's PIN, the rest nothing


class ClientQuestionnaireScreen(QDialog):
    """The client's questionnaire, full screen; leaving it needs a staff PIN."""

    save_requested = Signal(object)  # dict item number -> answer or None; answered by saved()
    pin_requested = Signal(object, str)  # staff id, PIN; answered by answer()

    def __init__(
        self,
        instrument: Instrument,
        name: str,
        staff: Sequence[StaffRecord],
        handed_by: uuid.UUID,
        parent: QWidget | None = None,
    ) -> None:
        """`name`: the client's preferred or first name (nothing else of theirs is shown);
        `staff`: those with a PIN, offered only when someone else than `handed_by` leaves."""
        super().__init__(parent)
        self.instrument = instrument
        self.handed_by = handed_by
        self.answers: dict[int, int | None] = {item.number: None for item in instrument.items}
        self.number = 1  # the item shown
        self.checking = False  # an item opened from the check page goes back there
        self.stored = False  # the answers are saved
        self.save_problem = ""  # why the last save failed
        self.staff_text = ""  # what the staff see once the PIN is accepted
        self.staff_flag = ""
        self._pin_answer: SignOutcome | None = None
        self._pending: SignOutcome | None = None
        self._unlocked = False
        self._before_pin = INTRO
        self.setWindowTitle("Questionnaire")
        self.setStyleSheet(CLIENT_STYLE)
        self.setModal(True)

        self.pages = QStackedWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(80, 50, 80, 40)
        outer.addWidget(self.pages, 1)
        # the intro
        intro = QWidget()
        intro.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        intro_layout = QVBoxLayout(intro)
        greeting = f"Hello {name}." if name else "Hello."
        self.greeting = QLabel(greeting)
        self.greeting.setObjectName("clientTitle")
        title = QLabel(instrument.title)
        title.setObjectName("clientItem")
        title.setWordWrap(True)
        how = QLabel(
            f"{len(instrument.items)} questions, one at a time. {instrument.stem}\n\n"
            f"Answer each with a number key (0 to {instrument.max_answer}), or with ↑ ↓ "
            "and Enter. ← goes back to change an answer. At the end you can check your "
            "answers before sending them.\n\nPress Enter to begin."
        )
        how.setWordWrap(True)
        intro_layout.addWidget(self.greeting)
        intro_layout.addSpacing(20)
        intro_layout.addWidget(title)
        intro_layout.addSpacing(20)
        intro_layout.addWidget(how)
        intro_layout.addStretch(1)
        self.pages.addWidget(intro)
        # one item at a time
        self.item_page = _ItemPage(instrument)
        self.item_page.answered.connect(self._answered)
        self.item_page.step.connect(self._step)
        self.pages.addWidget(self.item_page)
        # checking the answers
        check = QWidget()
        check_layout = QVBoxLayout(check)
        check_title = QLabel("Check your answers")
        check_title.setObjectName("clientTitle")
        check_hint = QLabel(
            "↑ ↓ to move, Enter on a question to change its answer, "
            f"Enter on “{SEND}” when you are done."
        )
        check_hint.setObjectName("clientFaint")
        check_hint.setWordWrap(True)
        self.check_list = QListWidget()
        self.check_list.setAccessibleName("Your answers")
        self.check_list.setWordWrap(True)
        self.check_list.itemActivated.connect(self._check_activated)
        check_layout.addWidget(check_title)
        check_layout.addWidget(check_hint)
        check_layout.addWidget(self.check_list, 1)
        self.pages.addWidget(check)
        # sent
        done = QWidget()
        done.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        done_layout = QVBoxLayout(done)
        self.done_text = QLabel(HAND_BACK)
        self.done_text.setObjectName("clientTitle")
        self.done_text.setWordWrap(True)
        done_layout.addStretch(1)
        done_layout.addWidget(self.done_text, alignment=Qt.AlignmentFlag.AlignCenter)
        done_layout.addStretch(2)
        self.pages.addWidget(done)
        # the staff's PIN
        pin_page = QWidget()
        pin_layout = QVBoxLayout(pin_page)
        pin_title = QLabel("Staff only")
        pin_title.setObjectName("clientTitle")
        pin_about = QLabel(
            "To leave this screen, the staff member who handed it over enters their PIN. "
            "Esc goes back to the questionnaire."
        )
        pin_about.setWordWrap(True)
        self.pin = QLineEdit()
        self.pin.setAccessibleName("Staff PIN")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(PIN_MAX_DIGITS)
        self.pin.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9]*"), self.pin))
        self.pin.setMaximumWidth(320)
        self.pin.returnPressed.connect(self._check_pin)
        self.someone_else = QPushButton("Someone else")
        self.someone_else.setAccessibleName("Someone else")
        self.someone_else.clicked.connect(self._show_staff)
        self._staff_members = list(staff)
        self.staff = QComboBox()  # filled when staff ask: no staff name on the client's screen
        self.staff.setAccessibleName("Staff member")
        self.staff.hide()
        self.pin_message = QLabel()
        self.pin_message.setWordWrap(True)
        self.pin_message.setAccessibleName("PIN problem")
        self.pin_message.hide()
        pin_row = QHBoxLayout()
        pin_row.addWidget(self.pin)
        pin_row.addWidget(self.staff)
        pin_row.addWidget(self.someone_else)
        pin_row.addStretch(1)
        pin_layout.addWidget(pin_title)
        pin_layout.addWidget(pin_about)
        pin_layout.addLayout(pin_row)
        pin_layout.addWidget(self.pin_message)
        pin_layout.addStretch(1)
        self.pages.addWidget(pin_page)
        # what the staff see once the PIN is accepted
        staff_page = QWidget()
        staff_layout = QVBoxLayout(staff_page)
        self.staff_title = QLabel()
        self.staff_title.setObjectName("clientTitle")
        self.staff_title.setWordWrap(True)
        self.staff_result = QLabel()
        self.staff_result.setAccessibleName("Questionnaire result")
        self.staff_result.setWordWrap(True)
        self.staff_flag_label = QLabel()
        self.staff_flag_label.setObjectName("staffFlag")
        self.staff_flag_label.setAccessibleName("Prescriber's decision")
        self.staff_flag_label.setWordWrap(True)
        self.close_button = QPushButton("Close  (Enter)")
        self.close_button.setAutoDefault(True)
        self.close_button.clicked.connect(self._close_for_staff)
        self.retry_button = QPushButton("Save again")
        self.retry_button.setAutoDefault(True)
        self.retry_button.clicked.connect(self._save_again)
        staff_buttons = QHBoxLayout()
        staff_buttons.addWidget(self.retry_button)
        staff_buttons.addWidget(self.close_button)
        staff_buttons.addStretch(1)
        staff_layout.addWidget(self.staff_title)
        staff_layout.addWidget(self.staff_result)
        staff_layout.addWidget(self.staff_flag_label)
        staff_layout.addLayout(staff_buttons)
        staff_layout.addStretch(1)
        self.pages.addWidget(staff_page)

        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.timeout.connect(self._pause_over)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._retry_over)
        self._show(INTRO)

    # what is shown ---------------------------------------------------------------------------
    @property
    def page(self) -> int:
        return self.pages.currentIndex()

    def _show(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        focus: QWidget | None = self.pages.currentWidget()
        if page == CHECK:
            focus = self.check_list
        elif page == PIN:
            focus = self.pin
        elif page == STAFF:
            focus = self.close_button
        if focus is not None:
            focus.setFocus()

    def _show_item(self, number: int) -> None:
        self.number = number
        self.item_page.show_item(number, self.answers[number])
        self._show(ITEM)

    def _show_check(self) -> None:
        self.checking = True
        self.check_list.clear()
        for item in self.instrument.items:
            answer = self.answers[item.number]
            words = (
                NOT_ANSWERED if answer is None else f"{answer}  {self.instrument.options[answer]}"
            )
            entry = QListWidgetItem(f"{item.number}.  {item.text}\n        → {words}")
            entry.setData(Qt.ItemDataRole.UserRole, item.number)
            self.check_list.addItem(entry)
        send = QListWidgetItem(f"        {SEND}")
        send.setData(Qt.ItemDataRole.UserRole, 0)
        self.check_list.addItem(send)
        self._show(CHECK)
        self.check_list.setCurrentItem(send)

    def texts(self) -> list[str]:
        """Every text the screen holds now (its labels, lists, buttons, fields and choices),
        shown or not: what a person at the screen could come to see."""
        found: list[str] = [self.windowTitle()]
        for widget in self.findChildren(QWidget):
            if isinstance(widget, QLabel | QPushButton | QLineEdit):
                found.append(widget.text())
            elif isinstance(widget, QListWidget):
                found += [widget.item(i).text() for i in range(widget.count())]
            elif isinstance(widget, QComboBox):
                found += [widget.itemText(i) for i in range(widget.count())]
        return [text for text in found if text]

    # the client's keys -----------------------------------------------------------------------
    def _answered(self, value: int) -> None:
        self.answers[self.number] = value
        self._step(1)

    def _step(self, move: int) -> None:
        number = self.number + move
        if move > 0 and (self.checking or number > len(self.instrument.items)):
            self._show_check()
        elif number < 1:
            self._show(INTRO)
        else:
            self._show_item(number)

    def _check_activated(self, entry: QListWidgetItem) -> None:
        number = entry.data(Qt.ItemDataRole.UserRole)
        if number:
            self._show_item(number)
        else:
            self._send()

    def _send(self) -> None:
        self.save_problem = ""
        self.save_requested.emit(dict(self.answers))
        self._show(DONE)  # whatever came of it: the staff see it after their PIN

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.reject()
            return
        if self.page == INTRO and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._show_item(1)
            return
        if self.page == CHECK and key in (Qt.Key.Key_Left, Qt.Key.Key_Backspace):
            self.checking = False
            self._show_item(len(self.instrument.items))
            return
        # nothing else acts here: no key of the app reaches past this screen

    # answers of the controller ---------------------------------------------------------------
    def saved(self, text: str, flag: str) -> None:
        """The answer to `save_requested`: saved; `text` and `flag` are for the staff."""
        self.stored = True
        self.staff_text, self.staff_flag = text, flag

    def save_failed(self, problem: str) -> None:
        """The answer to `save_requested`: not saved, and why (shown to the staff)."""
        self.save_problem = problem

    def answer(self, outcome: SignOutcome) -> None:
        """The answer to `pin_requested`."""
        self._pin_answer = outcome

    # leaving ---------------------------------------------------------------------------------
    def reject(self) -> None:
        """Esc, or closing the window: the staff's PIN first (Esc on its page goes back)."""
        if self._unlocked:
            super().reject()
        elif self.page == PIN:
            if not self.is_waiting():
                self._show(self._before_pin)
        elif self.page != STAFF:
            self._before_pin = self.page
            self.pin.clear()
            self.pin_message.hide()
            self._show(PIN)

    def accept(self) -> None:
        """Only the staff's Close ends the screen (after their PIN)."""
        if self._unlocked:
            super().accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._unlocked:
            super().closeEvent(event)
            return
        event.ignore()
        self.reject()

    def is_waiting(self) -> bool:
        return self._pause.isActive() or self._retry.isActive()

    def _show_staff(self) -> None:
        if not self.staff.count():
            for member in self._staff_members:
                self.staff.addItem(member.signature_name, member.id)
        self.staff.show()
        self.someone_else.hide()
        self.staff.setFocus()

    def leaver(self) -> uuid.UUID:
        chosen = self.staff.currentData() if self.staff.isVisible() else None
        return chosen if isinstance(chosen, uuid.UUID) else self.handed_by

    def _check_pin(self) -> None:
        if self.is_waiting():
            return
        pin = self.pin.text()
        if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
            self._pin_problem(f"Type the PIN: {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits.")
            return
        self._pin_answer = None
        self.pin_requested.emit(self.leaver(), pin)
        outcome, self._pin_answer = self._pin_answer, None
        outcome = outcome or SignOutcome(False, "The PIN could not be checked.")
        self.pin.clear()
        if outcome.ok:
            self._unlock()
        elif outcome.pause_s > 0:
            self._pending = outcome
            self.pin_message.hide()
            self.pin.setEnabled(False)
            self._pause.start(round(outcome.pause_s * 1000))
        else:
            self._refused(outcome)

    def _pause_over(self) -> None:
        outcome, self._pending = self._pending, None
        self.pin.setEnabled(True)
        if outcome is not None:
            self._refused(outcome)

    def _refused(self, outcome: SignOutcome) -> None:
        self._pin_problem(outcome.message)
        if outcome.retry_in_s > 0:
            self.pin.setEnabled(False)
            self._retry.start(round(outcome.retry_in_s * 1000))

    def _retry_over(self) -> None:
        self.pin.setEnabled(True)
        self.pin.setFocus()
        self.pin_message.setText(self.pin_message.text() + " You can try again now.")

    def _pin_problem(self, text: str) -> None:
        self.pin_message.setText(text)
        self.pin_message.show()
        self.pin.setFocus()

    def _unlock(self) -> None:
        """The PIN is right: an unfinished questionnaire with answers is saved as incomplete
        (never scored as zero); then what was saved, for the staff."""
        self._unlocked = True
        if not self.stored and not self.save_problem:
            if any(value is not None for value in self.answers.values()):
                self.save_requested.emit(dict(self.answers))
            else:
                self.staff_text = "Nothing was answered: nothing was saved."
        self._show_staff_page()

    def _save_again(self) -> None:
        self.save_problem = ""
        self.save_requested.emit(dict(self.answers))
        self._show_staff_page()

    def _show_staff_page(self) -> None:
        self.staff_title.setText(f"{self.instrument.name}: for staff")
        if self.save_problem:
            self.staff_result.setText(f"The answers were not saved: {self.save_problem}")
        else:
            self.staff_result.setText(self.staff_text)
        self.retry_button.setVisible(bool(self.save_problem))
        self.staff_flag_label.setText(self.staff_flag)
        self.staff_flag_label.setVisible(bool(self.staff_flag))
        self._show(STAFF)
        if self.save_problem:
            self.retry_button.setFocus()

    def _close_for_staff(self) -> None:
        self.accept()

    def done(self, result: int) -> None:
        self._pause.stop()
        self._retry.stop()
        super().done(result)
