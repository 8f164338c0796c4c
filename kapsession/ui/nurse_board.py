"""The nurse board: every participant, the one whose check-in is most urgent first."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from kapsession.domain.timeline import CheckinStatus
from kapsession.services.nurse_board import BoardRow
from kapsession.ui import theme
from kapsession.ui.formatting import clock_text, local_time

MAX_HEIGHT_PX = 170  # about five participants; more scroll
COLUMNS = ("Participant", "T+", "Phase", "Next check-in", "Last reading", "Alerts")


def next_text(row: BoardRow) -> tuple[str, str]:
    checkin = row.next_checkin
    if row.discharged_at is not None:
        return f"discharged {local_time(row.discharged_at)}", theme.DONE
    if checkin is None:
        return "all done", theme.DONE
    if checkin.status is CheckinStatus.OVERDUE:
        return f"{checkin.spec.label} — overdue", theme.OVERDUE
    if checkin.status is CheckinStatus.DUE:
        return f"{checkin.spec.label} — due now", theme.DUE
    if checkin.projected:
        return f"{checkin.spec.label} — after the dose", theme.TEXT_DIM
    return f"{checkin.spec.label} at {local_time(checkin.due_at)}", theme.TEXT_DIM


class NurseBoard(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().hide()
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setTabKeyNavigation(False)  # Tab moves on to the next control, not cell to cell
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setAccessibleName("Nurse board")
        self.setMaximumHeight(MAX_HEIGHT_PX)
        self._shown: object = None

    def show_rows(
        self, rows: Sequence[BoardRow], planned: Mapping[uuid.UUID, datetime] | None = None
    ) -> None:
        """`planned`: staggered dosing, each participant's planned dose time."""
        plan = planned or {}
        look = (
            tuple(
                (
                    r.participant.id,
                    r.since_dose_s is not None and int(r.since_dose_s),
                    r.phase,
                    r.next_checkin and (r.next_checkin.spec.key, r.next_checkin.status),
                    r.last_reading and r.last_reading.id,
                    r.open_alerts,
                    r.discharged_at,
                )
                for r in rows
            ),
            tuple(sorted(plan.items())),
        )
        if look == self._shown:
            return  # the board is redrawn when something on it changes, not on every tick
        self._shown = look
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            if row.since_dose_s is not None:
                dose = f"T+{clock_text(row.since_dose_s)}"
            elif row.participant.id in plan:
                dose = f"no dose yet — planned {local_time(plan[row.participant.id])}"
            else:
                dose = "no dose yet"
            text, colour = next_text(row)
            last = "—"
            if row.last_reading is not None:
                v = row.last_reading.values
                parts = []
                if v.get("systolic_mmhg") is not None:
                    parts.append(f"{v['systolic_mmhg']}/{v['diastolic_mmhg']}")
                if v.get("heart_rate_bpm") is not None:
                    parts.append(f"HR {v['heart_rate_bpm']}")
                if v.get("spo2_pct") is not None:
                    parts.append(f"SpO2 {v['spo2_pct']}")
                parts.append(f"at {local_time(row.last_reading.occurred_at)}")
                last = "  ".join(parts)
            cells = (row.name, dose, row.phase or "—", text, last, str(row.open_alerts or ""))
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if c == 3:
                    item.setForeground(QColor(colour))
                if c == 5 and row.open_alerts:
                    item.setForeground(QColor(theme.OVERDUE))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.setItem(r, c, item)
        # every participant in view (up to the maximum), also when the screen is short of room
        rows_px = sum(self.rowHeight(r) for r in range(self.rowCount()))
        wanted = self.horizontalHeader().sizeHint().height() + rows_px + 2 * self.frameWidth()
        self.setMinimumHeight(min(wanted, MAX_HEIGHT_PX))
