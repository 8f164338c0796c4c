"""Before a dosing session and its first dose (issue 17): no session starts without the
client's current KAP treatment consent unless the prescriber overrides (a protocol deviation);
the first dose waits for the screening, for the prescriber's decision on a failed item, and for
their decision when the PHQ-9 that counts for the session answered item 9 above zero."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta

import pytest
from services_support import START, Room, minutes, run_until
from support.dosing import take_bp
from support.team import passing_answers, usual_order, usual_prescriber

from kapsession.domain.consent import Consent, ConsentKind
from kapsession.records.errors import NotAllowed, StorageError
from kapsession.records.people import ClientRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.dose_gates import Decision, Gate, Needs
from kapsession.services.live_session import LiveSession
from kapsession.services.pre_dose import ConsentMissing, ConsentOverride

TODAY = START.astimezone().date()
PHQ9_ITEM9_ONE = {1: 1, 2: 1, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 1}
PHQ9_ITEM9_ZERO = {**PHQ9_ITEM9_ONE, 9: 0}


def _consent(room: Room, client: ClientRecord, **changes: object) -> None:
    consent = Consent(
        ConsentKind.KAP_TREATMENT, True, TODAY - timedelta(days=30), "v3", room.nurse.id
    )
    room.service.consents.save(
        client.id,
        dataclasses.replace(consent, **changes),
        at=room.clock.now(),
        by=room.nurse.id,  # type: ignore[arg-type]
    )


def _start(
    room: Room, *clients: ClientRecord, override: ConsentOverride | None = None
) -> SessionRecord:
    return room.service.start_dosing_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[c.id for c in clients],
        modality="individual" if len(clients) == 1 else "couples",
        at=room.clock.now(),
        consent_override=override,
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
        order=usual_order(room.service, "sublingual-kap-3h", room.clock.now()),
        by=room.therapist.id,
    )


def _ready_for_dose(room: Room, record: SessionRecord) -> tuple[LiveSession, object]:
    live, signals = room.open_live(record.id)
    for participant in record.participants:
        take_bp(live, participant.id)
    run_until(live, room.clock, START + minutes(30))
    return live, signals


# consent ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "why"),
    [
        (None, "none recorded"),
        ({"withdrawn_on": TODAY - timedelta(days=1)}, "withdrawn on"),
        ({"signed_on": TODAY - timedelta(days=400)}, "expired on"),  # the clinic's 365 days
        ({"expires_on": TODAY}, "expired on"),  # the form's own expiry
        ({"given": False}, "declined on"),
    ],
)
def test_a_dosing_session_without_current_consent_is_refused_naming_the_client(
    room: Room, changes: dict[str, object] | None, why: str
) -> None:
    # Given a client whose consent is missing, withdrawn, expired or declined
    client = room.client("Maya", "Fischer")
    if changes is not None:
        _consent(room, client, **changes)
    # When a dosing session is started for them, Then it is refused naming them and why
    with pytest.raises(ConsentMissing) as refused:
        _start(room, client)
    assert "Maya Fischer" in str(refused.value) and why in str(refused.value)
    assert "K on the client list" in str(refused.value)
    # And no session was saved
    assert room.service.live_sessions() == []


def test_a_consultation_starts_before_any_consent(room: Room) -> None:
    # Given a new client with no consent yet
    client = room.client("Maya", "Fischer")
    # When their consultation (a session without a dose) is started through the same call
    record = room.service.start_dosing_session(
        protocol_key="consultation",
        client_ids=[client.id],
        modality="individual",
        at=room.clock.now(),
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
        by=room.therapist.id,
    )
    # Then it starts: KAP treatment consent is asked for before a dosing session only
    assert [s.id for s in room.service.live_sessions()] == [record.id]


def test_the_newest_consent_decides_an_older_valid_one_does_not_count(room: Room) -> None:
    # Given a consent signed 30 days ago, and a newer one withdrawn since
    client = room.client()
    _consent(room, client)
    room.clock.advance(60)
    _consent(room, client, signed_on=TODAY - timedelta(days=5), withdrawn_on=TODAY)
    # When a session is started, Then it is refused: the client's latest word stands
    with pytest.raises(ConsentMissing, match="withdrawn on"):
        _start(room, client)


def test_a_session_with_current_consent_starts_and_records_no_deviation(room: Room) -> None:
    client = room.client()
    _consent(room, client)
    record = _start(room, client)
    assert record.started_at is not None
    assert room.events(record.id, "consent_override") == []


def test_the_prescribers_override_starts_it_and_is_recorded_as_a_protocol_deviation(
    room: Room,
) -> None:
    # Given a couple, one with consent and one without
    maya, jon = room.client("Maya", "Fischer"), room.client("Jon", "Berg")
    _consent(room, maya)
    prescriber = usual_prescriber(room.service, room.clock.now())
    # When the prescriber overrides with a reason
    override = ConsentOverride(
        prescriber.id, prescriber.signature_name, "Signed form on file at reception"
    )
    record = _start(room, maya, jon, override=override)
    # Then the session starts, and the deviation is recorded for Jon only, naming who and why
    (deviation,) = room.events(record.id, "consent_override")
    jon_participant = next(p for p in record.participants if p.client.id == jon.id)
    assert deviation.participant_id == jon_participant.id
    assert deviation.detail["reason"] == "Signed form on file at reception"
    assert deviation.detail["prescriber_id"] == str(prescriber.id)
    assert "none recorded" in deviation.label and prescriber.signature_name in deviation.label


def _refuse_inserts(room: Room, table: str, when: str = "1") -> None:
    """Make the database refuse a row of `table` (a full disk, a failing driver, at that
    moment): a trigger on the test's SQLite file."""
    path = room.context.database.file
    assert path is not None
    with sqlite3.connect(path) as connection:
        connection.execute(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {when} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )


