"""The start screen: the lists of sessions and clients, search, a client's history, a new
client, a new staff member, and starting a session. Opening a session is the composer's
(`AppController`): this one asks for it with `open_requested`."""

from __future__ import annotations

import uuid

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from kapsession.domain.clock import Clock
from kapsession.records.errors import StorageError
from kapsession.services.client_history import ClientHistoryService
from kapsession.services.protocols import UnknownProtocol
from kapsession.services.session_service import SessionService
from kapsession.ui.main_window import MainWindow
from kapsession.ui.messages import problem


class StartController(QObject):
    open_requested = Signal(uuid.UUID)  # a session to open: resumed, or just started

    def __init__(
        self,
        window: MainWindow,
        service: SessionService,
        history: ClientHistoryService,
        clock: Clock,
        *,
        room: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.service = service
        self.history = history
        self.clock = clock
        self.room = room  # offered in the new session dialog: the room's, or the last one used
        start = window.start_view
        start.search_changed.connect(self._on_search)
        start.new_client_requested.connect(self._on_new_client)
        start.add_staff_requested.connect(self._on_add_staff)
        start.start_session_requested.connect(self._on_start_session)
        start.resume_requested.connect(self.open_requested)
        start.history_requested.connect(self._on_history)
        window.history_back_requested.connect(self._on_history_back)  # built when first used

    # the lists ----------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            self.window.start_view.show_live_sessions(self.service.live_sessions())
            self.window.start_view.show_ended_sessions(
                self.service.ended_sessions(self.clock.now())
            )
            self.window.start_view.show_clients(
                self.service.clients.search(self.window.start_view.search.text())
            )
        except StorageError as exc:
            self._problem("Cannot read the session database", str(exc))

    def report_protocol_problems(self) -> None:
        _choices, problems = self.service.catalog.scan()
        if problems:
            self.window.statusBar().showMessage(
                f"{len(problems)} protocol file(s) have errors and are not offered: "
                + "; ".join(str(p) for p in problems[:2])
            )

    def _on_search(self, text: str) -> None:
        try:
            self.window.start_view.show_clients(self.service.clients.search(text))
        except StorageError as exc:
            self._problem("Cannot search clients", str(exc))

    def _on_history(self, client_id: uuid.UUID) -> None:
        try:
            history = self.history.history(client_id)
        except StorageError as exc:
            self._problem("The client's history cannot be read", str(exc))
            return
        self.window.history_view.show_history(history)
        self.window.show_history()

    def _on_history_back(self) -> None:
        client_id = self.window.history_view.client_id
        self.window.show_start()
        if client_id is not None:
            self.window.start_view.select_client(client_id)  # the list has the focus again

    # people -------------------------------------------------------------------------------
    def _on_new_client(self) -> None:
        from kapsession.ui.dialogs import ClientDialog  # the dialogs: when first used

        dialog = ClientDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        value = dialog.value()
        if value is None:
            return
        try:
            client = self.service.add_client(
                value.given_name,
                value.family_name,
                at=self.clock.now(),
                date_of_birth=value.date_of_birth,
                record_number=value.record_number or None,
            )
        except StorageError as exc:
            self._problem("The client was not saved", str(exc))
            return
        self.window.start_view.search.clear()
        self.refresh()
        self.window.start_view.select_client(client.id)
        self.window.statusBar().showMessage(f"Client {client.full_name} saved.", 8000)

    def _on_add_staff(self) -> None:
        from kapsession.ui.dialogs import StaffDialog

        dialog = StaffDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        try:
            member = self.service.add_staff(
                dialog.name.text(),
                dialog.role.currentData(),
                at=self.clock.now(),
                credentials=dialog.credentials.text(),
            )
        except StorageError as exc:
            self._problem("The staff member was not saved", str(exc))
            return
        self.window.statusBar().showMessage(f"{member.signature_name} added.", 8000)

    # a new session ------------------------------------------------------------------------
    def _on_start_session(self, client_id: uuid.UUID | None) -> None:
        choices, problems = self.service.catalog.scan()
        if not choices:
            self._problem(
                "No protocol can be used",
                "No valid protocol file was found, so a session cannot start.\n"
                + "\n".join(str(p) for p in problems),
            )
            return
        try:
            clients = self.service.clients.search("")
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("Cannot read the session database", str(exc))
            return
        if not clients:
            self._problem("No client yet", "Add the client first with New client (Ctrl+N).")
            return
        from kapsession.ui.dialogs import NewSessionDialog

        dialog = NewSessionDialog(
            choices, clients, staff, client_id, self.room, self.window, self.service.roles
        )
        dialog.choose_protocol(self._last_protocol(client_id))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        value = dialog.value()
        if value is None:
            return
        self.start_session(
            protocol_key=value.protocol_key,
            client_ids=value.client_ids,
            modality=value.modality,
            room=value.room,
            therapist_id=value.therapist_id,
            nurse_id=value.nurse_id,
            prescriber_id=value.prescriber_id,
            monitors=value.monitors,
        )

    def _last_protocol(self, client_id: uuid.UUID | None) -> str | None:
        """The protocol of the client's last session (None: no client, none, or not read)."""
        if client_id is None:
            return None
        try:
            return self.history.last_protocol_key(client_id)
        except StorageError:
            return None  # the dialog offers its first protocol; nothing is lost

    def start_session(
        self,
        *,
        protocol_key: str,
        client_ids: tuple[uuid.UUID, ...],
        modality: str,
        room: str = "",
        therapist_id: uuid.UUID | None = None,
        nurse_id: uuid.UUID | None = None,
        prescriber_id: uuid.UUID | None = None,
        monitors: dict[uuid.UUID, uuid.UUID] | None = None,
    ) -> None:
        """Start the session on the clock's now, then ask for it to be opened."""
        self.room = room or self.room
        try:
            record = self.service.start_session(
                protocol_key=protocol_key,
                client_ids=client_ids,
                modality=modality,
                at=self.clock.now(),
                room=room,
                therapist_id=therapist_id,
                nurse_id=nurse_id,
                prescriber_id=prescriber_id,
                monitors=monitors,
                by=therapist_id,
            )
        except (StorageError, UnknownProtocol) as exc:
            self._problem("The session did not start", str(exc))
            return
        self.open_requested.emit(record.id)

    def _problem(self, title: str, text: str) -> None:
        problem(self.window, title, text)
