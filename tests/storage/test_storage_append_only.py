"""The clinical record is append-only: the database and the ORM both refuse change and deletion;
corrections are new rows that point at the original."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Uuid, bindparam, event, select, text
from sqlalchemy.exc import DBAPIError
from support.signing import FAST_KDF, PASSPHRASE

from kapsession.domain.adverse_events import (
    check_adverse_event,
    check_intervention,
    check_substance_count,
)
from kapsession.domain.client_profile import ClientProfile
from kapsession.domain.consent import Consent, ConsentKind
from kapsession.domain.corrections import effective
from kapsession.domain.course_plan import CoursePlan
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import AlertRule, Comparison, Medication, Route
from kapsession.domain.questionnaires import PHQ9, score
from kapsession.domain.vitals import Reading, alerts_for
from kapsession.records.errors import AppendOnlyViolation, StorageError
from kapsession.records.measures import EntryMode
from kapsession.storage import append_only
from kapsession.storage.adverse_events import AdverseEventRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.client_profiles import ClientProfileRepository
from kapsession.storage.consents import ConsentRepository
from kapsession.storage.course_plans import CourseRepository
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.dose_orders import DoseOrderRepository
from kapsession.storage.models import (
    APPEND_ONLY_TABLES,
    AuditEntry,
    Base,
    MusicEvent,
    Note,
    Observation,
    PrivateNote,
    Signature,
)
from kapsession.storage.outcome_measures import OutcomeMeasureRepository
from kapsession.storage.signing_keys import SigningKeyRepository

if TYPE_CHECKING:
    from conftest import Clinic

MODELS = {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}
# The time column of each table (the raw UPDATE and the ORM change set it to itself or later).
TIME_COLUMN = {
    "alert": "raised_at",
    "alert_acknowledgement": "acknowledged_at",
    "signature": "signed_at",
    "client_profile": "recorded_at",
    "consent": "recorded_at",
    "course_plan": "recorded_at",
    "staff_signing_key": "created_at",
}
HIGH_SBP = AlertRule("systolic_mmhg", Comparison.GE, 180, "Systolic BP 180 or higher")


def _one_row_in_every_append_only_table(clinic: Clinic) -> dict[str, uuid.UUID]:
    """A live session with one row in each append-only table: {table: row id}."""
    session = clinic.new_session()
    participant = session.participants[0].id
    at = clinic.now()
    by = clinic.therapist.id
    ids = {
        "session_event": clinic.entries.add_event(
            session.id, "marker", occurred_at=at, recorded_at=at, label="Eyes closed", by=by
        ).id,
        "dose": clinic.entries.add_dose(
            session.id, participant, occurred_at=at, recorded_at=at, dose_mg=200.0, by=by
        )[0].id,
    }
    common: dict[str, Any] = {"session_id": session.id, "occurred_at": at, "recorded_at": at}
    rows = {
        "observation": Observation(participant_id=participant, heart_rate_bpm=72, **common),
        "note": Note(text="Calm, smiling", author_id=by, **common),
        "private_note": PrivateNote(text="Process the dream next time", author_id=by, **common),
        "music_event": MusicEvent(kind="track_start", track_title="Ambient 1", detail={}, **common),
        "signature": Signature(
            session_id=session.id,
            part="addendum",
            staff_id=by,
            signer_name="Dr. Ines Moreau",
            signer_role="therapist",
            signed_at=at,
            meaning="Signed an addendum",
            content_sha256="0" * 64,
        ),
    }
    with clinic.db.write() as orm:
        for table, row in rows.items():
            orm.add(row)
            orm.flush()
            ids[table] = row.id
        audit_id = orm.scalar(
            select(AuditEntry.id).where(AuditEntry.session_id == session.id).limit(1)
        )
    assert audit_id is not None
    ids["audit_entry"] = audit_id
    reading = Reading(systolic_mmhg=184, diastolic_mmhg=96)
    saved = CheckinRepository(clinic.db).add_observation(
        session.id,
        participant,
        reading,
        occurred_at=at,
        recorded_at=at,
        alerts=alerts_for(reading, [HIGH_SBP]),
        by=by,
    )
    (alert,) = saved.alerts
    ids["alert"] = alert.id
    ids["alert_acknowledgement"] = (
        CheckinRepository(clinic.db)
        .acknowledge(alert.id, staff_id=by, at=at, action="rechecked", comment="rechecked")
        .id
    )
    ids["discharge_assessment"] = (
        DischargeRepository(clinic.db)
        .record(
            session.id,
            participant,
            occurred_at=at,
            recorded_at=at,
            aldrete=dict.fromkeys(("activity", "breathing", "consciousness", "spo2"), 2),
            aldrete_total=8,
            on_room_air=True,
            checklist={"escort": True},
            ready=False,
            ready_minutes_after_first_dose=None,
            problems=["No baseline blood pressure to compare with."],
            override_reason="Baseline taken on paper",
            override_by="Dr. Ines Moreau",
            by=by,
        )[0]
        .id
    )
    ids.update(_adverse_rows(clinic, session.id, participant, ids["dose"], alert.id))
    at = clinic.now()
    ids["dose_order"] = (
        DoseOrderRepository(clinic.db)
        .add(
            session.id,
            participant,
            DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200.0, None, max_total_mg=300.0),
            ordered_by=clinic.therapist.id,
            ordered_at=at,
            recorded_at=at,
        )
        .id
    )
    ids["client_profile"] = _profile_version(clinic)
    ids["outcome_measure"] = (
        OutcomeMeasureRepository(clinic.db)
        .add(
            session.participants[0].client.id,
            score(PHQ9, {1: 2}),  # incomplete: the other items unanswered
            administered_at=at,
            recorded_at=at,
            mode=EntryMode.STAFF_PAPER,
            by=by,
            session_id=session.id,
        )
        .id
    )
    ids["consent"] = (
        ConsentRepository(clinic.db)
        .add(
            session.participants[0].client.id,
            Consent(ConsentKind.KAP_TREATMENT, True, at.date(), "v3", by),
            recorded_at=at,
            by=by,
        )
        .id
    )
    course_id = session.participants[0].course_id
    assert course_id is not None
    ids["course_plan"] = (
        CourseRepository(clinic.db)
        .save_plan(
            course_id,
            CoursePlan("Depression", 6, Medication.KETAMINE, Route.SUBLINGUAL),
            at=at,
            by=by,
            replaces=None,
        )
        .id
    )
    # issue 18: a staff member's signing key
    ids["staff_signing_key"] = (
        SigningKeyRepository(clinic.db, FAST_KDF).create(by, PASSPHRASE, at=at).id
    )
    assert set(ids) == set(APPEND_ONLY_TABLES)
    return ids


def _profile_version(clinic: Clinic) -> uuid.UUID:
    """A version of a client's profile (issue 17)."""
    client = clinic.add_client("Ben", "Ortiz")
    saved = ClientProfileRepository(clinic.db).save(
        client.id, ClientProfile(preferred_name="Benny"), at=clinic.now(),
        by=clinic.therapist.id, replaces=None,
    )  # fmt: skip
    assert saved.version is not None
    return saved.version.id


