"""The three renderers of the document model on small documents: Markdown and plain text (the
note for the EHR) and HTML (the PDF's body), including how Qt's rich text reads that HTML back:
an amended row struck through but for the cell that says why, an alert in the accent colour."""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QColor, QTextCursor, QTextDocument

from kapsession.domain.corrections import EntryState
from kapsession.export.document import (
    BREAK,
    Align,
    Cell,
    Column,
    Document,
    Emphasis,
    Entry,
    Field,
    Fields,
    Figure,
    Gap,
    Heading,
    Lines,
    Notice,
    PageBreak,
    Paragraph,
    Row,
    Rule,
    Section,
    Table,
    joined,
    lines,
    plain,
    span,
)
from kapsession.export.document_html import STYLESHEET, html
from kapsession.export.document_text import markdown, plain_text
from kapsession.export.print_style import ACCENT

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before pytest-qt makes the app


def cells(*texts: str) -> tuple[Cell, ...]:
    return tuple(Cell((t,)) for t in texts)


READINGS = Table(
    (Column("Time", 7), Column("T+", 7), Column("Check-in"), Column("BP", 10, Align.END)),
    (
        Row(cells("14:05", "T+40", "REMS BP at 40 minutes", "185/102")),
        Row(cells("14:20", "", "Unscheduled")),
    ),
    lead=3,
)


# --- the text of a document -----------------------------------------------------------------------


def test_text_helpers_keep_lines_and_drop_empty_parts() -> None:
    # Given a note of two lines and texts of which one is empty
    note = lines("first line\nsecond")
    # When they are joined and read back as plain text
    text = joined([note, (), (span(Emphasis.SMALL, "by ", span(Emphasis.STRONG, "Ana")),)])
    # Then the lines stay lines, the empty text adds no break, emphasis leaves only its words
    assert plain(text) == "first line\nsecond\nby Ana"


# --- Markdown -------------------------------------------------------------------------------------


def test_markdown_writes_each_block_kind() -> None:
    # Given a document with a heading, a notice, fields, a section with a table, a list and a rule
    document = Document(
        (
            Heading(1, "Session record: Ana"),
            Notice("DRAFT — not signed"),
            Fields((Field("Client", (span(Emphasis.STRONG, "Ana"),)), Field("Room", ("2",)))),
            Section("Vital signs", (READINGS, Lines(("14:05 Marker", "14:10 Dose")))),
            Rule(),
            Paragraph(("Exported.",)),
        )
    )
    # When it is written as Markdown
    md = markdown(document)
    # Then each block is its Markdown form, blocks apart by a blank line, emphasis left out
    assert md == (
        "# Session record: Ana\n\n"
        "> **DRAFT — not signed**\n\n"
        "- **Client:** Ana\n- **Room:** 2\n\n"
        "## Vital signs\n\n"
        "| Time | T+ | Check-in | BP |\n"
        "| --- | --- | --- | --- |\n"
        "| 14:05 | T+40 | REMS BP at 40 minutes | 185/102 |\n"
        "| 14:20 |  | Unscheduled |  |\n\n"
        "- 14:05 Marker\n- 14:10 Dose\n\n"
        "---\n\n"
        "Exported.\n"
    )


def test_markdown_escapes_only_what_would_break_the_document() -> None:
    # Given staff's text that looks like Markdown structure, in a paragraph, a cell and an entry
    text = "# not a heading\n<b>not html</b> & *kept*\n---"
    document = Document(
        (
            Paragraph((text,)),
            Table((Column("Note"),), (Row(cells("a | b\nc")),)),
            Entry("14:05 · T+3 — Ana", "amended — typo", "line one\nline two", EntryState.AMENDED),
        )
    )
    # When it is written as Markdown
    md = markdown(document)
    # Then headings, rules and tags are escaped, lines end in hard breaks, the rest is as typed
    assert "\\# not a heading  \n\\<b>not html\\</b> & *kept*  \n\\---\n" in md
    assert "| a \\| b<br>c |" in md
    assert "**14:05 · T+3 — Ana** [amended — typo]  \nline one  \nline two\n" in md


