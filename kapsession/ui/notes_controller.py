"""The therapist's side of the session screen: the note pad, the event list, the session note.

One of the controllers AppController composes (the nurse's entries and the music have their
own; the session note page has SessionNoteController): this one opens with a session, binds
the note pad service to the widgets, and keeps the event list and the pads' entries up to date
from what saves returned: the live session's `entries_added` (every entry saved, by the nurse
or on the pad) and the music's `music_logged`. The session's log and
notes are read in full when it opens, when its status changes (signed, read again) and after a
read that failed (tried again after 10 s, or at once when something new is written); never on
a timer.

The Notes tab and the session note page are built when first shown (`LiveView.tab_built`): the
log and the pads' entries are read, and the session note shown, only once their tab is built;
until then nothing of theirs is read or drawn.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from kapsession.domain.clock import Clock
from kapsession.domain.quick_markers import QuickMarker
from kapsession.records.entries import MusicEventRecord
from kapsession.records.errors import StorageError
from kapsession.records.notes import ENTRY_PADS, NoteRecord, PrivateNoteRecord, SignedPart
from kapsession.records.sessions import SessionStatus
from kapsession.services.live_log import LiveLog, LogChange
from kapsession.services.live_session import LiveSession
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.notepad import NotePad
from kapsession.services.session_note import SessionNoteService
from kapsession.services.session_state import EntryKind
from kapsession.ui.live_view import NOTES, RECORD, LiveView

if TYPE_CHECKING:
    from kapsession.ui.session_note_controller import SessionNoteController

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_S = 10.0  # a failed read of the log is tried again after this, or at once
# when something new is written
LOCKED_TEXT = (
    "The therapy notes of this session are signed: no more entries. Add an addendum on the "
    "Session note and signing tab."
)


class NotesController(QObject):
    signed = Signal(str)  # a part or an addendum was signed; the session's status

    def __init__(
        self,
        view: LiveView,
        notes: SessionNoteService,
        clock: Clock,
        *,
        markers: Sequence[QuickMarker],
        templates: NoteTemplateCatalog,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.clock = clock
        self.templates = templates
        self._signing = notes
        self._markers = tuple(markers)
        self._therapy_signed = False
        self._session_note: SessionNoteController | None = None  # built with its tab
        self.pad: NotePad | None = None
        self._staff_names: dict[uuid.UUID, str] = {}
        self._log: LiveLog | None = None  # None until read (or after a read that failed)
        self._notes: list[NoteRecord] = []
        self._private: list[PrivateNoteRecord] = []
        self._retry_at = 0.0  # monotonic seconds: when a failed read may be tried again
        self._locked: bool | None = None
        view.set_quick_markers(markers)
        view.quick_marker_pressed.connect(self._marker)
        view.tab_built.connect(self._tab_built)
        view.participant_changed.connect(lambda _p: self._show_whose())
        for name in (NOTES, RECORD):
            if view.built(name):
                self._tab_built(name)

    @property
    def session_note(self) -> SessionNoteController:
        """The session note page's controller (its tab built if it was not)."""
        self.view.build_tab(RECORD)
        assert self._session_note is not None
        return self._session_note

    def _tab_built(self, name: str) -> None:
        if name == NOTES:
            self._bind_pads()
        elif name == RECORD:
            self._build_session_note()

    def _bind_pads(self) -> None:
        """The Notes tab was built: its widgets wired, then filled if a session is open."""
        view = self.view
        note_pad = view.note_pad
        note_pad.set_markers(self._markers)
        note_pad.commit_requested.connect(self._commit)
        note_pad.text_edited.connect(self._edited)
        note_pad.marker_requested.connect(self._marker)
        note_pad.undo_requested.connect(self._undo)
        note_pad.amend_requested.connect(self._amend)
        view.events.amend_requested.connect(self._amend_from_log)
        if self.pad is not None:
            self._fill_pads(self.pad)

    def _fill_pads(self, pad: NotePad) -> None:
        for name in ENTRY_PADS:
            self.view.note_pad.committed(name)
            self.view.note_pad.restore_draft(name, pad.draft(name).text)
        self._show_whose()
        self._undo_offered(pad.last_entry is not None)
        self._read()

    def _show_whose(self) -> None:
        """Name on each pad the participant whose note its text is: the one a draft was typed
        for, else the one selected (whom the next note is for)."""
        pad = self.pad
        if pad is None or not self.view.built(NOTES):
            return
        names = {p.id: p.client.full_name for p in pad.live.participants}
        selected = self.view.current_participant()
        for name in ENTRY_PADS:
            owner = pad.owner(name, selected)
            self.view.note_pad.set_whose(name, names.get(owner, "") if owner else "")

    def _build_session_note(self) -> None:
        from kapsession.ui.session_note_controller import SessionNoteController

        controller = SessionNoteController(self._signing, self.templates, self.clock, parent=self)
        controller.record_signed.connect(self.signed)
        self.view.set_record_page(controller.page)
        self._session_note = controller
        if self.pad is not None:
            controller.show_session(self.pad.live.record, self.pad.live.acting_staff_id)

    def set_acting_staff(self, staff_id: uuid.UUID | None) -> None:
        """The staff member now at the screen: the session note's author and signer, if its
        page is built (a page built later takes the session's acting staff member)."""
        if self._session_note is not None:
            self._session_note.set_acting_staff(staff_id)

    # opening and closing ------------------------------------------------------------------
    def open(self, live: LiveSession, staff_names: dict[uuid.UUID, str]) -> None:
        self.close()
        self._staff_names = dict(staff_names)
        pad = NotePad(live, parent=self)
        pad.undo_changed.connect(self._undo_offered)
        pad.draft_failed.connect(self.view.show_failure)
        live.entries_added.connect(self._entries_added)
        live.status_changed.connect(self._status_changed)
        live.ticked.connect(self._retry_read)
        self.pad = pad
        self._locked = None  # a new session: lock or unlock the pad on the first read
        self._therapy_signed = False
        if self.view.built(NOTES):
            self._fill_pads(pad)
        if self._session_note is not None:
            self._session_note.show_session(live.record, live.acting_staff_id)

    def close(self) -> None:
        """Save what is being typed, then let go of the session."""
        page = self._session_note
        if page is not None and page.session_id() is not None:
            page.save_draft()
        if self.pad is not None:
            live = self.pad.live
            live.entries_added.disconnect(self._entries_added)
            live.status_changed.disconnect(self._status_changed)
            live.ticked.disconnect(self._retry_read)
            self.pad.stop()
            self.pad.deleteLater()
            self.pad = None
        self._log = None

    # reading ------------------------------------------------------------------------------
    def _read(self) -> None:
        """Read the log, the pads' entries and the signatures in full (on opening, and to
        recover); a failure leaves the list as it was and is tried again later. Only once the
        Notes tab is built: it shows what is read."""
        pad = self.pad
        if pad is None or not self.view.built(NOTES):
            return
        live = pad.live
        try:
            self._log = pad.read_log(self._staff_names)
            self._notes = pad.entries()
            self._private = pad.private_entries()
            signed_parts = self._signing.signatures.signatures(live.record.id)
        except StorageError as exc:
            self.view.show_failure(str(exc))
            self._log = None
            self._retry_at = self.clock.monotonic() + RETRY_AFTER_FAILURE_S
            return
        self._therapy_signed = any(s.part == SignedPart.THERAPY for s in signed_parts)
        self._show_notes()
        self.show_log()
        self._show_lock()

    def _retry_read(self) -> None:
        if self._log is None and self.clock.monotonic() >= self._retry_at:
            self._read()

    def _entries_added(self, kind: str, records: tuple[Any, ...]) -> None:
        """Records a save returned: into the event list and the pads, no read (none before
        the Notes tab is built: they are read with the rest then)."""
        if not self.view.built(NOTES):
            return
        if self._log is None:  # the last read failed: something new was written, try again
            self._read()
            return
        if kind == EntryKind.NOTE:
            self._notes.extend(records)
            self._show_notes(added=records)
        elif kind == EntryKind.PRIVATE_NOTE:
            self._private.extend(records)
            self._show_notes(added=records)
        self._show_change(self._log.add(kind, records))

    def music_logged(self, event: MusicEventRecord) -> None:
        """A music event was written: its item joins the list in time order, no read."""
        pad = self.pad
        if pad is None or event.session_id != pad.session_id or not self.view.built(NOTES):
            return
        if self._log is None:
            self._read()
            return
        self._show_change(self._log.add_music(event))

    def show_log(self) -> None:
        """The event list as the log stands (also when the participant shown changes: the
        T+ times count from that participant's dose)."""
        pad = self.pad
        if pad is None or self._log is None:
            return
        live = pad.live
        focus = self.view.current_participant()
        self.view.events.show_items(
            self._log.items,
            first_dose_at=live.first_dose_at(focus or live.participants[0].id),
            started_at=live.record.started_at or live.record.created_at,
            participants=self._participants(),
        )

    def _show_change(self, change: LogChange) -> None:
        """What one save changed: those rows of the event list, nothing else."""
        pad = self.pad
        if pad is None or not change:
            return
        live = pad.live
        focus = self.view.current_participant()
        self.view.events.add_items(
            change.added,
            change.replaced,
            first_dose_at=live.first_dose_at(focus or live.participants[0].id),
            started_at=live.record.started_at or live.record.created_at,
            participants=self._participants(),
        )

    def _show_notes(self, added: Sequence[Any] = ()) -> None:
        self.view.note_pad.show_entries(
            self._notes, self._private, participants=self._participants(), added=added
        )

    def _show_lock(self) -> None:
        pad = self.pad
        if pad is None:
            return
        # the therapy part signed: the database takes no more notes but addenda
        signed = self._therapy_signed or pad.live.record.status == SessionStatus.SIGNED
        if signed != self._locked:
            self._locked = signed
            self.view.note_pad.set_locked(LOCKED_TEXT if signed else None)

    def _status_changed(self) -> None:
        """The session ended or was signed, or read again: read the notes side again too."""
        pad = self.pad
        if pad is None:
            return
        if self._session_note is not None:
            self._session_note.show_session(pad.live.record, pad.live.acting_staff_id)
        self._read()

    def session_changed(self, live: LiveSession) -> None:
        """The acting staff member changed (or the session's status): the session note page."""
        if self._session_note is not None:
            self._session_note.show_session(live.record, live.acting_staff_id)

    def _participants(self) -> dict[uuid.UUID, str]:
        pad = self.pad
        if pad is None:
            return {}
        return {p.id: p.client.given_name for p in pad.live.participants}

    # the therapist's actions -----------------------------------------------------------------
    def _commit(self, pad_name: str, text: str) -> None:
        pad = self.pad
        if pad is None or not text.strip():
            return
        if pad.commit(pad_name, text, self.view.current_participant()):
            self.view.note_pad.committed(pad_name)
            self._show_whose()

    def _edited(self, pad_name: str, text: str) -> None:
        if self.pad is not None:
            self.pad.text_changed(pad_name, text, self.view.current_participant())
            if not text:
                self._show_whose()  # emptied: the pad follows the selection again

    def _marker(self, label: str) -> None:
        if self.pad is not None:
            self.pad.quick_marker(label, self.view.current_participant())

    def _undo(self) -> None:
        if self.pad is not None:
            self.pad.undo()

    def _undo_offered(self, available: bool) -> None:
        if not self.view.built(NOTES):
            return  # the pad is filled when its tab is built
        pad = self.pad
        last = None if pad is None else pad.last_entry
        self.view.note_pad.set_undo(available and last is not None, last.label if last else "")

    def _amend(self, entry_id: uuid.UUID, text: str, reason: str, private: bool) -> None:
        if self.pad is not None:
            self.pad.amend(entry_id, text, reason, private=private)

    def _amend_from_log(self, entry_id: uuid.UUID) -> None:
        """Enter on a note in the event list: amend it on the pad."""
        self.view.show_notes()
        self.view.note_pad.amend_entry(entry_id)
