"""The session record as a document: the blocks Markdown, plain text and the PDF's HTML are
written from.

ExportContent → `RecordRows` (`record_rows.py`: the record walked once, every entry in order
with its correction state) → blocks, in one of two layouts: the note for the EHR
(`note_blocks.py`) and the printed record (`print_record.py` with `print_blocks.py`) → a
renderer, which never looks at the content: `document_text.py` (Markdown and plain text, both
from the note's blocks) and `document_html.py` (the PDF's HTML). Blocks hold text, never
markup: what a format shows its own way is data here, and each renderer decides how it looks —
emphasis (`Emphasis.ALERT`: the accent colour in print), a column's width and alignment, a
row's correction state (`EntryState`: an amended or withdrawn row is struck through in print).
What a renderer has no means for, it leaves out: a figure or a page break in Markdown,
emphasis in the note for the EHR.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from kapsession.domain.corrections import EntryState


class Emphasis(enum.StrEnum):
    STRONG = "strong"  # bold
    ALERT = "alert"  # needs attention: an alerting value, a correction's label
    DRAFT = "draft"  # the record is not signed yet
    SMALL = "small"  # secondary: a legend, who wrote it
    MUTED = "muted"  # grey: nothing to show, a blank
    FAINT = "faint"  # lighter still: the music in the timeline
    STRUCK = "struck"  # taken back: struck through
    KICKER = "kicker"  # the small line above the title


@dataclass(frozen=True, slots=True)
class Span:
    """Text with an emphasis; spans nest (a struck entry with a muted detail inside)."""

    parts: Text
    emphasis: Emphasis


@dataclass(frozen=True, slots=True)
class Break:
    """A line break inside a paragraph or a cell."""


BREAK = Break()
Inline: TypeAlias = "str | Span | Break"
Text: TypeAlias = tuple[Inline, ...]


def span(emphasis: Emphasis, *parts: Inline) -> Span:
    return Span(tuple(parts), emphasis)


def lines(text: str) -> Text:
    """Lines of text (a note as staff wrote it), broken where they break."""
    out: list[Inline] = []
    for index, line in enumerate(text.split("\n")):
        if index:
            out.append(BREAK)
        out.append(line)
    return tuple(out)


def joined(parts: Iterable[Text], separator: Text = (BREAK,)) -> Text:
    """Texts one after another with `separator` between them; empty ones left out."""
    out: list[Inline] = []
    for part in parts:
        if not part:
            continue
        if out:
            out.extend(separator)
        out.extend(part)
    return tuple(out)


def plain(text: Text | str) -> str:
    """The text without its emphasis, a line break as a newline."""
    if isinstance(text, str):
        return text
    return "".join(
        part if isinstance(part, str) else "\n" if isinstance(part, Break) else plain(part.parts)
        for part in text
    )


class Align(enum.StrEnum):
    START = "start"
    END = "end"  # numbers
    CENTER = "center"  # scores


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: int | None = None  # percent of the table's width; None: what is left
    align: Align = Align.START


@dataclass(frozen=True, slots=True)
class Cell:
    text: Text
    emphasis: tuple[Emphasis, ...] = ()
    span: int = 1  # columns it takes
    strike: bool = True  # struck through when the row's entry is amended or withdrawn


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]
    state: EntryState = EntryState.STANDING


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: Text


# --- blocks -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Heading:
    level: int  # 1: the document's title; 3: a part of a section
    text: str


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of the record. `table_head`: the title (and `intro`) are header rows of
    the first block, a table, so in print they repeat over every page the table runs onto."""

    title: str
    blocks: tuple[Block, ...]
    intro: Text = ()
    table_head: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """What must not be missed (a draft): a quote in Markdown, the accent colour in print."""

    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: Text
    emphasis: Emphasis | None = None
    gap_before: bool = False  # a little more space above it
    runs_on: bool = False  # no space below it: the next paragraph continues its text


@dataclass(frozen=True, slots=True)
class Fields:
    """Labelled values, `per_row` pairs on a line in print with `widths` (percent, label and
    value of each pair in turn); `state`: the entry they describe, struck when taken back."""

    items: tuple[Field, ...]
    per_row: int = 1
    widths: tuple[int | None, ...] = ()
    state: EntryState = EntryState.STANDING


@dataclass(frozen=True, slots=True)
class Table:
    """Rows under column titles. `lead`: in plain text these first cells name the row and the
    others follow as "Title: value"."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    lead: int = 1


@dataclass(frozen=True, slots=True)
class Entry:
    """A note: written by us (`head`: time, place in the session, author), what the record
    says about it (`status`: amended, withdrawn, late) and the text exactly as written."""

    head: str
    status: str
    text: str
    state: EntryState = EntryState.STANDING


@dataclass(frozen=True, slots=True)
class Lines:
    """One-line items: a list in Markdown."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """An image the renderer knows by `source` (the vitals chart), `width` × `height` layout
    units, its caption above it."""

    source: str
    width: float
    height: float
    caption: str


@dataclass(frozen=True, slots=True)
class Gap:
    """A little space between two blocks of one section."""


@dataclass(frozen=True, slots=True)
class PageBreak:
    """What follows starts a page (in print)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """The line between the record and its footer."""


Block: TypeAlias = (
    "Heading | Section | Notice | Paragraph | Fields | Table | Entry | Lines | Figure | Gap"
    " | PageBreak | Rule"
)


@dataclass(frozen=True, slots=True)
class Document:
    blocks: tuple[Block, ...]
