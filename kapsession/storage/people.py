"""Staff, clients and their courses of treatment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.engine import Connection

from kapsession.domain.clinic_rules import role_list
from kapsession.domain.entry_text import text_problem
from kapsession.records.errors import NotFound, StorageError
from kapsession.records.people import ClientRecord, StaffRecord, StaffRole
from kapsession.storage import schema
from kapsession.storage.audit import write_audit
from kapsession.storage.database import Database

if TYPE_CHECKING:
    from kapsession.storage import models
else:
    from kapsession.storage.lazy import models

STAFF_ROLES = tuple(StaffRole)


def staff_record(row: models.Staff | Row[Any]) -> StaffRecord:
    return StaffRecord(
        id=row.id,
        display_name=row.display_name,
        role=StaffRole(row.role),
        credentials=row.credentials,
        active=row.active,
        admin=row.is_admin,
    )


def clients_by_id(rows: Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ClientRecord]:
    """The clients with these ids, read through the table."""
    if not ids:
        return {}
    found = rows.execute(select(schema.client).where(schema.client.c.id.in_(set(ids))))
    return {row.id: client_record(row) for row in found}


def client_record(row: models.Client | Row[Any]) -> ClientRecord:
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
        setup_code_hash: str | None = None,
        admin_passphrase_hash: str | None = None,
    ) -> StaffRecord:
        """A staff member; `setup_code_hash`: the one-time code of their first sign-in;
        `admin_passphrase_hash`: given, the account is the clinic administrator's (issue 18)."""
        name = display_name.strip()
        if not name:
            raise StorageError("A staff member needs a name.")
        if role not in STAFF_ROLES:
            raise StorageError(f"The role must be {role_list(STAFF_ROLES)}, not {role!r}.")
        admin = admin_passphrase_hash is not None
        with self._db.write("save the staff member") as orm:
            row = models.Staff(
                display_name=name,
                role=role,
                credentials=credentials.strip(),
                created_at=at,
                is_admin=admin,
                admin_passphrase_hash=admin_passphrase_hash,
                setup_code_hash=setup_code_hash,
            )
            orm.add(row)
            orm.flush()
            detail: dict[str, object] = {"display_name": name, "role": role}
            if admin:
                detail["administrator"] = True
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action="staff.add",
                entity="staff",
                entity_id=row.id,
                detail=detail,
            )
            return staff_record(row)

    def active(self) -> list[StaffRecord]:
        """The active staff who work in sessions, by name: not the administrator's account,
        which manages the others (issue 18)."""
        staff = schema.staff
        query = (
            select(staff)
            .where(staff.c.active.is_(True), staff.c.is_admin.is_(False))
            .order_by(staff.c.display_name)
        )
        with self._db.rows() as rows:
            return [staff_record(row) for row in rows.execute(query)]

    def accounts(self) -> list[StaffRecord]:
        """Everyone who may sign in: the active staff and the administrator, by name."""
        staff = schema.staff
        query = select(staff).where(staff.c.active.is_(True)).order_by(staff.c.display_name)
        with self._db.rows() as rows:
            return [staff_record(row) for row in rows.execute(query)]

    def administrators(self) -> list[StaffRecord]:
        """The active administrator accounts (one, once the first run has made it)."""
        return [s for s in self.accounts() if s.admin]

    def admin_passphrase_hash(self, staff_id: uuid.UUID) -> str | None:
        value: str | None = self._staff_row(staff_id).admin_passphrase_hash
        return value

    def setup_code_hash(self, staff_id: uuid.UUID) -> str | None:
        """The hash of the one-time setup code (None: none is pending)."""
        value: str | None = self._staff_row(staff_id).setup_code_hash
        return value

    def set_active(
        self, staff_id: uuid.UUID, active: bool, *, at: datetime, by: uuid.UUID | None
    ) -> None:
        """Disable (or enable again) an account, with its audit row. Disabled, it cannot sign
        in and is offered nowhere; the records keep its name."""
        with self._db.write("change the staff account") as orm:
            row = orm.get(models.Staff, staff_id)
            if row is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            row.active = active
            action = "staff.enable" if active else "staff.disable"
            write_audit(orm, at=at, staff_id=by, action=action, entity="staff", entity_id=staff_id)

    def reset_pin(
        self, staff_id: uuid.UUID, setup_code_hash: str, *, at: datetime, by: uuid.UUID | None
    ) -> None:
        """Clear the PIN and give a new one-time setup code: the owner sets a new PIN at their
        next sign-in. With its audit row."""
        with self._db.write("reset the staff account") as orm:
            row = orm.get(models.Staff, staff_id)
            if row is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            row.pin_hash = None
            row.setup_code_hash = setup_code_hash
            write_audit(
                orm,
                at=at,
                staff_id=by,
                action="staff.pin_reset",
                entity="staff",
                entity_id=staff_id,
            )

    def all(self) -> list[StaffRecord]:
        """Everyone who ever worked here, active or not (old records name them)."""
        with self._db.rows() as rows:
            return [staff_record(row) for row in rows.execute(select(schema.staff))]

    def get(self, staff_id: uuid.UUID) -> StaffRecord:
        return staff_record(self._staff_row(staff_id))

    def pin_hash(self, staff_id: uuid.UUID) -> str | None:
        """The stored hash of the staff member's signing PIN (None: no PIN set yet)."""
        pin_hash: str | None = self._staff_row(staff_id).pin_hash
        return pin_hash

    def _staff_row(self, staff_id: uuid.UUID) -> Row[Any]:
        with self._db.rows() as rows:
            row = rows.execute(select(schema.staff).where(schema.staff.c.id == staff_id)).first()
        if row is None:
            raise NotFound(f"No staff member with id {staff_id}.")
        return row

    def set_pin_hash(
        self, staff_id: uuid.UUID, pin_hash: str, *, at: datetime, by: uuid.UUID | None
    ) -> None:
        """Store a new PIN hash (the PIN itself is never stored), with its audit row."""
        with self._db.write("save the PIN") as orm:
            row = orm.get(models.Staff, staff_id)
            if row is None:
                raise NotFound(f"No staff member with id {staff_id}.")
            action = "staff.pin_change" if row.pin_hash else "staff.pin_set"
            row.pin_hash = pin_hash
            row.setup_code_hash = None  # the one-time code is used up once a PIN is set
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
                select(models.Client.id).where(models.Client.record_number == number)
            ):
                raise StorageError(
                    f"Record number {number} already belongs to another client; check it."
                )
            row = models.Client(
                given_name=given,
                family_name=family,
                date_of_birth=date_of_birth,
                record_number=number,
                created_at=at,
            )
            orm.add(row)
            orm.flush()
            orm.add(
                models.Course(
                    client_id=row.id, title="Course 1", started_on=at.date(), created_at=at
                )
            )
            write_audit(
                orm, at=at, staff_id=by, action="client.add", entity="client", entity_id=row.id
            )
            return client_record(row)

    def get(self, client_id: uuid.UUID) -> ClientRecord:
        with self._db.rows() as rows:
            found = clients_by_id(rows, [client_id])
        if client_id not in found:
            raise NotFound(f"No client with id {client_id}.")
        return found[client_id]

    def search(self, text: str = "", limit: int = 500) -> list[ClientRecord]:
        """Clients whose name or record number contains `text`, by family name. Text that
        no name or number may hold (a NUL, half of a broken character: `text_problem`)
        matches nobody: it is not sent (the driver cannot encode half a character)."""
        if text_problem(text) is not None:
            return []
        client = schema.client
        query = select(client).order_by(func.lower(client.c.family_name), client.c.given_name)
        words = text.split()
        for word in words:
            # autoescape: a typed % or _ is that character, not LIKE's wildcard.
            wanted = word.lower()
            query = query.where(
                or_(
                    func.lower(client.c.given_name).contains(wanted, autoescape=True),
                    func.lower(client.c.family_name).contains(wanted, autoescape=True),
                    func.lower(func.coalesce(client.c.record_number, "")).contains(
                        wanted, autoescape=True
                    ),
                )
            )
        with self._db.rows() as rows:
            return [client_record(row) for row in rows.execute(query.limit(limit))]

    def current_course_id(self, client_id: uuid.UUID) -> uuid.UUID | None:
        course = schema.course
        with self._db.rows() as rows:
            course_id: uuid.UUID | None = rows.scalar(
                select(course.c.id)
                .where(course.c.client_id == client_id)
                .order_by(course.c.started_on.desc(), course.c.created_at.desc())
                .limit(1)
            )
        return course_id
