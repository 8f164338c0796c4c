"""The live screen fits the room laptop: at 1366x768 and 1280x720, in an individual and a group
session, with and without an open alert, on the check-in (C pressed), the Notes tab (a note
saved), the private notes and the session note, no widget lies outside the window or is cut
off by what holds it (only the contents of a list or a text's own scroll area may be out of
sight), and no text is wider than its label, button, box or tab. Each screen is saved as a
picture for a look by eye (nothing is compared pixel by pixel): the folder is printed (pytest
-s) and kept in pytest's temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionFrame,
    QTabBar,
    QWidget,
)
from support.multi_participant import LiveData, copy_live
from ui_harness import MakeApp, RunningApp

from kapsession.domain.clock import FakeClock
from kapsession.ui.live_view import NOTES, RECORD, LiveView

SIZES = {"1366x768": QSize(1366, 768), "1280x720": QSize(1280, 720)}
SESSIONS = ("individual", "group")
ALERT = {"alert": True, "no-alert": False}
LINE_EDIT_MARGIN_PX = 2  # QLineEdit's own margin round its text (qlineedit_p.h)
SHIFT = Qt.KeyboardModifier.ShiftModifier
NOTE = [Qt.Key.Key_C, Qt.Key.Key_A, Qt.Key.Key_L, Qt.Key.Key_M]  # "calm", typed in the note box


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("laptop-screens")
    yield folder
    print(f"\nthe live screen at laptop sizes: {folder}")


# what lies outside the window, what is cut ---------------------------------------------------
def rect_in(window: QWidget, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def scrolls_its_contents(widget: QWidget, view: LiveView) -> bool:
    """Whether `widget` is inside the viewport of a list's, a table's or a text's own scroll
    area (its contents may be out of sight), not the screen's own."""
    parent = widget.parentWidget()
    while parent is not None and parent is not view:
        area = parent.parentWidget()
        if isinstance(area, QAbstractScrollArea) and area.viewport() is parent:
            return area is not view._scroll
        parent = area
    return False


def outside(window: QWidget, view: LiveView) -> list[str]:
    """Visible widgets lying outside the window, or outside what holds them."""
    found = []
    for widget in view.findChildren(QWidget):
        if not widget.isVisible() or widget.width() == 0 or scrolls_its_contents(widget, view):
            continue
        where = rect_in(window, widget)
        holder = widget.parentWidget()
        while holder is not None and holder is not window:
            if not rect_in(window, holder).contains(where):
                found.append(f"{describe(widget)} at {where.getRect()} outside {describe(holder)}")
                break
            holder = holder.parentWidget()
    return found


def describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QLabel | QAbstractButton | QLineEdit) else ""
    name = widget.accessibleName() or widget.objectName()
    return f"{type(widget).__name__}({name!r} {text[:40]!r})"


def text_width(widget: QWidget, text: str) -> int:
    metrics = widget.fontMetrics()
    return max(metrics.horizontalAdvance(line) for line in text.splitlines() or [""])


def cut(view: LiveView) -> list[str]:
    """Texts wider than the label, button, box or tab that shows them."""
    found = []
    for widget in view.findChildren(QWidget):
        if not widget.isVisible() or scrolls_its_contents(widget, view):
            continue
        if isinstance(widget, QLabel) and widget.text():
            if widget.wordWrap():
                if widget.heightForWidth(widget.width()) > widget.height():
                    found.append(f"{describe(widget)}: wrapped, taller than its label")
            elif text_width(widget, widget.text()) > widget.contentsRect().width():
                found.append(f"{describe(widget)}: wider than its label")
        elif isinstance(widget, QAbstractButton) and widget.text():
            if widget.sizeHint().width() > widget.width():
                found.append(f"{describe(widget)}: wider than its button")
        elif isinstance(widget, QComboBox) and widget.currentText():
            option = QStyleOptionComboBox()
            widget.initStyleOption(option)
            needed = widget.style().sizeFromContents(
                QStyle.ContentsType.CT_ComboBox,
                option,
                QSize(text_width(widget, widget.currentText()), widget.fontMetrics().height()),
                widget,
            )
            if needed.width() > widget.width():
                found.append(f"{describe(widget)} {widget.currentText()!r}: wider than its box")
        elif isinstance(widget, QLineEdit) and not widget.text() and widget.placeholderText():
            option = QStyleOptionFrame()
            widget.initStyleOption(option)
            room = widget.style().subElementRect(
                QStyle.SubElement.SE_LineEditContents, option, widget
            )
            margins = widget.textMargins()
            room_px = room.width() - margins.left() - margins.right() - 2 * LINE_EDIT_MARGIN_PX
            if text_width(widget, widget.placeholderText()) > room_px:
                found.append(f"{describe(widget)} {widget.placeholderText()!r}: wider than its box")
        elif isinstance(widget, QTabBar):
            for index in range(widget.count()):
                shown = widget.tabRect(index)
                if (
                    shown.right() >= widget.width()
                    or shown.width() < widget.tabSizeHint(index).width()
                ):
                    found.append(f"tab {widget.tabText(index)!r}: cut")
    if view.board.isVisible() and view.board.horizontalScrollBar().maximum() > 0:
        found.append("the nurse board: wider than its panel (a column out of sight)")
    return found


