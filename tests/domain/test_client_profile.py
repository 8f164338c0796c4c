"""The client profile's checks (issue 17): each names the field and the range, at its edges."""

from __future__ import annotations

from datetime import date

import pytest

from kapsession.domain.client_profile import (
    NOT_RECORDED,
    Allergy,
    ClientProfile,
    CurrentMedication,
    Diagnosis,
    MedicationClass,
    check_date_of_birth,
    check_profile,
    earliest_birth_date,
    parse_date,
    parse_icd10,
    parse_weight,
)

TODAY = date(2026, 12, 11)


def _messages(profile: ClientProfile) -> list[str]:
    return [p.message for p in check_profile(profile, today=TODAY)]


def _weighed(weight: float | None, on: date | None = TODAY) -> ClientProfile:
    return ClientProfile(weight_kg=weight, weight_measured_on=on)


def test_a_profile_with_nothing_recorded_passes() -> None:
    # Given nothing recorded, When it is checked, Then nothing is wrong
    assert check_profile(NOT_RECORDED, today=TODAY) == []
    assert NOT_RECORDED.allergies is None and NOT_RECORDED.medications is None


def test_no_known_allergies_and_no_current_medications_are_not_the_same_as_not_recorded() -> None:
    # Given a profile that says "none" for both lists
    profile = ClientProfile(allergies=(), medications=())
    # Then it passes and differs from one that recorded nothing
    assert check_profile(profile, today=TODAY) == []
    assert profile != NOT_RECORDED


@pytest.mark.parametrize("weight", [20.0, 300.0, 72.5])
def test_a_weight_inside_the_plausible_range_passes(weight: float) -> None:
    assert _messages(_weighed(weight)) == []


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (19.9, "Weight: 19.9 kg is outside 20–300 kg."),
        (300.1, "Weight: 300.1 kg is outside 20–300 kg."),
        (420.0, "Weight: 420 kg is outside 20–300 kg."),
        (float("nan"), "Weight: nan kg is outside 20–300 kg."),
    ],
)
def test_a_weight_outside_the_range_is_refused_naming_field_and_range(
    weight: float, message: str
) -> None:
    assert _messages(_weighed(weight)) == [message]


def test_a_weight_needs_its_date_and_a_date_needs_its_weight() -> None:
    assert _messages(_weighed(72.0, None)) == ["Weight measured on: write the date."]
    assert _messages(_weighed(None, TODAY)) == ["Weight: write the weight measured on that date."]


def test_a_weight_measured_today_passes_and_tomorrow_is_in_the_future() -> None:
    assert _messages(_weighed(72.0, TODAY)) == []
    assert _messages(_weighed(72.0, date(2026, 12, 12))) == [
        "Weight measured on: 2026-12-12 is in the future."
    ]


def test_a_date_of_birth_today_or_exactly_120_years_ago_passes() -> None:
    assert check_date_of_birth(TODAY, today=TODAY) == []
    assert check_date_of_birth(date(1906, 12, 11), today=TODAY) == []
    assert check_date_of_birth(None, today=TODAY) == []


def test_a_date_of_birth_in_the_future_is_refused() -> None:
    (problem,) = check_date_of_birth(date(2031, 2, 1), today=TODAY)
    assert problem.field == "date_of_birth"
    assert problem.message == "Date of birth: 2031-02-01 is in the future."
    (tomorrow,) = check_date_of_birth(date(2026, 12, 12), today=TODAY)
    assert "in the future" in tomorrow.message


def test_a_date_of_birth_more_than_120_years_ago_is_refused_with_the_range() -> None:
    (problem,) = check_date_of_birth(date(1906, 12, 10), today=TODAY)
    assert problem.message == (
        "Date of birth: 1906-12-10 is more than 120 years ago; it must be between 1906-12-11 "
        "and 2026-12-11."
    )


def test_the_earliest_birth_date_from_a_29_february_is_28_february() -> None:
    assert earliest_birth_date(date(2020, 2, 29)) == date(1900, 2, 28)


@pytest.mark.parametrize("email", ["maya@example.org", "m.fischer+kap@mail.example"])
def test_an_email_with_one_at_passes(email: str) -> None:
    assert _messages(ClientProfile(email=email)) == []


