"""A big, realistic kapsession database for benchmarks: a clinic's two years of sessions.

`build(path)` makes a SQLite file with the app's own migrations, then fills it with bulk
inserts, a batch of 2,000 sessions per transaction: each model table's `insert(...)` as
SQLAlchemy Core compiles it, sent with executemany, its values converted as the column types
would convert them (`Uuid` hex, `UTCDateTime` text, `JSON`). Through SQLAlchemy's own bind
processing (`CORE_BINDS = True`) the same rows take about 1.5x as long (its per-value
processing, not SQLite, was most of the time); tests/storage/test_big_database.py builds both
ways and finds the files equal. Far faster than the repositories one entry at a time, and the
same rows. What is in it:

- a team of therapists, nurses, prescribers and a lead (signing PIN DEMO_PIN, as in training);
- about 1,700 clients in courses of four to eight weekly sessions (some couples, a few
  groups), and one client with `history_sessions` sessions over about two years, in courses of
  six, one of them with a partner (couples);
- sessions of the bundled protocols, each with its protocol snapshot and SHA-256 as
  `SessionRepository.create` stores them: participants, the session's start and end, phase
  changes, markers, the dose (mg or mg/kg, lot, devices for esketamine, sometimes a booster),
  every scheduled check-in of the protocol (blood pressure rising to a peak after the dose),
  the alerts the protocol's rules raise (acknowledged), a discharge check and the discharge,
  about ten note entries, now and then a private note, music played through the phases, a
  few audit rows; here and there a corrected or voided entry;
- both signatures (monitoring and therapy) with the session note on almost every past
  session, whose digests are those `SignatureRepository.verify` recomputes; a handful of the
  most recent sessions ended and unsigned; a few signed addenda;
- with `live_session`, one session started half an hour ago: a baseline check-in and a dose.

The database's triggers are respected, not bypassed: a session is written as ended, its rows
after it, the signatures last, and only then is its status set to signed.

Run `python benchmarks/big_database.py OUT.sqlite [--sessions N]` to build one to look at.
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import JSON, Connection, Date, Engine, Table, Uuid, bindparam, insert, update

from kapsession.audio.playlist import PlaylistError, read_playlist
from kapsession.domain.protocol import Anchor, CheckinSpec, Protocol, Route
from kapsession.domain.vitals import READING_FIELDS, alert_message
from kapsession.records.notes import MEANINGS
from kapsession.resources import playlists_dir, protocols_dir
from kapsession.services.demo import DEMO_KDF, DEMO_PASSPHRASE, DEMO_PIN
from kapsession.services.music_session import track_title
from kapsession.services.protocols import ProtocolCatalog
from kapsession.storage.database import open_database
from kapsession.storage.models import Base
from kapsession.storage.signatures import ADDED_LATER, signing_digest
from kapsession.storage.signing_keys import new_sealed_key, open_sealed_key
from kapsession.storage.types import UTCDateTime

Hex = str  # an id as 32 hex digits, as `Uuid` stores it on SQLite (and `_plain` digests it)
HISTORY_CLIENT = ("Maya", "Fischer", "KAP-00001")
SESSIONS_PER_TRANSACTION = 2_000
HISTORY_YEARS_DAYS = 730
CACHE_KIB = 256 * 1024  # SQLite's page cache while building (its default is 2 MiB)
UNSIGNED_RECENT = 5  # the most recent past sessions are ended, awaiting signature
PROTOCOL_SHARES = (  # individual courses: protocol key, share
    ("sublingual-kap-3h", 0.55),
    ("intramuscular-kap", 0.18),
    ("iv-infusion", 0.10),
    ("intranasal-esketamine", 0.17),
)
GIVEN = [
    "Ada",
    "Ben",
    "Cara",
    "Dana",
    "Eli",
    "Farah",
    "Gus",
    "Hana",
    "Ines",
    "Jon",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Vik",
    "Wren",
    "Yara",
    "Zoe",
    "Aaron",
    "Bea",
    "Cole",
    "Dina",
    "Emil",
    "Fay",
    "Gabe",
    "Hugo",
    "Ivy",
    "Jade",
    "Kurt",
    "Lia",
    "Max",
    "Nora",
    "Otto",
    "Priya",
    "Raul",
    "Sara",
    "Theo",
    "Una",
    "Vera",
    "Will",
    "Xena",
    "Yusuf",
    "Zara",
    "Amir",
    "Beth",
    "Cyrus",
    "Dora",
    "Eva",
]
FAMILY = [
    "Abbott",
    "Bauer",
    "Chen",
    "Diaz",
    "Evans",
    "Fox",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lee",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quist",
    "Reyes",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
    "Adler",
    "Brandt",
    "Costa",
    "Dubois",
    "Eriksen",
    "Ferreira",
    "Gallo",
    "Horvat",
    "Ibrahim",
    "Jovanovic",
    "Kim",
    "Larsen",
    "Mendes",
    "Novak",
    "Olsen",
    "Park",
    "Quinn",
    "Rossi",
    "Santos",
    "Torres",
    "Ueda",
    "Vogel",
    "Walsh",
    "Young",
    "Ziegler",
    "Andersen",
    "Becker",
    "Carter",
    "Duarte",
    "Engel",
    "Fischer",
    "Grant",
    "Hayes",
    "Ivanova",
]
NOTES = (  # minutes after the dose, what the therapist writes
    (-25, "Intention: to meet the grief with more kindness."),
    (-10, "Settled on the couch; eye mask and headphones ready."),
    (5, "Breathing slower, hands open on the blanket."),
    (14, "Says the music feels like a wide sky; smiling."),
    (26, "Quiet, occasional deep sighs."),
    (38, "Tearful, asked for a hand on the shoulder (consent given earlier)."),
    (52, "Describes a childhood kitchen, warmth in the chest."),
    (66, "Restless briefly; settled with a blanket."),
    (84, "Re-entry: oriented, drinking water."),
    (102, "Talking about the letter they want to write."),
)
PRIVATE_NOTE = "My own grief stirred at the kitchen image; bring to supervision."
MARKERS = ("Touch consent given", "Eye mask on", "Music request", "Tearful", "Eye mask off")
LOTS = ("KT-24117", "KT-24203", "SPR-5521A", "KI-0931", "KV-2290", "KT-25012")
SESSION_NOTE = (  # the kap template's sections as a therapist fills them
    ("intention", "Intention", "To meet the grief with more kindness."),
    ("experience", "Experience", "Floating, then the kitchen; warmth and tears, no distress."),
    ("client_words", "In the client's words", "\u201cI could let him be happy in my mind.\u201d"),
    ("themes", "Themes", "Grief held with warmth; the body as a safe place."),
    ("plan", "Plan", "Integration session in two days; next dosing session next week."),
)
ADDENDUM = "Phoned the next day: slept well, no nausea. Integration booked."


@dataclass(frozen=True)
class BigDatabase:
    url: str  # sqlite:///... of the file
    path: Path
    sessions: int  # total sessions written
    history_client_id: uuid.UUID  # the client with `history_sessions` sessions
    live_session_id: uuid.UUID | None  # one live (started, not ended) session, if asked


def build(
    path: Path,
    *,
    sessions: int = 10_000,
    history_sessions: int = 100,
    live_session: bool = False,
    seed: int = 0,
    now: datetime | None = None,
) -> BigDatabase:
    """Make `path` (a new SQLite file) and fill it as described above; prints nothing."""
    past = sessions - (1 if live_session else 0)
    if history_sessions < 1 or history_sessions > past:
        raise ValueError(
            f"history_sessions must be between 1 and {past} (the past sessions), "
            f"not {history_sessions}"
        )
    if path.exists():
        raise FileExistsError(f"{path} already exists; give a new file name or remove it first")
    when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    url = f"sqlite:///{path}"
    database = open_database(url, backup_dir=None)
    try:
        clinic = _Clinic(database.engine, seed, when)
        history_client = clinic.people(past, history_sessions)
        clinic.write_sessions()
        live_id = clinic.live_session() if live_session else None
    finally:
        database.close()
    return BigDatabase(
        url=url,
        path=path,
        sessions=clinic.session_count,
        history_client_id=uuid.UUID(history_client),
        live_session_id=None if live_id is None else uuid.UUID(live_id),
    )


# --- the clinic's protocols, people and plan ----------------------------------------------


@dataclass(frozen=True)
class _Protocol:
    """A bundled protocol as a session snapshots it."""

    protocol: Protocol
    text: str
    sha256: str

    @property
    def key(self) -> str:
        return self.protocol.key


@dataclass
class _Planned:
    """One session to write: when, which protocol, and each participant's (client, course)."""

    start: datetime
    protocol: _Protocol
    modality: str
    people: list[tuple[Hex, Hex]]


