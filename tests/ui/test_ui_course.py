"""The course from the start screen (issue 17), by keyboard only: O on the client list opens
the course, where the plan is typed and saved with Enter; J starts the session due next in
the course on its template; a preparation session takes the client's intention by Tab and
Enter, which a later session shows the therapist; a session without a dose offers none, and
D says why."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget
from ui_harness import RunningApp, describe, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.domain.dose_order import DoseOrder, OrderSource
from kapsession.domain.protocol import Medication, Route, SessionType
from kapsession.records.people import ClientRecord
from kapsession.ui.course_dialog import CourseDialog
from kapsession.ui.dialogs import NewSessionDialog

ENTER = Qt.Key.Key_Return
SHOTS = os.environ.get("KAPSESSION_COURSE_SHOTS", "")  # a folder: save what the screens show


def _shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def _client_selected(app: RunningApp) -> ClientRecord:
    app.usual_staff()
    app.add_staff("Dr Ada Lee", "prescriber", "MD")
    client = app.context.service.add_client(
        "Maya", "Fischer", at=app.clock.now(), date_of_birth=date(1984, 3, 2)
    )
    app.controller.refresh_start()
    app.start_view.select_client(client.id)
    app.ready()
    return client


def _choose(combo: QComboBox, wanted: str) -> None:
    assert focus_widget() is combo, describe(focus_widget())
    index = combo.findText(wanted)
    assert index >= 0, wanted
    while combo.currentIndex() != index:
        key(Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


def fill_plan(dialog: QWidget) -> None:
    """The plan typed field by field with Tab, the standing order too, and Enter to save."""
    assert isinstance(dialog, CourseDialog), describe(dialog)
    assert focus_widget() is dialog.indication
    type_text("Treatment-resistant depression")
    key(Qt.Key.Key_Tab)
    assert focus_widget() is dialog.dosing_sessions
    key(Qt.Key.Key_Down)  # 6 -> 5
    tab_in_dialog_to(dialog.order.ordered_by)
    _choose(dialog.order.ordered_by, "Dr Ada Lee, MD")
    tab_in_dialog_to(dialog.order.dose)
    key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text("250 mg")
    tab_in_dialog_to(dialog.by, limit=40)
    _choose(dialog.by, "Sam Lee, PsyD")
    _shot(dialog, "course-typed")
    key(ENTER)


def test_a_plan_typed_by_keyboard_is_saved_as_one_version(app: RunningApp) -> None:
    # Given a client selected on the start screen, a prescriber on the staff list
    client = _client_selected(app)
    # When O opens the course and the plan is typed and saved by keyboard
    with app.answering(fill_plan) as seen:
        app.key(Qt.Key.Key_O)
    assert [a.title for a in seen] == ["Course — Maya Fischer"]
    # Then one version stands, as typed, with its standing order by the prescriber
    version = app.context.service.course.plan(client.id)
    assert version is not None
    plan = version.plan
    assert (plan.indication, plan.dosing_sessions) == ("Treatment-resistant depression", 5)
    assert (plan.medication, plan.route) == (Medication.KETAMINE, Route.SUBLINGUAL)
    assert plan.standing_order is not None and plan.standing_order.dose_mg == 250
    prescriber = next(s for s in app.context.service.staff.active() if s.role == "prescriber")
    assert plan.ordered_by == prescriber.id


def test_a_plan_without_an_indication_is_refused_in_the_dialog(app: RunningApp) -> None:
    client = _client_selected(app)
    problems: list[str] = []

    def empty(dialog: QWidget) -> None:
        assert isinstance(dialog, CourseDialog)
        tab_in_dialog_to(dialog.by, limit=40)
        _choose(dialog.by, "Sam Lee, PsyD")
        key(ENTER)
        assert dialog.isVisible() and dialog.problem.isVisible()
        problems.append(dialog.problem.text())
        key(Qt.Key.Key_Escape)

    with app.answering(empty):
        app.key(Qt.Key.Key_O)
    assert problems == ["Indication: write what the course treats, e.g. depression."]
    assert app.context.service.course.plan(client.id) is None


def test_next_in_course_starts_the_consultation_then_the_preparation(app: RunningApp) -> None:
    # Given a client without any session yet
    client = _client_selected(app)
    titles: list[str] = []

    def start_it(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog), describe(dialog)
        titles.append(dialog.windowTitle())
        # the template of the session due is chosen, no order is asked for
        assert not dialog.order.isVisible()
        key(ENTER)

    # When J is pressed on the client list, and the dialog's Start by Enter
    with app.answering(start_it):
        app.key(Qt.Key.Key_J)
    # Then the consultation runs, on the session clock only: no dose, no T+
    assert titles == ["Next in course: Consultation"]
    live = app.controller.live
    assert live is not None and live.record.session_type is SessionType.CONSULTATION
    view = app.live_view
    assert not view.dose_button.isVisible() and not view.since_dose.isVisible()
    assert not view.discharge_button.isVisible()
    _shot(app.window, "consultation-live")
    # And D gives no dose: it says why, and nothing is saved
    app.key(Qt.Key.Key_D)
    assert "gives no dose" in view.failure.text()
    assert app.doses() == []
    # And Ctrl+D offers no discharge: there was no dose to be discharged from
    app.key(Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert "no discharge" in view.failure.text()
    app.end_by_keyboard()
    assert live.record.participants[0].client.id == client.id


def test_an_intention_typed_in_preparation_is_shown_in_the_later_session(
    app: RunningApp,
) -> None:
    # Given a client's preparation session open on the live screen
    app.start_session("Maya Fischer", protocol_key="preparation", order=None)
    view = app.live_view
    assert view.intention.isVisible()
    assert "Maya Fischer" in view.intention.placeholderText()
    # When the intention is reached by Tab, typed and entered
    app.tab_to(view.intention)
    app.type("To meet my grief with kindness")
    app.key(ENTER)
    # Then it is saved as typed, and shown to the therapist
    live = app.controller.live
    assert live is not None
    course_id = live.record.participants[0].course_id
    assert course_id is not None
    texts = [i.text for i in app.context.service.course.intentions(course_id)]
    assert texts == ["To meet my grief with kindness"]
    assert view.intention.text() == ""
    assert "To meet my grief with kindness" in view.intentions_line.text()
    _shot(app.window, "preparation-live")
    app.end_by_keyboard()
    # When a dosing session of the course opens later
    client_id = live.record.participants[0].client.id
    service = app.context.service
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client_id],
        modality="individual",
        at=app.clock.now(),
        therapist_id=live.record.therapist_id,
        nurse_id=live.record.nurse_id,
    )
    app.controller.open_session(record.id)
    # Then its therapist sees the intention, and the dose is offered there
    assert "To meet my grief with kindness" in app.live_view.intentions_line.text()
    assert app.live_view.dose_button.isVisible() and not app.live_view.intention.isVisible()
    app.end_by_keyboard()


def test_the_standing_order_is_offered_for_the_next_dosing_session(app: RunningApp) -> None:
    # Given a client whose course plan has a standing order and whose preparation is done
    client = _client_selected(app)
    service = app.context.service
    prescriber = next(s for s in service.staff.active() if s.role == "prescriber")
    from kapsession.domain.course_plan import CoursePlan

    order = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 250, None, 1, 100, (30, 45), 350)
    service.course.save_plan(
        client.id,
        CoursePlan("Depression", 6, Medication.KETAMINE, Route.SUBLINGUAL, order, prescriber.id),
        at=app.clock.now(),
        by=prescriber.id,
        based_on=None,
    )
    therapist, nurse = app.usual_staff()
    for key_ in ("consultation", "preparation"):
        done = service.start_session(
            protocol_key=key_, client_ids=[client.id], modality="individual",
            at=app.clock.now(), therapist_id=therapist.id, nurse_id=nurse.id,
        )  # fmt: skip
        service.end_session(done.id, at=app.clock.now())
        app.clock.advance(3600)
    app.consent(client.id)  # signed at the preparation: a dosing session needs it
    app.controller.refresh_start()
    app.start_view.select_client(client.id)
    shown: list[str] = []

    def start_it(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog)
        shown.append(dialog.windowTitle())
        shown.append(dialog.order.dose.text())
        key(ENTER)

    # When J starts the session due next
    with app.answering(start_it):
        app.key(Qt.Key.Key_J)
    # Then it is the first dosing session, its order the course's standing order
    assert shown == ["Next in course: Dosing 1 of 6", "250 mg"]
    live = app.controller.live
    assert live is not None and live.record.session_type is SessionType.DOSING
    (saved,) = service.checkins.orders.orders(live.record.id)
    assert saved.order == order and saved.source == OrderSource.COURSE_PLAN
    app.end_by_keyboard()


def test_choosing_a_template_without_a_dose_after_a_dosing_one_drops_the_order(
    app: RunningApp,
) -> None:
    # Given the new-session dialog on a dosing protocol, its usual order filled in
    _client_selected(app)
    shown: list[object] = []

    def switch(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog)
        dialog.choose_protocol("sublingual-kap-3h")
        assert dialog.order.dose.text() == "200 mg"
        # When the consultation template is chosen by keyboard
        dialog.protocol.setFocus()
        _choose(dialog.protocol, "Consultation, 60 minutes")
        # Then no order is asked for, and the session starts without one
        value = dialog.value()
        assert value is not None
        shown.append(value.order)
        key(Qt.Key.Key_Escape)

    with app.answering(switch):
        app.key(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert shown == [None]
