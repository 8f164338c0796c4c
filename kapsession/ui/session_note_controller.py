"""The session note and signing: the Record page's requests to the session note service.

The page (`session_note_page.py`) shows the note, its signatures and addenda and asks with
signals; this controller reads and writes through `SessionNoteService` and answers with plain
data (the signing state, the note to show, a template filled from the record, whether a draft
was saved), and builds the signing dialogs, which open the signer's key with their signing
passphrase and sign through it (a first passphrase set there after the PIN).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from kapsession.domain.clock import Clock
from kapsession.domain.note_templates import NoteTemplate
from kapsession.records.errors import StorageError
from kapsession.records.notes import SessionNoteText, SignedPart, SigningState, SignOutcome
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.session_note import SessionNoteService
from kapsession.services.signing_keys import PassphraseProblem
from kapsession.ui.session_note_page import NoteDraft, NoteToShow, SessionNotePage
from kapsession.ui.sign_dialog import AddendumDialog, CountersignAsk, SignDialog

log = logging.getLogger(__name__)

PART_ROLE: dict[str, str] = {SignedPart.MONITORING: "nurse", SignedPart.THERAPY: "therapist"}


class SessionNoteController(QObject):
    record_signed = Signal(str)  # a signature or addendum was stored; the session's status

    def __init__(
        self,
        notes: SessionNoteService,
        templates: NoteTemplateCatalog,
        clock: Clock,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._notes = notes
        self._catalog = templates
        self._clock = clock
        self._record: SessionRecord | None = None
        self._templates: dict[str, NoteTemplate] = {}
        self._state: SigningState | None = None
        self.page = SessionNotePage(templates.default_key)
        page = self.page
        page.refresh_requested.connect(self.refresh)
        page.prefill_requested.connect(self._prefill)
        page.draft_save_requested.connect(self._save_draft)
        page.sign_requested.connect(self._open_sign_dialog)
        page.addendum_requested.connect(self._open_addendum_dialog)

    # what the notes controller calls -----------------------------------------------------------
    def show_session(self, record: SessionRecord, acting_staff_id: uuid.UUID | None) -> None:
        """Show this session's note (saving any unsaved typing of the one shown before)."""
        self.page.save_draft()
        self._record = record
        templates, problems = self._catalog.scan()
        self._templates = {t.key: t for t in templates}
        state = self._read_state()
        note = self._note(state, self._starting_key())
        self.page.show_session(record, acting_staff_id, templates, problems, state, note)

    def set_acting_staff(self, staff_id: uuid.UUID | None) -> None:
        """The staff member now working at the screen: the draft's author, the default signer."""
        self.page.set_acting_staff(staff_id)

    def session_id(self) -> uuid.UUID | None:
        return self.page.session_id()

    def save_draft(self) -> bool:
        return self.page.save_draft()

    def refresh(self) -> None:
        """Read the signatures and addenda again; the signed note once it is signed."""
        if self._record is None:
            return
        state = self._read_state()
        signed = SignedPart.THERAPY in state.signed
        changed = signed != self.page.is_read_only()
        self.page.show_state(state, self._note(state, self._starting_key()) if changed else None)

    # reading -----------------------------------------------------------------------------------
    def _read_state(self) -> SigningState:
        assert self._record is not None
        self._state = self._notes.state(self._record.id)
        return self._state

    def _note(self, state: SigningState, fill_key: str) -> NoteToShow:
        """The signed note (read-only) once the therapy part is signed; else the saved draft,
        else template `fill_key` filled from the record."""
        assert self._record is not None
        if SignedPart.THERAPY in state.signed:
            notes = self._notes.notes.notes(self._record.id, kinds=["session_note"])
            signed = notes[-1] if notes else None
            key = signed.template_key if signed is not None else None
            sections = tuple(signed.sections) if signed is not None else ()
            return NoteToShow(True, key or None, sections)
        key, drafted = self._notes.draft(self._record.id)
        if key is not None:
            return NoteToShow(False, key, tuple(drafted))
        template = self._templates.get(fill_key)
        filled = self._notes.prefill(self._record.id, template) if template else []
        return NoteToShow(False, fill_key, tuple(filled))

    def _starting_key(self) -> str:
        if self._catalog.default_key in self._templates:
            return self._catalog.default_key
        return next(iter(self._templates), self._catalog.default_key)

    def _prefill(self, key: str) -> None:
        template = self._templates.get(key)
        if self._record is not None and template is not None:
            self.page.prefilled(self._notes.prefill(self._record.id, template))

    # writing -----------------------------------------------------------------------------------
    def _save_draft(self, draft: NoteDraft) -> None:
        try:
            self._notes.save_draft(
                draft.session_id, draft.template_key, list(draft.sections), by=draft.by
            )
        except StorageError as exc:
            log.exception("the session note draft was not saved")
            self.page.draft_not_saved(str(exc))
            return
        self.page.draft_saved(self._clock.now())

    # signing -----------------------------------------------------------------------------------
    def _open_sign_dialog(self, part: str, unsigned: list[str]) -> None:
        staff = self._notes.staff.active()
        dialog = SignDialog(
            staff,
            self._default_signer(part),
            unsigned,
            [part],
            self._with_pin(staff),
            self._notes.keys.with_key([s.id for s in staff]),
            session_title=self.page.session_title(),
            parent=self.page,
            countersign=self._countersign_ask(unsigned),
        )
        dialog.passphrase_requested.connect(lambda *request: self._set_passphrase(dialog, *request))
        dialog.sign_requested.connect(
            lambda staff_id, passphrase, parts: dialog.answer(
                self._sign(staff_id, passphrase, parts, dialog)
            )
        )
        self.page.show_dialog(dialog)

    def _open_addendum_dialog(self, text: str) -> None:
        staff = self._notes.staff.active()
        dialog = AddendumDialog(
            staff,
            self.page.acting_staff(),
            self._with_pin(staff),
            self._notes.keys.with_key([s.id for s in staff]),
            text=text,
            session_title=self.page.session_title(),
            parent=self.page,
        )
        dialog.passphrase_requested.connect(lambda *request: self._set_passphrase(dialog, *request))
        dialog.addendum_requested.connect(
            lambda staff_id, passphrase, added: dialog.answer(
                self._add_addendum(staff_id, passphrase, added)
            )
        )
        self.page.show_dialog(dialog)

    def _with_pin(self, staff: Sequence[StaffRecord]) -> set[uuid.UUID]:
        return {s.id for s in staff if self._notes.pins.has_pin(s.id)}

    def _set_passphrase(
        self,
        dialog: SignDialog | AddendumDialog,
        staff_id: uuid.UUID,
        pin: str,
        passphrase: str,
        repeat: str,
    ) -> None:
        """A first signing passphrase for `staff_id`, typed twice, after their PIN."""
        try:
            self._notes.keys.set_passphrase(
                staff_id,
                passphrase,
                repeat,
                pin=pin,
                session_id=self._record.id if self._record is not None else None,
            )
        except PassphraseProblem as problem:
            dialog.passphrase_refused(str(problem))
            return
        except StorageError as exc:
            log.exception("the signing passphrase was not set")
            dialog.passphrase_refused(f"The signing passphrase was not set: {exc}")
            return
        dialog.passphrase_set(staff_id)

    def _countersign_ask(self, unsigned: Sequence[str]) -> CountersignAsk | None:
        """A verbal order awaiting its countersignature, when the monitoring part is to sign:
        who must countersign, and why signing waits for it (issue 16)."""
        if self._record is None or SignedPart.MONITORING not in unsigned:
            return None
        waiting = self._notes.awaiting_countersignature(self._record.id)
        if not waiting:
            return None
        prescriber = waiting[0].ordered_by_id
        names = {s.id: s.signature_name for s in self._notes.staff.all()}
        message = self._notes.countersign_needed(waiting)
        return CountersignAsk(prescriber, names.get(prescriber, "The prescriber"), message)

    def _countersign_first(self, dialog: SignDialog) -> SignOutcome | None:
        """The prescriber's countersignature typed in the signing dialog, written before the
        monitoring part is signed; the refusal if their PIN is wrong, else None."""
        assert self._record is not None
        pin, asked = dialog.countersign_pin_text(), dialog.countersign
        if not pin or asked is None:
            return None  # nothing typed: signing says who must countersign
        try:
            done = self._notes.countersign_orders(self._record.id, asked.staff_id, pin)
        except StorageError as exc:
            log.exception("countersigning failed")
            return SignOutcome(False, f"Nothing was signed: {exc}")
        if not done.ok:
            dialog.countersign_refused()
            return done
        dialog.countersigned()
        self._after_signing()  # the live screen reads the countersignature
        return None

    def _sign(
        self,
        staff_id: uuid.UUID,
        passphrase: str,
        parts: list[str],
        dialog: SignDialog | None = None,
    ) -> SignOutcome:
        assert self._record is not None
        if dialog is not None and SignedPart.MONITORING in parts:
            refused = self._countersign_first(dialog)
            if refused is not None:
                return refused
        note = (
            SessionNoteText(self.page.template_key(), tuple(self.page.sections()))
            if SignedPart.THERAPY in parts
            else None
        )
        try:
            outcome = self._notes.sign(self._record.id, staff_id, passphrase, parts, note)
        except StorageError as exc:
            log.exception("signing failed")
            return SignOutcome(False, f"Nothing was signed: {exc}")
        if outcome.ok:
            self._after_signing()
        return outcome

    def _add_addendum(self, staff_id: uuid.UUID, passphrase: str, text: str) -> SignOutcome:
        assert self._record is not None
        try:
            outcome = self._notes.add_addendum(self._record.id, staff_id, passphrase, text)
        except StorageError as exc:
            log.exception("the addendum was not saved")
            return SignOutcome(False, f"The addendum was not saved: {exc}")
        if outcome.ok:
            self._after_signing()
        return outcome

    def _after_signing(self) -> None:
        self.refresh()
        assert self._state is not None
        self.record_signed.emit(self._state.status)

    def _default_signer(self, part: str) -> uuid.UUID | None:
        """The acting staff member; but for a part that is another role's (the nurse's
        monitoring, the therapist's therapy), the session's staff member in that role."""
        assert self._record is not None
        acting_id = self.page.acting_staff()
        named = (
            self._record.nurse_id if part == SignedPart.MONITORING else self._record.therapist_id
        )
        staff = {s.id: s for s in self._notes.staff.active()}
        acting = staff.get(acting_id) if acting_id is not None else None
        if acting is not None and (acting.role == PART_ROLE[part] or named not in staff):
            return acting.id
        if named in staff:
            return named
        same_role = [s.id for s in staff.values() if s.role == PART_ROLE[part]]
        return same_role[0] if len(same_role) == 1 else acting_id
