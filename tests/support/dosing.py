"""A dose in the tests goes the one way the app records a dose: `LiveSession.record_dose`, with
every check (the order, the protocol's limits, the hold-dose check on a blood pressure, the
booster's window and count, nothing after discharge or the end). There is no unchecked way.

`dose_now` is the nurse at the keyboard: the participant's ordered dose (or the order's booster
after it), a blood pressure taken first when the check needs one and none is recent."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from kapsession.services.live_session import LiveSession

CALM_BP = {"bp": "122/78", "heart_rate_bpm": "72", "spo2_pct": "98", "resp_rate_per_min": "14"}
RECENT = timedelta(minutes=10)  # within every protocol's booster_bp_max_age_min


def take_bp(live: LiveSession, participant_id: uuid.UUID, at: datetime | None = None) -> None:
    """A calm reading with a blood pressure, as the baseline's check-in while it is due."""
    done = live.first_dose_at(participant_id) is not None
    baseline = next((c for c in live.protocol.checkins if c.key == "baseline"), None)
    key = None if done or baseline is None else "baseline"
    taken = {o.checkin_key for o in live.observations if o.participant_id == participant_id}
    if key in taken:
        key = None
    saved = live.save_checkin(participant_id, CALM_BP, checkin_key=key, occurred_at=at)
    assert saved is not None and saved.saved, saved


def has_recent_bp(live: LiveSession, participant_id: uuid.UUID, at: datetime) -> bool:
    return any(
        o.participant_id == participant_id and o.has_bp and at - RECENT <= o.occurred_at <= at
        for o in live.observations
    )


def has_baseline(live: LiveSession, participant_id: uuid.UUID) -> bool:
    return any(o.participant_id == participant_id and o.has_bp for o in live.observations)


def dose_now(live: LiveSession, participant_id: uuid.UUID, *, at: datetime | None = None) -> bool:
    """The participant's ordered dose, or the order's booster once dosed, given now (or at
    `at`) through the checked path; a BP taken first when there is none to check (a baseline
    before the first dose, a recent one before a booster). False: refused, said on
    `entry_failed` (or in the result) as the nurse would read it."""
    order = live.order_of(participant_id)
    assert order is not None, "the participant has no order: the prescriber gives it first"
    first = live.first_dose_at(participant_id) is None
    when = live.now() if at is None else at
    if live.is_live and (
        (first and not has_baseline(live, participant_id))
        or (not first and not has_recent_bp(live, participant_id, when))
    ):
        take_bp(live, participant_id)
    if first:
        text = order.order.dose_text()
    else:
        assert order.order.booster_mg is not None, "the order allows no booster"
        text = f"{order.order.booster_mg:g} mg"
    result = live.record_dose(participant_id, text, at=at)
    return result is not None and result.saved
