"""A client's profile (issue 17): seen and edited from the start screen's client list (P).

The dialog reads what was typed into a profile and asks for it to be saved
(`save_requested`); the controller saves it and either closes the dialog or hands back the
problems (`show_problems`), so that nothing typed is lost to a refusal. Saving writes one new
version, named with who saved it (chosen in "Saved by", as the team is chosen for a session)
and, when it replaces another or corrects the date of birth or record number, why.

Lists (allergies, current medications, diagnoses): type an item's fields and press Enter (or
Add) to add it; Enter on an item of the list takes it back into the fields to change it,
Delete removes it. What is left typed in the fields when saving is saved as an item too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kapsession.domain.client_profile import (
    MEDICATION_CLASS_NAMES,
    SEX_NAMES,
    Allergy,
    ClientProfile,
    CurrentMedication,
    Diagnosis,
    EmergencyContact,
    MedicationClass,
    Sex,
    clean,
    parse_date,
    parse_icd10,
    parse_weight,
)
from kapsession.domain.vitals import FieldProblem
from kapsession.records.client_profile import IdentityCorrection, ProfileVersion
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.ui.dialogs import _buttons, fit_height

NOT_RECORDED_TEXT = "— not recorded —"
BELOW_BODY_PX = 260  # the reason, two lines of problems, the buttons, the window's frame


@dataclass(frozen=True)
class ProfileEntry:
    """What the dialog asks to save."""

    profile: ClientProfile
    identity: IdentityCorrection
    reason: str
    by: uuid.UUID | None
    based_on: uuid.UUID | None  # the version the dialog showed (None: there was none)


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("heading")
    return label


def _edit(name: str, text: str = "", placeholder: str = "") -> QLineEdit:
    edit = QLineEdit(text)
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    return edit


class ItemList(QWidget):
    """A list of items typed field by field: Enter in a field adds what is typed (with nothing
    typed, Enter goes to the dialog); Enter on an item takes it back to change, Delete removes
    it."""

    changed = Signal()

    def __init__(
        self,
        name: str,
        fields: Sequence[tuple[str, str]],  # (accessible name, placeholder)
        make: Callable[[list[str], set[str]], Any],
        describe: Callable[[Any], str],
        parts: Callable[[Any], tuple[list[str], set[str]]],
        checks: Sequence[tuple[str, str]] = (),  # (key, label): tick boxes of an item
    ) -> None:
        super().__init__()
        self._make, self._describe, self._parts = make, describe, parts
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.fields = [_edit(label, placeholder=hint) for label, hint in fields]
        for edit in self.fields:
            row.addWidget(edit, 1)
            edit.installEventFilter(self)
        self.add_button = QPushButton("Add")
        self.add_button.setAccessibleName(f"Add to {name}")
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self.add_typed)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.checks: dict[str, QCheckBox] = {}
        if checks:
            grid = QGridLayout()
            for index, (key, label) in enumerate(checks):
                box = QCheckBox(label)
                box.installEventFilter(self)
                self.checks[key] = box
                grid.addWidget(box, index // 2, index % 2)
            layout.addLayout(grid)
        self.list = QListWidget()
        self.list.setAccessibleName(name)
        self.list.setMaximumHeight(72)
        self.list.itemActivated.connect(self._take_back)
        self.list.installEventFilter(self)
        layout.addWidget(self.list)

    def set_items(self, items: Sequence[Any]) -> None:
        self.list.clear()
        for item in items:
            self._append(item)

    def items(self) -> list[Any]:
        """The listed items, then what is still typed in the fields."""
        listed = [
            self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
        ]
        pending = self._typed()
        return listed + ([pending] if pending is not None else [])

    def has_typed(self) -> bool:
        return any(clean(edit.text()) for edit in self.fields)

    def _typed(self) -> Any:
        if not self.has_typed():
            return None
        texts = [clean(edit.text()) for edit in self.fields]
        return self._make(texts, {key for key, box in self.checks.items() if box.isChecked()})

    def add_typed(self) -> None:
        item = self._typed()
        if item is None:
            return
        self._append(item)
        for edit in self.fields:
            edit.clear()
        for box in self.checks.values():
            box.setChecked(False)
        self.fields[0].setFocus()
        self.changed.emit()

    def _append(self, item: Any) -> None:
        entry = QListWidgetItem(self._describe(item))
        entry.setData(Qt.ItemDataRole.UserRole, item)
        self.list.addItem(entry)

    def _take_back(self, entry: QListWidgetItem) -> None:
        if self.has_typed():
            self.add_typed()  # what was being typed is kept, not overwritten
        texts, checked = self._parts(entry.data(Qt.ItemDataRole.UserRole))
        self.list.takeItem(self.list.row(entry))
        for edit, text in zip(self.fields, texts, strict=False):
            edit.setText(text)
        for key, box in self.checks.items():
            box.setChecked(key in checked)
        self.fields[0].setFocus()
        self.changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if enter and watched is not self.list and self.has_typed():
                self.add_typed()
                return True
            if watched is self.list and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                row = self.list.currentRow()
                if row >= 0:
                    self.list.takeItem(row)
                    self.changed.emit()
                return True
        return super().eventFilter(watched, event)


def _allergy(texts: list[str], _checks: set[str]) -> Allergy:
    return Allergy(texts[0], texts[1])


def _medication(texts: list[str], checks: set[str]) -> CurrentMedication:
    return CurrentMedication(texts[0], texts[1], frozenset(MedicationClass(c) for c in checks))


def _diagnosis(texts: list[str], _checks: set[str]) -> Diagnosis:
    return Diagnosis(texts[1], parse_icd10(texts[0]))


def describe_allergy(allergy: Allergy) -> str:
    return f"{allergy.substance} — {allergy.reaction}" if allergy.reaction else allergy.substance


def describe_medication(medication: CurrentMedication) -> str:
    text = f"{medication.name} {medication.dose}".strip()
    classes = [MEDICATION_CLASS_NAMES[c] for c in MedicationClass if c in medication.classes]
    return f"{text}  [{', '.join(classes)}]" if classes else text


def describe_diagnosis(diagnosis: Diagnosis) -> str:
    return " ".join(part for part in (diagnosis.icd10_code, diagnosis.text) if part)


class ProfileDialog(QDialog):
    save_requested = Signal(object)  # a ProfileEntry

    def __init__(
        self,
        client: ClientRecord,
        current: ProfileVersion | None,
        history: Sequence[ProfileVersion],
        staff: Sequence[StaffRecord],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self._based_on = None if current is None else current.id
        profile = ClientProfile() if current is None else current.profile
        self.setWindowTitle(f"Profile — {client.full_name}")
        self.setMinimumWidth(1180)

        # who -----------------------------------------------------------------------------
        self.preferred = _edit(
            "Preferred name", profile.preferred_name, "what they like to be called"
        )
        self.birth = _edit(
            "Date of birth",
            "" if client.date_of_birth is None else client.date_of_birth.isoformat(),
            "YYYY-MM-DD",
        )
        self.number = _edit("Record number", client.record_number or "", "the clinic's number")
        self.system = _edit(
            "Record number system", profile.record_system, "urn:oid:… or https://… (the clinic's)"
        )
        self.sex = QComboBox()
        self.sex.setAccessibleName("Sex")
        self.sex.addItem(NOT_RECORDED_TEXT, None)
        for sex, text in SEX_NAMES.items():
            self.sex.addItem(text, sex.value)
        if profile.sex is not None:
            self.sex.setCurrentIndex(max(0, self.sex.findData(profile.sex.value)))
        self.gender = _edit("Gender identity", profile.gender_identity, "in the client's words")
        self.phone = _edit("Phone", profile.phone)
        self.email = _edit("Email", profile.email, "name@example.org")
        self.address = _edit("Address", profile.address)
        contact = profile.emergency_contact
        self.contact_name = _edit("Emergency contact name", contact.name, "name")
        self.contact_phone = _edit("Emergency contact phone", contact.phone, "phone")
        self.contact_relationship = _edit(
            "Emergency contact relationship", contact.relationship, "relationship"
        )
        self.referring = _edit("Referring clinician", profile.referring_clinician)
        # clinical --------------------------------------------------------------------------
        self.weight = _edit(
            "Weight", "" if profile.weight_kg is None else f"{profile.weight_kg:g}", "kg"
        )
        measured = profile.weight_measured_on
        self.weighed_on = _edit(
            "Weight measured on", "" if measured is None else measured.isoformat(), "YYYY-MM-DD"
        )
        self.no_allergies = QCheckBox("No known allergies")
        self.no_allergies.setChecked(profile.allergies == ())
        self.allergies = ItemList(
            "Allergies",
            [("Allergy substance", "substance"), ("Allergy reaction", "reaction")],
            _allergy,
            describe_allergy,
            lambda a: ([a.substance, a.reaction], set()),
        )
        self.allergies.set_items(profile.allergies or ())
        self.no_medications = QCheckBox("No current medications")
        self.no_medications.setChecked(profile.medications == ())
        self.medications = ItemList(
            "Current medications",
            [("Medication name", "name"), ("Medication dose", "dose as written")],
            _medication,
            describe_medication,
            lambda m: ([m.name, m.dose], {c.value for c in m.classes}),
            checks=[(c.value, MEDICATION_CLASS_NAMES[c]) for c in MedicationClass],
        )
        self.medications.set_items(profile.medications or ())
        self.diagnoses = ItemList(
            "Diagnoses",
            [("Diagnosis code", "ICD-10-CM"), ("Diagnosis", "in words")],
            _diagnosis,
            describe_diagnosis,
            lambda d: ([d.icd10_code, d.text], set()),
        )
        self.diagnoses.set_items(profile.diagnoses)
        self.allergies.changed.connect(lambda: self._listed(self.allergies, self.no_allergies))
        self.medications.changed.connect(
            lambda: self._listed(self.medications, self.no_medications)
        )
        # saving ----------------------------------------------------------------------------
        self.reason = _edit(
            "Reason for the change",
            placeholder="why it changes (needed once a version exists, and for a correction)",
        )
        self.saved_by = QComboBox()
        self.saved_by.setAccessibleName("Saved by")
        self.saved_by.addItem("— choose —", None)
        for member in staff:
            self.saved_by.addItem(member.signature_name, member.id)

        weight_row = QHBoxLayout()
        weight_row.addWidget(self.weight, 1)
        weight_row.addWidget(QLabel("kg on"))
        weight_row.addWidget(self.weighed_on, 2)
        top = QHBoxLayout()
        top.setSpacing(24)
        columns_of_fields: tuple[tuple[str, list[tuple[str, QWidget | QHBoxLayout]]], ...] = (
            (
                "Client",
                [
                    ("Legal name", QLabel(client.full_name)),
                    ("Preferred name", self.preferred),
                    ("Date of birth", self.birth),
                    ("Record number", self.number),
                    ("Number system", self.system),
                    ("Sex", self.sex),
                    ("Gender identity", self.gender),
                ],
            ),
            (
                "Contact",
                [
                    ("Phone", self.phone),
                    ("Email", self.email),
                    ("Address", self.address),
                    ("Referred by", self.referring),
                    ("Weight", weight_row),
                ],
            ),
            (
                "Emergency contact",
                [
                    ("Name", self.contact_name),
                    ("Phone", self.contact_phone),
                    ("Relationship", self.contact_relationship),
                ],
            ),
        )
        for heading, rows in columns_of_fields:
            form = QFormLayout()
            form.setVerticalSpacing(6)
            form.addRow(_heading(heading))
            for text, field_widget in rows:
                if isinstance(field_widget, QWidget):
                    form.addRow(text, field_widget)
                else:
                    form.addRow(text, field_widget)
            top.addLayout(form, 1)
        bottom = QHBoxLayout()
        bottom.setSpacing(24)
        for heading, none, items in (
            ("Allergies", self.no_allergies, self.allergies),
            ("Current medications", self.no_medications, self.medications),
            ("Diagnoses", None, self.diagnoses),
        ):
            part = QVBoxLayout()
            part.setSpacing(6)
            part.addWidget(_heading(heading))
            if none is not None:
                part.addWidget(none)
            part.addWidget(items)
            part.addStretch(1)
            bottom.addLayout(part, 1)
        columns = QVBoxLayout()
        columns.setContentsMargins(0, 0, 8, 0)
        columns.addLayout(top)
        columns.addSpacing(8)
        columns.addLayout(bottom)
        body = QWidget()
        body.setLayout(columns)
        self.body = QScrollArea()
        self.body.setWidget(body)
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.version = QLabel(self._version_text(current, len(history)))
        self.version.setObjectName("dim")
        self.version.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("banner")
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problems")
        self.problem.hide()
        saving = QHBoxLayout()
        saving.addWidget(QLabel("Reason"))
        saving.addWidget(self.reason, 3)
        saving.addWidget(QLabel("Saved by"))
        saving.addWidget(self.saved_by, 1)
        foot = QHBoxLayout()
        foot.addWidget(self.version, 1)
        foot.addWidget(_buttons(self, "Save profile"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.body, 1)
        layout.addLayout(saving)
        layout.addWidget(self.problem)
        layout.addLayout(foot)
        self.preferred.setFocus()

    @staticmethod
    def _version_text(current: ProfileVersion | None, versions: int) -> str:
        if current is None:
            return "Nothing recorded yet: every field is optional."
        when = current.recorded_at.astimezone().strftime("%a %d %b %Y, %H:%M")
        text = f"Version {versions}, saved {when} by {current.recorded_by}"
        if current.reason:
            text += f" — {current.reason}"
        return text + "."

    @staticmethod
    def _listed(items: ItemList, none: QCheckBox) -> None:
        """An item listed takes back "none"."""
        if items.list.count():
            none.setChecked(False)

    # what was typed ------------------------------------------------------------------------
    def value(self) -> tuple[ProfileEntry | None, list[FieldProblem]]:
        """The entry typed, or the problems in what was typed (dates, weight)."""
        problems: list[FieldProblem] = []
        birth, found = parse_date(self.birth.text(), "date_of_birth", "Date of birth")
        problems += found
        weight, found = parse_weight(self.weight.text())
        problems += found
        weighed_on, found = parse_date(
            self.weighed_on.text(), "weight_measured_on", "Weight measured on"
        )
        problems += found
        allergies = self.allergies.items()
        medications = self.medications.items()
        if allergies and self.no_allergies.isChecked():
            problems.append(
                FieldProblem(
                    "allergies", "Allergies: untick “No known allergies” or remove the listed ones."
                )
            )
        if medications and self.no_medications.isChecked():
            problems.append(
                FieldProblem(
                    "medications",
                    "Medications: untick “No current medications” or remove the listed ones.",
                )
            )
        if problems:
            return None, problems
        profile = ClientProfile(
            preferred_name=clean(self.preferred.text()),
            sex=None if self.sex.currentData() is None else Sex(self.sex.currentData()),
            gender_identity=clean(self.gender.text()),
            record_system=clean(self.system.text()),
            phone=clean(self.phone.text()),
            email=clean(self.email.text()),
            address=clean(self.address.text()),
            emergency_contact=EmergencyContact(
                clean(self.contact_name.text()),
                clean(self.contact_phone.text()),
                clean(self.contact_relationship.text()),
            ),
            referring_clinician=clean(self.referring.text()),
            allergies=tuple(allergies) if allergies or self.no_allergies.isChecked() else None,
            medications=(
                tuple(medications) if medications or self.no_medications.isChecked() else None
            ),
            weight_kg=weight,
            weight_measured_on=weighed_on,
            diagnoses=tuple(self.diagnoses.items()),
        )
        entry = ProfileEntry(
            profile=profile,
            identity=IdentityCorrection(birth, clean(self.number.text()) or None),
            reason=clean(self.reason.text()),
            by=self.saved_by.currentData(),
            based_on=self._based_on,
        )
        return entry, []

    def show_problems(self, problems: Sequence[FieldProblem] | Sequence[str]) -> None:
        """Say what is wrong, one line each; the dialog stays open with everything typed."""
        lines = [p if isinstance(p, str) else p.message for p in problems]
        self.problem.setText("\n".join(lines))
        self.problem.show()
        fit_height(self, self.body)

    def accept(self) -> None:
        """Ask for the save; the controller closes the dialog once it is saved (`saved`)."""
        entry, problems = self.value()
        if entry is None:
            self.show_problems(problems)
            return
        self.save_requested.emit(entry)

    def saved(self) -> None:
        super().accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The fields unscrolled where the screen has room for them and the part below them
        # (reason, problems, buttons); on a shorter screen they scroll.
        inner = self.body.widget()
        screen = self.screen()
        if inner is not None and screen is not None:
            room = screen.availableGeometry().height() - BELOW_BODY_PX
            self.body.setMinimumHeight(min(inner.sizeHint().height(), room))
        fit_height(self, self.body)
