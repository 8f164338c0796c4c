"""The session record as a PDF: QTextDocument for the body, painted page by page on a
QPdfWriter so every page gets its running header, "Page n of m", the confidentiality footer
and, for an unsigned session, the DRAFT mark.

The vitals chart is drawn by the caller (the UI layer owns the chart):
`chart(width_px, height_px) -> QImage` at print resolution (300 dpi for the body's width).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, QSizeF, QUrl
from PySide6.QtGui import QImage, QPainter, QTextCursor, QTextDocument

from kapsession.export.content import ExportContent
from kapsession.export.document_html import STYLESHEET, html
from kapsession.export.print_record import CHART_URL, print_document
from kapsession.export.print_style import (
    BODY_PT,
    PX_PER_INCH,
    WRITER_DPI,
    Decoration,
    font,
    geometry,
    pdf_bytes,
    require_gui_application,
)
from kapsession.export.times import day_text

ChartCallback = Callable[[int, int], QImage]
CHART_ASPECT = 0.36  # height / width of the chart on the page
DARK_BACKGROUND_BELOW = 110  # a chart drawn for the dark room theme: redrawn light for paper


def to_pdf(
    content: ExportContent,
    *,
    page: str = "A4",
    chart: ChartCallback | None = None,
    clinic: str = "",
) -> bytes:
    """The whole record of one participant's session, on A4 or US Letter ("A4" | "Letter")."""
    require_gui_application()
    shape = geometry(page)
    body = shape.body
    image = None
    if chart is not None:
        scale = WRITER_DPI / PX_PER_INCH
        width, height = body.width(), round(body.width() * CHART_ASPECT)
        image = print_ready(chart(round(width * scale), round(height * scale)))
    document = record_document(
        content, clinic=clinic, page_size=QSizeF(body.width(), body.height()), chart=image
    )
    count = document.pageCount()

    def paint(painter: QPainter, index: int) -> None:
        top = index * body.height()
        painter.translate(body.left(), body.top() - top)
        document.drawContents(painter, QRectF(0, top, body.width(), body.height()))

    client = content.participant.client
    started = content.session.started_at or content.session.created_at
    number = content.participant.session_number
    header_left = " · ".join(
        p
        for p in (
            client.full_name,
            client.record_number or "",
            f"session {number}" if number else "",
            day_text(started),
        )
        if p
    )
    title = f"Session record: {client.full_name}, {day_text(started)}"
    header_right = "Session record" + (f" · {clinic.strip()}" if clinic.strip() else "")
    return pdf_bytes(
        page,
        title + (" (DRAFT)" if content.draft else ""),
        count,
        paint,
        Decoration(header_left=header_left, header_right=header_right, draft=content.draft),
    )


def record_document(
    content: ExportContent,
    *,
    clinic: str = "",
    page_size: QSizeF,
    chart: QImage | None = None,
) -> QTextDocument:
    """The record paginated into bodies of `page_size`, in layout units (96 per inch) whatever
    the screen's resolution; `chart` (at print resolution) fills the body's width."""
    document = QTextDocument()
    layout_device = QImage(1, 1, QImage.Format.Format_RGB32)
    dots_per_metre = round(PX_PER_INCH / 0.0254)
    layout_device.setDotsPerMeterX(dots_per_metre)
    layout_device.setDotsPerMeterY(dots_per_metre)
    document.documentLayout().setPaintDevice(layout_device)
    document.setProperty("layoutDevice", layout_device)  # kept alive with the document
    document.setDocumentMargin(0)
    document.setDefaultFont(font(BODY_PT))
    document.setDefaultStyleSheet(STYLESHEET)
    document.setPageSize(page_size)
    chart_size = None
    if chart is not None:
        width = page_size.width()
        chart_size = (width, width * chart.height() / max(chart.width(), 1))
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(CHART_URL), chart)
    _lay_out_once(document, html(print_document(content, clinic, chart_size)))
    return document


def _lay_out_once(document: QTextDocument, html: str) -> None:
    """Fill the paginated `document` with `html`, laid out in one pass.

    `setHtml` starts Qt's lazy layout, which resumes each of its steps from the checkpoint
    before the last one: every long table (the notes, the timeline, the music) was laid out
    twice, or three times, and from twice a full session's entries on the export took 2.7x as
    long for 2x the content. An insertion into a document already laid out is laid out at once,
    to the end: so the empty document is laid out first and the record inserted into it.
    """
    document.setUndoRedoEnabled(False)  # as setHtml: no undo history of the import
    document.pageCount()
    QTextCursor(document).insertHtml(html)


def print_ready(image: QImage) -> QImage:
    """A chart drawn in the dark room theme, turned into ink on white for paper.

    The colours are inverted and stretched so the dark panel becomes white and light strokes
    become dark ones of the opposite hue (sand bars print navy, the lavender line green): the
    marks stay distinct and print with little ink. A chart already drawn light is kept as is.
    """
    if image.isNull():
        return image
    corner = image.pixelColor(1, 1)
    if corner.lightness() >= DARK_BACKGROUND_BELOW:
        return image
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    background = 255 - max(corner.red(), corner.green(), corner.blue())
    table = bytes(min(255, round((255 - v) * 255 / max(background, 1))) for v in range(256))
    data = bytes(rgb.constBits()).translate(table)
    out = QImage(data, rgb.width(), rgb.height(), rgb.bytesPerLine(), QImage.Format.Format_RGB888)
    return out.copy()  # own the pixels: `data` goes out of scope
