"""Outcome measures (issue 17): one administration of PHQ-9, GAD-7 or PCL-5 as stored, and a
client's administrations of each instrument over time."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from kapsession.domain.questionnaires import (
    Change,
    Instrument,
    InstrumentKey,
    Score,
    change,
    instrument,
    score,
)


class EntryMode(StrEnum):
    """How the answers came in."""

    STAFF_PAPER = "staff_paper"  # staff typed the client's paper form
    CLIENT_SCREEN = "client_screen"  # the client answered on the screen


ENTRY_MODE_NAMES: Mapping[EntryMode, str] = MappingProxyType(
    {EntryMode.STAFF_PAPER: "from paper", EntryMode.CLIENT_SCREEN: "on the screen"}
)


def prescriber_message(scored: Score) -> str:
    """What a flagged item says (PHQ-9 item 9 above zero); "" when none is."""
    if not scored.needs_decision:
        return ""
    items = ", ".join(str(item) for item in scored.flags)
    return (
        f"{scored.instrument.name} item {items} is answered above zero (thoughts of being "
        "better off dead or of self-harm): the prescriber must decide before the next dose."
    )


@dataclass(frozen=True)
class MeasureRecord:
    """One stored version of an administration. `answers[i]` answers item i + 1; None: the item
    was not answered (never 0). `total` and `band` as scored when it was entered, None while
    an item is unanswered."""

    id: uuid.UUID
    client_id: uuid.UUID
    session_id: uuid.UUID | None  # the session it was given in; None: outside a session
    instrument_key: str  # an InstrumentKey
    answers: tuple[int | None, ...]
    total: int | None
    band: str | None
    entry_mode: str  # an EntryMode
    occurred_at: datetime  # when it was administered
    recorded_at: datetime
    recorded_by_id: uuid.UUID | None
    recorded_by: str  # the staff member's name and credentials ("" if none)
    corrects_id: uuid.UUID | None = None
    correction_reason: str | None = None
    voids: bool = False

    @property
    def instrument(self) -> Instrument:
        return instrument(self.instrument_key)

    @property
    def complete(self) -> bool:
        return self.total is not None

    def score(self) -> Score:
        """The answers scored again by the domain (the same total and band as stored)."""
        return score(
            self.instrument, {number: value for number, value in enumerate(self.answers, 1)}
        )


@dataclass(frozen=True)
class MeasureLine:
    """One administration in a client's course of one instrument, with how it compares to the
    previous scored one (None: it is incomplete, or nothing scored came before)."""

    record: MeasureRecord
    score: Score
    change: Change | None
    # the versions it replaced, oldest first (the one first entered, then each correction);
    # () when it was never corrected
    earlier: tuple[MeasureRecord, ...] = ()

    @property
    def first(self) -> MeasureRecord:
        """The version first entered: who entered it and how."""
        return self.earlier[0] if self.earlier else self.record


def earlier_versions(
    record: MeasureRecord, every: Iterable[MeasureRecord]
) -> tuple[MeasureRecord, ...]:
    """The versions `record` replaced, oldest first, from `every` version of the client's."""
    by_id = {row.id: row for row in every}
    chain: list[MeasureRecord] = []
    current = record
    while current.corrects_id is not None and current.corrects_id in by_id:
        current = by_id[current.corrects_id]
        chain.append(current)
    return tuple(reversed(chain))


def version_total(record: MeasureRecord) -> str:
    """A version's total as the history names it: "18" or "incomplete"."""
    return "incomplete" if record.total is None else str(record.total)


def version_line(record: MeasureRecord) -> str:
    """One earlier version in plain words: "18 (moderately severe), answers 2 2 … entered
    2026-03-02 10:04 by Ana Ruiz, RN"."""
    answers = " ".join("-" if value is None else str(value) for value in record.answers)
    when = record.recorded_at.astimezone().strftime("%Y-%m-%d %H:%M")
    total = version_total(record)
    if record.band:
        total += f" ({record.band})"
    who = f" by {record.recorded_by}" if record.recorded_by else ""
    return f"{total}, answers {answers}; written {when}{who}"


def over_time(
    records: Iterable[MeasureRecord], every: Iterable[MeasureRecord] = ()
) -> dict[InstrumentKey, tuple[MeasureLine, ...]]:
    """The standing administrations by instrument (PHQ-9, GAD-7, PCL-5 order), oldest first;
    each scored one compared with the scored one before it; each with the versions it
    replaced when `every` version of the client's is given."""
    all_versions = tuple(every)
    lines: dict[InstrumentKey, list[MeasureLine]] = {}
    ordered = sorted(records, key=lambda r: (r.occurred_at, r.recorded_at))
    for key in InstrumentKey:
        previous: Score | None = None
        for record in ordered:
            if record.instrument_key != key.value:
                continue
            scored = record.score()
            compared = None if previous is None else change(previous, scored)
            earlier = earlier_versions(record, all_versions)
            lines.setdefault(key, []).append(MeasureLine(record, scored, compared, earlier))
            if scored.complete:
                previous = scored
    return {key: tuple(found) for key, found in lines.items()}


MEASURE_COLUMNS = ("Questionnaire", "Date", "Total", "Band", "Change", "Entered")


def measure_cells(line: MeasureLine, none: str = "—") -> tuple[str, ...]:
    """One administration as the history shows it (`MEASURE_COLUMNS`); `none` where there is
    nothing to compare."""
    record, scored = line.record, line.score
    if scored.total is None:
        noun = "item" if len(scored.missing) == 1 else "items"
        total = "incomplete"
        band = f"{noun} {', '.join(str(n) for n in scored.missing)} unanswered"
    else:
        total = str(scored.total)
        band = record.band or (scored.band.label if scored.band is not None else none)
    change = none
    if line.change is not None:
        change = f"{line.change.difference:+d} from {line.change.before}"
        if line.change.label:
            change += f": {line.change.label}"
    first = line.first  # who entered it first; a correction names who corrected it
    entered = ENTRY_MODE_NAMES.get(EntryMode(first.entry_mode), first.entry_mode)
    if first.entry_mode == EntryMode.CLIENT_SCREEN:
        # the client's own answers; the staff member on the record handed the laptop over
        entered = f"client self-report {entered}"
        if first.recorded_by:
            entered += f", handed over by {first.recorded_by}"
    elif first.recorded_by:
        entered = f"{first.recorded_by}, {entered}"
    if record.corrects_id is not None:
        entered += f" ({corrected_text(line)})"
    return (
        scored.instrument.name,
        record.occurred_at.astimezone().strftime("%Y-%m-%d"),
        total,
        band,
        change,
        entered,
    )


def corrected_text(line: MeasureLine) -> str:
    """How a corrected administration says so: "corrected by Ana Ruiz, RN; was 18" (each
    earlier total, oldest first, when it was corrected more than once)."""
    by = f" by {line.record.recorded_by}" if line.record.recorded_by else ""
    if not line.earlier:
        return f"corrected{by}"
    was = ", then ".join(version_total(version) for version in line.earlier)
    return f"corrected{by}; was {was}"
