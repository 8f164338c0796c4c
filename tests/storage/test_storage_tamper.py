"""A signed part of a session record changed behind the application no longer verifies.

An attacker with the database file (or a PostgreSQL superuser login) gets the append-only and
sign-lock triggers out of the way and changes, deletes or adds a row in a table a signed part's
digest reads. `SignatureRepository.verify()` must then report that part changed and the other
part still intact. The tests are parametrised over `DIGESTED_TABLES`, so a table added to a
part's digest is tampered with by itself, and the signed session they build must have a row in
it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
from sqlalchemy import Table, Text, UniqueConstraint, select
from support.signing import signing_key
from support.tampering import unguarded

from kapsession.domain.adverse_events import (
    check_adverse_event,
    check_intervention,
    check_substance_count,
)
from kapsession.domain.dose_order import DoseOrder
from kapsession.domain.protocol import AlertRule, Comparison, Medication, Route
from kapsession.domain.questionnaires import PHQ9, score
from kapsession.domain.vitals import Reading, alerts_for
from kapsession.records.measures import EntryMode
from kapsession.records.notes import PARTS, SessionNoteText, SignatureCheck
from kapsession.storage.adverse_events import AdverseEventRepository
from kapsession.storage.checkins import CheckinRepository
from kapsession.storage.database import Database
from kapsession.storage.discharges import DischargeRepository
from kapsession.storage.dose_orders import DoseOrderRepository
from kapsession.storage.driver import DRIVER_VALUES
from kapsession.storage.models import (
    Alert,
    AlertAcknowledgement,
    Client,
    DischargeAssessment,
    Dose,
    Note,
    Observation,
    Participant,
    Session,
    Signature,
    Staff,
)
from kapsession.storage.notes import NoteRepository
from kapsession.storage.outcome_measures import OutcomeMeasureRepository
from kapsession.storage.signatures import (
    DIGESTED_TABLES,
    DigestedTables,
    SignatureRepository,
    part_digest,
)

if TYPE_CHECKING:
    from conftest import Clinic

HIGH = Reading(systolic_mmhg=186, diastolic_mmhg=112, heart_rate_bpm=96, spo2_pct=97)
RULES = (
    AlertRule("systolic_mmhg", Comparison.GE, 180, "Systolic BP 180 or higher"),
    AlertRule("diastolic_mmhg", Comparison.GE, 110, "Diastolic BP 110 or higher"),
)
NOTE = SessionNoteText("kap", (("intention", "Intention", "To grieve my brother"),))

# Every table a part's digest reads, with how the digest picks the session's rows of it.
TABLES = [
    (part, table, tables)
    for part, groups in DIGESTED_TABLES.items()
    for tables in groups
    for table in tables.tables
]
CASES = [
    pytest.param(part, table, tables, id=f"{part}-{table.name}") for part, table, tables in TABLES
]


def _signed_session(clinic: Clinic) -> uuid.UUID:
    """A session with both parts signed, and rows in every table either part's digest reads
    (two alerts, one acknowledged), an addendum after signing."""
    session = clinic.new_session()
    participant = session.participants[0].id
    at = clinic.now()
    clinic.entries.add_dose(session.id, participant, occurred_at=at, recorded_at=at, dose_mg=200.0)
    DoseOrderRepository(clinic.db).add(
        session.id,
        participant,
        DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 200.0, None, max_total_mg=300.0),
        ordered_by=clinic.therapist.id,
        ordered_at=at,
        recorded_at=at,
    )
    checkins = CheckinRepository(clinic.db)
    at = clinic.now()
    saved = checkins.add_observation(
        session.id,
        participant,
        HIGH,
        occurred_at=at,
        recorded_at=at,
        checkin_key="t40",
        on_room_air=True,
        alerts=alerts_for(HIGH, RULES),
        by=clinic.therapist.id,
    )
    assert len(saved.alerts) == 2
    checkins.acknowledge(
        saved.alerts[0].id, staff_id=clinic.therapist.id, at=clinic.now(), action="rechecked"
    )
    at = clinic.now()
    NoteRepository(clinic.db).add_entry(session.id, "Settled", occurred_at=at, recorded_at=at)
    at = clinic.now()
    DischargeRepository(clinic.db).record(
        session.id,
        participant,
        occurred_at=at,
        recorded_at=at,
        aldrete=dict.fromkeys(("activity", "breathing", "circulation", "consciousness", "spo2"), 2),
        aldrete_total=10,
        on_room_air=True,
        checklist={"oriented": True, "escort": True},
        ready=True,
        ready_minutes_after_first_dose=124,
        problems=[],
        by=clinic.therapist.id,
    )
    _adverse_rows(clinic, session.id, participant, saved.alerts[0].id)
    at = clinic.now()  # a PHQ-9 given in the session (issue 17)
    OutcomeMeasureRepository(clinic.db).add(
        session.participants[0].client.id,
        score(PHQ9, dict.fromkeys(range(1, 10), 1)),
        administered_at=at,
        recorded_at=at,
        mode=EntryMode.STAFF_PAPER,
        by=clinic.therapist.id,
        session_id=session.id,
    )
    clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    signatures = SignatureRepository(clinic.db)
    signatures.sign(
        session.id,
        PARTS,
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
        session_note=NOTE,
    )
    signatures.add_addendum(
        session.id,
        "Phoned next day",
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
    )
    return session.id


def _adverse_rows(
    clinic: Clinic, session_id: uuid.UUID, participant: uuid.UUID, alert_id: uuid.UUID
) -> None:
    """An adverse event after the alert, ondansetron for it, and the dose's count (issue 16)."""
    repo = AdverseEventRepository(clinic.db)
    at = clinic.now()
    event = repo.add_adverse_event(
        session_id,
        participant,
        check_adverse_event(
            kind="hypertension", other="", severity="moderate", seriousness="non-serious",
            outcome="ongoing", onset_at=at, resolved_at=None, actions="", now=at,
            alert_id=alert_id,
        ),
        recorded_at=at,
        by=clinic.therapist.id,
    )  # fmt: skip
    at = clinic.now()
    repo.add_intervention(
        session_id,
        participant,
        check_intervention(kind="repositioning", given_at=at, now=at),
        recorded_at=at,
        given_by=None,
        adverse_event_id=event.id,
        by=clinic.therapist.id,
    )
    (dose,) = clinic.entries.doses(session_id)
    repo.add_substance_count(
        dose.id,
        check_substance_count("200", "200", "0"),
        witness_id=None,
        recorded_at=clinic.now(),
        by=clinic.therapist.id,
    )


