"""Every control of the live screen shows when it has the keys: with the focus it has the
focus colour at its edge (a ring), which it has not without; a tick box, a slider and the tab
bar anywhere. The highlighted buttons (Save check-in, a pad switch that is on) included: their
own style must not hide the ring."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QAbstractButton, QApplication, QCheckBox, QSlider, QTabBar, QWidget
from ui_harness import RunningApp

from kapsession.ui import theme
from kapsession.ui.live_view import CHART, NOTES, READINGS, RECORD

EDGE_PX = 3  # a focus ring is drawn within this many pixels of the control's edge
ANYWHERE = (QCheckBox, QSlider, QTabBar)  # their focus is no ring round the whole control


def picture(widget: QWidget) -> QImage:
    QApplication.processEvents()
    return widget.grab().toImage()


def focus_pixels(image: QImage, *, edge_only: bool) -> int:
    """How many pixels have the focus colour (at the edge only, or anywhere)."""
    ring = QColor(theme.FOCUS).rgb()
    width, height = image.width(), image.height()
    count = 0
    for y in range(height):
        near_edge_row = y < EDGE_PX or y >= height - EDGE_PX
        xs = range(width) if near_edge_row or not edge_only else (
            *range(EDGE_PX), *range(width - EDGE_PX, width)
        )  # fmt: skip
        count += sum(1 for x in xs if image.pixel(x, y) == ring)
    return count


def controls(root: QWidget) -> list[QWidget]:
    """What takes the keys by Tab, on screen and enabled."""
    return [
        widget
        for widget in root.findChildren(QWidget)
        if widget.isVisible()
        and widget.isEnabled()
        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus
        and widget.focusProxy() is None
    ]


def test_every_control_on_every_tab_shows_the_focus(app: RunningApp) -> None:
    # Given a couples session (the participant list, the nurse board) with the first dose
    # given, so that the booster and discharge buttons are live, and every tab built
    app.start_session("Maya Fischer", "Jonas Weber", modality="couples")
    app.baseline_by_keyboard()
    app.dose_by_keyboard("200")
    view = app.live_view
    for name in (NOTES, READINGS, CHART, RECORD):
        view.build_tab(name)
    app.ready()  # the window has the keys again after the dose dialog
    hidden: list[str] = []
    seen = 0
    for index in range(view.tabs.count()):
        view.tabs.setCurrentIndex(index)
        for control in controls(view):
            # When the control is pictured without the keys, then with them
            view.setFocus()
            before = picture(control)
            control.setFocus()
            assert QApplication.focusWidget() is control
            after = picture(control)
            seen += 1
            # Then it has more of the focus colour with the keys (at its edge: a ring)
            edge_only = not isinstance(control, ANYWHERE)
            ring = focus_pixels(after, edge_only=edge_only)
            if ring <= focus_pixels(before, edge_only=edge_only):
                label = control.text() if isinstance(control, QAbstractButton) else ""
                hidden.append(f"{type(control).__name__} {control.accessibleName()!r} {label!r}")
    assert seen > 40  # the test saw the screen's controls
    assert hidden == [], "no visible focus: " + "; ".join(sorted(set(hidden)))
    app.leave_session()