def test_markdown_leaves_out_what_only_print_has() -> None:
    # Given a figure, a gap and a page break between two paragraphs
    document = Document(
        (
            Paragraph(("before",)),
            Figure("kapsession://vitals-chart", 600, 200, "The chart"),
            Gap(),
            PageBreak(),
            Paragraph(("after",)),
        )
    )
    # When it is written as Markdown and as plain text, then only the paragraphs are there
    assert markdown(document) == plain_text(document) == "before\n\nafter\n"


# --- plain text -----------------------------------------------------------------------------------


def test_plain_text_writes_a_table_row_as_one_line() -> None:
    # Given a section with a table whose first three cells name the row, one row's BP empty
    table = Table(
        READINGS.columns, (*READINGS.rows, Row(cells("14:30", "T+65", "Unscheduled", ""))), 3
    )
    document = Document((Section("Vital signs", (table,)), Rule(), Paragraph(("Exported.",))))
    # When it is written as plain text
    text = plain_text(document)
    # Then the title is in capitals, each row one line: its name, then "Title: value" of the
    # cells that are not empty; the rule is only the blank line before the footer
    assert text == (
        "VITAL SIGNS\n\n"
        "14:05 · T+40 · REMS BP at 40 minutes — BP: 185/102\n"
        "14:20 · Unscheduled\n"
        "14:30 · T+65 · Unscheduled\n\n"
        "Exported.\n"
    )


def test_plain_text_writes_fields_and_entries_as_lines() -> None:
    # Given fields, an entry with its status and one without
    document = Document(
        (
            Fields((Field("Client", ("Ana",)), Field("Nurse", ("Tom",)))),
            Entry("14:05 — Ana", "late entry, written 14:30", "Calm.\nAsleep."),
            Entry("14:40 — Ana", "", "Awake."),
        )
    )
    # When it is written as plain text, then each is its lines as written
    assert plain_text(document) == (
        "Client: Ana\nNurse: Tom\n\n"
        "14:05 — Ana [late entry, written 14:30]\nCalm.\nAsleep.\n\n"
        "14:40 — Ana\nAwake.\n"
    )


# --- HTML -----------------------------------------------------------------------------------------


def test_html_escapes_text_and_writes_emphasis_as_classes() -> None:
    # Given a paragraph with staff's text and nested emphasis
    text = (
        'a <b> & "quote"',
        BREAK,
        span(Emphasis.STRUCK, "old ", span(Emphasis.MUTED, "— detail")),
        span(Emphasis.STRONG, "56 mg"),
        span(Emphasis.ALERT, "Amended:"),
    )
    # When the document is written as HTML
    out = html(Document((Paragraph(text, Emphasis.SMALL, gap_before=True),)))
    # Then the text is escaped, breaks are <br/>, emphasis nests as spans (strong as <b>)
    assert out == (
        '<html><body><p class="small" style="margin-top: 5px;">'
        "a &lt;b&gt; &amp; &quot;quote&quot;<br/>"
        '<span class="struck">old <span class="muted">— detail</span></span>'
        '<b>56 mg</b><span class="flag">Amended:</span></p></body></html>'
    )


def test_html_paragraphs_that_run_on_have_no_space_below() -> None:
    # Given a text in two paragraphs, the first running on into the second, then one more
    blocks = (
        Paragraph(("line one", BREAK, "line two"), runs_on=True),
        Paragraph(("line three",), gap_before=True, runs_on=True),
        Paragraph(("apart",)),
    )
    # When the document is written as HTML
    out = html(Document(blocks))
    # Then those that run on have no margin below, the last its usual one
    assert out == (
        '<html><body><p style="margin-bottom: 0px;">line one<br/>line two</p>'
        '<p style="margin-top: 5px; margin-bottom: 0px;">line three</p>'
        "<p>apart</p></body></html>"
    )


