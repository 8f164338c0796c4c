"""A client's course (issue 17, O on the client list): the plan as it stands, entered or
changed here (indication, dosing sessions planned, medication and route, the prescriber's
standing order), its earlier versions, the course's sessions by type, the session due next
and the client's intentions from preparation. Every field is reached with Tab; Enter saves.

A view: it is filled with records and emits `save_requested(CourseEntry)`; the controller
saves and calls `saved()` or `show_problems()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.course_plan import MAX_DOSING_SESSIONS, PLAN_ROUTES, CoursePlan
from kapsession.domain.protocol import SESSION_TYPE_NAMES, DosingSpec, Medication, Route
from kapsession.domain.vitals import FieldProblem
from kapsession.records.course import CoursePlanVersion, CourseSessionRow, Intention
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.ui.dialogs import _buttons
from kapsession.ui.order_fields import OrderFields

NO_STANDING_ORDER = "No standing order — each session's order is given at its start"
STATUS_NAMES = {"planned": "planned", "live": "running", "completed": "ended", "signed": "signed"}


@dataclass(frozen=True)
class CourseEntry:
    plan: CoursePlan
    by: uuid.UUID | None  # who enters it
    based_on: uuid.UUID | None  # the version it was edited from
    reason: str


def session_lines(sessions: Sequence[CourseSessionRow]) -> list[str]:
    """One line per session of the course, numbered by type ("Dosing 2 …")."""
    counts: dict[str, int] = {}
    dosing_numbers: dict[uuid.UUID, int] = {}
    lines = []
    for s in sessions:
        name = SESSION_TYPE_NAMES[s.session_type]
        counts[name] = counts.get(name, 0) + 1
        if name == "Dosing":
            dosing_numbers[s.session_id] = counts[name]
        when = (s.started_at or s.created_at).astimezone().strftime("%d %b %Y")
        what = f"{name} {counts[name]}" if name == "Dosing" else name
        if s.follows_session_id in dosing_numbers:
            what += f" (after dosing {dosing_numbers[s.follows_session_id]})"
        status = STATUS_NAMES.get(s.status.value, s.status.value)
        lines.append(f"{when}  {what} — {s.protocol_name}, {status}")
    return lines


class CourseDialog(QDialog):
    save_requested = Signal(object)  # a CourseEntry

    def __init__(
        self,
        client: ClientRecord,
        history: Sequence[CoursePlanVersion],
        sessions: Sequence[CourseSessionRow],
        next_label: str | None,
        intentions: Sequence[Intention],
        staff: Sequence[StaffRecord],
        prescribers: Sequence[StaffRecord],
        dosing: Mapping[tuple[Medication, Route], DosingSpec],
        parent: QWidget | None = None,
    ) -> None:
        """`dosing`: the clinic's dosing protocol of each medication and route, which the
        standing order is entered for."""
        super().__init__(parent)
        self.setWindowTitle(f"Course — {client.full_name}")
        self.setMinimumWidth(760)
        self._dosing = dosing
        current = history[-1] if history else None
        self._based_on = None if current is None else current.id
        plan = None if current is None else current.plan
        standing = (
            "No plan recorded yet: enter it below."
            if plan is None
            else f"Plan: {plan.summary()} (saved by {current.recorded_by})"  # type: ignore[union-attr]
        )
        self.standing = QLabel(standing)
        self.standing.setWordWrap(True)
        self.next = QLabel(
            f"Next in course (J): {next_label}" if next_label else "The course plan is done."
        )
        self.next.setAccessibleName("Next in course")
        self.indication = QLineEdit("" if plan is None else plan.indication)
        self.indication.setAccessibleName("Indication")
        self.indication.setPlaceholderText("e.g. treatment-resistant depression")
        self.dosing_sessions = QSpinBox()
        self.dosing_sessions.setAccessibleName("Dosing sessions planned")
        self.dosing_sessions.setRange(1, MAX_DOSING_SESSIONS)
        self.dosing_sessions.setValue(6 if plan is None else plan.dosing_sessions)
        self.route = QComboBox()
        self.route.setAccessibleName("Medication and route")
        for medication, route in PLAN_ROUTES:
            self.route.addItem(f"{medication.value}, {route.value}", (medication, route))
        if plan is not None:
            self.route.setCurrentIndex(max(0, self.route.findData((plan.medication, plan.route))))
        self.order = OrderFields(prescribers, none_text=NO_STANDING_ORDER)
        self.order.verbal.hide()  # a standing order is never a verbal order
        self.order.ordered_by.setCurrentIndex(0)
        self.route.currentIndexChanged.connect(self._show_route)
        self._show_route()
        if plan is not None and plan.standing_order is not None and plan.ordered_by is not None:
            self.order.set_order(plan.standing_order, plan.ordered_by)
        self.by = QComboBox()
        self.by.setAccessibleName("Entered by")
        self.by.addItem("— choose —", None)
        for member in staff:
            self.by.addItem(member.signature_name, member.id)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for the change")
        self.reason.setPlaceholderText(
            "not needed for the first plan" if current is None else "why the plan changes"
        )
        form = QFormLayout()
        form.addRow("Indication", self.indication)
        form.addRow("Dosing sessions", self.dosing_sessions)
        form.addRow("Medication, route", self.route)
        form.addRow("Standing order", self.order)
        form.addRow("Entered by", self.by)
        form.addRow("Reason", self.reason)
        self.sessions = QListWidget()
        self.sessions.setAccessibleName("Sessions of the course")
        self.sessions.addItems(session_lines(sessions) or ["No session yet."])
        self.sessions.setMaximumHeight(140)
        self.intentions = QLabel(
            "Intentions from preparation: "
            + ("; ".join(i.text for i in intentions) if intentions else "none recorded")
        )
        self.intentions.setWordWrap(True)
        self.history = QListWidget()
        self.history.setAccessibleName("Earlier versions of the plan")
        self.history.addItems(
            [
                f"{v.recorded_at.astimezone():%d %b %Y %H:%M} {v.recorded_by}: "
                f"{v.plan.summary()}" + (f" — {v.reason}" if v.reason else "")
                for v in history
            ]
            or ["No version saved yet."]
        )
        self.history.setMaximumHeight(90)
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.standing)
        layout.addWidget(self.next)
        layout.addLayout(form)
        layout.addWidget(QLabel("Sessions"))
        layout.addWidget(self.sessions)
        layout.addWidget(self.intentions)
        layout.addWidget(QLabel("Versions of the plan"))
        layout.addWidget(self.history)
        layout.addWidget(self.problem)
        layout.addWidget(_buttons(self, "Save plan"))
        self.indication.setFocus()

    def _show_route(self) -> None:
        chosen = self.route.currentData()
        spec = self._dosing.get(chosen) if chosen is not None else None
        self.order.setEnabled(spec is not None)
        if spec is not None:
            self.order.set_protocol(spec)

    def value(self) -> tuple[CourseEntry | None, list[str]]:
        medication, route = self.route.currentData()
        order, ordered_by, problems = self.order.value()
        if problems:
            return None, [p.message for p in problems]
        plan = CoursePlan(
            indication=self.indication.text(),
            dosing_sessions=self.dosing_sessions.value(),
            medication=medication,
            route=route,
            standing_order=order,
            ordered_by=ordered_by if order is not None else None,
        )
        entry = CourseEntry(plan, self.by.currentData(), self._based_on, self.reason.text())
        return entry, []

    def show_problems(self, problems: Sequence[FieldProblem] | Sequence[str]) -> None:
        lines = [p if isinstance(p, str) else p.message for p in problems]
        self.problem.setText("\n".join(lines))
        self.problem.show()

    def accept(self) -> None:
        """Ask for the save; the controller closes the dialog once it is saved (`saved`)."""
        entry, problems = self.value()
        if entry is None:
            self.show_problems(problems)
            return
        self.save_requested.emit(entry)

    def saved(self) -> None:
        super().accept()
