"""The table of every reading of a session: standing ones, corrected originals and alerts.

A correction never hides what it replaced: the original stays as a dimmed, struck-through row
saying "corrected: reason" (or "voided: reason"), and the correcting row names its reason. A
late entry shows the time it describes and the time it was entered. A partial check-in says
which of the measures its check-in required were not taken ("not taken: BP, SpO2").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from kapsession.domain.corrections import EntryState, versions
from kapsession.domain.measures import measure_names
from kapsession.domain.scales import RASS
from kapsession.records.entries import AlertRecord, ObservationRecord
from kapsession.ui import theme
from kapsession.ui.formatting import local_time

OBSERVATION_ID_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_KIND_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's EntryState
ALERT_ROLE = Qt.ItemDataRole.UserRole + 3  # the alert messages on this cell ([] when none)

ALERT_BACKGROUND = "#2a2320"  # the banner's tint: a muted brick wash, not a red block


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    fields: tuple[str, ...] = ()  # the reading fields shown (for alert highlighting)


COLUMNS: tuple[Column, ...] = (
    Column("time", "Time"),
    Column("checkin", "Check-in"),
    Column("bp", "BP\nmmHg", ("systolic_mmhg", "diastolic_mmhg")),
    Column("hr", "HR\nbpm", ("heart_rate_bpm",)),
    Column("spo2", "SpO2\n%", ("spo2_pct",)),
    Column("rr", "RR\n/min", ("resp_rate_per_min",)),
    Column("temp", "Temp\n°C", ("temperature_c",)),
    Column("moaas", "MOAA/S\n0–5", ("moaas",)),
    Column("rass", "RASS\n−5…+4", ("rass",)),
    Column("dissociation", "Disso-\nciation", ("dissociation",)),
    Column("nausea", "Nausea\n0–10", ("nausea",)),
    Column("emesis", "Emesis", ("emesis",)),
    Column("suds", "SUDS\n0–10", ("suds",)),
    Column("comment", "Comment"),
    Column("by", "By"),
)
COLUMN_INDEX = {column.key: index for index, column in enumerate(COLUMNS)}
_VALUE_COLUMNS = frozenset(c.key for c in COLUMNS if c.fields)


@dataclass(frozen=True)
class _Row:
    record: ObservationRecord
    kind: EntryState  # standing, or an original a later entry amended or withdrew
    replaced_because: str | None  # the reason of the entry that replaced this one
    cells: tuple[str, ...]
    alerts: Mapping[int, tuple[str, ...]]  # column -> alert messages


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if not value.is_integer() else f"{value:.0f}"
    return str(value)


def _time_text(record: ObservationRecord) -> str:
    """The time a reading describes; a correction or a late entry says when it was written."""
    shown = local_time(record.occurred_at)
    if record.corrects_id is not None:
        return f"{shown} (corrected {local_time(record.recorded_at)})"
    if record.is_late:
        return f"{shown} (entered {local_time(record.recorded_at)}, late)"
    return shown


def _comment_text(record: ObservationRecord, kind: EntryState, replaced_because: str | None) -> str:
    parts = []
    if kind is EntryState.AMENDED:
        parts.append(f"corrected: {replaced_because or 'no reason given'}")
    elif kind is EntryState.WITHDRAWN:
        parts.append(f"voided: {replaced_because or 'no reason given'}")
    elif record.corrects_id is not None:
        parts.append(f"correction: {record.correction_reason or 'no reason given'}")
    if record.not_taken:
        parts.append(f"not taken: {measure_names(record.not_taken)}")
    comment = str(record.values.get("comment") or "").strip()
    if comment:
        parts.append(comment)
    return " · ".join(parts)


def _cells(
    record: ObservationRecord,
    kind: EntryState,
    replaced_because: str | None,
    checkin_labels: Mapping[str, str],
    staff_names: Mapping[uuid.UUID, str],
) -> tuple[str, ...]:
    values = record.values
    key = record.checkin_key
    bp = f"{values['systolic_mmhg']}/{values['diastolic_mmhg']}" if record.has_bp else ""
    rass = values.get("rass")
    emesis = values.get("emesis")
    by = "" if record.recorded_by_id is None else staff_names.get(record.recorded_by_id, "")
    texts = {
        "time": _time_text(record),
        "checkin": "Unscheduled" if key is None else checkin_labels.get(key, key),
        "bp": bp,
        "hr": _number(values.get("heart_rate_bpm")),
        "spo2": _number(values.get("spo2_pct")),
        "rr": _number(values.get("resp_rate_per_min")),
        "temp": _number(values.get("temperature_c")),
        "moaas": _number(values.get("moaas")),
        "rass": "" if rass is None else RASS.format_value(int(rass)),
        "dissociation": _number(values.get("dissociation")),
        "nausea": _number(values.get("nausea")),
        "emesis": "" if emesis is None else ("yes" if emesis else "no"),
        "suds": _number(values.get("suds")),
        "comment": _comment_text(record, kind, replaced_because),
        "by": by,
    }
    return tuple(texts[column.key] for column in COLUMNS)


def _alert_text(alert: AlertRecord, staff_names: Mapping[uuid.UUID, str]) -> str:
    if alert.acknowledged_at is None:
        return f"{alert.message} — not yet acknowledged"
    who = staff_names.get(alert.acknowledged_by_id, "") if alert.acknowledged_by_id else ""
    by = f" by {who}" if who else ""
    done = f": {alert.follow_up}" if alert.acknowledgement_action else ""
    return f"{alert.message} — acknowledged {local_time(alert.acknowledged_at)}{by}{done}"


def build_rows(
    observations: Sequence[ObservationRecord],
    history: Sequence[ObservationRecord],
    alerts: Sequence[AlertRecord],
    checkin_labels: Mapping[str, str],
    staff_names: Mapping[uuid.UUID, str],
) -> list[_Row]:
    """Standing readings and the originals they replaced, in time order.

    `history` may hold every entry (standing ones too) or only the replaced originals: an entry
    nothing replaced stands. A voiding entry is not a row of its own; its reason shows on the
    original it voids.
    """
    entries: dict[uuid.UUID, ObservationRecord] = {}
    for record in (*history, *observations):
        entries.setdefault(record.id, record)
    in_time = sorted(entries.values(), key=lambda e: (e.occurred_at, e.recorded_at))
    by_field: dict[tuple[uuid.UUID, str], list[str]] = {}
    for alert in alerts:
        key = (alert.observation_id, alert.field)
        by_field.setdefault(key, []).append(_alert_text(alert, staff_names))
    rows = []
    for version in versions(in_time):
        record, kind, because = version.row, version.state, version.reason
        cell_alerts = {
            COLUMN_INDEX[column.key]: tuple(
                message for name in column.fields for message in by_field.get((record.id, name), ())
            )
            for column in COLUMNS
            if column.fields
        }
        rows.append(
            _Row(
                record=record,
                kind=kind,
                replaced_because=because,
                cells=_cells(record, kind, because, checkin_labels, staff_names),
                alerts={column: found for column, found in cell_alerts.items() if found},
            )
        )
    return rows


class ReadingsModel(QAbstractTableModel):
    """The rows of the readings table; read-only (a correction is a new entry)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._dim = QBrush(QColor(theme.TEXT_FAINT))
        self._alert_text = QBrush(QColor(theme.OVERDUE))
        self._alert_background = QBrush(QColor(ALERT_BACKGROUND))

    def set_rows(self, rows: list[_Row]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def row_kind(self, row: int) -> EntryState:
        return self._rows[row].kind

    def observation_id(self, row: int) -> uuid.UUID:
        return self._rows[row].record.id

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        key = COLUMNS[column].key
        alerts = row.alerts.get(column, ())
        original = row.kind is not EntryState.STANDING
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = [*alerts]
            if key == "comment" and row.cells[column]:
                tips.append(row.cells[column])
            return "\n".join(tips) if tips else None
        if role == OBSERVATION_ID_ROLE:
            return row.record.id
        if role == ROW_KIND_ROLE:
            return row.kind
        if role == ALERT_ROLE:
            return list(alerts)
        if role == Qt.ItemDataRole.ForegroundRole:
            if original:
                return self._dim
            return self._alert_text if alerts else None
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._alert_background if alerts and not original else None
        if role == Qt.ItemDataRole.FontRole:
            if original and key != "comment":
                font = QFont()
                font.setStrikeOut(key in _VALUE_COLUMNS)
                return font
            if alerts:
                font = QFont()
                font.setBold(True)
                return font
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in _VALUE_COLUMNS:
                return int(Qt.AlignmentFlag.AlignCenter)
            return int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        return None


_CELL_PADDING_PX = 22  # the item padding below and the style's own text margins, both sides

TABLE_STYLE = f"""
QTableView {{ background: {theme.PANEL}; alternate-background-color: #1f2225;
    gridline-color: {theme.BORDER}; border: 1px solid {theme.BORDER}; border-radius: 6px;
    selection-background-color: #2c3a47; selection-color: {theme.TEXT}; }}
QTableView:focus {{ border: 2px solid {theme.ACCENT}; }}
QHeaderView::section {{ background: {theme.PANEL_RAISED}; color: {theme.TEXT_DIM};
    border: none; border-right: 1px solid {theme.BORDER}; border-bottom: 1px solid {theme.BORDER};
    padding: 3px 4px; font-size: 12px; }}
QTableView::item {{ padding: 0px 5px; }}
QScrollBar {{ background: {theme.PANEL}; border: none; width: 10px; height: 10px; }}
QScrollBar::handle {{ background: {theme.BORDER}; border-radius: 4px; min-width: 24px;
    min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0px; height: 0px; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
"""


class ReadingsTable(QTableView):
    """Every reading of one participant; Enter or a double-click asks to correct a reading."""

    correction_requested = Signal(uuid.UUID)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = ReadingsModel(self)
        self.setModel(self._model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # Tab moves on to the next control
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(30)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet(TABLE_STYLE)
        self.setAccessibleName("Readings")
        self.doubleClicked.connect(self._on_double_click)

    def readings_model(self) -> ReadingsModel:
        return self._model

    def show_readings(
        self,
        observations: Sequence[ObservationRecord],
        history: Sequence[ObservationRecord],
        alerts: Sequence[AlertRecord],
        checkin_labels: Mapping[str, str],
        staff_names: Mapping[uuid.UUID, str],
    ) -> None:
        """Show these readings, keeping the selected one selected when it is still there."""
        selected = self.selected_observation()
        rows = build_rows(observations, history, alerts, checkin_labels, staff_names)
        self._model.set_rows(rows)
        self._fit_columns(rows)
        for row in range(self._model.rowCount()):
            if self._model.observation_id(row) == selected:
                self.selectRow(row)
                break

    def _fit_columns(self, rows: Sequence[_Row]) -> None:
        """Each column as wide as its widest text or header line; the comment takes the rest."""
        self.ensurePolished()  # the room stylesheet sets the font the cells are drawn in
        header = self.horizontalHeader()
        header.setMinimumSectionSize(40)
        header_font = QFont(self.font())
        header_font.setPixelSize(12)
        header_metrics = QFontMetrics(header_font)
        bold = QFont(self.font())
        bold.setBold(True)
        plain_metrics, bold_metrics = QFontMetrics(self.font()), QFontMetrics(bold)
        for index, column in enumerate(COLUMNS):
            if column.key == "comment":
                header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
                continue
            titles = column.title.split("\n")
            widest = max(header_metrics.horizontalAdvance(line) for line in titles)
            # alerted values are bold: value columns fit those
            metrics = bold_metrics if column.fields else plain_metrics
            for row in rows:
                widest = max(widest, metrics.horizontalAdvance(row.cells[index]))
            header.setSectionResizeMode(index, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(index, widest + _CELL_PADDING_PX)

    def selected_observation(self) -> uuid.UUID | None:
        index = self.currentIndex()
        if not index.isValid():
            return None
        return self._model.observation_id(index.row())

    def _request(self, row: int) -> None:
        if not 0 <= row < self._model.rowCount():
            return
        if self._model.row_kind(row) is EntryState.STANDING:
            self.correction_requested.emit(self._model.observation_id(row))

    def _on_double_click(self, index: QModelIndex) -> None:
        self._request(index.row())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            index = self.currentIndex()
            if index.isValid():
                self._request(index.row())
                event.accept()
                return
        super().keyPressEvent(event)
