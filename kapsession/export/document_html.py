"""A document as HTML for QTextDocument (the PDF's body).

Qt's rich text takes only a subset of HTML and CSS, and how it breaks pages follows from the
markup: a section's title is the header row of a table (a one-cell table around the section,
or the section's own table), so it moves to the next page with the section's first line
rather than staying behind at a page's foot, and is repeated over the rest of a section that
runs onto another page. Emphasis becomes a class of `STYLESHEET`; a row of an amended or
withdrawn entry is struck through, but for its cells that say why (`Cell.strike` false).
"""

from __future__ import annotations

import functools
import html as html_text

from kapsession.domain.corrections import EntryState
from kapsession.export.document import (
    Align,
    Block,
    Break,
    Column,
    Document,
    Emphasis,
    Entry,
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
    Text,
    lines,
)
from kapsession.export.print_style import (
    ACCENT,
    BODY_PT,
    FILL,
    GREY,
    INK,
    LIGHT_GREY,
    RULE,
    TABLE_PT,
)

STYLESHEET = f"""
body {{ color: {INK}; font-size: {BODY_PT}pt; }}
p {{ margin-top: 0px; margin-bottom: 4px; }}
p.title {{ font-size: 16pt; font-weight: 600; margin-top: 1px; margin-bottom: 6px; }}
p.subsection {{ font-size: 10pt; font-weight: 600; margin-top: 7px; margin-bottom: 1px; }}
table.grid {{ border-collapse: collapse; margin-bottom: 3px; font-size: {TABLE_PT}pt; }}
table.grid th {{ font-size: 7pt; font-weight: 600; color: {GREY}; text-align: left;
  padding: 2px 4px 2px 4px; border-bottom: 1px solid #8f9297; background-color: {FILL}; }}
table.grid td {{ padding: 2px 4px 2px 4px; border-bottom: 1px solid {RULE}; vertical-align: top; }}
table.grid td.title {{ font-size: 11.5pt; font-weight: 600; padding: 14px 0px 4px 0px;
  border-bottom: 0px; background-color: #ffffff; color: {INK}; }}
table.section {{ margin-bottom: 2px; }}
table.section td {{ padding: 0px; vertical-align: top; }}
table.section td.title {{ font-size: 11.5pt; font-weight: 600; padding: 14px 0px 4px 0px; }}
table.section td.caption {{ font-size: 7.5pt; color: {GREY}; padding: 8px 0px 3px 0px; }}
table.grid td.intro {{ font-size: 7.5pt; color: {GREY}; padding: 0px 0px 4px 0px;
  border-bottom: 0px; }}
table.facts {{ font-size: {TABLE_PT}pt; }}
table.facts td {{ padding: 1px 8px 1px 0px; vertical-align: top; }}
td.label {{ color: {GREY}; font-size: 7.5pt; padding-top: 2px; }}
td.num {{ text-align: right; }}
th.num {{ text-align: right; }}
td.score {{ text-align: center; }}
th.score {{ text-align: center; }}
.small {{ font-size: 7.5pt; color: {GREY}; }}
td.small {{ font-size: {TABLE_PT}pt; color: {GREY}; }}
.faint {{ color: {LIGHT_GREY}; }}
.muted {{ color: {GREY}; }}
.flag {{ color: {ACCENT}; font-weight: 600; }}
.struck {{ color: {LIGHT_GREY}; text-decoration: line-through; }}
.kicker {{ font-size: 7.5pt; color: {GREY}; font-weight: 600; }}
.draft {{ color: {ACCENT}; font-weight: 600; }}
"""

_CLASSES = {
    Emphasis.ALERT: "flag",
    Emphasis.DRAFT: "draft",
    Emphasis.SMALL: "small",
    Emphasis.MUTED: "muted",
    Emphasis.FAINT: "faint",
    Emphasis.STRUCK: "struck",
    Emphasis.KICKER: "kicker",
}
_ALIGN_CLASSES = {Align.START: "", Align.END: "num", Align.CENTER: "score"}


def esc(text: object) -> str:
    return html_text.escape(str(text), quote=True)


def html(document: Document) -> str:
    return f"<html><body>{''.join(_block(b) for b in document.blocks)}</body></html>"


def inline(text: Text) -> str:
    if len(text) == 1 and isinstance(text[0], str):
        return esc(text[0])  # most cells: one piece of plain text
    out = []
    for part in text:
        if isinstance(part, str):
            out.append(esc(part))
        elif isinstance(part, Break):
            out.append("<br/>")
        elif part.emphasis is Emphasis.STRONG:
            out.append(f"<b>{inline(part.parts)}</b>")
        else:
            out.append(f'<span class="{_CLASSES[part.emphasis]}">{inline(part.parts)}</span>')
    return "".join(out)


def _class(*names: str) -> str:
    classes = " ".join(n for n in names if n)
    return f' class="{classes}"' if classes else ""


_PARAGRAPH_MARGINS = (("margin-top: 5px;", "gap_before"), ("margin-bottom: 0px;", "runs_on"))


