"""Session exports of sessions without a dose (issue 17): each says its session type and no
dosing details of its protocol's stand-in dosing sections; an integration session names the
dosing session it follows; a client's intentions are in the notes as "Intention", amended and
withdrawn ones as other notes are. Markdown read as written, the PDF read back with pdftotext."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from services_support import Room
from support.real_tools import require_tool

from kapsession.export.content import ExportContent, ExportRefused
from kapsession.export.fhir import to_fhir_bundle
from kapsession.export.pdf import to_pdf
from kapsession.export.rems import rems_data
from kapsession.export.text import to_markdown
from kapsession.services.exports import ExportService
from kapsession.storage.notes import NoteRepository


def content_of(room: Room, session_id: uuid.UUID) -> ExportContent:
    return ExportService(room.context.database, room.clock).content(session_id)


def pdf_text(content: ExportContent, folder: Path) -> str:
    require_tool("pdftotext", "poppler-utils")
    path = folder / "record.pdf"
    path.write_bytes(to_pdf(content, page="A4", chart=None, clinic="Room 2"))
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())


def ended(room: Room, session_id: uuid.UUID) -> None:
    room.clock.advance(3600)
    room.service.end_session(session_id, at=room.clock.now(), by=room.therapist.id)
    room.clock.advance(24 * 3600)


def test_a_consultation_says_its_type_and_nothing_of_a_dose(room: Room, tmp_path: Path) -> None:
    # Given a consultation (its protocol keeps stand-in ketamine sublingual dosing sections)
    record = room.start(room.client(), protocol_key="consultation", order=None)
    ended(room, record.id)
    content = content_of(room, record.id)
    assert content.protocol.dosing.medication.value == "ketamine"
    # When it is exported as Markdown and PDF
    md = to_markdown(content)
    pdf = pdf_text(content, tmp_path)
    # Then each says it is a consultation session that gives no dose, and nothing of ketamine
    assert "- **Session type:** Consultation session\n" in md
    assert "none — a consultation session gives no dose" in md
    assert "Consultation session" in pdf and "None — a consultation session gives no dose" in pdf
    for text in (md, pdf):
        assert "ketamine" not in text.lower() and "sublingual" not in text.lower()


def test_a_consultation_gets_no_rems_form_and_its_fhir_validates(room: Room) -> None:
    record = room.start(room.client(), protocol_key="consultation", order=None)
    ended(room, record.id)
    content = content_of(room, record.id)
    with pytest.raises(ExportRefused, match="consultation session, which gives no dose"):
        rems_data(content)
    bundle = to_fhir_bundle(content)
    Bundle.model_validate(bundle)
    encounter = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"
    )
    assert "(consultation)" in encounter["type"][0]["text"]


def test_a_preparation_lists_the_intentions_amended_and_withdrawn_as_notes_are(
    room: Room, tmp_path: Path
) -> None:
    # Given a preparation session with three intentions: one kept, one amended, one withdrawn
    record = room.start(room.client(), protocol_key="preparation", order=None)
    pid = record.participants[0].id
    course = room.service.course
    texts = ("To meet my grief with kindness", "To sleep again", "To forgive him")
    saved = [
        course.add_intention(record.id, pid, t, at=room.clock.now(), by=room.therapist.id)
        for t in texts
    ]
    notes = NoteRepository(room.context.database)
    notes.amend_entry(
        saved[1].id, "To sleep through the night", reason="client's words",
        recorded_at=room.clock.now(), by=room.therapist.id,
    )  # fmt: skip
    notes.amend_entry(
        saved[2].id, None, reason="client took it back", recorded_at=room.clock.now(),
        voids=True, by=room.therapist.id,
    )  # fmt: skip
    ended(room, record.id)
    content = content_of(room, record.id)
    # When it is exported as Markdown, PDF and FHIR
    md = to_markdown(content)
    pdf = pdf_text(content, tmp_path)
    bundle = to_fhir_bundle(content)
    # Then the Markdown's notes hold each intention, marked "Intention", with its history
    notes_md = md.split("## Notes during the session")[1].split("\n## ")[0]
    assert notes_md.count("Intention") == 4  # three and the amendment
    assert "To meet my grief with kindness" in notes_md
    assert "amended — client's words" in notes_md and "To sleep through the night" in notes_md
    assert "withdrawn — client took it back" in notes_md
    assert "- **Session type:** Preparation session\n" in md
    assert "ketamine" not in md.lower()
    # And the PDF's notes say the same
    notes_pdf = pdf.split("Notes during the session")[1]
    assert notes_pdf.count("Intention") >= 4
    assert "client's words" in notes_pdf and "client took it back" in notes_pdf
    assert "Preparation session" in pdf and "ketamine" not in pdf.lower()
    # And the FHIR notes section calls them intentions, and the bundle still validates
    Bundle.model_validate(bundle)
    composition = bundle["entry"][0]["resource"]
    section = next(s for s in composition["section"] if s["title"] == "Notes during the session")
    assert "Intention: To meet my grief with kindness" in section["text"]["div"]


def test_an_integration_names_the_dosing_session_it_follows(room: Room, tmp_path: Path) -> None:
    # Given a dosing session and an integration session after it
    maya = room.client()
    dosing = room.start(maya)
    ended(room, dosing.id)
    integration = room.service.start_session(
        protocol_key="integration",
        client_ids=[maya.id],
        modality="individual",
        at=room.clock.now(),
        room="Room 2",
        therapist_id=room.therapist.id,
        nurse_id=room.nurse.id,
        follows={maya.id: dosing.id},
        by=room.therapist.id,
    )
    ended(room, integration.id)
    content = content_of(room, integration.id)
    # When it is exported as Markdown and PDF
    md = to_markdown(content)
    pdf = pdf_text(content, tmp_path)
    # Then each names the dosing session it follows: its date and protocol
    held = dosing.started_at or dosing.created_at
    local = held.astimezone()
    protocol = f"({dosing.protocol_name}, version {dosing.protocol_version})"
    assert (
        f"- **Session type:** Integration session, after the dosing session of "
        f"{local.date().isoformat()} {protocol}\n"
    ) in md
    assert (
        f"Integration session, after the dosing session of {local:%a} {local.day} "
        f"{local:%b %Y} {protocol}"
    ) in pdf
    assert "- **Medication and route:** none — an integration session gives no dose" in md
