"""The "Record" page after the session: the structured session note, its signatures, addenda.

The note starts from the saved draft, else filled from the record in the sections of the
clinic's template, and is saved as a draft about a second after typing and whenever the page is
hidden. The nurse and the therapist sign their parts with a PIN (sign_dialog.py); once the
therapy part is signed the note shown is the signed one, read-only, and only signed addenda
follow.

The page holds no service: it asks its controller (`session_note_controller.py`) with signals
(the signing state, a template filled from the record, a draft to save, a dialog to sign) and
is answered with plain data before the signal's `emit` returns.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QMimeData, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFocusEvent,
    QHideEvent,
    QPalette,
    QResizeEvent,
    QShowEvent,
    QTextBlockFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.note_templates import NoteTemplate, NoteTemplateError
from kapsession.records.notes import (
    PARTS,
    NoteRecord,
    Section,
    SignatureRecord,
    SignedPart,
    SigningState,
)
from kapsession.records.sessions import SessionRecord, SessionStatus
from kapsession.ui import theme
from kapsession.ui.sign_dialog import AddendumDialog, SignDialog, part_title

log = logging.getLogger(__name__)

AUTOSAVE_MS = 1000  # a draft is saved at most this long after the first unsaved keystroke
LINE_HEIGHT_PCT = 145
COLUMN_MAX_WIDTH_PX = 760  # about 80 characters a line at 16 px
PANEL_WIDTH_PX = 330
PLACEHOLDER = "#807b73"  # the hints: quieter than the text, still readable on the panel
PART_WHAT: dict[str, str] = {
    SignedPart.MONITORING: "The nurse's part: doses, vitals, alerts and discharge.",
    SignedPart.THERAPY: "The therapist's part: the notes and this session note.",
}

_STYLE = f"""
QLabel#pageTitle {{ font-size: 22px; }}
QLabel#sectionTitle {{ font-size: 16px; font-weight: 600; color: {theme.TEXT};
    padding-top: 6px; }}
QTextEdit#sectionText {{ font-size: 16px; background: {theme.PANEL};
    border: 1px solid {theme.BORDER}; border-radius: 6px; padding: 5px 7px;
    selection-background-color: #34495e; selection-color: {theme.TEXT}; }}
QTextEdit#sectionText:focus {{ border: 2px solid {theme.ACCENT}; padding: 4px 6px; }}
QTextEdit#sectionText[readOnly="true"] {{ background: transparent;
    border: 1px solid transparent; padding: 5px 7px; }}
QLabel#partTitle {{ font-size: 16px; font-weight: 600; }}
QLabel#signed {{ color: {theme.DONE}; }}
QLabel#unsigned {{ color: {theme.DUE}; }}
QLabel#reason {{ color: {theme.TEXT_DIM}; font-size: 13px; }}
QLabel#saved {{ color: {theme.TEXT_DIM}; font-size: 13px; }}
QLabel#savedProblem {{ color: {theme.OVERDUE}; font-size: 13px; }}
QFrame#addendum {{ background: {theme.PANEL}; border: 1px solid {theme.BORDER};
    border-radius: 8px; }}
QFrame#addendum QLabel {{ background: transparent; }}
QLabel#addendumText {{ font-size: 16px; }}
QScrollArea#noteScroll, QWidget#noteContent {{ background: {theme.BACKGROUND}; border: none; }}
QScrollArea#noteScroll QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
QScrollArea#noteScroll QScrollBar::handle:vertical {{ background: {theme.BORDER};
    border-radius: 5px; min-height: 32px; }}
QScrollArea#noteScroll QScrollBar::add-line, QScrollArea#noteScroll QScrollBar::sub-line {{
    height: 0; }}
QScrollArea#noteScroll QScrollBar::add-page, QScrollArea#noteScroll QScrollBar::sub-page {{
    background: transparent; }}
QLabel#statusLine {{ color: {theme.TEXT}; }}
QWidget#panelAddenda {{ background: transparent; }}
"""


@dataclass(frozen=True)
class NoteDraft:
    """The note as typed, to be saved as the session's draft."""

    session_id: uuid.UUID
    template_key: str
    sections: tuple[Section, ...]
    by: uuid.UUID | None  # the acting staff member


