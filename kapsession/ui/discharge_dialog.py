"""The discharge check: the nurse scores the modified Aldrete and ticks the clinic checklist
while a live panel shows what still fails, when the client may leave, and asks for a reason to
discharge anyway. Discharge asks once more, naming the client and the time, before the dialog
hands back its values; the controller records the discharge."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QMouseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.discharge import (
    ACTIVITY_ANCHORS,
    ALDRETE_ITEM_MAX,
    BREATHING_ANCHORS,
    CONSCIOUSNESS_ANCHORS,
    AldreteItem,
    AldreteObservation,
    DischargeEvaluation,
    needs_prescriber,
)
from kapsession.domain.protocol import DischargeCriteria
from kapsession.records.people import StaffRecord
from kapsession.services.checkin_results import DischargeResult
from kapsession.ui import theme
from kapsession.ui.dialogs import _buttons, fit_height
from kapsession.ui.formatting import local_time

EvaluateDischarge = Callable[[AldreteObservation, Mapping[str, bool | None]], DischargeEvaluation]
REFRESH_MS = 30_000  # re-check while open, so the minimum monitoring time can run out
ALDRETE_MAX_TOTAL = 5 * ALDRETE_ITEM_MAX
_DIGIT_KEYS = {Qt.Key.Key_0: 0, Qt.Key.Key_1: 1, Qt.Key.Key_2: 2}

_EXTRA_STYLE = f"""
QFrame#aldrete {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};
    border-radius: 8px; }}
QFrame#aldrete:focus {{ border: 2px solid {theme.ACCENT}; }}
QFrame#computed {{ background: transparent; border: 1px dashed {theme.BORDER};
    border-radius: 8px; }}
QRadioButton, QCheckBox {{ background: transparent; spacing: 10px; }}
QRadioButton {{ color: {theme.TEXT_DIM}; }}
QRadioButton:checked {{ color: {theme.TEXT}; }}
QRadioButton::indicator {{ width: 14px; height: 14px; border-radius: 8px;
    border: 1px solid {theme.TEXT_FAINT}; background: transparent; }}
QRadioButton::indicator:checked {{ border: 1px solid {theme.ACCENT};
    background: qradialgradient(cx: 0.5, cy: 0.5, radius: 0.5, fx: 0.5, fy: 0.5,
        stop: 0 {theme.ACCENT}, stop: 0.55 {theme.ACCENT}, stop: 0.62 transparent); }}
QCheckBox {{ padding: 4px 0; }}
QCheckBox::indicator {{ width: 12px; height: 12px; border-radius: 4px; padding: 2px;
    border: 1px solid {theme.TEXT_DIM}; background: {theme.PANEL}; }}
QCheckBox::indicator:checked {{ border: 2px solid {theme.ACCENT}; background: {theme.ACCENT};
    background-clip: content; padding: 1px; }}
QCheckBox:focus {{ color: {theme.ACCENT}; }}
QCheckBox::indicator:focus {{ border: 2px solid {theme.ACCENT}; padding: 1px; }}
QScrollArea#failing, QScrollArea#failing > QWidget > QWidget {{ background: transparent; }}
QScrollArea#failing QScrollBar:vertical {{ background: transparent; width: 8px; margin: 0; }}
QScrollArea#failing QScrollBar::handle:vertical {{ background: {theme.BORDER};
    border-radius: 4px; min-height: 24px; }}
QScrollArea#failing QScrollBar::add-line, QScrollArea#failing QScrollBar::sub-line {{
    height: 0; }}
QScrollArea#failing QScrollBar::add-page, QScrollArea#failing QScrollBar::sub-page {{
    background: transparent; }}
