"""Every text a write sends meets the entry rule (domain/entry_text.py), whichever writer sends
it: the ORM, Core, or the driver-level hot paths and corrections. What a correction copies from
an entry stored before the rule is not checked again."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import insert, select

from kapsession.domain.corrections import effective
from kapsession.records.errors import TextRefused
from kapsession.storage import schema
from kapsession.storage.notes import NoteRepository

if TYPE_CHECKING:
    from conftest import Clinic


def test_each_writer_refuses_a_text_that_cannot_be_stored(clinic: Clinic) -> None:
    # Given a live session
    live = clinic.new_session()
    at = clinic.now()
    notes = NoteRepository(clinic.db)
    events_before = clinic.entries.events(live.id, include_history=True)
    clients_before = clinic.clients.search("")
    # When a NUL goes in through each kind of writer: an event (Core and the driver), a note
    # (the driver's hot path), a draft (the ORM), a client (the ORM)
    for write in (
        lambda: clinic.entries.add_event(
            live.id, "marker", occurred_at=at, recorded_at=at, label="a\x00"
        ),
        lambda: notes.add_entry(live.id, "b\x00", occurred_at=at, recorded_at=at),
        lambda: notes.save_draft(live.id, "record", "c\x00", at=at),
        lambda: clinic.clients.add("Maya", "F\x00x", at=at),
    ):
        # Then it is refused before anything is sent
        with pytest.raises(TextRefused, match="NUL character"):
            write()
    # And nothing was stored
    assert clinic.entries.events(live.id, include_history=True) == events_before
    assert notes.notes(live.id) == []
    assert notes.draft(live.id, "record") is None
    assert clinic.clients.search("") == clients_before


def test_an_entry_stored_before_the_rule_can_still_be_corrected_and_withdrawn(
    clinic: Clinic,
) -> None:
    # Given a marker stored before the rule with a vertical tab in it (written here without
    # the write transaction's check, as an older kapsession did)
    live = clinic.new_session()
    at = clinic.now()
    marker = clinic.entries.add_event(live.id, "marker", occurred_at=at, recorded_at=at, label="x")
    event = schema.session_event
    with clinic.db.engine.begin() as rows:
        row = dict(rows.execute(select(event).where(event.c.id == marker.id)).one()._mapping)
        old_id = uuid.uuid4()
        rows.execute(insert(event).values({**row, "id": old_id, "label": "Music\x0bon"}))
    # When it is withdrawn (its label copied into the withdrawal)
    withdrawn = clinic.entries.correct_event(
        old_id, reason="entered twice", recorded_at=clinic.now(), voids=True
    )
    # Then the withdrawal is saved with the label as it was
    assert withdrawn.label == "Music\x0bon" and withdrawn.voids
    # But a correction typing the character anew is refused
    with pytest.raises(TextRefused, match="vertical tab"):
        clinic.entries.correct_event(
            marker.id, reason="typo", recorded_at=clinic.now(), label="Music\x0bplaying"
        )
    standing = effective(clinic.entries.events(live.id, include_history=True))
    assert [e.label for e in standing if e.kind == "marker"] == ["x"]