def _block(block: Block) -> str:
    if isinstance(block, Section):
        return _section(block)
    if isinstance(block, Heading):
        return f'<p class="{"title" if block.level == 1 else "subsection"}">{esc(block.text)}</p>'
    if isinstance(block, Notice):
        return f'<p class="draft">{esc(block.text)}</p>'
    if isinstance(block, Paragraph):
        css = _class(_CLASSES[block.emphasis] if block.emphasis else "")
        margins = [m for m, on in _PARAGRAPH_MARGINS if getattr(block, on)]
        style = f' style="{" ".join(margins)}"' if margins else ""
        return f"<p{css}{style}>{inline(block.text) or '&nbsp;'}</p>"
    if isinstance(block, Fields):
        return _fields(block)
    if isinstance(block, Table):
        return _grid(block)
    if isinstance(block, Entry):
        return _entry(block)
    if isinstance(block, Lines):
        return "<p>" + "<br/>".join(esc(line) for line in block.lines) + "</p>"
    if isinstance(block, Figure):
        return _figure(block)
    if isinstance(block, Gap):
        return '<p style="margin: 2px;"></p>'
    if isinstance(block, PageBreak):
        return '<p style="page-break-before: always; margin: 0px;"></p>'
    if isinstance(block, Rule):
        return "<hr/>"
    raise TypeError(f"not a block: {block!r}")


def _section(section: Section) -> str:
    """A titled section: the title and intro in the head of its table (`table_head`), or in
    the head of a one-cell table around it."""
    if section.table_head:
        table, *rest = section.blocks
        if not isinstance(table, Table):
            raise TypeError(f"section {section.title!r}: its title heads a table, not {table!r}")
        return _grid(table, section.title, section.intro) + "".join(_block(b) for b in rest)
    body = "".join(_block(b) for b in section.blocks)
    intro = f'<p class="small">{inline(section.intro)}</p>' if section.intro else ""
    return (
        '<table class="section" width="100%" cellspacing="0" cellpadding="0">'
        f'<thead><tr><td class="title">{esc(section.title)}</td></tr></thead>'
        f"<tr><td>{intro}{body}</td></tr></table>"
    )


def _grid(table: Table, title: str = "", intro: Text = ()) -> str:
    """A table with light rules. The section's title and intro, given, are header rows too:
    they repeat with the column titles on every page the table runs onto."""
    head = "".join(_th(column) for column in table.columns)
    span = len(table.columns)
    top = f'<tr><td class="title" colspan="{span}">{esc(title)}</td></tr>' if title else ""
    if intro:
        top += f'<tr><td class="intro" colspan="{span}">{inline(intro)}</td></tr>'
    body = "".join(_row(table.columns, row) for row in table.rows)
    return (
        '<table class="grid" width="100%" cellspacing="0" cellpadding="0">'
        f"<thead>{top}<tr>{head}</tr></thead>{body}</table>"
    )


def _width(percent: int | None) -> str:
    return f' width="{percent}%"' if percent is not None else ""


def _th(column: Column) -> str:
    return (
        f"<th{_width(column.width)}{_class(_ALIGN_CLASSES[column.align])}>{esc(column.title)}</th>"
    )


def _row(columns: tuple[Column, ...], row: Row) -> str:
    cells = []
    index = 0
    standing = row.state is EntryState.STANDING
    for cell in row.cells:
        align = columns[index].align if index < len(columns) else Align.START
        struck = cell.strike and not standing
        cells.append(f"<td{_td_attributes(cell.span, align, cell.emphasis, struck)}>")
        cells.append(inline(cell.text))
        cells.append("</td>")
        index += cell.span
    return "<tr>" + "".join(cells) + "</tr>"


@functools.cache
def _td_attributes(span: int, align: Align, emphasis: tuple[Emphasis, ...], struck: bool) -> str:
    classes = [_ALIGN_CLASSES[align], *(_CLASSES[e] for e in emphasis), "struck" if struck else ""]
    colspan = f' colspan="{span}"' if span > 1 else ""
    return colspan + _class(*classes)


def _fields(fields: Fields) -> str:
    """Labels in grey beside their values, `per_row` pairs a line."""
    struck = _class("struck" if fields.state is not EntryState.STANDING else "")
    widths = [*fields.widths, *([None] * (2 * fields.per_row - len(fields.widths)))]
    rows = []
    items = fields.items
    for start in range(0, len(items), fields.per_row):
        cells = []
        for place, field in enumerate(items[start : start + fields.per_row]):
            label, value = widths[2 * place], widths[2 * place + 1]
            cells.append(
                f'<td class="label"{_width(label)}>{esc(field.label)}</td>'
                f"<td{_width(value)}{struck}>{inline(field.value)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="facts" width="100%" cellspacing="0">{"".join(rows)}</table>'


def _entry(entry: Entry) -> str:
    status = f' <span class="small">[{esc(entry.status)}]</span>' if entry.status else ""
    text = inline(lines(entry.text))
    if entry.state is not EntryState.STANDING:
        text = f'<span class="struck">{text}</span>'
    return f"<p><b>{esc(entry.head)}</b>{status}<br/>{text}</p>"


def _figure(figure: Figure) -> str:
    """An image with its caption above it, kept together on one page."""
    image = (
        f'<img src="{esc(figure.source)}" width="{figure.width:.0f}" height="{figure.height:.0f}"/>'
    )
    return (
        '<table class="section" width="100%" cellspacing="0" cellpadding="0">'
        f'<thead><tr><td class="caption">{esc(figure.caption)}</td></tr></thead>'
        f"<tr><td>{image}</td></tr></table>"
    )
