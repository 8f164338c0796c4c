"""Small forms: a new client, a staff member, a new session. They validate and emit values;
the controller saves them."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules, role_list
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.roles import ROLE_NAMES, TeamRole
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.records.protocols import ProtocolChoice
from kapsession.ui.order_fields import OrderFields

ROLES = tuple((role.value, name) for role, name in ROLE_NAMES.items())  # the staff dialog's


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.button(QDialogButtonBox.StandardButton.Ok).setObjectName("primary")
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


def fit_height(dialog: QDialog, scrolled: QScrollArea | None = None) -> None:
    """Grow the dialog to show every wrapped line: Qt sizes a window without asking its
    word-wrapped labels how tall they are at the window's width. With `scrolled` (the part
    that scrolls when the screen is too short), as tall as what it holds, at most the screen."""
    layout = dialog.layout()
    if layout is None:
        return
    layout.activate()
    height = layout.totalHeightForWidth(dialog.width())
    if height < 0:  # nothing in the layout wraps: its height does not depend on the width
        height = layout.totalSizeHint().height()
    inner = scrolled.widget() if scrolled is not None else None
    if scrolled is not None and inner is not None:  # what it holds, unscrolled
        wanted = inner.heightForWidth(scrolled.viewport().width())
        wanted = wanted if wanted > 0 else inner.sizeHint().height()
        height += max(0, wanted - scrolled.sizeHint().height())
        screen = dialog.screen()
        if screen is not None:
            height = min(height, screen.availableGeometry().height() - 40)
    if height > dialog.height():
        dialog.resize(dialog.width(), height)
        _keep_on_screen(dialog)


def _keep_on_screen(dialog: QDialog) -> None:
    """A dialog grown downwards past the screen's bottom edge moves up, its top kept on it."""
    screen = dialog.screen()
    if screen is None or not dialog.isVisible():
        return
    available = screen.availableGeometry()
    below = dialog.frameGeometry().bottom() - available.bottom()
    if below > 0:
        dialog.move(dialog.x(), max(available.top(), dialog.y() - below))


@dataclass(frozen=True)
class NewClient:
    given_name: str
    family_name: str
    date_of_birth: date | None
    record_number: str


class ClientDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New client")
        self.given = QLineEdit()
        self.family = QLineEdit()
        self.birth = QLineEdit()
        self.birth.setPlaceholderText("YYYY-MM-DD (optional)")
        self.number = QLineEdit()
        self.number.setPlaceholderText("clinic record number (optional)")
        form = QFormLayout()
        form.addRow("First name", self.given)
        form.addRow("Last name", self.family)
        form.addRow("Date of birth", self.birth)
        form.addRow("Record number", self.number)
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(_buttons(self, "Save client"))

    def value(self) -> NewClient | None:
        """The entered client, or None with the problem shown."""
        given, family = self.given.text().strip(), self.family.text().strip()
        if not given or not family:
            return self._fail("Enter the client's first and last name.")
        birth_text = self.birth.text().strip()
        birth = None
        if birth_text:
            parsed = QDate.fromString(birth_text, "yyyy-MM-dd")
            if not parsed.isValid():
                return self._fail("Write the date of birth as YYYY-MM-DD, e.g. 1984-03-02.")
            birth = date(parsed.year(), parsed.month(), parsed.day())
            if birth > date.today() or birth.year < 1900:
                return self._fail("That date of birth is not possible; check it.")
        return NewClient(given, family, birth, self.number.text().strip())

    def _fail(self, message: str) -> NewClient | None:
        """Show what is wrong; there is no value to return."""
        self.problem.setText(message)
        self.problem.show()
        return None

    def accept(self) -> None:
        if self.value() is not None:
            super().accept()


class StaffDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add staff member")
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Dr. Ruth Okafor")
        self.role = QComboBox()
        for key, label in ROLES:
            self.role.addItem(label, key)
        self.credentials = QLineEdit()
        self.credentials.setPlaceholderText("e.g. PsyD, RN, NP (optional)")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        form.addRow("Credentials", self.credentials)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(_buttons(self, "Add"))

    def accept(self) -> None:
        if not self.name.text().strip():
            QMessageBox.information(self, "Add staff member", "Enter the staff member's name.")
            return
        super().accept()


