"""The composer: builds a controller per capability over the services of the app's context,
opens a session and hands the live session to each of them, and lets go of it again.

- `StartController` (start_controller.py): the start screen, a new client or staff member,
  starting a session; it asks for a session to be opened (`open_requested`).
- `NurseActionsController` (nurse_controller.py): dose, check-in, acknowledgement,
  discharge, stagger, device, marker, end.
- `MusicController` (music_controller.py): the music panel and the session's music.
- `ExportController` (export_controller.py): the Export dialog.
- `NotesController` (notes_controller.py): the note pad, the event list, the session note and
  signing.
- `CorrectionsController` (corrections_controller.py): Enter on a reading or an entry of the
  event list corrects it or withdraws it, with a reason. Built (and its dialogs imported) with
  the first of those two tabs, which are themselves built when first shown.
- `LivePresenter` (live_presenter.py): draws the live screen from the live session's signals.
- `AccessController` (access_controller.py): sign-in, the lock (idle and Ctrl+L), switching
  person at the lock screen, the administrator's staff accounts (issue 18).

Every service comes from the context (`services/context.py`, built once); the views only emit
requests and are given plain data.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from kapsession.audio.backend import AudioBackend
from kapsession.records.errors import StorageError
from kapsession.resources import assets_dir, playlists_dir
from kapsession.services.context import AppContext
from kapsession.services.live_session import LiveSession
from kapsession.services.music_session import MusicSession
from kapsession.services.quick_markers import MARKERS_FILE_NAME, load_quick_markers
from kapsession.ui.access_controller import AccessController
from kapsession.ui.adverse_controller import AdverseEventsController
from kapsession.ui.client_questionnaire_controller import ClientQuestionnaireController
from kapsession.ui.course_controller import CourseLiveController
from kapsession.ui.export_controller import ExportController
from kapsession.ui.live_presenter import LivePresenter
from kapsession.ui.live_profile_controller import LiveProfileController
from kapsession.ui.live_view import NOTES, READINGS
from kapsession.ui.main_window import MainWindow
from kapsession.ui.messages import problem
from kapsession.ui.music_controller import MusicController
from kapsession.ui.notes_controller import NotesController
from kapsession.ui.nurse_controller import NurseActionsController
from kapsession.ui.start_controller import StartController
from kapsession.ui.team_controller import TeamController

if TYPE_CHECKING:
    from kapsession.ui.corrections_controller import CorrectionsController

log = logging.getLogger(__name__)


class AppController(QObject):
    def __init__(
        self,
        window: MainWindow,
        context: AppContext,
        *,
        training: bool,
        audio_backend: AudioBackend | None = None,
        playlists: Path | None = None,
    ) -> None:
        """The room's name and music ceiling come from the context's room settings, the
        clinic's note templates and quick markers from its data folder; `audio_backend`:
        None, libVLC opened with the first session; `playlists`: None, the built-in ones."""
        super().__init__(window)
        self.window = window
        self.service = context.service
        self.clock = context.clock
        self.training = training
        self.live: LiveSession | None = None
        self.presenter: LivePresenter | None = None
        self._notes_service = context.notes
        self.corrections: CorrectionsController | None = None  # with its first tab
        markers, marker_problem = load_quick_markers(
            assets_dir() / MARKERS_FILE_NAME, context.paths.data_dir / MARKERS_FILE_NAME
        )
        if marker_problem:
            window.statusBar().showMessage(marker_problem)
        if context.clinic_problem:
            window.statusBar().showMessage(context.clinic_problem)
        self.notes = NotesController(
            window.live_view,
            context.notes,
            self.clock,
            markers=markers,
            templates=context.templates,
            parent=self,
        )
        self.notes.signed.connect(lambda _status: self._session_status_changed())
        # who is signed in, the lock, the staff accounts (issue 18): the window opens covered
        # by the sign-in, except in training mode
        self.access = AccessController(
            window,
            lambda: context.access,
            training=training,
            idle_lock_minutes=context.clinic.idle_lock_minutes,
            live=lambda: self.live,
            music=lambda: self.music,
            parent=self,
        )
        self.start = StartController(
            window,
            context.service,
            lambda: context.history,
            self.clock,
            room=context.room.name,
            parent=self,
            pins=context.notes.pins,  # the prescriber's override of a missing consent (17)
            training=lambda: context.training,  # the database's marker (18), read when needed
            manage_accounts=None if training else self.access.manage_accounts,
        )
        self.start.open_requested.connect(self.open_session)
        live = window.live_view
        live.back_requested.connect(self._on_back)
        live.participant_changed.connect(lambda _p: self._on_participant_changed())
        live.tab_shown.connect(self._on_tab_shown)
        live.tab_built.connect(self._on_tab_built)
        for name in (NOTES, READINGS):
            if live.built(name):
                self._on_tab_built(name)
        self.nurse = NurseActionsController(
            window, context.service, parent=self, pins=context.notes.pins
        )
        self.team = TeamController(window, context.service, context.notes.pins, parent=self)
        self.adverse = AdverseEventsController(
            window,
            context.service,
            context.notes.pins,
            context.clinic.rescue_medications,
            parent=self,
        )
        self.exports = ExportController(window, lambda: context.exports, parent=self)
        self.course = CourseLiveController(live, context.service, parent=self)  # issue 17
        # the client fills a questionnaire on the screen (issue 17): F, Shift+Q
        self.questionnaire = ClientQuestionnaireController(
            window, context.service, context.notes.pins, self.clock, parent=self
        )
        self.profile = LiveProfileController(window, context.service.profiles, parent=self)
        self.music_controller = MusicController(
            live.music,
            playlists=playlists or playlists_dir(),
            max_volume_pct=context.room.max_volume_pct,
            audio_backend=audio_backend,
            parent=self,
        )
        self.refresh_start()

    def after_start(self) -> None:
        """What the start screen does without at first, done once it is on screen (and after
        whatever was asked of it first): the clinic's protocol files checked, their problems
        in the status bar; the ORM's mapped classes loaded, so that the first dose, marker or
        correction does not wait for them (a tenth of a second). The live session's window
        reads without them (`storage.schema`)."""
        self.start.report_protocol_problems()
        self.service.prepare_writes()

    @property
    def music(self) -> MusicSession | None:
        """The open session's music (None when no session is open)."""
        return self.music_controller.music

    # the start screen ---------------------------------------------------------------------
    def refresh_start(self) -> None:
        self.start.refresh()

    # the open session ---------------------------------------------------------------------
    def open_session(self, session_id: uuid.UUID) -> None:
        self._close_live()
        try:
            live = LiveSession(self.service, session_id, self.clock, parent=self)
            staff = self.service.staff.active()
        except StorageError as exc:
            problem(self.window, "The session cannot be opened", str(exc))
            return
        self.live = live
        view = self.window.live_view
        music = self.music_controller.open(live)
        music.music_logged.connect(self.notes.music_logged)
        live.entry_saved.connect(view.show_saved)
        live.entry_failed.connect(view.show_failure)
        self.nurse.open(live, {s.id: s.display_name for s in staff})
        self.adverse.open(live)
        if self.corrections is not None:
            self.corrections.open(live)
        self.questionnaire.open(live)
        # a measure saved while the session is open (the client's screen, F) reaches its
        # PHQ-9 item 9 rule at once (issue 17)
        self.service.measures.watchers.append(live.measures_saved)
        self.exports.open(live)
        view.set_session(live.record, self.training)
        self.profile.open(live)  # the participant shown is set: their profile line
        self.team.open(live)
        self.course.open(live)
        live.team_changed.connect(lambda: self.notes.set_acting_staff(live.acting_staff_id))
        self.presenter = LivePresenter(view, live, music, staff, parent=self)
        self.notes.open(live, {s.id: s.signature_name for s in staff})
        live.ended.connect(lambda: self.notes.session_changed(live))
        self.presenter.show_all()
        live.start_ticking()
        self.window.show_live()

    def close_session(self) -> None:
        """Leave the open session (its drafts saved); the start screen is not shown."""
        self._close_live()

    def shutdown(self) -> None:
        """At exit, after the event loop: what is being typed is saved as its draft (the last
        keys before quitting are within the draft interval), then the session clock stops."""
        self._close_live()
        self.access.stop()

    def _session_status_changed(self) -> None:
        """A signature changed the session's status: read it again (every view follows)."""
        if self.live is not None:
            self.live.reload()

    def _close_live(self) -> None:
        self.access.session_closed()
        self.notes.close()
        if self.presenter is not None:
            self.presenter.disconnect_all()
            self.presenter.deleteLater()
            self.presenter = None
        self.music_controller.close()
        self.nurse.close()
        self.adverse.close()
        self.course.close()
        if self.corrections is not None:
            self.corrections.close()
        self.questionnaire.close()
        self.profile.close()
        self.team.close()
        self.exports.close()
        if self.live is not None:
            watchers = self.service.measures.watchers
            if self.live.measures_saved in watchers:
                watchers.remove(self.live.measures_saved)
            self.live.stop()
            self.live.deleteLater()
            self.live = None

    def _on_participant_changed(self) -> None:
        """Another participant chosen: their clock, check-ins, readings and events."""
        if self.presenter is not None:
            self.presenter.show_all()
            self.notes.show_log()

    def _on_tab_built(self, name: str) -> None:
        """The readings table or the event list was just built: Enter on a row corrects it."""
        if name not in (NOTES, READINGS):
            return
        if self.corrections is None:
            from kapsession.ui.corrections_controller import CorrectionsController

            self.corrections = CorrectionsController(self.window, self._notes_service, parent=self)
            if self.live is not None:
                self.corrections.open(self.live)
        self.corrections.tab_built(name)

    def _on_tab_shown(self) -> None:
        if self.presenter is not None:
            self.presenter.tab_shown()

    def _on_back(self) -> None:
        self._close_live()
        self.window.show_start()
        self.refresh_start()  # after showing: it puts the focus on Resume when a session is live