@dataclass(frozen=True)
class NoteToShow:
    """The note the page shows: the signed one (read-only) once the therapy part is signed,
    else the draft or a template filled from the record. `template_key` None: the one chosen."""

    locked: bool
    template_key: str | None
    sections: tuple[Section, ...]


def _when(moment: datetime) -> str:
    """A signing time on the local clock, with the day: signing is often days later."""
    return moment.astimezone().strftime("%H:%M, %d %b %Y").replace(", 0", ", ")


def _restyle(widget: QWidget, name: str | None = None) -> None:
    if name is not None:
        widget.setObjectName(name)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class NoteEdit(QTextEdit):
    """One section's text: plain text only (pasted formatting is dropped), airy lines, as tall
    as its text so the page scrolls rather than each box; Tab moves on to the next section."""

    focused = Signal()

    def __init__(self, hint: str = "") -> None:
        super().__init__()
        self.setObjectName("sectionText")
        self.setAcceptRichText(False)
        self.setTabChangesFocus(True)
        self.setPlaceholderText(hint)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(PLACEHOLDER))
        self.setPalette(palette)
        self._line = QTextBlockFormat()
        self._line.setLineHeight(
            LINE_HEIGHT_PCT, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value
        )
        self.textChanged.connect(self._keep_line_height)
        layout = self.document().documentLayout()
        assert layout is not None
        layout.documentSizeChanged.connect(self.fit)  # text, width or font changed

    def set_text(self, text: str) -> None:
        """Replace the text (not an edit the user can undo)."""
        self.setPlainText(text)
        self._keep_line_height()
        self.document().clearUndoRedoStacks()
        self.fit()

    def text(self) -> str:
        return self.toPlainText()

    def insertFromMimeData(self, source: QMimeData) -> None:
        """Paste and drop as plain text in the text's own format, whatever the source."""
        if source.hasText():
            self.textCursor().insertText(source.text())
            self.ensureCursorVisible()

    def _keep_line_height(self) -> None:
        """Give every paragraph the airy line height (pasted and re-typed ones lose it)."""
        doc = self.document()
        block = doc.begin()
        while block.isValid():
            if block.blockFormat().lineHeight() != LINE_HEIGHT_PCT:
                break
            block = block.next()
        else:
            return
        cursor = QTextCursor(doc)
        cursor.joinPreviousEditBlock()  # undone together with the edit that needed it
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.mergeBlockFormat(self._line)
        cursor.endEditBlock()

    def fit(self) -> None:
        """Be exactly as tall as the text (or the wrapped hint) at the current width."""
        doc = self.document()
        content = doc.size().height()
        margin = doc.documentMargin()
        if doc.isEmpty() and self.placeholderText():
            width = max(int(self.viewport().width() - 2 * margin), 80)
            hint = self.fontMetrics().boundingRect(
                QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, self.placeholderText()
            )
            content = max(content, hint.height() + 2 * margin)
        margins, viewport = self.contentsMargins(), self.viewportMargins()  # border + padding
        chrome = margins.top() + margins.bottom() + viewport.top() + viewport.bottom()
        lines = 1 if self.isReadOnly() else 2  # room to type in an empty section
        target = max(math.ceil(content), lines * self.fontMetrics().lineSpacing()) + chrome
        if target != self.height():
            self.setFixedHeight(target)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit()  # the style sheet's padding is known from now on

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.focused.emit()


class SectionEditor(QWidget):
    """A section of the note: its title as a heading and its text below."""

    def __init__(self, key: str, title: str, hint: str, text: str) -> None:
        super().__init__()
        self.key = key
        self.title = QLabel(title)
        self.title.setObjectName("sectionTitle")
        self.edit = NoteEdit(hint)
        self.edit.setAccessibleName(title)
        self.edit.setAccessibleDescription(hint)
        self.title.setBuddy(self.edit)
        self.edit.set_text(text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.edit)

    def section(self) -> Section:
        return (self.key, self.title.text(), self.edit.text())