@dataclass(frozen=True)
class NewSession:
    protocol_key: str
    modality: str
    client_ids: tuple[uuid.UUID, ...]
    room: str
    therapist_id: uuid.UUID | None
    nurse_id: uuid.UUID | None  # the monitoring clinician (of everyone but `monitors`' clients)
    prescriber_id: uuid.UUID | None = None
    monitors: dict[uuid.UUID, uuid.UUID] | None = None  # client id -> their own monitoring
    order: DoseOrder | None = None  # the prescriber's order (issue 16), for each participant
    ordered_by: uuid.UUID | None = None
    # issue 17: the dosing session an integration session follows (the first client's), and
    # whether the order is the course's standing order as offered
    follows_session_id: uuid.UUID | None = None
    order_from_plan: bool = False


class NewSessionDialog(QDialog):
    """Protocol, modality, participants, room and the team for a session that starts now: the
    therapist and the monitoring clinician (one for all, or one per participant), and the
    prescriber on site if there is one. Each list offers the staff the clinic's role rules allow
    in that place."""

    def __init__(
        self,
        protocols: list[ProtocolChoice],
        clients: list[ClientRecord],
        staff: list[StaffRecord],
        first_client: uuid.UUID | None,
        room: str,
        parent: QWidget | None = None,
        roles: RoleRules = DEFAULT_ROLE_RULES,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start a session")
        self.setMinimumWidth(560)
        self.protocol = QComboBox()
        for choice in protocols:
            self.protocol.addItem(choice.protocol.name, choice.key)
            self.protocol.setItemData(
                self.protocol.count() - 1, choice.protocol.description, Qt.ItemDataRole.ToolTipRole
            )
        self.description = QLabel()
        self.description.setObjectName("dim")
        self.description.setWordWrap(True)
        self.protocol.currentIndexChanged.connect(self._show_description)
        self._protocols = protocols
        self.modality = QComboBox()
        for key, label in (
            ("individual", "Individual"),
            ("couples", "Couples"),
            ("group", "Group"),
        ):
            self.modality.addItem(label, key)
        self.clients = QListWidget()
        self.clients.setSelectionMode(QListWidget.SelectionMode.MultiSelection)
        for client in clients:
            item = QListWidgetItem(client.full_name)
            item.setData(Qt.ItemDataRole.UserRole, client.id)
            self.clients.addItem(item)
            if client.id == first_client:
                item.setSelected(True)
                self.clients.setCurrentItem(item)
        self.room = QLineEdit(room)
        self._roles = roles
        self._staff = staff
        self.therapist = self._staff_combo(staff, roles, TeamRole.THERAPIST, "therapist")
        self.therapist.setAccessibleName("Therapist")
        self.nurse = self._staff_combo(staff, roles, TeamRole.MONITORING, "nurse")
        self.nurse.setAccessibleName("Monitoring clinician")
        self.prescriber = self._staff_combo(staff, roles, TeamRole.PRESCRIBER, None)
        self.prescriber.setItemText(0, "— none —")
        self.prescriber.setAccessibleName("Prescriber on site")
        self.per_participant = QCheckBox("One for each client")
        self.per_participant.setAccessibleName("Monitoring per participant")
        self.per_participant.toggled.connect(self._show_monitors)
        self.monitors_form = QFormLayout()
        self._monitor_combos: dict[uuid.UUID, tuple[str, QComboBox]] = {}
        self.modality.currentIndexChanged.connect(self._show_monitors)
        self.clients.itemSelectionChanged.connect(self._show_monitors)
        self.order = OrderFields(
            [s for s in staff if roles.may(TeamRole.PRESCRIBER, s.role)]
        )  # issue 17: the course plan's order will prefill it
        self.prescriber.currentIndexChanged.connect(
            lambda _i: self.order.follow_prescriber(self.prescriber.currentData())
        )
        self.protocol.currentIndexChanged.connect(self._show_order)
        form = QFormLayout()
        form.addRow("Protocol", self.protocol)
        form.addRow("", self.description)
        form.addRow("Modality", self.modality)
        form.addRow("Clients", self.clients)
        form.addRow("Room", self.room)
        form.addRow("Therapist", self.therapist)
        form.addRow("Monitoring clinician", self.nurse)
        form.addRow("", self.per_participant)
        form.addRow(self.monitors_form)
        form.addRow("Prescriber on site", self.prescriber)
        form.addRow("Order", self.order)
        # issue 17: which dosing session an integration session follows (`offer_course`)
        self.follows = QComboBox()
        self.follows.setAccessibleName("Follows the dosing session")
        form.addRow("Follows", self.follows)
        self._form = form
        self._plan_order: tuple[DoseOrder, uuid.UUID] | None = None
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.hide()
        note = QLabel("The session clock starts when you press Start.")
        note.setObjectName("dim")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(note)
        layout.addWidget(_buttons(self, "Start session"))
        self._show_description()
        self._show_monitors()
        self._show_order()

    def _show_order(self) -> None:
        """The chosen protocol's usual order, prefilled (the course's standing order when one
        was offered and fits it); no order for a session without a dose (issue 17)."""
        index = self.protocol.currentIndex()
        if not 0 <= index < len(self._protocols):
            return
        protocol = self._protocols[index].protocol
        self._form.setRowVisible(self.order, protocol.gives_dose)
        self._form.setRowVisible(self.follows, protocol.session_type.value == "integration")
        if not protocol.gives_dose:
            return
        self.order.set_protocol(protocol.dosing)
        plan = self._plan_order
        dosing = protocol.dosing
        if plan is not None and (plan[0].medication, plan[0].route) == (
            dosing.medication,
            dosing.route,
        ):
            self.order.set_order(*plan)

    def offer_course(
        self,
        protocol_key: str | None,
        *,
        order: tuple[DoseOrder, uuid.UUID] | None = None,
        dosing_sessions: list[tuple[uuid.UUID, str]] | None = None,
        follows: uuid.UUID | None = None,
    ) -> None:
        """Issue 17, "next in course": its template chosen, the course's standing order offered
        as the order (still confirmed by who ordered it), and the client's dosing sessions an
        integration session may follow, `follows` chosen."""
        self._plan_order = order
        self.follows.clear()
        for session_id, label in dosing_sessions or []:
            self.follows.addItem(label, session_id)
        if follows is not None:
            self.follows.setCurrentIndex(max(0, self.follows.findData(follows)))
        self.choose_protocol(protocol_key)
        self._show_order()

    def choose_protocol(self, key: str | None) -> None:
        """Start on the protocol `key` (the client's last one), if it is offered."""
        index = -1 if key is None else self.protocol.findData(key)
        if index >= 0:
            self.protocol.setCurrentIndex(index)

    @staticmethod
    def _staff_combo(
        staff: list[StaffRecord], roles: RoleRules, place: TeamRole, preferred: str | None
    ) -> QComboBox:
        """The staff allowed in `place`; the first of the `preferred` role chosen."""
        combo = QComboBox()
        combo.addItem("— choose —", None)
        for member in staff:
            if roles.may(place, member.role):
                combo.addItem(member.signature_name, member.id)
                if member.role == preferred and combo.currentIndex() == 0:
                    combo.setCurrentIndex(combo.count() - 1)
        return combo

    def _show_monitors(self) -> None:
        """In a couples or group session, a monitoring clinician per chosen client if asked."""
        shared = self.modality.currentData() != "individual"
        self.per_participant.setVisible(shared)
        chosen = [
            (item.data(Qt.ItemDataRole.UserRole), item.text())
            for item in self.clients.selectedItems()
        ]
        wanted = (
            [cid for cid, _name in chosen] if shared and self.per_participant.isChecked() else []
        )
        if list(self._monitor_combos) == wanted:
            return
        while self.monitors_form.rowCount():
            self.monitors_form.removeRow(0)
        self._monitor_combos = {}
        for client_id, name in chosen:
            if client_id not in wanted:
                continue
            combo = self._staff_combo(self._staff, self._roles, TeamRole.MONITORING, None)
            combo.setCurrentIndex(max(0, combo.findData(self.nurse.currentData())))
            combo.setAccessibleName(f"Monitoring clinician of {name}")
            self.monitors_form.addRow(f"— of {name}", combo)
            self._monitor_combos[client_id] = (name, combo)
        chain = [
            self.per_participant,
            *self.monitor_combos().values(),
            self.prescriber,
            self.order.dose,
        ]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)  # each in its place, not after the buttons

    def monitor_combos(self) -> dict[str, QComboBox]:
        """Each chosen client's own monitoring clinician, by name (when asked for)."""
        return {name: combo for name, combo in self._monitor_combos.values()}

    def _show_description(self) -> None:
        index = self.protocol.currentIndex()
        if 0 <= index < len(self._protocols):
            self.description.setText(self._protocols[index].protocol.description)

    def value(self) -> NewSession | None:
        ids = tuple(item.data(Qt.ItemDataRole.UserRole) for item in self.clients.selectedItems())
        modality = self.modality.currentData()
        problem = None
        if self.protocol.currentIndex() < 0:
            problem = (
                "No valid protocol is installed; ask the clinic lead (see `kapsession doctor`)."
            )
        elif not ids:
            problem = "Choose the client for this session."
        elif modality == "individual" and len(ids) != 1:
            problem = "An individual session has one client; choose Couples or Group for more."
        elif modality == "couples" and len(ids) != 2:
            problem = "A couples session has exactly two clients."
        elif modality == "group" and len(ids) < 2:
            problem = "A group session needs at least two clients."
        elif self.therapist.currentData() is None:
            problem = self._missing(TeamRole.THERAPIST, "therapist", self.therapist)
        elif self.nurse.currentData() is None:
            problem = self._missing(TeamRole.MONITORING, "monitoring clinician", self.nurse)
        elif any(combo.currentData() is None for combo in self.monitor_combos().values()):
            problem = "Choose the monitoring clinician of each client (or untick the box)."
        order, ordered_by, order_problems = self.order.value()
        index = self.protocol.currentIndex()
        chosen = self._protocols[index].protocol if 0 <= index < len(self._protocols) else None
        if chosen is not None and not chosen.gives_dose:  # issue 17: no order, no dose
            order, ordered_by, order_problems = None, None, []
        integration = chosen is not None and chosen.session_type.value == "integration"
        if problem is None and order_problems:
            problem = " ".join(p.message for p in order_problems)
            self.order.dose.setFocus()
        if problem:
            self.problem.setText(problem)
            self.problem.show()
            return None
        return NewSession(
            protocol_key=self.protocol.currentData(),
            modality=modality,
            client_ids=ids,
            room=self.room.text().strip(),
            therapist_id=self.therapist.currentData(),
            nurse_id=self.nurse.currentData(),
            prescriber_id=self.prescriber.currentData(),
            monitors={
                cid: combo.currentData() for cid, (_n, combo) in self._monitor_combos.items()
            },
            order=order,
            ordered_by=ordered_by,
            follows_session_id=self.follows.currentData() if integration else None,
            order_from_plan=(
                self._plan_order is not None
                and order is not None
                and (order, ordered_by) == self._plan_order
            ),
        )

    def _missing(self, place: TeamRole, title: str, combo: QComboBox) -> str:
        combo.setFocus()
        if combo.count() > 1:
            return f"Choose the session's {title}: a session cannot start without one."
        allowed = role_list(self._roles.allowed(place))
        return (
            f"No one on the staff list may be the {title} (a {allowed}, by the clinic's role "
            "rules). Add them with Add staff, then start the session."
        )

    def accept(self) -> None:
        if self.value() is not None:
            super().accept()
