"""The live screen's keys, in one table: the live screen binds them from it and the README's
table is written from it (`readme_table`; a test keeps the two the same).

Where a key acts depends on the kind of field that has the keys (`Field`):

- outside any field (the screen itself, a button, a list), every key acts;
- in a number box (vitals, a time) or a choice (a drop-down, a tick box, a slider), where a
  letter cannot be typed, every key acts too: A acknowledges the alert, it does not type "a";
- in a text box (notes, markers, reasons, comments) a letter is typed: only the Ctrl and Alt
  combinations and Esc act, over the box's own bindings (Ctrl+E is "end of line" in a text box
  on X11, Ctrl+D "delete"), except Ctrl+Left and Ctrl+Right, which stay the box's own (moving
  by word).

`KeyRouter` applies this: Qt asks the widget with the keys first whether it wants a key
(a ShortcutOverride event) before any shortcut may act; the router answers for the widget
whenever a key of the table acts in its kind of field, and leaves every other key to it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)


class Field(enum.StrEnum):
    """The kind of field that has the keys."""

    NONE = "none"  # no field: the screen, a button, a list, a table
    NUMERIC = "numeric"  # a number or a time: vitals, "taken at", a spin box
    CHOICE = "choice"  # a drop-down list, a tick box, a slider
    TEXT = "text"  # a text box: notes, markers, reasons, comments


EVERYWHERE = frozenset(Field)
OUTSIDE_TEXT = frozenset({Field.NONE, Field.NUMERIC, Field.CHOICE})
OUTSIDE_FIELDS = frozenset({Field.NONE, Field.CHOICE})  # digits type in number boxes
FIELD_PROPERTY = "kapsessionField"  # a widget's own kind, where its class does not say it


@dataclass(frozen=True)
class Key:
    """One key of the live screen."""

    sequence: str  # as QKeySequence reads it ("D", "Shift+N", "Ctrl+Shift+E", "Esc")
    action: str  # the live screen's name for what it does
    does: str  # what it does, for the README
    acts_in: frozenset[Field]
    notes_tab_only: bool = False

    @property
    def where(self) -> str:
        """Where it acts, in words (the README's column)."""
        if self.notes_tab_only:
            return "on the Notes tab, outside number and text boxes"
        if self.acts_in == EVERYWHERE:
            return "everywhere, in text boxes too"
        if self.acts_in == OUTSIDE_TEXT:
            return "outside text boxes"
        return "outside number and text boxes"


def _letter(sequence: str, action: str, does: str) -> Key:
    return Key(sequence, action, does, OUTSIDE_TEXT)


def _combination(sequence: str, action: str, does: str) -> Key:
    return Key(sequence, action, does, EVERYWHERE)


KEYS: tuple[Key, ...] = (
    _letter("C", "checkin", "New check-in for the participant most urgent on the nurse board"),
    _letter("D", "dose", "Dose given now (after the first dose: a booster)"),
    _letter("B", "screening", "Screening before the first dose, and the prescriber's decision "
            "when an answer fails or PHQ-9 item 9 is above zero"),
    _letter("V", "device", "Next esketamine device given"),
    _letter("H", "hold", "Sublingual hold ended: S spat out, W swallowed (Enter: spat out)"),
    _letter("I", "infusion", "IV infusion: pause, resume or stop it (its total given)"),
    _letter("A", "acknowledge", "Acknowledge the oldest open alert"),
    _letter("E", "adverse_event", "Adverse event for the participant shown (new, or an update)"),
    _letter("T", "intervention", "Intervention: oxygen, rescue medication, repositioning …"),
    _letter("F", "client_questionnaire", "The participant shown fills a questionnaire on the full "
            "screen (leaving it needs a staff PIN)"),
    _letter("Y", "escort", "Escort for the day of the participant shown (who takes them home, "
            "or none: told to arrange transport)"),
    _letter("M", "marker", "To the marker box: type what happened, Enter saves it"),
    _letter("N", "notes", "Notes tab, in the box of the session notes"),
    _letter("Shift+N", "private_notes", "Notes tab, in the box of the private notes"),
    _letter("R", "readings", "Readings tab"),
    _letter("G", "chart", "Vitals chart tab"),
    _letter("U", "music_tab", "Music tab"),
    _letter("S", "record", "Session note and signing tab"),
    _letter("P", "play_pause", "Play or pause the music"),
    _letter("Q", "quiet", "Quiet: fade the music to silence"),
    Key("Ctrl+Right", "next_track", "Next track", OUTSIDE_TEXT),
    Key("Ctrl+Left", "previous_track", "Previous track", OUTSIDE_TEXT),
    _combination("Ctrl+Up", "volume_up", "Music louder"),
    _combination("Ctrl+Down", "volume_down", "Music quieter"),
    _combination("Ctrl+Tab", "next_tab", "Next tab"),
    _combination("Ctrl+Shift+Tab", "previous_tab", "Previous tab"),
    _combination("Ctrl+D", "discharge", "Discharge assessment"),
    _combination("Ctrl+E", "end", "End the session (asks first)"),
    _combination("Ctrl+Shift+E", "export", "Export the record"),
    _combination("Ctrl+W", "switch_person", "Switch the person at the keyboard (their PIN)"),
    _combination("Ctrl+Shift+W", "hand_over", "Hand over a place on the team (their PIN)"),
    _combination("Ctrl+L", "lock", "Lock the screen: the session, its check-ins and its music go "
                 "on; a PIN unlocks it (also on the start screen)"),
    _combination("Alt+Left", "back", "Back to the start screen (the session keeps running)"),
    _combination("Esc", "leave_field", "Leave the field: the keys go back to the screen, "
                 "nothing typed is lost"),
)  # fmt: skip
# The quick markers' keys come from markers.toml (1-9, 0 by default): bound by the live screen
# when the session opens, they act like these.
QUICK_MARKERS = Key("1 … 9, 0", "quick_marker", "Quick marker (markers.toml)", OUTSIDE_FIELDS, True)

# Keys of one place, not of the screen (the place's own widgets take them): for the README.
LOCAL_KEYS: tuple[tuple[str, str, str], ...] = (
    ("Enter", "Save the check-in, the note or the marker", "in its form or box"),
    ("Shift+Enter", "New line in a note", "in a note box"),
    ("Ctrl+Z", "Take back the entry just saved (within 10 s)", "in an empty note box"),
    ("Tab, Shift+Tab", "Next, previous field", "everywhere"),
    ("Shift+Tab twice", "The check-in's slot; the arrow keys choose", "from the first vital"),
)  # fmt: skip


def key(action: str) -> Key:
    """The key of an action of the table."""
    for entry in (*KEYS, QUICK_MARKERS):
        if entry.action == action:
            return entry
    raise KeyError(action)


def label(action: str) -> str:
    """The key of an action as buttons and tabs show it: "(D)", "(Ctrl+E)"."""
    return f"({key(action).sequence})"


def field_of(widget: QWidget | None) -> Field:
    """The kind of field `widget` is, as far as keys go."""
    if widget is None:
        return Field.NONE
    marked = widget.property(FIELD_PROPERTY)
    if isinstance(marked, str) and marked:
        return Field(marked)
    if isinstance(widget, QAbstractSpinBox):
        return Field.NUMERIC
    if isinstance(widget, QComboBox):
        return Field.TEXT if widget.isEditable() else Field.CHOICE
    if isinstance(widget, QLineEdit | QPlainTextEdit | QTextEdit):
        return Field.NONE if widget.isReadOnly() else Field.TEXT
    if isinstance(widget, QAbstractSlider):
        return Field.CHOICE
    if isinstance(widget, QAbstractButton) and widget.isCheckable():
        return Field.CHOICE
    return Field.NONE


def mark(widget: QWidget, field: Field) -> None:
    """Say what kind of field `widget` is where its class does not (a number in a line edit)."""
    widget.setProperty(FIELD_PROPERTY, field.value)


_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.ShiftModifier
    | Qt.KeyboardModifier.MetaModifier
)


