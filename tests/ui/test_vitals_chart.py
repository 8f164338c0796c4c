"""The vitals chart draws the standing readings on the session clock: BP bars, HR and SpO2 lines
split at gaps, SpO2 on its own right-hand axis, doses, and an image for the PDF export, in the
room's colours on screen and in ink on white for paper."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot
from ui_harness import data_dir_context

from kapsession.domain.clock import FakeClock
from kapsession.domain.protocol import Protocol
from kapsession.domain.protocol_file import load_protocol
from kapsession.domain.timeline import TimelineState, compute_timeline
from kapsession.domain.vitals import READING_FIELDS
from kapsession.records.entries import DoseRecord, ObservationRecord
from kapsession.resources import protocols_dir
from kapsession.services.demo import populate
from kapsession.services.export_content import gather
from kapsession.ui import theme
from kapsession.ui.export_chart import chart_for
from kapsession.ui.vitals_chart import (
    BP_BAR,
    BP_DIASTOLIC,
    BP_SYSTOLIC,
    CORRECTED_BP_BAR,
    CORRECTED_HR,
    HR_COLOUR,
    HR_LINE,
    PAPER_PALETTE,
    SCREEN_PALETTE,
    SPO2_LINE,
    ChartPalette,
    VitalsChart,
    render_chart_image,
)

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
DOSE_MIN = 40.0  # the sublingual protocol's planned dose; phases end at dose+140 = minute 180
PLANNED_END_MIN = 180.0
SESSION_ID = uuid.uuid4()
PARTICIPANT_ID = uuid.uuid4()


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return load_protocol(protocols_dir() / "sublingual-kap-3h.toml")


def at(minute: float) -> datetime:
    return START + timedelta(minutes=minute)


def reading(
    minute: float,
    key: str | None = None,
    *,
    corrects: uuid.UUID | None = None,
    voids: bool = False,
    **values: Any,
) -> ObservationRecord:
    stored: dict[str, Any] = dict.fromkeys(READING_FIELDS)
    stored["comment"] = ""
    stored.update(values)
    return ObservationRecord(
        id=uuid.uuid4(),
        session_id=SESSION_ID,
        participant_id=PARTICIPANT_ID,
        checkin_key=key,
        occurred_at=at(minute),
        recorded_at=at(minute + 1),
        recorded_by_id=None,
        values=stored,
        corrects_id=corrects,
        correction_reason="typo" if corrects else None,
        voids=voids,
    )


def vitals(minute: float, key: str | None = None, **extra: Any) -> ObservationRecord:
    """A full set of vitals; `extra` overrides (None removes a value)."""
    values: dict[str, Any] = {
        "systolic_mmhg": 130,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 76,
        "spo2_pct": 97,
        **extra,
    }
    return reading(minute, key, **values)


def dose(minute: float, *, voids: bool = False, corrects: uuid.UUID | None = None) -> DoseRecord:
    return DoseRecord(
        id=uuid.uuid4(),
        session_id=SESSION_ID,
        participant_id=PARTICIPANT_ID,
        kind="initial",
        occurred_at=at(minute),
        recorded_at=at(minute),
        medication="ketamine",
        route="sublingual",
        dose_mg=200.0,
        lot_number="L-1",
        given_by_id=None,
        recorded_by_id=None,
        voids=voids,
        corrects_id=corrects,
    )


def state(protocol: Protocol, now_min: float, done: Collection[str] | None = None) -> TimelineState:
    """The session clock at `now_min`; every check-in done unless `done` says otherwise."""
    return compute_timeline(
        protocol,
        started_at=START,
        now=at(now_min),
        first_dose_at=at(DOSE_MIN),
        done_checkins={c.key for c in protocol.checkins} if done is None else done,
    )


@pytest.fixture
def chart(qtbot: QtBot) -> VitalsChart:
    widget = VitalsChart()
    qtbot.addWidget(widget)
    widget.resize(1000, 380)
    return widget


def run_lengths(widget: VitalsChart, kind: str) -> list[int]:
    return [series.count() for series in widget.series_of(kind)]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        pytest.param([55, 70, 85, 100], [4], id="check-ins-close-together-are-joined"),
        pytest.param([55, 115], [2], id="exactly-the-gap-apart-is-joined"),
        pytest.param([55, 70, 140, 160], [2, 2], id="seventy-minutes-apart-is-a-gap"),
        pytest.param([55, 130, 200], [1, 1, 1], id="every-step-a-gap"),
    ],
)
def test_readings_further_apart_than_the_gap_are_not_joined(
    chart: VitalsChart, protocol: Protocol, minutes: list[float], expected: list[int]
) -> None:
    # Given unscheduled readings (no check-in is missed) at these minutes
    readings = [vitals(m) for m in minutes]
    # When the chart shows them
    chart.show_vitals(state(protocol, 210), readings, [dose(DOSE_MIN)])
    # Then the HR and SpO2 lines are split where two readings are more than an hour apart
    assert run_lengths(chart, HR_LINE) == expected
    assert run_lengths(chart, SPO2_LINE) == expected


def test_a_missed_check_in_between_two_readings_is_a_gap(
    chart: VitalsChart, protocol: Protocol
) -> None:
    # Given readings at T+60 and T+120 and T+90 never recorded (overdue)
    readings = [vitals(100, "t60"), vitals(160, "t120")]
    done = {c.key for c in protocol.checkins} - {"t90"}
    # When the chart shows them, though they are only an hour apart
    chart.show_vitals(state(protocol, 170, done), readings, [dose(DOSE_MIN)])
    # Then the HR line is two series, one per side of the missed check-in
    assert run_lengths(chart, HR_LINE) == [1, 1]


@pytest.mark.parametrize(
    ("middle", "expected"),
    [
        pytest.param(vitals(70, "t30", heart_rate_bpm=None), [1, 1], id="asked-for-but-missing"),
        pytest.param(vitals(70, None, heart_rate_bpm=None), [2], id="unscheduled-bp-only"),
        pytest.param(vitals(70, "t30"), [3], id="present"),
    ],
)
def test_a_reading_missing_the_value_its_check_in_asked_for_is_a_gap(
    chart: VitalsChart, protocol: Protocol, middle: ObservationRecord, expected: list[int]
) -> None:
    # Given T+15 and T+40 with heart rates, and a reading between them
    readings = [vitals(55, "t15"), middle, vitals(80, "t40")]
    # When the chart shows them
    chart.show_vitals(state(protocol, 90), readings, [dose(DOSE_MIN)])
    # Then the HR line breaks only where the check-in asked for a heart rate and got none
    assert run_lengths(chart, HR_LINE) == expected


def test_the_gap_is_a_setting(qtbot: QtBot, protocol: Protocol) -> None:
    # Given a chart that joins values at most 10 minutes apart
    widget = VitalsChart(gap_after_min=10)
    qtbot.addWidget(widget)
    # When readings 15 minutes apart are shown
    widget.show_vitals(state(protocol, 90), [vitals(55), vitals(70)], [])
    # Then they are not joined
    assert run_lengths(widget, HR_LINE) == [1, 1]


def test_each_blood_pressure_is_a_bar_from_diastolic_to_systolic(
    chart: VitalsChart, protocol: Protocol
) -> None:
    # Given four readings, one of them (T+45) without a blood pressure
    readings = [
        vitals(55, "t15", systolic_mmhg=138, diastolic_mmhg=86),
        vitals(80, "t40", systolic_mmhg=182, diastolic_mmhg=104),
        vitals(85, "t45", systolic_mmhg=None, diastolic_mmhg=None),
        vitals(100, "t60", systolic_mmhg=150, diastolic_mmhg=90),
    ]
    # When the chart shows them
    chart.show_vitals(state(protocol, 110), readings, [dose(DOSE_MIN)])
    # Then there is one bar per reading with a BP, at its minute, from diastolic to systolic
    bars = [[(p.x(), p.y()) for p in s.points()] for s in chart.series_of(BP_BAR)]
    assert bars == [
        [(55.0, 86.0), (55.0, 138.0)],
        [(80.0, 104.0), (80.0, 182.0)],
        [(100.0, 90.0), (100.0, 150.0)],
    ]
    # And the ▼ systolic and ▲ diastolic marks sit at the ends of the bars
    assert [p.y() for p in chart.series_of(BP_SYSTOLIC)[0].points()] == [138.0, 182.0, 150.0]
    assert [p.y() for p in chart.series_of(BP_DIASTOLIC)[0].points()] == [86.0, 104.0, 90.0]
    # And the reading without a BP still carries its heart rate on the HR line
    assert run_lengths(chart, HR_LINE) == [4]


def test_no_readings_draws_no_series(chart: VitalsChart, protocol: Protocol) -> None:
    chart.show_vitals(state(protocol, 10, done=()), [], [])
    assert chart.chart().series() == []


@pytest.mark.parametrize(
    ("now_min", "expected_end_min"),
    [
        pytest.param(10, PLANNED_END_MIN, id="start-shows-the-whole-plan"),
        pytest.param(120, PLANNED_END_MIN, id="mid-session"),
        pytest.param(215, 215, id="past-the-planned-end-grows-to-now"),
    ],
)
def test_the_time_axis_spans_the_whole_session_in_minutes(
    chart: VitalsChart, protocol: Protocol, now_min: float, expected_end_min: float
) -> None:
    # Given a session at now_min with a reading at minute 5
    chart.show_vitals(state(protocol, now_min), [vitals(5, "baseline")], [dose(DOSE_MIN)])
    # Then the x axis runs from the start (0) to the planned end, or to now when later
    axis = chart.x_axis()
    assert (axis.min(), axis.max()) == (0.0, expected_end_min)
    assert chart.now_minute() == pytest.approx(now_min)


def test_value_axes_widen_to_hold_extreme_readings(chart: VitalsChart, protocol: Protocol) -> None:
    # Given a usual reading
    chart.show_vitals(state(protocol, 90), [vitals(55)], [])
    # Then the left axis is 40–200 and the SpO2 axis 80–100
    assert (chart.left_axis().min(), chart.left_axis().max()) == (40.0, 200.0)
    assert (chart.spo2_axis().min(), chart.spo2_axis().max()) == (80.0, 100.0)
    # When a reading beyond both ranges comes in
    extreme = vitals(70, systolic_mmhg=232, diastolic_mmhg=120, heart_rate_bpm=35, spo2_pct=74)
    chart.show_vitals(state(protocol, 90), [vitals(55), extreme], [])
    # Then both axes widen to show it with room to spare
    assert chart.left_axis().min() <= 25 and chart.left_axis().max() >= 242
    assert chart.spo2_axis().min() <= 72 and chart.spo2_axis().max() == 100.0


def test_spo2_is_on_its_own_right_hand_axis(chart: VitalsChart, protocol: Protocol) -> None:
    chart.show_vitals(state(protocol, 90), [vitals(55), vitals(70)], [])
    (spo2,) = chart.series_of(SPO2_LINE)
    (hr,) = chart.series_of(HR_LINE)
    assert chart.axis_side(spo2) == Qt.AlignmentFlag.AlignRight
    assert chart.axis_side(hr) == Qt.AlignmentFlag.AlignLeft
    assert chart.spo2_axis() in spo2.attachedAxes()


def test_doses_as_they_stand_are_marked(chart: VitalsChart, protocol: Protocol) -> None:
    # Given a first dose, a booster entered in error (voided), and a corrected booster time
    first = dose(DOSE_MIN)
    voided_original = dose(70)
    booster = dose(75)
    corrected = dose(78, corrects=booster.id)
    doses = [first, voided_original, dose(70, voids=True, corrects=voided_original.id)]
    doses += [booster, corrected]
    # When the chart shows them
    chart.show_vitals(state(protocol, 90), [vitals(55)], doses)
    # Then only the standing doses are marked, at their minutes
    assert chart.dose_minutes() == [DOSE_MIN, 78.0]


@pytest.mark.parametrize("show_corrected", [True, False])
def test_corrected_originals_are_drawn_faintly_only_when_asked(
    qtbot: QtBot, protocol: Protocol, show_corrected: bool
) -> None:
    # Given a reading corrected by a later entry, and one voided as entered in error
    original = vitals(70, "t30", systolic_mmhg=125)
    correction = vitals(70, "t30", corrects=original.id, systolic_mmhg=152)
    mistaken = vitals(80, "t40")
    void = vitals(80, "t40", corrects=mistaken.id, voids=True)
    standing = [vitals(55, "t15"), correction]
    widget = VitalsChart(show_corrected=show_corrected)
    qtbot.addWidget(widget)
    # When the chart shows the standing readings with the full history
    history = [standing[0], original, correction, mistaken, void]
    widget.show_vitals(state(protocol, 90), standing, [], history)
    # Then the standing BP bars are the standing readings only
    assert len(widget.series_of(BP_BAR)) == 2
    # And the replaced originals (never the voiding entry) are faint marks when asked for
    faint_bars = [s.points()[1].y() for s in widget.series_of(CORRECTED_BP_BAR)]
    assert faint_bars == ([125.0, 130.0] if show_corrected else [])
    faint_hr = widget.series_of(CORRECTED_HR)
    assert [s.count() for s in faint_hr] == ([2] if show_corrected else [])


def test_a_full_history_passed_as_the_readings_draws_only_what_stands(
    chart: VitalsChart, protocol: Protocol
) -> None:
    # Given the whole history of a check-in: a mistyped reading and its correction
    original = vitals(70, "t30", systolic_mmhg=125)
    correction = vitals(70, "t30", corrects=original.id, systolic_mmhg=152)
    # When all of it is passed as the readings
    chart.show_vitals(state(protocol, 90), [original, correction], [])
    # Then only the correction is a standing bar; the original is faint
    assert [s.points()[1].y() for s in chart.series_of(BP_BAR)] == [152.0]
    assert [s.points()[1].y() for s in chart.series_of(CORRECTED_BP_BAR)] == [125.0]


def test_moving_now_rebuilds_no_series(chart: VitalsChart, protocol: Protocol) -> None:
    # Given a chart with readings
    chart.show_vitals(state(protocol, 90), [vitals(55), vitals(70)], [dose(DOSE_MIN)])
    before = list(chart.chart().series())
    # When only the clock moves on, past the planned end
    chart.set_now(state(protocol, 200))
    # Then the same series stay and the axis and now line follow the clock
    assert chart.chart().series() == before
    assert chart.now_minute() == pytest.approx(200)
    assert chart.x_axis().max() == 200.0


def near(colour: QColor, expected: str, tolerance: int = 18) -> bool:
    want = QColor(expected)
    return (
        abs(colour.red() - want.red()) <= tolerance
        and abs(colour.green() - want.green()) <= tolerance
        and abs(colour.blue() - want.blue()) <= tolerance
    )


def test_a_gap_is_drawn_as_empty_space(
    qtbot: QtBot, chart: VitalsChart, protocol: Protocol
) -> None:
    # Given heart rates 80 at minute 55 and 70, then 80 again at minute 150: a gap between
    readings = [vitals(55, heart_rate_bpm=80), vitals(70, heart_rate_bpm=80)]
    readings.append(vitals(150, heart_rate_bpm=80))
    chart.show_vitals(state(protocol, 160), readings, [])
    chart.show()
    qtbot.waitExposed(chart)
    image = chart.grab().toImage()
    first = chart.series_of(HR_LINE)[0]
    qchart = chart.chart()

    def hr_pixels_at(minute: float) -> int:
        point = qchart.mapToPosition(QPointF(minute, 80.0), first)
        x, y = round(point.x()), round(point.y())
        return sum(near(image.pixelColor(x, row), HR_COLOUR) for row in range(y - 3, y + 4))

    # Then the line is drawn within a run, and nothing of it crosses the gap
    assert hr_pixels_at(62.5) > 0
    assert hr_pixels_at(110) == 0


def background_share(image: QImage, background: str) -> float:
    want = QColor(background)
    step = 7
    samples = [
        image.pixelColor(x, y)
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    ]
    same = sum(c.rgb() == want.rgb() for c in samples)
    return same / len(samples)


@pytest.mark.parametrize(
    ("width_px", "height_px", "scale"),
    [(900, 320, 1.0), (2400, 900, 3.0), (300, 160, 1.0)],
)
def test_render_chart_image_draws_the_chart_at_the_size_asked(
    protocol: Protocol, width_px: int, height_px: int, scale: float
) -> None:
    # Given a session with readings and a dose
    readings = [vitals(5, "baseline"), vitals(55, "t15"), vitals(70, "t30", systolic_mmhg=160)]
    # When the chart is drawn offscreen
    image = render_chart_image(
        width_px, height_px, state(protocol, 90), readings, [dose(DOSE_MIN)], scale=scale
    )
    # Then the image has exactly that size and holds more than the background
    assert (image.width(), image.height()) == (width_px, height_px)
    assert not image.isNull()
    assert background_share(image, theme.PANEL) < 0.9
    # And the heart-rate line is in it
    hr = sum(
        near(image.pixelColor(x, y), HR_COLOUR, 10)
        for x in range(0, width_px, 2)
        for y in range(0, height_px, 2)
    )
    assert hr > 0


def test_render_chart_image_refuses_an_empty_size(protocol: Protocol) -> None:
    with pytest.raises(ValueError, match="positive size"):
        render_chart_image(0, 300, state(protocol, 90), [], [])


# --- palettes: the room's colours on screen, ink on white paper ---------------------------------

PALETTES = [
    pytest.param(SCREEN_PALETTE, id="screen"),
    pytest.param(PAPER_PALETTE, id="paper"),
]


def lightness(colour: QColor) -> int:
    """0 (black) to 255 (white), as a greyscale print would show it (Rec. 601 luma)."""
    return round(0.299 * colour.red() + 0.587 * colour.green() + 0.114 * colour.blue())


def grey(name: str) -> int:
    return lightness(QColor(name))


def contrast_on_white(name: str) -> float:
    """WCAG contrast ratio of a colour against white paper (1 to 21)."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    colour = QColor(name)
    luminance = (
        0.2126 * linear(colour.red())
        + 0.7152 * linear(colour.green())
        + 0.0722 * linear(colour.blue())
    )
    return 1.05 / (luminance + 0.05)


