"""SQL sent at the driver's level (`Database.write_driver`): what the hot paths use of a DBAPI
connection, and each back-end's placeholder and the value conversions the models' column types
(`Uuid`, `UTCDateTime`, `JSON`) would make."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import JSON, Boolean, Float, Integer, String, Uuid

from kapsession.storage.entry_text import refuse_unstorable
from kapsession.storage.schema import metadata
from kapsession.storage.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy import Column, Table
    from sqlalchemy.engine import Connection


class DriverCursor(Protocol):
    """What the driver-level hot paths use of a DBAPI cursor (sqlite3 and psycopg alike)."""

    def fetchall(self) -> list[Any]: ...
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]], /) -> object: ...
    def close(self) -> object: ...


class DriverConnection(Protocol):
    """What the driver-level hot paths use of a DBAPI connection (sqlite3 and psycopg alike)."""

    def execute(self, sql: str, parameters: Sequence[Any], /) -> DriverCursor: ...
    def cursor(self) -> DriverCursor: ...


_json_text = json.JSONEncoder().encode  # json.dumps without its keyword handling


def _aware_utc(value: datetime) -> datetime:
    """As `UTCDateTime` does: a time without a zone cannot be placed on the session clock."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (UTC)")
    return value.astimezone(UTC)


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text: naive UTC, always to the microsecond.
    return _aware_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_read_time(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _postgres_read_time(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _same_uuid(value: uuid.UUID) -> uuid.UUID:
    return value  # psycopg sends uuid.UUID as uuid


@dataclass(frozen=True)
class DriverValues:
    """One back-end's placeholder and the conversions the models' column types (`Uuid`,
    `UTCDateTime`, `JSON`) make, for SQL sent at the driver's level (`Database.write_driver`)."""

    dialect: str
    placeholder: str  # the driver's paramstyle: sqlite3's `?`, psycopg's `%s`
    param_uuid: Callable[[uuid.UUID], Any]
    param_time: Callable[[datetime], Any]  # refuses a naive time (ValueError)
    result_time: Callable[[Any], datetime]

    @staticmethod
    def param_json(value: dict[str, Any] | list[Any]) -> str:
        # The text `JSON` stores on both back-ends (json.dumps; PostgreSQL casts the text).
        return _json_text(value)

    def sql(self, statement: str) -> str:
        """`statement`, written with `?` placeholders, in this driver's paramstyle."""
        return statement.replace("?", self.placeholder)

    def insert(self, table: str, columns: Sequence[str]) -> str:
        """An INSERT of one row naming `columns`, in this driver's paramstyle."""
        marks = ", ".join([self.placeholder] * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


# Per back-end kapsession supports (`Database.dialect`).
DRIVER_VALUES: Mapping[str, DriverValues] = MappingProxyType(
    {
        "sqlite": DriverValues(
            dialect="sqlite",
            placeholder="?",
            param_uuid=attrgetter("hex"),  # `Uuid` on SQLite: CHAR(32), hex without dashes
            param_time=_sqlite_time,
            result_time=_sqlite_read_time,
        ),
        "postgresql": DriverValues(
            dialect="postgresql",
            placeholder="%s",
            param_uuid=_same_uuid,
            param_time=_aware_utc,
            result_time=_postgres_read_time,
        ),
    }
)


def _as_is(value: Any) -> Any:
    return value


def _column_conversion(values: DriverValues, column: Column[Any]) -> Callable[[Any], Any]:
    """What the column's type makes of a Python value (not None) for the driver."""
    kind = column.type
    if isinstance(kind, Uuid):
        return values.param_uuid
    if isinstance(kind, UTCDateTime):
        return values.param_time
    if isinstance(kind, JSON):
        return values.param_json
    if isinstance(kind, String | Integer | Float | Boolean):
        return _as_is  # the drivers take these as they are, as SQLAlchemy hands them over

    def unconverted(_value: Any) -> Any:
        raise TypeError(f"no driver-level conversion for {column.table.name}.{column.name}")

    return unconverted


class DriverTable:
    """One table's INSERT at the driver's level, its columns as the model's table defines them:
    a row is given as a mapping of every column to its value (as the driver takes it), so that
    no value is placed by position and a column the table gains is not left out silently."""

    def __init__(self, values: DriverValues, table: Table) -> None:
        self.name = table.name
        self.columns: tuple[str, ...] = tuple(table.columns.keys())
        self.insert = values.insert(self.name, self.columns)
        self._names = frozenset(self.columns)
        self._pick = itemgetter(*self.columns)
        self._convert = {column.key: _column_conversion(values, column) for column in table.columns}

    def row(self, values: Mapping[str, Any], copied: Collection[str] = ()) -> tuple[Any, ...]:
        """The values in the INSERT's order; a row that does not name every column of the
        table, or names another, is refused (ValueError) before anything is sent, and so is a
        text the entry rule refuses (TextRefused: `storage.entry_text`), but for the columns
        `copied` unchanged from a row already stored (a correction's)."""
        if values.keys() != self._names:
            missing = sorted(self._names - values.keys())
            unknown = sorted(values.keys() - self._names)
            raise ValueError(f"a {self.name} row must name its columns: {missing=} {unknown=}")
        refuse_unstorable(item for item in values.items() if item[0] not in copied)
        picked: tuple[Any, ...] = self._pick(values)
        return picked

    def converted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Python values (as the ORM takes them) as the driver takes them, each converted as
        its column's type would, for a writer that is not a hot path (a correction: a hot path
        converts each value once, by hand). None is SQL NULL, in a JSON column too, as the hot
        paths write it (the ORM would store JSON `null` there)."""
        convert = self._convert
        return {
            name: value if value is None else convert.get(name, _as_is)(value)
            for name, value in values.items()
        }


def audit_row(
    values: DriverValues,
    *,
    at: Any,
    staff: Any,
    action: str,
    entity: str,
    entity_id: str,
    session: Any,
    detail: str,
) -> dict[str, Any]:
    """An audit row for a driver-level save (`at`, `staff`, `session` and `detail` already as
    the driver takes them: a hot path converts each value once); the ORM's writers use
    `audit.write_audit`."""
    return {
        "id": values.param_uuid(uuid.uuid4()),
        "occurred_at": at,
        "staff_id": staff,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "session_id": session,
        "detail": detail,
    }


@cache
def table_writer(dialect: str, table: str) -> DriverTable:
    """The driver-level INSERT of one of the schema's tables, for one back-end."""
    return DriverTable(DRIVER_VALUES[dialect], metadata.tables[table])


def driver_of(connection: Connection) -> DriverConnection:
    """The DBAPI connection under a SQLAlchemy connection in a transaction (a Core one, or an
    ORM session's), for a writer that sends its rows at the driver's level within it."""
    driver: DriverConnection | None = connection.connection.driver_connection
    assert driver is not None  # a connection in a transaction always has one
    return driver


def insert_audit(
    driver: DriverConnection,
    dialect: str,
    *,
    at: datetime,
    staff_id: uuid.UUID | None,
    action: str,
    entity: str,
    entity_id: uuid.UUID | str,
    session_id: uuid.UUID | None,
    detail: dict[str, Any],
) -> None:
    """The audit row of a driver-level write that is not a hot path (an event, a correction),
    its values converted here; the hot paths convert theirs once and use `audit_row`."""
    sent = DRIVER_VALUES[dialect]
    audit = table_writer(dialect, "audit_entry")
    row = audit_row(
        sent,
        at=sent.param_time(at),
        staff=None if staff_id is None else sent.param_uuid(staff_id),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        session=None if session_id is None else sent.param_uuid(session_id),
        detail=sent.param_json(detail),
    )
    driver.execute(audit.insert, audit.row(row))