QLabel#name {{ font-size: 22px; }}
QLabel#itemName {{ font-weight: bold; }}
QLabel#score {{ font-size: 20px; }}
QLabel#total {{ font-size: 30px; font-weight: 300; }}
QLabel#ready {{ color: {theme.DONE}; font-size: 19px; }}
QLabel#notReady {{ color: {theme.DUE}; font-size: 19px; }}
"""


FAILING_MAX_PX = 110  # the failing list's height before it scrolls (about five lines)


class DischargeEntry(NamedTuple):
    """What the nurse scored and ticked, and the override reason when not ready."""

    observation: AldreteObservation
    checklist: dict[str, bool | None]  # ticked = True; not ticked = None (not confirmed)
    override_reason: str | None


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("heading")
    return label


def _restyle(label: QLabel, name: str) -> None:
    if label.objectName() != name:
        label.setObjectName(name)
        label.style().unpolish(label)
        label.style().polish(label)


class AldreteChoice(QFrame):
    """One observed Aldrete item, 2 / 1 / 0 with the scale's words. One Tab stop: the digits
    0, 1 and 2 or the arrow keys choose; Enter is left to the dialog."""

    changed = Signal()

    def __init__(self, name: str, anchors: Mapping[int, str]) -> None:
        super().__init__()
        self.setObjectName("aldrete")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"{name}, 0 to 2")
        title = QLabel(name)
        title.setObjectName("itemName")
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.setSpacing(2)
        layout.addWidget(title)
        self.buttons: dict[int, QRadioButton] = {}
        for score in sorted(anchors, reverse=True):
            button = QRadioButton(f"{score}   {anchors[score]}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.group.addButton(button, score)
            self.buttons[score] = button
            layout.addWidget(button)
        self.group.idToggled.connect(self._toggled)
        self.group.buttonClicked.connect(lambda _b: self.setFocus())

    def _toggled(self, _score: int, checked: bool) -> None:
        if checked:
            self.changed.emit()

    def score(self) -> int | None:
        checked = self.group.checkedId()
        return None if checked < 0 else checked

    def set_score(self, score: int) -> None:
        self.buttons[score].setChecked(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        current = self.score()
        if key in _DIGIT_KEYS:
            self.set_score(_DIGIT_KEYS[key])
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Left):
            self.set_score(ALDRETE_ITEM_MAX if current is None else min(current + 1, 2))
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Right):
            self.set_score(0 if current is None else max(current - 1, 0))
        else:
            super().keyPressEvent(event)  # Enter, Escape and Tab go on to the dialog
            return
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        super().mousePressEvent(event)


class ComputedItem(QFrame):
    """An Aldrete item the nurse does not score: circulation and SpO2, from the readings."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName("computed")
        title = QLabel(name)
        title.setObjectName("itemName")
        self.score = QLabel("—")
        self.score.setObjectName("score")
        self.score.setMinimumWidth(24)
        self.detail = QLabel()
        self.detail.setObjectName("dim")
        self.detail.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addSpacing(12)
        top.addWidget(self.score, 0, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 6, 14, 6)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.detail)

    def show_item(self, item: AldreteItem) -> None:
        self.score.setText("—" if item.score is None else str(item.score))
        self.detail.setText(item.detail)


