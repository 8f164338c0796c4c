"""A client's profile (issue 17): what staff need to know about the person beyond the name and
record number, as immutable values, and the checks a saved version must pass.

Every field is optional; an empty text or None is "not recorded". Two lists say more than that:
`allergies` None is "not recorded" and () is "no known allergies"; `medications` None is "not
recorded" and () is "no current medications". Sex is FHIR R4 administrative gender (what the
SPRAVATO REMS form and US Core Patient need); gender identity is the client's own words.

The checks name the field and the range a nurse can act on ("Weight: 420 kg is outside
20–300 kg"); they catch typing mistakes, they are no clinical judgement.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from kapsession.domain.dosing import PLAUSIBLE_WEIGHT_KG
from kapsession.domain.vitals import FieldProblem

MAX_AGE_YEARS = 120
_LB_PER_KG = Decimal("2.20462")


class Sex(StrEnum):
    """FHIR R4 AdministrativeGender (http://hl7.org/fhir/administrative-gender)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


SEX_NAMES: dict[Sex, str] = {
    Sex.FEMALE: "Female",
    Sex.MALE: "Male",
    Sex.OTHER: "Other",
    Sex.UNKNOWN: "Unknown",
}


class MedicationClass(StrEnum):
    """The concomitant-medication classes the SPRAVATO REMS patient monitoring form asks about."""

    BENZODIAZEPINE = "benzodiazepine"
    SEDATIVE_HYPNOTIC = "sedative_hypnotic"  # non-benzodiazepine sedative hypnotics
    PSYCHOSTIMULANT = "psychostimulant"
    MAOI = "maoi"
    OPIOID = "opioid"


MEDICATION_CLASS_NAMES: dict[MedicationClass, str] = {
    MedicationClass.BENZODIAZEPINE: "Benzodiazepine",
    MedicationClass.SEDATIVE_HYPNOTIC: "Non-benzodiazepine sedative hypnotic",
    MedicationClass.PSYCHOSTIMULANT: "Psychostimulant",
    MedicationClass.MAOI: "MAOI",
    MedicationClass.OPIOID: "Opioid",
}


@dataclass(frozen=True)
class Allergy:
    """An allergy as recorded: the substance and the reaction."""

    substance: str
    reaction: str = ""


@dataclass(frozen=True)
class CurrentMedication:
    """A medication the client takes, its dose as written and its classes."""

    name: str
    dose: str = ""  # as written: "10 mg at night"
    classes: frozenset[MedicationClass] = frozenset()


@dataclass(frozen=True)
class Diagnosis:
    """Free text, an ICD-10-CM code, or both (the code with its words)."""

    text: str = ""
    icd10_code: str = ""


@dataclass(frozen=True)
class EmergencyContact:
    """Whom to call for the client in an emergency."""

    name: str = ""
    phone: str = ""
    relationship: str = ""


@dataclass(frozen=True)
class ClientProfile:
    """What is recorded about a client beyond their name (issue 17)."""

    preferred_name: str = ""
    sex: Sex | None = None  # None: not recorded ("unknown" is an answer someone gave)
    gender_identity: str = ""
    record_system: str = ""  # the clinic's system URI of the record number
    phone: str = ""
    email: str = ""
    address: str = ""
    emergency_contact: EmergencyContact = field(default_factory=EmergencyContact)
    referring_clinician: str = ""
    allergies: tuple[Allergy, ...] | None = None  # (): no known allergies
    medications: tuple[CurrentMedication, ...] | None = None  # (): no current medications
    weight_kg: float | None = None
    weight_measured_on: date | None = None
    diagnoses: tuple[Diagnosis, ...] = ()

    @property
    def medication_classes(self) -> frozenset[MedicationClass]:
        """The REMS classes among the current medications."""
        found: set[MedicationClass] = set()
        for medication in self.medications or ():
            found |= medication.classes
        return frozenset(found)


NOT_RECORDED = ClientProfile()

# ICD-10-CM: a letter, a digit, a digit or letter (the category), then optionally a dot and one
# to four characters (F33.1, F43.10, T40.7X1A, C4A.9).
ICD10_CM = re.compile(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?")
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+")
_HTTP = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEIGHT = re.compile(r"(\d{1,4}(?:[.,]\d{1,3})?)\s*(kg|kgs|lb|lbs)?", re.IGNORECASE)


def clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _shown(text: str) -> str:
    return f"'{text if len(text) <= 30 else text[:29] + '…'}'"


def earliest_birth_date(today: date) -> date:
    """The earliest date of birth accepted: MAX_AGE_YEARS before today (28 Feb for 29 Feb)."""
    year = today.year - MAX_AGE_YEARS
    try:
        return today.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def check_date_of_birth(value: date | None, *, today: date) -> list[FieldProblem]:
    if value is None:
        return []
    if value > today:
        return [FieldProblem("date_of_birth", f"Date of birth: {value} is in the future.")]
    earliest = earliest_birth_date(today)
    if value < earliest:
        return [
            FieldProblem(
                "date_of_birth",
                f"Date of birth: {value} is more than {MAX_AGE_YEARS} years ago; it must be "
                f"between {earliest} and {today}.",
            )
        ]
    return []


def check_profile(profile: ClientProfile, *, today: date) -> list[FieldProblem]:
    """Everything wrong with `profile`, in the form's order; [] when it can be saved."""
    problems: list[FieldProblem] = []
    system = profile.record_system
    if system and not (_URN.fullmatch(system) or _HTTP.fullmatch(system)):
        problems.append(
            FieldProblem(
                "record_system",
                f"Record number system: {_shown(system)} is not an absolute URI; write the "
                "clinic's urn:… or https://… address.",
            )
        )
    if profile.email and not _EMAIL.fullmatch(profile.email):
        problems.append(
            FieldProblem(
                "email",
                f"Email: {_shown(profile.email)} is not an address; write it as name@example.org.",
            )
        )
    problems += _check_weight(profile, today)
    for number, allergy in enumerate(profile.allergies or (), start=1):
        if not allergy.substance:
            problems.append(FieldProblem("allergies", f"Allergy {number}: write the substance."))
    for number, medication in enumerate(profile.medications or (), start=1):
        if not medication.name:
            problems.append(FieldProblem("medications", f"Medication {number}: write its name."))
    for number, diagnosis in enumerate(profile.diagnoses, start=1):
        code = diagnosis.icd10_code
        if not code and not diagnosis.text:
            problems.append(
                FieldProblem("diagnoses", f"Diagnosis {number}: write a code or the words.")
            )
        elif code and not ICD10_CM.fullmatch(code):
            problems.append(
                FieldProblem(
                    "diagnoses",
                    f"Diagnosis {number}: {_shown(code)} is not an ICD-10-CM code; it is a "
                    "letter, two digits or a digit and a letter, then a dot and up to four "
                    "more (e.g. F33.1).",
                )
            )
    return problems


def _check_weight(profile: ClientProfile, today: date) -> list[FieldProblem]:
    weight, measured = profile.weight_kg, profile.weight_measured_on
    problems: list[FieldProblem] = []
    if weight is not None:
        if not math.isfinite(weight) or not PLAUSIBLE_WEIGHT_KG.contains(weight):
            problems.append(
                FieldProblem(
                    "weight_kg",
                    f"Weight: {weight:g} kg is outside {PLAUSIBLE_WEIGHT_KG.describe()}.",
                )
            )
        if measured is None:
            problems.append(
                FieldProblem("weight_measured_on", "Weight measured on: write the date.")
            )
    elif measured is not None:
        problems.append(
            FieldProblem("weight_kg", "Weight: write the weight measured on that date.")
        )
    if measured is not None and measured > today:
        problems.append(
            FieldProblem("weight_measured_on", f"Weight measured on: {measured} is in the future.")
        )
    return problems


# typed text -------------------------------------------------------------------------------------
def parse_date(text: str, field_name: str, label: str) -> tuple[date | None, list[FieldProblem]]:
    """A date typed as YYYY-MM-DD; blank is None."""
    typed = clean(text)
    if not typed:
        return None, []
    try:
        if _ISO_DATE.fullmatch(typed):
            return date.fromisoformat(typed), []
    except ValueError:
        pass
    return None, [
        FieldProblem(field_name, f"{label}: {_shown(typed)} is not a date; write YYYY-MM-DD.")
    ]


def parse_weight(text: str) -> tuple[float | None, list[FieldProblem]]:
    """Weight in kg typed as "72", "72,5" or "72.5 kg"; blank is None. Pounds are refused with
    the weight in kg, so that nobody saves pounds as kilograms."""
    typed = clean(text)
    if not typed:
        return None, []
    match = _WEIGHT.fullmatch(typed)
    try:
        amount = Decimal(match.group(1).replace(",", ".")) if match else None
    except InvalidOperation:
        amount = None
    if match is None or amount is None:
        return None, [FieldProblem("weight_kg", f"Weight: {_shown(typed)} is not a number of kg.")]
    if (match.group(2) or "kg").lower().startswith("lb"):
        return None, [
            FieldProblem(
                "weight_kg",
                f"Weight: {amount:f} lb is {amount / _LB_PER_KG:.1f} kg; write the weight in kg.",
            )
        ]
    return float(amount), []


def parse_icd10(text: str) -> str:
    """An ICD-10-CM code as typed, in capitals and without spaces."""
    return "".join(clean(text).split()).upper()


def classes_named(keys: Iterable[str]) -> frozenset[MedicationClass]:
    return frozenset(MedicationClass(key) for key in keys)