class PartRow(QWidget):
    """One signable part: what it covers, who signed it and when, or a Sign… button."""

    def __init__(self, part: str) -> None:
        super().__init__()
        self.part = part
        title = QLabel(part_title(part))
        title.setObjectName("partTitle")
        what = QLabel(PART_WHAT[part])
        what.setObjectName("dim")
        what.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.sign_button = QPushButton(f"Sign {part_title(part).split()[0].lower()}…")
        self.sign_button.setAccessibleName(f"Sign the {part_title(part).lower()}")
        self.sign_button.setObjectName("primary")
        self.reason = QLabel()
        self.reason.setObjectName("reason")
        self.reason.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(title)
        layout.addWidget(what)
        layout.addSpacing(4)
        layout.addWidget(self.status)
        layout.addWidget(self.sign_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.reason)

    def show_state(self, signature: SignatureRecord | None, blocked: str) -> None:
        """Signed (by whom, when), or unsigned with Sign… enabled unless `blocked` says why."""
        if signature is not None:
            self.status.setText(f"Signed by {signature.signer_name}\n{_when(signature.signed_at)}")
            _restyle(self.status, "signed")
            self.sign_button.hide()
            self.reason.hide()
            return
        self.status.setText("Not signed yet")
        _restyle(self.status, "dim" if blocked else "unsigned")  # amber only when it can be
        self.sign_button.show()
        self.sign_button.setEnabled(not blocked)
        self.reason.setText(blocked)
        self.reason.setVisible(bool(blocked))


