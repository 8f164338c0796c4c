"""Saving outcome measures (issue 17): an answer that is not one is refused with a message
naming the item and the range and nothing is stored; an incomplete measure is stored
unscored and says so; PHQ-9 item 9 above zero says the prescriber decides; corrections and
withdrawals keep the history; the client history shows the measures as they stand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kapsession.domain.clock import FakeClock
from kapsession.records.measures import EntryMode, over_time
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.services.context import AppContext
from kapsession.services.outcome_measures import MeasureInvalid

PHQ9_14 = {1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 1, 7: 1, 8: 1, 9: 0}


def _client_and_nurse(context: AppContext, clock: FakeClock) -> tuple[ClientRecord, StaffRecord]:
    service = context.service
    nurse = service.add_staff("Tom Becker", "nurse", at=clock.now(), credentials="RN")
    client = service.add_client("Maya", "Fischer", at=clock.now(), date_of_birth=date(1984, 3, 2))
    return client, nurse


@pytest.mark.parametrize(
    ("key", "answers", "message"),
    [
        ("phq9", {**PHQ9_14, 4: 4}, "PHQ-9 item 4: 4 is not an answer; choose 0 to 3"),
        ("gad7", {1: -1}, "GAD-7 item 1: -1 is not an answer; choose 0 to 3"),
        ("pcl5", {20: 5}, "PCL-5 item 20: 5 is not an answer; choose 0 to 4"),
        ("gad7", {8: 1}, "GAD-7 has items 1 to 7; there is no item 8."),
        ("phq10", {1: 1}, "unknown measure 'phq10'"),
    ],
)
def test_an_answer_that_is_not_one_is_refused_naming_the_item_and_range_and_nothing_is_stored(
    context: AppContext, clock: FakeClock, key: str, answers: dict[int, int], message: str
) -> None:
    # Given a client and a nurse
    client, nurse = _client_and_nurse(context, clock)
    measures = context.service.measures
    # When answers with one out of range are saved, Then the message names the item and range
    with pytest.raises(MeasureInvalid) as refused:
        measures.save(
            client.id, key, answers, administered_at=clock.now(), at=clock.now(), by=nurse.id
        )
    assert message in str(refused.value)
    # And nothing is stored
    assert measures.history(client.id) == []


def test_a_measure_without_who_entered_it_is_refused(context: AppContext, clock: FakeClock) -> None:
    client, _nurse = _client_and_nurse(context, clock)
    measures = context.service.measures
    with pytest.raises(MeasureInvalid, match="Entered by"):
        measures.save(
            client.id, "phq9", PHQ9_14, administered_at=clock.now(), at=clock.now(), by=None
        )
    assert measures.history(client.id) == []


def test_a_complete_measure_is_saved_scored_and_an_incomplete_one_unscored_saying_so(
    context: AppContext, clock: FakeClock
) -> None:
    # Given a client and a nurse
    client, nurse = _client_and_nurse(context, clock)
    measures = context.service.measures
    # When a complete PHQ-9 is saved
    complete = measures.save(
        client.id, "phq9", PHQ9_14, administered_at=clock.now(), at=clock.now(), by=nurse.id
    )
    # Then it is scored and says so
    assert (complete.record.total, complete.record.band) == (13, "moderate")
    assert complete.message == "PHQ-9 13 (moderate) saved."
    # When one with items 3 and 9 unanswered is saved (None, or left out)
    partial = {**PHQ9_14, 3: None}
    del partial[9]
    incomplete = measures.save(
        client.id,
        "phq9",
        partial,
        administered_at=clock.now(),
        at=clock.now(),
        by=nurse.id,
        mode=EntryMode.CLIENT_SCREEN,
    )
    # Then it is stored with no total, its items unanswered (not 0), and says it is incomplete
    assert incomplete.record.total is None and incomplete.record.band is None
    assert incomplete.record.answers[2] is None and incomplete.record.answers[8] is None
    assert incomplete.message == (
        "PHQ-9 saved as incomplete (items 3, 9 unanswered): it is not scored."
    )
    assert [m.id for m in measures.standing(client.id)] == [
        complete.record.id,
        incomplete.record.id,
    ]


def test_phq9_item_9_above_zero_says_the_prescriber_must_decide(
    context: AppContext, clock: FakeClock
) -> None:
    client, nurse = _client_and_nurse(context, clock)
    saved = context.service.measures.save(
        client.id,
        "phq9",
        {**PHQ9_14, 9: 1},
        administered_at=clock.now(),
        at=clock.now(),
        by=nurse.id,
    )
    assert saved.score.needs_decision
    assert "the prescriber must decide before the next dose" in saved.message


def test_a_correction_and_a_withdrawal_keep_the_history_and_change_what_stands(
    context: AppContext, clock: FakeClock
) -> None:
    # Given two GAD-7s a week apart
    client, nurse = _client_and_nurse(context, clock)
    measures = context.service.measures
    first_at = clock.now()
    first = measures.save(
        client.id, "gad7", dict.fromkeys(range(1, 8), 2), administered_at=first_at,
        at=first_at, by=nurse.id,
    )  # fmt: skip
    clock.advance(timedelta(days=7).total_seconds())
    second = measures.save(
        client.id, "gad7", dict.fromkeys(range(1, 8), 1), administered_at=clock.now(),
        at=clock.now(), by=nurse.id,
    )  # fmt: skip
    # When the second is corrected with a bad answer, Then it is refused and nothing is stored
    with pytest.raises(MeasureInvalid, match="GAD-7 item 2: 9 is not an answer"):
        measures.correct(
            second.record.id, "gad7", {2: 9}, reason="typo", at=clock.now(), by=nurse.id
        )
    assert len(measures.history(client.id)) == 2
    # When it is corrected properly, and the first withdrawn
    corrected = measures.correct(
        second.record.id,
        "gad7",
        {**dict.fromkeys(range(1, 8), 1), 7: 0},
        reason="Item 7 misread",
        at=clock.now(),
        by=nurse.id,
    )
    measures.withdraw(first.record.id, reason="Another client's form", at=clock.now(), by=nurse.id)
    # Then every version stays in the history, and only the correction stands
    assert len(measures.history(client.id)) == 4
    assert measures.standing(client.id) == [corrected.record]
    assert corrected.record.total == 6
    # And the client history shows what stands
    history = context.history.history(client.id)
    assert history.measures == (corrected.record,)


def test_the_course_of_a_measure_compares_each_scored_one_with_the_one_before(
    context: AppContext, clock: FakeClock
) -> None:
    # Given PHQ-9s of 18, then one incomplete, then 8
    client, nurse = _client_and_nurse(context, clock)
    measures = context.service.measures
    for answers in (
        {**dict.fromkeys(range(1, 10), 2)},  # 18
        {1: 1},
        {**dict.fromkeys(range(1, 9), 1), 9: 0},  # 8
    ):
        clock.advance(86400)
        measures.save(
            client.id, "phq9", answers, administered_at=clock.now(), at=clock.now(), by=nurse.id
        )
    # When they are laid out over time
    (lines,) = over_time(measures.standing(client.id)).values()
    # Then the incomplete one is not compared, and 8 is a response against 18
    assert [line.score.total for line in lines] == [18, None, 8]
    assert lines[0].change is None and lines[1].change is None
    change = lines[2].change
    assert change is not None and (change.before, change.label) == (18, "response")
