"""Clients' consents (issue 17): record a KAP treatment or touch consent, correct it, record
its withdrawal by the client or take it back as entered in error, and say whether a client has
a current KAP treatment consent (`domain.consent`'s rule, with the clinic's `valid_days`).

What was entered is checked first (`domain.consent.problems`): a problem names the field, and
nothing is stored. "Today" is the local calendar day of the time given.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from kapsession.domain.consent import (
    DEFAULT_VALID_DAYS,
    Consent,
    ConsentKind,
    expiry,
    newest,
    problems,
    touch_text,
    why_not_current,
)
from kapsession.domain.corrections import effective
from kapsession.records.consent import ConsentRecord
from kapsession.records.errors import StorageError
from kapsession.storage.consents import ConsentRepository
from kapsession.storage.database import Database


class ConsentInvalid(StorageError):
    """A consent that cannot be saved; `problems` name each field to fix."""

    def __init__(self, found: Sequence[str]) -> None:
        super().__init__(" ".join(found))
        self.problems = tuple(found)


def local_day(at: datetime) -> date:
    return at.astimezone().date()


@dataclass(frozen=True)
class ConsentStatus:
    """A client's consents as they stand on a day."""

    client_id: uuid.UUID
    kap: ConsentRecord | None  # the newest standing KAP treatment consent
    why_not: str | None  # why there is no current KAP treatment consent; None: there is
    touch: str  # "touch consent: yes" / "no …" / "not recorded"
    ends: date | None  # the first day the current consent no longer holds

    @property
    def current(self) -> bool:
        return self.why_not is None

    def line(self) -> str:
        """The consent line staff see: "KAP treatment consent: signed 2026-12-01 (form v3),
        holds until 2027-12-01 · touch consent: yes", or "KAP treatment consent: NOT current
        (none recorded) · touch consent: not recorded"."""
        if self.kap is None or self.why_not is not None:
            kap = f"KAP treatment consent: NOT current ({self.why_not})"
        else:
            c = self.kap.consent
            kap = f"KAP treatment consent: signed {c.signed_on.isoformat()} (form {c.form_version})"
            kap += f", holds until {self.ends.isoformat()}" if self.ends else ", no expiry"
        return f"{kap} · {self.touch}"


class ConsentService:
    def __init__(self, database: Database, valid_days: int | None = DEFAULT_VALID_DAYS) -> None:
        """`valid_days`: the clinic's rule (clinic.toml `[consent] valid_days`; None: none)."""
        self.consents = ConsentRepository(database)
        self.valid_days = valid_days

    def save(
        self, client_id: uuid.UUID, consent: Consent, *, at: datetime, by: uuid.UUID | None
    ) -> ConsentRecord:
        """Store a consent as entered; ConsentInvalid (nothing stored) naming what to fix."""
        found = problems(consent, local_day(at))
        if by is None:
            found.append("Entered by: choose who is entering it.")
        if found:
            raise ConsentInvalid(found)
        assert by is not None
        return self.consents.add(client_id, consent, recorded_at=at, by=by)

    def correct(
        self,
        original_id: uuid.UUID,
        consent: Consent,
        *,
        reason: str,
        at: datetime,
        by: uuid.UUID | None,
    ) -> ConsentRecord:
        """The consent as it should stand, with the reason; a new version, the original kept."""
        found = problems(consent, local_day(at))
        if by is None:
            found.append("Entered by: choose who is correcting it.")
        if found:
            raise ConsentInvalid(found)
        assert by is not None
        return self.consents.correct(original_id, consent, reason=reason, recorded_at=at, by=by)

    def withdraw(
        self,
        original: ConsentRecord,
        *,
        withdrawn_on: date,
        reason: str,
        at: datetime,
        by: uuid.UUID | None,
    ) -> ConsentRecord:
        """The client withdrew the consent from `withdrawn_on`: a new version saying so; the
        consent stays in the history, and holds no longer from that day."""
        changed = dataclasses.replace(original.consent, withdrawn_on=withdrawn_on)
        return self.correct(original.id, changed, reason=reason, at=at, by=by)

    def take_back(
        self, original_id: uuid.UUID, *, reason: str, at: datetime, by: uuid.UUID | None
    ) -> ConsentRecord:
        """A consent entered in error (the wrong client, the wrong form), taken back with the
        reason; it stays in the history as withdrawn."""
        if by is None:
            raise ConsentInvalid(["Entered by: choose who is taking it back."])
        return self.consents.correct(original_id, None, reason=reason, recorded_at=at, by=by)

    def history(self, client_id: uuid.UUID) -> list[ConsentRecord]:
        """Every version of the client's consents, in the order they were written."""
        return self.consents.history(client_id)

    def status(self, client_id: uuid.UUID, at: datetime) -> ConsentStatus:
        return self.status_of(client_id, self.consents.history(client_id), at)

    def statuses(self, client_ids: Sequence[uuid.UUID], at: datetime) -> list[ConsentStatus]:
        rows = self.consents.of_clients(list(client_ids))
        return [self.status_of(c, [r for r in rows if r.client_id == c], at) for c in client_ids]

    def status_of(
        self, client_id: uuid.UUID, rows: Sequence[ConsentRecord], at: datetime
    ) -> ConsentStatus:
        today = local_day(at)
        standing = effective(rows)
        by_consent = {id(r.consent): r for r in standing}
        kap = newest((r.consent for r in standing), ConsentKind.KAP_TREATMENT)
        touch = newest((r.consent for r in standing), ConsentKind.TOUCH)
        why = why_not_current(kap, today, self.valid_days)
        return ConsentStatus(
            client_id=client_id,
            kap=None if kap is None else by_consent[id(kap)],
            why_not=why,
            touch=touch_text(touch, today, self.valid_days),
            ends=None if kap is None else expiry(kap, self.valid_days),
        )
