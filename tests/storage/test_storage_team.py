"""A session's team in the database: named when it is made, changed only by a recorded handover,
and the signatures it allows (the monitoring part by a role allowed to monitor, the therapy part
by the session's therapist as the team names them when signing). SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from support.signing import signing_key

from kapsession.domain.clinic_rules import DEFAULT_ROLE_RULES, RoleRules
from kapsession.domain.roles import StaffRole, TeamRole
from kapsession.records.errors import NotAllowed, RecordLocked, StorageError
from kapsession.records.notes import SessionNoteText
from kapsession.storage.audit import AuditRepository
from kapsession.storage.notes import NoteRepository
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:
    from conftest import Clinic

    from kapsession.records.people import StaffRecord
    from kapsession.records.sessions import SessionRecord

NOTE = SessionNoteText("kap", (("plan", "Plan", "Integration on Tuesday"),))


def _staff(clinic: Clinic, name: str, role: str, credentials: str = "") -> StaffRecord:
    return clinic.staff.add(name, role, at=clinic.now(), credentials=credentials)


def _couple_with_a_team(clinic: Clinic, nurse: StaffRecord) -> SessionRecord:
    record = clinic.sessions.create(
        protocol_key="sublingual-kap-3h",
        protocol_name="Sublingual KAP, 3 hours",
        protocol_version=1,
        protocol_text="schema = 1\n",
        modality="couples",
        client_ids=[clinic.add_client().id, clinic.add_client("Jonas", "Weber").id],
        at=clinic.now(),
        therapist_id=clinic.therapist.id,
        nurse_id=nurse.id,
    )
    return clinic.sessions.start(record.id, at=clinic.now(), by=clinic.therapist.id)


def _ended(clinic: Clinic, *, therapist: StaffRecord, nurse: StaffRecord) -> SessionRecord:
    record = clinic.sessions.create(
        protocol_key="sublingual-kap-3h",
        protocol_name="Sublingual KAP, 3 hours",
        protocol_version=1,
        protocol_text="schema = 1\n",
        modality="individual",
        client_ids=[clinic.add_client().id],
        at=clinic.now(),
        therapist_id=therapist.id,
        nurse_id=nurse.id,
    )
    clinic.sessions.start(record.id, at=clinic.now(), by=therapist.id)
    at = clinic.now()
    clinic.entries.add_dose(record.id, record.participants[0].id, occurred_at=at, recorded_at=at)
    NoteRepository(clinic.db).add_entry(record.id, "Settled", occurred_at=at, recorded_at=at)
    return clinic.sessions.end(record.id, at=clinic.now(), by=therapist.id)


def test_the_team_named_at_the_start_is_stored_and_read_back(clinic: Clinic) -> None:
    # Given a nurse for the session, another for Jonas, and a prescriber on site
    nurse = _staff(clinic, "Tom Becker", "nurse", "RN")
    relief = _staff(clinic, "Nadia Brook", "nurse", "RN")
    prescriber = _staff(clinic, "Dr. Ines Moreau", "prescriber", "MD")
    maya, jonas = clinic.add_client(), clinic.add_client("Jonas", "Weber")
    # When the session is made with that team
    made = clinic.sessions.create(
        protocol_key="sublingual-kap-3h",
        protocol_name="Sublingual KAP, 3 hours",
        protocol_version=1,
        protocol_text="schema = 1\n",
        modality="couples",
        client_ids=[maya.id, jonas.id],
        at=clinic.now(),
        therapist_id=clinic.therapist.id,
        nurse_id=nurse.id,
        prescriber_id=prescriber.id,
        monitors={jonas.id: relief.id, maya.id: nurse.id},
    )
    # Then it reads back as named: Maya with the session's nurse, Jonas with his own
    record = clinic.sessions.get(made.id)
    assert record == made
    first, second = record.participants
    assert (record.therapist_id, record.nurse_id, record.prescriber_id) == (
        clinic.therapist.id,
        nurse.id,
        prescriber.id,
    )
    assert (first.monitor_id, second.monitor_id) == (None, relief.id)
    assert (record.monitor_of(first.id), record.monitor_of(second.id)) == (nurse.id, relief.id)
    assert record.monitor_of(None) == nurse.id


def test_a_monitor_for_a_client_outside_the_session_is_refused(clinic: Clinic) -> None:
    nurse = _staff(clinic, "Tom Becker", "nurse")
    stranger = clinic.add_client("Lea", "Braun")
    with pytest.raises(StorageError, match="client not in the session"):
        clinic.sessions.create(
            protocol_key="sublingual-kap-3h",
            protocol_name="Sublingual KAP, 3 hours",
            protocol_version=1,
            protocol_text="schema = 1\n",
            modality="individual",
            client_ids=[clinic.add_client().id],
            at=clinic.now(),
            therapist_id=clinic.therapist.id,
            nurse_id=nurse.id,
            monitors={stranger.id: nurse.id},
        )
    assert clinic.sessions.count() == 0


def test_a_handover_changes_the_team_and_is_an_event_with_its_audit_row(clinic: Clinic) -> None:
    # Given a live couples session monitored by Tom
    tom, nadia = _staff(clinic, "Tom Becker", "nurse"), _staff(clinic, "Nadia Brook", "nurse")
    session = _couple_with_a_team(clinic, tom)
    maya, jonas = session.participants
    # When Nadia takes over Jonas's monitoring
    at = clinic.now()
    record, event = clinic.sessions.hand_over(
        session.id,
        TeamRole.MONITORING,
        nadia.id,
        at=at,
        label="Monitoring of Jonas Weber: Nadia Brook takes over (was Tom Becker)",
        participant_id=jonas.id,
        by=nadia.id,
    )
    # Then the team is changed for him only, as stored and as returned
    assert record == clinic.sessions.get(session.id)
    assert (record.monitor_of(maya.id), record.monitor_of(jonas.id)) == (tom.id, nadia.id)
    # And the handover is on the record with who, when and from whom, and in the audit trail
    (stored,) = [e for e in clinic.entries.events(session.id) if e.kind == "handover"]
    assert stored == event
    assert (event.occurred_at, event.recorded_by_id, event.participant_id) == (
        at,
        nadia.id,
        jonas.id,
    )
    assert event.detail == {"role": "monitoring", "from": str(tom.id), "to": str(nadia.id)}
    audit = AuditRepository(clinic.db).for_session(session.id)
    assert [a.action for a in audit if a.entity_id == str(event.id)] == ["event.handover"]
    # When Nadia then takes over everyone's monitoring, Jonas's own clinician is cleared
    record, _event = clinic.sessions.hand_over(
        session.id, TeamRole.MONITORING, nadia.id, at=clinic.now(), label="", by=nadia.id
    )
    assert record.nurse_id == nadia.id
    assert [p.monitor_id for p in record.participants] == [None, None]


@pytest.mark.parametrize("place", [TeamRole.THERAPIST, TeamRole.PRESCRIBER])
def test_the_therapist_and_the_prescriber_are_handed_over_for_the_session(
    clinic: Clinic, place: TeamRole
) -> None:
    tom = _staff(clinic, "Tom Becker", "nurse")
    incoming = _staff(clinic, "Dr. Lee Park", "physician", "MD")
    session = _couple_with_a_team(clinic, tom)
    record, event = clinic.sessions.hand_over(
        session.id, place, incoming.id, at=clinic.now(), label="", by=incoming.id
    )
    named = record.therapist_id if place is TeamRole.THERAPIST else record.prescriber_id
    assert named == incoming.id
    before = clinic.therapist.id if place is TeamRole.THERAPIST else None
    assert event.detail["from"] == (None if before is None else str(before))


def test_a_handover_that_changes_nothing_or_leaves_no_one_is_refused(clinic: Clinic) -> None:
    tom = _staff(clinic, "Tom Becker", "nurse")
    session = _couple_with_a_team(clinic, tom)
    with pytest.raises(StorageError, match="Nothing to hand over"):
        clinic.sessions.hand_over(
            session.id, TeamRole.MONITORING, tom.id, at=clinic.now(), label="", by=tom.id
        )
    with pytest.raises(StorageError, match="always has a therapist"):
        clinic.sessions.hand_over(
            session.id, TeamRole.THERAPIST, None, at=clinic.now(), label="", by=tom.id
        )
    # And nothing was written
    assert [e for e in clinic.entries.events(session.id) if e.kind == "handover"] == []
    assert clinic.sessions.get(session.id) == session


def test_a_signed_session_takes_no_handover(clinic: Clinic) -> None:
    # Given a session signed in both parts by its physician
    session = _ended(clinic, therapist=clinic.therapist, nurse=clinic.therapist)
    SignatureRepository(clinic.db).sign(
        session.id, ["monitoring", "therapy"], staff_id=clinic.therapist.id, at=clinic.now(),
        key=signing_key(clinic.db, clinic.therapist.id), session_note=NOTE,
    )  # fmt: skip
    other = _staff(clinic, "Sam Lee", "therapist")
    # When another therapist is handed the session, Then it is refused and the team is as signed
    with pytest.raises(RecordLocked):
        clinic.sessions.hand_over(
            session.id, TeamRole.THERAPIST, other.id, at=clinic.now(), label="", by=other.id
        )
    assert clinic.sessions.get(session.id).therapist_id == clinic.therapist.id


def test_the_monitoring_part_is_refused_to_a_role_not_allowed_to_monitor(clinic: Clinic) -> None:
    # Given an ended session with a therapist (PsyD) and a nurse
    therapist = _staff(clinic, "Sam Lee", "therapist", "PsyD")
    nurse = _staff(clinic, "Tom Becker", "nurse", "RN")
    session = _ended(clinic, therapist=therapist, nurse=nurse)
    signatures = SignatureRepository(clinic.db)
    # When the therapist signs the monitoring part, Then it is refused, saying who may
    with pytest.raises(NotAllowed) as refused:
        signatures.sign(
            session.id,
            ["monitoring"],
            staff_id=therapist.id,
            key=signing_key(clinic.db, therapist.id),
            at=clinic.now(),
        )
    assert str(refused.value) == (
        "Sam Lee, PsyD (therapist) may not sign the monitoring part: the clinic's role rules "
        "give it to a nurse, prescriber or physician. Nothing was signed; the monitoring "
        "clinician signs it."
    )
    # And signing both parts at once is refused whole: the session note is not written either
    with pytest.raises(NotAllowed):
        signatures.sign(
            session.id, ["monitoring", "therapy"], staff_id=therapist.id, at=clinic.now(),
            key=signing_key(clinic.db, therapist.id), session_note=NOTE,
        )  # fmt: skip
    assert signatures.signatures(session.id) == []
    assert NoteRepository(clinic.db).notes(session.id, kinds=["session_note"]) == []
    # When the nurse signs it, Then it is signed
    (signed,) = signatures.sign(
        session.id,
        ["monitoring"],
        staff_id=nurse.id,
        key=signing_key(clinic.db, nurse.id),
        at=clinic.now(),
    )
    assert (signed.staff_id, signed.signer_role) == (nurse.id, "nurse")


def test_the_therapy_part_is_signed_by_the_sessions_therapist_as_the_team_stands(
    clinic: Clinic,
) -> None:
    # Given an ended session whose therapist is Sam, and another therapist on the staff
    sam = _staff(clinic, "Sam Lee", "therapist", "PsyD")
    nurse = _staff(clinic, "Tom Becker", "nurse", "RN")
    ana = _staff(clinic, "Ana Lima", "therapist", "LCSW")
    session = _ended(clinic, therapist=sam, nurse=nurse)
    signatures = SignatureRepository(clinic.db)
    # When Ana (a therapist, not this session's) or the nurse signs the therapy part: refused
    with pytest.raises(NotAllowed, match="signed by the session's therapist, Sam Lee, PsyD"):
        signatures.sign(
            session.id,
            ["therapy"],
            staff_id=ana.id,
            key=signing_key(clinic.db, ana.id),
            at=clinic.now(),
            session_note=NOTE,
        )
    with pytest.raises(NotAllowed, match="Tom Becker, RN is not the therapist"):
        signatures.sign(
            session.id,
            ["therapy"],
            staff_id=nurse.id,
            key=signing_key(clinic.db, nurse.id),
            at=clinic.now(),
            session_note=NOTE,
        )
    # When the therapy is handed over to Ana after the end, Then she signs it
    clinic.sessions.hand_over(
        session.id, TeamRole.THERAPIST, ana.id, at=clinic.now(), label="", by=ana.id
    )
    (signed,) = signatures.sign(
        session.id,
        ["therapy"],
        staff_id=ana.id,
        key=signing_key(clinic.db, ana.id),
        at=clinic.now(),
        session_note=NOTE,
    )
    assert signed.staff_id == ana.id


def test_a_session_naming_no_therapist_says_to_name_one_before_the_therapy_is_signed(
    clinic: Clinic,
) -> None:
    # Given an ended session made before teams were named (no therapist)
    record = clinic.sessions.create(
        protocol_key="sublingual-kap-3h",
        protocol_name="Sublingual KAP, 3 hours",
        protocol_version=1,
        protocol_text="schema = 1\n",
        modality="individual",
        client_ids=[clinic.add_client().id],
        at=clinic.now(),
    )
    clinic.sessions.start(record.id, at=clinic.now(), by=None)
    clinic.sessions.end(record.id, at=clinic.now(), by=None)
    with pytest.raises(NotAllowed, match="names no therapist"):
        SignatureRepository(clinic.db).sign(
            record.id, ["therapy"], staff_id=clinic.therapist.id, at=clinic.now(),
            key=signing_key(clinic.db, clinic.therapist.id), session_note=NOTE,
        )  # fmt: skip


def test_the_clinics_rules_decide_who_signs_the_monitoring_part(clinic: Clinic) -> None:
    # Given a clinic whose rules let a therapist monitor
    rules = RoleRules(
        may_monitor=frozenset({StaffRole.THERAPIST}),
        may_be_therapist=DEFAULT_ROLE_RULES.may_be_therapist,
        may_prescribe=DEFAULT_ROLE_RULES.may_prescribe,
    )
    therapist = _staff(clinic, "Sam Lee", "therapist", "PsyD")
    nurse = _staff(clinic, "Tom Becker", "nurse", "RN")
    session = _ended(clinic, therapist=therapist, nurse=nurse)
    signatures = SignatureRepository(clinic.db, rules)
    # Then the nurse may not sign it there, and the therapist may
    with pytest.raises(NotAllowed, match="give it to a therapist"):
        signatures.sign(
            session.id,
            ["monitoring"],
            staff_id=nurse.id,
            key=signing_key(clinic.db, nurse.id),
            at=clinic.now(),
        )
    (signed,) = signatures.sign(
        session.id,
        ["monitoring"],
        staff_id=therapist.id,
        key=signing_key(clinic.db, therapist.id),
        at=clinic.now(),
    )
    assert signed.part == "monitoring"


@pytest.mark.parametrize("role", list(StaffRole))
def test_every_staff_role_is_stored_and_read_back(clinic: Clinic, role: StaffRole) -> None:
    added = clinic.staff.add("Ana Lima", role.value, at=clinic.now())
    assert clinic.staff.get(added.id).role is role


def test_a_role_outside_the_list_is_refused(clinic: Clinic) -> None:
    with pytest.raises(StorageError, match=r"The role must be therapist, nurse, .* or other"):
        clinic.staff.add("Ana Lima", "psychologist", at=clinic.now())
    assert [s.display_name for s in clinic.staff.all()] == ["Dr. Ruth Okafor"]
