"""Who is at the keyboard and the session's team, on the live screen.

The team bar always says who the entries are recorded as and who is on the team. Ctrl+W
switches the person at the keyboard (their PIN checked: from then on every entry is theirs, or,
back to the team's names, the nurse's entries go to the monitoring clinician and the notes to
the therapist); Ctrl+Shift+W records a handover on the team, confirmed by the PIN of the person
taking over. A person without a PIN is not given one here (issue 18): the dialogs say they set
their own at their first sign-in.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import QObject

from kapsession.domain.roles import TeamRole
from kapsession.records.errors import StorageError
from kapsession.records.notes import SignOutcome
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionStatus
from kapsession.services.live_session import LiveSession
from kapsession.services.pins import PinCheck, PinService
from kapsession.services.session_service import SessionService
from kapsession.services.session_team import check_place, team_text
from kapsession.ui.main_window import MainWindow

HANDOVER_PURPOSE = "take over on the session's team"


class TeamController(QObject):
    def __init__(
        self,
        window: MainWindow,
        service: SessionService,
        pins: PinService,
        *,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.service = service
        self.pins = pins
        self.live: LiveSession | None = None
        view = window.live_view
        view.team_bar.switch_requested.connect(self.switch_person)
        view.team_bar.handover_requested.connect(self.hand_over)  # and its key (keymap)

    def open(self, live: LiveSession) -> None:
        self.live = live
        live.team_changed.connect(self.show)
        live.status_changed.connect(self.show)
        self.show()

    def close(self) -> None:
        live, self.live = self.live, None
        if live is not None:
            live.team_changed.disconnect(self.show)
            live.status_changed.disconnect(self.show)

    # the team bar ----------------------------------------------------------------------------
    def show(self) -> None:
        """Who the entries are recorded as, and the team as it stands."""
        live = self.live
        if live is None:
            return
        record = live.record
        names = {s.id: s.signature_name for s in self.service.staff.all()}
        if live.at_keyboard is not None:
            person = names.get(live.at_keyboard, "unknown")
            keyboard = f"At the keyboard: {person} — every entry is theirs."
            team = "Team: " + team_text(record, names)
        else:
            keyboard = "Entries go to the team:"
            team = team_text(record, names, with_duties=True)
        can_hand_over = record.status in (SessionStatus.LIVE, SessionStatus.COMPLETED)
        self.window.live_view.team_bar.show_team(keyboard, team, live=can_hand_over)

    # switching the person at the keyboard ------------------------------------------------------
    def switch_person(self) -> None:
        """Ctrl+W: who is at the keyboard from now on, their PIN checked."""
        live = self.live
        if live is None:
            return
        from kapsession.ui.team_dialogs import SwitchPersonDialog  # when first used

        staff = self.service.staff.active()
        dialog = SwitchPersonDialog(
            staff, live.at_keyboard, self._with_pin(staff), parent=self.window
        )
        dialog.switch_requested.connect(
            lambda staff_id, pin: dialog.answer(self._switch(staff_id, pin))
        )
        if dialog.exec() and dialog.back_to_team:
            live.switch_to(None)
            self.window.live_view.show_saved(
                "Entries are recorded as the team again: the nurse's as the monitoring "
                "clinician, the notes as the therapist."
            )

    def _switch(self, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        live = self.live
        if live is None:
            return SignOutcome(False, "The session is closed.")
        check = self.pins.check_switch(staff_id, pin, session_id=live.record.id)
        if not check.ok:
            return _refused(check)
        live.switch_to(staff_id)
        names = {s.id: s.signature_name for s in self.service.staff.active()}
        message = f"{names.get(staff_id, 'They')} is at the keyboard: entries are theirs now."
        self.window.live_view.show_saved(message)
        return SignOutcome(True, message)

    # a handover on the team --------------------------------------------------------------------
    def hand_over(self) -> None:
        """Ctrl+Shift+W: another staff member takes a place on the team (their PIN)."""
        live = self.live
        if live is None or live.record.status not in (SessionStatus.LIVE, SessionStatus.COMPLETED):
            return
        everyone = " — everyone" if len(live.participants) > 1 else ""
        places: list[tuple[str, TeamRole, uuid.UUID | None]] = [
            ("Therapist", TeamRole.THERAPIST, None),
            (f"Monitoring clinician{everyone}", TeamRole.MONITORING, None),
        ]
        if len(live.participants) > 1:
            places += [
                (f"Monitoring clinician — {p.client.full_name}", TeamRole.MONITORING, p.id)
                for p in live.participants
            ]
        places.append(("Prescriber on site", TeamRole.PRESCRIBER, None))
        staff = self.service.staff.active()
        from kapsession.ui.team_dialogs import HandoverDialog  # when first used

        dialog = HandoverDialog(staff, places, self._with_pin(staff), parent=self.window)
        dialog.handover_requested.connect(
            lambda staff_id, pin, place, participant: dialog.answer(
                self._hand_over(staff_id, pin, TeamRole(place), participant)
            )
        )
        dialog.exec()

    def _hand_over(
        self, staff_id: uuid.UUID, pin: str, place: TeamRole, participant: uuid.UUID | None
    ) -> SignOutcome:
        live = self.live
        if live is None:
            return SignOutcome(False, "The session is closed.")
        staff = {s.id: s for s in self.service.staff.active()}
        try:  # before the PIN: a role that may not take the place is not asked for one
            check_place(self.service.roles, place, staff.get(staff_id))
        except StorageError as exc:
            return SignOutcome(False, f"{exc} Nothing was handed over.")
        check = self.pins.verify(
            staff_id,
            pin,
            purpose=HANDOVER_PURPOSE,
            session_id=live.record.id,
            not_done="Nothing was handed over.",
        )
        if not check.ok:
            return _refused(check)
        failures: list[str] = []
        live.entry_failed.connect(failures.append)
        try:
            done = live.hand_over(place, staff_id, participant_id=participant, by=staff_id)
        finally:
            live.entry_failed.disconnect(failures.append)
        if not done:
            return SignOutcome(False, " ".join(failures) or "Nothing was handed over.")
        return SignOutcome(True, "Handed over.")

    # PINs --------------------------------------------------------------------------------------
    def _with_pin(self, staff: Sequence[StaffRecord]) -> set[uuid.UUID]:
        return {s.id for s in staff if self.pins.has_pin(s.id)}


def _refused(check: PinCheck) -> SignOutcome:
    return SignOutcome(False, check.message, pause_s=check.pause_s, retry_in_s=check.retry_in_s)