def _rows(
    db: Database, table: Table, tables: DigestedTables, session_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The session's rows of `table` that the part's digest reads, in the digest's order."""
    query = select(table).where(tables.rows(table, session_id)).order_by(table.c.id)
    with db.read() as orm:
        return [dict(row) for row in orm.execute(query).mappings()]


def _rows_of(db: Database, part: str, table: str, session_id: uuid.UUID) -> list[dict[str, Any]]:
    """The rows of `table` that `part`'s digest reads."""
    for each, digested, tables in TABLES:
        if each == part and digested.name == table:
            return _rows(db, digested, tables, session_id)
    raise AssertionError(f"the {part} part's digest does not read {table}")


# --- the attacker --------------------------------------------------------------------------


_unguarded = unguarded


def _changed(table: Table, row: dict[str, Any]) -> tuple[str, Any]:
    """A column of `row` and a new value for it: a number one more, else a text (free text
    first, say a note's rather than its kind) one character longer."""
    keys = {c.name for c in table.columns if c.primary_key or c.foreign_keys}
    values = [(k, v) for k, v in row.items() if k not in keys and v is not None]
    for name, value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return name, value + 1
    texts = sorted(
        ((k, v) for k, v in values if isinstance(v, str)),
        key=lambda kv: not isinstance(table.c[kv[0]].type, Text),
    )
    if texts:
        name, value = texts[0]
        return name, value + "!"
    raise AssertionError(f"{table.name}: no number or text to change in {row}")


def _unique_columns(table: Table) -> list[str]:
    single = [
        next(iter(c.columns)).name
        for c in table.constraints
        if isinstance(c, UniqueConstraint) and len(c.columns) == 1
    ]
    return [c.name for c in table.columns if c.unique and not c.primary_key] + single


def _free_reference(
    db: Database, part: str, table: Table, column: str, session_id: uuid.UUID
) -> uuid.UUID:
    """For a copied row's unique foreign key (an acknowledgement's alert): a row of the same
    part that no row of `table` refers to yet."""
    (foreign,) = table.c[column].foreign_keys
    taken = {row[column] for row in _rows_of(db, part, table.name, session_id)}
    free = [
        row["id"]
        for row in _rows_of(db, part, foreign.column.table.name, session_id)
        if row["id"] not in taken
    ]
    assert free, (
        f"the signed session needs a {foreign.column.table.name} row without a {table.name}"
    )
    return cast(uuid.UUID, free[0])


def _tamper(
    db: Database, part: str, table: Table, row: dict[str, Any], how: str, session_id: uuid.UUID
) -> None:
    driver = DRIVER_VALUES[db.dialect]
    row_id = driver.param_uuid(row["id"])
    params: tuple[Any, ...]
    if how == "change":
        column, value = _changed(table, row)
        statement, params = f"UPDATE {table.name} SET {column} = ? WHERE id = ?", (value, row_id)
    elif how == "delete":
        statement, params = f"DELETE FROM {table.name} WHERE id = ?", (row_id,)
    else:  # a copy of the row, with ids of its own where they must be unique
        fresh = {"id": uuid.uuid4()} | {
            column: _free_reference(db, part, table, column, session_id)
            for column in _unique_columns(table)
        }
        columns = [c.name for c in table.columns]
        picked = ", ".join("?" if c in fresh else c for c in columns)
        statement = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"SELECT {picked} FROM {table.name} WHERE id = ?"
        )
        params = (*[driver.param_uuid(fresh[c]) for c in columns if c in fresh], row_id)
    with _unguarded(db, table.name) as cursor:
        cursor.execute(driver.sql(statement), params)
        assert cursor.rowcount == 1


