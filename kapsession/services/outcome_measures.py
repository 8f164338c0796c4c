"""Outcome measures (issue 17): save an administration of PHQ-9, GAD-7 or PCL-5, correct or
withdraw one with a reason, and read a client's over time.

Every answer is checked against its item's options (`questionnaires.check_answer`): an answer
that is not one is refused with the message naming the item and the range, and nothing is
stored. An item left unanswered is stored as unanswered; the administration is then incomplete,
not scored (never as if the item were 0), and the outcome says so. PHQ-9 item 9 above zero is
said too: the prescriber decides before the next dose.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from kapsession.domain.corrections import effective
from kapsession.domain.questionnaires import (
    AnswerError,
    Instrument,
    Score,
    check_answer,
    instrument,
    score,
)
from kapsession.records.errors import StorageError
from kapsession.records.measures import EntryMode, MeasureRecord, prescriber_message
from kapsession.storage.database import Database
from kapsession.storage.outcome_measures import OutcomeMeasureRepository

__all__ = ["MeasureInvalid", "MeasureSaved", "OutcomeMeasureService", "prescriber_message"]


class MeasureInvalid(StorageError):
    """Answers that cannot be saved; the message names the item and the range."""


@dataclass(frozen=True)
class MeasureSaved:
    """A questionnaire just saved, and its score."""

    record: MeasureRecord
    score: Score

    @property
    def message(self) -> str:
        """What was saved, in a line: "PHQ-9 saved: 14 (moderate)." or "… saved as incomplete
        (item 3 unanswered): it is not scored.", and the prescriber's decision when needed."""
        scored = self.score
        if scored.complete:
            text = f"{scored.summary()} saved."
        else:
            items = ", ".join(str(n) for n in scored.missing)
            noun = "item" if len(scored.missing) == 1 else "items"
            text = (
                f"{scored.instrument.name} saved as incomplete ({noun} {items} unanswered): "
                "it is not scored."
            )
        flag = prescriber_message(scored)
        return f"{text} {flag}" if flag else text


def checked_score(key: str, answers: Mapping[int, int | None]) -> Score:
    """The answers scored, each checked first; MeasureInvalid naming the first item that is
    not answered with one of its options (or that the instrument does not have)."""
    try:
        form: Instrument = instrument(key)
    except ValueError as exc:
        raise MeasureInvalid(str(exc)) from None
    try:
        for item, value in answers.items():
            if value is not None:
                check_answer(form, item, value)
        return score(form, answers)
    except AnswerError as exc:
        raise MeasureInvalid(str(exc)) from None


class OutcomeMeasureService:
    """Storing, correcting and withdrawing administrations. Each version stored is passed to
    the `watchers` (an open live session's PHQ-9 item 9 rule follows measures saved from any
    screen: the client's questionnaire, paper entry on the start screen, a correction)."""

    def __init__(self, database: Database) -> None:
        self.measures = OutcomeMeasureRepository(database)
        self.watchers: list[Callable[[Sequence[MeasureRecord]], None]] = []

    def _stored(self, record: MeasureRecord) -> None:
        for watcher in list(self.watchers):
            watcher((record,))

    def save(
        self,
        client_id: uuid.UUID,
        key: str,
        answers: Mapping[int, int | None],
        *,
        administered_at: datetime,
        at: datetime,
        by: uuid.UUID | None,
        mode: EntryMode = EntryMode.STAFF_PAPER,
        session_id: uuid.UUID | None = None,
    ) -> MeasureSaved:
        """Store one administration (`answers`: item number -> answer; None or absent: not
        answered). Raises MeasureInvalid, nothing stored, for an answer that is not one or
        when nobody is named as entering it."""
        scored = checked_score(key, answers)
        if by is None:
            raise MeasureInvalid("Entered by: choose who is entering it.")
        record = self.measures.add(
            client_id,
            scored,
            administered_at=administered_at,
            recorded_at=at,
            mode=mode,
            by=by,
            session_id=session_id,
        )
        self._stored(record)
        return MeasureSaved(record, scored)

    def correct(
        self,
        original_id: uuid.UUID,
        key: str,
        answers: Mapping[int, int | None],
        *,
        reason: str,
        at: datetime,
        by: uuid.UUID | None,
        administered_at: datetime | None = None,
    ) -> MeasureSaved:
        """The administration's answers as they should stand, with the reason; a new version,
        the original kept. Checked as a new one is."""
        scored = checked_score(key, answers)
        if by is None:
            raise MeasureInvalid("Entered by: choose who is correcting it.")
        record = self.measures.correct(
            original_id,
            scored,
            reason=reason,
            administered_at=administered_at,
            recorded_at=at,
            by=by,
        )
        self._stored(record)
        return MeasureSaved(record, scored)

    def withdraw(
        self, original_id: uuid.UUID, *, reason: str, at: datetime, by: uuid.UUID | None
    ) -> MeasureRecord:
        """Take back an administration entered in error (the wrong client, a form of another
        day), with the reason; it stays in the history as withdrawn."""
        if by is None:
            raise MeasureInvalid("Withdrawn by: choose who is withdrawing it.")
        record = self.measures.correct(original_id, None, reason=reason, recorded_at=at, by=by)
        self._stored(record)
        return record

    def history(self, client_id: uuid.UUID) -> list[MeasureRecord]:
        """Every version of the client's administrations (corrected and withdrawn ones too),
        in time order."""
        return self.measures.history(client_id)

    def standing(self, client_id: uuid.UUID) -> list[MeasureRecord]:
        """The client's administrations as they stand (corrections applied, withdrawn ones
        left out), in time order."""
        return effective(self.measures.history(client_id))
