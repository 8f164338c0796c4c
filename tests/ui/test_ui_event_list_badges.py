"""The event list's tags on the real window (issue 16): an adverse event and an intervention are
listed with the alerts but tagged as what they are, not "Alert"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from ui_harness import RunningApp, fill_dose

from kapsession.records.session_log import LogKind


def test_adverse_events_and_interventions_have_their_own_tag(app: RunningApp) -> None:
    # Given a dosed session with an alert, an adverse event and an intervention for it
    app.start_session("Maya Fischer")
    app.advance(40 * 60)
    app.checkin_by_keyboard("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)
    app.advance(10 * 60)
    live = app.controller.live
    assert live is not None
    pid = live.participants[0].id
    assert live.save_checkin(pid, {"bp": "192/112", "heart_rate_bpm": "80"}) is not None
    alert = live.open_alerts[0]
    made = live.record_adverse_event(
        pid, kind="hypertension", severity="moderate", seriousness="non-serious",
        outcome="ongoing", onset_at=live.now(), alert_id=alert.id,
    )  # fmt: skip
    assert made.record is not None
    given = live.record_intervention(pid, kind="repositioning", adverse_event_id=made.record.id)
    assert given.saved
    # When the event list is shown (N)
    app.key(Qt.Key.Key_N)
    model = app.live_view.events.event_model()
    rows = [row for row in map(model.row, range(model.rowCount())) if row is not None]
    safety = [(row.item.title, row.tag) for row in rows if row.item.kind is LogKind.ALERT]
    # Then each is tagged as what it is, and the alerts still as alerts
    assert ("Adverse event: Hypertension", "Adverse event") in safety, safety
    assert ("Intervention: Repositioning", "Intervention") in safety, safety
    alerts = [tag for title, tag in safety if not title.startswith(("Adverse", "Intervention"))]
    assert alerts and set(alerts) == {"Alert"}, safety
    app.leave_session()
