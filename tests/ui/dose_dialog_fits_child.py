"""The dose dialog at its tallest (the hold-dose block, the prescriber's override asked for a
dose outside the order), on whatever screen Qt's platform gives: run by
test_dose_dialog_fits.py with a screen of a given size; prints one JSON object: the screen's
free area, the dialog's frame, where its buttons lie, and each widget Tab reaches from the
dose field, with whether it was in view when it had the focus."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

from kapsession.domain.dose_order import Deviation, DoseCheck
from kapsession.domain.hold_dose import check_hold_dose
from kapsession.domain.protocol_file import load_protocol
from kapsession.records.people import StaffRecord
from kapsession.services.checkin_results import DoseResult
from kapsession.ui.dose_dialog import DoseDialog
from kapsession.ui.theme import apply_room_theme

PROTOCOL = Path(__file__).parents[2] / "assets" / "protocols" / "sublingual-kap-3h.toml"
NURSE = StaffRecord(uuid.uuid4(), "Ruth Okafor", "nurse", "RN", True)
PRESCRIBER = StaffRecord(uuid.uuid4(), "Ada Lee", "prescriber", "MD", True)
OUTSIDE = DoseCheck(
    deviations=(
        Deviation("order_dose", "The order is 200 mg; this dose is 450 mg."),
        Deviation("limit_max_mg", "450 mg is above the protocol's limit of 400 mg a dose."),
    )
)


def settle(app: QApplication) -> None:
    for _ in range(5):
        QTest.qWait(10)
        app.processEvents()


def rect_in(dialog: QWidget, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(dialog, QPoint(0, 0)), widget.size())


def main() -> None:
    app = QApplication(sys.argv[:1])
    apply_room_theme(app)
    protocol = load_protocol(PROTOCOL)
    dialog = DoseDialog(
        "Anna Berg",
        protocol.dosing,
        [NURSE, PRESCRIBER],
        NURSE.id,
        first_dose=True,
        now_text="14:40",
        last_weight_kg=None,
        order_text="200 mg SL · booster ≤1 × 100 mg at T+30–45 · max 300 mg — Ada Lee, MD",
        prescribers=[PRESCRIBER],
    )
    dialog.show()
    QTest.qWaitForWindowExposed(dialog, 5000)
    dialog.activateWindow()
    dialog.show_hold_dose(check_hold_dose(None, protocol.hold_dose))
    dialog.dose.setText("450")
    dialog.show_result_problems(DoseResult(order_check=OUTSIDE))
    settle(app)
    dialog.dose.setFocus()
    settle(app)
    reached = []
    viewport = dialog.body.viewport()
    for _ in range(30):
        widget = QApplication.focusWidget()
        if widget is None:
            break
        if dialog.body.isAncestorOf(widget):
            seen = rect_in(viewport, widget)
            in_view = viewport.rect().contains(seen)
        else:
            in_view = dialog.rect().contains(rect_in(dialog, widget))
        reached.append({"name": widget.accessibleName() or widget.text(), "in_view": in_view})
        if widget is dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel):
            break
        QTest.keyClick(widget, Qt.Key.Key_Tab)
        settle(app)
    available = dialog.screen().availableGeometry()
    print(
        json.dumps(
            {
                "available": available.getRect(),
                "frame": dialog.frameGeometry().getRect(),
                "dialog": dialog.rect().getRect(),
                "buttons": rect_in(dialog, dialog.buttons).getRect(),
                "overrides_shown": [
                    w.isVisible()
                    for w in (
                        dialog.hold_block,
                        dialog.order_block,
                        dialog.prescriber,
                        dialog.prescriber_pin,
                        dialog.order_reason,
                        dialog.override_reason_edit,
                    )
                ],
                "body_scrolls": dialog.body.verticalScrollBar().maximum() > 0,
                "tab": reached,
            }
        )
    )


if __name__ == "__main__":
    main()
