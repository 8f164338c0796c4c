"""Quick check-in entry: prefilled with the previous reading, Tab through, Enter saves."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.scales import DISSOCIATION, MOAAS, RASS, Scale
from kapsession.domain.timeline import CheckinState, CheckinStatus
from kapsession.domain.vitals import FieldProblem
from kapsession.records.entries import ObservationRecord
from kapsession.ui import theme

# (field key, label, width hint, placeholder); the order is the Tab order
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("systolic_mmhg", "Systolic", "mmHg"),
    ("diastolic_mmhg", "Diastolic", "mmHg"),
    ("heart_rate_bpm", "Heart rate", "bpm"),
    ("spo2_pct", "SpO2", "%"),
    ("resp_rate_per_min", "Resp. rate", "/min"),
    ("temperature_c", "Temp.", "°C"),
    ("moaas", "MOAA/S", "0–5"),
    ("rass", "RASS", "−5…+4"),
    ("dissociation", "Dissociation", "0–4"),
    ("nausea", "Nausea", "0–10"),
    ("suds", "SUDS", "0–10"),
)
SCALE_HINTS: Mapping[str, Scale] = {"moaas": MOAAS, "rass": RASS, "dissociation": DISSOCIATION}
UNSCHEDULED = "__unscheduled__"


@dataclass(frozen=True)
class CheckinEntry:
    raw: dict[str, str]  # field -> typed text, as parse_reading takes it
    checkin_key: str | None
    taken_at_text: str  # "" = now, else HH:MM (a late entry)
    on_room_air: bool


class _Field(QLineEdit):
    """A number box. Enter is not handled here: a line edit passes the key on to its parent,
    and the form saves once (connecting returnPressed as well would save twice)."""


class CheckinForm(QFrame):
    save_requested = Signal(object)  # CheckinEntry

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.heading = heading = QLabel("CHECK-IN")  # and whose: `set_participant`
        heading.setObjectName("heading")
        self.checkin = QComboBox()
        self.checkin.setAccessibleName("Which check-in")
        self.taken_at = QLineEdit()
        self.taken_at.setPlaceholderText("now")
        self.taken_at.setAccessibleName("Taken at (HH:MM), blank for now")
        self.taken_at.setMaximumWidth(90)
        self.room_air = QCheckBox("on room air")
        self.room_air.setChecked(True)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addWidget(self.checkin, 1)
        taken = QLabel("taken at")
        taken.setObjectName("dim")
        top.addWidget(taken)
        top.addWidget(self.taken_at)
        top.addWidget(self.room_air)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        self.fields: dict[str, QLineEdit] = {}
        for column, (key, label, hint) in enumerate(FIELDS):
            caption = QLabel(label)
            caption.setObjectName("dim")
            box = _Field()
            box.setPlaceholderText(hint)
            box.setAccessibleName(label)
            box.setMinimumWidth(62)
            box.textChanged.connect(lambda _t, k=key: self._field_changed(k))
            self.fields[key] = box
            grid.addWidget(caption, 0, column)
            grid.addWidget(box, 1, column)
        self.emesis = QCheckBox("Emesis")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment (optional)")
        self.comment.setAccessibleName("Comment")
        self.save_button = QPushButton("Save check-in  (Enter)")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self._submit)
        self.hint = QLabel()
        self.hint.setObjectName("dim")
        self.hint.setWordWrap(True)
        self.problems = QLabel()
        self.problems.setObjectName("banner")
        self.problems.setWordWrap(True)
        self.problems.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.emesis)
        bottom.addWidget(self.comment, 1)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addLayout(bottom)
        layout.addWidget(self.hint)
        layout.addWidget(self.problems)
        order: list[QWidget] = [self.checkin, self.taken_at, *self.fields.values()]
        order += [self.emesis, self.comment, self.save_button]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    # filling ------------------------------------------------------------------------------
    def set_participant(self, name: str) -> None:
        """Name the participant the check-in is saved for."""
        self.heading.setText(f"CHECK-IN — {name}" if name else "CHECK-IN")
        self.setAccessibleName(f"Check-in for {name}" if name else "Check-in")

    def set_checkins(self, checkins: Sequence[CheckinState], selected: str | None) -> None:
        """The protocol's check-ins, not yet done first, and "unscheduled". `selected` None
        keeps the choice, unless that check-in is done now: then the most urgent one left."""
        current = selected if selected is not None else self.checkin.currentData()
        done = {c.spec.key for c in checkins if c.status is CheckinStatus.DONE}
        if selected is None and current in done:
            pending = [c.spec.key for c in checkins if c.spec.key not in done]
            current = pending[0] if pending else UNSCHEDULED
        self.checkin.blockSignals(True)
        self.checkin.clear()
        words = {
            CheckinStatus.DUE: "due now",
            CheckinStatus.OVERDUE: "overdue",
            CheckinStatus.UPCOMING: "upcoming",
            CheckinStatus.DONE: "done",
        }
        for state in checkins:
            self.checkin.addItem(f"{state.spec.label} — {words[state.status]}", state.spec.key)
        self.checkin.addItem("Unscheduled check-in", UNSCHEDULED)
        index = self.checkin.findData(current)
        self.checkin.setCurrentIndex(max(index, 0))
        self.checkin.blockSignals(False)

    def prefill(self, previous: ObservationRecord | None) -> None:
        """Start from the previous reading: most values change little between check-ins."""
        for key, box in self.fields.items():
            value = previous.values.get(key) if previous is not None else None
            box.setText("" if value is None else _text(value))
        self.emesis.setChecked(False)
        self.comment.clear()
        self.taken_at.clear()
        if previous is not None and previous.on_room_air is not None:
            self.room_air.setChecked(previous.on_room_air)
        self.problems.hide()
        self._mark_fields(())

    def focus_first(self) -> None:
        box = self.fields["systolic_mmhg"]
        box.setFocus()
        box.selectAll()

    def show_problems(self, problems: Sequence[FieldProblem]) -> None:
        self.problems.setText("Not saved. " + " ".join(p.message for p in problems))
        self.problems.show()
        self._mark_fields({p.field for p in problems})
        for problem in problems:
            box = self.taken_at if problem.field == "taken_at" else self.fields.get(problem.field)
            if box is not None:
                box.setFocus()
                box.selectAll()
                break

    def clear_problems(self) -> None:
        self.problems.hide()
        self._mark_fields(())

    # internals ----------------------------------------------------------------------------
    def _mark_fields(self, bad: set[str] | tuple[()]) -> None:
        for key, box in (*self.fields.items(), ("taken_at", self.taken_at)):
            wrong = key in bad or ("bp" in bad and key in ("systolic_mmhg", "diastolic_mmhg"))
            box.setStyleSheet(f"border: 2px solid {theme.OVERDUE};" if wrong else "")

    def _field_changed(self, key: str) -> None:
        scale = SCALE_HINTS.get(key)
        if scale is None:
            return
        text = self.fields[key].text().strip().replace("−", "-").lstrip("+")
        try:
            value = int(text)
        except ValueError:
            self.hint.clear()
            return
        anchor = scale.anchor(value)
        self.hint.setText(f"{scale.name} {value}: {anchor}" if anchor else "")

    def _submit(self) -> None:
        raw = {key: box.text() for key, box in self.fields.items() if box.text().strip()}
        if self.emesis.isChecked():
            raw["emesis"] = "yes"
        if self.comment.text().strip():
            raw["comment"] = self.comment.text()
        key = self.checkin.currentData()
        self.save_requested.emit(
            CheckinEntry(
                raw=raw,
                checkin_key=None if key in (None, UNSCHEDULED) else str(key),
                taken_at_text=self.taken_at.text().strip(),
                on_room_air=self.room_air.isChecked(),
            )
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit()
            return
        super().keyPressEvent(event)


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
