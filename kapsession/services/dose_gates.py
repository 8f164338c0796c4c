"""What must happen before a participant's first dose of a session (issue 17), and the wording
a nurse acts on: the screening answered (B), and the prescriber's decision where an answer
failed or where the client's PHQ-9 answered item 9 above zero.

The rules, over the session's standing events and the client's outcome measures:

- Screening: the participant's newest standing `screening` event counts (answered again, or
  withdrawn, the older ones no longer do). None: the dose waits for it. One with a failed item:
  the dose waits for the prescriber's decision on that screening (a `dose_gate_decision` event
  naming it); "proceed" lets the dose go, "hold" keeps it blocked. When the screening cannot be
  answered (the checklist file has a mistake, or the client cannot answer), the prescriber's
  decision without a screening takes its place.
- PHQ-9 item 9: the PHQ-9 that counts for this dosing session is the client's newest standing
  one given in this session, or given in the 24 hours before the session started (in the
  waiting room, the evening before, or in a preparation session that day) whose item 9 was
  answered (one left blank there says nothing of it, and hides no earlier answer); an older one
  does not count. When its item 9 is above zero (`questionnaires.Score.flags`) the dose waits for
  the prescriber's decision on that PHQ-9, as above.
- The newest standing decision stands: a "hold" followed by a "proceed" lets the dose go.
- Only the first dose waits: boosters follow it under the protocol's own rules.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kapsession.domain.corrections import effective
from kapsession.domain.questionnaires import InstrumentKey
from kapsession.domain.screening import failed_questions
from kapsession.records.entries import EventRecord
from kapsession.records.measures import MeasureRecord

SCREENING = "screening"
DECISION = "dose_gate_decision"
CONSENT_OVERRIDE = "consent_override"
PHQ9_WINDOW = timedelta(hours=24)  # a PHQ-9 outside a session counts this long before the start


class Gate(enum.StrEnum):
    SCREENING = "screening"
    PHQ9_ITEM9 = "phq9_item9"

    @property
    def label(self) -> str:
        return "the screening" if self is Gate.SCREENING else "PHQ-9 item 9"


class Decision(enum.StrEnum):
    PROCEED = "proceed"
    HOLD = "hold"


class Needs(enum.StrEnum):
    SCREENING = "screening"  # answer the screening (B)
    DECISION = "decision"  # the prescriber decides, proceed or hold (B)
    HELD = "held"  # the prescriber decided to hold


@dataclass(frozen=True)
class DoseBlock:
    """Why a participant's first dose waits, in words a nurse acts on."""

    gate: Gate
    needs: Needs
    subject_id: uuid.UUID | None  # the screening event or the PHQ-9 decided on
    text: str


ITEM_9 = 8  # its index in a PHQ-9's answers


def counting_phq9(
    measures: Iterable[MeasureRecord],
    client_id: uuid.UUID,
    session_id: uuid.UUID,
    started_at: datetime | None,
) -> MeasureRecord | None:
    """The client's PHQ-9 that counts for this dosing session (see the module's rules)."""
    found = None
    for m in effective(measures):
        if m.client_id != client_id or m.instrument_key != InstrumentKey.PHQ9:
            continue
        if m.answers[ITEM_9] is None:
            continue  # says nothing of item 9: a newer one left blank there hides no answer
        if m.session_id == session_id:
            counts = True
        elif started_at is not None:
            counts = started_at - PHQ9_WINDOW <= m.occurred_at <= started_at
        else:
            counts = False
        if counts and (found is None or (m.occurred_at, m.recorded_at) > key(found)):
            found = m
    return found


def key(m: MeasureRecord) -> tuple[datetime, datetime]:
    return m.occurred_at, m.recorded_at


def newest_screening(
    events: Sequence[EventRecord], participant_id: uuid.UUID
) -> EventRecord | None:
    """The participant's newest standing screening (`events`: the standing events)."""
    return _newest(e for e in events if e.kind == SCREENING and e.participant_id == participant_id)


def _newest(events: Iterable[EventRecord]) -> EventRecord | None:
    """The newest by time, then time of writing; of equal ones the last saved (the standing
    events are kept in the order they were saved within the same times)."""
    found = None
    for e in events:
        if found is None or (e.occurred_at, e.recorded_at) >= (
            found.occurred_at,
            found.recorded_at,
        ):
            found = e
    return found


def decision_on(
    events: Sequence[EventRecord],
    participant_id: uuid.UUID,
    gate: Gate,
    subject_id: uuid.UUID | None,
) -> EventRecord | None:
    """The newest standing decision of the prescriber on `subject_id` (None: on no screening)."""
    subject = "" if subject_id is None else str(subject_id)
    return _newest(
        e
        for e in events
        if e.kind == DECISION
        and e.participant_id == participant_id
        and e.detail.get("gate") == gate.value
        and e.detail.get("subject_id", "") == subject
    )


def _decided(
    events: Sequence[EventRecord],
    participant_id: uuid.UUID,
    gate: Gate,
    subject_id: uuid.UUID | None,
    why: str,
) -> DoseBlock | None:
    decision = decision_on(events, participant_id, gate, subject_id)
    if decision is None:
        return DoseBlock(
            gate,
            Needs.DECISION,
            subject_id,
            f"{why}: the prescriber decides — proceed or hold — before the dose (press B).",
        )
    if decision.detail.get("decision") == Decision.HOLD:
        by = decision.detail.get("by", "the prescriber")
        reason = decision.detail.get("reason", "")
        return DoseBlock(
            gate, Needs.HELD, subject_id, f"Dose held by {by} ({gate.label}): {reason}"
        )
    return None


def dose_blocks(
    *,
    participant_id: uuid.UUID,
    client_id: uuid.UUID,
    session_id: uuid.UUID,
    started_at: datetime | None,
    events: Sequence[EventRecord],
    measures: Iterable[MeasureRecord],
) -> list[DoseBlock]:
    """What the participant's first dose waits for (empty: nothing). `events`: the session's
    standing events; `measures`: the client's administrations, every version."""
    blocks = []
    screening = newest_screening(events, participant_id)
    if screening is None:
        without = decision_on(events, participant_id, Gate.SCREENING, None)
        if without is None:
            blocks.append(
                DoseBlock(
                    Gate.SCREENING,
                    Needs.SCREENING,
                    None,
                    "Screening before the dose is not done: press B to answer it.",
                )
            )
        else:
            held = _decided(events, participant_id, Gate.SCREENING, None, "No screening")
            if held is not None:
                blocks.append(held)
    else:
        failed = failed_questions(screening.detail)
        if failed:
            why = "Screening failed: " + "; ".join(failed)
            held = _decided(events, participant_id, Gate.SCREENING, screening.id, why)
            if held is not None:
                blocks.append(held)
    phq9 = counting_phq9(measures, client_id, session_id, started_at)
    if phq9 is not None and phq9.score().needs_decision:
        answer = phq9.answers[8]
        when = phq9.occurred_at.astimezone().strftime("%d %b %H:%M")
        why = (
            f"PHQ-9 of {when}: item 9 (thoughts of being better off dead or of self-harm) "
            f"answered {answer}"
        )
        held = _decided(events, participant_id, Gate.PHQ9_ITEM9, phq9.id, why)
        if held is not None:
            blocks.append(held)
    return blocks
