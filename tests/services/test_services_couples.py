"""A couples session on one room clock: each participant has their own T0, phases and check-ins."""

from __future__ import annotations

from datetime import timedelta

from services_support import START, Room, boundary_at, minutes, run_until
from support.dosing import dose_now

from kapsession.domain.timeline import CheckinStatus

JONAH_DOSE = START + timedelta(minutes=38)
LENA_DOSE = START + timedelta(minutes=45)  # dosed seven minutes later


def test_staggered_doses_give_each_participant_their_own_clock(room: Room) -> None:
    # Given a couples session for Jonah and Lena
    jonah, lena = room.client("Jonah", "Okafor"), room.client("Lena", "Okafor")
    record = room.start(jonah, lena)
    assert record.modality == "couples"
    pj, pl = (p.id for p in record.participants)
    live, signals = room.open_live(record.id)

    # When Jonah is dosed at T-2 and Lena seven minutes later, then the room runs to the end
    run_until(live, room.clock, JONAH_DOSE)
    assert dose_now(live, pj)
    run_until(live, room.clock, LENA_DOSE)
    assert dose_now(live, pl)
    run_until(live, room.clock, JONAH_DOSE + minutes(15) + timedelta(seconds=30))

    # Then each has their own T0 and is at their own point on the same room clock
    jonah_state, lena_state = live.state(pj), live.state(pl)
    assert live.state() == jonah_state  # the room's clock is the first participant's
    assert (jonah_state.first_dose_at, lena_state.first_dose_at) == (JONAH_DOSE, LENA_DOSE)
    assert jonah_state.now == lena_state.now
    assert jonah_state.since_dose_s - lena_state.since_dose_s == 7 * 60
    # ... and their own check-ins: Jonah's T+15 is due, Lena's is still to come
    jonah_t15 = next(c for c in jonah_state.checkins if c.spec.key == "t15")
    lena_t15 = next(c for c in lena_state.checkins if c.spec.key == "t15")
    assert (jonah_t15.status, jonah_t15.due_at) == (CheckinStatus.DUE, JONAH_DOSE + minutes(15))
    assert (lena_t15.status, lena_t15.due_at) == (CheckinStatus.UPCOMING, LENA_DOSE + minutes(15))

    # When Jonah's peak begins but Lena's has not
    run_until(live, room.clock, JONAH_DOSE + minutes(26))
    assert live.state(pj).current_phase.spec.key == "peak"
    assert live.state(pl).current_phase.spec.key == "onset"

    # When the room runs past both planned ends
    run_until(live, room.clock, LENA_DOSE + minutes(145))
    # Then each participant's phases are on the record once, at their own boundaries
    protocol = live.protocol
    for pid, dose_at in ((pj, JONAH_DOSE), (pl, LENA_DOSE)):
        changes = room.phase_changes(record.id, pid)
        assert [e.detail["phase"] for e in changes] == [p.key for p in protocol.phases]
        assert [e.occurred_at for e in changes] == [
            boundary_at(p.begins, started_at=START, dose_at=dose_at) for p in protocol.phases
        ]
    assert all(e.participant_id in (pj, pl) for e in room.phase_changes(record.id))
    # ... and each dose belongs to its participant
    doses = room.service.entries.doses(record.id)
    assert [(d.participant_id, d.occurred_at, d.kind) for d in doses] == [
        (pj, JONAH_DOSE, "initial"),
        (pl, LENA_DOSE, "initial"),
    ]
    dosed = [m.split(" at ")[0] for m in signals.saved if " given to " in m]
    assert dosed == ["Dose 200 mg given to Jonah", "Dose 200 mg given to Lena"]


def test_a_booster_does_not_move_t0(room: Room) -> None:
    # Given a couples session where Jonah was dosed at T-2
    record = room.start(room.client("Jonah", "Okafor"), room.client("Lena", "Okafor"))
    pj = record.participants[0].id
    live, signals = room.open_live(record.id)
    run_until(live, room.clock, JONAH_DOSE)
    dose_now(live, pj)
    # When he is given a booster 35 minutes later
    run_until(live, room.clock, JONAH_DOSE + minutes(35))
    assert dose_now(live, pj)
    # Then it is saved as a booster and his clock still counts from the first dose
    assert [d.kind for d in live.doses] == ["initial", "booster"]
    assert live.first_dose_at(pj) == JONAH_DOSE
    assert live.state(pj).since_dose_s == 35 * 60
    assert signals.saved[-1].startswith("Booster 100 mg given to Jonah at ")
    assert len(room.phase_changes(record.id, pj)) == 4  # arrival, intention, onset, peak
