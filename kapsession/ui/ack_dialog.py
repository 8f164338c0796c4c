"""Acknowledging an alert: what was done about it. The dialog names the participant, shows the
alert, and asks for the action (rechecked, intervention, prescriber informed, no action) with
its text: what was given or done for an intervention, the reason for no action (both required).

"Rechecked" takes the recheck's values (BP, HR, SpO2 and the alert's own measure: the alert's
measure required), which the controller saves as an unscheduled check-in of the participant,
so that the alert rules apply to it, and names in the acknowledgement (issue 16).

Keyboard: the choice is one Tab stop, 1 to 4 or the arrow keys choose; Tab to the recheck's
values (when rechecked), then the text; Enter records, Esc cancels. It emits nothing: the
controller reads `value()` and `recheck_values()` after it was accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.alert_followup import (
    CHOSEN_ACTIONS,
    MAX_FOLLOW_UP_CHARS,
    AlertAction,
    follow_up_problem,
)
from kapsession.ui import theme
from kapsession.ui.dialogs import _buttons

# The words of each choice, and what its text box asks for.
CHOICES: Mapping[AlertAction, str] = {
    AlertAction.RECHECKED: "Rechecked",
    AlertAction.INTERVENTION: "Intervention given",
    AlertAction.PRESCRIBER_INFORMED: "Prescriber informed",
    AlertAction.NO_ACTION: "No action",
}
TEXT_ASKS: Mapping[AlertAction | None, str] = {
    None: "Note (optional)",
    AlertAction.RECHECKED: "Note (optional)",
    AlertAction.INTERVENTION: "What was given or done (required)",
    AlertAction.PRESCRIBER_INFORMED: "Who was told, and what they said (optional)",
    AlertAction.NO_ACTION: "Why no action (required)",
}
_KEYS = {getattr(Qt.Key, f"Key_{n}"): action for n, action in enumerate(CHOSEN_ACTIONS, 1)}

_STYLE = f"""
QFrame#actions {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};
    border-radius: 8px; }}
QFrame#actions:focus {{ border: 2px solid {theme.ACCENT}; }}
QRadioButton {{ background: transparent; spacing: 10px; color: {theme.TEXT_DIM}; }}
QRadioButton:checked {{ color: {theme.TEXT}; }}
QRadioButton::indicator {{ width: 14px; height: 14px; border-radius: 8px;
    border: 1px solid {theme.TEXT_FAINT}; background: transparent; }}
QRadioButton::indicator:checked {{ border: 1px solid {theme.ACCENT};
    background: qradialgradient(cx: 0.5, cy: 0.5, radius: 0.5, fx: 0.5, fy: 0.5,
        stop: 0 {theme.ACCENT}, stop: 0.55 {theme.ACCENT}, stop: 0.62 transparent); }}
QLabel#alertText {{ color: {theme.OVERDUE}; font-size: 17px; }}
"""


class ActionChoice(QFrame):
    """The four actions as one Tab stop: 1-4 or the arrow keys choose; Enter is the dialog's."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("actions")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("What was done, 1 to 4")
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.setSpacing(4)
        self.buttons: dict[AlertAction, QRadioButton] = {}
        for number, action in enumerate(CHOSEN_ACTIONS, 1):
            button = QRadioButton(f"{number}   {CHOICES[action]}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.group.addButton(button, number)
            self.buttons[action] = button
            layout.addWidget(button)
        self.group.idToggled.connect(self._toggled)
        self.group.buttonClicked.connect(lambda _b: self.setFocus())

    def _toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self.changed.emit()

    def action(self) -> AlertAction | None:
        checked = self.group.checkedId()
        return None if checked < 1 else CHOSEN_ACTIONS[checked - 1]

    def choose(self, action: AlertAction) -> None:
        self.buttons[action].setChecked(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        current = self.action()
        index = -1 if current is None else CHOSEN_ACTIONS.index(current)
        if key in _KEYS:
            self.choose(_KEYS[key])
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Right):
            self.choose(CHOSEN_ACTIONS[min(index + 1, len(CHOSEN_ACTIONS) - 1)])
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Left):
            self.choose(CHOSEN_ACTIONS[max(index - 1, 0)])
        else:
            super().keyPressEvent(event)  # Enter, Escape and Tab go on to the dialog
            return
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        super().mousePressEvent(event)


