"""Signing a session's record, and signed addenda afterwards.

A signature is all or nothing: the session note it signs, the signature rows, their audit rows
and the session's move to `signed` are one transaction. The monitoring part (doses, readings,
alerts, discharge) and the therapy part (note entries and the session note) are signed once
each, by the same person or by two; the database then refuses new rows in the signed part
(migration 0005), and once both are signed the whole session (0002).

A signature is bound to its signer (issue 18): the caller opens the signer's key with their
signing passphrase (`signing_keys.py`), and the signature row holds the public key and an
Ed25519 signature over `signed_digest`: a SHA-256 over canonical lines (sorted-key JSON) of the
signature's own facts (part, signer, time, meaning, the part's content digest, the public key),
the session's identity, its participants and their clients, and the signer's staff row. The
content digest reads every row of the part (`DIGESTED_TABLES`). Verifying needs only what the
record holds: the public key must be one of the signer's keys and must verify the signature
over what the rows hold now. Signatures from before 0018 carry no key:
they read as made before signatures were bound to a person (`SignatureCheck.UNBOUND`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table, func, select

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules, role_list
from kapsession.domain.roles import ROLE_NAMES, StaffRole, TeamRole
from kapsession.records.errors import AlreadyDone, NotAllowed, NotFound, StorageError
from kapsession.records.notes import (
    MEANINGS,
    PART_NAMES,
    PARTS,
    NoteRecord,
    Pad,
    SessionNoteText,
    SignatureCheck,
    SignatureRecord,
    SignedPart,
)
from kapsession.records.sessions import SessionStatus
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database
from kapsession.storage.notes import check_note_text, clear_draft_row, note_record, sections_json

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
    from kapsession.storage.signing_keys import UnlockedKey
else:
    from kapsession.storage.lazy import models


def signature_record(row: models.Signature) -> SignatureRecord:
    return SignatureRecord(
        id=row.id,
        session_id=row.session_id,
        part=row.part,
        staff_id=row.staff_id,
        signer_name=row.signer_name,
        signer_role=row.signer_role,
        signed_at=row.signed_at,
        meaning=row.meaning,
        content_sha256=row.content_sha256,
        note_id=row.note_id,
        public_key=row.public_key,
        signature=row.signature,
    )


@dataclass(frozen=True)
class DigestedTables:
    """Tables whose rows of a session are hashed together, into one SHA-256, and which rows."""

    tables: tuple[Table, ...]
    rows: Callable[[Table, uuid.UUID], ColumnElement[bool]]  # (table, session id) -> condition


def _of_session(table: Table, session_id: uuid.UUID) -> ColumnElement[bool]:
    return table.c.session_id == session_id


def _of_session_alerts(table: Table, session_id: uuid.UUID) -> ColumnElement[bool]:
    alert = schema.alert
    return table.c.alert_id.in_(select(alert.c.id).where(alert.c.session_id == session_id))


def _notes_but_addenda(table: Table, session_id: uuid.UUID) -> ColumnElement[bool]:
    return (table.c.session_id == session_id) & (table.c.kind != "addendum")


# What each part's digest reads: one hex SHA-256 per entry, joined in this order. Every stored
# signature holds a hash of this, so the grouping and the order stay as they are
# (tests/storage/test_storage_tamper.py pins the digest of a fixed record, and tampers with each
# table listed here).
DIGESTED_TABLES: Mapping[str, tuple[DigestedTables, ...]] = MappingProxyType(
    {
        SignedPart.MONITORING: (
            DigestedTables(
                (
                    schema.dose,
                    schema.observation,
                    schema.alert,
                    schema.discharge_assessment,
                    schema.dose_order,  # issue 16: none in a session before it, same digest
                    # issue 16 (0012); a session without them digests as before
                    schema.adverse_event,
                    schema.intervention,
                    schema.controlled_substance,
                    schema.outcome_measure,  # issue 17 (0014): those given in the session
                ),
                _of_session,
            ),
            DigestedTables((schema.alert_acknowledgement,), _of_session_alerts),
        ),
        SignedPart.THERAPY: (DigestedTables((schema.note,), _notes_but_addenda),),
    }
)


# Columns added after signatures existed, with the value their migration gave older rows: a row
# holding it is digested without the column, so a record signed before the column verifies.
ADDED_LATER: Mapping[tuple[str, str], Any] = MappingProxyType(
    {("observation", "not_taken"): [], ("alert_acknowledgement", "action"): "not_recorded"}
)


def _rows_digest(orm: OrmSession, tables: DigestedTables, session_id: uuid.UUID) -> str:
    """A digest of every column of the rows, in a fixed order, the same on every back-end."""
    digest = hashlib.sha256()
    for table in tables.tables:
        query = select(table).where(tables.rows(table, session_id)).order_by(table.c.id)
        for row in orm.execute(query).mappings():
            values = {
                k: _plain(v)
                for k, v in row.items()
                if (table.name, k) not in ADDED_LATER or v != ADDED_LATER[table.name, k]
            }
            line = json.dumps({"table": table.name, **values}, sort_keys=True)
            digest.update(line.encode("utf-8"))
            digest.update(b"\n")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def part_digest(orm: OrmSession, session_id: uuid.UUID, part: str) -> str:
    """The digest of what a part of the record holds now (see `SignatureRepository.verify`)."""
    if part not in DIGESTED_TABLES:
        raise StorageError(f"Unknown part {part!r}.")
    return "".join(_rows_digest(orm, tables, session_id) for tables in DIGESTED_TABLES[part])


# What a signature covers besides its part's rows (issue 18): the columns of the session, its
# participants, their clients and the signer that say who and which session it is. Columns that
# legitimately change after a part is signed (the session's status, its team) are left out.
SESSION_IDENTITY = (
    "id",
    "created_at",
    "started_at",
    "ended_at",
    "modality",
    "session_type",
    "protocol_key",
    "protocol_version",
    "protocol_sha256",
)
PARTICIPANT_IDENTITY = ("id", "session_id", "client_id", "position", "created_at")
CLIENT_IDENTITY = ("id", "given_name", "family_name", "date_of_birth", "record_number")
STAFF_IDENTITY = ("id", "display_name", "role", "credentials")
SIGNATURE_FORMAT = "kapsession signature/1"


def _canon(value: Any) -> Any:
    """A value as the signed lines hold it: ids as hex, times in UTC, dates as ISO text."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


