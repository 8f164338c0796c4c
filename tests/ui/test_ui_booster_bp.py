"""A booster without a recent blood pressure on the real window, by keyboard (issue 16): D says
why and offers the check-in form for that participant ("Take BP now", Enter); once the BP is
saved, D doses again."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from ui_harness import (
    START,
    RunningApp,
    confirm_partial,
    describe,
    fill_dose,
    key,
    type_text,
)

from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import Medication, Route
from kapsession.services.session_service import OrderEntry
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.formatting import local_time

ENTER = Qt.Key.Key_Return
ORDER = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200, None, 1, 100, (30, 45), 300)


def start_dosed(app: RunningApp) -> None:
    """A sublingual session ordered with one booster at T+30–45, the baseline and the dose
    given by keyboard."""
    ines = app.add_staff("Ines Moreau", "prescriber", "NP")
    therapist, nurse = app.usual_staff()
    client = app.context.service.add_client("Maya", "Fischer", at=app.clock.now())
    app.consent(client.id)  # issue 17: a dosing session starts with current consent
    app.controller.start.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=(client.id,),
        modality="individual",
        therapist_id=therapist.id,
        nurse_id=nurse.id,
        prescriber_id=ines.id,
        order=OrderEntry(ORDER, ines.id),
    )
    app.pass_screening()  # and its first dose waits for the screening
    app.baseline_by_keyboard()
    app.dose_by_keyboard("200")


def test_a_booster_without_a_recent_bp_opens_the_check_in_form_then_doses(
    app: RunningApp,
) -> None:
    # Given the dose, and 35 minutes later no blood pressure since the baseline (at the start)
    start_dosed(app)
    app.advance(35 * 60)
    asked: list[tuple[str, str, str]] = []

    def take_bp_now(box: QWidget) -> None:
        assert isinstance(box, QMessageBox), describe(box)
        default = box.defaultButton()
        assert default is not None
        asked.append((box.windowTitle(), box.text(), default.text()))
        key(ENTER)

    # When D is pressed for the booster, and Enter on the question
    with app.answering(take_bp_now) as seen:
        app.key(Qt.Key.Key_D)
    # Then no dose form opened: the question said why, Enter meaning "Take BP now"
    assert [a.kind for a in seen] == ["QMessageBox"]
    ((title, text, default),) = asked
    assert title == "Blood pressure first — Maya Fischer"
    assert text == (
        f"Take a blood pressure before the booster: the newest, at {local_time(START)}, is "
        "35 min old and must be at most 15 min old."
    )
    assert default == "&Take BP now"
    assert [d.kind for d in app.doses()] == ["initial"]
    # And the check-in form is open for her, the keys in its first field
    form = app.live_view.checkin_form
    assert app.ready() is form.fields["systolic_mmhg"]
    # When the BP is typed and saved (Enter; Enter again: the rest not taken)
    type_text("130")
    key(Qt.Key.Key_Tab)
    type_text("84")
    with app.guard.answering_if_opened(confirm_partial):
        key(ENTER)
    newest = app.observations()[-1]
    assert newest.reading.systolic_mmhg == 130 and newest.occurred_at == app.clock.now()
    # Then D opens the dose form and the booster is saved
    with app.answering(fill_dose("100")) as seen:
        app.key(Qt.Key.Key_D)
    assert [a.kind for a in seen] == [DoseDialog.__name__]
    assert [d.kind for d in app.doses()] == ["initial", "booster"]
    app.leave_session()


def test_cancel_leaves_everything_as_it_was(app: RunningApp) -> None:
    # Given a booster due without a recent blood pressure
    start_dosed(app)
    app.advance(35 * 60)
    before = len(app.observations())
    # When the question is answered with Escape
    with app.answering(lambda _box: key(Qt.Key.Key_Escape)):
        app.key(Qt.Key.Key_D)
    # Then nothing is saved and the check-in form was not started
    assert len(app.observations()) == before
    assert [d.kind for d in app.doses()] == ["initial"]
    assert not app.live_view.checkin_form.has_entry()
    app.leave_session()
