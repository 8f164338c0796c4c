"""The vitals chart on the session clock: BP bars, heart rate and SpO2 over phase shading.

Drawn like a paper anaesthesia record: each blood pressure is a bar from diastolic (▲) to
systolic (▼), heart rate a line with dots, SpO2 a line on its own right-hand axis. Lines are
split where readings are missing, so a gap in the record is a gap on the chart. Phases, doses
and the now line are painted by the view behind and over the series, so moving the now line
repaints without rebuilding any series. Every colour comes from a `ChartPalette`: the dim room's
on screen, white paper's for print.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCharts import (
    QAbstractSeries,
    QChart,
    QChartView,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
    QXYSeries,
)
from PySide6.QtCore import QMargins, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from kapsession.domain.corrections import EntryState, effective, versions
from kapsession.domain.timeline import CheckinStatus, TimelineState
from kapsession.records.entries import DoseRecord, ObservationRecord
from kapsession.ui import theme

# Series colours: muted, distinguishable on PANEL in a dim room (checked by eye on rendered charts).
BP_COLOUR = "#cbb89b"  # warm sand
HR_COLOUR = "#a99cc4"  # soft lavender
SPO2_COLOUR = theme.DONE  # grey-green
DOSE_COLOUR = theme.ACCENT  # as the doses on the timeline strip
CORRECTED_COLOUR = theme.TEXT_FAINT
GRID_COLOUR = "#272b2f"


@dataclass(frozen=True)
class ChartPalette:
    """Every colour the chart draws with ("#rrggbb"), so one chart serves the screen and paper.

    A reading gap is empty space in either palette: it has no colour of its own.
    """

    background: str  # around the plot, and the image fill
    plot_area: str  # inside the axes, under the phase shading
    axis_labels: str  # tick numbers of the time and left axes
    axis_titles: str
    axis_line: str
    grid: str
    phase_bands: tuple[str, ...]  # the band above the plot, one colour per phase in turn
    phase_shade_alpha: int  # the phase's band colour over the plot area, 0–255
    current_phase_lighter_pct: int  # the current phase's band: QColor.lighter(); 100 is as is
    phase_label: str
    current_phase_label: str
    phase_divider: str | None  # a hairline where one phase gives way to the next; None: none
    legend_text: str
    caption: str  # "minutes since session start"
    empty_text: str  # "No readings yet"
    now_line: str
    now_line_alpha: int  # 0–255
    bp: str  # systolic ▼, diastolic ▲ and the bar between
    hr: str
    spo2: str  # also the numbers of the SpO2 axis
    corrected: str  # corrected or voided originals
    dose: str  # dashed line, band triangle and label
    missed_checkin: str  # ring and "… not recorded" label of an overdue check-in


SCREEN_PALETTE = ChartPalette(
    background=theme.PANEL,
    plot_area=theme.PANEL,
    axis_labels=theme.TEXT_DIM,
    axis_titles=theme.TEXT_DIM,
    axis_line=theme.BORDER,
    grid=GRID_COLOUR,
    phase_bands=theme.PHASE_COLOURS,
    phase_shade_alpha=70,
    current_phase_lighter_pct=125,
    phase_label=theme.TEXT_DIM,
    current_phase_label=theme.TEXT,
    phase_divider=None,
    legend_text=theme.TEXT_DIM,
    caption=theme.TEXT_FAINT,
    empty_text=theme.TEXT_FAINT,
    now_line=theme.TEXT,
    now_line_alpha=150,
    bp=BP_COLOUR,
    hr=HR_COLOUR,
    spo2=SPO2_COLOUR,
    corrected=CORRECTED_COLOUR,
    dose=DOSE_COLOUR,
    missed_checkin=theme.OVERDUE,
)

# White paper: near-black text, grey axes and grid, phase tints alternating light and lighter
# (eight, so neighbours differ in grey even when the colours wrap round) split by hairlines.
# Inks that print in colour and still part in greyscale: BP near-black navy (bars, ▼▲), HR and
# SpO2 mid-grey in print (red dots, teal diamonds), the dose a dashed purple line.
PAPER_PALETTE = ChartPalette(
    background="#ffffff",
    plot_area="#ffffff",
    axis_labels="#262626",
    axis_titles="#262626",
    axis_line="#737373",
    grid="#dedede",
    phase_bands=(
        "#cfdceb",
        "#e6ecf3",
        "#d9d2ea",
        "#efe6ee",
        "#d5dcd9",
        "#e4efe8",
        "#e0ddcc",
        "#f0eee3",
    ),
    phase_shade_alpha=110,
    current_phase_lighter_pct=100,
    phase_label="#262626",
    current_phase_label="#000000",
    phase_divider="#a6a6a6",
    legend_text="#262626",
    caption="#595959",
    empty_text="#595959",
    now_line="#595959",
    now_line_alpha=255,
    bp="#1f3c88",
    hr="#d9472b",
    spo2="#1a8a78",
    corrected="#9e9e9e",
    dose="#6a3d9a",
    missed_checkin="#a65200",
)

# Two consecutive values further apart than this are not joined.
DEFAULT_GAP_AFTER_MIN = 60.0

LEFT_AXIS_MIN = 40.0  # mmHg and bpm; widened when a reading falls outside
LEFT_AXIS_MAX = 200.0
SPO2_AXIS_MIN_PCT = 80.0
SPO2_AXIS_MAX_PCT = 100.0

# Series kinds, set as each series' objectName.
BP_BAR = "bp-bar"
BP_SYSTOLIC = "bp-systolic"
BP_DIASTOLIC = "bp-diastolic"
HR_LINE = "hr"
SPO2_LINE = "spo2"
CORRECTED_BP_BAR = "corrected-bp-bar"
CORRECTED_SYSTOLIC = "corrected-bp-systolic"
CORRECTED_DIASTOLIC = "corrected-bp-diastolic"
CORRECTED_HR = "corrected-hr"
CORRECTED_SPO2 = "corrected-spo2"

# Reading field -> the protocol's `measures` name for it (to tell a missed value from one the
# check-in never asked for).
_MEASURE_OF = {"heart_rate_bpm": "hr", "spo2_pct": "spo2"}

_LEGEND_TOP_PX = 4.0
_BAND_HEIGHT_PX = 18.0
_CHART_MARGINS = QMargins(6, 46, 6, 4)  # the top holds the legend row and the phase band
_MARKER_IMAGE_PX = 64
_TIME_CAPTIONS = ("minutes since session start", "minutes since start", "min")


@dataclass(frozen=True)
class _DoseMark:
    minute: float
    label: str


def _minutes(when: datetime, start: datetime) -> float:
    return (when - start).total_seconds() / 60.0


def _standing_and_originals(
    observations: Sequence[ObservationRecord], history: Sequence[ObservationRecord]
) -> tuple[list[ObservationRecord], list[ObservationRecord]]:
    """The readings to draw, and the corrected (or voided) originals to draw faintly.

    Either list may hold the whole history: an entry a later one corrects or voids is an
    original, never standing. A voiding entry carries the original's values only to say
    "entered in error": never drawn.
    """
    entries: dict[uuid.UUID, ObservationRecord] = {}
    for entry in (*history, *observations):
        entries.setdefault(entry.id, entry)
    shown = {o.id for o in observations}
    standing, originals = [], []
    for version in versions(entries.values()):
        if version.state is not EntryState.STANDING:
            originals.append(version.row)
        elif version.row.id in shown:
            standing.append(version.row)
    standing.sort(key=lambda o: (o.occurred_at, o.recorded_at))
    originals.sort(key=lambda o: (o.occurred_at, o.recorded_at))
    return standing, originals


def _dose_label(dose: DoseRecord) -> str:
    what = "booster" if dose.kind == "booster" else "dose"
    if dose.dose_mg is None:
        return what
    return f"{what} {dose.dose_mg:g} mg"


def _triangle_marker(colour: str, pointing_down: bool) -> QImage:
    """A marker image whose tip sits at the image centre, so it points at the value."""
    size = _MARKER_IMAGE_PX
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    half, tip = size / 2.0, size / 2.0
    depth = size * 0.48
    path = QPainterPath()
    if pointing_down:  # ▼ above the systolic value
        path.moveTo(half - depth * 0.62, tip - depth)
        path.lineTo(half + depth * 0.62, tip - depth)
    else:  # ▲ below the diastolic value
        path.moveTo(half - depth * 0.62, tip + depth)
        path.lineTo(half + depth * 0.62, tip + depth)
    path.lineTo(half, tip)
    path.closeSubpath()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawPath(path)
    painter.end()
    return image


def _diamond_marker(colour: str) -> QImage:
    """The SpO2 mark: a small diamond, so it reads apart from the heart-rate dots."""
    size = _MARKER_IMAGE_PX
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    half = size / 2.0
    path = QPainterPath()
    path.moveTo(half, 0)
    path.lineTo(size, half)
    path.lineTo(half, size)
    path.lineTo(0, half)
    path.closeSubpath()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawPath(path)
    painter.end()
    return image


def value_axis(
    low: float,
    high: float,
    interval: float,
    title: str,
    palette: ChartPalette,
    *,
    grid: bool = True,
) -> QValueAxis:
    axis = QValueAxis()
    axis.setRange(low, high)
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(low)
    axis.setTickInterval(interval)
    axis.setLabelFormat("%d")
    font = QFont()
    font.setPixelSize(12)
    axis.setLabelsFont(font)
    axis.setLabelsColor(QColor(palette.axis_labels))
    axis.setTitleText(title)
    axis.setTitleFont(font)
    axis.setTitleBrush(QBrush(QColor(palette.axis_titles)))
    axis.setLinePen(QPen(QColor(palette.axis_line), 1))
    axis.setGridLineVisible(grid)
    axis.setGridLinePen(QPen(QColor(palette.grid), 1))
    axis.setMinorGridLineVisible(False)
    axis.setShadesVisible(False)
    return axis


def _x_interval(span_min: float) -> float:
    if span_min <= 90:
        return 15.0
    if span_min <= 300:
        return 30.0
    return 60.0


class _BottomLabels:
    """Small labels along the bottom of the plot, stacked upwards where they would overlap."""

    def __init__(self, plot: QRectF, line_px: int) -> None:
        self._plot = plot
        self._line_px = line_px
        self._row_ends: list[float] = []  # right edge of the last label in each row

    def draw(self, painter: QPainter, x: float, text: str) -> None:
        width = painter.fontMetrics().horizontalAdvance(text)
        x = min(x, self._plot.right() - width - 2)
        row = next((i for i, end in enumerate(self._row_ends) if x > end + 6), None)
        if row is None:
            row = len(self._row_ends)
            self._row_ends.append(x + width)
        else:
            self._row_ends[row] = x + width
        painter.drawText(QPointF(x, self._plot.bottom() - 5 - row * self._line_px), text)


class _VitalsView(QChartView):
    """The chart view: paints phase bands and dose lines behind the series, the now line over."""

    def __init__(self, chart: QChart, palette: ChartPalette, parent: QWidget | None = None) -> None:
        super().__init__(chart, parent)
        self.chart_palette = palette
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFrameShape(QChartView.Shape.NoFrame)
        self.setBackgroundBrush(QBrush(QColor(palette.background)))
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.state: TimelineState | None = None
        self.doses: list[_DoseMark] = []
        self.span_min = 1.0
        self.empty = True

    def x_px(self, minute: float) -> float:
        plot = self.chart().plotArea()
        fraction = min(max(minute / self.span_min, 0.0), 1.0)
        return plot.left() + plot.width() * fraction

    def _small_font(self, px: int = 12) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(px)
        return font

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        super().drawBackground(painter, rect)
        state = self.state
        if state is None:
            return
        plot = self.chart().plotArea()
        palette = self.chart_palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._small_font())
        if palette.plot_area != palette.background:
            painter.fillRect(plot, QColor(palette.plot_area))
        start = state.started_at
        bands = palette.phase_bands
        for index, window in enumerate(state.phases):
            x0 = self.x_px(_minutes(window.begins_at, start))
            x1 = self.x_px(_minutes(window.ends_at, start))
            if x1 - x0 < 1.0:
                continue
            colour = QColor(bands[index % len(bands)])
            current = index == state.phase_index
            if current:
                colour = colour.lighter(palette.current_phase_lighter_pct)
            band = QRectF(x0, plot.top() - _BAND_HEIGHT_PX - 4, x1 - x0, _BAND_HEIGHT_PX)
            painter.fillRect(band.adjusted(0.5, 0, -0.5, 0), colour)
            shade = QColor(colour)
            shade.setAlpha(palette.phase_shade_alpha)
            painter.fillRect(QRectF(x0, plot.top(), x1 - x0, plot.height()), shade)
            if palette.phase_divider is not None and index > 0:
                painter.setPen(QPen(QColor(palette.phase_divider), 0.75))
                painter.drawLine(QPointF(x0, band.top()), QPointF(x0, plot.bottom()))
            painter.setPen(QColor(palette.current_phase_label if current else palette.phase_label))
            label = band.adjusted(4, 0, -4, 0)
            painter.drawText(
                label,
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                painter.fontMetrics().elidedText(
                    window.spec.name, Qt.TextElideMode.ElideRight, int(label.width())
                ),
            )
        labels = _BottomLabels(plot, painter.fontMetrics().height())
        # doses: a dashed line through the plot, a triangle on the band as on the strip
        dose_colour = QColor(palette.dose)
        dose_pen = QPen(dose_colour, 1.2, Qt.PenStyle.DashLine)
        for dose in self.doses:
            x = self.x_px(dose.minute)
            painter.setPen(dose_pen)
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            path = QPainterPath()
            top = plot.top() - _BAND_HEIGHT_PX - 4
            path.moveTo(x - 6, top)
            path.lineTo(x + 6, top)
            path.lineTo(x, top + 11)
            path.closeSubpath()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(dose_colour)
            painter.drawPath(path)
            painter.setPen(dose_colour)
            labels.draw(painter, x + 5, dose.label)
        # check-ins not recorded (overdue): a ring on the bottom edge, so a gap explains itself
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for checkin in state.checkins:
            if checkin.status is not CheckinStatus.OVERDUE:
                continue
            x = self.x_px(_minutes(checkin.due_at, start))
            painter.setPen(QPen(QColor(palette.missed_checkin), 1.5))
            painter.drawEllipse(QPointF(x, plot.bottom() - 4), 3.0, 3.0)
            labels.draw(painter, x + 6, f"{checkin.spec.label} not recorded")
        painter.restore()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        super().drawForeground(painter, rect)
        state = self.state
        if state is None:
            return
        plot = self.chart().plotArea()
        palette = self.chart_palette
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._small_font())
        self._draw_legend(painter, plot)
        if self.empty:
            painter.setPen(QColor(palette.empty_text))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "No readings yet")
        x_now = self.x_px(_minutes(state.now, state.started_at))
        now_colour = QColor(palette.now_line)
        now_colour.setAlpha(palette.now_line_alpha)
        painter.setPen(QPen(now_colour, 1.5))
        painter.drawLine(
            QPointF(x_now, plot.top() - _BAND_HEIGHT_PX - 6), QPointF(x_now, plot.bottom())
        )
        painter.restore()

    def _draw_legend(self, painter: QPainter, plot: QRectF) -> None:
        """One quiet row above the phase band: what each mark means."""
        palette = self.chart_palette
        metrics = painter.fontMetrics()
        baseline = _LEGEND_TOP_PX + metrics.ascent()
        x = plot.left()
        entries = (
            ("▼▲", palette.bp, "BP mmHg"),
            ("●", palette.hr, "HR bpm"),
            ("◆", palette.spo2, "SpO2 % (right)"),
            ("┆", palette.dose, "dose"),
        )
        for symbol, colour, text in entries:
            painter.setPen(QColor(colour))
            painter.drawText(QPointF(x, baseline), symbol)
            x += metrics.horizontalAdvance(symbol) + 4
            painter.setPen(QColor(palette.legend_text))
            painter.drawText(QPointF(x, baseline), text)
            x += metrics.horizontalAdvance(text) + 18
        # the time axis' unit, shortened where the chart is too narrow to hold it beside the legend
        room = plot.right() - (x - 18) - 12
        caption = next((c for c in _TIME_CAPTIONS if metrics.horizontalAdvance(c) <= room), None)
        if caption is None:
            return
        painter.setPen(QColor(palette.caption))
        painter.drawText(
            QRectF(plot.left(), _LEGEND_TOP_PX, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            caption,
        )


class VitalsChart(QWidget):
    """BP, heart rate and SpO2 of one participant across the whole planned session."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        gap_after_min: float = DEFAULT_GAP_AFTER_MIN,
        show_corrected: bool = True,
        palette: ChartPalette = SCREEN_PALETTE,
    ) -> None:
        super().__init__(parent)
        self.gap_after_min = gap_after_min
        self.show_corrected = show_corrected
        self._palette = palette
        self._chart = QChart()
        self._chart.setBackgroundVisible(False)
        self._chart.setPlotAreaBackgroundVisible(False)
        self._chart.setMargins(_CHART_MARGINS)
        self._chart.layout().setContentsMargins(0, 0, 0, 0)
        self._chart.legend().setVisible(False)
        self._chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self._x_axis = value_axis(0.0, 180.0, 30.0, "", palette)
        self._x_axis.setTitleVisible(False)
        self._left_axis = value_axis(LEFT_AXIS_MIN, LEFT_AXIS_MAX, 20.0, "mmHg · bpm", palette)
        self._spo2_axis = value_axis(
            SPO2_AXIS_MIN_PCT, SPO2_AXIS_MAX_PCT, 5.0, "SpO2 %", palette, grid=False
        )
        self._spo2_axis.setLabelsColor(QColor(palette.spo2))
        self._chart.addAxis(self._x_axis, Qt.AlignmentFlag.AlignBottom)
        self._chart.addAxis(self._left_axis, Qt.AlignmentFlag.AlignLeft)
        self._chart.addAxis(self._spo2_axis, Qt.AlignmentFlag.AlignRight)
        self._systolic_marker = _triangle_marker(palette.bp, pointing_down=True)
        self._diastolic_marker = _triangle_marker(palette.bp, pointing_down=False)
        self._faint_systolic = _triangle_marker(palette.corrected, pointing_down=True)
        self._faint_diastolic = _triangle_marker(palette.corrected, pointing_down=False)
        self._spo2_marker = _diamond_marker(palette.spo2)
        self._view = _VitalsView(self._chart, palette, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._view)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(220)
        self.setAccessibleName("Vitals chart")

    def sizeHint(self) -> QSize:
        return QSize(900, 340)

    # --- what tests and the export read -------------------------------------------------------

    def chart(self) -> QChart:
        return self._chart

    def chart_palette(self) -> ChartPalette:
        return self._palette

    def series_of(self, kind: str) -> list[QXYSeries]:
        """The series of one kind (BP_BAR, HR_LINE, ...), in time order."""
        return [s for s in self._xy_series() if s.objectName() == kind]

    def x_axis(self) -> QValueAxis:
        return self._x_axis

    def left_axis(self) -> QValueAxis:
        return self._left_axis

    def spo2_axis(self) -> QValueAxis:
        return self._spo2_axis

    def axis_side(self, series: QAbstractSeries) -> Qt.AlignmentFlag | None:
        """Which side the series' value axis is on (AlignLeft or AlignRight)."""
        for axis in series.attachedAxes():
            if axis.orientation() is Qt.Orientation.Vertical:
                return axis.alignment()
        return None

    def dose_minutes(self) -> list[float]:
        return [dose.minute for dose in self._view.doses]

    def now_minute(self) -> float | None:
        state = self._view.state
        return None if state is None else _minutes(state.now, state.started_at)

    # --- drawing ------------------------------------------------------------------------------

    def show_vitals(
        self,
        state: TimelineState,
        observations: Sequence[ObservationRecord],
        doses: Sequence[DoseRecord],
        history: Sequence[ObservationRecord] = (),
    ) -> None:
        """Redraw from the standing readings; corrected originals faint when `show_corrected`."""
        standing, originals = _standing_and_originals(observations, history)
        start = state.started_at
        self._chart.removeAllSeries()
        self._view.state = state
        self._view.doses = [
            _DoseMark(_minutes(d.occurred_at, start), _dose_label(d))
            for d in sorted(_standing_doses(doses), key=lambda d: d.occurred_at)
        ]
        self._view.empty = not standing
        drawn = [*standing, *(originals if self.show_corrected else ())]
        self._set_ranges(state, drawn)
        if self.show_corrected and originals:
            self._add_corrected(originals, start)
        self._add_bp(standing, start)
        palette = self._palette
        self._add_line(HR_LINE, "heart_rate_bpm", palette.hr, self._left_axis, standing, state)
        self._add_line(
            SPO2_LINE, "spo2_pct", palette.spo2, self._spo2_axis, standing, state, self._spo2_marker
        )
        self._view.viewport().update()

    def set_now(self, state: TimelineState) -> None:
        """Move the now line only (no series are rebuilt), widening the x axis if needed."""
        self._view.state = state
        end_min = max(_minutes(state.now, state.started_at), self._view.span_min)
        if end_min > self._view.span_min:
            self._set_x_range(end_min)
        self._view.viewport().update()

    def _set_ranges(self, state: TimelineState, drawn: Sequence[ObservationRecord]) -> None:
        start = state.started_at
        last_min = max((_minutes(o.occurred_at, start) for o in drawn), default=0.0)
        end_min = max(
            _minutes(state.planned_end_at, start), _minutes(state.now, start), last_min, 1.0
        )
        self._set_x_range(end_min)
        pressures = [
            float(value)
            for o in drawn
            for name in ("systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm")
            if (value := o.values.get(name)) is not None
        ]
        low = min([LEFT_AXIS_MIN, *(math.floor((p - 10) / 20) * 20 for p in pressures)])
        high = max([LEFT_AXIS_MAX, *(math.ceil((p + 10) / 20) * 20 for p in pressures)])
        self._left_axis.setRange(low, high)
        self._left_axis.setTickAnchor(low)
        saturations = [float(v) for o in drawn if (v := o.values.get("spo2_pct")) is not None]
        spo2_low = min([SPO2_AXIS_MIN_PCT, *(math.floor((s - 2) / 5) * 5 for s in saturations)])
        self._spo2_axis.setRange(spo2_low, SPO2_AXIS_MAX_PCT)
        self._spo2_axis.setTickAnchor(spo2_low)
        self._spo2_axis.setTickInterval(5.0 if spo2_low >= 70 else 10.0)

    def _set_x_range(self, end_min: float) -> None:
        self._view.span_min = end_min
        self._x_axis.setRange(0.0, end_min)
        self._x_axis.setTickAnchor(0.0)
        self._x_axis.setTickInterval(_x_interval(end_min))

    def _attach(self, series: QXYSeries, kind: str, value_axis: QValueAxis) -> None:
        series.setObjectName(kind)
        self._chart.addSeries(series)
        series.attachAxis(self._x_axis)
        series.attachAxis(value_axis)

    def _add_bp(self, standing: Sequence[ObservationRecord], start: datetime) -> None:
        with_bp = [o for o in standing if o.has_bp]
        if not with_bp:
            return
        bar_pen = QPen(QColor(self._palette.bp), 2.0)
        bar_pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        for reading in with_bp:
            x = _minutes(reading.occurred_at, start)
            bar = QLineSeries()
            bar.append(x, float(reading.values["diastolic_mmhg"]))
            bar.append(x, float(reading.values["systolic_mmhg"]))
            bar.setPen(bar_pen)
            self._attach(bar, BP_BAR, self._left_axis)
        for kind, name, marker in (
            (BP_SYSTOLIC, "systolic_mmhg", self._systolic_marker),
            (BP_DIASTOLIC, "diastolic_mmhg", self._diastolic_marker),
        ):
            points = QScatterSeries()
            for reading in with_bp:
                points.append(_minutes(reading.occurred_at, start), float(reading.values[name]))
            points.setMarkerSize(22.0)
            points.setLightMarker(marker)
            points.setPen(QPen(Qt.PenStyle.NoPen))
            self._attach(points, kind, self._left_axis)

    def _add_line(
        self,
        kind: str,
        field: str,
        colour: str,
        value_axis: QValueAxis,
        standing: Sequence[ObservationRecord],
        state: TimelineState,
        marker: QImage | None = None,
    ) -> None:
        pen = QPen(QColor(colour), 2.0)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        for segment in split_segments(standing, field, state, self.gap_after_min):
            series = QLineSeries()
            for minute, value in segment:
                series.append(minute, value)
            series.setPen(pen)
            series.setBrush(QBrush(QColor(colour)))
            if marker is None:
                series.setPointsVisible(True)
                series.setMarkerSize(4.5)
            else:
                series.setLightMarker(marker)
                series.setMarkerSize(11.0)
            self._attach(series, kind, value_axis)

    def _add_corrected(self, originals: Sequence[ObservationRecord], start: datetime) -> None:
        """Corrected originals: thin faint marks without lines, so the record's history shows."""
        faint = QColor(self._palette.corrected)
        for reading in originals:
            if not reading.has_bp:
                continue
            bar = QLineSeries()
            x = _minutes(reading.occurred_at, start)
            bar.append(x, float(reading.values["diastolic_mmhg"]))
            bar.append(x, float(reading.values["systolic_mmhg"]))
            bar.setPen(QPen(faint, 1.0, Qt.PenStyle.DotLine))
            self._attach(bar, CORRECTED_BP_BAR, self._left_axis)
        with_bp = [o for o in originals if o.has_bp]
        for kind, name, marker in (
            (CORRECTED_SYSTOLIC, "systolic_mmhg", self._faint_systolic),
            (CORRECTED_DIASTOLIC, "diastolic_mmhg", self._faint_diastolic),
        ):
            if not with_bp:
                break
            points = QScatterSeries()
            for reading in with_bp:
                points.append(_minutes(reading.occurred_at, start), float(reading.values[name]))
            points.setMarkerSize(16.0)
            points.setLightMarker(marker)
            points.setPen(QPen(Qt.PenStyle.NoPen))
            self._attach(points, kind, self._left_axis)
        for kind, field, axis in (
            (CORRECTED_HR, "heart_rate_bpm", self._left_axis),
            (CORRECTED_SPO2, "spo2_pct", self._spo2_axis),
        ):
            points = QScatterSeries()
            for reading in originals:
                value = reading.values.get(field)
                if value is not None:
                    points.append(_minutes(reading.occurred_at, start), float(value))
            if points.count() == 0:
                continue
            points.setMarkerShape(QScatterSeries.MarkerShape.MarkerShapeCircle)
            points.setMarkerSize(6.0)
            points.setColor(faint)
            points.setBorderColor(faint)
            self._attach(points, kind, axis)

    def _xy_series(self) -> Iterable[QXYSeries]:
        for series in self._chart.series():
            if isinstance(series, QXYSeries):
                yield series