SIGNATURE_FACTS = (
    "id",
    "session_id",
    "part",
    "staff_id",
    "signer_name",
    "signer_role",
    "signed_at",
    "meaning",
    "content_sha256",
    "note_id",
    "public_key",
)


def _line(table: str, row: Mapping[Any, Any], columns: Sequence[str]) -> str:
    return json.dumps({"table": table, **{c: _canon(row[c]) for c in columns}}, sort_keys=True)


def _by_id(rows: Sequence[Mapping[Any, Any]]) -> list[Mapping[Any, Any]]:
    return sorted(rows, key=lambda row: str(_canon(row["id"])))


def signing_digest(
    facts: Mapping[Any, Any],
    session: Mapping[Any, Any],
    participants: Sequence[Mapping[Any, Any]],
    clients: Sequence[Mapping[Any, Any]],
    signer: Mapping[Any, Any],
) -> bytes:
    """The SHA-256 a signature signs: canonical lines (sorted-key JSON) of the signature's own
    facts (`SIGNATURE_FACTS`), the session's identity, its participants (by id), the clients
    they point to (by id) and the signer's staff row."""
    header = {"format": SIGNATURE_FORMAT, **{k: _canon(facts[k]) for k in SIGNATURE_FACTS}}
    lines = [
        json.dumps(header, sort_keys=True),
        _line("session", session, SESSION_IDENTITY),
        *(_line("participant", row, PARTICIPANT_IDENTITY) for row in _by_id(participants)),
        *(_line("client", row, CLIENT_IDENTITY) for row in _by_id(clients)),
        _line("staff", signer, STAFF_IDENTITY),
    ]
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.digest()