def blended(over: str, alpha: int, under: str) -> str:
    """`over` at `alpha` (0–255) painted on `under`."""
    top, bottom = QColor(over), QColor(under)
    mix = [
        round((a * alpha + b * (255 - alpha)) / 255)
        for a, b in zip(
            (top.red(), top.green(), top.blue()),
            (bottom.red(), bottom.green(), bottom.blue()),
            strict=True,
        )
    ]
    return QColor(*mix).name()


def colours_of(image: QImage) -> Counter[tuple[int, int, int]]:
    """How many pixels of each (red, green, blue) the image holds."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    data, row_bytes, width = bytes(rgb.constBits()), rgb.bytesPerLine(), rgb.width()
    counts: Counter[tuple[int, int, int]] = Counter()
    for y in range(rgb.height()):
        row = data[y * row_bytes : y * row_bytes + width * 3]
        counts.update(zip(row[0::3], row[1::3], row[2::3], strict=True))
    return counts


def colour_count(colours: Counter[tuple[int, int, int]], colour: str, tolerance: int = 12) -> int:
    """How many pixels are within `tolerance` of `colour` in each channel."""
    want = QColor(colour)
    target = (want.red(), want.green(), want.blue())
    return sum(
        count
        for pixel, count in colours.items()
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, target, strict=True))
    )


def a_session(
    protocol: Protocol,
) -> tuple[TimelineState, list[ObservationRecord], list[DoseRecord]]:
    """A finished sublingual session: vitals at every check-in but T+90, a dose and a booster."""
    rows = [
        (4, "baseline", 124, 78, 72, 98),
        (55, "t15", 138, 84, 78, 98),
        (70, "t30", 152, 92, 84, 97),
        (80, "t40", 168, 98, 88, 96),
        (100, "t60", 146, 88, 80, 95),
        (160, "t120", 128, 80, 72, 97),
        (176, "pre-discharge", 122, 76, 70, 98),
    ]
    readings = [
        vitals(m, key, systolic_mmhg=sbp, diastolic_mmhg=dbp, heart_rate_bpm=hr, spo2_pct=spo2)
        for m, key, sbp, dbp, hr, spo2 in rows
    ]
    done = {key for _m, key, *_values in rows}
    return state(protocol, 184, done), readings, [dose(DOSE_MIN), dose(75)]


def test_the_screen_palette_is_the_default(protocol: Protocol, qtbot: QtBot) -> None:
    # Given a session's vitals
    clock, readings, doses = a_session(protocol)
    # When the chart image is drawn without a palette and with the screen's
    default = render_chart_image(900, 340, clock, readings, doses)
    screen = render_chart_image(900, 340, clock, readings, doses, palette=SCREEN_PALETTE)
    # Then the two are the same, pixel for pixel, and differ from paper
    assert default == screen
    assert default != render_chart_image(900, 340, clock, readings, doses, palette=PAPER_PALETTE)
    # And the live chart keeps the room's colours unless told otherwise
    widget = VitalsChart()
    qtbot.addWidget(widget)
    assert widget.chart_palette() is SCREEN_PALETTE


def test_the_screen_palette_holds_the_room_colours() -> None:
    # The screen must look as it did before palettes: the room theme's colours, one for one
    assert SCREEN_PALETTE.background == SCREEN_PALETTE.plot_area == theme.PANEL
    assert SCREEN_PALETTE.phase_bands == theme.PHASE_COLOURS
    assert (SCREEN_PALETTE.axis_labels, SCREEN_PALETTE.axis_line) == (theme.TEXT_DIM, theme.BORDER)
    assert (SCREEN_PALETTE.phase_shade_alpha, SCREEN_PALETTE.current_phase_lighter_pct) == (70, 125)
    assert (SCREEN_PALETTE.now_line, SCREEN_PALETTE.now_line_alpha) == (theme.TEXT, 150)
    assert (SCREEN_PALETTE.hr, SCREEN_PALETTE.spo2, SCREEN_PALETTE.dose) == (
        HR_COLOUR,
        theme.DONE,
        theme.ACCENT,
    )
    assert SCREEN_PALETTE.phase_divider is None
    assert SCREEN_PALETTE.missed_checkin == theme.OVERDUE


@pytest.mark.parametrize("palette", PALETTES)
def test_the_chart_paints_its_palette_at_sample_points(
    qtbot: QtBot, protocol: Protocol, palette: ChartPalette
) -> None:
    # Given a chart in this palette with readings at minutes 55 and 70 only
    widget = VitalsChart(palette=palette)
    qtbot.addWidget(widget)
    widget.resize(1000, 380)
    clock = state(protocol, 90)
    widget.show_vitals(clock, [vitals(55), vitals(70)], [])
    widget.show()
    qtbot.waitExposed(widget)
    image = widget.grab().toImage()
    plot = widget.chart().plotArea()
    first = widget.series_of(HR_LINE)[0]

    def pixel(minute: float, value: float) -> str:
        point = widget.chart().mapToPosition(QPointF(minute, value), first)
        return image.pixelColor(round(point.x()), round(point.y())).name()

    arrival = clock.phases[0]
    arrival_end_px = plot.left() + plot.width() * (
        (arrival.ends_at - START).total_seconds() / 60 / widget.x_axis().max()
    )
    band_top_px = plot.top() - 18 - 4
    # Then the margin is the palette's background
    assert image.pixelColor(2, image.height() - 2).name() == palette.background
    # And the first phase's band (not the current phase) is its first band colour
    band = image.pixelColor(round(arrival_end_px) - 3, round(band_top_px) + 1)
    assert near(band, palette.phase_bands[0], 1)
    # And the plot under that phase is the band colour laid thinly over the plot area
    shade = blended(palette.phase_bands[0], palette.phase_shade_alpha, palette.plot_area)
    assert near(QColor(pixel(10.0, 130.0)), shade, 2)  # between grid lines, before any reading
    # And the heart-rate line between the two readings is the palette's HR colour
    assert near(QColor(pixel(62.5, 76.0)), palette.hr, 12)
    # And the axes use the palette's text and line colours
    assert widget.left_axis().labelsColor().name() == palette.axis_labels
    assert widget.left_axis().linePen().color().name() == palette.axis_line
    assert widget.spo2_axis().labelsColor().name() == palette.spo2


@pytest.mark.parametrize("palette", PALETTES)
def test_each_series_is_drawn_in_the_palettes_colour(
    protocol: Protocol, palette: ChartPalette
) -> None:
    # Given a session with vitals and doses
    clock, readings, doses = a_session(protocol)
    # When its chart image is drawn in this palette at print size
    image = render_chart_image(1800, 700, clock, readings, doses, scale=3.0, palette=palette)
    # Then BP, HR, SpO2, the doses and the missed T+90 each leave marks in their own colour
    colours = colours_of(image)
    for name in ("bp", "hr", "spo2", "dose", "missed_checkin"):
        assert colour_count(colours, getattr(palette, name)) > 20, name


def test_a_paper_chart_is_dark_ink_on_white(protocol: Protocol) -> None:
    # Given a session with vitals and doses
    clock, readings, doses = a_session(protocol)
    # When its chart image is drawn for paper at 300 dpi
    image = render_chart_image(1800, 700, clock, readings, doses, scale=3.0, palette=PAPER_PALETTE)
    width, height = image.width(), image.height()
    # Then every pixel around the edge is white paper
    edge = [(x, 0) for x in range(width)] + [(x, height - 1) for x in range(width)]
    edge += [(0, y) for y in range(height)] + [(width - 1, y) for y in range(height)]
    assert {image.pixelColor(x, y).name() for x, y in edge} == {"#ffffff"}
    # And the image is mostly white or very light (a page, not a dark screen)
    samples = [image.pixelColor(x, y) for x in range(0, width, 5) for y in range(0, height, 5)]
    light = sum(lightness(c) >= 225 for c in samples) / len(samples)
    assert light > 0.8
    # And the axis numbers left of the plot are near-black ink
    numbers = [image.pixelColor(x, y) for x in range(60, 170) for y in range(150, 620)]
    assert min(lightness(c) for c in numbers) < 70
    # And nothing of the dark room background is left
    assert colour_count(colours_of(image), theme.PANEL, tolerance=6) == 0


def test_paper_greys_tell_phases_and_series_apart() -> None:
    # Phase tints are very light, and neighbours (also round the end) differ in grey
    bands = PAPER_PALETTE.phase_bands
    assert all(grey(tint) >= 205 for tint in bands)
    for index, tint in enumerate(bands):
        assert abs(grey(tint) - grey(bands[(index + 1) % len(bands)])) >= 10, index
    # And BP prints darker than HR and SpO2, which share the chart with it
    assert grey(PAPER_PALETTE.hr) - grey(PAPER_PALETTE.bp) >= 30
    assert grey(PAPER_PALETTE.spo2) - grey(PAPER_PALETTE.bp) >= 30
    # And the grid is fainter than the axes, which are fainter than the text
    assert (
        grey(PAPER_PALETTE.grid) > grey(PAPER_PALETTE.axis_line) > grey(PAPER_PALETTE.axis_labels)
    )


@pytest.mark.parametrize(
    ("role", "least"),
    [
        ("axis_labels", 7.0),
        ("axis_titles", 7.0),
        ("phase_label", 7.0),
        ("current_phase_label", 7.0),
        ("legend_text", 7.0),
        ("caption", 4.5),
        ("bp", 4.5),
        ("hr", 3.0),
        ("spo2", 3.0),
        ("dose", 4.5),
        ("missed_checkin", 4.5),
        ("axis_line", 3.0),
    ],
)
def test_paper_ink_stands_out_on_white(role: str, least: float) -> None:
    assert contrast_on_white(getattr(PAPER_PALETTE, role)) >= least


@pytest.fixture(scope="module")
def demo_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo's sessions written once into a training data folder: (context, sessions)."""
    now = START + timedelta(days=60)
    context = data_dir_context(
        tmp_path_factory.mktemp("demo") / "data", FakeClock(now), training=True
    )
    try:
        yield context, populate(context.service, now)
    finally:
        context.close()


def test_the_export_draws_the_chart_on_paper(demo_sessions: Any) -> None:
    # Given a demo sublingual session gathered for export
    context, sessions = demo_sessions
    session = next(s for s in sessions if s.protocol == "sublingual-kap-3h")
    content = gather(context.service.database, session.id, participant=session.participants[0])
    # When the PDF's chart is drawn
    image = chart_for(content)(1200, 470)
    # Then it is on white paper, not the dark room panel, with the paper palette's heart rate
    assert image.pixelColor(1, 1).name() == "#ffffff"
    colours = colours_of(image)
    assert colour_count(colours, theme.PANEL, tolerance=6) == 0
    assert colour_count(colours, PAPER_PALETTE.hr) > 0
