"""The therapist's note pad: what was written, a text box where Enter saves, quick markers.

Two pads share the panel: the session notes (part of the record) and the private pad
(psychotherapy notes, kept apart and out of exports). Each has its own text box, so switching
pads never mixes what is being typed. The widget only shows and emits; the note pad service
commits, keeps drafts and offers undo.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.corrections import EntryState, Version, versions
from kapsession.domain.quick_markers import QuickMarker
from kapsession.records.notes import ENTRY_PADS, NoteRecord, Pad, PrivateNoteRecord
from kapsession.ui import keymap, theme

PRIVATE_COLOUR = "#8a7aa8"  # muted violet: the private pad is never mistaken for the record
PADS = ENTRY_PADS
MARKERS_PER_ROW = 5
SUPERSEDED_ROLE = Qt.ItemDataRole.UserRole + 1  # an entry a later one amended or withdrew
PAD_NAMES: dict[str, str] = {Pad.RECORD: "Session notes", Pad.PRIVATE: "Private notes"}
PAD_KEYS: dict[str, str] = {
    Pad.RECORD: keymap.key("notes").sequence,
    Pad.PRIVATE: keymap.key("private_notes").sequence,
}
PAD_WHOSE: dict[str, str] = {Pad.RECORD: "Note for {}", Pad.PRIVATE: "Private note for {}"}
PAD_HINTS: dict[str, str] = {
    Pad.RECORD: "Type a note — Enter saves it to the record, Shift+Enter starts a new line  "
    f"({PAD_KEYS[Pad.RECORD]})",
    Pad.PRIVATE: "Private note — kept apart from the record and left out of exports  "
    f"({PAD_KEYS[Pad.PRIVATE]})",
}


class NoteEntries(QListWidget):
    """The entries written, newest last. Each entry's height is measured once, when it is added
    (and again when the width changes), and kept in its item: a word-wrapped list otherwise
    measures every entry's text after any change, so one more entry would cost more the more
    there are."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self._measured_width = -1

    def add_entry(self, item: QListWidgetItem) -> None:
        self.addItem(item)
        item.setSizeHint(self._measure(item))

    def _measure(self, item: QListWidgetItem) -> QSize:
        """The entry's size at the list's width, as the list's own delegate works it out."""
        item.setData(Qt.ItemDataRole.SizeHintRole, None)  # else the delegate answers with it
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.rect = QRect(0, 0, self.viewport().width(), 1)  # the width the text wraps to
        return self.itemDelegate().sizeHint(option, self.indexFromItem(item))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = self.viewport().width()
        if width != self._measured_width:
            self._measured_width = width
            for row in range(self.count()):
                item = self.item(row)
                if item is not None:
                    item.setSizeHint(self._measure(item))


class NoteInput(QPlainTextEdit):
    """Plain text; Enter commits, Shift+Enter breaks the line, Ctrl+Z on an empty box undoes
    the last saved entry (with text in the box it undoes typing, as everywhere)."""

    submitted = Signal(str)
    undo_entry = Signal()

    def __init__(self, pad: str) -> None:
        super().__init__()
        self.pad = pad
        self.setPlaceholderText(PAD_HINTS[pad])
        self.setTabChangesFocus(True)
        self.setAccessibleName(PAD_NAMES[pad])
        self.setMinimumHeight(44)  # two lines; on a laptop the live screen has no more
        self.setMaximumHeight(120)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit(self.toPlainText())
            return
        if enter:  # Shift+Enter: a new line, never a paragraph separator
            self.insertPlainText("\n")
            return
        if event.matches(QKeySequence.StandardKey.Undo) and not self.toPlainText():
            self.undo_entry.emit()
            return
        super().keyPressEvent(event)


def _clock_label(at: datetime, since_dose_s: int | None, elapsed_s: int | None) -> str:
    wall = at.astimezone().strftime("%H:%M")
    if since_dose_s is not None:
        minutes = round(since_dose_s / 60)
        return f"{wall}  T{minutes:+d}"
    if elapsed_s is not None:
        return f"{wall}  {elapsed_s // 3600}:{elapsed_s % 3600 // 60:02d}"
    return wall


