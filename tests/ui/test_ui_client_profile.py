"""The client's profile from the start screen (issue 17), by keyboard only: P on the client
list opens it, what is typed is saved as one version named with who saved it, opening it again
shows it; a weight out of range is refused in the dialog and nothing is saved."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget
from ui_harness import RunningApp, describe, focus_widget, key, tab_in_dialog_to, type_text

from kapsession.domain.client_profile import (
    Allergy,
    ClientProfile,
    CurrentMedication,
    Diagnosis,
    MedicationClass,
    Sex,
)
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.ui.profile_dialog import ProfileDialog

ENTER = Qt.Key.Key_Return
SHOTS = os.environ.get("KAPSESSION_PROFILE_SHOTS", "")  # a folder: save what the dialog shows


def _client_selected(app: RunningApp) -> tuple[ClientRecord, StaffRecord]:
    nurse = app.add_staff("Tom Becker")
    client = app.context.service.add_client(
        "Maya", "Fischer", at=app.clock.now(), date_of_birth=date(1984, 3, 2)
    )
    app.controller.refresh_start()
    app.start_view.select_client(client.id)
    app.ready()
    return client, nurse


def _choose(combo: QComboBox, wanted: str) -> None:
    """With the focus on `combo`: the arrow keys until it shows `wanted`."""
    assert focus_widget() is combo, describe(focus_widget())
    index = combo.findText(wanted)
    assert index >= 0, wanted
    while combo.currentIndex() != index:
        key(Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


def _shot(dialog: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(Path(SHOTS) / f"{name}.png"))


def fill_profile(dialog: QWidget) -> None:
    """Type a whole profile, Tab from field to field, Enter to add each list item and to save."""
    assert isinstance(dialog, ProfileDialog), describe(dialog)
    assert focus_widget() is dialog.preferred
    type_text("Mo")
    tab_in_dialog_to(dialog.sex)
    _choose(dialog.sex, "Female")
    tab_in_dialog_to(dialog.weight)
    type_text("72,5")
    key(Qt.Key.Key_Tab)
    type_text("2026-11-20")
    tab_in_dialog_to(dialog.contact_name)
    type_text("Jon Fischer")
    key(Qt.Key.Key_Tab)
    type_text("+1 555 0101")
    tab_in_dialog_to(dialog.allergies.fields[0])
    type_text("Penicillin")
    key(Qt.Key.Key_Tab)
    type_text("rash")
    key(ENTER)  # adds it; the focus is back in the substance
    assert dialog.allergies.list.count() == 1 and dialog.isVisible()
    tab_in_dialog_to(dialog.medications.fields[0])
    type_text("Lorazepam")
    key(Qt.Key.Key_Tab)
    type_text("0.5 mg at night")
    tab_in_dialog_to(dialog.medications.checks[MedicationClass.BENZODIAZEPINE.value])
    key(Qt.Key.Key_Space)
    key(ENTER)
    tab_in_dialog_to(dialog.diagnoses.fields[0])
    type_text("f33.1")  # left typed: saved with the rest
    tab_in_dialog_to(dialog.saved_by, limit=60)
    _choose(dialog.saved_by, "Tom Becker, RN")
    _shot(dialog, "profile-typed")
    key(ENTER)


def test_a_profile_typed_by_keyboard_is_saved_once_and_shown_when_opened_again(
    app: RunningApp,
) -> None:
    # Given a client selected on the start screen and a nurse on the staff list
    client, nurse = _client_selected(app)
    # When P opens the profile and it is typed and saved by keyboard
    with app.answering(fill_profile) as seen:
        app.key(Qt.Key.Key_P)
    assert [a.title for a in seen] == ["Profile — Maya Fischer"]
    # Then one version stands, with what was typed, saved by the nurse
    (version,) = app.context.service.profiles.history(client.id)
    assert version.recorded_by_id == nurse.id
    assert version.profile == ClientProfile(
        preferred_name="Mo",
        sex=Sex.FEMALE,
        emergency_contact=version.profile.emergency_contact,
        allergies=(Allergy("Penicillin", "rash"),),
        medications=(
            CurrentMedication(
                "Lorazepam", "0.5 mg at night", frozenset({MedicationClass.BENZODIAZEPINE})
            ),
        ),
        weight_kg=72.5,
        weight_measured_on=date(2026, 11, 20),
        diagnoses=(Diagnosis(icd10_code="F33.1"),),
    )
    assert (version.profile.emergency_contact.name, version.profile.emergency_contact.phone) == (
        "Jon Fischer",
        "+1 555 0101",
    )

    # When it is opened again
    shown: list[tuple[str, ...]] = []

    def look(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        _shot(dialog, "profile-reopened")
        shown.append(
            (
                dialog.preferred.text(),
                dialog.sex.currentText(),
                dialog.weight.text(),
                dialog.birth.text(),
                dialog.allergies.list.item(0).text(),
                dialog.medications.list.item(0).text(),
                dialog.diagnoses.list.item(0).text(),
                dialog.version.text().split(",")[0],
            )
        )
        # And it fits the smaller laptop, 1280x720
        frame = dialog.frameGeometry()
        assert frame.width() <= 1280 and frame.height() <= 720, frame
        key(Qt.Key.Key_Escape)

    with app.answering(look):
        app.key(Qt.Key.Key_P)
    # Then it shows what was saved
    assert shown == [
        (
            "Mo",
            "Female",
            "72.5",
            "1984-03-02",
            "Penicillin — rash",
            "Lorazepam 0.5 mg at night  [Benzodiazepine]",
            "F33.1",
            "Version 1",
        )
    ]


def test_a_weight_out_of_range_is_refused_in_the_dialog_and_nothing_is_saved(
    app: RunningApp,
) -> None:
    # Given a client selected and a nurse
    client, _nurse = _client_selected(app)
    problems: list[str] = []

    def bad_weight(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        tab_in_dialog_to(dialog.weight)
        type_text("420")
        key(Qt.Key.Key_Tab)
        type_text("2026-11-20")
        tab_in_dialog_to(dialog.saved_by, limit=60)
        _choose(dialog.saved_by, "Tom Becker, RN")
        key(ENTER)
        # Then the dialog stays open and says what is wrong, with everything typed kept
        assert dialog.isVisible()
        assert dialog.problem.isVisible()
        problems.append(dialog.problem.text())
        assert dialog.weight.text() == "420"
        _shot(dialog, "profile-bad-weight")
        key(Qt.Key.Key_Escape)

    # When a weight of 420 kg is typed and saved
    with app.answering(bad_weight):
        app.key(Qt.Key.Key_P)
    assert problems == ["Weight: 420 kg is outside 20–300 kg."]
    # And nothing was saved
    assert app.context.service.profiles.history(client.id) == []


def test_a_date_of_birth_corrected_without_a_reason_asks_for_it_then_saves_it(
    app: RunningApp,
) -> None:
    # Given a client whose date of birth was typed wrong
    client, _nurse = _client_selected(app)
    problems: list[str] = []

    def correct(dialog: QWidget) -> None:
        assert isinstance(dialog, ProfileDialog)
        tab_in_dialog_to(dialog.birth)
        key(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        type_text("1948-03-02")
        tab_in_dialog_to(dialog.saved_by, limit=60)
        _choose(dialog.saved_by, "Tom Becker, RN")
        key(ENTER)
        problems.append(dialog.problem.text())
        tab_in_dialog_to(dialog.reason, limit=60)
        type_text("the referral letter says 1948")
        key(ENTER)

    # When it is corrected, first without a reason, then with one
    with app.answering(correct):
        app.key(Qt.Key.Key_P)
    # Then the reason was asked for, and the client stands corrected, with no profile version
    assert problems == [
        "Reason for the change: write why the date of birth or record number is corrected."
    ]
    assert app.context.service.clients.get(client.id).date_of_birth == date(1948, 3, 2)
    assert app.context.service.profiles.history(client.id) == []
