"""The event list shows the whole session on one timeline: rows in time order with wall and
session times, amended and withdrawn entries with their reasons, filters by kind and
participant, and a view that follows the newest event until the reader scrolls up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot
from ui_harness import room_theme

from kapsession.domain.corrections import EntryState
from kapsession.records.session_log import LogItem, LogKind
from kapsession.ui.event_list import (
    DETAIL_MAX_LINES,
    EventList,
    EventRow,
    session_time_text,
    wrap_lines,
)
from kapsession.ui.formatting import local_time

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
DOSE_AT = START + timedelta(minutes=10)
ALEX, JORDAN = uuid.uuid4(), uuid.uuid4()
ONE = {ALEX: "Alex Rivera"}
COUPLE = {ALEX: "Alex Rivera", JORDAN: "Jordan Rivera"}


def at(minute: float) -> datetime:
    return START + timedelta(minutes=minute)


def item(
    minute: float,
    kind: LogKind = LogKind.MARKER,
    title: str = "Eye mask on",
    *,
    detail: str = "",
    who: uuid.UUID | None = None,
    written_min: float | None = None,
    **fields: Any,
) -> LogItem:
    return LogItem(
        at=at(minute),
        recorded_at=at(minute if written_min is None else written_min),
        kind=kind,
        title=title,
        detail=detail,
        participant_id=who,
        entry_id=uuid.uuid4(),
        **fields,
    )


def markers(count: int, *, from_minute: float = 0) -> list[LogItem]:
    return [item(from_minute + n * 0.5, title=f"Marker {n}") for n in range(count)]


@pytest.fixture
def events(qtbot: QtBot, qapp: QApplication) -> Iterator[EventList]:
    room_theme(qapp)
    widget = EventList()
    qtbot.addWidget(widget)
    widget.resize(420, 520)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def show(
    widget: EventList,
    items: list[LogItem],
    *,
    participants: dict[uuid.UUID, str] | None = None,
    first_dose_at: datetime | None = DOSE_AT,
) -> None:
    widget.show_items(
        items,
        first_dose_at=first_dose_at,
        started_at=START,
        participants=ONE if participants is None else participants,
    )


def texts(widget: EventList) -> list[str]:
    model = widget.event_model()
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def row(widget: EventList, number: int) -> EventRow:
    found = widget.event_model().row(number)
    assert isinstance(found, EventRow)
    return found


def at_bottom(widget: EventList) -> bool:
    bar = widget.list_view().verticalScrollBar()
    return bar.maximum() > 0 and bar.value() == bar.maximum()


def top_row(widget: EventList) -> int:
    return widget.list_view().indexAt(QPoint(1, 1)).row()


# --- what a row says


@pytest.mark.parametrize(
    ("minute", "first_dose_at", "expected"),
    [
        (52, None, "0:52"),
        (125, None, "2:05"),
        (-1, None, "0:00"),
        (42, DOSE_AT, "T+32"),
        (10, DOSE_AT, "T+0"),
        (5, DOSE_AT, "T−5"),
        (190, DOSE_AT, "T+180"),
    ],
)
def test_session_time_counts_from_the_first_dose_or_from_the_start(
    minute: float, first_dose_at: datetime | None, expected: str
) -> None:
    # Given an item's time, and the first dose if there was one; When it is written as session
    # time; Then it is minutes from the dose, or hours and minutes since the start before one
    assert session_time_text(at(minute), first_dose_at=first_dose_at, started_at=START) == expected


def test_rows_are_in_time_order_and_say_when_what_and_how(events: EventList) -> None:
    # Given items handed over out of order
    dose = item(10, LogKind.DOSE, "Dose 100 mg sublingual", detail="lot K2391", who=ALEX)
    phase = item(5, LogKind.PHASE, "Phase: Preparation")
    checkin = item(42, LogKind.CHECKIN, "Check-in T+30", detail="BP 128/82 · HR 74", who=ALEX)
    # When the list shows them
    show(events, [checkin, dose, phase])
    # Then they are in time order, each row with wall time, session time, tag, title and detail
    assert events.shown_items() == [phase, dose, checkin]
    assert texts(events) == [
        f"{local_time(at(5))} · T−5 · Phase · Phase: Preparation",
        f"{local_time(at(10))} · T+0 · Dose · Dose 100 mg sublingual · lot K2391",
        f"{local_time(at(42))} · T+32 · Check-in · Check-in T+30 · BP 128/82 · HR 74",
    ]


def test_before_any_dose_rows_show_time_since_the_start(events: EventList) -> None:
    # Given a session with no dose yet; When an item 52 minutes in is shown
    show(events, [item(52)], first_dose_at=None)
    # Then its session time is the elapsed time
    assert row(events, 0).session == "0:52"


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        (EntryState.AMENDED, "wrong amount typed", "amended — wrong amount typed"),
        (EntryState.WITHDRAWN, "wrong participant", "withdrawn — wrong participant"),
        (EntryState.AMENDED, None, "amended — no reason given"),
        (EntryState.WITHDRAWN, None, "withdrawn — no reason given"),
    ],
)
def test_amended_and_withdrawn_rows_stay_dimmed_with_their_reason(
    events: EventList, state: EntryState, reason: str | None, expected: str
) -> None:
    # Given an entry a later one amended or withdrew
    original = item(20, LogKind.DOSE, "Dose 80 mg", state=state, reason=reason)
    # When it is shown
    show(events, [original])
    # Then it is still there, dimmed, saying what happened and why
    shown = row(events, 0)
    assert shown.dimmed
    assert shown.status == expected
    assert texts(events)[0].endswith(expected)


def test_a_standing_row_is_not_dimmed_and_a_correction_says_so(events: EventList) -> None:
    # Given a standing entry and the correction of an earlier one
    show(events, [item(20), item(21, LogKind.DOSE, "Dose 90 mg", corrects=True)])
    # Then the standing one is plain and the correction says it replaces an earlier entry
    assert not row(events, 0).dimmed and row(events, 0).status == ""
    assert row(events, 1).status == "replaces an earlier entry"


def test_a_late_entry_says_when_it_was_written(events: EventList) -> None:
    # Given a note about 14:36 written at 14:44
    show(events, [item(36, LogKind.NOTE, "Note", detail="Long silence", written_min=44)])
    # Then the row shows the time it describes and says when it was written
    assert row(events, 0).wall == local_time(at(36))
    assert row(events, 0).status == f"written {local_time(at(44))}"


@pytest.mark.parametrize(
    ("participants", "expected"), [(ONE, ""), (COUPLE, "Alex Rivera")], ids=["one", "couple"]
)
def test_the_participant_is_named_only_when_there_are_several(
    events: EventList, participants: dict[uuid.UUID, str], expected: str
) -> None:
    # Given an item about Alex; When shown in an individual or a couples session
    show(events, [item(20, who=ALEX), item(21)], participants=participants)
    # Then Alex is named only in the couples session; a room-wide item names no one
    assert row(events, 0).name == expected
    assert row(events, 1).name == ""


def test_a_long_note_shows_its_first_lines_and_all_of_it_in_the_tooltip(
    events: EventList,
) -> None:
    # Given a long note with blank lines
    text = "\n\n".join(f"Paragraph {n}: " + "words that go on " * 12 for n in range(6))
    show(events, [item(30, LogKind.NOTE, "Note", detail=text)])
    # When it is broken to the list's width
    lines = wrap_lines(row(events, 0).detail, events.font(), 300, 300, DETAIL_MAX_LINES)
    # Then a few lines show, the last one cut with an ellipsis, and the tooltip holds every word
    assert len(lines) == DETAIL_MAX_LINES
    assert lines[0].startswith("Paragraph 0:")
    assert lines[-1].endswith("…")
    tooltip = events.event_model().index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert all(f"Paragraph {n}:" in tooltip for n in range(6))


def test_a_short_detail_is_not_cut(events: EventList) -> None:
    assert wrap_lines("lot K2391", events.font(), 300, 300, DETAIL_MAX_LINES) == ("lot K2391",)


# --- filters


def test_a_kind_can_be_hidden_and_shown_again_and_the_choice_lasts(
    qtbot: QtBot, events: EventList
) -> None:
    # Given music among other events
    music = [item(n, LogKind.MUSIC, "Track started", detail=f"Track {n}") for n in range(3)]
    note = item(1.5, LogKind.NOTE, "Note", detail="Calm")
    show(events, [*music, note])
    # When the Music chip is switched off
    qtbot.mouseClick(events.kind_chip(LogKind.MUSIC), Qt.MouseButton.LeftButton)
    # Then only the note shows, and the count says so
    assert events.shown_items() == [note]
    assert LogKind.MUSIC not in events.kinds_shown()
    # And new music stays hidden when the list is refreshed
    show(events, [*music, note, item(5, LogKind.MUSIC, "Track started")])
    assert events.shown_items() == [note]
    # When it is switched on again, all the music is back
    qtbot.mouseClick(events.kind_chip(LogKind.MUSIC), Qt.MouseButton.LeftButton)
    assert [i.kind for i in events.shown_items()].count(LogKind.MUSIC) == 4


def test_every_kind_has_a_chip_and_all_start_on(events: EventList) -> None:
    assert events.kinds_shown() == set(LogKind)
    assert all(events.kind_chip(kind).isChecked() for kind in LogKind)


def test_with_every_kind_off_the_list_says_why_it_is_empty(events: EventList) -> None:
    show(events, [item(1)])
    for kind in LogKind:
        events.set_kind_shown(kind, False)
    assert events.shown_items() == []
    assert "filters" in events.list_view().placeholder


@pytest.mark.parametrize(
    ("participants", "visible"), [(ONE, False), (COUPLE, True)], ids=["one", "couple"]
)
def test_the_participant_choice_shows_only_in_shared_sessions(
    events: EventList, participants: dict[uuid.UUID, str], visible: bool
) -> None:
    show(events, [item(1)], participants=participants)
    combo = events.participant_combo()
    assert combo.isVisible() == visible
    if visible:
        assert [combo.itemText(i) for i in range(combo.count())] == [
            "Everyone",
            "Alex Rivera",
            "Jordan Rivera",
        ]


def test_choosing_a_participant_shows_theirs_and_the_rooms(events: EventList) -> None:
    # Given a couples session with events for each and for the room
    alex = item(10, LogKind.DOSE, "Dose 100 mg", who=ALEX)
    jordan = item(11, LogKind.DOSE, "Dose 90 mg", who=JORDAN)
    room = item(12, LogKind.PHASE, "Phase: Peak")
    show(events, [alex, jordan, room], participants=COUPLE)
    # When Jordan is chosen
    combo = events.participant_combo()
    combo.setCurrentIndex(combo.findText("Jordan Rivera"))
    # Then Jordan's and the room's events show, not Alex's
    assert events.participant_filter() == JORDAN
    assert events.shown_items() == [jordan, room]
    # And choosing Everyone brings all back
    events.set_participant_filter(None)
    assert events.shown_items() == [alex, jordan, room]


# --- updates


def test_showing_the_same_items_again_changes_nothing(qtbot: QtBot, events: EventList) -> None:
    # Given a list on screen
    items = markers(40)
    show(events, items)
    model = events.event_model()
    changes: list[str] = []
    model.modelReset.connect(lambda: changes.append("reset"))
    model.rowsInserted.connect(lambda *_: changes.append("inserted"))
    model.rowsRemoved.connect(lambda *_: changes.append("removed"))
    model.dataChanged.connect(lambda *_: changes.append("changed"))
    # When the timer hands over equal items (a fresh list of them) twice
    show(events, list(items))
    show(events, [replace(i) for i in items])
    # Then the model is not touched
    assert changes == []


def test_a_new_entry_is_one_inserted_row_and_an_amendment_changes_its_row(
    events: EventList,
) -> None:
    # Given a list on screen
    items = markers(10)
    show(events, items)
    model = events.event_model()
    changes: list[str] = []
    model.modelReset.connect(lambda: changes.append("reset"))
    model.rowsInserted.connect(lambda *_: changes.append("inserted"))
    model.dataChanged.connect(lambda *_: changes.append("changed"))
    # When an entry is added, and later an earlier one is withdrawn
    new = item(30)
    show(events, [*items, new])
    withdrawn = replace(items[3], state=EntryState.WITHDRAWN, reason="wrong participant")
    show(events, [*items[:3], withdrawn, *items[4:], new])
    # Then the model inserted one row and changed one, never reset
    assert changes == ["inserted", "changed"]
    assert row(events, 3).status == "withdrawn — wrong participant"


def add(
    widget: EventList,
    added: list[LogItem],
    replaced: list[tuple[LogItem, LogItem]] | None = None,
    *,
    participants: dict[uuid.UUID, str] | None = None,
    first_dose_at: datetime | None = DOSE_AT,
) -> None:
    widget.add_items(
        added,
        replaced or [],
        first_dose_at=first_dose_at,
        started_at=START,
        participants=ONE if participants is None else participants,
    )


def model_changes(widget: EventList) -> list[str]:
    model = widget.event_model()
    changes: list[str] = []
    model.modelReset.connect(lambda: changes.append("reset"))
    model.rowsInserted.connect(lambda _p, first, last: changes.append(f"inserted {first}-{last}"))
    model.rowsRemoved.connect(lambda _p, first, last: changes.append(f"removed {first}-{last}"))
    model.dataChanged.connect(lambda first, last, _r: changes.append(f"changed {first.row()}"))
    return changes


def fresh_texts(qtbot: QtBot, items: list[LogItem], **shown: Any) -> list[str]:
    """The rows a new list shows for these items, given whole."""
    widget = EventList()
    qtbot.addWidget(widget)
    show(widget, items, **shown)
    return texts(widget)


def test_an_added_entry_is_one_row_inserted_in_its_place_in_time(
    qtbot: QtBot, events: EventList
) -> None:
    # Given a list on screen
    items = markers(40)
    show(events, items)
    changes = model_changes(events)
    # When a save adds a late entry about minute 3.2 and then a new one at the end
    late, newest = item(3.2, title="Late", written_min=40), item(40, title="Newest")
    add(events, [late])
    add(events, [newest])
    # Then each is one inserted row in its place, nothing else touched
    assert changes == ["inserted 7-7", "inserted 41-41"]
    assert texts(events) == fresh_texts(qtbot, [*items, late, newest])
    assert events.shown_items()[7] == late


def test_a_replaced_entry_changes_its_row_only(qtbot: QtBot, events: EventList) -> None:
    # Given a list on screen
    items = markers(40)
    show(events, items)
    changes = model_changes(events)
    # When a save withdraws an earlier entry (the log hands over the item before and after)
    withdrawn = replace(items[12], state=EntryState.WITHDRAWN, reason="wrong participant")
    add(events, [], [(items[12], withdrawn)])
    # Then that row alone changed, and says why
    assert changes == ["changed 12"]
    assert row(events, 12).status == "withdrawn — wrong participant"
    assert texts(events) == fresh_texts(qtbot, [*items[:12], withdrawn, *items[13:]])


def test_an_added_entry_of_a_hidden_kind_is_counted_and_shows_when_the_kind_does(
    events: EventList,
) -> None:
    # Given a list with music hidden
    items = markers(5)
    show(events, items)
    events.set_kind_shown(LogKind.MUSIC, False)
    changes = model_changes(events)
    # When a track starts
    track = item(3, LogKind.MUSIC, "Track started", detail="Arrival one")
    add(events, [track])
    # Then no row is inserted, the count says one is hidden, and showing music brings it
    assert changes == []
    assert "5 of 6" in events.findChild(QLabel, "notice").text()
    events.set_kind_shown(LogKind.MUSIC, True)
    assert track in events.shown_items()


def test_an_added_first_dose_moves_every_session_time(qtbot: QtBot, events: EventList) -> None:
    # Given a list from before any dose: times since the start
    items = markers(4)
    show(events, items, first_dose_at=None)
    assert row(events, 0).session == "0:00"
    # When the dose is saved (the list's times now count from it)
    dose = item(1, LogKind.DOSE, "Dose 300 mg")
    add(events, [dose], first_dose_at=at(1))
    # Then every row counts from the dose
    assert [row(events, n).session for n in range(5)] == ["T−1", "T−1", "T+0", "T+0", "T+0"]
    assert texts(events) == fresh_texts(qtbot, [*items, dose], first_dose_at=at(1))


def test_scrolled_up_an_added_entry_above_does_not_shift_what_is_read(events: EventList) -> None:
    # Given the reader has scrolled to the middle
    items = markers(40)
    show(events, items)
    bar = events.list_view().verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    reading = events.shown_items()[top_row(events)]
    # When a late entry about an earlier moment is added above, and one at the end
    add(events, [item(0.2, title="Late", written_min=30)])
    add(events, [item(60, title="Newest")])
    # Then the same row is at the top of the view, and the list does not follow
    assert events.shown_items()[top_row(events)] == reading
    assert not events.is_following()


def test_at_the_bottom_an_added_entry_is_followed(events: EventList) -> None:
    # Given a list longer than the view, at its newest item
    items = markers(40)
    show(events, items)
    assert at_bottom(events)
    # When entries are added one by one
    for n in range(5):
        add(events, [item(60 + n, title=f"New {n}")])
    # Then the newest is in view
    assert at_bottom(events) and events.is_following()
    assert events.shown_items()[-1].title == "New 4"


def test_a_thousand_items_show(events: EventList) -> None:
    # Given a long session with a thousand music events
    items = [
        item(n * 0.2, LogKind.MUSIC, "Track started", detail=f"Track {n}") for n in range(1000)
    ]
    # When they are shown
    show(events, items)
    # Then every one is in the list and the newest is in view
    assert events.event_model().rowCount() == 1000
    view = events.list_view()
    last = view.visualRect(events.event_model().index(999, 0))
    assert view.viewport().rect().contains(last.bottomLeft())


# --- following the newest


def test_at_the_bottom_new_items_keep_the_view_at_the_bottom(events: EventList) -> None:
    # Given a list longer than the view, at its newest item
    items = markers(40)
    show(events, items)
    assert at_bottom(events) and events.is_following()
    assert not events.jump_button().isEnabled()
    # When new items come
    show(events, [*items, *markers(5, from_minute=60)])
    # Then the view is still at the bottom
    assert at_bottom(events)
    assert top_row(events) > 0


def test_scrolled_up_new_items_do_not_move_the_view(events: EventList) -> None:
    # Given the reader has scrolled up to read
    items = markers(40)
    show(events, items)
    bar = events.list_view().verticalScrollBar()
    bar.setValue(bar.maximum() // 3)
    top, value = top_row(events), bar.value()
    assert not events.is_following()
    assert events.jump_button().isEnabled()
    # When new items come at the end
    show(events, [*items, *markers(5, from_minute=60)])
    # Then the view stays where it was
    assert (top_row(events), bar.value()) == (top, value)
    assert not events.is_following()


def test_scrolled_up_a_late_entry_above_does_not_shift_what_is_read(events: EventList) -> None:
    # Given the reader has scrolled to the middle
    items = markers(40)
    show(events, items)
    bar = events.list_view().verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    reading = events.shown_items()[top_row(events)]
    # When a late entry about an earlier moment is inserted above
    show(events, [*items, item(0.2, written_min=30)])
    # Then the same row is at the top of the view
    assert events.shown_items()[top_row(events)] == reading


@pytest.mark.parametrize("how", ["button", "end_key", "method"])
def test_jump_to_now_goes_to_the_newest_and_follows_again(
    qtbot: QtBot, events: EventList, how: str
) -> None:
    # Given the reader has scrolled up
    items = markers(40)
    show(events, items)
    events.list_view().verticalScrollBar().setValue(0)
    assert not events.is_following()
    # When they jump to now
    if how == "button":
        qtbot.mouseClick(events.jump_button(), Qt.MouseButton.LeftButton)
    elif how == "end_key":
        events.list_view().setFocus()
        QTest.keyClick(events.list_view(), Qt.Key.Key_End)
    else:
        events.jump_to_now()
    # Then the view is at the newest item, the button is off, and new items are followed
    assert at_bottom(events) and events.is_following()
    assert not events.jump_button().isEnabled()
    assert events.list_view().currentIndex().row() == 39
    show(events, [*items, *markers(5, from_minute=60)])
    assert at_bottom(events)


# --- keyboard and activation


def test_up_and_down_move_and_enter_on_a_note_asks_to_amend_it(
    qtbot: QtBot, events: EventList
) -> None:
    # Given a note between other events, and the list focused on the last one
    note = item(20, LogKind.NOTE, "Note", detail="Calm, eyes closed")
    show(events, [item(10), note, item(30)])
    view = events.list_view()
    view.setFocus()
    view.setCurrentIndex(events.event_model().index(2, 0))
    # When Up moves to the note and Enter is pressed
    QTest.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().row() == 1
    with (
        qtbot.waitSignal(events.amend_requested) as amend,
        qtbot.waitSignal(events.item_activated) as activated,
    ):
        QTest.keyClick(view, Qt.Key.Key_Return)
    # Then the note is asked to be amended, and activated
    assert amend.args == [note.entry_id]
    assert activated.args == [note]
    # And Down moves on
    QTest.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 2


@pytest.mark.parametrize(
    "entry",
    [
        item(20, LogKind.DOSE, "Dose 100 mg"),
        item(20, LogKind.NOTE, "Note", state=EntryState.AMENDED, reason="typo"),
        item(20, LogKind.NOTE, "Note", state=EntryState.WITHDRAWN, reason="wrong session"),
    ],
    ids=["dose", "amended_note", "withdrawn_note"],
)
def test_enter_on_anything_else_only_activates_it(
    qtbot: QtBot, events: EventList, entry: LogItem
) -> None:
    show(events, [entry])
    view = events.list_view()
    view.setFocus()
    view.setCurrentIndex(events.event_model().index(0, 0))
    amended: list[object] = []
    events.amend_requested.connect(amended.append)
    with qtbot.waitSignal(events.item_activated) as activated:
        QTest.keyClick(view, Qt.Key.Key_Enter)
    assert activated.args == [entry]
    assert amended == []


def test_a_double_click_activates_the_row(qtbot: QtBot, events: EventList) -> None:
    dose = item(20, LogKind.DOSE, "Dose 100 mg")
    show(events, [dose])
    view = events.list_view()
    centre = view.visualRect(events.event_model().index(0, 0)).center()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # the press it pairs
    with qtbot.waitSignal(events.item_activated) as activated:
        QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert activated.args == [dose]


def test_the_list_and_its_controls_have_accessible_names(events: EventList) -> None:
    show(events, [item(1)], participants=COUPLE)
    assert events.list_view().accessibleName() == "Session events"
    assert events.jump_button().accessibleName() == "Jump to now"
    assert events.participant_combo().accessibleName() == "Show events for"
    assert events.kind_chip(LogKind.MUSIC).accessibleName() == "Show music"
    assert events.list_view().focusPolicy() & Qt.FocusPolicy.TabFocus


def test_entries_added_out_of_sight_are_in_view_when_the_list_is_shown(events: EventList) -> None:
    # Given a list following the newest, then hidden (another tab shown)
    items = markers(40)
    show(events, items)
    events.hide()
    # When entries are added while it is out of sight, and it is shown again
    for n in range(5):
        add(events, [item(60 + n, title=f"New {n}")])
    events.show()
    # Then the newest is in view and the list still follows
    assert at_bottom(events) and events.is_following()
    assert events.shown_items()[top_row(events) :][-1].title == "New 4"


def test_out_of_sight_a_late_entry_above_does_not_shift_what_was_read(events: EventList) -> None:
    # Given the reader scrolled to the middle, then the list hidden
    items = markers(40)
    show(events, items)
    bar = events.list_view().verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    reading = events.shown_items()[top_row(events)]
    events.hide()
    # When a late entry about an earlier moment is added while hidden, and the list is shown
    add(events, [item(0.2, title="Late", written_min=30)])
    events.show()
    # Then the row the reader had at the top is there again
    assert events.shown_items()[top_row(events)] == reading
    assert not events.is_following()
