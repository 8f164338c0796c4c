"""Alerts followed up on the real window, by keyboard: an alert puts a recheck in the check-ins
and a reading of its measure clears it; A asks what was done, for each action; the last vitals
tile shows each value's age and its caution or alert state, in words, large enough to read from
across the room, inside the window at 1366x768 and 1280x720."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot
from ui_harness import START, RunningApp, fill_dose, focus_widget, key, type_text

from kapsession.domain.alert_followup import AlertAction
from kapsession.ui import theme
from kapsession.ui.ack_dialog import AcknowledgeDialog
from kapsession.ui.formatting import local_time
from kapsession.ui.last_vitals import VALUE_PX, LastVitalsTile, VitalCell
from kapsession.ui.readings_table import ALERT_ROLE

ENTER, TAB = Qt.Key.Key_Return, Qt.Key.Key_Tab
NURSE = "Ruth Okafor"


def at_minute(minutes: float) -> str:
    return local_time(START + timedelta(minutes=minutes))


def dosed_at_40(app: RunningApp, *names: str, modality: str = "individual") -> None:
    """A session 40 minutes in, the nurse its monitoring clinician: a keyboard baseline, then
    D and 200 mg."""
    app.add_staff(NURSE)
    app.start_session(*names, modality=modality)
    app.advance(40 * 60)
    app.checkin_by_keyboard("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")
    with app.answering(fill_dose("200")):
        app.key(Qt.Key.Key_D)


def checkin_lines(app: RunningApp) -> list[str]:
    return [line.text() for line in app.live_view.checkin_lines if line.isVisible()]


def offers_a_recheck(app: RunningApp) -> bool:
    """Whether the check-in form's list offers a recheck (it offers the protocol's check-ins)."""
    offered = app.live_view.checkin_form.checkin
    return any(offered.itemText(i).startswith("Recheck") for i in range(offered.count()))


def cells(app: RunningApp) -> dict[str, VitalCell]:
    return {cell.label.text(): cell for cell in app.live_view.last_vitals.shown()}


def test_an_alert_puts_a_recheck_in_the_check_ins_and_a_reading_clears_it(
    app: RunningApp,
) -> None:
    # Given a dosed session at T+15 (minute 55)
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    # When T+15 is saved by keyboard with 190/115 (rest confirmed as not taken)
    app.checkin_by_keyboard("190", "115", "96", "97")
    # Then a BP recheck is among the check-ins, due 5 minutes after the alert
    recheck = "Recheck BP (alert 190/115)"
    assert f"{recheck} — in 5 min ({at_minute(60)})" in checkin_lines(app)
    # And the check-in form still offers only the protocol's check-ins
    assert not offers_a_recheck(app)
    # When its time comes, Then it is due now, in the due colour (the form still as it was)
    app.advance(5 * 60)
    line = next(label for label in app.live_view.checkin_lines if label.text().startswith(recheck))
    assert line.text() == f"{recheck} — due now"
    assert theme.DUE in line.styleSheet()
    assert not offers_a_recheck(app)
    # When a blood pressure alone is typed (C, 150 Tab 92, Enter; an unscheduled reading)
    app.checkin_by_keyboard("150", "92")
    (*_, latest) = app.observations()
    assert (latest.values["systolic_mmhg"], latest.checkin_key) == (150, None)
    # Then the recheck is done: it leaves the lines of what is due
    assert not any(text.startswith("Recheck") for text in checkin_lines(app))
    app.leave_session()


def choose_and_record(
    number: str, *, text: str = "", first_enter: bool = False, recheck: str = ""
) -> Callable:
    """An answer to the acknowledgement dialog by keyboard: the number of the action, Tab and
    the text when there is one, Enter. `first_enter`: Enter once before the text (refused).
    `recheck`: "Rechecked" takes the recheck's BP, typed in its field (Tab from the choice)."""

    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, AcknowledgeDialog)
        assert focus_widget() is dialog.choice
        type_text(number)
        if recheck:
            key(TAB)
            assert focus_widget() is dialog.recheck_fields["bp"]
            type_text(recheck)
        if first_enter:
            key(ENTER)
            assert dialog.isVisible() and dialog.problem.isVisible()
            handler.problem = dialog.problem.text()  # type: ignore[attr-defined]
            assert focus_widget() is dialog.text  # the keys go where the answer is missing
        elif text:
            key(TAB)
            assert focus_widget() is dialog.text
        if text:
            type_text(text)
        key(ENTER)

    return handler


