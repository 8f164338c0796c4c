"""The nurse's actions on the live screen: a dose (with the hold-dose check), a check-in, an
alert acknowledged, a discharge, staggered doses, the esketamine device, a marker, the end.

Opens with a session (`open`) and lets go of it (`close`); each request of the live view
becomes one call of the live session, which saves the entry and says what changed."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox

from kapsession.domain.alert_followup import scheduled
from kapsession.domain.discharge import DischargeOverride
from kapsession.domain.dose_order import PrescriberOverride
from kapsession.domain.dose_periods import HoldOutcome, InfusionAction
from kapsession.domain.hold_dose import HoldDoseOverride, HoldDoseResult, check_hold_dose
from kapsession.domain.measures import measure_names
from kapsession.domain.protocol import MEASURE_FIELDS, MEASURE_LABELS, MEASURE_OF_FIELD
from kapsession.domain.roles import TeamRole
from kapsession.domain.vitals import FieldProblem
from kapsession.records.entries import ObservationRecord
from kapsession.records.errors import StorageError
from kapsession.records.notes import SignOutcome
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionStatus
from kapsession.services.checkin_results import CheckinResult
from kapsession.services.dose_gates import Decision, DoseBlock, Gate, Needs
from kapsession.services.live_session import LiveSession
from kapsession.services.nurse_board import checkin_target
from kapsession.services.pins import PinService
from kapsession.services.session_log import reading_text
from kapsession.services.session_service import OrderEntry, SessionService
from kapsession.services.session_state import EntryKind
from kapsession.ui.checkin_form import CheckinEntry, taken_at_time
from kapsession.ui.formatting import local_time
from kapsession.ui.live_presenter import by_urgency
from kapsession.ui.main_window import MainWindow
from kapsession.ui.messages import ask, problem

if TYPE_CHECKING:
    from kapsession.ui.discharge_dialog import DischargeDialog
    from kapsession.ui.dose_dialog import DoseDialog
    from kapsession.ui.order_dialogs import OrderDialog

OVERRIDE_PURPOSE = "override the order for a dose"
ORDER_PURPOSE = "give the order for a dose"
COUNTERSIGN_PURPOSE = "countersign a verbal order"
DISCHARGE_OVERRIDE_PURPOSE = "let a client leave before the discharge check allows"
DECISION_PURPOSE = "decide on a dose (the screening or PHQ-9 item 9)"

RECHECK_ASKED = ("bp", "hr", "spo2")  # a recheck takes these, and the alert's own measure
_RECHECK_LABELS = {"bp": "BP (e.g. 150/92)", "hr": "HR", "spo2": "SpO2 %"}


def recheck_measures(fields: Iterable[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """What a recheck of alerts on `fields` takes, as (raw key, label), and the raw keys the
    alerts' own measures need (a BP alert: "bp")."""
    alerted = [MEASURE_OF_FIELD[f] for f in fields if f in MEASURE_OF_FIELD]
    measures = list(dict.fromkeys([*RECHECK_ASKED, *alerted]))

    def raw_key(measure: str) -> str:
        return "bp" if measure == "bp" else MEASURE_FIELDS[measure][0]

    shown = [(raw_key(m), _RECHECK_LABELS.get(m, MEASURE_LABELS[m])) for m in measures]
    return shown, list(dict.fromkeys(raw_key(m) for m in alerted))


