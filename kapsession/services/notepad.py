"""The therapist's note pad during a session: entries, quick markers, drafts and undo.

An entry is committed the moment Enter is pressed, with where it sits on the session clock.
What is being typed is saved as a draft at most `DRAFT_SAVE_MS` after it changes, so a crash
loses less than a second of typing; the draft comes back when the session is opened again.
The text on a pad is one participant's note: the one selected when its first character was
typed. It stays theirs, in its draft too, until it is committed for them or the box is emptied,
whoever is selected meanwhile or when a draft comes back after a crash (`owner`).
The last entry can be taken back for `UNDO_WINDOW_S`: the record then shows it as withdrawn
(a voiding correction), never as if it had not been written.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal

from kapsession.records.errors import StorageError
from kapsession.records.notes import ENTRY_PADS, NoteRecord, Pad, PrivateNoteRecord
from kapsession.services.live_log import LiveLog
from kapsession.services.live_session import LiveSession
from kapsession.services.session_log import SessionLog
from kapsession.services.session_state import EntryKind
from kapsession.storage.notes import NoteRepository

log = logging.getLogger(__name__)

UNDO_WINDOW_S = 10.0
DRAFT_SAVE_MS = 400
PADS = ENTRY_PADS


@dataclass(frozen=True)
class PadText:
    """What is on a pad: the text and whose note it is (None: not bound to anyone yet)."""

    text: str
    participant_id: uuid.UUID | None = None


@dataclass(frozen=True)
class LastEntry:
    """What Undo would take back."""

    kind: str  # note | private | marker
    entry_id: uuid.UUID
    label: str
    committed_monotonic_s: float


class NotePad(QObject):
    """The note pad of one open session."""

    undo_changed = Signal(bool)  # whether Undo is offered now
    draft_failed = Signal(str)  # a draft could not be saved (what was typed is still on screen)

    def __init__(
        self,
        live: LiveSession,
        *,
        undo_window_s: float = UNDO_WINDOW_S,
        draft_save_ms: int = DRAFT_SAVE_MS,
        monotonic: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._live = live
        self._monotonic = monotonic
        self._notes = NoteRepository(live.database)
        self._log = SessionLog(live.database)
        self._undo_window_s = undo_window_s
        self._last: LastEntry | None = None
        self._pending: dict[str, str] = {}  # pad -> text not yet saved as its draft
        self._owners: dict[str, uuid.UUID | None] = {}  # pad -> whose its text is, while it has one
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(draft_save_ms)
        self._draft_timer.timeout.connect(self.save_drafts)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self._undo_expired)

    @property
    def live(self) -> LiveSession:
        return self._live

    @property
    def session_id(self) -> uuid.UUID:
        return self._live.record.id

    def stop(self) -> None:
        """Save what is pending and stop the timers (the session is being closed)."""
        self.save_drafts()
        self._undo_timer.stop()
        self._last = None

    # reading --------------------------------------------------------------------------------
    def entries(self) -> list[NoteRecord]:
        """Every in-session note entry, amended and withdrawn ones included, in time order."""
        return self._notes.notes(self.session_id, kinds=["entry"])

    def private_entries(self) -> list[PrivateNoteRecord]:
        return self._notes.private_notes(self.session_id)

    def read_log(self, staff_names: dict[uuid.UUID, str]) -> LiveLog:
        """The session's whole log, read from every table of the record (never private notes),
        in time order: what the event list beside the pad shows. Read once when the session
        opens (and to recover); `LiveLog.add` keeps it up to date from then on."""
        labels = {c.key: c.label for c in self._live.protocol.checkins}
        return LiveLog(
            self._log.items(self._live.record, staff_names, labels),
            self._live.all_alerts,
            staff_names,
            labels,
            self._live.order_history,
        )

    def draft(self, pad: str) -> PadText:
        """The text last typed on `pad` and not committed, and whose note it is (what to put
        back on screen). A stored draft names its participant; one saved before drafts did
        (migration 0007, several participants) is bound to whoever is selected when typing
        goes on, as it was."""
        if pad in self._pending:
            return PadText(self._pending[pad], self._owners.get(pad))
        try:
            saved = self._notes.draft(self.session_id, pad)
        except StorageError as exc:
            log.warning("draft of %s not read: %s", pad, exc)
            return PadText("")
        if saved is None or not saved.text:
            return PadText("")
        if saved.participant_id is not None:
            self._owners[pad] = saved.participant_id
        return PadText(saved.text, saved.participant_id)

    def owner(self, pad: str, selected: uuid.UUID | None) -> uuid.UUID | None:
        """Whose note the text on `pad` is: the participant it was started for, or, while the
        pad is empty, the participant `selected` (whom the next text will be for)."""
        return self._owners.get(pad, selected)

    # typing ---------------------------------------------------------------------------------
    def text_changed(self, pad: str, text: str, selected: uuid.UUID | None = None) -> None:
        """The text on `pad` changed: it is saved as the draft within DRAFT_SAVE_MS. The timer
        is not restarted by further typing, so steady typing is saved steadily too. The first
        text on an empty pad is the note of the participant `selected` now; emptied, the pad
        belongs to nobody again."""
        if not text:
            self._owners.pop(pad, None)
        elif pad not in self._owners:
            self._owners[pad] = selected
        self._pending[pad] = text
        if not self._draft_timer.isActive():
            self._draft_timer.start()

    def save_drafts(self) -> bool:
        """Write the pending drafts now (also when the window closes)."""
        self._draft_timer.stop()
        ok = True
        for pad, text in list(self._pending.items()):
            try:
                self._notes.save_draft(
                    self.session_id,
                    pad,
                    text,
                    at=self._live.now(),
                    by=self._live.acting_staff_id,
                    participant_id=self._owners.get(pad) if text else None,
                )
            except StorageError as exc:
                ok = False
                self.draft_failed.emit(f"The draft could not be saved: {exc}")
                continue
            if self._pending.get(pad) == text:
                del self._pending[pad]
        return ok

    # committing -----------------------------------------------------------------------------
    def commit(self, pad: str, text: str, selected: uuid.UUID | None) -> bool:
        """Commit `text` as an entry of `pad`, for the participant whose note it is (`owner`:
        the one it was started for, else `selected`); False (and the reason on the live
        session's `entry_failed`) when it was not saved, so the text stays on screen."""
        if pad not in PADS:
            raise ValueError(f"unknown pad {pad!r}")
        if not text.strip():
            return False  # an empty entry is not an entry: nothing to say
        participant_id = self.owner(pad, selected)
        phase_key, elapsed_s, since_dose_s = self._live.clock_position(participant_id)
        now = self._live.now()
        add = self._notes.add_entry if pad == Pad.RECORD else self._notes.add_private
        try:
            saved = add(
                self.session_id,
                text,
                occurred_at=now,
                recorded_at=now,
                participant_id=participant_id,
                phase_key=phase_key,
                elapsed_s=elapsed_s,
                since_dose_s=since_dose_s,
                by=self._live.acting_staff_id,
            )
        except StorageError as exc:
            self._live.entry_failed.emit(str(exc))
            return False
        self._pending.pop(pad, None)  # the draft was cleared with the commit
        self._owners.pop(pad, None)
        kind = "note" if pad == Pad.RECORD else "private"
        self._offer_undo(LastEntry(kind, saved.id, _short(text), self._monotonic()))
        self._live.notes_added(_entry_kind(pad == Pad.RECORD), (saved,))
        what = "Note" if pad == Pad.RECORD else "Private note"
        self._live.entry_saved.emit(f"{what} at {_hm(now)} — saved.")
        return True

    def quick_marker(self, label: str, participant_id: uuid.UUID | None) -> bool:
        saved = self._live.add_marker(label, participant_id)
        if saved is None:
            return False
        self._offer_undo(LastEntry("marker", saved.id, label, self._monotonic()))
        return True

    def amend(self, note_id: uuid.UUID, text: str, reason: str, *, private: bool = False) -> bool:
        """Replace a note entry's text before signing; the original stays visible."""
        amend = self._notes.amend_private if private else self._notes.amend_entry
        try:
            amendment = amend(
                note_id,
                text,
                reason=reason,
                recorded_at=self._live.now(),
                by=self._live.acting_staff_id,
            )
        except StorageError as exc:
            self._live.entry_failed.emit(str(exc))
            return False
        self._live.notes_added(_entry_kind(not private), (amendment,))
        self._live.entry_saved.emit("Amendment saved; the original stays in the record.")
        return True

    # undo -----------------------------------------------------------------------------------
    @property
    def last_entry(self) -> LastEntry | None:
        """The entry Undo would take back now, if the window is still open."""
        last = self._last
        if last is None or self._monotonic() - last.committed_monotonic_s > self._undo_window_s:
            return None
        return last

    def undo(self) -> bool:
        last = self.last_entry
        if last is None:
            return False
        reason = f"Undone within {self._undo_window_s:.0f} s of being entered"
        if last.kind == "marker":
            ok = self._live.withdraw_marker(last.entry_id, reason)
        else:
            amend = self._notes.amend_entry if last.kind == "note" else self._notes.amend_private
            try:
                withdrawal = amend(
                    last.entry_id,
                    None,
                    reason=reason,
                    recorded_at=self._live.now(),
                    voids=True,
                    by=self._live.acting_staff_id,
                )
                self._live.notes_added(_entry_kind(last.kind == "note"), (withdrawal,))
                ok = True
            except StorageError as exc:
                self._live.entry_failed.emit(str(exc))
                ok = False
        if ok:
            self._last = None
            self._undo_timer.stop()
            self.undo_changed.emit(False)
            self._live.entry_saved.emit(f"“{last.label}” undone — shown as withdrawn.")
        return ok

    def _offer_undo(self, entry: LastEntry) -> None:
        self._last = entry
        self._undo_timer.start(round(self._undo_window_s * 1000))
        self.undo_changed.emit(True)

    def _undo_expired(self) -> None:
        self._last = None
        self.undo_changed.emit(False)


def _entry_kind(record: bool) -> EntryKind:
    return EntryKind.NOTE if record else EntryKind.PRIVATE_NOTE


def _short(text: str, limit: int = 40) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")
