"""Who is at the keyboard, and a handover on the session's team: each confirmed by the PIN of
the person who steps in.

Both ask with a signal (`switch_requested`, `handover_requested`), answered by
`answer(outcome)` before `emit` returns, as the signing dialogs are; a person without a PIN has
not signed in yet, and the dialog says how they set their own (nothing is set here). Enter
confirms, Escape cancels.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QPushButton, QWidget

from kapsession.domain.roles import TeamRole
from kapsession.records.notes import SignOutcome
from kapsession.records.people import StaffRecord
from kapsession.ui.sign_dialog import _PinDialog


class _StepInDialog(_PinDialog):
    """The PIN dialog with its words for stepping in rather than signing."""

    def __init__(
        self,
        title: str,
        explanation: str,
        who_label: str,
        staff: Sequence[StaffRecord],
        chosen: uuid.UUID | None,
        with_pin: Collection[uuid.UUID],
        confirm_text: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(title, staff, chosen, with_pin, confirm_text, parent)
        heading = QLabel(title)
        heading.setObjectName("dialogTitle")
        self.body.addWidget(heading)
        about = QLabel(explanation)
        about.setObjectName("dim")
        about.setWordWrap(True)
        self.body.addWidget(about)
        self.signer.setAccessibleName(who_label)
        label = self.form.labelForField(self.signer)
        if isinstance(label, QLabel):
            label.setText(who_label)
        self.footer.setText(
            "The PIN is that person's own: who stepped in, and when, is kept in the audit trail."
        )


class SwitchPersonDialog(_StepInDialog):
    """Ctrl+W: who is at the keyboard from now on (their PIN), or back to the team's names."""

    switch_requested = Signal(object, str)  # staff id, PIN; answered by answer()

    def __init__(
        self,
        staff: Sequence[StaffRecord],
        at_keyboard: uuid.UUID | None,
        with_pin: Collection[uuid.UUID],
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            "Who is at the keyboard",
            "From now on every entry made here is recorded as the person chosen, until someone "
            "else switches in. Without a switch, the nurse's entries go to the monitoring "
            "clinician and the notes to the therapist.",
            "Who is at the keyboard",
            staff,
            at_keyboard,
            with_pin,
            "Switch",
            parent,
        )
        self.back_to_team = False  # chosen: entries go to the team's names again
        self.team_button = QPushButton("Back to the team's names")
        self.team_button.setAccessibleName("Back to the team's names")
        self.team_button.clicked.connect(self._choose_team)
        self.team_button.setVisible(at_keyboard is not None)
        self.body.addWidget(self.team_button)
        self._chain_tabs()

    def _choose_team(self) -> None:
        self.back_to_team = True
        QDialog.accept(self)

    def _submit(self, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        self.switch_requested.emit(staff_id, pin)
        return self._asked()


class HandoverDialog(_StepInDialog):
    """Ctrl+Shift+W: another staff member takes a place on the session's team (their PIN)."""

    handover_requested = Signal(object, str, str, object)  # staff id, PIN, place, participant

    def __init__(
        self,
        staff: Sequence[StaffRecord],
        places: Sequence[tuple[str, TeamRole, uuid.UUID | None]],
        with_pin: Collection[uuid.UUID],
        *,
        parent: QWidget | None = None,
    ) -> None:
        """`places`: (what the list says, the place, the participant or None for everyone)."""
        super().__init__(
            "Hand over on the team",
            "The person taking over confirms with their own PIN. The handover is recorded with "
            "who and when, and from then on the team shown, the signatures it allows and the "
            "entries it is given change with it.",
            "Who takes over",
            staff,
            None,
            with_pin,
            "Take over",
            parent,
        )
        self.place = QComboBox()
        self.place.setAccessibleName("Place on the team")
        for text, place, participant in places:
            self.place.addItem(text, (place, participant))
        self.form.insertRow(0, "Place on the team", self.place)
        self._chain_tabs(self.place)

    def chosen_place(self) -> tuple[TeamRole, uuid.UUID | None]:
        place, participant = self.place.currentData()
        return place, participant

    def _submit(self, staff_id: uuid.UUID, pin: str) -> SignOutcome:
        place, participant = self.chosen_place()
        self.handover_requested.emit(staff_id, pin, place.value, participant)
        return self._asked()