@pytest.mark.parametrize(
    ("table", "when"),
    [
        ("session_event", "NEW.kind = 'consent_override'"),  # the deviation
        ("dose_order", "1"),  # the prescriber's order
    ],
)
def test_a_session_never_goes_live_without_its_deviation_and_its_order(
    room: Room, table: str, when: str
) -> None:
    # Given a client without consent and the prescriber's override, and a database that
    # refuses the deviation (or the order) when it is written
    client = room.client()
    prescriber = usual_prescriber(room.service, room.clock.now())
    override = ConsentOverride(prescriber.id, prescriber.signature_name, "Form at reception")
    _refuse_inserts(room, table, when)
    # When the session is started, Then the start fails
    with pytest.raises(StorageError):
        _start(room, client, override=override)
    # And no session is live: its clock never started without what belongs to its start
    assert room.service.live_sessions() == []


def test_only_a_prescriber_overrides_and_an_override_needs_a_reason(room: Room) -> None:
    client = room.client()
    with pytest.raises(NotAllowed):
        _start(room, client, override=ConsentOverride(room.nurse.id, "Tom Becker, RN", "x"))
    assert room.service.live_sessions() == []
    with pytest.raises(ValueError, match="Reason"):
        ConsentOverride(room.nurse.id, "Tom Becker, RN", "  ")


def test_touch_consent_reads_yes_no_or_not_recorded_and_never_gates(room: Room) -> None:
    client = room.client()
    _consent(room, client)
    consents = room.service.consents
    assert consents.status(client.id, room.clock.now()).touch == "touch consent: not recorded"
    touch = Consent(ConsentKind.TOUCH, False, TODAY, "v3", room.nurse.id)
    consents.save(client.id, touch, at=room.clock.now(), by=room.nurse.id)
    status = consents.status(client.id, room.clock.now())
    assert status.touch == "touch consent: no"
    assert status.current  # a declined touch consent does not stop the session
    room.clock.advance(60)  # a minute later, the client agrees to touch after all
    consents.save(
        client.id, dataclasses.replace(touch, given=True), at=room.clock.now(), by=room.nurse.id
    )
    assert consents.status(client.id, room.clock.now()).touch == "touch consent: yes"
    assert _start(room, client).started_at is not None