@pytest.mark.parametrize("email", ["maya.example.org", "maya@", "@example.org", "a@b@c"])
def test_an_email_without_an_at_between_two_parts_is_refused(email: str) -> None:
    assert _messages(ClientProfile(email=email)) == [
        f"Email: '{email}' is not an address; write it as name@example.org."
    ]


@pytest.mark.parametrize(
    "system",
    ["urn:oid:2.16.840.1.113883.3.1234", "https://clinic.example/mrn", "http://clinic.example"],
)
def test_a_record_system_that_is_an_absolute_uri_passes(system: str) -> None:
    assert _messages(ClientProfile(record_system=system)) == []


@pytest.mark.parametrize("system", ["clinic-mrn", "www.clinic.example", "https://", "urn:x"])
def test_a_record_system_that_is_not_an_absolute_uri_is_refused(system: str) -> None:
    (message,) = _messages(ClientProfile(record_system=system))
    assert message.startswith(f"Record number system: '{system}' is not an absolute URI")


@pytest.mark.parametrize("code", ["F33.1", "F33", "F43.10", "T40.7X1A", "C4A.9"])
def test_an_icd10_cm_code_of_the_right_shape_passes(code: str) -> None:
    assert _messages(ClientProfile(diagnoses=(Diagnosis(icd10_code=code),))) == []


@pytest.mark.parametrize("code", ["F3", "F331", "33.1", "F33.", "F33.12345", "f33.1"])
def test_an_icd10_cm_code_of_the_wrong_shape_is_refused_naming_the_diagnosis(code: str) -> None:
    profile = ClientProfile(diagnoses=(Diagnosis("Depression"), Diagnosis(icd10_code=code)))
    (message,) = _messages(profile)
    assert message.startswith(f"Diagnosis 2: '{code}' is not an ICD-10-CM code")
    assert "(e.g. F33.1)" in message


def test_a_diagnosis_in_words_alone_passes_and_an_empty_one_is_refused() -> None:
    assert _messages(ClientProfile(diagnoses=(Diagnosis("Treatment-resistant depression"),))) == []
    assert _messages(ClientProfile(diagnoses=(Diagnosis(),))) == [
        "Diagnosis 1: write a code or the words."
    ]


def test_an_allergy_or_a_medication_without_its_name_is_refused() -> None:
    profile = ClientProfile(
        allergies=(Allergy("Penicillin", "rash"), Allergy("", "hives")),
        medications=(CurrentMedication("", "10 mg"),),
    )
    assert _messages(profile) == [
        "Allergy 2: write the substance.",
        "Medication 1: write its name.",
    ]


def test_the_rems_classes_of_the_current_medications() -> None:
    profile = ClientProfile(
        medications=(
            CurrentMedication("Lorazepam", "0.5 mg", frozenset({MedicationClass.BENZODIAZEPINE})),
            CurrentMedication("Sertraline", "100 mg"),
            CurrentMedication("Tramadol", "50 mg", frozenset({MedicationClass.OPIOID})),
        )
    )
    assert profile.medication_classes == {MedicationClass.BENZODIAZEPINE, MedicationClass.OPIOID}
    assert NOT_RECORDED.medication_classes == frozenset()


@pytest.mark.parametrize(
    ("typed", "weight"), [("72", 72.0), ("72,5", 72.5), ("72.5 kg", 72.5), ("  ", None)]
)
def test_a_typed_weight_is_read_in_kg(typed: str, weight: float | None) -> None:
    assert parse_weight(typed) == (weight, [])


def test_a_weight_typed_in_pounds_or_as_words_is_refused() -> None:
    _none, (pounds,) = parse_weight("160 lb")
    assert pounds.message == "Weight: 160 lb is 72.6 kg; write the weight in kg."
    _none, (words,) = parse_weight("heavy")
    assert words.message == "Weight: 'heavy' is not a number of kg."


def test_a_typed_date_is_year_month_day() -> None:
    assert parse_date("1984-03-02", "date_of_birth", "Date of birth") == (date(1984, 3, 2), [])
    assert parse_date("", "date_of_birth", "Date of birth") == (None, [])
    for typed in ("02/03/1984", "1984-02-30", "19840302"):
        value, (problem,) = parse_date(typed, "date_of_birth", "Date of birth")
        assert value is None
        assert problem.message == f"Date of birth: '{typed}' is not a date; write YYYY-MM-DD."


def test_a_typed_icd10_code_is_put_in_capitals_without_spaces() -> None:
    assert parse_icd10(" f33 .1 ") == "F33.1"
