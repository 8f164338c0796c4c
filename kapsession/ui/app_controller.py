"""Wires the views to the services: each user action becomes one saved entry or a message."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox

from kapsession.audio.backend import AudioBackend, open_backend
from kapsession.domain.clock import Clock
from kapsession.domain.discharge import DischargeOverride
from kapsession.domain.hold_dose import HoldDoseOverride, HoldDoseResult, check_hold_dose
from kapsession.domain.vitals import FieldProblem
from kapsession.paths import documents_dir
from kapsession.records.errors import StorageError
from kapsession.resources import assets_dir, note_templates_dir, playlists_dir
from kapsession.services.client_history import ClientHistoryService
from kapsession.services.exports import ExportService
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession, open_music
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.protocols import UnknownProtocol
from kapsession.services.quick_markers import MARKERS_FILE_NAME, load_quick_markers
from kapsession.services.room_settings import DEFAULT_MAX_VOLUME_PCT
from kapsession.services.session_note import SessionNoteService
from kapsession.services.session_service import SessionService
from kapsession.ui.checkin_form import CheckinEntry
from kapsession.ui.dialogs import ClientDialog, NewSessionDialog, StaffDialog
from kapsession.ui.discharge_dialog import DischargeDialog
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.export_chart import chart_for
from kapsession.ui.export_dialog import ExportDialog
from kapsession.ui.formatting import local_time
from kapsession.ui.live_presenter import LivePresenter, by_urgency, most_urgent_key
from kapsession.ui.main_window import MainWindow
from kapsession.ui.notes_controller import NotesController

log = logging.getLogger(__name__)


class AppController(QObject):
    def __init__(
        self,
        window: MainWindow,
        service: SessionService,
        clock: Clock,
        *,
        training: bool,
        room: str = "",
        audio_backend: AudioBackend | None = None,
        playlists: Path | None = None,
        max_volume_pct: float = DEFAULT_MAX_VOLUME_PCT,
        clinic_dir: Path | None = None,
    ) -> None:
        """`clinic_dir`: the data folder, where a clinic keeps its own note templates
        (note-templates/) and quick markers (markers.toml); None: the built-in ones."""
        super().__init__(window)
        self.window = window
        self.service = service
        self.clock = clock
        self.training = training
        self.room = room
        self.playlists = playlists or playlists_dir()
        self.max_volume_pct = max_volume_pct  # the room's ceiling (room.toml)
        self.live: LiveSession | None = None
        self.presenter: LivePresenter | None = None
        self._staff_names: dict[uuid.UUID, str] = {}
        self.music: MusicSession | None = None
        self._audio: AudioBackend | None = audio_backend
        markers, problem = load_quick_markers(
            assets_dir() / MARKERS_FILE_NAME,
            (clinic_dir or assets_dir()) / MARKERS_FILE_NAME,
        )
        if problem:
            window.statusBar().showMessage(problem)
        self.notes = NotesController(
            window.live_view,
            SessionNoteService(service.database, clock),
            clock,
            markers=markers,
            templates=NoteTemplateCatalog(
                note_templates_dir(), None if clinic_dir is None else clinic_dir / "note-templates"
            ),
            parent=self,
        )
        self.notes.signed.connect(lambda _status: self._session_status_changed())
        start = window.start_view
        start.search_changed.connect(self._on_search)
        start.new_client_requested.connect(self._on_new_client)
        start.add_staff_requested.connect(self._on_add_staff)
        start.start_session_requested.connect(self._on_start_session)
        start.resume_requested.connect(self.open_session)
        self.history = ClientHistoryService(service.database)
        start.history_requested.connect(self._on_history)
        window.history_back_requested.connect(self._on_history_back)
        live = window.live_view
        live.back_requested.connect(self._on_back)
        live.dose_requested.connect(self._on_dose)
        live.marker_requested.connect(self._on_marker)
        live.end_requested.connect(self._on_end)
        live.acting_staff_changed.connect(self._on_acting_staff)
        live.participant_changed.connect(lambda _p: self._on_participant_changed())
        live.checkin_form.save_requested.connect(self._on_checkin_save)
        live.checkin_requested.connect(self._on_checkin_requested)
        live.alerts.acknowledge_requested.connect(self._on_acknowledge)
        live.device_requested.connect(self._on_device)
        live.stagger_requested.connect(self._on_stagger)
        live.tab_shown.connect(self._on_tab_shown)
        live.discharge_requested.connect(self._on_discharge)
        live.export_requested.connect(self._on_export)
        panel = live.music
        panel.play_pause_requested.connect(lambda: self.music and self.music.toggle())
        panel.next_requested.connect(lambda: self.music and self.music.next())
        panel.previous_requested.connect(lambda: self.music and self.music.previous())
        panel.quiet_requested.connect(lambda: self.music and self.music.quiet())
        panel.volume_changed.connect(lambda v: self.music and self.music.set_volume(v))
        panel.seek_requested.connect(lambda ms: self.music and self.music.seek(ms))
        panel.track_chosen.connect(lambda p: self.music and self.music.choose_track(Path(p)))
        panel.music_folder = str(assets_dir() / "music")
        panel.playlist_chosen.connect(lambda n: self.music and self.music.choose_playlist(n))
        panel.follow_phases_changed.connect(
            lambda f: self.music and self.music.set_follow_phases(f)
        )
        panel.transition_changed.connect(lambda t: self.music and self.music.set_transition(t))
        self.refresh_start()
        self._report_protocol_problems()

    # start screen -------------------------------------------------------------------------
    def refresh_start(self) -> None:
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

    def _report_protocol_problems(self) -> None:
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

    def _on_new_client(self) -> None:
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
        self.refresh_start()
        self.window.start_view.select_client(client.id)
        self.window.statusBar().showMessage(f"Client {client.full_name} saved.", 8000)

    def _on_add_staff(self) -> None:
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
        dialog = NewSessionDialog(choices, clients, staff, client_id, self.room, self.window)
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
        )

    def start_session(
        self,
        *,
        protocol_key: str,
        client_ids: tuple[uuid.UUID, ...],
        modality: str,
        room: str = "",
        therapist_id: uuid.UUID | None = None,
        nurse_id: uuid.UUID | None = None,
    ) -> None:
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
                by=therapist_id,
            )
        except (StorageError, UnknownProtocol) as exc:
            self._problem("The session did not start", str(exc))
            return
        self.open_session(record.id)

    # live screen --------------------------------------------------------------------------
    def open_session(self, session_id: uuid.UUID) -> None:
        self._close_live()
        try:
            live = LiveSession(self.service, session_id, self.clock, parent=self)
            staff = self.service.staff.active()
        except StorageError as exc:
            self._problem("The session cannot be opened", str(exc))
            return
        self.live = live
        self.music = open_music(
            live,
            self.audio_backend(),
            self.playlists,
            room_max_volume_pct=self.max_volume_pct,
            parent=self,
        )
        self.music.notice.connect(self.window.live_view.music.show_notice)
        self.music.music_logged.connect(self.notes.music_logged)
        self.window.live_view.music.set_playlists(self.music.playlist_names())
        self.window.live_view.music.show_notice("")
        live.entry_saved.connect(self.window.live_view.show_saved)
        live.entry_failed.connect(self.window.live_view.show_failure)
        self._staff_names = {s.id: s.display_name for s in staff}
        self.window.live_view.set_session(live.record, staff, live.acting_staff_id, self.training)
        self.presenter = LivePresenter(self.window.live_view, live, self.music, staff, parent=self)
        self.notes.open(live, {s.id: s.signature_name for s in staff})
        live.ended.connect(lambda: self.notes.session_changed(live))
        self.presenter.show_all()
        live.start_ticking()
        self.window.show_live()

    def audio_backend(self) -> AudioBackend:
        """libVLC players (made once: starting libVLC takes a moment), or the silent fallback."""
        if self._audio is None:
            self._audio = open_backend()
            if not self._audio.available:
                log.warning("music disabled: %s", self._audio.problem)
        return self._audio

    def close_session(self) -> None:
        """Leave the open session (its drafts saved); the start screen is not shown."""
        self._close_live()

    def _session_status_changed(self) -> None:
        """A signature changed the session's status: read it again (every view follows)."""
        if self.live is not None:
            self.live.reload()

    def _close_live(self) -> None:
        self.notes.close()
        if self.presenter is not None:
            self.presenter.disconnect_all()
            self.presenter.deleteLater()
            self.presenter = None
        if self.music is not None:
            self.music.stop()
            self.music.close()
            self.music.deleteLater()
            self.music = None
        if self.live is not None:
            self.live.stop()
            self.live.deleteLater()
            self.live = None

    def _on_participant_changed(self) -> None:
        """Another participant chosen: their clock, check-ins, readings and events."""
        if self.presenter is not None:
            self.presenter.show_all()
            self.notes.show_log()

    def _on_tab_shown(self) -> None:
        if self.presenter is not None:
            self.presenter.tab_shown()

    def _on_checkin_requested(self) -> None:
        """C: the most urgent check-in chosen, the form filled from the last reading."""
        live = self.live
        if live is None:
            return
        view = self.window.live_view
        focus = view.current_participant() or live.participants[0].id
        urgent = by_urgency(live.state(focus).checkins)
        view.checkin_form.set_checkins(urgent, selected=most_urgent_key(urgent))
        view.checkin_form.prefill(live.last_reading(focus))
        view.focus_checkin()

    def _on_checkin_save(self, entry: CheckinEntry) -> None:
        live = self.live
        if live is None:
            return
        view = self.window.live_view
        focus = view.current_participant() or live.participants[0].id
        try:
            taken_at = _time_today(entry.taken_at_text, live.now())
        except ValueError as exc:
            view.checkin_form.show_problems([FieldProblem("taken_at", str(exc))])
            return
        result = live.save_checkin(
            focus,
            entry.raw,
            checkin_key=entry.checkin_key,
            occurred_at=taken_at,
            on_room_air=entry.on_room_air,
        )
        if result is None:
            return  # the database refused; the banner says why and the form keeps the values
        if not result.saved:
            view.checkin_form.show_problems(list(result.problems))
            return
        view.checkin_form.prefill(result.observation)
        view.setFocus()  # the form is done: D, M, C and the other keys act on the screen again
        view.checkin_form.set_checkins(by_urgency(live.state(focus).checkins), selected=None)

    def _on_acknowledge(self, alert_id: uuid.UUID) -> None:
        """A: the acting staff member saw the alert. Who it was is part of the record, so
        without a name under "Working as" nothing is saved and the list gets the focus."""
        live = self.live
        if live is None:
            return
        view = self.window.live_view
        if live.acting_staff_id is None:
            view.show_failure(
                "The alert was NOT acknowledged: choose your name under “Working as” (top "
                "right; the arrow keys choose), then press A again."
            )
            view.staff.setFocus()
            return
        live.acknowledge_alert(alert_id)

    def _on_discharge(self, participant_id: uuid.UUID) -> None:
        live = self.live
        if live is None:
            return
        name = live.record.participant(participant_id).client.full_name
        dialog = DischargeDialog(
            name,
            live.protocol.discharge,
            lambda obs, checklist: live.evaluate_discharge(participant_id, obs, checklist),
            self.window,
        )
        while dialog.exec() == QDialog.DialogCode.Accepted:
            observation, checklist, reason = dialog.value()
            override = None
            if reason and not self._acting_name():
                # who decided is part of an override, and is chosen on the live screen
                self.window.live_view.show_failure(
                    "Discharge NOT recorded: an override is recorded with who decided. Choose "
                    "your name under “Working as” (top right), then press Ctrl+D again."
                )
                self.window.live_view.staff.setFocus()
                return
            if reason:
                try:
                    override = DischargeOverride(reason, self._acting_name())
                except ValueError as exc:
                    self._problem("Discharge not recorded", str(exc))
                    continue
            result = live.record_discharge(
                participant_id, observation, checklist, override=override
            )
            if result is not None and result.saved:
                return
            dialog.show_result_problems(result)

    def _acting_name(self) -> str:
        live = self.live
        if live is None or live.acting_staff_id is None:
            return ""
        return self._staff_names.get(live.acting_staff_id, "")

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

    def _on_export(self) -> None:
        live = self.live
        if live is None:
            return
        exports = ExportService(self.service.database, self.clock, chart_for=chart_for)
        dialog = ExportDialog(
            live.record,
            exports,
            folder=documents_dir(),
            esketamine=live.protocol.dosing.device_mg is not None,
            by=live.acting_staff_id,
            parent=self.window,
            on_done=lambda result: self.window.live_view.show_saved(
                f"Exported {', '.join(p.name for p in result.files)}"
                + (" (DRAFT)" if result.draft else "")
            ),
        )
        dialog.exec()

    def _on_acting_staff(self, staff_id: uuid.UUID | None) -> None:
        if self.live is not None:
            self.live.acting_staff_id = staff_id
            self.notes.session_note.set_acting_staff(staff_id)

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
        dialog = DoseDialog(
            name,
            live.protocol.dosing,
            self.service.staff.active(),
            live.acting_staff_id,
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
                    override = HoldDoseOverride(reason, self._acting_name() or "not recorded")
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

    def _on_marker(self, text: str, participant_id: uuid.UUID | None) -> None:
        if self.live is not None and self.live.add_marker(text, participant_id):
            self.window.live_view.marker_saved()

    def _on_end(self) -> None:
        live = self.live
        if live is None or not live.is_live:
            return
        if not self._ask(
            "End session",
            "End the session now? The clock stops; late entries can still be added.",
        ):
            return
        live.end_session()

    def _on_back(self) -> None:
        self._close_live()
        self.window.show_start()
        self.refresh_start()  # after showing: it puts the focus on Resume when a session is live

    # messages -----------------------------------------------------------------------------
    def _ask(self, title: str, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self.window)
        yes = box.addButton("Yes, record it", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(yes)
        box.exec()
        return box.clickedButton() is yes

    def _problem(self, title: str, text: str) -> None:
        log.warning("%s: %s", title, text)
        QMessageBox.warning(self.window, title, text)


def _time_today(text: str, now: datetime) -> datetime | None:
    """ "" -> None (now); "HH:MM" -> that minute today, local time; a late entry, never future."""
    if not text:
        return None
    cleaned = text.replace(".", ":").replace("h", ":")
    try:
        hours_text, minutes_text = cleaned.split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError:
        raise ValueError(f"Write the time as HH:MM, e.g. 14:35, not '{text}'.") from None
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(f"{text} is not a time of day; write HH:MM, e.g. 14:35.")
    local_now = now.astimezone()
    when = local_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    if when > local_now + timedelta(minutes=1):
        raise ValueError(
            f"{text} is later than now ({local_now:%H:%M}); a check-in can only be entered for a "
            "time that has passed."
        )
    return when
