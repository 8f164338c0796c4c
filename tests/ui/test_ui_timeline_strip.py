"""The timeline strip paints at every stage of a session; its now line and marks sit where the
session clock says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.logging import _QtMessageCapture
from pytestqt.qtbot import QtBot
from ui_harness import START, RunningApp

from kapsession.ui import theme
from kapsession.ui.timeline_strip import TimelineStrip

LEFT_PX = 8  # the strip's margin on each side
NOW_ROW = 3  # above the marks and the phase band: only the now line is drawn there
BAND_ROW = 29  # inside the phase band, above its label
DOSE_ROW = 8  # inside the dose triangle
PHASES = ("Arrival", "Intention", "Onset", "Peak", "Re-entry", "Early integration", "Discharge")


@dataclass(frozen=True)
class Stage:
    name: str
    dose_min: float | None
    now_min: float
    end_min: float | None = None  # Ctrl+E at this minute
    couples: bool = False
    current_phase: int | None = None


STAGES = [
    Stage("start", None, 0, current_phase=0),
    Stage("before-dose", None, 30, current_phase=1),
    Stage("mid-session", 40, 90, current_phase=3),
    Stage("after-end", 40, 150, end_min=120, current_phase=4),
    Stage("past-planned-end", 40, 200),
    Stage("couples", 40, 90, couples=True, current_phase=3),
]


def image_of(strip: TimelineStrip) -> QImage:
    image = strip.grab().toImage()
    assert image.devicePixelRatio() == 1.0, "the offscreen platform paints at scale 1"
    assert (image.width(), image.height()) == (strip.width(), strip.height())
    return image


def near(colour: QColor, expected: str, tolerance: int = 6) -> bool:
    want = QColor(expected)
    return all(
        abs(a - b) <= tolerance
        for a, b in zip(
            (colour.red(), colour.green(), colour.blue()),
            (want.red(), want.green(), want.blue()),
            strict=True,
        )
    )


def columns_of(image: QImage, row: int, colour: str) -> list[int]:
    return [x for x in range(image.width()) if near(image.pixelColor(x, row), colour)]


def x_of(at: datetime, start: datetime, end: datetime, width_px: int) -> float:
    """Where the strip must draw `at`: the session from start to `end` fills the width."""
    fraction = (at - start) / (end - start)
    return LEFT_PX + (width_px - 2 * LEFT_PX) * min(max(fraction, 0.0), 1.0)


def run_to(app: RunningApp, stage: Stage) -> None:
    """Start at START, dose the last participant at dose_min (through the dose form, with an
    override reason: no baseline is taken), end at end_min (Ctrl+E, answered Yes), reach
    now_min."""
    names = ("Maya Fischer", "Jonas Weber") if stage.couples else ("Maya Fischer",)
    app.start_session(*names, modality="couples" if stage.couples else "individual")
    passed = 0.0
    if stage.couples:
        app.live_view.participant.setCurrentIndex(1)
    if stage.dose_min is not None:
        app.advance((stage.dose_min - passed) * 60)
        app.dose_by_keyboard("200", override_reason="Cuff failed; manual BP 128/80 on paper")
        passed = stage.dose_min
    if stage.end_min is not None:
        app.advance((stage.end_min - passed) * 60)
        app.end_by_keyboard()
        passed = stage.end_min
    app.advance((stage.now_min - passed) * 60)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_strip_paints_its_now_line_where_the_clock_is(app: RunningApp, stage: Stage) -> None:
    # Given a session at this stage
    run_to(app, stage)
    strip = app.live_view.strip
    # When the strip is painted
    image = image_of(strip)
    # Then the now line is the only thing in the top row, at the expected x
    now_min = min(stage.now_min, stage.end_min if stage.end_min is not None else stage.now_min)
    dose_min = stage.dose_min if stage.dose_min is not None else max(40.0, now_min)
    planned_end_min = dose_min + 140
    span_end = START + timedelta(minutes=max(planned_end_min, now_min))
    x_now = x_of(START + timedelta(minutes=now_min), START, span_end, strip.width())
    found = columns_of(image, NOW_ROW, theme.TEXT)
    assert found, "no now line painted"
    assert all(abs(x - x_now) <= 1.5 for x in found), (x_now, found)
    # And the current phase is drawn lit in the band, away from the now line
    if stage.current_phase is not None:
        state = app.controller.live.state(app.live_view.current_participant())  # type: ignore[union-attr]
        window = state.phases[stage.current_phase]
        assert window.spec.name.startswith(PHASES[stage.current_phase])
        x0 = x_of(window.begins_at, START, span_end, strip.width())
        x1 = x_of(window.ends_at, START, span_end, strip.width())
        x = int(x0 + 3) if abs(x0 - x_now) > abs(x1 - x_now) else int(x1 - 3)
        lit = QColor(theme.PHASE_COLOURS[stage.current_phase]).lighter(135).name()
        assert near(image.pixelColor(x, BAND_ROW), lit), (x, image.pixelColor(x, BAND_ROW).name())
    # And a dose shows as a triangle at its time (for the selected participant only)
    if stage.dose_min is not None:
        x_dose = round(x_of(START + timedelta(minutes=dose_min), START, span_end, strip.width()))
        assert near(image.pixelColor(x_dose, DOSE_ROW), theme.ACCENT)
        if stage.couples:
            app.live_view.participant.setCurrentIndex(0)  # Maya, who had no dose
            maya = image_of(strip)
            assert not columns_of(maya, DOSE_ROW, theme.ACCENT)
    if app.controller.live is not None:
        app.leave_session()


def test_a_strip_with_no_session_paints_nothing_and_warns_nothing(
    qtbot: QtBot, qtlog: _QtMessageCapture
) -> None:
    strip = TimelineStrip()
    qtbot.addWidget(strip)
    strip.resize(900, 104)
    image = image_of(strip)
    assert not columns_of(image, NOW_ROW, theme.TEXT)
    assert not [r for r in qtlog.records if "QPainter" in r.message]


def test_marks_drawn_earlier_move_when_the_session_runs_past_its_planned_end(
    app: RunningApp,
) -> None:
    # Given a session dosed at 40 min, its strip painted at 90 min (the marks drawn then)
    app.start_session("Maya Fischer")
    app.advance(40 * 60)
    app.dose_by_keyboard("200", override_reason="Cuff failed; manual BP 128/80 on paper")
    app.advance(50 * 60)
    strip = app.live_view.strip
    dose_at, planned_end = START + timedelta(minutes=40), START + timedelta(minutes=180)
    before = image_of(strip)
    x_before = round(x_of(dose_at, START, planned_end, strip.width()))
    assert near(before.pixelColor(x_before, DOSE_ROW), theme.ACCENT)
    # When the session runs on to 200 min, past its planned end: the strip's scale shrinks
    app.advance(110 * 60)
    after = image_of(strip)
    # Then the dose is drawn where the new scale puts it, and no longer where it was
    x_after = round(x_of(dose_at, START, START + timedelta(minutes=200), strip.width()))
    assert near(after.pixelColor(x_after, DOSE_ROW), theme.ACCENT)
    assert not near(after.pixelColor(x_before, DOSE_ROW), theme.ACCENT)
    app.leave_session()
