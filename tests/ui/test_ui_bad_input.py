"""Wrong or missing input, and a database that refuses to write: a message, nothing stored,
nothing typed lost."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from ui_harness import (
    MakeApp,
    ModalHandler,
    RunningApp,
    describe,
    fill_dose,
    key,
    press,
    type_text,
)

from kapsession.storage import database as database_module
from kapsession.ui.dialogs import ClientDialog, NewSessionDialog
from kapsession.ui.dose_dialog import DoseDialog

CTRL = Qt.KeyboardModifier.ControlModifier
ENTER = Qt.Key.Key_Return
NAMES = "Enter the client's first and last name."
DATE_FORMAT = "Write the date of birth as YYYY-MM-DD, e.g. 1984-03-02."
IMPOSSIBLE = "That date of birth is not possible; check it."


def refused(fields: tuple[str, ...], problems: list[str]) -> ModalHandler:
    """An answer that types `fields` (Tab between), presses Enter, expects the dialog to stay
    open with its problem shown, notes the problem, then cancels with Escape."""

    def handler(dialog: QWidget) -> None:
        for index, text in enumerate(fields):
            if index:
                key(Qt.Key.Key_Tab)
            type_text(text)
        key(ENTER)
        assert dialog.isVisible(), f"{describe(dialog)} accepted what it should refuse"
        problem = dialog.findChild(QLabel, "banner")
        assert isinstance(problem, QLabel) and problem.isVisible()
        problems.append(problem.text())
        key(Qt.Key.Key_Escape)

    return handler


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (("", "Fischer"), NAMES),
        (("Maya", ""), NAMES),
        (("   ", "  "), NAMES),
        (("Maya", "Fischer", "1984-02-30"), DATE_FORMAT),
        (("Maya", "Fischer", "02/03/1984"), DATE_FORMAT),
        (("Maya", "Fischer", "2999-01-01"), IMPOSSIBLE),
        (("Maya", "Fischer", "1850-06-01"), IMPOSSIBLE),
    ],
    ids=[
        "no-first-name",
        "no-last-name",
        "blank-names",
        "february-30",
        "wrong-format",
        "future",
        "before-1900",
    ],
)
def test_the_client_dialog_refuses_bad_input_and_stores_nothing(
    app: RunningApp, fields: tuple[str, ...], message: str
) -> None:
    # Given the client dialog (Ctrl+N); When bad input is typed and Enter pressed
    problems: list[str] = []
    with app.answering(refused(fields, problems)) as seen:
        app.key(Qt.Key.Key_N, CTRL)
    # Then the dialog said what is wrong, and no client was stored
    assert seen[0].kind == ClientDialog.__name__
    assert problems == [message]
    assert app.context.service.clients.search("") == []
    assert app.start_view.client_list.count() == 0


def test_starting_a_session_without_any_client_says_what_to_do(app: RunningApp) -> None:
    # Given no clients; When Ctrl+Return asks for a new session
    with app.answering(press(ENTER)) as seen:
        app.key(ENTER, CTRL)
    # Then a message says to add the client first, and no session exists
    assert [(a.title, a.text) for a in seen] == [
        ("No client yet", "Add the client first with New client (Ctrl+N).")
    ]
    assert app.context.service.sessions.count() == 0


def test_a_new_session_with_no_client_chosen_is_refused(app: RunningApp) -> None:
    # Given a client, but a search (Ctrl+F) that leaves none selected
    app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.controller.refresh_start()
    app.key(Qt.Key.Key_F, CTRL)
    app.type("nobody")
    assert app.start_view.selected_client() is None
    # When Ctrl+Return opens the new-session dialog and Enter is pressed straight away
    problems: list[str] = []
    with app.answering(refused((), problems)) as seen:
        app.key(ENTER, CTRL)
    # Then the dialog asks for the client, and no session was started
    assert seen[0].kind == NewSessionDialog.__name__
    assert problems == ["Choose the client for this session."]
    assert app.context.service.sessions.count() == 0
    assert app.window.stack.currentWidget() is app.start_view


@pytest.mark.parametrize("typed", ["", "   "], ids=["empty", "spaces"])
def test_an_empty_marker_is_refused_with_a_message(app: RunningApp, typed: str) -> None:
    # Given a live session; When M, nothing (or spaces) and Enter
    app.start_session("Maya Fischer")
    app.key(Qt.Key.Key_M)
    app.type(typed)
    app.key(ENTER)
    # Then the banner says so and nothing is stored
    view = app.live_view
    assert view.failure.isVisible()
    assert view.failure.text() == "Type what happened, then press Enter. Nothing was saved."
    assert app.markers() == []
    app.leave_session()


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app gives up on a locked database after 0.2 s instead of 5 s."""
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_MS", 200)


