"""The escort for the day as a session event (issue 17), on SQLite and PostgreSQL: recorded for
one participant, corrected with a reason (its fields and label replaced, the first version
kept), withdrawn; the standing escort read back from the events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from kapsession.domain.corrections import EntryState, effective, versions
from kapsession.domain.escort import Escort, standing_escort
from kapsession.records.errors import StorageError

if TYPE_CHECKING:
    from conftest import Clinic


def test_an_escort_is_recorded_corrected_with_a_reason_and_the_first_version_kept(
    clinic: Clinic,
) -> None:
    # Given a live session and its participant's escort recorded
    session = clinic.new_session()
    (participant,) = session.participants
    first = Escort("Ben Fischer", "husband", "0170 555 0102")
    saved = clinic.entries.add_event(
        session.id, "escort", occurred_at=clinic.now(), recorded_at=clinic.now(),
        label=first.label(), participant_id=participant.id, detail=first.detail(),
        by=clinic.therapist.id,
    )  # fmt: skip
    # When it is corrected without a reason
    second = Escort("Ben Fischer", "husband", "0170 555 0103")
    with pytest.raises(StorageError, match="needs a reason"):
        clinic.entries.correct_event(
            saved.id, reason=" ", recorded_at=clinic.now(), label=second.label(),
            detail=second.detail(), by=clinic.therapist.id,
        )  # fmt: skip
    # And then with one
    clinic.entries.correct_event(
        saved.id, reason="Last digit misheard", recorded_at=clinic.now(), label=second.label(),
        detail=second.detail(), by=clinic.therapist.id,
    )  # fmt: skip
    # Then the corrected escort stands, its label and fields replaced, the first one amended
    events = clinic.entries.events(session.id, include_history=True)
    escorts = [e for e in events if e.kind == "escort"]
    assert [v.state for v in versions(escorts)] == [EntryState.AMENDED, EntryState.STANDING]
    assert standing_escort(effective(events), participant.id) == second
    assert escorts[0].detail["phone"] == "0170 555 0102"
    assert escorts[1].label == "Escort today: Ben Fischer (husband), 0170 555 0103"
    assert escorts[1].correction_reason == "Last digit misheard"


def test_an_escort_withdrawn_leaves_none_recorded(clinic: Clinic) -> None:
    # Given a participant with "no escort" recorded
    session = clinic.new_session()
    (participant,) = session.participants
    none = Escort(none=True)
    saved = clinic.entries.add_event(
        session.id, "escort", occurred_at=clinic.now(), recorded_at=clinic.now(),
        label=none.label(), participant_id=participant.id, detail=none.detail(),
    )  # fmt: skip
    assert saved.label == "Escort today: none — client told to arrange transport"
    # When it is withdrawn as entered in error
    clinic.entries.correct_event(
        saved.id, reason="Wrong client", recorded_at=clinic.now(), voids=True
    )
    # Then no escort stands for the participant
    assert standing_escort(clinic.entries.events(session.id), participant.id) is None
