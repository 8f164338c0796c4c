"""Quick check-in entry: every field starts empty, Tab through, Enter saves.

A reading holds only what was measured at this check-in. Beside each field the participant's
previous value of that measure shows as a reference with its age ("last 142/88, 12 min ago"):
dim and in italics, outside the box, and never saved unless typed again.

The check-in a reading counts for is the slot whose window holds the time it was taken (now,
or the "taken at" time of a late entry), else Unscheduled; the nurse may choose another slot or
Unscheduled in the list (Shift+Tab from the first field, then the arrow keys), and that choice
stands until the form starts again.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.measures import measure_names
from kapsession.domain.protocol import MEASURE_FIELDS
from kapsession.domain.scales import SCALES
from kapsession.domain.timeline import CheckinState, CheckinStatus, slot_at
from kapsession.domain.vitals import FIELD_LABELS, PLAUSIBLE_RANGES, FieldProblem
from kapsession.records.entries import ObservationRecord
from kapsession.ui import keymap, theme
from kapsession.ui.formatting import local_time

# (field key, label, width hint, placeholder); the order is the Tab order
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("systolic_mmhg", "Systolic", "mmHg"),
    ("diastolic_mmhg", "Diastolic", "mmHg"),
    ("heart_rate_bpm", "Heart rate", "bpm"),
    ("spo2_pct", "SpO2", "%"),
    ("resp_rate_per_min", "Resp. rate", "/min"),
    ("temperature_c", "Temp.", "°C"),
    ("moaas", "MOAA/S", "0–5"),
    ("rass", "RASS", "−5…+4"),
    ("dissociation", "Dissociation", "0–4"),
    ("nausea", "Nausea", "0–10"),
    ("suds", "SUDS", "0–10"),
)
UNSCHEDULED = "__unscheduled__"
BP_FIELDS = ("systolic_mmhg", "diastolic_mmhg")
# The reference under the systolic box is the blood pressure ("142/88"); diastolic has none.
REFERENCE_FIELDS = tuple(key for key, _label, _hint in FIELDS if key != "diastolic_mmhg")
REFERENCE_PX = 12  # the references' text: smaller than the fields', and in italics
LOW_BUTTON = "QPushButton { padding: 6px 14px; }"  # Save: the form stays low on a laptop
_STATUS_WORDS = {
    CheckinStatus.DUE: "due now",
    CheckinStatus.OVERDUE: "overdue",
    CheckinStatus.DONE: "done",
}


@dataclass(frozen=True)
class CheckinEntry:
    """What the check-in form holds when it is saved."""

    raw: dict[str, str]  # field -> typed text, as parse_reading takes it
    checkin_key: str | None  # None: unscheduled
    taken_at_text: str  # "" = now, else HH:MM (a late entry)
    on_room_air: bool
    checkin_label: str = "Unscheduled check-in"  # as the list shows the chosen check-in


@dataclass(frozen=True)
class Reference:
    """A measure's previous standing value, as the reference beside its field."""

    text: str  # "142/88", "96", "-1"
    taken_at: datetime


def references_of(
    observations: Sequence[ObservationRecord], participant_id: uuid.UUID
) -> dict[str, Reference]:
    """The newest standing value of each measure for the participant, by form field (the blood
    pressure under systolic). `observations`: standing readings in time order."""
    found: dict[str, Reference] = {}
    wanted = list(REFERENCE_FIELDS)
    for observation in reversed(observations):
        if observation.participant_id != participant_id:
            continue
        values = observation.values
        for key in [k for k in wanted if values.get(k) is not None]:
            text = _text(values[key])
            if key == "systolic_mmhg":
                text = f"{text}/{_text(values['diastolic_mmhg'])}"
            found[key] = Reference(text, observation.occurred_at)
            wanted.remove(key)
        if not wanted:
            break
    return found


def age_text(since: datetime, now: datetime) -> str:
    """How long ago, as the reference says it: "just now", "12 min ago", "1 h 05 min ago"."""
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60:02d} min ago"


def taken_at_time(text: str, now: datetime) -> datetime | None:
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