def _adverse_rows(
    clinic: Clinic,
    session_id: uuid.UUID,
    participant: uuid.UUID,
    dose_id: uuid.UUID,
    alert_id: uuid.UUID,
) -> dict[str, uuid.UUID]:
    """An adverse event, an intervention and a dose's count (issue 16)."""
    repo = AdverseEventRepository(clinic.db)
    at = clinic.now()
    event = repo.add_adverse_event(
        session_id,
        participant,
        check_adverse_event(
            kind="emesis", other="", severity="mild", seriousness="non-serious",
            outcome="ongoing", onset_at=at, resolved_at=None, actions="", now=at,
            alert_id=alert_id,
        ),
        recorded_at=at,
        by=None,
    )  # fmt: skip
    intervention = repo.add_intervention(
        session_id,
        participant,
        check_intervention(kind="repositioning", given_at=at, now=at),
        recorded_at=at,
        given_by=None,
        by=None,
    )
    count = repo.add_substance_count(
        dose_id,
        check_substance_count("200", "200", "0"),
        witness_id=None,
        recorded_at=at,
        by=None,
    )
    return {
        "adverse_event": event.id,
        "intervention": intervention.id,
        "controlled_substance": count.id,
    }


def _snapshot(clinic: Clinic, table: str, row_id: uuid.UUID) -> dict[str, Any] | None:
    with clinic.db.engine.connect() as connection:
        row = (
            connection.execute(
                text(f"SELECT * FROM {table} WHERE id = :id").bindparams(
                    bindparam("id", row_id, type_=Uuid())
                )
            )
            .mappings()
            .one_or_none()
        )
    return None if row is None else dict(row)


