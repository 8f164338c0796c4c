"""Clients' consents (issue 17): each version of a KAP treatment or touch consent, written,
corrected and read like every clinical entry.

Every method commits before it returns, with its audit row. A consent belongs to a client, not
to a session. A correction (other values, or the client's withdrawal: `withdrawn_on`) is a new
row naming the standing version it replaces, with the reason; one entered in error is taken
back by a row that voids it. The checks of what was entered are the domain's
(`domain.consent.problems`), made by the service. Reads go through the tables (`rows()`), so
that the start screen can use them before the ORM loads.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select

from kapsession.domain.consent import Consent, ConsentKind
from kapsession.records.consent import ConsentRecord
from kapsession.records.errors import NotFound, StorageError
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.corrections import correction_reason
from kapsession.storage.database import Database
from kapsession.storage.entry_rules import refuse_if_superseded

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

WHAT = "consent"


def _name(name: str | None, credentials: str | None) -> str:
    name, credentials = name or "", credentials or ""
    return f"{name}, {credentials}" if credentials else name


def _columns(consent: Consent) -> dict[str, Any]:
    return {
        "kind": consent.kind.value,
        "given": consent.given,
        "signed_on": consent.signed_on,
        "form_version": consent.form_version.strip(),
        "witness_id": consent.witness_id,
        "expires_on": consent.expires_on,
        "withdrawn_on": consent.withdrawn_on,
    }


class ConsentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self, client_id: uuid.UUID, consent: Consent, *, recorded_at: datetime, by: uuid.UUID
    ) -> ConsentRecord:
        """Store a consent as entered, with its audit row."""
        with self._db.write("save the consent") as orm:
            if orm.get(models.Client, client_id) is None:
                raise NotFound(f"No client with id {client_id}.")
            self._check_witness(orm, consent.witness_id)
            row = models.Consent(
                client_id=client_id,
                recorded_at=recorded_at,
                recorded_by_id=by,
                voids=False,
                **_columns(consent),
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action="consent.add",
                entity="consent",
                entity_id=row.id,
                detail={"client_id": str(client_id), "kind": row.kind, "given": row.given},
            )
            row_id = row.id
        return self._one(row_id)

    def correct(
        self,
        original_id: uuid.UUID,
        consent: Consent | None,
        *,
        reason: str,
        recorded_at: datetime,
        by: uuid.UUID,
    ) -> ConsentRecord:
        """The consent as it should stand (`consent`: other values, or withdrawn by the client
        from a day), or taken back as entered in error (None): a new row with the reason; the
        original stays."""
        why = correction_reason(reason, "A correction needs a reason: write why it changed.")
        with self._db.write("save the consent") as orm:
            original = orm.get(models.Consent, original_id)
            if original is None:
                raise NotFound(f"No {WHAT} with id {original_id}.")
            refuse_if_superseded(orm, models.Consent, original_id, WHAT)
            values = {c: getattr(original, c) for c in _columns_of_table()}
            if consent is not None:
                if consent.kind.value != original.kind:
                    raise StorageError(
                        "A correction keeps the kind of consent; take this one back as entered "
                        "in error and enter the other kind instead."
                    )
                self._check_witness(orm, consent.witness_id)
                values.update(_columns(consent))
            row = models.Consent(
                **values,
                recorded_at=recorded_at,
                recorded_by_id=by,
                corrects_id=original.id,
                correction_reason=why,
                voids=consent is None,
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=recorded_at,
                staff_id=by,
                action="consent.correct",
                entity="consent",
                entity_id=row.id,
                detail={"corrects": str(original.id), "reason": why, "voids": consent is None},
            )
            row_id = row.id
        return self._one(row_id)

    @staticmethod
    def _check_witness(orm: OrmSession, witness_id: uuid.UUID) -> None:
        if orm.get(models.Staff, witness_id) is None:
            raise StorageError("Witnessed by: choose the staff member who witnessed it.")

    def history(self, client_id: uuid.UUID) -> list[ConsentRecord]:
        """Every version of every consent of the client, in the order they were written."""
        return self._read(schema.consent.c.client_id == client_id)

    def of_clients(self, client_ids: list[uuid.UUID]) -> list[ConsentRecord]:
        """Every version of the consents of these clients, in the order they were written."""
        return self._read(schema.consent.c.client_id.in_(client_ids))

    def _one(self, row_id: uuid.UUID) -> ConsentRecord:
        (record,) = self._read(schema.consent.c.id == row_id)
        return record

    def _read(self, where: Any) -> list[ConsentRecord]:
        consent = schema.consent
        witness, author = schema.staff.alias("witness"), schema.staff.alias("author")
        query = (
            select(
                consent,
                witness.c.display_name.label("witness_name"),
                witness.c.credentials.label("witness_credentials"),
                author.c.display_name.label("author_name"),
                author.c.credentials.label("author_credentials"),
            )
            .join(witness, witness.c.id == consent.c.witness_id, isouter=True)
            .join(author, author.c.id == consent.c.recorded_by_id, isouter=True)
            .where(where)
            .order_by(consent.c.recorded_at, consent.c.id)
        )
        with self._db.rows() as rows:
            return [_record(row) for row in rows.execute(query)]


def _columns_of_table() -> tuple[str, ...]:
    return ("client_id", *(f.name for f in dataclasses.fields(Consent)))


def _record(row: Row[Any]) -> ConsentRecord:
    return ConsentRecord(
        id=row.id,
        client_id=row.client_id,
        consent=Consent(
            kind=ConsentKind(row.kind),
            given=row.given,
            signed_on=row.signed_on,
            form_version=row.form_version,
            witness_id=row.witness_id,
            expires_on=row.expires_on,
            withdrawn_on=row.withdrawn_on,
        ),
        witness=_name(row.witness_name, row.witness_credentials),
        recorded_at=row.recorded_at,
        recorded_by_id=row.recorded_by_id,
        recorded_by=_name(row.author_name, row.author_credentials),
        corrects_id=row.corrects_id,
        correction_reason=row.correction_reason,
        voids=row.voids,
    )
