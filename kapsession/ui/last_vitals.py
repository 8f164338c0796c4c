"""The "last vitals" tile: the shown participant's newest value of each vital sign (and of each
measure the protocol watches), how long ago it was taken, and where it stands.

The values are large enough to read from across the room; a value in the caution band is amber
and says CAUTION, one over an alert threshold is brick and says ALERT (never colour alone). The
tile is filled with plain data (`show_vitals`) and its ages move on with `set_now`, redrawn
once a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kapsession.domain.vitals import ValueState
from kapsession.services.last_vitals import LastVital
from kapsession.ui import theme
from kapsession.ui.checkin_form import age_text

VALUE_PX = 24  # the values: readable from two metres
STATE_WORDS = {ValueState.NORMAL: "", ValueState.CAUTION: "CAUTION", ValueState.ALERT: "ALERT"}
STATE_COLOURS = {
    ValueState.NORMAL: theme.TEXT,
    ValueState.CAUTION: theme.DUE,
    ValueState.ALERT: theme.OVERDUE,
}
MAX_CELLS = 10  # every measure a reading has

_STYLE = f"""
QLabel#vitalValue {{ font-size: {VALUE_PX}px; }}
QLabel#vitalValue[state="caution"] {{ color: {theme.DUE}; }}
QLabel#vitalValue[state="alert"] {{ color: {theme.OVERDUE}; }}
QLabel#vitalLabel, QLabel#vitalUnit, QLabel#vitalAge {{ color: {theme.TEXT_DIM}; font-size: 13px; }}
QLabel#vitalState {{ font-size: 13px; font-weight: bold; }}
QLabel#vitalState[state="caution"] {{ color: {theme.DUE}; }}
QLabel#vitalState[state="alert"] {{ color: {theme.OVERDUE}; }}
QLabel#tileHeading {{ color: {theme.TEXT_DIM}; font-size: 13px; letter-spacing: 1px; }}
"""


def _set_state(label: QLabel, state: ValueState) -> None:
    if label.property("state") != state.value:
        label.setProperty("state", state.value)
        label.style().unpolish(label)
        label.style().polish(label)


class VitalCell(QWidget):
    """One measure: "BP 190/115 mmHg" over "ALERT · 4 min ago"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("vitalLabel")
        self.value = QLabel()
        self.value.setObjectName("vitalValue")
        self.unit = QLabel()
        self.unit.setObjectName("vitalUnit")
        self.state = QLabel()
        self.state.setObjectName("vitalState")
        self.age = QLabel()
        self.age.setObjectName("vitalAge")
        top = QHBoxLayout()
        top.setSpacing(5)
        top.addWidget(self.label, 0, Qt.AlignmentFlag.AlignBaseline)
        top.addWidget(self.value, 0, Qt.AlignmentFlag.AlignBaseline)
        top.addWidget(self.unit, 0, Qt.AlignmentFlag.AlignBaseline)
        top.addStretch(1)
        bottom = QHBoxLayout()
        bottom.setSpacing(6)
        bottom.addWidget(self.state)
        bottom.addWidget(self.age)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addLayout(bottom)
        self.vital: LastVital | None = None

    def show_vital(self, vital: LastVital, now: datetime) -> None:
        self.vital = vital
        self.label.setText(vital.label)
        self.value.setText(vital.value_text)
        self.unit.setText(vital.unit)
        self.unit.setVisible(bool(vital.unit))
        word = STATE_WORDS[vital.state]
        self.state.setText(word)
        self.state.setVisible(bool(word))
        _set_state(self.value, vital.state)
        _set_state(self.state, vital.state)
        name = f"{vital.label} {vital.display}" + (f", {word.lower()}" if word else "")
        if name != self.accessibleName():
            self.setAccessibleName(name)
        self.set_now(now)

    def set_now(self, now: datetime) -> None:
        if self.vital is not None:
            self.age.setText(age_text(self.vital.taken_at, now))

    def text(self) -> str:
        """What the cell says, as one line ("BP 190/115 mmHg ALERT 4 min ago")."""
        parts = [self.label.text(), self.value.text(), self.unit.text(), self.state.text()]
        return " ".join(p for p in [*parts, self.age.text()] if p)


class LastVitalsTile(QFrame):
    """The participant's last vitals, one cell per measure, in the protocol's order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setStyleSheet(_STYLE)
        self.setAccessibleName("Last vitals")
        heading = QLabel("LAST VITALS")
        heading.setObjectName("tileHeading")
        self.whose = QLabel()
        self.whose.setObjectName("vitalAge")
        self.empty = QLabel("No readings yet")
        self.empty.setObjectName("vitalAge")
        side = QVBoxLayout()
        side.setSpacing(0)
        side.addWidget(heading)
        side.addWidget(self.whose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.setSpacing(22)
        layout.addLayout(side)
        layout.addWidget(self.empty)
        self._cells_at = layout.count()  # where the cells go: made as they are first needed
        self.cells: list[VitalCell] = []
        layout.addStretch(1)
        self._layout = layout
        self._minute: int | None = None

    def show_vitals(self, vitals: Sequence[LastVital], now: datetime, whose: str = "") -> None:
        """The participant's values (`whose`: their name, said in a shared session)."""
        self.whose.setText(whose)
        self.whose.setVisible(bool(whose))
        shown = list(vitals)[:MAX_CELLS]
        while len(self.cells) < len(shown):
            cell = VitalCell()
            self._layout.insertWidget(self._cells_at + len(self.cells), cell)
            self.cells.append(cell)
        for cell, vital in zip(self.cells, shown, strict=False):
            cell.show_vital(vital, now)
            cell.show()
        for cell in self.cells[len(shown) :]:
            cell.vital = None
            cell.hide()
        self.empty.setVisible(not shown)
        self._minute = int(now.timestamp() // 60)

    def set_now(self, now: datetime) -> None:
        """The time moved on: the ages, redrawn when the minute changes."""
        minute = int(now.timestamp() // 60)
        if minute == self._minute:
            return
        self._minute = minute
        for cell in self.cells:
            if not cell.isHidden():
                cell.set_now(now)

    def shown(self) -> list[VitalCell]:
        """The cells in use, in order."""
        return [cell for cell in self.cells if cell.vital is not None]
