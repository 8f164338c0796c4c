"""What an export says of each signature (issue 18): unchanged and signed with the signer's own
key; changed, when a signed session's client is renamed behind the app (past the triggers); made
before signatures were bound to a person, when no key binds it — never "valid"."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from support.tampering import unguarded

from kapsession.export.fhir import to_fhir_bundle
from kapsession.export.text import to_markdown
from kapsession.services.context import AppContext
from kapsession.services.export_content import gather
from kapsession.storage.driver import DRIVER_VALUES
from kapsession.storage.notes import NoteRepository

EXPORTED_AT = datetime(2027, 1, 30, 9, 0, tzinfo=UTC)
VALID = "yes, signed with the signer's own key"
CHANGED = "NO — the record differs from what was signed"
UNBOUND = "made before signatures were bound to a person"


def _signature_rows(context: AppContext, session_id: uuid.UUID) -> list[str]:
    """The lines of the Markdown export's signature table."""
    content = gather(context.service.database, session_id, exported_at=EXPORTED_AT)
    text = to_markdown(content)
    table = text.split("Unchanged since signing", 1)[1].split("\n\n", 1)[0]
    return [line for line in table.splitlines() if line.startswith("|") and "---" not in line]


def _attack(context: AppContext, table: str, statement: str, *ids: uuid.UUID) -> None:
    db = context.service.database
    driver = DRIVER_VALUES[db.dialect]
    with unguarded(db, table) as cursor:
        cursor.execute(driver.sql(statement), [driver.param_uuid(i) for i in ids])


def _signed_session(context: AppContext) -> uuid.UUID:
    return next(s.id for s in context.service.sessions.summaries() if s.status == "signed")


def test_a_signed_session_reads_as_signed_by_its_signers_keys(demo_copy: AppContext) -> None:
    rows = _signature_rows(demo_copy, _signed_session(demo_copy))
    assert len(rows) == 2 and all(row.rstrip(" |").endswith(VALID) for row in rows)


def test_a_client_renamed_behind_the_app_reads_as_changed(demo_copy: AppContext) -> None:
    # Given a signed session; When its client's name is changed past the triggers
    record = demo_copy.service.sessions.get(_signed_session(demo_copy))
    _attack(
        demo_copy,
        "client",
        "UPDATE client SET family_name = 'Somebody-Else' WHERE id = ?",
        record.participants[0].client.id,
    )
    # Then both parts read as changed, in Markdown and in FHIR
    rows = _signature_rows(demo_copy, record.id)
    assert len(rows) == 2 and all(row.rstrip(" |").endswith(CHANGED) for row in rows)
    content = gather(demo_copy.service.database, record.id, exported_at=EXPORTED_AT)
    assert "WARNING: the record no longer matches what was signed" in str(to_fhir_bundle(content))


def test_a_signature_no_key_binds_reads_as_made_before_binding(demo_copy: AppContext) -> None:
    # Given a signed session whose signatures carry no key, as before signatures were bound
    # (the demo's keys were made after these past signatures)
    session_id = _signed_session(demo_copy)
    _attack(
        demo_copy,
        "signature",
        "UPDATE signature SET public_key = NULL, signature = NULL WHERE session_id = ?",
        session_id,
    )
    # Then the export says so plainly: not "yes"
    rows = _signature_rows(demo_copy, session_id)
    assert len(rows) == 2 and all(UNBOUND in row and VALID not in row for row in rows)


def test_an_addendum_edited_behind_the_app_reads_as_changed(demo_copy: AppContext) -> None:
    # Given the demo session with a signed addendum, as exported
    notes = NoteRepository(demo_copy.service.database)
    first = next(
        s for s in demo_copy.service.sessions.summaries() if notes.notes(s.id, kinds=["addendum"])
    )
    database = demo_copy.service.database
    before = to_markdown(gather(database, first.id, exported_at=EXPORTED_AT))
    assert "differs from what was signed" not in before
    # When its text is changed past the triggers
    _attack(
        demo_copy,
        "note",
        "UPDATE note SET text = 'Nothing to add.' WHERE session_id = ? AND kind = 'addendum'",
        first.id,
    )
    # Then the export says the addendum differs from what was signed
    after = to_markdown(gather(database, first.id, exported_at=EXPORTED_AT))
    assert "NO: the addendum differs from what was signed" in after
