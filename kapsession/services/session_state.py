"""What an open session holds in memory: its rows as saved, and what the screen derives from them.

The live session reads the whole session once when it is opened (`read_session_state`) and then
keeps this up to date from the records each save returns, built from the values written: a
save never reads the session back. Reading it again remains the recovery path (after signing
elsewhere, after an error), and a test replays a long session to show that the state kept up
to date and a fresh read agree.

Rows are kept in the order the database gives them (time, then the time of writing); a
correction goes in beside the row it corrects, and the standing view (`effective`) follows.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Generic, TypeVar

from kapsession.domain.alert_followup import Recheck, after_new_reading, rechecks
from kapsession.domain.corrections import effective
from kapsession.domain.protocol import MEASURE_FIELDS, Protocol
from kapsession.records.adverse import AdverseEventRecord, InterventionRecord, SubstanceRecord
from kapsession.records.entries import (
    AcknowledgementRecord,
    AlertRecord,
    DoseRecord,
    EventRecord,
    ObservationRecord,
)
from kapsession.records.measures import MeasureRecord
from kapsession.records.orders import DoseOrderRecord
from kapsession.records.sessions import SessionRecord
from kapsession.services.nurse_board import dose_plan

DISCHARGE = "discharge"
DOSE_PLAN = "dose_plan"
COUNTERSIGNED = "order_countersigned"


class EntryKind(enum.StrEnum):
    """The kinds of record `LiveSession.entries_added` announces, one per table."""

    EVENT = "event"
    DOSE = "dose"
    OBSERVATION = "observation"
    ALERT = "alert"  # alerts as they now stand: raised, acknowledged, or their reading corrected
    NOTE = "note"
    PRIVATE_NOTE = "private_note"
    ADVERSE_EVENT = "adverse_event"  # issue 16: adverse events, interventions, the counts
    INTERVENTION = "intervention"
    SUBSTANCE = "controlled_substance"
    ORDER = "order"  # the prescriber's order: recorded in the room, or corrected (issue 16)


R = TypeVar(
    "R",
    EventRecord,
    DoseRecord,
    ObservationRecord,
    DoseOrderRecord,
    AdverseEventRecord,
    InterventionRecord,
    SubstanceRecord,
)


def _order(
    row: EventRecord
    | DoseRecord
    | ObservationRecord
    | DoseOrderRecord
    | AdverseEventRecord
    | InterventionRecord
    | SubstanceRecord,
) -> tuple[datetime, datetime]:
    return row.occurred_at, row.recorded_at


class History(Generic[R]):
    """Every row of one kind in time order, and the standing ones beside them."""

    def __init__(self, rows: Iterable[R]) -> None:
        self.all: list[R] = sorted(rows, key=_order)
        self.standing: list[R] = effective(self.all)

    def add(self, row: R) -> R | None:
        """Put a saved row in its place; the standing row it corrects, if any."""
        bisect.insort_right(self.all, row, key=_order)
        replaced = None
        if row.corrects_id is not None:
            for index, standing in enumerate(self.standing):
                if standing.id == row.corrects_id:
                    replaced = self.standing.pop(index)
                    break
        if not row.voids:
            bisect.insort_right(self.standing, row, key=_order)
        return replaced


def _alert_order(alert: AlertRecord) -> tuple[datetime, int]:
    return alert.raised_at, alert.observation_id.int


@dataclasses.dataclass
class SessionState:
    """One session as the screen needs it. Mutable: only the live session changes it, from
    records a save returned."""

    record: SessionRecord
    protocol: Protocol
    events: History[EventRecord]
    doses: History[DoseRecord]
    observations: History[ObservationRecord]
    alerts: list[AlertRecord]
    first_doses: dict[uuid.UUID, datetime] = dataclasses.field(default_factory=dict)
    done_checkins: dict[uuid.UUID, set[str]] = dataclasses.field(default_factory=dict)
    discharged: dict[uuid.UUID, datetime] = dataclasses.field(default_factory=dict)
    dose_plan: dict[uuid.UUID, datetime] = dataclasses.field(default_factory=dict)
    rechecks: tuple[Recheck, ...] = ()  # what the alerts ask to measure again, by due time
    # each participant's newest standing reading of each measure (the last vitals)
    newest: dict[uuid.UUID, dict[str, ObservationRecord]] = dataclasses.field(default_factory=dict)
    # the prescriber's orders (issue 16; none in a session started before them), and the
    # verbal ones countersigned (their ids)
    orders: History[DoseOrderRecord] = dataclasses.field(default_factory=lambda: History(()))
    countersigned: set[uuid.UUID] = dataclasses.field(default_factory=set)
    # issue 16: adverse events, interventions and the doses' controlled-substance counts
    adverse_events: History[AdverseEventRecord] = dataclasses.field(
        default_factory=lambda: History(())
    )
    interventions: History[InterventionRecord] = dataclasses.field(
        default_factory=lambda: History(())
    )
    substance_counts: History[SubstanceRecord] = dataclasses.field(
        default_factory=lambda: History(())
    )
    # issue 17: the participants' outcome measures, every version (for the PHQ-9 item 9 rule)
    measures: list[MeasureRecord] = dataclasses.field(default_factory=list)

    @classmethod
    def of(
        cls,
        record: SessionRecord,
        protocol: Protocol,
        *,
        events: Iterable[EventRecord],
        doses: Iterable[DoseRecord],
        observations: Iterable[ObservationRecord],
        alerts: Iterable[AlertRecord],
        orders: Iterable[DoseOrderRecord] = (),
        adverse_events: Iterable[AdverseEventRecord] = (),
        interventions: Iterable[InterventionRecord] = (),
        substance_counts: Iterable[SubstanceRecord] = (),
        measures: Iterable[MeasureRecord] = (),
    ) -> SessionState:
        """The state of rows read from the database (every version of each row)."""
        state = cls(
            record=record,
            protocol=protocol,
            events=History(events),
            doses=History(doses),
            observations=History(observations),
            alerts=sorted(alerts, key=_alert_order),
            orders=History(orders),
            adverse_events=History(adverse_events),
            interventions=History(interventions),
            substance_counts=History(substance_counts),
            measures=list(measures),
        )
        state._derive_doses()
        state._derive_checkins()
        state._derive_events()
        state._derive_rechecks()
        state._derive_newest()
        return state

    # what the screen reads ----------------------------------------------------------------
    @property
    def open_alerts(self) -> list[AlertRecord]:
        return [a for a in self.alerts if a.is_open]

    def order_of(self, participant_id: uuid.UUID) -> DoseOrderRecord | None:
        """The participant's order as it stands; None: no order recorded."""
        for order in reversed(self.orders.standing):
            if order.participant_id == participant_id:
                return order
        return None

    def add_orders(self, orders: Iterable[DoseOrderRecord]) -> None:
        for order in orders:
            self.orders.add(order)

    def last_reading(self, participant_id: uuid.UUID) -> ObservationRecord | None:
        """The participant's latest standing reading."""
        for observation in reversed(self.observations.standing):
            if observation.participant_id == participant_id:
                return observation
        return None

    # applying what a save returned ----------------------------------------------------------
    def set_record(self, record: SessionRecord) -> None:
        self.record = record

    def add_events(self, events: Iterable[EventRecord]) -> None:
        kinds = set()
        for event in events:
            self.events.add(event)
            kinds.add(event.kind)
        if kinds & {DISCHARGE, DOSE_PLAN, COUNTERSIGNED}:
            self._derive_events()

    def add_doses(self, doses: Iterable[DoseRecord]) -> None:
        for dose in doses:
            self.doses.add(dose)
        self._derive_doses()

    def add_observation(
        self, observation: ObservationRecord, alerts: Iterable[AlertRecord]
    ) -> tuple[AlertRecord, ...]:
        """A saved reading and the alerts it raised; the alerts that changed (those raised,
        and those of a reading it corrects, which now say so)."""
        replaced = self.observations.add(observation)
        if replaced is None and observation.corrects_id is None:
            if observation.checkin_key:
                self.done_checkins.setdefault(observation.participant_id, set()).add(
                    observation.checkin_key
                )
        else:
            self._derive_checkins()
        changed: list[AlertRecord] = []
        if observation.corrects_id is not None:
            for index, alert in enumerate(self.alerts):
                if alert.observation_id == observation.corrects_id and not alert.reading_corrected:
                    self.alerts[index] = dataclasses.replace(alert, reading_corrected=True)
                    changed.append(self.alerts[index])
        raised = tuple(alerts)
        for alert in raised:
            bisect.insort_right(self.alerts, alert, key=_alert_order)
            changed.append(alert)
        if replaced is None and observation.corrects_id is None:
            self._add_newest(observation)
            self._recheck_after(observation, raised)
        else:  # a correction: what it replaced may have been the newest, or done a recheck
            self._derive_newest()
            self._derive_rechecks()
        return tuple(changed)

    def add_adverse(
        self,
        kind: EntryKind,
        records: Iterable[AdverseEventRecord | InterventionRecord | SubstanceRecord],
    ) -> None:
        """Saved adverse events, interventions or counts (`kind` says which)."""
        for record in records:
            self.adverse_history(kind).add(record)  # type: ignore[arg-type]

    def adverse_history(
        self, kind: EntryKind
    ) -> History[AdverseEventRecord] | History[InterventionRecord] | History[SubstanceRecord]:
        if kind is EntryKind.ADVERSE_EVENT:
            return self.adverse_events
        if kind is EntryKind.INTERVENTION:
            return self.interventions
        return self.substance_counts

    def acknowledge(self, acknowledgement: AcknowledgementRecord) -> AlertRecord | None:
        """The alert as acknowledged, or None if this session has no such alert."""
        for index, alert in enumerate(self.alerts):
            if alert.id == acknowledgement.alert_id:
                done = dataclasses.replace(
                    alert,
                    acknowledged_at=acknowledgement.acknowledged_at,
                    acknowledged_by_id=acknowledgement.staff_id,
                    acknowledgement_comment=acknowledgement.comment,
                    acknowledgement_action=acknowledgement.action,
                )
                self.alerts[index] = done
                return done
        return None

    # derived views ------------------------------------------------------------------------
    def _derive_doses(self) -> None:
        first: dict[uuid.UUID, datetime] = {}
        for dose in self.doses.standing:
            if dose.participant_id not in first or dose.occurred_at < first[dose.participant_id]:
                first[dose.participant_id] = dose.occurred_at
        self.first_doses = first

    def _derive_checkins(self) -> None:
        done: dict[uuid.UUID, set[str]] = {}
        for observation in self.observations.standing:
            if observation.checkin_key:
                done.setdefault(observation.participant_id, set()).add(observation.checkin_key)
        self.done_checkins = done

    def _derive_newest(self) -> None:
        self.newest = {}
        for observation in self.observations.standing:
            self._add_newest(observation)

    def _add_newest(self, observation: ObservationRecord) -> None:
        """A standing reading newer than (or as new as) those kept is each measure's newest."""
        own = self.newest.setdefault(observation.participant_id, {})
        values = observation.values
        for measure, fields in MEASURE_FIELDS.items():
            if all(values.get(name) is not None for name in fields):
                kept = own.get(measure)
                if kept is None or _order(kept) <= _order(observation):
                    own[measure] = observation

    def _recheck_after(
        self, observation: ObservationRecord, raised: tuple[AlertRecord, ...]
    ) -> None:
        """A new reading (not a correction): the rechecks it does, and those its alerts ask."""
        started_at = self.record.started_at
        if started_at is None or not (self.rechecks or raised):
            return
        self.rechecks = after_new_reading(
            self.protocol,
            started_at,
            self.rechecks,
            observation,
            raised,
            self.observations.standing,
        )

    def _derive_rechecks(self) -> None:
        """The rechecks the alerts ask for, done or not, from the alerts and the standing
        readings (a reading can do one, its correction undo it)."""
        started_at = self.record.started_at
        if started_at is None or not self.alerts:
            self.rechecks = ()
            return
        self.rechecks = rechecks(self.protocol, started_at, self.alerts, self.observations.standing)

    def _derive_events(self) -> None:
        standing = self.events.standing
        self.discharged = {
            e.participant_id: e.occurred_at
            for e in standing
            if e.kind == DISCHARGE and e.participant_id is not None
        }
        self.dose_plan = dose_plan(standing)
        self.countersigned = {
            uuid.UUID(str(e.detail["order_id"]))
            for e in standing
            if e.kind == COUNTERSIGNED and e.detail.get("order_id")
        }