@pytest.fixture
def make_locked_app(make_app: MakeApp, short_busy_timeout: None) -> MakeApp:
    return make_app


class WriteLock:
    """Another program holding the write lock of the app's database file, for real."""

    def __init__(self, app: RunningApp) -> None:
        path = app.context.database.file
        assert path is not None
        self._connection: sqlite3.Connection | None = sqlite3.connect(
            path, timeout=0, isolation_level=None
        )

    def __enter__(self) -> WriteLock:
        assert self._connection is not None
        self._connection.execute("BEGIN EXCLUSIVE")
        return self

    def release(self) -> None:
        """The other program lets go of the lock (once; later calls do nothing)."""
        if self._connection is not None:
            self._connection.execute("ROLLBACK")
            self._connection.close()
            self._connection = None

    def __exit__(self, *_exc: object) -> None:
        self.release()


@pytest.fixture
def locked_app(make_locked_app: MakeApp) -> RunningApp:
    app = make_locked_app()
    app.start_session("Maya Fischer")
    return app


def test_a_marker_the_database_refuses_stays_typed_until_it_saves(locked_app: RunningApp) -> None:
    app, view = locked_app, locked_app.live_view
    with WriteLock(app):
        # Given the database locked by another program; When a marker is typed and Enter pressed
        app.key(Qt.Key.Key_M)
        app.type("Asked for water")
        app.key(ENTER)
        # Then the banner says what is wrong and what to do, and the text is still there
        assert view.failure.isVisible()
        assert "busy in another program" in view.failure.text()
        assert "again" in view.failure.text()
        assert view.marker.text() == "Asked for water"
        assert app.ready() is view.marker
        assert app.markers() == []
    # When the lock is gone and Enter is pressed again
    app.key(ENTER)
    # Then it is saved once, the field is cleared and the banner gone
    assert app.markers() == ["Asked for water"]
    assert view.marker.text() == ""
    assert not view.failure.isVisible()
    app.leave_session()


def test_a_dose_the_database_refuses_stays_in_the_form_until_it_saves(
    locked_app: RunningApp,
) -> None:
    app, view = locked_app, locked_app.live_view
    app.baseline_by_keyboard()
    refusals: list[str] = []
    with WriteLock(app) as lock:

        def read_the_refusal_then_save_again(dialog: QWidget) -> None:
            # Then the form is back with the dose still typed and says it was NOT saved; the
            # banner explains, and the clock still waits for the dose
            assert isinstance(dialog, DoseDialog)
            refusals.append(dialog.problem.text())
            assert dialog.dose.text() == "200"
            assert "busy in another program" in view.failure.text()
            assert view.since_dose.text() == "no dose yet"
            assert app.doses() == []
            # When the lock is gone and Enter is pressed again in the same form
            lock.release()
            key(ENTER)

        # Given the database locked by another program; When D, the dose typed, Enter
        with app.answering(fill_dose("200"), read_the_refusal_then_save_again) as seen:
            app.key(Qt.Key.Key_D)
    assert [a.title for a in seen] == ["Initial dose — Maya Fischer"] * 2
    assert refusals and refusals[0].startswith("The dose was NOT saved")
    # Then the dose is saved once, and the banner is gone
    (dose,) = app.doses()
    assert dose.dose_mg == 200.0
    assert view.since_dose.text() == "T+0:00:00"
    assert not view.failure.isVisible()
    app.leave_session()
