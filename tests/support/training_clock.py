"""A training record that ran ahead of the real time: one real minute of `demo --speed 60`, a fast
hour. For the tests of resuming the training clock (services and the start-up)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kapsession.domain.clock import FakeClock, ScaledClock
from kapsession.paths import Paths
from kapsession.services.context import open_context
from kapsession.services.live_session import LiveSession

REAL = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def fast_hour_of_training(paths: Paths) -> tuple[uuid.UUID, datetime]:
    """A training session run for one real minute at 60x (a fast hour), a marker at its end;
    the session id and the marker's time."""
    base = FakeClock(REAL)  # the real clock under the training one
    fast = ScaledClock(base, 60.0)
    context = open_context(paths, clock=fast)
    try:
        service = context.service
        client = service.add_client("Maya", "Fischer", at=fast.now())
        therapist = service.add_staff("Dr. Ruth Adeyemi", "therapist", at=fast.now())
        nurse = service.add_staff("Tom Becker", "nurse", at=fast.now())
        record = service.start_session(
            protocol_key="sublingual-kap-3h",
            client_ids=[client.id],
            modality="individual",
            at=fast.now(),
            therapist_id=therapist.id,
            nurse_id=nurse.id,
        )
        live = LiveSession(service, record.id, fast)
        base.advance(60)
        live.tick()
        marker = live.add_marker("Eye mask on", None)
        assert marker is not None
        live.stop()
        return record.id, marker.occurred_at
    finally:
        context.close()
