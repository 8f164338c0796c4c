"""A client's course history: every session in a table, and the dose and peak blood pressure
over the sessions in a small trend chart; below them the outcome measures (PHQ-9, GAD-7,
PCL-5) over time, each with its change from the previous scored one. Read-only; Esc or Back
returns to the start screen.

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
    QKeyEvent,
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
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kapsession.records.course_summary import course_chart
from kapsession.records.history import ClientHistory, HistorySession
from kapsession.records.measures import (
    MEASURE_COLUMNS,
    MeasureLine,
    MeasureRecord,
    measure_cells,
    over_time,
    version_line,
)
from kapsession.ui import theme
from kapsession.ui.course_chart import CourseChartView
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


NO_MEASURES = "No questionnaires recorded yet: Q on the client list enters one from paper."
MEASURES_HINT = "Enter on a questionnaire corrects it or withdraws it (a reason is required)."
MEASURE_ROWS_SHOWN = 5  # the rest scroll: the sessions keep the room


class MeasuresTable(QTableWidget):
    """The client's questionnaires as they stand: each instrument's administrations, oldest
    first, grouped PHQ-9, GAD-7, PCL-5. Enter (or a double click) on one asks to correct or
    withdraw it; a corrected one names its earlier values, and its tooltip each earlier
    version in full."""

    correction_requested = Signal(object)  # the MeasureRecord as it stands

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(MEASURE_COLUMNS), parent)
        self.lines: list[MeasureLine] = []
        self.cellDoubleClicked.connect(lambda row, _column: self._ask_correction(row))
        self.setHorizontalHeaderLabels(MEASURE_COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(28)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setHighlightSections(False)
        self.setStyleSheet(TABLE_STYLE)
        self.setAccessibleName("Questionnaires")
        self._incomplete = QBrush(QColor(theme.DUE))

    def show_lines(self, lines: Sequence[MeasureLine]) -> None:
        self.lines = list(lines)
        self.setRowCount(len(lines))
        for row, line in enumerate(lines):
            tip = _versions_tip(line)
            for column, text in enumerate(measure_cells(line)):
                item = QTableWidgetItem(text)
                if line.score.total is None and column in (2, 3):
                    item.setForeground(self._incomplete)
                if tip:
                    item.setToolTip(tip)
                self.setItem(row, column, item)
        self.resizeColumnsToContents()
        header = self.horizontalHeader().height() + 2 * self.frameWidth()
        shown = min(max(len(lines), 1), MEASURE_ROWS_SHOWN)
        self.setFixedHeight(header + shown * self.verticalHeader().defaultSectionSize())
        if lines:
            self.selectRow(len(lines) - 1)

    def select_record(self, record_id: uuid.UUID) -> bool:
        """The row of the administration that now stands where `record_id` did, or that one."""
        for row, line in enumerate(self.lines):
            ids = {line.record.id, *(version.id for version in line.earlier)}
            if record_id in ids:
                self.selectRow(row)
                return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers():
            self._ask_correction(self.currentRow())
            return
        super().keyPressEvent(event)

    def _ask_correction(self, row: int) -> None:
        if 0 <= row < len(self.lines):
            record: MeasureRecord = self.lines[row].record
            self.correction_requested.emit(record)

    def cells(self) -> list[list[str]]:
        texts = []
        for row in range(self.rowCount()):
            items = (self.item(row, column) for column in range(self.columnCount()))
            texts.append(["" if item is None else item.text() for item in items])
        return texts


def _versions_tip(line: MeasureLine) -> str:
    """A corrected administration's earlier versions, oldest first, and why it changed."""
    if line.record.corrects_id is None:
        return ""
    texts = [f"Earlier: {version_line(version)}" for version in line.earlier]
    texts.append(f"Now: {version_line(line.record)}")
    if line.record.correction_reason:
        texts.append(f"Reason: {line.record.correction_reason}")
    return "\n".join(texts)


class ClientHistoryView(QWidget):
    """The client's course: header, sessions table, trend chart. Esc or Back leaves."""

    back_requested = Signal()
    summary_requested = Signal(uuid.UUID)  # the client's course summary to export (issue 17)
    # Enter on a questionnaire: the MeasureRecord to correct or withdraw
    measure_correction_requested = Signal(object)

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
        self.summary_button = QPushButton("Course summary…  (Ctrl+Shift+E)")
        self.summary_button.setAutoDefault(True)
        self.summary_button.clicked.connect(self._ask_summary)
        header.addWidget(self.summary_button, alignment=Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.back_button, alignment=Qt.AlignmentFlag.AlignTop)
        self.table = HistoryTable()
        self.chart = TrendChart()
        self.empty = QLabel("No sessions yet for this client.")
        self.empty.setObjectName("dim")
        self.measures = MeasuresTable()
        self.measures.correction_requested.connect(self.measure_correction_requested)
        self.no_measures = QLabel(NO_MEASURES)
        self.no_measures.setObjectName("dim")
        self.measures_hint = QLabel(MEASURES_HINT)
        self.measures_hint.setObjectName("dim")
        self.measures.setAccessibleDescription(MEASURES_HINT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(header)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        # the in-session trends and, beside them, the questionnaires over the course (issue 17)
        self.course_chart = CourseChartView()
        self.course_chart.setMinimumHeight(self.chart.minimumHeight())
        self.course_chart.setMaximumHeight(self.chart.maximumHeight())
        charts = QHBoxLayout()
        charts.setSpacing(12)
        charts.addWidget(self.chart, 1)
        charts.addWidget(self.course_chart, 1)
        layout.addLayout(charts)
        layout.addWidget(self.measures)
        layout.addWidget(self.measures_hint)
        layout.addWidget(self.no_measures)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.back_requested.emit)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        summary = QShortcut(QKeySequence("Ctrl+Shift+E"), self, self._ask_summary)
        summary.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.setTabOrder(self.table, self.measures)
        self.setTabOrder(self.measures, self.back_button)
        self.setTabOrder(self.back_button, self.summary_button)  # Back stays one Tab away

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
        lines = [
            line
            for found in over_time(history.measures, history.measure_versions).values()
            for line in found
        ]
        self.measures.show_lines(lines)
        self.measures.setVisible(bool(lines))
        self.measures_hint.setVisible(bool(lines))
        self.no_measures.setVisible(not lines)
        self.course_chart.show_chart(course_chart(history))

    def _ask_summary(self) -> None:
        if self.client_id is not None:
            self.summary_requested.emit(self.client_id)

    def focus_table(self) -> None:
        (self.table if self.table.isVisible() else self.back_button).setFocus()
