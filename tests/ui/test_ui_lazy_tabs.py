"""The live screen's tabs are built when first shown, and then show the session as it stands."""

from __future__ import annotations

from PySide6.QtCore import Qt
from ui_harness import RunningApp

from kapsession.records.session_log import LogKind
from kapsession.ui.event_list import EventList
from kapsession.ui.live_view import CHART, NOTES, READINGS, RECORD
from kapsession.ui.note_pad import NotePadWidget
from kapsession.ui.readings_table import ReadingsTable
from kapsession.ui.session_note_page import SessionNotePage
from kapsession.ui.vitals_chart import BP_BAR, VitalsChart

LAZY = (NOTES, READINGS, CHART, RECORD)
LAZY_WIDGETS = (EventList, NotePadWidget, ReadingsTable, VitalsChart, SessionNotePage)


def built_widgets(app: RunningApp) -> list[str]:
    view = app.live_view
    return [kind.__name__ for kind in LAZY_WIDGETS if view.findChildren(kind)]


def add_marker(app: RunningApp, text: str) -> None:
    app.key(Qt.Key.Key_M)
    app.type(text)
    app.key(Qt.Key.Key_Return)
    assert text in app.markers()
    app.key(Qt.Key.Key_Escape)  # the keys back to the screen


def test_tabs_are_built_when_first_shown_with_what_was_saved_before(app: RunningApp) -> None:
    # Given an open session with a baseline reading and a marker saved on the check-in tab
    app.start_session("Maya Fischer")
    app.advance(5 * 60)
    app.baseline_by_keyboard("131", "84")
    add_marker(app, "Eye mask on")
    view = app.live_view
    # Then none of the other tabs is built yet
    assert [name for name in LAZY if view.built(name)] == []
    assert built_widgets(app) == []
    # When R shows the readings
    app.key(Qt.Key.Key_R)
    # Then only that tab is built, and it lists the reading saved before it existed
    assert [name for name in LAZY if view.built(name)] == [READINGS]
    model = view.readings.readings_model()
    assert model.rowCount() == 1
    assert "131/84" in [str(model.index(0, c).data()) for c in range(model.columnCount())]
    assert view.readings.isVisible()
    # When G shows the chart: its blood pressure bar is the reading's
    app.key(Qt.Key.Key_G)
    assert view.built(CHART)
    bars = [[(p.x(), p.y()) for p in s.points()] for s in view.chart.series_of(BP_BAR)]
    assert bars == [[(5.0, 84.0), (5.0, 131.0)]]
    # When N shows the notes: the event list holds the marker
    assert not view.built(NOTES)
    app.key(Qt.Key.Key_N)
    assert view.built(NOTES)
    markers = [i.title for i in view.events.shown_items() if i.kind is LogKind.MARKER]
    assert markers == ["Eye mask on"]
    # When the session note tab is chosen: its page shows this session
    assert not view.built(RECORD)
    view.tabs.setCurrentWidget(view.record_page)
    assert view.built(RECORD)
    (page,) = view.findChildren(SessionNotePage)
    assert page.session_id() == app.session().id
    app.leave_session()


def test_tabs_built_in_one_session_show_the_next_one(app: RunningApp) -> None:
    # Given the Notes and Readings tabs built in a first session, with a marker and a reading
    app.start_session("Maya Fischer")
    app.baseline_by_keyboard("131", "84")
    add_marker(app, "Eye mask on")
    app.key(Qt.Key.Key_R)
    app.key(Qt.Key.Key_N)
    app.leave_session()
    # When a second session opens
    app.start_session("Jonas Berg")
    # Then the tabs, already built, show the second session only: nothing of the first
    view = app.live_view
    assert view.built(NOTES) and view.built(READINGS)

    def markers() -> list[str]:
        return [i.title for i in view.events.shown_items() if i.kind is LogKind.MARKER]

    assert markers() == []
    assert view.readings.readings_model().rowCount() == 0
    # And its own entries join them
    add_marker(app, "Tearful")
    assert markers() == ["Tearful"]
    app.leave_session()