@dataclass
class _Rows:
    """Rows waiting for their transaction, by table, in insert order: dicts as written, then
    the driver's tuples once converted (`_Clinic._convert`)."""

    tables: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.tables.setdefault(table, []).append(row)
        return row


TABLES: dict[str, Table] = {
    name: table for name, table in Base.metadata.tables.items() if isinstance(table, Table)
}
INSERT_ORDER = (
    "staff",
    "staff_signing_key",
    "client",
    "course",
    "session",
    "participant",
    "session_event",
    "dose",
    "observation",
    "alert",
    "alert_acknowledgement",
    "discharge_assessment",
    "note",
    "private_note",
    "music_event",
    "audit_entry",
    "signature",
)
# Every column None, then what each table's rows must not leave out.
DEFAULTS: dict[str, dict[str, Any]] = {
    name: {column.name: None for column in TABLES[name].columns} for name in INSERT_ORDER
}
for _name in ("session_event", "dose", "observation", "discharge_assessment", "note"):
    DEFAULTS[_name]["voids"] = False
DEFAULTS["private_note"]["voids"] = False
for _name in ("session_event", "dose", "music_event", "audit_entry"):
    DEFAULTS[_name]["detail"] = {}
DEFAULTS["staff"]["is_admin"] = False  # issue 18 (0018): no administrator among them
DEFAULTS["observation"]["comment"] = ""
DEFAULTS["observation"]["not_taken"] = []
MEASURES = {  # a protocol check-in's `measures` name -> the Reading fields it fills
    "bp": ("systolic_mmhg", "diastolic_mmhg"),
    "hr": ("heart_rate_bpm",),
    "spo2": ("spo2_pct",),
    "rr": ("resp_rate_per_min",),
    "temp": ("temperature_c",),
    "moaas": ("moaas",),
    "rass": ("rass",),
    "dissociation": ("dissociation",),
    "nausea": ("nausea",),
    "suds": ("suds",),
}


