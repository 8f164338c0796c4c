"""A client's course at a glance (issue 17): the plan, the sessions with their doses, and the
outcome measures over time, for the course chart and the course summary export.

The chart's data (`course_chart`) is made here, once, for the history screen's chart and the
summary's printed chart alike: a point per administration, a scored one at its total, an
incomplete one marked apart as not scored (never at zero), and the days of the dosing
sessions. A dosing session is one in which the client has a standing dose: today every
session is one, and a session of another type (consultation, preparation, integration) has
none, so the rule holds whichever types a course plan names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from kapsession.domain.corrections import effective
from kapsession.domain.course_plan import CoursePlan as PlannedCourse
from kapsession.domain.protocol import SessionType
from kapsession.domain.questionnaires import (
    INSTRUMENTS,
    Change,
    Instrument,
    InstrumentKey,
    Score,
    change,
)
from kapsession.records.entries import DoseRecord
from kapsession.records.history import ClientHistory, HistorySession
from kapsession.records.measures import MeasureLine, MeasureRecord, over_time

NO_MEASURES = "No measures recorded."


@dataclass(frozen=True)
class CoursePlan:
    """A course of treatment as planned (the `course` row). Fields a course plan adds later
    (indication, route, the standing order) are added here and to the summary's plan block
    (`export.course_summary.PLAN_FIELDS`), one line each."""

    id: uuid.UUID
    title: str
    planned_sessions: int  # dosing sessions planned
    started_on: date
    created_at: datetime
    # issue 17: the course plan as it stands (None: none recorded) and the name of the
    # prescriber of its standing order
    plan: PlannedCourse | None = None
    prescriber: str = ""


@dataclass(frozen=True)
class SessionKind:
    """A session's type and, for an integration session, the dosing session it follows."""

    session_type: SessionType
    follows_session_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CourseSummary:
    """Everything the course summary shows of one client."""

    history: ClientHistory  # the client, their sessions (oldest first), their standing measures
    plans: tuple[CoursePlan, ...]  # their courses, oldest first
    doses: tuple[DoseRecord, ...]  # their standing doses in every session, oldest first
    made_at: datetime
    # every version of every administration (corrections, withdrawals), for FHIR
    measure_versions: tuple[MeasureRecord, ...] = field(default=())
    kinds: Mapping[uuid.UUID, SessionKind] = field(default_factory=dict)  # by participant id

    def kind_of(self, session: HistorySession) -> SessionKind:
        """The session's type (a session not known here: a dosing session)."""
        return self.kinds.get(session.participant_id, SessionKind(SessionType.DOSING))

    def followed_by(self, session: HistorySession) -> HistorySession | None:
        """The dosing session an integration session follows (None: none)."""
        followed = self.kind_of(session).follows_session_id
        return next((s for s in self.history.sessions if s.session_id == followed), None)

    @property
    def client_name(self) -> str:
        return self.history.client.full_name

    def doses_of(self, session: HistorySession) -> tuple[DoseRecord, ...]:
        """The client's standing doses in `session`, in time order."""
        return tuple(d for d in self.doses if d.participant_id == session.participant_id)

    def session_of(self, measure: MeasureRecord) -> HistorySession | None:
        """The session a measure was given in; None: outside a session (or not the client's)."""
        if measure.session_id is None:
            return None
        return next((s for s in self.history.sessions if s.session_id == measure.session_id), None)


def standing_doses(doses: Iterable[DoseRecord]) -> tuple[DoseRecord, ...]:
    """The doses as they stand (corrections applied, withdrawn ones left out), oldest first."""
    return tuple(sorted(effective(list(doses)), key=lambda d: (d.occurred_at, str(d.id))))


# --- measures over the course ------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryLine:
    """One administration in the summary's table: the history's line (change from the
    previous scored one) and its change from the instrument's first scored one (None: it is
    incomplete, or it is the first)."""

    line: MeasureLine
    from_first: Change | None


def summary_lines(measures: Iterable[MeasureRecord]) -> tuple[SummaryLine, ...]:
    """The standing administrations, PHQ-9 then GAD-7 then PCL-5, each oldest first."""
    out: list[SummaryLine] = []
    for lines in over_time(measures).values():
        first: Score | None = None
        for line in lines:
            compared = None
            if line.score.complete:
                if first is None:
                    first = line.score
                else:
                    compared = change(first, line.score)
            out.append(SummaryLine(line, compared))
    return tuple(out)


@dataclass(frozen=True)
class ChartPoint:
    at: datetime  # when it was administered
    total: int | None  # None: incomplete, not scored
    band: str | None
    missing: tuple[int, ...]  # the unanswered items of an incomplete one


@dataclass(frozen=True)
class ChartSeries:
    instrument: Instrument
    points: tuple[ChartPoint, ...]  # oldest first

    @property
    def scored(self) -> tuple[ChartPoint, ...]:
        return tuple(p for p in self.points if p.total is not None)

    @property
    def incomplete(self) -> tuple[ChartPoint, ...]:
        return tuple(p for p in self.points if p.total is None)


@dataclass(frozen=True)
class CourseChart:
    """The course chart's data: a series per instrument given at least once (PHQ-9, GAD-7,
    PCL-5 order) and the times of the dosing sessions."""

    series: tuple[ChartSeries, ...]
    dosing: tuple[datetime, ...]  # when each dosing session was held, oldest first

    @property
    def empty(self) -> bool:
        return not self.series

    @property
    def times(self) -> tuple[datetime, ...]:
        """Every time on the chart: administrations and dosing sessions."""
        return tuple(p.at for s in self.series for p in s.points) + self.dosing


def course_chart(history: ClientHistory) -> CourseChart:
    """The chart of `history`'s standing measures with its dosing sessions marked."""
    series = []
    for key, lines in over_time(history.measures).items():
        points = tuple(
            ChartPoint(
                at=line.record.occurred_at,
                total=line.score.total,
                band=None if line.score.band is None else line.score.band.label,
                missing=line.score.missing,
            )
            for line in lines
        )
        series.append(ChartSeries(INSTRUMENTS[InstrumentKey(key)], points))
    dosing = tuple(s.held_at for s in history.sessions if s.dose_count > 0)
    return CourseChart(tuple(series), dosing)
