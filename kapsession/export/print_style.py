"""The printed look shared by the PDF record and the REMS form: palette, page geometry, fonts
and the painter that puts a running header, footer and DRAFT mark on every page (how times
are written is `times.py`'s, for every format).

Pages are painted at the writer's resolution with the painter scaled to 96 units per inch,
the unit QTextDocument lays out in, so layout and drawing share one coordinate system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from kapsession.export.content import ExportRefused

# Print palette: ink on white, greys for structure, one accent for what needs attention
# (DRAFT, alerts, corrections).
INK = "#1d1d1f"
GREY = "#5c5f66"
LIGHT_GREY = "#8a8d93"
RULE = "#c9cbcf"
FILL = "#f3f4f5"
ACCENT = "#a3262a"
WATERMARK_ALPHA = 26  # of 255: the DRAFT mark lies over the page, text stays readable through it

FONT_FAMILIES = ["Helvetica Neue", "Helvetica", "Arial", "DejaVu Sans", "Liberation Sans"]
BODY_PT = 10.0  # prose: the session note, addenda
TABLE_PT = 8.5  # tables of readings and events

NO_LIGATURES = ("liga", "clig", "dlig")
PX_PER_INCH = 96.0  # QTextDocument's layout unit
WRITER_DPI = 300
PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}

CONFIDENTIAL = (
    "Confidential: protected health information. Do not disclose without the client's "
    "authorisation or as the law allows."
)


def px(mm: float) -> float:
    """Millimetres in layout units (96 per inch)."""
    return mm / 25.4 * PX_PER_INCH


@dataclass(frozen=True)
class PageGeometry:
    """One page in layout units: the paper and the body area between header and footer."""

    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def body(self) -> QRectF:
        return QRectF(
            self.left,
            self.top,
            self.width - self.left - self.right,
            self.height - self.top - self.bottom,
        )


def page_size(page: str) -> QPageSize:
    """A4 or US Letter; anything else is refused with the choices."""
    if page not in PAGE_SIZES:
        raise ExportRefused(f'The page size "{page}" is not known; choose "A4" or "Letter".')
    return QPageSize(PAGE_SIZES[page])


def geometry(
    page: str, *, side_mm: float = 17, top_mm: float = 19, bottom_mm: float = 17
) -> PageGeometry:
    size = page_size(page).size(QPageSize.Unit.Millimeter)
    return PageGeometry(
        width=px(size.width()),
        height=px(size.height()),
        left=px(side_mm),
        top=px(top_mm),
        right=px(side_mm),
        bottom=px(bottom_mm),
    )


def require_gui_application() -> None:
    """Fonts and images need a QGuiApplication; say so instead of crashing without one."""
    if QGuiApplication.instance() is None:
        raise RuntimeError(
            "PDF export needs a running QGuiApplication (headless: set QT_QPA_PLATFORM=offscreen "
            "and create one before exporting)."
        )


def font(point_size: float, *, bold: bool = False, italic: bool = False) -> QFont:
    """A font for QTextDocument layout (96 units per inch)."""
    value = QFont()
    value.setFamilies(FONT_FAMILIES)
    value.setPointSizeF(point_size)
    value.setBold(bold)
    value.setItalic(italic)
    value.setStyleHint(QFont.StyleHint.SansSerif)
    for tag in NO_LIGATURES:  # "first", not "ﬁrst": text copied from the PDF must read as typed
        value.setFeature(QFont.Tag(tag), 0)
    return value


def paint_font(point_size: float, *, bold: bool = False) -> QFont:
    """A font for drawing on the PDF painter scaled to layout units: the writer resolves point
    sizes at its own resolution, so the size is given in layout units instead."""
    return font(point_size * PX_PER_INCH / WRITER_DPI, bold=bold)


# --- painting pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoration:
    """What every page carries besides its body."""

    header_left: str
    header_right: str
    draft: bool
    footer_note: str = CONFIDENTIAL


def pdf_bytes(
    page: str,
    title: str,
    page_count: int,
    paint_page: Callable[[QPainter, int], None],
    decoration: Decoration,
) -> bytes:
    """A PDF of `page_count` pages; `paint_page(painter, index)` paints each body in layout
    units (96 per inch, origin at the paper's top-left); the decoration is added around it."""
    require_gui_application()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(WRITER_DPI)
    writer.setTitle(title)
    writer.setCreator("kapsession")
    writer.setPageLayout(
        QPageLayout(page_size(page), QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
    )
    shape = geometry(page)
    painter = QPainter(writer)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        scale = WRITER_DPI / PX_PER_INCH
        for index in range(page_count):
            if index:
                writer.newPage()
            painter.save()
            painter.scale(scale, scale)
            painter.save()
            paint_page(painter, index)
            painter.restore()
            if decoration.draft:
                _watermark(painter, shape)
            _header_footer(painter, shape, decoration, index, page_count)
            painter.restore()
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def _watermark(painter: QPainter, shape: PageGeometry) -> None:
    """A large, translucent, diagonal DRAFT over the page: over it, so no table shading or
    chart can hide it; translucent, so everything under it stays readable."""
    painter.save()
    painter.translate(shape.width / 2, shape.height / 2)
    painter.rotate(-35)
    painter.setFont(paint_font(118, bold=True))
    colour = QColor(ACCENT)
    colour.setAlpha(WATERMARK_ALPHA)
    painter.setPen(colour)
    box = QRectF(-shape.width, -120, 2 * shape.width, 240)
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "DRAFT")
    painter.restore()


def _header_footer(
    painter: QPainter, shape: PageGeometry, decoration: Decoration, index: int, count: int
) -> None:
    left, right = shape.left, shape.width - shape.right
    width = right - left
    painter.setFont(paint_font(7.5))
    metrics = painter.fontMetrics()
    # running header: who and when on the left, what on the right, a hairline under both
    base = shape.top - px(6)
    painter.setPen(QColor(GREY))
    right_text = decoration.header_right
    right_width = metrics.horizontalAdvance(right_text)
    header = metrics.elidedText(
        decoration.header_left, Qt.TextElideMode.ElideRight, int(width - right_width - 24)
    )
    painter.drawText(QPointF(left, base), header)
    painter.drawText(QPointF(right - right_width, base), right_text)
    painter.setPen(QPen(QColor(RULE), 0.6))
    painter.drawLine(QPointF(left, base + 4), QPointF(right, base + 4))
    if decoration.draft:
        _draft_band(painter, shape)
    # footer: the confidentiality note on the left, the page number on the right
    foot = shape.height - shape.bottom + px(7)
    rule_y = foot - metrics.ascent() - 5
    painter.setPen(QPen(QColor(RULE), 0.6))
    painter.drawLine(QPointF(left, rule_y), QPointF(right, rule_y))
    number = f"Page {index + 1} of {count}"
    painter.setFont(paint_font(7.5, bold=True))
    number_width = painter.fontMetrics().horizontalAdvance(number)
    painter.setPen(QColor(INK))
    painter.drawText(QPointF(right - number_width, foot), number)
    painter.setFont(paint_font(7))
    painter.setPen(QColor(LIGHT_GREY))
    note = painter.fontMetrics().elidedText(
        decoration.footer_note, Qt.TextElideMode.ElideRight, int(width - number_width - 24)
    )
    painter.drawText(QPointF(left, foot), note)


def _draft_band(painter: QPainter, shape: PageGeometry) -> None:
    """A thin accent band at the top of the paper: an unsigned record is not the record yet."""
    band = QRectF(0, 0, shape.width, px(6.5))
    painter.fillRect(band, QColor(ACCENT))
    painter.setFont(paint_font(7.5, bold=True))
    painter.setPen(QColor("#ffffff"))
    painter.drawText(
        band,
        Qt.AlignmentFlag.AlignCenter,
        "DRAFT — not signed. This record is not final until it is signed.",
    )
