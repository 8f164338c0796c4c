"""Before a dosing session and its first dose (issue 17): the client's consents (K on the start
screen's client list), the screening before the dose (B on the live screen, or D while it is
not done) and the prescriber's decision with their PIN and a reason (proceed or hold on a
failed screening or PHQ-9 item 9 above zero; starting a session without current consent).

Every field is reached with Tab; a choice is made with the arrow keys or by typing its first
letter (Y, N on a screening item). The dialogs ask for a save with a signal or return what was
typed (`value`); the controller saves it and closes them or hands back the problem, nothing
typed lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.consent import Consent, ConsentKind
from kapsession.domain.corrections import EntryState, entry_states
from kapsession.domain.screening import Checklist
from kapsession.records.consent import ConsentRecord
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.ui.dialogs import _buttons, fit_height

NOT_ANSWERED = "—"
CHOOSE = "— choose —"


def _problem_label() -> QLabel:
    label = QLabel()
    label.setObjectName("banner")
    label.setWordWrap(True)
    label.hide()
    return label


def _staff_combo(
    staff: Sequence[StaffRecord], chosen: uuid.UUID | None, name: str, *, choose: bool = False
) -> QComboBox:
    """`choose`: start on "— choose —" (no one named by default: the right person)."""
    combo = QComboBox()
    combo.setAccessibleName(name)
    if choose:
        combo.addItem(CHOOSE, None)
    for member in staff:
        combo.addItem(member.signature_name, member.id)
    index = combo.findData(chosen) if chosen is not None else -1
    combo.setCurrentIndex(max(index, 0))
    return combo


# the prescriber's decision ----------------------------------------------------------------------
class PrescriberDecisionDialog(QDialog):
    """The prescriber decides with their PIN and a reason: proceed or hold (`decisions`), or
    one act to confirm (no choice: starting a session without consent).

    The controller runs it in a loop: `while dialog.exec(): typed = dialog.value(); ... check
    the PIN and save; if saved: break; dialog.show_refused(message)`."""

    def __init__(
        self,
        title: str,
        why: str,
        prescribers: Sequence[StaffRecord],
        prescriber_id: uuid.UUID | None,
        *,
        with_pin: Collection[uuid.UUID] = (),
        decisions: bool = True,
        ok_text: str = "Record the decision",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(640)
        heading = QLabel(title)
        heading.setStyleSheet("font-size: 19px;")
        self.about = QLabel(why)
        self.about.setWordWrap(True)
        self.decision = QComboBox()
        self.decision.setAccessibleName("Decision")
        self.decision.addItem("Proceed: the dose may be given", "proceed")
        self.decision.addItem("Hold: no dose for now", "hold")
        self.prescriber = _staff_combo(prescribers, prescriber_id, "Prescriber")
        self._with_pin = set(with_pin)
        self.pin = QLineEdit()
        self.pin.setAccessibleName("Prescriber's PIN")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaximumWidth(160)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("Why: what the prescriber decided on")
        form = QFormLayout()
        if decisions:
            form.addRow("&Decision", self.decision)
        form.addRow("&Prescriber", self.prescriber)
        form.addRow("P&IN", self.pin)
        form.addRow("&Reason", self.reason)
        self.problem = _problem_label()
        if not prescribers:
            self.problem.setText(
                "No one on the staff list may prescribe (the clinic's role rules): add the "
                "prescriber with Add staff, or press Escape."
            )
            self.problem.show()
        self.buttons = _buttons(self, ok_text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(heading)
        layout.addWidget(self.about)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._decisions = decisions
        (self.decision if decisions else self.prescriber).setFocus()

    def value(self) -> tuple[str | None, uuid.UUID, str, str, str] | None:
        """(decision or None, prescriber id, their name, PIN, reason), or None with what is
        missing shown."""
        missing = []
        staff_id = self.prescriber.currentData()
        if staff_id is None:
            missing.append("Choose the prescriber.")
        if not self.pin.text():
            missing.append("The prescriber types their PIN.")
        if not self.reason.text().strip():
            missing.append("Write the reason.")
        if missing or staff_id is None:
            self._show("Not recorded. " + " ".join(missing))
            return None
        decision = self.decision.currentData() if self._decisions else None
        return (decision, staff_id, self.prescriber.currentText(), self.pin.text(),
                self.reason.text().strip())  # fmt: skip

    def show_refused(self, message: str) -> None:
        """Not recorded (a wrong PIN, the record refused): why, the PIN emptied for a retry."""
        self.pin.clear()
        self._show(f"NOT recorded. {message}")
        self.pin.setFocus()

    def accept(self) -> None:
        if self.value() is not None:
            super().accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height(self)

    def _show(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        fit_height(self)


# the screening ----------------------------------------------------------------------------------
class ScreeningDialog(QDialog):
    """The clinic's checklist for one participant, every item answered yes or no (Y or N on
    it), each showing the answer that passes. Answered again (`replacing`), a reason is asked:
    the earlier answers stay on the record. Nothing is filled in from an earlier screening."""

    def __init__(
        self,
        participant_name: str,
        checklist: Checklist,
        *,
        replacing: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.checklist = checklist
        self.setWindowTitle(f"Screening before the dose — {participant_name}")
        self.setMinimumWidth(760)
        heading = QLabel(f"Screening before the dose — {participant_name}")
        heading.setStyleSheet("font-size: 19px;")
        about = QLabel(
            "Ask each question and choose the answer (Y or N). An answer other than the one "
            "that passes keeps the dose disabled until the prescriber decides."
        )
        about.setObjectName("dim")
        about.setWordWrap(True)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        self.answers: dict[str, QComboBox] = {}
        for row, item in enumerate(checklist.items):
            question = QLabel(f"{row + 1}. {item.question}")
            question.setWordWrap(True)
            combo = QComboBox()
            combo.setAccessibleName(item.question)
            for text in (NOT_ANSWERED, "Yes", "No"):
                combo.addItem(text, None if text == NOT_ANSWERED else text.lower())
            passes = QLabel(f"passes: {item.passes}")
            passes.setObjectName("dim")
            question.setBuddy(combo)
            grid.addWidget(question, row, 0)
            grid.addWidget(combo, row, 1)
            grid.addWidget(passes, row, 2)
            grid.setColumnStretch(0, 1)
            self.answers[item.key] = combo
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Why it is answered again")
        self.reason.setPlaceholderText("Why it is answered again")
        reason_row = QHBoxLayout()
        if replacing is not None:
            earlier = QLabel(f"Replaces the screening of {replacing}. Reason:")
            reason_row.addWidget(earlier)
            reason_row.addWidget(self.reason, 1)
        else:
            self.reason.hide()
        self.problem = _problem_label()
        self.buttons = _buttons(self, "Save the screening")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(about)
        layout.addLayout(grid)
        layout.addLayout(reason_row)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._replacing = replacing is not None
        first = next(iter(self.answers.values()), None)
        if first is not None:
            first.setFocus()

    def value(self) -> tuple[dict[str, str], str] | None:
        """(answers by item key, the reason when answered again), or None with what is
        missing shown."""
        answers: dict[str, str] = {}
        unanswered = []
        for number, item in enumerate(self.checklist.items, start=1):
            answer = self.answers[item.key].currentData()
            if answer is None:
                unanswered.append(str(number))
            else:
                answers[item.key] = answer
        problems = []
        if unanswered:
            problems.append(f"Answer every item (not answered: {', '.join(unanswered)}).")
        if self._replacing and not self.reason.text().strip():
            problems.append("Write why it is answered again.")
        if problems:
            self.show_refused(" ".join(problems))
            return None
        return answers, self.reason.text().strip()

    def show_refused(self, message: str) -> None:
        self.problem.setText(f"Not saved. {message}")
        self.problem.show()
        fit_height(self)

    def accept(self) -> None:
        if self.value() is not None:
            super().accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height(self)


# consents ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsentEntry:
    """What the consent dialog asks to save."""

    consent: Consent
    by: uuid.UUID | None


def consent_text(record: ConsentRecord, state: EntryState) -> str:
    """One version of a consent, in a line of the dialog's history."""
    c = record.consent
    kind = c.kind.label[0].upper() + c.kind.label[1:]
    what = "given" if c.given else "declined"
    text = (
        f"{kind}: {what}, signed {c.signed_on.isoformat()} (form {c.form_version}), "
        f"witnessed by {record.witness}"
    )
    if c.expires_on is not None:
        text += f", expires {c.expires_on.isoformat()}"
    if c.withdrawn_on is not None:
        text += f" — withdrawn by the client on {c.withdrawn_on.isoformat()}"
    if record.corrects_id is not None and record.correction_reason:
        text += f" ({record.correction_reason})"
    if state is EntryState.WITHDRAWN:
        text += " — taken back"
    elif state is EntryState.AMENDED:
        text += " — replaced by a later version"
    return text


