"""`ClockLabel`: a one-line label whose text changes every second without relaying out the screen.

A QLabel asks its parent layout for a new layout on every `setText`, and that request climbs
to the top of the live screen, which is then laid out again once a second for a clock. A
label of fixed size does not ask (Qt skips the request when minimum and maximum size are
equal), so this label keeps itself fixed at the size its text needs, measured with every digit
as the font's widest one: 0:12:34 after 0:12:33 repaints only the label, and only a text of
another shape (9:59:59 → 10:00:00, another track title) refits it and lays the screen out once.
Sizes are measured once per shape of text, not on every tick.

Being fixed, it no longer stretches to fill its layout cell: add it with an alignment
(`LEFT_MIDDLE` puts the text where a plain label's was) so the layout places it as before.

Given the colour of what lies under it (`background`), it paints that colour itself and is
opaque, so its ancestors (the panel, the scroll area, the window) are not repainted under it
every second. Only for a plain background (a panel's fill, away from its rounded border).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QWidget

LEFT_MIDDLE = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
LEFT_BOTTOM = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
RIGHT_MIDDLE = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

DIGITS = "0123456789"
MAX_SHAPES = 64  # sizes remembered per label
_CENTRED = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter
_REPOLISHED = (QEvent.Type.Polish, QEvent.Type.StyleChange)
_REMEASURE_ON = (QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.ContentsRectChange)


class ClockLabel(QLabel):
    """A single-line QLabel fixed at the size its current text needs (see the module)."""

    def __init__(
        self, text: str = "", parent: QWidget | None = None, *, background: str | None = None
    ) -> None:
        super().__init__(parent)
        self._background = QColor(background) if background is not None else None
        self._digits_as_widest: dict[int, int] | None = None  # str.translate table, per font
        self._sizes: dict[str, QSize] = {}  # shape of a text -> its size, per font
        self._fixed = QSize()
        super().setText(text)
        self._refit()

    def setText(self, text: str) -> None:
        if text == self.text():
            return
        super().setText(text)
        self._refit()

    def setAlignment(self, alignment: Qt.AlignmentFlag) -> None:
        super().setAlignment(alignment)
        self._remeasure()

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() in _REPOLISHED and self._background is not None:
            # the style sheet clears the flag for a transparent background, on every polish
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        return handled

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in _REMEASURE_ON:  # the style sheet's font arrives when it is polished
            self._remeasure()

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._background is not None:
            painter = QPainter(self)
            painter.fillRect(event.rect(), self._background)
            painter.end()
        super().paintEvent(event)

    def shape_of(self, text: str) -> str:
        """`text` with every digit as the font's widest digit: texts of one shape fit one size."""
        if self._digits_as_widest is None:
            metrics = self.fontMetrics()
            widest = max(DIGITS, key=metrics.horizontalAdvance)
            self._digits_as_widest = str.maketrans(DIGITS, widest * len(DIGITS))
        return text.translate(self._digits_as_widest)

    def size_for(self, text: str) -> QSize:
        """The size a QLabel with this font, alignment and margins asks for to show `text`."""
        flags = self.alignment() & ~_CENTRED  # as QLabel measures: centring rounds
        box = self.fontMetrics().boundingRect(0, 0, 2000, 2000, flags.value, text)
        margins = self.contentsMargins()
        return QSize(
            box.width() + 2 * self.margin() + margins.left() + margins.right(),
            box.height() + 2 * self.margin() + margins.top() + margins.bottom(),
        )

    def _remeasure(self) -> None:
        self._digits_as_widest = None
        self._sizes.clear()
        self._refit()

    def _refit(self) -> None:
        """Fix the size to the text's shape; a text of the current shape costs no layout."""
        shape = self.shape_of(self.text())
        size = self._sizes.get(shape)
        if size is None:
            if len(self._sizes) >= MAX_SHAPES:  # track titles come and go: keep it small
                self._sizes.clear()
            size = self._sizes[shape] = self.size_for(shape)
        if size != self._fixed:
            self._fixed = size
            self.setFixedSize(size)