# --- tampering with each table of each part -------------------------------------------------


def test_every_part_is_digested() -> None:
    assert list(DIGESTED_TABLES) == list(PARTS)
    assert all(tables.tables for groups in DIGESTED_TABLES.values() for tables in groups)


@pytest.mark.parametrize(("part", "table", "tables"), CASES)
def test_the_signed_session_has_rows_in_every_table_the_digests_read(
    clinic: Clinic, part: str, table: Table, tables: DigestedTables
) -> None:
    # A table without rows here would be tampered with by nothing: build the session with one.
    session_id = _signed_session(clinic)
    assert _rows(clinic.db, table, tables, session_id), (
        f"_signed_session writes no {table.name} row the {part} digest reads"
    )


@pytest.mark.parametrize("how", ["change", "delete", "insert"])
@pytest.mark.parametrize(("part", "table", "tables"), CASES)
def test_a_tampered_signed_part_no_longer_verifies_and_the_other_still_does(
    clinic: Clinic, part: str, table: Table, tables: DigestedTables, how: str
) -> None:
    # Given a session with both parts signed, both verifying
    session_id = _signed_session(clinic)
    signatures = SignatureRepository(clinic.db)
    assert signatures.verify(session_id) == dict.fromkeys(PARTS, SignatureCheck.VALID)
    rows = _rows(clinic.db, table, tables, session_id)
    assert rows, f"_signed_session writes no {table.name} row the {part} digest reads"
    # When an attacker, past the triggers, changes, deletes or adds a row the part's digest reads
    _tamper(clinic.db, part, table, rows[0], how, session_id)
    # Then that part no longer verifies, and the other part still does
    assert signatures.verify(session_id) == {
        each: SignatureCheck.CHANGED if each == part else SignatureCheck.VALID for each in PARTS
    }


# --- the digest of rows already signed does not change --------------------------------------

