"""Correcting an entry from the screen, keyboard first: Enter (or a double click) on a standing
reading of the readings table, or on a standing row of the event list, opens the correction of
that entry or its withdrawal as entered in error, always with a reason.

One table (`TARGETS`) says what a row of the event list can be, by its kind: a row of a kind
comes from one table or more (a dose row is a dose, its controlled-substance count, a hold's end,
an infusion's action or the prescriber's order), so the entry is looked up by its id in the
live session's standing entries of each, in that order, and the first that holds it opens its
dialog (`OPENERS`). Notes keep their own path (the note pad's amend, NotesController). Who
corrects is who the live session credits the entry to (the participant's monitoring clinician,
or the person who switched in at the keyboard; a marker: the therapist or that person), never a
default; an order is corrected or withdrawn by a prescriber, who enters their PIN (a changed
order is theirs).

A signed part of the record is not corrected here: the dialog says so and how a correction
after signing is made today (a signed addendum). The database refuses it as well.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from kapsession.domain.corrections import EntryState
from kapsession.domain.dose_order import PrescriberOverride
from kapsession.domain.escort import KIND as ESCORT
from kapsession.records.dose_periods import DOSE_PERIOD_EVENTS
from kapsession.records.entries import DoseRecord, EventRecord, ObservationRecord
from kapsession.records.errors import StorageError
from kapsession.records.notes import SignedPart
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.session_log import LogItem, LogKind
from kapsession.records.sessions import SessionStatus
from kapsession.services.live_session import LiveSession
from kapsession.services.session_log import checkin_title, reading_text
from kapsession.services.session_note import SessionNoteService
from kapsession.services.session_state import EntryKind
from kapsession.ui.checkin_form import taken_at_time
from kapsession.ui.correction_dialogs import (
    WITHDRAW,
    CorrectionDialog,
    DoseCorrectionDialog,
    Message,
    OrderCorrectionDialog,
    Problem,
    ReadingCorrectionDialog,
    TimeCorrectionDialog,
    WithdrawDialog,
)
from kapsession.ui.formatting import local_time
from kapsession.ui.live_view import NOTES, READINGS
from kapsession.ui.main_window import MainWindow

PRE_DOSE_EVENTS = ("screening", "dose_gate_decision")  # issue 17


class Target(enum.Enum):
    """What an entry to correct is, as the live session keeps it."""

    READING = "reading"
    DOSE = "dose"
    DOSE_PERIOD = "dose_period"  # a sublingual hold's end, an infusion's pause, resume or stop
    COUNT = "count"  # a dose's controlled-substance count
    MARKER = "marker"
    ADVERSE_EVENT = "adverse_event"
    INTERVENTION = "intervention"
    ORDER = "order"  # the prescriber's order (issue 16): the prescriber's, with their PIN
    PRE_DOSE = "pre_dose"  # issue 17: a screening or the prescriber's decision before the dose
    ESCORT = "escort"  # issue 17: who takes the participant home (a row among the discharge's)


# A row of the event list, by its kind: the kinds of entry it may be, looked up in this order.
TARGETS: Mapping[LogKind, tuple[Target, ...]] = {
    LogKind.CHECKIN: (Target.READING,),
    LogKind.DOSE: (Target.DOSE, Target.DOSE_PERIOD, Target.COUNT, Target.ORDER, Target.PRE_DOSE),
    LogKind.MARKER: (Target.MARKER,),
    LogKind.ALERT: (Target.ADVERSE_EVENT, Target.INTERVENTION),
    LogKind.DISCHARGE: (Target.ESCORT,),
}

# What a row that is none of those says when Enter is pressed on it.
NOT_HERE: Mapping[LogKind, str] = {
    LogKind.ALERT: (
        "An alert is not corrected: acknowledge it (A), or correct the reading that raised it "
        "(R, Enter on the reading)."
    ),
    LogKind.DOSE: "This entry is not corrected here; correct the dose it belongs to.",
    LogKind.DISCHARGE: "A discharge is not corrected here.",
}
NOT_HERE_OTHERWISE = "This entry is written by the program and is not corrected."
NOT_STANDING = "This entry was already corrected or withdrawn; correct the version that stands now."
# Which signed part locks an entry (the database's triggers: storage/migrations 0005, 0011,
# 0012); events (markers, a hold's end, an infusion's action) only with the whole session.
LOCKED_BY: Mapping[Target, SignedPart | None] = {
    Target.READING: SignedPart.MONITORING,
    Target.DOSE: SignedPart.MONITORING,
    Target.DOSE_PERIOD: None,
    Target.COUNT: SignedPart.MONITORING,
    Target.MARKER: None,
    Target.ADVERSE_EVENT: SignedPart.MONITORING,
    Target.INTERVENTION: SignedPart.MONITORING,
    Target.ORDER: SignedPart.MONITORING,
    Target.PRE_DOSE: None,
    Target.ESCORT: None,
}
AFTER_SIGNING = (
    "A signed record is not changed. To correct it, write the correction as a signed addendum: "
    "on the Session note and signing tab (S), “Add addendum…”; it follows the signed record "
    "with your name and the time."
)
REASON_MISSING = "Write why; the reason goes on the record with the correction."
WITHDRAW_HINTS: Mapping[Target, str] = {
    Target.MARKER: "A marker is withdrawn here; to change it, withdraw it and type it again (M).",
    Target.ADVERSE_EVENT: (
        "Withdraw an adverse event entered in error here; to record how it stands now "
        "(resolved, its outcome), press E."
    ),
    Target.INTERVENTION: (
        "An intervention is withdrawn here; to change it, withdraw it and enter it again (T)."
    ),
    Target.COUNT: (
        "A count is withdrawn here; to change it, withdraw it and record it again (Record waste…)."
    ),
    Target.PRE_DOSE: (
        "Withdraw a screening or a decision entered in error here; to answer the screening "
        "again, press B (the earlier answers stay on the record)."
    ),
    Target.ESCORT: (
        "Withdraw an escort recorded for the wrong person here; to change who it is, press Y "
        "(the earlier one stays on the record)."
    ),
}
NOUNS: Mapping[Target, str] = {
    Target.MARKER: "Marker",
    Target.ADVERSE_EVENT: "Adverse event",
    Target.INTERVENTION: "Intervention",
    Target.COUNT: "Controlled-substance count",
    Target.PRE_DOSE: "Before the dose",
    Target.ESCORT: "Escort today",
}
TITLES: Mapping[Target, str] = {
    Target.READING: "Correct reading",
    Target.DOSE: "Correct dose",
    Target.DOSE_PERIOD: "Correct entry",
    Target.COUNT: "Withdraw count",
    Target.MARKER: "Withdraw marker",
    Target.ADVERSE_EVENT: "Withdraw adverse event",
    Target.INTERVENTION: "Withdraw intervention",
    Target.ORDER: "Correct the order",
    Target.PRE_DOSE: "Withdraw screening entry",
    Target.ESCORT: "Withdraw escort",
}
ORDER_CORRECT_PURPOSE = "correct the order for a dose"  # the PIN's purpose, as the audit says
NO_PRESCRIBER = (
    "No one on the staff list may prescribe (the clinic's role rules): the order is corrected "
    "by the prescriber."
)
PIN_MISSING = "The prescriber types their PIN: a changed order is theirs."
OVERRIDE_PURPOSE = "override the order for a dose"  # as for a new dose (NurseActionsController)
OVERRIDE_NEEDED = (
    "The corrected dose is outside the order or the protocol's limits: the prescriber "
    "overrides (who, their PIN, their reason), then Enter."
)
OVERRIDE_REASON_MISSING = "Write the prescriber's reason for the dose outside the order."


def _standing(live: LiveSession, target: Target) -> Sequence[Any]:
    """The live session's standing entries of one kind."""
    if target is Target.READING:
        return live.observations
    if target is Target.DOSE:
        return live.doses
    if target is Target.DOSE_PERIOD:
        return [e for e in live.events if e.kind in DOSE_PERIOD_EVENTS]
    if target is Target.MARKER:
        return [e for e in live.events if e.kind == "marker"]
    if target is Target.COUNT:
        return live.substance_counts
    if target is Target.ADVERSE_EVENT:
        return live.adverse_events
    if target is Target.ORDER:
        return live.orders
    if target is Target.PRE_DOSE:
        return [e for e in live.events if e.kind in PRE_DOSE_EVENTS]
    if target is Target.ESCORT:
        return [e for e in live.events if e.kind == ESCORT]
    return live.interventions


