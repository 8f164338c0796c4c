"""Adverse events, interventions and controlled-substance counts (issue 16) are entries like
every other: saved the moment they are entered, corrected or withdrawn by a new row beside the
original, refused once the session is signed, and each linked only to its own participant's
alert, adverse event or dose. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, text

from kapsession.domain.adverse_events import (
    check_adverse_event,
    check_intervention,
    check_substance_count,
)
from kapsession.domain.clinic_rules import DEFAULT_RESCUE_MEDICATIONS
from kapsession.domain.corrections import effective
from kapsession.records.errors import StorageError
from kapsession.storage import schema
from kapsession.storage.adverse_events import AdverseEventRepository
from kapsession.storage.audit import AuditRepository

if TYPE_CHECKING:
    from conftest import Clinic


def _emesis(clinic: Clinic, **changes: object):  # type: ignore[no-untyped-def]
    now = clinic.now()
    values: dict[str, object] = {
        "kind": "emesis",
        "other": "",
        "severity": "moderate",
        "seriousness": "non-serious",
        "outcome": "ongoing",
        "onset_at": now,
        "resolved_at": None,
        "actions": "bowl, head turned to the side",
        "now": now,
    }
    values.update(changes)
    return check_adverse_event(**values)  # type: ignore[arg-type]


def test_an_adverse_event_is_saved_then_resolved_by_a_correction_beside_it(clinic: Clinic) -> None:
    # Given a live session with one participant
    session = clinic.new_session()
    participant = session.participants[0].id
    repo = AdverseEventRepository(clinic.db)
    # When an emesis is entered, ongoing
    first = repo.add_adverse_event(
        session.id, participant, _emesis(clinic), recorded_at=clinic.now(), by=clinic.therapist.id
    )
    # And later it is updated: resolved at a time, outcome resolved
    resolved_at = clinic.now()
    update = _emesis(
        clinic, onset_at=first.occurred_at, outcome="resolved", resolved_at=resolved_at
    )
    second = repo.correct_adverse_event(
        first.id, update, reason="resolved", recorded_at=clinic.now(), by=clinic.therapist.id
    )
    # Then both versions are on the record, the update pointing at the first
    rows = repo.adverse_events(session.id)
    assert [r.id for r in rows] == [first.id, second.id]
    assert rows[0].outcome == "ongoing" and rows[0].resolved_at is None
    assert rows[1].corrects_id == first.id and rows[1].correction_reason == "resolved"
    # And the standing one says resolved, with its time and the grading in FHIR's codes
    (standing,) = effective(rows)
    assert (standing.outcome, standing.resolved_at) == ("resolved", resolved_at)
    assert (standing.severity, standing.seriousness) == ("moderate", "non-serious")
    # And an audit row says who added and who corrected it
    actions = [a.action for a in AuditRepository(clinic.db).for_session(session.id)]
    assert "adverse_event.add" in actions and "adverse_event.correct" in actions
    # And the first version cannot be corrected again: the update is the standing one
    with pytest.raises(StorageError, match="already corrected"):
        repo.correct_adverse_event(
            first.id, None, reason="x", recorded_at=clinic.now(), voids=True, by=None
        )


def test_an_intervention_for_an_adverse_event_is_saved_and_withdrawn(clinic: Clinic) -> None:
    # Given an adverse event of the participant
    session = clinic.new_session()
    participant = session.participants[0].id
    repo = AdverseEventRepository(clinic.db)
    event = repo.add_adverse_event(
        session.id, participant, _emesis(clinic), recorded_at=clinic.now(), by=None
    )
    # When ondansetron of the clinic's list is given for it
    now = clinic.now()
    entry = check_intervention(
        kind="rescue_medication",
        given_at=now,
        now=now,
        medications=DEFAULT_RESCUE_MEDICATIONS,
        medication="Ondansetron",
        dose_text="4",
        lot_number="ON-2291",
    )
    saved = repo.add_intervention(
        session.id,
        participant,
        entry,
        recorded_at=now,
        given_by=clinic.therapist.id,
        adverse_event_id=event.id,
        by=clinic.therapist.id,
    )
    # Then it is stored as given, the list's route and unit with it
    (row,) = repo.interventions(session.id)
    assert row == saved
    assert (row.medication, row.dose, row.unit, row.route) == (
        "ondansetron",
        4.0,
        "mg",
        "oral (ODT)",
    )
    assert row.adverse_event_id == event.id and row.title == "Ondansetron 4 mg oral (ODT)"
    # When it is withdrawn as entered in error
    repo.correct_intervention(
        saved.id, None, reason="wrong patient", recorded_at=clinic.now(), voids=True, by=None
    )
    # Then it stays on the record, withdrawn
    rows = repo.interventions(session.id)
    assert len(rows) == 2 and rows[1].voids and effective(rows) == []


def test_an_intervention_is_not_linked_to_another_participants_adverse_event(
    clinic: Clinic,
) -> None:
    # Given a couples session and an adverse event of the first participant
    session = clinic.new_session(
        [clinic.add_client("Ana"), clinic.add_client("Ben")], modality="couples"
    )
    ana, ben = (p.id for p in session.participants)
    repo = AdverseEventRepository(clinic.db)
    event = repo.add_adverse_event(
        session.id, ana, _emesis(clinic), recorded_at=clinic.now(), by=None
    )
    now = clinic.now()
    entry = check_intervention(kind="repositioning", given_at=now, now=now)
    # When an intervention for the second names it, Then it is refused and nothing is stored
    with pytest.raises(StorageError, match="not this participant's"):
        repo.add_intervention(
            session.id,
            ben,
            entry,
            recorded_at=now,
            given_by=None,
            adverse_event_id=event.id,
            by=None,
        )
    assert repo.interventions(session.id) == []


def _dose(clinic: Clinic, session_id, participant_id):  # type: ignore[no-untyped-def]
    at = clinic.now()
    dose, _events = clinic.entries.add_dose(
        session_id, participant_id, occurred_at=at, recorded_at=at, medication="ketamine",
        route="sublingual", dose_mg=300.0, by=clinic.therapist.id,
    )  # fmt: skip
    return dose


def test_a_waste_needs_a_witness_who_is_not_the_recorder(clinic: Clinic) -> None:
    # Given a dose of 300 mg and a nurse besides the recording physician
    session = clinic.new_session()
    dose = _dose(clinic, session.id, session.participants[0].id)
    nurse = clinic.staff.add("Tom Becker", "nurse", at=clinic.now())
    repo = AdverseEventRepository(clinic.db)
    count = check_substance_count("400", "300", "100")
    # When the waste is recorded without a witness, or witnessed by the recorder
    # Then it is refused and nothing is stored
    for witness in (None, clinic.therapist.id):
        with pytest.raises(StorageError, match="second staff member"):
            repo.add_substance_count(
                dose.id, count, witness_id=witness, recorded_at=clinic.now(), by=clinic.therapist.id
            )
    assert repo.substance_counts(session.id) == []
    # When the nurse witnesses it, Then it is stored with the dose's participant and medication
    saved = repo.add_substance_count(
        dose.id, count, witness_id=nurse.id, recorded_at=clinic.now(), by=clinic.therapist.id
    )
    (row,) = repo.substance_counts(session.id)
    assert row == saved
    assert (row.drawn_mg, row.given_mg, row.wasted_mg, row.witness_id) == (400, 300, 100, nurse.id)
    assert (row.participant_id, row.medication) == (dose.participant_id, "ketamine")


def test_a_count_with_nothing_wasted_needs_no_witness(clinic: Clinic) -> None:
    session = clinic.new_session()
    dose = _dose(clinic, session.id, session.participants[0].id)
    repo = AdverseEventRepository(clinic.db)
    saved = repo.add_substance_count(
        dose.id,
        check_substance_count("300", "300", "0"),
        witness_id=None,
        recorded_at=clinic.now(),
        by=clinic.therapist.id,
    )
    assert saved.witness_id is None and saved.wasted_mg == 0


def test_the_new_tables_are_append_only_and_locked_when_signed(clinic: Clinic) -> None:
    # Given an adverse event on the record
    session = clinic.new_session(status="completed")
    participant = session.participants[0].id
    repo = AdverseEventRepository(clinic.db)
    event = repo.add_adverse_event(
        session.id, participant, _emesis(clinic), recorded_at=clinic.now(), by=None
    )
    # When anyone changes or deletes its row in the database itself, Then it is refused
    for sql in ("UPDATE adverse_event SET outcome = 'fatal'", "DELETE FROM adverse_event"):
        with pytest.raises(Exception, match="append-only"), clinic.db.engine.begin() as c:
            c.execute(text(sql))
    assert repo.adverse_events(session.id) == [event]
    # When the session is signed, Then no new adverse event is accepted
    with clinic.db.engine.begin() as c:
        c.execute(text("UPDATE session SET status = 'signed'"))
    with pytest.raises(StorageError):
        repo.add_adverse_event(
            session.id, participant, _emesis(clinic), recorded_at=clinic.now(), by=None
        )
    # And the database itself refuses one written past the repository
    columns = [c.name for c in schema.adverse_event.columns if c.name != "id"]
    copy = ", ".join(columns)
    with pytest.raises(Exception, match="signed"), clinic.db.engine.begin() as c:
        c.execute(
            text(
                f"INSERT INTO adverse_event (id, {copy}) SELECT :new_id, {copy} "
                "FROM adverse_event WHERE id = :id"
            ),
            {"new_id": _as_stored(c, uuid.uuid4()), "id": _as_stored(c, event.id)},
        )


def _as_stored(connection: Connection, value: uuid.UUID) -> str:
    """A UUID as each back-end stores it (SQLite: 32 hex digits; PostgreSQL: uuid)."""
    return value.hex if connection.dialect.name == "sqlite" else str(value)