def test_a_consent_with_a_problem_is_refused_naming_the_field_and_nothing_is_stored(
    room: Room,
) -> None:
    from kapsession.services.consents import ConsentInvalid

    client = room.client()
    bad = Consent(ConsentKind.KAP_TREATMENT, True, TODAY + timedelta(days=1), " ", room.nurse.id)
    with pytest.raises(ConsentInvalid) as refused:
        room.service.consents.save(client.id, bad, at=room.clock.now(), by=room.nurse.id)
    assert "Form version" in str(refused.value) and "Date signed" in str(refused.value)
    assert room.service.consents.history(client.id) == []


# the screening ----------------------------------------------------------------------------------
def test_the_first_dose_waits_for_the_screening(room: Room) -> None:
    # Given a session started without the screening
    record = room.start(screening=None)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    # When the dose is tried, Then D is not offered and the dose is refused, saying why
    allowed, why = live.dose_availability(pid)
    assert not allowed and "Screening before the dose is not done: press B" in why
    assert live.record_dose(pid, "200 mg") is None
    assert live.doses == []
    # When the screening is answered and every item passes, Then the dose is given
    saved = live.record_screening(pid, live.screening_checklist(), passing_answers(room.service))
    assert saved is not None and saved.kind == "screening"
    assert live.dose_availability(pid)[0]
    result = live.record_dose(pid, "200 mg")
    assert result is not None and result.saved


def test_a_failed_item_blocks_the_dose_until_the_prescriber_decides(room: Room) -> None:
    # Given a screening where the escort is not confirmed
    record = room.start(screening=None)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    answers = {**passing_answers(room.service), "escort-transport": "no"}
    screening = live.record_screening(pid, live.screening_checklist(), answers)
    assert screening is not None
    # Then the dose waits for the prescriber's decision, naming the item
    (block,) = live.dose_blocks(pid)
    assert block.gate is Gate.SCREENING and block.needs is Needs.DECISION
    assert "Escort and transport home confirmed" in block.text and "press B" in block.text
    assert live.record_dose(pid, "200 mg") is None
    # When the prescriber holds, Then the dose stays blocked, saying who and why
    prescriber = usual_prescriber(room.service, room.clock.now())
    held = live.record_dose_decision(
        pid, block, Decision.HOLD, prescriber_id=prescriber.id, reason="Escort not here yet"
    )
    assert held is not None
    (still,) = live.dose_blocks(pid)
    assert still.needs is Needs.HELD and "Escort not here yet" in still.text
    assert live.record_dose(pid, "200 mg") is None
    # When the prescriber then proceeds, Then the dose is given
    live.record_dose_decision(
        pid, still, Decision.PROCEED, prescriber_id=prescriber.id, reason="Escort arrived"
    )
    assert live.dose_blocks(pid) == []
    result = live.record_dose(pid, "200 mg")
    assert result is not None and result.saved


def test_a_screening_answered_again_needs_a_new_decision(room: Room) -> None:
    record = room.start(screening=None)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    failing = {**passing_answers(room.service), "fasting": "no"}
    first = live.record_screening(pid, live.screening_checklist(), failing)
    assert first is not None
    prescriber = usual_prescriber(room.service, room.clock.now())
    (block,) = live.dose_blocks(pid)
    live.record_dose_decision(
        pid, block, Decision.PROCEED, prescriber_id=prescriber.id, reason="Ate 7 h ago"
    )
    assert live.dose_blocks(pid) == []
    # When it is answered again (a correction, with a reason) with another failed item
    again = {**failing, "fasting": "yes", "medication-changes": "yes"}
    corrected = live.record_screening(
        pid,
        live.screening_checklist(),
        again,
        replaces=first.id,
        reason="Client remembered a new medication",
    )
    assert corrected is not None and corrected.corrects_id == first.id
    # Then the earlier decision no longer covers it
    (block,) = live.dose_blocks(pid)
    assert block.needs is Needs.DECISION and "medication changes" in block.text