def test_html_table_carries_widths_alignment_and_the_rows_state() -> None:
    # Given a table whose second row was amended: its reason cell is not to be struck, and an
    # event row whose label spans two columns
    table = Table(
        (Column("Time", 7), Column("Label", 20), Column("BP", 10, Align.END), Column("")),
        (
            Row(
                (
                    *cells("14:05", "Check-in", "185/102"),
                    Cell(("why",), (Emphasis.SMALL,), strike=False),
                ),
                EntryState.AMENDED,
            ),
            Row((Cell(("14:10",)), Cell(("Device given",), (Emphasis.ALERT,), span=2), Cell(()))),
        ),
    )
    # When it is written as HTML
    out = html(Document((table,)))
    # Then the columns carry their widths and alignment, the amended row's cells are struck
    # but for the reason, and a cell after one spanning two columns takes the next column's
    assert (
        '<th width="7%">Time</th><th width="20%">Label</th><th width="10%" class="num">BP</th>'
        "<th></th>"
    ) in out
    assert (
        '<tr><td class="struck">14:05</td><td class="struck">Check-in</td>'
        '<td class="num struck">185/102</td><td class="small">why</td></tr>'
    ) in out
    assert '<tr><td>14:10</td><td colspan="2" class="flag">Device given</td><td></td></tr>' in out


def test_html_section_title_heads_its_table_or_a_table_of_its_own() -> None:
    # Given a section whose title heads its table (with an intro line and a legend after it),
    # and a section of paragraphs
    grid = Section(
        "Vital signs",
        (READINGS, Paragraph(("RA: on room air.",), Emphasis.SMALL)),
        intro=("Every reading.",),
        table_head=True,
    )
    prose = Section("Session note", (Heading(3, "Plan"), Paragraph(("Rest.",))), intro=("SOAP",))
    # When they are written as HTML
    out = html(Document((grid, prose)))
    # Then the first's title and intro are header rows of its table, the legend follows it
    assert (
        '<thead><tr><td class="title" colspan="4">Vital signs</td></tr>'
        '<tr><td class="intro" colspan="4">Every reading.</td></tr><tr><th width="7%">'
    ) in out
    assert '</table><p class="small">RA: on room air.</p>' in out
    # And the second is a one-cell table headed by its title, its intro a small line first
    assert (
        '<table class="section" width="100%" cellspacing="0" cellpadding="0">'
        '<thead><tr><td class="title">Session note</td></tr></thead><tr><td>'
        '<p class="small">SOAP</p><p class="subsection">Plan</p><p>Rest.</p></td></tr></table>'
    ) in out


def test_a_section_headed_in_its_table_must_open_with_one() -> None:
    # Given a section said to head its table that opens with a paragraph
    section = Section("Doses", (Paragraph(("None.",)),), table_head=True)
    # When it is written as HTML, then it is refused rather than printed without its title
    with pytest.raises(TypeError, match="Doses"):
        html(Document((section,)))


def test_html_fields_pair_labels_with_values_per_row() -> None:
    # Given two pairs of fields a line with their widths, and a withdrawn check's fields
    letterhead = Fields(
        tuple(Field(label, (value,)) for label, value in (("Client", "Ana"), ("Date", "Mon"))),
        per_row=2,
        widths=(13, 34, 11, None),
    )
    check = Fields((Field("Outcome", ("ready",)),), widths=(15, None), state=EntryState.WITHDRAWN)
    # When they are written as HTML
    out = html(Document((letterhead, check)))
    # Then each label sits before its value with the widths given, a withdrawn value struck
    assert (
        '<tr><td class="label" width="13%">Client</td><td width="34%">Ana</td>'
        '<td class="label" width="11%">Date</td><td>Mon</td></tr>'
    ) in out
    assert '<tr><td class="label" width="15%">Outcome</td><td class="struck">ready</td></tr>' in out


