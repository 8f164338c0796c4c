"""Notes on the session clock, drafts, and signatures.

Note entries and private notes keep where they sat on the session clock (elapsed, since dose);
a session note keeps its template and sections. `note_draft` holds text being typed (working
state, not the record: rows are overwritten). `signature` is append-only; a signed part locks
its tables in the database itself: after the monitoring part is signed no dose, reading, alert
or discharge assessment can be added, after the therapy part no note or private note except an
addendum. With both parts signed the session's status is `signed` (0002 locks the rest).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# part -> the tables it locks once signed; `note` is apart: addenda are still accepted
PART_TABLES = {
    "monitoring": ("dose", "observation", "alert", "discharge_assessment"),
    "therapy": ("private_note",),
}
NOTE_COLUMNS = ("elapsed_s", "since_dose_s", "template_key", "sections")
PRIVATE_NOTE_COLUMNS = ("phase_key", "elapsed_s", "since_dose_s")


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _refusal(part: str) -> str:
    return f"the {part} part of this session is signed: only addenda can be added"


def _add_columns() -> None:
    op.add_column("note", sa.Column("elapsed_s", sa.Integer(), nullable=True))
    op.add_column("note", sa.Column("since_dose_s", sa.Integer(), nullable=True))
    op.add_column("note", sa.Column("template_key", sa.String(length=60), nullable=True))
    op.add_column("note", sa.Column("sections", sa.JSON(), nullable=True))
    op.add_column("private_note", sa.Column("phase_key", sa.String(length=60), nullable=True))
    op.add_column("private_note", sa.Column("elapsed_s", sa.Integer(), nullable=True))
    op.add_column("private_note", sa.Column("since_dose_s", sa.Integer(), nullable=True))


def _create_tables() -> None:
    op.create_table(
        "note_draft",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("pad", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=True),
        sa.Column("template_key", sa.String(length=60), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_note_draft_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f("fk_note_draft_session_id_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note_draft")),
        sa.UniqueConstraint("session_id", "pad", name=op.f("uq_note_draft_session_id")),
    )
    op.create_table(
        "signature",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("part", sa.String(length=20), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=20), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["note_id"], ["note.id"], name=op.f("fk_signature_note_id_note")),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f("fk_signature_session_id_session")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_signature_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature")),
    )
    op.create_index(op.f("ix_signature_session_id"), "signature", ["session_id"], unique=False)
    op.create_index(
        "uq_signature_session_part",
        "signature",
        ["session_id", "part"],
        unique=True,
        sqlite_where=sa.text("part <> 'addendum'"),
        postgresql_where=sa.text("part <> 'addendum'"),
    )


def _create_guards_postgresql() -> None:
    op.execute(  # kapsession_append_only() comes from 0001
        "CREATE TRIGGER signature_append_only BEFORE UPDATE OR DELETE ON signature "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_append_only()"
    )
    op.execute(
        "CREATE FUNCTION kapsession_refuse_if_part_signed() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM signature WHERE session_id = NEW.session_id "
        "AND part = TG_ARGV[0]) THEN "
        "RAISE EXCEPTION 'the % part of this session is signed: only addenda can be added', "
        "TG_ARGV[0]; END IF; "
        "RETURN NEW; END $$"
    )
    for part, tables in PART_TABLES.items():
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_{part}_lock BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_if_part_signed('{part}')"
            )
    op.execute(
        "CREATE FUNCTION kapsession_refuse_note_if_therapy_signed() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.kind <> 'addendum' AND EXISTS (SELECT 1 FROM signature "
        "WHERE session_id = NEW.session_id AND part = 'therapy') THEN "
        f"RAISE EXCEPTION '{_refusal('therapy')}'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER note_therapy_lock BEFORE INSERT ON note "
        "FOR EACH ROW EXECUTE FUNCTION kapsession_refuse_note_if_therapy_signed()"
    )


def _create_guards_sqlite() -> None:
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER signature_no_{action.lower()} BEFORE {action} ON signature "
            "BEGIN SELECT RAISE(ABORT, 'append-only: signature rows are never changed or "
            "deleted'); END"
        )
    for part, tables in PART_TABLES.items():
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_{part}_lock BEFORE INSERT ON {table} "
                "WHEN EXISTS (SELECT 1 FROM signature WHERE session_id = NEW.session_id "
                f"AND part = '{part}') "
                f"BEGIN SELECT RAISE(ABORT, '{_refusal(part)}'); END"
            )
    op.execute(
        "CREATE TRIGGER note_therapy_lock BEFORE INSERT ON note "
        "WHEN NEW.kind <> 'addendum' AND EXISTS (SELECT 1 FROM signature "
        "WHERE session_id = NEW.session_id AND part = 'therapy') "
        f"BEGIN SELECT RAISE(ABORT, '{_refusal('therapy')}'); END"
    )


def upgrade() -> None:
    _add_columns()
    _create_tables()
    if _is_postgresql():
        _create_guards_postgresql()
    else:
        _create_guards_sqlite()


def _drop_columns(table: str, columns: tuple[str, ...]) -> None:
    """Drop added columns; on SQLite keep the triggers the table copy would lose."""
    triggers: list[str] = []
    if not _is_postgresql():
        rows = op.get_bind().exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? ORDER BY name",
            (table,),
        )
        triggers = [str(sql) for (sql,) in rows]
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in reversed(columns):
            batch_op.drop_column(column)
    if triggers:
        rows = op.get_bind().exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        existing = {str(sql) for (sql,) in rows}
        for sql in triggers:
            if sql not in existing:
                op.execute(sql)


def downgrade() -> None:
    if _is_postgresql():
        op.execute("DROP TRIGGER IF EXISTS note_therapy_lock ON note")
        op.execute("DROP FUNCTION IF EXISTS kapsession_refuse_note_if_therapy_signed()")
        for part, tables in PART_TABLES.items():
            for table in tables:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{part}_lock ON {table}")
        op.execute("DROP FUNCTION IF EXISTS kapsession_refuse_if_part_signed()")
        op.execute("DROP TRIGGER IF EXISTS signature_append_only ON signature")
    else:
        op.execute("DROP TRIGGER IF EXISTS note_therapy_lock")
        for part, tables in PART_TABLES.items():
            for table in tables:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{part}_lock")
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS signature_no_{action}")
    op.drop_index("uq_signature_session_part", table_name="signature")
    op.drop_index(op.f("ix_signature_session_id"), table_name="signature")
    op.drop_table("signature")
    op.drop_table("note_draft")
    _drop_columns("private_note", PRIVATE_NOTE_COLUMNS)
    _drop_columns("note", NOTE_COLUMNS)
