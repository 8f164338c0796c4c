"""A client's course history: every session they took part in, summarised, in a few queries.

Each query is set-based over all of the client's sessions at once (never one query per
session), starting from `participant.client_id` and reaching each clinical table through its
`(session_id, ...)` index. "Standing" is what `entries.effective` computes, said in SQL: a row
that is not a void and that no row of the client's sessions corrects (`corrects_id`); the
corrected ids are read once per query (an uncorrelated subquery), not probed row by row.
The statements are built once, when a history is first read (not at import: opening the app
does without them), with the client as a bound parameter.

Sessions come oldest first: a course is read as it was given (session 1, 2, 3 ...), and the
table reads in the same direction as the trend chart beside it.
"""

from __future__ import annotations

import string
import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    not_,
    select,
)

from kapsession.domain.entry_text import text_problem
from kapsession.records.errors import NotFound
from kapsession.records.history import ClientHistory, HistorySession
from kapsession.records.people import ClientRecord
from kapsession.records.sessions import SessionStatus
from kapsession.storage import schema
from kapsession.storage.database import Database
from kapsession.storage.people import ClientRepository, client_record

if TYPE_CHECKING:
    from sqlalchemy.orm import Session as OrmSession

    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

FIND_HINT = "`kapsession history` takes a record number, a name or the first characters of an id."
# protocol snapshot digest -> its dosing route: a digest names one exact text, so this never
# goes stale; a clinic has a handful of protocol versions, so it stays small.
_ROUTES: dict[str, str | None] = {}


def _route_of(protocol_text: str) -> str | None:
    """The `[dosing] route` of a protocol snapshot, None if it has none (or is not TOML)."""
    try:
        dosing = tomllib.loads(protocol_text).get("dosing")
    except tomllib.TOMLDecodeError:
        return None
    route = dosing.get("route") if isinstance(dosing, dict) else None
    return route if isinstance(route, str) else None


def _client() -> Any:
    return bindparam("client_id", type_=models.Participant.client_id.type)


def _mine(model: Any) -> ColumnElement[bool]:
    """Join condition: `model`'s row belongs to one of the client's participant rows."""
    return and_(
        models.Participant.session_id == model.session_id,
        models.Participant.id == model.participant_id,
        models.Participant.client_id == _client(),
    )


def _standing(model: Any) -> ColumnElement[bool]:
    """`model`'s row stands: not a void, and no row of the client's sessions corrects it."""
    from sqlalchemy.orm import aliased  # the ORM is imported once a history is read

    later, theirs = aliased(model), aliased(models.Participant)
    corrected = (
        select(later.corrects_id)
        .join(theirs, theirs.session_id == later.session_id)
        .where(theirs.client_id == _client(), later.corrects_id.is_not(None))
    )
    return and_(not_(model.voids), model.id.not_in(corrected))


def _sessions_query() -> Select[*tuple[Any, ...]]:
    number = func.count(models.Participant.id).over(
        partition_by=models.Participant.course_id, order_by=models.Session.created_at
    )
    return (
        select(
            models.Participant.id.label("participant_id"),
            models.Participant.course_id,
            models.Course.title.label("course_title"),
            number.label("number"),
            models.Session.id.label("session_id"),
            models.Session.created_at,
            models.Session.started_at,
            models.Session.ended_at,
            models.Session.protocol_key,
            models.Session.protocol_name,
            models.Session.protocol_sha256,
            models.Session.modality,
            models.Session.status,
        )
        .join(models.Session, models.Session.id == models.Participant.session_id)
        .outerjoin(models.Course, models.Course.id == models.Participant.course_id)
        .where(models.Participant.client_id == _client())
        .order_by(models.Session.created_at, models.Session.id)
    )


def _doses_query() -> Select[*tuple[Any, ...]]:
    """Participant -> standing doses and their total mg."""
    return (
        select(
            models.Dose.participant_id, func.count(models.Dose.id), func.sum(models.Dose.dose_mg)
        )
        .join(models.Participant, _mine(models.Dose))
        .where(_standing(models.Dose))
        .group_by(models.Dose.participant_id)
    )


