"""A client's course history: every session in a table, and the dose and peak blood pressure
over the sessions in a small trend chart. Read-only; Esc or Back returns to the start screen.

The table is a `QTableView` over a model whose texts are made once per history, so a long
history (a hundred sessions and more) opens at once; only the visible rows are ever drawn.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import (
    QAbstractTableModel,
    QMargins,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kapsession.records.history import NOT_RECORDED, ClientHistory, HistorySession
from kapsession.ui import theme
from kapsession.ui.readings_table import TABLE_STYLE
from kapsession.ui.vitals_chart import BP_COLOUR, DOSE_COLOUR, SCREEN_PALETTE, value_axis

NONE = "—"  # nothing of that kind was recorded
MARKED_SESSIONS = 30  # up to this many sessions, each is a dot on the trend lines
NICE_STEPS = (10, 20, 25, 50, 100, 200, 250, 500, 1000)


def _number(value: float | None, unit: str = "") -> str:
    return NONE if value is None else f"{value:g}{unit}"


def _pair(high: int | None, low: int | None) -> str:
    return NONE if high is None or low is None else f"{high}/{low}"


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[HistorySession], str]
    numeric: bool = False  # centred, as the readings table does with values


COLUMNS: tuple[Column, ...] = (
    Column("Date", lambda s: s.held_at.astimezone().strftime("%Y-%m-%d")),
    Column("Course", lambda s: s.course_title or NONE),
    Column("No.", lambda s: _number(s.session_number), True),
    Column("Protocol", lambda s: s.protocol_name),
    Column("Route", lambda s: s.route or NONE),
    Column("Modality", lambda s: s.modality),
    Column("Status", lambda s: s.status_label),
    Column("Dose mg", lambda s: _number(s.dose_total_mg), True),
    Column(
        "Baseline BP", lambda s: _pair(s.baseline_systolic_mmhg, s.baseline_diastolic_mmhg), True
    ),
    Column("Baseline HR", lambda s: _number(s.baseline_heart_rate_bpm), True),
    Column("Baseline SpO2", lambda s: _number(s.baseline_spo2_pct, " %"), True),
    Column("Peak BP", lambda s: _pair(s.peak_systolic_mmhg, s.peak_diastolic_mmhg), True),
    Column("Lowest SpO2", lambda s: _number(s.lowest_spo2_pct, " %"), True),
    Column("Dissociation max", lambda s: _number(s.highest_dissociation), True),
    Column("Alerts", lambda s: str(s.alerts), True),
    Column("Ready min", lambda s: _number(s.ready_minutes_after_first_dose), True),
)
COLUMN_TIPS = {
    "Dose mg": "Standing doses of the session added up (corrections applied, voids left out)",
    "Baseline BP": "From the first standing check-in",
    "Peak BP": "Highest systolic and highest diastolic over the session's check-ins",
    "Dissociation max": "Highest clinician-rated dissociation level (0–4)",
    "Alerts": "Alerts raised for this client in the session",
    "Ready min": "Minutes from the first dose to ready to leave (discharge check)",
}
_CELL_PADDING_PX = 22
_MEASURED_ROWS = 60  # column widths from the header and this many rows: wide enough, and quick


class HistoryModel(QAbstractTableModel):
    """The history's rows as display texts, made once when the history is set."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sessions: tuple[HistorySession, ...] = ()
        self._cells: list[list[str]] = []
        self._alert_text = QBrush(QColor(theme.OVERDUE))
        self._alerts_column = next(i for i, c in enumerate(COLUMNS) if c.title == "Alerts")

    def set_sessions(self, sessions: Sequence[HistorySession]) -> None:
        self.beginResetModel()
        self._sessions = tuple(sessions)
        self._cells = [[column.text(s) for column in COLUMNS] for s in self._sessions]
        self.endResetModel()

    def session(self, row: int) -> HistorySession:
        return self._sessions[row]

    def cells(self) -> list[list[str]]:
        return self._cells

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._cells)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is not Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS.get(COLUMNS[section].title)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if COLUMNS[index.column()].numeric:
                return int(Qt.AlignmentFlag.AlignCenter)
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == self._alerts_column:
            return self._alert_text if self._sessions[index.row()].alerts else None
        return None


