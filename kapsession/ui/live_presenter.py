"""The live screen drawn from the open session: each part redrawn when what it shows changed.

The presenter listens to the live session's fine-grained signals and fills the views with plain
data; nothing here reads the database or keeps its own guess of what changed:

- `ticked` (a new second): the clocks, the phase, the timeline strip, the nurse board, the
  music line; the chart's now line every 5 s while the chart is shown;
- `checkins_changed`: the check-ins offered on the form (their status moved);
- `entries_added`: the readings table and the chart (readings, doses, alerts), the last
  vitals tile (readings, alerts), the strip's marks and the recent line (doses, markers), the
  device and discharge buttons;
- a tab shown: the readings table or the chart, when it changed while its tab was not shown
  (each is drawn whole, at a cost that grows with the session, so never while out of sight);
- `alerts_changed`: the alert banner;
- `status_changed`: everything (ended, signed, read again);
- the participant chosen: everything that is one participant's;
- `tab_built` (the readings table or the chart built when first shown): that tab.

A tab not built yet is not filled: it is filled from the open session when it is built.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject

from kapsession.domain.alert_followup import scheduled
from kapsession.domain.timeline import CheckinState, CheckinStatus
from kapsession.records.music import MusicState
from kapsession.records.people import StaffRecord
from kapsession.services.dose_periods import DOSE_PERIOD_EVENTS
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession
from kapsession.services.session_state import EntryKind
from kapsession.ui.formatting import clock_text, local_time
from kapsession.ui.live_view import CHART, READINGS, LiveView
from kapsession.ui.timeline_strip import StripMark

CHART_NOW_EVERY_S = 5  # the chart's now line moves this often (a pixel every few seconds)
RECENT_SHOWN = 5

_URGENCY = {
    CheckinStatus.OVERDUE: 0,
    CheckinStatus.DUE: 1,
    CheckinStatus.UPCOMING: 2,
    CheckinStatus.DONE: 3,
}


def by_urgency(checkins: Sequence[CheckinState]) -> list[CheckinState]:
    """Overdue, then due, then upcoming, then done; each in schedule order."""
    return sorted(checkins, key=lambda c: (_URGENCY[c.status], c.due_at))


class LivePresenter(QObject):
    """Draws one open session on the live screen."""

    def __init__(
        self,
        view: LiveView,
        live: LiveSession,
        music: MusicSession | None,
        staff: Sequence[StaffRecord],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.live = live
        self.music = music
        self._staff_names = {s.id: s.display_name for s in staff}
        self._marks: list[StripMark] = []
        self._readings_stale = self._chart_stale = False
        live.ticked.connect(self.show_clock)
        live.checkins_changed.connect(self.show_checkins)
        live.entries_added.connect(self._entries_added)
        live.alerts_changed.connect(self.show_alerts)
        live.status_changed.connect(self.show_all)
        view.tab_built.connect(self._tab_built)
        if music is not None:
            music.changed.connect(self.show_music)
            music.music_logged.connect(self._music_logged)

    def disconnect_all(self) -> None:
        live = self.live
        live.ticked.disconnect(self.show_clock)
        live.checkins_changed.disconnect(self.show_checkins)
        live.entries_added.disconnect(self._entries_added)
        live.alerts_changed.disconnect(self.show_alerts)
        live.status_changed.disconnect(self.show_all)
        self.view.tab_built.disconnect(self._tab_built)
        if self.music is not None:
            self.music.changed.disconnect(self.show_music)
            self.music.music_logged.disconnect(self._music_logged)

    @property
    def focus(self) -> uuid.UUID:
        """The participant the screen shows (the room's, the first, when none is chosen)."""
        return self.view.current_participant() or self.live.participants[0].id

    # the whole screen -----------------------------------------------------------------------
    def show_all(self) -> None:
        """Everything, for the participant chosen: on opening, on a new participant, after the
        session's status changed."""
        self._update_marks()
        self.show_clock()
        self.show_participant_entries()
        self.show_alerts()
        self.show_recent()
        self.show_music()

    def show_participant_entries(self) -> None:
        """What is one participant's: their check-ins (the form started again, empty, with their
        previous values beside it, so nothing typed for one is saved for the other), readings,
        chart and buttons."""
        live, view, focus = self.live, self.view, self.focus
        view.checkin_form.set_participant(live.record.participant(focus).client.full_name)
        now = live.now()
        view.checkin_form.set_checkins(by_urgency(scheduled(live.state(focus).checkins)), now)
        view.checkin_form.start_entry(live.observations, focus, now)
        self.show_records(out_of_sight_too=True)
        self.show_last_vitals()
        self.show_buttons()

    # on each second -------------------------------------------------------------------------
    def show_clock(self) -> None:
        live, view = self.live, self.view
        focus = self.focus
        state = live.state(focus)
        room = live.board() if len(live.participants) > 1 else []
        view.show_state(
            state, room, self._marks, live.is_live, live.dose_plan, live.discharged.get(focus)
        )
        view.last_vitals.set_now(state.now)
        view.show_dose_periods(live.hold(focus), live.infusion(focus), state.now)
        shown = view.built(CHART) and view.chart.isVisible()
        if shown and round(state.elapsed_s) % CHART_NOW_EVERY_S == 0:
            view.chart.set_now(state)  # a hidden chart is brought up to date when shown

    def tab_shown(self) -> None:
        view = self.view
        if view.built(READINGS) and self._readings_stale and view.readings.isVisible():
            self._show_readings()
        if view.built(CHART) and view.chart.isVisible():
            if self._chart_stale:
                self._show_chart()
            else:
                view.chart.set_now(self.live.state(self.focus))
        self.show_music()

    def _tab_built(self, name: str) -> None:
        """A tab built just now is empty: drawn at once from the open session."""
        if name == READINGS:
            self._show_readings()
        elif name == CHART:
            self._show_chart()

    def show_checkins(self) -> None:
        """A check-in's status moved, or its window, or a recheck after an alert came or went:
        the lines of what is due and the form's list (the protocol's check-ins, without the
        rechecks) follow; the form keeps what the nurse chose."""
        self.view.checkin_form.set_checkins(
            by_urgency(scheduled(self.live.state(self.focus).checkins)), self.live.now()
        )
        self.show_clock()

    # on what was saved ------------------------------------------------------------------------
    def _entries_added(self, kind: str, records: tuple[Any, ...]) -> None:
        focus = self.focus
        records_shown = kind in (EntryKind.OBSERVATION, EntryKind.DOSE, EntryKind.ALERT)
        if records_shown and any(getattr(r, "participant_id", None) == focus for r in records):
            self.show_records()
            if kind != EntryKind.DOSE:
                self.show_last_vitals()
            if kind == EntryKind.OBSERVATION:
                self.view.checkin_form.update_references(self.live.observations, focus)
        if kind in (EntryKind.DOSE, EntryKind.EVENT):
            self._update_marks()
            self.show_recent()
            self.show_buttons()
        if kind not in (EntryKind.NOTE, EntryKind.PRIVATE_NOTE):
            self.show_clock()  # the strip's marks, the board's last reading, the phase

    def show_records(self, *, out_of_sight_too: bool = False) -> None:
        """The readings table and the chart of the participant shown: drawn now if on screen,
        else when their tab is shown. `out_of_sight_too`: those built but not shown are drawn
        now as well (a session opened, or another participant chosen: no tab keeps another
        client's readings, even out of sight)."""
        view = self.view
        self._readings_stale = self._chart_stale = True
        if view.built(READINGS) and (out_of_sight_too or view.readings.isVisible()):
            self._show_readings()
        if view.built(CHART) and (out_of_sight_too or view.chart.isVisible()):
            self._show_chart()

    def _show_readings(self) -> None:
        live, focus = self.live, self.focus
        self.view.readings.show_readings(
            [o for o in live.observations if o.participant_id == focus],
            [o for o in live.observation_history if o.participant_id == focus],
            live.all_alerts,
            {c.key: c.label for c in live.protocol.checkins},
            self._staff_names,
        )
        self._readings_stale = False

    def _show_chart(self) -> None:
        live, focus = self.live, self.focus
        self.view.chart.show_vitals(
            live.state(focus),
            [o for o in live.observations if o.participant_id == focus],
            [d for d in live.doses if d.participant_id == focus],
            [o for o in live.observation_history if o.participant_id == focus],
        )
        self._chart_stale = False

    def show_last_vitals(self) -> None:
        """The tile of the participant shown: their newest values, with their states."""
        live, focus = self.live, self.focus
        whose = live.record.participant(focus).client.full_name
        self.view.last_vitals.show_vitals(
            live.last_vitals(focus), live.now(), whose if len(live.participants) > 1 else ""
        )

    def show_buttons(self) -> None:
        live, view, focus = self.live, self.view, self.focus
        view.discharge_button.setEnabled(
            live.first_dose_at(focus) is not None and focus not in live.discharged
        )
        status = live.intranasal_status(focus)
        view.device_button.setVisible(status is not None and status.remaining > 0)

    def show_alerts(self) -> None:
        names = {p.id: p.client.full_name for p in self.live.participants}
        self.view.alerts.show_alerts(self.live.open_alerts, names)

    def show_recent(self) -> None:
        live = self.live
        items = [(d.occurred_at, "Dose" if d.kind == "initial" else "Booster") for d in live.doses]
        items += [(e.occurred_at, e.label) for e in live.events if e.kind == "marker"]
        items += [(e.occurred_at, e.label) for e in live.events if e.kind in DOSE_PERIOD_EVENTS]
        items.sort()
        self.view.show_recent([f"{local_time(at)} {label}" for at, label in items[-RECENT_SHOWN:]])

    def _update_marks(self) -> None:
        """The timeline strip's marks: the participant's doses, the markers, the tracks."""
        live, focus = self.live, self.focus
        marks = [
            StripMark(at=d.occurred_at, kind="dose", label=d.kind)
            for d in live.doses
            if d.participant_id == focus
        ]
        if self.music is not None:
            marks += [StripMark(at=at, kind="music", label=t) for at, t in self.music.track_starts]
        marks += [
            StripMark(at=e.occurred_at, kind="marker", label=e.label)
            for e in live.events
            if e.kind == "marker" and e.participant_id in (None, focus)
        ]
        marks += [  # a hold's end, an infusion's pause, resume and stop
            StripMark(at=e.occurred_at, kind="marker", label=e.label)
            for e in live.events
            if e.kind in DOSE_PERIOD_EVENTS and e.participant_id == focus
        ]
        self._marks = marks

    # music -------------------------------------------------------------------------------------
    def _music_logged(self, event: Any) -> None:
        if getattr(event, "kind", "") == "track_start":
            self._update_marks()

    def show_music(self) -> None:
        music = self.music
        if music is None:
            return
        now = music.now_playing()
        view = self.view
        if view.music.isVisible() or not now.available:
            view.music.show_now_playing(now)
        if now.track_title and now.state != MusicState.STOPPED:
            left = clock_text(now.remaining_ms / 1000)
            view.music_line.setText(f"♪ {now.track_title} — {now.state}, {left} left")
        else:
            view.music_line.setText("♪ music stopped — P plays the phase's playlist")
