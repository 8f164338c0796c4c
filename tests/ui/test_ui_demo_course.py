"""The demo's full course (issue 17) on the client history screen: H on the course client shows
her PHQ-9 and GAD-7 falling over the course with her six dosing sessions marked
(KAPSESSION_COURSE_SHOTS=folder saves what the screen shows)."""

from __future__ import annotations

import os
from pathlib import Path

from test_client_history import _open_history_of
from ui_harness import RunningApp

from kapsession.domain.questionnaires import InstrumentKey
from kapsession.services.demo import DEMO_COURSE_CLIENT, populate

SHOTS = os.environ.get("KAPSESSION_COURSE_SHOTS", "")


def test_the_demo_course_client_history_charts_her_course(app: RunningApp) -> None:
    # Given the demo written into the database
    app.window.showNormal()
    app.window.resize(1366, 768)
    populate(app.context.service, app.clock.now())
    # When the course client's history is opened with H
    _open_history_of(app, DEMO_COURSE_CLIENT[1])
    chart = app.window.history_view.course_chart
    # Then her PHQ-9 and GAD-7 totals fall over the course, from the consultation on
    phq = [p.y() for p in chart.lines[InstrumentKey.PHQ9].points()]
    gad = [p.y() for p in chart.lines[InstrumentKey.GAD7].points()]
    assert phq == [19, 18, 16, 14, 11, 9, 7]
    assert gad == [16, 15, 13, 12, 9, 8, 6]
    # And her six dosing sessions are marked, each on the day of its PHQ-9
    phq_days = [p.x() for p in chart.lines[InstrumentKey.PHQ9].points()][1:]
    marked = [line.points()[0].x() for line in chart.dosing_lines]
    assert len(marked) == 6
    assert all(
        0 <= given - dosed < 3 * 3600 * 1000 for given, dosed in zip(phq_days, marked, strict=True)
    )
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        app.window.grab().save(str(Path(SHOTS) / "demo-course-history.png"))