class AmendDialog(QDialog):
    """New text for a saved entry and the reason: the original stays in the record."""

    def __init__(self, original: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Amend note")
        self.text = QPlainTextEdit(original)
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName("Amended text")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why it is amended (required), e.g. typo, wrong client")
        self.reason.setAccessibleName("Reason for the amendment")
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save amendment")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        note = QLabel("The original stays in the record, shown as amended, with your reason.")
        note.setObjectName("dim")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.text)
        layout.addWidget(self.reason)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(520, 320)

    def accept(self) -> None:
        if not self.text.toPlainText().strip():
            self.problem.setText("The amended note is empty. Type the note as it should read.")
            self.problem.show()
            return
        if not self.reason.text().strip():
            self.problem.setText("Write why the note is amended.")
            self.problem.show()
            self.reason.setFocus()
            return
        super().accept()


class NotePadWidget(QWidget):
    commit_requested = Signal(str, str)  # pad, text
    text_edited = Signal(str, str)  # pad, text (for the draft)
    marker_requested = Signal(str)  # label
    undo_requested = Signal()
    amend_requested = Signal(object, str, str, bool)  # entry id, new text, reason, private

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._markers: tuple[QuickMarker, ...] = ()
        self._shown: tuple[object, ...] | None = None
        self._participants: dict[uuid.UUID, str] = {}
        self._entries: dict[str, list[NoteRecord] | list[PrivateNoteRecord]] = {
            Pad.RECORD: [],
            Pad.PRIVATE: [],
        }
        # which pad, and what can be done to the entries
        self.pad_buttons = QButtonGroup(self)
        top = QHBoxLayout()
        for index, pad in enumerate(PADS):
            button = QPushButton(f"{PAD_NAMES[pad]}  ({PAD_KEYS[pad]})")
            button.setCheckable(True)
            button.setObjectName("padSwitch")
            button.setAccessibleName(f"Show {PAD_NAMES[pad].lower()}")
            self.pad_buttons.addButton(button, index)
            top.addWidget(button)
        self.pad_buttons.button(0).setChecked(True)
        self.pad_buttons.idClicked.connect(self._show_pad)
        self.private_mark = QLabel("— PRIVATE, not in the record, not exported")
        self.private_mark.setStyleSheet(f"color: {PRIVATE_COLOUR}; font-weight: bold;")
        self.private_mark.hide()  # beside whose note it is (the row of buttons is full)
        top.addStretch(1)
        self.undo_button = QPushButton("Undo last entry  (Ctrl+Z)")
        self.undo_button.setToolTip("Take back the entry just saved; the record shows it withdrawn")
        self.undo_button.clicked.connect(self.undo_requested)
        self.undo_button.hide()
        self.amend_button = QPushButton("Amend selected…")
        self.amend_button.setToolTip("Correct a saved note; the original stays visible (Enter)")
        self.amend_button.clicked.connect(self._amend_selected)
        top.addWidget(self.undo_button)
        top.addWidget(self.amend_button)
        # what was written
        self.entries = NoteEntries()
        self.entries.setAccessibleName("Notes written")
        self.entries.setMinimumHeight(36)  # a laptop's live screen: the list scrolls
        self.entries.itemActivated.connect(self._amend_item)
        # typing
        self.inputs: dict[str, NoteInput] = {pad: NoteInput(pad) for pad in PADS}
        self.stack = QStackedWidget()
        for pad in PADS:
            note_input = self.inputs[pad]
            note_input.submitted.connect(lambda text, p=pad: self.commit_requested.emit(p, text))
            note_input.textChanged.connect(
                lambda p=pad: self.text_edited.emit(p, self.inputs[p].toPlainText())
            )
            note_input.undo_entry.connect(self.undo_requested)
            self.stack.addWidget(note_input)
        self.stack.setMaximumHeight(88)  # about three lines: what was written gets the rest
        # whose note the box holds: in a couples or group session nothing typed for one
        # participant may be saved for another
        self.whose = QLabel()
        self.whose.setObjectName("whose")
        self.whose.setAccessibleName("Whose note")
        self._whose: dict[str, str] = {}
        self.locked = QLabel()
        self.locked.setObjectName("dim")
        self.locked.setWordWrap(True)
        self.locked.hide()
        # quick markers: compact buttons, five to a row, each labelled with its key
        self.marker_box = QWidget()
        self.marker_box.setObjectName("quickMarkers")
        self.marker_box.setToolTip("Quick markers: press the number (on the Notes tab)")
        self.marker_grid = QGridLayout(self.marker_box)
        self.marker_grid.setContentsMargins(0, 0, 0, 0)
        self.marker_grid.setSpacing(4)
        self.marker_buttons: list[QPushButton] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        whose_row = QHBoxLayout()
        whose_row.addWidget(self.whose)
        whose_row.addWidget(self.private_mark, 1)
        layout.addLayout(top)
        layout.addWidget(self.entries, 1)
        layout.addLayout(whose_row)
        layout.addWidget(self.stack)
        layout.addWidget(self.locked)
        layout.addWidget(self.marker_box)
        self.setStyleSheet(
            "QPushButton#padSwitch:checked { background: #2c3a47; border: 1px solid #3f5468; }"
            f"QPushButton#padSwitch:focus {{ border: 2px solid {theme.FOCUS}; }}"
            "QPushButton { padding: 5px 12px; }"  # the row of pads: low, as the screen's header
            "QWidget#quickMarkers QPushButton { padding: 4px 8px; font-size: 13px; "
            "text-align: left; }"
        )

    # what the controller calls ------------------------------------------------------------
    @property
    def pad(self) -> str:
        return PADS[max(self.pad_buttons.checkedId(), 0)]

    def current_input(self) -> NoteInput:
        return self.inputs[self.pad]

    def focus_input(self) -> None:
        self.current_input().setFocus()

    def show_pad(self, pad: str) -> None:
        """Switch to `pad` with the keys in its box."""
        self.pad_buttons.button(PADS.index(pad)).setChecked(True)
        self._show_pad(PADS.index(pad))

    def set_markers(self, markers: Sequence[QuickMarker]) -> None:
        """One button per quick marker, labelled with its key."""
        self._markers = tuple(markers)
        for button in self.marker_buttons:
            self.marker_grid.removeWidget(button)
            button.deleteLater()
        self.marker_buttons = []
        for index, marker in enumerate(self._markers):
            button = QPushButton(f"{marker.key}  {marker.label}")
            button.setAccessibleName(f"Marker {marker.label}")
            button.setToolTip(f"Record “{marker.label}” now (key {marker.key})")
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.clicked.connect(
                lambda _c=False, label=marker.label: self.marker_requested.emit(label)
            )
            self.marker_grid.addWidget(button, index // MARKERS_PER_ROW, index % MARKERS_PER_ROW)
            self.marker_buttons.append(button)

    @property
    def markers(self) -> tuple[QuickMarker, ...]:
        return self._markers

    def restore_draft(self, pad: str, text: str) -> None:
        """Put back what was being typed (after a restart); not a new edit."""
        note_input = self.inputs[pad]
        if text and note_input.toPlainText() != text:
            note_input.blockSignals(True)
            note_input.setPlainText(text)
            note_input.blockSignals(False)
            note_input.moveCursor(note_input.textCursor().MoveOperation.End)

    def set_whose(self, pad: str, name: str) -> None:
        """Name the participant whose note the box of `pad` holds (or will hold)."""
        if self._whose.get(pad) == name:
            return
        self._whose[pad] = name
        self.inputs[pad].setAccessibleName(PAD_WHOSE[pad].format(name) if name else PAD_NAMES[pad])
        if pad == self.pad:
            self._show_whose()

    def _show_whose(self) -> None:
        name = self._whose.get(self.pad, "")
        self.whose.setText(PAD_WHOSE[self.pad].format(name) if name else "")
        self.whose.setVisible(bool(name))
        colour = PRIVATE_COLOUR if self.pad == Pad.PRIVATE else theme.TEXT
        style = f"color: {colour}; font-weight: bold;"
        if self.whose.styleSheet() != style:
            self.whose.setStyleSheet(style)

    def committed(self, pad: str) -> None:
        """The entry was saved: empty the box (its draft went with the commit)."""
        note_input = self.inputs[pad]
        note_input.blockSignals(True)
        note_input.clear()
        note_input.blockSignals(False)

    def set_undo(self, available: bool, label: str = "") -> None:
        self.undo_button.setVisible(available)
        if available and label:
            self.undo_button.setText(f"Undo “{label}”  (Ctrl+Z)")

    def set_locked(self, reason: str | None) -> None:
        """No new entries (a signed record); what was written stays readable."""
        for note_input in self.inputs.values():
            note_input.setReadOnly(reason is not None)
        for button in self.marker_buttons:
            button.setEnabled(reason is None)
        self.amend_button.setEnabled(reason is None)
        self.locked.setText(reason or "")
        self.locked.setVisible(reason is not None)

    def show_entries(
        self,
        record: Sequence[NoteRecord],
        private: Sequence[PrivateNoteRecord],
        *,
        participants: Mapping[uuid.UUID, str],
        added: Sequence[NoteRecord | PrivateNoteRecord] = (),
    ) -> None:
        """The pads' entries, newest last; amended and withdrawn ones stay, marked. `added`:
        the entries new since the last call, when that is all that changed: a new entry of
        the pad shown is appended to the list, not the whole list drawn again."""
        look = (len(record), len(private), tuple(participants.items()), self.pad)
        self._participants = dict(participants)
        self._entries = {Pad.RECORD: list(record), Pad.PRIVATE: list(private)}
        rows: Sequence[NoteRecord | PrivateNoteRecord] = self._entries[self.pad]
        shown_before, self._shown = self._shown, look
        if (
            added
            and shown_before is not None
            and shown_before[2:] == look[2:]
            and all(a.corrects_id is None for a in added)
        ):
            mine = [a for a in added if isinstance(a, NoteRecord) == (self.pad == Pad.RECORD)]
            at_bottom = self._at_bottom()
            for row in mine:
                self.entries.add_entry(self._item(Version(row)))
            if at_bottom:
                self.entries.scrollToBottom()
            return
        if look == shown_before and not added:
            return
        at_bottom = self._at_bottom()
        self.entries.clear()
        for version in versions(rows):  # a withdrawal shows on the entry it takes back
            self.entries.add_entry(self._item(version))
        if at_bottom or self.entries.count() <= 1:
            self.entries.scrollToBottom()

    def _item(self, version: Version[NoteRecord | PrivateNoteRecord]) -> QListWidgetItem:
        row = version.row
        participants = self._participants
        who = participants.get(row.participant_id) if row.participant_id else None
        head = _clock_label(row.occurred_at, row.since_dose_s, row.elapsed_s)
        if who and len(participants) > 1:
            head += f"  · {who}"
        text = row.text
        item = QListWidgetItem(f"{head}\n{text}")
        item.setData(Qt.ItemDataRole.UserRole, row.id)
        item.setToolTip(text)
        if version.state is not EntryState.STANDING:
            item.setText(f"{head}  — {version.state}: {version.reason}\n{text}")
            font = item.font()
            font.setStrikeOut(True)
            item.setFont(font)
            item.setForeground(QColor(theme.TEXT_FAINT))
            item.setData(SUPERSEDED_ROLE, True)
        elif version.corrects:
            item.setText(f"{head}  (amended)\n{text}")
        return item

    def amend_entry(self, entry_id: uuid.UUID) -> None:
        """Open the amendment of a record entry (from the event list)."""
        self.pad_buttons.button(0).click()
        for row in range(self.entries.count()):
            item = self.entries.item(row)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == entry_id:
                self.entries.setCurrentItem(item)
                self._amend_item(item)
                return

    # inside -------------------------------------------------------------------------------
    def _at_bottom(self) -> bool:
        bar = self.entries.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _show_pad(self, index: int) -> None:
        pad = PADS[index]
        self.stack.setCurrentWidget(self.inputs[pad])
        private = pad == Pad.PRIVATE
        self.private_mark.setVisible(private)
        self._show_whose()
        border = PRIVATE_COLOUR if private else theme.BORDER
        style = f"QListWidget {{ border: 1px solid {border}; }}"
        if self.entries.styleSheet() != style:  # a new style sheet restyles every entry
            self.entries.setStyleSheet(style)
        self.show_entries(  # draws the list again only when the pad shown changed
            self._entries[Pad.RECORD],  # type: ignore[arg-type]
            self._entries[Pad.PRIVATE],  # type: ignore[arg-type]
            participants=self._participants,
        )
        self.inputs[pad].setFocus()

    def _amend_selected(self) -> None:
        self._amend_item(self.entries.currentItem())

    def _amend_item(self, item: QListWidgetItem | None) -> None:
        if item is None or item.data(SUPERSEDED_ROLE):
            return
        if self.inputs[self.pad].isReadOnly():
            return
        entry_id = item.data(Qt.ItemDataRole.UserRole)
        original = next((r for r in self._entries[self.pad] if r.id == entry_id), None)
        if original is None:
            return
        dialog = AmendDialog(original.text, self)
        pid = original.participant_id
        whose = None if pid is None else self._participants.get(pid)
        if whose:
            dialog.setWindowTitle(f"Amend note — {whose}")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.amend_requested.emit(
                entry_id,
                dialog.text.toPlainText(),
                dialog.reason.text().strip(),
                self.pad == Pad.PRIVATE,
            )
