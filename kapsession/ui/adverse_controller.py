"""Adverse events (E), interventions (T) and each dose's controlled-substance count (issue 16)
on the live screen.

E opens the adverse-event entry for the participant shown (a new one, or, when they have one
not yet resolved, the choice to update it: an update is a correction of the entry). T opens
the intervention entry, linked to the participant's latest adverse event or alert when there is
one. Right after a dose is saved the live screen offers "Record waste …" (a key-free button,
there until every dose of the participant shown has its count): the count of that dose, with a
waste witnessed by a second staff member's PIN. Each request becomes one call of the live
session, which checks it, saves it and says what changed; what was typed wrong keeps the dialog
open with the fields to fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog

from kapsession.domain.adverse_events import (
    RESOLVED_OUTCOMES,
    EntryProblem,
    InterventionKind,
    RescueMedication,
)
from kapsession.records.adverse import AdverseEventRecord
from kapsession.services.entry_result import EntryResult
from kapsession.services.live_session import LiveSession
from kapsession.services.pins import PinService
from kapsession.services.session_service import SessionService
from kapsession.services.session_state import EntryKind
from kapsession.ui.formatting import local_time
from kapsession.ui.main_window import MainWindow

RECENT_ALERT = timedelta(minutes=60)  # an alert this recent is offered as the one an event follows
NEW_EVENT = "New adverse event"


class AdverseEventsController(QObject):
    def __init__(
        self,
        window: MainWindow,
        service: SessionService,
        pins: PinService,
        medications: Sequence[RescueMedication],
        *,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.service = service
        self.pins = pins
        self.medications = tuple(medications)
        self.live: LiveSession | None = None
        view = window.live_view
        view.adverse_event_requested.connect(self._on_adverse_event)
        view.intervention_requested.connect(self._on_intervention)
        view.substance_requested.connect(self._on_substance)
        view.participant_changed.connect(lambda _p: self._offer_count())

    def open(self, live: LiveSession) -> None:
        self.live = live
        live.entries_added.connect(self._entries_added)
        self._offer_count()

    def close(self) -> None:
        if self.live is not None:
            self.live.entries_added.disconnect(self._entries_added)
        self.live = None
        self.window.live_view.show_substance_offer(None)

    # the count after a dose ---------------------------------------------------------------
    def _entries_added(self, kind: str, _records: tuple[Any, ...]) -> None:
        if kind in (EntryKind.DOSE, EntryKind.SUBSTANCE):
            self._offer_count()

    def _uncounted(self, participant_id: uuid.UUID | None) -> list[Any]:
        """The participant's standing doses without a standing count, oldest first."""
        live = self.live
        if live is None or participant_id is None:
            return []
        counted = {c.dose_id for c in live.substance_counts}
        history = live.dose_history
        for dose in history:  # a count entered against a dose version counts for its newer ones
            if dose.corrects_id in counted:
                counted.add(dose.id)
        return [d for d in live.doses if d.participant_id == participant_id and d.id not in counted]

    def _offer_count(self) -> None:
        view = self.window.live_view
        waiting = self._uncounted(view.current_participant())
        if not waiting:
            view.show_substance_offer(None)
            return
        dose = waiting[0]
        view.show_substance_offer(f"Record waste ({local_time(dose.occurred_at)} dose)…")

    def _on_substance(self, participant_id: uuid.UUID) -> None:
        live = self.live
        waiting = self._uncounted(participant_id)
        if live is None or not waiting:
            return
        dose = waiting[0]
        name = live.record.participant(participant_id).client.full_name
        author = live.nurse_author(participant_id)
        witnesses = [(s.id, s.display_name) for s in self.service.staff.active() if s.id != author]
        amount = f"{dose.dose_mg:g} mg" if dose.dose_mg is not None else "amount not recorded"
        from kapsession.ui.adverse_dialogs import SubstanceDialog  # when first used

        dialog = SubstanceDialog(
            name,
            f"{dose.medication or 'Dose'} {amount} at {local_time(dose.occurred_at)}",
            dose.dose_mg,
            witnesses,
            self.window,
        )

        def submit() -> Sequence[EntryProblem]:
            form = dialog.value()
            result = live.record_substance_count(
                dose.id,
                drawn_text=form.drawn_text,
                given_text=form.given_text,
                wasted_text=form.wasted_text,
                witness_id=form.witness_id,
                witness_pin=form.pin,
                pins=self.pins,
                comment=form.comment,
            )
            return _problems(result)

        dialog.submit = submit
        dialog.exec()

    # adverse events -----------------------------------------------------------------------
    def _alert_choices(
        self, live: LiveSession, participant_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, str]]:
        """The participant's open alerts and those of the last hour, newest first."""
        now = live.now()
        alerts = [
            a
            for a in live.all_alerts
            if a.participant_id == participant_id
            and (a.is_open or now - a.raised_at <= RECENT_ALERT)
        ]
        return [
            (a.id, f"{local_time(a.raised_at)}  {a.message}{'' if a.is_open else ' (seen)'}")
            for a in sorted(alerts, key=lambda a: a.raised_at, reverse=True)
        ]

    def _on_adverse_event(self, participant_id: uuid.UUID) -> None:
        live = self.live
        if live is None:
            return
        name = live.record.participant(participant_id).client.full_name
        lasting = [
            a
            for a in live.adverse_events
            if a.participant_id == participant_id and a.outcome not in RESOLVED_OUTCOMES
        ]
        current: AdverseEventRecord | None = None
        if lasting:
            choices = [NEW_EVENT] + [
                f"Update: {a.title} (onset {local_time(a.occurred_at)}, {a.outcome})"
                for a in lasting
            ]
            chosen, ok = QInputDialog.getItem(
                self.window, f"Adverse event — {name}", "Record:", choices, 0, False
            )
            if not ok:
                return
            index = choices.index(chosen)
            current = lasting[index - 1] if index else None
        from kapsession.ui.adverse_dialogs import AdverseEventDialog, AdverseEventForm, clock_time

        now = live.now()
        filled = None
        if current is not None:
            filled = AdverseEventForm(
                kind=current.kind,
                other=current.other,
                severity=current.severity,
                seriousness=current.seriousness,
                outcome=current.outcome,
                onset_text=local_time(current.occurred_at),
                resolved_text=""
                if current.resolved_at is None
                else local_time(current.resolved_at),
                actions=current.actions,
                alert_id=current.alert_id,
            )
        dialog = AdverseEventDialog(
            name, self._alert_choices(live, participant_id), now, current=filled, parent=self.window
        )

        def submit() -> Sequence[EntryProblem]:
            form = dialog.value()
            now = live.now()
            try:
                onset = clock_time(form.onset_text, now) or now
                resolved = clock_time(form.resolved_text, now)
            except ValueError as exc:
                return [EntryProblem("onset", str(exc))]
            values: dict[str, Any] = {
                "kind": form.kind,
                "other": form.other,
                "severity": form.severity,
                "seriousness": form.seriousness,
                "outcome": form.outcome,
                "onset_at": _keep_seconds(onset, current),
                "resolved_at": resolved,
                "actions": form.actions,
                "alert_id": form.alert_id,
            }
            if current is None:
                result = live.record_adverse_event(participant_id, **values)
            else:
                result = live.update_adverse_event(
                    current.id, "Updated as it stands now (resolution, outcome)", **values
                )
            return _problems(result)

        dialog.submit = submit
        dialog.exec()

    # interventions ------------------------------------------------------------------------
    def _on_intervention(self, participant_id: uuid.UUID) -> None:
        live = self.live
        if live is None:
            return
        name = live.record.participant(participant_id).client.full_name
        links: list[tuple[str, tuple[str, uuid.UUID]]] = [
            (f"Adverse event: {a.title} ({local_time(a.occurred_at)})", ("adverse_event", a.id))
            for a in reversed(live.adverse_events)
            if a.participant_id == participant_id
        ]
        links += [
            (f"Alert: {text}", ("alert", alert_id))
            for alert_id, text in self._alert_choices(live, participant_id)
        ]
        staff = [(s.id, s.display_name) for s in self.service.staff.active()]
        from kapsession.ui.adverse_dialogs import InterventionDialog, clock_time

        dialog = InterventionDialog(
            name,
            self.medications,
            staff,
            live.nurse_author(participant_id),
            links,
            live.now(),
            self.window,
        )
        if not self.medications:
            dialog.kind.removeItem(dialog.kind.findData(InterventionKind.RESCUE_MEDICATION.value))

        def submit() -> Sequence[EntryProblem]:
            form = dialog.value()
            now = live.now()
            try:
                given_at = clock_time(form.time_text, now)
            except ValueError as exc:
                return [EntryProblem("given_at", str(exc))]
            link_kind, link_id = form.link if form.link else ("", None)
            result = live.record_intervention(
                participant_id,
                kind=form.kind,
                given_at=_keep_seconds(given_at, None) if given_at else None,
                medications=self.medications,
                medication=form.medication,
                dose_text=form.dose_text,
                route=form.route,
                lot_number=form.lot_number,
                flow_text=form.flow_text,
                device=form.device,
                text=form.text,
                given_by=form.given_by,
                adverse_event_id=link_id if link_kind == "adverse_event" else None,
                alert_id=link_id if link_kind == "alert" else None,
            )
            return _problems(result)

        dialog.submit = submit
        dialog.exec()


def _keep_seconds(when: datetime, current: AdverseEventRecord | None) -> datetime:
    """An onset typed as the minute it already had keeps its seconds (an update changes only
    what was changed)."""
    if current is not None and local_time(current.occurred_at) == local_time(when):
        return current.occurred_at
    return when


def _problems(result: EntryResult[Any]) -> Sequence[EntryProblem]:
    """Nothing when it was saved; else what to fix, or what the database refused."""
    if result.saved:
        return ()
    return result.problems or (EntryProblem("", result.message or "Nothing was saved."),)
