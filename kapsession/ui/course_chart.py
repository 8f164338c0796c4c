"""The course chart (issue 17): PHQ-9, GAD-7 and PCL-5 totals over a client's course, with the
dosing sessions marked, on the client history screen beside the in-session trends, and drawn
for the course summary's PDF on paper.

- Time runs along the bottom (dates). PHQ-9 and GAD-7 share the left scale (0–27), where the
  PHQ-9 severity bands are shaded and named (minimal, mild, moderate, moderately severe,
  severe; GAD-7's cut-points 5, 10 and 15 fall on the same lines); PCL-5 has the right scale
  (0–80) with its provisional-PTSD cut-point (33) dashed.
- Each scored administration is a point on its questionnaire's line (the totals themselves are
  in the measures table below the chart: written on the chart, three questionnaires given on
  one day overlap). An incomplete one is never at zero: it is a hollow mark in the "not
  scored" strip under the zero line, on the day it was given, and the line joins the scored
  ones only.
- Each dosing session is a dashed vertical line on its day.
- Without any questionnaire the chart says "No measures recorded."
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCharts import (
    QAreaSeries,
    QCategoryAxis,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QDateTime, QMargins, QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from kapsession.domain.questionnaires import PCL5, PHQ9, InstrumentKey
from kapsession.records.course_summary import NO_MEASURES, CourseChart
from kapsession.ui import theme

LEFT_MAX = 27.0  # the PHQ-9 maximum; GAD-7's 21 fits under it
NOT_SCORED_LOW = -4.99  # just above -5: the left scale labels no tick under 0
NOT_SCORED_AT = -2.5
RIGHT_MAX = float(PCL5.max_total)  # 80
BAND_NAMES = {  # the PHQ-9 bands, named short enough for the axis
    "minimal": "minimal",
    "mild": "mild",
    "moderate": "moderate",
    "moderately severe": "mod. severe",
    "severe": "severe",
}
PRINT_SCALE = 3.0  # at 300 dpi, text and marks read like the screen


@dataclass(frozen=True)
class CourseChartPalette:
    background: str
    axis_labels: str
    axis_line: str
    grid: str
    band: str  # the severity bands' tint, stronger band by band
    band_alpha_step: int  # 0–255 added per band above minimal
    not_scored: str  # the strip under zero
    not_scored_alpha: int
    lines: dict[InstrumentKey, str]
    dosing: str
    empty_text: str
    legend_text: str


SCREEN = CourseChartPalette(
    background=theme.PANEL,
    axis_labels=theme.TEXT_DIM,
    axis_line=theme.BORDER,
    grid="#2f3439",
    band=theme.OVERDUE,
    band_alpha_step=11,
    not_scored=theme.TEXT_FAINT,
    not_scored_alpha=40,
    lines={
        InstrumentKey.PHQ9: "#a99cc4",  # soft lavender
        InstrumentKey.GAD7: "#7fb3a8",  # muted teal
        InstrumentKey.PCL5: "#cbb89b",  # warm sand
    },
    dosing=theme.ACCENT,
    empty_text=theme.TEXT_DIM,
    legend_text=theme.TEXT_DIM,
)

PAPER = CourseChartPalette(
    background="#ffffff",
    axis_labels="#262626",
    axis_line="#737373",
    grid="#c9c9c9",
    band="#a3262a",
    band_alpha_step=13,
    not_scored="#8a8d93",
    not_scored_alpha=45,
    lines={
        InstrumentKey.PHQ9: "#4b2f86",  # violet
        InstrumentKey.GAD7: "#12705f",  # teal
        InstrumentKey.PCL5: "#8a5a14",  # brown
    },
    dosing="#2f4f7a",
    empty_text="#5c5f66",
    legend_text="#262626",
)


def _ms(when: datetime) -> float:
    return when.timestamp() * 1000.0


def _font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


class CourseChartView(QChartView):
    """The chart on the history screen (and, drawn offscreen on paper, in the summary)."""

    def __init__(
        self, parent: QWidget | None = None, *, palette: CourseChartPalette = SCREEN
    ) -> None:
        chart = QChart()
        super().__init__(chart, parent)
        self.palette_ = palette
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Questionnaires over the course")
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setBackgroundBrush(QBrush(QColor(palette.background)))
        chart.setBackgroundRoundness(8)
        chart.setPlotAreaBackgroundVisible(False)
        chart.setMargins(QMargins(6, 4, 6, 2))
        chart.setTitleFont(_font(14))
        chart.setTitleBrush(QBrush(QColor(palette.empty_text)))
        legend = chart.legend()
        legend.setAlignment(Qt.AlignmentFlag.AlignTop)
        legend.setLabelColor(QColor(palette.legend_text))
        legend.setFont(_font(12))
        self.x_axis = QDateTimeAxis()
        self.x_axis.setFormat("d MMM")
        self.left_axis = self._value_axis(NOT_SCORED_LOW, LEFT_MAX, 5, "PHQ-9 · GAD-7")
        self.band_axis = QCategoryAxis()
        self.right_axis = self._value_axis(
            NOT_SCORED_LOW * RIGHT_MAX / LEFT_MAX, RIGHT_MAX, 20, "PCL-5"
        )
        self._style_axis(self.x_axis)
        self._style_axis(self.band_axis)
        self._bands()
        chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(self.band_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(self.left_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(self.right_axis, Qt.AlignmentFlag.AlignRight)
        # What show_chart draws, kept for the tests and to be cleared on the next history.
        self.lines: dict[InstrumentKey, QLineSeries] = {}
        self.incomplete: dict[InstrumentKey, QScatterSeries] = {}
        self.dosing_lines: list[QLineSeries] = []
        self.cut_point: QLineSeries | None = None
        self._drawn: list[QLineSeries | QScatterSeries | QAreaSeries] = []
        self._edges: list[QLineSeries] = []

    # axes ------------------------------------------------------------------------------------

    def _style_axis(self, axis: QValueAxis | QCategoryAxis | QDateTimeAxis) -> None:
        axis.setLabelsFont(_font(12))
        axis.setLabelsColor(QColor(self.palette_.axis_labels))
        axis.setTitleFont(_font(12))
        axis.setTitleBrush(QBrush(QColor(self.palette_.axis_labels)))
        axis.setLinePen(QPen(QColor(self.palette_.axis_line), 1))
        axis.setGridLinePen(QPen(QColor(self.palette_.grid), 1))
        axis.setMinorGridLineVisible(False)
        axis.setShadesVisible(False)

    def _value_axis(self, low: float, high: float, step: float, title: str) -> QValueAxis:
        axis = QValueAxis()
        axis.setRange(low, high)
        axis.setTickType(QValueAxis.TickType.TicksDynamic)
        axis.setTickAnchor(0)
        axis.setTickInterval(step)
        axis.setLabelFormat("%d")
        axis.setTitleText(title)
        self._style_axis(axis)
        axis.setGridLineVisible(False)  # the bands' lines are the grid
        return axis

    def _bands(self) -> None:
        """The band axis: "not scored" under zero, then the PHQ-9 bands, named in the middle of
        each, with a grid line at every cut-point."""
        axis = self.band_axis
        axis.setRange(NOT_SCORED_LOW, LEFT_MAX)
        axis.setStartValue(NOT_SCORED_LOW)
        axis.append("not scored", 0)
        bands = PHQ9.bands
        for index, band in enumerate(bands):
            end = bands[index + 1].low if index + 1 < len(bands) else LEFT_MAX
            axis.append(BAND_NAMES.get(band.label, band.label), end)
        axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionCenter)
        axis.setGridLineVisible(True)

    # drawing ---------------------------------------------------------------------------------

    def _add(
        self,
        series: QLineSeries | QScatterSeries | QAreaSeries,
        y_axis: QValueAxis,
        *,
        in_legend: bool,
    ) -> None:
        chart = self.chart()
        chart.addSeries(series)
        series.attachAxis(self.x_axis)
        series.attachAxis(y_axis)
        for marker in chart.legend().markers(series):
            marker.setVisible(in_legend)
        self._drawn.append(series)

    def _clear(self) -> None:
        chart = self.chart()
        for series in self._drawn:
            chart.removeSeries(series)
            series.deleteLater()
        self._drawn, self._edges = [], []
        self.lines, self.incomplete, self.dosing_lines = {}, {}, []
        self.cut_point = None

    def show_chart(self, data: CourseChart) -> None:
        """Draw `data`: its questionnaires, their incomplete administrations and its dosing
        sessions; or say that no measures are recorded."""
        self._clear()
        chart = self.chart()
        empty = data.empty
        chart.setTitle(NO_MEASURES if empty else "")
        for axis in (self.x_axis, self.left_axis, self.band_axis):
            axis.setVisible(not empty)
        pcl5 = any(s.instrument.key is InstrumentKey.PCL5 for s in data.series)
        self.right_axis.setVisible(pcl5)  # its scale only when there is a PCL-5 to read on it
        chart.legend().setVisible(not empty)
        if empty:
            return
        low, high = self._time_range(data.times)
        self.x_axis.setRange(
            QDateTime.fromMSecsSinceEpoch(low), QDateTime.fromMSecsSinceEpoch(high)
        )
        self.x_axis.setTickCount(self._tick_count(low, high))
        self._shade_bands(low, high)
        for when in data.dosing:
            self._dosing_line(when, first=not self.dosing_lines)
        for series in data.series:
            key = series.instrument.key
            axis = self.right_axis if key is InstrumentKey.PCL5 else self.left_axis
            colour = QColor(self.palette_.lines[key])
            line = QLineSeries()
            line.setName(series.instrument.name)
            line.setPen(QPen(colour, 2.5))
            line.setPointsVisible(True)
            line.setMarkerSize(7.0)
            line.replace([QPointF(_ms(p.at), float(p.total or 0)) for p in series.scored])
            self._add(line, axis, in_legend=True)
            self.lines[key] = line
            if series.incomplete:
                hollow = QScatterSeries()
                hollow.setName(f"{series.instrument.name} not scored")
                hollow.setMarkerShape(QScatterSeries.MarkerShape.MarkerShapeCircle)
                hollow.setMarkerSize(11.0)
                hollow.setBrush(QBrush(Qt.BrushStyle.NoBrush))
                hollow.setPen(QPen(colour, 2))
                hollow.replace([QPointF(_ms(p.at), NOT_SCORED_AT) for p in series.incomplete])
                self._add(hollow, self.left_axis, in_legend=False)
                self.incomplete[key] = hollow
            if key is InstrumentKey.PCL5:
                self._cut_point(low, high, colour)

    @staticmethod
    def _time_range(times: Sequence[datetime]) -> tuple[int, int]:
        """From a little before the first time to a little after the last (three days around
        a single one), in ms."""
        first, last = min(times), max(times)
        pad = max((last - first) * 0.05, timedelta(days=1))
        if last - first < timedelta(days=1):
            pad = timedelta(days=3)
        return round(_ms(first - pad)), round(_ms(last + pad))

    @staticmethod
    def _tick_count(low: int, high: int) -> int:
        days = (high - low) / 86_400_000
        return max(2, min(8, round(days / 7) + 1))  # about a label a week, at most eight

    def _shade_bands(self, low: int, high: int) -> None:
        """A tint over each band, stronger band by band; the strip under zero in grey."""
        edges = [NOT_SCORED_LOW, 0.0, *(float(b.low) for b in PHQ9.bands[1:]), LEFT_MAX]
        for index in range(len(edges) - 1):
            bottom, top = edges[index], edges[index + 1]
            if index == 0:
                colour = QColor(self.palette_.not_scored)
                colour.setAlpha(self.palette_.not_scored_alpha)
            else:
                colour = QColor(self.palette_.band)
                colour.setAlpha((index - 1) * self.palette_.band_alpha_step)
            upper, lower = QLineSeries(), QLineSeries()
            upper.append([QPointF(low, top), QPointF(high, top)])
            lower.append([QPointF(low, bottom), QPointF(high, bottom)])
            area = QAreaSeries(upper, lower)
            self._edges += [upper, lower]  # the area only points at them: kept alive here
            area.setBrush(QBrush(colour))
            area.setPen(QPen(Qt.PenStyle.NoPen))
            self._add(area, self.left_axis, in_legend=False)

    def _dosing_line(self, when: datetime, *, first: bool) -> None:
        line = QLineSeries()
        line.setName("Dosing session")
        pen = QPen(QColor(self.palette_.dosing), 1.5, Qt.PenStyle.DashLine)
        line.setPen(pen)
        line.append([QPointF(_ms(when), NOT_SCORED_LOW), QPointF(_ms(when), LEFT_MAX)])
        self._add(line, self.left_axis, in_legend=first)
        self.dosing_lines.append(line)

    def _cut_point(self, low: int, high: int, colour: QColor) -> None:
        line = QLineSeries()
        line.setName(f"PCL-5 cut-point {PCL5.bands[-1].low}")
        line.setPen(QPen(colour, 1.2, Qt.PenStyle.DotLine))
        level = float(PCL5.bands[-1].low)
        line.append([QPointF(low, level), QPointF(high, level)])
        self._add(line, self.right_axis, in_legend=True)
        self.cut_point = line


def course_chart_image(
    data: CourseChart,
    width_px: int,
    height_px: int,
    *,
    scale: float = PRINT_SCALE,
    palette: CourseChartPalette = PAPER,
) -> QImage:
    """The chart drawn offscreen into an image of width_px × height_px: laid out at (size /
    scale) and drawn scaled up, so at 300 dpi it reads like the screen."""
    if width_px <= 0 or height_px <= 0 or scale <= 0:
        raise ValueError(f"the chart image needs a positive size, got {width_px}×{height_px} px")
    logical = QSize(max(round(width_px / scale), 1), max(round(height_px / scale), 1))
    view = CourseChartView(palette=palette)
    view.setFrameShape(QChartView.Shape.NoFrame)
    view.setBackgroundBrush(QBrush(QColor(palette.background)))  # paper round the chart too
    view.chart().setBackgroundRoundness(0)
    view.resize(logical)
    view.show_chart(data)
    image = QImage(width_px, height_px, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(palette.background))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    try:
        painter.scale(width_px / logical.width(), height_px / logical.height())
        # QWidget's render (QGraphicsView's own renders the scene alone): lays the hidden
        # view out at its size first
        QWidget.render(view, painter, QPoint(0, 0))
    finally:
        painter.end()
        view.deleteLater()
    return image


def course_chart_for(data: CourseChart) -> Callable[[int, int], QImage]:
    """For the summary's PDF: draw(width_px, height_px) -> the chart on paper."""

    def draw(width_px: int, height_px: int) -> QImage:
        return course_chart_image(data, width_px, height_px)

    return draw
