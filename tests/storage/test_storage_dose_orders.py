"""The prescriber's order as an entry (issue 16): saved with its audit row, corrected or taken
back by a new row (both kept), refused once the session is signed; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from support.signing import signing_key

from kapsession.domain.dose_order import DoseOrder, OrderSource
from kapsession.domain.protocol import Medication, Route
from kapsession.records.errors import RecordLocked, StorageError
from kapsession.records.notes import PARTS
from kapsession.storage import schema
from kapsession.storage.dose_orders import DoseOrderRepository
from kapsession.storage.signatures import SignatureRepository

if TYPE_CHECKING:
    from conftest import Clinic

ORDER = DoseOrder(
    Medication.KETAMINE,
    Route.SUBLINGUAL,
    200.0,
    None,
    boosters=1,
    booster_mg=100.0,
    booster_window_min=(20.0, 40.0),
    max_total_mg=300.0,
    verbal=True,
)


def test_an_order_is_saved_with_who_and_when_and_read_back_whole(clinic: Clinic) -> None:
    # Given a live session
    session = clinic.new_session()
    participant = session.participants[0].id
    orders = DoseOrderRepository(clinic.db)
    ordered_at, now = clinic.now(), clinic.now()
    # When the verbal order is saved
    saved = orders.add(
        session.id, participant, ORDER, ordered_by=clinic.therapist.id, ordered_at=ordered_at,
        recorded_at=now, by=clinic.therapist.id,
    )  # fmt: skip
    # Then it reads back as it was given, with who ordered it and when
    (read,) = orders.orders(session.id)
    assert read == saved
    assert (read.order, read.ordered_by_id, read.occurred_at) == (
        ORDER,
        clinic.therapist.id,
        ordered_at,
    )
    assert read.source is OrderSource.SESSION_START
    # And the audit trail says so
    with clinic.db.rows() as rows:
        actions = list(
            rows.execute(
                select(schema.audit_entry.c.action).where(
                    schema.audit_entry.c.entity == "dose_order"
                )
            ).scalars()
        )
    assert actions == ["dose_order.add"]


def test_a_corrected_order_stands_and_the_original_stays_on_record(clinic: Clinic) -> None:
    session = clinic.new_session()
    orders = DoseOrderRepository(clinic.db)
    at = clinic.now()
    first = orders.add(
        session.id, session.participants[0].id, ORDER, ordered_by=clinic.therapist.id,
        ordered_at=at, recorded_at=at,
    )  # fmt: skip
    # When the dose is corrected to 150 mg with a reason
    changed = DoseOrder(Medication.KETAMINE, Route.SUBLINGUAL, 150.0, None, max_total_mg=150.0)
    corrected = orders.correct(
        first.id, reason="Prescriber lowered the dose", recorded_at=clinic.now(), order=changed
    )
    # Then the correction stands and both versions are kept
    assert [o.order for o in orders.orders(session.id)] == [changed]
    history = orders.orders(session.id, include_history=True)
    assert [o.id for o in history] == [first.id, corrected.id]
    assert corrected.corrects_id == first.id
    # And a correction without a reason, or of a superseded version, is refused
    with pytest.raises(StorageError, match="needs a reason"):
        orders.correct(corrected.id, reason=" ", recorded_at=clinic.now())
    with pytest.raises(StorageError):
        orders.correct(first.id, reason="again", recorded_at=clinic.now(), order=ORDER)
    # When it is taken back (entered in error), Then no order stands
    orders.correct(corrected.id, reason="Wrong client", recorded_at=clinic.now(), voids=True)
    assert orders.orders(session.id) == []


def test_an_order_in_the_future_or_in_a_signed_session_is_refused(clinic: Clinic) -> None:
    session = clinic.new_session()
    orders = DoseOrderRepository(clinic.db)
    participant = session.participants[0].id
    now = clinic.now()
    with pytest.raises(StorageError, match="in the future"):
        orders.add(
            session.id, participant, ORDER, ordered_by=clinic.therapist.id,
            ordered_at=clinic.now(600), recorded_at=now,
        )  # fmt: skip
    clinic.sessions.end(session.id, at=clinic.now(), by=clinic.therapist.id)
    SignatureRepository(clinic.db).sign(
        session.id,
        PARTS,
        staff_id=clinic.therapist.id,
        key=signing_key(clinic.db, clinic.therapist.id),
        at=clinic.now(),
        session_note=None,
    )
    at = clinic.now()
    with pytest.raises(RecordLocked):
        orders.add(
            session.id, participant, ORDER, ordered_by=clinic.therapist.id, ordered_at=at,
            recorded_at=at,
        )  # fmt: skip
    assert orders.orders(session.id) == []
