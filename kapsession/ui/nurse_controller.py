"""The nurse's actions on the live screen: a dose (with the hold-dose check), a check-in, an
alert acknowledged, a discharge, staggered doses, the esketamine device, a marker, the end.

Opens with a session (`open`) and lets go of it (`close`); each request of the live view
becomes one call of the live session, which saves the entry and says what changed."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QInputDialog

from kapsession.domain.alert_followup import scheduled
from kapsession.domain.discharge import DischargeOverride
from kapsession.domain.hold_dose import HoldDoseOverride, HoldDoseResult, check_hold_dose
from kapsession.domain.measures import measure_names
from kapsession.domain.vitals import FieldProblem
from kapsession.records.errors import StorageError
from kapsession.services.checkin_results import CheckinResult
from kapsession.services.live_session import LiveSession
from kapsession.services.nurse_board import checkin_target
from kapsession.services.session_service import SessionService
from kapsession.ui.checkin_form import CheckinEntry, taken_at_time
from kapsession.ui.formatting import local_time
from kapsession.ui.live_presenter import by_urgency
from kapsession.ui.main_window import MainWindow
from kapsession.ui.messages import ask, problem


class NurseActionsController(QObject):
    def __init__(
        self, window: MainWindow, service: SessionService, *, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.service = service
        self.live: LiveSession | None = None
        self._staff_names: dict[uuid.UUID, str] = {}
        live = window.live_view
        live.dose_requested.connect(self._on_dose)
        live.marker_requested.connect(self._on_marker)
        live.end_requested.connect(self._on_end)
        live.checkin_form.save_requested.connect(self._on_checkin_save)
        live.checkin_requested.connect(self._on_checkin_requested)
        live.alerts.acknowledge_requested.connect(self._on_acknowledge)
        live.device_requested.connect(self._on_device)
        live.stagger_requested.connect(self._on_stagger)
        live.discharge_requested.connect(self._on_discharge)

    def open(self, live: LiveSession, staff_names: dict[uuid.UUID, str]) -> None:
        """`staff_names`: display names by id, for who decided an override."""
        self.live = live
        self._staff_names = dict(staff_names)
        live.ticked.connect(self._tick)

    def close(self) -> None:
        if self.live is not None:
            self.live.ticked.disconnect(self._tick)
        self.live = None

    def _tick(self) -> None:
        """The check-in form's clock: the references' ages, the slot open now."""
        if self.live is not None:
            self.window.live_view.checkin_form.set_now(self.live.now())

    # check-ins and alerts -----------------------------------------------------------------
    def _on_checkin_requested(self) -> None:
        """C: a new check-in for the participant the nurse board lists as most urgent (shown
        and named on the form; `checkin_target`), every field empty, their previous values
        beside them, the slot open now chosen (else Unscheduled)."""
        live = self.live
        if live is None:
            return
        view = self.window.live_view
        focus = checkin_target(live.board(), view.current_participant()) or live.participants[0].id
        if focus != view.current_participant():
            view.participant.setCurrentIndex(view.participant.findData(focus))
        self._start_checkin(live, focus)
        view.focus_checkin()

    def _start_checkin(self, live: LiveSession, focus: uuid.UUID) -> None:
        form = self.window.live_view.checkin_form
        now = live.now()
        form.set_checkins(by_urgency(scheduled(live.state(focus).checkins)), now)
        form.start_entry(live.observations, focus, now)

    def _on_checkin_save(self, entry: CheckinEntry) -> None:
        live = self.live
        if live is None:
            return
        view = self.window.live_view
        focus = view.current_participant() or live.participants[0].id
        try:
            taken_at = taken_at_time(entry.taken_at_text, live.now())
        except ValueError as exc:
            view.checkin_form.show_problems([FieldProblem("taken_at", str(exc))])
            return

        def save(ask_before_partial: bool) -> CheckinResult | None:
            return live.save_checkin(
                focus,
                entry.raw,
                checkin_key=entry.checkin_key,
                occurred_at=taken_at,
                on_room_air=entry.on_room_air,
                ask_before_partial=ask_before_partial,
            )

        result = save(ask_before_partial=True)
        if result is not None and result.needs_confirmation:
            if not self._partial_confirmed(live, focus, entry, result.not_taken):
                view.checkin_form.focus_measure(result.not_taken[0])
                return
            result = save(ask_before_partial=False)
        if result is None:
            return  # the database refused; the banner says why and the form keeps the values
        if not result.saved:
            view.checkin_form.show_problems(list(result.problems))
            return
        self._start_checkin(live, focus)  # the reading just saved is the new reference
        view.setFocus()  # the form is done: D, M, C and the other keys act on the screen again

    def _partial_confirmed(
        self, live: LiveSession, focus: uuid.UUID, entry: CheckinEntry, not_taken: tuple[str, ...]
    ) -> bool:
        """Ask before a check-in is saved without measures its check-in requires."""
        names = measure_names(not_taken)
        name = live.record.participant(focus).client.full_name
        verb = "was" if len(not_taken) == 1 else "were"
        return ask(
            self.window,
            f"Partial check-in — {name}",
            f"{entry.checkin_label} asks for {names}, which {verb} not entered.\n\n"
            f"Record this check-in with {names} marked as not taken? Cancel goes back to the "
            "form to type them.",
        )

    def _on_acknowledge(self, alert_id: uuid.UUID) -> None:
        """A: the participant's monitoring clinician (or whoever switched in at the keyboard)
        saw the alert and says what was done (the dialog names the participant); the live
        session records who and when. The open alerts of the same reading (190/115: systolic
        and diastolic) are acknowledged together, with the same action."""
        live = self.live
        if live is None:
            return
        alert = next((a for a in live.open_alerts if a.id == alert_id), None)
        if alert is None:
            return
        together = [a for a in live.open_alerts if a.observation_id == alert.observation_id]
        name = live.record.participant(alert.participant_id).client.full_name
        from kapsession.ui.ack_dialog import AcknowledgeDialog  # when first used

        dialog = AcknowledgeDialog(
            name, [f"{local_time(a.raised_at)}  {a.message}" for a in together], self.window
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        action, text = dialog.value()
        for each in together:
            if not live.acknowledge_alert(each.id, action, text):
                return  # the live screen says why; what was saved stays saved

    # discharge ----------------------------------------------------------------------------
    def _on_discharge(self, participant_id: uuid.UUID) -> None:
        live = self.live
        if live is None:
            return
        name = live.record.participant(participant_id).client.full_name
        from kapsession.ui.discharge_dialog import DischargeDialog  # when first used

        dialog = DischargeDialog(
            name,
            live.protocol.discharge,
            lambda obs, checklist: live.evaluate_discharge(participant_id, obs, checklist),
            self.window,
        )
        while dialog.exec() == QDialog.DialogCode.Accepted:
            observation, checklist, reason = dialog.value()
            override = None
            if reason and not self._acting_name(participant_id):
                # who decided is part of an override: the monitoring clinician, or who switched in
                self.window.live_view.show_failure(
                    "Discharge NOT recorded: an override is recorded with who decided, and this "
                    "session names no monitoring clinician. Press Ctrl+W and switch to yourself, "
                    "then press Ctrl+D again."
                )
                return
            if reason:
                try:
                    override = DischargeOverride(reason, self._acting_name(participant_id))
                except ValueError as exc:
                    self._problem("Discharge not recorded", str(exc))
                    continue
            result = live.record_discharge(
                participant_id, observation, checklist, override=override
            )
            if result is not None and result.saved:
                return
            dialog.show_result_problems(result)

    def _acting_name(self, participant_id: uuid.UUID) -> str:
        """Who a nurse's decision for the participant is recorded as, by name."""
        live = self.live
        author = None if live is None else live.nurse_author(participant_id)
        return "" if author is None else self._staff_names.get(author, "")

    # doses --------------------------------------------------------------------------------
    def _on_stagger(self) -> None:
        live = self.live
        if live is None or len(live.participants) < 2:
            return
        minutes, ok = QInputDialog.getInt(
            self.window,
            "Stagger doses",
            "Minutes between the participants' doses (in the order listed):",
            5,
            1,
            30,
        )
        if ok:
            live.plan_staggered_doses(float(minutes))

    def _on_device(self, participant_id: uuid.UUID) -> None:
        if self.live is not None:
            self.live.record_device(participant_id)

    def _on_dose(self, participant_id: uuid.UUID) -> None:
        """D: the dose dialog (mg or mg/kg, lot, who, when); the hold-dose rule runs on save."""
        live = self.live
        if live is None or not live.is_live:
            return
        at = live.now()  # the dose time is when D was pressed, not when the form is saved
        name = live.record.participant(participant_id).client.full_name
        weights = [
            d.weight_kg
            for d in live.doses
            if d.participant_id == participant_id and d.weight_kg is not None
        ]
        from kapsession.ui.dose_dialog import DoseDialog  # when first used

        dialog = DoseDialog(
            name,
            live.protocol.dosing,
            self.service.staff.active(),
            live.nurse_author(participant_id),
            first_dose=live.first_dose_at(participant_id) is None,
            now_text=local_time(at),
            last_weight_kg=weights[-1] if weights else None,
            parent=self.window,
        )
        if live.first_dose_at(participant_id) is None:
            check = self._hold_dose_check(participant_id)
            if check is not None:
                dialog.show_hold_dose(check)
        while dialog.exec() == QDialog.DialogCode.Accepted:
            entry = dialog.value()
            if entry is None:
                continue
            reason = dialog.override_reason()
            override = None
            if reason:
                try:
                    override = HoldDoseOverride(
                        reason, self._acting_name(participant_id) or "not recorded"
                    )
                except ValueError as exc:
                    self._problem("Dose not recorded", str(exc))
                    continue
            try:
                given_at = entry.given_at(live.now()) or at
            except ValueError as exc:
                self._problem("Dose not recorded", str(exc))
                continue
            result = live.record_dose(
                participant_id,
                entry.dose_text,
                weight_text=entry.weight_text,
                unit=entry.unit,
                lot_number=entry.lot_number,
                given_by=entry.given_by,
                at=given_at,
                override=override,
            )
            if result is not None and result.saved:
                return
            dialog.show_result_problems(result)

    def _hold_dose_check(self, participant_id: uuid.UUID) -> HoldDoseResult | None:
        """The hold-dose check on the baseline as recorded now (None if it cannot be read:
        the service checks again when the dose is saved)."""
        live = self.live
        if live is None:
            return None
        try:
            baseline = self.service.checkins.baseline(live.record.id, participant_id)
        except StorageError:
            return None
        reading = None if baseline is None else baseline.reading
        return check_hold_dose(reading, live.protocol.hold_dose)

    # markers and the end ------------------------------------------------------------------
    def _on_marker(self, text: str, participant_id: uuid.UUID | None) -> None:
        if self.live is not None and self.live.add_marker(text, participant_id):
            self.window.live_view.marker_saved()

    def _on_end(self) -> None:
        live = self.live
        if live is None or not live.is_live:
            return
        if not ask(
            self.window,
            "End session",
            "End the session now? The clock stops; late entries can still be added.",
        ):
            return
        live.end_session()

    def _problem(self, title: str, text: str) -> None:
        problem(self.window, title, text)
