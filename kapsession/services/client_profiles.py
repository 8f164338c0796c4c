"""A client's profile (issue 17): read it as it stands and its history, save a new version.

A version that does not pass the checks is refused with every problem, naming its field, and
nothing is stored. Who saves it is always named. A version replacing another, or a corrected
date of birth or record number, needs the reason for the change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from kapsession.domain.client_profile import (
    NOT_RECORDED,
    ClientProfile,
    check_date_of_birth,
    check_profile,
)
from kapsession.domain.vitals import FieldProblem
from kapsession.records.client_profile import IdentityCorrection, ProfileVersion
from kapsession.records.errors import StorageError
from kapsession.storage.client_profiles import ClientProfileRepository, ProfileSaved
from kapsession.storage.database import Database
from kapsession.storage.people import ClientRepository

__all__ = ["ClientProfileService", "ProfileInvalid", "ProfileSaved"]


class ProfileInvalid(StorageError):
    """A profile that cannot be saved; `problems` name each field to fix."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(" ".join(p.message for p in problems))
        self.problems = tuple(problems)


class ClientProfileService:
    def __init__(self, database: Database) -> None:
        self.versions = ClientProfileRepository(database)
        self.clients = ClientRepository(database)

    def current(self, client_id: uuid.UUID) -> ProfileVersion | None:
        """The newest version (None: nothing recorded for the client yet)."""
        return self.versions.current(client_id)

    def profile(self, client_id: uuid.UUID) -> ClientProfile:
        """The profile as it stands; "not recorded" everywhere for a client without one."""
        current = self.versions.current(client_id)
        return NOT_RECORDED if current is None else current.profile

    def history(self, client_id: uuid.UUID) -> list[ProfileVersion]:
        """Every version, oldest first."""
        return self.versions.history(client_id)

    def save(
        self,
        client_id: uuid.UUID,
        profile: ClientProfile,
        *,
        at: datetime,
        by: uuid.UUID | None,
        based_on: uuid.UUID | None,
        reason: str = "",
        identity: IdentityCorrection | None = None,
    ) -> ProfileSaved:
        """Save `profile` as the client's new version, edited from the version `based_on`
        (None: there was none), and correct the date of birth and record number to `identity`
        (None: unchanged). Raises ProfileInvalid with every problem, nothing stored. A profile
        as it stands and an unchanged identity store nothing (`version` None)."""
        today = at.astimezone().date()
        client = self.clients.get(client_id)
        current = self.versions.current(client_id)
        standing = NOT_RECORDED if current is None else current.profile
        changed = profile != standing
        corrected = identity is not None and (
            identity.date_of_birth != client.date_of_birth
            or (identity.record_number or None) != client.record_number
        )
        problems: list[FieldProblem] = []
        if identity is not None:
            problems += check_date_of_birth(identity.date_of_birth, today=today)
        problems += check_profile(profile, today=today)
        if (changed or corrected) and not reason.strip() and (corrected or current is not None):
            problems.append(
                FieldProblem(
                    "reason",
                    "Reason for the change: write why "
                    + (
                        "the date of birth or record number is corrected."
                        if corrected
                        else "this version replaces the one saved before."
                    ),
                )
            )
        if (changed or corrected) and by is None:
            problems.append(FieldProblem("recorded_by", "Saved by: choose who is saving it."))
        if problems:
            raise ProfileInvalid(problems)
        if not changed and not corrected:
            return ProfileSaved(version=None, client=client)
        assert by is not None
        # the repository refuses `based_on` if another version was saved since it was read
        return self.versions.save(
            client_id,
            profile if changed else None,
            at=at,
            by=by,
            replaces=based_on,
            reason=reason,
            identity=identity if corrected else None,
        )
