"""The running session: a QtCore object that recomputes the clock and saves entries.

Elapsed time is recomputed on every tick from the stored anchors (start, first doses) and a
monotonic reference captured when the session was opened, never accumulated from ticks. Phase
boundaries crossed while the app was not running are written on opening, as late entries.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from PySide6.QtCore import QObject, QTimer, Signal

from kapsession.domain.clock import Clock
from kapsession.domain.protocol import Protocol
from kapsession.domain.timeline import (
    ClockReference,
    TimelineState,
    compute_timeline,
    phase_changes_between,
)
from kapsession.services.session_service import SessionService, SessionSnapshot
from kapsession.storage.errors import StorageError
from kapsession.storage.records import DoseRecord, EventRecord, ParticipantRecord, SessionRecord

log = logging.getLogger(__name__)

WALL_JUMP_WARN_S = 5.0
PHASE_RETRY_S = 10.0  # a phase change that could not be saved is tried again this often


class LiveSession(QObject):
    """One open session. Emits `changed` after each tick and each saved entry."""

    changed = Signal()
    entry_saved = Signal(str)  # a short, calm confirmation for the status line
    entry_failed = Signal(str)  # what went wrong and what to do; the entry was not saved
    ended = Signal()

    def __init__(
        self,
        service: SessionService,
        session_id: uuid.UUID,
        clock: Clock,
        *,
        tick_ms: int = 250,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._clock = clock
        self._reference = ClockReference.capture(clock)
        self._wall_jump_logged = False
        self._phase_retry_at: datetime | None = None  # set while a phase change is unsaved
        self._snapshot: SessionSnapshot = service.snapshot(session_id)
        self.acting_staff_id: uuid.UUID | None = self._snapshot.record.therapist_id
        self._states: dict[uuid.UUID, TimelineState] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)
        self._catch_up_phase_changes()
        self._recompute()

    # reading ------------------------------------------------------------------------------
    @property
    def record(self) -> SessionRecord:
        return self._snapshot.record

    @property
    def protocol(self) -> Protocol:
        return self._snapshot.protocol

    @property
    def participants(self) -> tuple[ParticipantRecord, ...]:
        return self._snapshot.record.participants

    @property
    def events(self) -> list[EventRecord]:
        return self._snapshot.events

    @property
    def doses(self) -> list[DoseRecord]:
        return self._snapshot.doses

    @property
    def is_live(self) -> bool:
        return self._snapshot.record.status == "live"

    def now(self) -> datetime:
        """Session-trusted wall time (immune to wall-clock jumps while open)."""
        return self._reference.now(self._clock)

    def state(self, participant_id: uuid.UUID | None = None) -> TimelineState:
        """The clock of one participant; by default the room's (the first participant's)."""
        key = participant_id if participant_id is not None else self.participants[0].id
        return self._states[key]

    def first_dose_at(self, participant_id: uuid.UUID) -> datetime | None:
        return self._snapshot.first_doses.get(participant_id)

    # running ------------------------------------------------------------------------------
    def start_ticking(self) -> None:
        if self.is_live:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def tick(self) -> None:
        drift = self._reference.drift_s(self._clock)
        if abs(drift) > WALL_JUMP_WARN_S and not self._wall_jump_logged:
            log.warning("wall clock moved %.1f s against the session clock; using monotonic", drift)
            self._wall_jump_logged = True
        previous = {pid: s.phase_index for pid, s in self._states.items()}
        self._recompute()
        retry_due = self._phase_retry_at is not None and self.now() >= self._phase_retry_at
        if self.is_live and (
            retry_due
            or any(self._states[pid].phase_index != index for pid, index in previous.items())
        ):
            self._catch_up_phase_changes()
            self._recompute()
        self.changed.emit()

    def _recompute(self) -> None:
        record = self._snapshot.record
        assert record.started_at is not None, "a live session has a start time"
        now = self.now()
        self._states = {
            p.id: compute_timeline(
                self.protocol,
                started_at=record.started_at,
                now=now,
                first_dose_at=self._snapshot.first_doses.get(p.id),
                done_checkins=self._snapshot.done_checkins.get(p.id, set()),
                ended_at=record.ended_at,
            )
            for p in record.participants
        }

    def _reload(self) -> None:
        self._snapshot = self._service.snapshot(self._snapshot.record.id)
        self._recompute()

    def _catch_up_phase_changes(self) -> None:
        """Write phase changes not yet in the record, each at the minute it happened."""
        record = self._snapshot.record
        if record.status != "live" or record.started_at is None:
            return
        now = self.now()
        wrote = False
        self._phase_retry_at = None
        try:
            for participant in record.participants:
                recorded = [
                    e.occurred_at
                    for e in self._snapshot.events
                    if e.kind == "phase_change" and e.participant_id == participant.id
                ]
                after = max(recorded) if recorded else record.started_at - timedelta(microseconds=1)
                changes = phase_changes_between(
                    self.protocol,
                    started_at=record.started_at,
                    first_dose_at=self._snapshot.first_doses.get(participant.id),
                    after=after,
                    upto=now,
                )
                for at, phase in changes:
                    self._service.record_phase_change(
                        record.id, phase, at=at, recorded_at=now, participant_id=participant.id
                    )
                    wrote = True
        except StorageError as exc:
            # Not lost: tried again by a later tick, still at the minute it happened.
            self._phase_retry_at = now + timedelta(seconds=PHASE_RETRY_S)
            self.entry_failed.emit(str(exc))
        if wrote:  # also after a failure, so what was written is never written again
            self._snapshot = self._service.snapshot(record.id)

    # entries ------------------------------------------------------------------------------
    def _refuse_after_end(self, what: str) -> bool:
        """After the end the clock is stopped: an entry made "now" would fall outside it."""
        if self.is_live:
            return False
        self.entry_failed.emit(
            f"This session has already ended, so the {what} was NOT saved. If it happened "
            "during the session, add it to the record as a late entry with the time it happened."
        )
        return True

    def give_dose(self, participant_id: uuid.UUID) -> bool:
        """The dose was given now: anchors T0 for this participant if it is their first."""
        if self._refuse_after_end("dose"):
            return False
        now = self.now()
        first = participant_id not in self._snapshot.first_doses
        try:
            self._service.give_dose(
                self.record.id,
                participant_id,
                at=now,
                recorded_at=now,
                protocol=self.protocol,
                kind="initial" if first else "booster",
                by=self.acting_staff_id,
            )
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._reload()
        self._catch_up_phase_changes()
        self._recompute()
        name = self.record.participant(participant_id).client.given_name
        what = "Dose" if first else "Booster"
        self.entry_saved.emit(f"{what} given to {name} at {_local_hm(now)} — saved.")
        self.changed.emit()
        return True

    def add_marker(self, label: str, participant_id: uuid.UUID | None = None) -> bool:
        if self._refuse_after_end("marker"):
            return False
        now = self.now()
        try:
            self._service.add_marker(
                self.record.id,
                label,
                at=now,
                recorded_at=now,
                participant_id=participant_id,
                by=self.acting_staff_id,
            )
        except (StorageError, ValueError) as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._reload()
        self.entry_saved.emit(f"Marker “{label.strip()}” at {_local_hm(now)} — saved.")
        self.changed.emit()
        return True

    def end_session(self) -> bool:
        now = self.now()
        try:
            self._service.end_session(self.record.id, at=now, by=self.acting_staff_id)
        except StorageError as exc:
            self.entry_failed.emit(str(exc))
            return False
        self._timer.stop()
        self._reload()
        self.entry_saved.emit(f"Session ended at {_local_hm(now)} — saved.")
        self.changed.emit()
        self.ended.emit()
        return True


def _local_hm(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M")
