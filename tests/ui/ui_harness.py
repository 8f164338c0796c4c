"""Driving the real window by keyboard: a FakeClock app over a real SQLite data folder.

A modal dialog runs its own event loop, so the key press that opens one only returns once it
has closed. `ModalGuard` answers dialogs from a timer inside that loop, in the order the test
expects them, and closes (and reports) any dialog nobody expected, so a test fails instead of
hanging: a dialog opened from inside an answer that nothing answers (`answer_nested` does) is
closed after WAIT_MS by a second timer, since the answering one cannot fire while its answer
runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from support.migrated import seed_database
from support.qt_timers import HARNESS_TIMER, running_timers  # noqa: F401  (the UI tests use it)
from support.team import passing_answers, usual_consent, usual_order, usual_prescriber

from kapsession.domain.clock import FakeClock
from kapsession.domain.dose_order import DoseOrder
from kapsession.paths import resolve_paths
from kapsession.records.entries import AlertRecord, DoseRecord, EventRecord, ObservationRecord
from kapsession.records.people import StaffRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.context import AppContext, open_context
from kapsession.services.session_service import OrderEntry
from kapsession.ui.app_controller import AppController
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.live_view import LiveView
from kapsession.ui.main_window import MainWindow
from kapsession.ui.start_view import StartView
from kapsession.ui.theme import BACKGROUND, STYLESHEET, apply_room_theme

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
PROTOCOL_KEY = "sublingual-kap-3h"
WAIT_MS = 5000

ModalHandler = Callable[[QWidget], None]
MakeApp = Callable[..., "RunningApp"]  # the make_app fixture


def focus_widget() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "no widget has the keyboard focus"
    return widget


def key(which: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """One key press and release on whatever has the focus, as the keyboard would send it."""
    QTest.keyClick(focus_widget(), which, modifiers)


def type_text(text: str) -> None:
    QTest.keyClicks(focus_widget(), text)


def describe(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QMessageBox) else ""
    return f"{type(widget).__name__} {widget.windowTitle()!r} {text!r}".strip()


def close_dialog(widget: QWidget) -> None:
    if isinstance(widget, QDialog):
        widget.reject()
    else:
        widget.close()


@dataclass
class Answered:
    """A dialog the guard answered: what it was and what it said."""

    kind: str
    title: str
    text: str


class ModalGuard(QObject):
    """Answers modal dialogs with the handlers the test queued; closes any others."""

    def __init__(self) -> None:
        super().__init__()
        self._handlers: list[ModalHandler] = []
        self._answering: set[int] = set()
        self.answered: list[Answered] = []
        self.unexpected: list[str] = []
        self.errors: list[BaseException] = []
        self._timer = QTimer(self)
        self._timer.setObjectName(f"{HARNESS_TIMER}-modal-guard")
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._poll)
        self._timer.start()
        # Qt does not fire a timer again while its own slot runs: this one watches for a dialog
        # opened from inside an answer (a nested modal) and closes it if left unanswered.
        self._nested: tuple[int, int] | None = None  # (id of the dialog, polls it has waited)
        self._nested_timer = QTimer(self)
        self._nested_timer.setObjectName(f"{HARNESS_TIMER}-modal-guard-nested")
        self._nested_timer.setInterval(100)
        self._nested_timer.timeout.connect(self._close_unanswered_nested)
        self._nested_timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._nested_timer.stop()

    def _close_unanswered_nested(self) -> None:
        widget = QApplication.activeModalWidget()
        if not self._answering or widget is None or id(widget) in self._answering:
            self._nested = None
            return
        polls = self._nested[1] + 1 if self._nested and self._nested[0] == id(widget) else 1
        self._nested = (id(widget), polls)
        if polls * self._nested_timer.interval() < WAIT_MS:
            return
        self._nested = None
        self.unexpected.append(f"{describe(widget)} (opened inside an answer; nothing answered)")
        close_dialog(widget)

    def _poll(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or id(widget) in self._answering:
            return
        if not widget.isActiveWindow() or QApplication.focusWidget() is None:
            return  # shown, but not yet taking keys
        if not self._handlers:
            self.unexpected.append(describe(widget))
            close_dialog(widget)
            return
        handler = self._handlers.pop(0)
        text = widget.text() if isinstance(widget, QMessageBox) else ""
        self.answered.append(Answered(type(widget).__name__, widget.windowTitle(), text))
        self._answering.add(id(widget))
        try:
            handler(widget)
            if shiboken6.isValid(widget) and widget.isVisible():
                raise AssertionError(f"{describe(widget)} is still open after its answer")
        except BaseException as exc:  # reported by `answering`, after the dialog is closed
            self.errors.append(exc)
            if shiboken6.isValid(widget) and widget.isVisible():
                close_dialog(widget)
        finally:
            self._answering.discard(id(widget))

    @contextmanager
    def answering(self, *handlers: ModalHandler) -> Iterator[list[Answered]]:
        """Expect these dialogs, in this order, during the block; yields what was answered."""
        first = len(self.answered)
        self._handlers.extend(handlers)
        answered: list[Answered] = []
        try:
            yield answered
        finally:
            missing = len(self._handlers)
            self._handlers.clear()
            answered.extend(self.answered[first:])
        if self.errors:
            error, self.errors = self.errors[0], []
            raise error
        assert not missing, f"{missing} expected dialog(s) never opened; saw {answered}"

    @contextmanager
    def answering_if_opened(self, handler: ModalHandler) -> Iterator[list[Answered]]:
        """Answer one dialog if it opens during the block; none opening is fine (a question
        that depends on what was typed, such as a partial check-in's)."""
        first = len(self.answered)
        self._handlers.append(handler)
        answered: list[Answered] = []
        try:
            yield answered
        finally:
            self._handlers.clear()
            answered.extend(self.answered[first:])
        if self.errors:
            error, self.errors = self.errors[0], []
            raise error


def press(
    which: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> ModalHandler:
    """An answer: press one key in the dialog (Enter accepts, Escape cancels)."""

    def handler(_dialog: QWidget) -> None:
        key(which, modifiers)

    return handler


def answer_nested(handler: ModalHandler, seen: list[Answered]) -> None:
    """Inside an answer: the dialog about to open from it (a question the dialog asks before it
    closes) is answered by `handler`, and noted in `seen`. The guard cannot: its timer does not
    fire again while its own answer runs. Call before the key that opens it."""
    outer = QApplication.activeModalWidget()
    tries = [0]

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        tries[0] += 1
        opened = widget is not None and widget is not outer and widget.isActiveWindow()
        if not opened or QApplication.focusWidget() is None:
            if tries[0] < WAIT_MS // 10:
                QTimer.singleShot(10, poll)
            return
        assert widget is not None
        text = widget.text() if isinstance(widget, QMessageBox) else ""
        seen.append(Answered(type(widget).__name__, widget.windowTitle(), text))
        handler(widget)

    QTimer.singleShot(10, poll)


def confirm_partial(dialog: QWidget) -> None:
    """An answer to "Partial check-in — <name>": Enter records it with what was not taken."""
    assert dialog.windowTitle().startswith("Partial check-in — "), describe(dialog)
    key(Qt.Key.Key_Return)


def tab_in_dialog_to(target: QWidget, *, limit: int = 30) -> None:
    """Inside a dialog: press Tab until `target` has the focus (keyboard only)."""
    for _ in range(limit):
        if focus_widget() is target:
            return
        key(Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {target.accessibleName()!r}")


def fill_dose(
    dose_mg: str,
    before_enter: Callable[[], None] | None = None,
    *,
    lot: str = "",
    override_reason: str = "",
    weight_kg: str = "",
) -> ModalHandler:
    """An answer to the dose dialog: type the dose (the focus starts there), Tab to the weight
    and to the lot and type them, and, when the hold-dose check blocks the first dose, Tab to
    the override reason and type it; Enter to save."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog), describe(dialog)
        type_text(dose_mg)
        if weight_kg:
            tab_in_dialog_to(dialog.weight)
            type_text(weight_kg)
        if lot:
            tab_in_dialog_to(dialog.lot)
            type_text(lot)
        if override_reason:
            assert dialog.hold_block.isVisible(), "the hold-dose check asked for no override"
            tab_in_dialog_to(dialog.override_reason_edit)
            type_text(override_reason)
        if before_enter is not None:
            before_enter()
        key(Qt.Key.Key_Return)

    return handler


def fill_client(given: str, family: str, birth: str = "", number: str = "") -> ModalHandler:
    """An answer to the client dialog: type each field, Tab between them, Enter to save."""

    def handler(dialog: QWidget) -> None:
        assert type(dialog).__name__ == "ClientDialog", describe(dialog)
        for index, text in enumerate((given, family, birth, number)):
            if index:
                key(Qt.Key.Key_Tab)
            type_text(text)
        key(Qt.Key.Key_Return)

    return handler


def data_dir_context(data_dir: Path, clock: FakeClock, *, training: bool = False) -> AppContext:
    """The real context over `data_dir`, whatever KAPSESSION_* says in the environment. A new
    folder gets a copy of a database migrated once per process (tests/support/migrated.py)."""
    paths = resolve_paths(data_dir=data_dir, training=training, environ={})
    seed_database(paths)
    return open_context(paths, clock=clock)


def room_theme(app: QApplication) -> None:
    """`apply_room_theme`, unless the application has the room theme already (from an earlier
    test of the process): setting the style and the style sheet again re-polishes every widget
    for the same result, about 0.7 s a test. A test that changed the sheet, the style or the
    palette gets the whole theme again."""
    themed = (
        app.styleSheet() == STYLESHEET
        and app.style().name().lower() == "fusion"
        and app.palette().color(app.palette().ColorRole.Window).name() == BACKGROUND.lower()
        and app.font().pointSizeF() >= 11.0
    )
    if not themed:
        apply_room_theme(app)


@dataclass
class RunningApp:
    """The real window and controller over a real database, with a FakeClock."""

    qtbot: QtBot
    context: AppContext
    clock: FakeClock
    window: MainWindow
    controller: AppController
    guard: ModalGuard

    @property
    def start_view(self) -> StartView:
        return self.window.start_view

    @property
    def live_view(self) -> LiveView:
        return self.window.live_view

    def ready(self) -> QWidget:
        """Wait until the window takes keys again (offscreen there is no window manager to
        give the activation back when a dialog closes); return the focused widget."""
        if QApplication.activeModalWidget() is None and not self.window.isActiveWindow():
            self.window.activateWindow()
        self.qtbot.waitUntil(
            lambda: self.window.isActiveWindow() and QApplication.focusWidget() is not None,
            timeout=WAIT_MS,
        )
        return focus_widget()

    def key(
        self, which: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
    ) -> None:
        self.ready()
        key(which, modifiers)

    def type(self, text: str) -> None:
        self.ready()
        type_text(text)

    def answering(self, *handlers: ModalHandler) -> AbstractContextManager[list[Answered]]:
        return self.guard.answering(*handlers)

    def tab_to(self, target: QWidget, *, limit: int = 100) -> None:
        """Press Tab until `target` has the focus (keyboard only)."""
        for _ in range(limit):
            if self.ready() is target:
                return
            self.key(Qt.Key.Key_Tab)
        raise AssertionError(f"Tab never reached {target.accessibleName()!r}")

    def choose(self, combo: QComboBox, text: str) -> None:
        """Tab to a drop-down and move with the arrow keys until it shows `text`."""
        self.tab_to(combo)
        wanted = combo.findText(text)
        assert wanted >= 0, f"{text!r} is not offered in {combo.accessibleName()!r}"
        while combo.currentIndex() != wanted:
            self.key(Qt.Key.Key_Down if combo.currentIndex() < wanted else Qt.Key.Key_Up)

    def checkin_by_keyboard(
        self, *values: str, taken_at: str | None = None, confirm: bool = True
    ) -> list[Answered]:
        """C opens the form, empty, on the check-in whose slot is open now (else Unscheduled);
        type each value in form order (systolic, diastolic, HR, SpO2, RR, temp, MOAA/S, RASS,
        dissociation, nausea, SUDS), Tab between them, Enter saves. `taken_at` (Shift+Tab from
        systolic) makes a late entry. When a measure the check-in requires is left empty, the
        question that follows is answered with Enter (recorded as not taken) unless `confirm`
        is False; returns the questions answered."""
        self.key(Qt.Key.Key_C)
        assert self.ready() is self.live_view.checkin_form.fields["systolic_mmhg"]
        if taken_at is not None:
            self.key(Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
            assert self.ready() is self.live_view.checkin_form.taken_at
            self.type(taken_at)
            self.key(Qt.Key.Key_Tab)
        for index, text in enumerate(values):
            if index:
                self.key(Qt.Key.Key_Tab)
            self.type(text)  # the field's text is selected on arrival: typing replaces it
        if not confirm:
            self.key(Qt.Key.Key_Return)
            return []
        with self.guard.answering_if_opened(confirm_partial) as answered:
            self.key(Qt.Key.Key_Return)
        return answered

    def baseline_by_keyboard(self, systolic: str = "122", diastolic: str = "78") -> None:
        """C opens the check-in form on the check-in open now (the baseline before the dose);
        type the blood pressure, Enter saves, and Enter records the rest as not taken. The
        hold-dose rule needs a baseline."""
        before = len(self.observations())
        self.key(Qt.Key.Key_C)
        self.type(systolic)
        self.key(Qt.Key.Key_Tab)
        self.type(diastolic)
        with self.guard.answering_if_opened(confirm_partial):
            self.key(Qt.Key.Key_Return)
        assert len(self.observations()) == before + 1, self.live_view.checkin_form.problems.text()

    def dose_by_keyboard(
        self, dose_mg: str = "200", *, lot: str = "", override_reason: str = ""
    ) -> DoseRecord:
        """D, the dose form filled by keyboard (`fill_dose`), Enter: a dose as the nurse
        records it, through the hold-dose check. Without a baseline blood pressure the first
        dose needs `override_reason`."""
        before = len(self.doses())
        with self.answering(fill_dose(dose_mg, lot=lot, override_reason=override_reason)) as seen:
            self.key(Qt.Key.Key_D)
        assert [a.kind for a in seen] == ["DoseDialog"], seen
        doses = self.doses()
        assert len(doses) == before + 1, self.live_view.failure.text()
        return doses[-1]

    def end_by_keyboard(self) -> None:
        """Ctrl+E, and Enter on "Yes, record it" in the End-session question."""
        with self.answering(press(Qt.Key.Key_Return)) as seen:
            self.key(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert [a.title for a in seen] == ["End session"], seen
        assert self.session().status == "completed"

    def advance(self, seconds: float) -> None:
        """Move the fake clock on, then wait for the session timer's next tick to show it."""
        self.clock.advance(seconds)
        live = self.controller.live
        if live is not None and live._timer.isActive():
            with self.qtbot.waitSignal(live.ticked, timeout=WAIT_MS):
                pass

    # reading the database ---------------------------------------------------------------
    def session(self) -> SessionRecord:
        live = self.controller.live
        assert live is not None, "no session is open"
        return self.context.service.sessions.get(live.record.id)

    def observations(self) -> list[ObservationRecord]:
        live = self.controller.live
        assert live is not None, "no session is open"
        return self.context.service.checkins.observations(live.record.id)

    def events(self, kind: str, session_id: uuid.UUID | None = None) -> list[EventRecord]:
        sid = session_id or self.session().id
        return [e for e in self.context.service.entries.events(sid) if e.kind == kind]

    def markers(self, session_id: uuid.UUID | None = None) -> list[str]:
        return [e.label for e in self.events("marker", session_id)]

    def doses(self, session_id: uuid.UUID | None = None) -> list[DoseRecord]:
        return self.context.service.entries.doses(session_id or self.session().id)

    def alerts(self, session_id: uuid.UUID | None = None) -> list[AlertRecord]:
        """Every alert of the session, acknowledged or not."""
        return self.context.service.checkins.alerts(session_id or self.session().id)

    def add_staff(self, name: str, role: str = "nurse", credentials: str = "RN") -> StaffRecord:
        """A staff member, added before the session opens (the live screen lists them)."""
        return self.context.service.add_staff(
            name, role, at=self.clock.now(), credentials=credentials
        )

    def usual_staff(self) -> tuple[StaffRecord, StaffRecord]:
        """The first active therapist and nurse on the staff list, added when there is none
        (a session starts only with both on its team)."""
        staff = self.context.service.staff.active()
        therapist = next((s for s in staff if s.role == "therapist"), None)
        nurse = next((s for s in staff if s.role == "nurse"), None)
        return (
            therapist or self.add_staff("Sam Lee", "therapist", "PsyD"),
            nurse or self.add_staff("Ruth Okafor", "nurse", "RN"),
        )

    def start_session(
        self,
        *client_names: str,
        modality: str = "individual",
        protocol_key: str = PROTOCOL_KEY,
        therapist_id: uuid.UUID | None = None,
        monitor_id: uuid.UUID | None = None,
        order: DoseOrder | Literal["usual"] | None = "usual",
        consent: Literal["usual"] | None = "usual",
        screening: Literal["passed"] | None = "passed",
    ) -> SessionRecord:
        """Add the clients and start a session through the controller (not the keyboard), with
        its team: `therapist_id` and `monitor_id` (the monitoring clinician), else the first
        active therapist and nurse on the staff list (added when there is none); and `order`,
        each participant's order: the protocol's usual one by the usual prescriber (added
        when there is none), this order, or None for a session without one; `consent`: each
        client's KAP treatment consent, signed today (None: none, and the session is refused);
        `screening`: each participant's screening before the dose, passed (None: not done)."""
        service = self.context.service
        ids = []
        for name in client_names:
            given, family = name.split(" ", 1)
            ids.append(service.add_client(given, family, at=self.clock.now()).id)
        therapist, nurse = self.usual_staff()
        if consent == "usual":
            self.consent(*ids)
        entry = None
        if order == "usual":
            entry = usual_order(service, protocol_key, self.clock.now())
        elif order is not None:
            entry = OrderEntry(order, usual_prescriber(service, self.clock.now()).id)
        self.controller.start.start_session(
            protocol_key=protocol_key,
            client_ids=tuple(ids),
            modality=modality,
            therapist_id=therapist_id or therapist.id,
            nurse_id=monitor_id or nurse.id,
            order=entry,
        )
        if screening == "passed":
            self.pass_screening()
        return self.session()

    def consent(self, *client_ids: uuid.UUID) -> None:
        """Each client's signed KAP treatment consent (issue 17): a dosing session starts only
        with it, or on the prescriber's override."""
        usual_consent(self.context.service, client_ids, self.clock.now())

    def pass_screening(self) -> None:
        """Every participant's screening before the dose of the open session, every item
        passed (issue 17): the first dose waits for it."""
        live = self.controller.live
        assert live is not None, "no session is open"
        checklist = live.screening_checklist()
        for participant in live.participants:
            saved = live.record_screening(
                participant.id, checklist, passing_answers(self.context.service)
            )
            assert saved is not None

    def leave_session(self) -> None:
        """Back to the start screen by keyboard (Alt+Left): the session clock stops."""
        self.key(Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
        assert self.controller.live is None
