"""Notes of the record, private notes, drafts and signatures as plain, immutable records."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from kapsession.records.sessions import SessionStatus

Sections = Sequence[tuple[str, str, str]]  # (key, title, text)
Section = tuple[str, str, str]  # one of them


class NoteKind(enum.StrEnum):
    """A note of the record (`note.kind`)."""

    ENTRY = "entry"  # typed during the session, on its clock
    SESSION_NOTE = "session_note"  # the structured note written at the end
    ADDENDUM = "addendum"  # added after signing
    INTENTION = "intention"  # the client's intention, set in a preparation session (issue 17)


@dataclass(frozen=True)
class NoteRecord:
    """A note of the record: an in-session entry, the session note, or an addendum."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID | None
    kind: NoteKind
    text: str
    occurred_at: datetime
    recorded_at: datetime
    author_id: uuid.UUID | None
    phase_key: str | None = None
    elapsed_s: int | None = None
    since_dose_s: int | None = None
    template_key: str | None = None
    sections: tuple[tuple[str, str, str], ...] = ()  # (key, title, text) in template order
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False


@dataclass(frozen=True)
class PrivateNoteRecord:
    """A psychotherapy note: kept apart from the record, out of exports unless chosen."""

    id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID | None
    text: str
    occurred_at: datetime
    recorded_at: datetime
    author_id: uuid.UUID | None
    phase_key: str | None = None
    elapsed_s: int | None = None
    since_dose_s: int | None = None
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False


@dataclass(frozen=True)
class DraftRecord:
    """Text being typed on one pad of a session, as last saved."""

    session_id: uuid.UUID
    pad: str
    text: str
    updated_at: datetime
    author_id: uuid.UUID | None = None
    template_key: str | None = None
    sections: tuple[tuple[str, str, str], ...] = ()
    participant_id: uuid.UUID | None = None  # whose note it is (None: the room, or not known)


# The parts of a session's record that are signed, and what each signature attests.
class Pad(enum.StrEnum):
    """Where text is typed: the record's and the private note pads (entries, and their drafts),
    the session note and an addendum (drafts only)."""

    RECORD = "record"
    PRIVATE = "private"
    SESSION_NOTE = "session_note"
    ADDENDUM = "addendum"


# The pads a note entry is written on during the session.
ENTRY_PADS = (Pad.RECORD, Pad.PRIVATE)


class SignedPart(enum.StrEnum):
    """A part of a session's record signed on its own, by the person responsible for it."""

    MONITORING = "monitoring"  # the nurse's: doses, vitals, alerts and discharge
    THERAPY = "therapy"  # the therapist's: the notes and the session note


PARTS = tuple(SignedPart)
MEANINGS: dict[str, str] = {
    SignedPart.MONITORING: (
        "I attest that the doses, vitals, alerts and discharge recorded for this session are "
        "complete and correct."
    ),
    SignedPart.THERAPY: (
        "I attest that the session notes and the session note are complete and correct."
    ),
    "addendum": "I wrote and sign this addendum.",
}
PART_NAMES: dict[str, str] = {
    SignedPart.MONITORING: "monitoring record",
    SignedPart.THERAPY: "therapy notes",
}


@dataclass(frozen=True)
class SignatureRecord:
    """A signature of a part of the record, or an addendum, as stored."""

    id: uuid.UUID
    session_id: uuid.UUID
    part: str  # monitoring | therapy | addendum
    staff_id: uuid.UUID
    signer_name: str
    signer_role: str
    signed_at: datetime
    meaning: str
    content_sha256: str
    note_id: uuid.UUID | None = None
    public_key: str | None = None  # the signer's Ed25519 key (hex); None: made before 0018
    signature: str | None = None  # Ed25519 over what the signature covers (hex)


class SignatureCheck(enum.StrEnum):
    """What verifying a signature found (`SignatureRepository.verify`)."""

    VALID = "valid"  # the record holds what was signed, signed by the signer's own key
    CHANGED = "changed"  # the record, its people, the signer or the key differ from the signed
    # made before signatures were bound to a person (issue 18): its content digest matches,
    # but no key of the signer's signed it
    UNBOUND = "unbound"


@dataclass(frozen=True)
class SessionNoteText:
    """The session note as it is signed: its template and the text of each section."""

    template_key: str
    sections: Sections

    @property
    def text(self) -> str:
        """The whole note as plain text (for search and for exports that take one block)."""
        return "\n\n".join(
            f"{title}\n{body}" for _key, title, body in self.sections if body.strip()
        )


@dataclass(frozen=True)
class SignOutcome:
    """What came of signing (or of an addendum): signed, or why not and how long to wait."""

    ok: bool
    message: str
    pause_s: float = 0.0  # the dialog waits this long before showing a refusal
    retry_in_s: float = 0.0
    signatures: tuple[SignatureRecord, ...] = ()


@dataclass(frozen=True)
class SigningState:
    """A session's signatures, addenda and what stands in the way of signing."""

    status: SessionStatus
    signed: dict[str, SignatureRecord]  # part -> its signature
    addenda: list[tuple[NoteRecord, SignatureRecord | None]]
    open_alerts: int

    @property
    def unsigned_parts(self) -> list[str]:
        return [p for p in PARTS if p not in self.signed]