def _standing_doses(doses: Sequence[DoseRecord]) -> list[DoseRecord]:
    """Doses as they stand: corrected originals and voided entries are not drawn."""
    return effective(doses)


def split_segments(
    readings: Sequence[ObservationRecord],
    field: str,
    state: TimelineState,
    gap_after_min: float = DEFAULT_GAP_AFTER_MIN,
) -> list[list[tuple[float, float]]]:
    """(minute, value) runs of one field that may be joined by a line; a gap starts a new run.

    A gap is: two values more than `gap_after_min` apart; a reading of a check-in that asked for
    this value but has none; or a check-in asking for it that was missed (still overdue) between
    two values. A reading that was never asked for the value (a BP-only check) is no gap.
    """
    start = state.started_at
    measure = _MEASURE_OF.get(field)
    asked = {c.spec.key: c.spec.measures for c in state.checkins}
    missed = [
        _minutes(c.due_at, start)
        for c in state.checkins
        if c.status is CheckinStatus.OVERDUE and (measure is None or measure in c.spec.measures)
    ]
    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for reading in sorted(readings, key=lambda o: o.occurred_at):
        minute = _minutes(reading.occurred_at, start)
        value = reading.values.get(field)
        if value is None:
            expected = reading.checkin_key in asked and measure in asked[reading.checkin_key]
            if expected and run:
                runs.append(run)
                run = []
            continue
        if run:
            last = run[-1][0]
            too_far = minute - last > gap_after_min
            skipped = any(last < due < minute for due in missed)
            if too_far or skipped:
                runs.append(run)
                run = []
        run.append((minute, float(value)))
    if run:
        runs.append(run)
    return runs


