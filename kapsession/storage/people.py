"""Staff, clients and their courses of treatment."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import func, or_, select

from kapsession.records.errors import NotFound, StorageError
from kapsession.records.people import ClientRecord, StaffRecord
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database
from kapsession.storage.models import Client, Course, Staff

STAFF_ROLES = ("therapist", "nurse", "prescriber", "lead")


def staff_record(row: Staff) -> StaffRecord:
    return StaffRecord(
        id=row.id,
        display_name=row.display_name,
        role=row.role,
        credentials=row.credentials,
        active=row.active,
    )


def client_record(row: Client) -> ClientRecord:
    return ClientRecord(
        id=row.id,
        given_name=row.given_name,
        family_name=row.family_name,
        date_of_birth=row.date_of_birth,
        record_number=row.record_number,
        created_at=row.created_at,
    )


class StaffRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        display_name: str,
        role: str,
        *,
        at: datetime,
        credentials: str = "",
        by: uuid.UUID | None = None,
    ) -> StaffRecord:
        name = display_name.strip()
        if not name:
            raise StorageError("A staff member needs a name.")
        if role not in STAFF_ROLES:
            raise StorageError(f"Role must be one of {', '.join(STAFF_ROLES)}, not {role!r}.")
        with self._db.write("save the staff member") as orm:
            row = Staff(
                display_name=name, role=role, credentials=credentials.strip(), created_at=at
            )
            orm.add(row)
            orm.flush()
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action="staff.add",
                entity="staff",
                entity_id=row.id,
                detail={"display_name": name, "role": role},
            )
            return staff_record(row)

    def active(self) -> list[StaffRecord]:
        with self._db.read() as orm:
            rows = orm.scalars(
                select(Staff).where(Staff.active.is_(True)).order_by(Staff.display_name)
            )
            return [staff_record(row) for row in rows]

    def all(self) -> list[StaffRecord]:
        """Everyone who ever worked here, active or not (old records name them)."""
        with self._db.read() as orm:
            return [staff_record(row) for row in orm.scalars(select(Staff))]

    def get(self, staff_id: uuid.UUID) -> StaffRecord:
        with self._db.read() as orm:
            row = orm.get(Staff, staff_id)
            if row is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            return staff_record(row)

    def pin_hash(self, staff_id: uuid.UUID) -> str | None:
        """The stored hash of the staff member's signing PIN (None: no PIN set yet)."""
        with self._db.read() as orm:
            row = orm.get(Staff, staff_id)
            if row is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            return row.pin_hash

    def set_pin_hash(
        self, staff_id: uuid.UUID, pin_hash: str, *, at: datetime, by: uuid.UUID | None
    ) -> None:
        """Store a new PIN hash (the PIN itself is never stored), with its audit row."""
        with self._db.write("save the PIN") as orm:
            row = orm.get(Staff, staff_id)
            if row is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            action = "staff.pin_change" if row.pin_hash else "staff.pin_set"
            row.pin_hash = pin_hash
            write_audit(orm, at=at, staff_id=by, action=action, entity="staff", entity_id=staff_id)


class ClientRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(
        self,
        given_name: str,
        family_name: str,
        *,
        at: datetime,
        date_of_birth: date | None = None,
        record_number: str | None = None,
        by: uuid.UUID | None = None,
    ) -> ClientRecord:
        given, family = given_name.strip(), family_name.strip()
        if not given or not family:
            raise StorageError("A client needs a first name and a last name.")
        number = (record_number or "").strip() or None
        with self._db.write("save the client") as orm:
            if number is not None and orm.scalar(
                select(Client.id).where(Client.record_number == number)
            ):
                raise StorageError(
                    f"Record number {number} already belongs to another client; check it."
                )
            row = Client(
                given_name=given,
                family_name=family,
                date_of_birth=date_of_birth,
                record_number=number,
                created_at=at,
            )
            orm.add(row)
            orm.flush()
            orm.add(Course(client_id=row.id, title="Course 1", started_on=at.date(), created_at=at))
            write_audit(
                orm, at=at, staff_id=by, action="client.add", entity="client", entity_id=row.id
            )
            return client_record(row)

    def get(self, client_id: uuid.UUID) -> ClientRecord:
        with self._db.read() as orm:
            row = orm.get(Client, client_id)
            if row is None:
                raise NotFound(f"No client with id {client_id}.")
            return client_record(row)

    def search(self, text: str = "", limit: int = 500) -> list[ClientRecord]:
        """Clients whose name or record number contains `text`, by family name."""
        # the columns in ClientRecord's order, not mapped objects: the whole list, at every start
        query = select(
            Client.id,
            Client.given_name,
            Client.family_name,
            Client.date_of_birth,
            Client.record_number,
            Client.created_at,
        ).order_by(func.lower(Client.family_name), Client.given_name)
        words = text.split()
        for word in words:
            pattern = f"%{word.lower()}%"
            query = query.where(
                or_(
                    func.lower(Client.given_name).like(pattern),
                    func.lower(Client.family_name).like(pattern),
                    func.lower(func.coalesce(Client.record_number, "")).like(pattern),
                )
            )
        with self._db.read() as orm:
            return [ClientRecord(*row) for row in orm.execute(query.limit(limit))]

    def current_course_id(self, client_id: uuid.UUID) -> uuid.UUID | None:
        with self._db.read() as orm:
            return orm.scalar(
                select(Course.id)
                .where(Course.client_id == client_id)
                .order_by(Course.started_on.desc(), Course.created_at.desc())
                .limit(1)
            )
