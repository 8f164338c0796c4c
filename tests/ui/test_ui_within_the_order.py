"""Within the order on the real window, by keyboard (issue 16): D for a participant without an
order opens a dose form that says so and refuses the dose, naming what to do; the order is
recorded from it (the prescriber's PIN, or a verbal order to countersign) and the dose is then
saved; or the prescriber overrides with their PIN and a reason. The live screen's order line
says "No order recorded" in the caution colour, and the new-session dialog says plainly that
a session may start before the order."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from ui_harness import (
    PROTOCOL_KEY,
    WAIT_MS,
    Answered,
    RunningApp,
    answer_nested,
    describe,
    focus_widget,
    key,
    tab_in_dialog_to,
    type_text,
)

from kapsession.domain.dose_order import NO_ORDER, usual_order
from kapsession.records.people import StaffRecord
from kapsession.services.session_service import OrderEntry
from kapsession.ui import theme
from kapsession.ui.dialogs import NewSessionDialog
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.order_dialogs import OrderDialog
from kapsession.ui.order_fields import NO_ORDER_YET

CTRL = Qt.KeyboardModifier.ControlModifier
ENTER, TAB, SPACE, ESCAPE = Qt.Key.Key_Return, Qt.Key.Key_Tab, Qt.Key.Key_Space, Qt.Key.Key_Escape
PIN = "246813"
NO_ORDER_LINE = "No order recorded — the prescriber gives it before the dose"


def prescriber(app: RunningApp) -> StaffRecord:
    member = app.add_staff("Ines Moreau", "prescriber", "NP")
    app.context.notes.pins.set_pin(member.id, PIN, PIN)
    return member


def started_without_an_order(app: RunningApp) -> StaffRecord:
    """A session started with no order yet, its baseline taken by keyboard; the prescriber
    (with a PIN) on the staff list."""
    ines = prescriber(app)
    app.start_session("Maya Fischer", order=None)
    app.baseline_by_keyboard()
    app.advance(1)
    return ines


def when_shown_again(dialog: QWidget, handler: Callable[[QWidget], None]) -> None:
    """Answer `dialog` once it is on screen again after a refusal (the controller's loop runs
    it anew); call before the key that closes it."""
    tries = [0]

    def poll() -> None:
        tries[0] += 1
        if not (dialog.isVisible() and dialog.isActiveWindow() and focus_widget() is not None):
            if tries[0] < WAIT_MS // 10:
                QTimer.singleShot(10, poll)
            return
        handler(dialog)

    QTimer.singleShot(10, poll)


def back_in(dialog: QWidget) -> None:
    """Wait for the window system to give `dialog` the keyboard again (a dialog opened from
    it has closed)."""
    for _ in range(WAIT_MS // 10):
        if QApplication.activeWindow() is dialog and QApplication.focusWidget() is not None:
            return
        QTest.qWait(10)
    raise AssertionError(f"{describe(dialog)} never had the keyboard again")


def test_the_live_screen_says_no_order_in_the_caution_colour(app: RunningApp) -> None:
    # Given a session started without an order
    started_without_an_order(app)
    # Then the order line says so, in the caution colour
    line = app.live_view.order_line
    assert line.toolTip() == NO_ORDER_LINE
    assert f"color: {theme.DUE}" in line.styleSheet()
    # And D still opens the dose form (it is where the order is recorded)
    assert app.live_view.dose_button.isEnabled()
    app.leave_session()


def test_d_without_an_order_refuses_the_dose_and_names_what_to_do(app: RunningApp) -> None:
    # Given a session without an order
    ines = started_without_an_order(app)
    said: list[str] = []

    def type_the_dose(dialog: QWidget) -> None:
        # Then the form says there is no order, the focus on recording it
        assert isinstance(dialog, DoseDialog), describe(dialog)
        said.append(dialog.order_line.text())
        assert focus_widget() is dialog.record_order_button
        # When the nurse Tabs on to the dose, types it and presses Enter
        key(TAB)
        assert focus_widget() is dialog.dose
        type_text("200")
        key(ENTER)

    def refused(dialog: QWidget) -> None:
        # Then the form is back: no order, record it or the prescriber's override
        assert isinstance(dialog, DoseDialog), describe(dialog)
        said.append(dialog.order_block.text())
        assert dialog.order_block.isVisible() and dialog.record_order_button.isVisible()
        assert dialog.prescriber.isVisible() and dialog.prescriber.currentText() == (
            ines.signature_name
        )
        assert app.doses() == []
        key(ESCAPE)

    with app.answering(type_the_dose, refused) as seen:
        app.key(Qt.Key.Key_D)
    assert [a.kind for a in seen] == ["DoseDialog"] * 2
    assert said[0].startswith("No order recorded for Maya Fischer — the prescriber gives it")
    assert said[1].startswith(
        "No order recorded: the prescriber gives it before the dose. Record the order"
    )
    assert "or the prescriber overrides below with their PIN and a reason" in said[1]
    # And nothing was written
    assert app.doses() == [] and app.events("dose_override") == []
    app.leave_session()


def test_the_order_recorded_from_the_dose_form_lets_the_dose_be_saved(app: RunningApp) -> None:
    # Given a session without an order, and D pressed
    ines = started_without_an_order(app)
    nested: list[Answered] = []
    retried: list[str] = []
    live = app.controller.live
    assert live is not None
    pid = live.participants[0].id

    def wrong_then_right_pin(dialog: QWidget) -> None:
        # Then the order form is prefilled with the protocol's usual order, by the prescriber
        assert isinstance(dialog, OrderDialog), describe(dialog)
        assert dialog.fields.dose.text() == "200 mg"
        assert dialog.fields.ordered_by.currentText() == ines.signature_name
        # When a wrong PIN is typed, Then the order is refused and not recorded
        tab_in_dialog_to(dialog.pin)
        type_text("111111")
        when_shown_again(dialog, right_pin)
        key(ENTER)

    def right_pin(dialog: QWidget) -> None:
        assert isinstance(dialog, OrderDialog), describe(dialog)
        retried.append(dialog.problem.text())
        assert "The order was NOT recorded" in dialog.problem.text()
        assert live.order_of(pid) is None
        assert dialog.pin.hasFocus()
        type_text(PIN)
        key(ENTER)

    def record_the_order_then_dose(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog), describe(dialog)
        # When the nurse presses "Record the order…" (it has the focus) and the prescriber
        # confirms the order with their PIN
        answer_nested(wrong_then_right_pin, nested)
        key(SPACE)
        back_in(dialog)
        # Then the form shows the order, the focus back in the dose
        assert dialog.order_line.text().startswith("Order: 200 mg SL")
        assert not dialog.record_order_button.isVisible()
        assert focus_widget() is dialog.dose
        # When the dose is typed and Enter pressed
        type_text("200")
        key(ENTER)

    with app.answering(record_the_order_then_dose) as seen:
        app.key(Qt.Key.Key_D)
    assert [a.kind for a in seen] == ["DoseDialog"]
    assert [a.kind for a in nested] == ["OrderDialog"]
    assert len(retried) == 1 and "That PIN is not right" in retried[0]  # the wrong PIN
    # Then the order is on the record, given by the prescriber, not a verbal one
    order = live.order_of(pid)
    assert order is not None and order.ordered_by_id == ines.id and not order.order.verbal
    # And the dose is saved as ordered, with no override
    (dose,) = app.doses()
    assert dose.dose_mg == 200 and "order_override" not in dose.detail
    # And the live screen shows the order, no longer in the caution colour
    app.advance(1)
    line = app.live_view.order_line
    assert line.toolTip().startswith("Order: 200 mg SL")
    assert theme.DUE not in line.styleSheet()
    app.leave_session()


def test_a_verbal_order_recorded_from_the_dose_form_waits_for_countersignature(
    app: RunningApp,
) -> None:
    # Given a session without an order, and D pressed
    started_without_an_order(app)
    nested: list[Answered] = []

    def verbal(dialog: QWidget) -> None:
        assert isinstance(dialog, OrderDialog), describe(dialog)
        # When the order is marked verbal: no PIN asked now
        tab_in_dialog_to(dialog.fields.verbal)
        key(SPACE)
        assert not dialog.pin.isEnabled()
        key(ENTER)

    def record_then_dose(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog), describe(dialog)
        answer_nested(verbal, nested)
        key(SPACE)
        back_in(dialog)
        type_text("200")
        key(ENTER)

    with app.answering(record_then_dose):
        app.key(Qt.Key.Key_D)
    # Then the dose is saved and the verbal order waits for the prescriber's countersignature
    assert [a.kind for a in nested] == ["OrderDialog"]
    assert len(app.doses()) == 1
    app.advance(1)
    assert "verbal order" in app.live_view.order_line.toolTip()
    assert "awaiting countersignature" in app.live_view.order_line.toolTip()
    assert app.live_view.countersign_button.isVisible()
    app.leave_session()


def test_without_an_order_the_prescribers_override_saves_the_dose_as_a_deviation(
    app: RunningApp,
) -> None:
    # Given a session without an order, the dose refused for it
    ines = started_without_an_order(app)

    def type_the_dose(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog), describe(dialog)
        key(TAB)
        type_text("200")
        key(ENTER)

    def override(dialog: QWidget) -> None:
        # When the prescriber types their PIN and reason
        assert isinstance(dialog, DoseDialog), describe(dialog)
        tab_in_dialog_to(dialog.prescriber_pin)
        type_text(PIN)
        tab_in_dialog_to(dialog.order_reason)
        type_text("Order given by phone, to be written after")
        key(ENTER)

    with app.answering(type_the_dose, override):
        app.key(Qt.Key.Key_D)
    # Then the dose is saved with the override, the missing order as its deviation
    (dose,) = app.doses()
    recorded = dose.detail["order_override"]
    assert recorded["by"] == ines.signature_name
    assert [d["rule"] for d in recorded["deviations"]] == [NO_ORDER]
    (event,) = app.events("dose_override")
    assert "Order given by phone, to be written after" in event.label
    app.leave_session()


def test_the_new_session_dialog_says_plainly_a_session_may_start_before_the_order(
    app: RunningApp,
) -> None:
    # Given the team, a prescriber and a client
    app.usual_staff()
    prescriber(app)
    app.consent(app.context.service.add_client("Maya", "Fischer", at=app.clock.now()).id)
    app.controller.start.refresh()
    offered: list[list[str]] = []

    def no_order_yet(dialog: QWidget) -> None:
        assert isinstance(dialog, NewSessionDialog), describe(dialog)
        type_text("S")  # the sublingual protocol
        combo = dialog.order.ordered_by
        offered.append([combo.itemText(i) for i in range(combo.count())])
        # When "No order yet" is chosen for who ordered it (Home: the first choice)
        tab_in_dialog_to(combo)
        key(Qt.Key.Key_Home)
        # Then the order's fields are set aside
        assert combo.currentText() == NO_ORDER_YET
        assert not dialog.order.dose.isEnabled() and not dialog.order.verbal.isEnabled()
        key(ENTER)

    with app.answering(no_order_yet):
        app.key(ENTER, CTRL)
    # Then it offers the choice in plain words, never "— no order —"
    assert offered == [[NO_ORDER_YET, "Ines Moreau, NP"]]
    assert NO_ORDER_YET == "No order yet — the prescriber gives it before the dose"
    # And the session started without one, the live screen saying so
    live = app.controller.live
    assert live is not None and live.order_of(live.participants[0].id) is None
    app.pass_screening()  # (issue 17: else the line says the screening is not done)
    app.advance(1)
    assert app.live_view.order_line.toolTip() == NO_ORDER_LINE
    app.leave_session()


def test_in_a_couples_session_the_order_line_and_d_follow_whose_order_it_is(
    app: RunningApp,
) -> None:
    # Given a couples session started without orders, then the first's order recorded
    ines = prescriber(app)
    app.start_session("Maya Fischer", "Jonas Berg", modality="couples", order=None)
    live = app.controller.live
    assert live is not None
    first, second = live.participants
    dosing = app.context.service.catalog.get(PROTOCOL_KEY).protocol.dosing
    entry = OrderEntry(usual_order(dosing), ines.id)
    assert live.record_order(first.id, entry) is not None
    for participant in (first, second):
        app.choose(app.live_view.participant, participant.client.full_name)
        app.baseline_by_keyboard()
    app.advance(1)
    # When the first is shown, Then the line shows their order, not in the caution colour
    app.choose(app.live_view.participant, first.client.full_name)
    line = app.live_view.order_line
    assert line.toolTip().startswith("Order: 200 mg SL") and theme.DUE not in line.styleSheet()
    # And D saves their dose as ordered
    app.dose_by_keyboard("200")
    # When the second is shown, Then the line says they have no order, in the caution colour
    app.choose(app.live_view.participant, second.client.full_name)
    assert line.toolTip() == NO_ORDER_LINE and f"color: {theme.DUE}" in line.styleSheet()
    refused: list[str] = []

    def type_the_dose(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog), describe(dialog)
        assert dialog.windowTitle() == "Initial dose — Jonas Berg"
        key(TAB)
        type_text("200")
        key(ENTER)

    def refused_for_want_of_an_order(dialog: QWidget) -> None:
        assert isinstance(dialog, DoseDialog), describe(dialog)
        refused.append(dialog.order_block.text())
        key(ESCAPE)

    # And D for them refuses the dose, naming the missing order
    with app.answering(type_the_dose, refused_for_want_of_an_order):
        app.key(Qt.Key.Key_D)
    assert refused[0].startswith("No order recorded: the prescriber gives it before the dose")
    assert [d.participant_id for d in app.doses()] == [first.id]
    app.leave_session()