def _readings_query() -> Select[*tuple[Any, ...]]:
    """Participant -> baseline systolic, diastolic, HR, SpO2 (the first standing check-in),
    peak systolic, peak diastolic, lowest SpO2, highest dissociation (all standing check-ins)."""
    order = func.row_number().over(
        partition_by=models.Observation.participant_id,
        order_by=(
            models.Observation.occurred_at,
            models.Observation.recorded_at,
            models.Observation.id,
        ),
    )
    standing = (
        select(
            models.Observation.participant_id,
            models.Observation.systolic_mmhg,
            models.Observation.diastolic_mmhg,
            models.Observation.heart_rate_bpm,
            models.Observation.spo2_pct,
            models.Observation.dissociation,
            order.label("position"),
        )
        .join(models.Participant, _mine(models.Observation))
        .where(_standing(models.Observation))
        .subquery()
    )
    first = standing.c.position == 1

    def at_first(column: Any) -> Any:
        return func.max(case((first, column)))

    return select(
        standing.c.participant_id,
        at_first(standing.c.systolic_mmhg),
        at_first(standing.c.diastolic_mmhg),
        at_first(standing.c.heart_rate_bpm),
        at_first(standing.c.spo2_pct),
        func.max(standing.c.systolic_mmhg),
        func.max(standing.c.diastolic_mmhg),
        func.min(standing.c.spo2_pct),
        func.max(standing.c.dissociation),
    ).group_by(standing.c.participant_id)


def _alerts_query() -> Select[*tuple[Any, ...]]:
    """Participant -> alerts raised (alerts are never withdrawn, so all of them)."""
    return (
        select(models.Alert.participant_id, func.count(models.Alert.id))
        .join(models.Participant, _mine(models.Alert))
        .group_by(models.Alert.participant_id)
    )


def _ready_query() -> Select[*tuple[Any, ...]]:
    """Participant -> minutes from the first dose to ready-to-leave, from the latest standing
    discharge check (None when it was not ready, e.g. discharged on an override)."""
    assessment = models.DischargeAssessment
    order = func.row_number().over(
        partition_by=assessment.participant_id,
        order_by=(
            assessment.occurred_at.desc(),
            assessment.recorded_at.desc(),
            assessment.id.desc(),
        ),
    )
    latest = (
        select(
            assessment.participant_id,
            assessment.ready_minutes_after_first_dose,
            order.label("position"),
        )
        .join(models.Participant, _mine(assessment))
        .where(_standing(assessment))
        .subquery()
    )
    return select(latest.c.participant_id, latest.c.ready_minutes_after_first_dose).where(
        latest.c.position == 1
    )


@dataclass(frozen=True)
class _Queries:
    sessions: Select[*tuple[Any, ...]]
    doses: Select[*tuple[Any, ...]]
    readings: Select[*tuple[Any, ...]]
    alerts: Select[*tuple[Any, ...]]
    ready: Select[*tuple[Any, ...]]


@cache
def _queries() -> _Queries:
    return _Queries(
        _sessions_query(), _doses_query(), _readings_query(), _alerts_query(), _ready_query()
    )


class ClientHistoryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def history(self, client_id: uuid.UUID) -> ClientHistory:
        """The client and every session of theirs (all courses), oldest first."""
        with self._db.read() as orm:
            client = orm.get(models.Client, client_id)
            if client is None:
                raise NotFound(f"No client with id {client_id}. {FIND_HINT}")
            sessions = _sessions(orm, client_id)
            return ClientHistory(client=client_record(client), sessions=sessions)

    def last_protocol_key(self, client_id: uuid.UUID) -> str | None:
        """The protocol of the client's most recently started session (None: none started).
        Read through the tables: the new-session dialog asks it from the start screen."""
        session, participant = schema.session, schema.participant
        with self._db.rows() as rows:
            return rows.execute(
                select(session.c.protocol_key)
                .join(participant, participant.c.session_id == session.c.id)
                .where(participant.c.client_id == client_id, session.c.started_at.is_not(None))
                .order_by(session.c.started_at.desc(), session.c.created_at.desc())
                .limit(1)
            ).scalar()

    def find_client(self, text: str) -> ClientRecord:
        """One client by exact record number, else by name words or the start of the id."""
        wanted = text.strip()
        if not wanted:
            raise NotFound(f"Say which client. {FIND_HINT}")
        if text_problem(wanted) is not None:  # no name or number holds it: nothing to send
            raise NotFound(
                "No client matches: what was typed holds a character no name or record number "
                f"can hold (a NUL, half of a broken character, a control character). {FIND_HINT}"
            )
        with self._db.read() as orm:
            exact = orm.scalars(
                select(models.Client)
                .where(func.lower(models.Client.record_number) == wanted.lower())
                .limit(2)
            ).all()
            if len(exact) == 1:
                return client_record(exact[0])
            by_id = _by_id_prefix(orm, wanted)
        found = {c.id: c for c in ClientRepository(self._db).search(wanted, limit=6)}
        found.update({c.id: c for c in by_id})
        typed = " ".join(wanted.split()).lower()
        named = [c for c in found.values() if c.full_name.lower() == typed]
        if len(named) == 1:
            return named[0]
        if len(found) == 1:
            return next(iter(found.values()))
        if not found:
            raise NotFound(f"No client matches {wanted!r}. {FIND_HINT}")
        shown = sorted(found.values(), key=lambda c: (c.family_name.lower(), c.given_name))[:5]
        listed = ", ".join(f"{c.full_name} ({c.record_number or str(c.id)[:8]})" for c in shown)
        raise NotFound(
            f"More than one client matches {wanted!r}: {listed}. Give the record number."
        )