class AcknowledgeDialog(QDialog):
    """What was done about one participant's alert (or the alerts of one reading)."""

    def __init__(
        self,
        participant_name: str,
        alert_lines: Sequence[str],
        parent: QWidget | None = None,
        *,
        recheck_measures: Sequence[tuple[str, str]] = (),
        required: Sequence[str] = (),
    ) -> None:
        """`recheck_measures`: (raw key, label) of each value a recheck takes ("bp", "BP
        (systolic/diastolic)"); `required`: the raw keys the alert's own measure needs."""
        super().__init__(parent)
        self.setWindowTitle(f"Acknowledge alert — {participant_name}")
        self.setStyleSheet(_STYLE)
        self.setMinimumWidth(560)
        who = QLabel(participant_name)
        who.setObjectName("phase")
        alerts = QLabel("\n".join(alert_lines))
        alerts.setObjectName("alertText")
        alerts.setWordWrap(True)
        alerts.setTextFormat(Qt.TextFormat.PlainText)
        ask = QLabel("What was done?")
        self.choice = ActionChoice()
        self.text_label = QLabel(TEXT_ASKS[None])
        self.text_label.setObjectName("dim")
        self.text = QLineEdit()
        self.text.setMaxLength(MAX_FOLLOW_UP_CHARS)
        self.text.setAccessibleName("What was given or done, or why no action")
        self.text_label.setBuddy(self.text)
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.recheck = QFrame()  # the recheck's values, shown when "Rechecked" is chosen
        recheck_form = QFormLayout(self.recheck)
        recheck_form.setContentsMargins(0, 0, 0, 0)
        self.recheck_fields: dict[str, QLineEdit] = {}
        self._required = tuple(required)
        for raw_key, label in recheck_measures:
            field = QLineEdit()
            field.setAccessibleName(f"Recheck {label}")
            field.setMaxLength(12)
            self.recheck_fields[raw_key] = field
            recheck_form.addRow(f"Recheck {label}", field)
        self.recheck.hide()
        self.buttons = _buttons(self, "Record acknowledgement")
        layout = QVBoxLayout(self)
        layout.addWidget(who)
        layout.addWidget(alerts)
        layout.addSpacing(6)
        layout.addWidget(ask)
        layout.addWidget(self.choice)
        layout.addWidget(self.recheck)
        layout.addWidget(self.text_label)
        layout.addWidget(self.text)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.choice.changed.connect(self._chosen)
        self.choice.setFocus()

    def value(self) -> tuple[AlertAction | None, str]:
        """The action chosen (None: none yet) and the text, trimmed."""
        return self.choice.action(), self.text.text().strip()

    def recheck_values(self) -> dict[str, str]:
        """What was typed for the recheck, by raw key (empty fields left out); {} unless the
        action is "Rechecked"."""
        if self.choice.action() is not AlertAction.RECHECKED:
            return {}
        return {k: f.text().strip() for k, f in self.recheck_fields.items() if f.text().strip()}

    def show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.show()

    def accept(self) -> None:
        """Recorded only when it says what was done: else the problem shows, the dialog stays
        open, and the keys go where the answer is missing."""
        action, text = self.value()
        problem = follow_up_problem(action, text)
        if problem is not None:
            self.show_problem(problem)
            (self.choice if action is None else self.text).setFocus()
            return
        missing = [k for k in self._required if k not in self.recheck_values()]
        if action is AlertAction.RECHECKED and self.recheck_fields and missing:
            labels = [
                self.recheck_fields[k].accessibleName().removeprefix("Recheck ") for k in missing
            ]
            self.show_problem(
                f"Type the recheck's {' and '.join(labels)}: it is saved as a reading."
            )
            self.recheck_fields[missing[0]].setFocus()
            return
        super().accept()

    def _chosen(self) -> None:
        self.text_label.setText(TEXT_ASKS[self.choice.action()])
        self.recheck.setVisible(
            self.choice.action() is AlertAction.RECHECKED and bool(self.recheck_fields)
        )
        self.problem.hide()
