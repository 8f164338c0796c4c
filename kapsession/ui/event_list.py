"""The event list beside the note pad: everything in the session on one timeline, newest last.

A QListView over Qt's item model, painted by a delegate. Each row's height is worked out once,
when the row is made (and again when the width changes), and kept in its item
(`Qt.SizeHintRole`), so the view lays the list out after a change without calling Python per
row: a new row costs about the same in a session of ten entries or of thousands. (A Python
`sizeHint`, asked for every row after any change, grew with the session; a widget per row would
build and lay out them all.)

What a save added or changed comes in as such (`add_items`): one inserted or changed row, never
a comparison of the whole list or a reset that would lose the reader's place. A whole new list
(`show_items`: on opening, a new participant shown, a dose that moves every T+ time) is diffed
against the rows shown.
"""

from __future__ import annotations

import bisect
import html
import math
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSignalBlocker,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHideEvent,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShowEvent,
    QStandardItem,
    QStandardItemModel,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.corrections import EntryState
from kapsession.records.session_log import LogItem, LogKind, filtered, log_order
from kapsession.ui import theme
from kapsession.ui.formatting import local_time

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the EventRow of a row
ITEM_ROLE = Qt.ItemDataRole.UserRole + 2  # the LogItem of a row

DETAIL_MAX_LINES = 3  # a long note shows its first lines; the tooltip has all of it
CHIP_COLUMNS = 5

# Local shades: the theme's colours, and a few muted ones for the kind tags only.
SELECTED = "#2c3a47"  # the readings table's selection
TAG_BACKGROUND = theme.PANEL_RAISED
DETAIL_TEXT = "#bfbab0"  # between TEXT and TEXT_DIM: the detail reads under its title
KIND_TAGS: Mapping[LogKind, str] = {
    LogKind.SESSION: "Session",
    LogKind.PHASE: "Phase",
    LogKind.DOSE: "Dose",
    LogKind.CHECKIN: "Check-in",
    LogKind.ALERT: "Alert",
    LogKind.NOTE: "Note",
    LogKind.MARKER: "Marker",
    LogKind.MUSIC: "Music",
    LogKind.DISCHARGE: "Discharge",
}
# Adverse events and interventions are listed with the alerts (safety entries, one chip) but
# tagged as what they are; the session log titles them "Adverse event: …", "Intervention: …".
SAFETY_TAGS = (("Adverse event: ", "Adverse event"), ("Intervention: ", "Intervention"))


def kind_tag(item: LogItem) -> str:
    """The tag on a row: its kind's, or for an adverse event or intervention its own."""
    if item.kind is LogKind.ALERT:
        for prefix, tag in SAFETY_TAGS:
            if item.title.startswith(prefix):
                return tag
    return KIND_TAGS.get(item.kind, item.kind.value)


KIND_COLOURS: Mapping[LogKind, str] = {
    LogKind.SESSION: theme.TEXT_DIM,
    LogKind.PHASE: theme.ACCENT,
    LogKind.DOSE: "#a996b8",  # muted mauve
    LogKind.CHECKIN: theme.DONE,
    LogKind.ALERT: theme.OVERDUE,
    LogKind.NOTE: theme.TEXT,
    LogKind.MARKER: "#a9a37c",  # muted olive
    LogKind.MUSIC: "#7f9c9b",  # muted teal
    LogKind.DISCHARGE: theme.TEXT_DIM,
}

STYLE = f"""
QListView#eventList {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};
    border-radius: 6px; outline: none; }}
QListView#eventList:focus {{ border: 2px solid {theme.ACCENT}; }}
QListView#eventList QScrollBar {{ background: {theme.PANEL}; border: none; width: 10px; }}
QListView#eventList QScrollBar::handle {{ background: {theme.BORDER}; border-radius: 4px;
    min-height: 24px; }}
QListView#eventList QScrollBar::add-line, QListView#eventList QScrollBar::sub-line {{
    width: 0px; height: 0px; }}
QListView#eventList QScrollBar::add-page, QListView#eventList QScrollBar::sub-page {{
    background: none; }}
QPushButton#kindChip {{ background: transparent; color: {theme.TEXT_FAINT};
    border: 1px solid {theme.BORDER}; border-radius: 12px; padding: 3px 10px; font-size: 13px; }}
QPushButton#kindChip:checked {{ background: {SELECTED}; color: {theme.TEXT};
    border-color: #3f5468; }}
QPushButton#kindChip:focus {{ border: 2px solid {theme.ACCENT}; padding: 2px 9px; }}
QPushButton#jumpToNow {{ padding: 5px 12px; font-size: 13px; }}
"""