def signed_digest(orm: OrmSession, row: models.Signature) -> bytes:
    """The digest the signature row's Ed25519 signature signs, from what the record holds now
    (`signing_digest`). A session or signer no longer there gives a digest nothing signed."""
    session_t, participant_t = schema.session, schema.participant
    client_t, staff_t = schema.client, schema.staff
    session = orm.execute(select(session_t).where(session_t.c.id == row.session_id)).mappings()
    session_row = session.first()
    signer = orm.execute(select(staff_t).where(staff_t.c.id == row.staff_id)).mappings()
    signer_row = signer.first()
    if session_row is None or signer_row is None:
        return bytes(32)
    participants = list(
        orm.execute(
            select(participant_t).where(participant_t.c.session_id == row.session_id)
        ).mappings()
    )
    ids = {p["client_id"] for p in participants}
    clients = list(orm.execute(select(client_t).where(client_t.c.id.in_(ids))).mappings())
    facts = {k: getattr(row, k) for k in SIGNATURE_FACTS}
    return signing_digest(facts, session_row, participants, clients, signer_row)


def _bind(orm: OrmSession, row: models.Signature, key: UnlockedKey) -> None:
    """Sign the row with the signer's opened key."""
    row.public_key = key.public_key
    row.signature = key.sign(signed_digest(orm, row))


