"""Clients' profiles (issue 17): versions appended, never changed, the newest standing; and the
correction of a client's date of birth or record number.

A version is a row of `client_profile` (lists as JSON); saving one names the version it
replaces, which must be the one standing when it is written, so that two people editing the
same profile cannot silently overwrite each other. Reads go through the table (`rows()`), so
that the start screen can use them before the ORM is loaded.

The date of birth and the record number stay in `client`, where every reader (search, the
lists, the exports) finds them and where the record number is unique; a correction changes that
row and writes an audit row with what they were, what they became, who and why, in the same
transaction as the profile version saved with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, RowMapping, select

from kapsession.domain.client_profile import (
    Allergy,
    ClientProfile,
    CurrentMedication,
    Diagnosis,
    EmergencyContact,
    MedicationClass,
    Sex,
)
from kapsession.records.client_profile import IdentityCorrection, ProfileVersion
from kapsession.records.errors import NotFound, StorageError
from kapsession.records.people import ClientRecord
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database
from kapsession.storage.people import client_record
from kapsession.storage.version_chain import chain_head, in_chain_order

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models


class ProfileChanged(StorageError):
    """Another version was saved since the one being edited was read."""


@dataclass(frozen=True)
class ProfileSaved:
    """What a profile save wrote, and the client as they now stand."""

    version: ProfileVersion | None  # None: the profile was as it stood, no version written
    client: ClientRecord  # as it stands after the save (a corrected identity)


def profile_columns(profile: ClientProfile) -> dict[str, Any]:
    """The columns of a version holding `profile`."""
    contact = profile.emergency_contact
    return {
        "preferred_name": profile.preferred_name,
        "sex": None if profile.sex is None else profile.sex.value,
        "gender_identity": profile.gender_identity,
        "record_system": profile.record_system,
        "phone": profile.phone,
        "email": profile.email,
        "address": profile.address,
        "emergency_name": contact.name,
        "emergency_phone": contact.phone,
        "emergency_relationship": contact.relationship,
        "referring_clinician": profile.referring_clinician,
        "allergies": None
        if profile.allergies is None
        else [{"substance": a.substance, "reaction": a.reaction} for a in profile.allergies],
        "medications": None
        if profile.medications is None
        else [
            {"name": m.name, "dose": m.dose, "classes": sorted(c.value for c in m.classes)}
            for m in profile.medications
        ],
        "weight_kg": profile.weight_kg,
        "weight_measured_on": profile.weight_measured_on,
        "diagnoses": [{"text": d.text, "icd10_code": d.icd10_code} for d in profile.diagnoses],
    }


def _profile(row: RowMapping) -> ClientProfile:
    allergies = row["allergies"]
    medications = row["medications"]
    return ClientProfile(
        preferred_name=row["preferred_name"],
        sex=None if row["sex"] is None else Sex(row["sex"]),
        gender_identity=row["gender_identity"],
        record_system=row["record_system"],
        phone=row["phone"],
        email=row["email"],
        address=row["address"],
        emergency_contact=EmergencyContact(
            row["emergency_name"], row["emergency_phone"], row["emergency_relationship"]
        ),
        referring_clinician=row["referring_clinician"],
        allergies=None
        if allergies is None
        else tuple(Allergy(a["substance"], a.get("reaction", "")) for a in allergies),
        medications=None
        if medications is None
        else tuple(
            CurrentMedication(
                m["name"],
                m.get("dose", ""),
                frozenset(MedicationClass(c) for c in m.get("classes", ())),
            )
            for m in medications
        ),
        weight_kg=row["weight_kg"],
        weight_measured_on=row["weight_measured_on"],
        diagnoses=tuple(
            Diagnosis(d.get("text", ""), d.get("icd10_code", "")) for d in row["diagnoses"]
        ),
    )


def _version(row: Row[Any]) -> ProfileVersion:
    values = row._mapping
    name = values["staff_name"] or ""
    credentials = values["staff_credentials"] or ""
    return ProfileVersion(
        id=values["id"],
        client_id=values["client_id"],
        profile=_profile(values),
        recorded_at=values["recorded_at"],
        recorded_by_id=values["recorded_by_id"],
        recorded_by=f"{name}, {credentials}" if credentials else name,
        replaces_id=values["replaces_id"],
        reason=values["reason"],
    )


class ClientProfileRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def history(self, client_id: uuid.UUID) -> list[ProfileVersion]:
        """Every saved version of the client's profile, oldest first; [] when none was saved."""
        profile, staff = schema.client_profile, schema.staff
        query = (
            select(
                profile,
                staff.c.display_name.label("staff_name"),
                staff.c.credentials.label("staff_credentials"),
            )
            .join(staff, staff.c.id == profile.c.recorded_by_id, isouter=True)
            .where(profile.c.client_id == client_id)
        )
        with self._db.rows() as rows:
            return in_chain_order([_version(row) for row in rows.execute(query)])

    def current(self, client_id: uuid.UUID) -> ProfileVersion | None:
        """The profile as it stands: the newest version (None: nothing recorded yet)."""
        versions = self.history(client_id)
        return versions[-1] if versions else None

    def save(
        self,
        client_id: uuid.UUID,
        profile: ClientProfile | None,
        *,
        at: datetime,
        by: uuid.UUID,
        replaces: uuid.UUID | None,
        reason: str | None = None,
        identity: IdentityCorrection | None = None,
    ) -> ProfileSaved:
        """Append `profile` as the client's new version (None: the profile is not changed),
        replacing `replaces` (the version standing now: None for the first), and correct the
        client's date of birth and record number to `identity` when it differs; one
        transaction, with its audit rows. A version replacing another, and a correction, need
        a `reason`."""
        why = (reason or "").strip() or None
        with self._db.write("save the client's profile") as orm:
            client = orm.get(models.Client, client_id)
            if client is None:
                raise NotFound(f"No client with id {client_id}.")
            if identity is not None:
                self._correct(orm, client, identity, at=at, by=by, reason=why)
            version = None
            if profile is not None:
                version = self._append(orm, client_id, profile, at, by, replaces, why)
            saved_client = client_record(client)
        return ProfileSaved(
            version=None if version is None else self._read(version), client=saved_client
        )

    def _append(
        self,
        orm: OrmSession,
        client_id: uuid.UUID,
        profile: ClientProfile,
        at: datetime,
        by: uuid.UUID,
        replaces: uuid.UUID | None,
        reason: str | None,
    ) -> uuid.UUID:
        table = schema.client_profile
        if chain_head(orm, table, table.c.client_id, client_id) != replaces:
            raise ProfileChanged(
                "The profile was saved by someone else since it was opened; close it and open "
                "it again to see their version."
            )
        if replaces is not None and reason is None:
            raise StorageError("A new version of the profile needs the reason for the change.")
        row = models.ClientProfileVersion(
            client_id=client_id,
            recorded_at=at,
            recorded_by_id=by,
            replaces_id=replaces,
            reason=reason,
            **profile_columns(profile),
        )
        orm.add(row)
        orm.flush()
        write_audit(
            orm,
            at=at,
            staff_id=by,
            action="client_profile.save",
            entity="client_profile",
            entity_id=row.id,
            detail={
                "client_id": str(client_id),
                "replaces": None if replaces is None else str(replaces),
            },
        )
        return row.id

    @staticmethod
    def _correct(
        orm: OrmSession,
        client: models.Client,
        identity: IdentityCorrection,
        *,
        at: datetime,
        by: uuid.UUID,
        reason: str | None,
    ) -> None:
        number = (identity.record_number or "").strip() or None
        changes: dict[str, dict[str, str | None]] = {}
        if identity.date_of_birth != client.date_of_birth:
            changes["date_of_birth"] = {
                "from": None if client.date_of_birth is None else client.date_of_birth.isoformat(),
                "to": None
                if identity.date_of_birth is None
                else identity.date_of_birth.isoformat(),
            }
        if number != client.record_number:
            changes["record_number"] = {"from": client.record_number, "to": number}
        if not changes:
            return
        if reason is None:
            raise StorageError(
                "Correcting the date of birth or the record number needs the reason."
            )
        if "record_number" in changes and number is not None:
            other = orm.scalar(
                select(models.Client.id).where(
                    models.Client.record_number == number, models.Client.id != client.id
                )
            )
            if other is not None:
                raise StorageError(
                    f"Record number {number} already belongs to another client; check it."
                )
        client.date_of_birth = identity.date_of_birth
        client.record_number = number
        write_audit(
            orm,
            at=at,
            staff_id=by,
            action="client.correct",
            entity="client",
            entity_id=client.id,
            detail={**changes, "reason": reason},
        )

    def _read(self, version_id: uuid.UUID) -> ProfileVersion:
        profile, staff = schema.client_profile, schema.staff
        query = (
            select(
                profile,
                staff.c.display_name.label("staff_name"),
                staff.c.credentials.label("staff_credentials"),
            )
            .join(staff, staff.c.id == profile.c.recorded_by_id, isouter=True)
            .where(profile.c.id == version_id)
        )
        with self._db.rows() as rows:
            return _version(rows.execute(query).one())