def session_time_text(at: datetime, *, first_dose_at: datetime | None, started_at: datetime) -> str:
    """Minutes from the first dose ("T+32", "T−10" before it), or "0:52" elapsed before one."""
    if first_dose_at is not None:
        since_s = (at - first_dose_at).total_seconds()
        if since_s >= 0:
            return f"T+{math.floor(since_s / 60)}"
        return f"T−{math.ceil(-since_s / 60)}"
    elapsed_min = max(math.floor((at - started_at).total_seconds() / 60), 0)
    return f"{elapsed_min // 60}:{elapsed_min % 60:02d}"


def status_text(item: LogItem) -> str:
    """What the record says about the entry: amended/withdrawn and why, a correction, late."""
    parts = []
    if item.state is EntryState.AMENDED:
        parts.append(f"amended — {item.reason or 'no reason given'}")
    elif item.state is EntryState.WITHDRAWN:
        parts.append(f"withdrawn — {item.reason or 'no reason given'}")
    if item.corrects:
        parts.append("replaces an earlier entry")
    if item.late:
        parts.append(f"written {local_time(item.recorded_at)}")
    return " · ".join(parts)


def _preview(text: str) -> str:
    """The detail without blank lines: three lines of preview should all say something."""
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


@dataclass(frozen=True, eq=False)
class EventRow:
    """One item as shown: the texts worked out once, when the item first appears."""

    item: LogItem
    wall: str  # local wall time, HH:MM
    session: str  # T+32, T−5 or 0:52
    tag: str
    name: str  # the participant, in couples and group sessions
    detail: str  # blank lines dropped
    status: str

    @property
    def key(self) -> tuple[Any, ...]:
        """Which entry this is, whatever its state: to keep the reader's place across updates."""
        i = self.item
        return (i.kind, i.entry_id, i.at, i.recorded_at, i.title)

    @property
    def dimmed(self) -> bool:
        return self.item.state is not EntryState.STANDING

    def text(self) -> str:
        """The whole row in one line, for screen readers and tests."""
        detail = " ".join(self.detail.split())
        parts = (self.wall, self.session, self.tag, self.item.title, self.name, detail, self.status)
        return " · ".join(p for p in parts if p)

    def tooltip(self) -> str:
        lines = [f"<b>{html.escape(self.item.title)}</b>"]
        if self.name:
            lines.append(html.escape(self.name))
        if self.item.detail.strip():
            lines.append(html.escape(self.item.detail.strip()).replace("\n", "<br>"))
        if self.status:
            lines.append(f"<i>{html.escape(self.status)}</i>")
        return "<qt>" + "<br>".join(lines) + "</qt>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EventRow):
            return NotImplemented
        return (
            self.item == other.item
            and self.wall == other.wall
            and self.session == other.session
            and self.name == other.name
        )

    def __hash__(self) -> int:
        return hash((self.item, self.session, self.name))


def build_row(
    item: LogItem,
    *,
    first_dose_at: datetime | None,
    started_at: datetime,
    names: Mapping[uuid.UUID, str],
) -> EventRow:
    """`names`: the participants' names when there is more than one, else empty."""
    name = names.get(item.participant_id, "") if item.participant_id is not None else ""
    return EventRow(
        item=item,
        wall=local_time(item.at),
        session=session_time_text(item.at, first_dose_at=first_dose_at, started_at=started_at),
        tag=kind_tag(item),
        name=name,
        detail=_preview(item.detail),
        status=status_text(item),
    )


def _row_item(row: EventRow, size: QSize) -> QStandardItem:
    item = QStandardItem()
    item.setData(size, Qt.ItemDataRole.SizeHintRole)
    text = row.text()
    item.setData(text, Qt.ItemDataRole.DisplayRole)
    item.setData(text, Qt.ItemDataRole.AccessibleTextRole)
    item.setData(row.tooltip(), Qt.ItemDataRole.ToolTipRole)
    item.setData(row, ROW_ROLE)
    item.setData(row.item, ITEM_ROLE)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    return item