@pytest.mark.parametrize(
    ("number", "text", "action", "shown"),
    [
        ("1", "", AlertAction.RECHECKED, "Rechecked: recheck saved as a reading at"),
        ("2", "Clonidine 0.1 mg", AlertAction.INTERVENTION, "Intervention: Clonidine 0.1 mg"),
        ("3", "Dr Haas", AlertAction.PRESCRIBER_INFORMED, "Prescriber informed: Dr Haas"),
    ],
)
def test_a_records_what_was_done_by_keyboard(
    app: RunningApp, number: str, text: str, action: AlertAction, shown: str
) -> None:
    # Given an open alert after SBP 186 at T+15
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("186", "96", "96", "97")
    assert app.live_view.alerts.isVisible()
    # When A is pressed and the action chosen by its number (with its text after Tab; a
    # recheck's BP), Enter
    recheck = "172/94" if action is AlertAction.RECHECKED else ""
    with app.answering(choose_and_record(number, text=text, recheck=recheck)) as seen:
        app.key(Qt.Key.Key_A)
    # Then the dialog named the participant
    assert [a.title for a in seen] == ["Acknowledge alert — Maya Fischer"]
    # And the acknowledgement is stored with what was done, and the banner goes
    (alert,) = app.alerts()
    if recheck:  # the comment names the recheck saved as a reading
        text = f"recheck saved as a reading at {at_minute(55)}: BP 172/94"
        shown = f"Rechecked: {text}"
    assert (alert.acknowledgement_action, alert.acknowledgement_comment) == (action, text)
    assert not app.live_view.alerts.isVisible()
    assert app.live_view.saved.text().endswith(f"— saved. {shown}.")
    # And the readings table shows it beside the alert
    app.key(Qt.Key.Key_R)
    table = app.live_view.readings
    texts = [
        message
        for r in range(table.model().rowCount())
        for c in range(table.model().columnCount())
        for message in table.model().index(r, c).data(ALERT_ROLE) or []
    ]
    acknowledged = f"— acknowledged {at_minute(55)} by {NURSE}: {shown}"
    assert f"Systolic BP 186 mmHg — at or above 180 {acknowledged}" in texts, texts
    app.leave_session()


def test_no_action_needs_the_reason_and_both_alerts_of_a_reading_are_acknowledged(
    app: RunningApp,
) -> None:
    # Given 190/115: a systolic and a diastolic alert from one reading
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("190", "115", "96", "97")
    assert len(app.alerts()) == 2
    # When A, 4 (no action) and Enter without a reason
    answer = choose_and_record("4", text="Known white-coat rise, calm", first_enter=True)
    with app.answering(answer) as seen:
        app.key(Qt.Key.Key_A)
    # Then the dialog said the reason is needed and nothing was stored until it was written
    assert "Write why no action was taken" in answer.problem  # type: ignore[attr-defined]
    assert [a.title for a in seen] == ["Acknowledge alert — Maya Fischer"]
    # And both alerts of the reading are acknowledged with the reason
    assert [(a.acknowledgement_action, a.acknowledgement_comment) for a in app.alerts()] == [
        (AlertAction.NO_ACTION, "Known white-coat rise, calm")
    ] * 2
    assert not app.live_view.alerts.isVisible()
    app.leave_session()


def test_escape_leaves_the_alert_open(app: RunningApp) -> None:
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("186", "96", "96", "97")
    with app.answering(lambda _dialog: key(Qt.Key.Key_Escape)):
        app.key(Qt.Key.Key_A)
    (alert,) = app.alerts()
    assert alert.is_open and app.live_view.alerts.isVisible()
    app.leave_session()