class DischargeDialog(QDialog):
    """The discharge check for one participant. `evaluate` is re-run on every change (and every
    half minute while open); Discharge is enabled when ready, or with an override reason."""

    def __init__(
        self,
        participant_name: str,
        criteria: DischargeCriteria,
        evaluate: EvaluateDischarge,
        parent: QWidget | None = None,
        *,
        prescribers: Sequence[StaffRecord] = (),
        prescriber_id: uuid.UUID | None = None,
    ) -> None:
        """`prescribers`: who may give the prescriber's override (before the minimum time, or
        with sedation or dissociation not resolved); `prescriber_id`: the one chosen first."""
        super().__init__(parent)
        self._criteria = criteria
        self._evaluate = evaluate
        self._name = participant_name
        self.confirm_box: QMessageBox | None = None  # while the last question is asked
        self.setWindowTitle(f"Discharge — {participant_name}")
        self.setMinimumWidth(1040)
        self.setStyleSheet(_EXTRA_STYLE)

        self.activity = AldreteChoice("Activity", ACTIVITY_ANCHORS)
        self.breathing = AldreteChoice("Breathing", BREATHING_ANCHORS)
        self.consciousness = AldreteChoice("Consciousness", CONSCIOUSNESS_ANCHORS)
        self.circulation = ComputedItem("Circulation — from the latest blood pressure")
        self.spo2 = ComputedItem("SpO2 — from the latest reading")
        self.room_air = QCheckBox("On room air (no supplemental oxygen)")
        self.room_air.setChecked(True)
        self.checklist: dict[str, QCheckBox] = {}
        for item in criteria.checklist:
            self.checklist[item.key] = QCheckBox(item.label)

        observed = QVBoxLayout()
        observed.setSpacing(8)
        observed.addWidget(_heading("Modified Aldrete — score what you see (0, 1 or 2)"))
        for widget in (self.activity, self.breathing, self.consciousness):
            observed.addWidget(widget)
        observed.addWidget(self.room_air)
        observed.addWidget(self.circulation)
        observed.addWidget(self.spo2)
        observed.addStretch(1)

        self.total = QLabel()
        self.total.setObjectName("total")
        self.pass_mark = QLabel(f"{criteria.aldrete_pass_min} or more to leave")
        self.pass_mark.setObjectName("dim")
        self.status = QLabel()
        self.status.setObjectName("notReady")
        self.status.setWordWrap(True)
        self.failing = QLabel()
        self.failing.setWordWrap(True)
        self.failing.setTextFormat(Qt.TextFormat.PlainText)
        self.failing.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.timing = QLabel()
        self.timing.setObjectName("dim")
        self.timing.setWordWrap(True)
        self.timing.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        panel = QFrame()
        panel.setObjectName("panel")
        check = QVBoxLayout(panel)
        check.setContentsMargins(18, 16, 18, 16)
        check.setSpacing(8)
        check.addWidget(_heading("Discharge check"))
        check.addWidget(self.total)
        check.addWidget(self.pass_mark)
        check.addWidget(self.status)
        self.failing_box = QScrollArea()  # a long list scrolls, not push the dialog off screen
        self.failing_box.setObjectName("failing")
        self.failing_box.setWidget(self.failing)
        self.failing_box.setWidgetResizable(True)
        self.failing_box.setFrameShape(QFrame.Shape.NoFrame)
        self.failing_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.failing_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        check.addWidget(self.failing_box, 1)
        check.addWidget(self.timing)

        right = QVBoxLayout()
        right.setSpacing(4)
        right.addWidget(_heading("Before leaving"))
        for box in self.checklist.values():
            right.addWidget(box)
        right.addSpacing(12)
        right.addWidget(panel, 1)
        columns = QHBoxLayout()
        columns.setSpacing(24)
        columns.addLayout(observed, 1)
        columns.addLayout(right, 1)

        self.override_label = QLabel("Override — reason")
        self.override_reason_edit = QLineEdit()
        self.override_reason_edit.setAccessibleName("Override reason")
        self.override_reason_edit.setPlaceholderText(
            "why the client leaves although the check does not pass"
        )
        # the prescriber's override: who, their PIN (the reason is the field above)
        self.prescriber = QComboBox()
        self.prescriber.setAccessibleName("Prescriber overriding")
        for member in prescribers:
            self.prescriber.addItem(member.signature_name, member.id)
        ids = [self.prescriber.itemData(i) for i in range(self.prescriber.count())]
        if prescriber_id in ids:
            self.prescriber.setCurrentIndex(ids.index(prescriber_id))
        self.prescriber_pin = QLineEdit()
        self.prescriber_pin.setAccessibleName("Prescriber's PIN")
        self.prescriber_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.prescriber_pin.setMaximumWidth(140)
        self.prescriber_label = QLabel("Prescriber")
        self.prescriber_pin_label = QLabel("PIN")
        override_row = QHBoxLayout()
        override_row.addWidget(self.override_label)
        override_row.addWidget(self.override_reason_edit, 1)
        override_row.addWidget(self.prescriber_label)
        override_row.addWidget(self.prescriber)
        override_row.addWidget(self.prescriber_pin_label)
        override_row.addWidget(self.prescriber_pin)
        self.override_hint = QLabel()
        self.override_hint.setObjectName("dim")
        self.override_hint.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = _buttons(self, "Discharge")
        self.discharge_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        title = QLabel(participant_name)
        title.setObjectName("name")
        layout.addWidget(title)
        # The two columns scroll on a screen too short for them (a 720-pixel laptop with every
        # checklist item): the override and the buttons below always stay in view.
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(columns)
        self.body = QScrollArea()
        self.body.setObjectName("failing")  # transparent, with the thin scroll bar
        self.body.setWidget(body)
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.body, 1)
        layout.addLayout(override_row)
        layout.addWidget(self.problem)
        bottom = QHBoxLayout()
        bottom.addWidget(self.override_hint, 1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)

        for choice in (self.activity, self.breathing, self.consciousness):
            choice.changed.connect(self.refresh)
        for box in (self.room_air, *self.checklist.values()):
            box.toggled.connect(self.refresh)
        self.override_reason_edit.textChanged.connect(self._update_button)
        self.prescriber_pin.textChanged.connect(self._update_button)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh)
        self._evaluation = self._evaluate(self.observation(), self.answers())
        self._show(self._evaluation)
        self.activity.setFocus()

    # what the controller uses ---------------------------------------------------------------
    def observation(self) -> AldreteObservation:
        return AldreteObservation(
            activity=self.activity.score(),
            breathing=self.breathing.score(),
            consciousness=self.consciousness.score(),
            on_room_air=self.room_air.isChecked(),
        )

    def answers(self) -> dict[str, bool | None]:
        """The checklist: ticked is yes; not ticked is not confirmed (None), never a "no"."""
        return {key: (True if box.isChecked() else None) for key, box in self.checklist.items()}

    def evaluation(self) -> DischargeEvaluation:
        return self._evaluation

    def value(self) -> DischargeEntry:
        """(observation, checklist, override reason or None when the check passes)."""
        reason = self.override_reason_edit.text().strip()
        return DischargeEntry(
            self.observation(),
            self.answers(),
            None if self._evaluation.ready or not reason else reason,
        )

    def prescriber_needed(self) -> bool:
        """Something fails that only the prescriber's override lets the client leave with."""
        return bool(needs_prescriber(self._evaluation))

    def prescriber_override(self) -> tuple[uuid.UUID, str, str, str] | None:
        """The prescriber's override as typed: (staff id, name, PIN, reason); None when it is
        not asked for."""
        if not self.prescriber_needed() or self.prescriber.currentData() is None:
            return None
        return (
            self.prescriber.currentData(),
            self.prescriber.currentText(),
            self.prescriber_pin.text(),
            self.override_reason_edit.text().strip(),
        )

    def show_override_refused(self, message: str) -> None:
        """The prescriber's PIN was not accepted: say so, the PIN emptied for another try."""
        self.prescriber_pin.clear()
        self._show_banner(f"Discharge was NOT recorded. {message}")
        self.prescriber_pin.setFocus()

    def refresh(self) -> None:
        """Re-run the check with what is entered now."""
        self._evaluation = self._evaluate(self.observation(), self.answers())
        self._show(self._evaluation)

    def show_result_problems(self, result: DischargeResult | None) -> None:
        """Discharge was not recorded: show why; the entries stay for another try."""
        if result is None:
            self._show_banner(
                "Discharge was NOT recorded: the record could not be written (the main window "
                "says why). Try again."
            )
            return
        self._evaluation = result.evaluation
        self._show(result.evaluation)
        if result.saved:
            return
        if result.evaluation.ready:
            self._show_banner("Discharge was NOT recorded. The check passes now; discharge again.")
            return
        if self.prescriber_needed():
            self._show_banner(
                "Discharge was NOT recorded: the check does not pass now. Only the prescriber's "
                "override (their PIN and the reason) lets the client leave now."
            )
        else:
            self._show_banner(
                "Discharge was NOT recorded: the check does not pass now. To discharge anyway, "
                "write the reason for the override."
            )
        self.override_reason_edit.setFocus()

    def accept(self) -> None:
        self.refresh()
        if not self._evaluation.ready and self.prescriber_needed():
            missing = self._prescriber_missing()
            if missing is not None:
                self._show_banner(missing[0])
                missing[1].setFocus()
                return
        if self._evaluation.ready or self.override_reason_edit.text().strip():
            if self.confirm():
                super().accept()
            return
        self._show_banner(
            "Not ready to leave: the items on the right still fail. Fix them, or write the "
            "reason for discharging anyway in “Override — reason”."
        )
        self.override_reason_edit.setFocus()

    def _prescriber_missing(self) -> tuple[str, QWidget] | None:
        """What the prescriber's override still lacks, and the field to type it in."""
        what = "; ".join(p.message.rstrip(".") for p in needs_prescriber(self._evaluation))
        if self.prescriber.currentData() is None:
            return (
                f"Not ready to leave ({what}). Only the prescriber can let the client leave now, "
                "and no prescriber is on the staff list: the discharge waits.",
                self.override_reason_edit,
            )
        if not self.override_reason_edit.text().strip():
            return (
                f"Not ready to leave ({what}). Only the prescriber's override lets the client "
                "leave now: the prescriber writes the reason and types their PIN.",
                self.override_reason_edit,
            )
        if not self.prescriber_pin.text():
            return ("The prescriber types their PIN to override.", self.prescriber_pin)
        return None

    def confirm(self) -> bool:
        """The last step: "Record discharge at 15:10 for Ben Ortiz?" with what it rests on.
        "Record discharge" (Enter) goes on; "Go back" (Escape) returns to the check, nothing
        recorded."""
        evaluation = self._evaluation
        at = local_time(evaluation.evaluated_at)
        reason = self.override_reason_edit.text().strip()
        if evaluation.ready:
            basis = "Every item of the discharge check passes."
        elif self.prescriber_needed():
            count = len(evaluation.problems)
            basis = (
                f"PRESCRIBER'S OVERRIDE by {self.prescriber.currentText()}: {count} "
                f"item{'s' if count != 1 else ''} of the check still "
                f"fail{'s' if count == 1 else ''}, recorded as a protocol deviation. "
                f"Reason: {reason}"
            )
        else:
            count = len(evaluation.problems)
            basis = (
                f"OVERRIDE: {count} item{'s' if count != 1 else ''} of the check still "
                f"fail{'s' if count == 1 else ''}. Reason: {reason}"
            )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            f"Record discharge — {self._name}",
            f"Record discharge at {at} for {self._name}?",
            parent=self,
        )
        box.setInformativeText(
            f"{basis}\n\nAfter this no check-in falls due for {self._name} and no dose can be "
            "given. A mistaken discharge is corrected on the record, never deleted."
        )
        self.confirm_box = box
        record = box.addButton("Record discharge", QMessageBox.ButtonRole.AcceptRole)
        back = box.addButton("Go back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(record)
        box.setEscapeButton(back)
        box.exec()
        self.confirm_box = None
        return box.clickedButton() is record

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter while Discharge is off would do nothing at all: say why instead, and put the
        focus in the reason field."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not self.discharge_button.isEnabled():
            self.accept()
            return
        super().keyPressEvent(event)

    # showing the check ----------------------------------------------------------------------
    def _show(self, evaluation: DischargeEvaluation) -> None:
        aldrete = evaluation.aldrete
        self.circulation.show_item(aldrete.item("circulation"))
        self.spo2.show_item(aldrete.item("spo2"))
        missing = sum(item.score is None for item in aldrete.items)
        self.total.setText(f"Aldrete {aldrete.total} of {ALDRETE_MAX_TOTAL}")
        pass_mark = f"{self._criteria.aldrete_pass_min} or more to leave"
        if missing:
            pass_mark += f" · so far: {missing} of {len(aldrete.items)} items not scored yet"
        self.pass_mark.setText(pass_mark)
        if evaluation.ready:
            _restyle(self.status, "ready")
            self.status.setText("Ready to leave")
            self.failing.setText("Every item passes.")
        else:
            _restyle(self.status, "notReady")
            count = len(evaluation.problems)
            self.status.setText(f"Not ready yet — {count} item{'s' if count != 1 else ''}")
            self.failing.setText("\n".join(f"•  {p.message}" for p in evaluation.problems))
        self.timing.setText(self._timing_text(evaluation))
        # Room for the whole list up to about five lines; beyond that it scrolls, so that the
        # dialog with every checklist item keeps its buttons on a 720-pixel screen.
        width = max(self.failing_box.viewport().width(), 360)
        self.failing_box.setMinimumHeight(min(self.failing.heightForWidth(width), FAILING_MAX_PX))
        self._fit_timing()
        if evaluation.ready:
            self.problem.hide()
        self._update_button()
        fit_height(self, self.body)

    def _timing_text(self, evaluation: DischargeEvaluation) -> str:
        first = evaluation.first_dose_at
        if first is None:
            return "No dose recorded for this client, so no minimum monitoring time applies."
        lines = [f"First dose at {local_time(first)}."]
        last = evaluation.last_dose_at
        if last is not None and last != first:
            lines.append(f"Last dose ended at {local_time(last)}.")
        earliest = evaluation.earliest_discharge_at
        if earliest is not None:
            minimums = []
            if self._criteria.min_minutes_after_first_dose > 0:
                minimums.append(
                    f"{self._criteria.min_minutes_after_first_dose:g} min after the first dose"
                )
            if self._criteria.min_minutes_after_last_dose > 0:
                minimums.append(
                    f"{self._criteria.min_minutes_after_last_dose:g} min after the last dose"
                )
            lines.append(
                f"Earliest discharge {local_time(earliest)}: at least {' and '.join(minimums)}."
            )
        minutes = evaluation.ready_minutes_after_first_dose
        if minutes is not None and evaluation.ready:
            lines.append(f"Ready to leave at {minutes} minutes after the first dose.")
        elif minutes is not None:
            lines.append(
                f"Clinically ready at {minutes} minutes after the first dose; the minimum "
                "monitoring time still runs."
            )
        return "\n".join(lines)

    def _update_button(self) -> None:
        ready = self._evaluation.ready
        reason = bool(self.override_reason_edit.text().strip())
        prescriber = not ready and self.prescriber_needed()
        for widget in (self.override_label, self.override_reason_edit, self.override_hint):
            widget.setVisible(not ready)
        prescriber_row: tuple[QWidget, ...] = (
            self.prescriber_label,
            self.prescriber,
            self.prescriber_pin_label,
            self.prescriber_pin,
        )
        for each in prescriber_row:
            each.setVisible(prescriber)
        if prescriber:
            self.override_label.setText("Prescriber's override — reason")
            self.override_reason_edit.setPlaceholderText("why the prescriber lets the client leave")
            self.discharge_button.setText("Discharge with the prescriber's override")
            self.discharge_button.setEnabled(reason and bool(self.prescriber_pin.text()))
            self.override_hint.setText(
                "Before the minimum time, or with sedation or dissociation not resolved, only "
                "the prescriber can let the client leave: their reason and PIN. It is recorded "
                "as a protocol deviation."
            )
            return
        self.override_label.setText("Override — reason")
        self.override_reason_edit.setPlaceholderText(
            "why the client leaves although the check does not pass"
        )
        self.discharge_button.setText("Discharge" if ready else "Discharge with override")
        self.discharge_button.setEnabled(ready or reason)
        self.override_hint.setText(
            "The reason goes into the record with your name."
            if reason
            else "Not ready. To let the client leave anyway, write the reason for the override."
        )

    def _show_banner(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        fit_height(self, self.body)

    # the half-minute re-check runs only while the dialog is on screen ------------------------
    def _fit_timing(self) -> None:
        """The timing line as tall as its wrapped lines at its width (a word-wrapped label is
        otherwise given its one-width height and draws over the list above it)."""
        width = self.timing.width() if self.timing.width() > 50 else 360
        self.timing.setMinimumHeight(self.timing.heightForWidth(width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_timing()

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self.refresh_timer.start()
        super().showEvent(event)
        fit_height(self, self.body)

    def hideEvent(self, event: QHideEvent) -> None:
        self.refresh_timer.stop()
        super().hideEvent(event)
