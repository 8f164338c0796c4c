"""The course on the live screen (issue 17): the client's intentions from preparation shown to
the therapist (the live screen is the staff's; nothing of it reaches a screen the client
faces), and an intention typed in a preparation session committed the moment Enter is
pressed, for the participant shown."""

from __future__ import annotations

from PySide6.QtCore import QObject

from kapsession.records.errors import StorageError
from kapsession.services.live_session import LiveSession
from kapsession.services.session_service import SessionService
from kapsession.ui.live_view import LiveView


class CourseLiveController(QObject):
    def __init__(
        self, view: LiveView, service: SessionService, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.service = service
        self.live: LiveSession | None = None
        self._lines: list[str] = []
        view.intention_requested.connect(self._on_intention)
        view.participant_changed.connect(lambda _p: view.name_intention_box())

    def open(self, live: LiveSession) -> None:
        """Read the intentions once, as the session opens (through the tables)."""
        self.live = live
        self._lines = []
        record = live.record
        several = len(record.participants) > 1
        try:
            for participant in record.participants:
                if participant.course_id is None:
                    continue
                for intention in self.service.intentions(participant.course_id):
                    name = f"{participant.client.given_name}: " if several else ""
                    self._lines.append(f"{name}{intention.text}")
        except StorageError as exc:
            self.view.show_failure(f"The client's intentions cannot be read: {exc}")
        self.view.show_intentions(self._lines)

    def close(self) -> None:
        self.live = None

    def _on_intention(self, text: str, participant_id: object) -> None:
        live = self.live
        if live is None or participant_id is None:
            return
        record = live.record
        participant = next((p for p in record.participants if p.id == participant_id), None)
        if participant is None:
            return
        try:
            saved = self.service.course.add_intention(
                record.id, participant.id, text, at=live.now(), by=live.acting_staff_id
            )
        except StorageError as exc:
            self.view.show_failure(f"The intention was not saved: {exc}")
            return
        name = f"{participant.client.given_name}: " if len(record.participants) > 1 else ""
        self._lines.append(f"{name}{saved.text}")
        self.view.show_intentions(self._lines)
        self.view.intention_saved()
        self.view.show_saved(f"Intention of {participant.client.full_name} saved.")