RAW_CHANGES = {
    "UPDATE": "UPDATE {table} SET {column} = {column} WHERE id = :id",
    "DELETE": "DELETE FROM {table} WHERE id = :id",
}


@pytest.mark.parametrize("operation", sorted(RAW_CHANGES))
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_the_database_itself_refuses_to_change_or_delete_clinical_rows(
    clinic: Clinic, table: str, operation: str
) -> None:
    # Given a row in an append-only table
    row_id = _one_row_in_every_append_only_table(clinic)[table]
    before = _snapshot(clinic, table, row_id)
    column = TIME_COLUMN.get(table, "occurred_at")
    statement = text(RAW_CHANGES[operation].format(table=table, column=column)).bindparams(
        bindparam("id", row_id, type_=Uuid())
    )

    # When raw SQL changes it on a bare connection, Then the database raises
    with pytest.raises(DBAPIError, match="append-only"), clinic.db.engine.begin() as connection:
        connection.execute(statement)
    # And through the application's write path the refusal reads as a message for staff
    with pytest.raises(AppendOnlyViolation, match="correction"), clinic.db.write() as orm:
        orm.execute(statement)

    # And the row is exactly as it was
    assert before is not None
    assert _snapshot(clinic, table, row_id) == before


@pytest.mark.parametrize("operation", ["change", "delete"])
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_the_orm_guard_refuses_before_any_sql_is_sent(
    clinic: Clinic, table: str, operation: str
) -> None:
    # Given the ORM guard installed and a row in an append-only table
    append_only.install()
    row_id = _one_row_in_every_append_only_table(clinic)[table]
    before = _snapshot(clinic, table, row_id)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.lstrip().upper())

    event.listen(clinic.db.engine, "before_cursor_execute", record)
    try:
        # When the row is changed or deleted through the ORM
        with pytest.raises(AppendOnlyViolation), clinic.db.write() as orm:
            row = orm.get(MODELS[table], row_id)
            assert row is not None
            if operation == "delete":
                orm.delete(row)
            else:
                column = TIME_COLUMN.get(table, "occurred_at")
                setattr(row, column, getattr(row, column) + timedelta(minutes=5))
    finally:
        event.remove(clinic.db.engine, "before_cursor_execute", record)

    # Then the guard refused it before any UPDATE or DELETE reached the database
    assert sent, "the test did not reach the database at all"
    assert not [s for s in sent if s.startswith(("UPDATE", "DELETE"))]
    assert _snapshot(clinic, table, row_id) == before


def test_the_orm_guard_lets_new_rows_and_unchanged_loads_through(clinic: Clinic) -> None:
    # Given the guard installed; When rows are loaded untouched and a new one added
    append_only.install()
    ids = _one_row_in_every_append_only_table(clinic)
    with clinic.db.write() as orm:
        for table, row_id in ids.items():
            assert orm.get(MODELS[table], row_id) is not None
    # Then nothing is refused, and new entries still save
    session = clinic.new_session()
    at = clinic.now()
    clinic.entries.add_event(session.id, "marker", occurred_at=at, recorded_at=at, label="ok")


# --- corrections --------------------------------------------------------------------------------


