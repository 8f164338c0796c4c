"""A client's consents (issue 17): the KAP treatment consent a dosing session needs, and the
touch consent staff must know of (never a gate).

"Current consent" is decided by the newest standing KAP treatment consent (corrections applied,
ones entered in error left out): the newest signed, and only that one. It is current on a day
when it was given (not declined), signed on or before that day, not withdrawn by the client on
or before that day, and not expired. A consent expires on its own `expires_on` when the form
says so, else `valid_days` after it was signed (the clinic's rule, clinic.toml `[consent]
valid_days`; None: it does not expire): from that day on it no longer holds. When the newest is
withdrawn, expired or declined there is no current consent, whatever older ones said: the
client's latest word stands.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# A year: KAP consent forms are commonly re-signed yearly and whenever the form changes; a clinic
# sets its own in clinic.toml (`[consent] valid_days`, or 0 for no expiry). Not from a source.
DEFAULT_VALID_DAYS = 365


class ConsentKind(enum.StrEnum):
    KAP_TREATMENT = "kap_treatment"
    TOUCH = "touch"

    @property
    def label(self) -> str:
        return "KAP treatment consent" if self is ConsentKind.KAP_TREATMENT else "touch consent"


@dataclass(frozen=True)
class Consent:
    """What a consent form says, as entered."""

    kind: ConsentKind
    given: bool  # False: declined
    signed_on: date
    form_version: str
    witness_id: uuid.UUID  # the staff member who witnessed it
    expires_on: date | None = None  # None: the clinic's rule
    withdrawn_on: date | None = None  # the client withdrew it from this day


def problems(consent: Consent, today: date) -> list[str]:
    """What is wrong with a consent as entered (empty: it can be saved)."""
    found = []
    if not consent.form_version.strip():
        found.append("Form version: write the version of the clinic's form that was signed.")
    if consent.signed_on > today:
        found.append("Date signed: it cannot be in the future.")
    if consent.expires_on is not None and consent.expires_on <= consent.signed_on:
        found.append("Expires on: it must be after the date signed.")
    if consent.withdrawn_on is not None and consent.withdrawn_on < consent.signed_on:
        found.append("Withdrawn on: it cannot be before the date signed.")
    if consent.withdrawn_on is not None and consent.withdrawn_on > today:
        found.append("Withdrawn on: it cannot be in the future.")
    return found


def expiry(consent: Consent, valid_days: int | None) -> date | None:
    """The first day the consent no longer holds; None: it does not expire."""
    if consent.expires_on is not None:
        return consent.expires_on
    if not valid_days:
        return None
    return consent.signed_on + timedelta(days=valid_days)


def newest(consents: Iterable[Consent], kind: ConsentKind) -> Consent | None:
    """The newest signed of the standing consents of `kind` (the last entered on a tie)."""
    chosen = None
    for consent in consents:
        if consent.kind is kind and (chosen is None or consent.signed_on >= chosen.signed_on):
            chosen = consent
    return chosen


def why_not_current(consent: Consent | None, today: date, valid_days: int | None) -> str | None:
    """Why `consent` (the newest of its kind) does not hold `today`; None: it does."""
    if consent is None:
        return "none recorded"
    if not consent.given:
        return f"declined on {consent.signed_on.isoformat()}"
    if consent.withdrawn_on is not None and consent.withdrawn_on <= today:
        return f"withdrawn on {consent.withdrawn_on.isoformat()}"
    if consent.signed_on > today:
        return f"signed only on {consent.signed_on.isoformat()}"
    ends = expiry(consent, valid_days)
    if ends is not None and ends <= today:
        return f"expired on {ends.isoformat()}"
    return None


def touch_text(consent: Consent | None, today: date, valid_days: int | None) -> str:
    """ "touch consent: yes", "touch consent: no (withdrawn on 2026-12-01)", "touch consent:
    not recorded"."""
    if consent is None:
        return "touch consent: not recorded"
    why = why_not_current(consent, today, valid_days)
    if why is None:
        return "touch consent: yes"
    if not consent.given:
        return "touch consent: no"
    return f"touch consent: no ({why})"
