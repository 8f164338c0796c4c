"""The adverse-event entry (E), the intervention entry (T) and a dose's controlled-substance
count (issue 16), each naming its participant in the title.

Every field is reachable by Tab in form order; Enter records, Esc cancels. The dialogs check
nothing themselves: on Enter they hand what was typed to `submit` (the controller's: the live
session checks it and saves it), and what comes back is shown under the form with the keys in
the first field to fix, the dialog staying open with nothing stored; with no problem it closes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.adverse_events import (
    DISPLAYS,
    INTERVENTION_LABELS,
    KIND_LABELS,
    MAX_TEXT_CHARS,
    OXYGEN_DEVICES,
    AdverseEventKind,
    EntryProblem,
    InterventionKind,
    Outcome,
    RescueMedication,
    Seriousness,
    Severity,
)
from kapsession.ui.dialogs import _buttons
from kapsession.ui.formatting import local_time


def clock_time(text: str, now: datetime) -> datetime | None:
    """ "" -> None; "HH:MM" -> that minute today (local time); ValueError when it is not one."""
    text = text.strip()
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
    if when > local_now + timedelta(hours=12):  # "23:50" typed at 00:10 is yesterday's
        when -= timedelta(days=1)
    return when


def _combo(items: Sequence[tuple[str, object]], name: str, *, first: str = "") -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    if first:
        combo.addItem(first, None)
    for text, data in items:
        combo.addItem(text, data)
    return combo


def _choose_id(combo: QComboBox, wanted: uuid.UUID | None, missing: str) -> None:
    """Choose the item holding `wanted`, compared by value (findData compares an id by
    identity, never equal to one read separately, and its -1 fell back to the first item).
    An id not offered any more is added as `missing`, so an update keeps it; None: the first
    item (none chosen)."""
    if wanted is None:
        combo.setCurrentIndex(0)
        return
    ids = [combo.itemData(i) for i in range(combo.count())]
    if wanted not in ids:
        combo.addItem(missing, wanted)
        ids.append(wanted)
    combo.setCurrentIndex(ids.index(wanted))


class _EntryDialog(QDialog):
    """The frame every entry dialog shares: a form, its problems, Record and Cancel."""

    def __init__(self, title: str, ok_text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.form = QFormLayout()
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        self.buttons = _buttons(self, ok_text)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.fields: dict[str, QWidget] = {}
        # the controller's: save what was typed, give back what to fix (nothing: it was saved)
        self.submit: Callable[[], Sequence[EntryProblem]] | None = None

    def accept(self) -> None:
        problems = [] if self.submit is None else list(self.submit())
        if problems:
            self.show_problems(problems)
            return
        super().accept()

    def add(self, label: str, key: str, widget: QWidget) -> QWidget:
        self.form.addRow(label, widget)
        self.fields[key] = widget
        return widget

    def show_problems(self, problems: Sequence[EntryProblem]) -> None:
        """Each problem under the form; the keys in the first field to fix."""
        self.problem.setText("\n".join(p.message for p in problems))
        self.problem.show()
        for p in problems:
            widget = self.fields.get(p.field)
            if widget is not None and widget.isVisible():
                widget.setFocus()
                break

    def show_message(self, message: str) -> None:
        self.show_problems([EntryProblem("", message)])


# --- the adverse event ---------------------------------------------------------------------


@dataclass(frozen=True)
class AdverseEventForm:
    kind: str
    other: str
    severity: str
    seriousness: str
    outcome: str
    onset_text: str
    resolved_text: str
    actions: str
    alert_id: uuid.UUID | None


class AdverseEventDialog(_EntryDialog):
    """An adverse event of one participant: what, how bad, serious or not, its outcome, onset
    and resolution (HH:MM), the alert it follows (the open and recent ones offered), and what
    was done. Given `current`, it opens filled with the entry as it stands (an update)."""

    def __init__(
        self,
        participant_name: str,
        alerts: Sequence[tuple[uuid.UUID, str]],
        now: datetime,
        *,
        current: AdverseEventForm | None = None,
        parent: QWidget | None = None,
    ) -> None:
        verb = "Update adverse event" if current else "Adverse event"
        super().__init__(f"{verb} — {participant_name}", "Record adverse event", parent)
        self.kind = _combo(
            [(label, kind) for kind, label in KIND_LABELS.items()], "Kind of event", first="—"
        )
        self.other = QLineEdit()
        self.other.setAccessibleName("What the event was (kind: other)")
        self.other.setMaxLength(MAX_TEXT_CHARS)
        self.severity = _combo([(DISPLAYS[s], s.value) for s in Severity], "Severity", first="—")
        self.seriousness = _combo(
            [(DISPLAYS[s], s.value) for s in Seriousness], "Seriousness", first="—"
        )
        self.outcome = _combo([(DISPLAYS[o], o.value) for o in Outcome], "Outcome")
        self.outcome.setCurrentIndex(self.outcome.findData(Outcome.ONGOING.value))
        self.onset = QLineEdit(local_time(now))
        self.onset.setAccessibleName("Onset, HH:MM")
        self.resolved = QLineEdit()
        self.resolved.setAccessibleName("Resolved at, HH:MM (empty while it lasts)")
        self.resolved.setPlaceholderText("HH:MM — empty while it lasts")
        self.alert = _combo([(t, i) for i, t in alerts], "Alert it follows", first="No alert")
        if alerts:
            self.alert.setCurrentIndex(1)  # the open or latest alert of this participant
        self.actions_taken = QLineEdit()
        self.actions_taken.setAccessibleName("Actions taken")
        self.actions_taken.setMaxLength(MAX_TEXT_CHARS)
        self.actions_taken.setPlaceholderText(
            "e.g. bowl, head turned to the side; see interventions"
        )
        self.add("Kind", "kind", self.kind)
        self.add("Other: what", "other", self.other)
        self.add("Severity", "severity", self.severity)
        self.add("Seriousness", "seriousness", self.seriousness)
        self.add("Outcome", "outcome", self.outcome)
        self.add("Onset", "onset", self.onset)
        self.add("Resolved at", "resolved", self.resolved)
        self.add("Alert", "alert", self.alert)
        self.add("Actions taken", "actions", self.actions_taken)
        self.kind.currentIndexChanged.connect(self._kind_chosen)
        if current is not None:
            self._fill(current)
        self._kind_chosen()
        self.kind.setFocus()

    def _fill(self, current: AdverseEventForm) -> None:
        self.kind.setCurrentIndex(max(0, self.kind.findData(current.kind)))
        self.other.setText(current.other)
        self.severity.setCurrentIndex(max(0, self.severity.findData(current.severity)))
        self.seriousness.setCurrentIndex(max(0, self.seriousness.findData(current.seriousness)))
        self.outcome.setCurrentIndex(max(0, self.outcome.findData(current.outcome)))
        self.onset.setText(current.onset_text)
        self.resolved.setText(current.resolved_text)
        _choose_id(self.alert, current.alert_id, "The alert it was linked to")
        self.actions_taken.setText(current.actions)

    def _kind_chosen(self) -> None:
        self.other.setEnabled(self.kind.currentData() == AdverseEventKind.OTHER)

    def value(self) -> AdverseEventForm:
        return AdverseEventForm(
            kind=str(self.kind.currentData() or ""),
            other=self.other.text(),
            severity=str(self.severity.currentData() or ""),
            seriousness=str(self.seriousness.currentData() or ""),
            outcome=str(self.outcome.currentData() or ""),
            onset_text=self.onset.text(),
            resolved_text=self.resolved.text(),
            actions=self.actions_taken.text(),
            alert_id=self.alert.currentData(),
        )


# --- the intervention ----------------------------------------------------------------------


@dataclass(frozen=True)
class InterventionForm:
    kind: str
    time_text: str
    medication: str
    dose_text: str
    route: str
    lot_number: str
    flow_text: str
    device: str
    text: str
    given_by: uuid.UUID | None
    link: tuple[str, uuid.UUID] | None  # ("adverse_event" | "alert", its id)


class InterventionDialog(_EntryDialog):
    """An intervention for one participant: oxygen (flow, device), a rescue medication of the
    clinic's list (its usual dose and route filled in), repositioning, the prescriber called,
    or other; who gave it, when, and the adverse event or alert it was for."""

    def __init__(
        self,
        participant_name: str,
        medications: Sequence[RescueMedication],
        staff: Sequence[tuple[uuid.UUID, str]],
        given_by: uuid.UUID | None,
        links: Sequence[tuple[str, tuple[str, uuid.UUID]]],
        now: datetime,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Intervention — {participant_name}", "Record intervention", parent)
        self._medications = {m.name: m for m in medications}
        self.kind = _combo(
            [(label, kind) for kind, label in INTERVENTION_LABELS.items()], "Intervention"
        )
        self.medication = _combo(
            [(f"{m.name} — {m.usual}", m.name) for m in medications],
            "Rescue medication",
            first="—",
        )
        self.dose = QLineEdit()
        self.dose.setAccessibleName("Dose")
        self.route = QLineEdit()
        self.route.setAccessibleName("Route")
        self.lot = QLineEdit()
        self.lot.setAccessibleName("Lot number")
        self.flow = QLineEdit()
        self.flow.setAccessibleName("Oxygen flow, L/min")
        self.device = _combo([(d, d) for d in OXYGEN_DEVICES], "Oxygen device")
        self.text = QLineEdit()
        self.text.setAccessibleName("What was done or said")
        self.text.setMaxLength(MAX_TEXT_CHARS)
        self.given_by = _combo([(t, i) for i, t in staff], "Given by")
        # findData compares a staff id by identity, never equal to one read separately
        ids = [self.given_by.itemData(i) for i in range(self.given_by.count())]
        self.given_by.setCurrentIndex(ids.index(given_by) if given_by in ids else 0)
        self.time = QLineEdit(local_time(now))
        self.time.setAccessibleName("Given at, HH:MM")
        self.link = _combo(list(links), "For", first="Not linked")
        if links:
            self.link.setCurrentIndex(1)
        self.add("Intervention", "kind", self.kind)
        self.add("Medication", "medication", self.medication)
        self.add("Dose", "dose", self.dose)
        self.add("Route", "route", self.route)
        self.add("Lot", "lot", self.lot)
        self.add("Flow (L/min)", "flow", self.flow)
        self.add("Device", "device", self.device)
        self.add("What / who", "text", self.text)
        self.add("Given by", "given_by", self.given_by)
        self.add("At", "given_at", self.time)
        self.add("For", "link", self.link)
        self.kind.currentIndexChanged.connect(self._kind_chosen)
        self.medication.currentIndexChanged.connect(self._medication_chosen)
        self._kind_chosen()
        self.kind.setFocus()

    def choose_kind(self, kind: InterventionKind) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind.value))

    def _kind_chosen(self) -> None:
        kind = self.kind.currentData()
        rescue = kind == InterventionKind.RESCUE_MEDICATION
        oxygen = kind == InterventionKind.OXYGEN
        for widget in (self.medication, self.dose, self.route, self.lot):
            widget.setEnabled(rescue)
        for widget in (self.flow, self.device):
            widget.setEnabled(oxygen)

    def _medication_chosen(self) -> None:
        chosen = self._medications.get(str(self.medication.currentData()))
        if chosen is not None:
            self.dose.setText(f"{chosen.dose:g}")
            self.route.setText(chosen.route)

    def value(self) -> InterventionForm:
        kind = str(self.kind.currentData() or "")
        return InterventionForm(
            kind=kind,
            time_text=self.time.text(),
            medication=str(self.medication.currentData() or ""),
            dose_text=self.dose.text(),
            route=self.route.text(),
            lot_number=self.lot.text(),
            flow_text=self.flow.text(),
            device=str(self.device.currentData() or ""),
            text=self.text.text(),
            given_by=self.given_by.currentData(),
            link=self.link.currentData(),
        )


# --- the controlled-substance count --------------------------------------------------------


@dataclass(frozen=True)
class SubstanceForm:
    drawn_text: str
    given_text: str
    wasted_text: str
    witness_id: uuid.UUID | None
    pin: str
    comment: str


class SubstanceDialog(_EntryDialog):
    """A dose's controlled-substance count: mg drawn or dispensed, given, wasted; a waste is
    witnessed by a second staff member who types their PIN here."""

    def __init__(
        self,
        participant_name: str,
        dose_text: str,
        given_mg: float | None,
        witnesses: Sequence[tuple[uuid.UUID, str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(f"Controlled substance — {participant_name}", "Record count", parent)
        about = QLabel(f"{dose_text}. Schedule III: every mg drawn is given or wasted.")
        about.setWordWrap(True)
        about.setObjectName("dim")
        self.form.addRow(about)
        self.drawn = QLineEdit()
        self.drawn.setAccessibleName("Drawn or dispensed, mg")
        self.given = QLineEdit("" if given_mg is None else f"{given_mg:g}")
        self.given.setAccessibleName("Given, mg")
        self.wasted = QLineEdit("0")
        self.wasted.setAccessibleName("Wasted, mg")
        self.witness = _combo([(t, i) for i, t in witnesses], "Waste witnessed by", first="—")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setAccessibleName("Witness's PIN")
        self.comment = QLineEdit()
        self.comment.setAccessibleName("Comment")
        self.add("Drawn / dispensed (mg)", "drawn", self.drawn)
        self.add("Given (mg)", "given", self.given)
        self.add("Wasted (mg)", "wasted", self.wasted)
        self.add("Witness", "witness", self.witness)
        self.add("Witness's PIN", "pin", self.pin)
        self.add("Comment", "comment", self.comment)
        self.drawn.setFocus()

    def value(self) -> SubstanceForm:
        return SubstanceForm(
            drawn_text=self.drawn.text(),
            given_text=self.given.text(),
            wasted_text=self.wasted.text(),
            witness_id=self.witness.currentData(),
            pin=self.pin.text(),
            comment=self.comment.text(),
        )

    def show_problems(self, problems: Sequence[EntryProblem]) -> None:
        self.pin.clear()  # a PIN is typed again after any refusal
        super().show_problems(problems)