class HistoryTable(QTableView):
    """The sessions, one a row, oldest first (the newest is selected when shown)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = HistoryModel(self)
        self.setModel(self._model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(30)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        header.setStretchLastSection(True)
        self.setStyleSheet(TABLE_STYLE)
        self.setAccessibleName("Sessions")

    def history_model(self) -> HistoryModel:
        return self._model

    def show_sessions(self, sessions: Sequence[HistorySession]) -> None:
        self._model.set_sessions(sessions)
        self._fit_columns()
        if sessions:
            self.selectRow(len(sessions) - 1)
            self.scrollToBottom()

    def _fit_columns(self) -> None:
        """Each column as wide as its header and its widest text in the newest rows."""
        self.ensurePolished()
        header = self.horizontalHeader()
        header_font = QFont(self.font())
        header_font.setPixelSize(12)
        header_metrics, metrics = QFontMetrics(header_font), QFontMetrics(self.font())
        rows = self._model.cells()[-_MEASURED_ROWS:]
        for index, column in enumerate(COLUMNS):
            widest = header_metrics.horizontalAdvance(column.title)
            for cells in rows:
                widest = max(widest, metrics.horizontalAdvance(cells[index]))
            header.resizeSection(index, widest + _CELL_PADDING_PX)


class TrendChart(QChartView):
    """Dose (mg) and peak systolic pressure per session, oldest to newest, on two axes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        chart = QChart()
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(210)
        self.setMaximumHeight(240)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setBackgroundBrush(QBrush(QColor(theme.PANEL)))
        chart.setBackgroundRoundness(8)
        chart.setPlotAreaBackgroundVisible(False)
        chart.setMargins(QMargins(6, 6, 6, 4))
        legend = chart.legend()
        legend.setAlignment(Qt.AlignmentFlag.AlignTop)
        legend.setLabelColor(QColor(theme.TEXT_DIM))
        self.dose = self._series(chart, "Dose mg", DOSE_COLOUR)
        self.systolic = self._series(chart, "Peak systolic mmHg", BP_COLOUR)
        self.x_axis = value_axis(0, 1, 50, "Session, oldest → newest", SCREEN_PALETTE)
        self.dose_axis = value_axis(0, 1, 50, "mg", SCREEN_PALETTE)
        self.bp_axis = value_axis(0, 1, 50, "mmHg", SCREEN_PALETTE, grid=False)
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.dose_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(self.bp_axis, Qt.AlignmentFlag.AlignRight)
        for series, axis in ((self.dose, self.dose_axis), (self.systolic, self.bp_axis)):
            series.attachAxis(self.x_axis)
            series.attachAxis(axis)

    @staticmethod
    def _series(chart: QChart, name: str, colour: str) -> QLineSeries:
        series = QLineSeries()
        series.setName(name)
        series.setPen(QPen(QColor(colour), 2))
        series.setPointsVisible(True)
        series.setMarkerSize(6.0)
        chart.addSeries(series)
        return series

    def show_sessions(self, sessions: Sequence[HistorySession]) -> None:
        """A point per session that has the value; a session without one is left out."""
        doses = [
            QPointF(n, s.dose_total_mg)
            for n, s in enumerate(sessions, 1)
            if s.dose_total_mg is not None
        ]
        peaks = [
            QPointF(n, s.peak_systolic_mmhg)
            for n, s in enumerate(sessions, 1)
            if s.peak_systolic_mmhg is not None
        ]
        self.dose.replace(doses)
        self.systolic.replace(peaks)
        dots = len(sessions) <= MARKED_SESSIONS  # a long history reads better as lines alone
        for series in (self.dose, self.systolic):
            series.setPointsVisible(dots)
        self.x_axis.setRange(0.5, max(len(sessions), 1) + 0.5)
        self.x_axis.setTickInterval(_tick(len(sessions)))
        _fit(self.dose_axis, 0, max((p.y() for p in doses), default=100))
        _fit(self.bp_axis, 60, max(200, max((p.y() for p in peaks), default=0)))


def _tick(sessions: int) -> float:
    """A label every session for a course, every 5 or 10 over a long history."""
    return 1.0 if sessions <= 12 else 5.0 if sessions <= 60 else 10.0


def _fit(axis: QValueAxis, low: float, high: float) -> None:
    """From `low` up past `high`, labelled on round values three to five times (more would
    crowd the small chart, and Qt would cut the labels short)."""
    span = max(high - low, 1.0)
    step = next((s for s in NICE_STEPS if span / s <= 4), NICE_STEPS[-1])
    axis.setTickAnchor(0)
    axis.setTickInterval(step)
    axis.setRange(low, step * math.ceil(high / step))


class ClientHistoryView(QWidget):
    """The client's course: header, sessions table, trend chart. Esc or Back leaves."""

    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client_id: uuid.UUID | None = None
        self.title = QLabel()
        self.title.setObjectName("phase")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("dim")
        self.back_button = QPushButton("Back  (Esc)")
        self.back_button.setAutoDefault(True)
        self.back_button.clicked.connect(self.back_requested)
        header = QHBoxLayout()
        names = QVBoxLayout()
        names.addWidget(self.title)
        names.addWidget(self.subtitle)
        header.addLayout(names, 1)
        header.addWidget(self.back_button, alignment=Qt.AlignmentFlag.AlignTop)
        self.table = HistoryTable()
        self.chart = TrendChart()
        self.empty = QLabel("No sessions yet for this client.")
        self.empty.setObjectName("dim")
        self.not_recorded = QLabel(NOT_RECORDED)
        self.not_recorded.setObjectName("notice")
        self.not_recorded.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(header)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.chart)
        layout.addWidget(self.not_recorded)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.back_requested.emit)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.setTabOrder(self.table, self.back_button)

    def show_history(self, history: ClientHistory) -> None:
        client = history.client
        self.client_id = client.id
        self.title.setText(client.full_name)
        count = len(history.sessions)
        parts = [
            client.record_number or "no record number",
            f"{count} session{'' if count == 1 else 's'}",
            f"{history.courses} course{'' if history.courses == 1 else 's'}",
        ]
        self.subtitle.setText("  ·  ".join(parts))
        self.empty.setVisible(not history.sessions)
        self.table.setVisible(bool(history.sessions))
        self.chart.setVisible(bool(history.sessions))
        self.table.show_sessions(history.sessions)
        self.chart.show_sessions(history.sessions)

    def focus_table(self) -> None:
        (self.table if self.table.isVisible() else self.back_button).setFocus()