def sequence_of(event: QKeyEvent) -> str:
    """The key pressed, as the table writes keys ("Ctrl+Shift+Tab" for Ctrl+Shift+Backtab)."""
    pressed = Qt.Key(event.key())
    modifiers = event.modifiers() & _MODIFIERS
    if pressed == Qt.Key.Key_Backtab:
        pressed = Qt.Key.Key_Tab
        modifiers |= Qt.KeyboardModifier.ShiftModifier
    return _normal(QKeySequence(modifiers.value | pressed.value).toString())


def _normal(sequence: str) -> str:
    return QKeySequence(sequence).toString()


class KeyRouter(QObject):
    """Decides, for the widget that has the keys, which keys of the table act there.

    Watches one widget at a time (`follow`: the live screen hands it whatever gets the focus
    inside it). The quick markers' digits need nothing of it: number and text boxes take a
    digit themselves, and nothing else does."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._acts_in = {_normal(k.sequence): k.acts_in for k in KEYS}
        self._watched: QWidget | None = None

    def acts(self, sequence: str, field: Field) -> bool:
        """Whether the key `sequence` acts when a field of kind `field` has the keys."""
        acts_in = self._acts_in.get(_normal(sequence))
        return acts_in is not None and field in acts_in

    def follow(self, widget: QWidget | None) -> None:
        if self._watched is not None:
            self._watched.removeEventFilter(self)
            self._watched.destroyed.disconnect(self._gone)
        self._watched = widget
        if widget is not None:
            widget.installEventFilter(self)
            widget.destroyed.connect(self._gone)

    def _gone(self) -> None:
        self._watched = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        widget = watched if isinstance(watched, QWidget) else None
        if self.acts(sequence_of(event), field_of(widget)):
            event.ignore()  # the field does not take it: the screen's key acts
            return True
        return False


def readme_table() -> str:
    """The README's table of keys (between its markers), from this module."""
    rows = ["| Key | What it does | Where it acts |", "|---|---|---|"]
    for entry in (*KEYS, QUICK_MARKERS):
        rows.append(f"| {entry.sequence} | {entry.does} | {entry.where} |")
    for sequence, does, where in LOCAL_KEYS:
        rows.append(f"| {sequence} | {does} | {where} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(readme_table(), end="")