class SessionNotePage(QWidget):
    """The session note, its signatures and addenda for one session.

    Its controller calls `show_session(...)` when the tab opens or the session changes;
    `refresh()` asks for the record again when it may have changed elsewhere.
    Each request is answered before `emit` returns.
    """

    refresh_requested = Signal()  # answered by show_state(state, note or None)
    prefill_requested = Signal(str)  # a template's key; answered by prefilled(sections)
    draft_save_requested = Signal(object)  # NoteDraft; answered by draft_saved / draft_not_saved
    sign_requested = Signal(str, list)  # the part pressed, the unsigned parts: show_dialog(…)
    addendum_requested = Signal(str)  # the addendum's text so far: show_dialog(dialog)

    def __init__(self, default_template: str, parent: QWidget | None = None) -> None:
        """`default_template`: the key of the template a new note starts from."""
        super().__init__(parent)
        self.setStyleSheet(_STYLE)
        self._record: SessionRecord | None = None
        self._acting: uuid.UUID | None = None
        self._templates: dict[str, NoteTemplate] = {}
        self._template_key = default_template
        self._prefilled: list[Section] = []  # the answer to prefill_requested
        self._state: SigningState | None = None
        self._locked = False  # the therapy part is signed: the note is the signed one
        self._loading = False
        self._dirty = False  # typed since the last saved draft
        self._addendum_text = ""  # an addendum cancelled unsigned, offered again
        self.editors: list[SectionEditor] = []
        self.dialog: SignDialog | AddendumDialog | None = None  # the open dialog, if any

        self.title = QLabel("Session note")
        self.title.setObjectName("pageTitle")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("dim")
        self.subtitle.setWordWrap(True)  # a group's names, on a laptop's width
        self.saved_label = QLabel()
        self.saved_label.setObjectName("saved")
        self.template_combo = QComboBox()
        self.template_combo.setAccessibleName("Note template")
        self.template_combo.setMinimumWidth(220)
        self.template_label = QLabel("Template")
        self.template_label.setObjectName("dim")
        self.template_label.setBuddy(self.template_combo)
        self.fill_button = QPushButton("Fill again from the record")
        self.fill_button.setToolTip(
            "Start every section again from what the session record holds now."
        )
        self.template_problems = QLabel()
        self.template_problems.setObjectName("notice")
        self.template_problems.setWordWrap(True)
        self.template_problems.hide()

        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(self.title)
        heading.addWidget(self.subtitle)
        header = QHBoxLayout()
        header.addLayout(heading, 1)
        header.addWidget(self.template_label)
        header.addWidget(self.template_combo)
        header.addSpacing(8)
        header.addWidget(self.fill_button)

        self.locked_note = QLabel()
        self.locked_note.setObjectName("dim")
        self.locked_note.setWordWrap(True)
        self.locked_note.hide()
        self.sections_box = QVBoxLayout()
        self.sections_box.setContentsMargins(0, 0, 0, 0)
        self.sections_box.setSpacing(18)
        self.addenda_heading = QLabel("ADDENDA")
        self.addenda_heading.setObjectName("heading")
        self.addenda_view = QWidget()
        self.addenda_box = QVBoxLayout(self.addenda_view)
        self.addenda_box.setContentsMargins(0, 0, 0, 0)
        self.addenda_box.setSpacing(10)
        self.addendum_button = QPushButton("Add addendum…")
        self.addendum_button.setObjectName("primary")
        self.addendum_button.setToolTip("Add a signed addendum after the signed record.")
        self.addenda_summary = QLabel()
        self.addenda_summary.setObjectName("dim")
        self.addenda_summary.setWordWrap(True)

        column = QWidget()
        column.setObjectName("noteContent")
        column.setMaximumWidth(COLUMN_MAX_WIDTH_PX)
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(4, 4, 12, 24)
        column_layout.setSpacing(14)
        column_layout.addWidget(self.locked_note)
        column_layout.addLayout(self.sections_box)
        column_layout.addSpacing(10)
        column_layout.addWidget(self.addenda_heading)
        column_layout.addWidget(self.addenda_view)
        column_layout.addStretch(1)
        content = QWidget()
        content.setObjectName("noteContent")
        centred = QHBoxLayout(content)
        centred.setContentsMargins(0, 0, 0, 0)
        centred.addStretch(1)
        centred.addWidget(column, 100)
        centred.addStretch(1)
        self.note_scroll = QScrollArea()
        self.note_scroll.setObjectName("noteScroll")
        self.note_scroll.setWidgetResizable(True)
        self.note_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.note_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.note_scroll.setWidget(content)
        self.note_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        panel = QFrame()
        panel.setObjectName("panel")
        panel.setFixedWidth(PANEL_WIDTH_PX)
        side = QVBoxLayout(panel)
        side.setContentsMargins(18, 16, 18, 16)
        side.setSpacing(18)
        signatures = QLabel("SIGNATURES")
        signatures.setObjectName("heading")
        side.addWidget(signatures)
        self.status_line = QLabel()
        self.status_line.setObjectName("statusLine")
        self.status_line.setWordWrap(True)
        side.addWidget(self.status_line)
        self.parts: dict[str, PartRow] = {}
        for part in PARTS:
            row = PartRow(part)
            row.sign_button.clicked.connect(lambda _c=False, p=part: self.open_sign_dialog(p))
            side.addWidget(row)
            self.parts[part] = row
        self.panel_addenda = QWidget()
        self.panel_addenda.setObjectName("panelAddenda")
        addenda_side = QVBoxLayout(self.panel_addenda)
        addenda_side.setContentsMargins(0, 6, 0, 0)
        addenda_side.setSpacing(8)
        panel_addenda_heading = QLabel("ADDENDA")
        panel_addenda_heading.setObjectName("heading")
        addenda_side.addWidget(panel_addenda_heading)
        addenda_side.addWidget(self.addenda_summary)
        addenda_side.addWidget(self.addendum_button, 0, Qt.AlignmentFlag.AlignLeft)
        side.addWidget(self.panel_addenda)
        side.addStretch(1)
        side.addWidget(self.saved_label)

        # the signatures panel scrolls on its own when the tab is lower than it: the page asks
        # for no more height than the live screen has left on a laptop
        panel_scroll = QScrollArea()
        panel_scroll.setObjectName("noteScroll")
        panel_scroll.setWidgetResizable(True)
        panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        panel_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        panel_scroll.setWidget(panel)
        panel_scroll.setFixedWidth(PANEL_WIDTH_PX + 12)  # and its scroll bar's room
        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(self.note_scroll, 1)
        body.addWidget(panel_scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(12)
        layout.addLayout(header)
        layout.addWidget(self.template_problems)
        layout.addLayout(body, 1)

        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_draft)
        self.template_combo.activated.connect(self._template_chosen)
        self.fill_button.clicked.connect(self._fill_again)
        self.addendum_button.clicked.connect(self.open_addendum_dialog)
        self._show_addenda([])

    # what the controller calls --------------------------------------------------------------
    def show_session(
        self,
        record: SessionRecord,
        acting_staff_id: uuid.UUID | None,
        templates: Sequence[NoteTemplate],
        template_problems: Sequence[NoteTemplateError],
        state: SigningState,
        note: NoteToShow,
    ) -> None:
        """Show this session's note and signatures (its controller saves any unsaved typing
        of the one shown before first): `templates` to choose from, the signing `state`."""
        self._record = record
        self._acting = acting_staff_id
        self.subtitle.setText(self._describe(record))
        self.saved_label.clear()
        self._load_templates(templates, template_problems)
        self._state = state
        self._show_note(note)
        self._show_state()

    def set_acting_staff(self, staff_id: uuid.UUID | None) -> None:
        """The staff member now working at the screen: the draft's author, the default signer."""
        self._acting = staff_id

    def acting_staff(self) -> uuid.UUID | None:
        return self._acting

    def refresh(self) -> None:
        """Read the signatures and addenda again; show the signed note once it is signed."""
        if self._record is not None:
            self.refresh_requested.emit()

    def show_state(self, state: SigningState, note: NoteToShow | None = None) -> None:
        """The answer to `refresh_requested`: the signing state as read; with `note`, the note
        to show now that the therapy part was signed (or unsigned) since it was shown."""
        self._state = state
        if note is not None:
            if self._dirty:  # signed elsewhere meanwhile: the record holds the signed note
                log.warning("the session note was signed elsewhere; unsaved typing dropped")
                self._autosave.stop()
                self._dirty = False
            self._show_note(note)
        self._show_state()

    def prefilled(self, sections: Sequence[Section]) -> None:
        """The answer to `prefill_requested`: the template's sections as the record fills them."""
        self._prefilled = list(sections)

    def show_dialog(self, dialog: SignDialog | AddendumDialog) -> None:
        """The signing (or addendum) dialog, window-modal, not blocking."""
        self._open(dialog)

    def session_id(self) -> uuid.UUID | None:
        return None if self._record is None else self._record.id

    def template_key(self) -> str:
        return self._template_key

    def sections(self) -> list[Section]:
        """The note as it stands on screen: (key, title, text) per section."""
        return [editor.section() for editor in self.editors]

    def is_read_only(self) -> bool:
        return self._locked

    def save_draft(self) -> bool:
        """Save typing not yet saved as the draft now; False if it could not be saved."""
        self._autosave.stop()
        if self._record is None or self._locked or not self._dirty:
            return True
        self.draft_save_requested.emit(
            NoteDraft(self._record.id, self._template_key, tuple(self.sections()), self._acting)
        )
        return not self._dirty

    def draft_saved(self, at: datetime) -> None:
        self._dirty = False
        self.saved_label.setText(f"Draft saved {at.astimezone().strftime('%H:%M:%S')}")
        _restyle(self.saved_label, "saved")

    def draft_not_saved(self, reason: str) -> None:
        self.saved_label.setText(
            f"The draft was NOT saved: {reason} It is tried again as you type; keep this page open."
        )
        _restyle(self.saved_label, "savedProblem")

    # signing ---------------------------------------------------------------------------------
    def open_sign_dialog(self, part: str) -> SignDialog | None:
        """Open the signing dialog with `part` ticked (window-modal, not blocking)."""
        if self._record is None or self._state is None:
            return None
        self.save_draft()
        self.refresh()
        assert self._state is not None
        unsigned = self._state.unsigned_parts
        if part not in unsigned:
            return None
        self.sign_requested.emit(part, unsigned)
        return self.dialog if isinstance(self.dialog, SignDialog) else None

    def open_addendum_dialog(self) -> AddendumDialog | None:
        if self._record is None:
            return None
        self.addendum_requested.emit(self._addendum_text)
        return self.dialog if isinstance(self.dialog, AddendumDialog) else None

    def session_title(self) -> str:
        """Who, which day, which protocol: the dialogs' heading."""
        return self.subtitle.text()

    def _open(self, dialog: SignDialog | AddendumDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda result: self._dialog_closed(dialog, result))
        dialog.open()

    def _dialog_closed(self, dialog: SignDialog | AddendumDialog, result: int) -> None:
        if isinstance(dialog, AddendumDialog):
            self._addendum_text = "" if result else dialog.text.toPlainText()
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
        self.refresh()

    # the note --------------------------------------------------------------------------------
    def _load_templates(
        self, templates: Sequence[NoteTemplate], problems: Sequence[NoteTemplateError]
    ) -> None:
        self._templates = {t.key: t for t in templates}
        self.template_combo.clear()
        for template in templates:
            self.template_combo.addItem(template.name, template.key)
            index = self.template_combo.count() - 1
            self.template_combo.setItemData(
                index, template.description, Qt.ItemDataRole.ToolTipRole
            )
        if problems:
            self.template_problems.setText(
                f"{len(problems)} note template file(s) could not be read and are not offered: "
                f"{problems[0]}"
            )
        self.template_problems.setVisible(bool(problems))

    def _show_note(self, note: NoteToShow) -> None:
        """The signed note (read-only) once the therapy part is signed; else the saved draft,
        else a template filled from the record."""
        self._locked = note.locked
        self._show_template(note.template_key or self._template_key)
        self._build_editors(note.sections)

    def _prefill(self, key: str) -> list[Section]:
        """Template `key`'s sections as the record fills them now (none: no such template)."""
        self._prefilled = []
        if key in self._templates:
            self.prefill_requested.emit(key)
        return self._prefilled

    def _fill(self, key: str) -> None:
        """Every section of template `key` as the record fills it."""
        assert self._record is not None
        sections = self._prefill(key)
        self._show_template(key)
        self._build_editors(sections)

    def _show_template(self, key: str) -> None:
        self._template_key = key
        keys = [self.template_combo.itemData(i) for i in range(self.template_combo.count())]
        if key not in keys:  # a draft or signed note of a template no longer installed
            self.template_combo.addItem(f"{key} (not installed)", key)
            keys.append(key)
        self.template_combo.setCurrentIndex(keys.index(key))

    def _build_editors(self, sections: Sequence[Section]) -> None:
        self._loading = True
        for editor in self.editors:
            self.sections_box.removeWidget(editor)
            editor.deleteLater()
        template = self._templates.get(self._template_key)
        hints = {s.key: s.hint for s in template.sections} if template else {}
        self.editors = []
        previous: QWidget = self.fill_button
        for key, title, text in sections:
            editor = SectionEditor(key, title, hints.get(key, ""), text)
            editor.edit.setReadOnly(self._locked)
            _restyle(editor.edit)
            editor.edit.fit()
            editor.edit.textChanged.connect(self._edited)
            editor.edit.focused.connect(lambda e=editor: self._focused(e))
            editor.edit.cursorPositionChanged.connect(lambda e=editor.edit: self._follow(e))
            self.sections_box.addWidget(editor)
            QWidget.setTabOrder(previous, editor.edit)
            previous = editor.edit
            self.editors.append(editor)
        self._dirty = False
        self._loading = False
        for widget in (self.template_label, self.template_combo, self.fill_button):
            widget.setVisible(not self._locked)
        if self._locked:
            name = template.name if template else self._template_key
            self.locked_note.setText(
                f"The session note as signed ({name}). It cannot be changed; corrections go "
                "in an addendum."
                if sections
                else "The therapy part was signed without a session note; add an addendum."
            )
        self.locked_note.setVisible(self._locked)

    def _focused(self, editor: SectionEditor) -> None:
        """Tabbed into a section: show its title, then where the cursor is."""
        self.note_scroll.ensureWidgetVisible(editor.title, 0, 12)
        self._follow(editor.edit)

    def _follow(self, edit: NoteEdit) -> None:
        """Keep the text cursor in view: the page scrolls, not the (grown) box."""
        content = self.note_scroll.widget()
        if not edit.hasFocus() or content is None:
            return
        rect = edit.cursorRect()
        centre = edit.viewport().mapTo(content, rect.center())
        self.note_scroll.ensureVisible(centre.x(), centre.y(), 0, rect.height() + 24)

    def _edited(self) -> None:
        if self._loading or self._locked:
            return
        self._dirty = True
        if not self._autosave.isActive():  # not restarted by each keystroke
            self._autosave.start()

    def _has_edits(self) -> bool:
        """Whether any section holds text the record would not fill it with again."""
        assert self._record is not None
        filled = {k: text for k, _t, text in self._prefill(self._template_key)}
        return any(text.strip() and text != filled.get(key) for key, _t, text in self.sections())

    def _replace_ok(self, question: str) -> bool:
        if not self._has_edits():
            return True
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Replace the edited text?")
        box.setText(question)
        box.setInformativeText("What you typed in this note is replaced and cannot be got back.")
        replace = box.addButton("Replace", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep my text", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is replace

    def _template_chosen(self, index: int) -> None:
        key = self.template_combo.itemData(index)
        if self._record is None or key == self._template_key:
            return
        name = self.template_combo.itemText(index)
        if not self._replace_ok(f"Start the note again as “{name}”, filled from the record?"):
            self._show_template(self._template_key)
            return
        self._fill(key)
        self._dirty = True
        self.save_draft()

    def _fill_again(self) -> None:
        if self._record is None or self._locked:
            return
        if not self._replace_ok("Fill every section again from the session record?"):
            return
        self._fill(self._template_key)
        self._dirty = True
        self.save_draft()

    # the signing panel -----------------------------------------------------------------------
    def _show_state(self) -> None:
        state = self._state
        if state is None:
            return
        for part, row in self.parts.items():
            row.show_state(state.signed.get(part), self._blocked(part, state))
        self.status_line.setText(
            {
                SessionStatus.PLANNED: "The session has not started.",
                SessionStatus.LIVE: "The session is still running.",
                SessionStatus.COMPLETED: (
                    "Ended: each part is signed by the person responsible for it."
                ),
                SessionStatus.SIGNED: "Signed and locked.",
            }.get(state.status, state.status)
        )
        self._show_addenda(state.addenda)

    @staticmethod
    def _blocked(part: str, state: SigningState) -> str:
        """Why `part` cannot be signed now ("" if it can)."""
        if state.status in (SessionStatus.LIVE, SessionStatus.PLANNED):
            return "End the session to sign."
        if state.status != SessionStatus.COMPLETED:
            return f"This session is {state.status}; it cannot be signed."
        if part == SignedPart.MONITORING and state.open_alerts:
            return (
                f"{state.open_alerts} alert(s) not acknowledged yet: acknowledge them before "
                "signing the monitoring record."
            )
        return ""

    def _show_addenda(self, addenda: Sequence[tuple[NoteRecord, SignatureRecord | None]]) -> None:
        while self.addenda_box.count():
            item = self.addenda_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for note, signature in addenda:
            frame = QFrame()
            frame.setObjectName("addendum")
            box = QVBoxLayout(frame)
            box.setContentsMargins(14, 10, 14, 12)
            box.setSpacing(4)
            who = (
                f"{_when(signature.signed_at)} · signed by {signature.signer_name}"
                if signature is not None
                else f"{_when(note.recorded_at)} · not signed"
            )
            header = QLabel(who)
            header.setObjectName("dim")
            text = QLabel(note.text)
            text.setObjectName("addendumText")
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.addWidget(header)
            box.addWidget(text)
            self.addenda_box.addWidget(frame)
        if not addenda:
            empty = QLabel("No addenda.")
            empty.setObjectName("dim")
            self.addenda_box.addWidget(empty)
        shown = self._locked
        count = len(addenda)
        self.addenda_summary.setText(
            "Corrections and later information go in a signed addendum, shown below the note."
            + (f" {count} so far." if count else "")
        )
        for widget in (self.addenda_heading, self.addenda_view, self.panel_addenda):
            widget.setVisible(shown)

    def addendum_texts(self) -> list[str]:
        """The addenda as listed on screen: "<when> · signed by <name>\\n<text>" each."""
        out = []
        for index in range(self.addenda_box.count()):
            item = self.addenda_box.itemAt(index)
            frame = item.widget() if item is not None else None
            if isinstance(frame, QFrame) and frame.objectName() == "addendum":
                labels = frame.findChildren(QLabel)
                out.append("\n".join(label.text() for label in labels))
        return out

    @staticmethod
    def _describe(record: SessionRecord) -> str:
        names = ", ".join(p.client.full_name for p in record.participants)
        when = record.started_at or record.created_at
        day = when.astimezone().strftime("%a %d %b %Y").replace(" 0", " ")
        return f"{names} · {day} · {record.protocol_name}"

    # saving when the page goes away --------------------------------------------------------
    def hideEvent(self, event: QHideEvent) -> None:
        self.save_draft()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_draft()
        super().closeEvent(event)