class EventListModel(QStandardItemModel):
    """The rows shown, in time order; changed by the smallest insert, remove or data change.

    Qt's own item model, each item holding its row's height (`measure`), so that the view lays
    out a long list without calling Python for each row; `rows()` mirrors it for lookups by
    time."""

    def __init__(self, measure: Callable[[EventRow], QSize], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[EventRow] = []
        self._measure = measure

    def rows(self) -> Sequence[EventRow]:
        return tuple(self._rows)

    def row(self, row: int) -> EventRow:
        return self._rows[row]

    def reset_rows(self, rows: Sequence[EventRow]) -> None:
        self.clear()
        self._rows = list(rows)
        self.invisibleRootItem().appendRows([_row_item(r, self._measure(r)) for r in self._rows])

    def insert_rows(self, at: int, rows: Sequence[EventRow]) -> None:
        if rows:
            self._rows[at:at] = rows
            self.invisibleRootItem().insertRows(at, [_row_item(r, self._measure(r)) for r in rows])

    def replace_row(self, at: int, row: EventRow) -> None:
        self._rows[at] = row
        self.setItem(at, 0, _row_item(row, self._measure(row)))

    def remove_rows(self, at: int, count: int) -> None:
        if count > 0:
            del self._rows[at : at + count]
            self.removeRows(at, count)

    def set_rows(self, rows: Sequence[EventRow]) -> None:
        """Show these rows, touching only the run between the common head and tail."""
        old, new = self._rows, list(rows)
        shorter = min(len(old), len(new))
        head = 0
        while head < shorter and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < shorter - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        old_end, new_end = len(old) - tail, len(new) - tail
        changed = min(old_end, new_end) - head
        for at in range(head, head + changed):
            self.replace_row(at, new[at])
        start = head + changed
        if new_end > old_end:
            self.insert_rows(start, new[start:new_end])
        elif old_end > new_end:
            self.remove_rows(start, old_end - new_end)

    def remeasure(self) -> None:
        """Every row's height again (the width changed), then one layout change for the view
        instead of a change signal per row."""
        self.layoutAboutToBeChanged.emit()
        with QSignalBlocker(self):
            for at, row in enumerate(self._rows):
                item = self.item(at)
                if item is not None:
                    item.setData(self._measure(row), Qt.ItemDataRole.SizeHintRole)
        self.layoutChanged.emit()

    def position_of(self, row: EventRow) -> int:
        """Where a row with this row's time belongs (after those of the same time)."""
        return bisect.bisect_right(self._rows, log_order(row.item), key=_row_order)

    def find(self, item: LogItem) -> int | None:
        """The row showing this item; the newest are searched first."""
        for at in range(len(self._rows) - 1, -1, -1):
            if self._rows[at].item == item:
                return at
        return None


def _row_order(row: EventRow) -> tuple[Any, ...]:
    return log_order(row.item)


def wrap_lines(
    text: str, font: QFont, first_px: int, rest_px: int, max_lines: int
) -> tuple[str, ...]:
    """`text` broken to the widths (the first line may be shorter), at most `max_lines`, the
    last one ending "…" when the text goes on."""
    if not text or min(first_px, rest_px) <= 0:
        return ()
    shaped = text.replace("\n", "\u2028")  # QTextLayout breaks only on the line separator
    layout = QTextLayout(shaped, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    layout.beginLayout()
    starts: list[int] = []
    while len(starts) <= max_lines:  # one more than shown, to know whether to cut
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(first_px if not starts else rest_px)
        starts.append(line.textStart())
    layout.endLayout()
    ends = [*starts[1:], len(shaped)]
    lines = [shaped[s:e].replace("\u2028", "").rstrip() for s, e in zip(starts, ends, strict=True)]
    if len(lines) <= max_lines:
        return tuple(lines)
    rest = shaped[starts[max_lines - 1] :].replace("\u2028", " ")
    width_px = first_px if max_lines == 1 else rest_px
    last = QFontMetrics(font).elidedText(rest, Qt.TextElideMode.ElideRight, width_px)
    return (*lines[: max_lines - 1], last)


class _Fonts:
    """The fonts of a row, from the view's font (the room stylesheet sets its size)."""

    def __init__(self, base: QFont) -> None:
        def sized(px: int, *, bold: bool = False) -> QFont:
            font = QFont(base)
            font.setPixelSize(px)
            font.setBold(bold)
            return font

        self.title = QFont(base)
        self.detail = sized(14)
        self.small = sized(13)
        self.tag = sized(11, bold=True)
        self.title_m = QFontMetrics(self.title)
        self.detail_m = QFontMetrics(self.detail)
        self.small_m = QFontMetrics(self.small)
        self.tag_m = QFontMetrics(self.tag)
        self.gutter_px = max(
            self.title_m.horizontalAdvance("00:00"), self.small_m.horizontalAdvance("T+000")
        )


@dataclass(frozen=True)
class _RowLayout:
    """Where a row's parts go, worked out once per row and width."""

    row: EventRow
    height_px: int
    tag_px: int
    name: str  # elided to fit
    name_px: int
    title: tuple[str, ...]
    detail: tuple[str, ...]
    status: tuple[str, ...]


PAD_X_PX = 10
PAD_Y_PX = 7
GAP_PX = 10  # between the time gutter and the text
TITLE_GAP_PX = 8  # between the kind tag and the title
NAME_GAP_PX = 10  # between the title and the participant's name
LINE_GAP_PX = 3
TAG_PAD_X_PX = 6
TITLE_MAX_LINES = 2
STATUS_MAX_LINES = 2
NAME_SHARE = 0.4  # of the width beside the tag, at most


class EventDelegate(QStyledItemDelegate):
    """Paints a row: time gutter, kind tag, title, participant, detail lines and status."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view
        self._fonts_for: tuple[str, _Fonts] | None = None
        self._layouts: dict[tuple[int, int], _RowLayout] = {}

    def _fonts(self, base: QFont) -> _Fonts:
        key = base.key()
        if self._fonts_for is None or self._fonts_for[0] != key:
            self._fonts_for = (key, _Fonts(base))
            self._layouts.clear()
        return self._fonts_for[1]

    def _layout(self, row: EventRow, fonts: _Fonts, width_px: int) -> _RowLayout:
        """The row broken to this width; cached, as the view asks every row's height."""
        key = (id(row), width_px)
        cached = self._layouts.get(key)
        if cached is not None and cached.row is row:
            return cached
        if len(self._layouts) > 20_000:
            self._layouts.clear()
        content_px = width_px - 2 * PAD_X_PX - fonts.gutter_px - GAP_PX
        tag_px = fonts.tag_m.horizontalAdvance(row.tag) + 2 * TAG_PAD_X_PX
        beside_px = content_px - tag_px - TITLE_GAP_PX
        name, name_px = "", 0
        if row.name:
            limit = max(int(beside_px * NAME_SHARE), 0)
            name = fonts.small_m.elidedText(row.name, Qt.TextElideMode.ElideRight, limit)
            name_px = fonts.small_m.horizontalAdvance(name)
        first_px = beside_px - (name_px + NAME_GAP_PX if name else 0)
        title = wrap_lines(row.item.title, fonts.title, first_px, beside_px, TITLE_MAX_LINES)
        detail = wrap_lines(row.detail, fonts.detail, content_px, content_px, DETAIL_MAX_LINES)
        status = wrap_lines(row.status, fonts.small, content_px, content_px, STATUS_MAX_LINES)
        content = max(len(title), 1) * fonts.title_m.lineSpacing()
        if detail:
            content += LINE_GAP_PX + len(detail) * fonts.detail_m.lineSpacing()
        if status:
            content += LINE_GAP_PX + len(status) * fonts.small_m.lineSpacing()
        gutter = fonts.title_m.height() + fonts.small_m.height()
        layout = _RowLayout(
            row=row,
            height_px=2 * PAD_Y_PX + max(content, gutter),
            tag_px=tag_px,
            name=name,
            name_px=name_px,
            title=title,
            detail=detail,
            status=status,
        )
        self._layouts[key] = layout
        return layout

    def measure(self, row: EventRow) -> QSize:
        """The row's size at the view's width (kept in its item: the view reads it there)."""
        self._view.ensurePolished()  # the room stylesheet sets the font rows are drawn in
        width_px = self._view.viewport().width()
        return QSize(
            width_px, self._layout(row, self._fonts(self._view.font()), width_px).height_px
        )

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, EventRow):
            super().paint(painter, option, index)
            return
        rect: QRect = option.rect
        fonts = self._fonts(option.font)
        layout = self._layout(row, fonts, self._view.viewport().width())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, QColor(SELECTED))
            if self._view.hasFocus():
                stripe = QRect(rect.left(), rect.top(), 3, rect.height())
                painter.fillRect(stripe, QColor(theme.ACCENT))
        painter.setPen(QColor(theme.BORDER))
        painter.drawLine(
            rect.left() + PAD_X_PX, rect.bottom(), rect.right() - PAD_X_PX, rect.bottom()
        )

        dimmed = row.dimmed
        struck = row.item.state is EntryState.WITHDRAWN
        faint = QColor(theme.TEXT_FAINT)
        title_m, detail_m, small_m = fonts.title_m, fonts.detail_m, fonts.small_m
        left = rect.left() + PAD_X_PX
        right = rect.right() - PAD_X_PX
        top = rect.top() + PAD_Y_PX

        # the time gutter: wall time over session time
        painter.setFont(fonts.title)
        painter.setPen(faint if dimmed else QColor(theme.TEXT))
        painter.drawText(QPoint(left, top + title_m.ascent()), row.wall)
        painter.setFont(fonts.small)
        painter.setPen(faint if dimmed else QColor(theme.TEXT_DIM))
        painter.drawText(QPoint(left, top + title_m.height() + small_m.ascent()), row.session)
        x = left + fonts.gutter_px + GAP_PX

        # the kind tag, a quiet pill on the title line
        tag_h = fonts.tag_m.height() + 2
        tag = QRect(x, top + (title_m.height() - tag_h) // 2, layout.tag_px, tag_h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(TAG_BACKGROUND))
        painter.drawRoundedRect(tag, 4, 4)
        painter.setFont(fonts.tag)
        painter.setPen(faint if dimmed else QColor(KIND_COLOURS.get(row.item.kind, theme.TEXT)))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, row.tag)

        # the participant, right-aligned on the title line
        if layout.name:
            painter.setFont(fonts.small)
            painter.setPen(faint if dimmed else QColor(theme.TEXT_DIM))
            baseline = top + title_m.ascent() - (title_m.ascent() - small_m.ascent()) // 2
            painter.drawText(QPoint(right - layout.name_px, baseline), layout.name)

        # the title, wrapped under itself
        title_font = QFont(fonts.title)
        title_font.setStrikeOut(struck)
        painter.setFont(title_font)
        if dimmed:
            painter.setPen(faint)
        elif row.item.kind is LogKind.ALERT:
            painter.setPen(QColor(theme.OVERDUE))
        else:
            painter.setPen(QColor(theme.TEXT))
        title_x = x + layout.tag_px + TITLE_GAP_PX
        y = top
        for line in layout.title or ("",):
            painter.drawText(QPoint(title_x, y + title_m.ascent()), line)
            y += title_m.lineSpacing()

        # the detail, up to a few lines
        if layout.detail:
            detail_font = QFont(fonts.detail)
            detail_font.setStrikeOut(struck)
            painter.setFont(detail_font)
            painter.setPen(faint if dimmed else QColor(DETAIL_TEXT))
            y += LINE_GAP_PX
            for line in layout.detail:
                painter.drawText(QPoint(x, y + detail_m.ascent()), line)
                y += detail_m.lineSpacing()

        # amended/withdrawn and why, a correction, a late entry
        if layout.status:
            status_font = QFont(fonts.small)
            status_font.setItalic(dimmed)
            painter.setFont(status_font)
            painter.setPen(QColor(theme.TEXT_DIM))
            y += LINE_GAP_PX
            for line in layout.status:
                painter.drawText(QPoint(x, y + small_m.ascent()), line)
                y += small_m.lineSpacing()
        painter.restore()


