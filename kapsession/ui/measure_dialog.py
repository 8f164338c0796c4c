"""An outcome measure entered by staff from the client's paper form (issue 17): Q or
Questionnaire… on the start screen's client list.

Choose the questionnaire (PHQ-9, GAD-7, PCL-5), then answer its items by keyboard: on an item,
a digit (0–3, or 0–4 for PCL-5) answers it and moves to the next; Up and Down move between
items, Left and Right change the answer, Delete clears it. Every item's text is shown with its
answer. The total and its band are shown as the items are answered, "incomplete" while one is
missing (an incomplete form is saved as incomplete, never scored as if the item were 0). PHQ-9
item 9 above zero is said plainly: the prescriber must decide before the next dose.

The dialog asks for the save (`save_requested`); the controller saves it and either closes
the dialog (`saved`) or hands back the problem (`show_problems`), nothing typed lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.questionnaires import INSTRUMENTS, Instrument, Item, Score, score
from kapsession.records.history import HistorySession
from kapsession.records.measures import MeasureRecord, prescriber_message, version_line
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.ui import theme
from kapsession.ui.correction_dialogs import CORRECT, WITHDRAW, WITHDRAW_TEXT
from kapsession.ui.dialogs import _buttons, fit_height

NOT_ANSWERED = "—"
BELOW_BODY_PX = 330  # the total, the prescriber line, problems, who entered it, buttons, frame
SMALLEST_SCREEN_PX = 720
TEXT_WIDTH_PX = 680  # an item's text; the dialog is 1000 px wide
LISTED_MISSING = 6  # more unanswered items are counted, not listed
TAKES_ENTRIES = ("live", "completed")  # the sessions a measure may be given in
TIME_FORMAT = "%Y-%m-%d %H:%M"

ROW_STYLE = f"""
QFrame#item {{ border: 2px solid transparent; border-radius: 4px; }}
QFrame#item:focus {{ border: 2px solid {theme.FOCUS}; background: {theme.PANEL_RAISED}; }}
"""


@dataclass(frozen=True)
class MeasureEntry:
    """What the dialog asks to save."""

    key: str  # an InstrumentKey
    answers: dict[int, int | None]  # item number -> answer; None: not answered
    by: uuid.UUID | None
    session_id: uuid.UUID | None
    administered_at: datetime
    # a correction (issue 17): CORRECT or WITHDRAW with its reason; "" for a new one
    action: str = ""
    reason: str = ""


class ItemRow(QFrame):
    """One item: its number, its text and its answer. A digit answers it; the dialog moves on."""

    answered = Signal(int)  # the item's number
    step_requested = Signal(int)  # -1: the previous item, +1: the next

    def __init__(self, instrument: Instrument, item: Item) -> None:
        super().__init__()
        self.instrument = instrument
        self.item = item
        self.value: int | None = None
        self.setObjectName("item")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # as tall as its text needs: the list scrolls rather than squeezing the items
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(f"Item {item.number}")
        number = QLabel(f"{item.number}.")
        number.setFixedWidth(28)
        number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(item.text)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # every line of the text, at the width it is given (the dialog's is fixed)
        self.text.setFixedWidth(TEXT_WIDTH_PX)
        self.text.setMinimumHeight(self.text.heightForWidth(TEXT_WIDTH_PX))
        self.answer = QLabel(NOT_ANSWERED)
        self.answer.setFixedWidth(230)
        self.answer.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.addWidget(number)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.answer)

    def set_value(self, value: int | None) -> None:
        self.value = value
        self.answer.setText(
            NOT_ANSWERED if value is None else f"{value}  {self.instrument.options[value]}"
        )
        self.setAccessibleDescription(self.answer.text())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        top = self.instrument.max_answer
        held = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9 and not event.modifiers() & held:
            digit = key - Qt.Key.Key_0
            if digit <= top:
                self.set_value(digit)
                self.answered.emit(self.item.number)
                self.step_requested.emit(1)
            return  # a digit past the options answers nothing
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self.step_requested.emit(1 if key == Qt.Key.Key_Down else -1)
            return
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = 1 if key == Qt.Key.Key_Right else -1
            start = (-1 if step > 0 else top + 1) if self.value is None else self.value
            self.set_value(min(top, max(0, start + step)))
            self.answered.emit(self.item.number)
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.set_value(None)
            self.answered.emit(self.item.number)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()


class MeasureDialog(QDialog):
    """Enter a questionnaire from paper for one client; or, given `correcting` (Enter on a
    questionnaire in the client history), correct that one's answers or withdraw it, with a
    reason and who is correcting it: the questionnaire and the session it was given in stay
    as they were."""

    save_requested = Signal(object)  # MeasureEntry

    def __init__(
        self,
        client: ClientRecord,
        staff: Sequence[StaffRecord],
        sessions: Sequence[HistorySession],
        now: datetime,
        parent: QWidget | None = None,
        *,
        correcting: MeasureRecord | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.correcting = correcting
        self.setWindowTitle(f"Questionnaire — {client.full_name}")
        self.setFixedWidth(1000)
        self.setStyleSheet(ROW_STYLE)

        self.instrument = QComboBox()
        self.instrument.setAccessibleName("Questionnaire")
        for form in INSTRUMENTS.values():
            self.instrument.addItem(form.title, form.key.value)
        self.given_in = QComboBox()
        self.given_in.setAccessibleName("Given in")
        self.given_in.addItem("Not in a session", None)
        for session in reversed(sessions):  # the newest first
            if session.status in TAKES_ENTRIES:
                when = session.held_at.astimezone().strftime("%a %d %b %Y %H:%M")
                self.given_in.addItem(
                    f"{when} · {session.protocol_name} ({session.status_label})",
                    session.session_id,
                )
        self.administered = QLineEdit(now.astimezone().strftime(TIME_FORMAT))
        self.administered.setAccessibleName("Administered")
        self.administered.setPlaceholderText("YYYY-MM-DD HH:MM")
        self.administered.setMaximumWidth(170)
        top = QHBoxLayout()
        top.addWidget(QLabel("Questionnaire"))
        top.addWidget(self.instrument, 2)
        top.addWidget(QLabel("Given in"))
        top.addWidget(self.given_in, 2)
        top.addWidget(QLabel("Administered"))
        top.addWidget(self.administered)

        self.stem = QLabel()
        self.stem.setWordWrap(True)
        self.options = QLabel()
        self.options.setObjectName("dim")
        self.options.setWordWrap(True)
        self.rows: list[ItemRow] = []
        self.items = QWidget()
        self.items_layout = QVBoxLayout(self.items)
        self.items_layout.setContentsMargins(0, 0, 8, 0)
        self.items_layout.setSpacing(2)
        self.body = QScrollArea()
        self.body.setWidget(self.items)
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.total = QLabel()
        self.total.setAccessibleName("Total")
        self.total.setWordWrap(True)
        bold = self.total.font()
        bold.setBold(True)
        self.total.setFont(bold)
        self.flag = QLabel()
        self.flag.setObjectName("banner")
        self.flag.setWordWrap(True)
        self.flag.setAccessibleName("Prescriber's decision")
        self.flag.hide()
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problems")
        self.problem.hide()
        by_text = "Entered by" if correcting is None else "Corrected by"
        self.entered_by = QComboBox()
        self.entered_by.setAccessibleName(by_text)
        self.entered_by.addItem("— choose —", None)
        for member in staff:
            self.entered_by.addItem(member.signature_name, member.id)
        self.buttons = _buttons(self, "Save questionnaire")
        foot = QHBoxLayout()
        foot.addWidget(QLabel(by_text))
        foot.addWidget(self.entered_by, 1)
        foot.addStretch(1)
        foot.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        self.choice = QComboBox()
        self.reason = QLineEdit()
        if correcting is not None:
            self._correction_rows(layout, correcting)
        layout.addLayout(top)
        layout.addWidget(self.stem)
        layout.addWidget(self.options)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.total)
        layout.addWidget(self.flag)
        layout.addWidget(self.problem)
        layout.addLayout(foot)

        self.instrument.currentIndexChanged.connect(self._show_instrument)
        if correcting is not None:
            self.instrument.setCurrentIndex(self.instrument.findData(correcting.instrument_key))
            self.instrument.setEnabled(False)  # a correction keeps the questionnaire
        self._show_instrument()
        self.setTabOrder(self.instrument, self.given_in)
        self.setTabOrder(self.given_in, self.administered)
        self.rows[0].setFocus()
        if correcting is not None:
            self._prefill(correcting)

    # correcting (issue 17) ---------------------------------------------------------------
    def _correction_rows(self, layout: QVBoxLayout, record: MeasureRecord) -> None:
        """Above the form: the questionnaire as recorded, what to record and the reason."""
        self.setWindowTitle(f"Correct questionnaire — {self.client.full_name}")
        recorded = QLabel(f"As recorded: {record.instrument.name} {version_line(record)}")
        recorded.setWordWrap(True)
        recorded.setTextFormat(Qt.TextFormat.PlainText)
        recorded.setAccessibleName("The questionnaire as recorded")
        self.choice.setAccessibleName("What to record")
        self.choice.addItem("Correct the answers", CORRECT)
        self.choice.addItem(WITHDRAW_TEXT, WITHDRAW)
        self.reason.setAccessibleName("Reason (required; it goes on the record)")
        self.reason.setPlaceholderText("Why: it goes on the record with the correction")
        rows = QHBoxLayout()
        rows.addWidget(QLabel("Record"))
        rows.addWidget(self.choice, 1)
        rows.addWidget(QLabel("Reason (required)"))
        rows.addWidget(self.reason, 2)
        layout.addWidget(recorded)
        layout.addLayout(rows)
        self.choice.currentIndexChanged.connect(self._chosen)

    def _prefill(self, record: MeasureRecord) -> None:
        """The recorded answers, time and session; the focus on what to record."""
        for row, value in zip(self.rows, record.answers, strict=False):
            row.set_value(value)
        self._update_total()
        self.administered.setText(record.occurred_at.astimezone().strftime(TIME_FORMAT))
        index = self.given_in.findData(record.session_id)
        if index < 0:  # a session that takes no more entries: named, not offered
            self.given_in.addItem("The session it was given in", record.session_id)
            index = self.given_in.count() - 1
        self.given_in.setCurrentIndex(index)
        self.given_in.setEnabled(False)  # a correction keeps the session
        self.setTabOrder(self.choice, self.reason)
        self.setTabOrder(self.reason, self.administered)
        self._chosen()
        self.choice.setFocus()

    @property
    def action(self) -> str:
        """CORRECT or WITHDRAW when correcting; "" for a new questionnaire."""
        return "" if self.correcting is None else str(self.choice.currentData())

    def _chosen(self) -> None:
        correcting = self.action == CORRECT
        self.administered.setEnabled(correcting)
        self.items.setEnabled(correcting)  # a withdrawal takes it back as it was
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Record correction" if correcting else "Withdraw questionnaire")

    # the items ---------------------------------------------------------------------------
    @property
    def form(self) -> Instrument:
        form: Instrument = INSTRUMENTS[self.instrument.currentData()]
        return form

    def _show_instrument(self) -> None:
        """The chosen questionnaire's items, none answered."""
        for row in self.rows:
            self.items_layout.removeWidget(row)
            row.hide()  # out of the Tab chain now; deleted once control is back in the loop
            row.deleteLater()
        form = self.form
        self.stem.setText(form.stem)
        self.options.setText(
            "Answers:  "
            + "   ".join(f"{value} {text}" for value, text in enumerate(form.options))
            + "   ·  a digit answers the item and moves on; ↑ ↓ move, ← → change, Delete clears"
        )
        self.rows = [ItemRow(form, item) for item in form.items]
        previous: QWidget = self.administered
        for row in self.rows:
            self.items_layout.addWidget(row)
            row.show()  # at once: a layout shows a widget added to a shown one only later
            row.answered.connect(self._update_total)
            row.step_requested.connect(lambda step, row=row: self._move(row, step))
            self.setTabOrder(previous, row)
            previous = row
        self.setTabOrder(previous, self.entered_by)
        # the list's height now, not at the next event loop pass: the new items scroll at once
        self.items_layout.activate()
        self.items.setMinimumHeight(self.items_layout.sizeHint().height())
        self._update_total()

    def _move(self, row: ItemRow, step: int) -> None:
        index = self.rows.index(row) + step
        if 0 <= index < len(self.rows):
            target = self.rows[index]
            target.setFocus()
            self.body.ensureWidgetVisible(target)
        elif index >= len(self.rows):
            self.entered_by.setFocus()  # the last item answered: who entered it, then Enter

    def answers(self) -> dict[int, int | None]:
        return {row.item.number: row.value for row in self.rows}

    def scored(self) -> Score:
        return score(self.form, self.answers())

    def _update_total(self, _item: int = 0) -> None:
        scored = self.scored()
        if scored.total is not None and scored.band is not None:
            self.total.setText(
                f"Total {scored.total} of {self.form.max_total} — {scored.band.label}"
            )
        else:
            answered = len(self.rows) - len(scored.missing)
            running = sum(scored.answers.values())
            missing = (
                f"{'item' if len(scored.missing) == 1 else 'items'} "
                f"{', '.join(str(n) for n in scored.missing)}"
                if len(scored.missing) <= LISTED_MISSING
                else f"{len(scored.missing)} items"
            )
            self.total.setText(
                f"Incomplete: {answered} of {len(self.rows)} answered (so far {running}); "
                f"{missing} unanswered — not scored"
            )
        flag = prescriber_message(scored)
        self.flag.setText(flag)
        if self.flag.isVisibleTo(self) != bool(flag):
            self.flag.setVisible(bool(flag))
            if self.isVisible():
                fit_height(self)  # room for the message, the items scrolling

    # saving ------------------------------------------------------------------------------
    def value(self) -> tuple[MeasureEntry | None, list[str]]:
        text = self.administered.text().strip()
        try:
            administered = datetime.strptime(text, TIME_FORMAT).astimezone()
        except ValueError:
            return None, [f"Administered: “{text}” is not a time; write it as YYYY-MM-DD HH:MM."]
        entry = MeasureEntry(
            key=self.instrument.currentData(),
            answers=self.answers(),
            by=self.entered_by.currentData(),
            session_id=self.given_in.currentData(),
            administered_at=administered,
            action=self.action,
            reason=self.reason.text(),
        )
        return entry, []

    def show_problems(self, problems: Sequence[str]) -> None:
        """Say what is wrong; the dialog stays open with every answer."""
        self.problem.setText("\n".join(problems))
        self.problem.show()
        fit_height(self)

    def accept(self) -> None:
        entry, problems = self.value()
        if entry is None:
            self.show_problems(problems)
            return
        self.save_requested.emit(entry)

    def saved(self) -> None:
        super().accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The items unscrolled where the screen has room, scrolling on a shorter one.
        inner = self.body.widget()
        screen = self.screen()
        if inner is not None and screen is not None:
            # no taller than the smallest laptop's screen (1280x720), where it must fit too
            room = min(screen.availableGeometry().height(), SMALLEST_SCREEN_PX) - BELOW_BODY_PX
            self.body.setMinimumHeight(min(inner.sizeHint().height(), room))
        fit_height(self)
