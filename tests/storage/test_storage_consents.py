"""Clients' consents in storage (issue 17), on SQLite and PostgreSQL: each version kept, a
correction or a withdrawal a new row naming the one it replaces, an older version not corrected
twice, every write with its audit row, and the reads through the tables alone."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from kapsession.domain.consent import Consent, ConsentKind
from kapsession.domain.corrections import effective
from kapsession.records.errors import NotFound, StorageError
from kapsession.storage import schema
from kapsession.storage.consents import ConsentRepository

if TYPE_CHECKING:
    from conftest import Clinic

SIGNED = date(2026, 11, 20)


def _consent(clinic: Clinic, kind: ConsentKind = ConsentKind.KAP_TREATMENT) -> Consent:
    return Consent(kind, True, SIGNED, "v3", clinic.therapist.id)


def _audit_actions(clinic: Clinic) -> list[str]:
    audit = schema.audit_entry
    with clinic.db.rows() as rows:
        return list(
            rows.execute(
                select(audit.c.action)
                .where(audit.c.entity == "consent")
                .order_by(audit.c.occurred_at)
            ).scalars()
        )


def test_a_consent_is_stored_as_entered_with_its_witness_and_audit_row(clinic: Clinic) -> None:
    # Given a client
    client = clinic.add_client()
    consents = ConsentRepository(clinic.db)
    # When their KAP treatment consent is stored
    saved = consents.add(
        client.id, _consent(clinic), recorded_at=clinic.now(), by=clinic.therapist.id
    )
    # Then it reads back as entered, naming the witness as they sign
    assert consents.history(client.id) == [saved]
    assert saved.consent == _consent(clinic)
    assert saved.witness == "Dr. Ruth Okafor, MD"
    assert saved.recorded_by == "Dr. Ruth Okafor, MD"
    # And its audit row was written with it
    assert _audit_actions(clinic) == ["consent.add"]


def test_a_withdrawal_is_a_new_version_and_the_first_stays(clinic: Clinic) -> None:
    # Given a stored consent
    client = clinic.add_client()
    consents = ConsentRepository(clinic.db)
    first = consents.add(
        client.id, _consent(clinic), recorded_at=clinic.now(), by=clinic.therapist.id
    )
    # When the client's withdrawal is recorded
    withdrawn = dataclasses.replace(_consent(clinic), withdrawn_on=date(2026, 11, 25))
    second = consents.correct(
        first.id, withdrawn, reason="Client withdrew consent by phone", recorded_at=clinic.now(),
        by=clinic.therapist.id,
    )  # fmt: skip
    # Then both versions are kept, the second naming the first and why
    assert consents.history(client.id) == [first, second]
    assert second.corrects_id == first.id
    assert second.correction_reason == "Client withdrew consent by phone"
    assert effective(consents.history(client.id)) == [second]
    assert _audit_actions(clinic) == ["consent.add", "consent.correct"]
    # And the first version cannot be corrected again: the newest is corrected
    with pytest.raises(StorageError, match="already corrected"):
        consents.correct(
            first.id, None, reason="wrong", recorded_at=clinic.now(), by=clinic.therapist.id
        )


def test_a_consent_entered_in_error_is_taken_back_and_stays_in_the_history(clinic: Clinic) -> None:
    client = clinic.add_client()
    consents = ConsentRepository(clinic.db)
    first = consents.add(
        client.id, _consent(clinic), recorded_at=clinic.now(), by=clinic.therapist.id
    )
    # When it is taken back as entered in error
    void = consents.correct(
        first.id, None, reason="Wrong client", recorded_at=clinic.now(), by=clinic.therapist.id
    )
    # Then nothing stands, and both rows are kept
    assert void.voids
    assert effective(consents.history(client.id)) == []
    assert len(consents.history(client.id)) == 2


def test_a_correction_keeps_the_kind_and_needs_a_reason(clinic: Clinic) -> None:
    client = clinic.add_client()
    consents = ConsentRepository(clinic.db)
    first = consents.add(
        client.id, _consent(clinic), recorded_at=clinic.now(), by=clinic.therapist.id
    )
    with pytest.raises(StorageError, match="keeps the kind"):
        consents.correct(
            first.id, _consent(clinic, ConsentKind.TOUCH), reason="x", recorded_at=clinic.now(),
            by=clinic.therapist.id,
        )  # fmt: skip
    with pytest.raises(StorageError, match="reason"):
        consents.correct(
            first.id, None, reason="  ", recorded_at=clinic.now(), by=clinic.therapist.id
        )
    # And nothing was written by either
    assert consents.history(client.id) == [first]


def test_a_consent_for_an_unknown_client_is_refused(clinic: Clinic) -> None:

    with pytest.raises(NotFound):
        ConsentRepository(clinic.db).add(
            uuid.uuid4(), _consent(clinic), recorded_at=clinic.now(), by=clinic.therapist.id
        )