class _Clinic:
    """Plans the clinic's two years, then writes them a batch of sessions per transaction."""

    def __init__(self, engine: Engine, seed: int, now: datetime) -> None:
        self.engine = engine
        self.seed = seed
        self.rng = random.Random(f"{seed}/people")  # the plan; each batch has its own
        self.now = now
        self.epoch = now - timedelta(days=HISTORY_YEARS_DAYS + 60)
        choices, problems = ProtocolCatalog(protocols_dir()).scan()
        if problems:
            raise RuntimeError(f"bundled protocols have errors: {problems}")
        self.protocols = {
            c.key: _Protocol(c.protocol, c.text, hashlib.sha256(c.text.encode()).hexdigest())
            for c in choices
        }
        self.tracks = _tracks(self.protocols.values())
        self.staff: dict[str, list[dict[str, Any]]] = {}
        self.keys: dict[Hex, Any] = {}  # staff id -> their opened signing key (issue 18)
        self.clients: dict[Hex, dict[str, Any]] = {}
        self.plans: list[_Planned] = []
        self.session_count = 0
        self._next_record = 2

    def uuid(self) -> Hex:
        return _new_id(self.rng)

    # people and the plan -------------------------------------------------------------------
    def people(self, past_sessions: int, history_sessions: int) -> Hex:
        """Write staff, clients and courses (one transaction); plan every past session.
        Returns the history client's id."""
        rows = _Rows()
        self._staff(rows)
        history = self._history_client(rows, history_sessions)
        left = past_sessions - history_sessions
        while left > 0:
            left -= self._unit(rows, left)
        self._convert(rows)
        self._insert(rows)
        self.plans.sort(key=lambda p: p.start)
        return history

    def _staff(self, rows: _Rows) -> None:
        from argon2 import PasswordHasher

        pin_hash = PasswordHasher().hash(DEMO_PIN)  # one hash for all: each verifies the PIN
        team = (
            ("therapist", "PsyD", ("Dr. Ruth Adeyemi", "Dr. Karl Lind", "Dr. Aiko Mori")),
            ("therapist", "LMFT", ("Jess Ortega", "Ben Sato")),
            ("nurse", "RN", ("Tom Becker", "Nina Alvarez", "Owen Price", "Lu Wang", "Ida Berg")),
            ("prescriber", "MD", ("Dr. Ines Moreau", "Dr. Raj Mehta")),
            ("lead", "MD", ("Dr. Clara Holm",)),
        )
        for role, credentials, names in team:
            for name in names:
                row = rows.add(
                    "staff",
                    {
                        **DEFAULTS["staff"],
                        "id": self.uuid(),
                        "display_name": name,
                        "role": role,
                        "credentials": credentials,
                        "pin_hash": pin_hash,
                        "active": True,
                        "created_at": self.epoch,
                    },
                )
                self.staff.setdefault(role, []).append(row)
                self._signing_key(rows, row)

    def _signing_key(self, rows: _Rows, staff: dict[str, Any]) -> None:
        """A signing key for the staff member, sealed by the demo passphrase (issue 18)."""
        staff_id = uuid.UUID(staff["id"])
        sealed = new_sealed_key(staff_id, DEMO_PASSPHRASE, DEMO_KDF)
        rows.add(
            "staff_signing_key",
            {
                "id": _new_id(random.Random(f"key/{staff['id']}")),  # leaves self.rng alone
                "staff_id": staff["id"],
                "public_key": sealed.public_key,
                "sealed_private_key": sealed.sealed_private_key,
                "salt": sealed.salt,
                "kdf": sealed.kdf.as_json(),
                "created_at": self.epoch,
            },
        )
        self.keys[staff["id"]] = (
            sealed.public_key,
            open_sealed_key(staff_id, sealed, DEMO_PASSPHRASE),
        )

    def _client(
        self, rows: _Rows, first_day: datetime, name: tuple[str, str, str] | None = None
    ) -> Hex:
        if name is None:
            given, family = self.rng.choice(GIVEN), self.rng.choice(FAMILY)
            while (given, family) == HISTORY_CLIENT[:2]:
                given = self.rng.choice(GIVEN)
            number = f"KAP-{self._next_record:05d}"
            self._next_record += 1
        else:
            given, family, number = name
        born = date(self.rng.randint(1952, 2004), self.rng.randint(1, 12), self.rng.randint(1, 28))
        client_id = self.uuid()
        self.clients[client_id] = rows.add(
            "client",
            {
                **DEFAULTS["client"],
                "id": client_id,
                "given_name": given,
                "family_name": family,
                "date_of_birth": born,
                "record_number": number,
                "created_at": first_day - timedelta(days=self.rng.randint(7, 21)),
            },
        )
        return client_id

    def _course(self, rows: _Rows, client_id: Hex, number: int, start: datetime) -> Hex:
        course_id = self.uuid()
        rows.add(
            "course",
            {
                **DEFAULTS["course"],
                "id": course_id,
                "client_id": client_id,
                "title": f"Course {number}",
                "planned_sessions": 6,
                "started_on": start.date(),
                "created_at": start - timedelta(days=self.rng.randint(3, 10)),
            },
        )
        return course_id

    def _at_hour(self, day: datetime) -> datetime:
        """`day` at a morning or midday quarter hour (UTC)."""
        hour, minute = self.rng.randint(8, 14), self.rng.choice((0, 15, 30, 45))
        return day.replace(hour=hour, minute=minute, second=0, microsecond=0)

    def _session_starts(self, first: datetime, count: int) -> list[datetime]:
        """Weekly sessions from `first`, a day either way."""
        starts = []
        day = first
        for _ in range(count):
            starts.append(self._at_hour(day))
            day += timedelta(days=7 + self.rng.randint(-1, 1))
        return starts

    def _first_day(self, weeks: int) -> datetime:
        """A start for `weeks` of weekly sessions (at most 8 days apart) that end by 3 days ago."""
        earliest = 8 * weeks + 3
        latest = max(earliest, HISTORY_YEARS_DAYS - 2)
        return self.now - timedelta(days=self.rng.randint(earliest, latest))

    def _history_client(self, rows: _Rows, count: int) -> Hex:
        """The client reviewed by the benchmark: courses of six over about two years, one of
        them with a partner (couples), protocols changing from course to course."""
        first = self.now - timedelta(days=HISTORY_YEARS_DAYS)
        client_id = self._client(rows, first, HISTORY_CLIENT)
        courses = math.ceil(count / 6)
        span_days = (HISTORY_YEARS_DAYS - 3) / courses  # a course and the pause after it
        step_days = min(7.0, span_days / 6)  # weekly, closer when the history is very long
        keys = ("sublingual-kap-3h", "intramuscular-kap", "intranasal-esketamine")
        for index in range(courses):
            size = min(6, count - 6 * index)
            day = first + timedelta(days=index * span_days)
            people = [(client_id, self._course(rows, client_id, index + 1, day))]
            couples = index == 2 and size >= 2
            if couples:  # the third course with a partner
                partner = self._client(rows, day)
                people.append((partner, self._course(rows, partner, 1, day)))
            key = "sublingual-kap-3h" if couples else keys[index % len(keys)]
            for number in range(size):
                start = self._at_hour(day + timedelta(days=number * step_days))
                modality = "couples" if couples else "individual"
                self.plans.append(_Planned(start, self.protocols[key], modality, people))
        return client_id

    def _unit(self, rows: _Rows, left: int) -> int:
        """One course of treatment for one client, a couple or a group; its session count."""
        roll = self.rng.random()
        modality, members = "individual", 1
        if roll < 0.05:
            modality, members = "couples", 2
        elif roll < 0.06:
            modality, members = "group", self.rng.randint(3, 4)
        if modality == "individual":
            key = self.rng.choices(
                [k for k, _ in PROTOCOL_SHARES], [w for _, w in PROTOCOL_SHARES]
            )[0]
        else:
            key = "sublingual-kap-3h"
        courses = 2 if modality == "individual" and self.rng.random() < 0.1 else 1
        sizes = [min(self.rng.randint(4, 8), left)]
        if courses == 2 and sizes[0] < left:
            sizes.append(min(self.rng.randint(3, 6), left - sizes[0]))
        weeks = sum(sizes) + 6 * (len(sizes) - 1)
        day = self._first_day(weeks)
        clients = [self._client(rows, day) for _ in range(members)]
        for number, size in enumerate(sizes, start=1):
            people = [(c, self._course(rows, c, number, day)) for c in clients]
            for start in self._session_starts(day, size):
                self.plans.append(_Planned(start, self.protocols[key], modality, people))
            day += timedelta(days=7 * (size + 6))
        return sum(sizes)

    # writing ------------------------------------------------------------------------------------
    def write_sessions(self) -> None:
        """A batch of sessions a transaction, oldest first. (Making the next batch on a second
        thread while one is written was tried: no faster, the two threads taking turns at the
        GIL row by row.)"""
        batches = math.ceil(len(self.plans) / SESSIONS_PER_TRANSACTION)
        for index in range(batches):
            rows, signed = self._batch(index)
            self._insert(rows, signed=signed)
        self.session_count += len(self.plans)

    def _batch(self, index: int) -> tuple[_Rows, list[Hex]]:
        """The rows of one batch of planned sessions, ready for the driver, and which of them
        are signed (all but the most recent few). Its own generator keeps it reproducible."""
        rng = random.Random(f"{self.seed}/{index}")
        begin = index * SESSIONS_PER_TRANSACTION
        last_signed = len(self.plans) - UNSIGNED_RECENT
        rows, signed = _Rows(), []
        for number in range(begin, min(begin + SESSIONS_PER_TRANSACTION, len(self.plans))):
            sign = number < last_signed
            session_id = _SessionWriter(self, rows, self.plans[number], rng).write(sign)
            if sign:
                signed.append(session_id)
        self._convert(rows)
        return rows, signed

    def _convert(self, rows: _Rows) -> None:
        """Each row as the driver takes it (kept as dicts for SQLAlchemy with CORE_BINDS)."""
        if CORE_BINDS:
            return
        for name, batch in rows.tables.items():
            _sql, driver_values = _statement(name, self.engine.dialect)
            rows.tables[name] = [driver_values(row) for row in batch]

    def live_session(self) -> Hex:
        """A session started 30 minutes ago by an individual client: baseline and dose given."""
        plan = next(p for p in reversed(self.plans) if p.modality == "individual")
        protocol = self.protocols["sublingual-kap-3h"]
        live = _Planned(self.now - timedelta(minutes=30), protocol, "individual", plan.people[:1])
        rows = _Rows()
        writer = _SessionWriter(self, rows, live, random.Random(f"{self.seed}/live"))
        session_id = writer.write_live()
        self._convert(rows)
        self._insert(rows)
        self.session_count += 1
        return session_id

    def _insert(self, rows: _Rows, *, signed: Sequence[Hex] = ()) -> None:
        """One transaction: every table in foreign-key order, then the signed status."""
        with self.engine.connect() as connection:
            # Set outside the transaction, on this connection only: a page cache big enough
            # for indexes that random ids reach all over, and no fsync at each commit of a
            # throw-away file built in a few big transactions (the app keeps synchronous=FULL).
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            driver.execute("PRAGMA synchronous = OFF")
            with connection.begin():
                self._insert_rows(connection, rows, signed)

    @staticmethod
    def _insert_rows(connection: Connection, rows: _Rows, signed: Sequence[Hex]) -> None:
        for name in INSERT_ORDER:
            batch = rows.tables.get(name)
            if not batch:
                continue
            if CORE_BINDS:
                connection.execute(insert(TABLES[name]), _as_python(name, batch))
            else:
                connection.exec_driver_sql(_statement(name, connection.dialect)[0], batch)
        if signed:
            session = TABLES["session"]
            connection.execute(
                update(session)
                .where(session.c.id == bindparam("signed_id"))
                .values(status="signed"),
                [{"signed_id": uuid.UUID(session_id)} for session_id in signed],
            )


