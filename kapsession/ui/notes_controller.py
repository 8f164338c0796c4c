"""The therapist's side of the session screen: the note pad, the event list, the session note.

Kept apart from AppController (the session, the nurse's entries, the music): this one opens
with a session, binds the note pad service to the widgets, and keeps the event list up to date
from signals: entries saved elsewhere (read again in full) and music logged (appended from the
record its save returned). A full read happens on open and after an error, never on a timer.
"""

from __future__ import annotations

import bisect
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QObject, Signal

from kapsession.domain.clock import Clock
from kapsession.domain.quick_markers import QuickMarker
from kapsession.records.entries import MusicEventRecord
from kapsession.records.errors import StorageError
from kapsession.records.session_log import LogItem
from kapsession.services.live_session import LiveSession
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.notepad import NotePad
from kapsession.services.session_note import SessionNoteService
from kapsession.ui.live_view import LiveView
from kapsession.ui.session_note_page import SessionNotePage

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_S = 10.0  # a failed read of the log is tried again after this, or at once
# when something new is written
LOCKED_TEXT = (
    "The therapy notes of this session are signed: no more entries. Add an addendum on the "
    "Session note and signing tab."
)


def _order(item: LogItem) -> tuple[datetime, datetime]:
    """Where an item sits in the event list (as the full read sorts it)."""
    return item.at, item.recorded_at


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
        self._therapy_signed = False
        self.session_note = SessionNotePage(notes, templates, clock)
        self.session_note.record_signed.connect(self.signed)
        view.set_record_page(self.session_note)
        self.pad: NotePad | None = None
        self._staff_names: dict[uuid.UUID, str] = {}
        self._items: list[LogItem] = []
        self._log_stale = True
        self._retry_at = 0.0  # monotonic seconds: when a failed read may be tried again
        self._locked: bool | None = None
        view.note_pad.set_markers(markers)
        view.set_quick_markers(markers)
        note_pad = view.note_pad
        note_pad.commit_requested.connect(self._commit)
        note_pad.text_edited.connect(self._edited)
        note_pad.marker_requested.connect(self._marker)
        note_pad.undo_requested.connect(self._undo)
        note_pad.amend_requested.connect(self._amend)
        view.quick_marker_pressed.connect(self._marker)
        view.events.amend_requested.connect(self._amend_from_log)

    # opening and closing ------------------------------------------------------------------
    def open(self, live: LiveSession, staff_names: dict[uuid.UUID, str]) -> None:
        self.close()
        self._staff_names = dict(staff_names)
        pad = NotePad(live, parent=self)
        pad.changed.connect(self._entries_changed)
        pad.undo_changed.connect(self._undo_offered)
        pad.draft_failed.connect(self.view.show_failure)
        self.pad = pad
        self._locked = None  # a new session: lock or unlock the pad on the first refresh
        self._therapy_signed = False
        for name in ("record", "private"):
            self.view.note_pad.committed(name)
            self.view.note_pad.restore_draft(name, pad.draft(name))
        self.view.note_pad.set_undo(False)
        self.session_note.show_session(live.record, live.acting_staff_id)
        self._entries_changed()

    def close(self) -> None:
        """Save what is being typed, then let go of the session."""
        if self.session_note.session_id() is not None:
            self.session_note.save_draft()
        if self.pad is not None:
            self.pad.stop()
            self.pad.deleteLater()
            self.pad = None

    # refreshing ---------------------------------------------------------------------------
    def entries_changed(self) -> None:
        """Something was saved elsewhere (a dose, a check-in): the log is stale."""
        self._log_stale = True
        self._retry_at = 0.0

    def music_logged(self, event: MusicEventRecord) -> None:
        """A music event was written: its item joins the list in time order, no read."""
        pad = self.pad
        if pad is None or event.session_id != pad.session_id:
            return
        if not self._log_stale:  # a stale list is read in full, this event with it
            item = pad.music_log_item(event)
            at = bisect.bisect_right(self._items, _order(item), key=_order)
            self._items.insert(at, item)
        self._retry_at = 0.0
        self.refresh()

    def refresh(self) -> None:
        """Bring the pad and the event list up to date; cheap when nothing changed."""
        pad = self.pad
        if pad is None:
            return
        live = pad.live
        if self._log_stale and self.clock.monotonic() >= self._retry_at:
            try:
                self._items = pad.log_items(self._staff_names)
                record_notes, private = pad.entries(), pad.private_entries()
                signed_parts = self._signing.signatures.signatures(live.record.id)
                self._therapy_signed = any(s.part == "therapy" for s in signed_parts)
            except StorageError as exc:
                self.view.show_failure(str(exc))
                # Still stale: read again after a pause, or when something new is written,
                # not on every tick of a database that keeps failing.
                self._retry_at = self.clock.monotonic() + RETRY_AFTER_FAILURE_S
                return
            self._log_stale = False
            self.view.note_pad.show_entries(
                record_notes, private, participants=self._participants()
            )
        focus = self.view.current_participant()
        self.view.events.show_items(
            self._items,
            first_dose_at=live.first_dose_at(focus or live.participants[0].id),
            started_at=live.record.started_at or live.record.created_at,
            participants=self._participants(),
        )
        # the therapy part signed: the database takes no more notes but addenda
        signed = self._therapy_signed or live.record.status == "signed"
        if signed != self._locked:  # not on every tick: it restyles the pad's controls
            self._locked = signed
            self.view.note_pad.set_locked(LOCKED_TEXT if signed else None)

    def session_changed(self, live: LiveSession) -> None:
        """The session ended or was signed, or the acting staff member changed."""
        self.session_note.show_session(live.record, live.acting_staff_id)
        self.entries_changed()
        self.refresh()

    def _participants(self) -> dict[uuid.UUID, str]:
        pad = self.pad
        if pad is None:
            return {}
        return {p.id: p.client.given_name for p in pad.live.participants}

    def _entries_changed(self) -> None:
        self._log_stale = True
        self.refresh()

    # the therapist's actions -----------------------------------------------------------------
    def _commit(self, pad_name: str, text: str) -> None:
        pad = self.pad
        if pad is None or not text.strip():
            return
        if pad.commit(pad_name, text, self.view.current_participant()):
            self.view.note_pad.committed(pad_name)

    def _edited(self, pad_name: str, text: str) -> None:
        if self.pad is not None:
            self.pad.text_changed(pad_name, text)

    def _marker(self, label: str) -> None:
        if self.pad is not None:
            self.pad.quick_marker(label, self.view.current_participant())

    def _undo(self) -> None:
        if self.pad is not None:
            self.pad.undo()

    def _undo_offered(self, available: bool) -> None:
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