class NurseActionsController(QObject):
    def __init__(
        self,
        window: MainWindow,
        service: SessionService,
        *,
        parent: QObject | None = None,
        pins: PinService | None = None,
    ) -> None:
        """`pins`: the staff PINs, for the prescriber's override and countersignature."""
        super().__init__(parent)
        self.window = window
        self.service = service
        self.pins = pins
        self.live: LiveSession | None = None
        self._staff_names: dict[uuid.UUID, str] = {}
        self._signature_names: dict[uuid.UUID, str] = {}
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
        live.countersign_requested.connect(self._on_countersign)
        live.hold_requested.connect(self._on_hold)
        live.infusion_requested.connect(self._on_infusion)
        live.screening_requested.connect(self._on_screening)  # issue 17
        # the order line and whether D offers a dose are the shown participant's: at once
        live.participant_changed.connect(lambda _pid: self.show_order())

    def open(self, live: LiveSession, staff_names: dict[uuid.UUID, str]) -> None:
        """`staff_names`: display names by id, for who decided an override."""
        self.live = live
        self._staff_names = dict(staff_names)
        live.ticked.connect(self._tick)
        live.entries_added.connect(self._order_saved)

    def close(self) -> None:
        if self.live is not None:
            self.live.ticked.disconnect(self._tick)
            self.live.entries_added.disconnect(self._order_saved)
        self.live = None

    def _order_saved(self, kind: str, _records: tuple[object, ...]) -> None:
        """An order recorded or corrected: the order line and D follow it at once."""
        if kind == EntryKind.ORDER:
            self.show_order()

    def _tick(self) -> None:
        """The check-in form's clock: the references' ages, the slot open now; the order line
        and whether D offers a dose now."""
        if self.live is not None:
            self.window.live_view.checkin_form.set_now(self.live.now())
            self.show_order()

    # the prescriber's order (issue 16) ------------------------------------------------------
    def show_order(self) -> None:
        """The shown participant's order on the live screen, and D enabled only where a dose
        may be given now."""
        live = self.live
        if live is None:
            return
        view = self.window.live_view
        pid = view.current_participant() or live.participants[0].id
        order = live.order_of(pid)
        waiting = live.awaiting_countersignature(pid) is not None
        if order is None:  # the prescriber gives it (or overrides) before the dose
            text = "No order recorded — the prescriber gives it before the dose"
        else:
            who = self._name_of(order.ordered_by_id)
            text = f"Order: {order.order.summary()} — {who}"
            if waiting:
                text += " · awaiting countersignature"
        open_record = live.record.status in (SessionStatus.LIVE, SessionStatus.COMPLETED)
        blocks = live.dose_blocks(pid) if live.is_live else []
        if blocks:  # issue 17: what the first dose waits for, in words a nurse acts on
            text += f" · {blocks[0].text}"
        warn = waiting or order is None or bool(blocks)
        view.show_order(text, countersign=waiting and open_record, warn=warn)
        allowed, why = live.dose_availability(pid)
        view.set_dose_allowed(allowed, why)
        view.set_dose_gated(any(b.needs is not Needs.HELD for b in blocks))

    def _name_of(self, staff_id: uuid.UUID) -> str:
        """A staff member's name as they sign (an order names who gave it)."""
        name = self._signature_names.get(staff_id)
        if name is None:
            self._signature_names = {s.id: s.signature_name for s in self.service.staff.all()}
            name = self._signature_names.get(staff_id, "unknown")
        return name

    def _prescribers(self) -> list[StaffRecord]:
        return [
            s
            for s in self.service.staff.active()
            if self.service.roles.may(TeamRole.PRESCRIBER, s.role)
        ]

    def _on_countersign(self, participant_id: uuid.UUID) -> None:
        """The prescriber who gave a verbal order countersigns it with their PIN."""
        live = self.live
        waiting = None if live is None else live.awaiting_countersignature(participant_id)
        if live is None or waiting is None or self.pins is None:
            return
        from kapsession.ui.order_dialogs import CountersignDialog  # when first used

        pins = self.pins
        prescribers = self._prescribers()
        dialog = CountersignDialog(
            waiting.order.summary(),
            prescribers,
            waiting.ordered_by_id,
            {s.id for s in prescribers if pins.has_pin(s.id)},
            parent=self.window,
        )
        dialog.countersign_requested.connect(
            lambda staff_id, pin: dialog.answer(self._countersign(waiting, staff_id, pin))
        )
        dialog.exec()
        self.show_order()

    def _countersign(self, order: DoseOrderRecord, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        live, pins = self.live, self.pins
        if live is None or pins is None:
            return SignOutcome(False, "The session is closed.")
        check = pins.verify(
            staff_id,
            pin,
            purpose=COUNTERSIGN_PURPOSE,
            session_id=live.record.id,
            not_done="The order was not countersigned.",
        )
        if not check.ok:
            return SignOutcome(
                False, check.message, pause_s=check.pause_s, retry_in_s=check.retry_in_s
            )
        failures: list[str] = []
        live.entry_failed.connect(failures.append)
        try:
            done = live.countersign_order(order, staff_id)
        finally:
            live.entry_failed.disconnect(failures.append)
        if not done:
            return SignOutcome(False, " ".join(failures) or "The order was not countersigned.")
        return SignOutcome(True, "Countersigned.")

    def _order_override(
        self, dialog: DoseDialog, participant_id: uuid.UUID
    ) -> tuple[bool, PrescriberOverride | None]:
        """The prescriber's override typed in the dose dialog, their PIN checked: (go on,
        the override or None). A wrong PIN: (False, None), said in the dialog."""
        typed = dialog.prescriber_override()
        live = self.live
        if typed is None or live is None:
            return True, None
        staff_id, name, pin, reason = typed
        if self.pins is None:
            dialog.show_override_refused("PINs cannot be checked here.")
            return False, None
        check = self.pins.verify(
            staff_id,
            pin,
            purpose=OVERRIDE_PURPOSE,
            session_id=live.record.id,
            not_done="The dose was not saved.",
        )
        if not check.ok:
            dialog.show_override_refused(check.message)
            return False, None
        try:
            return True, PrescriberOverride(staff_id, name, reason)
        except ValueError as exc:
            dialog.show_override_refused(str(exc))
            return False, None

    # check-ins and alerts -----------------------------------------------------------------
    def _on_checkin_requested(self) -> None:
        """C: a new check-in for the participant the nurse board lists as most urgent (shown
        and named on the form; `checkin_target`), every field empty, their previous values
        beside them, the slot open now chosen (else Unscheduled)."""
        live = self.live
        if live is None:
            return
        view = self.window.live_view
        if view.checkin_form.has_entry():
            # a form left half-filled (Esc, another key): back into it, for the participant
            # it names, with nothing typed lost
            view.focus_checkin(resume=True)
            return
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

        measures, required = recheck_measures(a.field for a in together)
        dialog = AcknowledgeDialog(
            name,
            [f"{local_time(a.raised_at)}  {a.message}" for a in together],
            self.window,
            recheck_measures=measures,
            required=required,
        )
        while True:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            action, text = dialog.value()
            recheck = dialog.recheck_values()
            if not recheck:
                break
            saved = self._save_recheck(live, alert.participant_id, recheck)
            if isinstance(saved, str):
                dialog.show_problem(saved)
                continue
            text = f"{text} — " if text else ""
            text += f"recheck saved as a reading at {local_time(saved.occurred_at)}: "
            text += reading_text(dataclasses.replace(saved.reading, comment=""))
            break
        for each in together:
            if not live.acknowledge_alert(each.id, action, text):
                return  # the live screen says why; what was saved stays saved

    def _save_recheck(
        self, live: LiveSession, participant_id: uuid.UUID, raw: dict[str, str]
    ) -> ObservationRecord | str:
        """The recheck typed in the acknowledgement, saved as an unscheduled check-in of the
        participant (its values checked, the alert rules applied); what to fix otherwise."""
        result = live.save_checkin(participant_id, {**raw, "comment": "Recheck after an alert"})
        if result is None:
            return "The recheck was NOT saved (the screen says why); nothing was acknowledged."
        if not result.saved or result.observation is None:
            return "; ".join(p.message for p in result.problems) or result.message
        return result.observation

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
            prescribers=self._prescribers(),
            prescriber_id=live.record.prescriber_id,
        )
        while dialog.exec() == QDialog.DialogCode.Accepted:
            observation, checklist, reason = dialog.value()
            override = None
            typed = dialog.prescriber_override()
            if reason and typed is not None:
                override = self._discharge_override(dialog, typed)
                if override is None:
                    continue  # a wrong PIN: nothing saved, the dialog says why
            elif reason and not self._acting_name(participant_id):
                # who decided is part of an override: the monitoring clinician, or who switched in
                self.window.live_view.show_failure(
                    "Discharge NOT recorded: an override is recorded with who decided, and this "
                    "session names no monitoring clinician. Press Ctrl+W and switch to yourself, "
                    "then press Ctrl+D again."
                )
                return
            if reason and override is None:
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

    def _discharge_override(
        self, dialog: DischargeDialog, typed: tuple[uuid.UUID, str, str, str]
    ) -> DischargeOverride | None:
        """The prescriber's override of the discharge check, their PIN checked; None (said in
        the dialog) when the PIN is wrong."""
        staff_id, name, pin, reason = typed
        live = self.live
        if self.pins is None or live is None:
            dialog.show_override_refused("PINs cannot be checked here.")
            return None
        check = self.pins.verify(
            staff_id,
            pin,
            purpose=DISCHARGE_OVERRIDE_PURPOSE,
            session_id=live.record.id,
            not_done="The discharge was not saved.",
        )
        if not check.ok:
            dialog.show_override_refused(check.message)
            return None
        try:
            return DischargeOverride(reason, name, prescriber_id=staff_id)
        except ValueError as exc:
            dialog.show_override_refused(str(exc))
            return None

    def _acting_name(self, participant_id: uuid.UUID) -> str:
        """Who a nurse's decision for the participant is recorded as, by name."""
        live = self.live
        author = None if live is None else live.nurse_author(participant_id)
        return "" if author is None else self._staff_names.get(author, "")

    # doses that last (issue 16) ----------------------------------------------------------
    def _on_hold(self, participant_id: uuid.UUID) -> None:
        """H: the sublingual hold ended; S spat out (Enter), W swallowed, Escape: nothing."""
        live = self.live
        if live is None or not live.is_live:
            return
        at = live.now()  # when H was pressed
        name = live.record.participant(participant_id).client.full_name
        box = QMessageBox(
            QMessageBox.Icon.Question,
            f"End of the hold — {name}",
            f"{name}: did they spit out or swallow the dose? ({local_time(at)})",
            parent=self.window,
        )
        spit = box.addButton("&Spat out", QMessageBox.ButtonRole.AcceptRole)
        swallow = box.addButton("S&wallowed", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(spit)
        box.setEscapeButton(cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is spit:
            live.record_hold_outcome(participant_id, HoldOutcome.SPIT, at=at)
        elif clicked is swallow:
            live.record_hold_outcome(participant_id, HoldOutcome.SWALLOW, at=at)

    def _on_infusion(self, participant_id: uuid.UUID) -> None:
        """I: the infusion's next action: P pause (Enter while running) or R resume (Enter
        while paused), S stop with the total given (the dose as entered, to confirm)."""
        live = self.live
        if live is None or not live.is_live:
            return
        infusion = live.infusion(participant_id)
        if infusion is None or not infusion.next_actions:
            return
        at = live.now()
        name = live.record.participant(participant_id).client.full_name
        box = QMessageBox(
            QMessageBox.Icon.Question,
            f"IV infusion — {name}",
            f"{infusion.describe(at)}.\n\nWhat happens now ({local_time(at)})?",
            parent=self.window,
        )
        words = {
            InfusionAction.PAUSE: "&Pause",
            InfusionAction.RESUME: "&Resume",
            InfusionAction.STOP: "&Stop…",
        }
        buttons = [
            (box.addButton(words[action], QMessageBox.ButtonRole.AcceptRole), action)
            for action in infusion.next_actions
        ]
        cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(buttons[0][0])
        box.setEscapeButton(cancel)
        box.exec()
        clicked = box.clickedButton()
        action = next((a for button, a in buttons if button is clicked), None)
        if action is None:
            return
        total: float | None = None
        if action is InfusionAction.STOP:
            total, ok = QInputDialog.getDouble(
                self.window,
                f"Infusion stopped — {name}",
                "Total given (mg):",
                infusion.dose_mg or 0.0,
                0.1,
                10_000.0,
                1,
            )
            if not ok:
                return
        live.record_infusion_action(participant_id, action, total_mg=total, at=at)

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
        allowed, why = live.dose_availability(participant_id)
        if not allowed:  # D stays where it is: the live screen says why no dose now
            self.window.live_view.show_failure(why)
            return
        if self._booster_waits_for_bp(participant_id):
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
            order_text=self._order_text(participant_id),
            prescribers=self._prescribers(),
        )
        dialog.order_requested.connect(lambda: self._record_order(dialog, participant_id))
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
            go_on, order_override = self._order_override(dialog, participant_id)
            if not go_on:
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
                order_override=order_override,
            )
            if result is not None and result.saved:
                self.show_order()
                return
            dialog.show_result_problems(result)

    def _booster_waits_for_bp(self, participant_id: uuid.UUID) -> bool:
        """A booster without a recent blood pressure: say so and offer the check-in form for
        the participant ("Take BP now", Enter); once it is saved, D doses again. True: no
        dose form now."""
        live = self.live
        why = None if live is None else live.booster_bp_wait(participant_id)
        if live is None or why is None:
            return False
        name = live.record.participant(participant_id).client.full_name
        box = QMessageBox(
            QMessageBox.Icon.Information,
            f"Blood pressure first — {name}",
            why.removesuffix(" Press C for a check-in."),
            parent=self.window,
        )
        box.setInformativeText(
            "Take BP now opens the check-in form for them; once it is saved, press D again."
        )
        take = box.addButton("&Take BP now", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(take)
        box.setEscapeButton(cancel)
        box.exec()
        if box.clickedButton() is take:
            self._checkin_for(live, participant_id)
        return True

    def _checkin_for(self, live: LiveSession, participant_id: uuid.UUID) -> None:
        """The check-in form for this participant (a half-filled one is resumed as it is)."""
        view = self.window.live_view
        if view.checkin_form.has_entry():
            view.focus_checkin(resume=True)
            return
        if participant_id != view.current_participant():
            view.participant.setCurrentIndex(view.participant.findData(participant_id))
        self._start_checkin(live, participant_id)
        view.focus_checkin()

    def _record_order(self, dose_dialog: DoseDialog, participant_id: uuid.UUID) -> None:
        """ "Record the order…" in the dose dialog: the prescriber's order for a participant
        without one, confirmed with their PIN or recorded as a verbal order to countersign."""
        live = self.live
        if live is None:
            return
        from kapsession.ui.order_dialogs import OrderDialog  # when first used

        dialog = OrderDialog(
            live.record.participant(participant_id).client.full_name,
            live.protocol.dosing,
            self._prescribers(),
            live.record.prescriber_id,
            parent=dose_dialog,
        )
        try:
            self._run_order_dialog(dialog, dose_dialog, participant_id)
        finally:
            dose_dialog.activateWindow()  # back to the dose form, recorded or not

    def _run_order_dialog(
        self, dialog: OrderDialog, dose_dialog: DoseDialog, participant_id: uuid.UUID
    ) -> None:
        live = self.live
        assert live is not None
        while dialog.exec() == QDialog.DialogCode.Accepted:
            typed = dialog.value()
            if typed is None:
                continue
            order, ordered_by, pin = typed
            if not order.verbal:
                if self.pins is None:
                    dialog.show_refused("PINs cannot be checked here.")
                    continue
                check = self.pins.verify(
                    ordered_by,
                    pin,
                    purpose=ORDER_PURPOSE,
                    session_id=live.record.id,
                    not_done="The order was not recorded.",
                )
                if not check.ok:
                    dialog.show_refused(check.message)
                    continue
            failures: list[str] = []
            live.entry_failed.connect(failures.append)
            try:
                saved = live.record_order(participant_id, OrderEntry(order, ordered_by))
            finally:
                live.entry_failed.disconnect(failures.append)
            if saved is None:
                dialog.show_refused(" ".join(failures) or "The record could not be written.")
                continue
            text = self._order_text(participant_id)
            dose_dialog.order_recorded(text or order.summary())
            self.show_order()
            return

    def _order_text(self, participant_id: uuid.UUID) -> str | None:
        live = self.live
        order = None if live is None else live.order_of(participant_id)
        if order is None:
            return None
        verbal = ""
        if live is not None and live.awaiting_countersignature(participant_id) is not None:
            verbal = " (awaiting countersignature)"
        return f"{order.order.summary()} — {self._name_of(order.ordered_by_id)}{verbal}"

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

    # before the first dose (issue 17) -----------------------------------------------------
    def _on_screening(self, participant_id: uuid.UUID) -> None:
        """B (or D while the first dose waits): the screening when it is not done (or to answer
        it again), then the prescriber's decision on whatever still waits for one."""
        live = self.live
        if live is None or not live.is_live:
            return
        name = live.record.participant(participant_id).client.full_name
        if live.first_dose_at(participant_id) is not None:
            self.window.live_view.show_failure(
                f"The screening comes before the first dose; {name} has had it."
            )
            return
        blocks = live.dose_blocks(participant_id)
        needs_screening = any(b.needs is Needs.SCREENING for b in blocks)
        if needs_screening or not blocks:
            if not self._screening(live, participant_id, name):
                return
            blocks = live.dose_blocks(participant_id)
        decided: set[tuple[Gate, uuid.UUID | None]] = set()
        for block in blocks:
            if block.needs is Needs.SCREENING or (block.gate, block.subject_id) in decided:
                continue
            if not self._decision(live, participant_id, name, block):
                break
            decided.add((block.gate, block.subject_id))
        self.show_order()

    def _screening(self, live: LiveSession, participant_id: uuid.UUID, name: str) -> bool:
        """The screening dialog; True when saved. When the checklist cannot be read, the
        prescriber's decision without it is offered instead."""
        from kapsession.domain.screening import ScreeningFileError
        from kapsession.ui.pre_dose_dialogs import ScreeningDialog

        try:
            checklist = live.screening_checklist()
        except ScreeningFileError as exc:
            block = DoseBlock(
                Gate.SCREENING,
                Needs.DECISION,
                None,
                f"The screening cannot be answered: {exc}. Fix the file (or tell the clinic "
                "lead); meanwhile the prescriber decides",
            )
            self._decision(live, participant_id, name, block)
            return False
        earlier = live.screening_of(participant_id)
        dialog = ScreeningDialog(
            name,
            checklist,
            replacing=None if earlier is None else local_time(earlier.occurred_at),
            parent=self.window,
        )
        while dialog.exec() == QDialog.DialogCode.Accepted:
            typed = dialog.value()
            if typed is None:
                continue
            answers, reason = typed
            failures: list[str] = []
            live.entry_failed.connect(failures.append)
            try:
                saved = live.record_screening(
                    participant_id,
                    checklist,
                    answers,
                    replaces=None if earlier is None else earlier.id,
                    reason=reason,
                )
            finally:
                live.entry_failed.disconnect(failures.append)
            if saved is not None:
                return True
            dialog.show_refused(" ".join(failures) or "The record could not be written.")
        return False

    def _decision(
        self, live: LiveSession, participant_id: uuid.UUID, name: str, block: DoseBlock
    ) -> bool:
        """The prescriber's proceed or hold on what the dose waits for, with their PIN and a
        reason; True when recorded."""
        from kapsession.ui.pre_dose_dialogs import PrescriberDecisionDialog

        pins = self.pins
        prescribers = self._prescribers()
        dialog = PrescriberDecisionDialog(
            f"Prescriber's decision — {name}",
            f"{block.text.removesuffix(' (press B).')}. "
            "Proceed lets the dose be given; hold keeps it disabled for them.",
            prescribers,
            live.record.prescriber_id,
            with_pin={s.id for s in prescribers if pins is not None and pins.has_pin(s.id)},
            parent=self.window,
        )
        while dialog.exec() == QDialog.DialogCode.Accepted:
            typed = dialog.value()
            if typed is None:
                continue
            decision, staff_id, _name, pin, reason = typed
            if pins is None:
                dialog.show_refused("PINs cannot be checked here.")
                continue
            check = pins.verify(
                staff_id,
                pin,
                purpose=DECISION_PURPOSE,
                session_id=live.record.id,
                not_done="The decision was not recorded.",
            )
            if not check.ok:
                dialog.show_refused(check.message)
                continue
            failures: list[str] = []
            live.entry_failed.connect(failures.append)
            try:
                saved = live.record_dose_decision(
                    participant_id,
                    block,
                    Decision(decision or Decision.HOLD),
                    prescriber_id=staff_id,
                    reason=reason,
                )
            finally:
                live.entry_failed.disconnect(failures.append)
            if saved is not None:
                return True
            dialog.show_refused(" ".join(failures) or "The record could not be written.")
        return False

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