class ConsentDialog(QDialog):
    """A client's consents: the line staff see (current or not, touch consent), every version
    entered, and a new one (kind, given or declined, date signed, the form's version, the
    witness, its own expiry if the form has one, who enters it). On a version of the history:
    "Client withdrew…" records the withdrawal from a day, "Entered in error…" takes it back;
    both ask for a reason (`reason_asked`, answered by the controller with the typed text)."""

    save_requested = Signal(object)  # a ConsentEntry
    withdraw_requested = Signal(object, object, str, object)  # record, day, reason, by
    take_back_requested = Signal(object, str, object)  # record, reason, by

    def __init__(
        self,
        client: ClientRecord,
        staff: Sequence[StaffRecord],
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.setWindowTitle(f"Consent — {client.full_name}")
        self.setMinimumWidth(820)
        heading = QLabel(f"Consent — {client.full_name}")
        heading.setStyleSheet("font-size: 19px;")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.history = QListWidget()
        self.history.setAccessibleName("Consents entered")
        self.history.setMinimumHeight(110)
        self.withdraw_button = QPushButton("Client &withdrew…")
        self.take_back_button = QPushButton("Entered in &error…")
        for button in (self.withdraw_button, self.take_back_button):
            button.setAutoDefault(False)
        self.withdraw_button.clicked.connect(self._withdraw)
        self.take_back_button.clicked.connect(self._take_back)
        history_buttons = QHBoxLayout()
        history_buttons.addWidget(self.withdraw_button)
        history_buttons.addWidget(self.take_back_button)
        history_buttons.addStretch(1)

        self.kind = QComboBox()
        self.kind.setAccessibleName("Consent")
        self.kind.addItem("KAP treatment consent", ConsentKind.KAP_TREATMENT)
        self.kind.addItem("Touch consent", ConsentKind.TOUCH)
        self.given = QComboBox()
        self.given.setAccessibleName("Given or declined")
        self.given.addItem("Given (signed yes)", True)
        self.given.addItem("Declined (signed no)", False)
        self.signed_on = QDateEdit()
        self.signed_on.setAccessibleName("Date signed")
        self.signed_on.setDisplayFormat("yyyy-MM-dd")
        self.signed_on.setDate(QDate(today.year, today.month, today.day))
        self.form_version = QLineEdit()
        self.form_version.setAccessibleName("Form version")
        self.form_version.setPlaceholderText("The version printed on the clinic's form, e.g. v3")
        self.witness = _staff_combo(staff, None, "Witnessed by", choose=True)
        self.has_expiry = QCheckBox("The form gives its own e&xpiry date")
        self.expires_on = QDateEdit()
        self.expires_on.setAccessibleName("Expires on")
        self.expires_on.setDisplayFormat("yyyy-MM-dd")
        self.expires_on.setDate(QDate(today.year + 1, today.month, min(today.day, 28)))
        self.expires_on.setEnabled(False)
        self.has_expiry.toggled.connect(self.expires_on.setEnabled)
        self.by = _staff_combo(staff, None, "Entered by", choose=True)
        form = QFormLayout()
        form.addRow("&Consent", self.kind)
        form.addRow("&Answer", self.given)
        form.addRow("&Date signed", self.signed_on)
        form.addRow("&Form version", self.form_version)
        form.addRow("Wit&nessed by", self.witness)
        form.addRow(self.has_expiry, self.expires_on)
        form.addRow("Entered b&y", self.by)
        self.problem = _problem_label()
        self.saved_note = QLabel()
        self.saved_note.setObjectName("dim")
        self.saved_note.hide()
        self.buttons = _buttons(self, "Save the consent")
        self.buttons.button(self.buttons.StandardButton.Cancel).setText("Close")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Entered so far (newest last):"))
        layout.addWidget(self.history)
        layout.addLayout(history_buttons)
        layout.addWidget(QLabel("New consent:"))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.saved_note)
        layout.addWidget(self.buttons)
        self._records: list[ConsentRecord] = []
        self._today = today
        self.kind.setFocus()

    def show_consents(self, records: Sequence[ConsentRecord], status_line: str) -> None:
        """The client's consents as entered, and the line staff see."""
        self._records = list(records)
        self.status.setText(status_line)
        self.history.clear()
        states = entry_states(self._records)
        for record in self._records:
            item = QListWidgetItem(consent_text(record, states[record.id][0]))
            item.setData(Qt.ItemDataRole.UserRole, record.id)
            self.history.addItem(item)
        if self._records:
            self.history.setCurrentRow(len(self._records) - 1)
        has_any = bool(self._records)
        self.withdraw_button.setEnabled(has_any)
        self.take_back_button.setEnabled(has_any)

    def selected(self) -> ConsentRecord | None:
        item = self.history.currentItem()
        if item is None:
            return None
        chosen = item.data(Qt.ItemDataRole.UserRole)
        return next((r for r in self._records if r.id == chosen), None)

    def value(self) -> ConsentEntry:
        signed = self.signed_on.date().toPython()
        expires = self.expires_on.date().toPython() if self.has_expiry.isChecked() else None
        consent = Consent(
            kind=ConsentKind(self.kind.currentData()),
            given=bool(self.given.currentData()),
            signed_on=signed,  # type: ignore[arg-type]
            form_version=self.form_version.text(),
            witness_id=self.witness.currentData(),
            expires_on=expires,  # type: ignore[arg-type]
        )
        return ConsentEntry(consent, self.by.currentData())

    def accept(self) -> None:  # Enter: save, the dialog stays open to show it
        self.problem.hide()
        self.saved_note.hide()
        if self.witness.currentData() is None:
            self.show_problems(["Witnessed by: choose the staff member who witnessed it."])
            return
        self.save_requested.emit(self.value())

    def saved(self, records: Sequence[ConsentRecord], status_line: str, message: str) -> None:
        """Saved: the history and the line again, the form emptied for the next one."""
        self.show_consents(records, status_line)
        self.form_version.clear()
        self.has_expiry.setChecked(False)
        self.problem.hide()
        self.saved_note.setText(message)
        self.saved_note.show()
        self.kind.setFocus()

    def show_problems(self, problems: Sequence[str]) -> None:
        self.problem.setText("Not saved. " + " ".join(problems))
        self.problem.show()
        fit_height(self)

    def ask_reason(self, title: str, prompt: str) -> str | None:
        """A reason typed in a small dialog; None when cancelled or empty."""
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getText(self, title, prompt)
        return text.strip() if ok and text.strip() else None

    def _withdraw(self) -> None:
        record = self.selected()
        if record is None:
            return
        reason = self.ask_reason(
            "Client withdrew consent",
            "The client withdraws this consent from today. How (in writing, by phone …)?",
        )
        if reason is not None:
            self.withdraw_requested.emit(record, self._today, reason, self.by.currentData())

    def _take_back(self) -> None:
        record = self.selected()
        if record is None:
            return
        reason = self.ask_reason(
            "Consent entered in error", "Why is this entry taken back (it stays in the history)?"
        )
        if reason is not None:
            self.take_back_requested.emit(record, reason, self.by.currentData())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        fit_height(self)
