"""The readings table shows every reading as the nurse wrote it: late entries with both times,
corrections beside the originals they replace, alerted values highlighted, and Enter on a
standing reading asks to correct it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from kapsession.domain.corrections import EntryState
from kapsession.domain.vitals import READING_FIELDS
from kapsession.records.entries import AlertRecord, ObservationRecord
from kapsession.ui import theme
from kapsession.ui.formatting import local_time
from kapsession.ui.readings_table import (
    ALERT_BACKGROUND,
    ALERT_ROLE,
    COLUMN_INDEX,
    OBSERVATION_ID_ROLE,
    ROW_KIND_ROLE,
    ReadingsTable,
)

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SESSION_ID = uuid.uuid4()
PARTICIPANT_ID = uuid.uuid4()
NURSE_ID = uuid.uuid4()
STAFF = {NURSE_ID: "R. Okafor"}
LABELS = {"baseline": "Baseline vitals", "t40": "T+40 blood pressure", "t60": "T+60"}


def at(minute: float) -> datetime:
    return START + timedelta(minutes=minute)


def reading(
    minute: float,
    key: str | None = "t60",
    *,
    entered_min: float | None = None,
    corrects: uuid.UUID | None = None,
    reason: str | None = None,
    voids: bool = False,
    **values: Any,
) -> ObservationRecord:
    stored: dict[str, Any] = dict.fromkeys(READING_FIELDS)
    stored.update(comment="", systolic_mmhg=128, diastolic_mmhg=82, heart_rate_bpm=74, spo2_pct=98)
    stored.update(values)
    return ObservationRecord(
        id=uuid.uuid4(),
        session_id=SESSION_ID,
        participant_id=PARTICIPANT_ID,
        checkin_key=key,
        occurred_at=at(minute),
        recorded_at=at(minute if entered_min is None else entered_min),
        recorded_by_id=NURSE_ID,
        values=stored,
        corrects_id=corrects,
        correction_reason=reason,
        voids=voids,
    )


def alert(on: ObservationRecord, field: str, message: str, *, acked: bool) -> AlertRecord:
    return AlertRecord(
        id=uuid.uuid4(),
        session_id=SESSION_ID,
        participant_id=PARTICIPANT_ID,
        observation_id=on.id,
        field=field,
        op=">=",
        threshold=180,
        value=float(on.values[field]),
        label="Systolic BP 180 or higher",
        message=message,
        raised_at=on.recorded_at,
        acknowledged_at=on.recorded_at + timedelta(minutes=2) if acked else None,
        acknowledged_by_id=NURSE_ID if acked else None,
    )


@pytest.fixture
def table(qtbot: QtBot) -> ReadingsTable:
    widget = ReadingsTable()
    qtbot.addWidget(widget)
    widget.resize(1400, 360)
    return widget


def cell(table: ReadingsTable, row: int, column: str, role: int = 0) -> Any:
    model = table.model()
    return model.data(model.index(row, COLUMN_INDEX[column]), role)


def texts(table: ReadingsTable, column: str) -> list[str]:
    return [cell(table, row, column) for row in range(table.model().rowCount())]


def show(table: ReadingsTable, observations: list[ObservationRecord], **kw: Any) -> None:
    table.show_readings(observations, kw.get("history", []), kw.get("alerts", []), LABELS, STAFF)


def test_a_reading_shows_every_value_as_written(table: ReadingsTable) -> None:
    # Given a full reading at the T+60 check-in, entered on time
    full = reading(
        100,
        "t60",
        entered_min=102,
        systolic_mmhg=150,
        diastolic_mmhg=90,
        heart_rate_bpm=82,
        spo2_pct=97,
        resp_rate_per_min=14,
        temperature_c=36.8,
        moaas=5,
        rass=-2,
        dissociation=1,
        nausea=3,
        emesis=False,
        suds=4,
        comment="Tearful, settled with music",
    )
    # When the table shows it
    show(table, [full])
    # Then each column holds its value
    expected = {
        "time": local_time(at(100)),
        "checkin": "T+60",
        "bp": "150/90",
        "hr": "82",
        "spo2": "97",
        "rr": "14",
        "temp": "36.8",
        "moaas": "5",
        "rass": "-2",
        "dissociation": "1",
        "nausea": "3",
        "emesis": "no",
        "suds": "4",
        "comment": "Tearful, settled with music",
        "by": "R. Okafor",
    }
    assert {column: cell(table, 0, column) for column in expected} == expected


@pytest.mark.parametrize(
    ("values", "column", "expected"),
    [
        pytest.param({"systolic_mmhg": None, "diastolic_mmhg": None}, "bp", "", id="no-bp"),
        pytest.param({"rass": 1}, "rass", "+1", id="rass-signed"),
        pytest.param({"rass": 0}, "rass", "0", id="rass-zero"),
        pytest.param({"emesis": True}, "emesis", "yes", id="emesis"),
        pytest.param({"temperature_c": 37.0}, "temp", "37", id="whole-temperature"),
        pytest.param({"heart_rate_bpm": None}, "hr", "", id="not-measured"),
    ],
)
def test_values_read_as_a_nurse_writes_them(
    table: ReadingsTable, values: dict[str, Any], column: str, expected: str
) -> None:
    show(table, [reading(100, **values)])
    assert cell(table, 0, column) == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [("t40", "T+40 blood pressure"), (None, "Unscheduled"), ("extra-check", "extra-check")],
)
def test_the_check_in_column_names_the_check_in(
    table: ReadingsTable, key: str | None, expected: str
) -> None:
    show(table, [reading(80, key)])
    assert cell(table, 0, "checkin") == expected


@pytest.mark.parametrize(
    ("entered_after_min", "late"),
    [(0, False), (5, False), (12, True)],
)
def test_a_late_entry_shows_both_times(
    table: ReadingsTable, entered_after_min: float, late: bool
) -> None:
    # Given a reading of 10:40 entered some minutes later
    show(table, [reading(100, entered_min=100 + entered_after_min)])
    # Then a late one (more than five minutes) shows the time it describes and when it was entered
    described = local_time(at(100))
    entered = local_time(at(100 + entered_after_min))
    assert cell(table, 0, "time") == (
        f"{described} (entered {entered}, late)" if late else described
    )


def test_a_correction_keeps_the_original_visible_with_its_reason(table: ReadingsTable) -> None:
    # Given a T+40 reading corrected a few minutes later because the systolic was mistyped
    original = reading(80, "t40", entered_min=81, systolic_mmhg=125)
    correction = reading(
        80,
        "t40",
        entered_min=86,
        corrects=original.id,
        reason="systolic mistyped",
        systolic_mmhg=152,
    )
    other = reading(100, "t60")
    # When the table shows the standing readings with their history
    show(table, [correction, other], history=[original, correction, other])
    # Then the original stays, just above its correction, and the other reading follows
    assert [cell(table, r, "bp") for r in range(3)] == ["125/82", "152/82", "128/82"]
    kinds = [cell(table, r, "bp", ROW_KIND_ROLE) for r in range(3)]
    assert kinds == [EntryState.AMENDED, EntryState.STANDING, EntryState.STANDING]
    # And the original says why it was corrected, dimmed and struck through
    assert cell(table, 0, "comment") == "corrected: systolic mistyped"
    font: QFont = cell(table, 0, "bp", Qt.ItemDataRole.FontRole)
    assert font.strikeOut()
    dim: QBrush = cell(table, 0, "bp", Qt.ItemDataRole.ForegroundRole)
    assert dim.color() == QColor(theme.TEXT_FAINT)
    # And the correction names its reason and when it was made
    assert cell(table, 1, "comment") == "correction: systolic mistyped"
    assert cell(table, 1, "time") == f"{local_time(at(80))} (corrected {local_time(at(86))})"
    assert cell(table, 1, "bp", Qt.ItemDataRole.FontRole) is None


def test_a_voided_reading_stays_visible_and_its_void_entry_is_no_row(table: ReadingsTable) -> None:
    # Given a reading entered for the wrong participant and voided
    mistaken = reading(90, None, comment="wrong chair")
    void = reading(
        90, None, entered_min=95, corrects=mistaken.id, reason="wrong client", voids=True
    )
    # When the table shows the (empty) standing record with the history
    show(table, [], history=[mistaken, void])
    # Then the mistaken reading is one voided row that says why, with its own comment
    assert table.model().rowCount() == 1
    assert cell(table, 0, "bp", ROW_KIND_ROLE) is EntryState.WITHDRAWN
    assert cell(table, 0, "comment") == "voided: wrong client · wrong chair"


def test_alerted_values_are_highlighted(table: ReadingsTable) -> None:
    # Given a T+40 reading of 182/104 that raised a systolic alert, acknowledged
    peak = reading(80, "t40", systolic_mmhg=182, diastolic_mmhg=104, heart_rate_bpm=92)
    message = "Systolic BP 182 mmHg — at or above 180"
    show(
        table,
        [reading(55, "t15"), peak],
        alerts=[alert(peak, "systolic_mmhg", message, acked=True)],
    )
    # Then the BP cell of that reading carries the alert, in the muted overdue colour
    assert cell(table, 1, "bp", ALERT_ROLE) == [
        f"{message} — acknowledged {local_time(at(82))} by R. Okafor"
    ]
    brush: QBrush = cell(table, 1, "bp", Qt.ItemDataRole.ForegroundRole)
    assert brush.color() == QColor(theme.OVERDUE)
    background: QBrush = cell(table, 1, "bp", Qt.ItemDataRole.BackgroundRole)
    assert background.color() == QColor(ALERT_BACKGROUND)
    assert message in cell(table, 1, "bp", Qt.ItemDataRole.ToolTipRole)
    # And nothing else is highlighted: not its heart rate, not the other reading's BP
    for row, column in ((1, "hr"), (0, "bp")):
        assert cell(table, row, column, ALERT_ROLE) == []
        assert cell(table, row, column, Qt.ItemDataRole.ForegroundRole) is None
        assert cell(table, row, column, Qt.ItemDataRole.BackgroundRole) is None


def test_an_open_alert_says_it_is_not_yet_acknowledged(table: ReadingsTable) -> None:
    low = reading(80, "t40", spo2_pct=90)
    show(table, [low], alerts=[alert(low, "spo2_pct", "SpO2 90 % — below 92", acked=False)])
    assert cell(table, 0, "spo2", ALERT_ROLE) == ["SpO2 90 % — below 92 — not yet acknowledged"]


def standing_and_original(table: ReadingsTable) -> tuple[ObservationRecord, ObservationRecord]:
    original = reading(80, "t40", systolic_mmhg=125)
    correction = reading(80, "t40", entered_min=84, corrects=original.id, reason="typo")
    show(table, [correction], history=[original, correction])
    return original, correction


@pytest.mark.parametrize("enter", [Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_enter_on_a_standing_reading_asks_to_correct_it(
    qtbot: QtBot, table: ReadingsTable, enter: Qt.Key
) -> None:
    # Given a table with a corrected original (row 0) and its correction (row 1), focused
    _original, correction = standing_and_original(table)
    table.show()
    qtbot.waitExposed(table)
    table.setFocus()
    # When the nurse moves down to the correction and presses Enter
    table.selectRow(0)
    QTest.keyClick(table, Qt.Key.Key_Down)
    assert table.selected_observation() == correction.id
    with qtbot.waitSignal(table.correction_requested, timeout=1000) as signal:
        QTest.keyClick(table, enter)
    # Then the table asks to correct that reading
    assert signal.args == [correction.id]


def test_an_original_already_corrected_cannot_be_corrected_again(
    qtbot: QtBot, table: ReadingsTable
) -> None:
    standing_and_original(table)
    table.show()
    qtbot.waitExposed(table)
    table.setFocus()
    table.selectRow(0)
    with qtbot.assertNotEmitted(table.correction_requested, wait=50):
        QTest.keyClick(table, Qt.Key.Key_Return)


def test_a_double_click_asks_to_correct_the_reading(qtbot: QtBot, table: ReadingsTable) -> None:
    _original, correction = standing_and_original(table)
    table.show()
    qtbot.waitExposed(table)
    index = table.model().index(1, COLUMN_INDEX["bp"])
    position = table.visualRect(index).center()
    with qtbot.waitSignal(table.correction_requested, timeout=1000) as signal:
        # a real double click is a press, a release, then the double-click press
        QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=position)
        QTest.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=position)
    assert signal.args == [correction.id]


def test_refreshing_keeps_the_selected_reading_selected(table: ReadingsTable) -> None:
    # Given the second of two readings selected
    first, second = reading(55, "t15"), reading(100, "t60")
    show(table, [first, second])
    table.selectRow(1)
    # When a new, earlier reading is saved and the table refreshed
    earlier = reading(5, "baseline")
    show(table, [earlier, first, second])
    # Then the same reading is still selected, one row further down
    assert table.selected_observation() == second.id
    assert table.currentIndex().row() == 2


def test_rows_carry_their_reading_id(table: ReadingsTable) -> None:
    readings = [reading(5, "baseline"), reading(55, "t15")]
    show(table, readings)
    ids = [cell(table, row, "time", OBSERVATION_ID_ROLE) for row in range(2)]
    assert ids == [r.id for r in readings]
    assert not table.model().index(0, 0).flags() & Qt.ItemFlag.ItemIsEditable
    assert table.model().data(QModelIndex()) is None
