"""Doses that last, on the real window by keyboard (issue 16): the sublingual hold counts down
from the dose and H records spit or swallow with its time; an IV dose is an infusion that I
pauses, resumes and stops with its total, the period on the record."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QInputDialog, QMessageBox, QWidget
from support.team import usual_order
from ui_harness import START, RunningApp, describe, fill_dose, key, type_text

from kapsession.ui.formatting import local_time

BASELINE_SET = ("122", "78", "72", "98", "14", "36.6", "5", "0", "0", "0", "3")
SHOTS = Path(os.environ.get("KAPSESSION_SHOTS", "/tmp/kapsession-i16b-shots"))


def at_minute(minutes: float) -> str:
    return local_time(START + timedelta(minutes=minutes))


def dosed_at_40(
    app: RunningApp,
    protocol_key: str,
    dose: str,
    weight_kg: str = "",
    ordered_mg_per_kg: float | None = None,
) -> None:
    """A session with the protocol's usual order (`ordered_mg_per_kg`: ordered per kg
    instead), dosed by keyboard 40 minutes in."""
    order = None
    if ordered_mg_per_kg is not None:
        service = app.context.service
        changes = {"dose_mg_per_kg": ordered_mg_per_kg}
        order = usual_order(service, protocol_key, app.clock.now(), **changes).order
    app.start_session("Maya Fischer", protocol_key=protocol_key, order=order or "usual")
    app.advance(40 * 60)
    app.checkin_by_keyboard(*BASELINE_SET)
    with app.answering(fill_dose(dose, weight_kg=weight_kg)):
        app.key(Qt.Key.Key_D)
    assert app.doses(), app.live_view.failure.text()


def press_letter(letter: Qt.Key):  # -> ModalHandler
    def handler(box: QWidget) -> None:
        assert isinstance(box, QMessageBox), describe(box)
        key(letter)  # the button's letter clicks it (animated: it closes a moment later)
        for _ in range(200):
            if not box.isVisible():
                return
            QTest.qWait(10)
        raise AssertionError(f"{describe(box)} did not close on {letter.name}")

    return handler


def shot(app: RunningApp, name: str) -> None:
    """The window as it looks now, for the report (a picture, not an assertion)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    app.window.grab().save(str(SHOTS / f"{name}.png"))


def test_the_hold_counts_down_and_h_records_the_spit_with_its_time(app: RunningApp) -> None:
    # Given a sublingual session dosed at minute 40 (hold 10 minutes)
    dosed_at_40(app, "sublingual-kap-3h", "200")
    view = app.live_view
    # When 3 minutes 20 seconds pass
    app.advance(200)
    # Then the hold counts down on the live screen, with its key
    assert view.hold_button.isVisible()
    assert view.hold_button.text() == "Hold 6:40  (H)"
    shot(app, "hold-countdown")
    # When the hold time is over
    app.advance(8 * 60)
    # Then it says so, and for how long
    assert view.hold_button.text() == "Spit/swallow now  (H)"
    assert view.hold_button.objectName() == "primary"
    # When H is pressed and the question answered with S (spat out)
    with app.answering(press_letter(Qt.Key.Key_S)) as seen:
        app.key(Qt.Key.Key_H)
    # Then "spit" is recorded at the minute H was pressed, for Maya, and the countdown is gone
    assert [a.title for a in seen] == ["End of the hold — Maya Fischer"]
    (event,) = app.events("hold_outcome")
    assert event.detail["outcome"] == "spit"
    assert event.occurred_at == app.clock.now()
    assert event.participant_id == app.session().participants[0].id
    assert event.label == "Spat out after a sublingual hold of 11 min"
    assert not view.hold_button.isVisible()
    # And it is in the recent line
    assert "Spat out after a sublingual hold of 11 min" in view.recent.text()
    # And H again records nothing (the hold ended; nothing opens)
    app.key(Qt.Key.Key_H)
    assert len(app.events("hold_outcome")) == 1
    app.leave_session()


def test_w_records_a_swallow(app: RunningApp) -> None:
    dosed_at_40(app, "sublingual-kap-3h", "200")
    app.advance(10 * 60)
    with app.answering(press_letter(Qt.Key.Key_W)):
        app.key(Qt.Key.Key_H)
    (event,) = app.events("hold_outcome")
    assert (event.detail["outcome"], event.occurred_at) == ("swallow", app.clock.now())
    app.leave_session()


def type_total(total: str):  # -> ModalHandler
    def handler(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog), describe(dialog)
        key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        type_text(total)
        key(Qt.Key.Key_Return)

    return handler


def test_an_infusion_is_paused_resumed_and_stopped_by_keyboard(app: RunningApp) -> None:
    # Given an IV session whose infusion started with the dose at minute 40 (70 mg)
    dosed_at_40(app, "iv-infusion", "70", weight_kg="70", ordered_mg_per_kg=1)  # 1 mg/kg
    view = app.live_view
    app.advance(20 * 60)
    assert view.infusion_button.text() == "Infusion 20:00  (I)"
    # When I is pressed and P (pause) chosen, and 3 minutes later I and R (resume)
    with app.answering(press_letter(Qt.Key.Key_P)):
        app.key(Qt.Key.Key_I)
    app.advance(3 * 60)
    assert view.infusion_button.text() == "Infusion paused 3:00  (I)"
    shot(app, "infusion-paused")
    with app.answering(press_letter(Qt.Key.Key_R)):
        app.key(Qt.Key.Key_I)
    # And 20 minutes later I, S (stop) and the total given typed
    app.advance(20 * 60)
    assert view.infusion_button.text() == "Infusion 40:00  (I)"
    with app.answering(press_letter(Qt.Key.Key_S), type_total("65")) as seen:
        app.key(Qt.Key.Key_I)
    # Then the pause, the resumption and the stop are on the record, the stop with the period
    assert [a.title for a in seen] == [
        "IV infusion — Maya Fischer",
        "Infusion stopped — Maya Fischer",
    ]
    assert [len(app.events(k)) for k in ("infusion_pause", "infusion_resume")] == [1, 1]
    (stop,) = app.events("infusion_stop")
    assert stop.occurred_at == app.clock.now()
    assert stop.detail["total_mg"] == 65
    assert (stop.detail["running_min"], stop.detail["paused_min"]) == (40, 3)
    assert stop.label == (
        f"IV infusion {at_minute(40)}–{at_minute(83)} (40 min, paused 3 min), total 65 mg "
        "(mean 97.5 mg/h)"
    )
    # And the button is gone; the recent line shows the period
    assert not view.infusion_button.isVisible()
    assert f"IV infusion {at_minute(40)}–{at_minute(83)}" in view.recent.text()
    shot(app, "infusion-stopped")
    app.leave_session()


def test_h_and_i_in_the_marker_box_are_letters(app: RunningApp) -> None:
    # Given a sublingual dose being held
    dosed_at_40(app, "sublingual-kap-3h", "200")
    # When M puts the keys in the marker box and "Hi" is typed
    app.key(Qt.Key.Key_M)
    type_text("Hi")
    # Then they are letters of the marker, no question opens and nothing is recorded
    assert app.live_view.marker.text() == "Hi"
    assert app.events("hold_outcome") == []
    app.leave_session()
