"""Clients' profiles in storage (issue 17): versions appended, the newest standing, lists kept
as they were saved, and the date of birth and record number corrected with an audit row; on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kapsession.domain.client_profile import (
    Allergy,
    ClientProfile,
    CurrentMedication,
    Diagnosis,
    EmergencyContact,
    MedicationClass,
    Sex,
)
from kapsession.records.client_profile import IdentityCorrection
from kapsession.records.errors import StorageError
from kapsession.storage import schema
from kapsession.storage.client_profiles import ClientProfileRepository, ProfileChanged
from kapsession.storage.client_profiles import profile_columns as columns_of

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

FULL = ClientProfile(
    preferred_name="Mo",
    sex=Sex.FEMALE,
    gender_identity="non-binary",
    record_system="urn:oid:2.16.840.1.113883.3.1234",
    phone="+1 555 0100",
    email="maya@example.org",
    address="12 Elm St\nSpringfield",
    emergency_contact=EmergencyContact("Jon Fischer", "+1 555 0101", "brother"),
    referring_clinician="Dr. Ana Ruiz",
    allergies=(Allergy("Penicillin", "rash"), Allergy("Latex")),
    medications=(
        CurrentMedication(
            "Lorazepam",
            "0.5 mg at night",
            frozenset({MedicationClass.BENZODIAZEPINE, MedicationClass.SEDATIVE_HYPNOTIC}),
        ),
        CurrentMedication("Sertraline", "100 mg"),
    ),
    weight_kg=72.5,
    weight_measured_on=date(2026, 11, 20),
    diagnoses=(Diagnosis("Major depressive disorder, recurrent, moderate", "F33.1"),),
)


def _count(clinic: Clinic, table: str) -> int:
    with clinic.db.rows() as rows:
        return int(
            rows.execute(
                select(func.count()).select_from(schema.metadata.tables[table])
            ).scalar_one()
        )


def test_a_client_without_a_version_has_nothing_recorded(clinic: Clinic) -> None:
    # Given a client added before profiles existed (no version)
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    # Then there is no current profile and no history
    assert repo.current(client.id) is None
    assert repo.history(client.id) == []


def test_every_field_and_list_reads_back_as_saved(clinic: Clinic) -> None:
    # Given a client
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    at = clinic.now()
    # When a full profile is saved
    saved = repo.save(client.id, FULL, at=at, by=clinic.therapist.id, replaces=None)
    # Then it reads back equal, lists and classes included, with who saved it and when
    current = repo.current(client.id)
    assert current is not None and saved.version == current
    assert current.profile == FULL
    assert (current.recorded_at, current.recorded_by_id) == (at, clinic.therapist.id)
    assert current.recorded_by == "Dr. Ruth Okafor, MD"
    assert (current.replaces_id, current.reason) == (None, None)


@pytest.mark.parametrize(
    ("allergies", "medications"),
    [(None, None), ((), ()), ((Allergy("Codeine", "nausea"),), None)],
)
def test_not_recorded_and_none_are_kept_apart(
    clinic: Clinic,
    allergies: tuple[Allergy, ...] | None,
    medications: tuple[CurrentMedication, ...] | None,
) -> None:
    # Given lists "not recorded" (None) or "none" (empty)
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    profile = ClientProfile(allergies=allergies, medications=medications)
    # When saved and read back, Then each is as it was
    repo.save(client.id, profile, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    current = repo.current(client.id)
    assert current is not None
    assert (current.profile.allergies, current.profile.medications) == (allergies, medications)
    # And "not recorded" is SQL NULL, "none" an empty JSON list
    with clinic.db.rows() as rows:
        stored = rows.execute(select(schema.client_profile.c.allergies)).scalar_one()
    assert stored == (None if allergies is None else columns_of(profile)["allergies"])


def test_the_newest_version_stands_and_the_history_keeps_every_one(clinic: Clinic) -> None:
    # Given a first version
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    first = repo.save(
        client.id, ClientProfile(weight_kg=80.0, weight_measured_on=date(2026, 10, 1)),
        at=clinic.now(), by=clinic.therapist.id, replaces=None,
    ).version  # fmt: skip
    assert first is not None
    # When a second replaces it, with a reason
    second = repo.save(
        client.id, ClientProfile(weight_kg=78.0, weight_measured_on=date(2026, 12, 1)),
        at=clinic.now(), by=clinic.therapist.id, replaces=first.id, reason="  weighed again ",
    ).version  # fmt: skip
    # Then the second stands, and the history holds both, oldest first, the first unchanged
    assert second is not None
    assert repo.current(client.id) == second
    assert repo.history(client.id) == [first, second]
    assert (second.replaces_id, second.reason) == (first.id, "weighed again")
    # And another client's profile is not theirs
    assert repo.current(clinic.add_client("Ben", "Ortiz").id) is None


def test_a_version_replacing_another_needs_a_reason(clinic: Clinic) -> None:
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    first = repo.save(client.id, FULL, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    assert first.version is not None
    with pytest.raises(StorageError, match="reason"):
        repo.save(
            client.id, ClientProfile(), at=clinic.now(), by=clinic.therapist.id,
            replaces=first.version.id, reason="  ",
        )  # fmt: skip
    assert repo.history(client.id) == [first.version]


def test_a_save_from_a_version_that_no_longer_stands_is_refused(clinic: Clinic) -> None:
    # Given two people opened the same version, and one saved a new version
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    first = repo.save(client.id, FULL, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    assert first.version is not None
    repo.save(
        client.id, ClientProfile(preferred_name="M"), at=clinic.now(), by=clinic.therapist.id,
        replaces=first.version.id, reason="name",
    )  # fmt: skip
    before = repo.history(client.id)
    # When the other saves from the first version (or as if there were none)
    for stale in (first.version.id, None):
        with pytest.raises(ProfileChanged, match="open it again"):
            repo.save(
                client.id, ClientProfile(preferred_name="Maya"), at=clinic.now(),
                by=clinic.therapist.id, replaces=stale, reason="mine",
            )  # fmt: skip
    # Then nothing was written
    assert repo.history(client.id) == before


def test_the_database_refuses_to_change_or_delete_a_version(clinic: Clinic) -> None:
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    saved = repo.save(client.id, FULL, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    assert saved.version is not None
    for statement in (
        "UPDATE client_profile SET weight_kg = 420 WHERE id = :id",
        "DELETE FROM client_profile WHERE id = :id",
    ):
        sql = text(statement).bindparams(bindparam("id", saved.version.id, type_=Uuid()))
        with pytest.raises(DBAPIError, match="append-only"), clinic.db.engine.begin() as c:
            c.execute(sql)
    assert repo.history(client.id) == [saved.version]


def test_the_database_refuses_two_versions_replacing_the_same_one(clinic: Clinic) -> None:
    # Given a version replaced once
    client = clinic.add_client()
    repo = ClientProfileRepository(clinic.db)
    first = repo.save(client.id, FULL, at=clinic.now(), by=clinic.therapist.id, replaces=None)
    assert first.version is not None
    repo.save(
        client.id, ClientProfile(), at=clinic.now(), by=clinic.therapist.id,
        replaces=first.version.id, reason="cleared",
    )  # fmt: skip
    # When a second row replacing it is written past the repository, Then the database refuses
    with pytest.raises(IntegrityError), clinic.db.engine.begin() as connection:
        connection.execute(
            schema.client_profile.insert().values(
                client_id=client.id, recorded_at=clinic.now(), recorded_by_id=clinic.therapist.id,
                replaces_id=first.version.id, reason="race", **columns_of(ClientProfile()),
            )
        )  # fmt: skip


def test_a_corrected_date_of_birth_and_record_number_keep_the_old_values_in_the_audit(
    clinic: Clinic,
) -> None:
    # Given a client entered with a wrong date of birth and record number
    client = clinic.add_client(date_of_birth=date(1948, 3, 2), record_number="KAP-0031")
    repo = ClientProfileRepository(clinic.db)
    # When both are corrected, with a reason, and no profile change
    saved = repo.save(
        client.id, None, at=clinic.now(), by=clinic.therapist.id, replaces=None,
        reason="typed from the wrong chart",
        identity=IdentityCorrection(date(1984, 3, 2), "KAP-0013"),
    )  # fmt: skip
    # Then the client stands corrected, and no profile version was written
    assert saved.version is None
    assert (saved.client.date_of_birth, saved.client.record_number) == (
        date(1984, 3, 2),
        "KAP-0013",
    )
    assert clinic.clients.get(client.id) == saved.client
    assert _count(clinic, "client_profile") == 0
    # And the audit row says what they were, what they became, who and why
    with clinic.db.rows() as rows:
        audit = rows.execute(
            select(schema.audit_entry).where(schema.audit_entry.c.action == "client.correct")
        ).one()
    assert audit.staff_id == clinic.therapist.id
    assert audit.entity_id == str(client.id)
    assert audit.detail == {
        "date_of_birth": {"from": "1948-03-02", "to": "1984-03-02"},
        "record_number": {"from": "KAP-0031", "to": "KAP-0013"},
        "reason": "typed from the wrong chart",
    }


def test_a_correction_without_a_reason_or_to_a_taken_record_number_stores_nothing(
    clinic: Clinic,
) -> None:
    # Given two clients
    clinic.add_client("Ben", "Ortiz", record_number="KAP-0002")
    client = clinic.add_client(record_number="KAP-0001")
    repo = ClientProfileRepository(clinic.db)
    audits = _count(clinic, "audit_entry")
    # When the record number is corrected without a reason, or to the other's
    with pytest.raises(StorageError, match="reason"):
        repo.save(
            client.id, FULL, at=clinic.now(), by=clinic.therapist.id, replaces=None,
            identity=IdentityCorrection(None, "KAP-0009"),
        )  # fmt: skip
    with pytest.raises(StorageError, match="KAP-0002 already belongs to another client"):
        repo.save(
            client.id, FULL, at=clinic.now(), by=clinic.therapist.id, replaces=None,
            reason="typo", identity=IdentityCorrection(None, "KAP-0002"),
        )  # fmt: skip
    # Then neither the client, nor a profile version, nor an audit row changed
    assert clinic.clients.get(client.id).record_number == "KAP-0001"
    assert _count(clinic, "client_profile") == 0
    assert _count(clinic, "audit_entry") == audits


def test_a_profile_version_is_audited_with_who_saved_it(clinic: Clinic) -> None:
    client = clinic.add_client()
    saved = ClientProfileRepository(clinic.db).save(
        client.id, FULL, at=clinic.now(), by=clinic.therapist.id, replaces=None
    )
    assert saved.version is not None
    with clinic.db.read() as orm:
        audit = orm.scalars(
            select(models.AuditEntry).where(models.AuditEntry.action == "client_profile.save")
        ).one()
        assert (audit.entity_id, audit.staff_id) == (str(saved.version.id), clinic.therapist.id)