# True: insert through SQLAlchemy's bind processing instead (slower; the test compares them).
CORE_BINDS = False


def _dashed(hex_id: Hex) -> str:
    """An id as `str(uuid.UUID)` writes it (in audit rows and event details)."""
    return str(uuid.UUID(hex_id))


def _as_python(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their ids as `uuid.UUID`, for SQLAlchemy's own bind processing."""
    ids = [c.name for c in TABLES[table].columns if isinstance(c.type, Uuid)]
    return [{**row, **{k: uuid.UUID(row[k]) for k in ids if row[k] is not None}} for row in rows]


def _text_time(value: datetime) -> str:
    """`UTCDateTime` on SQLite: naive UTC text, to the microsecond (SQLAlchemy's format)."""
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware (UTC)")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


_json_text = json.JSONEncoder().encode  # what `JSON` stores: json.dumps' text


def _conversion(column: Any) -> Any:
    """What the column's type hands sqlite3 for a value that is not None; None: as it is
    (ids are made as `Uuid` stores them on SQLite: CHAR(32), hex without dashes)."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _text_time
    if isinstance(kind, Date):
        return date.isoformat
    if isinstance(kind, JSON):
        return _json_text
    return None  # numbers, text and booleans go to sqlite3 as they are


_statements: dict[str, tuple[str, Any]] = {}


def _statement(table: str, dialect: Any) -> tuple[str, Any]:
    """The model table's INSERT as SQLAlchemy compiles it, and row dict -> its values."""
    if table not in _statements:
        compiled = insert(TABLES[table]).compile(dialect=dialect)
        names = list(compiled.positiontup or [])
        columns = TABLES[table].columns
        convert = [(i, f) for i, n in enumerate(names) if (f := _conversion(columns[n]))]
        pick = itemgetter(*names)

        def driver_values(row: dict[str, Any]) -> tuple[Any, ...]:
            values = list(pick(row))
            for index, conversion in convert:
                value = values[index]
                if value is not None:
                    values[index] = conversion(value)
            return tuple(values)

        _statements[table] = (str(compiled), driver_values)
    return _statements[table]


def _new_id(rng: random.Random) -> Hex:
    """A random (version 4) id from a seeded generator, as the database stores it."""
    bits = rng.getrandbits(128) & ~(0xF000 << 64) | (0x4000 << 64)
    return f"{bits & ~(0xC000 << 48) | (0x8000 << 48):032x}"


def _tracks(protocols: Iterable[_Protocol]) -> dict[str, list[tuple[str, str]]]:
    """Each phase playlist's tracks as (path, title); a missing playlist plays nothing."""
    tracks: dict[str, list[tuple[str, str]]] = {}
    for protocol in protocols:
        for phase in protocol.protocol.phases:
            name = phase.playlist
            if name is None or name in tracks:
                continue
            try:
                entries = read_playlist(playlists_dir() / name).entries
            except (PlaylistError, OSError):
                entries = ()
            tracks[name] = [(str(e.path), track_title(e)) for e in entries if e.path is not None]
    return tracks


# --- one session ----------------------------------------------------------------------------


@dataclass
class _Body:
    """A participant's physiology over the session: a baseline and the rise after the dose."""

    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int
    resp_rate: int
    suds: int
    rise_mmhg: int
    peak_min: float

    def effect(self, after_dose_min: float) -> float:
        if after_dose_min < 0:
            return 0.0
        return math.exp(-(((after_dose_min - self.peak_min) / 32) ** 2))


class _SessionWriter:
    """The rows of one session, as the app's use cases would have written them."""

    def __init__(self, clinic: _Clinic, rows: _Rows, plan: _Planned, rng: random.Random) -> None:
        self.clinic, self.rows, self.plan, self.rng = clinic, rows, plan, rng
        self.protocol = plan.protocol.protocol
        self.id = _new_id(rng)
        self.therapist = self.rng.choice(clinic.staff["therapist"])
        self.nurse = self.rng.choice(clinic.staff["nurse"])
        self.monitoring: list[tuple[str, dict[str, Any]]] = []  # what the nurse signs
        self.therapy: list[dict[str, Any]] = []  # what the therapist signs

    def _add(self, table: str, **values: Any) -> dict[str, Any]:
        row = self.rows.add(table, {**DEFAULTS[table], "id": _new_id(self.rng), **values})
        if table in ("dose", "observation", "alert", "discharge_assessment"):
            self.monitoring.append((table, row))
        elif table == "note" and row["kind"] != "addendum":
            self.therapy.append(row)
        return row

    def _audit(self, at: datetime, action: str, entity: str, entity_id: Any, by: Any) -> None:
        self._add(
            "audit_entry",
            occurred_at=at,
            staff_id=by,
            action=action,
            entity=entity,
            entity_id=_dashed(entity_id),
            session_id=self.id,
            detail={},
        )

    def _event(self, kind: str, label: str, at: datetime, pid: Any = None, **detail: Any) -> None:
        self._add(
            "session_event",
            session_id=self.id,
            participant_id=pid,
            kind=kind,
            label=label,
            detail=detail,
            occurred_at=at,
            recorded_at=at + timedelta(seconds=self.rng.randint(0, 20)),
            recorded_by_id=self.therapist["id"],
        )

    def _session(self, start: datetime, status: str) -> list[Hex]:
        plan = self.plan
        self.session_row = self._add(
            "session",
            id=self.id,
            room=f"Room {self.rng.randint(1, 3)}",
            modality=plan.modality,
            status=status,
            protocol_key=plan.protocol.key,
            protocol_name=self.protocol.name,
            protocol_version=self.protocol.version,
            protocol_text=plan.protocol.text,
            protocol_sha256=plan.protocol.sha256,
            session_type=self.protocol.session_type.value,
            therapist_id=self.therapist["id"],
            nurse_id=self.nurse["id"],
            created_at=start,
            started_at=start,
        )
        participants = []
        self.participant_rows: list[dict[str, Any]] = []
        for position, (client_id, course_id) in enumerate(plan.people):
            row = self._add(
                "participant",
                session_id=self.id,
                client_id=client_id,
                course_id=course_id,
                position=position,
                created_at=start,
            )
            participants.append(row["id"])
            self.participant_rows.append(row)
        self._audit(start, "session.create", "session", self.id, self.therapist["id"])
        self._audit(start, "session.start", "session", self.id, self.therapist["id"])
        self._event("session_start", "Session started", start)
        return participants

    def write(self, sign: bool) -> Hex:
        """A past session from arrival to discharge, ended; signed when `sign`."""
        start = self.plan.start
        participants = self._session(start, "completed")
        planned = self.protocol.dosing.planned_dose_after_start_min
        doses: dict[Hex, datetime] = {}
        leaving: list[datetime] = []
        roll = self.rng.random()  # now and then a reading at the peak crosses an alert line
        spike = "bp" if roll < 0.06 else "spo2" if roll < 0.08 else None
        for position, pid in enumerate(participants):
            minutes = planned + self.rng.randint(-3, 6) + 5 * position
            dose_at = start + timedelta(minutes=minutes, seconds=self.rng.randint(0, 59))
            doses[pid] = dose_at
            last = self._participant(pid, start, dose_at, spike if position == 0 else None)
            leaving.append(last)
        last_phase = self.protocol.phases[-1].ends.minutes
        end = max(doses.values()) + timedelta(minutes=last_phase + self.rng.randint(0, 10))
        end = max(end, max(leaving) + timedelta(minutes=2))
        self._phases(participants, start, doses, end)
        self._notes(participants, start, doses[participants[0]], end)
        self._music(start, min(doses.values()), end)
        self._event("session_end", "Session ended", end)
        self._audit(end, "session.end", "session", self.id, self.therapist["id"])
        self.session_row["ended_at"] = end
        if sign:
            self._sign(end, shared=len(participants) > 1)
        return self.id

    def write_live(self) -> Hex:
        """Started half an hour ago: the baseline taken, the dose given five minutes ago."""
        start = self.plan.start
        (pid,) = self._session(start, "live")
        body = self._body()
        baseline = next(s for s in self.protocol.checkins if s.at.anchor is Anchor.START)
        self._reading(pid, baseline, start + timedelta(minutes=6), body, None, None)
        dose_at = self.clinic.now - timedelta(minutes=5)
        self._dose(pid, dose_at, "initial")
        self._phases([pid], start, {pid: dose_at}, self.clinic.now)
        note_at = start + timedelta(minutes=18)
        self._note("entry", NOTES[0][1], note_at, None, start, None)
        return self.id

    def _body(self) -> _Body:
        high = self.rng.random() < 0.05  # a baseline above the hold-dose caution line
        return _Body(
            systolic=self.rng.randint(142, 150) if high else self.rng.randint(108, 134),
            diastolic=self.rng.randint(88, 94) if high else self.rng.randint(66, 84),
            heart_rate=self.rng.randint(60, 82),
            spo2=self.rng.randint(96, 99),
            resp_rate=self.rng.randint(12, 16),
            suds=self.rng.randint(3, 7),
            rise_mmhg=self.rng.randint(10, 26),
            peak_min=40.0 if self.protocol.dosing.route is Route.SUBLINGUAL else 20.0,
        )

    def _participant(
        self, pid: Hex, start: datetime, dose_at: datetime, spike: str | None
    ) -> datetime:
        """Check-ins, dose(s) and discharge of one participant; returns when they left."""
        body = self._body()
        schedule = []
        for spec in self.protocol.checkins:
            base = start if spec.at.anchor is Anchor.START else dose_at
            at = base + timedelta(minutes=spec.at.minutes, seconds=self.rng.randint(0, 120))
            schedule.append((spec, at))
        peak_key = min(
            (s for s, _ in schedule if s.at.anchor is Anchor.DOSE),
            key=lambda s: abs(s.at.minutes - body.peak_min),
        ).key
        readings = []
        for spec, at in schedule:
            if at < dose_at:
                readings.append(self._reading(pid, spec, at, body, None, None))
        if readings and (body.systolic > 140 or body.diastolic > 90):
            self._event(
                "hold_dose_caution",
                "Hold-dose caution",
                dose_at,
                pid,
                systolic_mmhg=body.systolic,
                diastolic_mmhg=body.diastolic,
            )
        self._dose(pid, dose_at, "initial")
        window = self.protocol.dosing.booster_window
        booster = window is not None and self.rng.random() < 0.15
        for spec, at in schedule:
            if at < dose_at:
                continue
            after = (at - dose_at) / timedelta(minutes=1)
            if booster and window is not None and after >= window[0].minutes:
                self._dose(pid, dose_at + timedelta(minutes=window[0].minutes + 3), "booster")
                booster = False
            here = spike if spec.key == peak_key else None
            readings.append(self._reading(pid, spec, at, body, after, here))
        left_at = max(at for _, at in schedule) + timedelta(minutes=self.rng.randint(3, 6))
        self._discharge(pid, left_at, dose_at, readings[-1])
        return left_at

    def _values(
        self, spec: CheckinSpec, body: _Body, after: float | None, spike: str | None
    ) -> dict[str, Any]:
        effect = 0.0 if after is None else body.effect(after)
        dosed = after is not None
        rng = self.rng
        systolic = round(body.systolic + body.rise_mmhg * effect) + rng.randint(-3, 3)
        diastolic = round(body.diastolic + 0.6 * body.rise_mmhg * effect) + rng.randint(-2, 2)
        if spike == "bp":
            systolic, diastolic = rng.randint(181, 189), rng.randint(96, 104)
        spo2 = min(100, body.spo2 - (1 if effect > 0.6 else 0) + rng.randint(0, 1))
        every = {
            "systolic_mmhg": systolic,
            "diastolic_mmhg": diastolic,
            "heart_rate_bpm": round(body.heart_rate + 9 * effect) + rng.randint(-3, 3),
            "spo2_pct": rng.randint(89, 91) if spike == "spo2" else spo2,
            "resp_rate_per_min": body.resp_rate + rng.randint(-1, 1),
            "temperature_c": 36.4 + rng.randint(0, 5) / 10,
            "moaas": 5 - round(1.4 * effect) if dosed else 5,
            "rass": -round(1.2 * effect) if dosed else 0,
            "dissociation": round(3.4 * effect * rng.uniform(0.6, 1.0)) if dosed else 0,
            "nausea": round(2 * effect) + rng.randint(0, 1) if dosed else 0,
            "suds": max(0, body.suds - (3 if dosed else 0) + rng.randint(-1, 1)),
        }
        values: dict[str, Any] = dict.fromkeys(READING_FIELDS)
        values["comment"] = ""
        for measure in spec.measures:
            for name in MEASURES[measure]:
                values[name] = every[name]
        return values

    def _reading(
        self,
        pid: Hex,
        spec: CheckinSpec,
        at: datetime,
        body: _Body,
        after: float | None,
        spike: str | None,
    ) -> dict[str, Any]:
        """A check-in (and its alerts, acknowledged); now and then corrected or voided."""
        values = self._values(spec, body, after, spike)
        late = self.rng.random() < 0.02
        recorded = at + (timedelta(minutes=15) if late else timedelta(seconds=45))
        row = self._add(
            "observation",
            session_id=self.id,
            participant_id=pid,
            checkin_key=spec.key,
            occurred_at=at,
            recorded_at=recorded,
            recorded_by_id=self.nurse["id"],
            on_room_air=True,
            **values,
        )
        self._alerts(row, values, recorded)
        roll = self.rng.random()
        if roll < 0.004 and values["systolic_mmhg"] is not None:
            fixed = {**values, "systolic_mmhg": values["systolic_mmhg"] - 10}
            row = self._correction(
                "observation",
                row,
                fixed,
                recorded + timedelta(minutes=4),
                "Transposed digits; rechecked the monitor",
            )
            self._alerts(row, fixed, row["recorded_at"])
        elif roll < 0.006:
            self._correction(
                "observation",
                row,
                {"voids": True},
                recorded + timedelta(minutes=3),
                "Entered for the wrong participant",
            )
            return self._reading(pid, spec, at + timedelta(minutes=1), body, after, None)
        return row

    def _correction(
        self,
        table: str,
        original: dict[str, Any],
        changes: dict[str, Any],
        recorded_at: datetime,
        reason: str,
    ) -> dict[str, Any]:
        """A row correcting (or with `voids`, retracting) `original`, which stays as it was."""
        values = {**original, **changes, "recorded_at": recorded_at}
        values.update(id=_new_id(self.rng), corrects_id=original["id"], correction_reason=reason)
        return self._add(table, **values)

    def _alerts(self, row: dict[str, Any], values: dict[str, Any], raised: datetime) -> None:
        """The alerts the protocol's rules raise for the values, as `alerts_for` finds them
        (the values are plausible by making, so no `Reading` is built to check them)."""
        hits = [
            (rule, values[rule.field])
            for rule in self.protocol.alerts
            if values[rule.field] is not None and rule.triggered_by(values[rule.field])
        ]
        for position, (rule, value) in enumerate(hits):
            alert = self._add(
                "alert",
                session_id=self.id,
                participant_id=row["participant_id"],
                observation_id=row["id"],
                field=rule.field,
                op=rule.op.value,
                threshold=float(rule.value),
                value=float(value),
                label=rule.label,
                message=alert_message(rule, value),
                raised_at=raised,
                position=position,
            )
            acknowledged = self._add(
                "alert_acknowledgement",
                alert_id=alert["id"],
                acknowledged_at=raised + timedelta(minutes=self.rng.randint(1, 3)),
                staff_id=self.nurse["id"],
                action="rechecked",
                comment="Rechecked manually, client comfortable; recheck at the next check-in",
            )
            self.monitoring.append(("alert_acknowledgement", acknowledged))

    def _dose(self, pid: Hex, at: datetime, kind: str) -> None:
        dosing = self.protocol.dosing
        weight = self.rng.randint(110, 190) / 2
        per_kg: float | None = None
        devices: int | None = None
        unit = "mg"
        if kind == "booster":
            amount = float(self.rng.choice((50, 75, 100)))
        elif dosing.route is Route.INTRANASAL:
            devices = self.rng.choice((2, 3, 3))
            amount = float(28 * devices)
        elif dosing.route is Route.SUBLINGUAL:
            amount = float(self.rng.choice((150, 200, 250, 300, 350, 400)))
        else:
            unit = "mg/kg"
            per_kg = 0.5 if dosing.route is Route.INTRAVENOUS else self.rng.choice((0.5, 0.75, 1.0))
            amount = round(per_kg * weight, 1)
        entered = f"{per_kg:g}" if per_kg is not None else f"{amount:g}"
        row = self._add(
            "dose",
            session_id=self.id,
            participant_id=pid,
            kind=kind,
            medication=dosing.medication.value,
            route=dosing.route.value,
            dose_mg=amount,
            lot_number=self.rng.choice(LOTS),
            weight_kg=weight,
            dose_mg_per_kg=per_kg,
            device_count=devices,
            given_by_id=self.nurse["id"],
            recorded_by_id=self.nurse["id"],
            detail={"entered_amount": entered, "entered_unit": unit},
            occurred_at=at,
            recorded_at=at + timedelta(seconds=20),
        )
        self._audit(row["recorded_at"], f"dose.{kind}", "dose", row["id"], self.nurse["id"])
        if kind == "initial" and self.rng.random() < 0.01:
            self._correction(
                "dose",
                row,
                {"dose_mg": amount - 25 if amount > 50 else amount},
                at + timedelta(minutes=6),
                "Wrong amount typed; the prescription is what was given",
            )
        for device in range(2, (devices or 1) + 1):
            device_at = at + timedelta(minutes=5 * (device - 1), seconds=self.rng.randint(5, 40))
            label = f"Device {device} of {devices}"
            self._event("device_given", label, device_at, pid, device=device, devices=devices)

    def _discharge(
        self, pid: Hex, at: datetime, dose_at: datetime, reading: dict[str, Any]
    ) -> None:
        minutes = math.floor((at - dose_at) / timedelta(minutes=1))
        checklist = {item.key: True for item in self.protocol.discharge.checklist}
        row = self._add(
            "discharge_assessment",
            session_id=self.id,
            participant_id=pid,
            observation_id=reading["id"],
            recorded_by_id=self.nurse["id"],
            aldrete_activity=2,
            aldrete_breathing=2,
            aldrete_circulation=2,
            aldrete_consciousness=2,
            aldrete_spo2=2,
            aldrete_total=10,
            on_room_air=True,
            checklist=checklist,
            ready=True,
            ready_minutes_after_first_dose=minutes,
            problems=[],
            occurred_at=at,
            recorded_at=at + timedelta(seconds=40),
        )
        self._event(
            "discharge",
            "Discharged",
            at,
            pid,
            assessment_id=_dashed(row["id"]),
            aldrete_total=10,
            ready=True,
            ready_minutes_after_first_dose=minutes,
        )

    def _phase_at(self, at: datetime, start: datetime, dose_at: datetime) -> str | None:
        key = None
        for phase in self.protocol.phases:
            base = start if phase.begins.anchor is Anchor.START else dose_at
            if base + timedelta(minutes=phase.begins.minutes) <= at:
                key = phase.key
        return key

    def _phases(
        self,
        participants: Sequence[Hex],
        start: datetime,
        doses: dict[Hex, datetime],
        end: datetime,
    ) -> None:
        for pid in participants:
            for phase in self.protocol.phases:
                base = start if phase.begins.anchor is Anchor.START else doses[pid]
                at = base + timedelta(minutes=phase.begins.minutes)
                if at <= end:
                    self._event("phase_change", phase.name, at, pid, phase=phase.key)
            for label in MARKERS:
                if self.rng.random() < 0.6:
                    at = doses[pid] + timedelta(minutes=self.rng.randint(-15, 80))
                    if start < at < end:
                        self._event("marker", label, at, pid)

    def _note(
        self,
        kind: str,
        text: str,
        at: datetime,
        pid: Hex | None,
        start: datetime,
        dose_at: datetime | None,
    ) -> None:
        self._add(
            "note",
            session_id=self.id,
            participant_id=pid,
            kind=kind,
            text=text,
            phase_key=self._phase_at(at, start, dose_at or at),
            author_id=self.therapist["id"],
            elapsed_s=round((at - start).total_seconds()),
            since_dose_s=None if dose_at is None else round((at - dose_at).total_seconds()),
            occurred_at=at,
            recorded_at=at,
        )

    def _notes(
        self, participants: Sequence[Hex], start: datetime, dose_at: datetime, end: datetime
    ) -> None:
        """The therapist's entries on the first participant's clock, and a private note."""
        pid = participants[0] if len(participants) > 1 else None
        for minutes, text in NOTES:
            at = dose_at + timedelta(minutes=minutes, seconds=self.rng.randint(0, 50))
            if start < at < end:
                self._note("entry", text, at, pid, start, dose_at)
        if self.rng.random() < 0.3:
            at = dose_at + timedelta(minutes=40)
            self._add(
                "private_note",
                session_id=self.id,
                participant_id=pid,
                text=PRIVATE_NOTE,
                author_id=self.therapist["id"],
                phase_key=self._phase_at(at, start, dose_at),
                elapsed_s=round((at - start).total_seconds()),
                since_dose_s=2400,
                occurred_at=at,
                recorded_at=at,
            )

    def _music(self, start: datetime, dose_at: datetime, end: datetime) -> None:
        """Each phase's playlist starting at the phase (its first track), the transitions
        between phases, the volume set at the start, and the stop at the end."""
        at, volume, previous = start + timedelta(minutes=2), 60.0, None
        music = {"session_id": self.id, "volume_pct": volume}
        self._add("music_event", kind="volume", occurred_at=at, recorded_at=at, **music)
        for phase in self.protocol.phases:
            base = start if phase.begins.anchor is Anchor.START else dose_at
            at = max(at, base + timedelta(minutes=phase.begins.minutes))
            tracks = self.clinic.tracks.get(phase.playlist or "", [])
            if not tracks or at >= end:
                continue
            where = {**music, "occurred_at": at, "recorded_at": at, "phase_key": phase.key}
            where["playlist"] = phase.playlist
            if previous is not None:
                detail = {"from_phase": previous, "to_phase": phase.key, "mode": "track_end"}
                self._add("music_event", kind="phase_transition", detail=detail, **where)
            previous = phase.key
            path, title = tracks[0]
            length_ms = self.rng.randint(240, 480) * 1000
            self._add(
                "music_event",
                kind="track_start",
                track_path=path,
                track_title=title,
                detail={"duration_ms": length_ms},
                **where,
            )
        stop = {"reason": "session ended"}
        self._add(
            "music_event", kind="stop", occurred_at=end, recorded_at=end, detail=stop, **music
        )

    def _sign(self, end: datetime, *, shared: bool) -> None:
        """The session note, both signatures (their digests as `part_digest` computes them)
        and their audit rows; now and then a signed addendum the next day."""
        therapist, nurse = self.therapist, self.nurse
        therapy_at = end + timedelta(hours=2 if shared else 1)
        monitoring_at = end + timedelta(minutes=12) if shared else therapy_at
        sections = [{"key": k, "title": t, "text": b} for k, t, b in SESSION_NOTE]
        self._add(
            "note",
            session_id=self.id,
            kind="session_note",
            text="\n\n".join(f"{t}\n{b}" for _k, t, b in SESSION_NOTE),
            template_key="kap",
            sections=sections,
            author_id=therapist["id"],
            occurred_at=therapy_at,
            recorded_at=therapy_at,
        )
        digests = {
            "monitoring": _combined(_monitoring_digest(self.monitoring)),
            "therapy": _combined(_rows_digest("note", self.therapy)),
        }
        signers = {"monitoring": (nurse, monitoring_at)}  # the role rules: the nurse monitors
        signers["therapy"] = (therapist, therapy_at)
        for part in ("monitoring", "therapy"):
            signer, at = signers[part]
            row = self._add(
                "signature",
                session_id=self.id,
                part=part,
                staff_id=signer["id"],
                signer_name=f"{signer['display_name']}, {signer['credentials']}",
                signer_role=signer["role"],
                signed_at=at,
                meaning=MEANINGS[part],
                content_sha256=digests[part],
            )
            self._bind(row, signer)
            self._audit(at, f"sign.{part}", "signature", row["id"], signer["id"])
        self._audit(therapy_at, "session.signed", "session", self.id, therapist["id"])
        if self.rng.random() < 0.01:
            at = end + timedelta(days=1)
            note = self._add(
                "note",
                session_id=self.id,
                kind="addendum",
                text=ADDENDUM,
                author_id=therapist["id"],
                occurred_at=at,
                recorded_at=at,
            )
            digest = json.dumps({"id": note["id"], "text": ADDENDUM}, sort_keys=True)
            row = self._add(
                "signature",
                session_id=self.id,
                part="addendum",
                staff_id=therapist["id"],
                signer_name=f"{therapist['display_name']}, {therapist['credentials']}",
                signer_role=therapist["role"],
                signed_at=at,
                meaning=MEANINGS["addendum"],
                content_sha256=hashlib.sha256(digest.encode("utf-8")).hexdigest(),
                note_id=note["id"],
            )
            self._bind(row, therapist)

    def _bind(self, row: dict[str, Any], signer: dict[str, Any]) -> None:
        """Sign the signature row with the signer's key, over what the app signs (issue 18)."""
        public_key, private = self.clinic.keys[signer["id"]]
        row["public_key"] = public_key
        clients = [self.clinic.clients[p["client_id"]] for p in self.participant_rows]
        digest = signing_digest(row, self.session_row, self.participant_rows, clients, signer)
        row["signature"] = private.sign(digest).hex()


# --- signature digests, as kapsession.storage.signatures.part_digest computes them ----------


def _plain(value: Any) -> Any:
    """What `signatures._plain` makes of a time (ids are already the hex text it makes)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# json.dumps(..., sort_keys=True) with `_plain` applied to ids and times, without the per-call
# keyword handling. Float columns hold floats (the rows are written that way): read back from
# the database they would be floats too.
_digest_line = json.JSONEncoder(sort_keys=True, default=_plain).encode


def _rows_digest(table: str, rows: Iterable[dict[str, Any]]) -> str:
    """`_rows_digest` of one table's rows, from the values as the database hands them back."""
    digest = hashlib.sha256()
    _update(digest, table, rows)
    return digest.hexdigest()


def _update(digest: Any, table: str, rows: Iterable[dict[str, Any]]) -> None:
    later = {column: value for (name, column), value in ADDED_LATER.items() if name == table}
    for row in sorted(rows, key=itemgetter("id")):
        if later:  # left out while they hold their old rows' value, as `_rows_digest` does
            row = {k: v for k, v in row.items() if k not in later or v != later[k]}
        digest.update(_digest_line({"table": table, **row}).encode("utf-8"))
        digest.update(b"\n")


def _monitoring_digest(rows: Sequence[tuple[str, dict[str, Any]]]) -> str:
    digest = hashlib.sha256()
    for table in ("dose", "observation", "alert", "discharge_assessment"):
        _update(digest, table, [row for name, row in rows if name == table])
    acknowledgements = [row for name, row in rows if name == "alert_acknowledgement"]
    return digest.hexdigest() + _rows_digest("alert_acknowledgement", acknowledgements)


def _combined(digest: str) -> str:
    return hashlib.sha256(digest.encode("ascii")).hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a big kapsession database to look at.")
    parser.add_argument("out", type=Path, help="the SQLite file to make (must not exist)")
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions in all (10000)")
    parser.add_argument(
        "--history-sessions", type=int, help="the history client's sessions (100, at most all)"
    )
    parser.add_argument("--live", action="store_true", help="add a session started 30 min ago")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        made = build(
            args.out,
            sessions=args.sessions,
            history_sessions=args.history_sessions or min(100, args.sessions - args.live),
            live_session=args.live,
            seed=args.seed,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"big_database: {exc}", file=sys.stderr)
        return 2
    print(
        f"{made.path}: {made.sessions} sessions in {time.perf_counter() - began:.1f} s; "
        f"history client {made.history_client_id}"
        + (f"; live session {made.live_session_id}" if made.live_session_id else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