class EventListView(QListView):
    """The list itself: Enter activates the current row, End jumps to the newest."""

    enter_pressed = Signal(QModelIndex)
    end_pressed = Signal()
    width_changed = Signal()  # the rows wrap anew: their heights are measured again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = ""
        self._measured_width = -1

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.viewport().width() != self._measured_width:
            self._measured_width = self.viewport().width()
            self.width_changed.emit()

    def relayout_now(self) -> None:
        """Lay the rows out at once, so the scroll range is right before the view is moved."""
        self.scheduleDelayedItemsLayout()
        self.executeDelayedItemsLayout()

    def top_anchor(self) -> tuple[EventRow, int] | None:
        """The row at the top of the view and how far it is scrolled past."""
        index = self.indexAt(QPoint(1, 1))
        row = index.data(ROW_ROLE)
        return (row, self.visualRect(index).top()) if isinstance(row, EventRow) else None

    def restore_anchor(self, anchor: tuple[EventRow, int], model: EventListModel) -> None:
        """Put the anchor row (or the entry it showed, in a new state) back where it was."""
        row, top_px = anchor
        rows = model.rows()
        for number in range(len(rows) - 1, -1, -1):
            if rows[number] is row or rows[number].key == row.key:
                now_px = self.visualRect(model.index(number, 0)).top()
                bar = self.verticalScrollBar()
                bar.setValue(bar.value() + now_px - top_px)
                return

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.enter_pressed.emit(self.currentIndex())
            event.accept()
            return
        if event.key() == Qt.Key.Key_End:
            self.end_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.model() is not None and self.model().rowCount() == 0 and self.placeholder:
            painter = QPainter(self.viewport())
            painter.setPen(QColor(theme.TEXT_DIM))
            painter.drawText(
                self.viewport().rect().adjusted(16, 16, -16, -16),
                Qt.AlignmentFlag.AlignHCenter
                | Qt.AlignmentFlag.AlignTop
                | Qt.TextFlag.TextWordWrap,
                self.placeholder,
            )
            painter.end()


