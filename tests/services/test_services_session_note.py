"""The session note after the session: prefilled from the record, signed with a PIN in parts,
and signed addenda afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from services_support import START

from kapsession.domain.clock import FakeClock
from kapsession.paths import resolve_paths
from kapsession.records.notes import SessionNoteText
from kapsession.resources import note_templates_dir
from kapsession.services.context import AppContext, open_context
from kapsession.services.demo import DEMO_PIN, populate
from kapsession.services.note_templates import NoteTemplateCatalog
from kapsession.services.session_note import SessionNoteService
from kapsession.storage.audit import AuditRepository

NOW = START + timedelta(days=60)


@pytest.fixture
def training(tmp_path: Path) -> Iterator[AppContext]:
    paths = resolve_paths(data_dir=tmp_path / "data", training=True, environ={})
    ctx = open_context(paths, clock=FakeClock(NOW))
    try:
        yield ctx
    finally:
        ctx.close()


def _unsigned(training: AppContext) -> tuple[SessionNoteService, object, dict[str, object]]:
    made = populate(training.service, NOW)
    notes = SessionNoteService(training.service.database, training.clock)
    staff = {s.role: s for s in training.service.staff.active()}
    return notes, made[-1].id, staff


@pytest.mark.parametrize("key", ["kap", "soap", "dap", "birp"])
def test_every_template_starts_filled_from_the_record(training: AppContext, key: str) -> None:
    notes, session_id, _staff = _unsigned(training)
    template = NoteTemplateCatalog(note_templates_dir()).get(key)
    sections = notes.prefill(session_id, template)
    assert [s[0] for s in sections] == [s.key for s in template.sections]
    text = "\n".join(body for _k, _t, body in sections)
    # the dose (esketamine: 56 mg intranasal), vitals, the acknowledged alert, markers
    assert "56 mg" in text
    assert "Baseline" in text
    assert "acknowledged" in text
    assert "Eye mask on" in text or "Tearful" in text


def test_signing_in_two_parts_with_pins(training: AppContext) -> None:
    notes, session_id, staff = _unsigned(training)
    nurse, therapist = staff["nurse"], staff["therapist"]
    training.clock.advance(60)
    # When the nurse gives a wrong PIN, nothing is signed and she is told after a pause
    wrong = notes.sign(session_id, nurse.id, "000000", ["monitoring"], None)
    assert not wrong.ok and wrong.pause_s > 0
    assert notes.state(session_id).signed == {}
    # When she gives the right one, the monitoring part is signed
    training.clock.advance(60)
    done = notes.sign(session_id, nurse.id, DEMO_PIN, ["monitoring"], None)
    assert done.ok, done.message
    assert set(notes.state(session_id).signed) == {"monitoring"}
    # When the therapist signs without a session note, that is refused
    refused = notes.sign(session_id, therapist.id, DEMO_PIN, ["therapy"], None)
    assert not refused.ok and "session note" in refused.message
    # When the therapist signs with the note, the session is signed and locked
    template = NoteTemplateCatalog(note_templates_dir()).get("kap")
    note = SessionNoteText("kap", tuple(notes.prefill(session_id, template)))
    signed = notes.sign(session_id, therapist.id, DEMO_PIN, ["therapy"], note)
    assert signed.ok and "locked" in signed.message
    state = notes.state(session_id)
    assert state.status == "signed" and state.unsigned_parts == []
    # And a signed addendum can follow, with a PIN
    training.clock.advance(3600)
    assert not notes.add_addendum(session_id, therapist.id, DEMO_PIN, "  ").ok
    added = notes.add_addendum(session_id, therapist.id, DEMO_PIN, "Called: all well.")
    assert added.ok
    (addendum, signature) = notes.state(session_id).addenda[0]
    assert addendum.text == "Called: all well." and signature is not None
    actions = [a.action for a in AuditRepository(training.service.database).for_session(session_id)]
    assert {"pin.refused", "sign.monitoring", "sign.therapy", "note.addendum"} <= set(actions)


def test_the_monitoring_part_waits_for_open_alerts(training: AppContext) -> None:
    # Given an ended session with an alert nobody acknowledged
    notes, _session_id, staff = _unsigned(training)
    service = training.service
    client = service.clients.search("DEMO-")[0]
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=NOW,
        therapist_id=staff["therapist"].id,
        nurse_id=staff["nurse"].id,
    )
    at = NOW + timedelta(minutes=5)
    saved = service.checkins.save_checkin(
        record.id,
        record.participants[0].id,
        {"bp": "192/112", "heart_rate_bpm": "80"},
        occurred_at=at,
        recorded_at=at,
        by=staff["nurse"].id,
    )
    assert saved.alerts
    service.end_session(record.id, at=NOW + timedelta(minutes=20))
    training.clock.advance(1800)
    # When the nurse signs the monitoring part, it is refused with what to do
    result = notes.sign(record.id, staff["nurse"].id, DEMO_PIN, ["monitoring"], None)
    assert not result.ok and "Acknowledge" in result.message
    assert notes.state(record.id).signed == {}


def test_a_live_session_is_not_signed(training: AppContext) -> None:
    notes, _session_id, staff = _unsigned(training)
    service = training.service
    client = service.clients.search("DEMO-")[0]
    record = service.start_session(
        protocol_key="sublingual-kap-3h",
        client_ids=[client.id],
        modality="individual",
        at=NOW,
        therapist_id=staff["therapist"].id,
        nurse_id=staff["nurse"].id,
    )
    result = notes.sign(record.id, staff["nurse"].id, DEMO_PIN, ["monitoring"], None)
    assert not result.ok and "End the session" in result.message


def test_the_session_note_draft_round_trips(training: AppContext) -> None:
    notes, session_id, staff = _unsigned(training)
    sections = [("intention", "Intention", "Grief"), ("plan", "Plan", "")]
    notes.save_draft(session_id, "soap", sections, by=staff["therapist"].id)
    assert notes.draft(session_id) == ("soap", sections)


def test_the_prefill_names_the_adverse_event_what_was_given_and_the_count(
    training: AppContext,
) -> None:
    # Given the demo, whose third session of Maya had an emesis with ondansetron (issue 16)
    made = populate(training.service, NOW)
    session_id = [s for s in made if s.client == "Maya Fischer"][2].id
    notes = SessionNoteService(training.service.database, training.clock)
    # When the KAP note is prefilled
    sections = notes.prefill(session_id, NoteTemplateCatalog(note_templates_dir()).get("kap"))
    text = "\n".join(body for _k, _t, body in sections)
    # Then the adverse event stands as updated (resolved), with what was given for it
    assert "Emesis (moderate · non-serious · resolved at" in text
    assert "given: Ondansetron 4 mg oral (ODT) at" in text
    assert "ongoing" not in text  # the first version was updated: only the standing one
    # And the dose's controlled-substance count, the waste witnessed
    assert "Controlled substance: drawn 300 mg, given 250 mg, wasted 50 mg, waste witnessed by" in (
        text
    )
