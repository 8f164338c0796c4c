"""One path appends a correction of any kind of entry (storage/corrections.py): the new row is
the original's columns as its table defines them with the changes over them, pointing at the
original with the reason; the original is untouched; an audit row says what was corrected and
why; and only the standing version may be corrected. Each kind of entry, on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import inspect, select

from kapsession.domain.vitals import Reading
from kapsession.records.errors import StorageError
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.models import AuditEntry, Dose, Note, Observation, PrivateNote, SessionEvent
from kapsession.storage.notes import NoteRepository

if TYPE_CHECKING:
    from conftest import Clinic

OWN = {"id", "recorded_at", "recorded_by_id", "author_id", "corrects_id", "correction_reason"}


@dataclass(frozen=True)
class Kind:
    """How to make one entry of a kind and correct it through its repository."""

    name: str
    model: type
    add: Callable[[Clinic, Any], uuid.UUID]
    correct: Callable[[Clinic, uuid.UUID, str], Any]
    changed: dict[str, Any]  # what the correction changes
    action: str


def add_marker(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    event = clinic.entries.add_event(
        session.id,
        "marker",
        occurred_at=at,
        recorded_at=at,
        label="Eye mask on",
        detail={"quick": True},
    )
    return event.id


def correct_marker(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return clinic.entries.correct_event(
        original, reason=reason, recorded_at=clinic.now(), label="Eye mask off"
    )


def add_dose(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    dose, _events = clinic.entries.add_dose_with_events(
        session.id,
        session.participants[0].id,
        occurred_at=at,
        recorded_at=at,
        dose_mg=200.0,
        lot_number="KX-1",
        weight_kg=64.0,
    )
    return dose.id


def correct_dose(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return clinic.entries.correct_dose(
        original, reason=reason, recorded_at=clinic.now(), lot_number="KX-2"
    )


def add_reading(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    saved = CheckinRepository(clinic.db).add_observation(
        session.id,
        session.participants[0].id,
        Reading(systolic_mmhg=124, diastolic_mmhg=78, heart_rate_bpm=72, comment="calm"),
        occurred_at=at,
        recorded_at=at,
        checkin_key="t40",
        on_room_air=True,
    )
    return saved.observation.id


def correct_reading(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return CheckinRepository(clinic.db).correct_observation(
        original,
        Reading(systolic_mmhg=128, diastolic_mmhg=82, heart_rate_bpm=72, comment="calm"),
        reason=reason,
        recorded_at=clinic.now(),
    )


def add_note(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    notes = NoteRepository(clinic.db)
    return notes.add_entry(
        session.id, "Settling", occurred_at=at, recorded_at=at, phase_key="onset", elapsed_s=600
    ).id


def correct_note(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return NoteRepository(clinic.db).amend_entry(
        original, "Settling, eyes closed", reason=reason, recorded_at=clinic.now()
    )


def add_private(clinic: Clinic, session: Any) -> uuid.UUID:
    at = clinic.now()
    notes = NoteRepository(clinic.db)
    return notes.add_private(
        session.id, "Grief", occurred_at=at, recorded_at=at, phase_key="peak", elapsed_s=3600
    ).id


def correct_private(clinic: Clinic, original: uuid.UUID, reason: str) -> Any:
    return NoteRepository(clinic.db).amend_private(
        original, "Grief, and relief", reason=reason, recorded_at=clinic.now()
    )


KINDS = [
    Kind(
        "event",
        SessionEvent,
        add_marker,
        correct_marker,
        {"label": "Eye mask off"},
        "event.correct",
    ),
    Kind("dose", Dose, add_dose, correct_dose, {"lot_number": "KX-2"}, "dose.correct"),
    Kind(
        "reading",
        Observation,
        add_reading,
        correct_reading,
        {"systolic_mmhg": 128, "diastolic_mmhg": 82},
        "observation.correct",
    ),
    Kind("note", Note, add_note, correct_note, {"text": "Settling, eyes closed"}, "note.amend"),
    Kind(
        "private note",
        PrivateNote,
        add_private,
        correct_private,
        {"text": "Grief, and relief"},
        "private_note.amend",
    ),
]


def columns(clinic: Clinic, model: type, row_id: uuid.UUID) -> dict[str, Any]:
    with clinic.db.read() as orm:
        row = orm.get(model, row_id)
        assert row is not None
        return {c.key: getattr(row, c.key) for c in inspect(model).column_attrs}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_correction_is_the_original_with_the_changes_and_its_audit_row(
    clinic: Clinic, kind: Kind
) -> None:
    # Given an entry of this kind in a live session
    session = clinic.new_session()
    original_id = kind.add(clinic, session)
    before = columns(clinic, kind.model, original_id)
    # When it is corrected
    correction = kind.correct(clinic, original_id, "Wrong line of the chart")
    correction_id = getattr(correction, "id", None) or correction.observation.id
    # Then every column of the table is the original's but the changes and the correction's own
    after = columns(clinic, kind.model, correction_id)
    copied = {k: v for k, v in before.items() if k not in OWN and k not in kind.changed}
    assert {k: after[k] for k in copied} == copied
    assert {k: after[k] for k in kind.changed} == kind.changed
    assert (after["corrects_id"], after["correction_reason"], after["voids"]) == (
        original_id,
        "Wrong line of the chart",
        False,
    )
    # And the original is as it was
    assert columns(clinic, kind.model, original_id) == before
    # And the audit row says what was corrected, why, and that it was not taken back
    with clinic.db.read() as orm:
        audit = orm.scalars(
            select(AuditEntry).where(AuditEntry.entity_id == str(correction_id))
        ).one()
        assert (audit.action, audit.entity) == (kind.action, kind.model.__tablename__)
        assert audit.detail["corrects"] == str(original_id)
        assert (audit.detail["reason"], audit.detail["voids"]) == ("Wrong line of the chart", False)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_only_the_standing_version_of_an_entry_can_be_corrected(clinic: Clinic, kind: Kind) -> None:
    # Given an entry of this kind corrected once
    session = clinic.new_session()
    original_id = kind.add(clinic, session)
    kind.correct(clinic, original_id, "First correction")
    # When the superseded original is corrected again
    # Then that is refused: a correction applies to the standing version
    with pytest.raises(StorageError, match="already corrected"):
        kind.correct(clinic, original_id, "Second correction")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_a_correction_without_a_reason_is_refused_and_nothing_is_written(
    clinic: Clinic, kind: Kind
) -> None:
    # Given an entry of this kind
    session = clinic.new_session()
    original_id = kind.add(clinic, session)
    with clinic.db.read() as orm:
        rows_before = len(orm.scalars(select(kind.model)).all())
    # When it is corrected with a blank reason, Then that is refused and no row is added
    with pytest.raises(StorageError, match="reason"):
        kind.correct(clinic, original_id, "   ")
    with clinic.db.read() as orm:
        assert len(orm.scalars(select(kind.model)).all()) == rows_before