def test_only_a_prescriber_decides_and_a_decision_needs_a_reason(room: Room) -> None:
    record = room.start(screening=None)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    (block,) = live.dose_blocks(pid)
    assert (
        live.record_dose_decision(
            pid, block, Decision.PROCEED, prescriber_id=room.nurse.id, reason="x"
        )
        is None
    )
    prescriber = usual_prescriber(room.service, room.clock.now())
    assert (
        live.record_dose_decision(
            pid, block, Decision.PROCEED, prescriber_id=prescriber.id, reason=" "
        )
        is None
    )
    assert room.events(record.id, "dose_gate_decision") == []


def test_boosters_do_not_wait_for_the_screening(room: Room) -> None:
    record = room.start()  # the screening passed
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    assert live.record_dose(pid, "200 mg") is not None
    # When the screening is withdrawn after the first dose, Then nothing blocks any more
    screening = live.screening_of(pid)
    assert screening is not None
    assert live.withdraw_event(screening.id, "Entered for the wrong client")
    assert live.dose_blocks(pid) == []


# PHQ-9 item 9 -----------------------------------------------------------------------------------
def _phq9(
    room: Room, client_id: object, answers: dict[int, int], *, at: object, session_id: object = None
) -> object:
    return room.service.measures.save(
        client_id,
        "phq9",
        answers,
        administered_at=at,
        at=room.clock.now(),
        by=room.nurse.id,  # type: ignore[arg-type]
        session_id=session_id,  # type: ignore[arg-type]
    ).record


def test_phq9_item9_above_zero_blocks_the_dose_until_the_prescriber_decides(room: Room) -> None:
    # Given a PHQ-9 from the waiting room, an hour before the session, with item 9 answered 1
    client = room.client()
    _phq9(room, client.id, PHQ9_ITEM9_ONE, at=room.clock.now() - timedelta(hours=1))
    record = room.start(client)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    # Then the dose waits, saying why in plain words
    (block,) = live.dose_blocks(pid)
    assert block.gate is Gate.PHQ9_ITEM9 and block.needs is Needs.DECISION
    assert "item 9" in block.text and "answered 1" in block.text and "press B" in block.text
    allowed, why = live.dose_availability(pid)
    assert not allowed and why == block.text
    assert live.record_dose(pid, "200 mg") is None
    # When the prescriber records "proceed" with a reason, Then the dose is given
    prescriber = usual_prescriber(room.service, room.clock.now())
    decision = live.record_dose_decision(
        pid,
        block,
        Decision.PROCEED,
        prescriber_id=prescriber.id,
        reason="Passive thoughts, safety plan reviewed",
    )
    assert decision is not None and decision.detail["gate"] == "phq9_item9"
    result = live.record_dose(pid, "200 mg")
    assert result is not None and result.saved


def test_a_phq9_given_in_this_session_counts_and_hold_keeps_the_dose_blocked(room: Room) -> None:
    client = room.client()
    record = room.start(client)
    _phq9(room, client.id, PHQ9_ITEM9_ONE, at=room.clock.now(), session_id=record.id)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    (block,) = live.dose_blocks(pid)
    prescriber = usual_prescriber(room.service, room.clock.now())
    live.record_dose_decision(
        pid, block, Decision.HOLD, prescriber_id=prescriber.id, reason="Active ideation"
    )
    (held,) = live.dose_blocks(pid)
    assert held.needs is Needs.HELD and "Active ideation" in held.text
    assert live.record_dose(pid, "200 mg") is None


