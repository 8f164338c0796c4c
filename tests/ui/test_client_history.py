"""A client's course history from the start screen, by keyboard: select the client, H, the
table and trend show the sessions, Esc goes back with the client still selected."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from support.team import team, usual_order
from ui_harness import PROTOCOL_KEY, START, MakeApp, RunningApp

from kapsession.ui.client_history_view import COLUMNS, NO_MEASURES

CTRL = Qt.KeyboardModifier.ControlModifier
REPO_ROOT = Path(__file__).resolve().parents[2]


def _column(title: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.title == title)


def _past_session(app: RunningApp, client_id: uuid.UUID, dose: str, peak: str) -> None:
    """A session played through the services on the fake clock: baseline, dose, the T+40
    reading, ended."""
    service, clock = app.context.service, app.clock
    record = service.start_session(
        protocol_key=PROTOCOL_KEY,
        client_ids=[client_id],
        modality="individual",
        at=clock.now(),
        **team(service, clock.now()),
        order=usual_order(service, PROTOCOL_KEY, clock.now(), dose_mg=float(dose.split()[0])),
    )
    participant = record.participants[0].id

    def reading(values: dict[str, str], key: str) -> None:
        at = clock.now()
        saved = service.checkins.save_checkin(
            record.id, participant, values, occurred_at=at, recorded_at=at, checkin_key=key
        )
        assert saved.saved, saved.message

    clock.advance(5 * 60)
    reading({"bp": "122/78", "heart_rate_bpm": "70", "spo2_pct": "98"}, "baseline")
    clock.advance(30 * 60)
    at = clock.now()
    given = service.checkins.record_dose(
        record.id, participant, dose, occurred_at=at, recorded_at=at
    )
    assert given.dose is not None
    clock.advance(40 * 60)
    reading({"bp": peak, "heart_rate_bpm": "82", "spo2_pct": "96"}, "t40")
    clock.advance(90 * 60)
    service.end_session(record.id, at=clock.now())
    clock.advance(7 * 24 * 3600)


def _open_history_of(app: RunningApp, search: str) -> None:
    """Ctrl+F, type the search, Enter (to the list, the client selected), then H."""
    app.controller.refresh_start()
    app.key(Qt.Key.Key_F, CTRL)
    app.type(search)
    app.key(Qt.Key.Key_Return)
    assert app.ready() is app.start_view.client_list
    app.key(Qt.Key.Key_H)


@pytest.fixture
def maya(app: RunningApp) -> uuid.UUID:
    """Maya Fischer with three ended sessions (200, 250, 300 mg), and another client."""
    service = app.context.service
    maya = service.add_client("Maya", "Fischer", at=app.clock.now(), record_number="KAP-0042")
    other = service.add_client("Sam", "Reyes", at=app.clock.now())
    for dose, peak in (("200", "150/92"), ("250", "184/98"), ("300", "160/95")):
        _past_session(app, maya.id, dose, peak)
    _past_session(app, other.id, "400", "170/100")
    return maya.id


def test_h_on_the_client_list_shows_the_clients_sessions(app: RunningApp, maya: uuid.UUID) -> None:
    # Given the start screen with Maya selected in the client list; When H is pressed
    _open_history_of(app, "Fischer")
    view = app.window.history_view
    # Then her history is shown: name, record number and count, her three sessions
    assert app.window.stack.currentWidget() is view
    assert view.title.text() == "Maya Fischer"
    assert view.subtitle.text() == "KAP-0042  ·  3 sessions  ·  1 course"
    model = view.table.history_model()
    assert model.rowCount() == 3
    cells = model.cells()
    assert [row[_column("Dose mg")] for row in cells] == ["200", "250", "300"]
    assert [row[_column("No.")] for row in cells] == ["1", "2", "3"]
    assert [row[_column("Peak BP")] for row in cells] == ["150/92", "184/98", "160/95"]
    assert [row[_column("Baseline BP")] for row in cells] == ["122/78"] * 3
    assert [row[_column("Alerts")] for row in cells] == ["0", "1", "0"]
    assert {row[_column("Status")] for row in cells} == {"ended"}
    assert {row[_column("Route")] for row in cells} == {"sublingual"}
    # And the trend has a dose and a peak systolic point per session
    assert [p.y() for p in view.chart.dose.points()] == [200.0, 250.0, 300.0]
    assert [p.y() for p in view.chart.systolic.points()] == [150.0, 184.0, 160.0]
    # And the table has the keys, on the newest session; no questionnaire is said to be recorded
    assert app.ready() is view.table
    assert view.table.currentIndex().row() == 2
    assert view.no_measures.text() == NO_MEASURES and view.no_measures.isVisible()
    assert not view.measures.isVisible()


@pytest.mark.parametrize(
    "leave",
    [
        pytest.param([Qt.Key.Key_Escape], id="escape"),
        pytest.param([Qt.Key.Key_Tab, Qt.Key.Key_Return], id="tab-to-back-and-enter"),
    ],
)
def test_esc_or_back_returns_to_the_start_screen_with_the_client_selected(
    app: RunningApp, maya: uuid.UUID, leave: list[Qt.Key]
) -> None:
    # Given Maya's history open
    _open_history_of(app, "Fischer")
    assert app.window.stack.currentWidget() is app.window.history_view
    # When Esc is pressed (or Tab to Back, Enter)
    for which in leave:
        app.key(which)
    # Then the start screen is back, its client list taking keys with Maya still selected
    assert app.window.stack.currentWidget() is app.start_view
    assert app.ready() is app.start_view.client_list
    assert app.start_view.selected_client() == maya
    # And H opens the history again
    app.key(Qt.Key.Key_H)
    assert app.window.stack.currentWidget() is app.window.history_view


def test_h_in_the_search_field_is_typed_not_a_shortcut(app: RunningApp, maya: uuid.UUID) -> None:
    # Given the search field has the keys; When H is typed
    app.controller.refresh_start()
    app.key(Qt.Key.Key_F, CTRL)
    app.type("h")
    # Then it is part of the search and the start screen stays
    assert isinstance(app.ready(), QLineEdit)
    assert app.start_view.search.text() == "h"
    assert app.window.stack.currentWidget() is app.start_view


def test_a_client_without_sessions_says_so(app: RunningApp) -> None:
    # Given a client who has had no session yet
    app.context.service.add_client("Noor", "Haddad", at=app.clock.now())
    # When their history is opened
    _open_history_of(app, "Haddad")
    view = app.window.history_view
    # Then the view says there is nothing yet, with no table or chart, and Esc still leaves
    assert view.subtitle.text() == "no record number  ·  0 sessions  ·  0 courses"
    assert view.empty.isVisible()
    assert not view.table.isVisible() and not view.chart.isVisible()
    app.key(Qt.Key.Key_Escape)
    assert app.window.stack.currentWidget() is app.start_view


def _big_database() -> ModuleType:
    if "big_database" not in sys.modules:
        path = REPO_ROOT / "benchmarks" / "big_database.py"
        spec = importlib.util.spec_from_file_location("big_database", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["big_database"] = module
        spec.loader.exec_module(module)
    return sys.modules["big_database"]


def test_a_long_history_opens_with_every_session_and_the_newest_in_view(
    make_app: MakeApp, tmp_path: Path
) -> None:
    # Given a clinic's database where one client has had 120 sessions over two years
    data = tmp_path / "data"
    data.mkdir()
    made = _big_database().build(
        data / "kapsession.sqlite3", sessions=140, history_sessions=120, now=START
    )
    app = make_app(data_dir=data)
    # When her history is opened by record number and H
    _open_history_of(app, "KAP-00001")
    view = app.window.history_view
    # Then all 120 sessions are in the table and the trend, the newest selected and in view
    assert view.client_id == made.history_client_id
    assert view.table.history_model().rowCount() == 120
    assert len(view.chart.dose.points()) == 120
    assert view.subtitle.text() == "KAP-00001  ·  120 sessions  ·  20 courses"
    newest = view.table.currentIndex()
    assert newest.row() == 119
    assert view.table.viewport().rect().intersects(view.table.visualRect(newest))