class EventList(QWidget):
    """The session's events, filterable by kind and participant, following the newest."""

    amend_requested = Signal(object)  # uuid.UUID: Enter or double click on a standing note
    item_activated = Signal(object)  # LogItem: Enter or double click on any row

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(STYLE)
        self._snapshot: tuple[Any, ...] | None = None
        self._participants_shown: tuple[tuple[uuid.UUID, str], ...] | None = None
        self._items: list[LogItem] = []
        self._context: tuple[Any, ...] | None = None
        self._names: dict[uuid.UUID, str] = {}
        self._rows_by_item: dict[LogItem, EventRow] = {}
        self._kinds: set[LogKind] = set(LogKind)
        self._participant_id: uuid.UUID | None = None
        self._following = True
        self._adjusting = 0
        self._placement_pending = False  # rows changed while the list was out of sight
        self._hidden_anchor: tuple[EventRow, int] | None = None

        self._participant = QComboBox()
        self._participant.setAccessibleName("Show events for")
        self._participant.setToolTip("Show one participant's events and the room's, or everyone's")
        self._participant.currentIndexChanged.connect(self._on_participant_chosen)
        self._participant.hide()

        self._chips: dict[LogKind, QPushButton] = {}
        chips = QGridLayout()
        chips.setContentsMargins(0, 0, 0, 0)
        chips.setHorizontalSpacing(6)
        chips.setVerticalSpacing(6)
        for number, kind in enumerate(LogKind):
            chip = QPushButton(kind.label)
            chip.setObjectName("kindChip")
            chip.setCheckable(True)
            chip.setChecked(True)
            chip.setAccessibleName(f"Show {kind.label.lower()}")
            chip.setToolTip(f"Show or hide {kind.label.lower()} in the list")
            chip.toggled.connect(lambda shown, k=kind: self.set_kind_shown(k, shown))
            self._chips[kind] = chip
            chips.addWidget(chip, number // CHIP_COLUMNS, number % CHIP_COLUMNS)

        self._view = EventListView()
        delegate = EventDelegate(self._view)
        self._model = EventListModel(delegate.measure, self)
        self._view.setObjectName("eventList")
        self._view.setAccessibleName("Session events")
        self._view.setAccessibleDescription(
            "Everything in the session in time order, newest last. Enter on a note amends it, "
            "on another entry corrects or withdraws it; End jumps to now."
        )
        self._view.setModel(self._model)
        self._view.setItemDelegate(delegate)
        self._view.width_changed.connect(self._model.remeasure)
        self._view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._view.verticalScrollBar().setSingleStep(24)
        self._view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # always there, so its coming and going never changes the width the rows wrap to
        self._view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._view.setResizeMode(QListView.ResizeMode.Adjust)
        self._view.setUniformItemSizes(False)
        self._view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._view.enter_pressed.connect(self._activate)
        self._view.doubleClicked.connect(self._activate)
        self._view.end_pressed.connect(self.jump_to_now)
        bar = self._view.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

        self._count = QLabel()
        self._count.setObjectName("notice")
        self._jump = QPushButton("Jump to now")
        self._jump.setObjectName("jumpToNow")
        self._jump.setAccessibleName("Jump to now")
        self._jump.setToolTip("Scroll to the newest event and keep following (End in the list)")
        self._jump.clicked.connect(self.jump_to_now)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._participant, 1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self._count, 1)
        bottom.addWidget(self._jump)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addLayout(chips)
        layout.addWidget(self._view, 1)
        layout.addLayout(bottom)
        self._refresh(reset=True)

    # --- what the host calls

    def show_items(
        self,
        items: Sequence[LogItem],
        *,
        first_dose_at: datetime | None,
        started_at: datetime,
        participants: Mapping[uuid.UUID, str],
    ) -> None:
        """Show the session's items; does nothing when they are the ones already shown."""
        snapshot = (tuple(items), first_dose_at, started_at, tuple(participants.items()))
        if snapshot == self._snapshot:
            return
        self._snapshot = snapshot
        names = dict(participants) if len(participants) > 1 else {}
        context = (first_dose_at, started_at, tuple(names.items()))
        if context != self._context:
            self._context = context
            self._rows_by_item.clear()
        self._names = names
        self._participants_shown = tuple(participants.items())
        self._items = sorted(snapshot[0], key=log_order)
        self._update_participant_choice(participants)
        self._refresh(reset=False)

    def add_items(
        self,
        added: Sequence[LogItem],
        replaced: Sequence[tuple[LogItem, LogItem]] = (),
        *,
        first_dose_at: datetime | None,
        started_at: datetime,
        participants: Mapping[uuid.UUID, str],
    ) -> None:
        """Items a save added, and items it changed (before, after): a row inserted or changed
        for each, in its place in time; nothing else is compared or laid out again. When the
        session times or the participants differ from those shown, the whole list is shown."""
        names = dict(participants) if len(participants) > 1 else {}
        context = (first_dose_at, started_at, tuple(names.items()))
        if context != self._context or tuple(participants.items()) != self._participants_shown:
            items = list(self._items)
            self._apply(items, added, replaced)
            self.show_items(
                items, first_dose_at=first_dose_at, started_at=started_at, participants=participants
            )
            return
        changes = self._apply(self._items, added, replaced)
        self._snapshot = None  # the next whole list is compared row by row, not as a whole
        kinds = None if len(self._kinds) == len(LogKind) else self._kinds
        with self._adjusting_view():
            anchor = self._anchor()
            for before, after in changes:
                at = None if before is None else self._model.find(before)
                if not filtered([after], kinds, self._participant_id):
                    if at is not None:
                        self._model.remove_rows(at, 1)
                    continue
                row = self._row_for(after)
                if before is not None and at is not None and log_order(before) == log_order(after):
                    self._model.replace_row(at, row)
                    continue
                if at is not None:
                    self._model.remove_rows(at, 1)
                self._model.insert_rows(self._model.position_of(row), [row])
            self._place(anchor)
        self._update_controls()

    @staticmethod
    def _apply(
        items: list[LogItem],
        added: Sequence[LogItem],
        replaced: Sequence[tuple[LogItem, LogItem]],
    ) -> list[tuple[LogItem | None, LogItem]]:
        """The changes made to `items` (kept in log order), as (before, after) pairs; before is
        None for an item new to the list."""
        changes: list[tuple[LogItem | None, LogItem]] = []
        for before, after in replaced:
            for at in range(len(items) - 1, -1, -1):
                if items[at] == before:
                    del items[at]
                    bisect.insort_right(items, after, key=log_order)
                    changes.append((before, after))
                    break
            else:  # not in the list (yet): it joins as new
                bisect.insort_right(items, after, key=log_order)
                changes.append((None, after))
        for item in added:
            bisect.insort_right(items, item, key=log_order)
            changes.append((None, item))
        return changes

    def jump_to_now(self) -> None:
        """Scroll to the newest event, make it current, and follow new events again."""
        self._following = True
        with self._adjusting_view():
            rows = self._model.rowCount()
            if rows:
                self._view.setCurrentIndex(self._model.index(rows - 1, 0))
            self._view.scrollToBottom()
        self._update_controls()

    def set_kind_shown(self, kind: LogKind, shown: bool) -> None:
        """Show or hide one kind; the choice lasts while the widget does."""
        if (kind in self._kinds) == shown:
            return
        if shown:
            self._kinds.add(kind)
        else:
            self._kinds.discard(kind)
        chip = self._chips[kind]
        if chip.isChecked() != shown:
            chip.setChecked(shown)
        self._refresh(reset=True)

    def set_participant_filter(self, participant_id: uuid.UUID | None) -> None:
        """Show one participant's events and the room's (None: everyone's)."""
        found = self._participant.findData(participant_id) if participant_id else 0
        self._participant.setCurrentIndex(max(found, 0))

    # --- for the host and tests to look at

    def is_following(self) -> bool:
        return self._following

    def kinds_shown(self) -> set[LogKind]:
        return set(self._kinds)

    def participant_filter(self) -> uuid.UUID | None:
        return self._participant_id

    def shown_items(self) -> list[LogItem]:
        return [row.item for row in self._model.rows()]

    def list_view(self) -> EventListView:
        return self._view

    def event_model(self) -> EventListModel:
        return self._model

    def kind_chip(self, kind: LogKind) -> QPushButton:
        return self._chips[kind]

    def participant_combo(self) -> QComboBox:
        return self._participant

    def jump_button(self) -> QPushButton:
        return self._jump

    # --- inside

    @contextmanager
    def _adjusting_view(self) -> Iterator[None]:
        """While the widget moves the view itself, scrolling says nothing about the reader."""
        self._adjusting += 1
        try:
            yield
        finally:
            self._adjusting -= 1

    def _row_for(self, item: LogItem) -> EventRow:
        row = self._rows_by_item.get(item)
        if row is None:
            first_dose_at, started_at, _names = self._context or (None, item.at, ())
            row = build_row(
                item, first_dose_at=first_dose_at, started_at=started_at, names=self._names
            )
            self._rows_by_item[item] = row
        return row

    def _refresh(self, *, reset: bool) -> None:
        """Show the items that pass the filters, keeping the reader's place or the newest."""
        kinds = None if len(self._kinds) == len(LogKind) else self._kinds
        rows = [self._row_for(i) for i in filtered(self._items, kinds, self._participant_id)]
        if len(self._rows_by_item) > 2 * len(self._items) + 100:  # forget items gone from the log
            shown = set(self._items)
            self._rows_by_item = {i: r for i, r in self._rows_by_item.items() if i in shown}
        with self._adjusting_view():
            anchor = self._anchor()
            current = self._view.currentIndex().data(ROW_ROLE)
            if reset:
                self._model.reset_rows(rows)
            else:
                self._model.set_rows(rows)
            if reset and isinstance(current, EventRow):
                self._reselect(current.key, rows)
            self._place(anchor)
        self._update_controls()

    def _anchor(self) -> tuple[EventRow, int] | None:
        """The row the reader has at the top, when not following the newest (out of sight:
        the one they had when the list was last seen)."""
        if self._following:
            return None
        if not self._view.isVisible():
            return self._hidden_anchor
        return self._view.top_anchor()

    def _place(self, anchor: tuple[EventRow, int] | None) -> None:
        """After the rows changed: lay them out and keep the newest, or the reader's row, at
        the top of the view. Out of sight this waits until the list is shown: a hidden list
        is not laid out at all (Qt lays out a view when it is shown)."""
        if not self._view.isVisible():
            self._placement_pending = True
            self._hidden_anchor = anchor
            return
        self._placement_pending = False
        self._view.relayout_now()
        if self._following:
            self._view.scrollToBottom()
        elif anchor is not None:
            self._view.restore_anchor(anchor, self._model)

    def hideEvent(self, event: QHideEvent) -> None:
        self._hidden_anchor = None if self._following else self._view.top_anchor()
        super().hideEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._placement_pending:
            with self._adjusting_view():
                self._place(self._hidden_anchor)
            self._update_controls()

    def _reselect(self, key: tuple[Any, ...], rows: Sequence[EventRow]) -> None:
        for number, row in enumerate(rows):
            if row.key == key:
                self._view.setCurrentIndex(self._model.index(number, 0))
                return

    def _update_participant_choice(self, participants: Mapping[uuid.UUID, str]) -> None:
        wanted = [(pid, name) for pid, name in participants.items()]
        combo = self._participant
        present = [(combo.itemData(i), combo.itemText(i)) for i in range(1, combo.count())]
        if wanted != present:
            chosen = self._participant_id if self._participant_id in participants else None
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("Everyone", None)
            for pid, name in wanted:
                combo.addItem(name, pid)
            combo.setCurrentIndex(max(combo.findData(chosen), 0) if chosen else 0)
            combo.blockSignals(False)
            self._participant_id = chosen
        combo.setVisible(len(participants) > 1)

    def _on_participant_chosen(self, index: int) -> None:
        chosen = self._participant.itemData(index) if index > 0 else None
        if chosen != self._participant_id:
            self._participant_id = chosen
            self._refresh(reset=True)

    def _at_bottom(self) -> bool:
        bar = self._view.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2

    def _on_scrolled(self, _value: int) -> None:
        if self._adjusting:
            return
        self._following = self._at_bottom()
        self._update_controls()

    def _on_range_changed(self, _minimum: int, _maximum: int) -> None:
        if self._adjusting:
            return
        if self._following:
            with self._adjusting_view():
                self._view.scrollToBottom()
        else:
            self._following = self._at_bottom()
        self._update_controls()

    def _update_controls(self) -> None:
        self._jump.setEnabled(not self._following)
        shown, total = self._model.rowCount(), len(self._items)
        if total == 0:
            self._count.setText("")
            self._view.placeholder = "Nothing in the session yet."
        elif shown == total:
            self._count.setText(f"{total} events")
            self._view.placeholder = ""
        else:
            self._count.setText(f"{shown} of {total} events shown")
            self._view.placeholder = "No events match the filters above."
        self._view.viewport().update()

    def _activate(self, index: QModelIndex) -> None:
        item = index.data(ITEM_ROLE)
        if not isinstance(item, LogItem):
            return
        self.item_activated.emit(item)
        if (
            item.kind is LogKind.NOTE
            and item.state is EntryState.STANDING
            and item.entry_id is not None
        ):
            self.amend_requested.emit(item.entry_id)