FIXED = datetime(2026, 3, 4, 9, 30, 15, 250000, tzinfo=UTC)


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _fixed_record() -> list[Any]:
    """A session with one row or more in every digested table, every id and value fixed."""
    at = FIXED
    later = FIXED + timedelta(minutes=40)
    staff, client, session, participant = _id(1), _id(2), _id(3), _id(4)
    return [
        Staff(id=staff, display_name="Ana Ruiz", role="nurse", credentials="RN", created_at=at),
        Client(id=client, given_name="Zoë", family_name="Brandt", created_at=at),
        Session(
            id=session,
            room="Room 1",
            modality="individual",
            status="completed",
            protocol_key="sublingual-kap-3h",
            protocol_name="Sublingual KAP, 3 hours",
            protocol_version=1,
            protocol_text="schema = 1\n",
            protocol_sha256="0" * 64,
            therapist_id=staff,
            created_at=at,
            started_at=at,
            ended_at=later + timedelta(hours=2),
        ),
        Participant(
            id=participant, session_id=session, client_id=client, position=0, created_at=at
        ),
        Dose(
            id=_id(10),
            session_id=session,
            participant_id=participant,
            occurred_at=at,
            recorded_at=at + timedelta(seconds=5),
            kind="initial",
            medication="ketamine",
            route="sublingual",
            dose_mg=200.0,
            lot_number="L-17",
            given_by_id=staff,
            recorded_by_id=staff,
            detail={"b": 2, "a": [1, "ü"]},
            voids=False,
        ),
        Observation(
            id=_id(20),
            session_id=session,
            participant_id=participant,
            occurred_at=later,
            recorded_at=later,
            checkin_key="t40",
            systolic_mmhg=186,
            diastolic_mmhg=112,
            heart_rate_bpm=96,
            spo2_pct=97,
            temperature_c=36.8,
            emesis=False,
            comment="flushed",
            on_room_air=True,
            recorded_by_id=staff,
            voids=False,
        ),
        Alert(
            id=_id(30),
            session_id=session,
            participant_id=participant,
            observation_id=_id(20),
            field="systolic_mmhg",
            op=">=",
            threshold=180.0,
            value=186.0,
            label="Systolic BP 180 or higher",
            message="Systolic 186 ≥ 180",
            raised_at=later,
            position=0,
        ),
        Alert(
            id=_id(31),
            session_id=session,
            participant_id=participant,
            observation_id=_id(20),
            field="diastolic_mmhg",
            op=">=",
            threshold=110.0,
            value=112.0,
            label="Diastolic BP 110 or higher",
            message="Diastolic 112 ≥ 110",
            raised_at=later,
            position=1,
        ),
        AlertAcknowledgement(
            id=_id(40), alert_id=_id(30), acknowledged_at=later, staff_id=staff, comment="seen"
        ),
        DischargeAssessment(
            id=_id(50),
            session_id=session,
            participant_id=participant,
            occurred_at=later + timedelta(hours=2),
            recorded_at=later + timedelta(hours=2),
            recorded_by_id=staff,
            aldrete_activity=2,
            aldrete_breathing=2,
            aldrete_circulation=2,
            aldrete_consciousness=2,
            aldrete_spo2=2,
            aldrete_total=10,
            on_room_air=True,
            checklist={"oriented": True, "escort": True},
            ready=True,
            ready_minutes_after_first_dose=124,
            problems=[],
            voids=False,
        ),
        Note(
            id=_id(60),
            session_id=session,
            participant_id=participant,
            occurred_at=later,
            recorded_at=later,
            kind="entry",
            text="Settled, eyes closed",
            phase_key="peak",
            author_id=staff,
            elapsed_s=2400,
            since_dose_s=2400,
            voids=False,
        ),
        Note(
            id=_id(61),
            session_id=session,
            occurred_at=later + timedelta(hours=2),
            recorded_at=later + timedelta(hours=2),
            kind="session_note",
            text="Intention\nTo grieve my brother",
            template_key="kap",
            sections=[{"key": "intention", "title": "Intention", "body": "To grieve my brother"}],
            author_id=staff,
            voids=False,
        ),
        Note(
            id=_id(62),
            session_id=session,
            occurred_at=later + timedelta(hours=3),
            recorded_at=later + timedelta(hours=3),
            kind="addendum",
            text="Phoned next day",
            author_id=staff,
            voids=False,
        ),
    ]


# The digests of `_fixed_record`, taken with signatures.py as it was before DIGESTED_TABLES: the
# signatures already in clinics' databases hold hashes of these.
PINNED = {
    "monitoring": "01ec57f7992f17e267622fcdd5d7e6d0bd68539a1f8e0d8c5114edef229549f8"
    "faf632012472c07a63de7259d7df754cbc5c2cfeeb16d7c0f0fa3a6de7da4f12",
    "therapy": "a6e8bb00374eaad10ab80f7b62316064a72a064ada435d3c39e08db379c9464f",
}


def test_the_digest_of_a_signed_record_is_what_it_always_was(clinic: Clinic) -> None:
    # Given a session whose every id and value is fixed
    with clinic.db.write() as orm:
        for row in _fixed_record():
            orm.add(row)
            orm.flush()  # in order: the models declare foreign keys, not relationships
    # When each part's digest is taken, Then it is the one pinned, on every back-end
    with clinic.db.read() as orm:
        assert {part: part_digest(orm, _id(3), part) for part in PINNED} == PINNED
    # And signatures holding those digests (as an existing database has them) verify
    with clinic.db.write() as orm:
        for n, (part, digest) in enumerate(PINNED.items()):
            orm.add(
                Signature(
                    id=_id(70 + n),
                    session_id=_id(3),
                    part=part,
                    staff_id=_id(1),
                    signer_name="Ana Ruiz, RN",
                    signer_role="nurse",
                    signed_at=FIXED + timedelta(hours=5),
                    meaning="x",
                    content_sha256=hashlib.sha256(digest.encode("ascii")).hexdigest(),
                )
            )
    # (made before signatures were bound to a person: no key, so never "valid", issue 18)
    assert SignatureRepository(clinic.db).verify(_id(3)) == dict.fromkeys(
        PARTS, SignatureCheck.UNBOUND
    )
