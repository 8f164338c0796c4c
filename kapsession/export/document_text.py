"""A document as Markdown and as plain text (the note for the EHR).

What staff wrote is kept exactly. In Markdown only what would break the document or bring
something live into it is escaped with a backslash (rendered, the text reads as written): `\\`
itself, `|` (a table cell's end, or a table made in a note; a line break in a cell becomes
`<br>`), a line of a note that would start a heading, a code fence or a horizontal rule, `<`
before a letter (an HTML tag would hide text, an autolink would be live), `[` and `]` (links
and images), and what a GitHub-style renderer links by itself: the `:` of `https://`, the `.`
of `www.` and `@` (e-mail addresses); lines of a note end in two spaces so they stay lines
when rendered. Emphasis, figures, gaps and page breaks are print's: both formats leave them out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kapsession.export.document import (
    Block,
    Document,
    Entry,
    Fields,
    Heading,
    Lines,
    Notice,
    Paragraph,
    Row,
    Rule,
    Section,
    Table,
    plain,
)

# A line that would start a heading, a code fence, a setext underline or a horizontal rule.
_MD_BLOCK_START = re.compile(
    r"^( {0,3})(?=#{1,6}(?:[ \t]|$)|`{3,}|~{3,}|=+[ \t]*$|-+[ \t]*$|(?:[*_-][ \t]*){3,}$)"
)
_MD_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# Links and images, a table's columns, and what GFM links by itself (URLs, www., e-mail).
_MD_LIVE = re.compile(r"[\[\]|@]|(?<=[A-Za-z]):(?=//)|(?<=\bwww)\.", re.IGNORECASE)


def _md_text(text: str) -> str:
    """Staff's text with nothing in it that renders as a tag, link, image or table."""
    tags = _MD_TAG_START.sub(r"\\<", text.replace("\\", "\\\\"))  # a typed \ is a \
    return _MD_LIVE.sub(lambda m: "\\" + m.group(), tags)


def markdown(document: Document) -> str:
    return _joined(_markdown_block(b) for b in document.blocks) + "\n"


def plain_text(document: Document) -> str:
    return _joined(_plain_block(b) for b in document.blocks) + "\n"


def _joined(blocks: Iterable[str]) -> str:
    return "\n\n".join(b for b in blocks if b)


# --- Markdown -----------------------------------------------------------------------------------
def _md_inline(text: str) -> str:
    """Text inside a line we write (a list item, a field): tags escaped, breaks kept."""
    return _md_text(text).replace("\r\n", "\n").replace("\n", "  \n  ")


def _md_cell(text: str) -> str:
    return re.sub(r"\r\n|\r|\n", "<br>", _md_text(text))


def _md_block(text: str) -> str:
    """Staff's text as a paragraph: kept line for line (hard breaks), structure escaped."""
    text_lines = text.split("\n")
    out = []
    for index, line in enumerate(text_lines):
        line = _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\", _md_text(line))
        following = index + 1 < len(text_lines) and text_lines[index + 1].strip()
        out.append(line + "  " if line.strip() and following else line)
    return "\n".join(out)


def _md_table(table: Table) -> str:
    width = len(table.columns)
    out = ["| " + " | ".join(_md_cell(c.title) for c in table.columns) + " |"]
    out.append("|" + "|".join(" --- " for _ in table.columns) + "|")
    for row in table.rows:
        cells = [*_cells(row), *([""] * (width - len(row.cells)))][:width]
        out.append("| " + " | ".join(_md_cell(cell) for cell in cells) + " |")
    return "\n".join(out)


def _markdown_block(block: Block) -> str:
    if isinstance(block, Section):
        head = "## " + _md_inline(block.title)
        intro = _md_block(plain(block.intro)) if block.intro else ""
        return _joined([head, intro, *(_markdown_block(b) for b in block.blocks)])
    if isinstance(block, Heading):
        return "#" * block.level + " " + _md_inline(block.text)
    if isinstance(block, Notice):
        return "> **" + _md_inline(block.text) + "**"
    if isinstance(block, Fields):
        return "\n".join(
            f"- **{field.label}:** {_md_inline(plain(field.value))}" for field in block.items
        )
    if isinstance(block, Table):
        return _md_table(block)
    if isinstance(block, Entry):
        status = f" [{_md_inline(block.status)}]" if block.status else ""
        return f"**{_md_inline(block.head)}**{status}  \n{_md_block(block.text)}"
    if isinstance(block, Lines):
        return "\n".join("- " + _md_inline(line) for line in block.lines)
    if isinstance(block, Paragraph):
        return _md_block(plain(block.text))
    if isinstance(block, Rule):
        return "---"
    return ""  # figures, gaps, page breaks


# --- plain text ---------------------------------------------------------------------------------
def _plain_block(block: Block) -> str:
    if isinstance(block, Section):
        intro = plain(block.intro)
        return _joined([block.title.upper(), intro, *(_plain_block(b) for b in block.blocks)])
    if isinstance(block, Heading):
        return block.text.upper() if block.level == 2 else block.text
    if isinstance(block, Notice):
        return block.text
    if isinstance(block, Fields):
        return "\n".join(f"{field.label}: {plain(field.value)}" for field in block.items)
    if isinstance(block, Table):
        return "\n".join(_plain_row(block, row) for row in block.rows)
    if isinstance(block, Entry):
        status = f" [{block.status}]" if block.status else ""
        return f"{block.head}{status}\n{block.text}"
    if isinstance(block, Lines):
        return "\n".join(block.lines)
    if isinstance(block, Paragraph):
        return plain(block.text)
    return ""  # a blank line is the rule between the record and its footer


def _cells(row: Row) -> list[str]:
    return [plain(cell.text) for cell in row.cells]


def _plain_row(table: Table, row: Row) -> str:
    """A table row as one line: "14:05 · T+40 · REMS BP at 40 minutes — BP (mmHg): 185/102; …"."""
    cells = _cells(row)
    lead = " · ".join(cell for cell in cells[: table.lead] if cell)
    rest = "; ".join(
        f"{column.title}: {cell}"
        for column, cell in zip(table.columns[table.lead :], cells[table.lead :], strict=False)
        if cell
    )
    return f"{lead} — {rest}" if lead and rest else lead or rest
