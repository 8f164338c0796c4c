"""Open alerts: visible until a staff member acknowledges them. Quiet colour, no sound."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kapsession.records.entries import AlertRecord
from kapsession.ui.formatting import local_time


class AlertsBanner(QFrame):
    acknowledge_requested = Signal(uuid.UUID)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alerts")
        self.setStyleSheet(
            "QFrame#alerts { background: #2a2320; border: 1px solid #c9705d; border-radius: 8px; }"
        )
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Open alerts")
        self.button = QPushButton("Acknowledge  (A)")
        self.button.clicked.connect(self._acknowledge_first)
        row = QHBoxLayout()
        row.addWidget(self.text, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        self._alerts: list[AlertRecord] = []
        self.hide()

    def show_alerts(self, alerts: Sequence[AlertRecord], names: Mapping[uuid.UUID, str]) -> None:
        self._alerts = sorted(alerts, key=lambda a: a.raised_at)
        if not self._alerts:
            self.hide()
            return
        lines = []
        for alert in self._alerts[:4]:
            who = names.get(alert.participant_id, "")
            corrected = " (reading since corrected)" if alert.reading_corrected else ""
            lines.append(
                f"<b>{local_time(alert.raised_at)}</b>  {who + ': ' if who else ''}"
                f"{alert.message}{corrected}"
            )
        more = len(self._alerts) - 4
        if more > 0:
            lines.append(f"… and {more} more")
        self.text.setText("ALERT — needs acknowledging<br>" + "<br>".join(lines))
        whose = names.get(self._alerts[0].participant_id, "")  # the alert A acknowledges
        self.button.setText(
            ("Acknowledge" if len(self._alerts) == 1 else "Acknowledge oldest")
            + (f" — {whose}" if whose else "")
            + "  (A)"
        )
        self.show()

    def first_open(self) -> uuid.UUID | None:
        return self._alerts[0].id if self._alerts else None

    def _acknowledge_first(self) -> None:
        first = self.first_open()
        if first is not None:
            self.acknowledge_requested.emit(first)
