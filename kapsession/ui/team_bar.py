"""The live screen's line of who is at the keyboard and who is on the session's team.

Always in view under the header: who the entries are recorded as right now, the team (the
therapist, the monitoring clinician(s), the prescriber on site), and the two acts that change
them: switching the person at the keyboard (Ctrl+W, with their PIN) and a handover on the team
(Ctrl+Shift+W). Filled with plain text by the team controller.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from kapsession.ui import keymap


class TeamBar(QWidget):
    switch_requested = Signal()
    handover_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keyboard = QLabel()
        self.keyboard.setAccessibleName("At the keyboard")
        self.keyboard.setTextFormat(Qt.TextFormat.PlainText)
        self.switch_button = QPushButton(f"Switch person {keymap.label('switch_person')}")
        self.switch_button.setAccessibleName("Switch the person at the keyboard")
        self.switch_button.setToolTip(
            "Say who is at the keyboard (their PIN): every entry is then recorded as theirs"
        )
        self.switch_button.clicked.connect(self.switch_requested)
        self.team = QLabel()
        self.team.setObjectName("dim")
        self.team.setAccessibleName("Session team")
        self.team.setTextFormat(Qt.TextFormat.PlainText)
        self.team.setWordWrap(True)
        self.handover_button = QPushButton(f"Hand over {keymap.label('hand_over')}")
        self.handover_button.setToolTip(
            "Another therapist, monitoring clinician or prescriber takes over (their PIN)"
        )
        self.handover_button.clicked.connect(self.handover_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.keyboard)
        layout.addWidget(self.team, 1)
        layout.addWidget(self.switch_button)
        layout.addWidget(self.handover_button)

    def show_team(self, keyboard: str, team: str, *, live: bool) -> None:
        """`keyboard`: who entries are recorded as; `team`: the team as it stands."""
        self.keyboard.setText(keyboard)
        self.team.setText(team)
        self.handover_button.setEnabled(live)
