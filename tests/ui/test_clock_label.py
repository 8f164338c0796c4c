"""The clock label shows its text at the size a plain label would take, and a new second
repaints only the label: nothing asks the live screen to be laid out again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QFrame, QGridLayout, QLabel, QWidget
from pytestqt.qtbot import QtBot
from ui_harness import RunningApp

from kapsession.ui import theme
from kapsession.ui.clock_label import LEFT_MIDDLE, ClockLabel
from kapsession.ui.theme import apply_room_theme


class LayoutRequests(QObject):
    """Counts the layout requests that reach the watched widgets."""

    def __init__(self, *watched: QWidget) -> None:
        super().__init__()
        self.count = 0
        for widget in watched:
            widget.installEventFilter(self)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


@pytest.fixture
def panel(qtbot: QtBot, qapp: QApplication) -> Iterator[QFrame]:
    """A panel in the room theme, as on the live screen (the theme is put back afterwards)."""
    apply_room_theme(qapp)
    frame = QFrame()
    frame.setObjectName("panel")
    QGridLayout(frame)
    frame.resize(600, 200)
    qtbot.addWidget(frame)
    yield frame
    apply_room_theme(qapp)


def add(panel: QFrame, label: QLabel, object_name: str, row: int) -> QLabel:
    label.setObjectName(object_name)
    layout = panel.layout()
    assert isinstance(layout, QGridLayout)
    layout.addWidget(label, row, 0, LEFT_MIDDLE)
    return label


def plain_size(panel: QFrame, object_name: str, text: str) -> QSize:
    """What a plain QLabel with the same style asks for to show `text` (after another text: a
    QLabel never given a text asks for a character's width even when empty)."""
    reference = QLabel("x", panel)
    reference.setObjectName(object_name)
    reference.setText(text)
    reference.ensurePolished()
    size = reference.sizeHint()
    reference.deleteLater()
    return size


@pytest.mark.parametrize("object_name", ["clock", "doseClock", "dim"])
def test_a_new_second_repaints_without_a_new_layout(
    panel: QFrame, qtbot: QtBot, object_name: str
) -> None:
    # Given a clock label and a plain label on a shown panel, settled
    clock = add(panel, ClockLabel("0:12:33"), object_name, 0)
    plain = add(panel, QLabel("0:12:33"), object_name, 1)
    panel.show()
    qtbot.waitExposed(panel)
    settle()
    size = clock.size()
    requests = LayoutRequests(panel)
    # When the clock turns over
    clock.setText("0:12:34")
    settle()
    # Then it shows the new second at the same size, and the panel was not laid out again
    assert (clock.text(), clock.size(), requests.count) == ("0:12:34", size, 0)
    # (while the same change on a plain label does ask for a layout: the count can fail)
    plain.setText("0:12:34")
    settle()
    assert requests.count > 0


@pytest.mark.parametrize(
    ("object_name", "texts"),
    [
        ("clock", ["0:00:00", "0:00:01", "9:59:59", "10:00:00"]),
        ("doseClock", ["—", "no dose yet", "T+0:00:00", "T+1:11:11"]),
        ("dim", ["", "♪ music stopped — P plays the phase's playlist", "♪ Peak — 4:08 left"]),
    ],
)
def test_its_size_follows_the_text_both_ways(
    panel: QFrame, qtbot: QtBot, object_name: str, texts: list[str]
) -> None:
    # Given a clock label on a shown panel
    clock = add(panel, ClockLabel(), object_name, 0)
    assert isinstance(clock, ClockLabel)
    panel.show()
    qtbot.waitExposed(panel)
    for text in texts:
        # When it shows each text in turn (longer, then shorter)
        clock.setText(text)
        settle()
        # Then it is exactly as big as a plain label would be for that shape of text (every
        # digit the widest), so nothing is cut off and nothing is left over
        assert clock.text() == text
        assert clock.size() == plain_size(panel, object_name, clock.shape_of(text)), text
        assert clock.width() >= plain_size(panel, object_name, text).width(), text


def test_an_opaque_clock_paints_the_panel_colour_itself(
    panel: QFrame, qtbot: QtBot, qapp: QApplication
) -> None:
    # Given a clock label told the panel's colour, and one not told
    opaque = add(panel, ClockLabel("0:00:00", background=theme.PANEL), "clock", 0)
    see_through = add(panel, ClockLabel("0:00:00"), "clock", 1)
    panel.show()
    qtbot.waitExposed(panel)
    # When the style is applied again: the app's sheet, then the label's own (as a line's
    # colour is set on the live screen)
    qapp.setStyleSheet(theme.STYLESHEET + "\nQLabel#unused { color: red; }")
    settle()
    assert opaque.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    opaque.setStyleSheet(f"color: {theme.TEXT};")
    see_through.setStyleSheet(f"color: {theme.TEXT};")
    settle()
    # Then the first still paints its own background, so what lies under it is not repainted
    assert opaque.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    assert not see_through.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    corner = opaque.grab().toImage().pixelColor(0, 0)
    assert corner == QColor(theme.PANEL)


def test_the_live_screen_ticks_without_a_new_layout(app: RunningApp) -> None:
    # Given a live session half a minute in, its screen settled
    app.start_session("Maya Fischer")
    app.advance(30)
    settle()
    view = app.live_view
    requests = LayoutRequests(view.elapsed.parentWidget(), view.music_line.parentWidget())
    # When the session clock turns over three times
    for second in (31, 32, 33):
        app.advance(1)
        settle()
        # Then the clock shows each second, and no panel was laid out again for it
        assert view.elapsed.text() == f"0:00:{second}"
    assert requests.count == 0
    app.leave_session()
