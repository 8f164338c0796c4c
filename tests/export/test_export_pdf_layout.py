"""The PDF's document is laid out in one pass (pdf._lay_out_once): a long table is laid out as
often as a short one, not again at each of Qt's lazy layout steps, and the record comes out as
`QTextDocument.setHtml` lays it out, page for page and pixel for pixel."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import QImage, QPainter, QTextDocument

from kapsession.export import pdf
from kapsession.export.print_style import geometry
from kapsession.services.export_content import gather

if TYPE_CHECKING:
    from conftest import DemoData  # the `demo_db` fixture's value (tests/export/conftest.py)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app

PAGE = QSizeF(600, 800)
NOW = datetime(2027, 1, 25, 14, 0, tzinfo=UTC)  # the export's time: after every demo session


class CountingDocument(QTextDocument):
    """A document that counts how often each `count://` image is asked for: once or more each
    time the table cell holding it is laid out."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: Counter[str] = Counter()

    def loadResource(self, kind: int, name: QUrl) -> Any:
        self.loads[name.toString()] += 1
        image = QImage(1, 1, QImage.Format.Format_RGB32)
        image.fill(Qt.GlobalColor.white)
        return image


def _tables(count: int, rows: int) -> str:
    """`count` tables of `rows` rows under a repeated header, each with a counted image."""

    def table(index: int) -> str:
        first = f'<tr><td><img src="count://t{index}"/></td><td>first</td></tr>'
        body = "<tr><td>12:01</td><td>Breathing slow and even</td></tr>" * rows
        head = "<thead><tr><th>Time</th><th>Note</th></tr></thead>"
        return f'<table width="100%">{head}{first}{body}</table>'

    return "<p>Notes</p>" + "".join(table(index) for index in range(count))


def _loads_per_table(rows: int) -> list[int]:
    document = CountingDocument()
    document.setPageSize(PAGE)
    pdf._lay_out_once(document, _tables(4, rows))
    assert document.pageCount() >= 1
    return [document.loads[f"count://t{index}"] for index in range(4)]


@pytest.mark.parametrize("rows", [100, 300])
def test_a_long_table_is_laid_out_as_often_as_a_short_one(qapp: object, rows: int) -> None:
    # Given how often the cells of short tables (one page between them) are laid out
    short = _loads_per_table(5)
    assert min(short) >= 1
    # When tables running over many pages are laid out
    long = _loads_per_table(rows)
    # Then each of their cells is laid out as often, not again at each lazy layout step
    assert long == short


def _pages(document: QTextDocument, scale: float = 2.0) -> list[QImage]:
    size = document.pageSize()
    images = []
    for index in range(document.pageCount()):
        image = QImage(
            round(size.width() * scale), round(size.height() * scale), QImage.Format.Format_RGB32
        )
        image.fill(Qt.GlobalColor.white)
        painter = QPainter(image)
        painter.scale(scale, scale)
        top = index * size.height()
        painter.translate(0, -top)
        document.drawContents(painter, QRectF(0, top, size.width(), size.height()))
        painter.end()
        images.append(image)
    return images


@pytest.mark.parametrize("which", ["first", "unsigned"])
def test_the_record_looks_as_set_html_lays_it_out(
    qapp: object, demo_db: DemoData, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    # Given a demo session's record, with a chart, on the A4 body
    session = {"first": demo_db.first, "unsigned": demo_db.unsigned}[which]
    content = gather(demo_db.context.database, session.id, exported_at=NOW)
    body = geometry("A4").body
    chart = QImage(1200, 432, QImage.Format.Format_RGB32)
    chart.fill(Qt.GlobalColor.darkCyan)
    page = QSizeF(body.width(), body.height())

    # When its document is laid out in one pass, and again as setHtml lays it out
    once = pdf.record_document(content, clinic="Room 2", page_size=page, chart=chart)
    monkeypatch.setattr(pdf, "_lay_out_once", lambda document, html: document.setHtml(html))
    reference = pdf.record_document(content, clinic="Room 2", page_size=page, chart=chart)

    # Then both hold the same text on the same pages, drawn alike to the pixel
    assert once.toPlainText() == reference.toPlainText()
    assert once.pageCount() == reference.pageCount() > 1
    for number, (mine, theirs) in enumerate(
        zip(_pages(once), _pages(reference), strict=True), start=1
    ):
        assert mine == theirs, f"page {number} differs"