def find(live: LiveSession, target: Target, entry_id: uuid.UUID) -> Any | None:
    return next((e for e in _standing(live, target) if e.id == entry_id), None)


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _time_of(text: str, kept: datetime, now: datetime) -> datetime | None:
    """The time typed (HH:MM), or None when it is the one recorded (its seconds kept).
    ValueError: not a time, or later than now."""
    if text.strip() == local_time(kept):
        return None
    when = taken_at_time(text.strip(), now)
    if when is None:
        raise ValueError("Write the time as HH:MM, e.g. 14:35.")
    return when


class CorrectionsController(QObject):
    def __init__(
        self, window: MainWindow, notes: SessionNoteService, *, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.notes = notes  # the signatures: which part of the record is signed
        self.live: LiveSession | None = None
        self.openers: Mapping[Target, Callable[[LiveSession, Target, Any], None]] = {
            Target.READING: self._reading,
            Target.DOSE: self._dose,
            Target.DOSE_PERIOD: self._dose_period,
            Target.COUNT: self._withdraw_only,
            Target.MARKER: self._withdraw_only,
            Target.ADVERSE_EVENT: self._withdraw_only,
            Target.INTERVENTION: self._withdraw_only,
            Target.ORDER: self._order,
            Target.PRE_DOSE: self._withdraw_only,
            Target.ESCORT: self._withdraw_only,
        }

    def open(self, live: LiveSession) -> None:
        self.live = live

    def close(self) -> None:
        self.live = None

    def tab_built(self, name: str) -> None:
        """A tab of the live screen was just built (each once): the readings table and the
        event list ask for their corrections here. The composer builds this controller with
        the first of them (`AppController`)."""
        view = self.window.live_view
        if name == READINGS:
            view.readings.correction_requested.connect(self.correct_reading)
        elif name == NOTES:
            view.events.item_activated.connect(self.entry_activated)

    # what asks for a correction -------------------------------------------------------------
    def correct_reading(self, observation_id: uuid.UUID) -> None:
        """Enter on a standing reading of the readings table."""
        live = self.live
        if live is not None:
            self._correct(live, Target.READING, observation_id)

    def entry_activated(self, item: LogItem) -> None:
        """Enter on a row of the event list: its entry's correction, or why there is none."""
        live = self.live
        if live is None or item.kind is LogKind.NOTE:
            return  # a note is amended on the note pad (NotesController)
        view = self.window.live_view
        if item.entry_id is not None and item.kind in TARGETS:
            if item.state is not EntryState.STANDING:
                view.show_saved(NOT_STANDING)
                return
            for target in TARGETS[item.kind]:
                if find(live, target, item.entry_id) is not None:
                    self._correct(live, target, item.entry_id)
                    return
        view.show_saved(NOT_HERE.get(item.kind, NOT_HERE_OTHERWISE))

    def _correct(self, live: LiveSession, target: Target, entry_id: uuid.UUID) -> None:
        entry = find(live, target, entry_id)
        if entry is None:
            self.window.live_view.show_saved(NOT_STANDING)
            return
        locked = self._locked(live, target)
        if locked is not None:
            QMessageBox.information(
                self.window,
                f"Signed record — {self._name(live, entry.participant_id)}",
                f"{locked} {AFTER_SIGNING}",
            )
            return
        self.openers[target](live, target, entry)

    def _locked(self, live: LiveSession, target: Target) -> str | None:
        """Why the entry cannot be corrected (its part of the record is signed), or None."""
        if live.record.status == SessionStatus.SIGNED:
            return "This session is signed and locked."
        part = LOCKED_BY[target]
        if part is None:
            return None
        try:
            signed = {s.part for s in self.notes.signatures.signatures(live.record.id)}
        except StorageError:
            return None  # not known now: the database refuses a locked entry anyway
        if part in signed:
            return f"The {part.value} part of this session is signed."
        return None

    @staticmethod
    def _name(live: LiveSession, participant_id: uuid.UUID | None) -> str:
        if participant_id is None:
            return "everyone in the room"
        return live.record.participant(participant_id).client.full_name

    def _run(self, dialog: CorrectionDialog, submit: Callable[[], Sequence[Problem]]) -> None:
        """Show the dialog; its Enter runs `submit`, which saves or gives back what to fix."""

        def checked() -> Sequence[Problem]:
            if not dialog.reason.text().strip():
                return [Message("reason", REASON_MISSING)]
            return submit()

        dialog.submit = checked
        dialog.exec()
        dialog.deleteLater()

    @contextmanager
    def _refusals(self, live: LiveSession) -> Iterator[list[str]]:
        """What the live session says it refused during the block (the database's answer: a
        signed record, an entry corrected meanwhile), for the dialog to show."""
        said: list[str] = []

        def heard(message: str) -> None:
            said.append(message)

        live.entry_failed.connect(heard)
        try:
            yield said
        finally:
            live.entry_failed.disconnect(heard)

    # the dialogs ------------------------------------------------------------------------------
    def _reading(self, live: LiveSession, _target: Target, reading: ObservationRecord) -> None:
        name = self._name(live, reading.participant_id)
        labels = {c.key: c.label for c in live.protocol.checkins}
        heading = (
            f"{checkin_title(reading.checkin_key, labels)} of {name}, taken at "
            f"{local_time(reading.occurred_at)} (entered {local_time(reading.recorded_at)})"
        )
        values = {key: _value_text(value) for key, value in reading.values.items()}
        dialog = ReadingCorrectionDialog(
            f"{TITLES[Target.READING]} — {name}",
            heading,
            reading_text(reading.reading),
            values,
            local_time(reading.occurred_at),
            self.window,
        )

        def submit() -> Sequence[Problem]:
            reason = dialog.reason.text()
            with self._refusals(live) as said:
                if dialog.action == WITHDRAW:
                    result = live.withdraw_checkin(reading.id, reason)
                else:
                    try:
                        when = _time_of(dialog.taken_at.text(), reading.occurred_at, live.now())
                    except ValueError as exc:
                        return [Message("taken_at", str(exc))]
                    result = live.correct_checkin(
                        reading.id, dialog.raw(), reason, occurred_at=when
                    )
            if result is None:
                return [Message("", " ".join(said) or "Nothing was saved.")]
            return result.problems

        self._run(dialog, submit)

    def _dose(self, live: LiveSession, _target: Target, dose: DoseRecord) -> None:
        name = self._name(live, dose.participant_id)
        amount = f"{dose.dose_mg:g} mg" if dose.dose_mg is not None else "amount not recorded"
        what = "Booster" if dose.kind == "booster" else "Dose"
        recorded = f"{what} {amount}{f' {dose.route}' if dose.route else ''}"
        if dose.lot_number:
            recorded += f" · lot {dose.lot_number}"
        per_kg = dose.dose_mg_per_kg is not None
        amount_text = f"{dose.dose_mg_per_kg:g} mg/kg" if per_kg else amount
        if dose.dose_mg is None and not per_kg:
            amount_text = ""
        dialog = DoseCorrectionDialog(
            f"{TITLES[Target.DOSE]} — {name}",
            f"{what} of {name}, given at {local_time(dose.occurred_at)} (entered "
            f"{local_time(dose.recorded_at)})",
            recorded,
            amount_text=amount_text,
            weight_text=_value_text(dose.weight_kg),
            lot_text=dose.lot_number or "",
            time_text=local_time(dose.occurred_at),
            prescribers=live.prescribers(),
            parent=self.window,
        )
        typed = (amount_text, _value_text(dose.weight_kg))

        def submit() -> Sequence[Problem]:
            reason = dialog.reason.text()
            with self._refusals(live) as said:
                if dialog.action == WITHDRAW:
                    if live.withdraw_dose(dose.id, reason):
                        return ()
                    return [Message("", " ".join(said) or "Nothing was saved.")]
                try:
                    when = _time_of(dialog.time.text(), dose.occurred_at, live.now())
                except ValueError as exc:
                    return [Message("time", str(exc))]
                override = self._dose_override(live, dialog)
                if isinstance(override, Message):
                    return [override]
                amount_now = (dialog.amount.text().strip(), dialog.weight.text().strip())
                lot = dialog.lot.text().strip()
                result = live.correct_dose(
                    dose.id,
                    reason,
                    dose_text=None if amount_now == typed else amount_now[0],
                    weight_text=amount_now[1],
                    lot_number=None if lot == (dose.lot_number or "") else lot,
                    occurred_at=when,
                    order_override=override,
                )
            if result is None:
                return [Message("", " ".join(said) or "Nothing was saved.")]
            if result.needs_order_override and result.order_check is not None:
                deviations = [d.message for d in result.order_check.deviations]
                dialog.ask_for_prescriber(deviations)
                return [Message("prescriber", OVERRIDE_NEEDED)]
            return result.problems

        self._run(dialog, submit)

    def _order(self, live: LiveSession, _target: Target, order: DoseOrderRecord) -> None:
        """The order corrected or withdrawn: the prescriber's, with their PIN; the order line
        and the dose check follow the version saved."""
        name = self._name(live, order.participant_id)
        prescribers = live.prescribers()
        names = {s.id: s.signature_name for s in prescribers}
        dialog = OrderCorrectionDialog(
            f"{TITLES[Target.ORDER]} — {name}",
            f"The prescriber's order for {name}, given at {local_time(order.occurred_at)} by "
            f"{names.get(order.ordered_by_id, 'a prescriber')}",
            order.order.summary(),
            order=order.order,
            dosing=live.protocol.dosing,
            prescribers=prescribers,
            ordered_by=order.ordered_by_id,
            parent=self.window,
        )

        def submit() -> Sequence[Problem]:
            typed = dialog.prescriber_rows.typed()
            if typed is None:
                return [Message("prescriber", NO_PRESCRIBER)]
            staff_id, _who, pin = typed
            withdraw = dialog.action == WITHDRAW
            corrected = None
            if not withdraw:
                corrected, problems = dialog.order()
                if problems or corrected is None:
                    return problems or [Message("order_dose", "Type the order.")]
            if not pin:
                return [Message("pin", PIN_MISSING)]
            check = self.notes.pins.verify(
                staff_id,
                pin,
                purpose=ORDER_CORRECT_PURPOSE,
                session_id=live.record.id,
                not_done="The order was not corrected.",
            )
            if not check.ok:
                dialog.prescriber_rows.pin.clear()
                return [Message("pin", check.message)]
            with self._refusals(live) as said:
                saved = live.correct_order(
                    order.id,
                    dialog.reason.text(),
                    prescriber_id=staff_id,
                    order=corrected,
                    voids=withdraw,
                )
            return () if saved is not None else [Message("", " ".join(said) or "Nothing saved.")]

        self._run(dialog, submit)

    def _dose_override(
        self, live: LiveSession, dialog: DoseCorrectionDialog
    ) -> PrescriberOverride | Message | None:
        """The prescriber's override typed in the dose's correction, their PIN checked (as for
        a new dose: OVERRIDE_PURPOSE); None when none is asked for; a Message: what to fix."""
        typed = dialog.prescriber_override()
        if typed is None:
            return Message("prescriber", NO_PRESCRIBER) if dialog.override_asked else None
        staff_id, name, pin, reason = typed
        if not reason:
            return Message("order_reason", OVERRIDE_REASON_MISSING)
        if not pin:
            return Message("prescriber_pin", "The prescriber types their PIN to override.")
        check = self.notes.pins.verify(
            staff_id,
            pin,
            purpose=OVERRIDE_PURPOSE,
            session_id=live.record.id,
            not_done="The correction was not saved.",
        )
        if not check.ok:
            dialog.prescriber_pin.clear()
            return Message("prescriber_pin", check.message)
        return PrescriberOverride(staff_id, name, reason)

    def _dose_period(self, live: LiveSession, _target: Target, event: EventRecord) -> None:
        name = self._name(live, event.participant_id)
        dialog = TimeCorrectionDialog(
            f"{TITLES[Target.DOSE_PERIOD]} — {name}",
            f"{event.label} — {name}, at {local_time(event.occurred_at)}",
            event.label,
            time_text=local_time(event.occurred_at),
            parent=self.window,
        )

        def submit() -> Sequence[Problem]:
            reason = dialog.reason.text()
            withdraw = dialog.action == WITHDRAW
            when = None
            if not withdraw:
                try:
                    when = _time_of(dialog.time.text(), event.occurred_at, live.now())
                except ValueError as exc:
                    return [Message("time", str(exc))]
                if when is None:
                    return [Message("time", "Type the time it happened, or withdraw the entry.")]
            with self._refusals(live) as said:
                saved = live.correct_dose_period(event.id, reason, occurred_at=when, voids=withdraw)
            return () if saved is not None else [Message("", " ".join(said) or "Nothing saved.")]

        self._run(dialog, submit)

    def _withdraw_only(self, live: LiveSession, target: Target, entry: Any) -> None:
        name = self._name(live, entry.participant_id)
        recorded = entry.label if isinstance(entry, EventRecord) else entry.title
        dialog = WithdrawDialog(
            f"{TITLES[target]} — {name}",
            f"{NOUNS[target]} for {name}, at {local_time(entry.occurred_at)} (entered "
            f"{local_time(entry.recorded_at)})",
            recorded,
            WITHDRAW_HINTS[target],
            self.window,
        )
        kinds = {
            Target.ADVERSE_EVENT: EntryKind.ADVERSE_EVENT,
            Target.INTERVENTION: EntryKind.INTERVENTION,
            Target.COUNT: EntryKind.SUBSTANCE,
        }

        def submit() -> Sequence[Problem]:
            reason = dialog.reason.text()
            with self._refusals(live) as said:
                if target in (Target.PRE_DOSE, Target.ESCORT):
                    done = live.withdraw_event(entry.id, reason)
                elif target is Target.MARKER:
                    done = live.withdraw_marker(entry.id, reason)
                    if done:
                        self.window.live_view.show_saved(
                            "Marker withdrawn — saved; it stays on the record, marked withdrawn."
                        )
                else:
                    done = live.withdraw_entry(kinds[target], entry.id, reason)
            return () if done else [Message("", " ".join(said) or "Nothing was saved.")]

        self._run(dialog, submit)