def test_a_correction_keeps_the_original_and_replaces_it_in_the_effective_view(
    clinic: Clinic,
) -> None:
    # Given an event entered with the wrong label
    session = clinic.new_session()
    at = clinic.now()
    original = clinic.entries.add_event(
        session.id, "marker", occurred_at=at, recorded_at=at, label="Music: track 3"
    )

    # When it is corrected, with a reason
    fixed = clinic.entries.correct_event(
        original.id,
        reason="  wrong track noted  ",
        recorded_at=clinic.now(),
        label="Music: track 4",
        by=clinic.therapist.id,
    )

    # Then the effective view shows the correction in place of the original
    assert [e.label for e in clinic.entries.events(session.id)][1:] == ["Music: track 4"]
    assert (fixed.corrects_id, fixed.correction_reason, fixed.voids) == (
        original.id,
        "wrong track noted",
        False,
    )
    assert fixed.occurred_at == original.occurred_at
    # And the history still holds the original, unchanged
    history = clinic.entries.events(session.id, include_history=True)
    assert original in history
    assert fixed in history


def test_a_voiding_correction_retracts_the_entry(clinic: Clinic) -> None:
    # Given an event entered in error
    session = clinic.new_session()
    at = clinic.now()
    original = clinic.entries.add_event(
        session.id, "marker", occurred_at=at, recorded_at=at, label="Vomited"
    )

    # When it is voided
    void = clinic.entries.correct_event(
        original.id, reason="entered for the wrong client", recorded_at=clinic.now(), voids=True
    )

    # Then neither the entry nor the void is in the effective view; both are in the history
    assert original.id not in {e.id for e in clinic.entries.events(session.id)}
    assert void.id not in {e.id for e in clinic.entries.events(session.id)}
    history_ids = {e.id for e in clinic.entries.events(session.id, include_history=True)}
    assert {original.id, void.id} <= history_ids


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_correction_without_a_reason_is_refused_and_nothing_is_written(
    clinic: Clinic, reason: str
) -> None:
    # Given an event
    session = clinic.new_session()
    at = clinic.now()
    original = clinic.entries.add_event(
        session.id, "marker", occurred_at=at, recorded_at=at, label="Eyes closed"
    )
    before = clinic.entries.events(session.id, include_history=True)

    # When a correction without a reason is attempted, Then it is refused and nothing is written
    with pytest.raises(StorageError, match="needs a reason"):
        clinic.entries.correct_event(original.id, reason=reason, recorded_at=clinic.now())
    assert clinic.entries.events(session.id, include_history=True) == before


@dataclass(frozen=True)
class _Entry:
    id: uuid.UUID
    corrects_id: uuid.UUID | None = None
    voids: bool = False


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=i + 1) for i in range(n)]


@pytest.mark.parametrize(
    ("entries", "standing"),
    [
        pytest.param([], [], id="nothing"),
        pytest.param([_Entry(_ids(1)[0])], [0], id="plain"),
        pytest.param([_Entry(_ids(2)[0]), _Entry(_ids(2)[1], _ids(2)[0])], [1], id="corrected"),
        pytest.param(
            [_Entry(_ids(3)[0]), _Entry(_ids(3)[1], _ids(3)[0]), _Entry(_ids(3)[2], _ids(3)[1])],
            [2],
            id="correction-of-a-correction",
        ),
        pytest.param(
            [_Entry(_ids(2)[0]), _Entry(_ids(2)[1], _ids(2)[0], voids=True)], [], id="voided"
        ),
        pytest.param(
            [_Entry(_ids(3)[0]), _Entry(_ids(3)[1]), _Entry(_ids(3)[2], _ids(3)[0])],
            [1, 2],
            id="other-entries-stand",
        ),
    ],
)
def test_effective_drops_superseded_and_voided_entries(
    entries: list[_Entry], standing: list[int]
) -> None:
    # Given entries and corrections; When the effective view is taken
    # Then exactly the entries that stand remain, in their order
    assert effective(entries) == [entries[i] for i in standing]