def render_chart_image(
    width_px: int,
    height_px: int,
    state: TimelineState,
    observations: Sequence[ObservationRecord],
    doses: Sequence[DoseRecord],
    history: Sequence[ObservationRecord] = (),
    *,
    scale: float = 1.0,
    show_corrected: bool = True,
    palette: ChartPalette = SCREEN_PALETTE,
) -> QImage:
    """The same chart drawn offscreen into an image of exactly width_px × height_px.

    `scale` enlarges text and marks for print: the chart is laid out at (size / scale) and
    drawn scaled up, so at 300 dpi a scale of about 3 reads like the screen. `palette` is the
    screen's unless given: PAPER_PALETTE for a white page.
    """
    if width_px <= 0 or height_px <= 0 or scale <= 0:
        raise ValueError(
            f"the chart image needs a positive size and scale, got {width_px}×{height_px} px "
            f"at scale {scale}"
        )
    logical = QSize(max(round(width_px / scale), 1), max(round(height_px / scale), 1))
    widget = VitalsChart(show_corrected=show_corrected, palette=palette)
    widget.resize(logical)
    widget.show_vitals(state, observations, doses, history)
    image = QImage(width_px, height_px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(palette.background))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.scale(width_px / logical.width(), height_px / logical.height())
    widget.render(painter, QPoint(0, 0))  # lays the hidden widget out at its size first
    painter.end()
    widget.deleteLater()
    return image