def _signed_by_signer(orm: OrmSession, row: models.Signature) -> bool:
    """Whether the row's public key is one of its signer's keys and signs what the record holds
    now."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = schema.staff_signing_key
    known = orm.execute(
        select(keys.c.id).where(
            keys.c.staff_id == row.staff_id, keys.c.public_key == row.public_key
        )
    ).first()
    if known is None or row.signature is None:
        return False
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(row.public_key or ""))
        public.verify(bytes.fromhex(row.signature), signed_digest(orm, row))
    except (InvalidSignature, ValueError):
        return False
    return True


def _check(orm: OrmSession, row: models.Signature, content_sha256: str) -> SignatureCheck:
    """What verifying `row` finds, given the content digest of what it signed as it is now."""
    if row.content_sha256 != content_sha256:
        return SignatureCheck.CHANGED
    if row.public_key is None and row.signature is None:
        # Not bound: as made before 0018, unless its signer had a key by then (then the key
        # and signature were taken off it)
        keys = schema.staff_signing_key
        had_key = orm.execute(
            select(keys.c.id).where(
                keys.c.staff_id == row.staff_id, keys.c.created_at <= row.signed_at
            )
        ).first()
        return SignatureCheck.CHANGED if had_key else SignatureCheck.UNBOUND
    return SignatureCheck.VALID if _signed_by_signer(orm, row) else SignatureCheck.CHANGED


def _addendum_digest(note_id: uuid.UUID, text: str) -> str:
    return hashlib.sha256(
        json.dumps({"id": note_id.hex, "text": text}, sort_keys=True).encode("utf-8")
    ).hexdigest()


def _signer_name(signer: models.Staff) -> str:
    return (
        f"{signer.display_name}, {signer.credentials}"
        if signer.credentials
        else signer.display_name
    )


def _combined(digest: str) -> str:
    return hashlib.sha256(digest.encode("ascii")).hexdigest()


class SignatureRepository:
    def __init__(self, database: Database, roles: RoleRules = DEFAULT_ROLE_RULES) -> None:
        """`roles`: the clinic's role rules (clinic.toml): who may sign the monitoring part."""
        self._db = database
        self._roles = roles

    def sign(
        self,
        session_id: uuid.UUID,
        parts: Sequence[str],
        *,
        staff_id: uuid.UUID,
        at: datetime,
        key: UnlockedKey,
        session_note: SessionNoteText | None = None,
    ) -> list[SignatureRecord]:
        """Sign `parts` of a completed session as `staff_id` with their opened signing `key`,
        with the session note (therapy), all in one transaction; the session is signed once
        every part is. The monitoring part only by a role allowed to monitor, the therapy part
        only by the session's therapist as its team names them now (`NotAllowed` otherwise)."""
        _check_key(key, staff_id)
        wanted = list(dict.fromkeys(parts))
        if not wanted or any(part not in PARTS for part in wanted):
            raise StorageError(f"Choose what to sign: {' and/or '.join(PARTS)}.")
        if session_note is not None and SignedPart.THERAPY not in wanted:
            raise StorageError("The session note is signed with the therapy part.")
        with self._db.write("sign the session") as orm:
            session = orm.get(models.Session, session_id)
            if session is None:
                raise NotFound(f"No session with id {session_id}.")
            if session.status == SessionStatus.SIGNED:
                raise AlreadyDone("This session is already signed; add an addendum instead.")
            if session.status != SessionStatus.COMPLETED:
                raise StorageError("End the session before signing it.")
            signer = orm.get(models.Staff, staff_id)
            if signer is None or not signer.active:
                raise NotFound("This staff member is unknown or no longer active.")
            self._check_roles(orm, session, signer, wanted)
            signed = set(
                orm.scalars(
                    select(models.Signature.part).where(
                        models.Signature.session_id == session_id, models.Signature.part.in_(PARTS)
                    )
                )
            )
            for part in wanted:
                if part in signed:
                    raise AlreadyDone(f"The {PART_NAMES[part]} of this session is already signed.")
            if session_note is not None:
                self._add_session_note(orm, session_id, session_note, staff_id=staff_id, at=at)
            name = _signer_name(signer)
            records = []
            for part in wanted:
                row = models.Signature(
                    id=uuid.uuid4(),
                    session_id=session_id,
                    part=part,
                    staff_id=staff_id,
                    signer_name=name,
                    signer_role=signer.role,
                    signed_at=at,
                    meaning=MEANINGS[part],
                    content_sha256=_combined(part_digest(orm, session_id, part)),
                )
                _bind(orm, row, key)
                orm.add(row)
                orm.flush()
                write_audit(
                    orm,
                    at=at,
                    staff_id=staff_id,
                    action=f"sign.{part}",
                    entity="signature",
                    entity_id=row.id,
                    session_id=session_id,
                    detail={"sha256": row.content_sha256, "public_key": row.public_key},
                )
                records.append(signature_record(row))
            if signed | set(wanted) >= set(PARTS):
                session.status = SessionStatus.SIGNED
                write_audit(
                    orm,
                    at=at,
                    staff_id=staff_id,
                    action="session.signed",
                    entity="session",
                    entity_id=session_id,
                    session_id=session_id,
                )
            return records

    def _check_roles(
        self, orm: OrmSession, session: models.Session, signer: models.Staff, parts: list[str]
    ) -> None:
        name = _signer_name(signer)
        if SignedPart.MONITORING in parts and not self._roles.may(TeamRole.MONITORING, signer.role):
            role = ROLE_NAMES.get(StaffRole(signer.role), signer.role).lower()
            allowed = role_list(self._roles.may_monitor)
            raise NotAllowed(
                f"{name} ({role}) may not sign the monitoring part: the clinic's role rules "
                f"give it to a {allowed}. Nothing was signed; the monitoring clinician signs it."
            )
        if SignedPart.THERAPY in parts and session.therapist_id != signer.id:
            if session.therapist_id is None:
                raise NotAllowed(
                    "This session names no therapist, so its therapy part cannot be signed yet. "
                    "Nothing was signed; record who the therapist is (Team, on the live screen) "
                    "first."
                )
            therapist = orm.get(models.Staff, session.therapist_id)
            who = _signer_name(therapist) if therapist is not None else "its therapist"
            raise NotAllowed(
                f"The therapy part is signed by the session's therapist, {who}; {name} is not "
                "the therapist of this session. Nothing was signed. If another therapist took "
                "over, record the handover first."
            )

    def _add_session_note(
        self,
        orm: OrmSession,
        session_id: uuid.UUID,
        note: SessionNoteText,
        *,
        staff_id: uuid.UUID,
        at: datetime,
    ) -> None:
        if not note.text.strip():
            raise StorageError("The session note is empty: write it before signing.")
        row = models.Note(
            session_id=session_id,
            kind="session_note",
            text=note.text,
            template_key=note.template_key,
            sections=sections_json(note.sections),
            author_id=staff_id,
            occurred_at=at,
            recorded_at=at,
        )
        orm.add(row)
        orm.flush()
        clear_draft_row(orm, session_id, Pad.SESSION_NOTE)
        write_audit(
            orm,
            at=at,
            staff_id=staff_id,
            action="note.session_note",
            entity="note",
            entity_id=row.id,
            session_id=session_id,
            detail={"template": note.template_key},
        )

    def add_addendum(
        self,
        session_id: uuid.UUID,
        text: str,
        *,
        staff_id: uuid.UUID,
        at: datetime,
        key: UnlockedKey,
    ) -> tuple[NoteRecord, SignatureRecord]:
        """A signed addendum to a session with a signed part, signed with the author's opened
        `key`: the note, its signature and the audit row in one transaction."""
        _check_key(key, staff_id)
        body = check_note_text(text)
        with self._db.write("save the addendum") as orm:
            session = orm.get(models.Session, session_id)
            if session is None:
                raise NotFound(f"No session with id {session_id}.")
            signed_parts = orm.scalar(
                select(func.count()).where(
                    models.Signature.session_id == session_id, models.Signature.part.in_(PARTS)
                )
            )
            if not signed_parts:
                raise StorageError(
                    "Addenda are for signed records; before signing, add or amend a note."
                )
            signer = orm.get(models.Staff, staff_id)
            if signer is None or not signer.active:
                raise NotFound("This staff member is unknown or no longer active.")
            note = models.Note(
                session_id=session_id,
                kind="addendum",
                text=body,
                author_id=staff_id,
                occurred_at=at,
                recorded_at=at,
            )
            orm.add(note)
            orm.flush()
            name = _signer_name(signer)
            digest = _addendum_digest(note.id, body)
            signature = models.Signature(
                id=uuid.uuid4(),
                session_id=session_id,
                part="addendum",
                staff_id=staff_id,
                signer_name=name,
                signer_role=signer.role,
                signed_at=at,
                meaning=MEANINGS["addendum"],
                content_sha256=digest,
                note_id=note.id,
            )
            _bind(orm, signature, key)
            orm.add(signature)
            orm.flush()
            clear_draft_row(orm, session_id, "addendum")
            write_audit(
                orm,
                at=at,
                staff_id=staff_id,
                action="note.addendum",
                entity="note",
                entity_id=note.id,
                session_id=session_id,
                detail={"signature": str(signature.id)},
            )
            return note_record(note), signature_record(signature)

    def signatures(self, session_id: uuid.UUID) -> list[SignatureRecord]:
        with self._db.read() as orm:
            rows = orm.scalars(
                select(models.Signature)
                .where(models.Signature.session_id == session_id)
                .order_by(models.Signature.signed_at, models.Signature.id)
            )
            return [signature_record(row) for row in rows]

    def verify(self, session_id: uuid.UUID) -> dict[str, SignatureCheck]:
        """For each signed part: whether the record still holds exactly what was signed, by
        the signer's own key (`VALID`); or differs in its rows, its people, the signer or the
        key (`CHANGED`); or was signed before signatures were bound to a person (`UNBOUND`).
        Needs only the public keys in the record."""
        with self._db.read() as orm:
            rows = list(
                orm.scalars(
                    select(models.Signature).where(
                        models.Signature.session_id == session_id,
                        models.Signature.part.in_(PARTS),
                    )
                )
            )
            return {
                row.part: _check(orm, row, _combined(part_digest(orm, session_id, row.part)))
                for row in rows
            }

    def verify_addenda(self, session_id: uuid.UUID) -> dict[uuid.UUID, SignatureCheck]:
        """For each signed addendum (by its note's id), as `verify` for the parts."""
        with self._db.read() as orm:
            rows = list(
                orm.scalars(
                    select(models.Signature).where(
                        models.Signature.session_id == session_id,
                        models.Signature.part == "addendum",
                    )
                )
            )
            found: dict[uuid.UUID, SignatureCheck] = {}
            for row in rows:
                note = orm.get(models.Note, row.note_id) if row.note_id else None
                if note is None or row.note_id is None:
                    found[row.note_id or row.id] = SignatureCheck.CHANGED
                    continue
                found[row.note_id] = _check(orm, row, _addendum_digest(note.id, note.text))
            return found


def _check_key(key: UnlockedKey, staff_id: uuid.UUID) -> None:
    if key.staff_id != staff_id:
        raise NotAllowed("A signature is made with the signer's own key. Nothing was signed.")
