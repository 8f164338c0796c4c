"""The client's profile on the live screen (issue 17): the profile line (`ProfileLine`) for the
participant shown, read for every participant when the session opens and shown again when
another participant is chosen. A profile that cannot be read says so on the line; the session
goes on. Y records the escort for the day of the participant shown (`EscortDialog`): it is on
the line at once, and again whenever the session's events change."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QObject

from kapsession.domain.client_profile import ClientProfile
from kapsession.domain.escort import KIND as ESCORT
from kapsession.domain.escort import EscortProblem, check_escort
from kapsession.records.errors import StorageError
from kapsession.services.client_profiles import ClientProfileService
from kapsession.services.live_session import LiveSession
from kapsession.ui.main_window import MainWindow
from kapsession.ui.profile_line import NOT_RECORDED, ProfileFact, profile_facts

REASON_MISSING = "Write why the escort changes; the reason goes on the record."


class LiveProfileController(QObject):
    def __init__(
        self, window: MainWindow, profiles: ClientProfileService, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.profiles_service = profiles
        self.live: LiveSession | None = None
        self.profiles: dict[uuid.UUID, ClientProfile | None] = {}
        window.live_view.participant_changed.connect(lambda _p: self.show())
        window.live_view.escort_requested.connect(self.ask_escort)

    def open(self, live: LiveSession) -> None:
        self.live = live
        live.entries_added.connect(self._entries_added)
        self.profiles = {}
        for participant in live.participants:
            try:
                self.profiles[participant.id] = self.profiles_service.profile(participant.client.id)
            except StorageError:
                self.profiles[participant.id] = None
        self.show()

    def close(self) -> None:
        if self.live is not None:
            self.live.entries_added.disconnect(self._entries_added)
        self.live = None
        self.profiles = {}
        self.window.live_view.profile_line.hide()

    def show(self) -> None:
        live = self.live
        view = self.window.live_view
        if live is None:
            return
        shown = view.current_participant()
        found = [p for p in live.participants if p.id == shown]
        if not found:
            return
        participant = found[0]
        name = participant.client.full_name if len(live.participants) > 1 else ""
        profile = self.profiles.get(participant.id)
        escort = live.escort(participant.id)
        escort_text = "" if escort is None else escort.text()
        facts: tuple[ProfileFact, ...]
        if profile is None:
            facts = (
                ProfileFact("Profile", "could not be read; see the client's profile (P)"),
                ProfileFact("Escort today", escort_text or NOT_RECORDED),
            )
        else:
            facts = profile_facts(profile, escort_text)
        view.profile_line.show_profile(name, facts)

    def _entries_added(self, _kind: object, records: tuple[object, ...]) -> None:
        if any(getattr(r, "kind", None) == ESCORT for r in records):
            self.show()  # an escort recorded, corrected or withdrawn

    # the escort for the day (Y) -------------------------------------------------------------
    def ask_escort(self, participant_id: uuid.UUID) -> None:
        """The escort dialog for the participant; what it records is on the line at once."""
        from kapsession.ui.escort_dialog import EscortDialog

        live = self.live
        if live is None:
            return
        found = [p for p in live.participants if p.id == participant_id]
        if not found:
            return
        recorded = live.escort(participant_id)

        def submit(
            name: str, relationship: str, phone: str, none: bool, reason: str
        ) -> tuple[str, str] | None:
            try:
                escort = check_escort(name, relationship, phone, none=none)
            except EscortProblem as problem:
                return problem.field, problem.message
            if recorded is not None and not reason.strip():
                return "reason", REASON_MISSING
            failures: list[str] = []
            live.entry_failed.connect(failures.append)
            try:
                saved = live.record_escort(participant_id, escort, reason)
            finally:
                live.entry_failed.disconnect(failures.append)
            if saved is None:
                return "name", " ".join(failures) or "The escort was not saved."
            return None

        EscortDialog(found[0].client.full_name, recorded, submit, self.window).exec()
