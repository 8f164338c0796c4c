"""The consent rule (issue 17): when a KAP treatment consent is current, and the clinic's
`[consent] valid_days` in clinic.toml."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from kapsession.domain.clinic_rules import ClinicRulesError, parse_clinic_rules
from kapsession.domain.consent import (
    DEFAULT_VALID_DAYS,
    Consent,
    ConsentKind,
    why_not_current,
)
from kapsession.resources import assets_dir

SIGNED = date(2026, 1, 10)
KAP = Consent(ConsentKind.KAP_TREATMENT, True, SIGNED, "v3", uuid.uuid4())
FEB, MARCH = date(2026, 2, 1), date(2026, 3, 1)


@pytest.mark.parametrize(
    ("consent", "today", "valid_days", "why"),
    [
        (KAP, date(2026, 6, 1), 365, None),
        (KAP, date(2027, 1, 9), 365, None),  # the last day it holds
        (KAP, date(2027, 1, 10), 365, "expired on 2027-01-10"),
        (KAP, date(2030, 1, 1), None, None),  # the clinic's rule: no expiry
        (replace(KAP, expires_on=MARCH), date(2026, 3, 1), 365, "expired on 2026-03-01"),
        (replace(KAP, withdrawn_on=FEB), date(2026, 1, 31), 365, None),
        (replace(KAP, withdrawn_on=FEB), date(2026, 2, 1), 365, "withdrawn on 2026-02-01"),
        (replace(KAP, given=False), date(2026, 2, 1), 365, "declined on 2026-01-10"),
        (None, date(2026, 2, 1), 365, "none recorded"),
    ],
)  # fmt: skip
def test_when_a_consent_is_current(
    consent: Consent | None, today: date, valid_days: int | None, why: str | None
) -> None:
    assert why_not_current(consent, today, valid_days) == why


def test_the_shipped_clinic_file_says_365_days_and_0_means_no_expiry() -> None:
    text = (assets_dir() / "clinic.toml").read_text(encoding="utf-8")
    assert parse_clinic_rules(text, "clinic.toml").consent_valid_days == DEFAULT_VALID_DAYS == 365
    no_expiry = text.replace("valid_days = 365", "valid_days = 0")
    assert parse_clinic_rules(no_expiry, "clinic.toml").consent_valid_days is None
    without = text[: text.index("[consent]")]
    assert parse_clinic_rules(without, "clinic.toml").consent_valid_days == 365


def test_a_wrong_valid_days_is_reported_with_its_line() -> None:
    text = (assets_dir() / "clinic.toml").read_text(encoding="utf-8")
    bad = text.replace("valid_days = 365", 'valid_days = "a year"')
    with pytest.raises(ClinicRulesError) as refused:
        parse_clinic_rules(bad, "clinic.toml")
    assert refused.value.field == "consent.valid_days"
    assert refused.value.line == text[: text.index("valid_days = 365")].count("\n") + 1
    assert "whole number of days" in refused.value.message