def _by_id_prefix(orm: OrmSession, text: str) -> list[ClientRecord]:
    """Clients whose id starts with `text` (4 or more hex digits, dashes ignored); at most 2."""
    wanted = text.lower().replace("-", "")
    if len(wanted) < 4 or not all(c in string.hexdigits for c in wanted):
        return []
    hex_id = func.lower(func.replace(cast(models.Client.id, String), "-", ""))
    rows = orm.scalars(select(models.Client).where(hex_id.like(f"{wanted}%")).limit(2))
    return [client_record(row) for row in rows]


def _sessions(orm: OrmSession, client_id: uuid.UUID) -> tuple[HistorySession, ...]:
    mine = {"client_id": client_id}
    queries = _queries()
    rows = orm.execute(queries.sessions, mine).all()
    if not rows:
        return ()
    routes = _routes(orm, rows)
    doses = {
        pid: (int(n), None if mg is None else float(mg))
        for pid, n, mg in orm.execute(queries.doses, mine)
    }
    readings = {
        row[0]: tuple(None if value is None else int(value) for value in row[1:])
        for row in orm.execute(queries.readings, mine)
    }
    alerts = {pid: int(count) for pid, count in orm.execute(queries.alerts, mine)}
    ready = {pid: None if m is None else int(m) for pid, m in orm.execute(queries.ready, mine)}
    no_readings = (None,) * 8
    sessions = []
    for row in rows:
        pid = row.participant_id
        dose_count, dose_total = doses.get(pid, (0, None))
        (
            base_sys,
            base_dia,
            base_hr,
            base_spo2,
            peak_sys,
            peak_dia,
            low_spo2,
            dissociation,
        ) = readings.get(pid, no_readings)
        sessions.append(
            HistorySession(
                session_id=row.session_id,
                participant_id=pid,
                created_at=row.created_at,
                started_at=row.started_at,
                ended_at=row.ended_at,
                course_id=row.course_id,
                course_title=row.course_title,
                session_number=None if row.course_id is None else int(row.number),
                protocol_key=row.protocol_key,
                protocol_name=row.protocol_name,
                route=routes.get(row.protocol_sha256),
                modality=row.modality,
                status=SessionStatus(row.status),
                dose_count=dose_count,
                dose_total_mg=dose_total,
                baseline_systolic_mmhg=base_sys,
                baseline_diastolic_mmhg=base_dia,
                baseline_heart_rate_bpm=base_hr,
                baseline_spo2_pct=base_spo2,
                peak_systolic_mmhg=peak_sys,
                peak_diastolic_mmhg=peak_dia,
                lowest_spo2_pct=low_spo2,
                highest_dissociation=dissociation,
                alerts=alerts.get(pid, 0),
                ready_minutes_after_first_dose=ready.get(pid),
            )
        )
    return tuple(sessions)


def _routes(orm: OrmSession, rows: Sequence[Any]) -> dict[str, str | None]:
    """Each snapshot digest's route; texts are read (one query) only for digests not seen yet."""
    one_session: dict[str, uuid.UUID] = {}
    for row in rows:
        if row.protocol_sha256 not in _ROUTES:
            one_session.setdefault(row.protocol_sha256, row.session_id)
    if one_session:
        texts = orm.execute(
            select(models.Session.protocol_sha256, models.Session.protocol_text).where(
                models.Session.id.in_(one_session.values())
            )
        )
        for digest, text in texts:
            _ROUTES[digest] = _route_of(text)
    return {row.protocol_sha256: _ROUTES.get(row.protocol_sha256) for row in rows}
