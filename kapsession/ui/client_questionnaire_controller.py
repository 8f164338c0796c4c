"""The questionnaire the client answers on the screen (issue 17): F on the live screen (the
participant shown, before or during the session), Shift+Q on the start screen's client list
(outside a session, at a consultation say).

Staff choose the questionnaire and who hands the laptop over (someone with a PIN); the client
answers on `ClientQuestionnaireScreen`, and what they send is saved at once as the client's
self-report (`EntryMode.CLIENT_SCREEN`), credited to the staff member who handed it over and
given in the open session when there is one. Leaving the screen needs a staff PIN
(`PinService.verify`, audited); a questionnaire left unfinished with answers is then saved as
incomplete (not scored), one left with none is not saved. What was saved, and the prescriber's
flag for PHQ-9 item 9 above zero, is shown to the staff after the PIN and on the message line.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDialog

from kapsession.domain.clock import Clock
from kapsession.domain.questionnaires import instrument
from kapsession.records.errors import StorageError
from kapsession.records.measures import EntryMode, prescriber_message
from kapsession.records.notes import SignOutcome
from kapsession.records.people import ClientRecord
from kapsession.services.live_session import LiveSession
from kapsession.services.pins import PinService
from kapsession.services.session_service import SessionService
from kapsession.ui.main_window import MainWindow
from kapsession.ui.messages import problem

NO_PIN = (
    "Nobody on the staff has a PIN yet, and leaving the client's screen needs one. Set a PIN "
    "first (when signing, or with Ctrl+W on the live screen)."
)


class ClientQuestionnaireController(QObject):
    def __init__(
        self,
        window: MainWindow,
        service: SessionService,
        pins: PinService,
        clock: Clock,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.service = service
        self.pins = pins
        self.clock = clock
        self.live: LiveSession | None = None
        window.start_view.client_questionnaire_requested.connect(self._from_start)
        window.live_view.client_questionnaire_requested.connect(self._from_live)

    def open(self, live: LiveSession) -> None:
        self.live = live

    def close(self) -> None:
        self.live = None

    # where it is asked for -------------------------------------------------------------------
    def _from_start(self, client_id: uuid.UUID) -> None:
        try:
            client = self.service.clients.get(client_id)
        except StorageError as exc:
            problem(self.window, "The questionnaire cannot be opened", str(exc))
            return
        said = self.run(client, session_id=None, chosen=None)
        if said:
            self.window.start_view.select_client(client_id)
            self.window.statusBar().showMessage(f"{client.full_name}: {said}", 15000)

    def _from_live(self, participant_id: uuid.UUID) -> None:
        live = self.live
        if live is None:
            return
        found = [p for p in live.participants if p.id == participant_id]
        if not found:
            return
        said = self.run(
            found[0].client,
            session_id=live.record.id,
            chosen=live.nurse_author(participant_id),
        )
        if said:
            self.window.live_view.show_saved(f"{found[0].client.full_name}: {said}")

    # the questionnaire -----------------------------------------------------------------------
    def run(
        self, client: ClientRecord, *, session_id: uuid.UUID | None, chosen: uuid.UUID | None
    ) -> str:
        """Hand over, the client answers, the staff take it back: what was saved ("" when
        nothing was, or the hand-over was cancelled). The client's screen is imported the
        first time, not with the app."""
        from kapsession.ui.client_questionnaire import (
            LEAVE_PURPOSE,
            ClientQuestionnaireScreen,
            HandOverDialog,
        )

        try:
            staff = self.service.staff.active()
            offered = [member for member in staff if self.pins.has_pin(member.id)]
            preferred = self.service.profiles.profile(client.id).preferred_name
        except StorageError as exc:
            problem(self.window, "The questionnaire cannot be opened", str(exc))
            return ""
        if not offered:
            problem(self.window, "No staff PIN", NO_PIN)
            return ""
        where = "in this session" if session_id is not None else "not in a session"
        hand_over = HandOverDialog(
            client.full_name, offered, chosen, where=where, parent=self.window
        )
        if hand_over.exec() != QDialog.DialogCode.Accepted:
            return ""
        choice = hand_over.value()
        form = instrument(choice.key)
        # Only their own name: preferred if recorded, else the first name (never the family
        # name: another client in the room may see the screen).
        screen = ClientQuestionnaireScreen(
            form, preferred or client.given_name, offered, choice.by, self.window
        )
        said: list[str] = []

        def save(answers: dict[int, int | None]) -> None:
            from kapsession.services.outcome_measures import MeasureInvalid

            now = self.clock.now()
            try:
                saved = self.service.measures.save(
                    client.id,
                    choice.key,
                    answers,
                    administered_at=now,
                    at=now,
                    by=choice.by,
                    mode=EntryMode.CLIENT_SCREEN,
                    session_id=session_id,
                )
            except (MeasureInvalid, StorageError) as exc:
                screen.save_failed(str(exc))
                return
            flag = prescriber_message(saved.score)
            text = saved.message.removesuffix(flag).strip()
            screen.saved(f"{text} Entered by the client on the screen.", flag)
            said.append(saved.message)

        def check_pin(staff_id: uuid.UUID, pin: str) -> None:
            check = self.pins.verify(
                staff_id,
                pin,
                purpose=LEAVE_PURPOSE,
                session_id=session_id,
                not_done="The questionnaire screen stays open.",
            )
            screen.answer(SignOutcome(check.ok, check.message, check.pause_s, check.retry_in_s))

        screen.save_requested.connect(save)
        screen.pin_requested.connect(check_pin)
        screen.setWindowState(Qt.WindowState.WindowFullScreen)
        screen.exec()
        screen.deleteLater()
        return said[-1] if said else ""