def _inside(widget: QWidget, window: QWidget) -> bool:
    """Wholly in the window and not clipped by the scrolling screen around it."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    bottom_right = widget.mapTo(window, widget.rect().bottomRight())
    in_window = window.rect().contains(top_left) and window.rect().contains(bottom_right)
    return in_window and widget.visibleRegion().boundingRect() == widget.rect()


def _not_cut(label: QLabel) -> bool:
    return label.width() >= label.sizeHint().width()


@pytest.mark.parametrize("size", [(1366, 768), (1280, 720)])
def test_the_tile_shows_each_values_age_and_its_caution_or_alert_state(
    app: RunningApp, size: tuple[int, int]
) -> None:
    # Given a session at T+15 on a laptop screen of this size
    app.window.resize(*size)
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    tile: LastVitalsTile = app.live_view.last_vitals
    assert cells(app)["BP"].text() == "BP 122/78 mmHg 15 min ago"  # the baseline
    # When a reading of 128/82, HR 104 (over the caution at 100), SpO2 95 is saved
    app.checkin_by_keyboard("128", "82", "104", "95")
    # Then the tile shows the new values, HR amber and saying CAUTION
    shown = cells(app)
    assert shown["BP"].text() == "BP 128/82 mmHg just now"
    assert shown["HR"].text() == "HR 104 bpm CAUTION just now"
    assert shown["HR"].value.property("state") == "caution"
    assert shown["SpO2"].text() == "SpO2 95 % just now"
    assert shown["RR"].text() == "RR 14 /min 15 min ago"  # from the baseline
    # When 4 minutes pass, Then the ages move on
    app.advance(4 * 60)
    assert cells(app)["HR"].text() == "HR 104 bpm CAUTION 4 min ago"
    # When 186/112 is saved, Then BP is brick and says ALERT
    app.checkin_by_keyboard("186", "112")
    bp = cells(app)["BP"]
    assert bp.text() == "BP 186/112 mmHg ALERT just now"
    assert bp.value.property("state") == "alert"
    assert bp.state.isVisible() and bp.state.text() == "ALERT"
    # And the values are at least 20 px, the tile inside the window, nothing cut
    assert VALUE_PX >= 20
    for cell in tile.shown():
        assert QFontInfo(cell.value.font()).pixelSize() >= 20, cell.text()
        assert _inside(cell, app.window), (cell.text(), size)
        for label in (cell.label, cell.value, cell.unit, cell.state, cell.age):
            if label.isVisible():
                assert _not_cut(label), (label.text(), size)
    assert tile.width() <= app.window.width()
    app.leave_session()


def test_in_a_couples_session_the_tile_follows_the_participant_shown(app: RunningApp) -> None:
    # Given a couples session, both dosed
    app.add_staff(NURSE)
    app.start_session("Maya Fischer", "Jonas Weber", modality="couples")
    view = app.live_view
    app.advance(10 * 60)
    # When Maya's reading (HR 131, an alert) and Jonas's (HR 80) are saved
    view.participant.setCurrentIndex(0)
    app.checkin_by_keyboard("", "", "131")
    view.participant.setCurrentIndex(1)
    app.checkin_by_keyboard("", "", "80")
    # Then the tile names Jonas and shows his value alone
    assert view.last_vitals.whose.text() == "Jonas Weber"
    assert [c.text() for c in view.last_vitals.shown()] == ["HR 80 bpm just now"]
    # When Maya is shown again, Then her HR is there, in alert
    view.participant.setCurrentIndex(0)
    assert view.last_vitals.whose.text() == "Maya Fischer"
    assert [c.text() for c in view.last_vitals.shown()] == ["HR 131 bpm ALERT just now"]
    # And her HR recheck is among her check-ins, not offered on the form
    assert any(t.startswith("Recheck HR (alert 131 bpm)") for t in checkin_lines(app))
    assert not offers_a_recheck(app)
    app.leave_session()


def test_the_arrow_keys_choose_the_action_too(qtbot: QtBot) -> None:
    # Given the dialog for Maya's alert, the keys on the choice, nothing chosen yet
    dialog = AcknowledgeDialog("Maya Fischer", ["14:55  Systolic BP 186 mmHg — at or above 180"])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: focus_widget() is dialog.choice)
    assert dialog.value() == (None, "")
    # When Down is pressed three times, Then the third action is chosen and the text asks for it
    for _ in range(3):
        key(Qt.Key.Key_Down)
    assert dialog.value() == (AlertAction.PRESCRIBER_INFORMED, "")
    assert dialog.text_label.text() == "Who was told, and what they said (optional)"
    # When Up is pressed, Then the intervention, whose text is required
    key(Qt.Key.Key_Up)
    assert dialog.value()[0] is AlertAction.INTERVENTION
    assert dialog.text_label.text() == "What was given or done (required)"
    dialog.reject()


def test_a_recheck_typed_in_the_acknowledgement_is_a_reading_and_its_rules_apply(
    app: RunningApp,
) -> None:
    # Given an open alert after SBP 186 at T+15
    dosed_at_40(app, "Maya Fischer")
    app.advance(15 * 60)
    app.checkin_by_keyboard("186", "96", "96", "97")
    before = len(app.observations())

    # When "Rechecked" is chosen and Enter pressed without the recheck's BP
    def without_values(dialog: QWidget) -> None:
        assert isinstance(dialog, AcknowledgeDialog)
        type_text("1")
        key(ENTER)
        # Then it asks for the BP, in its field; nothing is saved yet
        assert dialog.isVisible() and "BP" in dialog.problem.text()
        assert focus_widget() is dialog.recheck_fields["bp"]
        assert len(app.observations()) == before
        # When the recheck's BP, still high, and its HR are typed, Enter
        type_text("184/98")
        key(TAB)
        assert focus_widget() is dialog.recheck_fields["heart_rate_bpm"]
        type_text("88")
        key(ENTER)

    with app.answering(without_values):
        app.key(Qt.Key.Key_A)
    # Then the recheck is a reading of its own: unscheduled, for Maya, with its values
    (*_, recheck) = app.observations()
    assert len(app.observations()) == before + 1
    assert recheck.checkin_key is None and recheck.values["comment"] == "Recheck after an alert"
    assert (recheck.values["systolic_mmhg"], recheck.values["heart_rate_bpm"]) == (184, 88)
    # And the acknowledgement names it
    (first,) = [a for a in app.alerts() if a.observation_id != recheck.id]
    assert first.acknowledgement_action == AlertAction.RECHECKED
    assert first.acknowledgement_comment.endswith(": BP 184/98 · HR 88")
    # And the protocol's alert rules applied to it: SBP 184 raised an alert of its own
    assert [a.is_open for a in app.alerts() if a.observation_id == recheck.id] == [True]
    app.leave_session()
