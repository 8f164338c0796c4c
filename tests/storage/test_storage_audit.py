"""Every change to the record writes an audit row, in the same transaction as the change."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from kapsession.records.errors import StorageError
from kapsession.storage import entries as entries_module
from kapsession.storage.audit import AuditRepository

if TYPE_CHECKING:
    from conftest import Clinic


def test_each_change_writes_an_audit_row_with_action_staff_and_session(clinic: Clinic) -> None:
    # Given a therapist and a nurse
    therapist = clinic.therapist.id
    nurse = clinic.staff.add("Sam Lee", "nurse", at=clinic.now(), by=therapist).id
    audit = AuditRepository(clinic.db)

    # When a client is added, a session created and started, an event and a dose entered,
    # and the session ended
    client = clinic.clients.add("Maya", "Fischer", at=clinic.now(), by=therapist)
    session = clinic.sessions.create(
        protocol_key="sublingual-kap-3h",
        protocol_name="Sublingual KAP",
        protocol_version=1,
        protocol_text="schema = 1\n",
        modality="individual",
        client_ids=[client.id],
        at=clinic.now(),
        by=therapist,
    )
    clinic.sessions.start(session.id, at=clinic.now(), by=nurse)
    at = clinic.now()
    marker = clinic.entries.add_event(
        session.id, "marker", occurred_at=at, recorded_at=at, label="Eyes closed", by=therapist
    )
    at = clinic.now()
    dose, _events = clinic.entries.add_dose(
        session.id, session.participants[0].id, occurred_at=at, recorded_at=at, by=nurse
    )
    at = clinic.now()
    fix = clinic.entries.correct_event(marker.id, reason="typo", recorded_at=at, label="Eyes shut")
    clinic.sessions.end(session.id, at=clinic.now(), by=therapist)

    # Then the client's row names the action, the staff member and the client
    (client_row,) = [a for a in audit.all() if a.entity_id == str(client.id)]
    assert (client_row.action, client_row.staff_id, client_row.session_id) == (
        "client.add",
        therapist,
        None,
    )
    # And the session's rows are, in order, each with who did it and what it touched
    rows = [
        (a.action, a.staff_id, a.session_id, a.entity, a.entity_id)
        for a in audit.for_session(session.id)
    ]
    assert rows == [
        ("session.create", therapist, session.id, "session", str(session.id)),
        ("session.start", nurse, session.id, "session", str(session.id)),
        ("event.marker", therapist, session.id, "session_event", str(marker.id)),
        ("dose.initial", nurse, session.id, "dose", str(dose.id)),
        ("event.correct", None, session.id, "session_event", str(fix.id)),
        ("session.end", therapist, session.id, "session", str(session.id)),
    ]
    # And the correction's row says what it corrected and why
    correction = audit.for_session(session.id)[4]
    assert correction.detail == {"corrects": str(marker.id), "reason": "typo", "voids": False}
    # And each row carries the time of the change it records
    assert audit.for_session(session.id)[2].occurred_at == marker.recorded_at


def _add(clinic: Clinic, what: str, session: Any) -> Any:
    at = clinic.now()
    if what == "event":
        return clinic.entries.add_event(
            session.id, "marker", occurred_at=at, recorded_at=at, by=clinic.therapist.id
        )
    return clinic.entries.add_dose(
        session.id, session.participants[0].id, occurred_at=at, recorded_at=at, dose_mg=100.0
    )


def _stored(clinic: Clinic, session_id: uuid.UUID) -> tuple[int, int, int]:
    audit = AuditRepository(clinic.db).for_session(session_id)
    return (
        len(clinic.entries.events(session_id, include_history=True)),
        len(clinic.entries.doses(session_id, include_history=True)),
        len(audit),
    )


# Each entry's audit writer as its repository calls it: an event's is sent at the driver's
# level with the event (`driver.insert_audit`), a dose's is added to the ORM transaction.
AUDIT_WRITERS = {"event": "insert_audit", "dose": "write_audit"}


@pytest.mark.parametrize("what", ["event", "dose"])
def test_when_the_audit_row_cannot_be_written_the_entry_is_not_saved_either(
    clinic: Clinic, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a live session, and an audit row that the database will refuse (unknown staff id)
    session = clinic.new_session()
    before = _stored(clinic, session.id)
    real = getattr(entries_module, AUDIT_WRITERS[what])

    def refused_audit(*args: Any, **kw: Any) -> None:
        real(*args, **{**kw, "staff_id": uuid.uuid4()})

    monkeypatch.setattr(entries_module, AUDIT_WRITERS[what], refused_audit)

    # When an entry is saved, Then the save fails as a whole
    with pytest.raises(StorageError):
        _add(clinic, what, session)
    # And neither the entry nor any audit row was stored
    assert _stored(clinic, session.id) == before


@pytest.mark.parametrize("what", ["event", "dose"])
def test_a_failure_after_the_audit_row_is_written_leaves_neither_row(
    clinic: Clinic, what: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a live session, and a failure right after the audit row reached the database
    session = clinic.new_session()
    before = _stored(clinic, session.id)
    real = getattr(entries_module, AUDIT_WRITERS[what])

    def audit_then_fail(into: Any, *args: Any, **kw: Any) -> None:
        real(into, *args, **kw)
        if what == "dose":
            into.flush()  # the ORM's audit row is now INSERTed, inside the entry's transaction
        raise RuntimeError("power cut in the middle of the save")

    monkeypatch.setattr(entries_module, AUDIT_WRITERS[what], audit_then_fail)

    # When an entry is saved, Then the failure surfaces
    with pytest.raises(RuntimeError, match="power cut"):
        _add(clinic, what, session)
    # And the transaction took both rows with it
    assert _stored(clinic, session.id) == before
