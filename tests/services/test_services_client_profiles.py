"""Saving a client's profile (issue 17): a bad version is refused with its problems and nothing
is stored; who saved it is named; a change needs its reason."""

from __future__ import annotations

from datetime import date

import pytest

from kapsession.domain.client_profile import NOT_RECORDED, Allergy, ClientProfile, Diagnosis
from kapsession.domain.clock import FakeClock
from kapsession.records.client_profile import IdentityCorrection
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.services.client_profiles import ProfileInvalid
from kapsession.services.context import AppContext
from kapsession.storage.client_profiles import ProfileChanged


def _client_and_nurse(context: AppContext, clock: FakeClock) -> tuple[ClientRecord, StaffRecord]:
    service = context.service
    nurse = service.add_staff("Tom Becker", "nurse", at=clock.now(), credentials="RN")
    client = service.add_client(
        "Maya", "Fischer", at=clock.now(), date_of_birth=date(1984, 3, 2), record_number="K-1"
    )
    return client, nurse


def test_a_client_without_a_profile_reads_as_not_recorded(
    context: AppContext, clock: FakeClock
) -> None:
    client, _nurse = _client_and_nurse(context, clock)
    profiles = context.service.profiles
    assert profiles.profile(client.id) == NOT_RECORDED
    assert profiles.current(client.id) is None
    assert profiles.history(client.id) == []


def test_a_valid_profile_is_saved_with_who_saved_it_and_a_change_needs_a_reason(
    context: AppContext, clock: FakeClock
) -> None:
    # Given a client and a nurse
    client, nurse = _client_and_nurse(context, clock)
    profiles = context.service.profiles
    first_profile = ClientProfile(
        allergies=(Allergy("Penicillin", "rash"),),
        weight_kg=72.5,
        weight_measured_on=date(2026, 11, 10),
        diagnoses=(Diagnosis(icd10_code="F33.1"),),
    )
    # When the first version is saved, no reason asked
    first = profiles.save(client.id, first_profile, at=clock.now(), by=nurse.id, based_on=None)
    # Then it stands, saved by the nurse
    assert first.version is not None
    assert profiles.profile(client.id) == first_profile
    assert first.version.recorded_by == "Tom Becker, RN"
    # When it is changed without a reason, Then it is refused and nothing is stored
    changed = ClientProfile(weight_kg=70.0, weight_measured_on=date(2026, 11, 25))
    with pytest.raises(ProfileInvalid) as refused:
        profiles.save(client.id, changed, at=clock.now(), by=nurse.id, based_on=first.version.id)
    assert [p.field for p in refused.value.problems] == ["reason"]
    assert profiles.history(client.id) == [first.version]
    # When it is changed with a reason, Then the new version stands and the first is history
    second = profiles.save(
        client.id, changed, at=clock.now(), by=nurse.id, based_on=first.version.id,
        reason="weighed today",
    )  # fmt: skip
    assert profiles.history(client.id) == [first.version, second.version]


@pytest.mark.parametrize(
    ("profile", "identity", "by", "field", "message"),
    [
        (
            ClientProfile(weight_kg=420.0, weight_measured_on=date(2026, 11, 25)),
            None, True, "weight_kg", "Weight: 420 kg is outside 20–300 kg.",
        ),
        (
            ClientProfile(email="maya.example.org"),
            None, True, "email", "Email: 'maya.example.org' is not an address",
        ),
        (
            ClientProfile(diagnoses=(Diagnosis(icd10_code="F331"),)),
            None, True, "diagnoses", "Diagnosis 1: 'F331' is not an ICD-10-CM code",
        ),
        (
            NOT_RECORDED, IdentityCorrection(date(2031, 2, 1), "K-1"), True, "date_of_birth",
            "Date of birth: 2031-02-01 is in the future.",
        ),
        (
            ClientProfile(preferred_name="Mo"), None, False, "recorded_by",
            "Saved by: choose who is saving it.",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    context: AppContext,
    clock: FakeClock,
    profile: ClientProfile,
    identity: IdentityCorrection | None,
    by: bool,
    field: str,
    message: str,
) -> None:
    # Given a client with no profile
    client, nurse = _client_and_nurse(context, clock)
    profiles = context.service.profiles
    audits = len(context.service.audit.all())
    # When a bad profile or correction is saved
    with pytest.raises(ProfileInvalid) as refused:
        profiles.save(
            client.id, profile, at=clock.now(), by=nurse.id if by else None, based_on=None,
            reason="entered from the referral", identity=identity,
        )  # fmt: skip
    # Then the problem names the field and its range
    (problem,) = refused.value.problems
    assert problem.field == field
    assert problem.message.startswith(message)
    # And nothing is stored: no version, the client as it was, no audit row
    assert profiles.history(client.id) == []
    assert context.service.clients.get(client.id) == client
    assert len(context.service.audit.all()) == audits


def test_a_correction_of_the_date_of_birth_needs_a_reason_and_stores_no_version(
    context: AppContext, clock: FakeClock
) -> None:
    # Given a client with a date of birth typed wrong
    client, nurse = _client_and_nurse(context, clock)
    profiles = context.service.profiles
    corrected = IdentityCorrection(date(1948, 3, 2), "K-1")
    # When it is corrected without a reason, Then it is refused
    with pytest.raises(ProfileInvalid) as refused:
        profiles.save(
            client.id, NOT_RECORDED, at=clock.now(), by=nurse.id, based_on=None,
            identity=corrected,
        )  # fmt: skip
    assert refused.value.problems[0].message.startswith("Reason for the change: write why the date")
    # When it is corrected with a reason, Then the client stands corrected, with no version
    saved = profiles.save(
        client.id, NOT_RECORDED, at=clock.now(), by=nurse.id, based_on=None,
        identity=corrected, reason="the referral letter says 1948",
    )  # fmt: skip
    assert saved.version is None
    assert context.service.clients.get(client.id).date_of_birth == date(1948, 3, 2)


def test_saving_the_profile_as_it_stands_stores_nothing(
    context: AppContext, clock: FakeClock
) -> None:
    client, _nurse = _client_and_nurse(context, clock)
    profiles = context.service.profiles
    saved = profiles.save(
        client.id, NOT_RECORDED, at=clock.now(), by=None, based_on=None,
        identity=IdentityCorrection(date(1984, 3, 2), "K-1"),
    )  # fmt: skip
    assert saved.version is None
    assert profiles.history(client.id) == []


def test_a_save_from_a_version_someone_replaced_meanwhile_is_refused(
    context: AppContext, clock: FakeClock
) -> None:
    client, nurse = _client_and_nurse(context, clock)
    profiles = context.service.profiles
    first = profiles.save(
        client.id, ClientProfile(preferred_name="Mo"), at=clock.now(), by=nurse.id,
        based_on=None,
    )  # fmt: skip
    with pytest.raises(ProfileChanged):
        profiles.save(
            client.id, ClientProfile(preferred_name="May"), at=clock.now(), by=nurse.id,
            based_on=None, reason="mine",
        )  # fmt: skip
    assert profiles.history(client.id) == [first.version]