def test_html_writes_the_blocks_only_print_has() -> None:
    # Given an empty paragraph (the line above the title), a gap, a page break and a figure
    document = Document(
        (
            Paragraph((), Emphasis.KICKER),
            Gap(),
            PageBreak(),
            Figure("kapsession://vitals-chart", 600.4, 216.2, "BP & HR"),
        )
    )
    # When it is written as HTML
    out = html(document)
    # Then the empty paragraph keeps its line, the page break breaks, the figure has its caption
    # in the head of a table with the image, sized in whole layout units
    assert '<p class="kicker">&nbsp;</p><p style="margin: 2px;"></p>' in out
    assert '<p style="page-break-before: always; margin: 0px;"></p>' in out
    assert '<thead><tr><td class="caption">BP &amp; HR</td></tr></thead>' in out
    assert '<img src="kapsession://vitals-chart" width="600" height="216"/>' in out


def test_html_writes_the_blocks_of_the_note_for_the_ehr() -> None:
    # Given the note's own kinds: a notice, one-line items, a withdrawn entry, a rule
    document = Document(
        (
            Notice("DRAFT"),
            Lines(("14:05 Marker", "14:10 <Dose>")),
            Entry(
                "14:05 — Ana", "withdrawn — wrong client", "Calm.\nAsleep.", EntryState.WITHDRAWN
            ),
            Rule(),
        )
    )
    # When it is written as HTML, then each has its form, the withdrawn entry's text struck
    assert html(document) == (
        '<html><body><p class="draft">DRAFT</p><p>14:05 Marker<br/>14:10 &lt;Dose&gt;</p>'
        '<p><b>14:05 — Ana</b> <span class="small">[withdrawn — wrong client]</span><br/>'
        '<span class="struck">Calm.<br/>Asleep.</span></p><hr/></body></html>'
    )


# --- the HTML as Qt prints it ---------------------------------------------------------------------


def printed(document: Document) -> QTextDocument:
    out = QTextDocument()
    out.setDefaultStyleSheet(STYLESHEET)
    out.setHtml(html(document))
    return out


def format_of(document: QTextDocument, text: str) -> tuple[bool, QColor]:
    """Whether `text` prints struck through, and in which colour."""
    found = document.find(text)
    assert not found.isNull(), text
    at = QTextCursor(document)
    at.setPosition(found.selectionStart() + 1)
    char = at.charFormat()
    return char.fontStrikeOut(), char.foreground().color()


def test_qt_prints_an_amended_row_struck_through_but_its_reason(qapp: object) -> None:
    # Given a table with an amended reading whose reason cell says why, and a standing reading
    table = Table(
        (Column("Time"), Column("BP", align=Align.END), Column("Record")),
        (
            Row(
                (*cells("14:05", "185/102"), Cell(("typed wrong",), strike=False)),
                EntryState.AMENDED,
            ),
            Row(cells("14:20", "128/82", "")),
        ),
    )
    # When Qt lays out its HTML with the print stylesheet
    document = printed(Document((table,)))
    # Then the amended values print struck through, the reason and the standing row do not
    assert format_of(document, "185/102")[0] is True
    assert format_of(document, "14:05")[0] is True
    assert format_of(document, "typed wrong")[0] is False
    assert format_of(document, "128/82")[0] is False


def test_qt_prints_an_alert_in_the_accent_colour(qapp: object) -> None:
    # Given a value that raised an alert beside one that did not
    value = Paragraph((span(Emphasis.ALERT, "185/102"), " and 128/82"))
    document = printed(Document((value,)))
    # When Qt lays it out, then the alerting value is in the accent colour and the other not
    assert format_of(document, "185/102")[1] == QColor(ACCENT)
    assert format_of(document, "128/82")[1] != QColor(ACCENT)
