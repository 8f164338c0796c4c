"""The strip across the whole session: phases, check-ins, doses, markers and a now line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from kapsession.domain.timeline import CheckinStatus, TimelineState
from kapsession.ui import theme

STATUS_COLOURS = {
    CheckinStatus.DONE: theme.DONE,
    CheckinStatus.DUE: theme.DUE,
    CheckinStatus.OVERDUE: theme.OVERDUE,
    CheckinStatus.UPCOMING: theme.TEXT_DIM,
}


@dataclass(frozen=True)
class StripMark:
    """A point on the strip: a dose, a marker or a music event."""

    at: datetime
    kind: str  # "dose" | "marker" | "music"
    label: str


class TimelineStrip(QWidget):
    """Painted, not built from widgets: one paint per tick, whatever the session holds.

    The marks (doses, markers, tracks: hundreds in a long session) are drawn once into a
    layer kept until they or the scale change; a repaint for the now line or a check-in's
    status copies the layer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state: TimelineState | None = None
        self._marks: list[StripMark] = []
        self._painted_look: tuple[object, ...] | None = None
        self._marks_layer: tuple[tuple[object, ...], QPixmap] | None = None
        self.setMinimumHeight(88)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Session timeline")

    def sizeHint(self) -> QSize:
        return QSize(900, 90)

    def show_state(self, state: TimelineState, marks: list[StripMark]) -> None:
        """Repaint only when something visible changed: the now line moves about one pixel
        every few seconds, so most ticks cost nothing (this runs four times a second).
        `marks`: a new list whenever the marks change (the same list is taken as unchanged)."""
        self._state = state
        self._marks = marks
        look = self._look(state, marks)
        if look != self._painted_look:
            self._painted_look = look
            self.update()

    def _look(self, state: TimelineState, marks: list[StripMark]) -> tuple[object, ...]:
        """Everything the strip shows, as whole pixels (one scale for all of it: this runs
        once a second, so it does no more arithmetic than it must)."""
        x = self._scale(state, 8.0, float(self.width() - 16))
        return (
            self.width(),
            round(x(state.now)),
            state.phase_index,
            tuple((round(x(w.begins_at)), w.spec.key) for w in state.phases),
            tuple((c.spec.key, c.status, round(x(c.due_at))) for c in state.checkins),
            self._marks_key(state, marks),
        )

    def _marks_key(self, state: TimelineState, marks: list[StripMark]) -> tuple[object, ...]:
        """What the marks layer depends on: the marks and where the scale puts them."""
        scale_end = max(state.now, state.planned_end_at)
        # the list itself: the same list compares equal at once, a new one by its length first
        return (marks, self.width(), self.height(), state.started_at, scale_end)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._painted_look = None
        super().resizeEvent(event)

    @staticmethod
    def _scale(state: TimelineState, left: float, width: float) -> Callable[[datetime], float]:
        """Where a moment sits across `width` pixels from `left`: the session from its start
        to the planned end (or to now, once past it) fills the width."""
        start = state.started_at
        end = max(state.now, state.planned_end_at)
        per_s = width / max((end - start).total_seconds(), 1.0)

        def x(when: datetime) -> float:
            return left + min(max((when - start).total_seconds() * per_s, 0.0), width)

        return x

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        state = self._state
        if state is None:
            return
        left, width = 8.0, float(self.width() - 16)
        at_x = self._scale(state, left, width)
        band_top, band_h = 26.0, 34.0
        small = QFont(self.font())
        small.setPixelSize(12)
        painter.setFont(small)
        for index, window in enumerate(state.phases):
            x0 = at_x(window.begins_at)
            x1 = at_x(window.ends_at)
            colour = QColor(theme.PHASE_COLOURS[index % len(theme.PHASE_COLOURS)])
            if index == state.phase_index:
                colour = colour.lighter(135)
            painter.fillRect(QRectF(x0, band_top, max(x1 - x0, 1.0), band_h), colour)
            painter.setPen(QColor(theme.TEXT if index == state.phase_index else theme.TEXT_DIM))
            label_rect = QRectF(x0 + 4, band_top, max(x1 - x0 - 8, 0.0), band_h)
            painter.drawText(
                label_rect,
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                painter.fontMetrics().elidedText(
                    window.spec.name, Qt.TextElideMode.ElideRight, int(label_rect.width())
                ),
            )
        # check-ins: ticks under the band, coloured by status
        for checkin in state.checkins:
            x = at_x(checkin.due_at)
            colour = QColor(STATUS_COLOURS[checkin.status])
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(x, band_top + band_h + 2), QPointF(x, band_top + band_h + 14))
            if checkin.status is CheckinStatus.DONE:
                painter.setBrush(colour)
            else:
                painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(x, band_top + band_h + 18), 3.5, 3.5)
        painter.drawPixmap(0, 0, self._marks_pixmap(state, at_x))
        # now line
        x_now = at_x(state.now)
        painter.setPen(QPen(QColor(theme.TEXT), 2))
        painter.drawLine(QPointF(x_now, 2), QPointF(x_now, band_top + band_h + 24))
        painter.end()

    def _marks_pixmap(self, state: TimelineState, at_x: Callable[[datetime], float]) -> QPixmap:
        """Doses (triangles above the band) and markers and tracks (dots above the band), drawn
        when they or the scale changed since the last paint."""
        key = self._marks_key(state, self._marks)
        if self._marks_layer is not None and self._marks_layer[0] == key:
            return self._marks_layer[1]
        ratio = self.devicePixelRatioF()
        layer = QPixmap(round(self.width() * ratio), round(self.height() * ratio))
        layer.setDevicePixelRatio(ratio)
        layer.fill(Qt.GlobalColor.transparent)
        painter = QPainter(layer)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        drawn: set[tuple[str, int]] = set()  # a second mark on the same pixel adds nothing
        for mark in self._marks:
            x = at_x(mark.at)
            if (mark.kind, round(x)) in drawn:
                continue
            drawn.add((mark.kind, round(x)))
            if mark.kind == "dose":
                path = QPainterPath()
                path.moveTo(x - 6, 6)
                path.lineTo(x + 6, 6)
                path.lineTo(x, 18)
                path.closeSubpath()
                painter.setBrush(QColor(theme.ACCENT))
                painter.drawPath(path)
            else:
                painter.setBrush(QColor(theme.TEXT_DIM if mark.kind == "marker" else "#6f8f8a"))
                painter.drawEllipse(QPointF(x, 14), 3.0, 3.0)
        painter.end()
        self._marks_layer = (key, layer)
        return layer
