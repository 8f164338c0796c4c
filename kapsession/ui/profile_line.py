"""The client's profile on the live screen (issue 17): one compact line on the staff's screen
under the team, for the participant shown — allergies, weight with its date, the emergency
contact and the escort for the day — "not recorded" where a fact is missing. Never on a
screen the client faces (the client's questionnaire screen shows none of it).

Allergies come first and in the accent colour when there are any: a line too long for the
window is cut at its end (the escort first), never at the allergies, and the whole of it is in
the tip.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kapsession.domain.client_profile import ClientProfile
from kapsession.ui import theme

NOT_RECORDED = "not recorded"
JOIN = "   ·   "


@dataclass(frozen=True)
class ProfileFact:
    """One fact of the profile line (allergies, escort …)."""

    label: str  # "Allergies"
    text: str  # "penicillin (rash)", or NOT_RECORDED
    warn: bool = False  # shown in the accent colour (allergies recorded)

    @property
    def missing(self) -> bool:
        return self.text == NOT_RECORDED

    def line(self) -> str:
        return f"{self.label}: {self.text}"


def profile_facts(profile: ClientProfile, escort: str = "") -> tuple[ProfileFact, ...]:
    """What the live screen shows of a profile, in its order."""
    if profile.allergies is None:
        allergies = ProfileFact("Allergies", NOT_RECORDED)
    elif not profile.allergies:
        allergies = ProfileFact("Allergies", "no known allergies")
    else:
        named = [
            f"{a.substance} ({a.reaction})" if a.reaction else a.substance
            for a in profile.allergies
        ]
        allergies = ProfileFact("Allergies", ", ".join(named), warn=True)
    if profile.weight_kg is None:
        weight = ProfileFact("Weight", NOT_RECORDED)
    else:
        when = (
            f" on {profile.weight_measured_on.isoformat()}"
            if profile.weight_measured_on is not None
            else " (date not recorded)"
        )
        weight = ProfileFact("Weight", f"{profile.weight_kg:g} kg{when}")
    contact = profile.emergency_contact
    if contact.name or contact.phone:
        parts = [contact.name or "name not recorded"]
        if contact.relationship:
            parts[0] += f" ({contact.relationship})"
        parts.append(contact.phone or "phone not recorded")
        emergency = ProfileFact("Emergency contact", " ".join(parts))
    else:
        emergency = ProfileFact("Emergency contact", NOT_RECORDED)
    return (
        allergies,
        weight,
        emergency,
        ProfileFact("Escort today", escort or NOT_RECORDED),
    )


class _FactsRow(QWidget):
    """Facts on one line: as many as fit whole, the next cut short, the rest left out."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.labels: list[QLabel] = []
        self.facts: tuple[ProfileFact, ...] = ()
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._layout.addStretch(1)

    def show_facts(self, facts: tuple[ProfileFact, ...]) -> None:
        self.facts = facts
        while len(self.labels) < len(facts):
            label = QLabel()
            self._layout.insertWidget(len(self.labels), label)
            self.labels.append(label)
        for label, fact in zip(self.labels, facts, strict=False):
            name = "warn" if fact.warn else "dim" if fact.missing else ""
            if label.objectName() != name:
                label.setObjectName(name)
                label.style().unpolish(label)
                label.style().polish(label)
        self.fit()

    def fit(self) -> None:
        room = max(self.width(), 1)
        used = 0
        for index, label in enumerate(self.labels):
            if index >= len(self.facts) or used >= room:
                label.hide()
                continue
            metrics = label.fontMetrics()
            text = (JOIN if index else "") + self.facts[index].line()
            width = metrics.horizontalAdvance(text)
            if used + width > room:
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room - used)
                width = metrics.horizontalAdvance(text)
            label.setText(text)
            label.setFixedWidth(width)
            label.setVisible(bool(text))
            used += width

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()


class ProfileLine(QWidget):
    """The participant's allergies, weight, emergency contact and escort: on one line under
    the team (an individual session), or on two lines beside the last vitals (couples and
    group, where the screen has no height to spare); all of it in the tip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Client profile")
        self.setStyleSheet(
            f"QLabel {{ font-size: 14px; color: {theme.TEXT}; }}"
            f"QLabel#warn {{ color: {theme.DUE}; }}"
            f"QLabel#dim {{ color: {theme.TEXT_DIM}; }}"
        )
        self.who = QLabel()
        self.who.setObjectName("dim")
        self.lines = [_FactsRow(), _FactsRow()]
        self.lines[1].hide()
        self._rows = 1
        stacked = QVBoxLayout()
        stacked.setContentsMargins(0, 0, 0, 0)
        stacked.setSpacing(0)
        for row in self.lines:
            stacked.addWidget(row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.who, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(stacked, 1)
        self.facts: tuple[ProfileFact, ...] = ()
        self.hide()  # until a session's participant is shown

    @property
    def labels(self) -> list[QLabel]:
        return [label for row in self.lines for label in row.labels]

    def set_rows(self, rows: int) -> None:
        """One line (under the team) or two (beside the last vitals)."""
        self._rows = rows
        self.lines[1].setVisible(rows > 1)
        self._show_facts()

    def show_profile(self, name: str, facts: tuple[ProfileFact, ...]) -> None:
        """`name`: the participant's, in a couples or group session ("" for one alone)."""
        self.facts = facts
        self.who.setText(f"{name}:" if name else "")
        self.who.setVisible(bool(name))
        whole = self.plain_text()
        self.setToolTip(f"{name}: {whole}" if name else whole)
        self.setAccessibleDescription(whole)
        self.show()
        self._show_facts()

    def _show_facts(self) -> None:
        if self._rows > 1:
            half = (len(self.facts) + 1) // 2
            self.lines[0].show_facts(self.facts[:half])
            self.lines[1].show_facts(self.facts[half:])
        else:
            self.lines[0].show_facts(self.facts)
            self.lines[1].show_facts(())

    def plain_text(self) -> str:
        """The line as words (its labels and values), whatever is cut from view."""
        return JOIN.join(fact.line() for fact in self.facts)

    def shown_text(self) -> str:
        """What is on screen of it now, line by line."""
        return "\n".join(
            "".join(label.text() for label in row.labels if label.isVisibleTo(self))
            for row in self.lines
            if row.isVisibleTo(self)
        )