def slot_text(state: CheckinState, now: datetime) -> str:
    """One check-in in the list, by its label: "T+15 — due now", "T+30 — at 15:10"."""
    label = state.spec.label
    if state.status is CheckinStatus.DONE:
        return f"{label} — done"
    if state.opens_at is None:
        return f"{label} — after the dose"
    if state.status is CheckinStatus.OVERDUE and not state.window_open:
        assert state.closes_at is not None
        return f"{label} — overdue, its window closed at {local_time(state.closes_at)}"
    if state.status in _STATUS_WORDS:
        return f"{label} — {_STATUS_WORDS[state.status]}"
    if state.window_open:
        return f"{label} — due at {local_time(state.due_at)}"
    return f"{label} — at {local_time(state.due_at)}, open from {local_time(state.opens_at)}"


class _ReferenceRow(QWidget):
    """The previous values, under their fields (the blood pressure under both of its boxes),
    painted by one widget: ten labels would each cost a style-sheet paint on every save."""

    def __init__(self, boxes: Mapping[str, QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._boxes = boxes
        self.texts: dict[str, str] = {}
        self.setAccessibleName("Previous values, not entries")
        self.setFixedHeight(2 * QFontMetrics(self._font()).lineSpacing() + 2)  # two lines each

    def _font(self) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(REFERENCE_PX)
        font.setItalic(True)
        return font

    def set_texts(self, texts: Mapping[str, str]) -> None:
        if texts != self.texts:
            self.texts = dict(texts)
            self.setAccessibleDescription("; ".join(self.texts.values()))
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setFont(self._font())
        painter.setPen(QColor(theme.TEXT_DIM))
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        for key, text in self.texts.items():
            if not text:
                continue
            first = self._boxes[key].geometry()
            last = self._boxes["diastolic_mmhg"].geometry() if key in BP_FIELDS else first
            area = QRect(first.left() - self.x(), 0, last.right() - first.left() + 1, self.height())
            painter.drawText(area, int(flags), text)
        painter.end()


class _Field(QLineEdit):
    """A number box. Enter is not handled here: a line edit passes the key on to its parent,
    and the form saves once (connecting returnPressed as well would save twice). A letter
    cannot be typed in it: the screen's single-letter keys act here (keymap)."""

    def __init__(self) -> None:
        super().__init__()
        keymap.mark(self, keymap.Field.NUMERIC)


def field_help(key: str, text: str = "") -> str:
    """The help line for a measure's box: its range, or for a score what the score typed
    means."""
    scale = SCALES.get(key)
    if scale is None:
        return f"{FIELD_LABELS[key]}: {PLAUSIBLE_RANGES[key].describe()}."
    try:
        value = int(text.strip().replace("−", "-").lstrip("+"))
    except ValueError:
        value = None
    anchor = None if value is None else scale.anchor(value)
    if anchor is not None and value is not None:
        return f"{scale.name} {scale.format_value(value)}: {anchor}"
    return f"{scale.name}: a score from {scale.range_text}; what it means shows here."


TAKEN_AT_HELP = (
    "Taken at: the time the reading was taken, as HH:MM; blank is now. A late entry keeps both "
    "times."
)
SLOT_HELP = "Which check-in the reading counts for: the arrow keys choose another, or Unscheduled."
COMMENT_HELP = "Comment: what the numbers do not say (optional)."


class CheckinForm(QFrame):
    save_requested = Signal(object)  # CheckinEntry

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self._states: tuple[CheckinState, ...] = ()
        self._now: datetime | None = None
        self._references: dict[str, Reference] = {}
        self._chosen: str | None = None  # the nurse's own choice of check-in, until restarted
        self._minute: int | None = None  # the minute the references' ages were written for
        self._captions_for: str | None = UNSCHEDULED  # the check-in the captions show
        self.heading = heading = QLabel("CHECK-IN")  # and whose: `set_participant`
        heading.setObjectName("heading")
        self.checkin = QComboBox()
        self.checkin.setAccessibleName("Which check-in")
        self.checkin.activated.connect(self._slot_chosen)
        self.taken_at = QLineEdit()
        self.taken_at.setPlaceholderText("now")
        self.taken_at.setAccessibleName("Taken at (HH:MM), blank for now")
        self.taken_at.setMaximumWidth(90)
        keymap.mark(self.taken_at, keymap.Field.NUMERIC)  # a time: digits and ":"
        self.taken_at.textChanged.connect(lambda _text: self._follow_slot())
        self.room_air = QCheckBox("on room air")
        self.room_air.setChecked(True)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addWidget(self.checkin, 1)
        taken = QLabel("taken at")
        taken.setObjectName("dim")
        top.addWidget(taken)
        top.addWidget(self.taken_at)
        top.addWidget(self.room_air)
        self.slot_note = QLabel()
        self.slot_note.setObjectName("dim")
        self.slot_note.setWordWrap(True)
        self.slot_note.hide()
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        self.fields: dict[str, QLineEdit] = {}
        self.captions: dict[str, QLabel] = {}
        self.references = _ReferenceRow(self.fields)
        for column, (key, label, hint) in enumerate(FIELDS):
            caption = QLabel(label)
            caption.setObjectName("dim")
            box = _Field()
            box.setPlaceholderText(hint)
            box.setAccessibleName(label)
            box.setMinimumWidth(62)
            box.textChanged.connect(lambda _t, k=key: self._field_changed(k))
            self.fields[key] = box
            self.captions[key] = caption
            grid.addWidget(caption, 0, column)
            grid.addWidget(box, 1, column)
        grid.addWidget(self.references, 2, 0, 1, len(FIELDS))
        self.emesis = QCheckBox("Emesis")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment (optional)")
        self.comment.setAccessibleName("Comment")
        self.save_button = QPushButton("Save check-in  (Enter)")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self._submit)
        self.hint = QLabel()  # what the field with the keys takes (`_describe_focus`)
        self.hint.setObjectName("dim")
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("Help for the field")
        self.problems = QLabel()
        self.problems.setObjectName("banner")
        self.problems.setWordWrap(True)
        self.problems.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.emesis)
        bottom.addWidget(self.comment, 1)
        bottom.addWidget(self.save_button)
        self.setStyleSheet(LOW_BUTTON)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.setSpacing(2)
        # what the check-in asks for, and beside it what the field with the keys takes: one
        # line of the laptop's height for both
        notes = QHBoxLayout()
        notes.addWidget(self.slot_note, 1)
        notes.addWidget(self.hint, 1)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(top)
        layout.addLayout(notes)
        layout.addLayout(grid)
        layout.addLayout(bottom)
        layout.addWidget(self.problems)
        order: list[QWidget] = [self.checkin, self.taken_at, *self.fields.values()]
        order += [self.emesis, self.comment, self.save_button]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)
        self._help: dict[QWidget, Callable[[], str]] = {
            self.checkin: lambda: SLOT_HELP,
            self.taken_at: lambda: TAKEN_AT_HELP,
            self.comment: lambda: COMMENT_HELP,
            self.emesis: lambda: "Emesis: Space ticks it if the participant vomited.",
            self.room_air: lambda: "On room air: Space unticks it while oxygen is given.",
            self.save_button: lambda: "Enter saves the check-in.",
        }
        for key in self.fields:
            self._help[self.fields[key]] = functools.partial(self._measure_help, key)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._describe_focus)

    # filling ------------------------------------------------------------------------------
    def set_participant(self, name: str) -> None:
        """Name the participant the check-in is saved for."""
        self.heading.setText(f"CHECK-IN — {name}" if name else "CHECK-IN")
        self.setAccessibleName(f"Check-in for {name}" if name else "Check-in")

    def set_checkins(self, checkins: Sequence[CheckinState], now: datetime | None = None) -> None:
        """The protocol's check-ins in this order (the most urgent first), then Unscheduled.
        The one chosen is the nurse's own choice if they made one and it is not done now;
        else the slot whose window holds the time the reading was taken, else Unscheduled."""
        self._states = tuple(checkins)
        if now is not None:
            self._now = now
        if self._chosen is not None and self._chosen != UNSCHEDULED:
            done = {c.spec.key for c in checkins if c.status is CheckinStatus.DONE}
            if self._chosen in done or all(c.spec.key != self._chosen for c in checkins):
                self._chosen = None
        when = self._now
        self.checkin.blockSignals(True)
        self.checkin.clear()
        for state in self._states:
            text = slot_text(state, when) if when is not None else state.spec.label
            self.checkin.addItem(text, state.spec.key)
        self.checkin.addItem("Unscheduled check-in", UNSCHEDULED)
        self.checkin.blockSignals(False)
        self._follow_slot()

    def start_entry(
        self, observations: Sequence[ObservationRecord], participant_id: uuid.UUID, now: datetime
    ) -> None:
        """Start a new check-in for a participant: every field empty, their previous values
        (from `observations`, standing readings in time order) shown beside them as references,
        the check-in chosen by the clock again. "On room air" is the participant's own as last
        recorded (oxygen stays on until it is taken off), else ticked."""
        for box in self.fields.values():
            box.clear()
        last = next((o for o in reversed(observations) if o.participant_id == participant_id), None)
        self.room_air.setChecked(last is None or last.on_room_air is not False)
        references = references_of(observations, participant_id)
        self.emesis.setChecked(False)
        self.comment.clear()
        self.taken_at.clear()
        self._show_help("")  # (clear() would lay the form out again even when empty)
        self._describe_focus(None, QApplication.focusWidget())
        self._references = dict(references)
        self._chosen = None
        self._minute = None
        self.set_now(now)
        self.problems.hide()
        self._mark_fields(())

    def update_references(
        self, observations: Sequence[ObservationRecord], participant_id: uuid.UUID
    ) -> None:
        """A reading saved elsewhere (a recheck typed in an acknowledgement, another screen):
        the previous values shown beside the fields follow it; what is typed stays."""
        self._references = dict(references_of(observations, participant_id))
        self._show_references()

    def set_now(self, now: datetime) -> None:
        """The time moved on: the references' ages, and the check-in the clock offers."""
        self._now = now
        minute = int(now.timestamp() // 60)
        if minute != self._minute:
            self._minute = minute
            self._show_references()
        self._follow_slot()

    def focus_first(self) -> None:
        box = self.fields["systolic_mmhg"]
        box.setFocus()
        box.selectAll()

    def has_entry(self) -> bool:
        """Whether anything was typed or ticked since the form started."""
        typed = [box.text().strip() for box in (*self.fields.values(), self.comment)]
        return any(typed) or bool(self.taken_at.text().strip()) or self.emesis.isChecked()

    def focus_resume(self) -> None:
        """Back into a form left half-filled: the first empty measure, nothing typed lost."""
        empty = [box for box in self.fields.values() if not box.text().strip()]
        box = empty[0] if empty else self.fields["systolic_mmhg"]
        box.setFocus()
        box.deselect()
        box.end(False)

    def focus_measure(self, measure: str) -> None:
        """The first field of a measure the check-in asked for (after "not now" to a partial)."""
        box = self.fields[MEASURE_FIELDS[measure][0]]
        box.setFocus()
        box.selectAll()

    def show_problems(self, problems: Sequence[FieldProblem]) -> None:
        self.problems.setText("Not saved. " + " ".join(p.message for p in problems))
        self.problems.show()
        self._mark_fields({p.field for p in problems})
        for problem in problems:
            box = self.taken_at if problem.field == "taken_at" else self.fields.get(problem.field)
            if box is None and problem.field in ("reading", "bp"):
                box = self.fields["systolic_mmhg"]
            if box is not None:
                box.setFocus()
                box.selectAll()
                break

    def clear_problems(self) -> None:
        self.problems.hide()
        self._mark_fields(())

    # what is shown ------------------------------------------------------------------------
    def chosen_key(self) -> str | None:
        """The check-in the reading will count for; None: unscheduled."""
        key = self.checkin.currentData()
        return None if key in (None, UNSCHEDULED) else str(key)

    def chosen_label(self) -> str:
        key = self.chosen_key()
        state = next((s for s in self._states if s.spec.key == key), None)
        return "Unscheduled check-in" if state is None else state.spec.label

    def reference_text(self, key: str) -> str:
        """The previous value shown under a field ("last 142/88, 12 min ago"), or ""."""
        return self.references.texts.get(key, "")

    # internals ----------------------------------------------------------------------------
    def _reading_time(self) -> datetime | None:
        """When the reading was taken: the "taken at" time if it is one, else now."""
        if self._now is None:
            return None
        try:
            return taken_at_time(self.taken_at.text().strip(), self._now) or self._now
        except ValueError:
            return self._now

    def _offered(self) -> str:
        when = self._reading_time()
        slot = None if when is None else slot_at(self._states, when)
        return UNSCHEDULED if slot is None else slot.spec.key

    def _follow_slot(self) -> None:
        """Show the nurse's choice, else the slot the clock offers."""
        wanted = self._chosen if self._chosen is not None else self._offered()
        index = self.checkin.findData(wanted)
        if index >= 0 and index != self.checkin.currentIndex():
            self.checkin.setCurrentIndex(index)
        self._show_slot()

    def _slot_chosen(self, index: int) -> None:
        """The nurse chose a check-in in the list (keys or mouse): it stands until restarted."""
        chosen = self.checkin.itemData(index)
        self._chosen = None if chosen == self._offered() else str(chosen)
        self._show_slot()

    def _show_slot(self) -> None:
        """What the chosen check-in asks for (its captions in full colour), and a word when the
        reading is unscheduled or chosen outside its slot's window."""
        key = self.chosen_key()
        state = next((s for s in self._states if s.spec.key == key), None)
        if key != self._captions_for:
            self._captions_for = key
            asked = () if state is None else state.spec.measures
            asked_fields = {name for measure in asked for name in MEASURE_FIELDS[measure]}
            for field, caption in self.captions.items():
                caption.setObjectName("" if field in asked_fields else "dim")
                caption.style().unpolish(caption)
                caption.style().polish(caption)
        when = self._reading_time()
        note = ""
        if when is None:
            pass
        elif state is None:
            note = (
                "No check-in is open at this time: the reading is unscheduled and uses up no slot."
            )
            later = [
                s
                for s in self._states
                if s.status is not CheckinStatus.DONE
                and s.opens_at is not None
                and s.opens_at > when
            ]
            if later:
                first = min(later, key=lambda s: s.due_at)
                note += f" Next: {first.spec.label} at {local_time(first.due_at)}."
        else:
            note = _asks_for(state)
            if not state.takes(when):
                note += (
                    f" Its slot is not open at this time; the reading is recorded as "
                    f"{state.spec.label} all the same."
                )
        if note != self.slot_note.text():
            self.slot_note.setText(note)
            self.slot_note.setVisible(bool(note))

    def _show_references(self) -> None:
        now = self._now
        self.references.set_texts(
            {
                key: f"last {reference.text}, {age_text(reference.taken_at, now)}"
                for key, reference in self._references.items()
                if now is not None
            }
        )

    def _mark_fields(self, bad: set[str] | tuple[()]) -> None:
        for key, box in (*self.fields.items(), ("taken_at", self.taken_at)):
            wrong = key in bad or ("bp" in bad and key in BP_FIELDS)
            box.setStyleSheet(f"border: 2px solid {theme.OVERDUE};" if wrong else "")

    def _field_changed(self, key: str) -> None:
        """A score typed: the help line says what it means."""
        box = self.fields[key]
        if box.hasFocus():
            self._show_help(field_help(key, box.text()))

    def _measure_help(self, key: str) -> str:
        return field_help(key, self.fields[key].text())

    def _describe_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        """The help line describes the field of the form that has the keys, if one has."""
        describe = None if new is None else self._help.get(new)
        self._show_help("" if describe is None else describe())

    def _show_help(self, text: str) -> None:
        if self.hint.text() != text:
            self.hint.setText(text)

    def _submit(self) -> None:
        raw = {key: box.text() for key, box in self.fields.items() if box.text().strip()}
        if self.emesis.isChecked():
            raw["emesis"] = "yes"
        if self.comment.text().strip():
            raw["comment"] = self.comment.text()
        self._follow_slot()  # the slot for the time the reading was taken, as typed now
        self.save_requested.emit(
            CheckinEntry(
                raw=raw,
                checkin_key=self.chosen_key(),
                taken_at_text=self.taken_at.text().strip(),
                on_room_air=self.room_air.isChecked(),
                checkin_label=self.chosen_label(),
            )
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._submit()
            return
        super().keyPressEvent(event)


def _asks_for(state: CheckinState) -> str:
    """ "T+45 asks for HR, SpO2, MOAA/S, Nausea." (and which are required, when not all)."""
    spec = state.spec
    if not spec.measures:
        return f"{spec.label} asks for no particular measure."
    text = f"{spec.label} asks for {measure_names(spec.measures)}"
    required = spec.required_measures
    if set(required) != set(spec.measures):
        text += f"; required: {measure_names(required) if required else 'none'}"
    return text + "."


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
