"""The vitals chart of an export, drawn by the same code as the screen's chart (imported when
a chart is drawn: opening the app does without QtCharts)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QImage

from kapsession.domain.timeline import compute_timeline
from kapsession.export.content import ExportContent

PRINT_SCALE = 3.0  # at 300 dpi, text and marks read like the screen


def chart_for(content: ExportContent) -> Callable[[int, int], QImage]:
    """For the PDF: draw(width_px, height_px) -> the participant's chart over the session."""
    session = content.session
    started = session.started_at or session.created_at
    end = session.ended_at or content.exported_at or started
    state = compute_timeline(
        content.protocol,
        started_at=started,
        now=end,
        first_dose_at=content.first_dose_at,
        done_checkins={o.checkin_key for o in content.standing_observations if o.checkin_key},
        ended_at=session.ended_at,
    )

    def draw(width_px: int, height_px: int) -> QImage:
        from kapsession.ui.vitals_chart import PAPER_PALETTE, render_chart_image

        return render_chart_image(
            width_px,
            height_px,
            state,
            content.standing_observations,
            content.standing_doses,
            content.observations,
            scale=PRINT_SCALE,
            palette=PAPER_PALETTE,
        )

    return draw
