"""The nurse records adverse events, interventions and each dose's controlled-substance count
through the live session (issue 16): what was typed wrong names its field and nothing is
stored; a waste is witnessed by a second staff member with their PIN; every entry is credited
to the participant's monitoring clinician and announced like the rest."""

from __future__ import annotations

from services_support import Room

from kapsession.services.session_state import EntryKind

CALM = {"bp": "124/80", "heart_rate_bpm": "72", "spo2_pct": "98"}


def _dosed(room: Room):  # type: ignore[no-untyped-def]
    record = room.start(order=room.usual_order(dose_mg=300))
    live, signals = room.open_live(record.id)
    pid = record.participants[0].id
    saved = live.save_checkin(pid, CALM, checkin_key="baseline")
    assert saved is not None and saved.saved
    dosed = live.record_dose(pid, "300 mg")
    assert dosed is not None and dosed.saved
    return live, signals, pid, dosed.dose


def test_an_adverse_event_is_credited_to_the_monitoring_nurse_and_announced(room: Room) -> None:
    # Given a live session with a dose given
    live, signals, pid, _dose = _dosed(room)
    announced: list[tuple[str, tuple[object, ...]]] = []
    live.entries_added.connect(lambda kind, records: announced.append((kind, records)))
    # When the nurse records nausea, mild, ongoing
    result = live.record_adverse_event(
        pid, kind="nausea", severity="mild", seriousness="non-serious", outcome="ongoing",
        onset_at=live.now(),
    )  # fmt: skip
    # Then it is saved as the nurse's entry, announced, and the screen says so
    assert result.record is not None
    assert result.record.recorded_by_id == room.nurse.id
    assert announced == [(EntryKind.ADVERSE_EVENT, (result.record,))]
    assert live.adverse_events == [result.record]
    assert signals.saved[-1].startswith("Adverse event (nausea) for Maya")


def test_an_adverse_event_typed_wrong_names_each_field_and_stores_nothing(room: Room) -> None:
    live, _signals, pid, _dose = _dosed(room)
    # When "other" says nothing, and the outcome is resolved without a time
    result = live.record_adverse_event(
        pid, kind="other", severity="severe", seriousness="serious", outcome="resolved",
        onset_at=live.now(),
    )  # fmt: skip
    # Then both fields are named, nothing is stored
    assert result.record is None
    assert [p.field for p in result.problems] == ["other", "resolved"]
    assert room.service.adverse.adverse_events(live.record.id) == []


def test_a_waste_is_recorded_only_with_a_second_staff_members_right_pin(room: Room) -> None:
    # Given a dose of 300 mg; the therapist has a PIN
    live, _signals, _pid, dose = _dosed(room)
    pins = room.context.notes.pins
    pins.set_pin(room.therapist.id, "482613", "482613")
    pins.set_pin(room.nurse.id, "731546", "731546")

    def count(witness, pin: str):  # type: ignore[no-untyped-def]
        return live.record_substance_count(
            dose.id, drawn_text="400", given_text="300", wasted_text="100",
            witness_id=witness, witness_pin=pin, pins=pins,
        )  # fmt: skip

    # When the nurse who records it names herself as witness, Then it is refused
    same = count(room.nurse.id, "731546")
    assert same.record is None and same.problems[0].field == "witness"
    # When the therapist witnesses it with a wrong PIN, Then it is refused
    wrong = count(room.therapist.id, "000000")
    assert wrong.record is None and wrong.problems[0].field == "pin"
    assert room.service.adverse.substance_counts(live.record.id) == []
    # When she enters her PIN, Then the count is stored with her as the witness
    right = count(room.therapist.id, "482613")
    assert right.record is not None
    assert (right.record.witness_id, right.record.recorded_by_id) == (
        room.therapist.id,
        room.nurse.id,
    )
    assert live.substance_counts == [right.record]


def test_a_count_that_does_not_add_up_is_refused(room: Room) -> None:
    live, _signals, _pid, dose = _dosed(room)
    result = live.record_substance_count(
        dose.id, drawn_text="400", given_text="300", wasted_text="50", witness_id=None,
        witness_pin="", pins=room.context.notes.pins,
    )  # fmt: skip
    assert result.record is None and [p.field for p in result.problems] == ["wasted"]