@pytest.mark.parametrize(
    ("hours_before", "answers", "blocked"),
    [
        (25, PHQ9_ITEM9_ONE, False),  # older than the 24 hours before the start: not this session's
        (2, PHQ9_ITEM9_ONE, True),
        (2, PHQ9_ITEM9_ZERO, False),
    ],
)
def test_which_phq9_counts_for_this_dosing_session(
    room: Room, hours_before: int, answers: dict[int, int], blocked: bool
) -> None:
    client = room.client()
    _phq9(room, client.id, answers, at=room.clock.now() - timedelta(hours=hours_before))
    record = room.start(client)
    live, _signals = _ready_for_dose(room, record)
    assert bool(live.dose_blocks(record.participants[0].id)) is blocked


def test_a_phq9_given_in_another_session_that_day_counts(room: Room) -> None:
    # Given a preparation session two hours earlier where the PHQ-9 answered item 9 with 1
    client = room.client()
    earlier = room.start(client, screening=None)
    _phq9(room, client.id, PHQ9_ITEM9_ONE, at=room.clock.now(), session_id=earlier.id)
    room.service.end_session(earlier.id, at=room.clock.now())
    room.clock.advance(2 * 3600)
    # When the dosing session starts, Then its first dose waits for the prescriber
    record = room.start(client)
    live, _signals = room.open_live(record.id)
    (block,) = live.dose_blocks(record.participants[0].id)
    assert block.gate is Gate.PHQ9_ITEM9


def test_the_newest_phq9_decides_and_one_saved_while_open_is_followed(room: Room) -> None:
    # Given a flagged PHQ-9 two hours before, and the session open
    client = room.client()
    _phq9(room, client.id, PHQ9_ITEM9_ONE, at=room.clock.now() - timedelta(hours=2))
    record = room.start(client)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    assert live.dose_blocks(pid)
    # When a newer PHQ-9 of this session answers item 9 with 0 and the live session is told
    newer = _phq9(room, client.id, PHQ9_ITEM9_ZERO, at=room.clock.now(), session_id=record.id)
    live.measures_saved([newer])  # type: ignore[list-item]
    # Then nothing blocks the dose
    assert live.dose_blocks(pid) == []


def test_a_newer_phq9_that_leaves_item_9_unanswered_does_not_hide_an_earlier_answer(
    room: Room,
) -> None:
    # Given a flagged PHQ-9 two hours before, and a newer one in the session, left incomplete
    # at item 9 (the client did not answer it)
    client = room.client()
    _phq9(room, client.id, PHQ9_ITEM9_ONE, at=room.clock.now() - timedelta(hours=2))
    record = room.start(client)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    unanswered = {item: 0 for item in range(1, 9)}
    newer = _phq9(room, client.id, unanswered, at=room.clock.now(), session_id=record.id)
    live.measures_saved([newer])  # type: ignore[list-item]
    # Then the earlier answer above zero still holds the dose for the prescriber
    (block,) = live.dose_blocks(pid)
    assert block.gate is Gate.PHQ9_ITEM9 and "answered 1" in block.text


def test_when_the_screening_cannot_be_answered_the_prescribers_decision_takes_its_place(
    room: Room,
) -> None:
    # Given no screening (the checklist file has a mistake, or the client cannot answer)
    record = room.start(screening=None)
    live, _signals = _ready_for_dose(room, record)
    pid = record.participants[0].id
    (block,) = live.dose_blocks(pid)
    assert block.needs is Needs.SCREENING and block.subject_id is None
    # When the prescriber decides "proceed" without it, Then the dose may be given
    prescriber = usual_prescriber(room.service, room.clock.now())
    decided = live.record_dose_decision(
        pid, block, Decision.PROCEED, prescriber_id=prescriber.id, reason="Checklist on paper"
    )
    assert decided is not None and decided.detail["subject_id"] == ""
    assert live.dose_blocks(pid) == []