# the sessions ---------------------------------------------------------------------------------
def individual(make_app: MakeApp, alert: bool) -> RunningApp:
    """Maya at T+15: a baseline, the dose 40 minutes in, an unscheduled reading (over the alert
    limit, or not), the T+15 check-in with its BP alone."""
    app = make_app()
    app.start_session("Maya Fischer")
    live = app.controller.live
    assert live is not None
    (maya,) = live.participants
    app.advance(6 * 60)
    values = {"systolic_mmhg": "124", "diastolic_mmhg": "80", "heart_rate_bpm": "72"}
    assert live.save_checkin(maya.id, values, checkin_key="baseline", ask_before_partial=False)
    app.advance(34 * 60)
    app.dose_by_keyboard("200")
    app.advance(5 * 60)
    high = {"systolic_mmhg": "186" if alert else "138", "diastolic_mmhg": "96"}
    assert live.save_checkin(maya.id, high)
    app.advance(9 * 60)
    # T+14: the T+15 check-in with its BP alone, a caution: a long message on the last line
    partial = {"systolic_mmhg": "150", "diastolic_mmhg": "102"}
    assert live.save_checkin(maya.id, partial, checkin_key="t15", ask_before_partial=False)
    assert len(app.live_view.saved.text()) > 100, app.live_view.saved.text()
    app.advance(60)
    return app


def group(make_app: MakeApp, data: LiveData, folder: Path, alert: bool) -> RunningApp:
    """The group of three of the shared test data, 61 minutes in (resumed), the second
    participant's reading over the alert limit, or not."""
    app = make_app(data_dir=copy_live(data, folder), clock=FakeClock(data.now))
    assert app.ready() is app.start_view.resume_button
    app.key(Qt.Key.Key_Return)
    live = app.controller.live
    assert live is not None
    app.advance(2 * 60)
    second = live.participants[1]
    values = {"systolic_mmhg": "186" if alert else "132", "diastolic_mmhg": "96"}
    assert live.save_checkin(second.id, values)
    return app


@pytest.mark.parametrize("alert", ALERT, ids=list(ALERT))
@pytest.mark.parametrize("session", SESSIONS)
@pytest.mark.parametrize("size", SIZES)
def test_the_live_screen_fits_the_laptop(
    make_app: MakeApp,
    live_multi_participant: dict[str, LiveData],
    tmp_path: Path,
    pictures: Path,
    size: str,
    session: str,
    alert: str,
) -> None:
    # Given a session on the window at the laptop's size
    if session == "individual":
        app = individual(make_app, ALERT[alert])
    else:
        app = group(make_app, live_multi_participant["group"], tmp_path / "data", ALERT[alert])
    view = app.live_view
    assert view.alerts.isVisible() is ALERT[alert]
    app.window.showNormal()  # (opened maximised on the tests' laptop screen)
    app.window.resize(SIZES[size])
    QApplication.processEvents()
    assert app.window.size() == SIZES[size]
    for screen, keys in (
        ("checkin", [Qt.Key.Key_C]),
        ("notes", [Qt.Key.Key_N, *NOTE, Qt.Key.Key_Return, Qt.Key.Key_Escape]),
        ("private-notes", [(Qt.Key.Key_N, SHIFT)]),  # and Undo offered for the note
        ("session-note", [Qt.Key.Key_Escape, Qt.Key.Key_S]),
    ):
        # When C, N (a note saved), Shift+N or S shows the check-in form, the notes, the
        # private notes or the session note
        for key in keys:
            app.key(*key) if isinstance(key, tuple) else app.key(key)
        QApplication.processEvents()
        app.window.grab().save(str(pictures / f"{size}-{session}-{alert}-{screen}.png"))
        # Then the window kept its size (nothing on the screen asks for more), nothing lies
        # outside it or is cut off, and no text is cut
        assert app.window.size() == SIZES[size], screen
        assert outside(app.window, view) == [], screen
        assert cut(view) == [], screen
    assert view.built(NOTES) and view.built(RECORD)
    app.leave_session()
